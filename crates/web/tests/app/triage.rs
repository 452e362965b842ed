//! The triage workspace on damaged copies of the demo store: ghosts, unreadable files,
//! orphaned driver directories, dangling tags, keyboard, and the worker's hand-over.

use super::workspace::view_box;
use super::*;

/// The demo snapshot with `damage` done to its entries.
fn demo_with(damage: impl FnOnce(&mut storesnap_core::Snapshot)) -> Vec<u8> {
    use storesnap_core::{Limits, Snapshot};
    let mut s = Snapshot::from_bytes(storesnap_web::DEMO, Limits::default()).unwrap();
    damage(&mut s);
    s.write_to(Vec::new(), 0).unwrap()
}

/// Opens `bytes` as a picked file and waits for the graph.
async fn open(name: &str, bytes: &[u8]) -> (Element, Loaded) {
    let expected = Loaded::parse(name, bytes).unwrap();
    let root = mount();
    settle().await;
    pick(&root, name, bytes);
    wait_for(&root, "[data-chain-id]").await;
    settle().await;
    (root, expected)
}

fn key(target: &Element, key: &str) -> bool {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(key);
    init.set_bubbles(true);
    init.set_cancelable(true);
    let event =
        web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    target.dispatch_event(&event).unwrap();
    event.default_prevented()
}

#[wasm_bindgen_test]
async fn a_missing_layer_is_a_ghost_where_it_should_be() {
    let bytes = damaged_demo();
    let (root, expected) = open("damaged.tar.gz", &bytes).await;
    let ghosts: Vec<_> = expected
        .graph
        .nodes
        .values()
        .filter(|n| n.missing)
        .collect();
    assert_eq!(ghosts.len(), 1, "the removed base");
    let ghost = ghosts[0].chain_id.to_string();
    // The base is drawn, marked missing, with the layers above it as its children.
    let css = format!("[data-chain-id='{ghost}'][data-missing]");
    let node = &wait_for(&root, &css).await[0];
    assert!(node.get_attribute("class").unwrap().contains("ghost"));
    click(node);
    settle().await;
    let details = &query_all(&root, "#details")[0];
    assert_eq!(
        details.get_attribute("data-missing").as_deref(),
        Some("true")
    );
    assert!(text_of(&root, "#details").contains(&ghost));
    let children = attribute_values(&root, "[data-links=children] [data-target]", "data-target");
    let want: Vec<String> = ghosts[0].children.iter().map(ToString::to_string).collect();
    assert_eq!(children, want);
    // Its problems say what the findings about it say, with their hints.
    let codes = attribute_values(&root, "#problems [data-finding-code]", "data-finding-code");
    assert!(codes.iter().any(|c| c == "missing-layer"), "{codes:?}");
    assert!(text_of(&root, "#problems").contains(storesnap_core::Code::MissingLayer.hint()));
    // Every layer and the ghost are drawn or folded.
    click(&query_all(&root, "#zoom-fit")[0]);
    settle().await;
    let own = query_all(&root, "[data-chain-id]").len();
    let folded: usize = attribute_values(&root, "[data-run-count]", "data-run-count")
        .iter()
        .map(|n| n.parse::<usize>().unwrap())
        .sum();
    assert_eq!(own + folded, expected.store.layers.len() + 1);
    root.remove();
    mount_at("").remove();
}

