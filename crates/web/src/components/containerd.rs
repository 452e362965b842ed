//! What only the containerd image store has, for the selected image or layer: the image's
//! records, its index and platform manifests, the snapshots it unpacks to and the leases
//! that hold it; a layer's snapshot.

use std::rc::Rc;

use storesnap_core::docker::human_size;
use storesnap_core::store::{Containerd, Snapshot};
use storesnap_core::ImageId;
use yew::prelude::*;

use super::short;
use crate::state::{Loaded, Selection};

#[derive(Properties, PartialEq)]
pub struct ContainerdProps {
    pub loaded: Rc<Loaded>,
    pub selection: Selection,
}

#[function_component(ContainerdPane)]
pub fn containerd_pane(props: &ContainerdProps) -> Html {
    let Some(cd) = props.loaded.store.containerd.as_deref() else {
        return html! {};
    };
    match &props.selection {
        Selection::Image(id) => image(&props.loaded, cd, id),
        Selection::Layer(c) => match cd.snapshots.get(c.as_str()) {
            Some(s) => html! {
                <section class="containerd" id="containerd">
                    <h3>{ "Snapshot" }</h3>
                    { snapshot_table(cd, std::iter::once(s)) }
                </section>
            },
            None => html! {
                <section class="containerd" id="containerd">
                    <p class="error">{ "No snapshot holds this layer." }</p>
                </section>
            },
        },
        _ => html! {},
    }
}

fn time(t: Option<i64>) -> String {
    t.map(|t| storesnap_core::time::UtcTime::from_unix(t).rfc3339())
        .unwrap_or_default()
}

fn image(loaded: &Loaded, cd: &Containerd, id: &ImageId) -> Html {
    let store = &loaded.store;
    let Some(target) = cd.targets.get(id) else {
        return html! {};
    };
    let records: Vec<_> = cd.records_of(id).collect();
    let chain: Vec<&str> = store
        .images
        .get(id)
        .map(|i| i.chain().iter().map(|c| c.as_str()).collect())
        .unwrap_or_default();
    let digests = target.digests(id);
    // Its containers' snapshots (`<id>` on `<id>-init`) are held by leases named after them.
    let container_keys: Vec<String> = store
        .containers
        .values()
        .filter(|c| c.image.as_ref() == Some(id))
        .flat_map(|c| [c.id.to_string(), format!("{}-init", c.id)])
        .collect();
    let keys: Vec<&str> = chain
        .iter()
        .copied()
        .chain(container_keys.iter().map(String::as_str))
        .collect();
    let leases: Vec<_> = cd.leases_holding(&digests, &keys).collect();
    let blob_state =
        |d: &storesnap_core::Digest| cd.blobs.get(d).map_or("missing", |b| b.file.describe());
    html! {
        <section class="containerd" id="containerd">
            <h3>{ "containerd" }</h3>
            <table id="containerd-records">
                <thead><tr><th>{ "record" }</th><th>{ "created" }</th><th>{ "updated" }</th></tr></thead>
                <tbody>
                { for records.iter().map(|r| html! {
                    <tr data-record={r.name.clone()}>
                        <td class="mono">{ &r.name }</td><td>{ time(r.created) }</td><td>{ time(r.updated) }</td>
                    </tr>
                }) }
                </tbody>
            </table>
            <p id="containerd-target">
                { if target.index { "index " } else { "manifest " } }
                <span class="mono">{ short(id.as_str()) }</span>
                { format!(" ({})", blob_state(id.digest())) }
            </p>
            <table id="containerd-manifests">
                <thead><tr><th>{ "manifest" }</th><th>{ "platform" }</th><th>{ "kind" }</th><th>{ "config" }</th><th>{ "layers" }</th></tr></thead>
                <tbody>
                { for target.manifests.iter().enumerate().map(|(i, m)| {
                    let chosen = target.chosen == Some(i);
                    let present = m.layers.iter().filter(|l| cd.blobs.get(&l.digest).is_some_and(|b| b.size.is_some())).count();
                    html! {
                        <tr data-manifest={m.digest.to_string()} data-platform={m.platform.clone()} class={classes!(chosen.then_some("chosen"))}>
                            <td class="mono">{ short(m.digest.as_str()) }{ format!(" ({})", blob_state(&m.digest)) }</td>
                            <td>{ if m.platform.is_empty() { "-".to_owned() } else { m.platform.clone() } }</td>
                            <td>{ if m.attestation { "attestation" } else if chosen { "image (used here)" } else { "image" } }</td>
                            <td class="mono">{ m.config.as_ref().map(|c| format!("{} ({})", short(c.digest.as_str()), blob_state(&c.digest))).unwrap_or_default() }</td>
                            <td>{ format!("{present} of {} in the store", m.layers.len()) }</td>
                        </tr>
                    }
                }) }
                </tbody>
            </table>
            <h4>{ "Snapshots" }</h4>
            { snapshot_table(cd, chain.iter().filter_map(|k| cd.snapshots.get(*k))) }
            <h4>{ "Leases" }</h4>
            <ul id="containerd-leases">
                { for leases.iter().map(|l| html! {
                    <li data-lease={l.id.to_string()} class="mono">
                        { &l.id }{ l.expires.map(|e| format!(" (expires {})", time(Some(e)))).unwrap_or_default() }
                    </li>
                }) }
                if leases.is_empty() { <li class="muted">{ "none" }</li> }
            </ul>
        </section>
    }
}

fn snapshot_table<'a>(cd: &Containerd, snapshots: impl Iterator<Item = &'a Snapshot>) -> Html {
    html! {
        <table class="containerd-snapshots">
            <thead><tr><th>{ "key" }</th><th>{ "kind" }</th><th>{ "dir" }</th><th>{ "size" }</th><th>{ "parent" }</th></tr></thead>
            <tbody>
            { for snapshots.map(|s| {
                let dir = match s.backend_id {
                    Some(id) if cd.snapshot_dirs.contains_key(&id) => format!("snapshots/{id}"),
                    Some(id) => format!("snapshots/{id} (gone)"),
                    None => "-".into(),
                };
                html! {
                    <tr data-snapshot={s.key.to_string()}>
                        <td class="mono">{ short(&s.key) }</td>
                        <td>{ s.kind.as_str() }</td>
                        <td class="mono">{ dir }</td>
                        <td>{ s.size.or(s.upper_size).map(|b| human_size(b as i64)).unwrap_or_default() }</td>
                        <td class="mono">{ s.parent.as_deref().map(short).unwrap_or_default() }</td>
                    </tr>
                }
            }) }
            </tbody>
        </table>
    }
}
