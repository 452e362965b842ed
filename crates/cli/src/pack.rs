//! `storesnap pack`: walk a Docker data root read-only and write its metadata as a snapshot.
//!
//! What is taken is decided by [`classify`], a pure function of the path relative to the data
//! root, so the policy can be read (and tested) in one place. The walk itself never opens
//! anything for writing, never follows a symlink, and treats a file that vanishes or changes
//! while it is read as a warning, because a live daemon may be working under it.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest as _, Sha256};
use storesnap_core::docker::human_size;
use storesnap_core::manifest::{
    Counts, Engine, Host, ImageConfigCheck, Manifest, Redacted, SkipReason, Skipped, FORMAT_VERSION,
};
use storesnap_core::redact::{Redaction, Redactor};
use storesnap_core::source::graphdriver::policy::{
    classify, is_leftover, is_tar_split, Action, Kind,
};
use storesnap_core::source::graphdriver::Driver;
use storesnap_core::time::{parse_rfc3339_utc, UtcTime};
use storesnap_core::{CacheId, Entry, ImageId, Snapshot};

use crate::exit::Exit;

/// Write a snapshot of a Docker data root's image-store metadata.
///
/// Packs repositories.json, imagedb, layerdb (with tar-split), mounts, distribution metadata,
/// the graph driver's link/lower files and l/ symlinks, and container configs, into one
/// deterministic .tar.gz. Never packs layer contents, container logs, volume data, swarm or
/// trust keys. Container env values, labels, command arguments, health checks and log options
/// are replaced by `<redacted:…>` markers (a keyed hash: equal values stay equal).
///
/// Run it as root on the Docker host; it only reads. Stopping the daemon first gives the most
/// consistent snapshot, but packing a live store is safe: changes show up as warnings.
///
/// Example: sudo storesnap pack -o /tmp/store.tar.gz
#[derive(Debug, clap::Args)]
pub struct PackArgs {
    /// The Docker data root [default: /var/lib/docker, else the rootless daemon's root,
    /// $XDG_DATA_HOME/docker]. `docker info -f '{{.DockerRootDir}}'` prints it.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Where to write the snapshot, `-` for standard output
    /// [default: ./storesnap-<host>-<UTC time>.tar.gz].
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
    #[error("{0} uses the containerd image store, which storesnap cannot read yet")]
    ContainerdStore(PathBuf),
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
                "point --root at the directory that holds image/ and containers/ (usually /var/lib/docker)"
            }
            PackError::ContainerdStore(_) => {
                "this daemon keeps images in containerd (/var/lib/containerd); only graph-driver stores are supported"
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
                "storesnap-{}-{}.tar.gz",
                file_safe(&options.hostname),
                UtcTime::from_unix(created).compact()
            );
            PathBuf::from(name)
        }
    };
    let mtime = u64::try_from(created).unwrap_or(0);
    let written = if to_stdout {
        let out = packed
            .snapshot
            .write_to(CountingWriter::new(io::stdout().lock()), mtime)?;
        out.count
    } else {
        write_file(&output, &packed.root, |w| {
            packed.snapshot.write_to(w, mtime).map(|_| ())
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
}

/// A collected snapshot and the canonical data root it came from.
pub struct Packed {
    pub snapshot: Snapshot,
    pub root: PathBuf,
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
pub fn collect(root: &Path, options: &Options, progress: &ProgressBar) -> anyhow::Result<Packed> {
    let meta = fs::metadata(root).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => anyhow::Error::from(PackError::RootMissing(root.to_owned())),
        io::ErrorKind::PermissionDenied => PackError::PermissionDenied(root.to_owned()).into(),
        _ => anyhow::Error::from(e).context(format!("reading {}", root.display())),
    })?;
    if !meta.is_dir() {
        return Err(PackError::NotADataRoot {
            path: root.to_owned(),
            why: "it is not a directory".into(),
        }
        .into());
    }
    // The root itself may be a symlink (a moved data root); everything below it is not followed.
    let root = fs::canonicalize(root).with_context(|| format!("resolving {}", root.display()))?;
    let top = list_dir(&root)?.ok_or_else(|| PackError::RootMissing(root.clone()))?;
    let drivers = match list_dir(&root.join("image"))? {
        Some(names) => names,
        None if top.iter().any(|n| n == "containerd") => {
            return Err(PackError::ContainerdStore(root).into())
        }
        None => {
            return Err(PackError::NotADataRoot {
                path: root,
                why: "it has no image/ directory".into(),
            }
            .into());
        }
    };
    let storage_driver = pick_driver(&drivers, &top).ok_or_else(|| PackError::NotADataRoot {
        path: root.clone(),
        why: "image/ holds no driver directory".into(),
    })?;

    let mut walker = Walker {
        root: root.clone(),
        options,
        redactor: Redactor::new(redaction_key(&root)),
        progress,
        entries: BTreeMap::new(),
        skipped: Vec::new(),
        leftovers: Vec::new(),
        redacted: Vec::new(),
        image_configs: Vec::new(),
        dir_sizes: BTreeMap::new(),
        warnings: Vec::new(),
        bytes_read: 0,
    };
    if drivers.len() > 1 {
        walker.warnings.push(format!(
            "image/ holds metadata for several drivers ({}); {storage_driver} was picked as the active one and all were packed",
            drivers.join(", ")
        ));
    }
    for name in &top {
        walker.visit(name)?;
    }
    walker.measure_writable_layers(&storage_driver);

    let counts = count(&walker.entries, walker.bytes_read);
    let manifest = Manifest {
        kind: "storesnap".into(),
        format_version: FORMAT_VERSION,
        tool: format!("storesnap {}", env!("CARGO_PKG_VERSION")),
        created: UtcTime::from_unix(options.created).rfc3339(),
        host: Host {
            hostname: options.hostname.clone(),
            arch: std::env::consts::ARCH.into(),
            os: std::env::consts::OS.into(),
        },
        engine: options.engine.clone(),
        storage_driver,
        data_root: root.display().to_string(),
        counts,
        skipped: walker.skipped,
        leftovers: walker.leftovers,
        redacted: walker.redacted,
        image_configs: walker.image_configs,
        dir_sizes: walker.dir_sizes,
        warnings: walker.warnings,
    };
    Ok(Packed {
        snapshot: Snapshot {
            manifest,
            entries: walker.entries,
        },
        root,
    })
}

/// The active driver: the one in image/ whose graph-driver directory exists, else the first.
fn pick_driver(image_dirs: &[String], top: &[String]) -> Option<String> {
    image_dirs
        .iter()
        .find(|d| top.contains(d))
        .or_else(|| image_dirs.first())
        .cloned()
}

struct Walker<'a> {
    root: PathBuf,
    options: &'a Options,
    redactor: Redactor,
    progress: &'a ProgressBar,
    entries: BTreeMap<String, Entry>,
    skipped: Vec<Skipped>,
    leftovers: Vec<String>,
    redacted: Vec<Redacted>,
    image_configs: Vec<ImageConfigCheck>,
    dir_sizes: BTreeMap<String, u64>,
    warnings: Vec<String>,
    bytes_read: u64,
}

