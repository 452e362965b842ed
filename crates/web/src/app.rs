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
    // `#demo` in the URL opens the demo, so a link can show the viewer with data in it.
    {
        let on_demo = on_demo.clone();
        use_effect_with((), move |_| {
            let hash = web_sys::window()
                .and_then(|w| w.location().hash().ok())
                .unwrap_or_default();
            if hash == "#demo" {
                on_demo.emit(());
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
