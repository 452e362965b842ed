//! Two snapshots of one store compared: what changed between them (an upgrade, a prune, a
//! build, a bug). Pure data, for `storesnap diff` and the viewer's compare mode.

use std::collections::{BTreeMap, BTreeSet};

use crate::docker::DiskSummaryRow;
use crate::finding::Finding;
use crate::id::{ChainId, ContainerId, ImageId};
use crate::store::Store;

/// One side of the comparison: a store, its findings, and its `docker system df` totals
/// (`None` for an archive, which is no store on disk).
pub struct Side<'a> {
    pub store: &'a Store,
    pub findings: &'a [Finding],
    pub df: Option<Vec<DiskSummaryRow>>,
}

/// What changed.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Diff {
    pub images_added: Vec<ImageChange>,
    pub images_removed: Vec<ImageChange>,
    /// The same image ID under other tags.
    pub images_retagged: Vec<Retag>,
    pub layers_added: Vec<LayerChange>,
    pub layers_removed: Vec<LayerChange>,
    /// Bytes the added layers take, and the removed ones freed (their `size`).
    pub layer_bytes_added: u64,
    pub layer_bytes_freed: u64,
    pub containers_added: Vec<ContainerChange>,
    pub containers_removed: Vec<ContainerChange>,
    /// Same container ID, another state (`created`, `running`, `exited`…).
    pub containers_changed: Vec<StateChange>,
    pub findings_new: Vec<Finding>,
    pub findings_resolved: Vec<Finding>,
    /// `docker system df` before and after, by type (`Images`, `Containers`, …).
    pub df: Vec<DfChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImageChange {
    pub id: ImageId,
    pub tags: Vec<String>,
    pub layers: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Retag {
    pub id: ImageId,
    pub before: Vec<String>,
    pub after: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LayerChange {
    pub chain_id: ChainId,
    pub size: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ContainerChange {
    pub id: ContainerId,
    pub name: String,
    pub state: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StateChange {
    pub id: ContainerId,
    pub name: String,
    pub before: &'static str,
    pub after: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DfChange {
    #[serde(rename = "type")]
    pub kind: String,
    pub before: Option<DfTotals>,
    pub after: Option<DfTotals>,
}

/// One row of `docker system df`, as the CLI prints it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DfTotals {
    pub total: String,
    pub active: String,
    pub size: String,
    pub reclaimable: String,
}

impl Diff {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.images_added.is_empty()
            && self.images_removed.is_empty()
            && self.images_retagged.is_empty()
            && self.layers_added.is_empty()
            && self.layers_removed.is_empty()
            && self.containers_added.is_empty()
            && self.containers_removed.is_empty()
            && self.containers_changed.is_empty()
            && self.findings_new.is_empty()
            && self.findings_resolved.is_empty()
            && self.df.iter().all(|d| d.before == d.after)
    }
}

/// Compares `old` with `new`. Linear in the sizes of both, times a log.
pub fn diff(old: &Side<'_>, new: &Side<'_>) -> Diff {
    let tags = |s: &Store, id: &ImageId| -> Vec<String> {
        s.references
            .iter()
            .filter(|r| &r.image == id)
            .map(|r| r.name.as_str().to_owned())
            .collect()
    };
    let image = |s: &Store, id: &ImageId| ImageChange {
        id: id.clone(),
        tags: tags(s, id),
        layers: s.images.get(id).map_or(0, |i| i.chain().len()),
    };
    let (a, b) = (old.store, new.store);
    let mut d = Diff {
        images_added: b
            .images
            .keys()
            .filter(|id| !a.images.contains_key(*id))
            .map(|id| image(b, id))
            .collect(),
        images_removed: a
            .images
            .keys()
            .filter(|id| !b.images.contains_key(*id))
            .map(|id| image(a, id))
            .collect(),
        images_retagged: a
            .images
            .keys()
            .filter(|id| b.images.contains_key(*id))
            .filter_map(|id| {
                let (before, after) = (tags(a, id), tags(b, id));
                (before != after).then(|| Retag {
                    id: id.clone(),
                    before,
                    after,
                })
            })
            .collect(),
        ..Diff::default()
    };
    let layer = |s: &Store, c: &ChainId| LayerChange {
        chain_id: c.clone(),
        size: s.layers.get(c).and_then(|l| l.size),
    };
    d.layers_added = b
        .layers
        .keys()
        .filter(|c| !a.layers.contains_key(*c))
        .map(|c| layer(b, c))
        .collect();
    d.layers_removed = a
        .layers
        .keys()
        .filter(|c| !b.layers.contains_key(*c))
        .map(|c| layer(a, c))
        .collect();
    d.layer_bytes_added = d.layers_added.iter().filter_map(|l| l.size).sum();
    d.layer_bytes_freed = d.layers_removed.iter().filter_map(|l| l.size).sum();
    let container = |s: &Store, id: &ContainerId| {
        let c = &s.containers[id];
        ContainerChange {
            id: id.clone(),
            name: c.name.clone(),
            state: c.state(),
        }
    };
    d.containers_added = b
        .containers
        .keys()
        .filter(|id| !a.containers.contains_key(*id))
        .map(|id| container(b, id))
        .collect();
    d.containers_removed = a
        .containers
        .keys()
        .filter(|id| !b.containers.contains_key(*id))
        .map(|id| container(a, id))
        .collect();
    d.containers_changed = a
        .containers
        .iter()
        .filter_map(|(id, before)| {
            let after = b.containers.get(id)?;
            (before.state() != after.state()).then(|| StateChange {
                id: id.clone(),
                name: after.name.clone(),
                before: before.state(),
                after: after.state(),
            })
        })
        .collect();
    // A finding is the same when its code, subjects and message are: a layer still missing is
    // not new because the snapshot is.
    let key = |f: &Finding| {
        (
            f.code.as_str(),
            format!("{:?}", f.subjects),
            f.message.clone(),
        )
    };
    let before: BTreeSet<_> = old.findings.iter().map(key).collect();
    let after: BTreeSet<_> = new.findings.iter().map(key).collect();
    d.findings_new = new
        .findings
        .iter()
        .filter(|f| !before.contains(&key(f)))
        .cloned()
        .collect();
    d.findings_resolved = old
        .findings
        .iter()
        .filter(|f| !after.contains(&key(f)))
        .cloned()
        .collect();
    let rows = |df: &Option<Vec<DiskSummaryRow>>| -> BTreeMap<String, DfTotals> {
        df.iter()
            .flatten()
            .map(|r| {
                (
                    r.kind.clone(),
                    DfTotals {
                        total: r.total_count.clone(),
                        active: r.active.clone(),
                        size: r.size.clone(),
                        reclaimable: r.reclaimable.clone(),
                    },
                )
            })
            .collect()
    };
    let (mut before_df, after_df) = (rows(&old.df), rows(&new.df));
    let kinds: Vec<String> = old
        .df
        .iter()
        .chain(new.df.iter())
        .flatten()
        .map(|r| r.kind.clone())
        .fold(Vec::new(), |mut v, k| {
            if !v.contains(&k) {
                v.push(k);
            }
            v
        });
    d.df = kinds
        .into_iter()
        .map(|kind| DfChange {
            before: before_df.remove(&kind),
            after: after_df.get(&kind).cloned(),
            kind,
        })
        .collect();
    d
}
