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

fn query_all(selector: &str) -> Vec<Element> {
    let list = gloo::utils::document()
        .query_selector_all(selector)
        .unwrap();
    (0..list.length())
        .filter_map(|i| list.item(i)?.dyn_into::<Element>().ok())
        .collect()
}

fn text_of(selector: &str) -> String {
    gloo::utils::document()
        .query_selector(selector)
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
    let root = gloo::utils::document().create_element("div").unwrap();
    gloo::utils::body().append_child(&root).unwrap();
    yew::Renderer::<storesnap_web::app::App>::with_root(root).render();
    settle().await;
    assert!(text_of(".welcome").contains("Nothing is uploaded"));

    click(&query_all("#demo")[0]);
    settle().await;
    let expected = Loaded::parse("demo", storesnap_web::DEMO).unwrap();

    // Every layer is drawn, on its own or inside a collapsed run.
    let layers = query_all("[data-chain-id]").len();
    let in_runs: usize = query_all("[data-run-count]")
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
    let row = &query_all("tr[data-image-id]")[0];
    let id = row.get_attribute("data-image-id").unwrap();
    click(row);
    settle().await;
    assert!(text_of("#details").contains(&id), "details show {id}");
    let image = &expected.store.images[&id.parse().unwrap()];
    let history = image.config.as_ref().unwrap().history.len();
    assert_eq!(query_all("#timeline tr[data-history-index]").len(), history);
    assert!(
        !query_all(".node.lit").is_empty(),
        "the image's chain is highlighted"
    );

    // Selecting a layer node shows its chainID.
    let node = &query_all("[data-chain-id]")[0];
    let chain = node.get_attribute("data-chain-id").unwrap();
    click(node);
    settle().await;
    assert!(text_of("#details").contains(&chain));
    assert_eq!(query_all(".node.selected").len(), 1);

    // The findings panel lists every finding.
    assert_eq!(
        query_all("[data-finding-code]").len(),
        expected.findings.len()
    );
}
