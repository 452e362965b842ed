//! Integrity checks across the objects of a [`Store`], whatever format it was read from.
//!
//! Each check is a small function over the model, listed in [`CHECKS`]. A check that does not
//! apply to a store (overlay2 links on a vfs store) finds nothing. Every walk along parent
//! links is bounded by the number of objects, so a hand-made cycle cannot make one loop.

mod containers;
mod driver_dirs;
mod images;
mod layers;
mod mounts;
mod overlay;
mod references;
mod usage;

use crate::finding::Finding;
use crate::store::Store;

pub use images::MAX_CHAIN_DEPTH;
pub use layers::parent_cycles;

/// A check: appends what it finds.
pub type Check = fn(&Store, &mut Vec<Finding>);

/// Every check, by name, in the order they run.
pub const CHECKS: &[(&str, Check)] = &[
    ("references", references::dangling),
    ("image parents", images::parents),
    ("image layers", images::layers),
    ("layer parents", layers::parents),
    ("layer cycles", layers::cycles),
    ("chain IDs", layers::chain_ids),
    ("cache dirs", layers::cache_dirs),
    ("tar-split", layers::tar_split),
    ("container mounts", mounts::check),
    ("container images", containers::images),
    ("driver dirs", driver_dirs::unreferenced),
    ("overlay2 links", overlay::links),
    ("overlay2 lowers", overlay::lowers),
    ("unused layers", usage::unused_layers),
];

/// Loads and checks a snapshot: the model plus every finding, most severe first.
pub fn analyze(snapshot: &crate::Snapshot) -> (Store, Vec<Finding>) {
    let (store, mut findings) = crate::source::load(snapshot);
    findings.extend(check(&store));
    sort_findings(&mut findings);
    (store, findings)
}

/// The order findings are reported in: most severe first, then by code and subjects.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.code.cmp(&b.code))
            .then(a.subjects.cmp(&b.subjects))
    });
}

/// Runs every check.
pub fn check(store: &Store) -> Vec<Finding> {
    let mut out = Vec::new();
    for (_, check) in CHECKS {
        check(store, &mut out);
    }
    out
}

/// Whether the snapshot says which graph-driver records exist, so that a missing one is damage.
fn knows_driver_dirs(store: &Store) -> bool {
    store.driver_dirs_listed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Code;
    use crate::id::ChainId;
    use crate::id::DiffId;
    use crate::store::{Image, ImageConfig, Layer};

    /// A store no engine can write: overlay2 refuses to register a layer that deep.
    fn store_with_depth(depth: usize) -> Store {
        let diffs: Vec<DiffId> = (0..depth)
            .map(|i| DiffId::from_hex(&format!("{i:064x}")).unwrap())
            .collect();
        let config = ImageConfig {
            diff_ids: diffs.clone(),
            ..ImageConfig::default()
        };
        let id = crate::ImageId::from_hex(&"e".repeat(64)).unwrap();
        let image = Image {
            id: id.clone(),
            verified: true,
            config: Some(config),
            parent: None,
            last_updated: None,
            built_locally: false,
            tags: vec![],
            digests: vec![],
            chain: Default::default(),
        };
        let mut store = Store {
            driver: "vfs".into(),
            ..Store::default()
        };
        let mut parent: Option<ChainId> = None;
        for chain in image.chain() {
            let diff = diffs[store.layers.len()].clone();
            store.layers.insert(
                chain.clone(),
                Layer {
                    chain_id: chain.clone(),
                    diff_id: Some(diff),
                    parent: parent.clone(),
                    cache_id: None,
                    size: Some(1),
                    tar_split: true,
                    descriptor: None,
                },
            );
            parent = Some(chain.clone());
        }
        store.images.insert(id, image);
        store
    }

    #[track_caller]
    fn check_codes(store: &Store, expected: &[Code]) {
        let codes: Vec<Code> = check(store).iter().map(|f| f.code).collect();
        assert_eq!(codes, expected);
    }

    #[test]
    fn deep_chains_are_flagged_past_125() {
        check_codes(&store_with_depth(MAX_CHAIN_DEPTH), &[]);
        check_codes(&store_with_depth(MAX_CHAIN_DEPTH + 1), &[Code::DeepChain]);
    }
}
