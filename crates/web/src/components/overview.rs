//! What the snapshot is: host, driver, counts, sizes, redaction, findings by severity.

use std::collections::BTreeMap;
use std::rc::Rc;

use storesnap_core::docker::human_size;
use storesnap_core::Severity;
use yew::prelude::*;

use crate::state::{Loaded, Timing};

#[derive(Properties, PartialEq)]
pub struct OverviewProps {
    pub loaded: Rc<Loaded>,
}

#[function_component(Overview)]
pub fn overview(props: &OverviewProps) -> Html {
    let l = &props.loaded;
    let count = |s| l.findings.iter().filter(|f| f.severity == s).count();
    let contents = format!(
        "{} images, {} layers, {} containers",
        l.store.images.len(),
        l.store.layers.len(),
        l.store.containers.len()
    );
    let fields: BTreeMap<&str, String> = match (&l.manifest, &l.store.archive) {
        (_, Some(a)) => BTreeMap::from([
            ("source", a.layout.describe().to_owned()),
            (
                "archive",
                format!(
                    "{}, {} entries, {}",
                    human_size(i64::try_from(a.read).unwrap_or(i64::MAX)),
                    a.entries,
                    a.compression.map_or("not read", |c| c.as_str())
                ),
            ),
            ("contents", contents),
            (
                "layers verified",
                format!(
                    "{} of {}",
                    a.layers
                        .values()
                        .filter(|x| x.state == storesnap_core::store::LayerState::Verified)
                        .count(),
                    a.layers.len()
                ),
            ),
        ]),
        (None, None) => BTreeMap::from([("contents", contents)]),
        (Some(m), None) => {
            let redacted = m.redacted_values();
            BTreeMap::from([
                (
                    "host",
                    format!("{} ({}/{})", m.host.hostname, m.host.os, m.host.arch),
                ),
                ("driver", m.storage_driver.clone()),
                ("data root", m.data_root.clone()),
                ("packed", m.created.clone()),
                ("contents", contents),
                ("image disk use", l.disk_use.clone().unwrap_or_default()),
                (
                    "redacted",
                    format!(
                        "{redacted} values in {} files{}",
                        m.redacted.len(),
                        if m.image_configs_redacted() {
                            ", image configs too"
                        } else {
                            ""
                        }
                    ),
                ),
            ])
        }
    };
    html! {
        <section class="overview" id="overview">
            <h2>{ &l.name }</h2>
            <dl>
                { for fields.iter().map(|(k, v)| html! { <><dt>{ *k }</dt><dd>{ v }</dd></> }) }
            </dl>
            <p class="severities">
                <span class="sev error">{ format!("{} errors", count(Severity::Error)) }</span>
                <span class="sev warning">{ format!("{} warnings", count(Severity::Warning)) }</span>
                <span class="sev info">{ format!("{} info", count(Severity::Info)) }</span>
                if let Some(Timing { read_ms: read, check_ms: check, layout_ms: layout }) = l.timing {
                    <span class="muted" id="timing" data-read-ms={format!("{read:.0}")} data-check-ms={format!("{check:.0}")} data-layout-ms={format!("{layout:.0}")} data-worker-memory={l.worker_memory.map(|m| m.to_string())}
                        data-parse-ms={l.assembly.map(|(total, _)| format!("{total:.0}"))}
                        data-longest-step-ms={l.assembly.map(|(_, step)| format!("{step:.0}"))}>
                        { format!("read in {read:.0} ms, checked in {check:.0} ms, laid out in {layout:.0} ms, here in your browser") }
                    </span>
                }
            </p>
        </section>
    }
}
