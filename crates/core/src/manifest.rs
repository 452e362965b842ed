//! `storesnap.json`, the manifest that is the first entry of every snapshot.
//!
//! The manifest says where the snapshot came from and, as importantly, what it left out and
//! what it changed, so a reader never mistakes a redacted or skipped file for a damaged one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::id::ImageId;

/// The snapshot format this library writes. Readers accept this version and older ones.
/// 1: gzip, tar-splits as the store keeps them. 2: zstd (or gzip), tar-splits kept inflated
/// (see [`crate::snapshot`]).
pub const FORMAT_VERSION: u32 = 2;

/// The manifest's path inside the snapshot tar.
pub const MANIFEST_PATH: &str = "storesnap.json";

/// The contents of `storesnap.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always `"storesnap"`; tells a snapshot from an arbitrary tar that has a JSON file first.
    pub kind: String,
    pub format_version: u32,
    /// `storesnap <version>` of the tool that packed it.
    pub tool: String,
    /// When it was packed, RFC 3339 UTC (or the `SOURCE_DATE_EPOCH` / `--created` it was given).
    pub created: String,
    pub host: Host,
    /// The daemon that owned the data root, when it answered while `pack` ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<Engine>,
    /// The graph driver, detected from `image/<driver>/`; for the containerd image store, the
    /// snapshotter (`overlayfs`), as `docker info` names it.
    pub storage_driver: String,
    /// Set when the images live in containerd: where its root was on the host and which
    /// namespace and snapshotter Docker uses. Its files are packed under `containerd/daemon/`,
    /// where dockerd's own managed containerd keeps them, whatever the host path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containerd: Option<ContainerdSource>,
    /// The data root on the packing host, e.g. `/var/lib/docker`.
    pub data_root: String,
    pub counts: Counts,
    /// Files and directories deliberately left out, with the reason.
    pub skipped: Vec<Skipped>,
    /// Leftovers of interrupted writes (`layerdb/tmp/*`, `*-removing`), packed for the checks.
    pub leftovers: Vec<String>,
    /// Files whose values were replaced by redaction markers.
    pub redacted: Vec<Redacted>,
    /// With `--redact`, whether each image's config hashed to its ID before redaction.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_configs: Vec<ImageConfigCheck>,
    /// Apparent sizes (moby's `directory.Size`: non-directory entries, hard links once) of
    /// directories whose contents are not packed: container writable layers (`<driver>/<id>/diff`)
    /// and volume data (`volumes/<name>/_data`). `docker system df` reports these.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dir_sizes: BTreeMap<String, u64>,
    /// Things that went wrong but did not stop the pack (files that vanished or changed).
    pub warnings: Vec<String>,
}

impl Manifest {
    /// Whether image configs were redacted, so their bytes no longer hash to the image ID.
    pub fn image_configs_redacted(&self) -> bool {
        !self.image_configs.is_empty()
    }

    /// How many values redaction replaced, over all files.
    pub fn redacted_values(&self) -> usize {
        self.redacted.iter().map(|r| r.fields.len()).sum()
    }

    /// With `--redact`, how many image configs hashed to their ID before redaction.
    pub fn configs_matched_before_redaction(&self) -> usize {
        self.image_configs
            .iter()
            .filter(|c| c.matched_before_redaction)
            .count()
    }
}

/// Where a containerd image store came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerdSource {
    /// The containerd root on the host, e.g. `/var/lib/containerd` or
    /// `/var/lib/docker/containerd/daemon`.
    pub root: String,
    pub namespace: String,
    pub snapshotter: String,
}

/// The Docker engine, as its `/version` endpoint described itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Engine {
    pub version: String,
    pub api_version: String,
    #[serde(default)]
    pub kernel_version: String,
}

/// The packing host.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Host {
    pub hostname: String,
    /// `uname -m` style machine name, e.g. `x86_64`.
    pub arch: String,
    pub os: String,
}

/// How much of each kind the snapshot holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub images: u64,
    pub layers: u64,
    pub mounts: u64,
    pub containers: u64,
    pub driver_dirs: u64,
    pub files: u64,
    pub symlinks: u64,
    pub dirs: u64,
    /// Bytes of file content read from the data root.
    pub bytes_read: u64,
}

/// A path left out of the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// Relative to the data root.
    pub path: String,
    pub reason: SkipReason,
    /// Size in bytes, where it was a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// Why a path was left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SkipReason {
    /// Layer or container contents, volume data, logs: never packed.
    Contents,
    /// Keys, certificates and swarm state: never packed.
    Sensitive,
    /// Larger than the per-file limit; listed instead of copied.
    TooLarge,
    /// Not part of the image store (network, plugins, buildkit…).
    OutOfScope,
    /// A symlink whose target is outside the data root; recorded, never followed.
    SymlinkOutsideRoot,
    /// Neither file, directory nor symlink (a socket, a device).
    SpecialFile,
    /// It vanished between being listed and being read.
    Vanished,
    /// A container config that is not valid JSON cannot be redacted, so it is left out.
    Unredactable,
    /// Left out because the user asked (`pack --no-tar-split`).
    Omitted,
}

impl SkipReason {
    /// The reason as the manifest spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Contents => "contents",
            SkipReason::Sensitive => "sensitive",
            SkipReason::TooLarge => "too-large",
            SkipReason::OutOfScope => "out-of-scope",
            SkipReason::SymlinkOutsideRoot => "symlink-outside-root",
            SkipReason::SpecialFile => "special-file",
            SkipReason::Vanished => "vanished",
            SkipReason::Unredactable => "unredactable",
            SkipReason::Omitted => "omitted",
        }
    }
}

/// A file whose values were redacted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redacted {
    /// Relative to the data root.
    pub path: String,
    /// JSON paths of the redacted values, e.g. `Config.Env[0]`, `Config.Labels.team`.
    pub fields: Vec<String>,
}

/// Whether an image's config bytes hashed to its ID before `--redact` changed them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageConfigCheck {
    pub image: ImageId,
    pub matched_before_redaction: bool,
}
