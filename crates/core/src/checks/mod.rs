//! Integrity checks across the objects of a [`Store`], whatever format it was read from.
//!
//! Each check is a small function over the model, listed in [`CHECKS`]. A check that does not
//! apply to a store (overlay2 links on a vfs store) finds nothing. Every walk along parent
//! links is bounded by the number of objects, so a hand-made cycle cannot make one loop.

mod containerd;
mod containers;
mod driver_dirs;
mod images;
mod layers;
mod mounts;
mod overlay;
mod references;
mod usage;

use crate::finding::Finding;
use crate::store::Store;

pub use images::MAX_CHAIN_DEPTH;
pub use layers::parent_cycles;

/// A check: appends what it finds.
pub type Check = fn(&Store, &mut Vec<Finding>);

/// Every check, by name, in the order they run.
pub const CHECKS: &[(&str, Check)] = &[
    ("references", references::dangling),
    ("image parents", images::parents),
    ("image layers", images::layers),
    ("layer parents", layers::parents),
    ("layer cycles", layers::cycles),
    ("chain IDs", layers::chain_ids),
    ("cache dirs", layers::cache_dirs),
    ("tar-split", layers::tar_split),
    ("container mounts", mounts::check),
    ("container images", containers::images),
    ("driver dirs", driver_dirs::unreferenced),
    ("overlay2 links", overlay::links),
    ("overlay2 lowers", overlay::lowers),
    ("unused layers", usage::unused_layers),
    ("blob digests", containerd::blob_digests),
    ("image blobs", containerd::missing_blobs),
    ("layer snapshots", containerd::snapshots),
    ("snapshot dirs", containerd::snapshot_dirs),
    ("unused snapshots", containerd::unused_snapshots),
    ("container snapshots", containerd::container_snapshots),
    ("expired leases", containerd::expired_leases),
    ("containerd leftovers", containerd::leftovers),
];

/// Loads and checks a snapshot: the model plus every finding, most severe first.
pub fn analyze(snapshot: &crate::Snapshot) -> (Store, Vec<Finding>) {
    let (store, mut findings) = crate::source::load(snapshot);
    findings.extend(check(&store));
    sort_findings(&mut findings);
    (store, findings)
}

/// The order findings are reported in: most severe first, then by code and subjects.
pub fn sort_findings(findings: &mut [Finding]) {
    crate::order::sort_by(findings, |a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.code.cmp(&b.code))
            .then(a.subjects.cmp(&b.subjects))
    });
}

/// Runs every check.
pub fn check(store: &Store) -> Vec<Finding> {
    let mut out = Vec::new();
    for (_, check) in CHECKS {
        check(store, &mut out);
    }
    out
}

