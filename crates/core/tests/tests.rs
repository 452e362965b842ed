//! Tests of the core over fixtures that a real Docker engine wrote (`scripts/make-fixtures`).
//! They read the fixtures through `include_bytes!`, so they run unchanged under wasm:
//! `cargo test -p storesnap-core --target wasm32-unknown-unknown` runs them in a browser.

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod archive;
mod drivers;
mod files;
mod hostile;

use serde_json::Value;
use storesnap_core::docker::{Clock, HistoryOptions, ImageListOptions, Utc};
use storesnap_core::{chain_id, Contents, DiffId, Entry, Limits, Snapshot};

macro_rules! fixture {
    ($scenario:literal) => {
        Fixture {
            snapshot: include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/data/",
                $scenario,
                "/snapshot.tar.gz"
            )),
            image_inspect: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/data/",
                $scenario,
                "/oracle/image-inspect.json"
            )),
            container_inspect: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/data/",
                $scenario,
                "/oracle/container-inspect.json"
            )),
            images: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/data/",
                $scenario,
                "/oracle/images.jsonl"
            )),
            history: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/data/",
                $scenario,
                "/oracle/history-all.json"
            )),
            report: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/data/",
                $scenario,
                "/report.md"
            )),
        }
    };
}

mod containerd;

/// A committed snapshot and what the docker CLI said about the same store.
struct Fixture {
    snapshot: &'static [u8],
    image_inspect: &'static str,
    container_inspect: &'static str,
    /// `docker image ls -a --digests --no-trunc --format '{{json .}}'`
    images: &'static str,
    /// `docker history --no-trunc --format '{{json .}}'` of every image, by image ID.
    history: &'static str,
    /// `storesnap report` for it, reviewed and committed.
    report: &'static str,
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
    let streamed = Snapshot::from_bytes(bytes, Limits::default()).unwrap();
    assert_eq!(sliced(bytes, Contents::All).unwrap(), streamed);
    streamed
}

/// The viewer's way to read: in slices, keeping only `contents`.
pub(crate) fn sliced(bytes: &[u8], contents: Contents) -> storesnap_core::Result<Snapshot> {
    let mut reader =
        storesnap_core::SlicedReader::with_contents(bytes.to_vec(), Limits::default(), contents)?;
    while !reader.step(4096)? {}
    reader.finish()
}

/// What a reader keeping only `contents` makes of the snapshot `all`.
pub(crate) fn unread(all: &Snapshot, contents: Contents) -> Snapshot {
    let mut out = all.clone();
    for (path, entry) in &mut out.entries {
        if let Entry::File(bytes) = entry {
            if !contents.keeps(path) {
                *entry = Entry::Unread(bytes.len() as u64);
            }
        }
    }
    out
}

