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
    // The layer opened inline in an image's layers table.
    let open = use_state(|| None::<storesnap_core::ChainId>);
    let l = &props.loaded;
    let mut layers = html! {};
    let subject;
    let rows: Vec<(&str, Html)> = match &props.selection {
        Selection::None => {
            return html! { <section class="details" id="details"><p class="muted">{ "Select a finding, a layer or an image." }</p></section> }
        }
        Selection::DriverDir(name) => return driver_dir(l, name, &props.on_select),
        Selection::File(path) => return file(l, path),
        Selection::Layer(c) => {
            let Some(layer) = l.store.layers.get(c) else {
                return missing_layer(l, c, &props.on_select);
            };
            layers = layer_links(l, c, &props.on_select);
            subject = Some(storesnap_core::Subject::Chain(c.clone()));
            let users: Html = l
                .store
                .images
                .values()
                .filter(|i| i.chain().contains(c))
                .map(|i| {
                    link(
                        &props.on_select,
                        Selection::Image(i.id.clone()),
                        i.display_name(),
                    )
                })
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
                ("chainID", text(c.to_string())),
                (
                    "diffID",
                    text(
                        layer
                            .diff_id
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                    ),
                ),
                (
                    "parent",
                    match &layer.parent {
                        Some(p) => {
                            link(&props.on_select, Selection::Layer(p.clone()), p.to_string())
                        }
                        None => text("(base layer)".into()),
                    },
                ),
                (
                    "cache-id",
                    match &layer.cache_id {
                        Some(d) => link(
                            &props.on_select,
                            Selection::DriverDir(d.to_string()),
                            d.to_string(),
                        ),
                        None => html! {},
                    },
                ),
                (
                    "size",
                    text(
                        layer
                            .size
                            .map(|s| storesnap_core::docker::human_size(s as i64))
                            .unwrap_or_default(),
                    ),
                ),
                (
                    "tar-split",
                    text(
                        if layer.tar_split {
                            "present"
                        } else {
                            "missing"
                        }
                        .into(),
                    ),
                ),
                ("used by", users),
                (
                    "store",
                    text(
                        if l.store.containerd.is_some() {
                            "containerd snapshot (below)"
                        } else {
                            "graph driver"
                        }
                        .into(),
                    ),
                ),
                ("made by", text(step.unwrap_or_default())),
            ]
        }
        Selection::Image(id) => {
            let Some(image) = l.store.images.get(id) else {
                return missing_image(l, id);
            };
            layers = html! {
                <>
                    { image_links(l, image, &props.on_select) }
                    { image_layers(l, image, &props.on_select, &open) }
                </>
            };
            subject = Some(storesnap_core::Subject::Image(id.clone()));
            let config = image.config.as_ref();
            vec![
                ("image", text(id.to_string())),
                ("tags", text(join(&image.tags))),
                ("digests", text(join(&image.digests))),
                (
                    "created",
                    text(config.and_then(|c| c.created.clone()).unwrap_or_default()),
                ),
                (
                    "platform",
                    text(
                        config
                            .map(|c| format!("{}/{}", c.os, c.architecture))
                            .unwrap_or_default(),
                    ),
                ),
                ("layers", text(image.chain().len().to_string())),
                (
                    "size",
                    text(storesnap_core::docker::human_size(
                        l.store.image_size(image),
                    )),
                ),
                ("verified", text(l.store.id_check(image).into())),
            ]
        }
    };
    // A containerd store has no cache IDs or tar-split: its pane shows snapshots instead.
    let containerd = l.store.containerd.is_some();
    let rows: Vec<(&str, Html)> = rows
        .into_iter()
        .filter(|(k, _)| !(containerd && matches!(*k, "cache-id" | "tar-split")))
        .collect();
    html! {
        <section class="details" id="details">
            <dl>
                { for rows.into_iter().map(|(k, v)| html! { <><dt>{ k }</dt><dd class="mono">{ v }</dd></> }) }
            </dl>
            { layers }
            { for subject.map(|s| problems(l, &s)) }
        </section>
    }
}

