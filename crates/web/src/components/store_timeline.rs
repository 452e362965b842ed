//! One timeline across the images: when each was built and when it was last tagged here.

use std::collections::BTreeSet;
use std::rc::Rc;

use storesnap_core::time::UtcTime;
use storesnap_core::timeline::{buckets, events, Axis, Event};
use yew::prelude::*;

use crate::state::{Loaded, Selection};

#[derive(Properties, PartialEq)]
pub struct StoreTimelineProps {
    pub loaded: Rc<Loaded>,
    /// Intermediate images too, as the images table shows them.
    pub all: bool,
    pub selection: Selection,
    pub on_select: Callback<Selection>,
}

const LABEL: f64 = 230.0;
const AXIS: f64 = 560.0;
const ROW: f64 = 18.0;
const TOP: f64 = 30.0;
/// More images than this are grouped into stretches of time, one row each, opened on click.
const MAX_ROWS: usize = 24;
const MAX_TICKS: usize = 6;

fn date(t: i64) -> String {
    let s = UtcTime::from_unix(t).rfc3339();
    s.get(..16).map_or(s.clone(), |d| d.replacen('T', " ", 1))
}

/// One row of the chart: an image, or a stretch of time holding several.
enum Row<'a> {
    Image(&'a Event),
    Bucket {
        from: Option<i64>,
        events: &'a [Event],
        open: bool,
    },
}

#[function_component(StoreTimeline)]
pub fn store_timeline(props: &StoreTimelineProps) -> Html {
    let events = use_memo((props.loaded.clone(), props.all), |(l, all)| {
        let shown = l.usage.iter().filter(|u| *all || u.listed()).map(|u| &u.id);
        events(&l.store, shown)
    });
    // Hooks come before any early return.
    let open = use_state(BTreeSet::<Option<i64>>::new);
    let Some(axis) = Axis::of(&events, AXIS) else {
        return html! {};
    };
    let mut rows: Vec<Row<'_>> = Vec::new();
    if events.len() > MAX_ROWS {
        let step = axis.step(MAX_ROWS);
        for b in buckets(&events, step) {
            let members = &events[b.events];
            let is_open = open.contains(&b.from);
            if members.len() == 1 {
                rows.push(Row::Image(&members[0]));
                continue;
            }
            rows.push(Row::Bucket {
                from: b.from,
                events: members,
                open: is_open,
            });
            if is_open {
                rows.extend(members.iter().map(Row::Image));
            }
        }
    } else {
        rows.extend(events.iter().map(Row::Image));
    }
    let height = TOP + ROW * rows.len() as f64 + 6.0;
    let x = |t: i64| LABEL + axis.x(t);
    let ticks = axis.ticks(MAX_TICKS).into_iter().map(|tick| {
        let at = x(tick.t);
        html! {
            <g class="tick" data-tick={tick.t.to_string()}>
                <line class="grid" x1={at.to_string()} x2={at.to_string()} y1="16" y2={height.to_string()} />
                <text class="axis" x={at.to_string()} y="12" text-anchor="middle">{ tick.label }</text>
            </g>
        }
    });
    let rendered = rows.iter().enumerate().map(|(i, row)| {
        let y = TOP + ROW * i as f64 + ROW / 2.0;
        match row {
            Row::Image(e) => event_row(e, y, &x, &props.selection, &props.on_select),
            Row::Bucket { from, events, open: is_open } => {
                let toggle = {
                    let (open, from) = (open.clone(), *from);
                    move || {
                        let mut next = (*open).clone();
                        if !next.remove(&from) {
                            next.insert(from);
                        }
                        open.set(next);
                    }
                };
                let (onclick, onkeydown) = super::activation(toggle);
                let label = format!(
                    "{} {} images{}",
                    if *is_open { "▾" } else { "▸" },
                    events.len(),
                    from.map_or(" with no time".into(), |t| format!(" from {}", date(t)))
                );
                html! {
                    <g class="bucket" data-bucket-count={events.len().to_string()} tabindex="0" {onclick} {onkeydown}>
                        <title>{ "Images in this stretch of time; click to list them" }</title>
                        <rect class="hit" x="0" y={(y - ROW / 2.0).to_string()} width={(LABEL + AXIS + 10.0).to_string()} height={ROW.to_string()} />
                        <text x="4" y={(y + 4.0).to_string()}>{ super::fit(&label, 34) }</text>
                        // One mark per pixel: a thousand images in a bucket draw a few dozen.
                        { for events
                            .iter()
                            .filter_map(|e| e.created)
                            .map(|c| x(c).round() as i64)
                            .collect::<std::collections::BTreeSet<i64>>()
                            .into_iter()
                            .map(|cx| html! {
                                <circle class="built" cx={cx.to_string()} cy={y.to_string()} r="3" />
                            }) }
                    </g>
                }
            }
        }
    });
    html! {
        <section class="store-timeline" id="store-timeline">
            <h3>{ "When images were built and tagged" }</h3>
            <p class="muted legend">
                <svg width="10" height="10"><circle class="built" cx="5" cy="5" r="4" /></svg>{ " built (config created)   " }
                <svg width="10" height="10"><rect class="tagged" x="1.5" y="1.5" width="7" height="7" /></svg>{ " last tagged on this host (lastUpdated; pulls do not set it), UTC" }
            </p>
            <svg class="timeline-chart" viewBox={format!("0 0 {} {height}", LABEL + AXIS + 10.0)} width="100%">
                { for ticks }
                { for rendered }
            </svg>
        </section>
    }
}

/// One image: when it was built, and when it was last tagged here.
fn event_row(
    e: &Event,
    y: f64,
    x: &impl Fn(i64) -> f64,
    selection: &Selection,
    on_select: &Callback<Selection>,
) -> Html {
    let selected = *selection == Selection::Image(e.image.clone());
    let select = {
        let (on_select, id) = (on_select.clone(), e.image.clone());
        move || on_select.emit(Selection::Image(id.clone()))
    };
    let (onclick, onkeydown) = super::activation(select);
    let tip = format!(
        "{} ({})\nbuilt {}\nlast tagged here {}",
        e.name,
        e.image.short(),
        e.created
            .map_or("unknown".into(), |t| UtcTime::from_unix(t).rfc3339()),
        e.last_updated
            .map_or("never (pulled, or untagged)".into(), |t| {
                UtcTime::from_unix(t).rfc3339()
            }),
    );
    let span = match (e.created, e.last_updated) {
        (Some(c), Some(u)) => html! {
            <line class="span" x1={x(c).to_string()} x2={x(u).to_string()} y1={y.to_string()} y2={y.to_string()} />
        },
        _ => html! {},
    };
    html! {
        <g class={classes!("event", selected.then_some("selected"))} data-timeline-image={e.image.to_string()}
            tabindex="0" {onclick} {onkeydown}>
            <title>{ tip }</title>
            <rect class="hit" x="0" y={(y - ROW / 2.0).to_string()} width={(LABEL + AXIS + 10.0).to_string()} height={ROW.to_string()} />
            <text x="4" y={(y + 4.0).to_string()}>{ super::fit(&e.name, 34) }</text>
            { span }
            if let Some(c) = e.created {
                <circle class="built" cx={x(c).to_string()} cy={y.to_string()} r="4" />
            }
            if let Some(u) = e.last_updated {
                <rect class="tagged" x={(x(u) - 3.5).to_string()} y={(y - 3.5).to_string()} width="7" height="7" />
            }
        </g>
    }
}
