//! Placing the forest, left to right: depth gives the column and each leaf takes the next row,
//! so siblings stack instead of spreading across one row. Long runs of single-child layers
//! fold into one node, and many look-alike siblings (single paths to a leaf, nothing wrong on
//! them) fold into a family, until the user opens them.

use std::collections::{BTreeMap, BTreeSet};

use super::{common_prefix, LayerGraph};
use crate::id::ChainId;

/// What a placed node stands for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NodeKind {
    Layer(ChainId),
    /// A run of `count` single-child layers, `first` nearest the base.
    Run {
        first: ChainId,
        last: ChainId,
        count: usize,
    },
    /// `members` sibling paths under `parent`, `count` layers in all, topped by `images`
    /// images whose names all start with `prefix`.
    Family {
        parent: ChainId,
        members: usize,
        count: usize,
        images: usize,
        prefix: String,
    },
}

/// A node with its position (the centre), in layout units.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Placed {
    pub kind: NodeKind,
    pub x: f64,
    pub y: f64,
}

/// The layout of a forest.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Layout {
    pub nodes: Vec<Placed>,
    /// Edges as indices into `nodes`, parent first.
    pub edges: Vec<(usize, usize)>,
    pub width: f64,
    pub height: f64,
    /// The node that shows each layer: its own, or the run or family that holds it.
    pub at: BTreeMap<ChainId, usize>,
}

impl Layout {
    /// Where layer `chain` is drawn: its own node's centre, or that of the fold holding it.
    pub fn position_of(&self, chain: &ChainId) -> Option<(f64, f64)> {
        let p = &self.nodes[*self.at.get(chain)?];
        Some((p.x, p.y))
    }

    /// How many layers the layout shows, counting each fold by the layers it holds.
    pub fn layers_drawn(&self) -> usize {
        self.nodes
            .iter()
            .map(|p| match p.kind {
                NodeKind::Layer(_) => 1,
                NodeKind::Run { count, .. } | NodeKind::Family { count, .. } => count,
            })
            .sum()
    }
}

/// Spacing of the layout grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spacing {
    /// From one depth to the next, left to right.
    pub column: f64,
    /// From one leaf to the next, top to bottom.
    pub row: f64,
    /// Runs shorter than this stay expanded.
    pub min_run: usize,
    /// Fewer look-alike siblings than this stay expanded.
    pub min_family: usize,
}

impl Default for Spacing {
    fn default() -> Self {
        Spacing {
            column: 230.0,
            row: 50.0,
            min_run: 3,
            min_family: 6,
        }
    }
}

enum Item<'a> {
    /// A layer, and the run of foldable layers that may start at it.
    Start(&'a ChainId),
    Family {
        parent: &'a ChainId,
        members: Vec<&'a ChainId>,
    },
}

