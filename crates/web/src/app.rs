//! The root component: owns the reducer, reads dropped or picked files, lays out the panes.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo::file::callbacks::FileReader;
use gloo::timers::future::TimeoutFuture;
use storesnap_core::source::archive;
use storesnap_core::{Progress, SlicedReader, Snapshot};
use yew::prelude::*;

use crate::components::{
    containerd::ContainerdPane, details::Details, driver_dirs::DriverDirs, findings::Findings,
    graph::Graph, images::Images, loader::Loader, overview::Overview, redactions::Redactions,
    report::Report, store_timeline::StoreTimeline, timeline::Timeline,
};
use crate::hash::{Hash, Source};
use crate::state::{Action, Loaded, Loading, Selection, Stage, State, LIMITS};
use crate::worker;
use storesnap_core::docker::human_size;

/// Starts reading a browser file in the worker: a snapshot, or a `docker save` archive (it may
/// be gigabytes). The first bytes tell which.
pub fn read_file(file: web_sys::File, tasks: Rc<RefCell<Vec<FileReader>>>, opener: Opener) {
    let name = file.name();
    open_blob(name, file.into(), tasks, opener);
}

/// Opens a snapshot or an archive held by a Blob (a picked or dropped File, or a fetched body).
pub fn open_blob(
    name: String,
    blob: web_sys::Blob,
    tasks: Rc<RefCell<Vec<FileReader>>>,
    opener: Opener,
) {
    const HEAD: f64 = 64.0 * 1024.0;
    let Ok(head) = blob.slice_with_f64_and_f64(0.0, HEAD.min(blob.size())) else {
        opener
            .state
            .dispatch(Action::Failed(format!("could not read {name}")));
        return;
    };
    let head = gloo::file::Blob::from(head);
    let inner_tasks = tasks.clone();
    let task = gloo::file::callbacks::read_as_bytes(&head, move |result| match result {
        Ok(head) if archive::sniff(&head) == archive::Input::Archive => {
            opener.open_archive(name, blob);
        }
        Ok(_) => opener.open_snapshot(name, blob, inner_tasks),
        Err(e) => opener
            .state
            .dispatch(Action::Failed(format!("could not read {name}: {e}"))),
    });
    tasks.borrow_mut().push(task);
}

/// Opens snapshots: each gets a ticket, so a slow one opened first cannot replace a later one.
#[derive(Clone)]
pub struct Opener {
    pub state: UseReducerHandle<State>,
    pub tickets: Rc<Cell<u64>>,
    /// The worker reading a file, if any: a newer file replaces (and stops) it.
    pub job: Rc<RefCell<Option<worker::Running>>>,
}

/// How long one slice of work may hold the main thread before the page gets it back.
const SLICE_MS: f64 = 16.0;

impl Opener {
    /// Hashes an archive in the worker, showing its progress, then loads and checks the scan.
    /// Where no worker can start, the page reads the file itself.
    pub fn open_archive(&self, name: String, blob: web_sys::Blob) {
        let ticket = self.tickets.get() + 1;
        self.tickets.set(ticket);
        let total = blob.size() as u64;
        let state = self.state.clone();
        state.dispatch(Action::Open {
            ticket,
            name: name.clone(),
            size: total as usize,
        });
        let start = js_sys::Date::now();
        let fallback_blob = blob.clone();
        let own_name = name.clone();
        let on_message = move |message: worker::Message| match message {
            worker::Message::Progress { read, .. } => state.dispatch(Action::Progress {
                ticket,
                progress: Progress {
                    read,
                    total,
                    inflated: read,
                },
                stage: Stage::Hashing,
            }),
            worker::Message::Done { scan, memory } => finish_archive(
                state.clone(),
                ticket,
                name.clone(),
                total,
                start,
                *scan,
                Some(memory),
            ),
            worker::Message::Unavailable { .. } => scan_in_page(
                state.clone(),
                ticket,
                name.clone(),
                fallback_blob.clone(),
                start,
            ),
            worker::Message::Ready | worker::Message::Checking | worker::Message::Loaded { .. } => {
            }
            worker::Message::Failed { message } => state.dispatch(Action::Opened {
                ticket,
                result: Err(format!("{name}: {message}")),
                selection: Selection::None,
            }),
        };
        match worker::start(&blob, worker::Job::Archive, on_message) {
            Ok(job) => *self.job.borrow_mut() = Some(job),
            Err(_) => scan_in_page(self.state.clone(), ticket, own_name, blob, start),
        }
    }

