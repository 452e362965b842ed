//! The pre-1.10 layout (`graph/`, `repositories-<driver>`, aufs and devicemapper records):
//! packed, loaded and checked. No engine that writes it runs today: `tests/harness/legacy`
//! makes these stores by hand from the seed articles and moby's v1 migration code.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::*;

const L0: &str = "cf2616975b4a3cba083ca99bc3f0bf70f5f73ee4b27f58a0b6d0c5a2e3bb1b2c";
const L1: &str = "6ce2e90b0bc7224de3db1f0d646fe8e2c4dd37f1793928287f6074bc451a57ea";
const L2: &str = "8c2e06607696bd4afb3d03b687e361cc43cf8ec1a4a725bc96e39f05ba97dd55";

/// A fresh hand-made store of `kind` (aufs, devicemapper, seed001): its root and what it holds.
fn make(kind: &str, name: &str) -> (PathBuf, Value) {
    let dir = scratch(&format!("legacy-{name}"));
    let out = std::process::Command::new(repo_root().join("tests/harness/legacy"))
        .arg(&dir)
        .arg(kind)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    (dir.join("root"), expected)
}

fn check_json(args: &[&str]) -> Value {
    let o = storesnap(&[&["check", "--format", "json"], args].concat());
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)))
}

fn codes(report: &Value) -> Vec<String> {
    let mut c: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect();
    c.sort();
    c
}

/// Packs `root`; checks the snapshot and the live root give the same findings.
fn pack_and_check(root: &Path, name: &str) -> (Vec<u8>, Value) {
    let out = scratch(&format!("legacy-pack-{name}")).join("s.tar.gz");
    let bytes = pack(root, &out, &["-q"]);
    let live = check_json(&["--root", root.to_str().unwrap()]);
    let packed = check_json(&[out.to_str().unwrap()]);
    assert_eq!(
        codes(&live),
        codes(&packed),
        "{name}: live and packed agree"
    );
    assert_eq!(live["counts"], packed["counts"], "{name}");
    (bytes, packed)
}

#[test]
fn pre_1_10_stores_pack_and_read_as_their_v1_graph() {
    for kind in ["aufs", "devicemapper", "seed001"] {
        let (root, expected) = make(kind, kind);
        let (bytes, report) = pack_and_check(&root, kind);
        let layers = expected["layers"].as_object().unwrap();
        assert_eq!(report["counts"]["layers"], layers.len(), "{kind}");
        // Never the thin pool's block files, never layer contents.
        assert!(
            !contains(&all_bytes(&bytes), "THIN-POOL-DATA-MARKER"),
            "{kind}"
        );
        assert!(
            !contains(&all_bytes(&bytes), "busybox placeholder"),
            "{kind}"
        );
        let snapshot = read_snapshot(&bytes);
        let skipped: Vec<&str> = snapshot
            .manifest
            .skipped
            .iter()
            .map(|s| s.path.as_str())
            .collect();
        assert!(skipped.contains(&"linkgraph.db"), "{kind}: {skipped:?}");
        assert_eq!(
            snapshot.manifest.storage_driver, expected["driver"],
            "{kind}"
        );

        // Tags: each names a layer, or is dangling when the seed's layer is gone.
        let tags = expected["tags"].as_object().unwrap();
        let mut dangling = 0;
        for names in tags.values() {
            for id in names.as_object().unwrap().values() {
                dangling += usize::from(!layers.contains_key(id.as_str().unwrap()));
            }
        }
        let found = codes(&report);
        assert_eq!(
            found.iter().filter(|c| *c == "dangling-reference").count(),
            dangling,
            "{kind}: {report:#}"
        );
        assert!(
            found.iter().all(|c| c == "dangling-reference"),
            "{kind}: {report:#}"
        );

        // `docker history` of the tagged tip: one row per v1 layer, as the json says.
        let (repo, tag) = tags
            .iter()
            .flat_map(|(r, t)| t.as_object().unwrap().iter().map(move |(t, id)| (r, t, id)))
            .find(|(_, _, id)| layers.contains_key(id.as_str().unwrap()))
            .map(|(r, t, _)| (r.clone(), t.clone()))
            .unwrap();
        let o = storesnap(&[
            "history",
            "--no-trunc",
            "-H=false",
            "--format",
            "json",
            snapshot_path(&bytes, kind).to_str().unwrap(),
            &format!("{repo}:{tag}"),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let rows: Vec<Value> = String::from_utf8(o.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(rows.len(), layers.len(), "{kind}");
        let mut by_created: Vec<&Value> = layers.values().collect();
        by_created.sort_by_key(|l| l["created"].as_str().unwrap().to_owned());
        for (row, layer) in rows.iter().rev().zip(by_created) {
            assert_eq!(row["CreatedBy"], layer["created_by"], "{kind}");
            assert_eq!(row["Size"], layer["size"].to_string(), "{kind}");
        }
    }
}

fn snapshot_path(bytes: &[u8], name: &str) -> PathBuf {
    let path = scratch(&format!("legacy-snap-{name}")).join("s.tar.gz");
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A store kind, a name, the damage done to its root, and the codes it must give.
type Case = (
    &'static str,
    &'static str,
    fn(&Path),
    &'static [&'static str],
);

/// One defect each, on a copy of the hand-made store: exactly its finding.
#[test]
fn pre_1_10_damage_is_found() {
    let cases: [Case; 7] = [
        (
            "devicemapper",
            "no-parent",
            |r| std::fs::remove_dir_all(r.join(format!("graph/{L1}"))).unwrap(),
            &["missing-layer", "missing-parent-layer", "orphan-driver-dir"],
        ),
        (
            "aufs",
            "cycle",
            |r| {
                let p = r.join(format!("graph/{L0}/json"));
                let text = std::fs::read_to_string(&p).unwrap();
                std::fs::write(
                    &p,
                    text.replacen(
                        "\"created\"",
                        &format!("\"parent\":\"{L2}\",\"created\""),
                        1,
                    ),
                )
                .unwrap();
            },
            &["aufs-layers-mismatch", "layer-parent-cycle"],
        ),
        (
            "devicemapper",
            "layersize",
            |r| std::fs::write(r.join(format!("graph/{L1}/layersize")), "999").unwrap(),
            &["layersize-mismatch"],
        ),
        (
            "devicemapper",
            "layersize-newline",
            |r| std::fs::write(r.join(format!("graph/{L2}/layersize")), "0\n").unwrap(),
            &["invalid-value"],
        ),
        (
            "aufs",
            "aufs-list",
            |r| std::fs::write(r.join(format!("aufs/layers/{L2}")), format!("{L0}\n")).unwrap(),
            &["aufs-layers-mismatch"],
        ),
        (
            "aufs",
            "json-id",
            |r| {
                let p = r.join(format!("graph/{L1}/json"));
                let text = std::fs::read_to_string(&p).unwrap();
                std::fs::write(&p, text.replacen(L1, &"e".repeat(64), 1)).unwrap();
            },
            &["invalid-value"],
        ),
        (
            "aufs",
            "no-json",
            |r| std::fs::remove_file(r.join(format!("graph/{L2}/json"))).unwrap(),
            &["missing-file"],
        ),
    ];
    for (kind, name, damage, want) in cases {
        let (root, _) = make(kind, name);
        damage(&root);
        let (_, report) = pack_and_check(&root, name);
        let mut found = codes(&report);
        found.dedup();
        assert_eq!(found, want, "{name}: {report:#}");
    }
}
