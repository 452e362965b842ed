//! The findings, first on the page: grouped by severity and code, each group's hint once,
//! counts that filter by severity. Selecting a finding (click, or Enter when focused) selects
//! what it concerns.

use std::rc::Rc;

use storesnap_core::{Finding, Severity};
use yew::prelude::*;

use crate::state::{finding_target, Loaded, Selection};

#[derive(Properties, PartialEq)]
pub struct FindingsProps {
    pub loaded: Rc<Loaded>,
    pub on_select: Callback<Selection>,
    /// The severity shown, when the user picked one.
    pub severity: Option<Severity>,
    pub on_severity: Callback<Option<Severity>>,
}

const SEVERITIES: [Severity; 3] = [Severity::Error, Severity::Warning, Severity::Info];

/// Findings come sorted by severity and code: each run of one (severity, code) is a group.
fn groups(findings: &[Finding]) -> Vec<&[Finding]> {
    findings
        .chunk_by(|a, b| a.severity == b.severity && a.code == b.code)
        .collect()
}

/// Findings listed per group before "show all": thousands of one code say nothing more.
const SHOWN: usize = 50;

#[function_component(Findings)]
pub fn findings(props: &FindingsProps) -> Html {
    let opened = use_state(std::collections::BTreeSet::<(Severity, String)>::new);
    let loaded = &props.loaded;
    let count = |s| loaded.findings.iter().filter(|f| f.severity == s).count();
    let filters = SEVERITIES.iter().map(|&s| {
        let on_severity = props.on_severity.clone();
        let pressed = props.severity == Some(s);
        let onclick = Callback::from(move |_: MouseEvent| {
            on_severity.emit(if pressed { None } else { Some(s) })
        });
        let n = count(s);
        let label = match s {
            Severity::Error => "errors",
            Severity::Warning => "warnings",
            Severity::Info => "info",
        };
        html! {
            <button class={classes!("sev", s.as_str())} data-severity={s.as_str()}
                aria-pressed={pressed.to_string()} {onclick}>
                { format!("{n} {label}") }
            </button>
        }
    });
    let shown = groups(&loaded.findings)
        .into_iter()
        .filter(|g| props.severity.is_none_or(|s| g[0].severity == s));
    let rendered = shown.map(|group| {
        let first = &group[0];
        let key = (first.severity, first.code.as_str().to_owned());
        let listed = if opened.contains(&key) { group.len() } else { group.len().min(SHOWN) };
        let show_all = {
            let opened = opened.clone();
            Callback::from(move |_: MouseEvent| {
                let mut next = (*opened).clone();
                next.insert(key.clone());
                opened.set(next);
            })
        };
        let more = group.len() - listed;
        let items = group[..listed].iter().map(|f| {
            let target = finding_target(loaded, f);
            let activate = {
                let on_select = props.on_select.clone();
                let target = target.clone();
                move || {
                    if let Some(t) = &target {
                        on_select.emit(t.clone());
                    }
                }
            };
            let (onclick, onkeydown) = super::activation(activate);
            html! {
                <li class={classes!("finding", f.severity.as_str())} data-finding-code={f.code.as_str()}
                    data-finding-severity={f.severity.as_str()}
                    tabindex="0" role="button" {onclick} {onkeydown}>
                    { &f.message }
                </li>
            }
        });
        html! {
            <section class={classes!("finding-group", first.severity.as_str())}
                data-group-code={first.code.as_str()} data-count={group.len().to_string()}>
                <h4>
                    <span class={classes!("sev", first.severity.as_str())}>{ first.severity.as_str() }</span>
                    { " " }<strong>{ first.code.as_str() }</strong>{ format!(" ({})", group.len()) }
                </h4>
                <p class="hint">{ first.hint }</p>
                <ul>{ for items }</ul>
                if more > 0 {
                    <button class="link more" onclick={show_all}>{ format!("show {more} more") }</button>
                }
            </section>
        }
    });
    html! {
        <section class="findings" id="findings">
            <h3>{ format!("Findings ({})", loaded.findings.len()) }
                <span class="severity-filter" role="group" aria-label="show one severity">{ for filters }</span>
            </h3>
            { for rendered }
        </section>
    }
}
