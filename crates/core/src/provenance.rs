//! Where a model's files came from. A loader reads files; what it needs to know beyond them
//! (what `pack` left out on request or redacted) comes from the provenance, and a source with
//! no manifest at all is read from its files alone.

use std::collections::{BTreeMap, BTreeSet};

use crate::id::ImageId;
use crate::manifest::{Manifest, SkipReason};

/// Where the files of a store came from.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Provenance {
    /// A snapshot `storesnap pack` wrote, with its manifest: who packed it, when, from which
    /// data root, and what was skipped, omitted or redacted.
    Snapshot(Box<Manifest>),
    /// Files with no manifest (a data root read some other way, a hand-made tree): nothing was
    /// left out or redacted, and the graph driver is worked out from the files.
    #[default]
    Files,
}

impl Provenance {
    fn manifest(&self) -> Option<&Manifest> {
        match self {
            Provenance::Snapshot(m) => Some(m),
            Provenance::Files => None,
        }
    }

    /// The graph driver the source names, if it names one.
    pub fn storage_driver(&self) -> Option<&str> {
        self.manifest()
            .map(|m| m.storage_driver.as_str())
            .filter(|d| !d.is_empty())
    }

    /// The version of the engine that owned the store, when `pack` recorded one.
    pub fn engine_version(&self) -> Option<&str> {
        self.manifest()
            .and_then(|m| m.engine.as_ref())
            .map(|e| e.version.as_str())
            .filter(|v| !v.is_empty())
    }

    /// Whether the host had `path`, packed or not (a skipped path is listed).
    pub fn had_path(&self, path: &str) -> bool {
        self.manifest()
            .is_some_and(|m| m.skipped.iter().any(|s| s.path == path))
    }

    /// When the snapshot was taken, as Unix seconds.
    pub fn created_unix(&self) -> Option<i64> {
        self.manifest()
            .and_then(|m| crate::time::parse_rfc3339_utc(&m.created))
    }

    /// `uname -m` of the packing host, when known.
    pub fn host_arch(&self) -> Option<&str> {
        self.manifest()
            .map(|m| m.host.arch.as_str())
            .filter(|a| !a.is_empty())
    }

    /// For a containerd image store, where it came from.
    pub fn containerd(&self) -> Option<&crate::manifest::ContainerdSource> {
        self.manifest().and_then(|m| m.containerd.as_ref())
    }

    /// Files present on the host but only listed, with their sizes (layer blobs, data too
    /// large to copy).
    pub fn listed_sizes(&self) -> BTreeMap<&str, u64> {
        self.manifest()
            .into_iter()
            .flat_map(|m| &m.skipped)
            .filter_map(|s| Some((s.path.as_str(), s.size?)))
            .collect()
    }

    /// Measured sizes of directories whose contents are not packed (`pack`'s `dir_sizes`).
    pub fn dir_sizes(&self) -> BTreeMap<String, u64> {
        self.manifest()
            .map(|m| m.dir_sizes.clone())
            .unwrap_or_default()
    }

    /// Paths present on the host but left out on request (`pack --no-tar-split`).
    pub fn omitted(&self) -> BTreeSet<&str> {
        self.manifest()
            .into_iter()
            .flat_map(|m| &m.skipped)
            .filter(|s| s.reason == SkipReason::Omitted)
            .map(|s| s.path.as_str())
            .collect()
    }

    /// Image configs redacted at pack time, and whether each matched its ID before.
    pub fn redacted_image_configs(&self) -> BTreeMap<ImageId, bool> {
        self.manifest()
            .into_iter()
            .flat_map(|m| &m.image_configs)
            .map(|c| (c.image.clone(), c.matched_before_redaction))
            .collect()
    }

    /// Whether image configs were redacted, so their bytes no longer hash to their IDs.
    pub fn image_configs_redacted(&self) -> bool {
        self.manifest()
            .is_some_and(Manifest::image_configs_redacted)
    }
}
