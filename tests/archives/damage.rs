//! Damage to real archives: each kind gives its finding, naming the layer and the image.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::archives;
use crate::support::*;

/// An archive's entries, in order: (header, bytes).
fn entries(path: &Path) -> Vec<(tar::Header, Vec<u8>)> {
    let mut archive = tar::Archive::new(std::fs::File::open(path).unwrap());
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let mut bytes = Vec::new();
            e.read_to_end(&mut bytes).unwrap();
            (e.header().clone(), bytes)
        })
        .collect()
}

fn write(path: &Path, entries: &[(tar::Header, Vec<u8>)]) {
    let mut out = tar::Builder::new(std::fs::File::create(path).unwrap());
    for (h, bytes) in entries {
        let mut h = h.clone();
        h.set_size(bytes.len() as u64);
        h.set_cksum();
        out.append(&h, bytes.as_slice()).unwrap();
    }
    out.finish().unwrap();
}

fn name(h: &tar::Header) -> String {
    h.path().unwrap().to_string_lossy().into_owned()
}

/// The largest regular file: the base layer in every harness image.
fn largest(entries: &[(tar::Header, Vec<u8>)]) -> usize {
    (0..entries.len())
        .filter(|&i| entries[i].0.entry_type().is_file())
        .max_by_key(|&i| entries[i].1.len())
        .unwrap()
}

fn check_json(path: &Path) -> Value {
    let o = storesnap(&["check", "--format", "json", path.to_str().unwrap()]);
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)))
}

/// The findings of `code`, as (subject kinds, message).
fn findings(report: &Value, code: &str) -> Vec<(Vec<String>, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .map(|f| {
            let kinds = f["subjects"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["kind"].as_str().unwrap().to_owned())
                .collect();
            (kinds, f["message"].as_str().unwrap().to_owned())
        })
        .collect()
}

/// Damages a copy of `scenario`'s single-image archive and expects exactly `codes` among the
/// errors, each naming the layer and the image where `names_layer`.
#[track_caller]
fn check(
    scenario: Scenario,
    what: &str,
    damage: impl FnOnce(&mut Vec<(tar::Header, Vec<u8>)>),
    codes: &[&str],
    names_layer: &[&str],
) {
    let original = archives(scenario).join("single.tar");
    let mut all = entries(&original);
    damage(&mut all);
    let dir = scratch(&format!("archive-damage-{}-{what}", scenario.name()));
    let path: PathBuf = dir.join("damaged.tar");
    write(&path, &all);
    let report = check_json(&path);
    let mut got: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect();
    got.dedup();
    let mut want: Vec<String> = codes.iter().map(|c| c.to_string()).collect();
    want.sort();
    got.sort();
    assert_eq!(got, want, "{} {what}: {report:#}", scenario.name());
    for code in names_layer {
        for (kinds, message) in findings(&report, code) {
            assert!(
                kinds.contains(&"chain".to_owned()) && kinds.contains(&"image".to_owned()),
                "{} {what}: {code} names {kinds:?}: {message}",
                scenario.name()
            );
            assert!(message.contains("local/app:classic"), "{message}");
        }
    }
}

const ENGINES: [Scenario; 3] = [Scenario::Full, Scenario::D28Graph, Scenario::D28Containerd];

#[test]
fn a_flipped_byte_in_a_layer_is_found() {
    for scenario in ENGINES {
        let flip = |all: &mut Vec<(tar::Header, Vec<u8>)>| {
            let i = largest(all);
            let mid = all[i].1.len() / 2;
            all[i].1[mid] ^= 0x55;
        };
        let codes: &[&str] = match scenario {
            // A plain layer.tar has no name to check: only its diffID.
            Scenario::Full => &["diff-id-mismatch"],
            // Uncompressed blobs are named by their diffID.
            Scenario::D28Graph => &["archive-digest-mismatch", "diff-id-mismatch"],
            // A gzip blob no longer inflates.
            _ => &["archive-digest-mismatch", "layer-unreadable"],
        };
        check(
            scenario,
            "flip",
            flip,
            codes,
            &["diff-id-mismatch", "layer-unreadable"],
        );
    }
}

#[test]
fn a_missing_layer_is_found() {
    for scenario in ENGINES {
        let drop = |all: &mut Vec<(tar::Header, Vec<u8>)>| {
            let i = largest(all);
            all.remove(i);
        };
        check(
            scenario,
            "drop",
            drop,
            &["archive-missing-file"],
            &["archive-missing-file"],
        );
    }
}

#[test]
fn a_changed_config_is_found() {
    for scenario in ENGINES {
        let change = |all: &mut Vec<(tar::Header, Vec<u8>)>| {
            let (_, bytes) = all
                .iter_mut()
                .find(|(h, b)| {
                    h.entry_type().is_file()
                        && b.starts_with(b"{")
                        && String::from_utf8_lossy(b).contains("\"rootfs\"")
                        && !name(h).ends_with("/json")
                        && String::from_utf8_lossy(b).contains("cat")
                })
                .unwrap();
            let text = String::from_utf8(bytes.clone()).unwrap();
            *bytes = text
                .replacen("/app/hello.txt", "/app/HELLO.txt", 1)
                .into_bytes();
        };
        check(
            scenario,
            "config",
            change,
            &["archive-digest-mismatch", "config-digest-mismatch"],
            &[],
        );
    }
}

#[test]
fn a_truncated_archive_keeps_what_was_read_and_says_so() {
    for scenario in ENGINES {
        let original = archives(scenario).join("single.tar");
        let bytes = std::fs::read(&original).unwrap();
        let dir = scratch(&format!("archive-cut-{}", scenario.name()));
        let path = dir.join("cut.tar");
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let report = check_json(&path);
        assert!(
            !findings(&report, "archive-truncated").is_empty(),
            "{}: {report:#}",
            scenario.name()
        );
    }
}
