//! The viewer in a real browser: mount it, open the demo snapshot, select things.
//! Run with `cargo test -p storesnap-web --target wasm32-unknown-unknown` (headless Chromium or
//! Firefox, chosen by CHROMEDRIVER or GECKODRIVER).
//!
//! The page reads nothing itself: its worker does. The test runner serves files from this
//! crate's directory, so `scripts/test` copies the worker that `trunk build` wrote into
//! `tests/worker/` first (see [`WORKER`]).

#![cfg(target_arch = "wasm32")]

use gloo::timers::future::TimeoutFuture;
use storesnap_web::state::Loaded;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, MouseEvent, MouseEventInit};

mod files;
mod opening;
mod triage;
mod workspace;

wasm_bindgen_test_configure!(run_in_browser);

/// Each test mounts its own app in its own root and looks only inside it.
fn mount() -> Element {
    mount_at("")
}

/// The viewer's worker, as `trunk build` wrote it into dist/ and `scripts/test` copied it.
const WORKER: &str = "/tests/worker/storesnap-worker_loader.js";

/// Mounts an app on a page whose URL has `hash`, as if a link was opened.
fn mount_at(hash: &str) -> Element {
    mount_with_worker(hash, WORKER)
}

/// The same with the worker script at `worker`.
fn mount_with_worker(hash: &str, worker: &str) -> Element {
    storesnap_web::worker::set_script(worker);
    let window = gloo::utils::window();
    let href = window.location().href().unwrap();
    let base = href.split('#').next().unwrap();
    window
        .history()
        .unwrap()
        .replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some(&format!("{base}{hash}")),
        )
        .unwrap();
    let root = gloo::utils::document().create_element("div").unwrap();
    gloo::utils::body().append_child(&root).unwrap();
    yew::Renderer::<storesnap_web::app::App>::with_root(root.clone()).render();
    root
}

fn query_all(root: &Element, selector: &str) -> Vec<Element> {
    let list = root.query_selector_all(selector).unwrap();
    (0..list.length())
        .filter_map(|i| list.item(i)?.dyn_into::<Element>().ok())
        .collect()
}

/// `attribute` of every element matching `selector`, in document order.
fn attribute_values(root: &Element, selector: &str, attribute: &str) -> Vec<String> {
    query_all(root, selector)
        .iter()
        .map(|e| e.get_attribute(attribute).unwrap())
        .collect()
}

fn text_of(root: &Element, selector: &str) -> String {
    root.query_selector(selector)
        .unwrap()
        .and_then(|e| e.text_content())
        .unwrap_or_default()
}

/// A bubbling click, which SVG elements need (they have no `click()`).
fn click(e: &Element) {
    let init = MouseEventInit::new();
    init.set_bubbles(true);
    let event = MouseEvent::new_with_mouse_event_init_dict("click", &init).unwrap();
    e.dispatch_event(&event).unwrap();
}

/// Yew renders on the next tick.
async fn settle() {
    TimeoutFuture::new(50).await;
}

/// Waits up to thirty seconds for `selector` to match inside `root` (a loaded CI machine can be
/// slow; a test that passes waits only as long as it must).
async fn wait_for(root: &Element, selector: &str) -> Vec<Element> {
    let deadline = js_sys::Date::now() + 30_000.0;
    while js_sys::Date::now() < deadline {
        let found = query_all(root, selector);
        if !found.is_empty() {
            return found;
        }
        settle().await;
    }
    panic!("nothing matched {selector} within 30 s");
}

