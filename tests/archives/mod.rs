//! `docker save` archives from every engine and mode the harness runs, read by `check`,
//! `images`, `history` and `report`, against `docker image inspect` and `docker history` on the
//! store they were saved from.

mod damage;

use std::path::PathBuf;

use serde_json::Value;

use crate::support::*;

/// The archives `engine save` wrote for a scenario (every scenario but `basic`).
pub fn archives(scenario: Scenario) -> PathBuf {
    store(scenario).root.parent().unwrap().join("archives")
}

/// What the engine that saved them is, as far as the archives' layout goes.
fn is_containerd(scenario: Scenario) -> bool {
    Scenario::CONTAINERD.contains(&scenario)
}

fn expected_layout(scenario: Scenario, archive: &str) -> &'static str {
    match scenario {
        _ if archive == "oci" => "OCI image layout (no manifest.json)",
        s if is_containerd(s) => "containerd image store",
        Scenario::Full | Scenario::Vfs | Scenario::Btrfs | Scenario::Waste => "Docker 1.10 to 24",
        _ => "Docker 25+, graph driver",
    }
}

fn run(args: &[&str]) -> String {
    let o = storesnap_env(args, &[("TZ", "UTC")]);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every archive of `scenario`: (file, the name of its `image inspect` oracle).
fn saved(scenario: Scenario) -> Vec<(PathBuf, String)> {
    let dir = archives(scenario);
    let mut out = Vec::new();
    for name in [
        "single",
        "shared",
        "digest",
        "buildkit",
        "zstd",
        "oci",
        "waste-classic",
        "waste-buildkit",
    ] {
        let tar = dir.join(format!("{name}.tar"));
        if tar.exists() {
            out.push((tar, name.to_owned()));
        }
    }
    if scenario != Scenario::Waste {
        out.push((dir.join("single.tar.gz"), "single".to_owned()));
    }
    out
}

#[track_caller]
fn check_archive(scenario: Scenario, path: &std::path::Path, oracle_name: &str) {
    let what = format!("{} {}", scenario.name(), path.display());
    let s = store(scenario);
    let archive = path.to_str().unwrap();
    let inspect: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(archives(scenario).join(format!("{oracle_name}.inspect.json")))
            .unwrap(),
    )
    .unwrap();
    // An archive's layer sizes are what overlay2 records: files plus symlink targets. vfs and
    // btrfs count tar headers (no symlinks), and the containerd store the snapshotter's blocks.
    let graph_sizes = matches!(
        scenario,
        Scenario::Full | Scenario::Waste | Scenario::D28Graph | Scenario::D26Graph
    );

    // Every layer and config verified: nothing found.
    let check: Value = serde_json::from_str(&run(&["check", "--format", "json", archive])).unwrap();
    assert_eq!(check["counts"]["errors"], 0, "{what}: {check:#}");
    assert_eq!(check["counts"]["warnings"], 0, "{what}: {check:#}");
    assert_eq!(
        check["counts"]["images"].as_u64().unwrap() as usize,
        inspect.len(),
        "{what}"
    );
    let report = run(&["report", archive]);
    let layout = expected_layout(scenario, oracle_name);
    assert!(report.contains(layout), "{what}: not {layout:?}:\n{report}");

    // `docker image ls` of the store, for the rows of the saved images.
    let listed = json_lines(&std::fs::read_to_string(s.oracle.join("images.jsonl")).unwrap());
    let ours = json_lines(&run(&["images", "--no-trunc", "--format", "json", archive]));
    for image in &inspect {
        let id = image["Id"].as_str().unwrap();
        let rows: Vec<&Value> = ours.iter().filter(|r| r["ID"] == id).collect();
        assert!(!rows.is_empty(), "{what}: {id} is not listed: {ours:?}");
        let docker = listed.iter().find(|r| r["ID"] == id).unwrap();
        for row in &rows {
            assert_eq!(row["CreatedAt"], docker["CreatedAt"], "{what}: {id}");
            if graph_sizes {
                assert_eq!(row["Size"], docker["Size"], "{what}: {id}");
            }
            // The archive holds the tags that were saved, which the store also has.
            if row["Tag"] != "<none>" {
                let name = format!(
                    "{}:{}",
                    row["Repository"].as_str().unwrap(),
                    row["Tag"].as_str().unwrap()
                );
                let tags = image["RepoTags"].as_array().unwrap();
                assert!(
                    tags.iter().any(|t| t == &name),
                    "{what}: {name} not in {tags:?}"
                );
            }
        }

        // `docker history`: the same rows. Below the top, an ID needs a parent link, which an
        // archive keeps only to a parent saved with it: as after `docker load`, others are
        // `<missing>`.
        let hex = id.strip_prefix("sha256:").unwrap();
        let docker_rows = json_lines(
            &std::fs::read_to_string(s.oracle.join(format!("history/{hex}.jsonl"))).unwrap(),
        );
        let our_rows = json_lines(&run(&[
            "history",
            "--no-trunc",
            "--format",
            "json",
            archive,
            id,
        ]));
        assert_eq!(our_rows.len(), docker_rows.len(), "{what}: history of {id}");
        for (n, (o, d)) in our_rows.iter().zip(&docker_rows).enumerate() {
            for k in ["CreatedBy", "CreatedAt", "Comment"] {
                assert_eq!(o[k], d[k], "{what}: history of {id}, row {n}, {k}");
            }
            if graph_sizes {
                assert_eq!(o["Size"], d["Size"], "{what}: history of {id}, row {n}");
            }
            if n == 0 {
                assert_eq!(o["ID"], d["ID"], "{what}: history of {id}, row {n}");
            } else {
                assert!(
                    o["ID"] == d["ID"] || o["ID"] == "<missing>",
                    "{what}: history of {id}, row {n}: {} for {}",
                    o["ID"],
                    d["ID"]
                );
            }
        }
        if graph_sizes {
            // Layer sizes to the byte: their sum is `docker image inspect`'s Size.
            let bytes = json_lines(&run(&[
                "history",
                "--no-trunc",
                "-H=false",
                "--format",
                "json",
                archive,
                id,
            ]));
            let sum: u64 = bytes
                .iter()
                .map(|r| r["Size"].as_str().unwrap().parse::<u64>().unwrap())
                .sum();
            assert_eq!(sum, image["Size"].as_u64().unwrap(), "{what}: size of {id}");
        }
    }
}

