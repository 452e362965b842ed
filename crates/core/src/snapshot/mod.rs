//! The snapshot file: a compressed tar whose first entry is `storesnap.json`.
//!
//! Format 2 (`storesnap pack` today) is zstd; format 1 was gzip, and both are read, told apart
//! by their magic. Since format 2, a file the store keeps gzip'd ([`STORED_INFLATED`], the
//! layers' tar-splits) is stored inflated under its name without `.gz`, unless it did not
//! inflate cleanly (then it is kept as it was, damage and all). Loaders look for both names.
//!
//! Writing is deterministic: entries sorted by path, owners 0, fixed modes, every mtime set to
//! the snapshot's creation time, and nothing in the compressed stream's header that varies
//! between runs. Reading is bounded: a hostile file hits a [`Limits`] cap and becomes an
//! error, never a hang or an exhausted heap.

mod read;
mod sliced;
mod write;

use std::collections::BTreeMap;
use std::io::{self, Read, Write};

use flate2::{Compression, GzBuilder};

use crate::error::Result;
use crate::manifest::Manifest;

pub use sliced::{Progress, SlicedReader};
pub use write::{SnapshotWriter, MAX_INFLATED_FILE};

/// Files a store keeps gzip'd that a snapshot keeps inflated: (stored name, name in the
/// snapshot). layerdb's tar-splits, and the pre-1.10 `graph/`'s.
pub const STORED_INFLATED: [(&str, &str); 2] = [
    ("tar-split.json.gz", "tar-split.json"),
    ("tar-data.json.gz", "tar-data.json"),
];

/// The path a gzip'd file is kept at inflated, if it is one of [`STORED_INFLATED`].
pub fn inflated_path(path: &str) -> Option<String> {
    STORED_INFLATED.iter().find_map(|(stored, inflated)| {
        let dir = path.strip_suffix(stored)?;
        (dir.is_empty() || dir.ends_with('/')).then(|| format!("{dir}{inflated}"))
    })
}

/// Which files' contents a reader keeps; the others become [`Entry::Unread`].
///
/// Loading and checking a store reads none of layerdb's tar-splits, which at 15,000 layers are
/// four fifths of what a snapshot holds; the file lists read nothing else. A reader that
/// needs both can read the file twice and hold half as much at its peak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Contents {
    #[default]
    All,
    /// All but layerdb's tar-splits (`image/<driver>/layerdb/sha256/<chain>/tar-split.json`,
    /// inflated or gzip'd). The pre-1.10 layout's `tar-data.json` is kept: its loader sums it.
    Metadata,
    /// Only the tar-splits of either layout ([`crate::tarsplit::Stored::is_path`]).
    TarSplits,
}

impl Contents {
    /// Whether a file at `path` keeps its content.
    pub fn keeps(self, path: &str) -> bool {
        match self {
            Contents::All => true,
            Contents::Metadata => !is_layerdb_tar_split(path),
            Contents::TarSplits => crate::tarsplit::Stored::is_path(path),
        }
    }
}

/// `image/<driver>/layerdb/sha256/<chain>/tar-split.json`, or `.json.gz`.
fn is_layerdb_tar_split(path: &str) -> bool {
    let (gz, plain) = STORED_INFLATED[0];
    let mut parts = path.split('/');
    let mut next = || parts.next();
    matches!(
        [next(), next(), next(), next(), next(), next(), next()],
        [Some("image"), Some(_), Some("layerdb"), Some("sha256"), Some(_), Some(name), None]
            if name == gz || name == plain
    )
}

/// Whether `path`'s last component is `name`.
pub(crate) fn names(path: &str, name: &str) -> bool {
    path.strip_suffix(name)
        .is_some_and(|dir| dir.ends_with('/'))
}

