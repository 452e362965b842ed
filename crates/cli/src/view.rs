//! `storesnap view`: the viewer, embedded in this binary, served on 127.0.0.1 with a snapshot
//! preloaded.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use indicatif::ProgressBar;
use storesnap_core::source::archive;
use storesnap_core::{Limits, Snapshot};

use crate::exit::Exit;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/viewer.rs"));
}

/// Open a snapshot in the viewer, served by this binary on 127.0.0.1.
///
/// Prints the address and opens a browser when there is a display. The page runs entirely in
/// the browser; the server only hands it its own files and the snapshot, and only to this
/// machine. With no SNAPSHOT, packs the local data root first (in memory, redacted as `pack`
/// does, nothing written to disk).
///
/// Examples: storesnap view snapshot.tar.zst; sudo storesnap view; storesnap view --port 8080 s.tar.zst
#[derive(Debug, clap::Args)]
pub struct ViewArgs {
    /// A snapshot written by `storesnap pack`, or a `docker save` archive [default: pack the
    /// local data root now].
    snapshot: Option<PathBuf>,
    /// With no SNAPSHOT, the data root to pack [default: as `pack`].
    #[arg(long, value_name = "DIR", conflicts_with = "snapshot")]
    root: Option<PathBuf>,
    /// The port on 127.0.0.1 [default: any free one].
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Print the address but do not open a browser.
    #[arg(long)]
    no_open: bool,
    /// Stop serving after this many seconds [default: serve until interrupted].
    #[arg(long, value_name = "SECONDS")]
    exit_after: Option<u64>,
}

/// The name the snapshot is served under.
/// The file served, whatever it is: the viewer tells a snapshot (zstd or gzip) from an archive.
const SNAPSHOT_PATH: &str = "snapshot";

pub fn run(args: ViewArgs) -> anyhow::Result<Exit> {
    if !embedded::FILES
        .iter()
        .any(|(name, _)| *name == "index.html")
    {
        bail!(
            "this storesnap was built without the viewer; build it with scripts/build (Trunk \
             first, then cargo), or open the snapshot at a hosted copy of the viewer"
        );
    }
    let bytes = match &args.snapshot {
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("opening {}", path.display()))?;
            // Refuse a file the viewer would refuse, here, where the message is easy to read.
            // An archive is checked by the viewer itself, which shows its progress.
            if archive::sniff(&bytes[..bytes.len().min(64 << 10)]) != archive::Input::Archive {
                Snapshot::from_bytes(&bytes, Limits::default())
                    .with_context(|| format!("reading {}", path.display()))?;
            }
            bytes
        }
        None => pack_now(args.root.clone())?,
    };
    let listener = TcpListener::bind(("127.0.0.1", args.port))
        .with_context(|| format!("listening on 127.0.0.1:{}", args.port))?;
    let url = format!(
        "http://{}/#url={SNAPSHOT_PATH}",
        listener.local_addr().context("reading the bound address")?
    );
    {
        let mut out = io::stdout().lock();
        writeln!(out, "{url}")?;
        out.flush()?;
    }
    let mut err = io::stderr().lock();
    writeln!(
        err,
        "storesnap: serving the viewer and the snapshot ({} bytes) at the address above, to this \
         machine only; Ctrl-C stops it",
        bytes.len()
    )?;
    if !args.no_open {
        open_browser(&url);
    }
    serve(
        listener,
        Arc::new(bytes),
        args.exit_after.map(Duration::from_secs),
    )?;
    Ok(Exit::Success)
}

/// Packs the data root into memory, as `pack` with its defaults would.
fn pack_now(root: Option<PathBuf>) -> anyhow::Result<Vec<u8>> {
    let root = crate::pack::resolve_root(root)?;
    let options = crate::pack::Options {
        created: crate::pack::creation_time(None)?,
        redact_images: false,
        redact_containers: true,
        max_file_size: 64 << 20,
        hostname: crate::pack::hostname(),
        no_tar_split: false,
        engine: crate::engine::describe(&crate::engine::address(None), &root),
        containerd_root: None,
        namespace: "moby".into(),
    };
    let packed = crate::pack::collect(&root, &options, &ProgressBar::hidden())?;
    let mtime = u64::try_from(options.created).unwrap_or(0);
    Ok(crate::pack::write_zstd(
        &packed.snapshot,
        Vec::new(),
        mtime,
    )?)
}

