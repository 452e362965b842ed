//! dive 0.13.1's efficiency figures, reproduced exactly (`dive/filetree/efficiency.go`,
//! `file_tree.go`, `file_node.go`, `dive/image/image.go`, `dive/image/docker/*.go`).

use std::collections::{BTreeMap, HashMap};

use crate::files::{FileEntry, FileKind};

/// What dive keeps of a tar header (`filetree.FileInfo`), as its `--json` prints it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoFileInfo {
    pub path: String,
    pub type_flag: u8,
    pub link_name: String,
    pub size: i64,
    /// Go's `os.FileMode` bits.
    pub file_mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub is_dir: bool,
}

impl GoFileInfo {
    fn of(entry: &FileEntry) -> GoFileInfo {
        let type_flag = match entry.kind {
            FileKind::File | FileKind::Other => b'0',
            FileKind::HardLink => b'1',
            FileKind::Symlink => b'2',
            FileKind::CharDevice => b'3',
            FileKind::BlockDevice => b'4',
            FileKind::Dir => b'5',
            FileKind::Fifo => b'6',
        };
        let mode = go_file_mode(entry.mode, type_flag);
        GoFileInfo {
            path: entry.path.clone(),
            type_flag,
            link_name: entry.link.clone().unwrap_or_default(),
            size: i64::try_from(entry.size).unwrap_or(i64::MAX),
            file_mode: mode,
            uid: entry.uid,
            gid: entry.gid,
            is_dir: mode & MODE_DIR != 0,
        }
    }
}

const MODE_DIR: u32 = 1 << 31;

/// `archive/tar`'s `headerFileInfo.Mode()`.
fn go_file_mode(raw: u32, type_flag: u8) -> u32 {
    let mut mode = raw & 0o777;
    if raw & 0o4000 != 0 {
        mode |= 1 << 23;
    }
    if raw & 0o2000 != 0 {
        mode |= 1 << 22;
    }
    if raw & 0o1000 != 0 {
        mode |= 1 << 20;
    }
    match raw & !0o7777 {
        0o040000 => mode |= MODE_DIR,
        0o010000 => mode |= 1 << 25,
        0o120000 => mode |= 1 << 27,
        0o060000 => mode |= 1 << 26,
        0o020000 => mode |= (1 << 26) | (1 << 21),
        0o140000 => mode |= 1 << 24,
        _ => {}
    }
    match type_flag {
        b'2' => mode |= 1 << 27,
        b'3' => mode |= (1 << 26) | (1 << 21),
        b'4' => mode |= 1 << 26,
        b'5' => mode |= MODE_DIR,
        b'6' => mode |= 1 << 25,
        _ => {}
    }
    mode
}

/// A layer as dive's `--json` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiveLayer {
    /// Σ of the header sizes of every entry in the layer's tar (`tree.FileSize`).
    pub size_bytes: u64,
    /// Every node of the layer's tree, children before parents, by name.
    pub file_list: Vec<GoFileInfo>,
}

/// A path met in two or more layers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Inefficiency {
    /// With a leading `/`.
    pub path: String,
    /// How many layers met it.
    pub count: usize,
    /// Bytes of all its versions.
    pub size: u64,
}

/// dive's analysis of one image.
#[derive(Debug, Clone, PartialEq)]
pub struct DiveReport {
    pub efficiency: f64,
    pub size_bytes: u64,
    /// Every layer but the first.
    pub user_size_bytes: u64,
    pub wasted_bytes: u64,
    /// A ratio: `wasted_bytes / user_size_bytes` (NaN or infinite when there are no user bytes,
    /// as in dive).
    pub wasted_user_percent: f64,
    /// Largest first, ties in the order dive prints them.
    pub inefficiencies: Vec<Inefficiency>,
    pub layers: Vec<DiveLayer>,
}

const WHITEOUT: &str = ".wh.";
const DOUBLE_WHITEOUT: &str = ".wh..wh..";

/// One layer's tree (`filetree.FileTree`), in an arena; node 0 is the root.
#[derive(Debug, Clone)]
struct Tree {
    nodes: Vec<Node>,
}

#[derive(Debug, Clone)]
struct Node {
    name: String,
    parent: Option<usize>,
    /// By name: Go's `sort.Strings` is byte order, as is `String`'s.
    children: BTreeMap<String, usize>,
    info: GoFileInfo,
}

impl Tree {
    fn new() -> Tree {
        Tree {
            nodes: vec![Node {
                name: String::new(),
                parent: None,
                children: BTreeMap::new(),
                info: GoFileInfo::default(),
            }],
        }
    }

    /// `FileTree.AddPath`: missing parents are added with no payload; a name starting with
    /// `.wh..wh..` is never added (opaque markers vanish).
    fn add_path(&mut self, path: &str, info: GoFileInfo) {
        let names: Vec<&str> = path.trim_matches('/').split('/').collect();
        let last = names.len() - 1;
        let mut node = 0;
        for (i, name) in names.iter().enumerate() {
            if name.is_empty() {
                continue;
            }
            node = match self.nodes[node].children.get(*name) {
                Some(&child) => child,
                None => {
                    if name.starts_with(DOUBLE_WHITEOUT) {
                        return;
                    }
                    let child = self.nodes.len();
                    self.nodes.push(Node {
                        name: (*name).to_owned(),
                        parent: Some(node),
                        children: BTreeMap::new(),
                        info: GoFileInfo::default(),
                    });
                    self.nodes[node].children.insert((*name).to_owned(), child);
                    child
                }
            };
            if i == last {
                self.nodes[node].info = info.clone();
            }
        }
    }

    fn get(&self, path: &str) -> Option<usize> {
        let mut node = 0;
        for name in path.trim_matches('/').split('/') {
            if name.is_empty() {
                continue;
            }
            node = *self.nodes[node].children.get(name)?;
        }
        Some(node)
    }