#[wasm_bindgen_test]
async fn demo_graph_details_and_timeline() {
    let root = mount();
    settle().await;
    assert!(text_of(&root, ".welcome").contains("Nothing is uploaded"));

    click(&query_all(&root, "#demo")[0]);
    wait_for(&root, "[data-chain-id]").await;
    let expected = Loaded::parse("demo", storesnap_web::DEMO).unwrap();

    // Every layer is drawn, on its own or inside a collapsed run.
    let layers = query_all(&root, "[data-chain-id]").len();
    let in_runs: usize = attribute_values(&root, "[data-run-count]", "data-run-count")
        .iter()
        .map(|n| n.parse::<usize>().unwrap())
        .sum();
    assert_eq!(layers + in_runs, expected.store.layers.len());
    assert!(layers > 0);

    // Selecting an image shows it and one timeline row per history entry.
    let row = &query_all(&root, "tr[data-image-id]")[0];
    let id = row.get_attribute("data-image-id").unwrap();
    click(row);
    settle().await;
    assert!(
        text_of(&root, "#details").contains(&id),
        "details show {id}"
    );
    let image = &expected.store.images[&id.parse().unwrap()];
    let history = image.config.as_ref().unwrap().history.len();
    assert_eq!(
        query_all(&root, "#timeline tr[data-history-index]").len(),
        history
    );
    assert!(
        !query_all(&root, ".node.lit").is_empty(),
        "the image's chain is highlighted"
    );

    // Selecting a layer node shows its chainID.
    let node = &query_all(&root, "[data-chain-id]")[0];
    let chain = node.get_attribute("data-chain-id").unwrap();
    click(node);
    settle().await;
    assert!(text_of(&root, "#details").contains(&chain));
    assert_eq!(query_all(&root, ".node.selected").len(), 1);

    // Zooming in narrows the viewBox; Fit shows at least as much as the first view.
    let svg = &query_all(&root, "#graph")[0];
    let span = |svg: &Element| -> f64 {
        svg.get_attribute("viewBox")
            .unwrap()
            .split(' ')
            .nth(2)
            .unwrap()
            .parse()
            .unwrap()
    };
    let first = span(svg);
    click(&query_all(&root, "#zoom-in")[0]);
    settle().await;
    assert!(span(svg) < first, "zoom in: {} -> {}", first, span(svg));
    click(&query_all(&root, "#zoom-fit")[0]);
    settle().await;
    assert!(span(svg) >= first, "fit shows everything");

    // The arrow keys move the selection through the graph.
    let init = web_sys::KeyboardEventInit::new();
    init.set_key("ArrowRight");
    init.set_bubbles(true);
    svg.dispatch_event(
        &web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap(),
    )
    .unwrap();
    settle().await;
    let selected = query_all(&root, ".node.selected");
    assert_eq!(selected.len(), 1);
    assert_ne!(
        selected[0].get_attribute("data-chain-id").unwrap(),
        chain,
        "ArrowRight moved the selection"
    );

    // The findings panel lists every finding.
    assert_eq!(
        query_all(&root, "#findings [data-finding-code]").len(),
        expected.findings.len()
    );
}

/// Picks `bytes` as a file through the page's file input, as a user would.
fn pick(root: &Element, name: &str, bytes: &[u8]) {
    pick_into(root, "input[type=file]", name, bytes);
}

/// The same through the file input `selector` names.
fn pick_into(root: &Element, selector: &str, name: &str, bytes: &[u8]) {
    let array = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let file = web_sys::File::new_with_u8_array_sequence(&array, name).unwrap();
    let transfer = web_sys::DataTransfer::new().unwrap();
    transfer.items().add_with_file(&file).unwrap();
    let input: web_sys::HtmlInputElement = query_all(root, selector)[0].clone().dyn_into().unwrap();
    input.set_files(transfer.files().as_ref());
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    input
        .dispatch_event(&web_sys::Event::new_with_event_init_dict("change", &init).unwrap())
        .unwrap();
}

#[wasm_bindgen_test]
fn the_url_hash_round_trips() {
    use storesnap_web::hash::{Hash, Source};
    use storesnap_web::state::Selection;
    let id = format!("sha256:{}", "a".repeat(64));
    #[track_caller]
    fn check(input: &str, expected: Hash, formatted: &str) {
        let parsed = Hash::parse(input);
        assert_eq!(parsed, expected, "{input}");
        assert_eq!(parsed.format(), formatted, "{input}");
    }
    check("", Hash::default(), "");
    check(
        "#demo",
        Hash {
            source: Some(Source::Demo),
            ..Hash::default()
        },
        "#demo",
    );
    check(
        &format!("#layer={id}&demo"),
        Hash {
            source: Some(Source::Demo),
            selection: Selection::Layer(id.parse().unwrap()),
        },
        &format!("#layer={id}&demo"),
    );
    // The address takes the rest of the hash, `&` and all.
    check(
        &format!("#image={id}&url=http://h/s.tar.gz?a=1&b=2"),
        Hash {
            source: Some(Source::Url("http://h/s.tar.gz?a=1&b=2".into())),
            selection: Selection::Image(id.parse().unwrap()),
        },
        &format!("#image={id}&url=http://h/s.tar.gz?a=1&b=2"),
    );
    // What this viewer does not understand is dropped, not an error.
    check(
        "#image=nope&zoom=3&demo",
        Hash {
            source: Some(Source::Demo),
            ..Hash::default()
        },
        "#demo",
    );
}

