//! Where a command reads a store from: a snapshot file, or a live data root.

use std::path::PathBuf;

use anyhow::Context;
use indicatif::ProgressBar;
use storesnap_core::{Limits, Snapshot};

/// A snapshot file or, with `--root`, a live data root (read-only, never redacted: it is your
/// own host).
#[derive(Debug, clap::Args)]
pub struct Source {
    /// The snapshot written by `storesnap pack`.
    #[arg(
        value_name = "SNAPSHOT",
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

impl Source {
    /// Reads the store into a snapshot in memory.
    pub fn load(&self) -> anyhow::Result<Snapshot> {
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
            return Ok(crate::pack::collect(root, &options, &ProgressBar::hidden())?.snapshot);
        }
        let path = self
            .snapshot
            .as_ref()
            .expect("clap requires a snapshot or --root");
        let file =
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        Snapshot::from_reader(file, Limits::default())
            .with_context(|| format!("reading {}", path.display()))
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
