//! The layer forest and its layout, as pure data for the viewer to draw.
//!
//! A layer's parent is its parent chain, so layers form a forest rooted at base layers. Images
//! and containers attach where they point. Long runs of single-child layers that nothing
//! attaches to can be collapsed into one node. Layout is a tidy top-down tree: depth gives the
//! row, the order of leaves gives the column. Everything here is geometry; drawing is the
//! viewer's job.

use std::collections::{BTreeMap, BTreeSet};

use crate::finding::{Finding, Severity, Subject};
use crate::id::{ChainId, ContainerId, ImageId};
use crate::store::Store;

/// One layer in the forest.
#[derive(Debug, Clone, PartialEq)]
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
}

impl LayerNode {
    pub fn shared(&self) -> bool {
        self.used_by > 1
    }
}

/// The layer forest of a store.
#[derive(Debug, Clone, Default, PartialEq)]
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
                    parent: l.parent.clone().filter(|p| store.layers.contains_key(p)),
                    children: Vec::new(),
                    images: Vec::new(),
                    containers: Vec::new(),
                    used_by: 0,
                    size: l.size,
                    severity: None,
                };
                (l.chain_id.clone(), node)
            })
            .collect();
        let edges: Vec<(ChainId, ChainId)> = nodes
            .values()
            .filter_map(|n| Some((n.parent.clone()?, n.chain_id.clone())))
            .collect();
        for (parent, child) in edges {
            if let Some(p) = nodes.get_mut(&parent) {
                p.children.push(child);
            }
        }
        for image in store.images.values() {
            let chain = image.chain();
            for c in chain {
                if let Some(n) = nodes.get_mut(c) {
                    n.used_by += 1;
                }
            }
            if let Some(n) = chain.last().and_then(|top| nodes.get_mut(top)) {
                n.images.push(image.id.clone());
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
        self.roots.sort();
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
}

/// What a placed node stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    Layer(ChainId),
    /// A run of `count` single-child layers, `first` nearest the base.
    Run {
        first: ChainId,
        last: ChainId,
        count: usize,
    },
}

/// A node with its position (the centre), in layout units.
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    pub kind: NodeKind,
    pub x: f64,
    pub y: f64,
}

/// The layout of a forest.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layout {
    pub nodes: Vec<Placed>,
    /// Edges as indices into `nodes`, parent first.
    pub edges: Vec<(usize, usize)>,
    pub width: f64,
    pub height: f64,
}

impl Layout {
    /// Where layer `chain` is drawn: its own node's centre, or that of the folded run holding it.
    pub fn position_of(&self, graph: &LayerGraph, chain: &ChainId) -> Option<(f64, f64)> {
        self.nodes.iter().find_map(|p| {
            let here = match &p.kind {
                NodeKind::Layer(c) => c == chain,
                NodeKind::Run { last, count, .. } => graph
                    .lineage(last)
                    .iter()
                    .rev()
                    .take(*count)
                    .any(|c| c == chain),
            };
            here.then_some((p.x, p.y))
        })
    }

    /// How many layers the layout shows, counting each folded run by its length.
    pub fn layers_drawn(&self) -> usize {
        self.nodes
            .iter()
            .map(|p| match p.kind {
                NodeKind::Layer(_) => 1,
                NodeKind::Run { count, .. } => count,
            })
            .sum()
    }
}

/// Spacing of the layout grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spacing {
    pub column: f64,
    pub row: f64,
    /// Runs shorter than this stay expanded.
    pub min_run: usize,
}

impl Default for Spacing {
    fn default() -> Self {
        Spacing {
            column: 150.0,
            row: 70.0,
            min_run: 3,
        }
    }
}

