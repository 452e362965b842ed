//! Layers' file lists on arbitrary bytes: tar-split JSON lines (layers separated by 0xff),
//! stacked, measured as dive and as storesnap measure them, and drawn as a tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use storesnap_core::files::efficiency::{dive, own};
use storesnap_core::files::tree::{image_items, layer_items, window, Tree};
use storesnap_core::files::{stack, FileEntry};

fuzz_target!(|data: &[u8]| {
    let layers: Vec<Vec<FileEntry>> = data
        .split(|&b| b == 0xff)
        .take(8)
        .filter_map(|text| storesnap_core::tarsplit::entries_of_lines(text, 10_000).ok())
        .collect();
    let stacked = stack(&layers);
    let _ = dive(&layers);
    let _ = own(&layers);
    for only in [false, true] {
        let rows = Tree::new(image_items(&stacked, only)).rows(&Default::default());
        let _ = window(100.0, 300.0, 20.0, rows.len(), 10);
    }
    for (i, entries) in layers.iter().enumerate() {
        let _ = Tree::new(layer_items(&stacked, entries, i)).rows(&Default::default());
    }
});
