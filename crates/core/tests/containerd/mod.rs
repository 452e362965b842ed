//! The containerd image store: a snapshot of a store Docker 28 wrote in containerd mode
//! (`data/d28-containerd`, made by `scripts/make-fixtures`), checked against what containerd's
//! own `ctr -n moby` listed and what the docker CLI printed, and the bbolt reader on its real
//! databases.

use std::collections::{BTreeMap, BTreeSet};

use storesnap_core::bbolt::{Bucket, Db, Item};
use storesnap_core::source::containerd::{BLOBS, META_DB};
use storesnap_core::store::{BlobFile, BlobKind, SnapshotKind};

use super::*;

const CTR_IMAGES: &str = include_str!("../data/d28-containerd/oracle/ctr-images.txt");
const CTR_CONTENT: &str = include_str!("../data/d28-containerd/oracle/ctr-content.txt");
const CTR_SNAPSHOTS: &str = include_str!("../data/d28-containerd/oracle/ctr-snapshots.txt");
const CTR_LEASES: &str = include_str!("../data/d28-containerd/oracle/ctr-leases.txt");

fn d28() -> Fixture {
    fixture!("d28-containerd")
}

/// Equal sets, or a message naming only what differs.
#[track_caller]
fn same<T: Ord + std::fmt::Debug + Clone>(
    what: &str,
    ours: impl IntoIterator<Item = T>,
    ctr: impl IntoIterator<Item = T>,
) {
    let ours: BTreeSet<T> = ours.into_iter().collect();
    let ctr: BTreeSet<T> = ctr.into_iter().collect();
    let only_ours: Vec<&T> = ours.difference(&ctr).collect();
    let only_ctr: Vec<&T> = ctr.difference(&ours).collect();
    assert!(
        only_ours.is_empty() && only_ctr.is_empty(),
        "{what}: only ours {only_ours:#?}\nonly ctr's {only_ctr:#?}"
    );
}

