//! The model of an image store: what every source format ([`crate::source`]) produces and
//! what the checks ([`crate::checks`]), the docker views and the viewer read.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::Value;

use crate::id::{
    CacheId, ChainId, ContainerId, DiffId, Digest, ImageId, LeaseId, RefName, SnapshotKey,
};
use crate::provenance::Provenance;
use crate::source::graphdriver::Driver;

/// Everything storesnap knows about one image store.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Store {
    /// The graph driver, e.g. `overlay2`.
    pub driver: String,
    pub images: BTreeMap<ImageId, Image>,
    pub layers: BTreeMap<ChainId, Layer>,
    /// Container RW layers, keyed by container ID.
    pub mounts: BTreeMap<ContainerId, Mount>,
    pub containers: BTreeMap<ContainerId, Container>,
    /// repositories.json, in its (sorted) order.
    pub references: Vec<Reference>,
    pub distribution: Distribution,
    /// Graph-driver directories by name (every driver), with overlay2 details where known.
    pub driver_dirs: BTreeMap<String, DriverDir>,
    /// overlay2 `l/<link>` → the target as written.
    pub links: BTreeMap<String, String>,
    /// Whether the source lists the driver's records, so that a missing one is damage.
    pub driver_dirs_listed: bool,
    /// Whether image configs were redacted at pack time (their bytes no longer hash to the ID).
    pub image_configs_redacted: bool,
    /// Where the files came from.
    pub provenance: Provenance,
    /// What only the containerd image store has; `None` for a graph-driver store.
    pub containerd: Option<Box<Containerd>>,
    /// What only a `docker save` archive has; `None` for a store.
    pub archive: Option<Box<Archive>>,
    /// The pre-1.10 layout: layers and images are keyed by v1 IDs, which are random.
    pub v1: bool,
}

impl Store {
    /// The graph driver, when it is one whose layout storesnap knows.
    pub fn graph_driver(&self) -> Option<Driver> {
        Driver::from_name(&self.driver)
    }

    /// How an image's ID was checked, in words (the viewer's "verified" row).
    pub fn id_check(&self, image: &Image) -> &'static str {
        let by_target = self.containerd.is_some()
            || self.archive.as_ref().is_some_and(|a| {
                matches!(a.layout, ArchiveLayout::ContainerdOci | ArchiveLayout::Oci)
            });
        match (self.v1, by_target, image.verified) {
            (true, _, _) => "a v1 ID (random before Docker 1.10: nothing to check it against)",
            (false, false, true) => "sha256(config) = ID",
            (false, false, false) => "sha256(config) ≠ ID",
            (false, true, true) => "sha256(manifest) = ID",
            (false, true, false) => "sha256(manifest) ≠ ID, or it is missing",
        }
    }

    /// Where the driver keeps the record (directory or file) named `id`, relative to the root.
    pub fn driver_record_path(&self, id: &str) -> String {
        match self.graph_driver() {
            Some(d) => d.record_path(id),
            None => format!("{}/{id}", self.driver),
        }
    }
}

/// An image from imagedb.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Image {
    pub id: ImageId,
    /// sha256(config bytes) == ID; for a redacted config, whether it did before redaction.
    pub verified: bool,
    /// The parsed config; `None` when the bytes are not a usable config.
    pub config: Option<ImageConfig>,
    /// `imagedb/metadata/sha256/<id>/parent`.
    pub parent: Option<ImageId>,
    /// `lastUpdated`, as written (RFC 3339 with nanoseconds, local offset).
    pub last_updated: Option<String>,
    pub built_locally: bool,
    /// `repo:tag` references to it, from repositories.json.
    pub tags: Vec<RefName>,
    /// `repo@sha256:…` references to it.
    pub digests: Vec<RefName>,
    /// [`Image::chain`], computed on first use: checks, views and every render of the viewer ask
    /// for it, and it costs one sha256 per layer. `config` is not changed after loading.
    #[serde(skip)]
    pub(crate) chain: OnceLock<Vec<ChainId>>,
}

