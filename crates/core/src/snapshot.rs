//! The snapshot file: a gzip'd tar whose first entry is `storesnap.json`.
//!
//! Writing is deterministic: entries sorted by path, owners 0, fixed modes, every mtime set to
//! the snapshot's creation time, and no timestamp or name in the gzip header. Reading is bounded:
//! a hostile file hits a [`Limits`] cap and becomes an error, never a hang or an exhausted heap.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};

use flate2::read::GzDecoder;
use flate2::{Compression, GzBuilder};

use crate::error::{Error, Result};
use crate::manifest::{Manifest, FORMAT_VERSION, MANIFEST_PATH};

/// One entry of a snapshot, keyed by its path relative to the data root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    File(Vec<u8>),
    /// A symlink, with its target as written on disk; never resolved.
    Symlink(String),
    Dir,
}

/// A snapshot in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub manifest: Manifest,
    /// Paths relative to the data root, `/`-separated, without a trailing slash.
    pub entries: BTreeMap<String, Entry>,
}

/// Caps on what a reader accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Total decompressed bytes of the tar stream.
    pub max_decompressed_bytes: u64,
    pub max_entries: u64,
    /// Bytes of one entry's content.
    pub max_entry_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_decompressed_bytes: 1 << 30,
            max_entries: 2_000_000,
            max_entry_bytes: 256 << 20,
        }
    }
}

impl Snapshot {
    /// Reads a snapshot from its bytes.
    pub fn from_bytes(bytes: &[u8], limits: Limits) -> Result<Snapshot> {
        Snapshot::from_reader(bytes, limits)
    }

    /// Reads a snapshot from a stream of the `.tar.gz` file.
    pub fn from_reader<R: Read>(reader: R, limits: Limits) -> Result<Snapshot> {
        let mut reader = io::BufReader::new(reader);
        check_gzip_magic(&mut reader)?;
        let mut capped = Capped {
            inner: GzDecoder::new(reader),
            left: limits.max_decompressed_bytes,
        };
        // A damaged gzip stream is the cause of whatever the tar parser then trips on, and
        // the sliced reader, which inflates everything first, reports it: so does this one.
        let parsed = parse_tar(&mut capped, limits);
        // Read on past the tar's end so gzip checks its CRC and length: a file cut in its
        // trailer is still a damaged file. A damaged gzip stream is also the cause of whatever
        // the tar parser tripped on, and the sliced reader, which inflates everything first,
        // reports it: so does this one.
        match io::copy(&mut capped, &mut io::sink()) {
            Err(e) => Err(gzip_error(e, &limits)),
            Ok(_) => parsed,
        }
    }

    /// Reads a snapshot from its tar stream, already inflated (the same checks and limits).
    pub fn from_tar<R: Read>(reader: R, limits: Limits) -> Result<Snapshot> {
        read_tar(
            Capped {
                inner: reader,
                left: limits.max_decompressed_bytes,
            },
            limits,
        )
    }

    /// Writes the snapshot as a deterministic `.tar.gz`; `mtime` is stamped on every entry.
    pub fn write_to<W: Write>(&self, out: W, mtime: u64) -> io::Result<W> {
        let mut w = SnapshotWriter::new(out, &self.manifest, mtime)?;
        for (path, entry) in &self.entries {
            w.append(path, entry)?;
        }
        w.finish()
    }

    /// The content of a file entry.
    pub fn file(&self, path: &str) -> Option<&[u8]> {
        match self.entries.get(path)? {
            Entry::File(bytes) => Some(bytes),
            _ => None,
        }
    }
}

/// Reads a snapshot held in memory a slice at a time, so a caller on a UI thread can yield
/// between slices and show progress. Same result and the same limits as [`Snapshot::from_bytes`].
///
/// Only inflating is sliced: it is the step whose cost a hostile file controls (a few hundred
/// KB can claim gigabytes). Parsing the inflated tar is bounded by the same caps and is fast.
pub struct SlicedReader {
    input: Vec<u8>,
    pos: usize,
    decoder: flate2::write::GzDecoder<CappedVec>,
    limits: Limits,
}

