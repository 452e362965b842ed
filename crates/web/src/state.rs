//! The viewer's state and the one reducer that changes it.

use std::collections::BTreeSet;
use std::rc::Rc;

use storesnap_core::graph::{LayerGraph, View};
use storesnap_core::{ChainId, Finding, ImageId, Limits, Manifest, Snapshot, Store};
use yew::Reducible;

/// What the viewer accepts: snapshots are a few MB even for thousands of layers, and a browser
/// tab should not inflate gigabytes for a hostile file.
pub const LIMITS: Limits = Limits {
    max_decompressed_bytes: 512 << 20,
    max_entries: 1_000_000,
    max_entry_bytes: 64 << 20,
};

/// A loaded snapshot and everything computed from it once.
#[derive(Debug, PartialEq)]
pub struct Loaded {
    pub name: String,
    pub size: usize,
    pub manifest: Manifest,
    pub store: Store,
    pub findings: Vec<Finding>,
    pub graph: LayerGraph,
}

impl Loaded {
    /// Parses and checks a snapshot; the error is a message for the page.
    pub fn parse(name: &str, bytes: &[u8]) -> Result<Loaded, String> {
        let snapshot = Snapshot::from_bytes(bytes, LIMITS).map_err(|e| format!("{name}: {e}"))?;
        let (store, findings) = storesnap_core::analyze(&snapshot);
        let graph = LayerGraph::new(&store, &findings);
        Ok(Loaded {
            name: name.to_owned(),
            size: bytes.len(),
            manifest: snapshot.manifest,
            store,
            findings,
            graph,
        })
    }
}

/// What is selected.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Selection {
    #[default]
    None,
    Layer(ChainId),
    Image(ImageId),
}

#[derive(Debug, Default, PartialEq)]
pub struct State {
    pub loaded: Option<Rc<Loaded>>,
    pub error: Option<String>,
    pub selection: Selection,
    /// First layers of runs the user expanded.
    pub expanded: BTreeSet<ChainId>,
    /// The images table's search text (tag or ID prefix).
    pub filter: String,
    /// Show intermediate images too, like `docker images -a`.
    pub all_images: bool,
    /// The graph's visible area; `None` is the initial view of the layout.
    pub view: Option<View>,
    /// A `#url=` snapshot being fetched.
    pub fetching: Option<String>,
}

/// Everything that can happen to the state.
#[derive(Debug)]
pub enum Action {
    /// A file's bytes arrived (dropped, picked or the demo).
    Load {
        name: String,
        bytes: Vec<u8>,
    },
    /// Reading or fetching the file failed before parsing.
    Failed(String),
    /// A `#url=` fetch started.
    Fetching(String),
    Select(Selection),
    /// Expand or collapse a run of layers.
    Toggle(ChainId),
    Filter(String),
    /// Show or hide intermediate images in the table.
    ToggleAllImages,
    /// Pan or zoom the graph; `None` goes back to the initial view.
    SetView(Option<View>),
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = State {
            loaded: self.loaded.clone(),
            error: None,
            selection: self.selection.clone(),
            expanded: self.expanded.clone(),
            filter: self.filter.clone(),
            all_images: self.all_images,
            view: self.view,
            fetching: None,
        };
        match action {
            Action::Load { name, bytes } => match Loaded::parse(&name, &bytes) {
                Ok(loaded) => {
                    next = State {
                        loaded: Some(Rc::new(loaded)),
                        ..State::default()
                    };
                }
                Err(message) => next.error = Some(message),
            },
            Action::Failed(message) => next.error = Some(message),
            Action::Fetching(url) => next.fetching = Some(url),
            Action::Select(selection) => next.selection = selection,
            Action::Toggle(first) => {
                // Expanding changes the layout under the view: start from its initial view.
                next.view = None;
                if !next.expanded.remove(&first) {
                    next.expanded.insert(first);
                }
            }
            Action::Filter(text) => next.filter = text,
            Action::ToggleAllImages => next.all_images = !next.all_images,
            Action::SetView(view) => next.view = view,
        }
        Rc::new(next)
    }
}
