//! Which Docker's daemon and CLI the views reproduce. Their rules changed between releases;
//! each difference is named where it is applied, with the release that brought it.

use crate::store::Store;

/// The engine generations storesnap reproduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Generation {
    /// Docker 20.10 to 22.06.
    Docker20,
    /// Docker 23 to 27: shared sizes counted over every image (moby #42550, v23.0.0); a
    /// missing creation time sent as 0, not Go's zero time (v25); `history` prints `N/A` for
    /// times before 2000 (CLI v23).
    Docker26,
    /// Docker 28 and later: `image ls` counts containers (API 1.51, v28.3); `df` gives
    /// containers a `Platform` (CLI v28.2); the containerd store counts attestation blobs.
    Docker28,
}

impl Generation {
    /// The generation of a `docker version` string such as `28.5.2+dfsg4` or `20.10.24`.
    pub fn of_version(version: &str) -> Option<Generation> {
        let major: u32 = version
            .split('.')
            .next()?
            .trim_start_matches('v')
            .parse()
            .ok()?;
        Some(match major {
            0..=22 => Generation::Docker20,
            23..=27 => Generation::Docker26,
            _ => Generation::Docker28,
        })
    }
}

impl Generation {
    /// What the daemon sends for a missing creation time: Go's zero time until v25, then 0.
    pub(super) fn missing_time(self) -> i64 {
        if self >= Generation::Docker26 {
            0
        } else {
            super::GO_ZERO_TIME
        }
    }
}

impl Store {
    /// The engine that wrote the store, as far as it can be told: the version `pack`
    /// recorded, else what the files show (`engine-id` exists from v23, containers record
    /// `ImagePlatform` from v28), else the newest for a containerd store.
    pub fn generation(&self) -> Generation {
        if let Some(g) = self
            .provenance
            .engine_version()
            .and_then(Generation::of_version)
        {
            return g;
        }
        if self.containers.values().any(|c| c.image_platform.is_some()) {
            return Generation::Docker28;
        }
        if self.containerd.is_some() {
            return if self.containers.is_empty() {
                Generation::Docker28
            } else {
                Generation::Docker26
            };
        }
        if self.provenance.had_path("engine-id") {
            Generation::Docker26
        } else {
            Generation::Docker20
        }
    }
}
