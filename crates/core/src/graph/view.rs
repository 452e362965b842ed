//! The visible part of a layout, and moving the selection across it.

use super::layout::{Layout, NodeKind};
use crate::id::ChainId;

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
    /// keeps text at `min_scale` or larger, else actual size from the left edge, centred on the
    /// first root's row: the base and what grows from it.
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
        let centre = layout.nodes.first().map_or(0.0, |n| n.y);
        View {
            x: -margin,
            y: centre - screen_h / 2.0,
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
    use crate::graph::Placed;

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
                x: 115.0,
                y: height / 2.0,
            }],
            edges: vec![],
            width,
            height,
            at: Default::default(),
        }
    }

    fn id() -> ChainId {
        ChainId::from_hex(&"a".repeat(64)).unwrap()
    }

    #[test]
    fn small_layouts_fit_and_large_ones_start_at_their_root() {
        let small = View::initial(&layout_of(800.0, 300.0), 1000.0, 600.0, 0.6);
        assert!(small.x <= 0.0 && small.x + small.w >= 800.0, "{small:?}");
        let large = View::initial(&layout_of(800.0, 10_000.0), 1000.0, 600.0, 0.6);
        assert_eq!((large.w, large.h), (1000.0, 600.0));
        assert_eq!(large.y + large.h / 2.0, 5000.0, "centred on the root's row");
        assert!(large.x < 0.0, "from the left edge");
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
