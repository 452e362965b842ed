//! The bbolt reader on arbitrary bytes: opening, walking every bucket, looking every key up
//! again, and the containerd readers built on it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use storesnap_core::bbolt::{Bucket, Db, Item};
use storesnap_core::source::containerd::policy::{active_snapshots, blob_kinds, has_images};

fn walk(b: &Bucket, depth: usize) {
    if depth > 64 {
        return;
    }
    let Ok(entries) = b.entries() else { return };
    for (k, item) in entries {
        let _ = b.get(k);
        if let Item::Bucket(child) = item {
            walk(&child, depth + 1);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(db) = Db::open(data) {
        walk(&db.root(), 0);
    }
    let _ = has_images(data, "moby");
    let _ = active_snapshots(data);
    let _ = blob_kinds(data, "moby", &Default::default());
});