/// The store and findings `analyze` makes of a snapshot, as the JSON the viewer's worker posts.
pub(crate) fn analyzed(s: &Snapshot) -> (Value, Value) {
    let (store, findings) = storesnap_core::analyze(s);
    (
        serde_json::to_value(&store).unwrap(),
        serde_json::to_value(&findings).unwrap(),
    )
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

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn fixtures_parse_and_their_chain_ids_verify() {
    check(fixture!("basic"));
    check(fixture!("full"));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn truncated_fixture_is_an_error_not_a_panic() {
    let bytes = fixture!("full").snapshot;
    for cut in [1, 10, 100, bytes.len() / 3, bytes.len() - 1] {
        assert!(
            Snapshot::from_bytes(&bytes[..cut], Limits::default()).is_err(),
            "cut at {cut}"
        );
        assert!(
            sliced(&bytes[..cut], Contents::All).is_err(),
            "cut at {cut}, sliced"
        );
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
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

/// Drops what depends on the clock rather than the store.
fn timeless(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("CreatedSince");
    v
}

/// Newest first; the daemon orders images created in the same second at random, so rows
/// compare in order by second and as a set within one.
fn by_second(rows: Vec<Value>) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for r in rows {
        let key = r["CreatedAt"].as_str().unwrap().to_owned();
        match out.last_mut() {
            Some((k, v)) if *k == key => v.push(r.to_string()),
            _ => out.push((key, vec![r.to_string()])),
        }
    }
    out.iter_mut().for_each(|(_, v)| v.sort());
    out
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn images_and_history_match_the_docker_cli() {
    for f in [fixture!("basic"), fixture!("full")] {
        images_and_history_match(&f);
    }
}

/// `image ls -a --digests --no-trunc` and every image's `history --no-trunc`, as the fixture's
/// engine printed them.
fn images_and_history_match(f: &Fixture) {
    {
        let (store, _) = storesnap_core::analyze(&read(f.snapshot));
        let clock = Clock {
            now_unix: 0,
            zone: &Utc,
        };
        let opts = ImageListOptions {
            all: true,
            digests: true,
            no_trunc: true,
        };
        let ours: Vec<Value> = store
            .image_rows(opts, &clock)
            .iter()
            .map(|r| timeless(serde_json::to_value(r).unwrap()))
            .collect();
        let docker: Vec<Value> = f
            .images
            .lines()
            .map(|l| timeless(serde_json::from_str(l).unwrap()))
            .collect();
        assert_eq!(by_second(ours), by_second(docker));

        let history: serde_json::Map<String, Value> = serde_json::from_str(f.history).unwrap();
        assert_eq!(history.len(), store.images.len());
        for (id, rows) in history {
            let image = &store.images[&id.parse().unwrap()];
            let ours: Vec<Value> = store
                .history_rows(
                    image,
                    HistoryOptions {
                        no_trunc: true,
                        human: true,
                    },
                    &clock,
                )
                .iter()
                .map(|r| timeless(serde_json::to_value(r).unwrap()))
                .collect();
            let docker: Vec<Value> = rows
                .as_array()
                .unwrap()
                .iter()
                .cloned()
                .map(timeless)
                .collect();
            assert_eq!(ours, docker, "history of {id}");
        }
    }
}

/// Corrupt the tar inside a fixture at many places (re-gzipped, so the damage reaches the
/// parser): every result is an error or a store with findings, never a panic.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn corrupted_snapshots_never_panic() {
    use std::io::{Read, Write};
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(fixture!("full").snapshot)
        .read_to_end(&mut tar)
        .unwrap();
    let (mut errors, mut loaded) = (0, 0);
    for i in 0..200 {
        let mut bad = tar.clone();
        let at = (i * 7919 + 13) % bad.len();
        bad[at] = bad[at].wrapping_add(1 + (i % 251) as u8);
        if i % 5 == 0 {
            bad.truncate(at);
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&bad).unwrap();
        let file = gz.finish().unwrap();
        let streamed = Snapshot::from_bytes(&file, Limits::default());
        // Both readers agree on every input, damaged or not.
        match (&streamed, sliced(&file, Contents::All)) {
            (Ok(a), Ok(b)) => assert_eq!(a, &b),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            (a, b) => panic!("readers disagree at {i}: {a:?} vs {b:?}"),
        }
        match streamed {
            Ok(s) => {
                let _ = storesnap_core::analyze(&s);
                loaded += 1;
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
                errors += 1;
            }
        }
    }
    assert!(errors > 0 && loaded > 0, "errors {errors}, loaded {loaded}");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_layer_graph_holds_every_layer_once() {
    use storesnap_core::graph::{layout, LayerGraph, Spacing};
    for f in [fixture!("basic"), fixture!("full")] {
        let (store, findings) = storesnap_core::analyze(&read(f.snapshot));
        let graph = LayerGraph::new(&store, &findings);
        assert_eq!(graph.nodes.len(), store.layers.len());
        // Every image builds on the one imported base layer.
        assert_eq!(graph.roots.len(), 1);
        let l = layout(&graph, &Default::default(), Spacing::default());
        let drawn = l.layers_drawn();
        assert_eq!(drawn, store.layers.len());
        assert_eq!(l.edges.len(), l.nodes.len() - 1);
        // Shared layers say what made them and whose they are.
        let shared: Vec<_> = graph.nodes.values().filter(|n| n.shared()).collect();
        assert!(!shared.is_empty());
        assert!(shared.iter().all(|n| n.command.is_some()), "{shared:#?}");
        assert!(shared.iter().any(|n| n.family.is_some()), "{shared:#?}");
        assert!(graph.nodes.values().all(|n| !n.missing));
    }
}

/// A layer gone from layerdb is a ghost where it was: under the layer below it in the image,
/// over the layer whose parent file still names it.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_missing_layer_is_a_ghost_where_it_was() {
    use storesnap_core::graph::{layout, LayerGraph, Spacing};
    let mut s = read(fixture!("full").snapshot);
    let (store, _) = storesnap_core::analyze(&s);
    // A middle layer: it has a parent and a child.
    let gone = store
        .layers
        .values()
        .find(|l| {
            l.parent.is_some()
                && store
                    .layers
                    .values()
                    .any(|c| c.parent.as_ref() == Some(&l.chain_id))
        })
        .unwrap();
    let prefix = format!("image/overlay2/layerdb/sha256/{}", gone.chain_id.hex());
    s.entries.retain(|k, _| !k.starts_with(&prefix));
    let (damaged, findings) = storesnap_core::analyze(&s);
    assert!(!damaged.layers.contains_key(&gone.chain_id));
    let graph = LayerGraph::new(&damaged, &findings);
    let ghost = &graph.nodes[&gone.chain_id];
    assert!(ghost.missing);
    assert_eq!(ghost.parent, gone.parent);
    assert!(!ghost.children.is_empty());
    assert_eq!(graph.nodes.len(), store.layers.len());
    let l = layout(&graph, &Default::default(), Spacing::default());
    assert_eq!(l.layers_drawn(), graph.nodes.len());
    assert!(l.position_of(&gone.chain_id).is_some());
}

/// The numbers the viewer sorts by are the ones `df -v` prints, for every image it lists.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn image_usage_agrees_with_disk_usage() {
    use storesnap_core::docker::{human_size, human_size_with_precision, Clock, Utc};
    for fixture in [fixture!("basic"), fixture!("full")] {
        let s = read(fixture.snapshot);
        let (store, _) = storesnap_core::analyze(&s);
        let clock = Clock {
            now_unix: 0,
            zone: &Utc,
        };
        let df = store.disk_usage(&s.manifest.dir_sizes, &s.manifest.data_root, &clock);
        let usage = store.image_usage(false);
        assert_eq!(usage.len(), df.images.len());
        for (u, row) in usage.iter().zip(&df.images) {
            assert_eq!(u.id.to_string(), row.id);
            assert_eq!(
                (u.repository.as_str(), u.tag.as_str()),
                (row.repository.as_str(), row.tag.as_str())
            );
            assert_eq!(human_size_with_precision(u.size as f64, 3), row.size);
            assert_eq!(human_size(u.shared_size.unwrap()), row.shared_size);
            assert_eq!(human_size(u.unique_size.unwrap()), row.unique_size);
            assert_eq!(u.containers.unwrap().to_string(), row.containers);
        }
        // With `all`, every image with a config appears exactly once.
        let all = store.image_usage(true);
        let ids: std::collections::BTreeSet<_> = all.iter().map(|u| &u.id).collect();
        assert_eq!(ids.len(), all.len());
        let with_config = store.images.values().filter(|i| i.config.is_some()).count();
        assert_eq!(all.len(), with_config);
        assert!(
            all.len() > usage.len(),
            "the fixtures have intermediate images"
        );
    }
}

/// The store-wide timeline: every image once, in time order, with both moments read. Images
/// written here after they were built have a lastUpdated no earlier than their creation.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_store_timeline_orders_every_image() {
    use storesnap_core::timeline::events;
    let s = read(fixture!("full").snapshot);
    let (store, _) = storesnap_core::analyze(&s);
    let events = events(&store, store.images.keys());
    assert_eq!(events.len(), store.images.len());
    assert!(events.windows(2).all(|w| w[0].when() <= w[1].when()));
    for e in &events {
        let created = e.created.unwrap();
        if let Some(updated) = e.last_updated {
            assert!(
                updated >= created,
                "{}: updated {updated} before created {created}",
                e.name
            );
        }
    }
    assert!(events.iter().any(|e| e.last_updated.is_some()));
}

/// The report is a snapshot test: a change to it shows up as a diff of `data/*/report.md` to
/// review. `UPDATE_SNAPSHOTS=1 cargo test -p storesnap-core --test tests` rewrites them.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_report_matches_its_reviewed_snapshot() {
    for (name, fixture) in [
        ("basic", fixture!("basic")),
        ("full", fixture!("full")),
        ("d28-containerd", fixture!("d28-containerd")),
    ] {
        let s = read(fixture.snapshot);
        let (store, findings) = storesnap_core::analyze(&s);
        let got = storesnap_core::report::markdown(Some(&s.manifest), &store, &findings);
        #[cfg(not(target_arch = "wasm32"))]
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            let path = format!("{}/tests/data/{name}/report.md", env!("CARGO_MANIFEST_DIR"));
            std::fs::write(path, &got).unwrap();
            continue;
        }
        assert_eq!(
            got, fixture.report,
            "data/{name}/report.md is stale: UPDATE_SNAPSHOTS=1 rewrites it; review the diff"
        );
    }
}

