//! One placed node of the graph, drawn from data alone. Its props compare cheaply, so a pan or
//! zoom, which changes none of them, re-renders no node: only those coming into view are drawn.
//! Clicks and keys are handled once, on the graph (`data-node` says which node was hit).

use std::rc::Rc;

use storesnap_core::graph::{NodeKind, Placed};
use storesnap_core::Severity;
use yew::prelude::*;

use super::{NODE_CHARS, NODE_H, NODE_W};
use crate::components::{fit, short, timeline::clean_command};
use crate::state::Loaded;

/// Image labels shown beside a leaf before "+N more".
const MAX_LABELS: usize = 2;

#[derive(Properties, PartialEq)]
pub struct NodeProps {
    pub loaded: Rc<Loaded>,
    /// The node's index in the layout, which `data-node` carries for the graph's handlers.
    pub index: usize,
    pub placed: Placed,
    /// No children: image names go to the right instead of underneath.
    pub leaf: bool,
    pub selected: bool,
    /// On the selected image's chain or the selected layer's lineage.
    pub lit: bool,
    /// The first layer of a run the user opened: it carries the mark that folds it again.
    pub expanded: bool,
    /// A layer's text is drawn only when it can be read at the current zoom (folds, which are
    /// few, always say what they hold).
    pub detail: bool,
}

#[function_component(GraphNode)]
pub fn graph_node(props: &NodeProps) -> Html {
    let p = &props.placed;
    let transform = format!("translate({},{})", p.x - NODE_W / 2.0, p.y - NODE_H / 2.0);
    let index = props.index.to_string();
    match &p.kind {
        NodeKind::Layer(chain) => {
            let node = &props.loaded.graph.nodes[chain];
            let mut class = classes!("node", if node.shared() { "shared" } else { "unique" });
            if node.missing {
                class.push("ghost");
            }
            if props.selected {
                class.push("selected");
            }
            if props.lit {
                class.push("lit");
            }
            if let Some(s) = node.severity.filter(|s| *s > Severity::Info) {
                class.push(s.as_str());
            }
            let content = props.detail.then(|| {
                let size = node
                    .size
                    .map(|s| storesnap_core::docker::human_size(s as i64))
                    .unwrap_or_default();
                let first_line = if node.missing {
                    format!("{} missing", short(chain.as_str()))
                } else {
                    format!("{} {size}", short(chain.as_str()))
                };
                // Shared layers say whose they are and what made them.
                let second_line = node.shared().then(|| {
                    let command = node.command.as_deref().map(clean_command).unwrap_or_default();
                    let family = node.family.as_deref().map(|f| format!("{f}* ")).unwrap_or_default();
                    fit(&format!("{family}{command}"), NODE_CHARS)
                });
                let title = format!(
                    "{}\n{}{} images use it, {size}{}",
                    chain,
                    if node.missing { "MISSING from the store\n" } else { "" },
                    node.used_by,
                    node.command.as_deref().map(|c| format!("\n{c}")).unwrap_or_default()
                );
                let leaf = props.leaf;
                let label_at = |i: usize| {
                    if leaf {
                        (NODE_W + 6.0, 12.0 + 12.0 * i as f64)
                    } else {
                        (4.0, NODE_H + 11.0 + 11.0 * i as f64)
                    }
                };
                let shown = if leaf { MAX_LABELS } else { 1 };
                let tags = node.images.iter().zip(&node.tags).take(shown).enumerate().map(|(i, (id, label))| {
                    let (x, y) = label_at(i);
                    let label = if leaf { label.clone() } else { fit(label, NODE_CHARS) };
                    html! {
                        <text class="tag" x={x.to_string()} y={y.to_string()} data-image-id={id.to_string()}>{ label }</text>
                    }
                });
                let more = node.images.len().saturating_sub(shown);
                let containers = (!node.containers.is_empty()).then(|| format!("{} containers", node.containers.len()));
                let extra: Vec<String> = (more > 0).then(|| format!("+{more} more images")).into_iter().chain(containers).collect();
                html! {
                    <>
                        <title>{ title }</title>
                        <text x="8" y={if second_line.is_some() { "14" } else { "21" }}>{ first_line }</text>
                        if let Some(line) = second_line {
                            <text class="sub" x="8" y="28">{ line }</text>
                        }
                        { for tags }
                        { for extra.into_iter().enumerate().map(|(i, text)| {
                            let (x, y) = label_at(shown.min(node.images.len()) + i);
                            html! { <text class="more" x={x.to_string()} y={y.to_string()}>{ text }</text> }
                        }) }
                    </>
                }
            });
            html! {
                <g {class} {transform} data-node={index} data-chain-id={chain.to_string()}
                    data-missing={node.missing.then_some("true")} tabindex="0">
                    <rect width={NODE_W.to_string()} height={NODE_H.to_string()} rx="6" />
                    { for content }
                    if props.expanded {
                        <g class="fold" data-fold={chain.to_string()}>
                            <title>{ "Fold these layers again" }</title>
                            <circle cx={(NODE_W - 2.0).to_string()} cy="2" r="7" />
                            <text x={(NODE_W - 2.0).to_string()} y="6" text-anchor="middle">{ "−" }</text>
                        </g>
                    }
                </g>
            }
        }
        NodeKind::Run { count, .. } => html! {
            <g class="node run" {transform} data-node={index} data-run-count={count.to_string()} tabindex="0">
                <title>{ "A run of single-child layers; click to open it" }</title>
                <rect width={NODE_W.to_string()} height={NODE_H.to_string()} rx="6" />
                <text x="8" y="21">{ format!("{count} layers …") }</text>
            </g>
        },
        NodeKind::Family {
            parent,
            members,
            count,
            images,
            prefix,
        } => {
            let label = match (*images, prefix.is_empty()) {
                (0, _) => format!("{members} similar branches"),
                (n, true) => format!("{n} images"),
                (n, false) => format!("{n} images {prefix}*"),
            };
            html! {
                <g class="node run family" {transform} data-node={index} data-run-count={count.to_string()}
                    data-family={parent.to_string()} tabindex="0">
                    <title>{ format!("{label}\n{members} branches, {count} layers; click to open them") }</title>
                    <rect width={NODE_W.to_string()} height={NODE_H.to_string()} rx="6" />
                    <text x="8" y="14">{ fit(&label, NODE_CHARS) }</text>
                    <text class="sub" x="8" y="28">{ format!("{count} layers …") }</text>
                </g>
            }
        }
    }
}
