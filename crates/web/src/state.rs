//! The viewer's state and the one reducer that changes it.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use storesnap_core::docker::ImageUsage;
use storesnap_core::graph::{LayerGraph, Layout, View};
use storesnap_core::{
    ChainId, Finding, ImageId, Limits, Manifest, Progress, Severity, Snapshot, Store, Subject,
};
use yew::Reducible;

/// What the viewer accepts: snapshots are a few MB even for thousands of layers, and a browser
/// tab should not inflate gigabytes for a hostile file.
pub const LIMITS: Limits = Limits {
    // A 15,000-layer snapshot's tar is 450 MB, most of it tar headers and the layers'
    // tar-splits; the reader frees the tar as it parses it.
    max_decompressed_bytes: 768 << 20,
    max_entries: 1_000_000,
    max_entry_bytes: 64 << 20,
};

// `pack` keeps a tar-split inflated only when the viewer takes it as one entry.
const _: () = assert!(LIMITS.max_entry_bytes >= storesnap_core::snapshot::MAX_INFLATED_FILE);

/// Milliseconds the worker spent on a file: reading it (inflating and parsing a snapshot, or
/// hashing an archive), loading and checking the store, then building its graph and layout.
/// The first two are what `storesnap check` does natively.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    pub read_ms: f64,
    pub check_ms: f64,
    pub layout_ms: f64,
}

/// A loaded snapshot and everything computed from it once.
#[derive(Debug)]
pub struct Loaded {
    /// Which opening this is: two loads, even of the same file, are different views.
    pub ticket: u64,
    pub name: String,
    pub size: usize,
    /// The snapshot's manifest; `None` for a `docker save` archive.
    pub manifest: Option<Manifest>,
    pub store: Store,
    pub findings: Vec<Finding>,
    pub graph: LayerGraph,
    /// Every image's sizes (`Store::image_usage(true)`), for the table and the timeline.
    pub usage: Vec<ImageUsage>,
    /// How long the worker took, step by step.
    pub timing: Option<Timing>,
    /// The worker's wasm memory once the store was loaded, checked and laid out (it only
    /// grows, so this is its peak until then), in bytes. Reading the file's tar-splits for the
    /// file lists comes after, and takes more.
    pub worker_memory: Option<u64>,
    /// The start of every file a finding names, as it is in the snapshot, so the inspector can
    /// show what did not parse.
    pub raw: BTreeMap<String, Vec<u8>>,
    /// The graph's first layout (nothing opened), when the worker computed it.
    pub layout: Option<Rc<Layout>>,
    /// The Markdown report, which the worker writes.
    pub report: Option<String>,
    /// Images' disk use as `docker system df` sums it ("1.2GB total, 300MB reclaimable"), for
    /// a snapshot: computed once, it walks every layer of every image.
    pub disk_use: Option<String>,
    /// For a snapshot the worker read: milliseconds the page spent taking its parts in, and
    /// the longest of those steps.
    pub assembly: Option<(f64, f64)>,
}

/// Components compare props on every render; comparing whole stores would cost as much as the
/// render it saves, and a loaded snapshot never changes.
impl PartialEq for Loaded {
    fn eq(&self, other: &Loaded) -> bool {
        self.ticket == other.ticket
    }
}

impl Loaded {
    /// Parses and checks a snapshot in one go; the error is a message for the page.
    pub fn parse(name: &str, bytes: &[u8]) -> Result<Loaded, String> {
        let snapshot = Snapshot::from_bytes(bytes, LIMITS).map_err(|e| format!("{name}: {e}"))?;
        Ok(Loaded::new(0, name, bytes.len(), snapshot))
    }

    /// Checks a parsed snapshot and lays out its graph.
    pub fn new(ticket: u64, name: &str, size: usize, snapshot: Snapshot) -> Loaded {
        let (store, findings) = storesnap_core::analyze(&snapshot);
        let mut loaded = Loaded::from_parts(
            ticket,
            name,
            size,
            Some(snapshot.manifest.clone()),
            store,
            findings,
        );
        loaded.keep_raw(&snapshot);
        loaded
    }

