//! Files are read in a Web Worker, so the page's thread stays free to draw, and the page's
//! wasm carries no reader at all: no gzip, no zstd, no tar, no loader, no check.
//!
//! - The worker sniffs what it is given. A snapshot is inflated, loaded, checked and laid out;
//!   a `docker save` archive (it may be gigabytes) is read in slices (`Blob.slice` through
//!   `FileReaderSync`, so it is never whole in memory), hashed in the core's one-pass scan,
//!   then loaded, checked and laid out. At 15,000 layers each step would hold the page for
//!   hundreds of milliseconds.
//! - Either way the worker posts the results as JSON in parts, which the page parses one per
//!   task ([`assemble`]); then it surveys wasted space while the page draws.
//!
//! This module is the protocol between the two: [`start`] on the page, [`serve`] in the worker.

use std::cell::{Cell, RefCell};
use std::io::{self, Read};
use std::rc::Rc;

mod parts;
mod read;

pub use parts::{assemble, Later, Parts, Reply};
pub use read::read;

use serde::{Deserialize, Serialize};
use storesnap_core::source::archive::Scan;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, DedicatedWorkerGlobalScope, FileReaderSync, MessageEvent, Worker};

/// The worker's script, as Trunk writes it (`data-type="worker"` with `data-loader-shim` in
/// index.html), beside the page.
pub const SCRIPT: &str = "./storesnap-worker_loader.js";

thread_local! {
    static SCRIPT_URL: RefCell<String> = RefCell::new(SCRIPT.to_owned());
}

/// Where the page starts its worker from, for a viewer whose worker is not beside the page
/// (the browser tests serve it from elsewhere).
pub fn set_script(url: &str) {
    SCRIPT_URL.with(|s| *s.borrow_mut() = url.to_owned());
    // A spare started from another script is not this viewer's worker.
    SPARE.with(|s| s.borrow_mut().take());
}

/// What the page asks the worker to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Read a file, snapshot or archive, then survey its wasted space.
    Open,
    /// Read a file to compare with the one open: no survey.
    Compare,
    /// Read the demo snapshot, which the worker carries.
    Demo,
}

impl Job {
    fn as_str(self) -> &'static str {
        match self {
            Job::Open => "open",
            Job::Compare => "compare",
            Job::Demo => "demo",
        }
    }
}

/// What the worker tells the page, as JSON.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Message {
    /// The worker has loaded its wasm and listens: a message posted before that would be lost.
    Ready,
    /// Bytes of the file read so far, and for a snapshot how many they inflated to (an
    /// archive is hashed, not inflated).
    Progress {
        read: u64,
        #[serde(default)]
        inflated: Option<u64>,
    },
    /// The file is read; it is being loaded and checked.
    Checking,
    /// The file loaded and checked: `parts` names the JSON texts posted with this message,
    /// in order (see [`Parts`]).
    Loaded {
        parts: Vec<String>,
        read_ms: f64,
        check_ms: f64,
        /// The graph and its layout, after the check.
        #[serde(default)]
        layout_ms: f64,
        memory: u64,
        /// The texts themselves (UTF-8 in transferred `Uint8Array`s), which travel beside the
        /// message, not in it: the page copies them out one at a time.
        #[serde(skip)]
        texts: Vec<JsValue>,
    },
    /// After `Loaded`: the store's wasted-space survey, and what file trees are read from:
    /// an archive's scan, or a snapshot's tar-splits beside the message in a transferred
    /// buffer.
    Surveyed {
        survey: Box<storesnap_core::files::efficiency::Survey>,
        #[serde(default)]
        scan: Option<Box<Scan>>,
        #[serde(skip)]
        tar_splits: Option<JsValue>,
    },
    Failed {
        message: String,
    },
    /// The worker could not start (its script is not served, say).
    Unavailable {
        message: String,
    },
    /// A spare worker has run the demo through its code, so V8 has compiled and begun
    /// optimizing what reading a file runs.
    Warmed,
}

/// A file being read; dropping it stops the worker.
pub struct Running {
    worker: Worker,
    _onmessage: Closure<dyn FnMut(MessageEvent)>,
    _onerror: Closure<dyn FnMut(web_sys::Event)>,
    /// Gives up on a worker that never says it is ready.
    _ready: std::rc::Rc<std::cell::RefCell<Option<gloo::timers::callback::Timeout>>>,
}

