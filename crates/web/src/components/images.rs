//! The images table, like `docker images`, with shared and unique sizes; filtered by tag or ID.

use std::rc::Rc;

use storesnap_core::docker::{Clock, ImageListOptions, Utc};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::state::{Loaded, Selection};

#[derive(Properties, PartialEq)]
pub struct ImagesProps {
    pub loaded: Rc<Loaded>,
    pub filter: String,
    pub selection: Selection,
    pub on_select: Callback<Selection>,
    pub on_filter: Callback<String>,
    pub all: bool,
    pub on_toggle_all: Callback<()>,
}

#[function_component(Images)]
pub fn images(props: &ImagesProps) -> Html {
    let l = &props.loaded;
    // The table shows creation times as written; relative ages would need the browser's clock.
    let clock = Clock {
        now_unix: 0,
        zone: &Utc,
    };
    let usage = l
        .store
        .disk_usage(&l.manifest.dir_sizes, &l.manifest.data_root, &clock);
    // With "all", every image (intermediate ones too), as `docker images -a` lists them; sizes
    // shared with others are only known for the top-level images `docker system df` counts.
    let mut rows = usage.images.clone();
    if props.all {
        let listed: std::collections::BTreeSet<String> =
            rows.iter().map(|r| r.id.clone()).collect();
        let opts = ImageListOptions {
            all: true,
            digests: false,
            no_trunc: true,
        };
        rows.extend(
            l.store
                .image_rows(opts, &clock)
                .into_iter()
                .filter(|r| !listed.contains(&r.id)),
        );
    }
    let needle = props
        .filter
        .trim()
        .trim_start_matches("sha256:")
        .to_lowercase();
    let rows = rows.iter().filter(|r| {
        needle.is_empty()
            || r.id.trim_start_matches("sha256:").starts_with(&needle)
            || format!("{}:{}", r.repository, r.tag)
                .to_lowercase()
                .contains(&needle)
    });
    let oninput = props
        .on_filter
        .reform(|e: InputEvent| e.target_unchecked_into::<HtmlInputElement>().value());
    html! {
        <section class="images" id="images">
            <h3>{ "Images" }</h3>
            <input type="search" placeholder="Filter by tag or ID prefix" value={props.filter.clone()} {oninput} />
            <label class="toggle">
                <input type="checkbox" id="all-images" checked={props.all} onchange={props.on_toggle_all.reform(|_: Event| ())} />
                { " all images, intermediate ones too (docker images -a)" }
            </label>
            <table>
                <thead><tr>
                    <th>{ "REPOSITORY" }</th><th>{ "TAG" }</th><th>{ "IMAGE ID" }</th><th>{ "CREATED" }</th>
                    <th>{ "SIZE" }</th><th>{ "SHARED" }</th><th>{ "UNIQUE" }</th><th>{ "CONTAINERS" }</th>
                </tr></thead>
                <tbody>
                { for rows.map(|r| {
                    let id: Option<storesnap_core::ImageId> = r.id.parse().ok();
                    let selected = id.as_ref().is_some_and(|id| props.selection == Selection::Image(id.clone()));
                    let onclick = {
                        let on_select = props.on_select.clone();
                        Callback::from(move |_: MouseEvent| {
                            if let Some(id) = &id {
                                on_select.emit(Selection::Image(id.clone()));
                            }
                        })
                    };
                    html! {
                        <tr class={classes!(selected.then_some("selected"))} data-image-id={r.id.clone()} {onclick}>
                            <td>{ &r.repository }</td><td>{ &r.tag }</td><td class="mono">{ super::short(&r.id) }</td>
                            <td>{ &r.created_at }</td><td>{ &r.size }</td><td>{ &r.shared_size }</td>
                            <td>{ &r.unique_size }</td><td>{ &r.containers }</td>
                        </tr>
                    }
                }) }
                </tbody>
            </table>
        </section>
    }
}
