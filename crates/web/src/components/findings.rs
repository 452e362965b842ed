//! Every finding with its hint; a click selects what it concerns.

use std::rc::Rc;

use storesnap_core::{ChainId, Subject};
use yew::prelude::*;

use crate::state::{Loaded, Selection};

#[derive(Properties, PartialEq)]
pub struct FindingsProps {
    pub loaded: Rc<Loaded>,
    pub on_select: Callback<Selection>,
}

#[function_component(Findings)]
pub fn findings(props: &FindingsProps) -> Html {
    let store = &props.loaded.store;
    let items = props.loaded.findings.iter().map(|f| {
        let target = f.subjects.iter().find_map(|s| match s {
            Subject::Chain(c) => Some(Selection::Layer(c.clone())),
            Subject::Image(i) => Some(Selection::Image(i.clone())),
            // A layer's snapshot is keyed by its chainID; a blob belongs to an image.
            Subject::Snapshot(k) => k
                .parse::<ChainId>()
                .ok()
                .filter(|c| store.layers.contains_key(c))
                .map(Selection::Layer),
            Subject::Blob(d) => store
                .containerd
                .as_deref()
                .and_then(|cd| cd.image_using(d))
                .map(|i| Selection::Image(i.clone())),
            _ => None,
        });
        let onclick = {
            let on_select = props.on_select.clone();
            Callback::from(move |_: MouseEvent| {
                if let Some(t) = &target {
                    on_select.emit(t.clone());
                }
            })
        };
        html! {
            <li class={classes!("finding", f.severity.as_str())} data-finding-code={f.code.as_str()} {onclick}>
                <strong>{ f.code.as_str() }</strong>{ ": " }{ &f.message }
                <div class="hint">{ f.hint }</div>
            </li>
        }
    });
    html! {
        <section class="findings" id="findings">
            <h3>{ format!("Findings ({})", props.loaded.findings.len()) }</h3>
            <ul>{ for items }</ul>
        </section>
    }
}
