//! `storesnap pack`: walk a Docker data root read-only and write its metadata as a snapshot.
//!
//! `walk` reads the data root, `sizes` measures what `docker system df` reports, `output`
//! writes the file; this module holds the command, its options and its errors.
//!
//! What is taken is decided by [`classify`], a pure function of the path relative to the data
//! root, so the policy can be read (and tested) in one place. The walk itself never opens
//! anything for writing, never follows a symlink, and treats a file that vanishes or changes
//! while it is read as a warning, because a live daemon may be working under it.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use storesnap_core::docker::human_size;
use storesnap_core::manifest::{Engine, Host};
use storesnap_core::time::{parse_rfc3339_utc, UtcTime};
use storesnap_core::{Entry, Snapshot};

use crate::exit::Exit;

mod compress;
mod output;
mod sizes;
mod walk;

pub use compress::write_zstd;
use output::{file_safe, write_file, CountingWriter};
pub use walk::collect;

/// Write a snapshot of a Docker data root's image-store metadata.
///
/// Packs repositories.json, imagedb, layerdb (with tar-split), mounts, distribution metadata,
/// the graph driver's link/lower files and l/ symlinks, and container configs, into one
/// deterministic, zstd-compressed tar (.tar.zst). For a daemon that keeps images in containerd (Docker 29's default),
/// it packs containerd's meta.db and the snapshotter's metadata.db (copied as bytes), every
/// content blob that is not a layer (indexes, manifests, configs), each layer's digest and
/// size, and which snapshot directories exist. Never packs layer contents, container logs,
/// volume data, swarm or trust keys. Container env values, labels, command arguments, health checks and log options
/// are replaced by `<redacted:…>` markers (a keyed hash: equal values stay equal).
///
/// Run it as root on the Docker host; it only reads. Stopping the daemon first gives the most
/// consistent snapshot, but packing a live store is safe: changes show up as warnings.
///
/// Example: sudo storesnap pack -o /tmp/store.tar.zst
#[derive(Debug, clap::Args)]
pub struct PackArgs {
    /// The Docker data root [default: /var/lib/docker, else the rootless daemon's root,
    /// $XDG_DATA_HOME/docker]. `docker info -f '{{.DockerRootDir}}'` prints it.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Where to write the snapshot, `-` for standard output
    /// [default: ./storesnap-<host>-<UTC time>.tar.zst].
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The creation time stamped on the snapshot and all its entries, as Unix seconds or
    /// YYYY-MM-DDTHH:MM:SSZ [default: $SOURCE_DATE_EPOCH, else now]. Two packs of an unchanged
    /// store with the same time are byte-identical.
    #[arg(long, value_name = "TIME")]
    created: Option<String>,
    /// Also redact image configs: env values, labels, commands and history. Their bytes then no
    /// longer hash to the image ID; the manifest records, per image, whether they did before.
    #[arg(long)]
    redact: bool,
    /// Files larger than this many bytes are listed in the manifest instead of copied.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20)]
    max_file_size: u64,
    /// Leave out every layer's tar-split.json.gz (listed as skipped): a smaller snapshot, but
    /// without the per-file detail of each layer. `check` then does not report them missing.
    #[arg(long)]
    no_tar_split: bool,
    /// Where to ask the daemon for its version, recorded when its data root is the one packed
    /// [default: $DOCKER_HOST, else unix:///var/run/docker.sock].
    #[arg(long, value_name = "ADDRESS")]
    docker_host: Option<String>,
    /// List what would be packed, skipped and redacted, and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print no progress and no summary.
    #[arg(short, long)]
    quiet: bool,
    /// For a daemon that keeps images in containerd: the containerd root [default: the
    /// managed one, <root>/containerd/daemon, else /var/lib/containerd, the root of the
    /// system containerd that packaged Docker uses]. Naming it also makes a data root that
    /// still holds graph-driver data be read as a containerd store.
    #[arg(long, value_name = "DIR")]
    containerd_root: Option<PathBuf>,
    /// The containerd namespace Docker keeps its images in.
    #[arg(long, value_name = "NAME", default_value = "moby")]
    namespace: String,
}

