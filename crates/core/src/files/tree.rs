//! A file tree to draw: rows in tree order (each directory followed by its contents, names
//! compared byte by byte as dive orders them), directories sized by what they hold, collapsed
//! directories' contents left out. Pure geometry for the viewer, which only draws the rows
//! its scroll box shows ([`window`]).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use super::{ChangeKind, FileKind};

/// One path to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub path: String,
    pub kind: FileKind,
    pub size: u64,
    /// What the layer did to it (a layer's tree), or what its layer did (an image's).
    pub mark: Option<ChangeKind>,
    /// The layer it comes from (0 = base), in an image's tree.
    pub layer: Option<usize>,
    pub link: Option<String>,
}

/// One drawn row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub path: String,
    pub name: String,
    pub depth: usize,
    pub kind: FileKind,
    /// A file's size, or everything under a directory.
    pub size: u64,
    pub mark: Option<ChangeKind>,
    pub layer: Option<usize>,
    pub link: Option<String>,
    /// Entries directly under it.
    pub children: usize,
}

/// The tree of some items; directories the items imply but do not list are added. An arena,
/// not nested boxes: dropping a tree thousands deep must not recurse.
#[derive(Debug)]
pub struct Tree {
    nodes: Vec<Node>,
}

#[derive(Debug, Default)]
struct Node {
    item: Option<Item>,
    children: BTreeMap<String, usize>,
    /// Bytes of every file at and under it.
    size: u64,
}

impl Default for Tree {
    fn default() -> Tree {
        Tree {
            nodes: vec![Node::default()],
        }
    }
}

impl Tree {
    pub fn new(items: impl IntoIterator<Item = Item>) -> Tree {
        let mut tree = Tree::default();
        for item in items {
            let mut node = 0;
            tree.nodes[0].size = tree.nodes[0].size.saturating_add(item.size);
            for part in item.path.split('/') {
                let next = match tree.nodes[node].children.get(part) {
                    Some(&n) => n,
                    None => {
                        tree.nodes.push(Node::default());
                        let n = tree.nodes.len() - 1;
                        tree.nodes[node].children.insert(part.to_owned(), n);
                        n
                    }
                };
                node = next;
                tree.nodes[node].size = tree.nodes[node].size.saturating_add(item.size);
            }
            tree.nodes[node].item = Some(item);
        }
        tree
    }

    /// Bytes of all the items.
    pub fn size(&self) -> u64 {
        self.nodes[0].size
    }

    /// The rows to draw, contents of `collapsed` directories left out. Iterative: a hostile
    /// tar may nest paths thousands deep.
    pub fn rows(&self, collapsed: &BTreeSet<String>) -> Vec<Row> {
        let mut out = Vec::new();
        let mut stack: Vec<(String, &String, usize, usize)> = self.nodes[0]
            .children
            .iter()
            .rev()
            .map(|(name, &node)| (name.clone(), name, node, 0))
            .collect();
        while let Some((path, name, index, depth)) = stack.pop() {
            let node = &self.nodes[index];
            let (kind, mark, layer, link) = match &node.item {
                Some(i) => (i.kind, i.mark, i.layer, i.link.clone()),
                None => (FileKind::Dir, None, None, None),
            };
            let kind = if node.children.is_empty() {
                kind
            } else {
                FileKind::Dir
            };
            if !collapsed.contains(&path) {
                for (child, &n) in node.children.iter().rev() {
                    stack.push((format!("{path}/{child}"), child, n, depth + 1));
                }
            }
            out.push(Row {
                name: name.clone(),
                depth,
                kind,
                size: node.size,
                mark,
                layer,
                link,
                children: node.children.len(),
                path,
            });
        }
        out
    }
}

/// The rows a scroll box shows: those in view at `scroll_top`, and `overscan` more either
/// side, of `total` rows `row_height` high in a box `height` high.
pub fn window(
    scroll_top: f64,
    height: f64,
    row_height: f64,
    total: usize,
    overscan: usize,
) -> Range<usize> {
    if total == 0 || row_height <= 0.0 {
        return 0..0;
    }
    let first = (scroll_top.max(0.0) / row_height).floor() as usize;
    let shown = (height.max(0.0) / row_height).ceil() as usize + 1;
    let start = first.saturating_sub(overscan).min(total);
    let end = first
        .saturating_add(shown)
        .saturating_add(overscan)
        .min(total);
    start..end.max(start)
}