#[wasm_bindgen_test]
async fn the_selection_lives_in_the_url_hash() {
    let expected = Loaded::parse("demo", storesnap_web::DEMO).unwrap();
    let image = expected
        .store
        .images
        .values()
        .find(|i| !i.tags.is_empty())
        .unwrap();
    // A link with an image selected opens the demo with that image selected.
    let root = mount_at(&format!("#image={}&demo", image.id));
    wait_for(&root, "[data-chain-id]").await;
    settle().await;
    assert!(text_of(&root, "#details").contains(&image.id.to_string()));
    assert_eq!(query_all(&root, "tr.selected[data-image-id]").len(), 1);

    // Selecting a layer puts it in the hash, keeping where the snapshot came from.
    let node = &query_all(&root, "[data-chain-id]")[0];
    let chain = node.get_attribute("data-chain-id").unwrap();
    click(node);
    settle().await;
    let hash = gloo::utils::window().location().hash().unwrap();
    assert_eq!(hash, format!("#layer={chain}&demo"));
    root.remove();
    mount_at("").remove();
}

#[wasm_bindgen_test]
async fn the_images_table_sorts_and_filters() {
    use storesnap_web::components::images::sort_rows;
    use storesnap_web::state::{Column, Sort};
    let expected = Loaded::parse("demo", storesnap_web::DEMO).unwrap();
    let root = mount_at("#demo");
    wait_for(&root, "tr[data-image-id]").await;
    let shown = |root: &Element| attribute_values(root, "tr[data-image-id]", "data-image-id");
    let want = |sort: Sort| -> Vec<String> {
        let mut rows = expected.store.image_usage(false);
        sort_rows(&mut rows, sort);
        rows.iter().map(|r| r.id.to_string()).collect()
    };
    assert_eq!(shown(&root), want(Sort::default()), "newest first");

    // Clicking a heading sorts by it, largest first; clicking again reverses.
    let size = &query_all(&root, "[data-sort=size]")[0];
    click(size);
    settle().await;
    let by_size = want(Sort {
        column: Column::Size,
        descending: true,
    });
    assert_eq!(shown(&root), by_size);
    let sizes: Vec<i64> = by_size
        .iter()
        .map(|id| {
            expected
                .store
                .image_size(&expected.store.images[&id.parse().unwrap()])
        })
        .collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");
    assert!(
        sizes.first() > sizes.last(),
        "the demo's images differ in size"
    );
    click(size);
    settle().await;
    assert_eq!(
        shown(&root),
        want(Sort {
            column: Column::Size,
            descending: false
        })
    );
    click(&query_all(&root, "[data-sort=repository]")[0]);
    settle().await;
    assert_eq!(
        shown(&root),
        want(Sort {
            column: Column::Repository,
            descending: false
        })
    );

    // The search box keeps rows whose tag or ID prefix matches.
    let first = expected.store.image_usage(false)[0].clone();
    let search: web_sys::HtmlInputElement = query_all(&root, "#images input[type=search]")[0]
        .clone()
        .dyn_into()
        .unwrap();
    for needle in [
        first.id.hex()[..6].to_owned(),
        format!("{}:{}", first.repository, first.tag),
    ] {
        search.set_value(&needle);
        let init = web_sys::InputEventInit::new();
        init.set_bubbles(true);
        search
            .dispatch_event(&web_sys::InputEvent::new_with_event_init_dict("input", &init).unwrap())
            .unwrap();
        settle().await;
        let rows = shown(&root);
        assert!(rows.contains(&first.id.to_string()), "{needle}: {rows:?}");
        assert!(
            rows.len() < expected.store.image_usage(false).len(),
            "{needle} filtered nothing"
        );
    }
    root.remove();
}

