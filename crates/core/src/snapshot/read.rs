//! Reading a snapshot: the outer stream (zstd or gzip, told by its magic), then the tar inside,
//! every step bounded by [`Limits`].

use std::collections::BTreeMap;
use std::io::{self, BufRead, Read};

use flate2::read::GzDecoder;

use super::{Contents, Entry, Limits, Snapshot, STORED_INFLATED};
use crate::error::{Error, Result};
use crate::manifest::{Manifest, FORMAT_VERSION, MANIFEST_PATH};

/// How a snapshot's tar is compressed: zstd since format 2, gzip before (and still accepted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Codec {
    Gzip,
    Zstd,
}

impl Codec {
    pub(super) fn name(self) -> &'static str {
        match self {
            Codec::Gzip => "gzip",
            Codec::Zstd => "zstd",
        }
    }
}

/// Reads a snapshot from a stream of the compressed file.
pub(super) fn from_reader<R: Read>(reader: R, limits: Limits) -> Result<Snapshot> {
    let mut reader = io::BufReader::new(reader);
    match sniff(&mut reader)? {
        Codec::Gzip => from_inflating(GzDecoder::new(reader), Codec::Gzip, limits),
        // ruzstd answers each read by decoding blocks anew: the tar parser's 512-byte reads
        // go to a buffer instead (4x faster on a 15,000-layer snapshot).
        Codec::Zstd => from_inflating(
            io::BufReader::with_capacity(1 << 20, crate::zstd::Frames::new(reader)),
            Codec::Zstd,
            limits,
        ),
    }
}

fn from_inflating<R: Read>(inner: R, codec: Codec, limits: Limits) -> Result<Snapshot> {
    let mut capped = Capped {
        inner,
        left: limits.max_decompressed_bytes,
    };
    let parsed = parse_tar(&mut capped, limits, codec.name());
    // Read on past the tar's end so the stream's own checks run (gzip's CRC and length,
    // zstd's frame checksums): a file cut in its trailer is still a damaged file. A damaged
    // stream is also the likelier cause of whatever the tar parser tripped on, so its error
    // wins (the sliced reader does the same).
    match io::copy(&mut capped, &mut io::sink()) {
        Err(e) => Err(stream_error(e, codec, &limits)),
        Ok(_) => parsed,
    }
}

/// The codec a snapshot's first bytes announce; anything else (nothing, a plain tar, a random
/// file) is named here.
pub(super) fn sniff<R: BufRead>(head: &mut R) -> Result<Codec> {
    let magic = peek(head, 4)?;
    if magic.is_empty() {
        return Err(Error::NotASnapshot("the file is empty".into()));
    }
    if magic.starts_with(&[0x1f, 0x8b]) {
        return Ok(Codec::Gzip);
    }
    if magic == [0x28, 0xb5, 0x2f, 0xfd] {
        return Ok(Codec::Zstd);
    }
    Err(Error::NotASnapshot(describe_uncompressed(head)?))
}

fn peek<R: BufRead>(r: &mut R, n: usize) -> io::Result<Vec<u8>> {
    let buf = r.fill_buf()?;
    Ok(buf[..buf.len().min(n)].to_vec())
}

fn describe_uncompressed<R: BufRead>(r: &mut R) -> Result<String> {
    let head = peek(r, 512)?;
    let is_tar = head.len() >= 262 && &head[257..262] == b"ustar";
    Ok(if is_tar {
        // A `docker save` archive holds manifest.json or index.json, never storesnap.json.
        "this is an uncompressed tar, not a snapshot; if it came from `docker save`, `storesnap \
         check`, `images`, `history`, `report` and `view` read it as an archive"
            .into()
    } else {
        "the file is neither zstd- nor gzip-compressed (a snapshot is the .tar.zst or .tar.gz \
         that `storesnap pack` writes)"
            .into()
    })
}

