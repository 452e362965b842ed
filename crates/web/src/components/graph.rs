//! The layer forest as SVG. Geometry comes from `storesnap_core::graph::layout`; this only
//! draws it and turns clicks into selections.

use std::collections::BTreeSet;
use std::rc::Rc;

use storesnap_core::graph::{layout, NodeKind, Spacing};
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
}

const NODE_W: f64 = 140.0;
/// Image labels shown beside a node before "+N more".
const MAX_LABELS: usize = 2;
const NODE_H: f64 = 30.0;

#[function_component(Graph)]
pub fn graph(props: &GraphProps) -> Html {
    let l = &props.loaded;
    // Columns leave room for the image labels to the right of each node.
    let placed = layout(
        &l.graph,
        &props.expanded,
        Spacing {
            column: 270.0,
            ..Spacing::default()
        },
    );
    // Selecting an image lights up its whole chain; selecting a layer, its lineage.
    let highlighted: BTreeSet<ChainId> = match &props.selection {
        Selection::Image(id) => l
            .store
            .images
            .get(id)
            .map(|i| i.chain().into_iter().collect())
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
                let size = node.size.map(|s| storesnap_core::docker::human_size(s as i64)).unwrap_or_default();
                let tags = node.images.iter().map(|id| {
                    let image = &l.store.images[id];
                    let label = image.tags.first().cloned().unwrap_or_else(|| short(id.as_str()));
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
    let view_box = format!("0 0 {} {}", placed.width + 160.0, placed.height + 20.0);
    html! {
        <svg class="graph" id="graph" viewBox={view_box} width={(placed.width + 160.0).to_string()} height={(placed.height + 20.0).to_string()}>
            { for edges }
            { for nodes }
        </svg>
    }
}
