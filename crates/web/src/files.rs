//! What the page holds of each layer's file list, and the store's wasted-space survey. Both
//! come after the snapshot opens (the worker surveys while the page draws), so they live in
//! the state beside the loaded snapshot rather than in it.

use std::collections::BTreeMap;

use storesnap_core::files::efficiency::{survey, Survey};
use storesnap_core::files::{FileEntry, FileLimits, FilesError, LayerFiles};
use storesnap_core::source::archive::Scan;
use storesnap_core::source::files::Files;
use storesnap_core::{ChainId, Entry, Snapshot, Store};

/// Where layers' file lists come from.
#[derive(Debug, Default)]
pub enum Listing {
    /// A snapshot's tar-splits, at their paths (nothing else of the snapshot).
    TarSplits(Files),
    /// An archive's scan, which listed each layer tar's entries.
    Archive(Box<Scan>),
    #[default]
    None,
}

impl Listing {
    /// The tar-splits of a snapshot, and nothing else of it.
    pub fn of_snapshot(snapshot: &Snapshot) -> Listing {
        Listing::TarSplits(
            snapshot
                .entries
                .iter()
                .filter(|(p, _)| storesnap_core::tarsplit::Stored::is_path(p))
                .map(|(p, e)| (p.clone(), e.clone()))
                .collect(),
        )
    }

    /// The tar-splits of a snapshot, taken out of it.
    pub fn take_tar_splits(snapshot: &mut Snapshot) -> Files {
        let paths: Vec<String> = snapshot
            .entries
            .keys()
            .filter(|p| storesnap_core::tarsplit::Stored::is_path(p))
            .cloned()
            .collect();
        paths
            .into_iter()
            .filter_map(|p| snapshot.entries.remove_entry(&p))
            .collect()
    }

    /// The layer's entries, or why there are none.
    pub fn layer(&self, store: &Store, chain: &ChainId) -> Result<Vec<FileEntry>, String> {
        let source = match self {
            Listing::TarSplits(files) => LayerFiles::Store(files),
            Listing::Archive(scan) => LayerFiles::Archive(scan),
            Listing::None => return Err("the file lists are still being read".into()),
        };
        source
            .list(store, chain, &FileLimits::default())
            .map_err(|e: FilesError| e.to_string())
    }

    pub fn survey(&self, store: &Store) -> Survey {
        let source = match self {
            Listing::TarSplits(files) => LayerFiles::Store(files),
            Listing::Archive(scan) => LayerFiles::Archive(scan),
            Listing::None => return Survey::default(),
        };
        survey(store, source, &FileLimits::default())
    }

    /// Tar-splits as one buffer to post from the worker: for each, its path's length and
    /// bytes, then its data's length and bytes (lengths as 4-byte little-endian numbers).
    pub fn encode(files: Files) -> Vec<u8> {
        let mut out = Vec::new();
        // Consumed as it is written: each tar-split is freed once copied.
        for (path, entry) in files {
            let Entry::File(data) = entry else { continue };
            for part in [path.as_bytes(), data.as_slice()] {
                out.extend_from_slice(&(part.len() as u32).to_le_bytes());
                out.extend_from_slice(part);
            }
        }
        out
    }

    /// The inverse of [`Listing::encode`]; a buffer cut short ends the list.
    pub fn decode(mut bytes: &[u8]) -> Files {
        let mut files = Files::new();
        let take = |bytes: &mut &[u8]| -> Option<Vec<u8>> {
            let len = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
            let part = bytes.get(4..4 + len)?.to_vec();
            *bytes = &bytes[4 + len..];
            Some(part)
        };
        while let (Some(path), Some(data)) = (take(&mut bytes), take(&mut bytes)) {
            files.insert(
                String::from_utf8_lossy(&path).into_owned(),
                Entry::File(data),
            );
        }
        files
    }
}

/// A layer's entries once read, or why there are none.
pub type LayerEntries = Result<std::rc::Rc<[FileEntry]>, String>;

/// Layer file lists and the survey of a loaded snapshot, `ticket`.
#[derive(Debug)]
pub struct FilesData {
    pub ticket: u64,
    pub listing: Listing,
    pub survey: Survey,
    /// The layers' file lists read so far, by chain: selecting around re-reads nothing.
    pub cache: std::cell::RefCell<BTreeMap<ChainId, LayerEntries>>,
}

impl PartialEq for FilesData {
    fn eq(&self, other: &FilesData) -> bool {
        self.ticket == other.ticket
    }
}

impl FilesData {
    pub fn new(ticket: u64, listing: Listing, survey: Survey) -> FilesData {
        FilesData {
            ticket,
            listing,
            survey,
            cache: Default::default(),
        }
    }

    /// The entries of a layer, read once.
    pub fn layer(
        &self,
        store: &Store,
        chain: &ChainId,
    ) -> Result<std::rc::Rc<[FileEntry]>, String> {
        self.cache
            .borrow_mut()
            .entry(chain.clone())
            .or_insert_with(|| self.listing.layer(store, chain).map(std::rc::Rc::from))
            .clone()
    }

    /// The entries of each layer of a chain, base first.
    pub fn chain(
        &self,
        store: &Store,
        chain: &[ChainId],
    ) -> Result<Vec<std::rc::Rc<[FileEntry]>>, String> {
        chain
            .iter()
            .map(|c| {
                self.layer(store, c)
                    .map_err(|e| format!("layer {}: {e}", c.short()))
            })
            .collect()
    }
}