#[test]
fn every_archive_reads_as_docker_saw_its_images() {
    for scenario in Scenario::ALL {
        if scenario == Scenario::Basic {
            continue;
        }
        for (path, oracle) in saved(scenario) {
            check_archive(scenario, &path, &oracle);
        }
    }
}

#[test]
fn zstd_layers_are_inflated_and_verified() {
    for scenario in [Scenario::D28Containerd, Scenario::D26Containerd] {
        let path = archives(scenario).join("zstd.tar");
        let bytes = std::fs::read(&path).unwrap();
        // The harness's image really has a zstd layer (magic 28 b5 2f fd) in the archive.
        assert!(
            bytes.windows(4).any(|w| w == [0x28, 0xb5, 0x2f, 0xfd]),
            "{}",
            path.display()
        );
        let o = run(&["check", "--format", "json", path.to_str().unwrap()]);
        let v: Value = serde_json::from_str(&o).unwrap();
        assert_eq!(v["counts"]["errors"], 0, "{o}");
        assert_eq!(v["counts"]["layers"], 2, "{o}");
    }
}

#[test]
fn a_snapshot_is_still_read_as_a_snapshot_and_other_files_are_named() {
    let dir = scratch("archive-kinds");
    let not_tar = dir.join("notes.txt");
    std::fs::write(&not_tar, "hello").unwrap();
    let o = storesnap(&["check", not_tar.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("neither zstd- nor gzip-compressed"), "{err}");

    // A tar that is neither a snapshot nor an archive of images.
    let other = dir.join("other.tar");
    let status = std::process::Command::new("tar")
        .args([
            "-cf",
            other.to_str().unwrap(),
            "-C",
            dir.to_str().unwrap(),
            "notes.txt",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let o = storesnap(&["check", other.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("neither manifest.json nor"), "{err}");
}

/// An archive without manifest.json is the pre-1.10 format (seed 004's): a Docker 20.10 save
/// still holds it whole (`<v1 id>/json`, `layer.tar`, `repositories`), so removing
/// manifest.json from a real one gives one. It reads as the v1 graph, every layer.tar checked.
#[test]
fn an_archive_without_manifest_json_reads_as_the_v1_graph() {
    let original = archives(Scenario::Full).join("single.tar");
    let inspect: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(archives(Scenario::Full).join("single.inspect.json")).unwrap(),
    )
    .unwrap();
    let layers = inspect[0]["RootFS"]["Layers"].as_array().unwrap().len();
    let dir = scratch("archive-legacy");
    let mut builder = tar::Builder::new(Vec::new());
    let mut dropped_layer = tar::Builder::new(Vec::new());
    let mut first_layer = true;
    let mut archive = tar::Archive::new(std::fs::File::open(&original).unwrap());
    for e in archive.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e.path().unwrap().to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut bytes).unwrap();
        let mut h = e.header().clone();
        if path == "manifest.json" {
            continue;
        }
        builder
            .append_data(&mut h.clone(), &path, bytes.as_slice())
            .unwrap();
        if path.ends_with("/layer.tar") && h.entry_type().is_file() && first_layer {
            first_layer = false;
            continue;
        }
        dropped_layer
            .append_data(&mut h, &path, bytes.as_slice())
            .unwrap();
    }
    let legacy = dir.join("legacy.tar");
    std::fs::write(&legacy, builder.into_inner().unwrap()).unwrap();
    let report: Value = serde_json::from_str(&run(&[
        "check",
        "--format",
        "json",
        legacy.to_str().unwrap(),
    ]))
    .unwrap();
    assert_eq!(report["counts"]["images"], 1, "{report:#}");
    assert_eq!(report["counts"]["layers"], layers, "{report:#}");
    assert_eq!(report["counts"]["errors"], 0, "{report:#}");
    let text = run(&["report", legacy.to_str().unwrap()]);
    assert!(text.contains("before Docker 1.10"), "{text}");
    let images = run(&["images", "--format", "json", legacy.to_str().unwrap()]);
    assert!(images.contains("\"Repository\":\"local/app\""), "{images}");

    // A layer.tar gone: named.
    let cut = dir.join("cut.tar");
    std::fs::write(&cut, dropped_layer.into_inner().unwrap()).unwrap();
    let o = storesnap(&["check", "--format", "json", cut.to_str().unwrap()]);
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"archive-missing-file"), "{report:#}");
}
