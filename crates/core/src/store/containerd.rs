//! What the model keeps of the containerd image store Docker uses (its own objects, beside
//! the images and layers every source fills).

use std::collections::BTreeMap;

use crate::id::{DiffId, Digest, ImageId, LeaseId, SnapshotKey};

/// The containerd image store's own objects, beside the common model it also fills: image
/// records, content blobs, snapshots and leases of one namespace.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Containerd {
    /// The namespace Docker uses, `moby`.
    pub namespace: String,
    /// The snapshotter Docker uses, e.g. `overlayfs`.
    pub snapshotter: String,
    /// Image records by name, e.g. `docker.io/library/alpine:3.20` or `moby-dangling@sha256:…`.
    pub records: BTreeMap<String, ImageRecord>,
    /// What each image (by ID, the record's target digest) resolves to.
    pub targets: BTreeMap<ImageId, Target>,
    /// `rootfs.diff_ids` of every packed config, by config digest (an image's other
    /// platforms; the one Docker runs is also parsed into the image's config).
    pub config_diff_ids: BTreeMap<Digest, Vec<DiffId>>,
    /// Content blobs by digest, from meta.db and the content store.
    pub blobs: BTreeMap<Digest, Blob>,
    /// Snapshots by key (`sha256:<chainID>`, `<container>-init`, `<container>`…).
    pub snapshots: BTreeMap<SnapshotKey, Snapshot>,
    /// Snapshot directories of the snapshotter (`snapshots/<id>`), by backend ID.
    pub snapshot_dirs: BTreeMap<u64, SnapshotDir>,
    /// Whether the source lists the snapshot directories, so that a missing one is damage.
    pub snapshot_dirs_listed: bool,
    /// Whether the snapshotter's own database could be read (else kinds, IDs and sizes are
    /// unknown, and no directory can be called an orphan).
    pub snapshotter_read: bool,
    /// Every backend ID the snapshotter knows, in any namespace.
    pub backend_ids: std::collections::BTreeSet<u64>,
    pub leases: BTreeMap<LeaseId, Lease>,
    /// Unfinished writes in the content store's `ingest/`, by directory name.
    pub ingests: Vec<String>,
    /// Graph-driver metadata left from before the switch (`image/<driver>/`).
    pub graphdriver_leftovers: Vec<String>,
}

/// A content descriptor: what a manifest or record says a blob is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
}

/// An image record of containerd's `images` bucket.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ImageRecord {
    pub name: String,
    pub target: Descriptor,
    /// Unix seconds.
    pub created: Option<i64>,
    pub updated: Option<i64>,
    pub labels: BTreeMap<String, String>,
}

/// What an image's target resolves to: an index's platform manifests, or one manifest.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Target {
    /// Whether the target is an index (else it is a single manifest).
    pub index: bool,
    pub manifests: Vec<PlatformManifest>,
    /// The manifest Docker uses on this host (an index in `manifests`), if any is usable.
    pub chosen: Option<usize>,
}

/// One manifest of an image.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlatformManifest {
    pub digest: Digest,
    pub size: u64,
    /// `os/arch[/variant]`, or empty where the index does not say.
    pub platform: String,
    /// An attestation manifest (BuildKit's provenance and SBOM), not a runnable image.
    pub attestation: bool,
    pub config: Option<Descriptor>,
    pub layers: Vec<Descriptor>,
}

/// A content blob.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Blob {
    /// Size as meta.db records it; `None` when meta.db has no record of the blob.
    pub size: Option<u64>,
    pub labels: BTreeMap<String, String>,
    pub file: BlobFile,
    pub kind: BlobKind,
}

/// What the content store holds of a blob.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum BlobFile {
    /// No file in the content store.
    #[default]
    Missing,
    /// Packed: whether its sha256 is its digest.
    Packed { verified: bool },
    /// Present on the host but only listed (a layer): its size.
    Listed { size: u64 },
}