/// Whether the snapshot says which graph-driver records exist, so that a missing one is damage.
fn knows_driver_dirs(store: &Store) -> bool {
    store.driver_dirs_listed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Code;
    use crate::id::ChainId;
    use crate::id::DiffId;
    use crate::store::{Image, ImageConfig, Layer};

    /// A store no engine can write: overlay2 refuses to register a layer that deep.
    fn store_with_depth(depth: usize) -> Store {
        let diffs: Vec<DiffId> = (0..depth)
            .map(|i| DiffId::from_hex(&format!("{i:064x}")).unwrap())
            .collect();
        let config = ImageConfig {
            diff_ids: diffs.clone(),
            ..ImageConfig::default()
        };
        let id = crate::ImageId::from_hex(&"e".repeat(64)).unwrap();
        let image = Image {
            id: id.clone(),
            verified: true,
            config: Some(config),
            parent: None,
            last_updated: None,
            built_locally: false,
            tags: vec![],
            digests: vec![],
            chain: Default::default(),
        };
        let mut store = Store {
            driver: "vfs".into(),
            ..Store::default()
        };
        let mut parent: Option<ChainId> = None;
        for chain in image.chain() {
            let diff = diffs[store.layers.len()].clone();
            store.layers.insert(
                chain.clone(),
                Layer {
                    chain_id: chain.clone(),
                    diff_id: Some(diff),
                    parent: parent.clone(),
                    cache_id: None,
                    size: Some(1),
                    tar_split: true,
                    descriptor: None,
                },
            );
            parent = Some(chain.clone());
        }
        store.images.insert(id, image);
        store
    }

    #[track_caller]
    fn check_codes(store: &Store, expected: &[Code]) {
        let codes: Vec<Code> = check(store).iter().map(|f| f.code).collect();
        assert_eq!(codes, expected);
    }

    #[test]
    fn deep_chains_are_flagged_past_125() {
        check_codes(&store_with_depth(MAX_CHAIN_DEPTH), &[]);
        check_codes(&store_with_depth(MAX_CHAIN_DEPTH + 1), &[Code::DeepChain]);
    }

    /// A small healthy vfs store built in memory: base layer 1, layer 2 on it, image A over
    /// both tagged `a:1`, a container on A with its writable and init records.
    fn healthy() -> Store {
        use crate::store::{Container, DriverDir, Mount, Reference};
        let diffs: Vec<DiffId> = (1..=2)
            .map(|i| DiffId::from_hex(&format!("{i:064x}")).unwrap())
            .collect();
        let image_id = crate::ImageId::from_hex(&"a".repeat(64)).unwrap();
        let image = Image {
            id: image_id.clone(),
            verified: true,
            config: Some(ImageConfig {
                diff_ids: diffs.clone(),
                ..ImageConfig::default()
            }),
            parent: None,
            last_updated: None,
            built_locally: false,
            tags: vec!["a:1".parse().unwrap()],
            digests: vec![],
            chain: Default::default(),
        };
        let mut store = Store {
            driver: "vfs".into(),
            driver_dirs_listed: true,
            ..Store::default()
        };
        let mut parent: Option<ChainId> = None;
        for (i, chain) in image.chain().iter().enumerate() {
            let cache = format!("cache{i}");
            store.layers.insert(
                chain.clone(),
                Layer {
                    chain_id: chain.clone(),
                    diff_id: Some(diffs[i].clone()),
                    parent: parent.clone(),
                    cache_id: Some(cache.parse().unwrap()),
                    size: Some(10),
                    tar_split: true,
                    descriptor: None,
                },
            );
            store.driver_dirs.insert(
                cache.clone(),
                DriverDir {
                    name: cache,
                    ..DriverDir::default()
                },
            );
            parent = Some(chain.clone());
        }
        let cid: crate::ContainerId = "c".repeat(64).parse().unwrap();
        for name in ["rw", "rw-init"] {
            store.driver_dirs.insert(
                name.into(),
                DriverDir {
                    name: name.into(),
                    ..DriverDir::default()
                },
            );
        }
        store.mounts.insert(
            cid.clone(),
            Mount {
                container: cid.clone(),
                mount_id: Some("rw".parse().unwrap()),
                init_id: Some("rw-init".parse().unwrap()),
                parent,
            },
        );
        store.containers.insert(
            cid.clone(),
            Container {
                id: cid,
                name: "c".into(),
                image: Some(image_id.clone()),
                image_name: "a:1".into(),
                created: None,
                created_unix: None,
                created_nanos: None,
                image_manifest: None,
                image_platform: None,
                running: false,
                paused: false,
                restarting: false,
                dead: false,
                exit_code: 0,
                started: false,
                finished_at: None,
                driver: "vfs".into(),
                command: vec![],
                labels: Default::default(),
                volumes: vec![],
                networks: vec![],
            },
        );
        store.references.push(Reference {
            repository: "a".into(),
            name: "a:1".parse().unwrap(),
            image: image_id.clone(),
        });
        store.images.insert(image_id, image);
        store
    }

    /// Each check on one kind of damage to the in-memory store, and exactly what it finds.
    #[test]
    fn each_check_finds_its_damage() {
        type Damage = fn(&mut Store);
        let cases: Vec<(&str, Damage, &[Code])> = vec![
            ("healthy", |_| {}, &[]),
            (
                "reference to nothing",
                |s| {
                    s.references[0].image = crate::ImageId::from_hex(&"b".repeat(64)).unwrap();
                },
                &[Code::DanglingReference],
            ),
            (
                "build parent gone",
                |s| {
                    s.images.values_mut().next().unwrap().parent =
                        Some(crate::ImageId::from_hex(&"d".repeat(64)).unwrap());
                },
                &[Code::MissingParentImage],
            ),
            (
                "top layer gone",
                |s| {
                    let t = s.images.values().next().unwrap().top_layer().unwrap();
                    s.layers.remove(&t);
                    s.driver_dirs.remove("cache1");
                },
                &[Code::MissingLayer, Code::MountParentMissing],
            ),
            (
                "base layer gone",
                |s| {
                    let b = s.images.values().next().unwrap().chain()[0].clone();
                    s.layers.remove(&b);
                    s.driver_dirs.remove("cache0");
                },
                &[Code::MissingLayer, Code::MissingParentLayer],
            ),
            (
                "a layer names itself",
                |s| {
                    let b = s.images.values().next().unwrap().chain()[0].clone();
                    s.layers.get_mut(&b).unwrap().parent = Some(b.clone());
                },
                &[Code::LayerParentCycle, Code::ChainIdMismatch],
            ),
            (
                "diff altered",
                |s| {
                    let t = s.images.values().next().unwrap().top_layer().unwrap();
                    s.layers.get_mut(&t).unwrap().diff_id =
                        Some(DiffId::from_hex(&"9".repeat(64)).unwrap());
                },
                &[Code::ChainIdMismatch],
            ),
            (
                "driver record gone",
                |s| {
                    s.driver_dirs.remove("cache1");
                },
                &[Code::MissingCacheDir],
            ),
            (
                "no tar-split",
                |s| {
                    s.layers.values_mut().next().unwrap().tar_split = false;
                },
                &[Code::NoTarSplit],
            ),
            (
                "writable layer gone",
                |s| {
                    s.driver_dirs.remove("rw");
                },
                &[Code::MountDirMissing],
            ),
            (
                "init layer gone",
                |s| {
                    s.driver_dirs.remove("rw-init");
                },
                &[Code::MountInitMissing],
            ),
            (
                "container's image gone",
                |s| {
                    s.images.clear();
                    s.references.clear();
                },
                &[Code::ContainerImageMissing],
            ),
            (
                "orphan record",
                |s| {
                    s.driver_dirs.insert("orphan".into(), Default::default());
                },
                &[Code::OrphanDriverDir],
            ),
            (
                "BuildKit snapshot",
                |s| {
                    s.driver_dirs
                        .insert("abcdefghijklmnopqrstuvwxy".into(), Default::default());
                },
                &[Code::BuildCacheDir],
            ),
            (
                "unused layer",
                |s| {
                    s.mounts.clear();
                    s.driver_dirs.remove("rw");
                    s.driver_dirs.remove("rw-init");
                    s.images.clear();
                    s.references.clear();
                    s.containers.clear();
                },
                &[Code::UnusedLayer],
            ),
            (
                "records not listed",
                |s| {
                    s.driver_dirs.clear();
                    s.driver_dirs_listed = false;
                },
                &[],
            ),
        ];
        for (name, damage, expected) in cases {
            let mut store = healthy();
            damage(&mut store);
            let mut got: Vec<Code> = check(&store).iter().map(|f| f.code).collect();
            got.sort();
            got.dedup();
            let mut want = expected.to_vec();
            want.sort();
            assert_eq!(got, want, "{name}");
        }
    }
}
