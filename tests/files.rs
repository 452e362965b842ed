//! What is inside layers, from a real engine's stores: file lists from tar-splits equal those
//! of the layer tars `docker save` writes, whiteouts and opaque directories act as overlayfs
//! makes them, and the wasted-space figures equal a faithful reading of dive's algorithm.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::support::*;

fn json(args: &[&str]) -> Value {
    let o = storesnap(args);
    assert!(
        o.status.success(),
        "storesnap {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

/// The waste store packed, and its two images' archives. Packed once per test process: the
/// tests that share it run at once, and a second `scratch` of the same name would empty the
/// directory under the first.
fn waste() -> (std::path::PathBuf, std::path::PathBuf) {
    static PACKED: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    let store = store(Scenario::Waste);
    let snapshot = PACKED.get_or_init(|| {
        let snapshot = scratch("files-waste").join("waste.tar.gz");
        pack(&store.root, &snapshot, &["-q"]);
        snapshot
    });
    (
        snapshot.clone(),
        store.root.parent().unwrap().join("archives"),
    )
}

/// Every entry of every layer (path, kind, size, mode, owner, time, link, CRC-64) read from a
/// snapshot's tar-splits equals the entry read from the layer's tar in `docker save`'s archive,
/// where storesnap computes the CRC-64 from the content itself.
#[test]
fn file_lists_from_tar_splits_equal_the_layer_tars() {
    let (snapshot, archives) = waste();
    for kind in ["classic", "buildkit"] {
        let image = format!("local/waste:{kind}");
        let archive = archives.join(format!("waste-{kind}.tar"));
        let from_split = json(&[
            "files",
            snapshot.to_str().unwrap(),
            &image,
            "--format",
            "json",
        ]);
        let from_tar = json(&[
            "files",
            archive.to_str().unwrap(),
            &image,
            "--format",
            "json",
        ]);
        assert_eq!(from_split["layers"].as_array().unwrap().len(), 11, "{kind}");
        assert_eq!(from_split, from_tar, "{kind}");
        // The live root reads the same.
        let root = store(Scenario::Waste).root.to_str().unwrap().to_owned();
        let live = json(&["files", "--root", &root, &image, "--format", "json"]);
        assert_eq!(live, from_split, "{kind}");
    }
}

/// Each layer's changes, as the Dockerfile made them: a file removed, a directory removed, a
/// file changed, a file written again unchanged, a directory emptied (opaque) and refilled.
#[test]
fn layer_changes_apply_whiteouts_and_opaque_directories() {
    let (snapshot, _) = waste();
    for kind in ["classic", "buildkit"] {
        let image = format!("local/waste:{kind}");
        let changes = |layer: usize| -> BTreeSet<String> {
            let v = json(&[
                "files",
                snapshot.to_str().unwrap(),
                &image,
                "--layer",
                &layer.to_string(),
                "--format",
                "json",
            ]);
            v["changes"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["file_kind"] != "dir" || c["kind"] == "removed")
                .map(|c| {
                    format!(
                        "{} {} {}",
                        c["kind"].as_str().unwrap(),
                        c["path"].as_str().unwrap(),
                        c["size"]
                    )
                })
                .collect()
        };
        let set = |items: &[&str]| {
            items
                .iter()
                .map(|s| (*s).to_owned())
                .collect::<BTreeSet<_>>()
        };
        assert_eq!(changes(6), set(&["removed data/big.bin 65536"]), "{kind}");
        assert_eq!(changes(7), set(&["removed data/gone 65536"]), "{kind}");
        assert_eq!(changes(8), set(&["modified over.txt 10"]), "{kind}");
        let same = changes(9);
        assert_eq!(same.len(), 1, "{kind}: {same:?}");
        assert!(
            same.iter().next().unwrap().starts_with("same same.txt "),
            "{kind}: {same:?}"
        );
        assert_eq!(
            changes(10),
            set(&["added opq/new 4", "removed opq/old1 5", "removed opq/sub 5"]),
            "{kind}"
        );
    }
    // The merged tree shows what a container sees: the opaque directory holds only `new`.
    let v = json(&[
        "files",
        snapshot.to_str().unwrap(),
        "local/waste:classic",
        "--format",
        "json",
    ]);
    let paths: BTreeSet<&str> = v["merged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["path"].as_str().unwrap())
        .collect();
    for path in ["opq/new", "data/big.bin", "same.txt", "over.txt"] {
        assert!(paths.contains(path), "{path}");
    }
    for path in [
        "opq/old1",
        "opq/sub/old2",
        "data/gone",
        "data/gone/inner.bin",
    ] {
        assert!(!paths.contains(path), "{path}");
    }
}

/// dive's figures, from a snapshot's tar-splits and from the archive, against
/// tests/harness/dive-reference: a second, literal reading of dive's code over the real layer
/// tars. On the waste images and on every image the full scenario saves.
#[test]
fn efficiency_equals_a_faithful_reading_of_dive() {
    let (snapshot, waste_archives) = waste();
    let full = store(Scenario::Full);
    let full_snapshot = scratch("files-full").join("full.tar.gz");
    pack(&full.root, &full_snapshot, &["-q"]);
    let full_archives = full.root.parent().unwrap().join("archives");
    let cases = [
        (
            &snapshot,
            waste_archives.join("waste-classic.tar"),
            "local/waste:classic",
        ),
        (
            &snapshot,
            waste_archives.join("waste-buildkit.tar"),
            "local/waste:buildkit",
        ),
        (
            &full_snapshot,
            full_archives.join("single.tar"),
            "local/app:classic",
        ),
        (
            &full_snapshot,
            full_archives.join("buildkit.tar"),
            "local/bk:1",
        ),
    ];
    for (snapshot, archive, image) in cases {
        let reference =
            std::process::Command::new(repo_root().join("tests/harness/dive-reference"))
                .arg(&archive)
                .output()
                .unwrap();
        assert!(
            reference.status.success(),
            "{}",
            String::from_utf8_lossy(&reference.stderr)
        );
        let want: Value = serde_json::from_slice(&reference.stdout).unwrap();
        for source in [snapshot.as_path(), archive.as_path()] {
            let got = json(&[
                "efficiency",
                source.to_str().unwrap(),
                image,
                "--format",
                "json",
            ]);
            let what = format!("{image} from {}", source.display());
            assert_eq!(
                got["image"]["efficiencyScore"].as_f64(),
                want["efficiencyScore"].as_f64(),
                "{what}"
            );
            assert_eq!(
                got["image"]["inefficientBytes"], want["inefficientBytes"],
                "{what}"
            );
            assert_eq!(got["image"]["sizeBytes"], want["sizeBytes"], "{what}");
            assert_eq!(
                got["storesnap"]["userSizeBytes"], want["userSizeBytes"],
                "{what}"
            );
            let mut files: Vec<Value> = got["image"]["fileReference"].as_array().unwrap().clone();
            files.sort_by_key(|f| {
                (
                    std::cmp::Reverse(f["sizeBytes"].as_u64()),
                    f["file"].as_str().map(str::to_owned),
                )
            });
            assert_eq!(Value::Array(files), want["fileReference"], "{what}");
            // Largest first, as dive lists them.
            let sizes: Vec<u64> = got["image"]["fileReference"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["sizeBytes"].as_u64().unwrap())
                .collect();
            assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{what}: {sizes:?}");
            assert_eq!(
                got["layer"].as_array().unwrap().len(),
                got["layer"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|l| l["fileList"].is_array())
                    .count()
            );
        }
    }
    // storesnap's own figures on the waste image: the deleted directory's file, the opaque
    // directory's two files, the removed copy of big.bin, the old over.txt and the duplicate.
    let got = json(&[
        "efficiency",
        snapshot.to_str().unwrap(),
        "local/waste:classic",
        "--format",
        "json",
    ]);
    let own = &got["storesnap"]["corrected"];
    let files: BTreeSet<(String, String)> = own["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_owned(),
                f["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String)> = [
        ("/data/big.bin", "removed"),
        ("/data/gone/inner.bin", "removed"),
        ("/opq/old1", "removed"),
        ("/opq/sub/old2", "removed"),
        ("/over.txt", "updated"),
        ("/same.txt", "duplicate"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(files, want);
    assert_eq!(own["removedBytes"], 65536 * 2 + 10);
    assert_eq!(own["updatedBytes"], 3);
}

fn ci(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_storesnap"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

/// dive's CI rules: its defaults fail the waste image; a `.dive-ci` in the working directory
/// relaxes them; a flag beats the file; a value dive cannot read makes the run misconfigured.
#[test]
fn efficiency_ci_follows_dives_rules() {
    let (snapshot, _) = waste();
    let dir = scratch("files-ci");
    let s = snapshot.to_str().unwrap();
    let (code, out) = ci(&dir, &["efficiency", s, "local/waste:classic", "--ci"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("  FAIL: highestUserWastedPercent: too many bytes wasted"),
        "{out}"
    );
    assert!(
        out.contains("  SKIP: highestWastedBytes: rule disabled"),
        "{out}"
    );
    assert!(out.contains("  PASS: lowestEfficiency"), "{out}");
    assert!(
        out.contains("Result:FAIL [Total:3] [Passed:1] [Failed:1] [Warn:0] [Skipped:1]"),
        "{out}"
    );
    assert!(out.contains("    3        131 kB  /data/big.bin"), "{out}");
    std::fs::write(
        dir.join(".dive-ci"),
        "rules:\n  lowestEfficiency: 0.9   # dive's default\n  HighestUserWastedPercent: 0.7\n  highestWastedBytes: 200KB\n",
    )
    .unwrap();
    let (code, out) = ci(&dir, &["efficiency", s, "local/waste:classic", "--ci"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("Result:PASS [Total:3] [Passed:3] [Failed:0] [Warn:0] [Skipped:0]"),
        "{out}"
    );
    let (code, out) = ci(
        &dir,
        &[
            "efficiency",
            s,
            "local/waste:classic",
            "--ci",
            "--highestWastedBytes",
            "100KB",
        ],
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("FAIL: highestWastedBytes: too many bytes wasted (wasted-bytes=131133 > threshold=100000)"), "{out}");
    let (code, out) = ci(
        &dir,
        &[
            "efficiency",
            s,
            "local/waste:classic",
            "--ci",
            "--lowest-efficiency",
            "1.5",
        ],
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("MISCONFIGURED: lowestEfficiency: lowestEfficiency config value is outside allowed range (0-1), given '1.5'"), "{out}");
    assert!(out.contains("CI Misconfigured"), "{out}");
}

/// The containerd image store keeps no tar-split: the commands say so, and what to do.
#[test]
fn a_containerd_store_says_where_to_find_its_files() {
    let store = store(Scenario::D28Containerd);
    let snapshot = scratch("files-containerd").join("c.tar.gz");
    pack(&store.root, &snapshot, &["-q"]);
    let o = storesnap(&["efficiency", snapshot.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("keeps no tar-split") && err.contains("docker save"),
        "{err}"
    );
}
