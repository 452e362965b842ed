//! The root component: owns the reducer, hands dropped, picked or linked files to `open`, lays
//! out the panes.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use yew::prelude::*;

use crate::components::{
    compare::Compare, containerd::ContainerdPane, details::Details, driver_dirs::DriverDirs,
    file_tree::FileTree, findings::Findings, graph::Graph, images::Images, loader::Loader,
    overview::Overview, redactions::Redactions, report::Report, store_timeline::StoreTimeline,
    timeline::Timeline, waste::Waste,
};
use crate::hash::{Hash, Source};
use crate::open::{fetch_blob, Opener};
use crate::state::{Action, Loading, Stage, State};
use storesnap_core::docker::human_size;

/// A callback that dispatches `action`, made once: the same callback on every render, so a
/// pane whose data did not change is not drawn again when the view pans or zooms.
#[hook]
fn use_dispatch<T>(state: &UseReducerHandle<State>, action: fn(T) -> Action) -> Callback<T>
where
    T: 'static,
{
    let dispatcher = state.dispatcher();
    (*use_memo((), move |()| {
        Callback::from(move |value| dispatcher.dispatch(action(value)))
    }))
    .clone()
}

/// Puts text on the clipboard (the browser asks nothing for a click's own write).
async fn copy_text(text: &str) -> Result<(), String> {
    let window = web_sys::window().ok_or("no window")?;
    let promise = window.navigator().clipboard().write_text(text);
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map(|_| ())
        .map_err(|e| e.as_string().unwrap_or_else(|| format!("{e:?}")))
}

/// Sets the URL's hash without a `hashchange`: as a new history entry when `push`, else in
/// place.
fn set_hash(hash: &str, push: bool) {
    let Some(window) = web_sys::window() else {
        return;
    };
    if window.location().hash().ok().as_deref() == Some(hash) {
        return;
    }
    let url = window
        .location()
        .href()
        .ok()
        .map(|href| href.split('#').next().unwrap_or_default().to_owned())
        .unwrap_or_default();
    if let Ok(history) = window.history() {
        let url = format!("{url}{hash}");
        let _ = if push {
            history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url))
        } else {
            history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url))
        };
    }
}

/// The hash of the page's URL, parsed.
pub fn current_hash() -> Hash {
    let hash = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    Hash::parse(&hash)
}

