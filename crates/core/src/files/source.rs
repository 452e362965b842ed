//! Where a layer's file list comes from: its tar-split in a store (layerdb for a graph driver,
//! `graph/<id>/tar-data.json.gz` before 1.10), or its tar in a `docker save` archive.

use super::{FileEntry, FileLimits, FilesError};
use crate::id::ChainId;
use crate::source::archive::scan::{Scan, Scanned};
use crate::source::files::Files;
use crate::store::Store;
use crate::tarsplit::Stored;

/// What a store was read from, as far as file lists go.
#[derive(Debug, Clone, Copy)]
pub enum LayerFiles<'a> {
    /// A snapshot's files, or a live root's as `pack` collects them.
    Store(&'a Files),
    /// An archive, with each layer's entries listed while it was scanned.
    Archive(&'a Scan),
}

impl<'a> LayerFiles<'a> {
    /// A store's tar-split for the layer `chain`, unread; `Unavailable` says why there is none
    /// (an archive has none: it has the tars).
    pub fn tar_split(&self, store: &Store, chain: &ChainId) -> Result<Stored<'a>, FilesError> {
        let LayerFiles::Store(files) = *self else {
            return Err(FilesError::Unavailable(
                "an archive holds tars, not tar-splits".into(),
            ));
        };
        if store.containerd.is_some() {
            return Err(FilesError::Unavailable(
                "the containerd image store keeps no tar-split; `docker save` the image and open \
                 the archive instead"
                    .into(),
            ));
        }
        let layer = store
            .layers
            .get(chain)
            .ok_or_else(|| FilesError::Unavailable("the store does not have this layer".into()))?;
        let candidates = [
            format!(
                "image/{}/layerdb/sha256/{}/tar-split.json.gz",
                store.driver,
                chain.hex()
            ),
            layer
                .cache_id
                .as_ref()
                .map(|c| format!("graph/{}/tar-data.json.gz", c.as_str()))
                .unwrap_or_default(),
        ];
        candidates
            .iter()
            .find_map(|p| Stored::find(files, p).map(|(_, stored)| stored))
            .ok_or_else(|| {
                FilesError::Unavailable(if layer.tar_split {
                    "its tar-split was left out of the snapshot (`pack --no-tar-split`)".into()
                } else {
                    "the store has no tar-split for it".into()
                })
            })
    }

    /// The entries of the layer `chain` of `store`, in tar order.
    pub fn list(
        &self,
        store: &Store,
        chain: &ChainId,
        limits: &FileLimits,
    ) -> Result<Vec<FileEntry>, FilesError> {
        if !store.layers.contains_key(chain) {
            return Err(FilesError::Unavailable(
                "the store does not have this layer".into(),
            ));
        }
        match self {
            LayerFiles::Store(_) => crate::tarsplit::entries(self.tar_split(store, chain)?, limits),
            LayerFiles::Archive(scan) => {
                let archived = store
                    .archive
                    .as_ref()
                    .and_then(|a| a.layers.get(chain))
                    .ok_or_else(|| {
                        FilesError::Unavailable("the archive lacks this layer".into())
                    })?;
                match scan.entries.get(&archived.path) {
                    Some(Scanned::File(f)) => match &f.layer {
                        Some(l) if l.files_cut => Err(FilesError::Unavailable(
                            "storesnap did not list its files: more than it keeps in one pass, or a path \
                             longer than any filesystem holds"
                                .into(),
                        )),
                        Some(l) if l.error.is_some() => Err(FilesError::Unavailable(format!(
                            "its tar is unreadable: {}",
                            l.error.as_deref().unwrap_or_default()
                        ))),
                        Some(l) => Ok(l.files.clone()),
                        None => Err(FilesError::Unavailable(
                            "its file is not a layer tar".into(),
                        )),
                    },
                    _ => Err(FilesError::Unavailable(
                        "the archive lacks this layer".into(),
                    )),
                }
            }
        }
    }
}

/// An image's layers' entries, base first; the first layer that has none says why.
pub fn image_layers(
    source: LayerFiles<'_>,
    store: &Store,
    image: &crate::store::Image,
    limits: &FileLimits,
) -> Result<Vec<Vec<FileEntry>>, (ChainId, FilesError)> {
    image
        .chain()
        .iter()
        .map(|chain| {
            source
                .list(store, chain, limits)
                .map_err(|e| (chain.clone(), e))
        })
        .collect()
}
