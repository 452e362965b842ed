//! The read-only walk of a data root: what `classify` keeps becomes the snapshot's entries.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::ProgressBar;
use sha2::{Digest as _, Sha256};
use storesnap_core::docker::human_size;
use storesnap_core::manifest::{
    ContainerdSource, ImageConfigCheck, Manifest, Redacted, SkipReason, Skipped, FORMAT_VERSION,
};
use storesnap_core::redact::{Redaction, Redactor};
use storesnap_core::source::graphdriver::policy::{
    classify, is_leftover, is_tar_split, volume_db_is_safe, Action, Kind,
};
use storesnap_core::source::graphdriver::Driver;
use storesnap_core::time::UtcTime;
use storesnap_core::{CacheId, Entry, ImageId, Snapshot};

use storesnap_core::source::containerd::SNAPSHOTTER;

use super::sizes::{dir_size, naive_diff_size};

mod containerd;
mod counts;
mod host;

use super::{Host, Options, PackError, Packed};
use counts::count;
use host::{io_error, lexically_inside, list_dir, redaction_key};

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
    let image_dirs = list_dir(&root.join("image"))?;
    // A data root with image/ is a graph-driver store (Docker 29 keeps using one it finds,
    // "graphdriver-prior"), unless the user names the containerd root.
    // Before 1.10 there was no image/: a graph/ of v1 layers, tagged in repositories-<driver>.
    let legacy_driver = match &image_dirs {
        None if top.iter().any(|n| n == "graph") => top
            .iter()
            .filter_map(|n| n.strip_prefix("repositories-"))
            .find(|d| top.iter().any(|n| n == d))
            .map(str::to_owned),
        _ => None,
    };
    let containerd_root = match (&image_dirs, &options.containerd_root) {
        (None, None) if legacy_driver.is_some() => None,
        (_, Some(given)) => {
            let given = fs::canonicalize(given)
                .map_err(|_| PackError::ContainerdRootMissing(given.clone()))?;
            Some(given)
        }
        (None, None) => containerd::locate(&root, None, &options.namespace)
            .map(|r| fs::canonicalize(&r).unwrap_or(r)),
        (Some(_), None) => None,
    };
    let (storage_driver, drivers) = match (&containerd_root, image_dirs) {
        (Some(_), _) => (SNAPSHOTTER.to_owned(), Vec::new()),
        (None, Some(drivers)) => {
            let driver = pick_driver(&drivers, &top).ok_or_else(|| PackError::NotADataRoot {
                path: root.clone(),
                why: "image/ holds no driver directory".into(),
            })?;
            (driver, drivers)
        }
        (None, None) if legacy_driver.is_some() => {
            (legacy_driver.clone().unwrap_or_default(), Vec::new())
        }
        (None, None) => {
            return Err(PackError::NotADataRoot {
                path: root,
                why: "it has no image/ directory and no containerd image store was found \
                      (in <root>/containerd/daemon or /var/lib/containerd)"
                    .into(),
            }
            .into());
        }
    };

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
        // In containerd mode the containerd root is walked by its own policy below.
        if containerd_root.is_some() && name == "containerd" {
            continue;
        }
        walker.visit(name)?;
    }
    let storage_driver = match &containerd_root {
        Some(croot) => walker.containerd(croot, &options.namespace)?,
        None => {
            walker.measure_writable_layers(&storage_driver);
            storage_driver
        }
    };

    let mut counts = count(&walker.entries, walker.bytes_read);
    if legacy_driver.is_some() {
        // v1 layers are graph/ directories; images are the tagged tips and heads.
        let (store, _) = storesnap_core::source::legacy::load(
            &walker.entries,
            &storesnap_core::Provenance::Files,
        );
        counts.images = store.images.len() as u64;
        counts.layers = store.layers.len() as u64;
    }
    if containerd_root.is_some() {
        // Images and layers are records in meta.db, not files: count them in the model.
        let (store, _) = storesnap_core::source::containerd::load(
            &walker.entries,
            &storesnap_core::Provenance::Files,
        );
        counts.images = store.images.len() as u64;
        counts.layers = store.layers.len() as u64;
        // A container's mount is its active snapshot, keyed by its ID.
        counts.mounts = store.containerd.as_deref().map_or(0, |cd| {
            store
                .containers
                .keys()
                .filter(|c| cd.snapshots.contains_key(c.as_str()))
                .count() as u64
        });
    }
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
        storage_driver: storage_driver.clone(),
        data_root: root.display().to_string(),
        containerd: containerd_root.as_ref().map(|r| ContainerdSource {
            root: r.display().to_string(),
            namespace: options.namespace.clone(),
            snapshotter: storage_driver.clone(),
        }),
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
        containerd_root,
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
    /// `lstat` of `abs` (named `rel` in the snapshot) and what kind of object it is; `None`,
    /// recorded as vanished, when it is gone.
    fn lstat(&mut self, rel: &str, abs: &Path) -> anyhow::Result<Option<(fs::Metadata, Kind)>> {
        let meta = match fs::symlink_metadata(abs) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.vanished(rel);
                return Ok(None);
            }
            Err(e) => return Err(io_error(e, abs)),
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
        Ok(Some((meta, kind)))
    }

    fn visit(&mut self, rel: &str) -> anyhow::Result<()> {
        let abs = self.root.join(rel);
        let Some((meta, kind)) = self.lstat(rel, &abs)? else {
            return Ok(());
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
            Action::V1ImageJson if self.options.redact_images => {
                match self.redactor.image_config(rel, &bytes) {
                    Ok(r) => self.record_redaction(rel, r),
                    Err(_) => bytes,
                }
            }
            Action::VolumeDatabase if !volume_db_is_safe(&bytes) => {
                self.warnings.push(format!(
                    "{rel} was left out: a volume in it has driver options or labels, which can hold credentials"
                ));
                self.skipped.push(Skipped {
                    path: rel.to_owned(),
                    reason: SkipReason::Sensitive,
                    size: Some(bytes.len() as u64),
                });
                return Ok(());
            }
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
        if files.is_multiple_of(64) {
            self.progress.set_message(format!(
                "{files} entries, {}",
                human_size(self.bytes_read as i64)
            ));
        }
        Ok(Some(bytes))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
