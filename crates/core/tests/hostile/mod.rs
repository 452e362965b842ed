//! Hostile input, one class at a time: every reader, loader, check, view and layout either
//! gives a clear error or a model with findings, never a panic, a loop or an exhausted heap.
//!
//! These stores are made by hand: no engine writes damage like this on purpose. Each case
//! names its class and what must come out; `survives` runs everything a user can reach.

use std::io::Write;

use storesnap_core::docker::{Clock, HistoryOptions, ImageListOptions, Utc};
use storesnap_core::graph::{layout, LayerGraph, Spacing};
use storesnap_core::{ChainId, Code, Contents, DiffId, Entry, Finding, Limits, Snapshot, Store};

/// Sizes of the scale cases. Under wasm the debug build is slower, so the browser run uses
/// smaller stores of the same shapes; the native run uses the sizes the issue names.
#[cfg(not(target_arch = "wasm32"))]
const SCALE: usize = 1;
#[cfg(target_arch = "wasm32")]
const SCALE: usize = 10;

fn base_snapshot(driver: &str) -> Snapshot {
    let mut s = Snapshot::from_bytes(
        include_bytes!("../data/basic/snapshot.tar.gz"),
        Limits::default(),
    )
    .unwrap();
    s.manifest.storage_driver = driver.into();
    s.manifest.image_configs.clear();
    s.entries.clear();
    s
}

/// Runs everything a user can reach on a snapshot: load and checks, `image ls`, `history` of
/// every image, `system df`, the report, the layer graph with every run opened, the timeline.
fn survives(s: &Snapshot) -> (Store, Vec<Finding>) {
    let (store, findings) = storesnap_core::analyze(s);
    let clock = Clock {
        now_unix: 1_800_000_000,
        zone: &Utc,
    };
    for all in [false, true] {
        let opts = ImageListOptions {
            all,
            digests: true,
            no_trunc: false,
        };
        let _ = store.image_rows(opts, &clock);
        let _ = store.image_usage(all);
    }
    for image in store.images.values() {
        let _ = store.history_rows(image, HistoryOptions::default(), &clock);
    }
    let _ = store.disk_usage(&s.manifest.dir_sizes, &s.manifest.data_root, &clock);
    let _ = storesnap_core::report::markdown(Some(&s.manifest), &store, &findings);
    let graph = LayerGraph::new(&store, &findings);
    let all_open = graph.nodes.keys().cloned().collect();
    for expanded in [Default::default(), all_open] {
        let l = layout(&graph, &expanded, Spacing::default());
        let drawn = l.layers_drawn();
        assert_eq!(
            drawn,
            graph.nodes.len(),
            "every layer and ghost is drawn once"
        );
        assert!(
            store.layers.keys().all(|c| l.at.contains_key(c)),
            "every layer has a place"
        );
    }
    let _ = storesnap_core::timeline::events(&store, store.images.keys());
    (store, findings)
}

fn codes(findings: &[Finding]) -> Vec<Code> {
    let mut c: Vec<Code> = findings.iter().map(|f| f.code).collect();
    c.dedup();
    c
}

#[track_caller]
fn check(name: &str, s: &Snapshot, expected: &[Code]) {
    let (_, findings) = survives(s);
    for code in expected {
        assert!(
            findings.iter().any(|f| f.code == *code),
            "{name}: no {code:?} among {:?}",
            codes(&findings)
        );
    }
    for f in &findings {
        // Hostile values are shortened before they reach a message.
        assert!(
            f.message.len() < 4096,
            "{name}: a {} byte message",
            f.message.len()
        );
    }
}

fn file(s: &mut Snapshot, path: &str, bytes: impl Into<Vec<u8>>) {
    s.entries.insert(path.into(), Entry::File(bytes.into()));
}

fn dir(s: &mut Snapshot, path: &str) {
    s.entries.insert(path.into(), Entry::Dir);
}

fn diff(i: usize) -> DiffId {
    DiffId::from_hex(&format!("{i:064x}")).unwrap()
}

/// A layer in layerdb (and its driver record), `parent` as written.
fn layer(s: &mut Snapshot, chain: &ChainId, diff: &DiffId, parent: Option<&ChainId>, size: &str) {
    let driver = s.manifest.storage_driver.clone();
    let dir_path = format!("image/{driver}/layerdb/sha256/{}", chain.hex());
    dir(s, &dir_path);
    file(s, &format!("{dir_path}/diff"), diff.as_str());
    file(s, &format!("{dir_path}/size"), size);
    let cache = &chain.hex()[..40];
    file(s, &format!("{dir_path}/cache-id"), cache);
    file(
        s,
        &format!("{dir_path}/tar-split.json.gz"),
        vec![0x1f, 0x8b],
    );
    if let Some(p) = parent {
        file(s, &format!("{dir_path}/parent"), p.as_str());
    }
    if driver == "vfs" {
        dir(s, "vfs/dir");
        dir(s, &format!("vfs/dir/{cache}"));
    }
}

