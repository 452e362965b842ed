//! `docker save` archives, in every layout engines write (docs/research/docker-save-archives.md):
//! Docker 1.10–24's `<v1 id>/layer.tar`, Docker 25+'s OCI layout with `manifest.json`, the
//! containerd image store's blobs as stored, and a bare OCI image layout.
//!
//! Reading is two steps, so the heavy one can run where it likes (a Web Worker in the viewer):
//! [`scan`] streams the archive once, hashing everything; [`load`] turns the scan into the
//! model and its findings.

mod list;
mod load;
pub mod scan;

use std::io::Read;

pub use load::load;
pub use scan::{scan, Compression, Scan, ScanLimits};

/// What a file is, as far as its first bytes tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A snapshot `storesnap pack` wrote: gzip, `storesnap.json` first.
    Snapshot,
    /// A tar, plain or compressed, that is not a snapshot: read it as an archive.
    Archive,
    /// Neither; the snapshot reader explains why.
    Unknown,
}

/// Tells a snapshot from an archive by the file's first bytes (a few kilobytes are enough).
pub fn sniff(head: &[u8]) -> Input {
    const SNAPSHOT_FIRST: &[u8] = b"storesnap.json\0";
    let first_block = |inflating: &mut dyn Read| {
        let mut first = Vec::new();
        // A cut stream is expected: only the first header is wanted.
        let _ = inflating.take(512).read_to_end(&mut first);
        first
    };
    let first = match Compression::sniff(head) {
        Ok(Compression::Gzip) => first_block(&mut flate2::read::GzDecoder::new(head)),
        // `pack` ends its first zstd block after the manifest, so the head holds it whole.
        Ok(Compression::Zstd) => first_block(&mut crate::zstd::Frames::new(head)),
        Ok(Compression::None) if is_tar(head) => return Input::Archive,
        _ => return Input::Unknown,
    };
    if first.starts_with(SNAPSHOT_FIRST) {
        Input::Snapshot
    } else if is_tar(&first) || Compression::sniff(head) == Ok(Compression::Zstd) {
        // A zstd archive's first block may be larger than the head: an archive all the same.
        Input::Archive
    } else {
        Input::Unknown
    }
}

fn is_tar(block: &[u8]) -> bool {
    block.len() >= 262 && &block[257..262] == b"ustar"
}

/// Scans and loads an archive in one call.
pub fn read<R: Read>(
    input: R,
    limits: &ScanLimits,
    progress: &mut dyn FnMut(u64),
) -> crate::Result<(crate::Store, Vec<crate::Finding>)> {
    load(&scan(input, limits, progress)?)
}
