//! In the worker: what a file is, and reading it into a loaded, checked, laid-out store.

use std::io::{self, Read};

use storesnap_core::graph::{layout, Spacing};
use storesnap_core::source::archive::{self, Input, ScanLimits};
use storesnap_core::SlicedReader;

use super::parts::{split, Analyzed, Reply};
use super::Message;
use crate::files::Listing;
use crate::state::{Loaded, LIMITS};

/// Reads a snapshot or a `docker save` archive from `input`, posting progress, and returns
/// the message and the texts to post with it, and what to do after (see [`split`]).
pub fn read(mut input: impl Read, post: &dyn Fn(&Message)) -> Result<Reply, String> {
    /// Enough to tell the two apart: a snapshot's first zstd block ends after its manifest.
    const HEAD: u64 = 64 * 1024;
    let start = js_sys::Date::now();
    let mut head = Vec::new();
    (&mut input)
        .take(HEAD)
        .read_to_end(&mut head)
        .map_err(|e| format!("could not read it: {e}"))?;
    let kind = archive::sniff(&head);
    let whole = io::Cursor::new(head).chain(input);
    let analyzed = match kind {
        Input::Archive => read_archive(whole, start, post)?,
        // Anything else gets the snapshot reader's word on what it is.
        _ => read_snapshot(whole, start, post)?,
    };
    Ok(split(analyzed))
}

fn read_snapshot(
    mut input: impl Read,
    start: f64,
    post: &dyn Fn(&Message),
) -> Result<Analyzed, String> {
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
    let listing = Listing::TarSplits(Listing::take_tar_splits(&mut snapshot));
    let placed = layout(&loaded.graph, &Default::default(), Spacing::default());
    Ok(Analyzed {
        loaded,
        placed,
        listing,
        read_ms: read - start,
        check_ms: js_sys::Date::now() - read,
    })
}

/// Hashes every blob of the archive as it streams past, then loads and checks the scan.
fn read_archive(input: impl Read, start: f64, post: &dyn Fn(&Message)) -> Result<Analyzed, String> {
    let scan = archive::scan(input, &ScanLimits::default(), &mut |read| {
        post(&Message::Progress {
            read,
            inflated: None,
        })
    })
    .map_err(|e| e.to_string())?;
    post(&Message::Checking);
    let read = js_sys::Date::now();
    let (store, mut findings) = archive::load(&scan).map_err(|e| e.to_string())?;
    findings.extend(storesnap_core::checks::check(&store));
    storesnap_core::checks::sort_findings(&mut findings);
    let loaded = Loaded::from_parts(0, "", 0, None, store, findings);
    let placed = layout(&loaded.graph, &Default::default(), Spacing::default());
    Ok(Analyzed {
        loaded,
        placed,
        listing: Listing::Archive(Box::new(scan)),
        read_ms: read - start,
        check_ms: js_sys::Date::now() - read,
    })
}