/// Lays the forest out top-down. Runs of foldable layers at least `min_run` long collapse into
/// one node unless their first layer is in `expanded`, which opens the whole run.
///
/// Iterative and linear in the number of layers: a 15,000-layer chain lays out without
/// recursion. Nodes are placed in depth-first order; a leaf takes the next column and a parent
/// sits midway between its first and last child.
pub fn layout(graph: &LayerGraph, expanded: &BTreeSet<ChainId>, spacing: Spacing) -> Layout {
    struct Frame<'a> {
        start: &'a ChainId,
        parent_index: Option<usize>,
        depth: usize,
        in_open_run: bool,
    }
    let mut out = Layout::default();
    // Per placed node: its first and last child, or its column when it is a leaf.
    let mut span: Vec<Result<(usize, usize), usize>> = Vec::new();
    let mut next_column = 0usize;
    let mut max_depth = 0usize;
    let mut stack: Vec<Frame<'_>> = graph
        .roots
        .iter()
        .rev()
        .map(|r| Frame {
            start: r,
            parent_index: None,
            depth: 0,
            in_open_run: false,
        })
        .collect();
    while let Some(Frame {
        start,
        parent_index,
        depth,
        in_open_run,
    }) = stack.pop()
    {
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
            // The run's last layer is not foldable; it is drawn on its own below the run.
            run.pop();
        }
        let (kind, children): (NodeKind, &[ChainId]) =
            if !open && !run.is_empty() && run.len() >= spacing.min_run {
                let last = run[run.len() - 1];
                (
                    NodeKind::Run {
                        first: run[0].clone(),
                        last: last.clone(),
                        count: run.len(),
                    },
                    // A run's last layer leads on to its first child, if any.
                    {
                        let children = &graph.nodes[last].children;
                        &children[..children.len().min(1)]
                    },
                )
            } else {
                let children = graph.nodes.get(start).map_or(&[][..], |n| &n.children[..]);
                (NodeKind::Layer(start.clone()), children)
            };
        let index = out.nodes.len();
        out.nodes.push(Placed {
            kind,
            x: 0.0,
            y: (depth as f64 + 0.5) * spacing.row,
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
        if children.is_empty() {
            span.push(Err(next_column));
            next_column += 1;
        } else {
            span.push(Ok((usize::MAX, usize::MAX)));
            // An opened run stays open down to its last foldable layer.
            let in_open_run = open && graph.foldable(start);
            stack.extend(children.iter().rev().map(|c| Frame {
                start: c,
                parent_index: Some(index),
                depth: depth + 1,
                in_open_run,
            }));
        }
    }
    // Children are placed after their parent, so a backward pass sees every child first.
    for i in (0..out.nodes.len()).rev() {
        out.nodes[i].x = match span[i] {
            Err(column) => (column as f64 + 0.5) * spacing.column,
            Ok((first, last)) => (out.nodes[first].x + out.nodes[last].x) / 2.0,
        };
    }
    out.width = next_column.max(1) as f64 * spacing.column;
    out.height = (max_depth + 1) as f64 * spacing.row;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Layer;

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
        };
        let got: Vec<String> = l.nodes.iter().map(describe).collect();
        assert_eq!(got, expected);
        assert_eq!(l.edges.len(), l.nodes.len() - g.roots.len());
    }

    #[test]
    fn a_fork_centres_the_parent_over_its_children() {
        let g = graph(&[(1, None), (2, Some(1)), (3, Some(1))]);
        check(&g, &[], &["1 @10,5", "2 @5,15", "3 @15,15"]);
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
        check(&g, &[], &["run4 @10,5", "5 @10,15", "6 @5,25", "7 @15,25"]);
        // Opening a run opens all of it, down to the fork.
        let open = [
            "1 @10,5", "2 @10,15", "3 @10,25", "4 @10,35", "5 @10,45", "6 @5,55", "7 @15,55",
        ];
        check(&g, &[1], &open);
        check(&g, &[1, 2], &open);
        // Opening a layer in the middle of a run leaves the part above it folded.
        check(&g, &[2], &["run4 @10,5", "5 @10,15", "6 @5,25", "7 @15,25"]);
    }

    #[test]
    fn arrow_keys_step_to_the_nearest_node_that_way() {
        let g = graph(&[(1, None), (2, Some(1)), (3, Some(1))]);
        let l = layout(&g, &BTreeSet::new(), Spacing::default());
        assert_eq!(step(&l, &id(1), Direction::Down), Some(id(2)));
        assert_eq!(step(&l, &id(2), Direction::Right), Some(id(3)));
        assert_eq!(step(&l, &id(3), Direction::Up), Some(id(1)));
        assert_eq!(step(&l, &id(1), Direction::Up), None);
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
    fn separate_trees_sit_side_by_side() {
        let g = graph(&[(1, None), (2, None), (3, Some(2))]);
        check(&g, &[], &["1 @5,5", "2 @15,5", "3 @15,15"]);
        assert_eq!(g.lineage(&id(3)), vec![id(2), id(3)]);
    }
}

