//! The graph driver's directories that nothing refers to (the findings about them): where each
//! is, its short link, and what the finding says. Selecting one shows it in the inspector.

use std::collections::BTreeMap;
use std::rc::Rc;

use storesnap_core::{Finding, Subject};
use yew::prelude::*;

use crate::state::{Loaded, Selection};

#[derive(Properties, PartialEq)]
pub struct DriverDirsProps {
    pub loaded: Rc<Loaded>,
    pub selection: Selection,
    pub on_select: Callback<Selection>,
}

/// Each directory a finding names, with the worst finding about it.
pub fn flagged(loaded: &Loaded) -> BTreeMap<&str, &Finding> {
    let mut out: BTreeMap<&str, &Finding> = BTreeMap::new();
    for f in &loaded.findings {
        for s in &f.subjects {
            if let Subject::CacheDir(name) = s {
                let worst = out.entry(name).or_insert(f);
                if f.severity > worst.severity {
                    *worst = f;
                }
            }
        }
    }
    out
}

#[function_component(DriverDirs)]
pub fn driver_dirs(props: &DriverDirsProps) -> Html {
    let l = &props.loaded;
    let dirs = flagged(l);
    if dirs.is_empty() {
        return html! {};
    }
    let rows = dirs.into_iter().map(|(name, finding)| {
        let selection = Selection::DriverDir(name.to_owned());
        let selected = props.selection == selection;
        let activate = {
            let on_select = props.on_select.clone();
            move || on_select.emit(selection.clone())
        };
        let (onclick, onkeydown) = super::activation(activate);
        let link = l
            .store
            .driver_dirs
            .get(name)
            .and_then(|d| d.link.clone())
            .unwrap_or_default();
        html! {
            <tr data-driver-dir={name.to_owned()} class={classes!(selected.then_some("selected"))}
                tabindex="0" {onclick} {onkeydown}>
                <td class="mono">{ l.store.driver_record_path(name) }</td>
                <td class="mono">{ link }</td>
                <td class={classes!("sev", finding.severity.as_str())}>{ finding.code.as_str() }</td>
            </tr>
        }
    });
    html! {
        <section class="driver-dirs" id="driver-dirs">
            <h3>{ "Graph-driver directories nothing refers to" }</h3>
            <table>
                <thead><tr><th>{ "path" }</th><th>{ "link" }</th><th>{ "finding" }</th></tr></thead>
                <tbody>{ for rows }</tbody>
            </table>
        </section>
    }
}
