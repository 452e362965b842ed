use crate::finding::{Code, Finding, Subject};
use crate::id::ChainId;
use crate::store::Store;

/// overlay2 mounts at most this many lower layers (moby `maxDepth` less the layers it adds).
pub const MAX_CHAIN_DEPTH: usize = 125;

/// An image whose build parent is gone.
pub fn parents(store: &Store, out: &mut Vec<Finding>) {
    for image in store.images.values() {
        let Some(parent) = &image.parent else {
            continue;
        };
        if !store.images.contains_key(parent) {
            out.push(Finding::new(
                Code::MissingParentImage,
                vec![
                    Subject::Image(image.id.clone()),
                    Subject::Image(parent.clone()),
                ],
                format!(
                    "image {}: its parent image {} is not in imagedb",
                    image.id.short(),
                    parent.short()
                ),
            ));
        }
    }
}

/// An image whose layers are not all in the layer store, or too many to mount.
pub fn layers(store: &Store, out: &mut Vec<Finding>) {
    for image in store.images.values() {
        let chain = image.chain();
        let missing: Vec<&ChainId> = chain
            .iter()
            .filter(|c| !store.layers.contains_key(*c))
            .collect();
        if let Some(first) = missing.first() {
            let mut subjects = vec![Subject::Image(image.id.clone())];
            subjects.extend(missing.iter().map(|c| Subject::Chain((*c).clone())));
            out.push(Finding::new(
                Code::MissingLayer,
                subjects,
                format!(
                    "image {}: {} of its {} layers are not in layerdb, the first being {}",
                    image.id.short(),
                    missing.len(),
                    chain.len(),
                    first.short()
                ),
            ));
        }
        if chain.len() > MAX_CHAIN_DEPTH {
            out.push(Finding::new(
                Code::DeepChain,
                vec![Subject::Image(image.id.clone())],
                format!(
                    "image {} has {} layers, more than {MAX_CHAIN_DEPTH}",
                    image.id.short(),
                    chain.len()
                ),
            ));
        }
    }
}