    fn remove_path(&mut self, path: &str) {
        if let Some(node) = self.get(path).filter(|&n| n != 0) {
            let name = self.nodes[node].name.clone();
            if let Some(parent) = self.nodes[node].parent {
                self.nodes[parent].children.remove(&name);
            }
        }
    }

    fn is_whiteout(&self, node: usize) -> bool {
        self.nodes[node].name.starts_with(WHITEOUT)
    }

    /// `FileNode.Path`: from the root, the node's own whiteout prefix dropped.
    fn path(&self, node: usize) -> String {
        let mut names = Vec::new();
        let mut current = node;
        while let Some(parent) = self.nodes[current].parent {
            let name = &self.nodes[current].name;
            names.push(if current == node {
                name.strip_prefix(WHITEOUT).unwrap_or(name)
            } else {
                name.as_str()
            });
            current = parent;
        }
        names.reverse();
        format!("/{}", names.join("/")).replace("//", "/")
    }

    /// Nodes under `start` (and `start` itself unless it is the root), children first, by
    /// name (`VisitDepthChildFirst`). Iterative: a hostile tar may nest deeply.
    fn post_order(&self, start: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack = vec![(start, false)];
        while let Some((node, expanded)) = stack.pop() {
            if expanded {
                if node != 0 {
                    out.push(node);
                }
                continue;
            }
            stack.push((node, true));
            for &child in self.nodes[node].children.values().rev() {
                stack.push((child, false));
            }
        }
        out
    }

    /// `FileTree.Stack`: `upper`'s whiteouts remove, everything else is added over.
    fn stack(&mut self, upper: &Tree) {
        for node in upper.post_order(0) {
            let path = upper.path(node);
            if upper.is_whiteout(node) {
                self.remove_path(&path);
            } else {
                self.add_path(&path, upper.nodes[node].info.clone());
            }
        }
    }
}

/// Per path, what dive's visitor accumulates (`EfficiencyData`).
struct Data {
    cumulative: i64,
    min: i64,
    nodes: usize,
}

/// dive's figures for an image whose layers (base first) hold `layers`.
pub fn dive<L: AsRef<[FileEntry]>>(layers: &[L]) -> DiveReport {
    let mut trees = Vec::with_capacity(layers.len());
    let mut dive_layers = Vec::with_capacity(layers.len());
    for entries in layers {
        let mut tree = Tree::new();
        let mut size = 0u64;
        for e in entries.as_ref() {
            size = size.saturating_add(e.size);
            tree.add_path(&e.path, GoFileInfo::of(e));
        }
        let file_list = tree
            .post_order(0)
            .into_iter()
            .map(|n| tree.nodes[n].info.clone())
            .collect();
        dive_layers.push(DiveLayer {
            size_bytes: size,
            file_list,
        });
        trees.push(tree);
    }

    let mut map: HashMap<String, Data> = HashMap::new();
    let mut matches: Vec<String> = Vec::new();
    // `StackTreeRange(trees, 0, idx-1)`: a copy of the base, then layers 0..idx stacked on it
    // (the base twice, as dive does).
    let mut below = trees.first().cloned().unwrap_or_else(Tree::new);
    for (index, tree) in trees.iter().enumerate() {
        if index > 0 {
            below.stack(&trees[index - 1]);
        }
        for node in tree.post_order(0) {
            if !tree.nodes[node].children.is_empty() {
                continue;
            }
            let path = tree.path(node);
            let data = map.entry(path.clone()).or_insert(Data {
                cumulative: 0,
                min: -1,
                nodes: 0,
            });
            let size = if tree.is_whiteout(node) {
                // A whiteout of nothing below is an error in dive, which abandons the rest of
                // the layer.
                let Some(previous) = below.get(&path) else {
                    break;
                };
                if below.nodes[previous].info.is_dir {
                    below
                        .post_order(previous)
                        .iter()
                        .map(|&n| below.nodes[n].info.size)
                        .fold(0i64, i64::saturating_add)
                } else {
                    0
                }
            } else {
                tree.nodes[node].info.size
            };
            data.cumulative = data.cumulative.saturating_add(size);
            if data.min < 0 || size < data.min {
                data.min = size;
            }
            data.nodes += 1;
            if data.nodes == 2 {
                matches.push(path);
            }
        }
    }

    let (minimum, discovered) = map.values().fold((0i64, 0i64), |(m, d), data| {
        (
            m.saturating_add(data.min),
            d.saturating_add(data.cumulative),
        )
    });
    let efficiency = if discovered == 0 {
        1.0
    } else {
        minimum as f64 / discovered as f64
    };
    let mut found: Vec<Inefficiency> = matches
        .into_iter()
        .map(|path| {
            let data = &map[&path];
            Inefficiency {
                count: data.nodes,
                size: u64::try_from(data.cumulative).unwrap_or(0),
                path,
            }
        })
        .collect();
    super::gosort::sort(&mut found, |a, b| a.size < b.size);
    found.reverse();

    let size_bytes = dive_layers
        .iter()
        .map(|l| l.size_bytes)
        .fold(0u64, u64::saturating_add);
    let user_size_bytes = dive_layers
        .iter()
        .skip(1)
        .map(|l| l.size_bytes)
        .fold(0u64, u64::saturating_add);
    let wasted_bytes = found.iter().map(|i| i.size).fold(0u64, u64::saturating_add);
    DiveReport {
        efficiency,
        size_bytes,
        user_size_bytes,
        wasted_bytes,
        wasted_user_percent: wasted_bytes as f64 / user_size_bytes as f64,
        inefficiencies: found,
        layers: dive_layers,
    }
}