impl Image {
    /// The chainID of every prefix of the image's diff_ids, base first.
    pub fn chain(&self) -> &[ChainId] {
        self.chain.get_or_init(|| {
            let Some(config) = &self.config else {
                return Vec::new();
            };
            let mut out: Vec<ChainId> = Vec::with_capacity(config.diff_ids.len());
            for diff in &config.diff_ids {
                let next = match out.last() {
                    None => ChainId::from(diff.digest().clone()),
                    Some(parent) => parent.child(diff),
                };
                out.push(next);
            }
            out
        })
    }

    /// The tag Docker shows first (the least fully qualified name), if it has one.
    pub fn first_tag(&self) -> Option<&RefName> {
        self.tags.iter().min_by_key(|t| t.qualified())
    }

    /// The one name storesnap shows for the image everywhere (graph, details, timeline,
    /// tables, report): its first tag, else its short ID as `docker ps` prints it.
    pub fn display_name(&self) -> String {
        match self.first_tag() {
            Some(t) => t.to_string(),
            None => self.id.short().to_owned(),
        }
    }

    /// The top layer's chainID; `None` for an image with no layers.
    pub fn top_layer(&self) -> Option<ChainId> {
        self.chain().last().cloned()
    }
}

/// The parts of an image config storesnap uses.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ImageConfig {
    pub architecture: String,
    pub os: String,
    pub variant: String,
    /// As written, RFC 3339.
    pub created: Option<String>,
    /// `created` as Unix seconds.
    pub created_unix: Option<i64>,
    pub author: String,
    pub comment: String,
    pub docker_version: String,
    pub env: Vec<String>,
    pub cmd: Vec<String>,
    pub entrypoint: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub history: Vec<HistoryEntry>,
    pub diff_ids: Vec<DiffId>,
}

/// One `history[]` entry.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HistoryEntry {
    pub created: Option<String>,
    pub created_unix: Option<i64>,
    pub created_by: String,
    pub author: String,
    pub comment: String,
    pub empty_layer: bool,
    /// For a non-empty entry, the index of its layer in `diff_ids` (and so in the chain).
    pub layer: Option<usize>,
}

/// A layer from `layerdb/sha256/<chainID>/`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Layer {
    pub chain_id: ChainId,
    pub diff_id: Option<DiffId>,
    pub parent: Option<ChainId>,
    pub cache_id: Option<CacheId>,
    /// The layer's own size (`size`), not the chain's.
    pub size: Option<u64>,
    /// Whether the layer has its tar-split on the host (in the snapshot, or left out on request).
    pub tar_split: bool,
    pub descriptor: Option<Value>,
}

/// A container's RW layer from `layerdb/mounts/<containerID>/`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Mount {
    pub container: ContainerId,
    pub mount_id: Option<CacheId>,
    pub init_id: Option<CacheId>,
    /// The image top layer it sits on; `None` for a `FROM scratch` container.
    pub parent: Option<ChainId>,
}

/// A container from `containers/<id>/config.v2.json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Container {
    pub id: ContainerId,
    /// Without the leading `/`.
    pub name: String,
    pub image: Option<ImageId>,
    /// The image as the user named it (`Config.Image`).
    pub image_name: String,
    pub created: Option<String>,
    pub created_unix: Option<i64>,
    pub running: bool,
    pub paused: bool,
    pub restarting: bool,
    pub dead: bool,
    pub exit_code: i64,
    pub started: bool,
    pub finished_at: Option<String>,
    pub driver: String,
    /// Program and arguments (possibly redaction markers).
    pub command: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// Named volumes it mounts.
    pub volumes: Vec<String>,
    /// Networks it is attached to (`NetworkSettings.Networks`).
    pub networks: Vec<String>,
    /// `created` as (Unix seconds, nanoseconds): the daemon orders containers by it.
    pub created_nanos: Option<(i64, u32)>,
    /// The platform manifest it runs (containerd image store, Docker 24 and later).
    pub image_manifest: Option<Digest>,
    /// `ImagePlatform`, which Docker 28 and later write: `os/arch`.
    pub image_platform: Option<String>,
}

impl Container {
    /// `created`, `running`, `exited`… as `docker ps --format '{{.State}}'` prints it.
    pub fn state(&self) -> &'static str {
        match () {
            _ if self.dead => "dead",
            _ if self.paused => "paused",
            _ if self.restarting => "restarting",
            _ if self.running => "running",
            _ if !self.started => "created",
            _ => "exited",
        }
    }
}