#[wasm_bindgen_test]
async fn a_file_that_does_not_parse_shows_its_bytes() {
    // A truncated image config, and a NUL-filled repositories.json (what a crash leaves).
    let mut config = String::new();
    let bytes = demo_with(|s| {
        let path = s
            .entries
            .keys()
            .find(|k| k.starts_with("image/overlay2/imagedb/content/sha256/"))
            .unwrap()
            .clone();
        if let Some(storesnap_core::snapshot::Entry::File(b)) = s.entries.get_mut(&path) {
            b.truncate(b.len() / 2);
        }
        config = path;
        s.entries.insert(
            "image/overlay2/repositories.json".into(),
            storesnap_core::snapshot::Entry::File(vec![0; 512]),
        );
    });
    let (root, expected) = open("crashed.tar.gz", &bytes).await;
    // The NUL-filled file is a finding whose selection shows a hex dump of it.
    let nul = expected
        .findings
        .iter()
        .position(|f| f.code == storesnap_core::Code::NulFilled)
        .unwrap();
    let items = query_all(&root, "#findings [data-finding-code]");
    click(&items[nul]);
    settle().await;
    assert_eq!(
        storesnap_web::app::current_hash().selection,
        storesnap_web::state::Selection::File("image/overlay2/repositories.json".into())
    );
    let dump = text_of(&root, "#details pre[data-raw-path]");
    assert!(dump.starts_with("00000000: 00 00 00"), "{dump}");
    // The truncated config shows as text, cut where the file ends.
    let invalid = expected
        .findings
        .iter()
        .position(|f| {
            f.code == storesnap_core::Code::InvalidJson
                && f.subjects
                    .contains(&storesnap_core::Subject::Path(config.clone()))
        })
        .unwrap();
    click(&query_all(&root, "#findings [data-finding-code]")[invalid]);
    settle().await;
    let css = format!("#details pre[data-raw-path='{config}']");
    let text = text_of(&root, &css);
    let original = storesnap_core::Snapshot::from_bytes(storesnap_web::DEMO, Default::default())
        .unwrap()
        .file(&config)
        .unwrap()
        .to_vec();
    let half = String::from_utf8_lossy(&original[..original.len() / 2]).into_owned();
    assert_eq!(text, half);
    root.remove();
    mount_at("").remove();
}

#[wasm_bindgen_test]
async fn driver_directories_nothing_uses_are_listed_and_explained() {
    use storesnap_core::snapshot::Entry;
    let orphan = "ab".repeat(32);
    let bytes = demo_with(|s| {
        s.entries.insert(format!("overlay2/{orphan}"), Entry::Dir);
        s.entries
            .insert(format!("overlay2/{orphan}/diff"), Entry::Dir);
        s.entries.insert(
            format!("overlay2/{orphan}/link"),
            Entry::File(b"ORPHANLINKAAAAAAAAAAAAAAAA".to_vec()),
        );
        s.entries.insert(
            "overlay2/l/ORPHANLINKAAAAAAAAAAAAAAAA".into(),
            Entry::Symlink(format!("../{orphan}/diff")),
        );
    });
    let (root, expected) = open("orphan.tar.gz", &bytes).await;
    let named: Vec<String> = storesnap_web::components::driver_dirs::flagged(&expected)
        .keys()
        .map(|k| k.to_string())
        .collect();
    assert!(named.contains(&orphan));
    assert_eq!(
        attribute_values(&root, "#driver-dirs tr[data-driver-dir]", "data-driver-dir"),
        named
    );
    let row = &query_all(&root, &format!("tr[data-driver-dir='{orphan}']"))[0];
    let text = row.text_content().unwrap();
    assert!(text.contains(&format!("overlay2/{orphan}")), "{text}");
    assert!(text.contains("ORPHANLINK"), "{text}");
    assert_eq!(row.get_attribute("tabindex").as_deref(), Some("0"));
    // Selecting it (Enter, here) shows the directory and the finding's hint.
    key(row, "Enter");
    settle().await;
    let details = &query_all(&root, "#details")[0];
    assert_eq!(
        details.get_attribute("data-driver-dir"),
        Some(orphan.clone())
    );
    assert!(text_of(&root, "#problems").contains(storesnap_core::Code::OrphanDriverDir.hint()));
    // And so does its finding.
    click(&query_all(&root, "[data-finding-code=orphan-driver-dir]")[0]);
    settle().await;
    assert_eq!(
        storesnap_web::app::current_hash().selection,
        storesnap_web::state::Selection::DriverDir(orphan.clone())
    );
    root.remove();
    mount_at("").remove();
}