#[wasm_bindgen_test]
async fn one_timeline_across_all_images() {
    use storesnap_core::timeline::events;
    let expected = Loaded::parse("demo", storesnap_web::DEMO).unwrap();
    let store = &expected.store;
    let root = mount_at("#demo");
    wait_for(&root, "[data-timeline-image]").await;
    let shown =
        |root: &Element| attribute_values(root, "[data-timeline-image]", "data-timeline-image");
    let want = |all: bool| -> Vec<String> {
        let ids: Vec<_> = store.image_usage(all).into_iter().map(|u| u.id).collect();
        events(store, &ids)
            .iter()
            .map(|e| e.image.to_string())
            .collect()
    };
    // The images the table lists, oldest first; with "all images", the intermediate ones too.
    assert_eq!(shown(&root), want(false));
    let tagged = query_all(&root, "[data-timeline-image] rect.tagged").len();
    assert!(tagged > 0 && tagged <= want(false).len());
    click(&query_all(&root, "#all-images")[0]);
    settle().await;
    assert_eq!(shown(&root), want(true));
    assert!(want(true).len() > want(false).len());

    // Clicking an image on the timeline selects it.
    let event = &query_all(&root, "[data-timeline-image]")[1];
    let id = event.get_attribute("data-timeline-image").unwrap();
    click(event);
    settle().await;
    assert!(text_of(&root, "#details").contains(&id));
    assert_eq!(query_all(&root, "[data-timeline-image].selected").len(), 1);
    root.remove();
}

#[wasm_bindgen_test]
async fn the_report_and_what_was_redacted_are_shown() {
    let expected = Loaded::parse("demo", storesnap_web::DEMO).unwrap();
    let root = mount_at("#demo");
    wait_for(&root, "#report-text").await;
    let textarea: web_sys::HtmlTextAreaElement = query_all(&root, "#report-text")[0]
        .clone()
        .dyn_into()
        .unwrap();
    assert_eq!(
        textarea.value(),
        storesnap_core::report::markdown(
            expected.manifest.as_ref(),
            &expected.store,
            &expected.findings
        )
    );
    // A synthetic click is no user gesture, so the browser may refuse: either way it says so.
    click(&query_all(&root, "#copy-report")[0]);
    let notice = wait_for(&root, "#copy-notice").await;
    let text = notice[0].text_content().unwrap_or_default();
    assert!(
        text.contains("Copied") || text.contains("select the text"),
        "{text}"
    );

    // Every redacted file is listed with its fields.
    let m = expected
        .manifest
        .as_ref()
        .expect("a snapshot has a manifest");
    assert!(!m.redacted.is_empty(), "the demo has planted secrets");
    let listed = query_all(&root, "[data-redacted-path]");
    assert_eq!(listed.len(), m.redacted.len());
    for (li, r) in listed.iter().zip(&m.redacted) {
        assert_eq!(li.get_attribute("data-redacted-path").unwrap(), r.path);
        let text = li.text_content().unwrap();
        for f in &r.fields {
            assert!(text.contains(f.as_str()), "{f} not shown for {}", r.path);
        }
    }
    assert!(text_of(&root, "#redactions").contains("byte-exact"));
    root.remove();
}

/// The demo with its base layer's layerdb record gone: every image misses a layer, the layers
/// above lose their parent, its driver directory is an orphan. Many findings, few codes.
fn damaged_demo() -> Vec<u8> {
    use storesnap_core::{Limits, Snapshot};
    let mut s = Snapshot::from_bytes(storesnap_web::DEMO, Limits::default()).unwrap();
    let base = s
        .entries
        .keys()
        .filter_map(|k| k.strip_prefix("image/overlay2/layerdb/sha256/"))
        .filter_map(|rest| rest.strip_suffix("/diff"))
        .find(|chain| {
            !s.entries
                .contains_key(&format!("image/overlay2/layerdb/sha256/{chain}/parent"))
        })
        .unwrap()
        .to_owned();
    let prefix = format!("image/overlay2/layerdb/sha256/{base}");
    s.entries.retain(|k, _| !k.starts_with(&prefix));
    s.write_to(Vec::new(), 0).unwrap()
}
