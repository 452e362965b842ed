//! Asking the Docker daemon what it is, for the snapshot's manifest: the engine version is the
//! first thing a maintainer asks for in a bug report.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use storesnap_core::manifest::Engine;

/// The daemon's address: `--docker-host`, else `$DOCKER_HOST`, else the default socket.
pub fn address(flag: Option<&str>) -> String {
    flag.map(str::to_owned)
        .or_else(|| std::env::var("DOCKER_HOST").ok())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".into())
}

/// The engine at `address` (a `unix://` socket), if it answers within two seconds and its
/// data root is `root`: a daemon that owns another root says nothing about this one.
pub fn describe(address: &str, root: &Path) -> Option<Engine> {
    let socket = address.strip_prefix("unix://")?;
    let info = get(socket, "/info")?;
    let daemon_root = info.get("DockerRootDir")?.as_str()?;
    if Path::new(daemon_root).canonicalize().ok()? != root.canonicalize().ok()? {
        return None;
    }
    let version = get(socket, "/version")?;
    let text = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    Some(Engine {
        version: text(&version, "Version"),
        api_version: text(&version, "ApiVersion"),
        kernel_version: text(&version, "KernelVersion"),
    })
}

/// One HTTP/1.0 GET over the socket: the daemon answers and closes, with no chunking.
fn get(socket: &str, path: &str) -> Option<Value> {
    let mut stream = UnixStream::connect(socket).ok()?;
    let limit = Some(Duration::from_secs(2));
    stream.set_read_timeout(limit).ok()?;
    stream.set_write_timeout(limit).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: docker\r\n\r\n").ok()?;
    let mut response = Vec::new();
    stream.take(4 << 20).read_to_end(&mut response).ok()?;
    let split = response.windows(4).position(|w| w == b"\r\n\r\n")?;
    let (head, body) = response.split_at(split + 4);
    if !head.starts_with(b"HTTP/1.0 200") && !head.starts_with(b"HTTP/1.1 200") {
        return None;
    }
    serde_json::from_slice(body).ok()
}
