//! Shared helpers: the harness stores, running the binary, and looking inside snapshots.

pub mod webdriver;

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use sha2::{Digest as _, Sha256};
use storesnap_core::{Limits, Snapshot};

/// A data root made by the harness, with the docker CLI's view of it in `oracle/`.
pub struct Store {
    pub root: PathBuf,
    /// What the docker CLI printed about the store (see `engine oracle`).
    pub oracle: PathBuf,
    /// The root of a system containerd that holds the images (a `dNN-system` store).
    pub containerd_root: Option<PathBuf>,
}

impl Store {
    /// The flags that point storesnap at the live store.
    pub fn root_args(&self) -> Vec<String> {
        let mut args = vec!["--root".to_owned(), self.root.to_str().unwrap().to_owned()];
        if let Some(c) = &self.containerd_root {
            args.extend([
                "--containerd-root".to_owned(),
                c.to_str().unwrap().to_owned(),
            ]);
        }
        args
    }
}

/// The harness scenarios (see `tests/harness/engine`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    Basic,
    Full,
    /// The full scenario on dockerd's vfs driver.
    Vfs,
    /// The full scenario on dockerd's btrfs driver (a loop-mounted btrfs image).
    Btrfs,
    /// The full scenario on Docker 28 with overlay2.
    D28Graph,
    /// The full scenario on Docker 28 with the containerd image store (managed containerd).
    D28Containerd,
    /// The same with a system containerd of its own root, as packaged hosts run it.
    D28System,
    /// The containerd image store on the native snapshotter.
    D28Native,
    /// The full scenario on Docker 26 with overlay2.
    D26Graph,
    /// The full scenario on Docker 26 with the containerd image store.
    D26Containerd,
    /// Images whose layers delete, overwrite, rewrite and hide files (wasted space).
    Waste,
}

impl Scenario {
    /// Every scenario, for tests that hold for any healthy store.
    pub const ALL: [Scenario; 11] = [
        Scenario::Basic,
        Scenario::Full,
        Scenario::Vfs,
        Scenario::Btrfs,
        Scenario::D28Graph,
        Scenario::D28Containerd,
        Scenario::D28System,
        Scenario::D28Native,
        Scenario::D26Graph,
        Scenario::D26Containerd,
        Scenario::Waste,
    ];

