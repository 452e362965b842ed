//! The images table, like `docker system df -v`: shared and unique sizes, sortable by any column,
//! filtered by tag or ID prefix.

use std::cmp::Ordering;
use std::rc::Rc;

use storesnap_core::docker::{human_size, human_size_with_precision, Clock, ImageUsage, Utc};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::state::{Column, Loaded, Selection, Sort};

#[derive(Properties, PartialEq)]
pub struct ImagesProps {
    pub loaded: Rc<Loaded>,
    /// The wasted-space survey, once read.
    pub files: Option<Rc<crate::files::FilesData>>,
    pub filter: String,
    pub selection: Selection,
    pub on_select: Callback<Selection>,
    pub on_filter: Callback<String>,
    pub all: bool,
    pub on_toggle_all: Callback<()>,
    pub sort: Sort,
    pub on_sort: Callback<Column>,
}

/// Orders rows by `sort`; ties keep a fixed order (by ID) so the table never shuffles.
/// Unknown sizes (intermediate images have none) sort below every known one.
pub fn sort_rows(rows: &mut [ImageUsage], sort: Sort) {
    storesnap_core::order::sort_by(rows, |a, b| {
        let by = match sort.column {
            Column::Repository => a.repository.cmp(&b.repository),
            Column::Tag => a.tag.cmp(&b.tag),
            Column::Id => Ordering::Equal,
            Column::Created => a.created.cmp(&b.created),
            Column::Size => a.size.cmp(&b.size),
            Column::Shared => a.shared_size.cmp(&b.shared_size),
            Column::Unique => a.unique_size.cmp(&b.unique_size),
            Column::Containers => a.containers.cmp(&b.containers),
        };
        let by = if sort.descending { by.reverse() } else { by };
        by.then_with(|| a.id.cmp(&b.id))
    });
}

/// Whether a row matches the search text: an ID prefix (with or without `sha256:`) or part of
/// `repository:tag`, in any case. References are ASCII, so ASCII case is all there is to fold
/// (and Unicode's case tables would be kilobytes of the page's download).
pub fn matches(row: &ImageUsage, filter: &str) -> bool {
    let needle = filter
        .trim()
        .trim_start_matches("sha256:")
        .to_ascii_lowercase();
    needle.is_empty()
        || row.id.hex().starts_with(&needle)
        || format!("{}:{}", row.repository, row.tag)
            .to_ascii_lowercase()
            .contains(&needle)
}

/// An image's wasted bytes and dive's efficiency score, once the survey is read.
fn wasted(files: Option<&crate::files::FilesData>, id: &storesnap_core::ImageId) -> Html {
    let Some(files) = files else {
        return html! { <td class="muted">{ "…" }</td> };
    };
    match (files.survey.images.get(id), files.survey.missing.get(id)) {
        (Some(w), _) => html! {
            <td data-wasted={w.wasted.to_string()} data-efficiency={format!("{:.4}", w.dive_efficiency)}
                title={format!("dive: {:.1}% efficient, {} wasted; storesnap: {:.1}% efficient",
                    w.dive_efficiency * 100.0, human_size(w.dive_wasted as i64), w.efficiency * 100.0)}>
                { format!("{} · {:.0}%", human_size(w.wasted as i64), w.dive_efficiency * 100.0) }
            </td>
        },
        (None, Some(why)) => html! { <td class="muted" title={why.clone()}>{ "-" }</td> },
        (None, None) => html! { <td class="muted">{ "-" }</td> },
    }
}

/// Rows drawn before "show all": a thousand-image table would hold the page for long.
const SHOWN: usize = 100;

