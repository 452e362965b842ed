//! The viewer in a real browser: mount it, open the demo snapshot, select things.
//! Run with `cargo test -p storesnap-web --target wasm32-unknown-unknown` (headless Chromium or
//! Firefox, chosen by CHROMEDRIVER or GECKODRIVER).

#![cfg(target_arch = "wasm32")]

use gloo::timers::future::TimeoutFuture;
use storesnap_web::state::Loaded;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, MouseEvent, MouseEventInit};

wasm_bindgen_test_configure!(run_in_browser);

/// Each test mounts its own app in its own root and looks only inside it.
fn mount() -> Element {
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

#[wasm_bindgen_test]
async fn demo_graph_details_and_timeline() {
    let root = mount();
    settle().await;
    assert!(text_of(&root, ".welcome").contains("Nothing is uploaded"));

    click(&query_all(&root, "#demo")[0]);
    settle().await;
    let expected = Loaded::parse("demo", storesnap_web::DEMO).unwrap();

    // Every layer is drawn, on its own or inside a collapsed run.
    let layers = query_all(&root, "[data-chain-id]").len();
    let in_runs: usize = query_all(&root, "[data-run-count]")
        .iter()
        .map(|e| {
            e.get_attribute("data-run-count")
                .unwrap()
                .parse::<usize>()
                .unwrap()
        })
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
    init.set_key("ArrowDown");
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
        "ArrowDown moved the selection"
    );

    // The findings panel lists every finding.
    assert_eq!(
        query_all(&root, "[data-finding-code]").len(),
        expected.findings.len()
    );
}

/// Picks `bytes` as a file through the page's file input, as a user would.
fn pick(root: &Element, name: &str, bytes: &[u8]) {
    let array = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let file = web_sys::File::new_with_u8_array_sequence(&array, name).unwrap();
    let transfer = web_sys::DataTransfer::new().unwrap();
    transfer.items().add_with_file(&file).unwrap();
    let input: web_sys::HtmlInputElement = query_all(root, "input[type=file]")[0]
        .clone()
        .dyn_into()
        .unwrap();
    input.set_files(transfer.files().as_ref());
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    input
        .dispatch_event(&web_sys::Event::new_with_event_init_dict("change", &init).unwrap())
        .unwrap();
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// A tar whose first entry is `name` and claims `size` bytes, with only `body` behind it.
fn tar_with(name: &str, size: u64, body: &[u8]) -> Vec<u8> {
    let mut h = tar::Header::new_gnu();
    h.set_path(name).unwrap();
    h.set_size(size);
    h.set_cksum();
    let mut out = h.as_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

#[wasm_bindgen_test]
async fn bad_files_get_a_clear_message() {
    let root = mount();
    settle().await;
    let demo = storesnap_web::DEMO;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.tar.gz", vec![], "the file is empty"),
        (
            "random.bin",
            (0..4096u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
            "not gzip-compressed",
        ),
        ("cut.tar.gz", demo[..demo.len() / 2].to_vec(), "truncated"),
        // A header that claims 300 MB behind a few bytes: refused before anything is inflated.
        (
            "bomb.tar.gz",
            gzip(&tar_with("storesnap.json", 300 << 20, &[0; 512])),
            "allowed per entry",
        ),
        (
            "saved.tar.gz",
            gzip(&tar_with("manifest.json", 2, b"[]")),
            "`docker save` archive",
        ),
    ];
    for (name, bytes, expected) in cases {
        pick(&root, name, &bytes);
        let mut message = String::new();
        for _ in 0..40 {
            settle().await;
            message = text_of(&root, "#error");
            if !message.is_empty() {
                break;
            }
        }
        assert!(
            message.contains(expected),
            "{name}: {message:?} lacks {expected:?}"
        );
        assert!(
            message.starts_with(name),
            "{name}: the message names the file: {message:?}"
        );
    }
    // A good file after bad ones loads and clears the message.
    pick(&root, "good.tar.gz", demo);
    for _ in 0..40 {
        settle().await;
        if !query_all(&root, "[data-chain-id]").is_empty() {
            break;
        }
    }
    assert!(!query_all(&root, "[data-chain-id]").is_empty());
    assert_eq!(text_of(&root, "#error"), "");
    root.remove();
}
