//! Compare mode: a second snapshot (or archive) read on the page and compared with the one
//! open, as `storesnap diff OPEN SECOND` would.

use storesnap_core::diff::{diff, Diff, Side};
use storesnap_core::source::archive::{self, Input, ScanLimits};
use storesnap_core::{Finding, Manifest, Snapshot, Store};

use crate::state::{Loaded, LIMITS};

/// The open snapshot compared with a later one.
#[derive(Debug, PartialEq)]
pub struct Compared {
    /// Which opening it compares with (a newer opening makes it stale).
    pub ticket: u64,
    /// The second file's name.
    pub name: String,
    pub result: Result<Diff, String>,
}

/// Reads `bytes` (a snapshot or an archive) and compares `loaded` with it.
pub fn compare(loaded: &Loaded, name: &str, bytes: &[u8]) -> Compared {
    let result = read(bytes).map(|(store, findings, manifest)| {
        let old = Side {
            store: &loaded.store,
            findings: &loaded.findings,
            df: summary(&loaded.store, loaded.manifest.as_ref()),
        };
        let new = Side {
            store: &store,
            findings: &findings,
            df: summary(&store, manifest.as_ref()),
        };
        diff(&old, &new)
    });
    Compared {
        ticket: loaded.ticket,
        name: name.to_owned(),
        result: result.map_err(|e| format!("{name}: {e}")),
    }
}

fn summary(
    store: &Store,
    manifest: Option<&Manifest>,
) -> Option<Vec<storesnap_core::docker::DiskSummaryRow>> {
    manifest.map(|m| store.disk_summary(&m.dir_sizes))
}

type Read = (Store, Vec<Finding>, Option<Manifest>);

fn read(bytes: &[u8]) -> Result<Read, String> {
    let (store, mut findings, manifest) = match archive::sniff(bytes) {
        Input::Archive => {
            let (store, findings) = archive::read(bytes, &ScanLimits::default(), &mut |_| {})
                .map_err(|e| e.to_string())?;
            (store, findings, None)
        }
        _ => {
            let snapshot = Snapshot::from_bytes(bytes, LIMITS).map_err(|e| e.to_string())?;
            let (store, findings) = storesnap_core::source::load(&snapshot);
            (store, findings, Some(snapshot.manifest))
        }
    };
    findings.extend(storesnap_core::checks::check(&store));
    storesnap_core::checks::sort_findings(&mut findings);
    Ok((store, findings, manifest))
}