/// What a blob is, as the manifests that refer to it say.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
pub enum BlobKind {
    Index,
    Manifest,
    Config,
    Layer,
    /// Docker's container config for a committed or classic-built image.
    ContainerConfig,
    /// Nothing the images refer to.
    #[default]
    Unreferenced,
}

/// A snapshot of the snapshotter Docker uses.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Snapshot {
    pub key: SnapshotKey,
    pub kind: SnapshotKind,
    /// The parent's key.
    pub parent: Option<SnapshotKey>,
    /// The snapshotter's ID, which names `snapshots/<id>`.
    pub backend_id: Option<u64>,
    /// Bytes and inodes the snapshotter recorded at commit (committed snapshots only).
    pub size: Option<u64>,
    pub inodes: Option<u64>,
    /// For an active snapshot, its upper dir's size measured at pack time.
    pub upper_size: Option<u64>,
    pub created: Option<i64>,
    pub labels: BTreeMap<String, String>,
}

/// containerd's snapshot kinds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SnapshotKind {
    View,
    Active,
    Committed,
    #[default]
    Unknown,
}

/// A `snapshots/<id>` directory and what it holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SnapshotDir {
    pub has_fs: bool,
    pub has_work: bool,
}

/// A lease: what it holds back from garbage collection, and until when.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Lease {
    pub id: LeaseId,
    pub created: Option<i64>,
    pub labels: BTreeMap<String, String>,
    pub content: Vec<Digest>,
    /// (snapshotter, key)
    pub snapshots: Vec<(String, SnapshotKey)>,
    /// `containerd.io/gc.expire`, as Unix seconds.
    pub expires: Option<i64>,
}

impl Containerd {
    /// The image records that name `image` as their target, in name order.
    pub fn records_of<'a>(
        &'a self,
        image: &'a ImageId,
    ) -> impl Iterator<Item = &'a ImageRecord> + 'a {
        self.records
            .values()
            .filter(move |r| r.target.digest == *image.digest())
    }

    /// The first image (by ID) made of blob `d`: its index, a manifest, a config or a layer.
    pub fn image_using(&self, d: &Digest) -> Option<&ImageId> {
        self.targets
            .iter()
            .find(|(id, t)| {
                id.digest() == d
                    || t.manifests.iter().any(|m| {
                        m.digest == *d
                            || m.config.as_ref().is_some_and(|c| c.digest == *d)
                            || m.layers.iter().any(|l| l.digest == *d)
                    })
            })
            .map(|(id, _)| id)
    }

    /// Leases that hold any of `digests` or of the snapshots `keys`.
    pub fn leases_holding<'a>(
        &'a self,
        digests: &'a [&Digest],
        keys: &'a [&str],
    ) -> impl Iterator<Item = &'a Lease> + 'a {
        self.leases.values().filter(move |l| {
            l.content.iter().any(|d| digests.contains(&d))
                || l.snapshots.iter().any(|(_, k)| keys.contains(&k.as_str()))
        })
    }
}

impl Target {
    /// Every digest the target is made of: the index (when it is one) and each manifest and
    /// config.
    pub fn digests<'a>(&'a self, id: &'a ImageId) -> Vec<&'a Digest> {
        std::iter::once(id.digest())
            .chain(
                self.manifests.iter().flat_map(|m| {
                    std::iter::once(&m.digest).chain(m.config.iter().map(|c| &c.digest))
                }),
            )
            .collect()
    }
}

impl BlobFile {
    /// How the viewer and report name it.
    pub fn describe(&self) -> &'static str {
        match self {
            BlobFile::Missing => "missing",
            BlobFile::Packed { verified: true } => "packed",
            BlobFile::Packed { verified: false } => "packed, digest mismatch",
            BlobFile::Listed { .. } => "listed",
        }
    }
}

impl SnapshotKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotKind::View => "view",
            SnapshotKind::Active => "active",
            SnapshotKind::Committed => "committed",
            SnapshotKind::Unknown => "unknown",
        }
    }
}
