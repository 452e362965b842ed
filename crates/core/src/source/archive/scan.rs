//! One pass over a `docker save` archive. Every entry is hashed; a compressed one is inflated
//! and hashed again, and its inner tar's headers are walked; small metadata is kept. Engines
//! write the metadata (`manifest.json`, `index.json`, `repositories`) last, so nothing can be
//! classified while reading: this pass records, and [`super::layout`] decides at the end
//! (docs/research/docker-save-archives.md, §4 and §5). Memory does not grow with layer sizes.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read};

use flate2::bufread::MultiGzDecoder;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};
use crate::id::Digest;
use crate::tarball::{Kind, Reader};

/// Caps on what one scan keeps; the bytes it reads are not capped (archives are gigabytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanLimits {
    pub max_entries: u64,
    /// Bytes of one kept metadata file (containerd's importer takes 20 MiB of JSON at most).
    pub max_kept_entry: u64,
    /// Bytes of all kept metadata together.
    pub max_kept_total: u64,
    /// File entries listed from all layers together (for file trees and wasted space); a
    /// layer past it is listed as cut.
    pub max_listed_files: usize,
}

impl Default for ScanLimits {
    fn default() -> ScanLimits {
        ScanLimits {
            max_entries: 1_000_000,
            max_kept_entry: 20 << 20,
            max_kept_total: 256 << 20,
            max_listed_files: 4_000_000,
        }
    }
}

/// How a stream is compressed, told by its magic bytes (Docker sniffs too, whatever the media
/// type says).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// The compression the first bytes of a stream announce; `Err` names one storesnap
    /// cannot inflate.
    pub fn sniff(head: &[u8]) -> std::result::Result<Compression, &'static str> {
        Ok(match head {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
            [0x42, 0x5a, 0x68, ..] => return Err("bzip2"),
            [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => return Err("xz"),
            _ => Compression::None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "uncompressed",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// What one pass over an archive learned. It crosses from the viewer's worker to the page as
/// JSON, so it holds plain data only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Scan {
    /// The archive's own compression (`docker save | gzip`).
    pub compression: Option<Compression>,
    /// Bytes of the archive file read.
    pub read: u64,
    /// Entries by cleaned path (no `./`, no trailing `/`); a later entry replaces an earlier.
    pub entries: BTreeMap<String, Scanned>,
    /// Entry names that are absolute or climb out with `..`, left unread.
    pub unsafe_paths: Vec<String>,
    /// Why the pass stopped before the archive's end, when it did: what was read is kept.
    pub error: Option<String>,
}

/// One entry of the archive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scanned {
    File(FileScan),
    /// A symbolic or hard link, with its target resolved to an archive path (`None` when it
    /// leaves the archive).
    Link {
        target: Option<String>,
        hard: bool,
    },
    Dir,
    /// A device, FIFO or unknown type: nothing an archive of images holds.
    Other {
        kind: String,
    },
}

/// A regular file: its digest, and what else its bytes showed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileScan {
    pub size: u64,
    pub sha256: Digest,
    /// The bytes of a small metadata file (JSON, `VERSION`); never of a layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Vec<u8>>,
    /// What reading the file as a (possibly compressed) layer tar found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<LayerScan>,
}

/// A file read as a layer: inflated if compressed, its tar headers walked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerScan {
    pub compression: Option<Compression>,
    /// sha256 of the uncompressed stream (the diffID it should be); `None` if it could not be
    /// inflated to its end.
    pub diff_id: Option<Digest>,
    /// Why it is not a readable layer tar (a damaged stream, a header that is not tar).
    pub error: Option<String>,
    /// Tar entries in it.
    pub entries: u64,
    /// Bytes of its regular files.
    pub content_bytes: u64,
    /// Bytes of its symlinks' targets: overlay2 counts them in a layer's size (it measures
    /// the applied directory, where a symlink's size is its target's length).
    pub symlink_bytes: u64,
    /// Its entries, each regular file with the CRC-64 of its content (as tar-split records
    /// it), in tar order; empty past the scan's `max_listed_files`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<crate::files::FileEntry>,
    /// Not listed: more entries than the scan's budget left, or a path longer than any
    /// filesystem holds.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub files_cut: bool,
}

impl LayerScan {
    /// The layer's size as overlay2, Docker's default driver, records it once applied.
    pub fn size(&self) -> u64 {
        self.content_bytes + self.symlink_bytes
    }
}

