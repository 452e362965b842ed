//! Measures, asserts nothing about time: parse + all checks of the committed full fixture,
//! natively and as wasm in a browser, to compare the two. Not part of the test suite; run
//!   cargo test --release -p storesnap-core --test measure -- --nocapture
//!   CHROMEDRIVER=/usr/bin/chromedriver cargo test --release -p storesnap-core --target wasm32-unknown-unknown --test measure

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use storesnap_core::{Limits, Snapshot};

const SNAPSHOT: &[u8] = include_bytes!("data/full/snapshot.tar.gz");
const RUNS: u32 = 300;

#[cfg(not(target_arch = "wasm32"))]
fn now_ms() -> f64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

#[cfg(target_arch = "wasm32")]
fn now_ms() -> f64 {
    js_sys::Date::now()
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn parse_and_check() {
    let start = now_ms();
    let mut findings = 0;
    for _ in 0..RUNS {
        let s = Snapshot::from_bytes(SNAPSHOT, Limits::default()).unwrap();
        findings += storesnap_core::analyze(&s).1.len();
    }
    let per_run = (now_ms() - start) / f64::from(RUNS);
    let line = format!("parse + checks of the full fixture: {per_run:.3} ms per run ({RUNS} runs, {findings} findings)");
    #[cfg(target_arch = "wasm32")]
    wasm_bindgen_test::console_log!("{line}");
    #[cfg(not(target_arch = "wasm32"))]
    {
        #[allow(clippy::print_stdout)]
        {
            println!("{line}");
        }
    }
}

/// The viewer's work on any snapshot, natively, to compare with the times the viewer shows for
/// the same file (its overview says "read in … ms, checked in … ms, laid out in … ms"):
///   MEASURE_FILE=store.tar.gz cargo test --release -p storesnap-core --test measure -- --nocapture
#[cfg(not(target_arch = "wasm32"))]
#[test]
#[allow(clippy::print_stdout)]
fn the_viewers_work_on_a_file() {
    let Some(path) = std::env::var_os("MEASURE_FILE") else {
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    let mut best = (f64::MAX, f64::MAX, f64::MAX);
    for _ in 0..5 {
        let start = now_ms();
        // As the viewer's worker reads it (web worker/read.rs): the tar-splits are left for later.
        let mut reader = storesnap_core::SlicedReader::with_contents(
            bytes.clone(),
            Limits::default(),
            storesnap_core::Contents::Metadata,
        )
        .unwrap();
        while !reader.step(256 << 10).unwrap() {}
        let snapshot = reader.finish().unwrap();
        let read = now_ms();
        let (store, findings) = storesnap_core::analyze(&snapshot);
        let checked = now_ms();
        let graph = storesnap_core::graph::LayerGraph::new(&store, &findings);
        let disk = store.disk_summary(&snapshot.manifest.dir_sizes);
        let usage = store.image_usage(true);
        let placed = storesnap_core::graph::layout(&graph, &Default::default(), Default::default());
        let laid_out = now_ms();
        assert!(!graph.nodes.is_empty() && !disk.is_empty());
        std::hint::black_box((usage, placed));
        best = (
            best.0.min(read - start),
            best.1.min(checked - read),
            best.2.min(laid_out - checked),
        );
    }
    println!(
        "native: read {:.0} ms, checked {:.0} ms, laid out {:.0} ms (best of 5) {}",
        best.0,
        best.1,
        best.2,
        std::path::Path::new(&path).display(),
    );
}
