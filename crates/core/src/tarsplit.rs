//! tar-split (`tar-split.json.gz` in layerdb, `tar-data.json.gz` in the pre-1.10 `graph/`):
//! gzip'd JSON lines from which Docker rebuilds a layer's exact tar. Type 1 lines are files
//! (name, size, CRC-64), type 2 lines raw header bytes. Nothing of a file's content is in it.
//! A snapshot keeps it inflated (see [`crate::snapshot::STORED_INFLATED`]).

use std::borrow::Cow;
use std::io::{BufRead, BufReader, Read};

use flate2::read::GzDecoder;
use serde::Deserialize;

/// What a tar-split says about its layer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// File entries.
    pub files: u64,
    /// Their bytes: what a graph driver that counts tar headers records as the layer's size.
    pub file_bytes: u64,
}

#[derive(Deserialize)]
struct Line {
    #[serde(rename = "type")]
    kind: u8,
    #[serde(default)]
    size: u64,
}

/// A tar-split as a store or a snapshot holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored<'a> {
    /// As Docker writes it (`tar-split.json.gz`).
    Gzip(&'a [u8]),
    /// Inflated, as a snapshot keeps it since format 2 (`tar-split.json`).
    Inflated(&'a [u8]),
}

impl<'a> Stored<'a> {
    /// The tar-split a store keeps at `gz_path`, or a snapshot inflated beside it, with the
    /// path it was found at.
    pub fn find(
        files: &'a crate::source::files::Files,
        gz_path: &str,
    ) -> Option<(String, Stored<'a>)> {
        use crate::source::files::file;
        if let Some(gz) = file(files, gz_path) {
            return Some((gz_path.to_owned(), Stored::Gzip(gz)));
        }
        let plain = crate::snapshot::inflated_path(gz_path)?;
        let text = file(files, &plain)?;
        Some((plain, Stored::Inflated(text)))
    }

    /// Whether a store's files hold this tar-split, either way.
    pub fn exists(files: &crate::source::files::Files, gz_path: &str) -> bool {
        files.contains_key(gz_path)
            || crate::snapshot::inflated_path(gz_path).is_some_and(|p| files.contains_key(&p))
    }

    /// Whether a path names a tar-split, gzip'd or inflated.
    pub fn is_path(path: &str) -> bool {
        crate::snapshot::STORED_INFLATED.iter().any(|(gz, plain)| {
            crate::snapshot::names(path, gz) || crate::snapshot::names(path, plain)
        })
    }

    fn reader(self) -> Box<dyn Read + 'a> {
        match self {
            Stored::Gzip(gz) => Box::new(GzDecoder::new(gz)),
            Stored::Inflated(text) => Box::new(text),
        }
    }
}

/// Reads a tar-split, inflating at most `max_bytes`. A line longer than a header
/// segment could be is refused before it is held: a tar-split is a bomb like any gzip.
pub fn summarize(stored: Stored<'_>, max_bytes: u64) -> Result<Summary, String> {
    const MAX_LINE: u64 = 1 << 20;
    let mut reader = BufReader::new(stored.reader().take(max_bytes));
    let mut out = Summary::default();
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = (&mut reader)
            .take(MAX_LINE)
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("not gzip: {e}"))?;
        if n == 0 {
            break;
        }
        if n as u64 == MAX_LINE && line.last() != Some(&b'\n') {
            return Err("a line longer than 1 MiB".into());
        }
        let text = line.trim_ascii();
        if text.is_empty() {
            continue;
        }
        let entry: Line =
            serde_json::from_slice(text).map_err(|e| format!("not tar-split JSON: {e}"))?;
        if entry.kind == 1 {
            out.files += 1;
            out.file_bytes = out.file_bytes.saturating_add(entry.size);
        }
    }
    if reader.into_inner().limit() == 0 {
        return Err(format!("inflates to more than {max_bytes} bytes"));
    }
    Ok(out)
}