/// Reads the archive `input` to its end (or its first unreadable byte), calling `progress`
/// with the bytes read so far every few megabytes.
pub fn scan<R: Read>(input: R, limits: &ScanLimits, progress: &mut dyn FnMut(u64)) -> Result<Scan> {
    let mut counted = BufReader::with_capacity(
        256 << 10,
        Counting {
            inner: input,
            read: 0,
            reported: 0,
            progress,
        },
    );
    let head = counted.fill_buf()?.to_vec();
    if head.is_empty() {
        return Err(Error::NotAnArchive("the file is empty".into()));
    }
    let outer = Compression::sniff(&head).map_err(|what| {
        Error::Unsupported(format!(
            "the archive is {what}-compressed; decompress it first (e.g. `{what} -d`)"
        ))
    })?;
    let mut scan = Scan {
        compression: Some(outer),
        ..Scan::default()
    };
    let tar: Box<dyn Read + '_> = match outer {
        Compression::Gzip => Box::new(MultiGzDecoder::new(&mut counted)),
        Compression::Zstd => Box::new(crate::zstd::Frames::new(&mut counted)),
        Compression::None => Box::new(&mut counted),
    };
    let mut tar = Reader::new(tar);
    let mut kept = 0u64;
    let mut listable = limits.max_listed_files;
    loop {
        let header = match tar.next() {
            Ok(Some(h)) => h,
            Ok(None) => break,
            Err(e) if scan.entries.is_empty() => {
                return Err(Error::NotAnArchive(format!(
                    "it does not start with a tar header ({e}); a `docker save` archive is a \
                     tar, plain or gzip-compressed"
                )))
            }
            Err(e) => {
                scan.error = Some(describe_outer_error(&e));
                break;
            }
        };
        if scan.entries.len() as u64 >= limits.max_entries {
            return Err(Error::Limit(format!(
                "more than {} entries",
                limits.max_entries
            )));
        }
        let raw_path = String::from_utf8_lossy(&header.path).into_owned();
        let Some(path) = clean(&raw_path) else {
            // `./` itself, as `tar -C dir .` writes it, is the archive's root.
            if !raw_path.starts_with('/') && !raw_path.split('/').any(|p| p == "..") {
                continue;
            }
            scan.unsafe_paths.push(raw_path);
            continue;
        };
        let entry = match header.kind {
            Kind::Dir => Scanned::Dir,
            Kind::Symlink | Kind::HardLink => {
                let link = String::from_utf8_lossy(&header.link);
                let hard = header.kind != Kind::Symlink;
                // A symlink is relative to its directory, a hard link to the archive's root.
                let target = if hard {
                    clean(&link)
                } else {
                    resolve(&path, &link)
                };
                Scanned::Link { target, hard }
            }
            Kind::Other(kind) => Scanned::Other { kind: kind.into() },
            Kind::File => {
                let keep = kept < limits.max_kept_total && header.size <= limits.max_kept_entry;
                match scan_file(tar.data(), header.size, keep, &mut listable) {
                    Ok(file) => {
                        kept += file.content.as_ref().map_or(0, |c| c.len() as u64);
                        Scanned::File(file)
                    }
                    Err(e) => {
                        scan.error = Some(format!("{path}: {}", describe_outer_error(&e)));
                        break;
                    }
                }
            }
        };
        scan.entries.insert(path, entry);
    }
    // Read to the end so a damaged gzip or zstd trailer is seen, then count what was read.
    let mut rest = tar.into_inner();
    if scan.error.is_none() && outer != Compression::None {
        if let Err(e) = io::copy(&mut rest, &mut io::sink()) {
            scan.error = Some(describe_outer_error(&e));
        }
    }
    drop(rest);
    scan.read = counted.get_ref().read;
    Ok(scan)
}

fn describe_outer_error(e: &io::Error) -> String {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        "the archive ends in the middle of an entry (truncated)".into()
    } else {
        format!("the archive is damaged: {e}")
    }
}

/// One regular file, read to its end through the hashers. An error is the outer stream's
/// (the archive itself is cut or damaged); a layer that does not inflate is only noted.
fn scan_file(data: impl Read, size: u64, keep: bool, listable: &mut usize) -> io::Result<FileScan> {
    let mut raw = Hashing::new(data);
    let head = read_head(&mut raw, 512)?;
    let unsupported = Compression::sniff(&head).err();
    let sniffed = Compression::sniff(&head).unwrap_or(Compression::None);
    let mut content = None;
    let mut layer = None;
    let looks_like_text = head
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| matches!(b, b'{' | b'['))
        || (head.len() < 64 && !head.is_empty() && head.iter().all(|b| b.is_ascii_graphic()));
    if sniffed == Compression::None && looks_like_text && keep {
        let mut bytes = head;
        (&mut raw).take(size).read_to_end(&mut bytes)?;
        content = Some(bytes);
    } else if let Some(what) = unsupported {
        // Docker before 1.10 accepted bzip2 and xz layers; storesnap inflates neither.
        layer = Some(LayerScan {
            error: Some(format!(
                "a {what}-compressed layer, which storesnap does not inflate"
            )),
            ..LayerScan::default()
        });
    } else {
        let mut stream = io::Cursor::new(head).chain(&mut raw);
        layer = Some(scan_layer(&mut stream, sniffed, listable));
    }
    // Whatever the layer reader left unread still counts toward the digest.
    io::copy(&mut raw, &mut io::sink())?;
    if let Some(e) = raw.failed.take() {
        return Err(e);
    }
    let (sha256, read) = raw.finish();
    if read != size {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    if let Some(layer) = &mut layer {
        if sniffed == Compression::None && layer.error.is_none() {
            layer.diff_id = Some(sha256.clone());
        }
    }
    Ok(FileScan {
        size,
        sha256,
        content,
        layer,
    })
}

