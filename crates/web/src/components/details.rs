//! The details of the selected layer or image.

use std::rc::Rc;

use yew::prelude::*;

use crate::state::{Loaded, Selection};

#[derive(Properties, PartialEq)]
pub struct DetailsProps {
    pub loaded: Rc<Loaded>,
    pub selection: Selection,
    pub on_select: Callback<Selection>,
}

#[function_component(Details)]
pub fn details(props: &DetailsProps) -> Html {
    let l = &props.loaded;
    let mut layers = html! {};
    let rows: Vec<(&str, String)> = match &props.selection {
        Selection::None => {
            return html! { <section class="details" id="details"><p class="muted">{ "Select a layer or an image." }</p></section> }
        }
        Selection::Layer(c) => {
            let Some(layer) = l.store.layers.get(c) else {
                return html! {};
            };
            layers = layer_links(l, c, &props.on_select);
            let users: Vec<String> = l
                .store
                .images
                .values()
                .filter(|i| i.chain().contains(c))
                .map(|i| i.display_name())
                .collect();
            // The history step that made it: in an image whose chain holds it at index k.
            let step = l.store.images.values().find_map(|i| {
                let k = i.chain().iter().position(|x| x == c)?;
                i.config
                    .as_ref()?
                    .history
                    .iter()
                    .find(|h| h.layer == Some(k))
                    .map(|h| h.created_by.clone())
            });
            vec![
                ("chainID", c.to_string()),
                (
                    "diffID",
                    layer
                        .diff_id
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                ),
                (
                    "parent",
                    layer
                        .parent
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_else(|| "(base layer)".into()),
                ),
                (
                    "cache-id",
                    layer
                        .cache_id
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                ),
                (
                    "size",
                    layer
                        .size
                        .map(|s| storesnap_core::docker::human_size(s as i64))
                        .unwrap_or_default(),
                ),
                (
                    "tar-split",
                    if layer.tar_split {
                        "present"
                    } else {
                        "missing"
                    }
                    .into(),
                ),
                ("used by", users.join(", ")),
                (
                    "store",
                    if l.store.containerd.is_some() {
                        "containerd snapshot (below)"
                    } else {
                        "graph driver"
                    }
                    .into(),
                ),
                ("made by", step.unwrap_or_default()),
            ]
        }
        Selection::Image(id) => {
            let Some(image) = l.store.images.get(id) else {
                return html! {};
            };
            layers = image_layers(l, image, &props.on_select);
            let config = image.config.as_ref();
            vec![
                ("image", id.to_string()),
                ("tags", join(&image.tags)),
                ("digests", join(&image.digests)),
                (
                    "created",
                    config.and_then(|c| c.created.clone()).unwrap_or_default(),
                ),
                (
                    "platform",
                    config
                        .map(|c| format!("{}/{}", c.os, c.architecture))
                        .unwrap_or_default(),
                ),
                ("layers", image.chain().len().to_string()),
                (
                    "size",
                    storesnap_core::docker::human_size(l.store.image_size(image)),
                ),
                (
                    "parent",
                    image
                        .parent
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                ),
                ("verified", l.store.id_check(image).into()),
            ]
        }
    };
    // A containerd store has no cache IDs or tar-split: its pane shows snapshots instead.
    let containerd = l.store.containerd.is_some();
    let rows: Vec<(&str, String)> = rows
        .into_iter()
        .filter(|(k, _)| !(containerd && matches!(*k, "cache-id" | "tar-split")))
        .collect();
    html! {
        <section class="details" id="details">
            <dl>
                { for rows.into_iter().map(|(k, v)| html! { <><dt>{ k }</dt><dd class="mono">{ v }</dd></> }) }
            </dl>
            { layers }
        </section>
    }
}

fn join(refs: &[storesnap_core::RefName]) -> String {
    refs.iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// An image's layers, base first, as dive lists them: the command that made each, its size,
/// its chainID (which selects it) and its status (missing, or the worst finding about it).
fn image_layers(
    l: &crate::state::Loaded,
    image: &storesnap_core::store::Image,
    on_select: &Callback<Selection>,
) -> Html {
    use storesnap_core::Subject;
    let history = image
        .config
        .as_ref()
        .map(|c| c.history.as_slice())
        .unwrap_or_default();
    let rows = image.chain().iter().enumerate().map(|(i, chain)| {
        let command = history
            .iter()
            .find(|h| h.layer == Some(i))
            .map(|h| h.created_by.clone())
            .unwrap_or_default();
        let layer = l.store.layers.get(chain);
        let size = layer
            .and_then(|x| x.size)
            .map(|s| storesnap_core::docker::human_size(i64::try_from(s).unwrap_or(i64::MAX)))
            .unwrap_or_default();
        let worst = l
            .findings
            .iter()
            .filter(|f| f.subjects.contains(&Subject::Chain(chain.clone())))
            .map(|f| f.severity)
            .max();
        let status = match (layer, worst) {
            (None, _) => "missing",
            (Some(_), Some(s)) => s.as_str(),
            (Some(_), None) => "ok",
        };
        let onclick = {
            let (on_select, chain) = (on_select.clone(), chain.clone());
            Callback::from(move |_: MouseEvent| on_select.emit(Selection::Layer(chain.clone())))
        };
        html! {
            <tr data-layer-row={chain.to_string()} class={classes!(status)}>
                <td>{ i + 1 }</td>
                <td class="command" title={command.clone()}>{ command }</td>
                <td class="num">{ size }</td>
                <td><button class="link mono" {onclick}>{ super::short(chain.as_str()) }</button></td>
                <td>{ status }</td>
            </tr>
        }
    });
    html! {
        <table class="image-layers" id="image-layers">
            <thead><tr><th>{ "#" }</th><th>{ "command" }</th><th>{ "size" }</th><th>{ "chainID" }</th><th>{ "status" }</th></tr></thead>
            <tbody>{ for rows }</tbody>
        </table>
    }
}

/// A layer's neighbours as links: its parent, its children, the images that use it.
fn layer_links(
    l: &crate::state::Loaded,
    chain: &storesnap_core::ChainId,
    on_select: &Callback<Selection>,
) -> Html {
    let link = |selection: Selection, label: String| {
        let on_select = on_select.clone();
        let target = match &selection {
            Selection::Layer(c) => c.to_string(),
            Selection::Image(i) => i.to_string(),
            Selection::None => String::new(),
        };
        let onclick = Callback::from(move |_: MouseEvent| on_select.emit(selection.clone()));
        html! { <button class="link mono" data-target={target} {onclick}>{ label }</button> }
    };
    let parent = l.store.layers.get(chain).and_then(|x| x.parent.clone());
    let children = l
        .store
        .layers
        .values()
        .filter(|x| x.parent.as_ref() == Some(chain))
        .map(|x| x.chain_id.clone());
    let users = l
        .store
        .images
        .values()
        .filter(|i| i.chain().contains(chain));
    html! {
        <dl class="links" id="layer-links">
            <dt>{ "parent" }</dt>
            <dd data-links="parent">{ for parent.map(|p| link(Selection::Layer(p.clone()), super::short(p.as_str()))) }</dd>
            <dt>{ "children" }</dt>
            <dd data-links="children">{ for children.map(|c| link(Selection::Layer(c.clone()), super::short(c.as_str()))) }</dd>
            <dt>{ "used by" }</dt>
            <dd data-links="images">{ for users.map(|i| link(Selection::Image(i.id.clone()), i.display_name())) }</dd>
        </dl>
    }
}
