//! The pre-1.10 layout (Docker 1.9 and before, seeds 001, 003 and 004): one `graph/<v1 id>/`
//! per layer with its v1 `json`, `layersize`, `checksum` and `tar-data.json.gz`; tags in
//! `repositories-<driver>`; the driver's own records (aufs's parent lists, devicemapper's
//! device files). Written from moby's v1 migration code, the authoritative reader of this
//! layout (docs/research/pre-1.10-layout.md). No engine that writes it runs today, so its
//! fixtures are made by hand.
//!
//! A v1 image is a layer: layers are keyed by their v1 ID, and the images are the tagged tips
//! and the heads (what `docker images` listed). There are no diffIDs: the chain is the v1
//! parent chain.

mod load;

pub use load::load;

use crate::snapshot::Entry;
use crate::source::files::{children, Files};

/// The v1 graph.
pub const GRAPH: &str = "graph/";

/// Whether the files are a pre-1.10 root: a `graph/` of layers and no `image/` (a 1.10+
/// daemon migrates `graph/` into `image/<driver>/` and leaves both).
pub fn detect(files: &Files) -> bool {
    !children(files, GRAPH).is_empty() && !matches!(files.get("image"), Some(Entry::Dir))
}
