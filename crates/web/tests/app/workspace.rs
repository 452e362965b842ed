//! The one-screen workspace: findings first, history entries, the file picker, bringing a
//! selection into view, and an image's layers and a layer's links.

use super::*;

#[wasm_bindgen_test]
async fn findings_come_first_grouped_filtered_and_reachable_by_keyboard() {
    use storesnap_core::Severity;
    let bytes = damaged_demo();
    let expected = Loaded::parse("damaged.tar.gz", &bytes).unwrap();
    let root = mount();
    settle().await;
    pick(&root, "damaged.tar.gz", &bytes);
    wait_for(&root, "[data-group-code]").await;
    settle().await;

    // One group per (severity, code), with its count and its hint once.
    let groups: Vec<_> = expected
        .findings
        .chunk_by(|a, b| a.severity == b.severity && a.code == b.code)
        .collect();
    assert!(
        groups.iter().any(|g| g.len() > 1),
        "the damage repeats a code"
    );
    assert_eq!(
        attribute_values(&root, "[data-group-code]", "data-group-code"),
        groups
            .iter()
            .map(|g| g[0].code.as_str().to_owned())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        attribute_values(&root, "[data-group-code]", "data-count"),
        groups
            .iter()
            .map(|g| g.len().to_string())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        query_all(&root, ".finding-group > .hint").len(),
        groups.len()
    );
    assert_eq!(
        query_all(&root, "#findings [data-finding-code]").len(),
        expected.findings.len()
    );
    // Findings are on top: before the graph in the page.
    let findings = &query_all(&root, "#findings")[0];
    let graph = &query_all(&root, "svg")[0];
    assert_eq!(
        findings.compare_document_position(graph) & web_sys::Node::DOCUMENT_POSITION_FOLLOWING,
        web_sys::Node::DOCUMENT_POSITION_FOLLOWING
    );

    // The first error's subject is selected on load, and in the URL.
    let first_error = expected
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .find_map(|f| storesnap_web::state::finding_target(&expected, f))
        .unwrap();
    assert_eq!(storesnap_web::app::current_hash().selection, first_error);

    // The error count filters to errors; pressed again, everything is back.
    let errors = &query_all(&root, "button[data-severity=error]")[0];
    click(errors);
    settle().await;
    let shown = query_all(&root, "[data-group-code]");
    assert!(!shown.is_empty());
    assert!(shown.iter().all(|g| g
        .get_attribute("class")
        .unwrap_or_default()
        .split(' ')
        .any(|c| c == "error")));
    // Yew may replace the button as it re-renders: look it up again.
    let errors = &query_all(&root, "button[data-severity=error]")[0];
    assert_eq!(
        errors.get_attribute("aria-pressed").as_deref(),
        Some("true")
    );
    click(errors);
    settle().await;
    assert_eq!(query_all(&root, "[data-group-code]").len(), groups.len());

    // Every finding can be focused and activated with Enter.
    let items = query_all(&root, "#findings [data-finding-code]");
    assert!(items
        .iter()
        .all(|i| i.get_attribute("tabindex").as_deref() == Some("0")));
    let (index, target) = expected
        .findings
        .iter()
        .enumerate()
        .filter_map(|(i, f)| Some((i, storesnap_web::state::finding_target(&expected, f)?)))
        .find(|(_, t)| *t != first_error)
        .unwrap();
    let item: web_sys::HtmlElement = items[index].clone().dyn_into().unwrap();
    item.focus().unwrap();
    let init = web_sys::KeyboardEventInit::new();
    init.set_key("Enter");
    init.set_bubbles(true);
    item.dispatch_event(
        &web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap(),
    )
    .unwrap();
    settle().await;
    assert_eq!(storesnap_web::app::current_hash().selection, target);
    root.remove();
    mount_at("").remove();
}