    /// Keeps the start of each file the findings name (`Loaded::raw`).
    pub fn keep_raw(&mut self, snapshot: &Snapshot) {
        /// Enough to see what went wrong; a megabyte of garbage needs no more.
        const KEEP: usize = 4096;
        for f in &self.findings {
            for s in &f.subjects {
                if let Subject::Path(p) = s {
                    if let Some(bytes) = snapshot.file(p) {
                        let start = &bytes[..bytes.len().min(KEEP)];
                        self.raw.entry(p.clone()).or_insert_with(|| start.to_vec());
                    }
                }
            }
        }
    }

    /// A snapshot whose store is loaded and checked (the app does that in steps).
    pub fn from_parts(
        ticket: u64,
        name: &str,
        size: usize,
        manifest: Option<Manifest>,
        store: Store,
        findings: Vec<Finding>,
    ) -> Loaded {
        let graph = LayerGraph::new(&store, &findings);
        let disk_use = match (&manifest, &store.archive) {
            (Some(m), None) => store
                .disk_summary(&m.dir_sizes)
                .first()
                .map(|images| format!("{} total, {} reclaimable", images.size, images.reclaimable)),
            _ => None,
        };
        let mut loaded = Loaded::assembled(ticket, name, size, manifest, store, findings, graph);
        loaded.usage = loaded.store.image_usage(true);
        loaded.disk_use = disk_use;
        loaded
    }

    /// A snapshot from parts computed elsewhere (the worker); `usage` starts empty.
    pub fn assembled(
        ticket: u64,
        name: &str,
        size: usize,
        manifest: Option<Manifest>,
        store: Store,
        findings: Vec<Finding>,
        graph: LayerGraph,
    ) -> Loaded {
        Loaded {
            ticket,
            name: name.to_owned(),
            size,
            manifest,
            store,
            findings,
            graph,
            usage: Vec::new(),
            timing: None,
            worker_memory: None,
            raw: BTreeMap::new(),
            layout: None,
            report: None,
            disk_use: None,
            assembly: None,
        }
    }

    /// Whether a selection names something in this snapshot.
    pub fn has(&self, selection: &Selection) -> bool {
        match selection {
            Selection::None => true,
            Selection::Layer(c) => self.graph.nodes.contains_key(c),
            // A missing image a finding names (a dangling tag's) is shown as a ghost.
            Selection::Image(i) => {
                self.store.images.contains_key(i) || self.named(&Subject::Image(i.clone()))
            }
            Selection::DriverDir(d) => {
                self.store.driver_dirs.contains_key(d) || self.named(&Subject::CacheDir(d.clone()))
            }
            Selection::File(p) => self.raw.contains_key(p) || self.named(&Subject::Path(p.clone())),
        }
    }

    /// Whether some finding is about `subject`.
    pub fn named(&self, subject: &Subject) -> bool {
        self.findings.iter().any(|f| f.subjects.contains(subject))
    }
}

/// A snapshot being read: what the progress bar shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loading {
    pub ticket: u64,
    pub name: String,
    pub progress: Progress,
    pub stage: Stage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Inflating,
    /// An archive, hashed in the worker.
    Hashing,
    Checking,
}

/// What is selected.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Selection {
    #[default]
    None,
    Layer(ChainId),
    Image(ImageId),
    /// A graph-driver directory, by name.
    DriverDir(String),
    /// A file of the store, by its path relative to the data root.
    File(String),
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
    /// The images table's order.
    pub sort: Sort,
    /// The graph's visible area; `None` is the initial view of the layout.
    pub view: Option<View>,
    /// A `#url=` snapshot being fetched.
    pub fetching: Option<String>,
    /// A snapshot being read and checked.
    pub loading: Option<Loading>,
    /// How the last "Copy report" went.
    pub notice: Option<String>,
    /// The findings pane shows only this severity, when set.
    pub severity: Option<Severity>,
    /// The loaded snapshot's layer file lists and wasted-space survey, once read.
    pub files: Option<Rc<crate::files::FilesData>>,
    /// The loaded snapshot compared with a second one.
    pub compare: Option<Rc<crate::compare::Compared>>,
    /// A spare worker has warmed up (benchmarks wait for it, as a user picking a file would).
    pub warmed: bool,
}

