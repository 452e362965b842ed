//! Source formats. Each module reads one kind of store and produces the same model: a
//! [`Store`](crate::store::Store) and the findings about single files met while reading it.
//! Cross-object checks run on the model afterwards ([`crate::checks`]), whatever its source.

pub mod archive;
pub mod containerd;
mod containers;
pub mod files;
pub mod graphdriver;
mod image_config;
pub mod legacy;

use crate::finding::Finding;
use crate::provenance::Provenance;
use crate::snapshot::Snapshot;
use crate::store::Store;

/// Builds the model from a snapshot, in the format its files are in.
pub fn load(snapshot: &Snapshot) -> (Store, Vec<Finding>) {
    let provenance = Provenance::Snapshot(Box::new(snapshot.manifest.clone()));
    load_files(&snapshot.entries, &provenance)
}

/// Builds the model from files, in the format they are in: the containerd image store when
/// the manifest says so or the files hold only it, the pre-1.10 layout when there is a
/// `graph/` and no `image/`, else a graph-driver store.
pub fn load_files(files: &files::Files, provenance: &Provenance) -> (Store, Vec<Finding>) {
    if provenance.containerd().is_some() || containerd::detect(files) {
        containerd::load(files, provenance)
    } else if legacy::detect(files) {
        legacy::load(files, provenance)
    } else {
        graphdriver::load(files, provenance)
    }
}