#[wasm_bindgen_test]
async fn the_graph_zooms_with_plus_and_minus_and_space_does_not_scroll() {
    let root = mount_at("#demo");
    wait_for(&root, "[data-chain-id]").await;
    settle().await;
    let svg = &query_all(&root, "svg#graph")[0];
    let (_, _, w0, _) = view_box(&root);
    assert!(key(svg, "+"));
    settle().await;
    let (_, _, w1, _) = view_box(&root);
    assert!(w1 < w0, "+ zooms in: {w0} -> {w1}");
    assert!(key(svg, "-"));
    settle().await;
    let (_, _, w2, _) = view_box(&root);
    assert!(w2 > w1, "− zooms out: {w1} -> {w2}");
    assert!(key(svg, " "), "Space is taken, not left to scroll the page");
    // A focused node opens with Enter: the run it stands for, here.
    let before = query_all(&root, "[data-chain-id]").len();
    if let Some(run) = query_all(&root, "[data-run-count]").first() {
        assert_eq!(run.get_attribute("tabindex").as_deref(), Some("0"));
        key(run, "Enter");
        settle().await;
        assert!(query_all(&root, "[data-chain-id]").len() > before);
    }
    root.remove();
    mount_at("").remove();
}

/// What the worker posts (in parts) is what the page would have computed itself.
#[wasm_bindgen_test]
async fn the_workers_parts_make_the_same_snapshot() {
    use storesnap_web::worker::{self, Message};
    for bytes in [storesnap_web::DEMO.to_vec(), damaged_demo()] {
        let progress = std::cell::Cell::new(0);
        let worker::Reply {
            message,
            texts,
            later,
        } = worker::read(bytes.as_slice(), &|m| {
            if matches!(m, Message::Progress { .. } | Message::Checking) {
                progress.set(progress.get() + 1);
            }
        })
        .unwrap();
        assert!(progress.get() >= 1, "it says when it starts checking");
        let Message::Loaded { parts, .. } = message else {
            panic!("{message:?}");
        };
        assert_eq!(parts.len(), texts.len());
        let texts = texts
            .iter()
            .map(|t| js_sys::Uint8Array::from(t.as_slice()).into())
            .collect();
        let got = worker::assemble(7, "s", bytes.len(), &parts, texts)
            .await
            .unwrap();
        let want = Loaded::parse("s", &bytes).unwrap();
        // Chains are computed on first use: compare them computed.
        for (a, b) in got.store.images.values().zip(want.store.images.values()) {
            assert_eq!(a.chain(), b.chain());
        }
        assert_eq!(got.store, want.store);
        assert_eq!(got.findings, want.findings);
        assert_eq!(got.graph, want.graph);
        assert_eq!(got.usage, want.usage);
        assert_eq!(got.raw, want.raw);
        assert_eq!(got.manifest, want.manifest);
        let report =
            storesnap_core::report::markdown(want.manifest.as_ref(), &want.store, &want.findings);
        assert_eq!(got.report, Some(report));
        assert!(want.disk_use.is_some());
        assert_eq!(got.disk_use, want.disk_use);
        let first =
            storesnap_core::graph::layout(&want.graph, &Default::default(), Default::default());
        assert_eq!(got.layout.as_deref(), Some(&first));
        // After the parts: the survey, and the tar-splits for the file trees, as the page
        // would make them from the snapshot.
        let (surveyed, tar_splits) = later.expect("a survey follows").run();
        let Message::Surveyed { survey, .. } = surveyed else {
            panic!("{surveyed:?}");
        };
        let snapshot =
            storesnap_core::Snapshot::from_bytes(&bytes, storesnap_core::Limits::default())
                .unwrap();
        let listing = storesnap_web::files::Listing::of_snapshot(&snapshot);
        assert_eq!(*survey, listing.survey(&want.store));
        let storesnap_web::files::Listing::TarSplits(files) = listing else {
            panic!("a snapshot's listing is its tar-splits")
        };
        assert!(!files.is_empty());
        assert_eq!(storesnap_web::files::Listing::decode(&tar_splits), files);
    }
}

