//! The read-only walk of a containerd root, for a daemon that keeps its images in containerd.
//!
//! What is taken is [`classify`]'s call (core's containerd policy). The databases are copied as
//! bytes, never opened as databases, and re-read when they change under the walk; the content
//! store is read only as far as telling metadata (JSON) from layers, which are listed with
//! their size and never copied.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use storesnap_core::manifest::{ImageConfigCheck, SkipReason, Skipped};
use storesnap_core::source::containerd::policy::{
    active_snapshots, blob_kinds, classify, has_images, has_upper_dirs, packs_blob,
    snapshotter_in_use, Place, MAX_METADATA_BLOB,
};
use storesnap_core::source::containerd::{snapshotter_dir, META_DB, ROOT, SNAPSHOTTER};
use storesnap_core::source::graphdriver::policy::{Action, Kind};
use storesnap_core::store::BlobKind;
use storesnap_core::ImageId;
use storesnap_core::{Digest, Entry};

use super::{io_error, list_dir, Walker};
use crate::pack::sizes::disk_usage;

/// A database that keeps changing is read at most this many times.
const DATABASE_READS: usize = 3;
/// The managed containerd's root under a data root.
const MANAGED: &str = "containerd/daemon";
/// Where a packaged host's system containerd keeps its root.
pub const SYSTEM_ROOT: &str = "/var/lib/containerd";

/// The containerd root holding the namespace's images: the one given, else dockerd's managed
/// one, else the system one. `None` when none has a metadata database.
pub fn locate(data_root: &Path, given: Option<&Path>, namespace: &str) -> Option<PathBuf> {
    let meta = |r: &Path| r.join("io.containerd.metadata.v1.bolt/meta.db");
    if let Some(r) = given {
        return Some(r.to_owned());
    }
    // The managed root counts only where it really is under the data root: a symlink there
    // that leads elsewhere is not followed.
    let managed = data_root.join(MANAGED);
    let inside = fs::canonicalize(&managed)
        .is_ok_and(|m| fs::canonicalize(data_root).is_ok_and(|r| m.starts_with(r)));
    let candidates: Vec<PathBuf> = if inside {
        vec![managed, PathBuf::from(SYSTEM_ROOT)]
    } else {
        vec![PathBuf::from(SYSTEM_ROOT)]
    };
    let existing: Vec<&PathBuf> = candidates.iter().filter(|r| meta(r).is_file()).collect();
    existing
        .iter()
        .find(|r| fs::read(meta(r)).is_ok_and(|b| has_images(&b, namespace)))
        .or(existing.first())
        .map(|r| (*r).clone())
}