/// How long a worker may take to load before the page gives up on it.
const READY_MS: u32 = 5_000;

impl Drop for Running {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

/// Starts a worker and hands it the job (and `blob`, the file, for all but the demo) once it
/// is ready; `on_message` gets its progress and its result. A worker that fails to load
/// reports that as [`Message::Unavailable`], so the page never waits forever.
pub fn start(
    blob: Option<&Blob>,
    job: Job,
    on_message: impl FnMut(Message) + 'static,
) -> Result<Running, String> {
    let spare = SPARE.with(|s| s.borrow_mut().take());
    let taken = spare
        .filter(|s| !s.failed.get())
        .and_then(|mut s| Some((s.worker.take()?, s.ready.get())));
    let (worker, ready_already) = match taken {
        Some(taken) => taken,
        None => {
            let script = SCRIPT_URL.with(|s| s.borrow().clone());
            let worker =
                Worker::new(&script).map_err(|e| format!("could not start the worker: {e:?}"))?;
            (worker, false)
        }
    };
    let on_message = std::rc::Rc::new(std::cell::RefCell::new(on_message));
    let to_worker = worker.clone();
    let blob: JsValue = blob.map_or(JsValue::UNDEFINED, |b| b.clone().into());
    let report = on_message.clone();
    let ready: std::rc::Rc<std::cell::RefCell<Option<gloo::timers::callback::Timeout>>> =
        Default::default();
    let give_up = {
        let (report, worker) = (on_message.clone(), worker.clone());
        gloo::timers::callback::Timeout::new(READY_MS, move || {
            worker.terminate();
            (report.borrow_mut())(Message::Unavailable {
                message: "the worker that reads files did not start".into(),
            });
        })
    };
    *ready.borrow_mut() = Some(give_up);
    let waiting = ready.clone();
    let hand_over = move || {
        // Dropping the timeout cancels it.
        waiting.borrow_mut().take();
        let request = js_sys::Array::of2(&JsValue::from_str(job.as_str()), &blob);
        if let Err(e) = to_worker.post_message(&request) {
            (report.borrow_mut())(Message::Failed {
                message: format!("could not hand the file to the worker: {e:?}"),
            });
        }
    };
    let mut hand_over = Some(hand_over);
    if ready_already {
        // A spare that is ready: it takes the job after its warm-up, if that is still running.
        if let Some(hand_over) = hand_over.take() {
            hand_over();
        }
    }
    let report = on_message.clone();
    let onmessage =
        Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| match receive(&e) {
            Message::Ready => {
                if let Some(hand_over) = hand_over.take() {
                    hand_over();
                }
            }
            Message::Warmed => {}
            message => (report.borrow_mut())(message),
        });
    let cancel = ready.clone();
    let onerror = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
        if cancel.borrow_mut().take().is_none() {
            // Already given up on, or past its start: a scan's own failure is a message.
            return;
        }
        let detail = e
            .dyn_ref::<web_sys::ErrorEvent>()
            .map(|e| e.message())
            .unwrap_or_default();
        (on_message.borrow_mut())(Message::Unavailable {
            message: format!("the worker that reads files failed: {detail}"),
        });
    });
    worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
    Ok(Running {
        worker,
        _onmessage: onmessage,
        _onerror: onerror,
        _ready: ready,
    })
}

/// A message from the worker: its JSON text, or an array of it and the texts it carries.
fn receive(e: &MessageEvent) -> Message {
    let data = e.data();
    let (text, texts) = match data.dyn_ref::<js_sys::Array>() {
        Some(array) => {
            let mut all = array.iter();
            let head = all.next().and_then(|v| v.as_string()).unwrap_or_default();
            (head, all.collect())
        }
        None => (data.as_string().unwrap_or_default(), Vec::new()),
    };
    let mut message = serde_json::from_str(&text).unwrap_or_else(|e| Message::Failed {
        message: format!("the worker sent something unreadable: {e}"),
    });
    match &mut message {
        Message::Loaded { texts: carried, .. } => *carried = texts,
        Message::Surveyed { tar_splits, .. } => *tar_splits = texts.into_iter().next(),
        _ => {}
    }
    message
}