#[wasm_bindgen_test]
async fn a_tag_pointing_at_a_missing_image_is_a_ghost_its_finding_selects() {
    use storesnap_core::snapshot::Entry;
    let ghost = format!("sha256:{}", "cd".repeat(32));
    let bytes = demo_with(|s| {
        let path = "image/overlay2/repositories.json";
        let Some(Entry::File(b)) = s.entries.get(path) else {
            panic!("no {path}");
        };
        let mut doc: serde_json::Value = serde_json::from_slice(b).unwrap();
        doc["Repositories"]["local/ghost"] = serde_json::json!({ "local/ghost:1": ghost });
        s.entries
            .insert(path.into(), Entry::File(doc.to_string().into_bytes()));
    });
    let (root, _) = open("dangling.tar.gz", &bytes).await;
    let css = format!("#images [data-missing][data-image-id='{ghost}']");
    let row = &wait_for(&root, &css).await[0];
    assert!(row.text_content().unwrap().contains("local/ghost:1"));
    // Its finding selects the ghost, whose inspector names the tag and the hint.
    click(&query_all(&root, "[data-finding-code=dangling-reference]")[0]);
    settle().await;
    assert_eq!(
        storesnap_web::app::current_hash().selection,
        storesnap_web::state::Selection::Image(ghost.parse().unwrap())
    );
    let details = &query_all(&root, "#details")[0];
    assert_eq!(
        details.get_attribute("data-missing").as_deref(),
        Some("true")
    );
    assert!(text_of(&root, "#details").contains("local/ghost:1"));
    assert!(text_of(&root, "#problems").contains(storesnap_core::Code::DanglingReference.hint()));
    root.remove();
    mount_at("").remove();
}

#[wasm_bindgen_test]
async fn a_lower_that_names_no_directory_is_shown_missing_where_it_stands() {
    use storesnap_core::snapshot::Entry;
    let bogus = "l/NOSUCHLINKAAAAAAAAAAAAAAAA";
    let mut damaged = String::new();
    let mut count = 0;
    let bytes = demo_with(|s| {
        // A layer two deep: its lower names its parent, then the base.
        let (path, lower) = s
            .entries
            .iter()
            .find_map(|(p, e)| match e {
                Entry::File(b) if p.ends_with("/lower") && b.contains(&b':') => {
                    Some((p.clone(), String::from_utf8(b.clone()).unwrap()))
                }
                _ => None,
            })
            .expect("a lower with two links");
        let mut links: Vec<&str> = lower.trim().split(':').collect();
        links[0] = bogus;
        count = links.len();
        s.entries
            .insert(path.clone(), Entry::File(links.join(":").into_bytes()));
        damaged = path.split('/').nth(1).unwrap().to_owned();
    });
    let (root, _) = open("lower.tar.gz", &bytes).await;
    click(&query_all(&root, "[data-finding-code=overlay-lower-unknown]")[0]);
    settle().await;
    assert_eq!(
        storesnap_web::app::current_hash().selection,
        storesnap_web::state::Selection::DriverDir(damaged.clone())
    );
    // The unknown link stands first, marked missing; each other link selects its layer.
    let lower = &query_all(&root, "#details [data-links=lower]")[0];
    let missing = query_all(lower, "[data-missing]");
    assert_eq!(missing.len(), 1);
    assert!(missing[0].text_content().unwrap().contains(bogus));
    let links = query_all(lower, "button[data-target]");
    assert_eq!(links.len(), count - 1, "{}", lower.text_content().unwrap());
    let base = links[0].get_attribute("data-target").unwrap();
    click(&links[0]);
    settle().await;
    assert_eq!(
        storesnap_web::app::current_hash().selection,
        storesnap_web::state::Selection::Layer(base.parse().unwrap())
    );
    root.remove();
    mount_at("").remove();
}
