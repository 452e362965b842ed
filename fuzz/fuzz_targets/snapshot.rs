//! The snapshot readers: any bytes are a snapshot or an error, the same for both readers, and
//! for the sliced one told to keep only some files' contents (as the viewer reads twice).
#![no_main]

use libfuzzer_sys::fuzz_target;
use storesnap_core::{Contents, Entry, Limits, SlicedReader, Snapshot};

const LIMITS: Limits = Limits {
    max_decompressed_bytes: 16 << 20,
    max_entries: 100_000,
    max_entry_bytes: 4 << 20,
};

fuzz_target!(|data: &[u8]| {
    let streamed = Snapshot::from_bytes(data, LIMITS);
    let sliced = |contents| {
        SlicedReader::with_contents(data.to_vec(), LIMITS, contents).and_then(|mut r| {
            while !r.step(1 << 14)? {}
            r.finish()
        })
    };
    for contents in [Contents::All, Contents::Metadata, Contents::TarSplits] {
        match (&streamed, sliced(contents)) {
            (Ok(a), Ok(b)) => {
                let mut want = a.clone();
                for (path, entry) in &mut want.entries {
                    if let Entry::File(bytes) = entry {
                        if !contents.keeps(path) {
                            *entry = Entry::Unread(bytes.len() as u64);
                        }
                    }
                }
                assert_eq!(want, b, "{contents:?}");
            }
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{contents:?}"),
            (a, b) => panic!("readers disagree ({contents:?}): {a:?} vs {b:?}"),
        }
    }
});
