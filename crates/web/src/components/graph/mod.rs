//! The layer forest as SVG. Geometry comes from `storesnap_core::graph::layout`; this only
//! draws it (`node`) and turns wheel, drags, clicks and keys into views and selections.

mod node;

use std::collections::BTreeSet;
use std::rc::Rc;

use storesnap_core::graph::{layout, step, Direction, Layout, NodeKind, Spacing, View};
use storesnap_core::{ChainId, ImageId};
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::state::{Loaded, Selection};
use node::GraphNode;

#[derive(Properties, PartialEq)]
pub struct GraphProps {
    pub loaded: Rc<Loaded>,
    pub selection: Selection,
    pub expanded: BTreeSet<ChainId>,
    pub on_select: Callback<Selection>,
    pub on_toggle: Callback<ChainId>,
    /// The visible area; `None` for the layout's initial view.
    pub view: Option<View>,
    pub on_view: Callback<Option<View>>,
}

/// The pane size the initial view is computed for; the SVG scales to the real one.
const PANE: (f64, f64) = (1000.0, 560.0);
/// Below this scale the initial view shows actual size around the root instead of everything:
/// 11-unit text stays at 10 px or more.
const MIN_FIT_SCALE: f64 = 0.9;
/// Wider than this many panes' worth of layout units, 11-unit text is under 4 px: layers are
/// drawn as bare boxes, which keeps zooming out over thousands of them light.
const DETAIL_SPAN: f64 = 3.0 * PANE.0;

const NODE_W: f64 = 156.0;
const NODE_H: f64 = 34.0;
/// Characters of 11 px monospace that fit in a node.
const NODE_CHARS: usize = 22;
/// The widest view a revealed node is shown in: text still readable in the pane.
const REVEAL_SPAN: f64 = 2.0 * PANE.0;

/// A layout and what drawing it needs beyond positions, computed once per layout rather than
/// on every pan or zoom.
struct Drawing {
    layout: Rc<Layout>,
    /// Which nodes have children.
    parent: Vec<bool>,
    /// Each edge's path, out of the parent's right side into the child's left, bending halfway.
    paths: Vec<AttrValue>,
}

impl Drawing {
    fn new(layout: Rc<Layout>) -> Drawing {
        let mut parent = vec![false; layout.nodes.len()];
        let paths = layout
            .edges
            .iter()
            .map(|&(a, b)| {
                parent[a] = true;
                let (a, b) = (&layout.nodes[a], &layout.nodes[b]);
                let (x1, x2) = (a.x + NODE_W / 2.0, b.x - NODE_W / 2.0);
                let mid = (x1 + x2) / 2.0;
                AttrValue::from(format!(
                    "M{x1},{} C{mid},{} {mid},{} {x2},{}",
                    a.y, a.y, b.y, b.y
                ))
            })
            .collect();
        Drawing {
            layout,
            parent,
            paths,
        }
    }
}

/// What a click or a key on the graph landed on.
enum Hit {
    Node(usize),
    Image(ImageId),
    Fold(ChainId),
}

fn hit(e: &Event) -> Option<Hit> {
    let target = e.target()?.dyn_into::<web_sys::Element>().ok()?;
    let attribute = |selector: &str, name: &str| {
        target
            .closest(selector)
            .ok()
            .flatten()
            .and_then(|e| e.get_attribute(name))
    };
    if let Some(chain) = attribute("[data-fold]", "data-fold") {
        return chain.parse().ok().map(Hit::Fold);
    }
    if let Some(id) = attribute("text.tag", "data-image-id") {
        return id.parse().ok().map(Hit::Image);
    }
    attribute("[data-node]", "data-node")?
        .parse()
        .ok()
        .map(Hit::Node)
}

