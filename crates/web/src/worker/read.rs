//! In the worker: what a file is, and reading it into a loaded, checked, laid-out store.

use std::io::{self, Read};
use std::rc::Rc;

use storesnap_core::graph::{layout, Spacing};
use storesnap_core::source::archive::{self, Input, ScanLimits};
use storesnap_core::{Contents, SlicedReader};

use super::parts::{split, Analyzed, Lists, Reply};
use super::Message;
use crate::files::Listing;
use crate::state::{Loaded, Timing, LIMITS};

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
    let bytes = Shared(Rc::new(bytes));
    // The tar-splits, four fifths of a large snapshot, are read again for the file lists once
    // the page has the store: until then the worker holds a fifth as much.
    let mut reader = SlicedReader::with_contents(bytes.clone(), LIMITS, Contents::Metadata)
        .map_err(|e| e.to_string())?;
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
    let snapshot = reader.finish().map_err(|e| e.to_string())?;
    post(&Message::Checking);
    let read = js_sys::Date::now();
    let (store, findings) = storesnap_core::analyze(&snapshot);
    let checked = js_sys::Date::now();
    let mut loaded = Loaded::from_parts(0, "", 0, Some(snapshot.manifest.clone()), store, findings);
    loaded.keep_raw(&snapshot);
    drop(snapshot);
    let placed = layout(&loaded.graph, &Default::default(), Spacing::default());
    Ok(Analyzed {
        loaded,
        placed,
        lists: Lists::Snapshot(bytes),
        timing: Timing {
            read_ms: read - start,
            check_ms: checked - read,
            layout_ms: js_sys::Date::now() - checked,
        },
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
    let checked = js_sys::Date::now();
    let loaded = Loaded::from_parts(0, "", 0, None, store, findings);
    let placed = layout(&loaded.graph, &Default::default(), Spacing::default());
    Ok(Analyzed {
        loaded,
        placed,
        lists: Lists::Archive(Box::new(scan)),
        timing: Timing {
            read_ms: read - start,
            check_ms: checked - read,
            layout_ms: js_sys::Date::now() - checked,
        },
    })
}

/// A snapshot's bytes, shared between its two reads.
#[derive(Clone)]
pub struct Shared(Rc<Vec<u8>>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        self.0.as_slice()
    }
}

/// The tar-splits of a snapshot that has been read once already, and so reads cleanly.
pub fn tar_splits(bytes: Shared) -> Listing {
    let read = SlicedReader::with_contents(bytes, LIMITS, Contents::TarSplits)
        .and_then(SlicedReader::finish);
    match read {
        Ok(mut snapshot) => Listing::TarSplits(Listing::take_tar_splits(&mut snapshot)),
        Err(_) => Listing::None,
    }
}
