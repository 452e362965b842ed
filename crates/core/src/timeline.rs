//! The store-wide timeline: when each image was built (its config's `created`) and when it was
//! last tagged on this host (`lastUpdated`, written by `TagImage`: `docker tag`, `build -t`;
//! a pull does not write it), laid out on one time axis.

use crate::id::ImageId;
use crate::store::Store;
use crate::time::parse_rfc3339;

/// One image on the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub image: ImageId,
    /// The first `repo:tag`, or `<none>`.
    pub name: String,
    /// Unix seconds of the config's `created`.
    pub created: Option<i64>,
    /// Unix seconds of `lastUpdated`.
    pub last_updated: Option<i64>,
    pub built_locally: bool,
}

impl Event {
    /// The moment the timeline orders by: when the image was last tagged here, else when it
    /// was built.
    pub fn when(&self) -> Option<i64> {
        self.last_updated.or(self.created)
    }
}

/// The given images as timeline events, oldest first; images with no time at all come last.
pub fn events<'a>(store: &Store, images: impl IntoIterator<Item = &'a ImageId>) -> Vec<Event> {
    let mut out: Vec<Event> = images
        .into_iter()
        .filter_map(|id| store.images.get(id))
        .map(|i| Event {
            image: i.id.clone(),
            name: i.display_name(),
            created: i.config.as_ref().and_then(|c| c.created_unix),
            last_updated: i
                .last_updated
                .as_deref()
                .and_then(parse_rfc3339)
                .map(|(s, _)| s),
            built_locally: i.built_locally,
        })
        .collect();
    out.sort_by(|a, b| {
        (a.when().is_none(), a.when(), &a.image).cmp(&(b.when().is_none(), b.when(), &b.image))
    });
    out
}

/// A time axis over `[start, end]` drawn `width` units wide.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Axis {
    pub start: i64,
    pub end: i64,
    pub width: f64,
}

impl Axis {
    /// The axis spanning every time in `events`; `None` when there is none.
    pub fn of(events: &[Event], width: f64) -> Option<Axis> {
        let times = events
            .iter()
            .flat_map(|e| [e.created, e.last_updated])
            .flatten();
        let (start, end) = times.fold(None, |acc: Option<(i64, i64)>, t| match acc {
            None => Some((t, t)),
            Some((lo, hi)) => Some((lo.min(t), hi.max(t))),
        })?;
        Some(Axis { start, end, width })
    }

    /// Where `t` falls; a single-moment axis puts everything in the middle.
    pub fn x(&self, t: i64) -> f64 {
        if self.end == self.start {
            return self.width / 2.0;
        }
        let t = t.clamp(self.start, self.end);
        (t - self.start) as f64 / (self.end - self.start) as f64 * self.width
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(hex: char, created: Option<i64>, last_updated: Option<i64>) -> Event {
        Event {
            image: ImageId::from_hex(&hex.to_string().repeat(64)).unwrap(),
            name: "<none>".into(),
            created,
            last_updated,
            built_locally: false,
        }
    }

    #[test]
    fn the_axis_spans_every_time_and_maps_them_in_order() {
        let events = [
            event('a', Some(100), Some(400)),
            event('b', Some(200), None),
            event('c', None, None),
        ];
        let axis = Axis::of(&events, 300.0).unwrap();
        assert_eq!((axis.start, axis.end), (100, 400));
        assert_eq!(axis.x(100), 0.0);
        assert_eq!(axis.x(400), 300.0);
        assert_eq!(axis.x(200), 100.0);
        assert_eq!(axis.x(10_000), 300.0, "clamped");
        let one = Axis::of(&events[1..2], 300.0).unwrap();
        assert_eq!(one.x(200), 150.0);
        assert_eq!(Axis::of(&events[2..], 300.0), None);
    }
}