    /// The scenarios whose images live in containerd.
    pub const CONTAINERD: [Scenario; 4] = [
        Scenario::D28Containerd,
        Scenario::D28System,
        Scenario::D28Native,
        Scenario::D26Containerd,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Basic => "basic",
            Scenario::Full => "full",
            Scenario::Vfs => "vfs",
            Scenario::Btrfs => "btrfs",
            Scenario::D28Graph => "d28-graph",
            Scenario::D28Containerd => "d28-containerd",
            Scenario::D28System => "d28-system",
            Scenario::D28Native => "d28-native",
            Scenario::D26Graph => "d26-graph",
            Scenario::D26Containerd => "d26-containerd",
            Scenario::Waste => "waste",
        }
    }
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    static SWEEP: std::sync::Once = std::sync::Once::new();
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    SWEEP.call_once(|| sweep_stale(base));
    let dir = base.join(format!("e2e-{}/{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Removes the scratch trees of earlier test runs whose process is gone, so stores do not pile up.
fn sweep_stale(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("e2e-")
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn require_root() {
    let uid = std::fs::metadata("/proc/self").unwrap().uid();
    assert_eq!(
        uid, 0,
        "the end-to-end tests start a private dockerd and must run as root (scripts/test)"
    );
}

/// Runs the harness; panics with its output when it fails.
pub fn engine(args: &[&str]) {
    engine_script("engine", args);
}

/// Runs a script of `tests/harness`; panics with its output when it fails.
pub fn engine_script(script: &str, args: &[&str]) {
    engine_script_env(script, args, &[]);
}

/// The same with environment variables (`ENGINE=28 MODE=containerd` picks the engine).
pub fn engine_script_env(script: &str, args: &[&str], env: &[(&str, &str)]) {
    require_root();
    let out = Command::new(repo_root().join("tests/harness").join(script))
        .args(args)
        .envs(env.iter().copied())
        .env("ENGINE_QUIET", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script} {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Starts the harness building and removing images on the daemon of `dir` for `seconds`.
pub fn churn(dir: &Path, seconds: u32) -> std::process::Child {
    Command::new(repo_root().join("tests/harness/engine"))
        .args(["churn", dir.to_str().unwrap(), &seconds.to_string()])
        .env("ENGINE_QUIET", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// The socket of the daemon the harness started on `dir`.
pub fn daemon_socket(dir: &Path) -> String {
    let exec = std::fs::read_to_string(dir.join("exec-root")).unwrap();
    format!("unix://{}/docker.sock", exec.trim())
}

/// The store of a scenario, built once per test process.
pub fn store(scenario: Scenario) -> &'static Store {
    static STORES: [OnceLock<Store>; Scenario::ALL.len()] =
        [const { OnceLock::new() }; Scenario::ALL.len()];
    let cell = &STORES[scenario as usize];
    cell.get_or_init(|| {
        // While working on tests: stores made earlier with `engine make $DIR/<scenario>`.
        let reuse = std::env::var_os("STORESNAP_E2E_STORES")
            .map(|d| PathBuf::from(d).join(scenario.name()))
            .filter(|d| d.join("scenario").exists());
        let dir = match reuse {
            Some(dir) => dir,
            None => {
                let dir = scratch(&format!("store-{}", scenario.name()));
                engine(&["make", dir.to_str().unwrap(), scenario.name()]);
                dir
            }
        };
        let containerd = dir.join("containerd");
        Store {
            root: dir.join("root"),
            oracle: dir.join("oracle"),
            containerd_root: containerd.is_dir().then_some(containerd),
        }
    })
}

/// Runs `storesnap` with `args`.
pub fn storesnap(args: &[&str]) -> Output {
    storesnap_env(args, &[])
}

pub fn storesnap_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_storesnap"));
    cmd.args(args).env_remove("SOURCE_DATE_EPOCH");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// Packs `root` into `out` with extra flags; asserts success and returns the snapshot's bytes.
/// A harness store with a system containerd (`DIR/containerd` beside `DIR/root`) is packed
/// with it.
pub fn pack(root: &Path, out: &Path, extra: &[&str]) -> Vec<u8> {
    let mut args = vec![
        "pack",
        "--root",
        root.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ];
    let system = root.with_file_name("containerd");
    let system = system.to_str().unwrap().to_owned();
    if Path::new(&system)
        .join("io.containerd.metadata.v1.bolt")
        .is_dir()
    {
        args.extend(["--containerd-root", &system]);
    }
    args.extend_from_slice(extra);
    let o = storesnap(&args);
    assert!(
        o.status.success(),
        "pack failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::read(out).unwrap()
}

/// A snapshot's paths as the store has them: a tar-split that format 2 keeps inflated
/// (`tar-split.json`) is named as the store names it (`tar-split.json.gz`).
pub fn stored_path(path: &str) -> String {
    for (stored, inflated) in storesnap_core::snapshot::STORED_INFLATED {
        if let Some(dir) = path.strip_suffix(inflated) {
            if dir.ends_with('/') {
                return format!("{dir}{stored}");
            }
        }
    }
    path.to_owned()
}

pub fn read_snapshot(bytes: &[u8]) -> Snapshot {
    Snapshot::from_bytes(bytes, Limits::default()).expect("a readable snapshot")
}

/// Every byte a reader of the snapshot could see: the tar stream, plus every gzip'd entry
/// (a tar-split kept as the store had it) inflated, so a search for a secret cannot miss one
/// hidden behind compression.
pub fn all_bytes(snapshot: &[u8]) -> Vec<u8> {
    let tar = inflate(snapshot);
    let mut out = tar.clone();
    let mut archive = tar::Archive::new(tar.as_slice());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        if bytes.starts_with(&[0x1f, 0x8b]) {
            flate2::read::GzDecoder::new(bytes.as_slice())
                .read_to_end(&mut out)
                .unwrap();
        }
    }
    out
}

/// A snapshot's tar: zstd (format 2) or gzip (format 1), told by the magic. Decoded with
/// libzstd and flate2, not with storesnap's own reader.
pub fn inflate(snapshot: &[u8]) -> Vec<u8> {
    if snapshot.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return zstd::stream::decode_all(snapshot).unwrap();
    }
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(snapshot)
        .read_to_end(&mut tar)
        .unwrap();
    tar
}

pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// What `find` lists under `root`: relative path → type letter (f, d, l, c…).
/// Deliberately independent of storesnap's own walker.
pub fn find(root: &Path) -> BTreeMap<String, char> {
    let out = Command::new("find")
        .arg(root)
        .args(["-mindepth", "1", "-printf", "%y %P\\n"])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| (l[2..].to_owned(), l.chars().next().unwrap()))
        .collect()
}

/// Path → (type, mode, size, mtime, content hash) for everything under `root`.
pub fn fingerprint(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (rel, kind) in find(root) {
        let p = root.join(&rel);
        let m = std::fs::symlink_metadata(&p).unwrap();
        let hash = if kind == 'f' {
            format!("{:x}", Sha256::digest(std::fs::read(&p).unwrap()))
        } else {
            String::new()
        };
        out.insert(
            rel,
            format!(
                "{kind} {:o} {} {}.{} {hash}",
                m.mode(),
                m.size(),
                m.mtime(),
                m.mtime_nsec()
            ),
        );
    }
    out
}

/// `cp -a` of a store, for tests that damage or watch it. A store a running daemon is
/// changing can lose a file between `cp` listing a directory and copying it: the copy is then
/// made again (any moment's copy will do).
pub fn copy_store(store: &Store, name: &str) -> PathBuf {
    let dir = scratch(name);
    let copy = dir.join("root");
    for attempt in 1.. {
        let st = Command::new("cp")
            .args(["-a"])
            .arg(&store.root)
            .arg(&copy)
            .status()
            .unwrap();
        if st.success() {
            break;
        }
        assert!(
            attempt < 5,
            "cp -a {} failed {attempt} times",
            store.root.display()
        );
        if copy.exists() {
            std::fs::remove_dir_all(&copy).unwrap();
        }
    }
    copy
}