/// How far a [`SlicedReader`] has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Compressed bytes consumed so far, out of `total`.
    pub read: u64,
    pub total: u64,
    /// Bytes inflated so far.
    pub inflated: u64,
}

impl SlicedReader {
    /// Checks the file's magic; the errors for an empty or non-gzip file come from here.
    pub fn new(input: Vec<u8>, limits: Limits) -> Result<SlicedReader> {
        check_gzip_magic(&mut &input[..])?;
        let sink = CappedVec {
            left: limits.max_decompressed_bytes,
            ..CappedVec::default()
        };
        Ok(SlicedReader {
            input,
            pos: 0,
            decoder: flate2::write::GzDecoder::new(sink),
            limits,
        })
    }

    /// Does about `work` bytes of work, counting both compressed bytes read and bytes inflated
    /// (a bomb's few KB of input can be many MB of output); returns `true` once all input is read.
    pub fn step(&mut self, work: usize) -> Result<bool> {
        let work = work.max(1) as u64;
        let start = self.work_done();
        while self.pos < self.input.len() && self.work_done() - start < work {
            // Small writes: each produces at most one buffer of output, so the budget holds.
            let end = self.input.len().min(self.pos + 8192);
            let n = self
                .decoder
                .write(&self.input[self.pos..end])
                .map_err(|e| gzip_error(e, &self.limits))?;
            if n == 0 {
                // The gzip member and its trailer are complete: what follows is ignored, as the
                // streaming reader does.
                self.pos = self.input.len();
                break;
            }
            self.pos += n;
        }
        Ok(self.pos >= self.input.len())
    }

    fn work_done(&self) -> u64 {
        self.pos as u64 + self.decoder.get_ref().len
    }

    pub fn progress(&self) -> Progress {
        Progress {
            read: self.pos as u64,
            total: self.input.len() as u64,
            inflated: self.decoder.get_ref().len,
        }
    }

    /// Inflates whatever is left, checks the gzip trailer and parses the tar.
    pub fn finish(mut self) -> Result<Snapshot> {
        while !self.step(usize::MAX)? {}
        let limits = self.limits;
        let tar = self.decoder.finish().map_err(|e| gzip_error(e, &limits))?;
        let reader = ChunkReader {
            chunks: &tar.chunks,
            at: 0,
        };
        read_tar(reader, self.limits)
    }
}

/// A sink that refuses to grow past the decompression cap. It keeps 1 MiB chunks rather than
/// one `Vec`: doubling a `Vec` of hundreds of MB copies it all in one go, a stall the page
/// would feel.
#[derive(Default)]
struct CappedVec {
    chunks: Vec<Vec<u8>>,
    len: u64,
    left: u64,
}

const CHUNK: usize = 1 << 20;

impl Write for CappedVec {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.len() as u64 > self.left {
            return Err(io::Error::other(LimitHit("decompressed size")));
        }
        self.left -= buf.len() as u64;
        self.len += buf.len() as u64;
        let mut rest = buf;
        while !rest.is_empty() {
            match self.chunks.last_mut() {
                Some(chunk) if chunk.len() < CHUNK => {
                    let n = rest.len().min(CHUNK - chunk.len());
                    chunk.extend_from_slice(&rest[..n]);
                    rest = &rest[n..];
                }
                _ => self.chunks.push(Vec::with_capacity(CHUNK)),
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Reads the chunks of a [`CappedVec`] back in order.
struct ChunkReader<'a> {
    chunks: &'a [Vec<u8>],
    at: usize,
}

impl Read for ChunkReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while let Some((first, rest)) = self.chunks.split_first() {
            if self.at < first.len() {
                let n = buf.len().min(first.len() - self.at);
                buf[..n].copy_from_slice(&first[self.at..self.at + n]);
                self.at += n;
                return Ok(n);
            }
            self.chunks = rest;
            self.at = 0;
        }
        Ok(0)
    }
}