    /// Reads, loads, checks and lays out a snapshot in the worker, then parses its results on
    /// the page a part at a time. Where no worker can start, the page does it all itself.
    pub fn open_snapshot(
        &self,
        name: String,
        blob: web_sys::Blob,
        tasks: Rc<RefCell<Vec<FileReader>>>,
    ) {
        let ticket = self.tickets.get() + 1;
        self.tickets.set(ticket);
        let total = blob.size() as u64;
        let state = self.state.clone();
        state.dispatch(Action::Open {
            ticket,
            name: name.clone(),
            size: total as usize,
        });
        let opener = self.clone();
        let fallback_blob = blob.clone();
        let (own_name, own_tasks) = (name.clone(), tasks.clone());
        let on_message = move |message: worker::Message| match message {
            worker::Message::Progress { read, inflated } => state.dispatch(Action::Progress {
                ticket,
                progress: Progress {
                    read,
                    total,
                    inflated: inflated.unwrap_or(read),
                },
                stage: Stage::Inflating,
            }),
            worker::Message::Checking => state.dispatch(Action::Progress {
                ticket,
                progress: Progress {
                    read: total,
                    total,
                    inflated: total,
                },
                stage: Stage::Checking,
            }),
            worker::Message::Loaded {
                parts,
                read_ms,
                check_ms,
                memory: _,
                texts,
            } => {
                let (state, name) = (state.clone(), name.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    let result =
                        worker::assemble(ticket, &name, total as usize, &parts, texts).await;
                    let result = result
                        .map(|mut loaded| {
                            loaded.timing = Some((read_ms, check_ms));
                            Rc::new(loaded)
                        })
                        .map_err(|e| format!("{name}: {e}"));
                    state.dispatch(Action::Opened {
                        ticket,
                        result,
                        selection: current_hash().selection,
                    });
                });
            }
            worker::Message::Unavailable { .. } => {
                read_in_page(&opener, ticket, name.clone(), &fallback_blob, &tasks)
            }
            worker::Message::Failed { message } => state.dispatch(Action::Opened {
                ticket,
                result: Err(format!("{name}: {message}")),
                selection: Selection::None,
            }),
            worker::Message::Ready | worker::Message::Done { .. } => {}
        };
        match worker::start(&blob, worker::Job::Snapshot, on_message) {
            Ok(job) => *self.job.borrow_mut() = Some(job),
            Err(_) => read_in_page(self, ticket, own_name, &blob, &own_tasks),
        }
    }

    pub fn open(&self, name: String, bytes: Vec<u8>) {
        let ticket = self.tickets.get() + 1;
        self.tickets.set(ticket);
        let state = self.state.clone();
        let tickets = self.tickets.clone();
        state.dispatch(Action::Open {
            ticket,
            name: name.clone(),
            size: bytes.len(),
        });
        wasm_bindgen_futures::spawn_local(async move {
            let size = bytes.len();
            let start = js_sys::Date::now();
            let result = match read_sliced(ticket, &tickets, bytes, &state).await {
                Ok(snapshot) => {
                    let read = js_sys::Date::now();
                    // Load, check and graph are separate steps, with the page given its turn
                    // between them.
                    let (store, mut findings) = storesnap_core::source::load(&snapshot);
                    TimeoutFuture::new(0).await;
                    findings.extend(storesnap_core::checks::check(&store));
                    storesnap_core::checks::sort_findings(&mut findings);
                    TimeoutFuture::new(0).await;
                    let mut loaded = Loaded::from_parts(
                        ticket,
                        &name,
                        size,
                        Some(snapshot.manifest.clone()),
                        store,
                        findings,
                    );
                    loaded.keep_raw(&snapshot);
                    loaded.timing = Some((read - start, js_sys::Date::now() - read));
                    Ok(Rc::new(loaded))
                }
                Err(e) => Err(format!("{name}: {e}")),
            };
            let selection = current_hash().selection;
            state.dispatch(Action::Opened {
                ticket,
                result,
                selection,
            });
        });
    }
}