impl Walker<'_> {
    fn visit(&mut self, rel: &str) -> anyhow::Result<()> {
        let abs = self.root.join(rel);
        let meta = match fs::symlink_metadata(&abs) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.vanished(rel);
                return Ok(());
            }
            Err(e) => return Err(io_error(e, &abs)),
        };
        let ft = meta.file_type();
        let kind = if ft.is_dir() {
            Kind::Dir
        } else if ft.is_file() {
            Kind::File
        } else if ft.is_symlink() {
            Kind::Symlink
        } else {
            Kind::Other
        };
        if kind == Kind::Symlink && !self.symlink_stays_inside(rel, &abs)? {
            return Ok(());
        }
        let parts: Vec<&str> = rel.split('/').collect();
        let action = match (kind, classify(&parts, kind)) {
            (Kind::Other, _) => Action::Skip(SkipReason::SpecialFile),
            (Kind::File, _) if self.options.no_tar_split && is_tar_split(&parts) => {
                Action::Skip(SkipReason::Omitted)
            }
            (_, action) => action,
        };
        if let Action::Skip(reason) = action {
            let size = (kind == Kind::File).then_some(meta.len());
            self.skipped.push(Skipped {
                path: rel.to_owned(),
                reason,
                size,
            });
            return Ok(());
        }
        if is_leftover(&parts) {
            self.leftovers.push(rel.to_owned());
        }
        match kind {
            Kind::Dir => {
                self.entries.insert(rel.to_owned(), Entry::Dir);
                if action == Action::KeepEmpty {
                    if self.wants_size(&parts) {
                        let size = dir_size(&abs);
                        self.dir_sizes.insert(rel.to_owned(), size);
                    }
                    return Ok(());
                }
                let Some(children) = list_dir(&abs)? else {
                    self.vanished(rel);
                    return Ok(());
                };
                for child in children {
                    self.visit(&format!("{rel}/{child}"))?;
                }
            }
            Kind::Symlink => self.symlink(rel, &abs)?,
            Kind::File => self.file(rel, &abs, action)?,
            Kind::Other => unreachable!("special files are skipped above"),
        }
        Ok(())
    }

    /// Volume data: `docker system df` reports its size.
    fn wants_size(&self, parts: &[&str]) -> bool {
        matches!(parts, ["volumes", _, "_data"])
    }

    /// The size `docker system df` gives each container's writable layer, measured as the
    /// daemon measures it: the diff directory's size, or for drivers that compare a layer with
    /// its parent (`NaiveDiffDriver`: vfs, btrfs), the size of what differs from the init layer.
    /// Only directories the walk recorded (so no symlink) are measured.
    fn measure_writable_layers(&mut self, driver: &str) {
        let Some(d) = Driver::from_name(driver) else {
            return;
        };
        let prefix = format!("image/{driver}/layerdb/mounts/");
        let id_in = |entries: &BTreeMap<String, Entry>, path: String| -> Option<CacheId> {
            match entries.get(&path) {
                Some(Entry::File(b)) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
                _ => None,
            }
        };
        let mounts: Vec<(CacheId, Option<CacheId>)> = self
            .entries
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .filter_map(|(p, _)| p.strip_suffix("/mount-id"))
            .filter_map(|dir| {
                let rw = id_in(&self.entries, format!("{dir}/mount-id"))?;
                Some((rw, id_in(&self.entries, format!("{dir}/init-id"))))
            })
            .collect();
        let is_dir = |rel: &str| matches!(self.entries.get(rel), Some(Entry::Dir));
        for (rw, init) in mounts {
            let Some(rel) = d.rw_dir(rw.as_str()).filter(|r| is_dir(r)) else {
                continue;
            };
            let size = if d.naive_diff() {
                let parent = init
                    .and_then(|i| d.rw_dir(i.as_str()))
                    .filter(|r| is_dir(r))
                    .map(|r| self.root.join(r));
                naive_diff_size(&self.root.join(&rel), parent.as_deref())
            } else {
                dir_size(&self.root.join(&rel))
            };
            self.dir_sizes.insert(rel, size);
        }
    }

    fn vanished(&mut self, rel: &str) {
        self.warnings
            .push(format!("{rel} vanished while it was being packed"));
        self.skipped.push(Skipped {
            path: rel.to_owned(),
            reason: SkipReason::Vanished,
            size: None,
        });
    }

    /// Whether a symlink's target stays under the root; one that leaves is reported and skipped.
    fn symlink_stays_inside(&mut self, rel: &str, abs: &Path) -> anyhow::Result<bool> {
        let target = match fs::read_link(abs) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.vanished(rel);
                return Ok(false);
            }
            Err(e) => return Err(io_error(e, abs)),
        };
        let parent = abs.parent().expect("a path below the root has a parent");
        if lexically_inside(&parent.join(&target), &self.root) {
            return Ok(true);
        }
        self.warnings.push(format!(
            "{rel} is a symlink to {} outside the data root; it was not followed",
            target.display()
        ));
        self.skipped.push(Skipped {
            path: rel.to_owned(),
            reason: SkipReason::SymlinkOutsideRoot,
            size: None,
        });
        Ok(false)
    }

    fn symlink(&mut self, rel: &str, abs: &Path) -> anyhow::Result<()> {
        match fs::read_link(abs) {
            Ok(target) => {
                self.entries.insert(
                    rel.to_owned(),
                    Entry::Symlink(target.to_string_lossy().into_owned()),
                );
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.vanished(rel);
                Ok(())
            }
            Err(e) => Err(io_error(e, abs)),
        }
    }

    fn file(&mut self, rel: &str, abs: &Path, action: Action) -> anyhow::Result<()> {
        let bytes = match self.read(rel, abs)? {
            Some(bytes) => bytes,
            None => return Ok(()),
        };
        let bytes = match action {
            Action::RedactContainerConfig | Action::RedactHostConfig
                if self.options.redact_containers =>
            {
                let redacted = if action == Action::RedactContainerConfig {
                    self.redactor.container_config(rel, &bytes)
                } else {
                    self.redactor.host_config(rel, &bytes)
                };
                match redacted {
                    Ok(r) => self.record_redaction(rel, r),
                    Err(e) => {
                        // Unparseable means unredactable: leaving it out is the only safe choice.
                        self.warnings.push(format!(
                            "{rel} was left out: it could not be redacted ({e})"
                        ));
                        self.skipped.push(Skipped {
                            path: rel.to_owned(),
                            reason: SkipReason::Unredactable,
                            size: Some(bytes.len() as u64),
                        });
                        return Ok(());
                    }
                }
            }
            Action::ImageConfig if self.options.redact_images => self.redact_image(rel, bytes),
            _ => bytes,
        };
        self.entries.insert(rel.to_owned(), Entry::File(bytes));
        Ok(())
    }

    /// Notes in the manifest which fields of `rel` were redacted; returns the redacted bytes.
    fn record_redaction(&mut self, rel: &str, r: Redaction) -> Vec<u8> {
        if !r.fields.is_empty() {
            self.redacted.push(Redacted {
                path: rel.to_owned(),
                fields: r.fields,
            });
        }
        r.bytes
    }

    fn redact_image(&mut self, rel: &str, bytes: Vec<u8>) -> Vec<u8> {
        let name = rel.rsplit('/').next().unwrap_or_default();
        let Ok(image) = ImageId::from_hex(name) else {
            return bytes;
        };
        let matched = hex(&Sha256::digest(&bytes)) == image.hex();
        self.image_configs.push(ImageConfigCheck {
            image,
            matched_before_redaction: matched,
        });
        match self.redactor.image_config(rel, &bytes) {
            Ok(r) => self.record_redaction(rel, r),
            Err(e) => {
                // An image config that is not JSON holds no readable secret; keep it for the checks.
                self.warnings.push(format!(
                    "{rel} is not valid JSON and was kept as it is ({e})"
                ));
                bytes
            }
        }
    }

    /// Reads a regular file without following a symlink; `None` when it is gone or too large.
    fn read(&mut self, rel: &str, abs: &Path) -> anyhow::Result<Option<Vec<u8>>> {
        let file = File::options()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(abs);
        let mut file = match file {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.vanished(rel);
                return Ok(None);
            }
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                self.warnings.push(format!(
                    "{rel} turned into a symlink while it was being packed; not followed"
                ));
                return Ok(None);
            }
            Err(e) => return Err(io_error(e, abs)),
        };
        let before = file.metadata().map_err(|e| io_error(e, abs))?;
        if !before.is_file() {
            self.warnings.push(format!(
                "{rel} stopped being a regular file while it was being packed"
            ));
            return Ok(None);
        }
        if before.len() > self.options.max_file_size {
            self.skipped.push(Skipped {
                path: rel.to_owned(),
                reason: SkipReason::TooLarge,
                size: Some(before.len()),
            });
            return Ok(None);
        }
        let mut bytes = Vec::with_capacity(before.len() as usize);
        (&mut file)
            .take(self.options.max_file_size + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| io_error(e, abs))?;
        let after = file.metadata().map_err(|e| io_error(e, abs))?;
        if after.len() != bytes.len() as u64
            || after.mtime_nsec() != before.mtime_nsec()
            || after.mtime() != before.mtime()
        {
            self.warnings.push(format!(
                "{rel} changed while it was being read; the snapshot may hold a mix"
            ));
        }
        self.bytes_read += bytes.len() as u64;
        let files = self.entries.len();
        if files % 64 == 0 {
            self.progress.set_message(format!(
                "{files} entries, {}",
                human_size(self.bytes_read as i64)
            ));
        }
        Ok(Some(bytes))
    }
}

