//! A snapshot read in the worker and handed to the page in parts.
//!
//! The worker inflates, loads, checks and lays out the snapshot ([`read`]), then posts the
//! results as JSON texts of bounded size: the store's layers and images in chunks, the rest
//! whole. The page parses one text per task ([`assemble`]), so no task holds it for long,
//! whatever the store's size.

use std::collections::BTreeMap;
use std::io::Read;
use std::rc::Rc;

use gloo::timers::future::TimeoutFuture;
use storesnap_core::docker::ImageUsage;
use storesnap_core::graph::{layout, LayerGraph, LayerNode, Layout, Spacing};
use storesnap_core::store::{DriverDir, Image, Layer};
use storesnap_core::{ChainId, Finding, Manifest, SlicedReader, Store};
use wasm_bindgen::JsCast;

use super::Message;
use crate::state::{Loaded, LIMITS};

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

/// What the worker does once the page has the snapshot: survey wasted space, which reads every
/// layer's tar-split, while the page draws.
pub struct Later {
    pub store: Store,
    pub tar_splits: storesnap_core::source::files::Files,
}

impl Later {
    /// The survey, and the tar-splits for the page's file trees.
    pub fn run(self) -> (Message, Vec<u8>) {
        let listing = crate::files::Listing::TarSplits(self.tar_splits);
        let survey = listing.survey(&self.store);
        let crate::files::Listing::TarSplits(files) = listing else {
            unreachable!("built as tar-splits above")
        };
        (
            Message::Surveyed {
                survey: Box::new(survey),
                tar_splits: None,
            },
            crate::files::Listing::encode(files),
        )
    }
}

/// In the worker: reads the snapshot from `input`, posting progress, and returns the message
/// and the texts to post with it, and what to do after.
pub fn read(
    mut input: impl Read,
    post: &dyn Fn(&Message),
) -> Result<(Message, Vec<String>, Later), String> {
    let start = js_sys::Date::now();
    let mut bytes = Vec::new();
    input
        .read_to_end(&mut bytes)
        .map_err(|e| format!("could not read it: {e}"))?;
    let mut reader = SlicedReader::new(bytes, LIMITS).map_err(|e| e.to_string())?;
    let mut last_post = 0.0;
    while !reader.step(256 << 10).map_err(|e| e.to_string())? {
        let now = js_sys::Date::now();
        if now - last_post > 50.0 {
            let p = reader.progress();
            post(&Message::Progress {
                read: p.read,
                inflated: Some(p.inflated),
            });
            last_post = now;
        }
    }
    let mut snapshot = reader.finish().map_err(|e| e.to_string())?;
    post(&Message::Checking);
    let read = js_sys::Date::now();
    let (store, findings) = storesnap_core::analyze(&snapshot);
    let mut loaded = Loaded::from_parts(0, "", 0, Some(snapshot.manifest.clone()), store, findings);
    loaded.keep_raw(&snapshot);
    // Moved, not copied: at 15,000 layers they are 200 MB of text.
    let tar_splits = crate::files::Listing::take_tar_splits(&mut snapshot);
    let placed = layout(&loaded.graph, &Default::default(), Spacing::default());
    let check_ms = js_sys::Date::now() - read;

    let mut parts: Vec<(&str, String)> = Vec::new();
    let mut push = |name, value: &dyn erased::Json| parts.push((name, value.json()));
    push(Parts::MANIFEST, &snapshot.manifest);
    let Loaded {
        mut store,
        findings,
        graph,
        usage,
        raw,
        disk_use,
        ..
    } = loaded;
    push(Parts::DISK_USE, &disk_use);
    let report = storesnap_core::report::markdown(Some(&snapshot.manifest), &store, &findings);
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
        read_ms: read - start,
        check_ms,
        memory: super::wasm_memory(),
        texts: Vec::new(),
    };
    let later = Later { store, tar_splits };
    Ok((message, texts, later))
}

/// Serializing values of different types through one `push`.
mod erased {
    pub trait Json {
        fn json(&self) -> String;
    }

    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap_or_default()
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