#[function_component(Images)]
pub fn images(props: &ImagesProps) -> Html {
    let show_all = use_state(|| false);
    let mut rows: Vec<ImageUsage> = props
        .loaded
        .usage
        .iter()
        .filter(|r| props.all || r.listed())
        .filter(|r| matches(r, &props.filter))
        .cloned()
        .collect();
    sort_rows(&mut rows, props.sort);
    let total = rows.len();
    if !*show_all && total > SHOWN {
        // The selected image stays listed, wherever it sorts.
        let selected = rows
            .iter()
            .skip(SHOWN)
            .position(|r| props.selection == Selection::Image(r.id.clone()));
        if let Some(i) = selected {
            rows.swap(SHOWN - 1, SHOWN + i);
        }
        rows.truncate(SHOWN);
    }
    let more = total - rows.len();
    // Tags whose image is gone: ghosts, so the finding about them has something to select.
    let dangling: Vec<(&str, &storesnap_core::ImageId)> = props
        .loaded
        .store
        .references
        .iter()
        .filter(|r| !props.loaded.store.images.contains_key(&r.image))
        .map(|r| (r.name.as_str(), &r.image))
        .collect();
    let on_show_all = {
        let show_all = show_all.clone();
        Callback::from(move |_: MouseEvent| show_all.set(true))
    };
    // Creation times as written, in UTC: relative ages would need the browser's clock.
    let clock = Clock {
        now_unix: 0,
        zone: &Utc,
    };
    let oninput = props
        .on_filter
        .reform(|e: InputEvent| e.target_unchecked_into::<HtmlInputElement>().value());
    let headings = Column::ALL.iter().map(|&column| {
        let arrow = match props.sort {
            Sort { column: c, descending: true } if c == column => " ▾",
            Sort { column: c, descending: false } if c == column => " ▴",
            _ => "",
        };
        let aria = match props.sort {
            Sort { column: c, descending } if c == column => {
                if descending { "descending" } else { "ascending" }
            }
            _ => "none",
        };
        let onclick = props.on_sort.reform(move |_: MouseEvent| column);
        html! {
            <th aria-sort={aria}>
                <button class="sort" data-sort={column.key()} {onclick}>{ column.heading() }{ arrow }</button>
            </th>
        }
    });
    let na = |v: Option<i64>, f: fn(i64) -> String| v.map_or_else(|| "N/A".to_owned(), f);
    html! {
        <section class="images" id="images">
            <h3>{ "Images" }</h3>
            <input type="search" placeholder="Filter by tag or ID prefix" value={props.filter.clone()} {oninput} />
            <label class="toggle">
                <input type="checkbox" id="all-images" checked={props.all} onchange={props.on_toggle_all.reform(|_: Event| ())} />
                { " all images, intermediate ones too (docker images -a)" }
            </label>
            <table>
                <thead><tr>{ for headings }<th title="Bytes the image's layers hold that it no longer shows (storesnap), and dive's efficiency score">{ "WASTED" }</th></tr></thead>
                <tbody>
                { for rows.iter().map(|r| {
                    let selected = props.selection == Selection::Image(r.id.clone());
                    let (onclick, onkeydown) = {
                        let (on_select, id) = (props.on_select.clone(), r.id.clone());
                        super::activation(move || on_select.emit(Selection::Image(id.clone())))
                    };
                    html! {
                        <tr class={classes!(selected.then_some("selected"))} data-image-id={r.id.to_string()}
                            tabindex="0" {onclick} {onkeydown}>
                            <td>{ &r.repository }</td><td>{ &r.tag }</td><td class="mono">{ r.id.short() }</td>
                            <td class="nowrap">{ clock.go_string(r.created) }</td>
                            <td>{ human_size_with_precision(r.size as f64, 3) }</td>
                            <td>{ na(r.shared_size, human_size) }</td>
                            <td>{ na(r.unique_size, human_size) }</td>
                            <td>{ na(r.containers, |c| c.to_string()) }</td>
                            { wasted(props.files.as_deref(), &r.id) }
                        </tr>
                    }
                }) }
                </tbody>
            </table>
            if !dangling.is_empty() {
                <p class="dangling" id="dangling">
                    <strong>{ "Tags pointing at missing images: " }</strong>
                    { for dangling.iter().map(|(name, id)| {
                        let onclick = {
                            let (on_select, id) = (props.on_select.clone(), (*id).clone());
                            Callback::from(move |_: MouseEvent| on_select.emit(Selection::Image(id.clone())))
                        };
                        html! {
                            <button class="link mono ghost" data-image-id={id.to_string()} data-missing="true" {onclick}>
                                { format!("{name} → {} (missing)", id.short()) }
                            </button>
                        }
                    }) }
                </p>
            }
            if more > 0 {
                <p class="muted" id="more-images">
                    { format!("{more} more images: filter to find one, or ") }
                    <button class="link" onclick={on_show_all}>{ format!("show all {total}") }</button>
                </p>
            }
        </section>
    }
}