/// A snapshot is gzip: anything else (nothing, a plain tar, a random file) is named here.
fn check_gzip_magic<R: io::BufRead>(head: &mut R) -> Result<()> {
    let magic = peek(head, 2)?;
    if magic.is_empty() {
        return Err(Error::NotASnapshot("the file is empty".into()));
    }
    if magic != [0x1f, 0x8b] {
        return Err(Error::NotASnapshot(describe_non_gzip(head)?));
    }
    Ok(())
}

fn peek<R: io::BufRead>(r: &mut R, n: usize) -> io::Result<Vec<u8>> {
    let buf = r.fill_buf()?;
    Ok(buf[..buf.len().min(n)].to_vec())
}

fn describe_non_gzip<R: io::BufRead>(r: &mut R) -> Result<String> {
    let head = peek(r, 512)?;
    let is_tar = head.len() >= 262 && &head[257..262] == b"ustar";
    Ok(if is_tar {
        // A `docker save` archive holds manifest.json or index.json, never storesnap.json.
        "this is an uncompressed tar, not a snapshot; if it came from `docker save`, `storesnap \
         check`, `images`, `history`, `report` and `view` read it as an archive"
            .into()
    } else {
        "the file is not gzip-compressed (a snapshot is the .tar.gz that `storesnap pack` writes)"
            .into()
    })
}

struct Capped<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // Probe for one more byte to tell "exactly at the cap" from "over it".
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(LimitHit("decompressed size"))),
            };
        }
        let max = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        self.left -= n as u64;
        Ok(n)
    }
}

#[derive(Debug)]
struct LimitHit(&'static str);

impl std::fmt::Display for LimitHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for LimitHit {}

/// An error of the gzip stream itself (or the tar inside it cut short), worded the same
/// whichever reader met it and wherever in the stream. flate2's reading and writing decoders
/// tell a cut trailer apart differently ("unexpected end of file" or "checksum"), so the
/// wording does not say which.
fn gzip_error(e: io::Error, limits: &Limits) -> Error {
    if e.get_ref().is_some_and(|inner| inner.is::<LimitHit>()) {
        return map_io(e, limits);
    }
    Error::Format("the file is truncated or its gzip stream is damaged".into())
}

fn map_io(e: io::Error, limits: &Limits) -> Error {
    if let Some(hit) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<LimitHit>())
    {
        return Error::Limit(format!(
            "more than {} bytes of {} (a decompression bomb, or a store far larger than any real one)",
            limits.max_decompressed_bytes, hit.0
        ));
    }
    match e.kind() {
        // flate2's errors: the same wording as the sliced reader's.
        io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => {
            gzip_error(e, limits)
        }
        _ => Error::Io(e),
    }
}

/// Parses a whole tar stream and reads on to its end.
fn read_tar<R: Read>(mut reader: R, limits: Limits) -> Result<Snapshot> {
    let snapshot = parse_tar(&mut reader, limits)?;
    io::copy(&mut reader, &mut io::sink()).map_err(|e| map_io(e, &limits))?;
    Ok(snapshot)
}