impl Walker<'_> {
    /// Walks the containerd root `croot` into the snapshot under [`ROOT`]; returns the
    /// snapshotter Docker's images use.
    pub(super) fn containerd(&mut self, croot: &Path, namespace: &str) -> anyhow::Result<String> {
        self.entries.insert("containerd".into(), Entry::Dir);
        let mut blobs = Vec::new();
        self.visit_containerd(croot, "", &mut blobs)?;
        self.content(croot, namespace, blobs);
        let snapshotter = match self.entries.get(META_DB) {
            Some(Entry::File(db)) => snapshotter_in_use(db, namespace),
            _ => None,
        }
        .unwrap_or_else(|| SNAPSHOTTER.to_owned());
        let snapshotter = snapshotter.as_str();
        // `docker system df` reports each container's writable layer: the snapshotter's usage
        // of its active snapshot, which for overlayfs is a walk of the upper dir at call time.
        let sdir = snapshotter_dir(snapshotter);
        if let Some(Entry::File(db)) = self.entries.get(&format!("{sdir}metadata.db")) {
            match active_snapshots(db) {
                Ok(ids) => {
                    for id in ids {
                        // Overlay-type snapshotters measure the upper dir, others the snapshot.
                        let rel = if has_upper_dirs(snapshotter) {
                            format!("{sdir}snapshots/{id}/fs")
                        } else {
                            format!("{sdir}snapshots/{id}")
                        };
                        if matches!(self.entries.get(&rel), Some(Entry::Dir)) {
                            let rel_in = rel.strip_prefix(ROOT).unwrap_or(&rel);
                            let size = disk_usage(&croot.join(rel_in));
                            self.dir_sizes.insert(rel, size);
                        }
                    }
                }
                Err(e) => self
                    .warnings
                    .push(format!("{sdir}metadata.db could not be read: {e}")),
            }
        }
        Ok(snapshotter.to_owned())
    }

    fn visit_containerd(
        &mut self,
        croot: &Path,
        rel: &str,
        blobs: &mut Vec<(String, u64)>,
    ) -> anyhow::Result<()> {
        let abs = if rel.is_empty() {
            croot.to_owned()
        } else {
            croot.join(rel)
        };
        let snap = format!("{ROOT}{rel}").trim_end_matches('/').to_owned();
        let Some((meta, kind)) = self.lstat(&snap, &abs)? else {
            return Ok(());
        };
        let parts: Vec<&str> = if rel.is_empty() {
            Vec::new()
        } else {
            rel.split('/').collect()
        };
        let place = match kind {
            Kind::Other => Place::Plain(Action::Skip(SkipReason::SpecialFile)),
            _ => classify(&parts, kind),
        };
        match place {
            Place::Plain(Action::Skip(reason)) => {
                let size = (kind == Kind::File).then_some(meta.len());
                self.skipped.push(Skipped {
                    path: snap,
                    reason,
                    size,
                });
            }
            Place::Plain(Action::KeepEmpty) => {
                self.entries.insert(snap, Entry::Dir);
            }
            Place::Plain(_) if kind == Kind::Dir => {
                self.entries.insert(snap, Entry::Dir);
                let Some(children) = list_dir(&abs)? else {
                    self.vanished(&format!("{ROOT}{rel}"));
                    return Ok(());
                };
                for child in children {
                    let next = if rel.is_empty() {
                        child
                    } else {
                        format!("{rel}/{child}")
                    };
                    self.visit_containerd(croot, &next, blobs)?;
                }
            }
            Place::Plain(action) => self.file(&snap, &abs, action)?,
            Place::Database => self.database(&snap, &abs)?,
            Place::Blob => blobs.push((rel.to_owned(), meta.len())),
        }
        Ok(())
    }

    /// Copies a bbolt file as bytes. bbolt writes pages in place, so a read that races a
    /// commit can mix two states: it is read again until two stats agree, at most
    /// [`DATABASE_READS`] times, and the last read is packed with a warning if none was clean.
    fn database(&mut self, snap: &str, abs: &Path) -> anyhow::Result<()> {
        let mut last = None;
        let mut clean = false;
        for _ in 0..DATABASE_READS {
            match read_nofollow(abs) {
                Ok(Some((bytes, stable))) => {
                    clean = stable && storesnap_core::bbolt::Db::open(&bytes).is_ok();
                    last = Some(bytes);
                    if clean {
                        break;
                    }
                }
                Ok(None) => {
                    self.vanished(snap);
                    return Ok(());
                }
                Err(e) => return Err(io_error(e, abs)),
            }
        }
        let Some(bytes) = last else { return Ok(()) };
        if !clean {
            self.warnings.push(format!(
                "{snap} changed while it was being read ({DATABASE_READS} tries); the snapshot holds the last read"
            ));
        }
        self.bytes_read += bytes.len() as u64;
        self.entries.insert(snap.to_owned(), Entry::File(bytes));
        Ok(())
    }

    /// Content blobs: the ones that parse as JSON are candidates, the manifests decide which
    /// of them are layers, and every layer (and every blob that is not JSON) is only listed.
    fn content(&mut self, croot: &Path, namespace: &str, blobs: Vec<(String, u64)>) {
        let mut json: BTreeMap<Digest, Vec<u8>> = BTreeMap::new();
        let mut listed = Vec::new();
        for (rel, size) in blobs {
            let hex = rel.rsplit('/').next().unwrap_or_default();
            let digest = Digest::from_hex(hex).ok();
            match (digest, size <= MAX_METADATA_BLOB) {
                (Some(d), true) => match read_json_blob(&croot.join(&rel)) {
                    Some(bytes) => {
                        json.insert(d, bytes);
                    }
                    None => listed.push((rel, size)),
                },
                _ => listed.push((rel, size)),
            }
        }
        let meta_db = match self
            .entries
            .get(&format!("{ROOT}io.containerd.metadata.v1.bolt/meta.db"))
        {
            Some(Entry::File(b)) => b.clone(),
            _ => Vec::new(),
        };
        let kinds = match blob_kinds(&meta_db, namespace, &json) {
            Ok(k) => k,
            Err(e) => {
                self.warnings.push(format!("meta.db could not be read to tell layers from metadata ({e}); JSON blobs were packed"));
                BTreeMap::new()
            }
        };
        for (d, bytes) in json {
            let rel = format!("io.containerd.content.v1.content/blobs/sha256/{}", d.hex());
            let kind = kinds.get(&d).copied();
            if packs_blob(kind) {
                self.bytes_read += bytes.len() as u64;
                let snap = format!("{ROOT}{rel}");
                let bytes = match kind {
                    Some(BlobKind::Config | BlobKind::ContainerConfig)
                        if self.options.redact_images =>
                    {
                        self.redact_config_blob(&snap, &d, kind == Some(BlobKind::Config), bytes)
                    }
                    _ => bytes,
                };
                self.entries.insert(snap, Entry::File(bytes));
            } else {
                listed.push((rel, bytes.len() as u64));
            }
        }
        for (rel, size) in listed {
            self.skipped.push(Skipped {
                path: format!("{ROOT}{rel}"),
                reason: SkipReason::Contents,
                size: Some(size),
            });
        }
    }
}

