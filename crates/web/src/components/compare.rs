//! The open snapshot compared with a later one: images, layers, containers, findings and disk
//! use, as `storesnap diff` shows them. What is still in the open snapshot links to it.

use std::rc::Rc;

use storesnap_core::docker::human_size;
use yew::prelude::*;

use crate::compare::Compared;
use crate::state::{Loaded, Selection};

#[derive(Properties, PartialEq)]
pub struct CompareProps {
    pub compared: Rc<Compared>,
    pub loaded: Rc<Loaded>,
    pub on_select: Callback<Selection>,
    pub on_close: Callback<()>,
}

#[function_component(Compare)]
pub fn compare(props: &CompareProps) -> Html {
    let c = &props.compared;
    let close = props.on_close.reform(|_: MouseEvent| ());
    let header = html! {
        <header class="compare-head">
            <h3>{ format!("{} → {}", props.loaded.name, c.name) }</h3>
            <button id="close-compare" onclick={close}>{ "Close" }</button>
        </header>
    };
    let d = match &c.result {
        Err(e) => {
            return html! {
                <section class="compare" id="compare">{ header }<p class="error" role="alert">{ e }</p></section>
            }
        }
        Ok(d) => d,
    };
    if d.is_empty() {
        return html! {
            <section class="compare" id="compare" data-changes="0">{ header }<p id="no-changes">{ "No changes." }</p></section>
        };
    }
    let select_image = |id: &storesnap_core::ImageId, label: String| -> Html {
        if props.loaded.store.images.contains_key(id) {
            let (on_select, id) = (props.on_select.clone(), id.clone());
            let (onclick, onkeydown) =
                super::activation(move || on_select.emit(Selection::Image(id.clone())));
            html! { <button class="link mono" {onclick} {onkeydown}>{ label }</button> }
        } else {
            html! { <span class="mono">{ label }</span> }
        }
    };
    let names = |tags: &[String]| {
        if tags.is_empty() {
            "<none>".to_owned()
        } else {
            tags.join(", ")
        }
    };
    let count = |n: usize, what: &str| format!("{n} {what}");
    html! {
        <section class="compare" id="compare" data-changes="1">
            { header }
            <h4>{ format!("Images: {}, {}, {}", count(d.images_added.len(), "added"), count(d.images_removed.len(), "removed"), count(d.images_retagged.len(), "retagged")) }</h4>
            <ul>
                { for d.images_added.iter().map(|i| html! {
                    <li class="added" data-diff="image-added" data-image-id={i.id.to_string()}>{ "+ " }<span class="mono">{ i.id.short() }</span>{ format!(" {} ({} layers)", names(&i.tags), i.layers) }</li>
                }) }
                { for d.images_removed.iter().map(|i| html! {
                    <li class="removed" data-diff="image-removed" data-image-id={i.id.to_string()}>{ "− " }{ select_image(&i.id, i.id.short().to_owned()) }{ format!(" {} ({} layers)", names(&i.tags), i.layers) }</li>
                }) }
                { for d.images_retagged.iter().map(|r| html! {
                    <li class="modified" data-diff="image-retagged" data-image-id={r.id.to_string()}>{ "~ " }{ select_image(&r.id, r.id.short().to_owned()) }{ format!(" {} → {}", names(&r.before), names(&r.after)) }</li>
                }) }
            </ul>
            <h4 id="compare-layers" data-added={d.layers_added.len().to_string()} data-removed={d.layers_removed.len().to_string()}>
                { format!("Layers: {} ({}), {} ({} freed)", count(d.layers_added.len(), "added"), human_size(d.layer_bytes_added as i64),
                    count(d.layers_removed.len(), "removed"), human_size(d.layer_bytes_freed as i64)) }
            </h4>
            <h4>{ format!("Containers: {}, {}, {}", count(d.containers_added.len(), "added"), count(d.containers_removed.len(), "removed"), count(d.containers_changed.len(), "changed state")) }</h4>
            <ul>
                { for d.containers_added.iter().map(|c| html! { <li class="added" data-diff="container-added">{ format!("+ {} ({})", c.name, c.state) }</li> }) }
                { for d.containers_removed.iter().map(|c| html! { <li class="removed" data-diff="container-removed">{ format!("− {} ({})", c.name, c.state) }</li> }) }
                { for d.containers_changed.iter().map(|c| html! { <li class="modified" data-diff="container-changed">{ format!("~ {}: {} → {}", c.name, c.before, c.after) }</li> }) }
            </ul>
            <h4>{ format!("Findings: {} new, {} resolved", d.findings_new.len(), d.findings_resolved.len()) }</h4>
            <ul>
                { for d.findings_new.iter().map(|f| html! {
                    <li class={classes!("finding", f.severity.as_str())} data-diff="finding-new" data-finding-code={f.code.as_str()}>{ format!("+ {}: {}", f.code.as_str(), f.message) }</li>
                }) }
                { for d.findings_resolved.iter().map(|f| html! {
                    <li class="resolved" data-diff="finding-resolved" data-finding-code={f.code.as_str()}>{ format!("− {}: {}", f.code.as_str(), f.message) }</li>
                }) }
            </ul>
            if !d.df.is_empty() {
                <table class="compare-df">
                    <thead><tr><th>{ "docker system df" }</th><th>{ "before" }</th><th>{ "after" }</th></tr></thead>
                    <tbody>
                    { for d.df.iter().map(|row| {
                        let cell = |t: &Option<storesnap_core::diff::DfTotals>| t.as_ref().map_or_else(|| "-".to_owned(), |t| format!("{} ({} total)", t.size, t.total));
                        html! { <tr class={classes!((row.before != row.after).then_some("modified"))}><td>{ &row.kind }</td><td>{ cell(&row.before) }</td><td>{ cell(&row.after) }</td></tr> }
                    }) }
                    </tbody>
                </table>
            }
        </section>
    }
}
