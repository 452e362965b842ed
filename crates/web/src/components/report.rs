//! "Copy report": the Markdown `storesnap report` prints for the same file, from the same core
//! function, ready to paste into an issue.

use std::rc::Rc;

use yew::prelude::*;

use crate::state::Loaded;

#[derive(Properties, PartialEq)]
pub struct ReportProps {
    pub loaded: Rc<Loaded>,
    /// Copies the text; the app reports how it went.
    pub on_copy: Callback<String>,
    /// What the last copy did, e.g. "Copied".
    pub notice: Option<String>,
}

#[function_component(Report)]
pub fn report(props: &ReportProps) -> Html {
    // The worker writes it: the page has no report writer of its own.
    let text = use_memo(props.loaded.clone(), |l| {
        l.report.clone().unwrap_or_default()
    });
    let onclick = {
        let (on_copy, text) = (props.on_copy.clone(), text.clone());
        Callback::from(move |_: MouseEvent| on_copy.emit((*text).clone()))
    };
    html! {
        <details class="report" id="report">
            <summary>
                { "Report for a bug report " }
                <button id="copy-report" {onclick}>{ "Copy report" }</button>
                if let Some(notice) = &props.notice {
                    <span class="muted" id="copy-notice">{ format!(" {notice}") }</span>
                }
            </summary>
            <p class="muted">{ "The same Markdown " }<code>{ "storesnap report" }</code>
                { " prints for this file. Paste it into the issue and attach the snapshot." }</p>
            <textarea id="report-text" readonly=true rows="16" value={(*text).clone()} />
        </details>
    }
}
