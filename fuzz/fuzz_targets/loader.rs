//! The graph-driver loader on any tar: a model and findings, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use storesnap_core::{Limits, Snapshot};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_decompressed_bytes: 16 << 20,
        max_entries: 100_000,
        max_entry_bytes: 4 << 20,
    };
    if let Ok(snapshot) = Snapshot::from_tar(data, limits) {
        let _ = storesnap_core::source::load(&snapshot);
    }
});