/// Without a worker (a viewer hosted without its worker script), the page reads the snapshot
/// itself, under the same ticket unless a newer file was opened meanwhile.
fn read_in_page(
    opener: &Opener,
    ticket: u64,
    name: String,
    blob: &web_sys::Blob,
    tasks: &Rc<RefCell<Vec<FileReader>>>,
) {
    if opener.tickets.get() != ticket {
        return;
    }
    opener.tickets.set(ticket - 1);
    let opener = opener.clone();
    let whole = gloo::file::Blob::from(blob.clone());
    let task = gloo::file::callbacks::read_as_bytes(&whole, move |result| match result {
        Ok(bytes) => opener.open(name, bytes),
        Err(e) => opener
            .state
            .dispatch(Action::Failed(format!("could not read {name}: {e}"))),
    });
    tasks.borrow_mut().push(task);
}

/// Loads and checks a finished scan (small: the archive's metadata and digests) on the page.
fn finish_archive(
    state: UseReducerHandle<State>,
    ticket: u64,
    name: String,
    total: u64,
    start: f64,
    scan: archive::Scan,
    memory: Option<u64>,
) {
    state.dispatch(Action::Progress {
        ticket,
        progress: Progress {
            read: total,
            total,
            inflated: total,
        },
        stage: Stage::Checking,
    });
    wasm_bindgen_futures::spawn_local(async move {
        TimeoutFuture::new(0).await;
        let read = js_sys::Date::now();
        let result = archive::load(&scan)
            .map(|(store, mut findings)| {
                findings.extend(storesnap_core::checks::check(&store));
                storesnap_core::checks::sort_findings(&mut findings);
                let mut loaded =
                    Loaded::from_parts(ticket, &name, total as usize, None, store, findings);
                loaded.timing = Some((read - start, js_sys::Date::now() - read));
                loaded.worker_memory = memory;
                Rc::new(loaded)
            })
            .map_err(|e| format!("{name}: {e}"));
        state.dispatch(Action::Opened {
            ticket,
            result,
            selection: current_hash().selection,
        });
    });
}

/// Without a worker (a viewer hosted without its worker script), the page scans the archive
/// itself: whole, and only up to a size a tab can hold.
fn scan_in_page(
    state: UseReducerHandle<State>,
    ticket: u64,
    name: String,
    blob: web_sys::Blob,
    start: f64,
) {
    const MAX_IN_PAGE: f64 = 512.0 * 1024.0 * 1024.0;
    let total = blob.size() as u64;
    if blob.size() > MAX_IN_PAGE {
        state.dispatch(Action::Opened {
            ticket,
            result: Err(format!(
                "{name}: the worker that reads archives could not start, and the archive is too \
                 large to read in the page; serve the viewer with its worker script"
            )),
            selection: Selection::None,
        });
        return;
    }
    wasm_bindgen_futures::spawn_local(async move {
        let bytes = match wasm_bindgen_futures::JsFuture::from(blob.array_buffer()).await {
            Ok(buffer) => js_sys::Uint8Array::new(&buffer).to_vec(),
            Err(e) => {
                state.dispatch(Action::Opened {
                    ticket,
                    result: Err(format!("{name}: could not read it: {e:?}")),
                    selection: Selection::None,
                });
                return;
            }
        };
        match archive::scan(
            bytes.as_slice(),
            &archive::ScanLimits::default(),
            &mut |_| {},
        ) {
            Ok(scan) => finish_archive(state, ticket, name, total, start, scan, None),
            Err(e) => state.dispatch(Action::Opened {
                ticket,
                result: Err(format!("{name}: {e}")),
                selection: Selection::None,
            }),
        }
    });
}

