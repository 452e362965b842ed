//! The layer forest, its layout and the visible part of it, as pure data for the viewer.
//!
//! A layer's parent is its parent chain, so layers form a forest rooted at base layers. Images
//! and containers attach where they point; layers that images or parents name but the store
//! lacks are ghosts. `layout` places it (folding runs and families), `view` is the window onto
//! it. Everything here is geometry; drawing is the viewer's job.

mod layout;
mod view;

pub use layout::{layout, Layout, NodeKind, Placed, Spacing};
pub use view::{step, Direction, View};

use std::collections::{BTreeMap, BTreeSet};

use crate::finding::{Finding, Severity, Subject};
use crate::id::{ChainId, ContainerId, ImageId};
use crate::store::Store;

/// One layer in the forest.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LayerNode {
    pub chain_id: ChainId,
    pub parent: Option<ChainId>,
    pub children: Vec<ChainId>,
    /// Images whose chain ends here (their top layer).
    pub images: Vec<ImageId>,
    /// Containers whose writable layer sits on this layer.
    pub containers: Vec<ContainerId>,
    /// How many images have this layer in their chain; more than one means shared.
    pub used_by: usize,
    pub size: Option<u64>,
    /// The worst finding about this layer, if any.
    pub severity: Option<Severity>,
    /// Named by an image's chain or as a layer's parent, but not in the store: drawn as a
    /// ghost where it should be, so the findings about it have something to point at.
    pub missing: bool,
    /// The names of the images whose chain ends here (tag, else short ID).
    pub tags: Vec<String>,
    /// What made the layer: the history step of an image that has it.
    pub command: Option<String>,
    /// The longest prefix the names of every image using it share ("local/app:" for a base
    /// the app images share), when it says something.
    pub family: Option<String>,
}

impl LayerNode {
    pub fn shared(&self) -> bool {
        self.used_by > 1
    }
}

/// The layer forest of a store.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LayerGraph {
    pub nodes: BTreeMap<ChainId, LayerNode>,
    /// Base layers (and layers whose parent is missing), in chainID order.
    pub roots: Vec<ChainId>,
}

impl LayerGraph {
    /// Builds the forest; `findings` mark the layers they name.
    pub fn new(store: &Store, findings: &[Finding]) -> LayerGraph {
        let mut nodes: BTreeMap<ChainId, LayerNode> = store
            .layers
            .values()
            .map(|l| {
                let node = LayerNode {
                    chain_id: l.chain_id.clone(),
                    parent: l.parent.clone(),
                    children: Vec::new(),
                    images: Vec::new(),
                    containers: Vec::new(),
                    used_by: 0,
                    size: l.size,
                    severity: None,
                    missing: false,
                    tags: Vec::new(),
                    command: None,
                    family: None,
                };
                (l.chain_id.clone(), node)
            })
            .collect();
        // Ghosts: the layers images name that are gone, each under the layer below it in the
        // image's chain, then parents that are gone (whose own parent nothing says).
        let ghost = |chain_id: &ChainId, parent: Option<ChainId>| LayerNode {
            chain_id: chain_id.clone(),
            parent,
            children: Vec::new(),
            images: Vec::new(),
            containers: Vec::new(),
            used_by: 0,
            size: None,
            severity: Some(Severity::Error),
            missing: true,
            tags: Vec::new(),
            command: None,
            family: None,
        };
        for image in store.images.values() {
            let chain = image.chain();
            for (i, c) in chain.iter().enumerate() {
                if !nodes.contains_key(c) {
                    let below = i.checked_sub(1).map(|b| chain[b].clone());
                    nodes.insert(c.clone(), ghost(c, below));
                }
            }
        }
        for l in store.layers.values() {
            if let Some(p) = l.parent.as_ref().filter(|p| !store.layers.contains_key(*p)) {
                nodes.entry(p.clone()).or_insert_with(|| ghost(p, None));
            }
        }
        let edges: Vec<(ChainId, ChainId)> = nodes
            .values()
            .filter_map(|n| Some((n.parent.clone()?, n.chain_id.clone())))
            .collect();
        for (parent, child) in edges {
            if let Some(p) = nodes.get_mut(&parent) {
                p.children.push(child);
            }
        }
        // Prefixes shared by the tags of each layer's tagged users (untagged intermediates
        // share nothing with anyone).
        let mut prefixes: BTreeMap<&ChainId, String> = BTreeMap::new();
        let names: BTreeMap<&ImageId, String> = store
            .images
            .values()
            .map(|i| (&i.id, i.display_name()))
            .collect();
        for image in store.images.values() {
            let chain = image.chain();
            let name = &names[&image.id];
            let history = image.config.as_ref().map_or(&[][..], |c| &c.history[..]);
            for h in history {
                let made = h
                    .layer
                    .and_then(|k| chain.get(k))
                    .and_then(|c| nodes.get_mut(c));
                if let Some(n) = made.filter(|n| n.command.is_none()) {
                    n.command = Some(h.created_by.clone());
                }
            }
            for c in chain {
                if let Some(n) = nodes.get_mut(c) {
                    n.used_by += 1;
                }
                let Some(tag) = image.first_tag() else {
                    continue;
                };
                let tag = tag.as_str();
                prefixes
                    .entry(c)
                    .and_modify(|p| {
                        let keep = common_prefix(p, tag);
                        p.truncate(keep)
                    })
                    .or_insert_with(|| tag.to_owned());
            }
            if let Some(n) = chain.last().and_then(|top| nodes.get_mut(top)) {
                n.images.push(image.id.clone());
                n.tags.push(name.clone());
            }
        }
        for (c, prefix) in prefixes {
            // A prefix that stops mid-word ("local/a") says less than nothing.
            let cut = prefix.rfind(['/', ':', '-', '_', '.']).map_or(0, |i| i + 1);
            if let Some(n) = nodes.get_mut(c).filter(|n| n.used_by > 1 && cut > 0) {
                n.family = Some(prefix[..cut].to_owned());
            }
        }
        for m in store.mounts.values() {
            if let Some(n) = m.parent.as_ref().and_then(|p| nodes.get_mut(p)) {
                n.containers.push(m.container.clone());
            }
        }
        for f in findings {
            for s in &f.subjects {
                if let Subject::Chain(c) = s {
                    if let Some(n) = nodes.get_mut(c) {
                        n.severity = n.severity.max(Some(f.severity));
                    }
                }
            }
        }
        let mut graph = LayerGraph {
            roots: nodes
                .values()
                .filter(|n| n.parent.is_none())
                .map(|n| n.chain_id.clone())
                .collect(),
            nodes,
        };
        graph.break_cycles();
        graph
    }

