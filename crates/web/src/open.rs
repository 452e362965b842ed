//! Opening a file: it is sniffed, handed to the worker (a snapshot to read, load, check and lay
//! out; an archive to hash), or read on the page where no worker can start. Each opening gets a
//! ticket, so a slow file opened first never replaces a later one.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo::file::callbacks::FileReader;
use gloo::timers::future::TimeoutFuture;
use storesnap_core::source::archive;
use storesnap_core::{Progress, SlicedReader, Snapshot};
use yew::prelude::*;

use crate::app::current_hash;
use crate::files::{FilesData, Listing};
use crate::state::{Action, Loaded, Selection, Stage, State, LIMITS};
use crate::worker;

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
    /// Takes the next ticket and shows the file as being read.
    fn begin(&self, name: &str, size: usize) -> u64 {
        let ticket = self.tickets.get() + 1;
        self.tickets.set(ticket);
        self.state.dispatch(Action::Open {
            ticket,
            name: name.to_owned(),
            size,
        });
        ticket
    }

    /// Hashes an archive in the worker, showing its progress, then loads and checks the scan.
    /// Where no worker can start, the page reads the file itself.
    pub fn open_archive(&self, name: String, blob: web_sys::Blob) {
        let total = blob.size() as u64;
        let ticket = self.begin(&name, total as usize);
        let state = self.state.clone();
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
            worker::Message::Ready
            | worker::Message::Checking
            | worker::Message::Loaded { .. }
            | worker::Message::Surveyed { .. } => {}
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
        let total = blob.size() as u64;
        let ticket = self.begin(&name, total as usize);
        let state = self.state.clone();
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
            worker::Message::Surveyed { survey, tar_splits } => {
                let bytes = tar_splits
                    .and_then(|t| wasm_bindgen::JsCast::dyn_into::<js_sys::Uint8Array>(t).ok())
                    .map(|b| b.to_vec())
                    .unwrap_or_default();
                let listing = Listing::TarSplits(Listing::decode(&bytes));
                state.dispatch(Action::Files(Rc::new(FilesData::new(
                    ticket, listing, *survey,
                ))));
            }
            worker::Message::Ready | worker::Message::Done { .. } => {}
        };
        match worker::start(&blob, worker::Job::Snapshot, on_message) {
            Ok(job) => *self.job.borrow_mut() = Some(job),
            Err(_) => read_in_page(self, ticket, own_name, &blob, &own_tasks),
        }
    }

    /// Reads, loads and checks a snapshot on the page, in steps.
    pub fn open(&self, name: String, bytes: Vec<u8>) {
        let ticket = self.begin(&name, bytes.len());
        self.open_with_ticket(ticket, name, bytes);
    }

    /// The same under a ticket already taken (a worker that could not start hands its file on).
    fn open_with_ticket(&self, ticket: u64, name: String, bytes: Vec<u8>) {
        let state = self.state.clone();
        let tickets = self.tickets.clone();
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
                    Ok((Rc::new(loaded), Listing::of_snapshot(&snapshot)))
                }
                Err(e) => Err(format!("{name}: {e}")),
            };
            let selection = current_hash().selection;
            let (result, listing) = match result {
                Ok((loaded, listing)) => (Ok(loaded), Some(listing)),
                Err(e) => (Err(e), None),
            };
            let surveyed = result.as_ref().ok().cloned().zip(listing);
            state.dispatch(Action::Opened {
                ticket,
                result,
                selection,
            });
            if let Some((loaded, listing)) = surveyed {
                survey_later(&state, &loaded, listing).await;
            }
        });
    }
}

/// Without a worker (a viewer hosted without its worker script), the page reads the snapshot
/// itself, under the same ticket, unless a newer file was opened meanwhile.
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
    let opener = opener.clone();
    let whole = gloo::file::Blob::from(blob.clone());
    let task = gloo::file::callbacks::read_as_bytes(&whole, move |result| match result {
        Ok(bytes) => opener.open_with_ticket(ticket, name, bytes),
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
        let loaded = archive::load(&scan)
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
            result: loaded.clone(),
            selection: current_hash().selection,
        });
        if let Ok(loaded) = loaded {
            survey_later(&state, &loaded, Listing::Archive(Box::new(scan))).await;
        }
    });
}

/// Surveys wasted space on the page, after the snapshot is drawn: for archives, whose layers
/// were listed while they were hashed, and where no worker runs.
async fn survey_later(state: &UseReducerHandle<State>, loaded: &Rc<Loaded>, listing: Listing) {
    TimeoutFuture::new(0).await;
    let survey = listing.survey(&loaded.store);
    state.dispatch(Action::Files(Rc::new(FilesData::new(
        loaded.ticket,
        listing,
        survey,
    ))));
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
