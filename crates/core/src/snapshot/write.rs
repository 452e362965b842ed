//! Writing a snapshot: a deterministic tar (entries sorted by path, owners 0, fixed modes,
//! every mtime the snapshot's creation time), handed to a compressor.

use std::io::{self, Read, Write};

use super::{inflated_path, Entry};
use crate::manifest::{Manifest, MANIFEST_PATH};

/// Streams a snapshot's tar out, entry by entry, in the order given, into a writer that
/// compresses it (`storesnap pack` uses zstd, [`Snapshot::write_to`] gzip).
///
/// Callers append in sorted path order for a deterministic file; [`Snapshot::write_to`] does.
/// Files the store keeps gzip'd ([`STORED_INFLATED`]) are written inflated, while they fit the
/// budget: the outer compressor then sees the layers' similar JSON lines side by side, where
/// each gzip stream on its own had hidden them from it.
pub struct SnapshotWriter<W: Write> {
    tar: tar::Builder<W>,
    mtime: u64,
    /// Bytes of gzip'd files still to be written inflated.
    inflate_left: u64,
}

/// Inflated bytes a snapshot holds in all. Past this, gzip'd files are kept as they are, so a
/// store of very large layers still makes a snapshot the readers' caps accept.
const INFLATE_BUDGET: u64 = 256 << 20;

impl<W: Write> SnapshotWriter<W> {
    /// Starts a snapshot and writes its manifest.
    pub fn new(out: W, manifest: &Manifest, mtime: u64) -> io::Result<SnapshotWriter<W>> {
        let mut tar = tar::Builder::new(out);
        tar.mode(tar::HeaderMode::Deterministic);
        let mut w = SnapshotWriter {
            tar,
            mtime,
            inflate_left: INFLATE_BUDGET,
        };
        let mut json = serde_json::to_vec_pretty(manifest).map_err(io::Error::other)?;
        json.push(b'\n');
        w.append(MANIFEST_PATH, &Entry::File(json))?;
        // The manifest ends the first compressed block, so a reader that has only the file's
        // first kilobytes (to tell a snapshot from an archive) can decode it.
        w.tar.get_mut().flush()?;
        Ok(w)
    }

    /// Appends one entry.
    pub fn append(&mut self, path: &str, entry: &Entry) -> io::Result<()> {
        if let (Entry::File(gz), Some(plain)) = (entry, inflated_path(path)) {
            if let Some(text) = inflate_whole(gz, self.inflate_left.min(MAX_INFLATED_FILE)) {
                self.inflate_left -= text.len() as u64;
                return self.append_raw(&plain, &Entry::File(text));
            }
        }
        self.append_raw(path, entry)
    }

    fn append_raw(&mut self, path: &str, entry: &Entry) -> io::Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_mtime(self.mtime);
        h.set_uid(0);
        h.set_gid(0);
        match entry {
            Entry::File(bytes) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(0o644);
                h.set_size(bytes.len() as u64);
                self.tar.append_data(&mut h, path, bytes.as_slice())
            }
            Entry::Symlink(target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_mode(0o777);
                h.set_size(0);
                self.tar.append_link(&mut h, path, target)
            }
            // Writing it would change what the snapshot says about the store.
            Entry::Unread(_) => Err(io::Error::other(format!(
                "{path}: its content was left unread, so it cannot be written"
            ))),
            Entry::Dir => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                h.set_size(0);
                self.tar
                    .append_data(&mut h, format!("{path}/"), io::empty())
            }
        }
    }

    /// Ends the tar and returns the writer it went to, for the caller to end its stream.
    pub fn finish(self) -> io::Result<W> {
        self.tar.into_inner()
    }
}

/// The largest tar-split kept inflated. A reader caps each entry (the viewer at 64 MiB), and a
/// layer of 100,000 files has a 150 MB tar-split: bigger ones stay gzip'd, which costs little
/// since the outer compressor gains most from the many small ones side by side.
pub const MAX_INFLATED_FILE: u64 = 16 << 20;

/// The inflated bytes of a whole, sound gzip member of at most `max` bytes, and nothing after
/// it; `None` for anything else, which is then kept as it is (a damaged tar-split is evidence).
fn inflate_whole(gz: &[u8], max: u64) -> Option<Vec<u8>> {
    let mut rest = gz;
    let mut text = Vec::new();
    let mut decoder = flate2::bufread::GzDecoder::new(&mut rest);
    decoder
        .by_ref()
        .take(max.saturating_add(1))
        .read_to_end(&mut text)
        .ok()?;
    drop(decoder);
    (rest.is_empty() && text.len() as u64 <= max).then_some(text)
}