/// moby's `directory.Size`: the apparent size of everything but directories, hard links once,
/// symlinks by their own size; entries that vanish while walking are ignored. Only `lstat`s:
/// nothing under the directory is opened.
fn dir_size(dir: &Path) -> u64 {
    let mut seen = std::collections::HashSet::new();
    let mut total = 0;
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for entry in rd.flatten() {
            let Ok(m) = entry.metadata() else { continue };
            if m.is_dir() {
                stack.push(entry.path());
            } else if m.len() > 0 && seen.insert((m.dev(), m.ino())) {
                total += m.len();
            }
        }
    }
    total
}

/// moby's `NaiveDiffDriver.DiffSize`: `archive.ChangesDirs(layer, parent)` then `ChangesSize`.
/// A non-directory counts when the parent has nothing at its path or its mode, owner, device,
/// size or modification time differ (`statDifferent`, with `sameFsTime`); hard links once.
/// Only `lstat`s, never following a symlink.
fn naive_diff_size(layer: &Path, parent: Option<&Path>) -> u64 {
    use std::collections::{HashMap, HashSet};
    type Stat = (u32, u32, u32, u64, u64, i64, i64);
    fn walk(dir: &Path, mut visit: impl FnMut(PathBuf, &fs::Metadata)) {
        let mut stack = vec![PathBuf::new()];
        while let Some(rel) = stack.pop() {
            let Ok(rd) = fs::read_dir(dir.join(&rel)) else {
                continue;
            };
            for entry in rd.flatten() {
                let Ok(m) = entry.metadata() else { continue };
                let child = rel.join(entry.file_name());
                if m.is_dir() {
                    stack.push(child.clone());
                }
                visit(child, &m);
            }
        }
    }
    let stat = |m: &fs::Metadata| -> Stat {
        (
            m.mode(),
            m.uid(),
            m.gid(),
            m.rdev(),
            m.size(),
            m.mtime(),
            m.mtime_nsec(),
        )
    };
    let mut old: HashMap<PathBuf, Stat> = HashMap::new();
    if let Some(parent) = parent {
        walk(parent, |rel, m| {
            old.insert(rel, stat(m));
        });
    }
    let same_time = |a: i64, an: i64, b: i64, bn: i64| a == b && (an == bn || an == 0 || bn == 0);
    let mut seen = HashSet::new();
    let mut total = 0;
    walk(layer, |rel, m| {
        if m.is_dir() {
            return;
        }
        let new = stat(m);
        let changed = match old.get(&rel) {
            None => true,
            Some(o) => {
                o.0 != new.0
                    || o.1 != new.1
                    || o.2 != new.2
                    || o.3 != new.3
                    || o.4 != new.4
                    || !same_time(o.5, o.6, new.5, new.6)
            }
        };
        if changed && (m.nlink() <= 1 || seen.insert((m.dev(), m.ino()))) {
            total += m.size();
        }
    });
    total
}

