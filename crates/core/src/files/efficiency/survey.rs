//! Wasted space across a whole store: each image's figures and the biggest offenders, for the
//! viewer's images table and its wasted-space panel.

use std::collections::BTreeMap;

use crate::files::{FileEntry, FileLimits, LayerFiles};
use crate::id::{ChainId, ImageId};
use crate::store::Store;

/// One image's figures.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ImageWaste {
    /// dive's efficiency score and wasted bytes.
    pub dive_efficiency: f64,
    pub dive_wasted: u64,
    /// storesnap's.
    pub efficiency: f64,
    pub wasted: u64,
}

/// A path whose wasted bytes are among the store's largest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Offender {
    pub image: ImageId,
    /// With a leading `/`.
    pub path: String,
    pub wasted: u64,
    /// `removed`, `updated` or `duplicate`.
    pub kind: String,
    /// The layer that wrote the largest wasted version, and the one that hid it.
    pub written_in: ChainId,
    pub lost_in: ChainId,
}

/// The store's wasted space.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Survey {
    pub images: BTreeMap<ImageId, ImageWaste>,
    /// Largest first; a path wasted the same way in several images is listed once, for the
    /// image where it is largest.
    pub offenders: Vec<Offender>,
    /// Why images have no figures (no tar-split, an unreadable one), by image.
    pub missing: BTreeMap<ImageId, String>,
}

/// Offenders kept.
const MAX_OFFENDERS: usize = 100;

/// Every image's figures. Images are visited in the order of their chains, so the layers of a
/// shared base are read once per run of images on it, and only one chain's entries are held at
/// a time.
pub fn survey(store: &Store, files: LayerFiles<'_>, limits: &FileLimits) -> Survey {
    let mut out = Survey::default();
    let mut images: Vec<(&[ChainId], &ImageId)> = store
        .images
        .values()
        .filter(|i| !i.chain().is_empty())
        .map(|i| (i.chain(), &i.id))
        .collect();
    crate::order::sort(&mut images);
    // The entries of the chain prefix last read: (chain, its entries) from the base up.
    let mut held: Vec<(ChainId, Vec<FileEntry>)> = Vec::new();
    let mut offenders: BTreeMap<(String, String), Offender> = BTreeMap::new();
    for (chain, id) in images {
        let common = held
            .iter()
            .zip(chain)
            .take_while(|((held, _), want)| held == *want)
            .count();
        held.truncate(common);
        let mut failed = None;
        for c in &chain[common..] {
            match files.list(store, c, limits) {
                Ok(entries) => held.push((c.clone(), entries)),
                Err(e) => {
                    failed = Some(format!("layer {}: {e}", c.short()));
                    break;
                }
            }
        }
        if let Some(why) = failed {
            out.missing.insert(id.clone(), why);
            continue;
        }
        let layers: Vec<&[FileEntry]> = held.iter().map(|(_, e)| e.as_slice()).collect();
        let d = super::dive(&layers);
        let o = super::own(&layers);
        out.images.insert(
            id.clone(),
            ImageWaste {
                dive_efficiency: d.efficiency,
                dive_wasted: d.wasted_bytes,
                efficiency: o.efficiency,
                wasted: o.wasted_bytes,
            },
        );
        for w in &o.wastes {
            let (Some(&written), Some(&lost)) = (w.written_in.first(), w.lost_in.first()) else {
                continue;
            };
            let key = (w.path.clone(), chain[written].to_string());
            let offender = Offender {
                image: id.clone(),
                path: w.path.clone(),
                wasted: w.wasted,
                kind: w.kind.as_str().into(),
                written_in: chain[written].clone(),
                lost_in: chain[lost].clone(),
            };
            // Named after the image that wastes it most, a tagged one among equals.
            let tagged = |id: &ImageId| store.images.get(id).is_some_and(|i| !i.tags.is_empty());
            let better = match offenders.get(&key) {
                None => true,
                Some(o) => {
                    w.wasted > o.wasted || (w.wasted == o.wasted && tagged(id) && !tagged(&o.image))
                }
            };
            if better {
                offenders.insert(key, offender);
            }
        }
    }
    let mut list: Vec<Offender> = offenders.into_values().collect();
    crate::order::sort_by(&mut list, |a, b| {
        b.wasted.cmp(&a.wasted).then_with(|| a.path.cmp(&b.path))
    });
    list.truncate(MAX_OFFENDERS);
    out.offenders = list;
    out
}
