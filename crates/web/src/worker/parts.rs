//! A loaded store handed from the worker to the page in parts.
//!
//! The worker posts what it read, loaded, checked and laid out ([`split`]) as JSON texts of
//! bounded size: the store's layers and images in chunks, the rest whole. The page parses one
//! text per task ([`assemble`]), so no task holds it for long, whatever the store's size.

use std::collections::BTreeMap;
use std::rc::Rc;

use gloo::timers::future::TimeoutFuture;
use storesnap_core::docker::ImageUsage;
use storesnap_core::graph::{LayerGraph, LayerNode, Layout};
use storesnap_core::source::archive::Scan;
use storesnap_core::store::{DriverDir, Image, Layer};
use storesnap_core::{ChainId, Finding, Manifest, Store};
use wasm_bindgen::JsCast;

use super::Message;
use crate::files::Listing;
use crate::state::{Loaded, Timing};

/// Items per chunk: about a megabyte of JSON each.
const LAYERS_PER_PART: usize = 4000;
const IMAGES_PER_PART: usize = 200;
const NODES_PER_PART: usize = 4000;
const DIRS_PER_PART: usize = 2000;

/// What the parts of a loaded snapshot are called.
pub struct Parts;

impl Parts {
    pub const MANIFEST: &'static str = "manifest";
    pub const STORE: &'static str = "store";
    pub const LAYERS: &'static str = "layers";
    pub const IMAGES: &'static str = "images";
    pub const FINDINGS: &'static str = "findings";
    pub const NODES: &'static str = "graph-nodes";
    pub const ROOTS: &'static str = "graph-roots";
    pub const LAYOUT: &'static str = "layout";
    pub const USAGE: &'static str = "usage";
    pub const RAW: &'static str = "raw";
    pub const DRIVER_DIRS: &'static str = "driver-dirs";
    pub const LINKS: &'static str = "links";
    pub const REPORT: &'static str = "report";
    pub const DISK_USE: &'static str = "disk-use";
}

/// What the worker does once the page has the store: survey wasted space, which reads every
/// layer's file list, while the page draws.
pub struct Later {
    pub store: Store,
    pub lists: Lists,
}

/// Where layers' file lists are read from.
pub enum Lists {
    /// The snapshot's tar-splits, which its first read left unread.
    Snapshot(super::read::Shared),
    /// An archive's scan, which listed each layer tar's entries.
    Archive(Box<Scan>),
}

impl Later {
    /// The survey, and the tar-splits for the page's file trees (an archive's scan goes in
    /// the message).
    pub fn run(self) -> (Message, Vec<u8>) {
        let listing = match self.lists {
            Lists::Snapshot(bytes) => super::read::tar_splits(bytes),
            Lists::Archive(scan) => Listing::Archive(scan),
        };
        let survey = Box::new(listing.survey(&self.store));
        match listing {
            Listing::TarSplits(files) => (
                Message::Surveyed {
                    survey,
                    scan: None,
                    tar_splits: None,
                },
                Listing::encode(files),
            ),
            Listing::Archive(scan) => (
                Message::Surveyed {
                    survey,
                    scan: Some(scan),
                    tar_splits: None,
                },
                Vec::new(),
            ),
            Listing::None => (
                Message::Surveyed {
                    survey,
                    scan: None,
                    tar_splits: None,
                },
                Vec::new(),
            ),
        }
    }
}

/// A file read, loaded, checked and laid out in the worker, and the clock's readings.
pub struct Analyzed {
    pub loaded: Loaded,
    pub placed: Layout,
    pub lists: Lists,
    pub timing: Timing,
}

/// What the worker posts once it has loaded a file, and what it does after.
pub struct Reply {
    /// [`Message::Loaded`], naming the texts.
    pub message: Message,
    /// The parts, as JSON.
    pub texts: Vec<Vec<u8>>,
    /// The survey, unless the page only compares.
    pub later: Option<Later>,
}

/// In the worker: the message that says the store is loaded, the texts to post with it, and
/// what to do after.
pub fn split(analyzed: Analyzed) -> Reply {
    let Analyzed {
        loaded,
        placed,
        lists,
        timing,
    } = analyzed;
    let mut parts: Vec<(&str, Vec<u8>)> = Vec::new();
    let mut push = |name, value: &dyn erased::Json| parts.push((name, value.json()));
    let Loaded {
        manifest,
        mut store,
        findings,
        graph,
        usage,
        raw,
        disk_use,
        ..
    } = loaded;
    if let Some(manifest) = &manifest {
        push(Parts::MANIFEST, manifest);
    }
    push(Parts::DISK_USE, &disk_use);
    let report = storesnap_core::report::markdown(manifest.as_ref(), &store, &findings);
    // The store without its big maps, which follow in chunks; then they go back, and the store
    // moves on to the survey (a clone took a tenth of the check at 15,000 layers).
    let maps = (
        std::mem::take(&mut store.layers),
        std::mem::take(&mut store.images),
        std::mem::take(&mut store.driver_dirs),
        std::mem::take(&mut store.links),
    );
    push(Parts::STORE, &store);
    (store.layers, store.images, store.driver_dirs, store.links) = maps;
    let layers: Vec<&Layer> = store.layers.values().collect();
    let images: Vec<&Image> = store.images.values().collect();
    let dirs: Vec<&DriverDir> = store.driver_dirs.values().collect();
    let links: Vec<_> = store.links.iter().collect();
    push(Parts::REPORT, &report);
    for chunk in dirs.chunks(DIRS_PER_PART) {
        push(Parts::DRIVER_DIRS, &chunk);
    }
    for chunk in links.chunks(DIRS_PER_PART) {
        push(Parts::LINKS, &chunk);
    }
    for chunk in layers.chunks(LAYERS_PER_PART) {
        push(Parts::LAYERS, &chunk);
    }
    for chunk in images.chunks(IMAGES_PER_PART) {
        push(Parts::IMAGES, &chunk);
    }
    push(Parts::FINDINGS, &findings);
    let nodes: Vec<&LayerNode> = graph.nodes.values().collect();
    for chunk in nodes.chunks(NODES_PER_PART) {
        push(Parts::NODES, &chunk);
    }
    push(Parts::ROOTS, &graph.roots);
    push(Parts::LAYOUT, &placed);
    push(Parts::USAGE, &usage);
    push(Parts::RAW, &raw);
    let (names, texts) = parts.into_iter().map(|(n, t)| (n.to_owned(), t)).unzip();
    let message = Message::Loaded {
        parts: names,
        read_ms: timing.read_ms,
        check_ms: timing.check_ms,
        layout_ms: timing.layout_ms,
        memory: super::wasm_memory(),
        texts: Vec::new(),
    };
    Reply {
        message,
        texts,
        later: Some(Later { store, lists }),
    }
}

