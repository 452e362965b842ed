//! Where a model's files came from. A loader reads files; what it needs to know beyond them
//! (what `pack` left out on request or redacted) comes from the provenance, and a source with
//! no manifest at all is read from its files alone.

use std::collections::{BTreeMap, BTreeSet};

use crate::id::ImageId;
use crate::manifest::{Manifest, SkipReason};

/// Where the files of a store came from.
#[derive(Debug, Clone, Default, PartialEq)]
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
