//! The selected image's history, oldest first, each row linked to its layer.

use std::rc::Rc;

use yew::prelude::*;

use crate::state::{Loaded, Selection};

#[derive(Properties, PartialEq)]
pub struct TimelineProps {
    pub loaded: Rc<Loaded>,
    pub selection: Selection,
    pub on_select: Callback<Selection>,
}

/// `2026-11-23T08:32:32.556448871Z` → `2026-11-23 08:32:32` (the offset is always shown as
/// written elsewhere; a row only needs the moment).
pub fn short_time(rfc3339: &str) -> String {
    rfc3339
        .get(..19)
        .map(|t| t.replacen('T', " ", 1))
        .unwrap_or_else(|| rfc3339.to_owned())
}

/// `/bin/sh -c #(nop)  ENV A=b` → `ENV A=b`; `/bin/sh -c make` → `RUN make`.
pub fn clean_command(created_by: &str) -> String {
    let s = created_by.trim();
    if let Some(rest) = s.strip_prefix("/bin/sh -c #(nop)") {
        return rest.trim().to_owned();
    }
    if let Some(rest) = s.strip_prefix("/bin/sh -c ") {
        return format!("RUN {}", rest.trim());
    }
    s.to_owned()
}

#[function_component(Timeline)]
pub fn timeline(props: &TimelineProps) -> Html {
    let l = &props.loaded;
    let image = match &props.selection {
        Selection::Image(id) => l.store.images.get(id),
        _ => None,
    };
    let Some(image) = image else { return html! {} };
    let Some(config) = &image.config else {
        return html! {};
    };
    let chain = image.chain();
    let rows = config.history.iter().enumerate().map(|(i, h)| {
        let layer = h.layer.and_then(|k| chain.get(k)).cloned();
        let size = layer.as_ref().and_then(|c| l.store.layers.get(c)?.size);
        // The layer is a link: clicking the row itself keeps the image selected.
        let link = layer.as_ref().map(|c| {
            let (on_select, c) = (props.on_select.clone(), c.clone());
            let label = super::short(c.as_str());
            let target = c.to_string();
            let onclick = Callback::from(move |_: MouseEvent| on_select.emit(Selection::Layer(c.clone())));
            html! { <button class="link mono" data-target={target} {onclick}>{ label }</button> }
        });
        let class = classes!("step", h.empty_layer.then_some("empty"));
        let size = if h.empty_layer {
            "empty".to_owned()
        } else {
            size.map(|s| storesnap_core::docker::human_size(s as i64))
                .unwrap_or_default()
        };
        html! {
            <tr {class} data-history-index={i.to_string()}>
                <td class="mono nowrap" title={h.created.clone().unwrap_or_default()}>{ short_time(h.created.as_deref().unwrap_or_default()) }</td>
                <td class="mono">{ clean_command(&h.created_by) }</td>
                <td class="nowrap">{ size }</td>
                <td class="nowrap">{ for link }</td>
            </tr>
        }
    });
    html! {
        <section class="timeline" id="timeline">
            <h3>{ "History" }</h3>
            <table><tbody>{ for rows }</tbody></table>
        </section>
    }
}
