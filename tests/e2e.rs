//! End-to-end tests: the `storesnap` binary against Docker data roots that a real engine wrote.
//!
//! The stores come from `tests/harness/engine`, which runs a private dockerd (root required).

mod support;

/// `docker save` archives of every engine and mode: read, verified, and damage found.
mod archives;
/// The containerd image store of Docker 28 and 26: pack, and damage found.
mod containerd;
/// `check`: each kind of damage to a real store gives exactly its findings.
mod damage;
/// `diff`: two snapshots of one store, before and after real changes.
mod diff;
/// What is inside layers: file lists, layer changes, wasted space as dive counts it.
mod files;
/// The committed fixtures in crates/core/tests/data still match what the harness makes.
mod fixtures;
/// The pre-1.10 layout, from stores made by hand (no engine writes it any more).
mod legacy;
/// `storesnap pack`: contents, secrets, determinism, safety on live and hostile roots.
mod pack;
/// The viewer built by Trunk, driven in headless Chromium over WebDriver.
mod viewer;
/// `images`, `history` and `df` against what the docker CLI printed for the same store.
mod views;