/// Inflates in slices of about [`SLICE_MS`], reporting progress and yielding between them, so
/// the page repaints and stays responsive even while a hostile file runs into the size cap.
async fn read_sliced(
    ticket: u64,
    tickets: &Cell<u64>,
    bytes: Vec<u8>,
    state: &UseReducerHandle<State>,
) -> storesnap_core::Result<Snapshot> {
    let mut reader = SlicedReader::new(bytes, LIMITS)?;
    loop {
        if tickets.get() != ticket {
            // Another file was opened: stop inflating this one (its result would be dropped).
            return Err(storesnap_core::Error::Io(std::io::Error::other(
                "superseded",
            )));
        }
        let start = js_sys::Date::now();
        let mut done = false;
        while !done && js_sys::Date::now() - start < SLICE_MS {
            done = reader.step(256 << 10)?;
        }
        let stage = if done {
            Stage::Checking
        } else {
            Stage::Inflating
        };
        state.dispatch(Action::Progress {
            ticket,
            progress: reader.progress(),
            stage,
        });
        TimeoutFuture::new(0).await;
        if done {
            return reader.finish();
        }
    }
}

/// A callback that turns its value into an action for the reducer.
fn dispatch<T: 'static>(state: &UseReducerHandle<State>, action: fn(T) -> Action) -> Callback<T> {
    let state = state.clone();
    Callback::from(move |value| state.dispatch(action(value)))
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

/// Fetches a snapshot or archive the user linked to with `#url=…`: the only request the viewer
/// makes after it has loaded, and only because the link asked for it. The body comes as a Blob,
/// which the browser may keep on disk: an archive is then read in slices like a picked file.
pub async fn fetch_blob(url: &str) -> Result<web_sys::Blob, String> {
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
    JsFuture::from(response.blob().map_err(fail)?)
        .await
        .map_err(fail)?
        .dyn_into()
        .map_err(fail)
}

#[function_component(App)]
pub fn app() -> Html {
    let state = use_reducer(State::default);
    // Dropping a FileReader cancels the read, so the tasks live as long as the app.
    let tasks = use_mut_ref(Vec::<FileReader>::new);

    let opener = Opener {
        state: state.clone(),
        tickets: (*use_state(|| Rc::new(Cell::new(0u64)))).clone(),
        job: (*use_state(|| Rc::new(RefCell::new(None)))).clone(),
    };

    let on_file = {
        let (opener, tasks) = (opener.clone(), tasks.clone());
        Callback::from(move |file: web_sys::File| read_file(file, tasks.clone(), opener.clone()))
    };
    let on_demo = {
        let opener = opener.clone();
        Callback::from(move |_| opener.open("demo snapshot".into(), crate::DEMO.to_vec()))
    };
    // A link can open the viewer with data in it: `#demo`, or `#url=<address of a snapshot>`.
    {
        let (on_demo, opener, tasks) = (on_demo.clone(), opener.clone(), tasks.clone());
        use_effect_with((), move |_| match current_hash().source {
            Some(Source::Demo) => on_demo.emit(()),
            Some(Source::Url(raw)) => {
                let url = Source::address(&raw);
                opener.state.dispatch(Action::Fetching(url.clone()));
                wasm_bindgen_futures::spawn_local(async move {
                    match fetch_blob(&url).await {
                        Ok(blob) => open_blob(url, blob, tasks, opener),
                        Err(message) => opener.state.dispatch(Action::Failed(message)),
                    }
                });
            }
            None => {}
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
    let on_select = dispatch(&state, Action::Select);
    let on_toggle = dispatch(&state, Action::Toggle);
    let on_filter = dispatch(&state, Action::Filter);
    let on_view = dispatch(&state, Action::SetView);
    let on_sort = dispatch(&state, Action::Sort);
    let on_copy = {
        let state = state.clone();
        Callback::from(move |text: String| {
            let state = state.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let notice = match copy_text(&text).await {
                    Ok(()) => "Copied.".to_owned(),
                    Err(e) => format!("Could not copy ({e}): select the text below instead."),
                };
                state.dispatch(Action::Notice(notice));
            });
        })
    };
    let on_toggle_all = dispatch(&state, |()| Action::ToggleAllImages);
    let on_severity = dispatch(&state, Action::ShowSeverity);

    html! {
        <div class="app" {ondragover} {ondrop}>
            <header class="bar">
                <h1>{ "storesnap" }</h1>
                <Loader {on_file} {on_demo} />
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
                        <ContainerdPane loaded={loaded.clone()} selection={state.selection.clone()} />
                        <Timeline loaded={loaded.clone()} selection={state.selection.clone()} on_select={on_select.clone()} />
                    </aside>
                    <section class="lower">
                        <Images loaded={loaded.clone()} filter={state.filter.clone()} selection={state.selection.clone()}
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