/// Lists a directory's entry names, sorted; `None` if it does not exist.
fn list_dir(dir: &Path) -> anyhow::Result<Option<Vec<String>>> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e)
            if e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ENOTDIR) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(io_error(e, dir)),
    };
    let mut names = Vec::new();
    for entry in rd {
        let entry = match entry {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io_error(e, dir)),
        };
        match entry.file_name().into_string() {
            Ok(name) => names.push(name),
            // Docker writes ASCII names only; anything else is not its metadata.
            Err(name) => anyhow::bail!("non-UTF-8 file name {:?} in {}", name, dir.display()),
        }
    }
    names.sort();
    Ok(Some(names))
}

fn io_error(e: io::Error, path: &Path) -> anyhow::Error {
    if e.kind() == io::ErrorKind::PermissionDenied {
        return PackError::PermissionDenied(path.to_owned()).into();
    }
    anyhow::Error::from(e).context(format!("reading {}", path.display()))
}

/// Whether `path`, with `.` and `..` resolved without touching the filesystem, lies under `root`.
fn lexically_inside(path: &Path, root: &Path) -> bool {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out.starts_with(root)
}

fn count(entries: &BTreeMap<String, Entry>, bytes_read: u64) -> Counts {
    let mut c = Counts {
        bytes_read,
        ..Counts::default()
    };
    c.driver_dirs = Driver::ALL
        .iter()
        .map(|d| {
            let prefix = d.records_prefix();
            entries
                .range(prefix.to_owned()..)
                .take_while(|(p, _)| p.starts_with(prefix))
                .filter(|(p, _)| {
                    let name = &p[prefix.len()..];
                    !name.contains('/') && !d.is_reserved(name)
                })
                .count()
        })
        .sum::<usize>() as u64;
    for (path, entry) in entries {
        match entry {
            Entry::File(_) => c.files += 1,
            Entry::Symlink(_) => c.symlinks += 1,
            Entry::Dir => c.dirs += 1,
        }
        let parts: Vec<&str> = path.split('/').collect();
        match (parts.as_slice(), entry) {
            (["image", _, "imagedb", "content", "sha256", _], Entry::File(_)) => c.images += 1,
            (["image", _, "layerdb", "sha256", name], Entry::Dir)
                if !name.ends_with("-removing") =>
            {
                c.layers += 1
            }
            (["image", _, "layerdb", "mounts", _], Entry::Dir) => c.mounts += 1,
            (["containers", _], Entry::Dir) => c.containers += 1,
            _ => {}
        }
    }
    c
}

