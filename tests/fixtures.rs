use std::collections::BTreeMap;

use sha2::{Digest as _, Sha256};
use storesnap_core::Snapshot;

use crate::support::*;

/// A snapshot's shape: its entry paths with every random ID replaced, counted.
/// Two stores that the same harness made have the same shape.
fn shape(s: &Snapshot) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for path in s.entries.keys().map(|p| stored_path(p)) {
        // IDs are random: 64 hex for layers and containers, 25 base36 for BuildKit's driver
        // dirs, 26 base32 for overlay2 links. Their position says what they are.
        let parts: Vec<&str> = path.split('/').collect();
        let normal: Vec<String> = parts
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let is_hex64 = c.len() == 64 && c.bytes().all(|b| b.is_ascii_hexdigit());
                let driver_dir = i == 1 && parts[0] == "overlay2" && *c != "l";
                let link = i == 2 && parts[..2] == ["overlay2", "l"];
                match () {
                    _ if driver_dir && c.ends_with("-init") => "<dir>-init".to_owned(),
                    _ if driver_dir => "<dir>".to_owned(),
                    _ if link => "<link>".to_owned(),
                    _ if is_hex64 => "<id>".to_owned(),
                    _ => (*c).to_owned(),
                }
            })
            .collect();
        *out.entry(normal.join("/")).or_default() += 1;
    }
    out
}

#[track_caller]
fn check(scenario: Scenario) {
    let name = scenario.name();
    let data = repo_root().join("crates/core/tests/data").join(name);
    let stale = format!(
        "the committed {name} fixtures are stale: run scripts/make-fixtures and commit the result"
    );
    let recorded = std::fs::read_to_string(data.join("harness.sha256")).expect(&stale);
    let harness = format!(
        "{:x}",
        Sha256::digest(std::fs::read(repo_root().join("tests/harness/engine")).unwrap())
    );
    assert_eq!(
        recorded.trim(),
        harness,
        "{stale} (tests/harness/engine changed)"
    );

    let committed = read_snapshot(&std::fs::read(data.join("snapshot.tar.gz")).unwrap());
    let fresh = read_snapshot(&pack(
        &store(scenario).root,
        &scratch(&format!("fixture-{name}")).join("s.tar.gz"),
        &["-q"],
    ));
    assert_eq!(
        shape(&committed),
        shape(&fresh),
        "{stale} (the store's shape changed)"
    );
    assert_eq!(
        committed.manifest.counts.images, fresh.manifest.counts.images,
        "{stale}"
    );
    // The oracle was recorded from the same store as the snapshot.
    let images = std::fs::read_to_string(data.join("oracle/image-ids.txt")).unwrap();
    assert_eq!(
        images.lines().count() as u64,
        committed.manifest.counts.images,
        "{stale}"
    );
}

#[test]
fn committed_fixtures_match_the_harness() {
    check(Scenario::Basic);
    check(Scenario::Full);
}