/// Inflates (when compressed) and walks the tar headers of one layer. Errors land in the
/// result: the caller still drains and hashes the raw bytes.
fn scan_layer(stream: &mut dyn Read, compression: Compression, listable: &mut usize) -> LayerScan {
    let mut out = LayerScan {
        compression: Some(compression),
        ..LayerScan::default()
    };
    let result = match compression {
        Compression::None => walk_tar(stream, &mut out, listable).map(|()| None),
        Compression::Gzip => {
            let mut inflated = Hashing::new(MultiGzDecoder::new(BufReader::new(stream)));
            walk_tar(&mut inflated, &mut out, listable)
                .and_then(|()| io::copy(&mut inflated, &mut io::sink()).map(|_| ()))
                .map(|()| Some(inflated.finish().0))
        }
        Compression::Zstd => {
            let mut inflated = Hashing::new(crate::zstd::Frames::new(BufReader::new(stream)));
            walk_tar(&mut inflated, &mut out, listable)
                .and_then(|()| io::copy(&mut inflated, &mut io::sink()).map(|_| ()))
                .map(|()| Some(inflated.finish().0))
        }
    };
    match result {
        Ok(diff) => out.diff_id = diff,
        Err(e) => {
            out.error = Some(match compression {
                Compression::None => format!("not a readable tar: {e}"),
                c => format!("its {} stream is damaged: {e}", c.as_str()),
            })
        }
    }
    out
}

/// Counts a layer tar's entries and file bytes, and lists them while `listable` lasts, each
/// file with the CRC-64 of its content; reads on to the end of the tar.
fn walk_tar(stream: &mut dyn Read, out: &mut LayerScan, listable: &mut usize) -> io::Result<()> {
    use crate::files::{clean_path, Crc64, FileEntry};
    let mut tar = Reader::new(stream);
    while let Some(header) = tar.next()? {
        out.entries += 1;
        match header.kind {
            Kind::File => out.content_bytes += header.size,
            Kind::Symlink => out.symlink_bytes += header.link.len() as u64,
            _ => {}
        }
        if out.files_cut {
            continue;
        }
        if *listable == 0 || header.path.len() > crate::files::MAX_PATH {
            out.files_cut = true;
            out.files = Vec::new();
            continue;
        }
        let Some(path) = clean_path(&String::from_utf8_lossy(&header.path)) else {
            continue;
        };
        *listable -= 1;
        let crc64 = if header.kind == Kind::File && header.size > 0 {
            let mut crc = Crc64::default();
            io::copy(&mut tar.data(), &mut crc)?;
            Some(crc.sum())
        } else {
            None
        };
        out.files
            .push(FileEntry::of_header(path, &header, header.size, crc64));
    }
    Ok(())
}

fn read_head(r: &mut impl Read, n: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    r.take(n as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// An entry name as a clean archive path: no `./`, no trailing or doubled `/`; `None` if it is
/// absolute or climbs out with `..`.
pub fn clean(name: &str) -> Option<String> {
    if name.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// A symlink's target as an archive path, relative to the link's directory.
fn resolve(link: &str, target: &str) -> Option<String> {
    if target.starts_with('/') {
        return None;
    }
    let dir = link.rsplit_once('/').map_or("", |(d, _)| d);
    clean(&format!("{dir}/{target}"))
}

/// Counts what it reads and hashes it; remembers its inner reader's error, so the caller can
/// tell a cut archive from a damaged layer.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    read: u64,
    failed: Option<io::Error>,
}

impl<R: Read> Hashing<R> {
    fn new(inner: R) -> Self {
        Hashing {
            inner,
            hasher: Sha256::new(),
            read: 0,
            failed: None,
        }
    }

    fn finish(self) -> (Digest, u64) {
        (Digest::from_sha256(self.hasher), self.read)
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.hasher.update(&buf[..n]);
                self.read += n as u64;
                Ok(n)
            }
            Err(e) => {
                let again = io::Error::new(e.kind(), e.to_string());
                self.failed = Some(e);
                Err(again)
            }
        }
    }
}

struct Counting<'p, R> {
    inner: R,
    read: u64,
    reported: u64,
    progress: &'p mut dyn FnMut(u64),
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read - self.reported >= 4 << 20 || n == 0 {
            self.reported = self.read;
            (self.progress)(self.read);
        }
        Ok(n)
    }
}