/// The full fixtures as `storesnap pack` writes snapshots today (format 2: zstd, tar-splits
/// inflated), made from the format-1 fixtures by the CLI's writer (its test
/// `the_demos_are_the_full_fixtures_as_pack_writes_them` keeps them so): the viewer's demos,
/// read by its spare worker to warm up. They hold the same stores.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_full_fixtures_in_format_2_hold_the_same_stores() {
    for (format2, format1) in [
        (
            &include_bytes!("data/full/snapshot.tar.zst")[..],
            fixture!("full").snapshot,
        ),
        (
            &include_bytes!("data/d28-containerd/snapshot.tar.zst")[..],
            fixture!("d28-containerd").snapshot,
        ),
    ] {
        let format2 = read(format2);
        let mut format1 = read(format1);
        format1.manifest.format_version = storesnap_core::manifest::FORMAT_VERSION;
        assert_eq!(format2.manifest, format1.manifest);
        // The tar-splits are kept inflated, under their names without `.gz`.
        let count =
            |s: &Snapshot, name: &str| s.entries.keys().filter(|p| p.ends_with(name)).count();
        assert_eq!(
            count(&format2, "/tar-split.json"),
            count(&format1, "/tar-split.json.gz")
        );
        assert_eq!(analyzed(&format2), analyzed(&format1));
    }
}