/// Rows of a `ctr … ls` table, without its header, split on whitespace.
fn ctr_rows(text: &str) -> Vec<Vec<&str>> {
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().collect())
        .collect()
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_model_holds_what_ctr_listed() {
    let s = read(d28().snapshot);
    let (store, _) = storesnap_core::source::load(&s);
    let cd = store.containerd.as_deref().expect("a containerd store");
    assert_eq!(
        (cd.namespace.as_str(), cd.snapshotter.as_str()),
        ("moby", "overlayfs")
    );

    // Image records: name and target digest.
    let ctr: BTreeSet<(String, String)> = ctr_rows(CTR_IMAGES)
        .iter()
        .map(|r| (r[0].to_owned(), r[2].to_owned()))
        .collect();
    let ours: BTreeSet<(String, String)> = cd
        .records
        .values()
        .map(|r| (r.name.clone(), r.target.digest.to_string()))
        .collect();
    same("ctr", ours, ctr);

    // Content: every blob ctr knows, with the same labels; layers listed, not packed.
    let ctr: BTreeMap<String, BTreeSet<String>> = CTR_CONTENT
        .lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').filter(|c| !c.is_empty()).collect();
            let labels = cols
                .get(3)
                .filter(|l| **l != "-")
                .map_or_else(BTreeSet::new, |l| l.split(',').map(str::to_owned).collect());
            Some((cols.first()?.to_string(), labels))
        })
        .collect();
    let ours: BTreeMap<String, BTreeSet<String>> = cd
        .blobs
        .iter()
        .filter(|(_, b)| b.size.is_some())
        .map(|(d, b)| {
            (
                d.to_string(),
                // ctr joins labels with commas, which values hold too: compare the pieces.
                b.labels
                    .iter()
                    .flat_map(|(k, v)| {
                        format!("{k}={v}")
                            .split(',')
                            .map(str::to_owned)
                            .collect::<Vec<_>>()
                    })
                    .collect(),
            )
        })
        .collect();
    same("ctr", ours, ctr);
    for (d, b) in &cd.blobs {
        match b.kind {
            // A layer is never packed; one the content store has is listed with its size.
            BlobKind::Layer => assert!(
                match b.file {
                    BlobFile::Listed { size } => Some(size) == b.size,
                    BlobFile::Missing => b.size.is_none(),
                    BlobFile::Packed { .. } => false,
                },
                "layer {d}: {b:?}"
            ),
            BlobKind::Index | BlobKind::Manifest | BlobKind::Config => {
                assert_eq!(b.file, BlobFile::Packed { verified: true }, "{d}")
            }
            _ => {}
        }
    }

    // Snapshots: key, parent and kind.
    let ctr: BTreeSet<(String, Option<String>, String)> = ctr_rows(CTR_SNAPSHOTS)
        .iter()
        .map(|r| match r.as_slice() {
            [k, p, kind] => (k.to_string(), Some(p.to_string()), kind.to_string()),
            [k, kind] => (k.to_string(), None, kind.to_string()),
            other => panic!("unexpected row {other:?}"),
        })
        .collect();
    let ours: BTreeSet<(String, Option<String>, String)> = cd
        .snapshots
        .values()
        .map(|s| {
            (
                s.key.to_string(),
                s.parent.as_ref().map(ToString::to_string),
                format!("{:?}", s.kind),
            )
        })
        .collect();
    same("ctr", ours, ctr);
    // Every snapshot has its directory, and every active one a measured upper dir.
    for s in cd.snapshots.values() {
        assert!(
            cd.snapshot_dirs.contains_key(&s.backend_id.unwrap()),
            "{}",
            s.key
        );
        assert_eq!(
            s.kind == SnapshotKind::Active,
            s.upper_size.is_some(),
            "{}",
            s.key
        );
    }

    // Leases by ID.
    let ctr: BTreeSet<&str> = ctr_rows(CTR_LEASES).iter().map(|r| r[0]).collect();
    let ours: BTreeSet<&str> = cd.leases.keys().map(|l| l.as_str()).collect();
    same("ctr", ours, ctr);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_containerd_store_matches_the_docker_cli_and_checks_clean() {
    let f = d28();
    let s = read(f.snapshot);
    let (store, findings) = storesnap_core::analyze(&s);
    let (images, layers, containers) = f.oracle_counts();
    assert_eq!(
        (
            store.images.len() as u64,
            store.layers.len() as u64,
            store.containers.len() as u64
        ),
        (images, layers, containers)
    );
    let c = &s.manifest.counts;
    assert_eq!(
        (c.images, c.layers, c.containers),
        (images, layers, containers)
    );
    let above: Vec<_> = findings
        .iter()
        .filter(|f| f.severity > storesnap_core::Severity::Info)
        .collect();
    assert!(above.is_empty(), "{above:#?}");
    images_and_history_match(&f);
}

/// bbolt's cursor must find every key its pages hold, in every bucket: a search that descends
/// wrongly in a branch page misses keys of buckets that span pages.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn bbolt_finds_every_key_it_lists() {
    let s = read(d28().snapshot);
    let dbs: Vec<&[u8]> = s
        .entries
        .iter()
        .filter(|(p, _)| p.ends_with(".db") && p.starts_with("containerd/"))
        .filter_map(|(_, e)| match e {
            Entry::File(b) => Some(b.as_slice()),
            _ => None,
        })
        .collect();
    assert!(dbs.len() >= 2, "meta.db and the snapshotter's metadata.db");
    assert!(s.entries.contains_key(META_DB));
    let mut keys = 0;
    let mut branch_spanning = 0;
    for bytes in dbs {
        let db = Db::open(bytes).unwrap();
        assert_eq!(db.page_size(), 4096);
        keys += walk(&db.root(), &mut branch_spanning);
    }
    assert!(keys > 500, "{keys} keys");
    assert!(
        branch_spanning > 0,
        "the fixture has a bucket that spans pages"
    );
}

fn walk(b: &Bucket, spanning: &mut usize) -> usize {
    let entries = b.entries().unwrap();
    if b.spans_pages().unwrap() {
        *spanning += 1;
    }
    let mut n = entries.len();
    for pair in entries.windows(2) {
        assert!(pair[0].0 < pair[1].0, "keys in order");
    }
    for (k, item) in &entries {
        match (item, b.get(k).unwrap()) {
            (Item::Value(v), Some(Item::Value(found))) => assert_eq!(v, &found),
            (Item::Bucket(child), Some(Item::Bucket(_))) => n += walk(child, spanning),
            _ => panic!("key {:?} not found again", String::from_utf8_lossy(k)),
        }
    }
    assert!(b.get(b"\xff\xff no such key").unwrap().is_none());
    n
}