/// A worker started before it is needed, which warms itself on the demo while the user picks a
/// file. V8 compiles wasm a function at a time on first call, and optimizes only what has run
/// hot: a fresh worker read and checked a 1,600-layer snapshot in 382 ms, one warmed on the
/// demo five times in about 200 ms, and one warmed a hundred times in 105 ms.
struct Spare {
    /// Taken out when it gets a job; terminated when it is dropped unused.
    worker: Option<Worker>,
    /// Whether it has said it is ready (and been asked to warm up).
    ready: Rc<Cell<bool>>,
    /// Whether it failed to load: it is not handed a job then.
    failed: Rc<Cell<bool>>,
    _onmessage: Closure<dyn FnMut(MessageEvent)>,
    _onerror: Closure<dyn FnMut(web_sys::Event)>,
}

thread_local! {
    static SPARE: RefCell<Option<Spare>> = const { RefCell::new(None) };
}

/// Starts a spare worker unless one is waiting; `on_warm` is called once it has warmed up.
/// The next [`start`] hands it its job.
pub fn prepare(on_warm: impl FnOnce() + 'static) {
    if SPARE.with(|s| s.borrow().is_some()) {
        return;
    }
    let script = SCRIPT_URL.with(|s| s.borrow().clone());
    let Ok(worker) = Worker::new(&script) else {
        return;
    };
    let (ready, failed) = (Rc::new(Cell::new(false)), Rc::new(Cell::new(false)));
    let (is_ready, to_worker) = (ready.clone(), worker.clone());
    let mut on_warm = Some(on_warm);
    let onmessage =
        Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| match receive(&e) {
            Message::Ready => {
                is_ready.set(true);
                let _ = to_worker.post_message(&js_sys::Array::of1(&JsValue::from_str(WARM)));
            }
            Message::Warmed => {
                if let Some(on_warm) = on_warm.take() {
                    on_warm();
                }
            }
            _ => {}
        });
    let has_failed = failed.clone();
    let onerror = Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| {
        has_failed.set(true);
    });
    worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
    SPARE.with(|s| {
        *s.borrow_mut() = Some(Spare {
            worker: Some(worker),
            ready,
            failed,
            _onmessage: onmessage,
            _onerror: onerror,
        })
    });
}

impl Drop for Spare {
    fn drop(&mut self) {
        if let Some(worker) = &self.worker {
            worker.terminate();
        }
    }
}

/// What the page posts to warm a spare worker.
const WARM: &str = "warm";

/// How many times a spare reads a demo, the graph-driver and the containerd one in turn. V8
/// optimizes a function once it has run enough, and a running call keeps the code it started
/// with: a check called once per file, looping over every layer, runs unoptimized through all
/// 15,000 layers unless the demo's 30 have been looped over a hundred times first. About a
/// second, in tasks of about 10 ms (browsers hold each chained timeout back 4 ms), stopped by
/// any job.
const WARM_RUNS: usize = 200;
/// How long one warm-up task runs: as long as a job may wait for it.
const WARM_TASK_MS: f64 = 10.0;

thread_local! {
    /// Demo runs left to warm up with; a job sets it to 0.
    static WARM_LEFT: Cell<usize> = const { Cell::new(0) };
}

/// Reads the demo for about [`WARM_TASK_MS`] (once at least), and goes on in a later task, so
/// that a job waits for at most one task, until [`WARM_LEFT`] runs out; then tells the page.
fn warm_up(scope: DedicatedWorkerGlobalScope) {
    let start = js_sys::Date::now();
    loop {
        let left = WARM_LEFT.with(Cell::get);
        if left == 0 {
            return;
        }
        let demo = if left.is_multiple_of(2) {
            crate::DEMO
        } else {
            crate::CONTAINERD_DEMO
        };
        let _ = read(demo, &|_| {});
        WARM_LEFT.with(|w| w.set(left - 1));
        if left == 1 {
            post_message(&scope, &Message::Warmed, Vec::new());
            return;
        }
        if js_sys::Date::now() - start >= WARM_TASK_MS {
            break;
        }
    }
    gloo::timers::callback::Timeout::new(0, move || warm_up(scope)).forget();
}

