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
    crate::order::sort_by(&mut out, |a, b| {
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

/// A labelled mark on an axis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tick {
    pub t: i64,
    pub label: String,
}

/// Round steps between ticks, in seconds: a tick falls on a whole minute, hour, day, week,
/// 30 or 365 days.
const STEPS: [i64; 18] = [
    1, 5, 15, 30, 60, 300, 900, 1800, 3600, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800,
    2_592_000, 7_776_000, 31_536_000,
];
const DAY: i64 = 86_400;

impl Axis {
    /// The smallest round step that puts at most `max` ticks on the axis.
    pub fn step(&self, max: usize) -> i64 {
        let span = (self.end - self.start).max(1);
        let max = i64::try_from(max.max(1)).unwrap_or(i64::MAX);
        STEPS
            .into_iter()
            .find(|s| span / s < max)
            .unwrap_or_else(|| (span / max).max(1))
    }

    /// Ticks at whole multiples of `step` (UTC) inside the axis. A label shows the date where
    /// it changes (and at the first tick) and the time of day when steps are shorter than a
    /// day: two ticks never read the same.
    pub fn ticks(&self, max: usize) -> Vec<Tick> {
        let step = self.step(max);
        let first = self.start.div_euclid(step) * step;
        let first = if first < self.start {
            first + step
        } else {
            first
        };
        let mut out: Vec<Tick> = Vec::new();
        let mut day = None;
        let mut t = first;
        while t <= self.end && out.len() <= max {
            let text = crate::time::UtcTime::from_unix(t).rfc3339();
            let (date, time) = (text.get(..10).unwrap_or(""), text.get(11..19).unwrap_or(""));
            let time = if step % 60 == 0 {
                &time[..time.len().min(5)]
            } else {
                time
            };
            let label = match (step >= DAY, day == Some(t.div_euclid(DAY))) {
                (true, _) => date.to_owned(),
                (false, true) => time.to_owned(),
                (false, false) => format!("{date} {time}"),
            };
            day = Some(t.div_euclid(DAY));
            out.push(Tick { t, label });
            t += step;
        }
        if out.is_empty() {
            let text = crate::time::UtcTime::from_unix(self.start).rfc3339();
            let label = text.get(..16).unwrap_or(&text).replacen('T', " ", 1);
            out.push(Tick {
                t: self.start,
                label,
            });
        }
        out
    }
}

/// Events that fall in one stretch of time, shown as one row when there are many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// The stretch, `[from, from + step)`; `None` for the events with no time.
    pub from: Option<i64>,
    /// Indices into the events.
    pub events: std::ops::Range<usize>,
}

/// Groups `events` (as [`events`] orders them) into stretches of `step` seconds, skipping
/// empty ones, with the timeless events last.
pub fn buckets(events: &[Event], step: i64) -> Vec<Bucket> {
    let step = step.max(1);
    let mut out: Vec<Bucket> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let from = e.when().map(|t| t.div_euclid(step) * step);
        match out.last_mut() {
            Some(b) if b.from == from => b.events.end = i + 1,
            _ => out.push(Bucket {
                from,
                events: i..i + 1,
            }),
        }
    }
    out
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

    #[test]
    fn ticks_fall_on_round_times_and_never_read_the_same() {
        let t0 = 1_767_225_600; // 2026-01-01T00:00:00Z
        let within_minutes = Axis {
            start: t0 + 10,
            end: t0 + 200,
            width: 500.0,
        };
        let ticks = within_minutes.ticks(4);
        let labels: Vec<&str> = ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["2026-01-01 00:01", "00:02", "00:03"]);
        assert_eq!(within_minutes.ticks(8)[1].label, "00:01:00");
        let seconds = Axis {
            start: t0,
            end: t0 + 40,
            width: 500.0,
        };
        let labels: Vec<String> = seconds.ticks(8).into_iter().map(|t| t.label).collect();
        assert_eq!(labels, ["2026-01-01 00:00:00", "00:00:15", "00:00:30"]);
        let months = Axis {
            start: t0,
            end: t0 + 200 * DAY,
            width: 500.0,
        };
        let ticks = months.ticks(8);
        assert!(ticks.len() <= 8 && ticks.len() >= 2, "{ticks:?}");
        assert!(ticks.iter().all(|t| t.label.len() == 10), "{ticks:?}");
        let mut labels: Vec<&String> = ticks.iter().map(|t| &t.label).collect();
        labels.dedup();
        assert_eq!(labels.len(), ticks.len());
        let moment = Axis {
            start: t0,
            end: t0,
            width: 1.0,
        };
        assert_eq!(moment.ticks(8).len(), 1);
    }

    #[test]
    fn many_events_bucket_by_step_with_timeless_ones_last() {
        let events = [
            event('a', Some(100), None),
            event('b', Some(150), None),
            event('c', Some(260), None),
            event('d', None, None),
        ];
        let got = buckets(&events, 100);
        assert_eq!(
            got,
            [
                Bucket {
                    from: Some(100),
                    events: 0..2
                },
                Bucket {
                    from: Some(200),
                    events: 2..3
                },
                Bucket {
                    from: None,
                    events: 3..4
                },
            ]
        );
    }
}
