//! What `storesnap pack` takes from a containerd root (paths relative to it). The loader reads
//! what this keeps, under [`super::ROOT`] in the snapshot.
//!
//! Content blobs need more than a path to decide: a layer is only listed (digest and size),
//! while indexes, manifests, configs, attestation manifests and Docker's container configs
//! are copied. Which blob is which only the manifests say, so [`blob_kinds`] follows them
//! from the image records, over the blobs that parse as JSON (no layer does).

use std::collections::BTreeMap;

use super::content::Resolver;
use super::{meta, snapshotter};
use crate::bbolt::{BoltError, Db};
use crate::id::Digest;
use crate::manifest::SkipReason;
use crate::source::graphdriver::policy::{Action, Kind};
use crate::store::{BlobKind, SnapshotKind};

/// Blobs larger than this are never metadata (the biggest real indexes are a few hundred KB),
/// so they are only listed.
pub const MAX_METADATA_BLOB: u64 = 4 << 20;

/// Where a path of a containerd root goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Handled like a data-root path with this action.
    Plain(Action),
    /// A bbolt database: copied as bytes, re-read if it changes while being read.
    Database,
    /// A content blob: copied or listed as [`blob_kinds`] decides.
    Blob,
}

/// The packing policy for `path` relative to the containerd root, split on `/`.
pub fn classify(path: &[&str], kind: Kind) -> Place {
    use Action::*;
    use Place::*;
    use SkipReason::*;
    let dir = kind == Kind::Dir;
    let file = kind == Kind::File;
    match path {
        [] => Plain(Keep),
        ["io.containerd.metadata.v1.bolt"] if dir => Plain(Keep),
        ["io.containerd.metadata.v1.bolt", "meta.db"] if file => Database,
        ["io.containerd.content.v1.content"] if dir => Plain(Keep),
        ["io.containerd.content.v1.content", "blobs"] if dir => Plain(Keep),
        ["io.containerd.content.v1.content", "blobs", "sha256"] if dir => Plain(Keep),
        ["io.containerd.content.v1.content", "blobs", "sha256", _] if file => Blob,
        ["io.containerd.content.v1.content", "ingest"] if dir => Plain(Keep),
        ["io.containerd.content.v1.content", "ingest", _] if dir => Plain(Keep),
        // An unfinished write: what it is (ref, total, times), never its data.
        ["io.containerd.content.v1.content", "ingest", _, "ref" | "total" | "startedat" | "updatedat"]
            if file =>
        {
            Plain(Keep)
        }
        [s] if dir && s.starts_with("io.containerd.snapshotter.v1.") => Plain(Keep),
        [s, "metadata.db"] if file && s.starts_with("io.containerd.snapshotter.v1.") => Database,
        [s, "snapshots"] if dir && s.starts_with("io.containerd.snapshotter.v1.") => Plain(Keep),
        // Overlay-type snapshotters keep `fs` and `work` in each snapshot's directory; the others
        // (native, btrfs…) keep the filesystem itself there, which is never walked.
        [s, "snapshots", _] if dir && s.starts_with("io.containerd.snapshotter.v1.") => {
            if has_upper_dirs(s.trim_start_matches("io.containerd.snapshotter.v1.")) {
                Plain(Keep)
            } else {
                Plain(KeepEmpty)
            }
        }
        [s, "snapshots", _, "fs" | "work"]
            if dir && s.starts_with("io.containerd.snapshotter.v1.") =>
        {
            Plain(KeepEmpty)
        }
        [s, ..]
            if s.starts_with("io.containerd.snapshotter.v1.")
                || s.starts_with("io.containerd.content.v1.") =>
        {
            Plain(Skip(Contents))
        }
        _ => Plain(Skip(OutOfScope)),
    }
}

/// Whether a snapshotter keeps a snapshot's files in `snapshots/<id>/fs` (beside `work`).
pub fn has_upper_dirs(snapshotter: &str) -> bool {
    matches!(snapshotter, "overlayfs" | "fuse-overlayfs" | "stargz")
}

/// The snapshotter Docker's images use in `namespace`: overlayfs when it has snapshots there,
/// else the one with the most (Docker can run on native, btrfs, zfs, fuse-overlayfs…).
pub fn snapshotter_in_use(meta_db: &[u8], namespace: &str) -> Option<String> {
    let db = Db::open(meta_db).ok()?;
    let snaps = db
        .bucket_at(&[b"v1", namespace.as_bytes(), b"snapshots"])
        .ok()??;
    let counts: Vec<(String, usize)> = snaps
        .buckets()
        .ok()?
        .into_iter()
        .map(|(name, b)| {
            (
                String::from_utf8_lossy(name).into_owned(),
                b.entries().map_or(0, |e| e.len()),
            )
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    if counts.iter().any(|(name, _)| name == super::SNAPSHOTTER) {
        return Some(super::SNAPSHOTTER.to_owned());
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(name, _)| name)
}

/// What each blob of `json_blobs` is, following the image records of `namespace` in
/// `meta_db`. A blob missing from the result is one no image refers to.
pub fn blob_kinds(
    meta_db: &[u8],
    namespace: &str,
    json_blobs: &BTreeMap<Digest, Vec<u8>>,
) -> Result<BTreeMap<Digest, BlobKind>, BoltError> {
    let db = Db::open(meta_db)?;
    let meta = meta::read(&db, namespace, super::SNAPSHOTTER)?;
    let mut resolver = Resolver {
        blob: |d: &Digest| json_blobs.get(d).map(Vec::as_slice),
        host_platform: String::new(),
        kinds: BTreeMap::new(),
    };
    for record in meta.records.values() {
        resolver.resolve(&record.target);
    }
    let mut kinds = resolver.kinds;
    for record in meta.records.values() {
        if let Some(c) = record
            .labels
            .get("org.mobyproject.image.containerconfig")
            .and_then(|c| c.parse().ok())
        {
            kinds.entry(c).or_insert(BlobKind::ContainerConfig);
        }
    }
    // Content records point at what they keep alive (`containerd.io/gc.ref.content.*`).
    for labels in meta.blobs.values().map(|(_, l)| l) {
        for (k, v) in labels {
            if k.ends_with("container.config") {
                if let Ok(d) = v.parse() {
                    kinds.entry(d).or_insert(BlobKind::ContainerConfig);
                }
            }
        }
    }
    Ok(kinds)
}

/// Whether a blob is packed: whatever is not a layer. An unreferenced blob is packed only
/// because it parsed as JSON, which no layer does.
pub fn packs_blob(kind: Option<BlobKind>) -> bool {
    kind != Some(BlobKind::Layer)
}

/// Whether `meta_db` holds records in `namespace` (`v1/<namespace>/images`).
pub fn has_images(meta_db: &[u8], namespace: &str) -> bool {
    Db::open(meta_db)
        .and_then(|db| {
            db.bucket_at(&[b"v1", namespace.as_bytes(), b"images"])
                .map(|b| b.is_some())
        })
        .unwrap_or(false)
}

/// The backend IDs of active snapshots (containers' writable layers), whose upper dirs
/// `docker system df` measures.
pub fn active_snapshots(snapshotter_db: &[u8]) -> Result<Vec<u64>, BoltError> {
    let db = Db::open(snapshotter_db)?;
    Ok(snapshotter::read(&db)?
        .into_values()
        .filter(|r| r.kind == SnapshotKind::Active)
        .filter_map(|r| r.id)
        .collect())
}
