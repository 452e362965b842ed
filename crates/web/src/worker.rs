//! `docker save` archives are hashed in a Web Worker: gigabytes of layers would hold the page's
//! thread for seconds. The worker reads the File in slices (`Blob.slice` through
//! `FileReaderSync`, so the archive is never whole in memory), runs the core's one-pass scan,
//! and posts progress and then the scan; the page loads and checks the scan, which is small.
//!
//! This module is the protocol between the two: [`start`] on the page, [`serve`] in the worker.

use std::io::{self, Read};

use serde::{Deserialize, Serialize};
use storesnap_core::source::archive::{self, Scan, ScanLimits};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, DedicatedWorkerGlobalScope, FileReaderSync, MessageEvent, Worker};

/// The worker's script, as Trunk writes it (`data-type="worker"` with `data-loader-shim` in
/// index.html).
pub const SCRIPT: &str = "./storesnap-worker_loader.js";

/// What the worker tells the page, as JSON.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Message {
    /// The worker has loaded its wasm and listens: a message posted before that would be lost.
    Ready,
    /// Bytes of the archive read so far.
    Progress {
        read: u64,
    },
    Done {
        scan: Box<Scan>,
        /// The worker's wasm memory at the end, in bytes (its peak: wasm memory never shrinks).
        memory: u64,
    },
    Failed {
        message: String,
    },
    /// The worker could not start (its script is not served, say): the page reads the file
    /// itself instead.
    Unavailable {
        message: String,
    },
}

/// A scan under way; dropping it stops the worker.
pub struct Job {
    worker: Worker,
    _onmessage: Closure<dyn FnMut(MessageEvent)>,
    _onerror: Closure<dyn FnMut(web_sys::Event)>,
    /// Gives up on a worker that never says it is ready.
    _ready: std::rc::Rc<std::cell::RefCell<Option<gloo::timers::callback::Timeout>>>,
}

/// How long a worker may take to load before the page reads the file itself.
const READY_MS: u32 = 5_000;

impl Drop for Job {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

/// Starts a worker and hands it `blob` once it is ready; `on_message` gets its progress and
/// its result. A worker that fails to load reports that as a failure, so the page never waits
/// forever.
pub fn start(blob: &Blob, on_message: impl FnMut(Message) + 'static) -> Result<Job, String> {
    let worker = Worker::new(SCRIPT).map_err(|e| format!("could not start the worker: {e:?}"))?;
    let on_message = std::rc::Rc::new(std::cell::RefCell::new(on_message));
    let (to_worker, blob) = (worker.clone(), blob.clone());
    let report = on_message.clone();
    let ready: std::rc::Rc<std::cell::RefCell<Option<gloo::timers::callback::Timeout>>> =
        Default::default();
    let give_up = {
        let (report, worker) = (on_message.clone(), worker.clone());
        gloo::timers::callback::Timeout::new(READY_MS, move || {
            worker.terminate();
            (report.borrow_mut())(Message::Unavailable {
                message: "the worker that hashes archives did not start".into(),
            });
        })
    };
    *ready.borrow_mut() = Some(give_up);
    let waiting = ready.clone();
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        let text = e.data().as_string().unwrap_or_default();
        let message = serde_json::from_str(&text).unwrap_or_else(|e| Message::Failed {
            message: format!("the worker sent something unreadable: {e}"),
        });
        if let Message::Ready = message {
            // Dropping the timeout cancels it.
            waiting.borrow_mut().take();
            if let Err(e) = to_worker.post_message(&blob) {
                (report.borrow_mut())(Message::Failed {
                    message: format!("could not hand the file to the worker: {e:?}"),
                });
            }
            return;
        }
        (report.borrow_mut())(message);
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
            message: format!("the worker that hashes archives failed: {detail}"),
        });
    });
    worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
    Ok(Job {
        worker,
        _onmessage: onmessage,
        _onerror: onerror,
        _ready: ready,
    })
}

/// In the worker: scans each Blob the page posts.
pub fn serve() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let post_scope = scope.clone();
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        let post = |m: &Message| {
            let text = serde_json::to_string(m).unwrap_or_default();
            let _ = post_scope.post_message(&JsValue::from_str(&text));
        };
        let result = match (e.data().dyn_into::<Blob>(), FileReaderSync::new()) {
            (Ok(blob), Ok(reader)) => {
                let input = BlobReader::new(blob, reader);
                archive::scan(input, &ScanLimits::default(), &mut |read| {
                    post(&Message::Progress { read })
                })
                .map_err(|e| e.to_string())
            }
            _ => Err("the worker was given something other than a file".into()),
        };
        post(&match result {
            Ok(scan) => Message::Done {
                scan: Box::new(scan),
                memory: wasm_memory(),
            },
            Err(message) => Message::Failed { message },
        });
    });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    let ready = serde_json::to_string(&Message::Ready).unwrap_or_default();
    let _ = scope.post_message(&JsValue::from_str(&ready));
}

fn wasm_memory() -> u64 {
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