/// Damage anywhere in a real meta.db: the reader answers or refuses, never panics or spins.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn bbolt_survives_damage_anywhere() {
    let s = read(d28().snapshot);
    let Some(Entry::File(meta)) = s.entries.get(META_DB) else {
        panic!("no meta.db")
    };
    let used = meta.iter().rposition(|&b| b != 0).unwrap() + 1;
    // About 400 places (100 in a browser), spread over the pages in use; the fuzzer tries more.
    let places = if cfg!(target_arch = "wasm32") {
        100
    } else {
        400
    };
    let step = used / places + 1;
    let mut refused = 0;
    for at in (0..used).step_by(step) {
        let mut bytes = meta.clone();
        bytes[at] ^= 0x5a;
        match Db::open(&bytes) {
            Ok(db) => {
                if full_walk(&db.root(), 0).is_err() {
                    refused += 1;
                }
            }
            Err(_) => refused += 1,
        }
        let cut = &meta[..at];
        if let Ok(db) = Db::open(cut) {
            let _ = full_walk(&db.root(), 0);
        }
    }
    assert!(refused > 0);
    // Either meta page damaged, the other one is used: two transactions, the newer preferred.
    let without = |page: usize| {
        let mut bytes = meta.clone();
        bytes[page * 4096 + 16 + 20] ^= 1;
        Db::open(&bytes).unwrap().txid()
    };
    let (first, second) = (without(1), without(0));
    assert_ne!(first, second);
    assert_eq!(Db::open(meta).unwrap().txid(), first.max(second));
}

fn full_walk(b: &Bucket, depth: usize) -> Result<(), storesnap_core::bbolt::BoltError> {
    assert!(depth < 100);
    for (k, item) in b.entries()? {
        let _ = b.get(k)?;
        if let Item::Bucket(child) = item {
            full_walk(&child, depth + 1)?;
        }
    }
    Ok(())
}

/// A snapshot of the fixture changed one hostile way: loading, checking and every view end,
/// and the change shows as the finding named (or as nothing worse than info, for `None`).
#[track_caller]
fn hostile(name: &str, change: impl FnOnce(&mut Snapshot), finding: Option<&str>) {
    use storesnap_core::docker::{Clock, HistoryOptions, ImageListOptions, Utc};
    let mut s = read(d28().snapshot);
    change(&mut s);
    let (store, findings) = storesnap_core::analyze(&s);
    let clock = Clock {
        now_unix: 1_800_000_000,
        zone: &Utc,
    };
    let _ = store.image_rows(
        ImageListOptions {
            all: true,
            digests: true,
            no_trunc: true,
        },
        &clock,
    );
    for image in store.images.values() {
        let _ = store.history_rows(image, HistoryOptions::default(), &clock);
    }
    let _ = store.disk_usage(&s.manifest.dir_sizes, &s.manifest.data_root, &clock);
    let graph = storesnap_core::graph::LayerGraph::new(&store, &findings);
    let _ = storesnap_core::graph::layout(&graph, &Default::default(), Default::default());
    match finding {
        Some(code) => assert!(
            findings.iter().any(|f| f.code.as_str() == code),
            "{name}: no {code}: {findings:#?}"
        ),
        None => assert!(
            findings
                .iter()
                .all(|f| f.severity == storesnap_core::Severity::Info),
            "{name}: {findings:#?}"
        ),
    }
}

