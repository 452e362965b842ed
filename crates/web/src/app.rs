//! The root component: owns the reducer, reads dropped or picked files, lays out the panes.

use std::cell::RefCell;
use std::rc::Rc;

use gloo::file::callbacks::FileReader;
use yew::prelude::*;

use crate::components::{
    details::Details, findings::Findings, graph::Graph, images::Images, loader::Loader,
    overview::Overview, timeline::Timeline,
};
use crate::state::{Action, Selection, State};

/// Starts reading a browser file; the task is kept alive in `tasks` until it reports.
pub fn read_file(
    file: web_sys::File,
    tasks: Rc<RefCell<Vec<FileReader>>>,
    state: UseReducerHandle<State>,
) {
    let file = gloo::file::File::from(file);
    let name = file.name();
    let task = gloo::file::callbacks::read_as_bytes(&file, move |result| match result {
        Ok(bytes) => state.dispatch(Action::Load { name, bytes }),
        Err(e) => state.dispatch(Action::Failed(format!("could not read {name}: {e}"))),
    });
    tasks.borrow_mut().push(task);
}

/// Fetches a snapshot the user linked to with `#url=…`: the only request the viewer makes
/// after it has loaded, and only because the link asked for it.
pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let window = web_sys::window().ok_or("no window")?;
    let fail = |e: wasm_bindgen::JsValue| {
        format!(
            "could not fetch {url}: {}",
            e.as_string().unwrap_or_else(|| format!("{e:?}"))
        )
    };
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(fail)?
        .dyn_into()
        .map_err(fail)?;
    if !response.ok() {
        return Err(format!(
            "could not fetch {url}: HTTP {} {}",
            response.status(),
            response.status_text()
        ));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(fail)?)
        .await
        .map_err(fail)?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

#[function_component(App)]
pub fn app() -> Html {
    let state = use_reducer(State::default);
    // Dropping a FileReader cancels the read, so the tasks live as long as the app.
    let tasks = use_mut_ref(Vec::<FileReader>::new);

    let on_file = {
        let (state, tasks) = (state.clone(), tasks.clone());
        Callback::from(move |file: web_sys::File| read_file(file, tasks.clone(), state.clone()))
    };
    let on_demo = {
        let state = state.clone();
        Callback::from(move |_| {
            state.dispatch(Action::Load {
                name: "demo snapshot".into(),
                bytes: crate::DEMO.to_vec(),
            })
        })
    };
    // A link can open the viewer with data in it: `#demo`, or `#url=<address of a snapshot>`.
    {
        let (on_demo, state) = (on_demo.clone(), state.clone());
        use_effect_with((), move |_| {
            let hash = web_sys::window()
                .and_then(|w| w.location().hash().ok())
                .unwrap_or_default();
            if hash == "#demo" {
                on_demo.emit(());
            } else if let Some(url) = hash.strip_prefix("#url=") {
                let url = js_sys::decode_uri_component(url)
                    .ok()
                    .and_then(|u| u.as_string())
                    .unwrap_or_else(|| url.to_owned());
                state.dispatch(Action::Fetching(url.clone()));
                wasm_bindgen_futures::spawn_local(async move {
                    match fetch_bytes(&url).await {
                        Ok(bytes) => state.dispatch(Action::Load { name: url, bytes }),
                        Err(message) => state.dispatch(Action::Failed(message)),
                    }
                });
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
    let on_select = {
        let state = state.clone();
        Callback::from(move |s: Selection| state.dispatch(Action::Select(s)))
    };
    let on_toggle = {
        let state = state.clone();
        Callback::from(move |c| state.dispatch(Action::Toggle(c)))
    };
    let on_filter = {
        let state = state.clone();
        Callback::from(move |t| state.dispatch(Action::Filter(t)))
    };
    let on_view = {
        let state = state.clone();
        Callback::from(move |v| state.dispatch(Action::SetView(v)))
    };
    let on_toggle_all = {
        let state = state.clone();
        Callback::from(move |()| state.dispatch(Action::ToggleAllImages))
    };

    html! {
        <div class="app" {ondragover} {ondrop}>
            <header class="bar">
                <h1>{ "storesnap" }</h1>
                <Loader {on_file} {on_demo} />
            </header>
            if let Some(url) = &state.fetching {
                <p class="muted" id="fetching">{ format!("Fetching {url}…") }</p>
            }
            if let Some(error) = &state.error {
                <p class="error" role="alert" id="error">{ error }</p>
            }
            if let Some(loaded) = &state.loaded {
                <Overview loaded={loaded.clone()} />
                <div class="panes">
                    <section class="graph-pane">
                        <Graph loaded={loaded.clone()} selection={state.selection.clone()}
                            expanded={state.expanded.clone()} on_select={on_select.clone()} {on_toggle}
                            view={state.view} {on_view} />
                    </section>
                    <aside class="side">
                        <Details loaded={loaded.clone()} selection={state.selection.clone()} on_select={on_select.clone()} />
                        <Timeline loaded={loaded.clone()} selection={state.selection.clone()} on_select={on_select.clone()} />
                    </aside>
                </div>
                <Images loaded={loaded.clone()} filter={state.filter.clone()} selection={state.selection.clone()}
                    on_select={on_select.clone()} {on_filter} all={state.all_images} {on_toggle_all} />
                <Findings loaded={loaded.clone()} {on_select} />
            } else {
                <section class="welcome">
                    <p>{ "Drop a snapshot written by " }<code>{ "storesnap pack" }</code>
                       { " anywhere on this page, pick one, or open the demo." }</p>
                    <p class="muted">{ "It is read here, in your browser. Nothing is uploaded." }</p>
                </section>
            }
        </div>
    }
}