/// One JSON line of a tar-split, as `vbatts/tar-split`'s `storage.Entry` writes it.
#[derive(Deserialize)]
struct Record {
    #[serde(rename = "type")]
    kind: u8,
    #[serde(default)]
    name: Option<String>,
    /// The name's bytes, when they are not UTF-8.
    #[serde(default)]
    name_raw: Option<String>,
    #[serde(default)]
    size: u64,
    /// Segment: raw tar bytes. File: the content's CRC-64, 8 bytes big-endian.
    #[serde(default)]
    payload: Option<String>,
}

/// A segment's bytes since the last file: at most a header, its long names and PAX records,
/// and the padding before them. Anything longer is not a tar-split moby wrote.
const MAX_PENDING: usize = 4 << 20;

/// Rebuilds a layer's tar entries from its tar-split: each file line gives the name,
/// size and CRC-64; the raw header bytes in the segment before it give the kind, mode,
/// owner, time and link target. A tar-split gzip'd twice (as some migrations stored it) is
/// inflated twice. Linear in the inflated size, which `limits` caps.
pub fn entries(
    stored: Stored<'_>,
    limits: &crate::files::FileLimits,
) -> Result<Vec<crate::files::FileEntry>, crate::files::FilesError> {
    use crate::files::FilesError;
    let mut inflated: Cow<'_, [u8]> = match stored {
        Stored::Gzip(gz) => {
            let mut inflated = Vec::new();
            let mut decoder = GzDecoder::new(gz).take(limits.max_inflated.saturating_add(1));
            decoder
                .read_to_end(&mut inflated)
                .map_err(|e| FilesError::Gzip(e.to_string()))?;
            Cow::Owned(inflated)
        }
        Stored::Inflated(text) => Cow::Borrowed(text),
    };
    if inflated.len() as u64 > limits.max_inflated {
        return Err(FilesError::TooLarge(limits.max_inflated));
    }
    if inflated.starts_with(&[0x1f, 0x8b]) {
        let mut twice = Vec::new();
        GzDecoder::new(&inflated[..])
            .take(limits.max_inflated.saturating_add(1))
            .read_to_end(&mut twice)
            .map_err(|e| FilesError::Gzip(e.to_string()))?;
        if twice.len() as u64 > limits.max_inflated {
            return Err(FilesError::TooLarge(limits.max_inflated));
        }
        inflated = Cow::Owned(twice);
    }
    parse_lines(&inflated, limits.max_entries)
}

/// [`entries`] on a tar-split already inflated: its JSON lines.
pub fn entries_of_lines(
    text: &[u8],
    max_entries: usize,
) -> Result<Vec<crate::files::FileEntry>, crate::files::FilesError> {
    parse_lines(text, max_entries)
}

