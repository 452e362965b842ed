//! The model of an image store: what every source format ([`crate::source`]) produces and
//! what the checks ([`crate::checks`]), the docker views and the viewer read.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::Value;

use crate::id::{CacheId, ChainId, ContainerId, DiffId, Digest, ImageId, RefName};
use crate::provenance::Provenance;
use crate::source::graphdriver::Driver;

mod archive;
mod containerd;

pub use archive::{Archive, ArchiveLayer, ArchiveLayout, LayerState};
pub use containerd::{
    Blob, BlobFile, BlobKind, Containerd, Descriptor, ImageRecord, Lease, PlatformManifest,
    Snapshot, SnapshotDir, SnapshotKind, Target,
};

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