pub(super) struct Capped<R> {
    pub(super) inner: R,
    pub(super) left: u64,
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
pub(super) struct LimitHit(pub(super) &'static str);

impl std::fmt::Display for LimitHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for LimitHit {}

/// An error of the compressed stream itself (or the tar inside it cut short), worded the same
/// whichever reader met it and wherever in the stream. flate2 words a cut trailer as
/// "unexpected end of file" or as a checksum error depending on where the cut falls, so the
/// wording does not say which.
pub(super) fn stream_error(e: io::Error, codec: Codec, limits: &Limits) -> Error {
    if e.get_ref().is_some_and(|inner| inner.is::<LimitHit>()) {
        return map_io(e, limits, codec.name());
    }
    damaged(codec.name())
}

/// `stream`: the compressed stream's codec, or "tar" for a tar read as it is.
fn damaged(stream: &str) -> Error {
    Error::Format(format!(
        "the file is truncated or its {stream} stream is damaged"
    ))
}

pub(super) fn map_io(e: io::Error, limits: &Limits, stream: &str) -> Error {
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
        // The tar cut short or garbled: worded as a damaged stream, which is what a cut or
        // garbled file is, whichever layer notices first.
        io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => {
            damaged(stream)
        }
        _ => Error::Io(e),
    }
}

/// Parses a whole tar stream and reads on to its end.
pub(super) fn read_tar<R: Read>(
    mut reader: R,
    limits: Limits,
    stream: &'static str,
) -> Result<Snapshot> {
    let snapshot = parse_tar(&mut reader, limits, stream)?;
    io::copy(&mut reader, &mut io::sink()).map_err(|e| map_io(e, &limits, stream))?;
    Ok(snapshot)
}

/// Parses the tar's entries, up to its end-of-archive marker.
fn parse_tar<R: Read>(reader: R, limits: Limits, stream: &'static str) -> Result<Snapshot> {
    let mut archive = crate::tarball::Reader::new(reader);
    let mut parse = TarParse::new(limits, stream, Contents::All);
    while parse.entry(&mut archive)? {}
    parse.finish()
}

/// A snapshot's tar parsed an entry at a time, so that a caller can stop between entries (the
/// sliced reader does, to report progress) without holding the inflated tar.
pub(super) struct TarParse {
    manifest: Option<Manifest>,
    /// In the tar's order; a map once all are read. `pack` writes them sorted, and building a
    /// map from sorted entries compares each path once, not a score of times (long paths that
    /// share their first hundred bytes: a tenth of reading a large snapshot).
    entries: Vec<(String, Entry)>,
    /// Whether `entries` is sorted so far, without repeats.
    sorted: bool,
    count: u64,
    limits: Limits,
    /// The stream's codec, or "tar", for error messages.
    stream: &'static str,
    contents: Contents,
}

impl TarParse {
    pub(super) fn new(limits: Limits, stream: &'static str, contents: Contents) -> TarParse {
        TarParse {
            manifest: None,
            entries: Vec::new(),
            sorted: true,
            count: 0,
            limits,
            stream,
            contents,
        }
    }

    /// Parses the next entry; `false` once the archive's end is reached.
    pub(super) fn entry<R: Read>(
        &mut self,
        archive: &mut crate::tarball::Reader<R>,
    ) -> Result<bool> {
        use crate::tarball::Kind;
        let (limits, stream) = (self.limits, self.stream);
        let Some(header) = archive.next().map_err(|e| map_io(e, &limits, stream))? else {
            return Ok(false);
        };
        self.count += 1;
        if self.count > limits.max_entries {
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
                // The manifest is always read: it says what the rest is.
                if self.count > 1 && !self.contents.keeps(&path) {
                    // The reader skips it on its way to the next header.
                    Entry::Unread(header.size)
                } else {
                    let bytes = archive
                        .read_data(header.size)
                        .map_err(|e| map_io(e, &limits, stream))?;
                    Entry::File(bytes)
                }
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
        if self.count == 1 {
            self.manifest = Some(first_entry(&path, &item)?);
            return Ok(true);
        }
        if let Some((last, _)) = self.entries.last() {
            match last.as_str().cmp(&path) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => return Err(twice(&path)),
                std::cmp::Ordering::Greater => self.sorted = false,
            }
        }
        self.entries.push((path, item));
        Ok(true)
    }

    /// The snapshot, once [`TarParse::entry`] has said the archive ended.
    pub(super) fn finish(self) -> Result<Snapshot> {
        let TarParse {
            manifest,
            mut entries,
            sorted,
            ..
        } = self;
        let manifest =
            manifest.ok_or_else(|| Error::NotASnapshot("the archive is empty".into()))?;
        if !sorted {
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            if let Some(pair) = entries.windows(2).find(|w| w[0].0 == w[1].0) {
                return Err(twice(&pair[0].0));
            }
        }
        let entries: BTreeMap<String, Entry> = entries.into_iter().collect();
        for (stored, inflated) in STORED_INFLATED {
            // A file is kept one way or the other, never both: which would a reader believe?
            let both = entries.keys().find(|p| {
                p.strip_suffix(inflated).is_some_and(|dir| {
                    dir.ends_with('/') && entries.contains_key(&format!("{dir}{stored}"))
                })
            });
            if let Some(path) = both {
                return Err(Error::Format(format!(
                    "{path} appears twice, inflated and as {stored}"
                )));
            }
        }
        Ok(Snapshot { manifest, entries })
    }
}

fn twice(path: &str) -> Error {
    Error::Format(format!("{path} appears twice"))
}

/// The manifest, from the tar's first entry, which must be `storesnap.json`.
fn first_entry(path: &str, item: &Entry) -> Result<Manifest> {
    if is_docker_save_entry(path) {
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
    let Entry::File(bytes) = item else {
        return Err(Error::NotASnapshot(format!(
            "{MANIFEST_PATH} is not a file"
        )));
    };
    parse_manifest(bytes)
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
pub(super) fn clean_path(raw: &[u8]) -> Result<String> {
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
