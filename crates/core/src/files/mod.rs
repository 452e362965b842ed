//! What is inside each layer, without the layers: file entries as a layer's tar lists them
//! (from a tar-split in a store, or from the layer tar in a `docker save` archive), stacked as
//! the kernel stacks them, and the wasted space dive counts.
//!
//! Every source produces [`FileEntry`] lists; [`stack`] turns an image's lists into per-layer
//! changes and a merged tree; [`efficiency`] computes dive's figures and storesnap's own.

mod crc64;
pub mod efficiency;
mod source;
mod stack;
pub mod tree;

pub use crc64::Crc64;
pub use source::{image_layers, LayerFiles};
pub use stack::{stack, Change, ChangeKind, Gone, LayerChanges, Merged, Stacked};

/// The kind of a tar entry.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    File,
    Dir,
    Symlink,
    HardLink,
    CharDevice,
    BlockDevice,
    Fifo,
    Other,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::File => "file",
            FileKind::Dir => "dir",
            FileKind::Symlink => "symlink",
            FileKind::HardLink => "hardlink",
            FileKind::CharDevice => "char-device",
            FileKind::BlockDevice => "block-device",
            FileKind::Fifo => "fifo",
            FileKind::Other => "other",
        }
    }

    pub(crate) fn of_tar(kind: crate::tarball::Kind) -> FileKind {
        use crate::tarball::Kind;
        match kind {
            Kind::File => FileKind::File,
            Kind::Dir => FileKind::Dir,
            Kind::Symlink => FileKind::Symlink,
            Kind::HardLink => FileKind::HardLink,
            Kind::Other("character device") => FileKind::CharDevice,
            Kind::Other("block device") => FileKind::BlockDevice,
            Kind::Other("FIFO") => FileKind::Fifo,
            Kind::Other(_) => FileKind::Other,
        }
    }
}

/// One entry of a layer's tar: its header, never its content.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileEntry {
    /// Relative to the layer's root: no leading `./` or `/`, no trailing `/`. Names that are
    /// not UTF-8 are shown with replacement characters.
    pub path: String,
    pub kind: FileKind,
    /// The header's size: a regular file's bytes; 0 for everything else.
    pub size: u64,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// Seconds since the epoch.
    pub mtime: i64,
    /// A symlink's target, or the path a hard link names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// CRC-64/ISO of the content, as tar-split records it; `None` for empty files and for
    /// entries read from a layer tar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc64: Option<u64>,
}

impl FileEntry {
    /// An entry from a tar header (a layer tar's, or one a tar-split kept): `path` already
    /// cleaned, `size` and `crc64` as the caller knows them.
    pub(crate) fn of_header(
        path: String,
        header: &crate::tarball::Header,
        size: u64,
        crc64: Option<u64>,
    ) -> FileEntry {
        FileEntry {
            path,
            kind: FileKind::of_tar(header.kind),
            size,
            mode: header.meta.mode,
            uid: header.meta.uid,
            gid: header.meta.gid,
            mtime: header.meta.mtime,
            link: (!header.link.is_empty())
                .then(|| String::from_utf8_lossy(&header.link).into_owned()),
            crc64,
        }
    }

    /// The name a whiteout hides (`dir/.wh.name` hides `dir/name`), if this is one; an opaque
    /// marker is not.
    pub fn whiteout_of(&self) -> Option<String> {
        let (dir, name) = split(&self.path);
        let hidden = name.strip_prefix(WHITEOUT)?;
        (name != OPAQUE).then(|| join(dir, hidden))
    }

    /// The directory an opaque marker (`dir/.wh..wh..opq`) empties of everything below it.
    pub fn opaque_dir(&self) -> Option<&str> {
        let (dir, name) = split(&self.path);
        (name == OPAQUE).then_some(dir)
    }
}

/// Linux's PATH_MAX: no layer applied to a filesystem holds a longer path, and bounding it
/// keeps path-by-path work on hostile lists linear enough.
pub const MAX_PATH: usize = 4096;

const WHITEOUT: &str = ".wh.";
const OPAQUE: &str = ".wh..wh..opq";

/// A path as a layer root holds it: `./` and leading `/` gone, no empty parts, no trailing `/`;
/// `..` is kept out (a tar that climbs out of its root names nothing in it). `None` for the
/// root itself.
pub fn clean_path(name: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// `(dir, name)`; `dir` is empty at the root.
pub(crate) fn split(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

pub(crate) fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// Limits on reading file lists: a tar-split is gzip like any other, and may be a bomb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileLimits {
    /// Inflated bytes of one tar-split.
    pub max_inflated: u64,
    /// Entries in one layer.
    pub max_entries: usize,
}

impl Default for FileLimits {
    fn default() -> FileLimits {
        FileLimits {
            max_inflated: 1 << 30,
            max_entries: 2_000_000,
        }
    }
}

/// Why a layer's file list could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilesError {
    #[error("not gzip: {0}")]
    Gzip(String),
    #[error("inflates to more than {0} bytes")]
    TooLarge(u64),
    #[error("more than {0} entries")]
    TooManyEntries(usize),
    #[error("line {line}: {message}")]
    Line { line: usize, message: String },
    #[error("entry {name:?} has no tar header before it")]
    NoHeader { name: String },
    /// The source holds no file list for the layer; says why.
    #[error("{0}")]
    Unavailable(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> FileEntry {
        FileEntry {
            path: path.into(),
            kind: FileKind::File,
            size: 0,
            mode: 0o644,
            uid: 0,
            gid: 0,
            mtime: 0,
            link: None,
            crc64: None,
        }
    }

    #[test]
    fn whiteouts_name_what_they_hide() {
        assert_eq!(
            entry("etc/.wh.passwd").whiteout_of().as_deref(),
            Some("etc/passwd")
        );
        assert_eq!(entry(".wh.tmp").whiteout_of().as_deref(), Some("tmp"));
        assert_eq!(entry("etc/.wh..wh..opq").whiteout_of(), None);
        assert_eq!(entry("etc/.wh..wh..opq").opaque_dir(), Some("etc"));
        assert_eq!(entry(".wh..wh..opq").opaque_dir(), Some(""));
        assert_eq!(entry("etc/passwd").whiteout_of(), None);
    }

    #[test]
    fn paths_are_cleaned() {
        for (name, want) in [
            ("./etc/", Some("etc")),
            ("/usr//bin/ls", Some("usr/bin/ls")),
            ("./", None),
            ("a/../b", Some("b")),
            ("../../etc/passwd", Some("etc/passwd")),
        ] {
            assert_eq!(clean_path(name).as_deref(), want, "{name}");
        }
    }
}