impl Walker<'_> {
    /// `--redact` for a config blob: an image config as in a graph-driver store, or Docker's
    /// bare container config. Whether its bytes matched its digest is recorded, by digest.
    fn redact_config_blob(
        &mut self,
        snap: &str,
        digest: &Digest,
        image_config: bool,
        bytes: Vec<u8>,
    ) -> Vec<u8> {
        self.image_configs.push(ImageConfigCheck {
            image: ImageId::from(digest.clone()),
            matched_before_redaction: Digest::sha256_of(&bytes) == *digest,
        });
        let redacted = if image_config {
            self.redactor.image_config(snap, &bytes)
        } else {
            self.redactor.runtime_config_document(snap, &bytes)
        };
        match redacted {
            Ok(r) => self.record_redaction(snap, r),
            Err(e) => {
                self.warnings.push(format!(
                    "{snap} is not valid JSON and was kept as it is ({e})"
                ));
                bytes
            }
        }
    }
}

/// Reads a file without following a symlink; whether its size and mtime held still over the
/// read; `None` when it is gone.
fn read_nofollow(abs: &Path) -> io::Result<Option<(Vec<u8>, bool)>> {
    let mut file = match File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(abs)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let before = file.metadata()?;
    if !before.is_file() {
        return Ok(None);
    }
    let mut bytes = Vec::with_capacity(before.len() as usize);
    file.read_to_end(&mut bytes)?;
    let after = file.metadata()?;
    let stable = after.len() == bytes.len() as u64
        && after.mtime() == before.mtime()
        && after.mtime_nsec() == before.mtime_nsec();
    Ok(Some((bytes, stable)))
}

/// The bytes of a blob that is a JSON document; `None` for anything else (a layer). Only the
/// first byte is read of a blob that does not start like JSON.
fn read_json_blob(abs: &Path) -> Option<Vec<u8>> {
    let mut file = File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(abs)
        .ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut first = [0u8; 1];
    file.read_exact(&mut first).ok()?;
    if first[0] != b'{' {
        return None;
    }
    let mut bytes = vec![b'{'];
    file.take(MAX_METADATA_BLOB).read_to_end(&mut bytes).ok()?;
    serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).ok()?;
    Some(bytes)
}
