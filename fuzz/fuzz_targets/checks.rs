//! Everything after loading: the checks, the docker views, the report, the graph.
#![no_main]

use libfuzzer_sys::fuzz_target;
use storesnap_core::docker::{Clock, HistoryOptions, ImageListOptions, Utc};
use storesnap_core::graph::{layout, LayerGraph, Spacing};
use storesnap_core::{Limits, Snapshot};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_decompressed_bytes: 16 << 20,
        max_entries: 100_000,
        max_entry_bytes: 4 << 20,
    };
    let Ok(snapshot) = Snapshot::from_tar(data, limits) else {
        return;
    };
    let (store, findings) = storesnap_core::analyze(&snapshot);
    let clock = Clock {
        now_unix: 1_800_000_000,
        zone: &Utc,
    };
    let opts = ImageListOptions {
        all: true,
        digests: true,
        no_trunc: false,
    };
    let _ = store.image_rows(opts, &clock);
    let _ = store.image_usage(true);
    for image in store.images.values() {
        let _ = store.history_rows(image, HistoryOptions::default(), &clock);
    }
    let m = &snapshot.manifest;
    let _ = store.disk_usage(&m.dir_sizes, &m.data_root, &clock);
    let _ = storesnap_core::report::markdown(Some(m), &store, &findings);
    let graph = LayerGraph::new(&store, &findings);
    let _ = layout(&graph, &Default::default(), Spacing::default());
});
