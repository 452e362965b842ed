//! What the model keeps of a `docker save` archive.

use std::collections::BTreeMap;

use crate::id::ChainId;

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