/// Lays the forest out. A run of foldable layers at least `min_run` long is one node unless its
/// first layer is in `expanded`, which opens the whole run; a layer's quiet single-path
/// children, when `min_family` or more, are one node unless the layer is in `expanded`.
///
/// Iterative and linear in the number of layers: a 15,000-layer chain lays out without
/// recursion. Nodes are placed in depth-first order; a leaf takes the next row and a parent
/// sits midway between its first and last child.
pub fn layout(graph: &LayerGraph, expanded: &BTreeSet<ChainId>, spacing: Spacing) -> Layout {
    struct Frame<'a> {
        item: Item<'a>,
        parent_index: Option<usize>,
        depth: usize,
        in_open_run: bool,
    }
    let mut out = Layout::default();
    // Per placed node: its first and last child, or its row when it is a leaf.
    let mut span: Vec<Result<(usize, usize), usize>> = Vec::new();
    let mut next_row = 0usize;
    let mut max_depth = 0usize;
    let mut stack: Vec<Frame<'_>> = graph
        .roots
        .iter()
        .rev()
        .map(|r| Frame {
            item: Item::Start(r),
            parent_index: None,
            depth: 0,
            in_open_run: false,
        })
        .collect();
    while let Some(Frame {
        item,
        parent_index,
        depth,
        in_open_run,
    }) = stack.pop()
    {
        let index = out.nodes.len();
        let (kind, mut children, open, layer): (NodeKind, Vec<&ChainId>, bool, Option<&ChainId>) =
            match item {
                Item::Family { parent, members } => {
                    let (mut images, mut count) = (0, 0);
                    let mut prefix: Option<&str> = None;
                    for m in &members {
                        for c in graph.path(m) {
                            for tag in &graph.nodes[&c].tags {
                                images += 1;
                                let p = prefix.get_or_insert(tag);
                                *p = &p[..common_prefix(p, tag)];
                            }
                            out.at.insert(c, index);
                            count += 1;
                        }
                    }
                    let kind = NodeKind::Family {
                        parent: parent.clone(),
                        members: members.len(),
                        count,
                        images,
                        prefix: prefix.unwrap_or_default().to_owned(),
                    };
                    (kind, Vec::new(), false, None)
                }
                Item::Start(start) => {
                    // Follow a run of foldable layers from `start`, unless the user opened it.
                    let open = in_open_run || expanded.contains(start);
                    let mut run: Vec<&ChainId> = vec![start];
                    if !open {
                        while let Some(&last) = run.last() {
                            if !graph.foldable(last) || run.len() > graph.nodes.len() {
                                break;
                            }
                            run.push(&graph.nodes[last].children[0]);
                        }
                        // The run's last layer is not foldable; it is drawn on its own after it.
                        run.pop();
                    }
                    if !open && !run.is_empty() && run.len() >= spacing.min_run {
                        let last = run[run.len() - 1];
                        for c in &run {
                            out.at.insert((*c).clone(), index);
                        }
                        let kind = NodeKind::Run {
                            first: run[0].clone(),
                            last: last.clone(),
                            count: run.len(),
                        };
                        // A run's last layer leads on to its one child.
                        let next = graph.nodes[last].children.iter().take(1).collect();
                        (kind, next, false, None)
                    } else {
                        out.at.insert(start.clone(), index);
                        let children = graph
                            .nodes
                            .get(start)
                            .map_or(Vec::new(), |n| n.children.iter().collect());
                        (NodeKind::Layer(start.clone()), children, open, Some(start))
                    }
                }
            };
        // Quiet look-alike children fold into a family, after the others.
        let mut family = None;
        if let Some(c) = layer {
            if !expanded.contains(c) && children.len() >= spacing.min_family.max(2) {
                let (quiet, loud): (Vec<&ChainId>, Vec<&ChainId>) =
                    children.iter().partition(|m| graph.quiet_path(m).is_some());
                if quiet.len() >= spacing.min_family.max(2) {
                    children = loud;
                    family = Some(Item::Family {
                        parent: c,
                        members: quiet,
                    });
                }
            }
        }
        // An opened run stays open down to its last foldable layer.
        let in_open_run = open && layer.is_some_and(|c| graph.foldable(c));
        out.nodes.push(Placed {
            kind,
            x: (depth as f64 + 0.5) * spacing.column,
            y: 0.0,
        });
        if let Some(p) = parent_index {
            out.edges.push((p, index));
            if let Ok((first, last)) = &mut span[p] {
                if *first == usize::MAX {
                    *first = index;
                }
                *last = index;
            }
        }
        max_depth = max_depth.max(depth);
        if children.is_empty() && family.is_none() {
            span.push(Err(next_row));
            next_row += 1;
            continue;
        }
        span.push(Ok((usize::MAX, usize::MAX)));
        let frame = |item| Frame {
            item,
            parent_index: Some(index),
            depth: depth + 1,
            in_open_run,
        };
        stack.extend(family.map(frame));
        stack.extend(children.into_iter().rev().map(|c| frame(Item::Start(c))));
    }
    // Children are placed after their parent, so a backward pass sees every child first.
    for i in (0..out.nodes.len()).rev() {
        out.nodes[i].y = match span[i] {
            Err(row) => (row as f64 + 0.5) * spacing.row,
            Ok((first, last)) => (out.nodes[first].y + out.nodes[last].y) / 2.0,
        };
    }
    out.width = (max_depth + 1) as f64 * spacing.column;
    out.height = next_row.max(1) as f64 * spacing.row;
    out
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{step, Direction};
    use crate::store::{Layer, Store};

    fn id(n: u32) -> ChainId {
        ChainId::from_hex(&format!("{n:064x}")).unwrap()
    }

    /// A forest from (child, parent) pairs.
    fn graph(edges: &[(u32, Option<u32>)]) -> LayerGraph {
        let mut store = Store::default();
        for (c, p) in edges {
            store.layers.insert(
                id(*c),
                Layer {
                    chain_id: id(*c),
                    diff_id: None,
                    parent: p.map(id),
                    cache_id: None,
                    size: Some(1),
                    tar_split: true,
                    descriptor: None,
                },
            );
        }
        LayerGraph::new(&store, &[])
    }

    #[track_caller]
    fn check(g: &LayerGraph, expanded: &[u32], expected: &[&str]) {
        let expanded = expanded.iter().map(|n| id(*n)).collect();
        let l = layout(
            g,
            &expanded,
            Spacing {
                column: 10.0,
                row: 10.0,
                min_run: 3,
                min_family: 3,
            },
        );
        let describe = |p: &Placed| match &p.kind {
            NodeKind::Layer(c) => format!(
                "{} @{},{}",
                u32::from_str_radix(&c.hex()[56..], 16).unwrap(),
                p.x,
                p.y
            ),
            NodeKind::Run { count, .. } => format!("run{count} @{},{}", p.x, p.y),
            NodeKind::Family {
                members,
                count,
                images,
                prefix,
                ..
            } => format!(
                "family{members}/{count}/{images} {prefix}* @{},{}",
                p.x, p.y
            ),
        };
        let got: Vec<String> = l.nodes.iter().map(describe).collect();
        assert_eq!(got, expected);
        assert_eq!(l.edges.len(), l.nodes.len() - g.roots.len());
    }

    #[test]
    fn a_fork_centres_the_parent_over_its_children() {
        let g = graph(&[(1, None), (2, Some(1)), (3, Some(1))]);
        check(&g, &[], &["1 @5,10", "2 @15,5", "3 @15,15"]);
    }

    #[test]
    fn long_single_child_runs_collapse_and_expand() {
        // 1 → 2 → 3 → 4 → 5, then 5 forks into 6 and 7.
        let g = graph(&[
            (1, None),
            (2, Some(1)),
            (3, Some(2)),
            (4, Some(3)),
            (5, Some(4)),
            (6, Some(5)),
            (7, Some(5)),
        ]);
        check(&g, &[], &["run4 @5,10", "5 @15,10", "6 @25,5", "7 @25,15"]);
        // Opening a run opens all of it, down to the fork.
        let open = [
            "1 @5,10", "2 @15,10", "3 @25,10", "4 @35,10", "5 @45,10", "6 @55,5", "7 @55,15",
        ];
        check(&g, &[1], &open);
        check(&g, &[1, 2], &open);
        // Opening a layer in the middle of a run leaves the part above it folded.
        check(&g, &[2], &["run4 @5,10", "5 @15,10", "6 @25,5", "7 @25,15"]);
    }

    #[test]
    fn arrow_keys_step_to_the_nearest_node_that_way() {
        // 1 at the left, its children 2 above 3 in the next column.
        let g = graph(&[(1, None), (2, Some(1)), (3, Some(1))]);
        let l = layout(&g, &BTreeSet::new(), Spacing::default());
        assert_eq!(step(&l, &id(1), Direction::Right), Some(id(2)));
        assert_eq!(step(&l, &id(2), Direction::Down), Some(id(3)));
        assert_eq!(step(&l, &id(3), Direction::Left), Some(id(1)));
        assert_eq!(step(&l, &id(1), Direction::Left), None);
    }

    #[test]
    fn an_opened_leaf_is_a_layer_whatever_the_run_length() {
        // Found by the layout fuzzer: with runs of one allowed, an opened childless layer was
        // taken for a run and its missing child indexed.
        let g = graph(&[(3, None), (1, Some(3)), (4, Some(3))]);
        for min_run in [0, 1] {
            let spacing = Spacing {
                min_run,
                ..Spacing::default()
            };
            let l = layout(&g, &[id(4)].into_iter().collect(), spacing);
            assert_eq!(l.nodes.len(), 3);
        }
    }

    #[test]
    fn layers_in_a_parent_loop_are_drawn_once() {
        // 1 → 2 → 3 → 1, with 4 below 2 and 5 a healthy root.
        let g = graph(&[
            (1, Some(3)),
            (2, Some(1)),
            (3, Some(2)),
            (4, Some(2)),
            (5, None),
        ]);
        assert_eq!(g.roots, vec![id(1), id(5)]);
        let l = layout(&g, &BTreeSet::new(), Spacing::default());
        let drawn = l.layers_drawn();
        assert_eq!(drawn, 5);
        assert_eq!(g.lineage(&id(4)), vec![id(1), id(2), id(4)]);
    }

    #[test]
    fn look_alike_siblings_fold_into_a_family_after_the_others() {
        // 1 has seven single-layer children and 20, which forks into 21 and 22.
        let mut edges = vec![(1, None), (20, Some(1)), (21, Some(20)), (22, Some(20))];
        edges.extend((10..17).map(|c| (c, Some(1))));
        let g = graph(&edges);
        check(
            &g,
            &[],
            &[
                "1 @5,17.5",
                "20 @15,10",
                "21 @25,5",
                "22 @25,15",
                "family7/7/0 * @15,25",
            ],
        );
        let l = layout(&g, &[id(1)].into_iter().collect(), Spacing::default());
        assert_eq!(l.nodes.len(), 11, "opening the parent opens its family");
        // A fork keeps a sibling out of the family, and too few quiet ones stay apart.
        let g = graph(&[
            (1, None),
            (2, Some(1)),
            (3, Some(1)),
            (4, Some(3)),
            (5, Some(3)),
        ]);
        check(
            &g,
            &[],
            &["1 @5,12.5", "2 @15,5", "3 @15,20", "4 @25,15", "5 @25,25"],
        );
    }

    #[test]
    fn a_missing_parent_is_a_ghost_root() {
        // 2's parent 1 is not in the store.
        let mut store = Store::default();
        store.layers.insert(
            id(2),
            Layer {
                chain_id: id(2),
                diff_id: None,
                parent: Some(id(1)),
                cache_id: None,
                size: Some(1),
                tar_split: true,
                descriptor: None,
            },
        );
        let g = LayerGraph::new(&store, &[]);
        assert_eq!(g.roots, vec![id(1)]);
        assert!(g.nodes[&id(1)].missing && !g.nodes[&id(2)].missing);
        assert_eq!(g.nodes[&id(1)].children, vec![id(2)]);
        let l = layout(&g, &BTreeSet::new(), Spacing::default());
        assert_eq!(l.layers_drawn(), 2);
        assert_eq!(l.position_of(&id(2)).map(|p| p.0), Some(345.0));
    }

    #[test]
    fn separate_trees_sit_side_by_side() {
        let g = graph(&[(1, None), (2, None), (3, Some(2))]);
        check(&g, &[], &["1 @5,5", "2 @5,15", "3 @15,15"]);
        assert_eq!(g.lineage(&id(3)), vec![id(2), id(3)]);
    }
}