/// The viewer's worker reads a snapshot without layerdb's tar-splits, and reads them alone
/// later for the file lists: the store it loads and checks is the one a full read gives.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_read_without_tar_splits_loads_and_checks_the_same() {
    for (name, f) in [
        ("basic", fixture!("basic")),
        ("full", fixture!("full")),
        ("d28-containerd", fixture!("d28-containerd")),
    ] {
        let all = read(f.snapshot);
        let keeping = |contents| sliced(f.snapshot, contents).unwrap();
        let metadata = keeping(Contents::Metadata);
        assert_eq!(metadata, unread(&all, Contents::Metadata), "{name}");
        assert_eq!(
            keeping(Contents::TarSplits),
            unread(&all, Contents::TarSplits),
            "{name}"
        );
        let left = metadata
            .entries
            .values()
            .filter(|e| matches!(e, Entry::Unread(_)))
            .count();
        // The containerd store keeps no tar-splits; the others one per layer.
        let layers = all.manifest.counts.layers as usize;
        assert_eq!(
            left,
            if name == "d28-containerd" { 0 } else { layers },
            "{name}"
        );
        assert_eq!(analyzed(&metadata), analyzed(&all), "{name}");
    }
}

/// The viewer's worker sends the page a loaded store as JSON: it must come back the same.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_loaded_store_survives_json() {
    use storesnap_core::graph::{layout, LayerGraph, Layout, Spacing};
    use storesnap_core::{Finding, Store};
    for f in [
        fixture!("basic"),
        fixture!("full"),
        fixture!("d28-containerd"),
    ] {
        let (store, findings) = storesnap_core::analyze(&read(f.snapshot));
        let back: Store = serde_json::from_str(&serde_json::to_string(&store).unwrap()).unwrap();
        // Chains are computed on first use; compare them computed on both sides.
        for (a, b) in store.images.values().zip(back.images.values()) {
            assert_eq!(a.chain(), b.chain());
        }
        assert_eq!(back, store);
        let text = serde_json::to_string(&findings).unwrap();
        let back: Vec<Finding> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, findings);
        let graph = LayerGraph::new(&store, &findings);
        let placed = layout(&graph, &Default::default(), Spacing::default());
        let back: Layout = serde_json::from_str(&serde_json::to_string(&placed).unwrap()).unwrap();
        assert_eq!(back, placed);
        let back: LayerGraph =
            serde_json::from_str(&serde_json::to_string(&graph).unwrap()).unwrap();
        assert_eq!(back, graph);
    }
}
