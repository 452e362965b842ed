//! A snapshotter's own `metadata.db` (containerd's `snapshots/storage`): per backend key, the
//! snapshot's ID (which names `snapshots/<id>`), kind and committed usage.

use std::collections::BTreeMap;

use crate::bbolt::{uvarint, varint, BoltError, Db};
use crate::store::SnapshotKind;

/// One snapshot as the snapshotter records it.
#[derive(Debug, Default, Clone)]
pub struct Record {
    pub id: Option<u64>,
    pub kind: SnapshotKind,
    pub size: Option<u64>,
    pub inodes: Option<u64>,
}

fn non_negative(v: Option<&[u8]>) -> Option<u64> {
    v.and_then(varint).and_then(|(v, _)| u64::try_from(v).ok())
}

/// Every snapshot by backend key (`<namespace>/<n>/<key>`).
pub fn read(db: &Db) -> Result<BTreeMap<String, Record>, BoltError> {
    let mut out = BTreeMap::new();
    let Some(snaps) = db.bucket_at(&[b"v1", b"snapshots"])? else {
        return Ok(out);
    };
    for (key, b) in snaps.buckets()? {
        let kind = match b.value(b"kind")?.and_then(|k| k.first().copied()) {
            Some(1) => SnapshotKind::View,
            Some(2) => SnapshotKind::Active,
            Some(3) => SnapshotKind::Committed,
            _ => SnapshotKind::Unknown,
        };
        out.insert(
            String::from_utf8_lossy(key).into_owned(),
            Record {
                id: b.value(b"id")?.and_then(uvarint).map(|(v, _)| v),
                kind,
                size: non_negative(b.value(b"size")?),
                inodes: non_negative(b.value(b"inodes")?),
            },
        );
    }
    Ok(out)
}