/// A graph-driver directory: where it is, what it holds, and why it was flagged.
fn driver_dir(l: &crate::state::Loaded, name: &str, on_select: &Callback<Selection>) -> Html {
    let dir = l.store.driver_dirs.get(name);
    let layer = l
        .store
        .layers
        .values()
        .find(|x| x.cache_id.as_ref().is_some_and(|c| c.as_str() == name));
    let yes = |b: bool| if b { "yes" } else { "no" };
    html! {
        <section class="details" id="details" data-driver-dir={name.to_owned()}>
            <dl>
                <dt>{ "directory" }</dt><dd class="mono">{ l.store.driver_record_path(name) }</dd>
                if let Some(d) = dir {
                    <dt>{ "link" }</dt><dd class="mono">{ d.link.clone().unwrap_or_default() }</dd>
                    <dt>{ "lower" }</dt><dd class="mono" data-links="lower">{ lowers(l, d, on_select) }</dd>
                    <dt>{ "diff, work, merged" }</dt>
                    <dd>{ format!("{}, {}, {}", yes(d.has_diff), yes(d.has_work), yes(d.has_merged)) }</dd>
                } else {
                    <dt>{ "status" }</dt><dd class="error">{ "not in the snapshot" }</dd>
                }
                <dt>{ "layer" }</dt>
                <dd>{ match layer {
                    Some(x) => {
                        let (on_select, c) = (on_select.clone(), x.chain_id.clone());
                        let onclick = Callback::from(move |_: MouseEvent| on_select.emit(Selection::Layer(c.clone())));
                        html! { <button class="link mono" data-target={x.chain_id.to_string()} {onclick}>{ super::short(x.chain_id.as_str()) }</button> }
                    }
                    None => html! { <span class="muted">{ "no layer refers to it" }</span> },
                } }</dd>
            </dl>
            { problems(l, &storesnap_core::Subject::CacheDir(name.to_owned())) }
        </section>
    }
}

/// A directory's lower file, parent first: each link that names a layer's directory links to
/// that layer, and one that names no directory is shown as missing where it stands.
fn lowers(
    l: &crate::state::Loaded,
    dir: &storesnap_core::store::DriverDir,
    on_select: &Callback<Selection>,
) -> Html {
    let lower = dir.lower.as_deref().unwrap_or_default();
    let entries = lower.iter().enumerate().map(|(i, entry)| {
        let short_name = entry.strip_prefix("l/").unwrap_or(entry);
        let named = l
            .store
            .driver_dirs
            .values()
            .find(|d| d.link.as_deref() == Some(short_name));
        let layer = named.and_then(|d| {
            l.store
                .layers
                .values()
                .find(|x| x.cache_id.as_ref().is_some_and(|c| c.as_str() == d.name))
        });
        let item = match (named, layer) {
            (_, Some(x)) => link(
                on_select,
                Selection::Layer(x.chain_id.clone()),
                format!("{entry} ({})", super::short(x.chain_id.as_str())),
            ),
            (Some(d), None) => link(
                on_select,
                Selection::DriverDir(d.name.clone()),
                entry.clone(),
            ),
            (None, None) => html! {
                <span class="error" data-missing="true" title="no directory has this link">
                    { format!("{entry} (missing)") }
                </span>
            },
        };
        html! { <>{ (i > 0).then_some(":") }{ item }</> }
    });
    html! { <>{ for entries }</> }
}

/// A file a finding names: its start, and the findings that say why it does not parse.
fn file(l: &crate::state::Loaded, path: &str) -> Html {
    html! {
        <section class="details" id="details" data-file={path.to_owned()}>
            <dl><dt>{ "file" }</dt><dd class="mono">{ path }</dd></dl>
            { problems(l, &storesnap_core::Subject::Path(path.to_owned())) }
        </section>
    }
}

fn text(s: String) -> Html {
    html! { { s } }
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
    open: &UseStateHandle<Option<storesnap_core::ChainId>>,
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
            Callback::from(move |e: MouseEvent| {
                e.stop_propagation();
                on_select.emit(Selection::Layer(chain.clone()))
            })
        };
        // The row opens the layer's links inline; the image stays selected.
        let is_open = open.as_ref() == Some(chain);
        let toggle = {
            let (open, chain) = (open.clone(), chain.clone());
            move || open.set(if is_open { None } else { Some(chain.clone()) })
        };
        let (on_row, on_key) = super::activation(toggle);
        html! {
            <>
                <tr data-layer-row={chain.to_string()} class={classes!(status, is_open.then_some("open"))}
                    tabindex="0" aria-expanded={is_open.to_string()} onclick={on_row} onkeydown={on_key}>
                    <td>{ i + 1 }</td>
                    <td class="command" title={command.clone()}>{ command }</td>
                    <td class="num">{ size }</td>
                    <td><button class="link mono" {onclick}>{ super::short(chain.as_str()) }</button></td>
                    <td>{ status }</td>
                </tr>
                if is_open {
                    <tr class="inline" data-inline-layer={chain.to_string()}>
                        <td colspan="5">
                            { layer_links(l, chain, on_select) }
                            { problems(l, &Subject::Chain(chain.clone())) }
                        </td>
                    </tr>
                }
            </>
        }
    });
    html! {
        <table class="image-layers" id="image-layers">
            <thead><tr><th>{ "#" }</th><th>{ "command" }</th><th>{ "size" }</th><th>{ "chainID" }</th><th>{ "status" }</th></tr></thead>
            <tbody>{ for rows }</tbody>
        </table>
    }
}

/// A link that selects `selection`; `data-target` names what it selects.
fn link(on_select: &Callback<Selection>, selection: Selection, label: String) -> Html {
    let on_select = on_select.clone();
    let target = match &selection {
        Selection::Layer(c) => c.to_string(),
        Selection::Image(i) => i.to_string(),
        Selection::DriverDir(d) | Selection::File(d) => d.clone(),
        Selection::None => String::new(),
    };
    let onclick = Callback::from(move |_: MouseEvent| on_select.emit(selection.clone()));
    html! { <button class="link mono" data-target={target} {onclick}>{ label }</button> }
}