/// A direction to move the selection in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
    Left,
    Right,
}

/// The layer node nearest to `from` in `direction` (for arrow keys): up and down prefer the
/// same column, left and right the same row.
pub fn step(layout: &Layout, from: &ChainId, direction: Direction) -> Option<ChainId> {
    let here = layout
        .nodes
        .iter()
        .find(|p| p.kind == NodeKind::Layer(from.clone()))?;
    layout
        .nodes
        .iter()
        .filter_map(|p| match &p.kind {
            NodeKind::Layer(c) if c != from => Some((c, p.x - here.x, p.y - here.y)),
            _ => None,
        })
        .filter(|(_, dx, dy)| match direction {
            Direction::Up => *dy < 0.0,
            Direction::Down => *dy > 0.0,
            Direction::Left => *dx < 0.0,
            Direction::Right => *dx > 0.0,
        })
        .min_by(|a, b| {
            // Distance along the axis of motion counts once, across it three times.
            let cost = |(_, dx, dy): &(&ChainId, f64, f64)| match direction {
                Direction::Up | Direction::Down => dy.abs() + 3.0 * dx.abs(),
                Direction::Left | Direction::Right => dx.abs() + 3.0 * dy.abs(),
            };
            cost(a).total_cmp(&cost(b))
        })
        .map(|(c, _, _)| c.clone())
}

/// The visible part of a layout (an SVG viewBox), in layout units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct View {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl View {
    /// Closest zoom-out: a whole layout this small on screen is unreadable anyway.
    pub const MAX_SPAN: f64 = 20_000.0;
    /// Closest zoom-in.
    pub const MIN_SPAN: f64 = 100.0;

    /// The first view of a layout shown in a `screen_w` × `screen_h` pane: all of it when that
    /// keeps text at `min_scale` or larger, else actual size, centred over the first root.
    pub fn initial(layout: &Layout, screen_w: f64, screen_h: f64, min_scale: f64) -> View {
        let margin = 40.0;
        let (w, h) = (layout.width + 2.0 * margin, layout.height + 2.0 * margin);
        let fit = (screen_w / w).min(screen_h / h);
        if fit >= min_scale {
            return View {
                x: -margin,
                y: -margin,
                w: screen_w / fit,
                h: screen_h / fit,
            };
        }
        let centre = layout.nodes.first().map_or(0.0, |n| n.x);
        View {
            x: centre - screen_w / 2.0,
            y: -margin,
            w: screen_w,
            h: screen_h,
        }
    }

    /// Zooms by `factor` (below 1 zooms in) keeping the layout point (`cx`, `cy`) in place.
    pub fn zoom(self, factor: f64, cx: f64, cy: f64) -> View {
        let span = (self.w * factor).clamp(Self::MIN_SPAN, Self::MAX_SPAN);
        let f = span / self.w;
        View {
            x: cx - (cx - self.x) * f,
            y: cy - (cy - self.y) * f,
            w: self.w * f,
            h: self.h * f,
        }
    }

    /// The view that shows the layout point (`x`, `y`): this one when the point is inside it
    /// with `margin` to spare, else one centred on it, zoomed in to `max_span` when wider (a
    /// node selected far off in an overview is found, and readable).
    pub fn reveal(self, x: f64, y: f64, margin: f64, max_span: f64) -> View {
        let inside = x >= self.x + margin
            && x <= self.x + self.w - margin
            && y >= self.y + margin
            && y <= self.y + self.h - margin;
        if inside && self.w <= max_span {
            return self;
        }
        let f = (max_span / self.w).min(1.0);
        let (w, h) = (self.w * f, self.h * f);
        View {
            x: x - w / 2.0,
            y: y - h / 2.0,
            w,
            h,
        }
    }

    /// Moves the view by (`dx`, `dy`) layout units.
    pub fn pan(self, dx: f64, dy: f64) -> View {
        View {
            x: self.x + dx,
            y: self.y + dy,
            ..self
        }
    }

    /// Layout units per screen pixel in a `screen_w` × `screen_h` pane that shows the whole
    /// view (SVG `preserveAspectRatio="xMinYMin meet"`).
    pub fn units_per_pixel(self, screen_w: f64, screen_h: f64) -> f64 {
        (self.w / screen_w.max(1.0)).max(self.h / screen_h.max(1.0))
    }

    /// The layout point under a screen point of such a pane.
    pub fn to_layout(self, px: f64, py: f64, screen_w: f64, screen_h: f64) -> (f64, f64) {
        let scale = self.units_per_pixel(screen_w, screen_h);
        (self.x + px * scale, self.y + py * scale)
    }

    /// The SVG `viewBox` attribute.
    pub fn view_box(self) -> String {
        format!("{} {} {} {}", self.x, self.y, self.w, self.h)
    }
}