/// Parses the tar's entries, up to its end-of-archive marker.
fn parse_tar<R: Read>(reader: R, limits: Limits) -> Result<Snapshot> {
    use crate::tarball::{Kind, Reader};
    let mut archive = Reader::new(reader);
    let mut manifest = None;
    let mut entries = BTreeMap::new();
    let mut count = 0u64;
    while let Some(header) = archive.next().map_err(|e| map_io(e, &limits))? {
        count += 1;
        if count > limits.max_entries {
            return Err(Error::Limit(format!(
                "more than {} entries",
                limits.max_entries
            )));
        }
        let path = clean_path(&header.path)?;
        let item = match header.kind {
            Kind::File => {
                if header.size > limits.max_entry_bytes {
                    return Err(Error::Limit(format!(
                        "{path} holds {} bytes, more than the {} allowed per entry",
                        header.size, limits.max_entry_bytes
                    )));
                }
                let bytes = archive
                    .read_data(header.size)
                    .map_err(|e| map_io(e, &limits))?;
                Entry::File(bytes)
            }
            Kind::Symlink if header.link.is_empty() => {
                return Err(Error::Format(format!("symlink {path} has no target")))
            }
            Kind::Symlink => Entry::Symlink(String::from_utf8_lossy(&header.link).into_owned()),
            Kind::Dir => Entry::Dir,
            Kind::HardLink | Kind::Other(_) => {
                let what = match header.kind {
                    Kind::Other(what) => what,
                    _ => "hard link",
                };
                return Err(Error::Format(format!(
                    "{path}: unexpected tar entry type ({what})"
                )));
            }
        };
        if count == 1 {
            if is_docker_save_entry(&path) {
                return Err(Error::NotASnapshot(
                    "this is a `docker save` archive, not a snapshot: `storesnap check`, `images`, \
                     `history`, `report` and `view` read it as an archive"
                        .into(),
                ));
            }
            if path != MANIFEST_PATH {
                return Err(Error::NotASnapshot(format!(
                    "the first entry is {path:?}, not {MANIFEST_PATH} (is it a tar of something else?)"
                )));
            }
            let Entry::File(bytes) = &item else {
                return Err(Error::NotASnapshot(format!(
                    "{MANIFEST_PATH} is not a file"
                )));
            };
            manifest = Some(parse_manifest(bytes)?);
            continue;
        }
        if entries.insert(path.clone(), item).is_some() {
            return Err(Error::Format(format!("{path} appears twice")));
        }
    }
    let manifest = manifest.ok_or_else(|| Error::NotASnapshot("the archive is empty".into()))?;
    Ok(Snapshot { manifest, entries })
}

/// Entries a `docker save` archive starts with, in any of its layouts (1.10+, OCI, legacy).
fn is_docker_save_entry(path: &str) -> bool {
    matches!(
        path,
        "manifest.json" | "oci-layout" | "index.json" | "repositories" | "blobs"
    ) || path.starts_with("blobs/")
        || path.ends_with("/VERSION")
        || path.ends_with("/layer.tar")
}

fn parse_manifest(bytes: &[u8]) -> Result<Manifest> {
    #[derive(serde::Deserialize)]
    struct Probe {
        kind: Option<String>,
        format_version: Option<u32>,
    }
    let json_err = |source| Error::Json {
        path: MANIFEST_PATH.into(),
        source,
    };
    let probe: Probe = serde_json::from_slice(bytes).map_err(json_err)?;
    if probe.kind.as_deref() != Some("storesnap") {
        return Err(Error::NotASnapshot(format!(
            "{MANIFEST_PATH} does not say kind \"storesnap\""
        )));
    }
    match probe.format_version {
        Some(v) if v <= FORMAT_VERSION => {}
        Some(v) => {
            return Err(Error::Unsupported(format!(
                "format version {v} is newer than this storesnap understands ({FORMAT_VERSION}); upgrade storesnap"
            )))
        }
        None => return Err(Error::Format(format!("{MANIFEST_PATH} has no format_version"))),
    }
    serde_json::from_slice(bytes).map_err(json_err)
}

/// Checks that a tar path is relative, `/`-separated and free of `.`/`..` components.
fn clean_path(raw: &[u8]) -> Result<String> {
    let s = std::str::from_utf8(raw)
        .map_err(|_| Error::Format(format!("non-UTF-8 path {:?}", String::from_utf8_lossy(raw))))?;
    let trimmed = s.strip_prefix("./").unwrap_or(s).trim_end_matches('/');
    let bad = trimmed.is_empty()
        || trimmed.starts_with('/')
        || trimmed.contains('\0')
        || trimmed
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..");
    if bad {
        return Err(Error::Format(format!("unsafe path {s:?} in snapshot")));
    }
    Ok(trimmed.to_owned())
}

