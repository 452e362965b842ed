use std::collections::BTreeSet;

use crate::finding::{Code, Finding, Subject};
use crate::id::ChainId;
use crate::store::Store;

/// Layers no image and no container uses.
pub fn unused_layers(store: &Store, out: &mut Vec<Finding>) {
    let mut used: BTreeSet<&ChainId> = BTreeSet::new();
    for image in store.images.values() {
        used.extend(image.chain());
    }
    for m in store.mounts.values() {
        let mut next = m.parent.as_ref();
        // Stops at the first layer already counted, so a loop ends too.
        while let Some(c) = next {
            if !used.insert(c) {
                break;
            }
            next = store.layers.get(c).and_then(|l| l.parent.as_ref());
        }
    }
    for layer in store.layers.values() {
        if !used.contains(&layer.chain_id) {
            out.push(Finding::new(
                Code::UnusedLayer,
                vec![Subject::Chain(layer.chain_id.clone())],
                format!(
                    "layer {} is used by no image and no container",
                    layer.chain_id.short()
                ),
            ));
        }
    }
}