/// The redaction key: stable on one host (so packs are reproducible), unknown elsewhere.
fn redaction_key(root: &Path) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"storesnap redaction key v1\0");
    // machine-id never leaves the host and is not in the snapshot; boot_id is the fallback.
    for source in [
        "/etc/machine-id",
        "/var/lib/dbus/machine-id",
        "/proc/sys/kernel/random/boot_id",
    ] {
        if let Ok(id) = fs::read(source) {
            h.update(&id);
            break;
        }
    }
    h.update(b"\0");
    h.update(root.as_os_str().as_encoded_bytes());
    h.finalize().into()
}

pub(crate) fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes the snapshot next to its final name and renames it into place, so a failed pack never
/// leaves a half-written file that looks like a snapshot.
fn write_file(
    output: &Path,
    root: &Path,
    write: impl FnOnce(&mut CountingWriter<io::BufWriter<File>>) -> io::Result<()>,
) -> anyhow::Result<u64> {
    let dir = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let dir =
        fs::canonicalize(&dir).with_context(|| format!("output directory {}", dir.display()))?;
    if dir.starts_with(root) {
        return Err(PackError::OutputInsideRoot(output.to_owned()).into());
    }
    let name = output
        .file_name()
        .context("the output path has no file name")?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| -> anyhow::Result<u64> {
        let file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        let mut w = CountingWriter::new(io::BufWriter::new(file));
        write(&mut w).with_context(|| format!("writing {}", output.display()))?;
        let count = w.count;
        w.inner
            .into_inner()
            .map_err(|e| e.into_error())?
            .sync_all()?;
        fs::rename(&tmp, dir.join(name))
            .with_context(|| format!("renaming into {}", output.display()))?;
        Ok(count)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Counts the bytes written through it (the snapshot's size for the summary).
pub struct CountingWriter<W> {
    inner: W,
    count: u64,
}

impl<W> CountingWriter<W> {
    fn new(inner: W) -> Self {
        CountingWriter { inner, count: 0 }
    }
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;
    use SkipReason::*;

    #[track_caller]
    fn check(path: &str, kind: Kind, expected: Action) {
        let parts: Vec<&str> = path.split('/').collect();
        assert_eq!(classify(&parts, kind), expected, "{path}");
    }

    #[test]
    fn policy_keeps_metadata_and_never_contents() {
        let id = "c".repeat(64);
        check("image/overlay2/repositories.json", Kind::File, Keep);
        check(
            &format!("image/overlay2/imagedb/content/sha256/{id}"),
            Kind::File,
            ImageConfig,
        );
        check(
            &format!("image/overlay2/layerdb/sha256/{id}/tar-split.json.gz"),
            Kind::File,
            Keep,
        );
        check(
            &format!("containers/{id}/config.v2.json"),
            Kind::File,
            RedactContainerConfig,
        );
        check(
            &format!("containers/{id}/hostconfig.json"),
            Kind::File,
            RedactHostConfig,
        );
        check(
            &format!("containers/{id}/{id}-json.log"),
            Kind::File,
            Skip(Contents),
        );
        check(
            &format!("containers/{id}/checkpoints"),
            Kind::Dir,
            Skip(Contents),
        );
        check(&format!("overlay2/{id}/link"), Kind::File, Keep);
        check(&format!("overlay2/{id}/lower"), Kind::File, Keep);
        check(&format!("overlay2/{id}/diff"), Kind::Dir, KeepEmpty);
        check(&format!("overlay2/{id}/diff"), Kind::File, Skip(Contents));
        check(
            &format!("overlay2/{id}/diff/etc/passwd"),
            Kind::File,
            Skip(Contents),
        );
        check("overlay2/l/ABCDEFGHIJKLMNOPQRSTUVWXYZ", Kind::Symlink, Keep);
        check(
            "overlay2/l/ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            Kind::File,
            Skip(Contents),
        );
        check("volumes/data/_data", Kind::Dir, KeepEmpty);
        check("volumes/data/_data/secret.txt", Kind::File, Skip(Contents));
        check("volumes/metadata.db", Kind::File, Skip(Sensitive));
        check(
            "swarm/certificates/swarm-node.key",
            Kind::File,
            Skip(Sensitive),
        );
        check("trust", Kind::Dir, Skip(Sensitive));
        check("buildkit", Kind::Dir, Skip(OutOfScope));
        check("engine-id", Kind::File, Skip(OutOfScope));
        check("aufs/layers/abc", Kind::File, Keep);
        check("aufs/diff/abc", Kind::Dir, KeepEmpty);
        check("devicemapper/devicemapper/data", Kind::File, Skip(Contents));
        check("devicemapper/metadata/base", Kind::File, Keep);
    }

    #[test]
    fn leftovers_are_recognised() {
        assert!(is_leftover(&[
            "image",
            "overlay2",
            "layerdb",
            "tmp",
            "write-set-123"
        ]));
        assert!(is_leftover(&[
            "image",
            "overlay2",
            "layerdb",
            "sha256",
            "abc-def-removing"
        ]));
        assert!(!is_leftover(&[
            "image", "overlay2", "layerdb", "sha256", "abc"
        ]));
    }

    #[test]
    fn symlink_targets_are_judged_lexically() {
        let root = Path::new("/r/docker");
        assert!(lexically_inside(
            Path::new("/r/docker/overlay2/l/../abc/diff"),
            root
        ));
        assert!(!lexically_inside(
            Path::new("/r/docker/overlay2/l/../../../etc"),
            root
        ));
        assert!(!lexically_inside(Path::new("/etc/passwd"), root));
        assert!(!lexically_inside(Path::new("/r/docker-other/x"), root));
    }
}