fn parse_lines(
    text: &[u8],
    max_entries: usize,
) -> Result<Vec<crate::files::FileEntry>, crate::files::FilesError> {
    use crate::files::{FileEntry, FileKind, FilesError};
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut out = Vec::new();
    // Raw bytes since the last file line, and how many of them are the last file's padding.
    let mut pending: Vec<u8> = Vec::new();
    let mut overflow = false;
    let mut pad = 0usize;
    for (index, line) in text.split(|&b| b == b'\n').enumerate() {
        let line_no = index + 1;
        let fail = |message: String| FilesError::Line {
            line: line_no,
            message,
        };
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        let record: Record =
            serde_json::from_slice(line).map_err(|e| fail(format!("not tar-split JSON: {e}")))?;
        match record.kind {
            2 => {
                let payload = record.payload.unwrap_or_default();
                let bytes = b64
                    .decode(payload.as_bytes())
                    .map_err(|e| fail(format!("segment is not base64: {e}")))?;
                // Trailing padding after the last file may run long; a header may not.
                let room = MAX_PENDING.saturating_sub(pending.len());
                overflow |= bytes.len() > room;
                pending.extend_from_slice(&bytes[..bytes.len().min(room)]);
            }
            1 => {
                if out.len() >= max_entries {
                    return Err(FilesError::TooManyEntries(max_entries));
                }
                let name = match (record.name, record.name_raw) {
                    (Some(n), _) => n,
                    (None, Some(raw)) => {
                        let bytes = b64
                            .decode(raw.as_bytes())
                            .map_err(|e| fail(format!("name_raw is not base64: {e}")))?;
                        String::from_utf8_lossy(&bytes).into_owned()
                    }
                    (None, None) => return Err(fail("a file line without a name".into())),
                };
                if name.len() > crate::files::MAX_PATH {
                    return Err(fail(format!(
                        "a path of {} bytes, longer than any filesystem holds ({})",
                        name.len(),
                        crate::files::MAX_PATH
                    )));
                }
                let crc64 = match record.payload {
                    Some(p) if !p.is_empty() => {
                        let bytes = b64
                            .decode(p.as_bytes())
                            .map_err(|e| fail(format!("checksum is not base64: {e}")))?;
                        let sum: [u8; 8] = bytes.as_slice().try_into().map_err(|_| {
                            fail(format!("a checksum of {} bytes, not 8", bytes.len()))
                        })?;
                        Some(u64::from_be_bytes(sum))
                    }
                    _ => None,
                };
                if overflow {
                    return Err(fail(format!(
                        "more than {MAX_PENDING} raw bytes before {name:?}"
                    )));
                }
                let skip = pad.min(pending.len());
                let header = last_header(&pending[skip..])
                    .ok_or_else(|| FilesError::NoHeader { name: name.clone() })?;
                pending.clear();
                let kind = FileKind::of_tar(header.kind);
                let size = if kind == FileKind::File {
                    record.size
                } else {
                    0
                };
                pad = ((512 - size % 512) % 512) as usize;
                // The layer's root ("./") is an entry of no interest to a file tree.
                let Some(path) = crate::files::clean_path(&name) else {
                    continue;
                };
                out.push(FileEntry::of_header(
                    path,
                    &header,
                    size,
                    crc64.filter(|_| size > 0),
                ));
            }
            other => return Err(fail(format!("unknown entry type {other}"))),
        }
    }
    Ok(out)
}

/// The header an entry's raw bytes end with: long names, links and PAX records before it
/// applied. `None` if the bytes hold no whole, valid header.
fn last_header(mut raw: &[u8]) -> Option<crate::tarball::Header> {
    use crate::tarball::{pax, until_nul, Block, Header, Kind, Pax, BLOCK};
    let (mut long_path, mut long_link) = (None, None);
    let mut records = Pax::default();
    loop {
        let block: &[u8; BLOCK] = raw.get(..BLOCK)?.try_into().ok()?;
        let parsed = Block::parse(block).ok()??;
        raw = &raw[BLOCK..];
        if parsed.is_meta() {
            let size = usize::try_from(parsed.size).ok()?;
            let data = raw.get(..size)?;
            match parsed.flag {
                b'L' => long_path = Some(until_nul(data).to_vec()),
                b'K' => long_link = Some(until_nul(data).to_vec()),
                b'x' => records.merge(pax(data)),
                _ => {}
            }
            let padded = size.checked_add((BLOCK - size % BLOCK) % BLOCK)?;
            raw = raw.get(padded..)?;
            continue;
        }
        let path = records
            .path
            .take()
            .or(long_path)
            .unwrap_or_else(|| parsed.name());
        let link = records
            .link
            .take()
            .or(long_link)
            .unwrap_or_else(|| parsed.link());
        return Some(Header {
            path,
            link,
            kind: Kind::of_flag(parsed.flag),
            size: records.size.unwrap_or(parsed.size),
            meta: parsed.meta(&records),
        });
    }
}