/// In the worker: does each job the page posts.
pub fn serve() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let post_scope = scope.clone();
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        let post = |m: &Message| post_message(&post_scope, m, Vec::new());
        let request = e.data().dyn_into::<js_sys::Array>().ok();
        let job = request.as_ref().and_then(|r| r.get(0).as_string());
        let blob = request.and_then(|r| r.get(1).dyn_into::<Blob>().ok());
        if job.as_deref() != Some(WARM) {
            // The job is what the warm-up was for: it stops, unfinished or not.
            WARM_LEFT.with(|w| w.set(0));
        }
        let result = match (job.as_deref(), blob, FileReaderSync::new()) {
            (Some(WARM), _, _) => {
                WARM_LEFT.with(|w| w.set(WARM_RUNS));
                warm_up(post_scope.clone());
                return;
            }
            (Some("demo"), _, _) => read(crate::DEMO, &post),
            (Some(job @ ("open" | "compare")), Some(blob), Ok(reader)) => {
                read(BlobReader::new(blob, reader), &post).map(|mut reply| {
                    if job == "compare" {
                        reply.later = None;
                    }
                    reply
                })
            }
            _ => Err("the worker was given something other than a file".to_owned()),
        };
        match result {
            Ok(Reply {
                message,
                texts,
                later,
            }) => {
                post_message(&post_scope, &message, texts);
                if let Some(later) = later {
                    let (message, tar_splits) = later.run();
                    post_message(&post_scope, &message, vec![tar_splits]);
                }
            }
            Err(message) => post(&Message::Failed { message }),
        }
    });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    post_message(&scope, &Message::Ready, Vec::new());
}

/// Posts `message` as JSON, with `texts` beside it: each in a buffer that is transferred, not
/// copied, so the page's thread pays nothing to receive megabytes.
fn post_message(scope: &DedicatedWorkerGlobalScope, message: &Message, texts: Vec<Vec<u8>>) {
    let json = JsValue::from_str(&serde_json::to_string(message).unwrap_or_default());
    if texts.is_empty() {
        let _ = scope.post_message(&json);
        return;
    }
    let parts = js_sys::Array::of1(&json);
    let transfer = js_sys::Array::new();
    for text in texts {
        let bytes = js_sys::Uint8Array::from(text.as_slice());
        transfer.push(&bytes.buffer());
        parts.push(&bytes);
    }
    let _ = scope.post_message_with_transfer(&parts, &transfer);
}

pub(crate) fn wasm_memory() -> u64 {
    wasm_bindgen::memory()
        .unchecked_into::<js_sys::WebAssembly::Memory>()
        .buffer()
        .unchecked_into::<js_sys::ArrayBuffer>()
        .byte_length() as u64
}

/// A Blob read in slices, synchronously (workers may block). Each slice costs a call into the
/// browser and an ArrayBuffer, so slices are large and served from a buffer.
struct BlobReader {
    blob: Blob,
    reader: FileReaderSync,
    at: f64,
    buf: Vec<u8>,
    pos: usize,
}

/// Bytes per slice.
const SLICE: f64 = 8.0 * 1024.0 * 1024.0;

impl BlobReader {
    fn new(blob: Blob, reader: FileReaderSync) -> BlobReader {
        BlobReader {
            blob,
            reader,
            at: 0.0,
            buf: Vec::new(),
            pos: 0,
        }
    }
}

impl Read for BlobReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.buf.len() {
            let end = (self.at + SLICE).min(self.blob.size());
            if end <= self.at {
                return Ok(0);
            }
            let fail = |e: JsValue| io::Error::other(format!("reading the file: {e:?}"));
            let slice = self
                .blob
                .slice_with_f64_and_f64(self.at, end)
                .map_err(fail)?;
            let buffer = self.reader.read_as_array_buffer(&slice).map_err(fail)?;
            let bytes = js_sys::Uint8Array::new(&buffer);
            self.buf.resize(bytes.length() as usize, 0);
            bytes.copy_to(&mut self.buf);
            self.pos = 0;
            self.at += self.buf.len() as f64;
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
