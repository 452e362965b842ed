//! The layer forest as SVG. Geometry comes from `storesnap_core::graph::layout`; this only
//! draws it and turns clicks into selections.

use std::collections::BTreeSet;
use std::rc::Rc;

use storesnap_core::graph::{layout, step, Direction, NodeKind, Spacing, View};
use storesnap_core::{ChainId, Severity};
use yew::prelude::*;

use super::short;
use crate::state::{Loaded, Selection};

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
/// Below this scale the initial view shows actual size around the root instead of everything.
const MIN_FIT_SCALE: f64 = 0.55;

const NODE_W: f64 = 140.0;
/// The widest view a revealed node is shown in: text still readable in the pane.
const REVEAL_SPAN: f64 = 2.0 * PANE.0;
/// Image labels shown beside a node before "+N more".
const MAX_LABELS: usize = 2;
const NODE_H: f64 = 30.0;

#[function_component(Graph)]
pub fn graph(props: &GraphProps) -> Html {
    let l = &props.loaded;
    // Laid out once per snapshot and set of open runs, not on every pan, zoom or selection.
    let placed = use_memo(
        (props.loaded.clone(), props.expanded.clone()),
        |(l, expanded)| {
            // Columns leave room for the image labels to the right of each node.
            layout(
                &l.graph,
                expanded,
                Spacing {
                    column: 270.0,
                    ..Spacing::default()
                },
            )
        },
    );
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
                Selection::None => None,
            };
            if let Some((x, y)) = chain.and_then(|c| placed.position_of(&loaded.graph, &c)) {
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
    let onkeydown = {
        let (on_select, selection, placed) = (
            props.on_select.clone(),
            props.selection.clone(),
            placed.clone(),
        );
        Callback::from(move |e: KeyboardEvent| {
            let direction = match e.key().as_str() {
                "ArrowUp" => Direction::Up,
                "ArrowDown" => Direction::Down,
                "ArrowLeft" => Direction::Left,
                "ArrowRight" => Direction::Right,
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
    let fit = {
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
        Selection::None => BTreeSet::new(),
    };
    let edges = placed.edges.iter().map(|(a, b)| {
        let (a, b) = (&placed.nodes[*a], &placed.nodes[*b]);
        html! { <line class="edge" x1={a.x.to_string()} y1={(a.y + NODE_H / 2.0).to_string()} x2={b.x.to_string()} y2={(b.y - NODE_H / 2.0).to_string()} /> }
    });
    let nodes = placed.nodes.iter().map(|p| {
        let transform = format!("translate({},{})", p.x - NODE_W / 2.0, p.y - NODE_H / 2.0);
        match &p.kind {
            NodeKind::Layer(chain) => {
                let node = &l.graph.nodes[chain];
                let mut class = classes!("node", if node.shared() { "shared" } else { "unique" });
                if props.selection == Selection::Layer(chain.clone()) {
                    class.push("selected");
                }
                if highlighted.contains(chain) {
                    class.push("lit");
                }
                if let Some(s) = node.severity.filter(|s| *s > Severity::Info) {
                    class.push(s.as_str());
                }
                let onclick = {
                    let (on_select, chain) = (props.on_select.clone(), chain.clone());
                    Callback::from(move |_: MouseEvent| on_select.emit(Selection::Layer(chain.clone())))
                };
                let fold = {
                    let (on_toggle, chain) = (props.on_toggle.clone(), chain.clone());
                    Callback::from(move |e: MouseEvent| {
                        e.stop_propagation();
                        on_toggle.emit(chain.clone())
                    })
                };
                let size = node.size.map(|s| storesnap_core::docker::human_size(s as i64)).unwrap_or_default();
                let tags = node.images.iter().map(|id| {
                    let image = &l.store.images[id];
                    let label = image.display_name();
                    let onclick = {
                        let (on_select, id) = (props.on_select.clone(), id.clone());
                        Callback::from(move |e: MouseEvent| {
                            e.stop_propagation();
                            on_select.emit(Selection::Image(id.clone()))
                        })
                    };
                    (id.to_string(), label, onclick)
                });
                html! {
                    <g {class} transform={transform} data-chain-id={chain.to_string()} {onclick}>
                        <title>{ format!("{}\n{} images use it, {size}", chain, node.used_by) }</title>
                        <rect width={NODE_W.to_string()} height={NODE_H.to_string()} rx="6" />
                        <text x="8" y="19">{ format!("{} {size}", short(chain.as_str())) }</text>
                        { for tags.take(MAX_LABELS).enumerate().map(|(i, (id, label, onclick))| html! {
                            <text class="tag" x={(NODE_W + 4.0).to_string()} y={(12.0 + 12.0 * i as f64).to_string()} data-image-id={id} {onclick}>{ label }</text>
                        }) }
                        if node.images.len() > MAX_LABELS {
                            <text class="more" x={(NODE_W + 4.0).to_string()} y={(12.0 + 12.0 * MAX_LABELS as f64).to_string()}>
                                { format!("+{} more images", node.images.len() - MAX_LABELS) }
                            </text>
                        }
                        if !node.containers.is_empty() {
                            <text class="containers" x="8" y={(NODE_H + 12.0).to_string()}>{ format!("{} containers", node.containers.len()) }</text>
                        }
                        if props.expanded.contains(chain) {
                            <g class="fold" data-fold={chain.to_string()} onclick={fold.clone()}>
                                <title>{ "Fold this run of layers again" }</title>
                                <circle cx={(NODE_W - 2.0).to_string()} cy="2" r="7" />
                                <text x={(NODE_W - 2.0).to_string()} y="6" text-anchor="middle">{ "−" }</text>
                            </g>
                        }
                    </g>
                }
            }
            NodeKind::Run { first, count, .. } => {
                let onclick = {
                    let (on_toggle, first) = (props.on_toggle.clone(), first.clone());
                    Callback::from(move |_: MouseEvent| on_toggle.emit(first.clone()))
                };
                html! {
                    <g class="node run" transform={transform} data-run-count={count.to_string()} {onclick}>
                        <title>{ "A run of single-child layers; click to expand" }</title>
                        <rect width={NODE_W.to_string()} height={NODE_H.to_string()} rx="6" />
                        <text x="8" y="19">{ format!("{count} layers …") }</text>
                    </g>
                }
            }
        }
    });
    html! {
        <div class="graph-wrap">
            <div class="graph-tools">
                <button id="zoom-in" title="Zoom in" onclick={zoom_by(1.0 / 1.25)}>{ "+" }</button>
                <button id="zoom-out" title="Zoom out" onclick={zoom_by(1.25)}>{ "−" }</button>
                <button id="zoom-fit" title="Show the whole graph" onclick={fit}>{ "Fit" }</button>
                <span class="muted">{ "wheel to zoom, drag to pan, arrow keys to move" }</span>
            </div>
            <svg class="graph" id="graph" ref={svg_ref} tabindex="0" viewBox={view.view_box()}
                preserveAspectRatio="xMinYMin meet" {onwheel} {onmousedown} {onmousemove}
                onmouseup={onmouseup.clone()} onmouseleave={onmouseup} {onkeydown}>
                { for edges }
                { for nodes }
            </svg>
        </div>
    }
}