/// A column of the images table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Column {
    Repository,
    Tag,
    Id,
    #[default]
    Created,
    Size,
    Shared,
    Unique,
    Containers,
}

impl Column {
    pub const ALL: [Column; 8] = [
        Column::Repository,
        Column::Tag,
        Column::Id,
        Column::Created,
        Column::Size,
        Column::Shared,
        Column::Unique,
        Column::Containers,
    ];

    /// The heading, as `docker system df -v` prints it.
    pub fn heading(self) -> &'static str {
        match self {
            Column::Repository => "REPOSITORY",
            Column::Tag => "TAG",
            Column::Id => "IMAGE ID",
            Column::Created => "CREATED",
            Column::Size => "SIZE",
            Column::Shared => "SHARED SIZE",
            Column::Unique => "UNIQUE SIZE",
            Column::Containers => "CONTAINERS",
        }
    }

    /// The name tests and links use.
    pub fn key(self) -> &'static str {
        match self {
            Column::Repository => "repository",
            Column::Tag => "tag",
            Column::Id => "id",
            Column::Created => "created",
            Column::Size => "size",
            Column::Shared => "shared",
            Column::Unique => "unique",
            Column::Containers => "containers",
        }
    }

    /// Numbers and times read best largest or newest first; names read A to Z.
    fn descending_first(self) -> bool {
        !matches!(self, Column::Repository | Column::Tag | Column::Id)
    }
}

/// The images table's order: newest first, as `docker images` lists them, until a heading is
/// clicked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub column: Column,
    pub descending: bool,
}

impl Default for Sort {
    fn default() -> Sort {
        Sort {
            column: Column::Created,
            descending: true,
        }
    }
}