/// A layer's neighbours as links: its parent, its children, the images that use it.
fn layer_links(
    l: &crate::state::Loaded,
    chain: &storesnap_core::ChainId,
    on_select: &Callback<Selection>,
) -> Html {
    let link = |selection: Selection, label: String| link(on_select, selection, label);
    let node = l.graph.nodes.get(chain);
    let cache = l
        .store
        .layers
        .get(chain)
        .and_then(|x| x.cache_id.as_ref())
        .map(|c| c.to_string());
    let parent = node.and_then(|n| n.parent.clone());
    let children = node
        .map(|n| n.children.clone())
        .unwrap_or_default()
        .into_iter();
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
            if let Some(cache) = cache {
                <dt>{ "cache-id" }</dt>
                <dd data-links="cache-id">{ link(Selection::DriverDir(cache.clone()), cache) }</dd>
            }
        </dl>
    }
}

/// A ghost: what names the layer, and what its absence breaks.
fn missing_layer(
    l: &crate::state::Loaded,
    chain: &storesnap_core::ChainId,
    on_select: &Callback<Selection>,
) -> Html {
    html! {
        <section class="details" id="details" data-missing="true">
            <dl>
                <dt>{ "chainID" }</dt><dd class="mono">{ chain.to_string() }</dd>
                <dt>{ "status" }</dt>
                <dd class="error">{ "missing: images or layers name it, but the store does not have it" }</dd>
            </dl>
            { layer_links(l, chain, on_select) }
            { problems(l, &storesnap_core::Subject::Chain(chain.clone())) }
        </section>
    }
}

/// The findings about a subject, each with its hint: what to do about the selection.
pub fn problems(l: &crate::state::Loaded, subject: &storesnap_core::Subject) -> Html {
    use super::raw::Raw;
    use storesnap_core::Subject;
    let about: Vec<_> = l
        .findings
        .iter()
        .filter(|f| f.subjects.contains(subject))
        .collect();
    if about.is_empty() {
        return html! {};
    }
    html! {
        <section class="problems" id="problems">
            <h4>{ "Problems" }</h4>
            <ul>
                { for about.into_iter().map(|f| html! {
                    <li class={classes!("finding", f.severity.as_str())} data-finding-code={f.code.as_str()}>
                        <strong>{ f.code.as_str() }</strong>{ ": " }{ &f.message }
                        <p class="hint">{ f.hint }</p>
                        { for f.subjects.iter().filter_map(|s| match s {
                            Subject::Path(p) => Some(html! {
                                <Raw path={p.clone()} bytes={l.raw.get(p).cloned()} />
                            }),
                            _ => None,
                        }) }
                    </li>
                }) }
            </ul>
        </section>
    }
}

/// An image's build parent and the images built on it, as links.
fn image_links(
    l: &crate::state::Loaded,
    image: &storesnap_core::store::Image,
    on_select: &Callback<Selection>,
) -> Html {
    let link = |i: &storesnap_core::ImageId| {
        let (on_select, id) = (on_select.clone(), i.clone());
        let label = l
            .store
            .images
            .get(i)
            .map_or_else(|| format!("{} (missing)", i.short()), |x| x.display_name());
        let onclick =
            Callback::from(move |_: MouseEvent| on_select.emit(Selection::Image(id.clone())));
        html! { <button class="link mono" data-target={i.to_string()} {onclick}>{ label }</button> }
    };
    let children = l
        .store
        .images
        .values()
        .filter(|c| c.parent.as_ref() == Some(&image.id))
        .map(|c| link(&c.id));
    html! {
        <dl class="links" id="image-links">
            <dt>{ "parent" }</dt>
            <dd data-links="parent-image">{ for image.parent.as_ref().map(link) }</dd>
            <dt>{ "built on by" }</dt>
            <dd data-links="child-images">{ for children }</dd>
        </dl>
    }
}

/// A ghost image: the tags that still point at it, and what to do.
fn missing_image(l: &crate::state::Loaded, id: &storesnap_core::ImageId) -> Html {
    let tags: Vec<&str> = l
        .store
        .references
        .iter()
        .filter(|r| r.image == *id)
        .map(|r| r.name.as_str())
        .collect();
    html! {
        <section class="details" id="details" data-missing="true">
            <dl>
                <dt>{ "image" }</dt><dd class="mono">{ id.to_string() }</dd>
                <dt>{ "status" }</dt>
                <dd class="error">{ "missing: named here, but imagedb does not have it" }</dd>
                <dt>{ "tags" }</dt><dd class="mono">{ tags.join(", ") }</dd>
            </dl>
            { problems(l, &storesnap_core::Subject::Image(id.clone())) }
        </section>
    }
}