/// The path of a packed blob of `kind` that an image uses (an index, or the manifest or config
/// Docker runs for `local/leaf-a:1`).
fn blob_of(s: &Snapshot, kind: BlobKind) -> String {
    let (store, _) = storesnap_core::source::load(s);
    let cd = store.containerd.unwrap();
    let d = match kind {
        BlobKind::Index => cd
            .blobs
            .iter()
            .find(|(_, b)| b.kind == kind && matches!(b.file, BlobFile::Packed { .. }))
            .unwrap()
            .0
            .clone(),
        _ => {
            let image = store
                .images
                .values()
                .find(|i| i.tags.iter().any(|t| t.as_str() == "local/leaf-a:1"))
                .unwrap();
            let target = &cd.targets[&image.id];
            let m = &target.manifests[target.chosen.unwrap()];
            if kind == BlobKind::Config {
                m.config.clone().unwrap().digest
            } else {
                m.digest.clone()
            }
        }
    };
    format!("{BLOBS}{}", d.hex())
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn hostile_containerd_stores_end_in_findings() {
    hostile(
        "empty meta.db",
        |s| {
            s.entries.insert(META_DB.into(), Entry::File(Vec::new()));
        },
        Some("empty-file"),
    );
    hostile(
        "garbage meta.db",
        |s| {
            s.entries
                .insert(META_DB.into(), Entry::File(vec![0x17; 12288]));
        },
        Some("damaged-database"),
    );
    hostile(
        "meta.db cut in half",
        |s| {
            let Some(Entry::File(b)) = s.entries.get_mut(META_DB) else {
                panic!()
            };
            b.truncate(b.len() / 8);
        },
        Some("damaged-database"),
    );
    // An index that lists itself, nested as deep as it likes: resolved without a loop.
    hostile(
        "self-referencing index",
        |s| {
            let path = blob_of(s, BlobKind::Index);
            let digest = path.rsplit('/').next().unwrap().to_owned();
            let doc = format!(
                r#"{{"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:{digest}","size":1}}]}}"#
            );
            s.entries.insert(path, Entry::File(doc.into_bytes()));
        },
        Some("blob-digest-mismatch"),
    );
    // A config claiming thousands of layers the store never had.
    hostile(
        "config with 5000 layers",
        |s| {
            let path = blob_of(s, BlobKind::Config);
            let ids: Vec<String> = (0..5000).map(|i| format!("\"sha256:{i:064x}\"")).collect();
            let doc = format!(
                r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":[{}]}}}}"#,
                ids.join(",")
            );
            s.entries.insert(path, Entry::File(doc.into_bytes()));
        },
        Some("missing-snapshot"),
    );
    // A manifest whose JSON nests past serde's limit.
    hostile(
        "deeply nested manifest",
        |s| {
            let path = blob_of(s, BlobKind::Manifest);
            s.entries.insert(
                path,
                Entry::File(format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes()),
            );
        },
        Some("blob-digest-mismatch"),
    );
    // Snapshot directories that are files, or named like no snapshot.
    hostile(
        "snapshot dirs that are not",
        |s| {
            let sdir = storesnap_core::source::containerd::snapshotter_dir("overlayfs");
            s.entries
                .insert(format!("{sdir}snapshots/not-a-number"), Entry::Dir);
            s.entries.insert(
                format!("{sdir}snapshots/18446744073709551615"),
                Entry::File(b"x".to_vec()),
            );
        },
        None,
    );
}

/// `docker system df` (the summary rows) for every fixture, as the fixture's engine printed it;
/// build cache aside, which snapshots do not hold.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn disk_summary_matches_the_docker_cli() {
    for (f, oracle) in [
        (
            fixture!("basic"),
            include_str!("../data/basic/oracle/system-df-summary.jsonl"),
        ),
        (
            fixture!("full"),
            include_str!("../data/full/oracle/system-df-summary.jsonl"),
        ),
        (
            d28(),
            include_str!("../data/d28-containerd/oracle/system-df-summary.jsonl"),
        ),
    ] {
        let s = read(f.snapshot);
        let (store, _) = storesnap_core::source::load(&s);
        let ours: Vec<serde_json::Value> = store
            .disk_summary(&s.manifest.dir_sizes)
            .iter()
            .map(|r| serde_json::to_value(r).unwrap())
            .filter(|r| r["Type"] != "Build Cache")
            .collect();
        let docker: Vec<serde_json::Value> = oracle
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|r| r["Type"] != "Build Cache")
            .collect();
        assert_eq!(ours, docker);
    }
}
