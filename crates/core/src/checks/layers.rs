use std::collections::BTreeMap;

use crate::finding::{Code, Finding, Subject};
use crate::id::ChainId;
use crate::store::Store;

/// A layer whose parent is not in the layer store.
pub fn parents(store: &Store, out: &mut Vec<Finding>) {
    for layer in store.layers.values() {
        let Some(parent) = &layer.parent else {
            continue;
        };
        if !store.layers.contains_key(parent) {
            out.push(Finding::new(
                Code::MissingParentLayer,
                vec![
                    Subject::Chain(layer.chain_id.clone()),
                    Subject::Chain(parent.clone()),
                ],
                format!(
                    "layer {}: its parent {} is not in layerdb",
                    layer.chain_id.short(),
                    parent.short()
                ),
            ));
        }
    }
}

/// Layers whose `parent` files name each other in a loop (or a layer that names itself).
/// One finding per loop, naming its layers; layers that merely hang below a loop are not in it.
pub fn cycles(store: &Store, out: &mut Vec<Finding>) {
    for cycle in store.layer_cycles() {
        let first = cycle[0].short().to_owned();
        let len = cycle.len();
        out.push(Finding::new(
            Code::LayerParentCycle,
            cycle.into_iter().map(Subject::Chain).collect(),
            if len == 1 {
                format!("layer {first} names itself as its parent")
            } else {
                format!(
                    "layer {first} and {} more name each other as parents in a loop",
                    len - 1
                )
            },
        ));
    }
}

/// A layer whose diff and parent do not hash to its chainID.
pub fn chain_ids(store: &Store, out: &mut Vec<Finding>) {
    for layer in store.layers.values() {
        let Some(diff) = &layer.diff_id else { continue };
        let expected = match &layer.parent {
            None => ChainId::from(diff.digest().clone()),
            Some(parent) => parent.child(diff),
        };
        if expected != layer.chain_id {
            out.push(Finding::new(
                Code::ChainIdMismatch,
                vec![Subject::Chain(layer.chain_id.clone())],
                format!(
                    "layer {}: its diff {} on parent {} hashes to {}",
                    layer.chain_id.short(),
                    diff.short(),
                    layer.parent.as_ref().map_or("(none)", |p| p.short()),
                    expected.short()
                ),
            ));
        }
    }
}

/// A layer whose graph-driver record is gone.
pub fn cache_dirs(store: &Store, out: &mut Vec<Finding>) {
    if !super::knows_driver_dirs(store) {
        return;
    }
    for layer in store.layers.values() {
        let Some(cache) = &layer.cache_id else {
            continue;
        };
        if !store.driver_dirs.contains_key(cache.as_str()) {
            out.push(Finding::new(
                Code::MissingCacheDir,
                vec![
                    Subject::Chain(layer.chain_id.clone()),
                    Subject::CacheDir(cache.to_string()),
                ],
                format!(
                    "layer {}: its cache dir {} does not exist",
                    layer.chain_id.short(),
                    store.driver_record_path(cache.as_str())
                ),
            ));
        }
    }
}

/// A layer without its tar-split (graph-driver stores: containerd keeps the compressed blob,
/// an archive the layer itself).
pub fn tar_split(store: &Store, out: &mut Vec<Finding>) {
    if store.containerd.is_some() || store.archive.is_some() {
        return;
    }
    for layer in store.layers.values().filter(|l| !l.tar_split) {
        out.push(Finding::new(
            Code::NoTarSplit,
            vec![Subject::Chain(layer.chain_id.clone())],
            format!("layer {} has no tar-split.json.gz", layer.chain_id.short()),
        ));
    }
}

impl Store {
    /// Every loop in the layers' parent links, each from its smallest chainID, in order.
    pub fn layer_cycles(&self) -> Vec<Vec<ChainId>> {
        parent_cycles(self.layers.keys(), |c| {
            self.layers.get(c).and_then(|l| l.parent.as_ref())
        })
    }
}

/// Every loop in a parent relation over `nodes`, each from its smallest member, in order.
/// Linear: each node is walked once.
pub fn parent_cycles<'a>(
    nodes: impl Iterator<Item = &'a ChainId>,
    parent: impl Fn(&ChainId) -> Option<&'a ChainId>,
) -> Vec<Vec<ChainId>> {
    // Absent: not seen; false: on the walk under way; true: done.
    let mut done: BTreeMap<&ChainId, bool> = BTreeMap::new();
    let mut cycles = Vec::new();
    for start in nodes {
        let mut path: Vec<&ChainId> = Vec::new();
        let mut next = Some(start);
        while let Some(c) = next {
            match done.get(c) {
                Some(true) => break,
                Some(false) => {
                    let at = path.iter().position(|p| *p == c).unwrap_or(0);
                    let mut cycle: Vec<ChainId> = path[at..].iter().map(|c| (*c).clone()).collect();
                    let min = (0..cycle.len()).min_by_key(|&i| &cycle[i]).unwrap_or(0);
                    cycle.rotate_left(min);
                    cycles.push(cycle);
                    break;
                }
                None => {}
            }
            done.insert(c, false);
            path.push(c);
            next = parent(c);
        }
        for c in path {
            done.insert(c, true);
        }
    }
    crate::order::sort(&mut cycles);
    cycles
}