/// Streams a snapshot out, entry by entry, in the order given.
///
/// Callers append in sorted path order for a deterministic file; [`Snapshot::write_to`] does.
pub struct SnapshotWriter<W: Write> {
    tar: tar::Builder<flate2::write::GzEncoder<W>>,
    mtime: u64,
}

impl<W: Write> SnapshotWriter<W> {
    /// Starts a snapshot and writes its manifest.
    pub fn new(out: W, manifest: &Manifest, mtime: u64) -> io::Result<SnapshotWriter<W>> {
        // mtime 0 and no file name: the gzip header carries nothing that varies between runs.
        let gz = GzBuilder::new().mtime(0).write(out, Compression::default());
        let mut tar = tar::Builder::new(gz);
        tar.mode(tar::HeaderMode::Deterministic);
        let mut w = SnapshotWriter { tar, mtime };
        let mut json = serde_json::to_vec_pretty(manifest).map_err(io::Error::other)?;
        json.push(b'\n');
        w.append(MANIFEST_PATH, &Entry::File(json))?;
        Ok(w)
    }

    /// Appends one entry.
    pub fn append(&mut self, path: &str, entry: &Entry) -> io::Result<()> {
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
            Entry::Dir => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                h.set_size(0);
                self.tar
                    .append_data(&mut h, format!("{path}/"), io::empty())
            }
        }
    }

    /// Ends the tar and the gzip stream and returns the underlying writer.
    pub fn finish(self) -> io::Result<W> {
        self.tar.into_inner()?.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Counts, Host};

    pub(crate) fn manifest() -> Manifest {
        Manifest {
            kind: "storesnap".into(),
            format_version: FORMAT_VERSION,
            tool: "storesnap test".into(),
            created: "2026-01-01T00:00:00Z".into(),
            host: Host::default(),
            engine: None,
            storage_driver: "overlay2".into(),
            data_root: "/var/lib/docker".into(),
            containerd: None,
            counts: Counts::default(),
            skipped: vec![],
            leftovers: vec![],
            redacted: vec![],
            image_configs: vec![],
            dir_sizes: Default::default(),
            warnings: vec![],
        }
    }

    fn sample() -> Snapshot {
        let long = format!(
            "image/overlay2/layerdb/sha256/{}/tar-split.json.gz",
            "a".repeat(64)
        );
        let entries = BTreeMap::from([
            (
                "image/overlay2/repositories.json".to_owned(),
                Entry::File(b"{}".to_vec()),
            ),
            (long, Entry::File(vec![1, 2, 3])),
            (
                "overlay2/l/ABC".to_owned(),
                Entry::Symlink(format!("../{}/diff", "b".repeat(64))),
            ),
            ("overlay2/x/diff".to_owned(), Entry::Dir),
        ]);
        Snapshot {
            manifest: manifest(),
            entries,
        }
    }

    fn bytes(s: &Snapshot) -> Vec<u8> {
        s.write_to(Vec::new(), 1_700_000_000).unwrap()
    }

    #[test]
    fn round_trips_and_is_deterministic() {
        let s = sample();
        let a = bytes(&s);
        assert_eq!(a, bytes(&s));
        assert_eq!(Snapshot::from_bytes(&a, Limits::default()).unwrap(), s);
    }

    #[track_caller]
    fn check_err(input: &[u8], limits: Limits, expected_start: &str) {
        let streamed = Snapshot::from_bytes(input, limits).unwrap_err().to_string();
        let sliced = sliced(input, limits).unwrap_err().to_string();
        for err in [streamed, sliced] {
            assert!(
                err.starts_with(expected_start),
                "got {err:?}, wanted {expected_start:?}…"
            );
        }
    }

    /// Reads through [`SlicedReader`] in small, odd-sized slices.
    fn sliced(input: &[u8], limits: Limits) -> Result<Snapshot> {
        let mut reader = SlicedReader::new(input.to_vec(), limits)?;
        let mut last = reader.progress();
        assert_eq!(last.total, input.len() as u64);
        while !reader.step(997)? {
            let now = reader.progress();
            assert!(now.read > last.read, "no progress: {now:?}");
            last = now;
        }
        reader.finish()
    }

    #[test]
    fn sliced_reading_gives_the_same_snapshot() {
        let s = sample();
        assert_eq!(sliced(&bytes(&s), Limits::default()).unwrap(), s);
        // Bytes after the gzip member are ignored by both readers.
        let mut trailing = bytes(&s);
        trailing.extend_from_slice(b"junk");
        assert_eq!(sliced(&trailing, Limits::default()).unwrap(), s);
        assert_eq!(
            Snapshot::from_bytes(&trailing, Limits::default()).unwrap(),
            s
        );
    }

    #[test]
    fn bad_input_gets_a_clear_error() {
        let good = bytes(&sample());
        check_err(
            b"",
            Limits::default(),
            "not a storesnap snapshot: the file is empty",
        );
        check_err(
            b"\x00\x01garbage",
            Limits::default(),
            "not a storesnap snapshot: the file is not gzip",
        );
        check_err(
            &good[..good.len() / 2],
            Limits::default(),
            "malformed snapshot: the file is truncated",
        );
        let mut flipped = good.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0xff;
        assert!(Snapshot::from_bytes(&flipped, Limits::default()).is_err());
        assert!(sliced(&flipped, Limits::default()).is_err());
        let tiny = Limits {
            max_decompressed_bytes: 4096,
            ..Limits::default()
        };
        check_err(
            &good,
            tiny,
            "snapshot exceeds a limit: more than 4096 bytes",
        );
        let few = Limits {
            max_entries: 2,
            ..Limits::default()
        };
        check_err(&good, few, "snapshot exceeds a limit: more than 2 entries");
    }

    #[test]
    fn a_bomb_stops_at_the_cap() {
        // 64 MiB of zeros compresses to ~64 KiB; the reader must stop at the cap, not inflate it all.
        let mut gz = GzBuilder::new().write(Vec::new(), Compression::fast());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..64 {
            gz.write_all(&zeros).unwrap();
        }
        let bomb = gz.finish().unwrap();
        let limits = Limits {
            max_decompressed_bytes: 8 << 20,
            ..Limits::default()
        };
        // A zero-filled tar is an empty archive, so this ends either at the cap or as "empty".
        let err = Snapshot::from_bytes(&bomb, limits).unwrap_err().to_string();
        assert!(err.contains("limit") || err.contains("empty"), "{err}");
        // Sliced reading inflates before it parses, so it always stops at the cap.
        let err = sliced(&bomb, limits).unwrap_err().to_string();
        assert!(
            err.starts_with("snapshot exceeds a limit: more than 8388608 bytes"),
            "{err}"
        );
    }

    #[test]
    fn a_tar_of_something_else_is_named() {
        let mut tar = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(2);
        tar.append_data(&mut h, "manifest.json", &b"[]"[..])
            .unwrap();
        let plain = tar.into_inner().unwrap();
        check_err(
            &plain,
            Limits::default(),
            "not a storesnap snapshot: this is an uncompressed tar",
        );
        let mut gz = GzBuilder::new().write(Vec::new(), Compression::fast());
        gz.write_all(&plain).unwrap();
        check_err(
            &gz.finish().unwrap(),
            Limits::default(),
            "not a storesnap snapshot: this is a `docker save` archive",
        );
    }

    #[test]
    fn unsafe_paths_are_rejected() {
        for bad in ["/etc/passwd", "a/../../b", "", "a//b", "./"] {
            assert!(clean_path(bad.as_bytes()).is_err(), "{bad:?} accepted");
        }
        assert_eq!(clean_path(b"./a/b/").unwrap(), "a/b");
    }
}