/// Serializing values of different types through one `push`.
mod erased {
    pub trait Json {
        fn json(&self) -> Vec<u8>;
    }

    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> Vec<u8> {
            serde_json::to_vec(self).unwrap_or_default()
        }
    }
}

/// On the page: parses the parts the worker posted, one per task, into a loaded snapshot.
pub async fn assemble(
    ticket: u64,
    name: &str,
    size: usize,
    names: &[String],
    texts: Vec<wasm_bindgen::JsValue>,
) -> Result<Loaded, String> {
    fn parse<T: serde::de::DeserializeOwned>(name: &str, text: &[u8]) -> Result<T, String> {
        serde_json::from_slice(text).map_err(|e| format!("the worker's {name} did not parse: {e}"))
    }
    let mut manifest: Option<Manifest> = None;
    let mut store = Store::default();
    let mut layers: BTreeMap<ChainId, Layer> = BTreeMap::new();
    let mut images = BTreeMap::new();
    let mut findings: Vec<Finding> = Vec::new();
    let mut graph = LayerGraph::default();
    let mut placed: Option<Layout> = None;
    let mut usage: Vec<ImageUsage> = Vec::new();
    let mut raw = BTreeMap::new();
    let mut report = None;
    let mut disk_use = None;
    let mut dirs = BTreeMap::new();
    let mut links = BTreeMap::new();
    let start = js_sys::Date::now();
    let mut longest: f64 = 0.0;
    for (part, text) in names.iter().zip(&texts) {
        let step = js_sys::Date::now();
        // Bytes cross from JavaScript a part at a time too.
        let text = match text.dyn_ref::<js_sys::Uint8Array>() {
            Some(bytes) => bytes.to_vec(),
            None => text.as_string().unwrap_or_default().into_bytes(),
        };
        let text = text.as_slice();
        match part.as_str() {
            Parts::REPORT => report = Some(parse(part, text)?),
            Parts::DISK_USE => disk_use = parse(part, text)?,
            Parts::DRIVER_DIRS => dirs.extend(
                parse::<Vec<DriverDir>>(part, text)?
                    .into_iter()
                    .map(|d| (d.name.clone(), d)),
            ),
            Parts::LINKS => links.extend(parse::<Vec<(String, String)>>(part, text)?),
            Parts::MANIFEST => manifest = Some(parse(part, text)?),
            Parts::STORE => store = parse(part, text)?,
            Parts::LAYERS => layers.extend(
                parse::<Vec<Layer>>(part, text)?
                    .into_iter()
                    .map(|l| (l.chain_id.clone(), l)),
            ),
            Parts::IMAGES => images.extend(
                parse::<Vec<Image>>(part, text)?
                    .into_iter()
                    .map(|i| (i.id.clone(), i)),
            ),
            Parts::FINDINGS => findings = parse(part, text)?,
            Parts::NODES => graph.nodes.extend(
                parse::<Vec<LayerNode>>(part, text)?
                    .into_iter()
                    .map(|n| (n.chain_id.clone(), n)),
            ),
            Parts::ROOTS => graph.roots = parse(part, text)?,
            Parts::LAYOUT => placed = Some(parse(part, text)?),
            Parts::USAGE => usage = parse(part, text)?,
            Parts::RAW => raw = parse(part, text)?,
            // A part from a newer worker: nothing here reads it.
            _ => {}
        }
        longest = longest.max(js_sys::Date::now() - step);
        // The page's turn between parts.
        TimeoutFuture::new(0).await;
    }
    store.layers = layers;
    store.images = images;
    store.driver_dirs = dirs;
    store.links = links;
    // Chains are computed on first use; computing them now, off the first render, in slices.
    let mut step = js_sys::Date::now();
    for (i, image) in store.images.values().enumerate() {
        let _ = image.chain();
        if i % 200 == 199 {
            longest = longest.max(js_sys::Date::now() - step);
            TimeoutFuture::new(0).await;
            step = js_sys::Date::now();
        }
    }
    longest = longest.max(js_sys::Date::now() - step);
    let mut loaded = Loaded::assembled(ticket, name, size, manifest, store, findings, graph);
    loaded.usage = usage;
    loaded.raw = raw;
    loaded.layout = placed.map(Rc::new);
    loaded.report = report;
    loaded.disk_use = disk_use;
    loaded.assembly = Some((js_sys::Date::now() - start, longest));
    Ok(loaded)
}