/// A reference from repositories.json.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Reference {
    /// The outer key, e.g. `localhost:5000/app`.
    pub repository: String,
    /// The inner key, `repo:tag` or `repo@sha256:…`.
    pub name: RefName,
    pub image: ImageId,
}

/// `image/<driver>/distribution/`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Distribution {
    /// Registry blob digest → diffID.
    pub diff_id_by_digest: BTreeMap<Digest, DiffId>,
    /// diffID → where it was pulled from or pushed to.
    pub sources_by_diff_id: BTreeMap<DiffId, Vec<BlobSource>>,
}

/// One `V2Metadata` entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BlobSource {
    pub digest: String,
    pub repository: String,
    /// Pushed (HMAC set) rather than pulled.
    pub pushed: bool,
}

/// A graph-driver directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DriverDir {
    pub name: String,
    /// overlay2: the `link` file (26-char short name); `Some("")` when the file is empty.
    pub link: Option<String>,
    /// overlay2: `lower`, split on `:` (`l/<link>` each), immediate parent first.
    pub lower: Option<Vec<String>>,
    pub committed: bool,
    pub has_diff: bool,
    pub has_work: bool,
    pub has_merged: bool,
}

/// A `docker save` archive: how it is laid out, and where each layer's file is.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Archive {
    pub layout: ArchiveLayout,
    /// The archive's own compression (a `docker save | gzip`).
    pub compression: Option<crate::source::archive::Compression>,
    /// Bytes of the archive file read.
    pub read: u64,
    /// Tar entries in it.
    pub entries: usize,
    /// Each layer's file, by the chainID it has in the images.
    pub layers: BTreeMap<ChainId, ArchiveLayer>,
}

/// How an archive is laid out (docs/research/docker-save-archives.md, §2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ArchiveLayout {
    /// Docker 1.10 to 24 with a graph driver: `<v1 id>/layer.tar`, `<config>.json`,
    /// `manifest.json`.
    #[default]
    DockerV1,
    /// Docker 25 and later with a graph driver: an OCI layout of uncompressed layers, with
    /// `manifest.json` and `repositories` kept.
    MobyOci,
    /// The containerd image store: an OCI layout of blobs as stored, with `manifest.json`.
    ContainerdOci,
    /// An OCI image layout alone (`ctr export --skip-manifest-json`, buildx, skopeo).
    Oci,
    /// Docker before 1.10: `<v1 id>/{VERSION,json,layer.tar}` and `repositories`, no
    /// `manifest.json` (read as the pre-1.10 v1 graph).
    Legacy,
    /// Not known: the archive ends before the files that say.
    Unknown,
}

impl ArchiveLayout {
    /// What wrote it, in words.
    pub fn describe(self) -> &'static str {
        match self {
            ArchiveLayout::DockerV1 => "docker save (Docker 1.10 to 24, graph driver)",
            ArchiveLayout::MobyOci => "docker save (Docker 25+, graph driver): OCI layout",
            ArchiveLayout::ContainerdOci => {
                "docker save (containerd image store): OCI layout, blobs as stored"
            }
            ArchiveLayout::Oci => "OCI image layout (no manifest.json)",
            ArchiveLayout::Legacy => {
                "docker save (before Docker 1.10): v1 layers, no manifest.json"
            }
            ArchiveLayout::Unknown => "unknown: the archive ends before its manifest",
        }
    }
}

/// Where a layer is in an archive, and whether its bytes are what the image says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ArchiveLayer {
    /// The file holding it, after links.
    pub path: String,
    pub compression: Option<crate::source::archive::Compression>,
    /// Bytes of the file.
    pub size: Option<u64>,
    pub state: LayerState,
}

/// What reading a layer's file showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LayerState {
    /// Its uncompressed bytes hash to its diffID.
    Verified,
    /// Its uncompressed bytes hash to something else.
    Mismatch,
    /// It does not inflate to a complete tar.
    Unreadable,
    /// The archive lacks it.
    Missing,
}

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