#[function_component(Graph)]
pub fn graph(props: &GraphProps) -> Html {
    let l = &props.loaded;
    // Laid out once per snapshot and set of open runs, not on every pan, zoom or selection.
    let drawing = use_memo(
        (props.loaded.clone(), props.expanded.clone()),
        |(l, expanded)| {
            Drawing::new(match (&l.layout, expanded.is_empty()) {
                // The worker laid the first view out already.
                (Some(first), true) => first.clone(),
                _ => Rc::new(layout(&l.graph, expanded, Spacing::default())),
            })
        },
    );
    let placed = drawing.layout.clone();
    let view = props
        .view
        .unwrap_or_else(|| View::initial(&placed, PANE.0, PANE.1, MIN_FIT_SCALE));
    // Whatever gets selected (a finding, a table row, a link) is brought into view.
    {
        let (on_view, loaded, placed) = (props.on_view.clone(), l.clone(), placed.clone());
        use_effect_with(props.selection.clone(), move |selection| {
            let chain = match selection {
                Selection::Layer(c) => Some(c.clone()),
                Selection::Image(i) => loaded.store.images.get(i).and_then(|i| i.top_layer()),
                _ => None,
            };
            if let Some((x, y)) = chain.and_then(|c| placed.position_of(&c)) {
                let revealed = view.reveal(x, y, NODE_W, REVEAL_SPAN);
                if revealed != view {
                    on_view.emit(Some(revealed));
                }
            }
        });
    }
    let svg_ref = use_node_ref();
    let drag = use_mut_ref(|| None::<(f64, f64)>);
    // The pane's size on screen, to turn pixels into layout units.
    let pane = {
        let svg_ref = svg_ref.clone();
        move || {
            svg_ref
                .cast::<web_sys::Element>()
                .map(|e| {
                    let r = e.get_bounding_client_rect();
                    (r.left(), r.top(), r.width(), r.height())
                })
                .unwrap_or((0.0, 0.0, PANE.0, PANE.1))
        }
    };
    let onwheel = {
        let (on_view, pane) = (props.on_view.clone(), pane.clone());
        Callback::from(move |e: WheelEvent| {
            e.prevent_default();
            let (left, top, w, h) = pane();
            let (cx, cy) = view.to_layout(
                f64::from(e.client_x()) - left,
                f64::from(e.client_y()) - top,
                w,
                h,
            );
            let factor = if e.delta_y() < 0.0 { 1.0 / 1.25 } else { 1.25 };
            on_view.emit(Some(view.zoom(factor, cx, cy)));
        })
    };
    let onmousedown = {
        let drag = drag.clone();
        Callback::from(move |e: MouseEvent| {
            *drag.borrow_mut() = Some((f64::from(e.client_x()), f64::from(e.client_y())))
        })
    };
    let onmousemove = {
        let (drag, on_view, pane) = (drag.clone(), props.on_view.clone(), pane.clone());
        Callback::from(move |e: MouseEvent| {
            let Some((x0, y0)) = *drag.borrow() else {
                return;
            };
            if e.buttons() & 1 == 0 {
                return;
            }
            let (x, y) = (f64::from(e.client_x()), f64::from(e.client_y()));
            let (_, _, w, h) = pane();
            let k = view.units_per_pixel(w, h);
            on_view.emit(Some(view.pan((x0 - x) * k, (y0 - y) * k)));
            *drag.borrow_mut() = Some((x, y));
        })
    };
    let onmouseup = {
        let drag = drag.clone();
        Callback::from(move |_: MouseEvent| *drag.borrow_mut() = None)
    };
    // One handler for every node: selecting a layer, opening a fold, following an image name.
    let activate = {
        let (on_select, on_toggle, placed) = (
            props.on_select.clone(),
            props.on_toggle.clone(),
            placed.clone(),
        );
        move |hit: Hit| match hit {
            Hit::Image(id) => on_select.emit(Selection::Image(id)),
            Hit::Fold(chain) => on_toggle.emit(chain),
            Hit::Node(index) => match placed.nodes.get(index).map(|p| &p.kind) {
                Some(NodeKind::Layer(chain)) => on_select.emit(Selection::Layer(chain.clone())),
                Some(NodeKind::Run { first, .. }) => on_toggle.emit(first.clone()),
                Some(NodeKind::Family { parent, .. }) => on_toggle.emit(parent.clone()),
                None => {}
            },
        }
    };
    let onclick = {
        let activate = activate.clone();
        Callback::from(move |e: MouseEvent| {
            if let Some(h) = hit(&e) {
                activate(h);
            }
        })
    };
    let onkeydown = {
        let (on_select, selection, placed) = (
            props.on_select.clone(),
            props.selection.clone(),
            placed.clone(),
        );
        let on_view = props.on_view.clone();
        Callback::from(move |e: KeyboardEvent| {
            let zoom = |factor| {
                e.prevent_default();
                on_view.emit(Some(view.zoom(
                    factor,
                    view.x + view.w / 2.0,
                    view.y + view.h / 2.0,
                )))
            };
            let direction = match e.key().as_str() {
                "ArrowUp" => Direction::Up,
                "ArrowDown" => Direction::Down,
                "ArrowLeft" => Direction::Left,
                "ArrowRight" => Direction::Right,
                "+" | "=" => return zoom(1.0 / 1.25),
                "-" | "_" => return zoom(1.25),
                // On a node, Enter and Space act as a click; Space would otherwise scroll the
                // page the graph sits in.
                "Enter" | " " => {
                    if let Some(h) = hit(&e) {
                        e.prevent_default();
                        activate(h);
                    } else if e.key() == " " {
                        e.prevent_default();
                    }
                    return;
                }
                _ => return,
            };
            e.prevent_default();
            let next = match &selection {
                Selection::Layer(c) => step(&placed, c, direction),
                // With nothing selected, the keys start at the first layer.
                _ => placed.nodes.iter().find_map(|p| match &p.kind {
                    NodeKind::Layer(c) => Some(c.clone()),
                    _ => None,
                }),
            };
            if let Some(c) = next {
                on_select.emit(Selection::Layer(c));
            }
        })
    };
    let zoom_by = |factor: f64| {
        let on_view = props.on_view.clone();
        Callback::from(move |_: MouseEvent| {
            on_view.emit(Some(view.zoom(
                factor,
                view.x + view.w / 2.0,
                view.y + view.h / 2.0,
            )))
        })
    };
    // Everything, however small.
    let fit_all = {
        let (on_view, placed) = (props.on_view.clone(), placed.clone());
        Callback::from(move |_: MouseEvent| {
            on_view.emit(Some(View::initial(&placed, PANE.0, PANE.1, 0.0)))
        })
    };
    // Selecting an image lights up its whole chain; selecting a layer, its lineage.
    let highlighted: BTreeSet<ChainId> = match &props.selection {
        Selection::Image(id) => l
            .store
            .images
            .get(id)
            .map(|i| i.chain().iter().cloned().collect())
            .unwrap_or_default(),
        Selection::Layer(c) => l.graph.lineage(c).into_iter().collect(),
        _ => BTreeSet::new(),
    };
    // Only what is in view (and a margin) is drawn: a 15,000-layer store draws a screenful.
    let margin = NODE_W * 2.0;
    let visible = |p: &storesnap_core::graph::Placed| {
        p.x >= view.x - margin
            && p.x <= view.x + view.w + margin
            && p.y >= view.y - margin
            && p.y <= view.y + view.h + margin
    };
    let edges = placed
        .edges
        .iter()
        .zip(&drawing.paths)
        .filter(|((a, b), _)| visible(&placed.nodes[*a]) || visible(&placed.nodes[*b]))
        .map(|((a, b), d)| {
            // Keys let a pan or zoom keep the elements still in view instead of rewriting them.
            html! { <path key={format!("e{a}-{b}")} class="edge" d={d.clone()} /> }
        });
    let detail = view.w <= DETAIL_SPAN;
    let nodes = placed
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, p)| visible(p))
        .map(|(index, p)| {
            let chain = match &p.kind {
                NodeKind::Layer(chain) => Some(chain),
                _ => None,
            };
            html! {
                <GraphNode key={index} loaded={l.clone()} {index} placed={p.clone()}
                    leaf={!drawing.parent[index]} {detail}
                    selected={chain.is_some_and(|c| props.selection == Selection::Layer(c.clone()))}
                    lit={chain.is_some_and(|c| highlighted.contains(c))}
                    expanded={chain.is_some_and(|c| props.expanded.contains(c))} />
            }
        });
    html! {
        <div class="graph-wrap">
            <div class="graph-tools">
                <button id="zoom-in" title="Zoom in" onclick={zoom_by(1.0 / 1.25)}>{ "+" }</button>
                <button id="zoom-out" title="Zoom out" onclick={zoom_by(1.25)}>{ "−" }</button>
                <button id="zoom-fit" title="Show the whole graph" onclick={fit_all}>{ "Fit" }</button>
                <span class="muted">{ "wheel or +/− to zoom, drag to pan, arrow keys to move, Enter to open" }</span>
            </div>
            <svg class="graph" id="graph" ref={svg_ref} tabindex="0" viewBox={view.view_box()}
                preserveAspectRatio="xMinYMin meet" {onwheel} {onmousedown} {onmousemove}
                onmouseup={onmouseup.clone()} onmouseleave={onmouseup} {onclick} {onkeydown}>
                { for edges }
                { for nodes }
            </svg>
        </div>
    }
}