/// Everything that can happen to the state.
#[derive(Debug)]
pub enum Action {
    /// Reading snapshot `ticket` began; newer tickets replace older ones.
    Open {
        ticket: u64,
        name: String,
        size: usize,
    },
    Progress {
        ticket: u64,
        progress: Progress,
        stage: Stage,
    },
    /// Snapshot `ticket` is read, or failed; `selection` is what the URL asked for.
    Opened {
        ticket: u64,
        result: Result<Rc<Loaded>, String>,
        selection: Selection,
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
    /// Sort the table by a column; the same column again reverses the order.
    Sort(Column),
    /// Say how copying the report went.
    Notice(String),
    /// Pan or zoom the graph; `None` goes back to the initial view.
    SetView(Option<View>),
    /// Show only one severity's findings, or all (`None`).
    ShowSeverity(Option<Severity>),
    /// The file lists and survey of the snapshot they name are read.
    Files(Rc<crate::files::FilesData>),
    /// A second snapshot was compared with the open one; `None` closes the comparison.
    Compare(Option<Rc<crate::compare::Compared>>),
    /// A spare worker has warmed up.
    Warmed,
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
            sort: self.sort,
            view: self.view,
            fetching: None,
            loading: self.loading.clone(),
            // A notice stays until the next one, or another file: an action that arrives
            // meanwhile (the survey, a pan) must not take it away before it is read.
            notice: self.notice.clone(),
            severity: self.severity,
            files: self.files.clone(),
            compare: self.compare.clone(),
            warmed: self.warmed,
        };
        let current = |ticket| next_ticket_is(&self.loading, ticket);
        match action {
            Action::Open { ticket, name, size } => {
                next.loading = Some(Loading {
                    ticket,
                    name,
                    progress: Progress {
                        read: 0,
                        total: size as u64,
                        inflated: 0,
                    },
                    stage: Stage::Inflating,
                });
            }
            Action::Progress {
                ticket,
                progress,
                stage,
            } => {
                if let Some(loading) = next.loading.as_mut().filter(|_| current(ticket)) {
                    loading.progress = progress;
                    loading.stage = stage;
                }
            }
            Action::Opened {
                ticket,
                result,
                selection,
            } => {
                if !current(ticket) {
                    // A newer file was opened meanwhile: this one is not wanted any more.
                    return self;
                }
                next.loading = None;
                match result {
                    Ok(loaded) => {
                        // What the link asked for, else what the worst finding is about: a
                        // maintainer opens a snapshot to see what is wrong.
                        let selection = match selection {
                            s if s != Selection::None && loaded.has(&s) => s,
                            _ => loaded
                                .findings
                                .iter()
                                .filter(|f| f.severity == Severity::Error)
                                .find_map(|f| finding_target(&loaded, f))
                                .unwrap_or_default(),
                        };
                        next = State {
                            loaded: Some(loaded),
                            selection,
                            files: self.files.clone().filter(|f| f.ticket == ticket),
                            warmed: self.warmed,
                            ..State::default()
                        };
                    }
                    Err(message) => next.error = Some(message),
                }
            }
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
            Action::Notice(text) => next.notice = Some(text),
            Action::Sort(column) => {
                next.sort = if next.sort.column == column {
                    Sort {
                        column,
                        descending: !next.sort.descending,
                    }
                } else {
                    Sort {
                        column,
                        descending: column.descending_first(),
                    }
                }
            }
            Action::SetView(view) => next.view = view,
            Action::ShowSeverity(severity) => next.severity = severity,
            Action::Warmed => next.warmed = true,
            Action::Compare(compared) => {
                next.compare =
                    compared.filter(|c| next.loaded.as_ref().is_some_and(|l| l.ticket == c.ticket));
            }
            // The worker may survey before the page has taken the snapshot in: kept for it.
            Action::Files(files) => {
                if next
                    .loaded
                    .as_ref()
                    .is_some_and(|l| l.ticket == files.ticket)
                    || current(files.ticket)
                {
                    next.files = Some(files);
                }
            }
        }
        Rc::new(next)
    }
}

/// What selecting a finding selects: its layer (ghosts too) or image, else the layer of its
/// snapshot, the image made of its blob, its driver directory or its file.
pub fn finding_target(loaded: &Loaded, f: &Finding) -> Option<Selection> {
    let store = &loaded.store;
    let known = f.subjects.iter().find_map(|s| match s {
        Subject::Chain(c) if loaded.graph.nodes.contains_key(c) => {
            Some(Selection::Layer(c.clone()))
        }
        Subject::Image(i) if store.images.contains_key(i) => Some(Selection::Image(i.clone())),
        // A layer's snapshot is keyed by its chainID; a blob belongs to an image.
        Subject::Snapshot(k) => k
            .parse::<ChainId>()
            .ok()
            .filter(|c| store.layers.contains_key(c))
            .map(Selection::Layer),
        Subject::Blob(d) => store
            .containerd
            .as_deref()
            .and_then(|cd| cd.image_using(d))
            .map(|i| Selection::Image(i.clone())),
        Subject::CacheDir(d) => Some(Selection::DriverDir(d.clone())),
        _ => None,
    });
    // Else a missing image (shown as a ghost), else the file.
    known
        .or_else(|| {
            f.subjects.iter().find_map(|s| match s {
                Subject::Image(i) => Some(Selection::Image(i.clone())),
                _ => None,
            })
        })
        .or_else(|| {
            f.subjects.iter().find_map(|s| match s {
                Subject::Path(p) => Some(Selection::File(p.clone())),
                _ => None,
            })
        })
}

fn next_ticket_is(loading: &Option<Loading>, ticket: u64) -> bool {
    loading.as_ref().is_some_and(|l| l.ticket == ticket)
}
