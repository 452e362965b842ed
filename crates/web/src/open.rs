//! Opening a file: it is handed to the worker, which tells a snapshot from an archive, reads,
//! loads, checks and lays it out, and posts the results in parts. Each opening gets a ticket,
//! so a slow file opened first never replaces a later one.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use storesnap_core::Progress;
use yew::prelude::*;

use crate::app::current_hash;
use crate::compare::Compared;
use crate::files::{FilesData, Listing};
use crate::state::{Action, Loaded, Selection, Stage, State, Timing};
use crate::worker::{self, Job, Message};

/// What the page says when no worker can start: it has no reader of its own.
const NO_WORKER: &str = "serve the viewer with its worker script (storesnap-worker_loader.js, \
     storesnap-worker.js and storesnap-worker_bg.wasm beside index.html), as `trunk build` \
     writes it and `storesnap view` serves it";

/// Opens snapshots: each gets a ticket, so a slow one opened first cannot replace a later one.
#[derive(Clone)]
pub struct Opener {
    pub state: UseReducerHandle<State>,
    pub tickets: Rc<Cell<u64>>,
    /// The worker reading the open file, if any: a newer file replaces (and stops) it.
    pub job: Rc<RefCell<Option<worker::Running>>>,
    /// The worker reading a file to compare with the open one.
    pub compare_job: Rc<RefCell<Option<worker::Running>>>,
}

impl Opener {
    /// Opens a snapshot or an archive held by a Blob (a picked or dropped File, or a fetched
    /// body).
    pub fn open_blob(&self, name: String, blob: web_sys::Blob) {
        let ticket = self.begin(&name, blob.size() as u64);
        self.start(Some(&blob), Job::Open, ticket, name, blob.size() as u64);
    }

    /// Opens the demo snapshot, which the worker carries.
    pub fn open_demo(&self) {
        let name = "demo snapshot".to_owned();
        let ticket = self.begin(&name, 0);
        self.start(None, Job::Demo, ticket, name, 0);
    }

    /// Takes the next ticket and shows the file as being read.
    fn begin(&self, name: &str, size: u64) -> u64 {
        let ticket = self.tickets.get() + 1;
        self.tickets.set(ticket);
        self.state.dispatch(Action::Open {
            ticket,
            name: name.to_owned(),
            size: size as usize,
        });
        ticket
    }

    /// Hands the file to a new worker, shows its progress, then takes its parts in.
    fn start(&self, blob: Option<&web_sys::Blob>, job: Job, ticket: u64, name: String, total: u64) {
        let state = self.state.clone();
        let failed = {
            let (state, name) = (state.clone(), name.clone());
            move |message: String| {
                state.dispatch(Action::Opened {
                    ticket,
                    result: Err(format!("{name}: {message}")),
                    selection: Selection::None,
                })
            }
        };
        let on_failed = failed.clone();
        let on_message = move |message: Message| match message {
            Message::Progress { read, inflated } => state.dispatch(Action::Progress {
                ticket,
                progress: Progress {
                    read,
                    total,
                    inflated: inflated.unwrap_or(read),
                },
                // An archive is hashed as it streams; a snapshot is inflated.
                stage: if inflated.is_some() {
                    Stage::Inflating
                } else {
                    Stage::Hashing
                },
            }),
            Message::Checking => state.dispatch(Action::Progress {
                ticket,
                progress: Progress {
                    read: total,
                    total,
                    inflated: total,
                },
                stage: Stage::Checking,
            }),
            Message::Loaded {
                parts,
                read_ms,
                check_ms,
                layout_ms,
                memory,
                texts,
            } => {
                let (state, name) = (state.clone(), name.clone());
                // The next file gets a warm worker too, made while the page takes this in.
                prepare_spare(&state);
                wasm_bindgen_futures::spawn_local(async move {
                    let result =
                        worker::assemble(ticket, &name, total as usize, &parts, texts).await;
                    let result = result
                        .map(|mut loaded| {
                            loaded.timing = Some(Timing {
                                read_ms,
                                check_ms,
                                layout_ms,
                            });
                            loaded.worker_memory = Some(memory);
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
            Message::Surveyed {
                survey,
                scan,
                tar_splits,
            } => {
                let listing = match scan {
                    Some(scan) => Listing::Archive(scan),
                    None => {
                        let bytes = tar_splits
                            .and_then(|t| {
                                wasm_bindgen::JsCast::dyn_into::<js_sys::Uint8Array>(t).ok()
                            })
                            .map(|b| b.to_vec())
                            .unwrap_or_default();
                        Listing::TarSplits(Listing::decode(&bytes))
                    }
                };
                state.dispatch(Action::Files(Rc::new(FilesData::new(
                    ticket, listing, *survey,
                ))));
            }
            Message::Unavailable { message } => failed(format!("{message}: {NO_WORKER}")),
            Message::Failed { message } => failed(message),
            Message::Ready | Message::Warmed => {}
        };
        match worker::start(blob, job, on_message) {
            Ok(running) => *self.job.borrow_mut() = Some(running),
            Err(e) => on_failed(format!("{e}: {NO_WORKER}")),
        }
    }

    /// Reads `file` in a worker of its own and compares `loaded` with it, as
    /// `storesnap diff OPEN FILE` would.
    pub fn compare(&self, loaded: Rc<Loaded>, file: web_sys::File) {
        let name = file.name();
        let state = self.state.clone();
        let done = {
            let (state, loaded, name) = (state.clone(), loaded.clone(), name.clone());
            move |result: Result<Loaded, String>| {
                let result = result.map(|second| crate::compare::compare(&loaded, &second));
                state.dispatch(Action::Compare(Some(Rc::new(Compared {
                    ticket: loaded.ticket,
                    name: name.clone(),
                    result: result.map_err(|e| format!("{name}: {e}")),
                }))));
            }
        };
        let on_failed = done.clone();
        let size = file.size() as usize;
        let on_message = move |message: Message| match message {
            Message::Loaded { parts, texts, .. } => {
                let (done, name) = (done.clone(), name.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    done(worker::assemble(0, &name, size, &parts, texts).await);
                });
            }
            Message::Failed { message } => done(Err(message)),
            Message::Unavailable { message } => done(Err(format!("{message}: {NO_WORKER}"))),
            _ => {}
        };
        match worker::start(Some(&file), Job::Compare, on_message) {
            Ok(running) => *self.compare_job.borrow_mut() = Some(running),
            Err(e) => on_failed(Err(format!("{e}: {NO_WORKER}"))),
        }
    }
}

/// Has a spare worker warm up for the next file (see `worker::prepare`).
pub fn prepare_spare(state: &UseReducerHandle<State>) {
    let state = state.clone();
    worker::prepare(move || state.dispatch(Action::Warmed));
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
