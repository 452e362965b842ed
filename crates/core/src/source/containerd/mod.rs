//! The containerd image store (Docker 29's default; Docker 24 to 28 with the
//! `containerd-snapshotter` feature): images live in containerd's namespace `moby`, not under
//! `image/<driver>/`.
//!
//! In a snapshot the containerd root sits at `containerd/daemon/`, where dockerd's managed
//! containerd keeps it, whatever the host path was (the manifest records that):
//!
//! - `meta.rs` reads `io.containerd.metadata.v1.bolt/meta.db`: image records, content
//!   records, snapshot records and leases of the namespace;
//! - `snapshotter.rs` reads the snapshotter's own `metadata.db`: kinds, backend IDs, sizes;
//! - `content.rs` follows each image's target through indexes and manifests to its config
//!   and layers, and says what every blob is;
//! - `load.rs` assembles the model, common part and [`Containerd`](crate::store::Containerd)
//!   part alike.

pub(crate) mod content;
mod load;
mod meta;
pub mod policy;
mod snapshotter;

pub use load::load;

use crate::source::files::Files;

/// Where a snapshot keeps the containerd root.
pub const ROOT: &str = "containerd/daemon/";
/// containerd's metadata database, under [`ROOT`].
pub const META_DB: &str = "containerd/daemon/io.containerd.metadata.v1.bolt/meta.db";
/// The content store's blobs, under [`ROOT`].
pub const BLOBS: &str = "containerd/daemon/io.containerd.content.v1.content/blobs/sha256/";
/// The content store's unfinished writes.
pub const INGEST: &str = "containerd/daemon/io.containerd.content.v1.content/ingest/";
/// The namespace Docker keeps its images in.
pub const NAMESPACE: &str = "moby";
/// The snapshotter Docker uses on Linux unless told otherwise.
pub const SNAPSHOTTER: &str = "overlayfs";

/// The snapshotter's directory under [`ROOT`], e.g. `…/io.containerd.snapshotter.v1.overlayfs/`.
pub fn snapshotter_dir(snapshotter: &str) -> String {
    format!("{ROOT}io.containerd.snapshotter.v1.{snapshotter}/")
}

/// Whether files hold a containerd image store (and no graph-driver one).
pub fn detect(files: &Files) -> bool {
    files.contains_key(META_DB)
        && !files
            .keys()
            .any(|p| p.starts_with("image/") && p.matches('/').count() == 1)
}
