//! `docker save` archives on arbitrary bytes (plain, gzip or zstd): the one-pass scan, the
//! loader, the checks, the docker views, the report and the graph.
#![no_main]

use libfuzzer_sys::fuzz_target;
use storesnap_core::docker::{Clock, HistoryOptions, ImageListOptions, Utc};
use storesnap_core::graph::{layout, LayerGraph, Spacing};
use storesnap_core::source::archive::{self, ScanLimits};

fuzz_target!(|data: &[u8]| {
    let _ = archive::sniff(data);
    let limits = ScanLimits {
        max_entries: 10_000,
        max_kept_entry: 1 << 20,
        max_kept_total: 4 << 20,
        max_listed_files: 100_000,
    };
    let Ok((store, mut findings)) = archive::read(data, &limits, &mut |_| {}) else {
        return;
    };
    findings.extend(storesnap_core::checks::check(&store));
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
    for image in store.images.values() {
        let _ = store.history_rows(image, HistoryOptions::default(), &clock);
    }
    let _ = storesnap_core::report::markdown(None, &store, &findings);
    let graph = LayerGraph::new(&store, &findings);
    let _ = layout(&graph, &Default::default(), Spacing::default());
});