/// A failure that has a hint a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("the data root {0} does not exist")]
    RootMissing(PathBuf),
    #[error("no Docker data root found (tried {0})")]
    NoDefaultRoot(String),
    #[error("{path} is not a Docker data root: {why}")]
    NotADataRoot { path: PathBuf, why: String },
    #[error("the containerd root {0} does not exist")]
    ContainerdRootMissing(PathBuf),
    #[error("permission denied reading {0}")]
    PermissionDenied(PathBuf),
    #[error("refusing to write {0}: it is inside the data root, which storesnap never writes to")]
    OutputInsideRoot(PathBuf),
    #[error("invalid --created {0:?}: expected Unix seconds or YYYY-MM-DDTHH:MM:SSZ")]
    BadTime(String),
}

impl PackError {
    /// One line telling the user what to do next.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            PackError::RootMissing(_) | PackError::NoDefaultRoot(_) => {
                "pass --root DIR; `docker info -f '{{.DockerRootDir}}'` prints the daemon's data root"
            }
            PackError::NotADataRoot { .. } => {
                "point --root at the directory that holds image/ and containers/ (usually /var/lib/docker); for images kept in containerd, add --containerd-root DIR"
            }
            PackError::ContainerdRootMissing(_) => {
                "pass the root containerd runs with (`containerd config dump | grep ^root`), usually /var/lib/containerd"
            }
            PackError::PermissionDenied(_) => "the data root is readable by root only: run `sudo storesnap pack`",
            PackError::OutputInsideRoot(_) => "choose an output path outside the data root with -o",
            PackError::BadTime(_) => "e.g. --created 1700000000 or --created 2023-11-14T22:13:20Z",
        })
    }
}

pub fn run(args: PackArgs) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let root = resolve_root(args.root.clone())?;
    let docker_host = crate::engine::address(args.docker_host.as_deref());
    let created = creation_time(args.created.as_deref())?;
    let progress = if args.quiet {
        ProgressBar::hidden()
    } else {
        spinner()
    };
    let options = Options {
        created,
        redact_images: args.redact,
        redact_containers: true,
        max_file_size: args.max_file_size,
        hostname: hostname(),
        no_tar_split: args.no_tar_split,
        engine: crate::engine::describe(&docker_host, &root),
        containerd_root: args.containerd_root.clone(),
        namespace: args.namespace.clone(),
    };
    let packed = collect(&root, &options, &progress)?;
    progress.finish_and_clear();
    if args.dry_run {
        dry_run(&packed.snapshot, &mut io::stdout().lock())?;
        return Ok(Exit::Success);
    }

    let to_stdout = args.output.as_deref() == Some(Path::new("-"));
    let output = match args.output {
        Some(path) => path,
        None => {
            let name = format!(
                "storesnap-{}-{}.tar.zst",
                file_safe(&options.hostname),
                UtcTime::from_unix(created).compact()
            );
            PathBuf::from(name)
        }
    };
    let mtime = u64::try_from(created).unwrap_or(0);
    let written = if to_stdout {
        let out = compress::write_zstd(
            &packed.snapshot,
            CountingWriter::new(io::stdout().lock()),
            mtime,
        )?;
        out.count
    } else {
        let roots: Vec<&Path> = std::iter::once(packed.root.as_path())
            .chain(packed.containerd_root.as_deref())
            .collect();
        write_file(&output, &roots, |w| {
            compress::write_zstd(&packed.snapshot, w, mtime).map(|_| ())
        })?
    };

    if !args.quiet {
        let m = &packed.snapshot.manifest;
        let c = &m.counts;
        let mut err = io::stderr().lock();
        let target = if to_stdout {
            "standard output".to_owned()
        } else {
            output.display().to_string()
        };
        writeln!(
            err,
            "storesnap: packed {} files and {} links ({} read) from {} [{}]: {} images, {} layers, {} containers; wrote {} ({}) in {:.2}s",
            c.files,
            c.symlinks,
            human_size(c.bytes_read as i64),
            m.data_root,
            m.storage_driver,
            c.images,
            c.layers,
            c.containers,
            target,
            human_size(written as i64),
            started.elapsed().as_secs_f64(),
        )?;
        match &m.engine {
            Some(e) => writeln!(err, "storesnap: engine: Docker {} (API {})", e.version, e.api_version)?,
            None => writeln!(
                err,
                "storesnap: engine version not recorded: no daemon that owns {} answered at {} (--docker-host)",
                m.data_root,
                docker_host
            )?,
        }
        for w in m.warnings.iter().take(5) {
            writeln!(err, "storesnap: warning: {w}")?;
        }
        if m.warnings.len() > 5 {
            writeln!(
                err,
                "storesnap: … and {} more warnings, listed in storesnap.json",
                m.warnings.len() - 5
            )?;
        }
    }
    Ok(Exit::Success)
}

