//! One timeline across the images: when each was built and when it was last tagged here.

use std::rc::Rc;

use storesnap_core::time::UtcTime;
use storesnap_core::timeline::{events, Axis};
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
const TOP: f64 = 22.0;

fn date(t: i64) -> String {
    let s = UtcTime::from_unix(t).rfc3339();
    s.get(..16).map_or(s.clone(), |d| d.replacen('T', " ", 1))
}

#[function_component(StoreTimeline)]
pub fn store_timeline(props: &StoreTimelineProps) -> Html {
    let events = use_memo((props.loaded.clone(), props.all), |(l, all)| {
        let shown = l.usage.iter().filter(|u| *all || u.listed()).map(|u| &u.id);
        events(&l.store, shown)
    });
    let Some(axis) = Axis::of(&events, AXIS) else {
        return html! {};
    };
    let height = TOP + ROW * events.len() as f64 + 6.0;
    let rows = events.iter().enumerate().map(|(i, e)| {
        let y = TOP + ROW * i as f64 + ROW / 2.0;
        let x = |t: i64| LABEL + axis.x(t);
        let selected = props.selection == Selection::Image(e.image.clone());
        let onclick = {
            let (on_select, id) = (props.on_select.clone(), e.image.clone());
            Callback::from(move |_: MouseEvent| on_select.emit(Selection::Image(id.clone())))
        };
        let tip = format!(
            "{} ({})\nbuilt {}\nlast tagged here {}",
            e.name,
            e.image.short(),
            e.created.map_or("unknown".into(), |t| UtcTime::from_unix(t).rfc3339()),
            e.last_updated.map_or("never (pulled, or untagged)".into(), |t| UtcTime::from_unix(t).rfc3339()),
        );
        let span = match (e.created, e.last_updated) {
            (Some(c), Some(u)) => html! {
                <line class="span" x1={x(c).to_string()} x2={x(u).to_string()} y1={y.to_string()} y2={y.to_string()} />
            },
            _ => html! {},
        };
        html! {
            <g class={classes!("event", selected.then_some("selected"))} data-timeline-image={e.image.to_string()} {onclick}>
                <title>{ tip }</title>
                <rect class="hit" x="0" y={(y - ROW / 2.0).to_string()} width={(LABEL + AXIS + 10.0).to_string()} height={ROW.to_string()} />
                <text x="4" y={(y + 4.0).to_string()}>{ truncate(&e.name, 34) }</text>
                { span }
                if let Some(c) = e.created {
                    <circle class="built" cx={x(c).to_string()} cy={y.to_string()} r="4" />
                }
                if let Some(u) = e.last_updated {
                    <rect class="tagged" x={(x(u) - 3.5).to_string()} y={(y - 3.5).to_string()} width="7" height="7" />
                }
            </g>
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
                <text class="axis" x={LABEL.to_string()} y="12">{ date(axis.start) }</text>
                <text class="axis end" x={(LABEL + AXIS).to_string()} y="12">{ date(axis.end) }</text>
                { for rows }
            </svg>
        </section>
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}