/// An image over `diffs`, with its layers, tagged `tag`.
fn image(s: &mut Snapshot, diffs: &[DiffId], tag: &str, created_by: &str) -> String {
    let driver = s.manifest.storage_driver.clone();
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux", "created": "2026-01-02T03:04:05Z",
        "config": {"Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": diffs},
        "history": diffs.iter().map(|_| serde_json::json!({"created_by": created_by})).collect::<Vec<_>>(),
    });
    let bytes = serde_json::to_vec(&config).unwrap();
    let id = storesnap_core::Digest::sha256_of(&bytes);
    file(
        s,
        &format!("image/{driver}/imagedb/content/sha256/{}", id.hex()),
        bytes,
    );
    let mut parent: Option<ChainId> = None;
    for d in diffs {
        let chain = match &parent {
            None => ChainId::from(d.digest().clone()),
            Some(p) => p.child(d),
        };
        layer(s, &chain, d, parent.as_ref(), "10");
        parent = Some(chain);
    }
    let repos = serde_json::json!({"Repositories": {"x": {tag: id.as_str()}}});
    let path = format!("image/{driver}/repositories.json");
    if !s.entries.contains_key(&path) {
        file(s, &path, serde_json::to_vec(&repos).unwrap());
    }
    id.as_str().to_owned()
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn metadata_files_that_lie() {
    let healthy = || {
        let mut s = base_snapshot("vfs");
        image(&mut s, &[diff(1), diff(2)], "x:1", "RUN true");
        s
    };
    let (_, findings) = survives(&healthy());
    assert!(
        findings
            .iter()
            .all(|f| f.code == Code::UnusedLayer || f.severity == storesnap_core::Severity::Info),
        "the hand-made healthy store is healthy: {:?}",
        codes(&findings)
    );
    let top = ChainId::from(diff(1).digest().clone()).child(&diff(2));
    let layer_file = |f: &str| format!("image/vfs/layerdb/sha256/{}/{f}", top.hex());
    let (diff_file, size_file, cache_file) = (
        layer_file("diff"),
        layer_file("size"),
        layer_file("cache-id"),
    );
    let size_is = |v: String| -> Damage {
        let p = size_file.clone();
        Box::new(move |s| file(s, &p, v.clone()))
    };
    type Damage = Box<dyn Fn(&mut Snapshot)>;
    let cases: Vec<(&str, Damage, &[Code])> = vec![
        (
            "NUL-filled diff",
            Box::new(move |s| file(s, &diff_file, vec![0; 71])),
            &[Code::NulFilled],
        ),
        (
            "absurd size",
            size_is("99999999999999999999999".into()),
            &[Code::InvalidValue],
        ),
        (
            "size past 2^53",
            size_is((1u64 << 62).to_string()),
            &[Code::InvalidValue],
        ),
        ("negative size", size_is("-5".into()), &[Code::InvalidValue]),
        (
            "link where repositories.json belongs",
            Box::new(|s| {
                s.entries.insert(
                    "image/vfs/repositories.json".into(),
                    Entry::Symlink("/etc/passwd".into()),
                );
            }),
            &[Code::InvalidValue],
        ),
        (
            "directory where a config belongs",
            Box::new(|s| {
                let path = s
                    .entries
                    .keys()
                    .find(|p| p.contains("imagedb/content"))
                    .unwrap()
                    .clone();
                s.entries.insert(path, Entry::Dir);
            }),
            &[Code::InvalidValue],
        ),
        (
            "deeply nested config",
            Box::new(|s| {
                let path = s
                    .entries
                    .keys()
                    .find(|p| p.contains("imagedb/content"))
                    .unwrap()
                    .clone();
                let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
                file(s, &path, deep);
            }),
            &[Code::InvalidJson],
        ),
        (
            "megabyte strings",
            Box::new(|s| {
                let long = "é".repeat(1 << 19);
                let repos = serde_json::json!({"Repositories": {"x": {format!("x:{long}"): "sha256:".to_owned() + &"ab".repeat(32)}}});
                file(
                    s,
                    "image/vfs/repositories.json",
                    serde_json::to_vec(&repos).unwrap(),
                );
                image(s, &[diff(7)], "y:1", &long);
            }),
            &[Code::InvalidValue],
        ),
        (
            "non-ASCII container directory",
            Box::new(|s| {
                dir(s, "containers/conteneur-é");
                file(s, "containers/conteneur-é/config.v2.json", "{}");
                dir(s, "image/vfs/layerdb/mounts/ü");
                file(s, "image/vfs/layerdb/mounts/ü/mount-id", "abc");
            }),
            &[Code::InvalidValue],
        ),
        (
            "layer named by something else",
            Box::new(|s| dir(s, "image/vfs/layerdb/sha256/..")),
            &[Code::InvalidValue],
        ),
        (
            "cache-id that is a path",
            Box::new(move |s| file(s, &cache_file, "../../../etc")),
            &[Code::InvalidValue],
        ),
    ];
    for (name, damage, expected) in cases {
        let mut s = healthy();
        damage(&mut s);
        check(name, &s, expected);
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn parent_loops_are_found_and_drawn() {
    for len in [1, 2, 5] {
        let mut s = base_snapshot("vfs");
        let chains: Vec<ChainId> = (0..len)
            .map(|i| ChainId::from_hex(&format!("{:064x}", 0xc0 + i)).unwrap())
            .collect();
        for (i, c) in chains.iter().enumerate() {
            layer(&mut s, c, &diff(i), Some(&chains[(i + 1) % len]), "1");
        }
        // A layer hanging below the loop is not part of it.
        let below = ChainId::from_hex(&"d".repeat(64)).unwrap();
        layer(&mut s, &below, &diff(99), Some(&chains[0]), "1");
        let (store, findings) = survives(&s);
        let loops: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.code == Code::LayerParentCycle)
            .collect();
        assert_eq!(loops.len(), 1, "{len}: {:?}", codes(&findings));
        assert_eq!(loops[0].subjects.len(), len);
        assert_eq!(store.layer_cycles()[0].len(), len);
    }
}

/// A store as a single chain of `depth` layers, on `driver`; overlay2 gets lower files that each
/// name only the layer's parent, so every one of them mismatches.
fn chain_store(depth: usize, driver: &str) -> Snapshot {
    let mut s = base_snapshot(driver);
    let diffs: Vec<DiffId> = (0..depth).map(diff).collect();
    image(&mut s, &diffs, "deep:1", "RUN step");
    if driver == "overlay2" {
        dir(&mut s, "overlay2");
        dir(&mut s, "overlay2/l");
        let layers: Vec<(String, Option<String>)> = s
            .entries
            .iter()
            .filter_map(|(p, e)| {
                let cache = p.strip_suffix("/cache-id")?;
                let Entry::File(c) = e else { return None };
                let parent = s
                    .file(&format!("{cache}/parent"))
                    .map(|p| String::from_utf8_lossy(p).into_owned());
                Some((String::from_utf8_lossy(c).into_owned(), parent))
            })
            .collect();
        for (i, (cache, parent)) in layers.iter().enumerate() {
            let link = format!("{:0>26}", format!("L{i}"));
            dir(&mut s, &format!("overlay2/{cache}"));
            dir(&mut s, &format!("overlay2/{cache}/diff"));
            file(&mut s, &format!("overlay2/{cache}/link"), link.clone());
            s.entries.insert(
                format!("overlay2/l/{link}"),
                Entry::Symlink(format!("../{cache}/diff")),
            );
            if parent.is_some() {
                file(
                    &mut s,
                    &format!("overlay2/{cache}/lower"),
                    "l/AAAAAAAAAAAAAAAAAAAAAAAAAA",
                );
            }
        }
    }
    s
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_15000_layer_chain_checks_and_lays_out() {
    let depth = 15_000 / SCALE;
    let (store, findings) = survives(&chain_store(depth, "vfs"));
    assert_eq!(store.layers.len(), depth);
    assert!(codes(&findings).contains(&Code::DeepChain));
    let (_, findings) = survives(&chain_store(depth, "overlay2"));
    let mismatches = findings
        .iter()
        .filter(|f| f.code == Code::OverlayLowerMismatch)
        .count();
    assert_eq!(mismatches, depth - 1);
    // The largest size a layer may claim, on every layer: sums saturate, nothing overflows.
    let mut s = chain_store(depth, "vfs");
    for (path, entry) in s.entries.iter_mut() {
        if path.ends_with("/size") {
            *entry = Entry::File((1u64 << 53).to_string().into_bytes());
        }
    }
    let (store, _) = survives(&s);
    let image = store.images.values().next().unwrap();
    assert_eq!(store.image_size(image), i64::MAX);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn many_images_and_many_references_to_nothing() {
    let mut s = base_snapshot("vfs");
    let images = 20_000 / SCALE;
    for i in 0..images {
        image(
            &mut s,
            &[diff(0), diff(i + 1)],
            &format!("x:{i}"),
            "RUN true",
        );
    }
    let refs = 100_000 / SCALE;
    let dangling: serde_json::Map<String, serde_json::Value> = (0..refs)
        .map(|i| (format!("ghost:{i}"), format!("sha256:{i:064x}").into()))
        .collect();
    file(
        &mut s,
        "image/vfs/repositories.json",
        serde_json::to_vec(&serde_json::json!({"Repositories": {"ghost": dangling}})).unwrap(),
    );
    let (store, findings) = survives(&s);
    assert_eq!(store.images.len(), images);
    let n = findings
        .iter()
        .filter(|f| f.code == Code::DanglingReference)
        .count();
    assert_eq!(n, refs);
}

mod readers;
