//! The storesnap viewer: open a snapshot in the browser, see its layer graph, image histories
//! and findings. Everything runs here, in wasm; nothing leaves the browser.
//!
//! State lives in one reducer ([`state`]); components take data and callbacks; geometry comes
//! from `storesnap_core::graph`, and the components only draw it.

pub mod app;
pub mod compare;
pub mod components;
pub mod files;
pub mod hash;
pub mod open;
pub mod state;
pub mod worker;

/// Mounts the app on the page body.
pub fn run() {
    yew::Renderer::<app::App>::new().render();
}

/// The demo snapshot: the store the real-engine harness packed (`scripts/make-fixtures`), in
/// the format `pack` writes today, so that warming up on it runs what reading a user's file runs.
pub const DEMO: &[u8] = include_bytes!("../../core/tests/data/full/snapshot.tar.zst");

/// A containerd image store (Docker 28 in containerd mode, the store Docker 29 uses by default),
/// likewise: the spare worker warms up on both, so that either kind of file reads fast.
pub const CONTAINERD_DEMO: &[u8] =
    include_bytes!("../../core/tests/data/d28-containerd/snapshot.tar.zst");