/// One entry of a snapshot, keyed by its path relative to the data root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    File(Vec<u8>),
    /// A file whose content the reader was told to leave unread ([`Contents`]), and its size.
    Unread(u64),
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

    /// Reads a snapshot from a stream of the compressed file (zstd or gzip).
    pub fn from_reader<R: Read>(reader: R, limits: Limits) -> Result<Snapshot> {
        read::from_reader(reader, limits)
    }

    /// Reads a snapshot from its tar stream, already inflated (the same checks and limits).
    pub fn from_tar<R: Read>(reader: R, limits: Limits) -> Result<Snapshot> {
        read::read_tar(
            read::Capped {
                inner: reader,
                left: limits.max_decompressed_bytes,
            },
            limits,
            "tar",
        )
    }

    /// Writes the snapshot's tar, uncompressed, for the caller to compress; `mtime` is stamped
    /// on every entry.
    pub fn write_tar<W: Write>(&self, out: W, mtime: u64) -> io::Result<W> {
        let mut w = SnapshotWriter::new(out, &self.manifest, mtime)?;
        for (path, entry) in &self.entries {
            w.append(path, entry)?;
        }
        w.finish()
    }

    /// Writes the snapshot as a deterministic `.tar.gz`, which every storesnap reads. `pack`
    /// writes zstd (smaller and faster), with an encoder this pure crate does not carry.
    pub fn write_to<W: Write>(&self, out: W, mtime: u64) -> io::Result<W> {
        // mtime 0 and no file name: the gzip header carries nothing that varies between runs.
        let gz = GzBuilder::new().mtime(0).write(out, Compression::default());
        self.write_tar(gz, mtime)?.finish()
    }

    /// The content of a file entry.
    pub fn file(&self, path: &str) -> Option<&[u8]> {
        match self.entries.get(path)? {
            Entry::File(bytes) => Some(bytes),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::read::clean_path;
    use super::*;
    use crate::manifest::{Counts, Host, FORMAT_VERSION};

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
            assert!(
                now.read + now.inflated > last.read + last.inflated,
                "no progress: {now:?}"
            );
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
            "not a storesnap snapshot: the file is neither zstd- nor gzip-compressed",
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

    fn zstd(s: &Snapshot) -> Vec<u8> {
        let tar = s.write_tar(Vec::new(), 1_700_000_000).unwrap();
        ruzstd::encoding::compress_to_vec(&tar[..], ruzstd::encoding::CompressionLevel::Fastest)
    }

    #[test]
    fn zstd_snapshots_read_as_gzip_ones_do() {
        let s = sample();
        let z = zstd(&s);
        assert_eq!(Snapshot::from_bytes(&z, Limits::default()).unwrap(), s);
        assert_eq!(sliced(&z, Limits::default()).unwrap(), s);
        check_err(
            &z[..z.len() - 2],
            Limits::default(),
            "malformed snapshot: the file is truncated or its zstd stream is damaged",
        );
        let tiny = Limits {
            max_decompressed_bytes: 4096,
            ..Limits::default()
        };
        check_err(&z, tiny, "snapshot exceeds a limit: more than 4096 bytes");
    }

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut gz = GzBuilder::new().write(Vec::new(), Compression::fast());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap()
    }

    #[track_caller]
    fn check_kept(path: &str, content: Vec<u8>, expected: (&str, Vec<u8>)) {
        let mut s = sample();
        s.entries.insert(path.into(), Entry::File(content));
        let back = Snapshot::from_bytes(&bytes(&s), Limits::default()).unwrap();
        assert_eq!(back.file(expected.0), Some(&expected.1[..]), "{path}");
        assert_eq!(back.entries.len(), s.entries.len(), "{path}");
    }

    #[test]
    fn tar_splits_are_kept_inflated_unless_damaged() {
        let dir = format!("image/overlay2/layerdb/sha256/{}", "c".repeat(64));
        let text = b"{\"type\":2,\"payload\":\"\",\"position\":0}\n".repeat(50);
        let split = format!("{dir}/tar-split.json.gz");
        check_kept(
            &split,
            gz(&text),
            (&format!("{dir}/tar-split.json"), text.clone()),
        );
        let legacy = format!("graph/{}/tar-data.json.gz", "d".repeat(64));
        check_kept(
            &legacy,
            gz(&text),
            (
                &format!("graph/{}/tar-data.json", "d".repeat(64)),
                text.clone(),
            ),
        );
        // Kept as they were: bytes after the gzip member, a cut member, a flipped CRC, not gzip.
        let mut trailing = gz(&text);
        trailing.extend_from_slice(b"more");
        let cut = gz(&text)[..20].to_vec();
        let mut crc = gz(&text);
        let n = crc.len();
        crc[n - 6] ^= 1;
        for damaged in [trailing, cut, crc, b"plain".to_vec()] {
            check_kept(&split, damaged.clone(), (&split, damaged));
        }
        // Past the cap on one inflated file.
        let big = b"x".repeat(write::MAX_INFLATED_FILE as usize + 1);
        check_kept(&split, gz(&big), (&split, gz(&big)));
        // Only those names are inflated.
        let other = format!("{dir}/other.json.gz");
        check_kept(&other, gz(&text), (&other, gz(&text)));
    }

    #[test]
    fn a_tar_split_kept_both_ways_is_refused() {
        let dir = format!("image/overlay2/layerdb/sha256/{}", "c".repeat(64));
        let mut s = sample();
        s.entries
            .insert(format!("{dir}/tar-split.json"), Entry::File(b"{}".to_vec()));
        s.entries.insert(
            format!("{dir}/tar-split.json.gz"),
            Entry::File(b"x".to_vec()),
        );
        check_err(
            &bytes(&s),
            Limits::default(),
            "malformed snapshot: image/overlay2/layerdb/sha256/cccc",
        );
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