#[cfg(test)]
mod view_tests {
    use super::*;

    #[test]
    fn reveal_keeps_a_view_that_shows_the_point_and_centres_one_that_does_not() {
        let v = View {
            x: 0.0,
            y: 0.0,
            w: 1000.0,
            h: 500.0,
        };
        assert_eq!(v.reveal(500.0, 250.0, 50.0, 5000.0), v);
        let moved = v.reveal(4000.0, 3000.0, 50.0, 5000.0);
        assert_eq!(
            (moved.x + moved.w / 2.0, moved.y + moved.h / 2.0),
            (4000.0, 3000.0)
        );
        assert_eq!((moved.w, moved.h), (1000.0, 500.0));
        // Near an edge is not inside.
        assert_ne!(v.reveal(990.0, 250.0, 50.0, 5000.0), v);
        // A far-out overview zooms in to the span given.
        let wide = View {
            w: 20_000.0,
            h: 10_000.0,
            ..v
        };
        let near = wide.reveal(100.0, 100.0, 50.0, 2000.0);
        assert_eq!((near.w, near.h), (2000.0, 1000.0));
    }

    fn layout_of(width: f64, height: f64) -> Layout {
        Layout {
            nodes: vec![Placed {
                kind: NodeKind::Run {
                    first: id(),
                    last: id(),
                    count: 3,
                },
                x: width / 2.0,
                y: 35.0,
            }],
            edges: vec![],
            width,
            height,
        }
    }

    fn id() -> ChainId {
        ChainId::from_hex(&"a".repeat(64)).unwrap()
    }

    #[test]
    fn small_layouts_fit_and_large_ones_start_at_their_root() {
        let small = View::initial(&layout_of(800.0, 300.0), 1000.0, 600.0, 0.6);
        assert!(small.x <= 0.0 && small.x + small.w >= 800.0, "{small:?}");
        let large = View::initial(&layout_of(10_000.0, 300.0), 1000.0, 600.0, 0.6);
        assert_eq!((large.w, large.h), (1000.0, 600.0));
        assert_eq!(large.x + large.w / 2.0, 5000.0, "centred on the root");
    }

    #[test]
    fn zoom_keeps_the_point_under_the_cursor() {
        let v = View {
            x: 0.0,
            y: 0.0,
            w: 1000.0,
            h: 600.0,
        };
        let z = v.zoom(0.5, 250.0, 150.0);
        assert_eq!(
            z,
            View {
                x: 125.0,
                y: 75.0,
                w: 500.0,
                h: 300.0
            }
        );
        assert_eq!(z.zoom(2.0, 250.0, 150.0), v);
        assert_eq!(v.zoom(1e-9, 0.0, 0.0).w, View::MIN_SPAN);
        assert_eq!(
            v.pan(10.0, -5.0),
            View {
                x: 10.0,
                y: -5.0,
                ..v
            }
        );
        assert_eq!(z.to_layout(500.0, 0.0, 1000.0, 600.0), (375.0, 75.0));
    }
}