#[function_component(App)]
pub fn app() -> Html {
    let state = use_reducer(State::default);
    let opener = Opener {
        state: state.clone(),
        tickets: (*use_state(|| Rc::new(Cell::new(0u64)))).clone(),
        job: (*use_state(|| Rc::new(RefCell::new(None)))).clone(),
        compare_job: (*use_state(|| Rc::new(RefCell::new(None)))).clone(),
    };

    let on_file = {
        let opener = opener.clone();
        Callback::from(move |file: web_sys::File| opener.open_blob(file.name(), file.into()))
    };
    let on_demo = {
        let opener = opener.clone();
        Callback::from(move |_| opener.open_demo())
    };
    // A link can open the viewer with data in it: `#demo`, or `#url=<address of a snapshot>`.
    // Else a worker starts warming up for the file the user is about to pick.
    {
        let (on_demo, opener) = (on_demo.clone(), opener.clone());
        use_effect_with((), move |_| match current_hash().source {
            Some(Source::Demo) => on_demo.emit(()),
            Some(Source::Url(raw)) => {
                let url = Source::address(&raw);
                opener.state.dispatch(Action::Fetching(url.clone()));
                wasm_bindgen_futures::spawn_local(async move {
                    match fetch_blob(&url).await {
                        Ok(blob) => opener.open_blob(url, blob),
                        Err(message) => opener.state.dispatch(Action::Failed(message)),
                    }
                });
            }
            None => crate::open::prepare_spare(&opener.state),
        });
    }
    // The selection goes into the URL, so a link opens the same view, and each selection is a
    // history entry, so Back and Forward walk through them. What a file opens with replaces the
    // entry instead: opening is not a step to go back over.
    {
        let selection = state.selection.clone();
        let ticket = state.loaded.as_ref().map(|l| l.ticket);
        let placed = use_mut_ref(|| None::<u64>);
        use_effect_with((selection, ticket), move |(selection, ticket)| {
            if ticket.is_some() {
                let mut hash = current_hash();
                hash.selection = selection.clone();
                let first = *placed.borrow() != *ticket;
                *placed.borrow_mut() = *ticket;
                set_hash(&hash.format(), !first);
            }
        });
    }
    // Back and Forward change the hash: select what it names.
    {
        let state = state.clone();
        use_effect_with((), move |_| {
            let listener = wasm_bindgen::closure::Closure::<dyn Fn()>::new(move || {
                state.dispatch(Action::Select(current_hash().selection));
            });
            let window = web_sys::window();
            if let Some(w) = &window {
                w.set_onpopstate(Some(wasm_bindgen::JsCast::unchecked_ref(listener.as_ref())));
            }
            move || {
                if let Some(w) = window {
                    w.set_onpopstate(None);
                }
                drop(listener);
            }
        });
    }
    let ondragover = Callback::from(|e: DragEvent| e.prevent_default());
    let ondrop = {
        let on_file = on_file.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            if let Some(file) = e
                .data_transfer()
                .and_then(|d| d.files())
                .and_then(|f| f.get(0))
            {
                on_file.emit(file);
            }
        })
    };
    let on_select = use_dispatch(&state, Action::Select);
    let on_toggle = use_dispatch(&state, Action::Toggle);
    let on_filter = use_dispatch(&state, Action::Filter);
    let on_view = use_dispatch(&state, Action::SetView);
    let on_sort = use_dispatch(&state, Action::Sort);
    let on_copy = {
        let state = state.clone();
        Callback::from(move |text: String| {
            // Whichever comes first: the clipboard's answer, or word that it gave none (a
            // browser may leave the promise pending when it refuses).
            let said = Rc::new(Cell::new(false));
            let (answer, silence) = ((state.clone(), said.clone()), (state.clone(), said));
            wasm_bindgen_futures::spawn_local(async move {
                let notice = match copy_text(&text).await {
                    Ok(()) => "Copied.".to_owned(),
                    Err(e) => format!("Could not copy ({e}): select the text below instead."),
                };
                if !answer.1.replace(true) {
                    answer.0.dispatch(Action::Notice(notice));
                }
            });
            wasm_bindgen_futures::spawn_local(async move {
                gloo::timers::future::TimeoutFuture::new(3_000).await;
                if !silence.1.replace(true) {
                    silence.0.dispatch(Action::Notice(
                        "The browser did not answer: select the text below instead.".into(),
                    ));
                }
            });
        })
    };
    let on_toggle_all = use_dispatch(&state, |()| Action::ToggleAllImages);
    let on_close_compare = use_dispatch(&state, |()| Action::Compare(None));
    // The second file is read in a worker of its own: it is compared, not drawn.
    let on_compare = state.loaded.clone().map(|loaded| {
        let opener = opener.clone();
        Callback::from(move |file: web_sys::File| opener.compare(loaded.clone(), file))
    });
    let on_severity = use_dispatch(&state, Action::ShowSeverity);

    html! {
        <div class="app" {ondragover} {ondrop} data-worker-warmed={state.warmed.then_some("true")}>
            <header class="bar">
                <h1>{ "storesnap" }</h1>
                <Loader {on_file} {on_demo} {on_compare} />
            </header>
            if let Some(url) = &state.fetching {
                <p class="muted" id="fetching">{ format!("Fetching {url}…") }</p>
            }
            if let Some(loading) = &state.loading {
                <LoadingBar loading={loading.clone()} />
            }
            if let Some(error) = &state.error {
                <p class="error" role="alert" id="error">{ error }</p>
            }
            if let Some(loaded) = &state.loaded {
                // One screen: findings on the left, the graph in the centre, the inspector on
                // the right (under the graph when narrow), the tables below the graph; each
                // scrolls on its own and the page never does.
                <div class="workspace">
                    <aside class="left">
                        <Overview loaded={loaded.clone()} />
                        <Findings loaded={loaded.clone()} on_select={on_select.clone()}
                            severity={state.severity} {on_severity} />
                        <Report loaded={loaded.clone()} {on_copy} notice={state.notice.clone()} />
                        if loaded.manifest.is_some() {
                            <Redactions loaded={loaded.clone()} />
                        }
                    </aside>
                    <section class="graph-pane">
                        <Graph loaded={loaded.clone()} selection={state.selection.clone()}
                            expanded={state.expanded.clone()} on_select={on_select.clone()} {on_toggle}
                            view={state.view} {on_view} />
                    </section>
                    <aside class="side inspector">
                        <Details loaded={loaded.clone()} selection={state.selection.clone()} on_select={on_select.clone()} />
                        <FileTree loaded={loaded.clone()} files={state.files.clone()} selection={state.selection.clone()} />
                        <ContainerdPane loaded={loaded.clone()} selection={state.selection.clone()} />
                        <Timeline loaded={loaded.clone()} selection={state.selection.clone()} on_select={on_select.clone()} />
                    </aside>
                    <section class="lower">
                        if let Some(compared) = &state.compare {
                            <Compare compared={compared.clone()} loaded={loaded.clone()} on_select={on_select.clone()} on_close={on_close_compare} />
                        }
                        <Waste loaded={loaded.clone()} files={state.files.clone()} on_select={on_select.clone()} />
                        <Images loaded={loaded.clone()} files={state.files.clone()} filter={state.filter.clone()} selection={state.selection.clone()}
                            on_select={on_select.clone()} {on_filter} all={state.all_images} {on_toggle_all}
                            sort={state.sort} {on_sort} />
                        <DriverDirs loaded={loaded.clone()} selection={state.selection.clone()} on_select={on_select.clone()} />
                        <StoreTimeline loaded={loaded.clone()} all={state.all_images} selection={state.selection.clone()}
                            on_select={on_select.clone()} />
                    </section>
                </div>
            } else {
                <section class="welcome">
                    <p>{ "Drop a snapshot written by " }<code>{ "storesnap pack" }</code>
                       { ", or an archive written by " }<code>{ "docker save" }</code>
                       { ", anywhere on this page, pick one, or open the demo." }</p>
                    <p class="muted">{ "It is read here, in your browser. Nothing is uploaded." }</p>
                </section>
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct LoadingProps {
    loading: Loading,
}

/// Progress while a snapshot is read: the share of the file inflated so far, then checking.
#[function_component(LoadingBar)]
fn loading_bar(props: &LoadingProps) -> Html {
    let l = &props.loading;
    let p = l.progress;
    let text = match l.stage {
        Stage::Inflating => format!(
            "Reading {}: {}% ({} inflated)",
            l.name,
            (p.read * 100).checked_div(p.total).unwrap_or(100),
            human_size(i64::try_from(p.inflated).unwrap_or(i64::MAX))
        ),
        Stage::Hashing => format!(
            "Hashing every layer of {}: {}% ({} of {})",
            l.name,
            (p.read * 100).checked_div(p.total).unwrap_or(100),
            human_size(i64::try_from(p.read).unwrap_or(i64::MAX)),
            human_size(i64::try_from(p.total).unwrap_or(i64::MAX))
        ),
        Stage::Checking => format!("Checking {}…", l.name),
    };
    html! {
        <div class="loading" id="loading" role="status">
            <progress id="progress" max={p.total.max(1).to_string()} value={p.read.to_string()}></progress>
            <span>{ text }</span>
        </div>
    }
}
