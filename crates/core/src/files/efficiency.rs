//! Wasted space: dive's figures, computed as dive 0.13.1 computes them, and storesnap's own.
//!
//! dive (`dive/filetree/efficiency.go`) builds one tree per layer from the layer's tar, visits
//! each layer's leaves in name order, and counts, per path, the bytes of every version it meets.
//! A path met in two or more layers is an inefficiency worth all its versions, the one still in
//! the image included. A whiteout counts 0 bytes unless it removes a directory, in which case it
//! counts that directory's bytes, but only as one more version of the directory's path, which is
//! rarely met twice; opaque markers are ignored. This module reproduces all of that exactly,
//! tie order of dive's unstable sort included (`gosort`), so that `--json` matches dive's.
//!
//! storesnap's own figures stack the layers as overlayfs does ([`super::stack`]): a version is
//! wasted when the image no longer shows it, because a later layer removed it (a whiteout, an
//! opaque directory, a file over a directory) or wrote the path again; a rewrite with the same
//! CRC-64 is a duplicate, one with other content an update. The version the image shows is never
//! waste.

mod dive;
mod gosort;
mod own;
mod survey;

pub use dive::{dive, DiveLayer, DiveReport, GoFileInfo, Inefficiency};
pub use own::{own, OwnReport, Waste, WasteKind};
pub use survey::{survey, ImageWaste, Offender, Survey};
