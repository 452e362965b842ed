//! What `pack` left out of this snapshot and how: every redacted field, image configs, skipped
//! paths by reason.

use std::collections::BTreeMap;
use std::rc::Rc;

use yew::prelude::*;

use crate::state::Loaded;

#[derive(Properties, PartialEq)]
pub struct RedactionsProps {
    pub loaded: Rc<Loaded>,
}

#[function_component(Redactions)]
pub fn redactions(props: &RedactionsProps) -> Html {
    let Some(m) = &props.loaded.manifest else {
        return html! {};
    };
    let values = m.redacted_values();
    let mut skipped: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in &m.skipped {
        skipped.entry(s.reason.as_str()).or_default().push(&s.path);
    }
    let images = if m.image_configs_redacted() {
        let matched = m.configs_matched_before_redaction();
        format!(
            "Image configs were redacted too (pack --redact), so their bytes no longer hash to \
             their IDs; before redaction, {matched} of {} did.",
            m.image_configs.len()
        )
    } else {
        "Image configs are kept byte-exact, so every image ID can be checked against its config."
            .to_owned()
    };
    html! {
        <section class="redactions" id="redactions">
            <h3>{ format!("Redacted and left out: {values} values in {} files", m.redacted.len()) }</h3>
            <p class="muted">
                { "Each value was replaced by " }<code>{ "<redacted:…>" }</code>
                { ", a keyed hash whose key never left the packing host: equal values share a marker, \
                   so a repeated secret shows as repeated, but a guessed value cannot be confirmed. \
                   Names (variables, label keys) are kept." }
            </p>
            <p class="muted">{ images }</p>
            <ul class="redacted">
                { for m.redacted.iter().map(|r| html! {
                    <li data-redacted-path={r.path.clone()}>
                        <code>{ &r.path }</code>{ ": " }
                        { for r.fields.iter().enumerate().map(|(i, f)| html! {
                            <>{ if i > 0 { ", " } else { "" } }<code class="field">{ f }</code></>
                        }) }
                    </li>
                }) }
            </ul>
            <details>
                <summary>{ format!("{} paths not packed (layer contents, logs and volume data never are)", m.skipped.len()) }</summary>
                <ul>
                    { for skipped.iter().map(|(reason, paths)| html! {
                        <li data-skip-reason={*reason}>
                            <strong>{ format!("{reason} ({})", paths.len()) }</strong>{ ": " }
                            { paths.iter().take(20).cloned().collect::<Vec<_>>().join(", ") }
                            if paths.len() > 20 { { format!(", … {} more", paths.len() - 20) } }
                        </li>
                    }) }
                </ul>
            </details>
        </section>
    }
}
