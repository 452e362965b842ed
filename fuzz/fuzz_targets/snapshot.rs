//! The snapshot readers: any bytes are a snapshot or an error, the same for both readers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use storesnap_core::{Limits, SlicedReader, Snapshot};

const LIMITS: Limits = Limits {
    max_decompressed_bytes: 16 << 20,
    max_entries: 100_000,
    max_entry_bytes: 4 << 20,
};

fuzz_target!(|data: &[u8]| {
    let streamed = Snapshot::from_bytes(data, LIMITS);
    let sliced = SlicedReader::new(data.to_vec(), LIMITS).and_then(|mut r| {
        while !r.step(1 << 14)? {}
        r.finish()
    });
    match (streamed, sliced) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        (a, b) => panic!("readers disagree: {a:?} vs {b:?}"),
    }
});
