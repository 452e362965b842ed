//! Tests of the core over fixtures that a real Docker engine wrote (`scripts/make-fixtures`).
//! They read the fixtures through `include_bytes!`, so they run unchanged under wasm.

use storesnap_core::{chain_id, DiffId, Entry, Limits, Snapshot};

macro_rules! fixture {
    ($scenario:literal) => {
        Fixture {
            snapshot: include_bytes!(concat!("data/", $scenario, "/snapshot.tar.gz")),
            image_inspect: include_str!(concat!("data/", $scenario, "/oracle/image-inspect.json")),
            container_inspect: include_str!(concat!(
                "data/",
                $scenario,
                "/oracle/container-inspect.json"
            )),
        }
    };
}

/// A committed snapshot and what the docker CLI said about the same store.
struct Fixture {
    snapshot: &'static [u8],
    image_inspect: &'static str,
    container_inspect: &'static str,
}

impl Fixture {
    /// (images, distinct layers, containers) as `docker inspect` saw them.
    fn oracle_counts(&self) -> (u64, u64, u64) {
        let images: Vec<serde_json::Value> = serde_json::from_str(self.image_inspect).unwrap();
        let containers: Vec<serde_json::Value> =
            serde_json::from_str(self.container_inspect).unwrap();
        let mut chains = std::collections::BTreeSet::new();
        for image in &images {
            let diffs: Vec<DiffId> = image["RootFS"]["Layers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_str().unwrap().parse().unwrap())
                .collect();
            for n in 1..=diffs.len() {
                chains.insert(chain_id(&diffs[..n]).unwrap());
            }
        }
        (
            images.len() as u64,
            chains.len() as u64,
            containers.len() as u64,
        )
    }
}

fn read(bytes: &[u8]) -> Snapshot {
    Snapshot::from_bytes(bytes, Limits::default()).unwrap()
}

#[track_caller]
fn check(fixture: Fixture) {
    let expected_counts = fixture.oracle_counts();
    let s = read(fixture.snapshot);
    let c = &s.manifest.counts;
    assert_eq!((c.images, c.layers, c.containers), expected_counts);
    assert_eq!(c.files + c.symlinks + c.dirs, s.entries.len() as u64);
    assert_eq!(s.manifest.storage_driver, "overlay2");

    // Every layerdb directory is named by the chainID of its diff on top of its parent.
    let layerdb = "image/overlay2/layerdb/sha256/";
    let mut checked = 0;
    for (path, entry) in &s.entries {
        let Some(hex) = path.strip_prefix(layerdb).filter(|h| h.len() == 64) else {
            continue;
        };
        assert_eq!(entry, &Entry::Dir);
        let diff: DiffId = std::str::from_utf8(s.file(&format!("{path}/diff")).unwrap())
            .unwrap()
            .parse()
            .unwrap();
        let chain = match s.file(&format!("{path}/parent")) {
            None => chain_id(&[diff]).unwrap(),
            Some(p) => std::str::from_utf8(p)
                .unwrap()
                .parse::<storesnap_core::ChainId>()
                .unwrap()
                .child(&diff),
        };
        assert_eq!(chain.hex(), hex, "{path}");
        checked += 1;
    }
    assert_eq!(checked, c.layers);
}

#[test]
fn fixtures_parse_and_their_chain_ids_verify() {
    check(fixture!("basic"));
    check(fixture!("full"));
}

#[test]
fn truncated_fixture_is_an_error_not_a_panic() {
    let bytes = fixture!("full").snapshot;
    for cut in [1, 10, 100, bytes.len() / 3, bytes.len() - 1] {
        assert!(
            Snapshot::from_bytes(&bytes[..cut], Limits::default()).is_err(),
            "cut at {cut}"
        );
    }
}

#[test]
fn undamaged_fixtures_have_nothing_above_info() {
    for f in [fixture!("basic"), fixture!("full")] {
        let (store, findings) = storesnap_core::analyze(&read(f.snapshot));
        let bad: Vec<_> = findings
            .iter()
            .filter(|f| f.severity > storesnap_core::Severity::Info)
            .collect();
        assert!(bad.is_empty(), "{bad:#?}");
        assert_eq!(store.images.len() as u64, f.oracle_counts().0);
        assert!(store.images.values().all(|i| i.verified));
    }
}
