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
/// Below this scale the initial view shows actual size around the root instead of everything:
/// 11-unit text stays at 10 px or more.
const MIN_FIT_SCALE: f64 = 0.9;

const NODE_W: f64 = 156.0;
/// Characters of 11 px monospace that fit in a node.
const NODE_CHARS: usize = 22;
/// The widest view a revealed node is shown in: text still readable in the pane.
const REVEAL_SPAN: f64 = 2.0 * PANE.0;
/// Image labels shown beside a node before "+N more".
const MAX_LABELS: usize = 2;
const NODE_H: f64 = 34.0;

#[function_component(Graph)]
pub fn graph(props: &GraphProps) -> Html {
    let l = &props.loaded;
    // Laid out once per snapshot and set of open runs, not on every pan, zoom or selection.
    let placed = use_memo(
        (props.loaded.clone(), props.expanded.clone()),
        |(l, expanded)| match (&l.layout, expanded.is_empty()) {
            // The worker laid the first view out already.
            (Some(first), true) => first.clone(),
            _ => Rc::new(layout(&l.graph, expanded, Spacing::default())),
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
                // Space would scroll the page the graph sits in.
                " " => return e.prevent_default(),
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
    let parents: BTreeSet<usize> = placed.edges.iter().map(|(a, _)| *a).collect();
    let edges = placed.edges.iter().filter_map(|(a_index, b_index)| {
        let (a, b) = (&placed.nodes[*a_index], &placed.nodes[*b_index]);
        if !visible(a) && !visible(b) {
            return None;
        }
        // Out of the parent's right side, into the child's left, bending halfway.
        let (x1, x2) = (a.x + NODE_W / 2.0, b.x - NODE_W / 2.0);
        let mid = (x1 + x2) / 2.0;
        let d = format!("M{x1},{} C{mid},{} {mid},{} {x2},{}", a.y, a.y, b.y, b.y);
        // Keys let a pan or zoom keep the elements still in view instead of rewriting them.
        Some(html! { <path key={format!("e{a_index}-{b_index}")} class="edge" {d} /> })
    });
    let nodes = placed.nodes.iter().enumerate().filter(|(_, p)| visible(p)).map(|(index, p)| {
        let transform = format!("translate({},{})", p.x - NODE_W / 2.0, p.y - NODE_H / 2.0);
        match &p.kind {
            NodeKind::Layer(chain) => {
                let node = &l.graph.nodes[chain];
                let mut class = classes!("node", if node.shared() { "shared" } else { "unique" });
                if node.missing {
                    class.push("ghost");
                }
                if props.selection == Selection::Layer(chain.clone()) {
                    class.push("selected");
                }
                if highlighted.contains(chain) {
                    class.push("lit");
                }
                if let Some(s) = node.severity.filter(|s| *s > Severity::Info) {
                    class.push(s.as_str());
                }
                let select = {
                    let (on_select, chain) = (props.on_select.clone(), chain.clone());
                    move || on_select.emit(Selection::Layer(chain.clone()))
                };
                let (onclick, onkeydown) = super::activation(select);
                let fold = {
                    let (on_toggle, chain) = (props.on_toggle.clone(), chain.clone());
                    Callback::from(move |e: MouseEvent| {
                        e.stop_propagation();
                        on_toggle.emit(chain.clone())
                    })
                };
                let size = node.size.map(|s| storesnap_core::docker::human_size(s as i64)).unwrap_or_default();
                let first_line = if node.missing {
                    format!("{} missing", short(chain.as_str()))
                } else {
                    format!("{} {size}", short(chain.as_str()))
                };
                // Shared layers say whose they are and what made them.
                let second_line = node.shared().then(|| {
                    let command = node.command.as_deref().map(super::timeline::clean_command).unwrap_or_default();
                    let family = node.family.as_deref().map(|f| format!("{f}* ")).unwrap_or_default();
                    super::fit(&format!("{family}{command}"), NODE_CHARS)
                });
                let title = format!(
                    "{}\n{}{} images use it, {size}{}",
                    chain,
                    if node.missing { "MISSING from the store\n" } else { "" },
                    node.used_by,
                    node.command.as_deref().map(|c| format!("\n{c}")).unwrap_or_default()
                );
                // Image names go right of a leaf, and under a node that has children.
                let leaf = !parents.contains(&index);
                let label_at = |i: usize| if leaf {
                    (NODE_W + 6.0, 12.0 + 12.0 * i as f64)
                } else {
                    (4.0, NODE_H + 11.0 + 11.0 * i as f64)
                };
                let shown = if leaf { MAX_LABELS } else { 1 };
                let tags = node.images.iter().zip(&node.tags).take(shown).enumerate().map(|(i, (id, label))| {
                    let onclick = {
                        let (on_select, id) = (props.on_select.clone(), id.clone());
                        Callback::from(move |e: MouseEvent| {
                            e.stop_propagation();
                            on_select.emit(Selection::Image(id.clone()))
                        })
                    };
                    let (x, y) = label_at(i);
                    let label = if leaf { label.clone() } else { super::fit(label, NODE_CHARS) };
                    html! {
                        <text class="tag" x={x.to_string()} y={y.to_string()} data-image-id={id.to_string()} {onclick}>{ label }</text>
                    }
                });
                let more = node.images.len().saturating_sub(shown);
                let containers = (!node.containers.is_empty()).then(|| format!("{} containers", node.containers.len()));
                let extra: Vec<String> = (more > 0).then(|| format!("+{more} more images")).into_iter().chain(containers).collect();
                html! {
                    <g key={format!("n{index}")} {class} transform={transform} data-chain-id={chain.to_string()}
                        data-missing={node.missing.then_some("true")} tabindex="0" {onclick} {onkeydown}>
                        <title>{ title }</title>
                        <rect width={NODE_W.to_string()} height={NODE_H.to_string()} rx="6" />
                        <text x="8" y={if second_line.is_some() { "14" } else { "21" }}>{ first_line }</text>
                        if let Some(line) = second_line {
                            <text class="sub" x="8" y="28">{ line }</text>
                        }
                        { for tags }
                        { for extra.into_iter().enumerate().map(|(i, text)| {
                            let (x, y) = label_at(shown.min(node.images.len()) + i);
                            html! { <text class="more" x={x.to_string()} y={y.to_string()}>{ text }</text> }
                        }) }
                        if props.expanded.contains(chain) {
                            <g class="fold" data-fold={chain.to_string()} onclick={fold.clone()}>
                                <title>{ "Fold these layers again" }</title>
                                <circle cx={(NODE_W - 2.0).to_string()} cy="2" r="7" />
                                <text x={(NODE_W - 2.0).to_string()} y="6" text-anchor="middle">{ "−" }</text>
                            </g>
                        }
                    </g>
                }
            }
            NodeKind::Run { first, count, .. } => {
                let toggle = {
                    let (on_toggle, first) = (props.on_toggle.clone(), first.clone());
                    move || on_toggle.emit(first.clone())
                };
                let (onclick, onkeydown) = super::activation(toggle);
                html! {
                    <g key={format!("n{index}")} class="node run" transform={transform} data-run-count={count.to_string()} tabindex="0" {onclick} {onkeydown}>
                        <title>{ "A run of single-child layers; click to open it" }</title>
                        <rect width={NODE_W.to_string()} height={NODE_H.to_string()} rx="6" />
                        <text x="8" y="21">{ format!("{count} layers …") }</text>
                    </g>
                }
            }
            NodeKind::Family { parent, members, count, images, prefix } => {
                let toggle = {
                    let (on_toggle, parent) = (props.on_toggle.clone(), parent.clone());
                    move || on_toggle.emit(parent.clone())
                };
                let (onclick, onkeydown) = super::activation(toggle);
                let label = match (*images, prefix.is_empty()) {
                    (0, _) => format!("{members} similar branches"),
                    (n, true) => format!("{n} images"),
                    (n, false) => format!("{n} images {prefix}*"),
                };
                html! {
                    <g key={format!("n{index}")} class="node run family" transform={transform} data-run-count={count.to_string()}
                        data-family={parent.to_string()} tabindex="0" {onclick} {onkeydown}>
                        <title>{ format!("{label}\n{members} branches, {count} layers; click to open them") }</title>
                        <rect width={NODE_W.to_string()} height={NODE_H.to_string()} rx="6" />
                        <text x="8" y="14">{ super::fit(&label, NODE_CHARS) }</text>
                        <text class="sub" x="8" y="28">{ format!("{count} layers …") }</text>
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
                <button id="zoom-fit" title="Show the whole graph" onclick={fit_all}>{ "Fit" }</button>
                <span class="muted">{ "wheel or +/− to zoom, drag to pan, arrow keys to move, Enter to open" }</span>
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
