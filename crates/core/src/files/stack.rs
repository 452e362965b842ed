//! Layers stacked as overlayfs stacks them: each layer's entries over the ones below, with
//! whiteouts (`.wh.<name>`) removing a path and everything under it, opaque markers
//! (`.wh..wh..opq`) hiding everything below their directory, and a later entry at a path
//! replacing the earlier one (a file over a directory hides the directory's contents).

use std::collections::{BTreeMap, HashMap};

use super::{FileEntry, FileKind};

/// What a layer did to one path.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Nothing was at the path below.
    Added,
    /// Something else was at the path below: other content, kind, link or mode.
    Modified,
    /// The same file again (same kind, size, mode, owner, link and CRC-64): changes nothing,
    /// costs its size again.
    Same,
    /// Hidden by a whiteout, an opaque directory, or a file written over a directory.
    Removed,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Modified => "modified",
            ChangeKind::Same => "same",
            ChangeKind::Removed => "removed",
        }
    }
}

/// One change a layer made.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Change {
    pub path: String,
    pub kind: ChangeKind,
    /// The entry's kind: the new one, or for a removal the one it hid.
    pub file_kind: FileKind,
    /// Bytes written (added, modified, same), or freed from view (removed: every file under
    /// the path).
    pub size: u64,
}

/// A layer's changes, by path.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LayerChanges {
    pub changes: Vec<Change>,
}

impl LayerChanges {
    /// Bytes of each kind of change.
    pub fn bytes(&self, kind: ChangeKind) -> u64 {
        self.changes
            .iter()
            .filter(|c| c.kind == kind)
            .map(|c| c.size)
            .sum()
    }

    pub fn count(&self, kind: ChangeKind) -> usize {
        self.changes.iter().filter(|c| c.kind == kind).count()
    }
}

/// A path of the image's merged tree: its entry, and the layer (index) it comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Merged {
    pub entry: FileEntry,
    pub layer: usize,
}

/// An image's layers stacked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stacked {
    /// Per layer, base first.
    pub layers: Vec<LayerChanges>,
    /// What a container started from the image sees, by path.
    pub merged: BTreeMap<String, Merged>,
    /// Every non-empty version a layer wrote that the image no longer shows, in the order
    /// the layers lost them.
    pub gone: Vec<Gone>,
}

/// A version of a file that a later write or removal took out of view: its bytes are still
/// in the layer that wrote it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Gone {
    pub path: String,
    pub size: u64,
    /// The layer that wrote it.
    pub layer: usize,
    /// The layer that took it out of view.
    pub by: usize,
    /// `Removed`; `Modified` for other content written over it; `Same` for the same again.
    pub how: ChangeKind,
}

