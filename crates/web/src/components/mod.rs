//! The viewer's components. Each takes data and callbacks, never the reducer.

pub mod containerd;
pub mod details;
pub mod driver_dirs;
pub mod findings;
pub mod graph;
pub mod images;
pub mod loader;
pub mod overview;
pub mod raw;
pub mod redactions;
pub mod report;
pub mod store_timeline;
pub mod timeline;

/// `sha256:0123…` → `0123456789ab`.
pub fn short(id: &str) -> String {
    id.trim_start_matches("sha256:").chars().take(12).collect()
}