/// Opens `url` in the desktop's browser, when there is a desktop; failing is fine, the address
/// is printed.
fn open_browser(url: &str) {
    let has_display = ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()));
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if has_display {
        "xdg-open"
    } else {
        return;
    };
    let _ = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}

fn serve(
    listener: TcpListener,
    snapshot: Arc<Vec<u8>>,
    exit_after: Option<Duration>,
) -> anyhow::Result<()> {
    let start = Instant::now();
    let port = listener.local_addr()?.port();
    if exit_after.is_some() {
        listener.set_nonblocking(true)?;
    }
    loop {
        if exit_after.is_some_and(|limit| start.elapsed() >= limit) {
            return Ok(());
        }
        match listener.accept() {
            Ok((stream, _)) => {
                let snapshot = snapshot.clone();
                std::thread::spawn(move || {
                    let _ = respond(stream, &snapshot, port);
                });
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(e).context("accepting a connection"),
        }
    }
}

/// The most a request line and its headers may take; anything longer is not a browser's.
const MAX_REQUEST_HEAD: u64 = 16 * 1024;

/// Whether a request's `Host` header names this server: `127.0.0.1` or `localhost` with its
/// port. A page on another site that rebinds its own name to 127.0.0.1 (DNS rebinding) sends its
/// own name, so it cannot read the snapshot.
fn host_allowed(host: Option<&str>, port: u16) -> bool {
    let Some(host) = host else { return false };
    let host = host.trim().to_ascii_lowercase();
    ["127.0.0.1", "localhost"]
        .iter()
        .any(|name| host == format!("{name}:{port}"))
}

/// Answers one request: GET or HEAD of an embedded file or the snapshot, nothing else, and only
/// when it is addressed to this server by name (see [`host_allowed`]).
fn respond(stream: TcpStream, snapshot: &[u8], port: u16) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?.take(MAX_REQUEST_HEAD));
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut host = None;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? <= 2 {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("host") {
                host = Some(value.trim().to_owned());
            }
        }
    }
    if !host_allowed(host.as_deref(), port) {
        let mut out = stream;
        out.write_all(
            b"HTTP/1.1 421 Misdirected Request\r\nContent-Length: 36\r\nConnection: close\r\n\r\nthis server answers only 127.0.0.1\r\n",
        )?;
        return out.flush();
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let name = match path.trim_start_matches('/') {
        "" => "index.html",
        other => other,
    };
    let body: Option<(&[u8], &str)> = if name == SNAPSHOT_PATH {
        Some((snapshot, "application/octet-stream"))
    } else {
        embedded::FILES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, bytes)| (*bytes, content_type(n)))
    };
    let mut out = stream;
    match (method, body) {
        ("GET" | "HEAD", Some((bytes, kind))) => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
                 Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\
                 Connection: close\r\n\r\n",
                bytes.len()
            )?;
            if method == "GET" {
                out.write_all(bytes)?;
            }
        }
        ("GET" | "HEAD", None) => {
            out.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found")?
        }
        _ => out.write_all(
            b"HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )?,
    }
    out.flush()
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::host_allowed;

    #[test]
    fn only_its_own_address_is_answered() {
        for (host, ok) in [
            (Some("127.0.0.1:8080"), true),
            (Some("localhost:8080"), true),
            (Some("LOCALHOST:8080 "), true),
            (Some("127.0.0.1:8081"), false),
            (Some("127.0.0.1"), false),
            (Some("evil.example:8080"), false),
            (Some("127.0.0.1.evil.example:8080"), false),
            (Some(""), false),
            (None, false),
        ] {
            assert_eq!(host_allowed(host, 8080), ok, "{host:?}");
        }
    }
}
