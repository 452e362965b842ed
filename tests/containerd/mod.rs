//! The containerd image store of Docker 28 and 26: what `pack` takes, how it matches
//! containerd's own listings, and how it behaves on live and unusual roots.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use serde_json::Value;
use storesnap_core::source::containerd::{snapshotter_dir, BLOBS, META_DB, ROOT};
use storesnap_core::store::{Containerd, SnapshotKind};
use storesnap_core::Entry;

use crate::support::*;

/// Damage to a copy of a real containerd store, and what `check` finds.
mod damage;

/// Where a scenario's containerd root is on the host.
fn containerd_root(store: &crate::support::Store) -> PathBuf {
    store
        .containerd_root
        .clone()
        .unwrap_or_else(|| store.root.join("containerd/daemon"))
}

/// What `pack` takes from a containerd root: the databases byte for byte, every blob that
/// is metadata, every layer listed with its size and never copied, snapshot directories as
/// empty directories, and the upper-dir size of every container's snapshot.
#[test]
fn containerd_packs_hold_the_metadata_and_no_layer() {
    for scenario in Scenario::CONTAINERD {
        let store = store(scenario);
        let croot = containerd_root(store).canonicalize().unwrap();
        let gz = pack(
            &store.root,
            &scratch(&format!("cd-pack-{}", scenario.name())).join("s.tar.gz"),
            &["-q"],
        );
        let snap = read_snapshot(&gz);
        let m = &snap.manifest;
        let source = m.containerd.as_ref().expect("a containerd source");
        assert_eq!(source.root, croot.to_str().unwrap(), "{}", scenario.name());
        let want = if scenario == Scenario::D28Native {
            "native"
        } else {
            "overlayfs"
        };
        assert_eq!(
            (
                source.namespace.as_str(),
                source.snapshotter.as_str(),
                m.storage_driver.as_str()
            ),
            ("moby", want, want)
        );

        let on_disk = |rel: &str| fs::read(croot.join(rel.strip_prefix(ROOT).unwrap())).unwrap();
        let snapshotter = source.snapshotter.clone();
        let sdb = format!("{}metadata.db", snapshotter_dir(&snapshotter));
        for db in [META_DB, sdb.as_str()] {
            assert_eq!(snap.file(db), Some(on_disk(db).as_slice()), "{db}");
        }
        let listed: BTreeMap<&str, u64> = m
            .skipped
            .iter()
            .filter_map(|s| Some((s.path.as_str(), s.size?)))
            .collect();
        let mut packed = 0;
        for entry in
            fs::read_dir(croot.join("io.containerd.content.v1.content/blobs/sha256")).unwrap()
        {
            let entry = entry.unwrap();
            let rel = format!("{BLOBS}{}", entry.file_name().to_str().unwrap());
            let bytes = fs::read(entry.path()).unwrap();
            match snap.file(&rel) {
                Some(b) => {
                    assert_eq!(b, bytes.as_slice(), "{rel}");
                    serde_json::from_slice::<Value>(b)
                        .unwrap_or_else(|e| panic!("{rel} packed but not JSON: {e}"));
                    packed += 1;
                }
                None => assert_eq!(
                    listed.get(rel.as_str()),
                    Some(&(bytes.len() as u64)),
                    "{rel} neither packed nor listed"
                ),
            }
        }
        assert!(packed >= 40, "{packed} metadata blobs");
        assert!(
            !contains(&all_bytes(&gz), "LAYER-CONTENT-MARKER-7f3a"),
            "a layer's content was packed"
        );

        // Snapshot directories: there, empty, and measured for containers.
        let (model, _) = storesnap_core::source::load(&snap);
        let cd: &Containerd = model.containerd.as_deref().unwrap();
        let sdir = snapshotter_dir(&snapshotter);
        for s in cd.snapshots.values() {
            let id = s.backend_id.unwrap();
            let subs: &[&str] = if scenario == Scenario::D28Native {
                &[""]
            } else {
                &["", "/fs"]
            };
            if scenario == Scenario::D28Native && s.kind == SnapshotKind::View {
                continue;
            }
            for sub in subs {
                assert_eq!(
                    snap.entries.get(&format!("{sdir}snapshots/{id}{sub}")),
                    Some(&Entry::Dir),
                    "{}",
                    s.key
                );
            }
            assert!(!snap
                .entries
                .keys()
                .any(|p| p.starts_with(&format!("{sdir}snapshots/{id}/fs/"))));
            if s.kind == SnapshotKind::Active {
                assert!(s.upper_size.unwrap() > 0, "{} measured", s.key);
            }
        }
        let containers = model.containers.len();
        assert_eq!(
            cd.snapshots
                .values()
                .filter(|s| s.kind == SnapshotKind::Active
                    && model
                        .containers
                        .keys()
                        .any(|c| c.as_str() == s.key.as_str()))
                .count(),
            containers
        );
    }
}

#[test]
fn packing_a_containerd_store_changes_nothing_on_disk() {
    for scenario in [Scenario::D28Containerd, Scenario::D28System] {
        let store = store(scenario);
        let croot = containerd_root(store);
        let before = (fingerprint(&store.root), fingerprint(&croot));
        pack(
            &store.root,
            &scratch(&format!("cd-unchanged-{}", scenario.name())).join("s.tar.gz"),
            &["-q"],
        );
        assert!(
            before == (fingerprint(&store.root), fingerprint(&croot)),
            "{}",
            scenario.name()
        );
    }
}