#[wasm_bindgen_test]
async fn back_and_forward_walk_through_selections() {
    let window = gloo::utils::window();
    let history = window.history().unwrap();
    let root = mount_at("#demo");
    wait_for(&root, "[data-chain-id]").await;
    settle().await;
    // Opening adds no entry; each selection adds one.
    let opened = history.length().unwrap();
    let chain = |i: usize| {
        query_all(&root, "[data-chain-id]")[i]
            .get_attribute("data-chain-id")
            .unwrap()
    };
    let (a, b) = (chain(0), chain(1));
    click(&query_all(&root, "[data-chain-id]")[0]);
    settle().await;
    click(&query_all(&root, "[data-chain-id]")[1]);
    settle().await;
    assert_eq!(history.length().unwrap(), opened + 2);
    assert_eq!(
        window.location().hash().unwrap(),
        format!("#layer={b}&demo")
    );

    let selected = |want: &str| {
        let want = want.to_owned();
        let root = root.clone();
        async move {
            for _ in 0..40 {
                settle().await;
                if text_of(&root, "#details").contains(&want) {
                    return true;
                }
            }
            false
        }
    };
    history.back().unwrap();
    assert!(selected(&a).await, "Back selects the layer before");
    assert_eq!(
        window.location().hash().unwrap(),
        format!("#layer={a}&demo")
    );
    history.forward().unwrap();
    assert!(selected(&b).await, "Forward selects it again");
    // Going back did not add entries of its own.
    assert_eq!(history.length().unwrap(), opened + 2);
    root.remove();
    mount_at("").remove();
}

#[wasm_bindgen_test]
async fn the_file_picker_is_reachable_by_keyboard_and_takes_archives() {
    let root = mount();
    settle().await;
    let input: web_sys::HtmlElement = query_all(&root, "input[type=file]")[0]
        .clone()
        .dyn_into()
        .unwrap();
    // Focusable: rendered (not display:none), and focus lands on it.
    input.focus().unwrap();
    let active = gloo::utils::document().active_element().unwrap();
    assert_eq!(active.id(), "file");
    let style = gloo::utils::window()
        .get_computed_style(&input)
        .unwrap()
        .unwrap();
    assert_ne!(style.get_property_value("display").unwrap(), "none");
    let accept = input.get_attribute("accept").unwrap();
    assert!(
        accept.contains(".tar") && accept.contains(".gz"),
        "{accept}"
    );
    root.remove();
}

/// The graph's viewBox as (x, y, w, h).
pub(crate) fn view_box(root: &Element) -> (f64, f64, f64, f64) {
    let v: Vec<f64> = query_all(root, "svg#graph")[0]
        .get_attribute("viewBox")
        .unwrap()
        .split(' ')
        .map(|n| n.parse().unwrap())
        .collect();
    (v[0], v[1], v[2], v[3])
}

/// The centre of the node drawn for `chain`, as the viewer lays it out (it may not be drawn:
/// only what is in view is).
fn node_centre(loaded: &Loaded, chain: &str) -> (f64, f64) {
    use storesnap_core::graph::{layout, Spacing};
    let placed = layout(&loaded.graph, &Default::default(), Spacing::default());
    placed.position_of(&chain.parse().unwrap()).unwrap()
}

#[wasm_bindgen_test]
async fn selecting_brings_the_node_into_view() {
    let expected = Loaded::parse("demo", storesnap_web::DEMO).unwrap();
    let root = mount_at("#demo");
    wait_for(&root, "[data-chain-id]").await;
    settle().await;
    // Drag the graph far away: nothing is in view.
    let svg = &query_all(&root, "svg#graph")[0];
    let mouse = |kind: &str, x: i32, buttons: u16| {
        let init = MouseEventInit::new();
        init.set_bubbles(true);
        init.set_client_x(x);
        init.set_client_y(10);
        init.set_buttons(buttons);
        svg.dispatch_event(&MouseEvent::new_with_mouse_event_init_dict(kind, &init).unwrap())
            .unwrap();
    };
    mouse("mousedown", 500, 1);
    mouse("mousemove", -60_000, 1);
    mouse("mouseup", -60_000, 0);
    settle().await;
    let (x, _, w, _) = view_box(&root);
    let image = expected
        .store
        .images
        .values()
        .find(|i| !i.tags.is_empty())
        .unwrap();
    let top = image.top_layer().unwrap().to_string();
    let (cx, cy) = node_centre(&expected, &top);
    assert!(cx < x || cx > x + w, "the drag moved the node out of view");

    // Selecting the image in the table brings its top layer back into view.
    click(&query_all(&root, &format!("tr[data-image-id='{}']", image.id))[0]);
    settle().await;
    settle().await;
    let (x, y, w, h) = view_box(&root);
    assert!(
        cx > x && cx < x + w && cy > y && cy < y + h,
        "({cx}, {cy}) in {:?}",
        (x, y, w, h)
    );
    root.remove();
    mount_at("").remove();
}

