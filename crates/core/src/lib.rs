//! The pure core of storesnap.
//!
//! Everything here works on bytes or a [`std::io::Read`]: no filesystem, no clock, no network.
//! The same code runs in the `storesnap` binary and, compiled to `wasm32-unknown-unknown`, in the
//! viewer. The host-facing parts (walking a data root, reading the time) live in `storesnap-cli`.

pub mod bbolt;
pub mod checks;
pub mod diff;
pub mod docker;
pub mod error;
pub mod files;
pub mod finding;
pub mod graph;
pub mod id;
pub mod manifest;
pub mod order;
pub mod provenance;
pub mod redact;
pub mod report;
pub mod snapshot;
pub mod source;
pub mod store;
mod tarball;
pub mod tarsplit;
pub mod time;
pub mod timeline;
mod zstd;

pub use checks::analyze;
pub use error::{Error, Result};
pub use finding::{Code, Finding, Severity, Subject};
pub use id::{
    chain_id, CacheId, ChainId, ContainerId, DiffId, Digest, ImageId, LeaseId, RefName, SnapshotKey,
};
pub use manifest::Manifest;
pub use provenance::Provenance;
pub use snapshot::{Contents, Entry, Limits, Progress, SlicedReader, Snapshot, SnapshotWriter};
pub use store::Store;