#[test]
fn a_data_root_without_images_names_both_places_it_looked() {
    let dir = scratch("cd-empty");
    fs::create_dir_all(dir.join("root/containers")).unwrap();
    let o = storesnap(&[
        "pack",
        "--root",
        dir.join("root").to_str().unwrap(),
        "-o",
        "-",
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no containerd image store") && err.contains("--containerd-root"),
        "{err}"
    );
    let o = storesnap(&[
        "pack",
        "--root",
        dir.join("root").to_str().unwrap(),
        "--containerd-root",
        dir.join("nope").to_str().unwrap(),
        "-o",
        "-",
    ]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("the containerd root"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn two_packs_of_a_containerd_store_are_byte_identical() {
    for scenario in [Scenario::D28Containerd, Scenario::D28System] {
        let store = store(scenario);
        let dir = scratch(&format!("cd-determinism-{}", scenario.name()));
        let a = pack(
            &store.root,
            &dir.join("a.tar.gz"),
            &["-q", "--created", "1700000000"],
        );
        let b = pack(
            &store.root,
            &dir.join("b.tar.gz"),
            &["-q", "--created", "1700000000"],
        );
        assert!(a == b, "{}: two packs differ", scenario.name());
    }
}

/// A running Docker 28 that builds and removes images while `pack` reads its containerd store:
/// every pack succeeds and reads back, and the engine's version is recorded.
#[test]
fn packing_a_live_containerd_store_succeeds() {
    let dir = scratch("cd-live");
    let d = dir.to_str().unwrap();
    engine_script_env(
        "engine",
        &["start", d],
        &[("ENGINE", "28"), ("MODE", "containerd")],
    );
    let result = std::panic::catch_unwind(|| {
        engine(&["populate", d, "basic"]);
        let mut churn = churn(&dir, 20);
        let socket = daemon_socket(&dir);
        let gz = pack(
            &dir.join("root"),
            &dir.join("engine.tar.gz"),
            &["-q", "--docker-host", &socket],
        );
        let engine = read_snapshot(&gz)
            .manifest
            .engine
            .expect("the engine is recorded");
        assert!(engine.version.starts_with("28."), "{engine:?}");
        let mut packs = 0;
        while churn.try_wait().unwrap().is_none() && packs < 30 {
            let gz = pack(
                &dir.join("root"),
                &dir.join(format!("live-{packs}.tar.gz")),
                &["-q"],
            );
            let snap = read_snapshot(&gz);
            let (model, _) = storesnap_core::analyze(&snap);
            assert!(model.containerd.is_some());
            assert!(!model.images.is_empty());
            packs += 1;
        }
        churn.wait().unwrap();
        assert!(packs >= 3, "only {packs} packs while the daemon worked");
    });
    engine(&["stop", d]);
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

/// The model of every containerd store holds what `ctr -n moby` listed for it: image records
/// and targets, content digests, snapshots with parent and kind, and leases.
#[test]
fn every_containerd_store_matches_ctr() {
    use std::collections::BTreeSet;
    let rows = |text: &str| -> Vec<Vec<String>> {
        text.lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.split_whitespace().map(str::to_owned).collect())
            .collect()
    };
    for scenario in Scenario::CONTAINERD {
        let store = store(scenario);
        let oracle = |name: &str| fs::read_to_string(store.oracle.join(name)).unwrap();
        let gz = pack(
            &store.root,
            &scratch(&format!("cd-ctr-{}", scenario.name())).join("s.tar.gz"),
            &["-q"],
        );
        let (model, _) = storesnap_core::source::load(&read_snapshot(&gz));
        let cd = model.containerd.as_deref().unwrap();
        let name = scenario.name();

        let ctr: BTreeSet<(String, String)> = rows(&oracle("ctr-images.txt"))
            .into_iter()
            .map(|r| (r[0].clone(), r[2].clone()))
            .collect();
        let ours: BTreeSet<(String, String)> = cd
            .records
            .values()
            .map(|r| (r.name.clone(), r.target.digest.to_string()))
            .collect();
        assert_eq!(ours, ctr, "{name}: image records");

        let ctr: BTreeSet<String> = rows(&oracle("ctr-content.txt"))
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
        let ours: BTreeSet<String> = cd
            .blobs
            .iter()
            .filter(|(_, b)| b.size.is_some())
            .map(|(d, _)| d.to_string())
            .collect();
        assert_eq!(ours, ctr, "{name}: content");

        let ctr: BTreeSet<(String, Option<String>, String)> = rows(&oracle("ctr-snapshots.txt"))
            .into_iter()
            .map(|r| match r.as_slice() {
                [k, p, kind] => (k.clone(), Some(p.clone()), kind.clone()),
                [k, kind] => (k.clone(), None, kind.clone()),
                other => panic!("{name}: unexpected row {other:?}"),
            })
            .collect();
        assert!(!ctr.is_empty(), "{name}: ctr listed snapshots");
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
        assert_eq!(ours, ctr, "{name}: snapshots");

        let ctr: BTreeSet<String> = rows(&oracle("ctr-leases.txt"))
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
        let ours: BTreeSet<String> = cd.leases.keys().map(ToString::to_string).collect();
        assert_eq!(ours, ctr, "{name}: leases");
    }
}

/// A managed containerd root that is a symlink out of the data root is not followed.
#[test]
fn a_symlinked_containerd_root_is_not_followed() {
    let dir = scratch("cd-symlink");
    let outside = copy_store(store(Scenario::D28Containerd), "cd-symlink-outside");
    fs::create_dir_all(dir.join("root/containers")).unwrap();
    fs::create_dir_all(dir.join("root/containerd")).unwrap();
    std::os::unix::fs::symlink(
        outside.join("containerd/daemon"),
        dir.join("root/containerd/daemon"),
    )
    .unwrap();
    let o = storesnap(&[
        "pack",
        "--root",
        dir.join("root").to_str().unwrap(),
        "-o",
        "-",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no containerd image store was found"));
}