#[wasm_bindgen_test]
async fn an_image_lists_its_layers_and_each_selects_its_layer() {
    let bytes = damaged_demo();
    let expected = Loaded::parse("damaged.tar.gz", &bytes).unwrap();
    let root = mount();
    settle().await;
    pick(&root, "damaged.tar.gz", &bytes);
    wait_for(&root, "[data-chain-id]").await;
    settle().await;
    // An image missing its base layer: every layer listed, base first, the base marked.
    let image = expected
        .store
        .images
        .values()
        .find(|i| !i.tags.is_empty() && i.chain().len() > 2)
        .unwrap();
    click(&query_all(&root, &format!("tr[data-image-id='{}']", image.id))[0]);
    settle().await;
    let rows = attribute_values(&root, "#image-layers tr[data-layer-row]", "data-layer-row");
    let chain: Vec<String> = image.chain().iter().map(ToString::to_string).collect();
    assert_eq!(rows, chain);
    let first = &query_all(&root, "#image-layers tr[data-layer-row]")[0];
    assert!(first
        .get_attribute("class")
        .unwrap_or_default()
        .contains("missing"));
    // The top layer's command is the config's last non-empty history step.
    let top = query_all(&root, "#image-layers tr[data-layer-row]")
        .last()
        .unwrap()
        .text_content()
        .unwrap();
    let step = image
        .config
        .as_ref()
        .unwrap()
        .history
        .iter()
        .rev()
        .find(|h| !h.empty_layer)
        .unwrap();
    assert!(top.contains(&step.created_by), "{top}");
    // A row opens its layer inline, with its links and problems; the image stays selected.
    let missing_base = &query_all(&root, "#image-layers tr[data-layer-row]")[0];
    click(missing_base);
    settle().await;
    let inline = query_all(&root, "#image-layers tr[data-inline-layer]");
    assert_eq!(inline.len(), 1);
    assert_eq!(
        inline[0].get_attribute("data-inline-layer"),
        Some(chain[0].clone())
    );
    let children = attribute_values(
        &root,
        "tr[data-inline-layer] [data-links=children] [data-target]",
        "data-target",
    );
    assert!(children.contains(&chain[1]), "{children:?}");
    assert!(!query_all(&root, "tr[data-inline-layer] #problems [data-finding-code]").is_empty());
    assert_eq!(
        storesnap_web::app::current_hash().selection,
        storesnap_web::state::Selection::Image(image.id.clone())
    );
    // Its chainID selects the layer.
    let link = &query_all(&root, "#image-layers tr[data-layer-row] button")[chain.len() - 1];
    click(link);
    settle().await;
    assert_eq!(
        storesnap_web::app::current_hash().selection,
        storesnap_web::state::Selection::Layer(image.chain().last().unwrap().clone())
    );
    root.remove();
    mount_at("").remove();
}

#[wasm_bindgen_test]
async fn a_layer_links_to_its_parent_children_and_images() {
    use storesnap_web::state::Selection;
    let expected = Loaded::parse("demo", storesnap_web::DEMO).unwrap();
    // A layer with a parent, children and users: the middle of a shared chain.
    let layer = expected
        .store
        .layers
        .values()
        .find(|x| {
            x.parent.is_some()
                && expected
                    .store
                    .layers
                    .values()
                    .any(|y| y.parent.as_ref() == Some(&x.chain_id))
        })
        .unwrap();
    let root = mount_at(&format!("#layer={}&demo", layer.chain_id));
    wait_for(&root, "#layer-links").await;
    settle().await;
    let targets = |which: &str| {
        attribute_values(
            &root,
            &format!("[data-links={which}] button"),
            "data-target",
        )
    };
    assert_eq!(
        targets("parent"),
        vec![layer.parent.as_ref().unwrap().to_string()]
    );
    let mut children: Vec<String> = expected
        .store
        .layers
        .values()
        .filter(|y| y.parent.as_ref() == Some(&layer.chain_id))
        .map(|y| y.chain_id.to_string())
        .collect();
    children.sort();
    let mut shown = targets("children");
    shown.sort();
    assert_eq!(shown, children);
    let users = expected
        .store
        .images
        .values()
        .filter(|i| i.chain().contains(&layer.chain_id))
        .count();
    assert_eq!(targets("images").len(), users);
    // The parent link selects the parent.
    click(&query_all(&root, "[data-links=parent] button")[0]);
    settle().await;
    assert_eq!(
        storesnap_web::app::current_hash().selection,
        Selection::Layer(layer.parent.clone().unwrap())
    );
    root.remove();
    mount_at("").remove();
}