/// What `--dry-run` prints: a line per path, its fate first, so it greps and sorts well.
///
/// `pack PATH` is copied as is, `redact PATH FIELD…` is copied with those values replaced,
/// `skip PATH REASON` is listed in the manifest but not copied.
fn dry_run(snapshot: &Snapshot, out: &mut impl Write) -> io::Result<()> {
    let m = &snapshot.manifest;
    let redacted: BTreeMap<&str, &Vec<String>> = m
        .redacted
        .iter()
        .map(|r| (r.path.as_str(), &r.fields))
        .collect();
    for (path, entry) in &snapshot.entries {
        let shown = match entry {
            Entry::Dir => format!("{path}/"),
            _ => path.clone(),
        };
        match redacted.get(path.as_str()) {
            Some(fields) => writeln!(out, "redact {shown} {}", fields.join(" "))?,
            None => writeln!(out, "pack   {shown}")?,
        }
    }
    for s in &m.skipped {
        writeln!(out, "skip   {} {}", s.path, s.reason.as_str())?;
    }
    let c = &m.counts;
    writeln!(
        out,
        "# would pack {} files, {} symlinks and {} dirs from {} [{}]: {} images, {} layers, \
         {} containers; {} values redacted in {} files, {} paths skipped; nothing written",
        c.files,
        c.symlinks,
        c.dirs,
        m.data_root,
        m.storage_driver,
        c.images,
        c.layers,
        c.containers,
        redacted.values().map(|f| f.len()).sum::<usize>(),
        redacted.len(),
        m.skipped.len()
    )
}

/// Settings of one pack.
#[derive(Debug, Clone)]
pub struct Options {
    /// Unix seconds.
    pub created: i64,
    pub redact_images: bool,
    /// Redact container configs; off only for live reads of one's own host.
    pub redact_containers: bool,
    pub max_file_size: u64,
    pub hostname: String,
    /// Leave out `tar-split.json.gz` (listed as skipped): smaller, but no per-file detail.
    pub no_tar_split: bool,
    /// The daemon's own description, when it answered.
    pub engine: Option<Engine>,
    /// The containerd root of a containerd image store, when given (else found).
    pub containerd_root: Option<PathBuf>,
    /// The containerd namespace Docker keeps its images in.
    pub namespace: String,
}

/// A collected snapshot and the canonical data root it came from.
pub struct Packed {
    pub snapshot: Snapshot,
    pub root: PathBuf,
    /// The containerd root read, for a containerd image store.
    pub containerd_root: Option<PathBuf>,
}

/// The data root to read: the one given, else the first default that exists.
pub(crate) fn resolve_root(given: Option<PathBuf>) -> Result<PathBuf, PackError> {
    if let Some(root) = given {
        return Ok(root);
    }
    let tried = crate::default_roots();
    tried.iter().find(|r| r.exists()).cloned().ok_or_else(|| {
        let list: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
        PackError::NoDefaultRoot(list.join(", "))
    })
}

pub(crate) fn creation_time(flag: Option<&str>) -> anyhow::Result<i64> {
    let parse = |s: &str| {
        s.trim()
            .parse::<i64>()
            .ok()
            .or_else(|| parse_rfc3339_utc(s.trim()))
    };
    if let Some(s) = flag {
        return parse(s).ok_or_else(|| PackError::BadTime(s.to_owned()).into());
    }
    if let Ok(s) = std::env::var("SOURCE_DATE_EPOCH") {
        return parse(&s).ok_or_else(|| {
            anyhow::anyhow!("invalid SOURCE_DATE_EPOCH {s:?}: expected Unix seconds")
        });
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the system clock is before 1970")?;
    Ok(i64::try_from(now.as_secs()).unwrap_or(i64::MAX))
}

fn spinner() -> ProgressBar {
    // indicatif draws nothing when stderr is not a terminal.
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} packing {msg} [{elapsed}]")
            .expect("valid template"),
    );
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    pb
}

/// Walks `root` and builds the snapshot in memory.
pub(crate) fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}
