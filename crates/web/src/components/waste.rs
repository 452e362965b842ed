//! The store's biggest wasted-space offenders: paths whose bytes layers still carry though the
//! image no longer shows them, each linked to the layer that wrote it and the one that hid it.

use std::rc::Rc;

use storesnap_core::docker::human_size;
use yew::prelude::*;

use crate::files::FilesData;
use crate::state::{Loaded, Selection};

#[derive(Properties, PartialEq)]
pub struct WasteProps {
    pub loaded: Rc<Loaded>,
    pub files: Option<Rc<FilesData>>,
    pub on_select: Callback<Selection>,
}

/// Offenders listed.
const SHOWN: usize = 25;

#[function_component(Waste)]
pub fn waste(props: &WasteProps) -> Html {
    let Some(files) = &props.files else {
        return html! {};
    };
    let offenders = &files.survey.offenders;
    if offenders.is_empty() {
        return html! {};
    }
    let total: u64 = files
        .survey
        .images
        .values()
        .map(|w| w.wasted)
        .max()
        .unwrap_or(0);
    let link = |selection: Selection, label: String| {
        let (onclick, onkeydown) = {
            let (on_select, selection) = (props.on_select.clone(), selection.clone());
            super::activation(move || on_select.emit(selection.clone()))
        };
        let target = match &selection {
            Selection::Layer(c) => c.to_string(),
            Selection::Image(i) => i.to_string(),
            _ => String::new(),
        };
        html! { <button class="link mono" data-target={target} {onclick} {onkeydown}>{ label }</button> }
    };
    html! {
        <section class="waste" id="waste">
            <h3>{ "Wasted space" }</h3>
            <p class="muted">{ format!("Bytes layers carry that the image no longer shows; the most in one image: {}.", human_size(total as i64)) }</p>
            <table>
                <thead><tr><th>{ "WASTED" }</th><th>{ "WHY" }</th><th>{ "PATH" }</th><th>{ "IMAGE" }</th><th>{ "WRITTEN IN" }</th><th>{ "HIDDEN BY" }</th></tr></thead>
                <tbody>
                { for offenders.iter().take(SHOWN).map(|o| {
                    let image = props.loaded.store.images.get(&o.image).map_or_else(|| o.image.short().to_owned(), |i| i.display_name());
                    html! {
                        <tr data-waste-path={o.path.clone()} data-wasted={o.wasted.to_string()}>
                            <td>{ human_size(o.wasted as i64) }</td>
                            <td>{ &o.kind }</td>
                            <td class="mono">{ &o.path }</td>
                            <td>{ link(Selection::Image(o.image.clone()), image) }</td>
                            <td>{ link(Selection::Layer(o.written_in.clone()), o.written_in.short().to_owned()) }</td>
                            <td>{ link(Selection::Layer(o.lost_in.clone()), o.lost_in.short().to_owned()) }</td>
                        </tr>
                    }
                }) }
                </tbody>
            </table>
        </section>
    }
}