/// What layer `index` of a stack shows: each entry of its tar marked with what it did (added,
/// modified, the same again), and each path it removed, marked removed. Whiteout and opaque
/// markers are not files: they show as the removals they make.
pub fn layer_items(
    stacked: &super::Stacked,
    entries: &[super::FileEntry],
    index: usize,
) -> Vec<Item> {
    let Some(changes) = stacked.layers.get(index) else {
        return Vec::new();
    };
    let marks: BTreeMap<&str, ChangeKind> = changes
        .changes
        .iter()
        .filter(|c| c.kind != ChangeKind::Removed)
        .map(|c| (c.path.as_str(), c.kind))
        .collect();
    let mut items: BTreeMap<String, Item> = BTreeMap::new();
    for e in entries {
        if e.whiteout_of().is_some() || e.opaque_dir().is_some() {
            continue;
        }
        items.insert(
            e.path.clone(),
            Item {
                path: e.path.clone(),
                kind: e.kind,
                size: e.size,
                mark: marks.get(e.path.as_str()).copied(),
                layer: Some(index),
                link: e.link.clone(),
            },
        );
    }
    for c in changes
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Removed)
    {
        items.entry(c.path.clone()).or_insert_with(|| Item {
            path: c.path.clone(),
            kind: c.file_kind,
            size: c.size,
            mark: Some(ChangeKind::Removed),
            layer: Some(index),
            link: None,
        });
    }
    items.into_values().collect()
}

/// What an image shows: its merged tree, each path marked with what its layer did to it. With
/// `only_changes`, what the layers above the base added, modified or removed.
pub fn image_items(stacked: &super::Stacked, only_changes: bool) -> Vec<Item> {
    let marks: Vec<BTreeMap<&str, ChangeKind>> = stacked
        .layers
        .iter()
        .map(|l| {
            l.changes
                .iter()
                .filter(|c| c.kind != ChangeKind::Removed)
                .map(|c| (c.path.as_str(), c.kind))
                .collect()
        })
        .collect();
    let mark = |layer: usize, path: &str| marks.get(layer).and_then(|m| m.get(path).copied());
    let mut items: Vec<Item> = stacked
        .merged
        .values()
        .filter(|m| !only_changes || m.layer > 0)
        .map(|m| Item {
            path: m.entry.path.clone(),
            kind: m.entry.kind,
            size: m.entry.size,
            mark: if m.layer == 0 {
                None
            } else {
                mark(m.layer, &m.entry.path)
            },
            layer: Some(m.layer),
            link: m.entry.link.clone(),
        })
        .collect();
    if only_changes {
        // What the image no longer shows, at the path it was: removed by a layer above.
        let shown: BTreeSet<&str> = stacked.merged.keys().map(String::as_str).collect();
        let mut removed: BTreeMap<&str, Item> = BTreeMap::new();
        for (index, layer) in stacked.layers.iter().enumerate().skip(1) {
            for c in layer
                .changes
                .iter()
                .filter(|c| c.kind == ChangeKind::Removed)
            {
                if !shown.contains(c.path.as_str()) {
                    removed.insert(
                        c.path.as_str(),
                        Item {
                            path: c.path.clone(),
                            kind: c.file_kind,
                            size: c.size,
                            mark: Some(ChangeKind::Removed),
                            layer: Some(index),
                            link: None,
                        },
                    );
                }
            }
        }
        items.extend(removed.into_values());
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(path: &str, size: u64) -> Item {
        Item {
            path: path.into(),
            kind: FileKind::File,
            size,
            mark: None,
            layer: None,
            link: None,
        }
    }

    #[test]
    fn rows_come_in_tree_order_with_directory_sizes() {
        let tree = Tree::new([
            item("a-b", 1),
            item("a/b", 2),
            item("a/c/d", 4),
            item("z", 8),
        ]);
        let rows = tree.rows(&BTreeSet::new());
        let got: Vec<(&str, usize, u64, FileKind)> = rows
            .iter()
            .map(|r| (r.path.as_str(), r.depth, r.size, r.kind))
            .collect();
        assert_eq!(
            got,
            [
                ("a", 0, 6, FileKind::Dir),
                ("a/b", 1, 2, FileKind::File),
                ("a/c", 1, 4, FileKind::Dir),
                ("a/c/d", 2, 4, FileKind::File),
                ("a-b", 0, 1, FileKind::File),
                ("z", 0, 8, FileKind::File),
            ]
        );
        assert_eq!(tree.size(), 15);
        let folded = tree.rows(&BTreeSet::from(["a".to_owned()]));
        let paths: Vec<&str> = folded.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, ["a", "a-b", "z"]);
        assert_eq!(folded[0].children, 2);
    }

    #[test]
    fn the_window_covers_the_view_and_its_margins() {
        assert_eq!(window(0.0, 100.0, 20.0, 1000, 5), 0..11);
        assert_eq!(window(2000.0, 100.0, 20.0, 1000, 5), 95..111);
        assert_eq!(window(1e9, 100.0, 20.0, 1000, 5), 1000..1000);
        assert_eq!(window(0.0, 100.0, 20.0, 0, 5), 0..0);
        assert_eq!(window(-5.0, 100.0, 20.0, 3, 5), 0..3);
    }
}
