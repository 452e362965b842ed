//! Compare mode: the open snapshot compared with a second one (or an archive), which a worker
//! read, as `storesnap diff OPEN SECOND` would.

use storesnap_core::diff::{diff, Diff, Side};
use storesnap_core::{Manifest, Store};

use crate::state::Loaded;

/// The open snapshot compared with a later one.
#[derive(Debug, PartialEq)]
pub struct Compared {
    /// Which opening it compares with (a newer opening makes it stale).
    pub ticket: u64,
    /// The second file's name.
    pub name: String,
    pub result: Result<Diff, String>,
}

/// What changed from `old` to `new`.
pub fn compare(old: &Loaded, new: &Loaded) -> Diff {
    diff(&side(old), &side(new))
}

fn side(l: &Loaded) -> Side<'_> {
    Side {
        store: &l.store,
        findings: &l.findings,
        df: summary(&l.store, l.manifest.as_ref()),
    }
}

fn summary(
    store: &Store,
    manifest: Option<&Manifest>,
) -> Option<Vec<storesnap_core::docker::DiskSummaryRow>> {
    manifest.map(|m| store.disk_summary(&m.dir_sizes))
}