    /// Layers whose parent links loop never reach a root. Each loop is cut above its smallest
    /// chainID, which becomes a root, so that every layer is drawn (the check reports the loop).
    fn break_cycles(&mut self) {
        let mut reached: BTreeSet<ChainId> = BTreeSet::new();
        let mut stack: Vec<ChainId> = self.roots.clone();
        let mut visit = |stack: &mut Vec<ChainId>, nodes: &BTreeMap<ChainId, LayerNode>| {
            while let Some(c) = stack.pop() {
                if reached.insert(c.clone()) {
                    if let Some(n) = nodes.get(&c) {
                        stack.extend(n.children.iter().cloned());
                    }
                }
            }
        };
        visit(&mut stack, &self.nodes);
        let cycles = crate::checks::parent_cycles(self.nodes.keys(), |c| {
            self.nodes.get(c).and_then(|n| n.parent.as_ref())
        });
        for cycle in cycles {
            let cut = cycle[0].clone();
            if let Some(parent) = self.nodes.get_mut(&cut).and_then(|n| n.parent.take()) {
                if let Some(p) = self.nodes.get_mut(&parent) {
                    p.children.retain(|c| *c != cut);
                }
            }
            self.roots.push(cut.clone());
            stack.push(cut);
            visit(&mut stack, &self.nodes);
        }
        crate::order::sort(&mut self.roots);
    }

    /// The chain from a base layer to `top`, base first.
    pub fn lineage(&self, top: &ChainId) -> Vec<ChainId> {
        let mut out = Vec::new();
        let mut next = Some(top);
        // The forest has no loops (see `break_cycles`), but a walk never outlasts the nodes.
        while let Some(c) = next.filter(|_| out.len() <= self.nodes.len()) {
            out.push(c.clone());
            next = self.nodes.get(c).and_then(|n| n.parent.as_ref());
        }
        out.reverse();
        out
    }

    /// A layer nothing attaches to and with exactly one child can fold into a run.
    fn foldable(&self, c: &ChainId) -> bool {
        self.nodes.get(c).is_some_and(|n| {
            n.children.len() == 1
                && n.images.is_empty()
                && n.containers.is_empty()
                && n.severity.is_none()
        })
    }

    /// How many layers hang from `c` as a single path to a leaf with nothing wrong on it: such
    /// siblings can fold into a family. `None` when the path forks or has a warning or error.
    fn quiet_path(&self, c: &ChainId) -> Option<usize> {
        let mut here = self.nodes.get(c)?;
        for len in 1..=self.nodes.len() {
            if here.severity.is_some_and(|s| s > Severity::Info) || here.children.len() > 1 {
                return None;
            }
            match here.children.first() {
                None => return Some(len),
                Some(next) => here = self.nodes.get(next)?,
            }
        }
        None
    }

    /// The layers of a path `quiet_path` accepted, from `c` down.
    fn path(&self, c: &ChainId) -> Vec<ChainId> {
        let mut out = vec![c.clone()];
        while let Some(next) = self
            .nodes
            .get(&out[out.len() - 1])
            .and_then(|n| n.children.first())
            .filter(|_| out.len() <= self.nodes.len())
        {
            out.push(next.clone());
        }
        out
    }
}

/// The length in bytes of the longest common prefix of `a` and `b`, on a char boundary.
pub fn common_prefix(a: &str, b: &str) -> usize {
    a.char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map_or(a.len().min(b.len()), |((i, _), _)| i)
}
