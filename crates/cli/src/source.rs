//! Where a command reads a store from: a snapshot file, a `docker save` archive, or a live data
//! root.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use storesnap_core::source::archive::{self, Input, ScanLimits};
use storesnap_core::{Finding, Limits, Manifest, Snapshot, Store};

/// A snapshot file or a `docker save` archive or, with `--root`, a live data root (read-only,
/// never redacted: it is your own host).
#[derive(Debug, clap::Args)]
pub struct Source {
    /// The snapshot written by `storesnap pack`, or an archive written by `docker save`
    /// (plain, or piped through gzip or zstd): every layer in it is hashed and checked.
    #[arg(
        value_name = "SNAPSHOT|ARCHIVE",
        required_unless_present = "root",
        conflicts_with = "root"
    )]
    pub snapshot: Option<PathBuf>,
    /// Read a live Docker data root instead of a snapshot, e.g. /var/lib/docker.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// With --root, for a containerd image store: the containerd root [default: found as
    /// `pack` finds it].
    #[arg(long, value_name = "DIR", requires = "root")]
    pub containerd_root: Option<PathBuf>,
}

/// A store read from a source: the model, what reading met, the snapshot's manifest (`None`
/// for an archive), and what the source holds of each layer's file list.
pub struct Loaded {
    pub store: Store,
    /// Findings about single files met while reading; the checks add the rest.
    pub findings: Vec<Finding>,
    pub manifest: Option<Manifest>,
    pub held: Held,
}

/// What a source keeps after loading, for the layers' file lists.
pub enum Held {
    /// A snapshot's (or a live root's) files, holding the tar-splits.
    Files(storesnap_core::source::files::Files),
    /// An archive's scan, holding each layer tar's entries.
    Archive(Box<archive::Scan>),
}

impl Held {
    pub fn layer_files(&self) -> storesnap_core::files::LayerFiles<'_> {
        match self {
            Held::Files(files) => storesnap_core::files::LayerFiles::Store(files),
            Held::Archive(scan) => storesnap_core::files::LayerFiles::Archive(scan),
        }
    }
}

impl Loaded {
    fn from_snapshot(snapshot: Snapshot) -> Loaded {
        let (store, findings) = storesnap_core::source::load(&snapshot);
        Loaded {
            store,
            findings,
            manifest: Some(snapshot.manifest),
            held: Held::Files(snapshot.entries),
        }
    }

    /// The model and every finding, most severe first.
    pub fn analyzed(mut self) -> (Store, Vec<Finding>, Option<Manifest>) {
        self.findings
            .extend(storesnap_core::checks::check(&self.store));
        storesnap_core::checks::sort_findings(&mut self.findings);
        (self.store, self.findings, self.manifest)
    }
}

impl Source {
    /// Reads the store into memory. An archive is streamed, with a progress bar on a terminal.
    pub fn load(&self) -> anyhow::Result<Loaded> {
        if let Some(root) = &self.root {
            let options = crate::pack::Options {
                created: 0,
                redact_images: false,
                redact_containers: false,
                max_file_size: 256 << 20,
                hostname: String::new(),
                no_tar_split: false,
                engine: None,
                containerd_root: self.containerd_root.clone(),
                namespace: "moby".into(),
            };
            let packed = crate::pack::collect(root, &options, &ProgressBar::hidden())?;
            return Ok(Loaded::from_snapshot(packed.snapshot));
        }
        let path = self
            .snapshot
            .as_ref()
            .expect("clap requires a snapshot or --root");
        let open =
            || std::fs::File::open(path).with_context(|| format!("opening {}", path.display()));
        let mut head = Vec::new();
        open()?.take(64 << 10).read_to_end(&mut head)?;
        if archive::sniff(&head) == Input::Archive {
            let file = open()?;
            let total = file.metadata().map(|m| m.len()).unwrap_or(0);
            let bar = progress_bar(total);
            let scanned = archive::scan(file, &ScanLimits::default(), &mut |n| bar.set_position(n));
            bar.finish_and_clear();
            let scanned = scanned.with_context(|| format!("reading {}", path.display()))?;
            let (store, findings) =
                archive::load(&scanned).with_context(|| format!("reading {}", path.display()))?;
            return Ok(Loaded {
                store,
                findings,
                manifest: None,
                held: Held::Archive(Box::new(scanned)),
            });
        }
        let snapshot = Snapshot::from_reader(open()?, Limits::default())
            .with_context(|| format!("reading {}", path.display()))?;
        Ok(Loaded::from_snapshot(snapshot))
    }

    /// How to name the source in messages.
    pub fn describe(&self) -> String {
        match (&self.root, &self.snapshot) {
            (Some(root), _) => root.display().to_string(),
            (_, Some(s)) => s.display().to_string(),
            _ => String::new(),
        }
    }
}

fn progress_bar(total: u64) -> ProgressBar {
    // indicatif draws nothing when stderr is not a terminal.
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "hashing {bar:30} {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)",
        )
        .expect("valid template"),
    );
    bar
}

/// A source and the images to look at: `SNAPSHOT|ARCHIVE [IMAGE…]`, or `--root DIR [IMAGE…]`.
#[derive(Debug, clap::Args)]
pub struct SourceAndImages {
    /// The snapshot or `docker save` archive (omitted with --root), then images: tags
    /// (`local/app:v1`; the tag defaults to `latest`), full IDs or unique ID prefixes.
    #[arg(value_name = "SNAPSHOT|ARCHIVE [IMAGE]")]
    args: Vec<String>,
    /// Read a live Docker data root instead, e.g. /var/lib/docker.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// With --root, for a containerd image store: the containerd root.
    #[arg(long, value_name = "DIR", requires = "root")]
    containerd_root: Option<PathBuf>,
}

impl SourceAndImages {
    /// The source, and the image names given after it.
    pub fn split(&self) -> anyhow::Result<(Source, &[String])> {
        match (&self.root, self.args.as_slice()) {
            (Some(root), images) => Ok((
                Source {
                    snapshot: None,
                    root: Some(root.clone()),
                    containerd_root: self.containerd_root.clone(),
                },
                images,
            )),
            (None, [snapshot, images @ ..]) => Ok((
                Source {
                    snapshot: Some(snapshot.into()),
                    root: None,
                    containerd_root: None,
                },
                images,
            )),
            (None, []) => anyhow::bail!("give a snapshot or an archive, or --root DIR"),
        }
    }
}
