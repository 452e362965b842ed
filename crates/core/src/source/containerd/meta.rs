//! containerd's `meta.db`: the records of one namespace (`v1/<namespace>/…`).

use std::collections::BTreeMap;

use crate::bbolt::{go_time, varint, BoltError, Bucket, Db};
use crate::id::{Digest, LeaseId, SnapshotKey};
use crate::store::{Descriptor, ImageRecord, Lease};
use crate::time::parse_rfc3339_utc;

/// What meta.db says about one namespace.
#[derive(Debug, Default)]
pub struct Meta {
    pub records: BTreeMap<String, ImageRecord>,
    /// Content records: size and labels.
    pub blobs: BTreeMap<Digest, (Option<u64>, BTreeMap<String, String>)>,
    /// Snapshot records of one snapshotter by key: (backend name, parent key, labels, created).
    pub snapshots: BTreeMap<SnapshotKey, SnapshotRecord>,
    pub leases: BTreeMap<LeaseId, Lease>,
    /// Values that could not be read, as (what, why) for findings.
    pub problems: Vec<String>,
}

/// A snapshot as meta.db records it.
#[derive(Debug, Default)]
pub struct SnapshotRecord {
    /// The snapshotter's key for it, `<namespace>/<n>/<key>`.
    pub backend: String,
    pub parent: Option<SnapshotKey>,
    pub labels: BTreeMap<String, String>,
    pub created: Option<i64>,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn time(bucket: &Bucket, key: &[u8]) -> Result<Option<i64>, BoltError> {
    Ok(bucket.value(key)?.and_then(go_time).map(|(s, _)| s))
}

fn labels(bucket: &Bucket) -> Result<BTreeMap<String, String>, BoltError> {
    let Some(l) = bucket.bucket(b"labels")? else {
        return Ok(BTreeMap::new());
    };
    Ok(l.entries()?
        .into_iter()
        .filter_map(|(k, item)| match item {
            crate::bbolt::Item::Value(v) => Some((text(k), text(v))),
            crate::bbolt::Item::Bucket(_) => None,
        })
        .collect())
}

/// A varint size that is not negative.
fn size(bucket: &Bucket, key: &[u8]) -> Result<Option<u64>, BoltError> {
    Ok(bucket
        .value(key)?
        .and_then(varint)
        .and_then(|(v, _)| u64::try_from(v).ok()))
}

/// Reads the namespace's records; a damaged database is an error, a bad value a problem.
pub fn read(db: &Db, namespace: &str, snapshotter: &str) -> Result<Meta, BoltError> {
    let mut meta = Meta::default();
    let Some(ns) = db.bucket_at(&[b"v1", namespace.as_bytes()])? else {
        return Ok(meta);
    };
    if let Some(images) = ns.bucket(b"images")? {
        for (name, b) in images.buckets()? {
            let name = text(name);
            let Some(target) = b.bucket(b"target")? else {
                meta.problems
                    .push(format!("image record {name:?} has no target"));
                continue;
            };
            let digest = target.value(b"digest")?.map(text).unwrap_or_default();
            let Ok(digest) = digest.parse::<Digest>() else {
                meta.problems.push(format!(
                    "image record {name:?} has target digest {digest:?}"
                ));
                continue;
            };
            let record = ImageRecord {
                target: Descriptor {
                    media_type: target.value(b"mediatype")?.map(text).unwrap_or_default(),
                    digest,
                    size: size(&target, b"size")?.unwrap_or(0),
                },
                created: time(&b, b"createdat")?,
                updated: time(&b, b"updatedat")?,
                labels: labels(&b)?,
                name: name.clone(),
            };
            meta.records.insert(name, record);
        }
    }
    if let Some(blobs) = ns.bucket_at(&[b"content", b"blob"])? {
        for (key, b) in blobs.buckets()? {
            let key = text(key);
            match key.parse::<Digest>() {
                Ok(d) => {
                    meta.blobs.insert(d, (size(&b, b"size")?, labels(&b)?));
                }
                Err(_) => meta
                    .problems
                    .push(format!("content record {key:?} is not a digest")),
            }
        }
    }
    if let Some(snaps) = ns.bucket_at(&[b"snapshots", snapshotter.as_bytes()])? {
        for (key, b) in snaps.buckets()? {
            let Ok(key) = text(key).parse::<SnapshotKey>() else {
                meta.problems.push(format!(
                    "snapshot record {:?} is not a usable key",
                    text(key)
                ));
                continue;
            };
            let parent = b.value(b"parent")?.map(text).filter(|p| !p.is_empty());
            let parent = match parent.map(|p| p.parse::<SnapshotKey>()) {
                Some(Ok(p)) => Some(p),
                Some(Err(e)) => {
                    meta.problems.push(format!("snapshot {key}: parent {e}"));
                    None
                }
                None => None,
            };
            meta.snapshots.insert(
                key,
                SnapshotRecord {
                    backend: b.value(b"name")?.map(text).unwrap_or_default(),
                    parent,
                    labels: labels(&b)?,
                    created: time(&b, b"createdat")?,
                },
            );
        }
    }
    if let Some(leases) = ns.bucket(b"leases")? {
        for (id, b) in leases.buckets()? {
            let Ok(id) = text(id).parse::<LeaseId>() else {
                meta.problems
                    .push(format!("lease {:?} is not a usable ID", text(id)));
                continue;
            };
            let labels = labels(&b)?;
            let content = match b.bucket(b"content")? {
                Some(c) => c
                    .entries()?
                    .into_iter()
                    .filter_map(|(k, _)| text(k).parse().ok())
                    .collect(),
                None => Vec::new(),
            };
            let mut snapshots = Vec::new();
            if let Some(s) = b.bucket(b"snapshots")? {
                for (snapshotter, keys) in s.buckets()? {
                    for (key, _) in keys.entries()? {
                        if let Ok(key) = text(key).parse() {
                            snapshots.push((text(snapshotter), key));
                        }
                    }
                }
            }
            let expires = labels
                .get("containerd.io/gc.expire")
                .and_then(|t| parse_rfc3339_utc(t));
            meta.leases.insert(
                id.clone(),
                Lease {
                    id,
                    created: time(&b, b"createdat")?,
                    labels,
                    content,
                    snapshots,
                    expires,
                },
            );
        }
    }
    Ok(meta)
}

trait BucketAt<'d, 'a> {
    fn bucket_at(&self, path: &[&[u8]]) -> Result<Option<Bucket<'d, 'a>>, BoltError>;
}

impl<'d, 'a> BucketAt<'d, 'a> for Bucket<'d, 'a> {
    fn bucket_at(&self, path: &[&[u8]]) -> Result<Option<Bucket<'d, 'a>>, BoltError> {
        let mut b = *self;
        for name in path {
            match b.bucket(name)? {
                Some(next) => b = next,
                None => return Ok(None),
            }
        }
        Ok(Some(b))
    }
}
