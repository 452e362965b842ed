//! The layer graph and its layout on any parent relation: loops, forests, long runs.
#![no_main]

use std::collections::BTreeSet;

use libfuzzer_sys::fuzz_target;
use storesnap_core::graph::{layout, LayerGraph, Spacing};
use storesnap_core::store::{Layer, Store};
use storesnap_core::{ChainId, Finding};

fn chain(n: u8) -> ChainId {
    ChainId::from_hex(&format!("{n:064x}")).unwrap()
}

fuzz_target!(|data: &[u8]| {
    // Each byte pair is a layer and its parent (the parent byte 0 means none); a third byte
    // of each triple, when odd, opens the run that starts there.
    let mut store = Store::default();
    let mut expanded = BTreeSet::new();
    for t in data.chunks(3) {
        let (id, parent) = (t[0], t.get(1).copied().unwrap_or(0));
        let c = chain(id);
        if t.get(2).is_some_and(|b| b % 2 == 1) {
            expanded.insert(c.clone());
        }
        store.layers.insert(
            c.clone(),
            Layer {
                chain_id: c,
                diff_id: None,
                parent: (parent != 0).then(|| chain(parent)),
                cache_id: None,
                size: Some(u64::from(id)),
                tar_split: true,
                descriptor: None,
            },
        );
    }
    let findings: Vec<Finding> = storesnap_core::checks::check(&store);
    let graph = LayerGraph::new(&store, &findings);
    for min_run in [0, 1, 3] {
        let spacing = Spacing {
            min_run,
            ..Spacing::default()
        };
        let l = layout(&graph, &expanded, spacing);
        let drawn = l.layers_drawn();
        assert_eq!(drawn, graph.nodes.len());
        assert!(store.layers.keys().all(|c| l.at.contains_key(c)));
    }
});