/// Stacks `layers` (base first). Linear in the entries, times a log for the map.
pub fn stack<L: AsRef<[FileEntry]>>(layers: &[L]) -> Stacked {
    let mut merged: BTreeMap<String, Merged> = BTreeMap::new();
    let mut out = Vec::with_capacity(layers.len());
    let mut gone = Vec::new();
    for (index, entries) in layers.iter().enumerate() {
        let entries = entries.as_ref();
        let mut changes = Vec::new();
        // Whiteouts and opaque markers act on the layers below only, wherever they stand in
        // the tar: apply them first.
        for entry in entries {
            if let Some(dir) = entry.opaque_dir() {
                let hidden = under(&merged, dir);
                for path in hidden {
                    // Only the topmost hidden paths are reported; their size counts all below.
                    let top = path.strip_prefix(dir).unwrap_or(&path);
                    let top = top.trim_start_matches('/');
                    if !top.contains('/') {
                        let (kind, size) = subtree(&merged, &path);
                        changes.push(removed(&path, kind, size));
                    }
                }
                remove_under(&mut merged, dir, index, &mut gone);
            } else if let Some(path) = entry.whiteout_of() {
                if let Some(m) = merged.get(&path) {
                    let (_, size) = subtree(&merged, &path);
                    changes.push(removed(&path, m.entry.kind, size));
                    if let Some(m) = merged.remove(&path) {
                        lose(&mut gone, m, index, ChangeKind::Removed);
                    }
                    remove_under(&mut merged, &path, index, &mut gone);
                }
            }
        }
        // What each path held below this layer, and where its change stands in `changes`: a
        // path the tar lists twice is compared with the layers below, and changed once.
        let mut below: HashMap<String, Option<FileEntry>> = HashMap::new();
        let mut at: HashMap<String, usize> = HashMap::new();
        for entry in entries {
            if entry.opaque_dir().is_some() || entry.whiteout_of().is_some() {
                continue;
            }
            let lower = below
                .entry(entry.path.clone())
                .or_insert_with(|| merged.get(&entry.path).map(|m| m.entry.clone()));
            let kind = match lower {
                None => ChangeKind::Added,
                Some(m) if same(m, entry) => ChangeKind::Same,
                Some(_) => ChangeKind::Modified,
            };
            // A directory listed again with nothing about it changed is the tar naming the
            // parents of what changed, not a change.
            let relisted = entry.kind == FileKind::Dir && kind == ChangeKind::Same;
            if entry.kind != FileKind::Dir
                && merged
                    .get(&entry.path)
                    .is_some_and(|m| m.entry.kind == FileKind::Dir)
            {
                for path in under(&merged, &entry.path) {
                    if !path[entry.path.len() + 1..].contains('/') {
                        let (kind, size) = subtree(&merged, &path);
                        changes.push(removed(&path, kind, size));
                    }
                }
                remove_under(&mut merged, &entry.path, index, &mut gone);
            }
            let change = Change {
                path: entry.path.clone(),
                kind,
                file_kind: entry.kind,
                size: entry.size,
            };
            match (relisted, at.get(&entry.path)) {
                (true, _) => {}
                (false, Some(&i)) => changes[i] = change,
                (false, None) => {
                    at.insert(entry.path.clone(), changes.len());
                    changes.push(change);
                }
            }
            let replaced = merged.insert(
                entry.path.clone(),
                Merged {
                    entry: entry.clone(),
                    layer: index,
                },
            );
            if let Some(old) = replaced {
                let how = if same(&old.entry, entry) {
                    ChangeKind::Same
                } else {
                    ChangeKind::Modified
                };
                lose(&mut gone, old, index, how);
            }
        }
        crate::order::sort_by(&mut changes, |a, b| {
            a.path.cmp(&b.path).then(a.kind.cmp(&b.kind))
        });
        out.push(LayerChanges { changes });
    }
    Stacked {
        layers: out,
        merged,
        gone,
    }
}

/// Records a version taken out of view, if it held any bytes.
fn lose(gone: &mut Vec<Gone>, m: Merged, by: usize, how: ChangeKind) {
    if m.entry.size > 0 {
        gone.push(Gone {
            path: m.entry.path,
            size: m.entry.size,
            layer: m.layer,
            by,
            how,
        });
    }
}

fn removed(path: &str, kind: FileKind, size: u64) -> Change {
    Change {
        path: path.to_owned(),
        kind: ChangeKind::Removed,
        file_kind: kind,
        size,
    }
}

/// Same content and attributes: the CRC-64 decides when both have one; without one (a layer
/// read from a tar), equal sizes of a non-empty file do not prove equal content.
fn same(a: &FileEntry, b: &FileEntry) -> bool {
    a.kind == b.kind
        && a.size == b.size
        && a.mode == b.mode
        && a.uid == b.uid
        && a.gid == b.gid
        && a.link == b.link
        && (a.size == 0 || (a.crc64.is_some() && a.crc64 == b.crc64))
}

/// Paths strictly under `dir` ("" is the root: everything).
fn under(merged: &BTreeMap<String, Merged>, dir: &str) -> Vec<String> {
    if dir.is_empty() {
        return merged.keys().cloned().collect();
    }
    let start = format!("{dir}/");
    merged
        .range(start.clone()..)
        .take_while(|(k, _)| k.starts_with(&start))
        .map(|(k, _)| k.clone())
        .collect()
}

fn remove_under(merged: &mut BTreeMap<String, Merged>, dir: &str, by: usize, gone: &mut Vec<Gone>) {
    for path in under(merged, dir) {
        if let Some(m) = merged.remove(&path) {
            lose(gone, m, by, ChangeKind::Removed);
        }
    }
}

/// The kind at `path` and the bytes of it and everything under it.
fn subtree(merged: &BTreeMap<String, Merged>, path: &str) -> (FileKind, u64) {
    let kind = merged.get(path).map_or(FileKind::Dir, |m| m.entry.kind);
    let own = merged.get(path).map_or(0, |m| m.entry.size);
    let start = format!("{path}/");
    let below: u64 = merged
        .range(start.clone()..)
        .take_while(|(k, _)| k.starts_with(&start))
        .map(|(_, m)| m.entry.size)
        .sum();
    (kind, own + below)
}
