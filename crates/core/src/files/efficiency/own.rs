//! storesnap's own wasted-space figures: the bytes layers hold that the image does not show.

use std::collections::BTreeMap;

use crate::files::{stack, ChangeKind, FileEntry};

/// Why a version's bytes are wasted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WasteKind {
    /// A later layer deleted it (whiteout, opaque directory, a file over its directory).
    Removed,
    /// A later layer wrote other content over it.
    Updated,
    /// A later layer wrote the same content again (same CRC-64, mode and owner).
    Duplicate,
}

impl WasteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WasteKind::Removed => "removed",
            WasteKind::Updated => "updated",
            WasteKind::Duplicate => "duplicate",
        }
    }
}

/// The wasted versions of one path.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Waste {
    /// With a leading `/`, as dive writes paths.
    pub path: String,
    /// Versions the layers hold, the one the image shows included.
    pub versions: usize,
    /// Bytes of the versions the image does not show.
    pub wasted: u64,
    /// Why the last of them went (the one a fix would look at first).
    pub kind: WasteKind,
    /// Layers (0 = base) that wrote the wasted versions, and those that hid them.
    pub written_in: Vec<usize>,
    pub lost_in: Vec<usize>,
}

/// storesnap's figures for one image.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OwnReport {
    /// Bytes the image shows / bytes its layers hold; 1 when they hold none.
    pub efficiency: f64,
    /// Bytes of every file version in every layer.
    pub size_bytes: u64,
    /// The same, without the base layer.
    pub user_size_bytes: u64,
    pub wasted_bytes: u64,
    /// `wasted_bytes / user_size_bytes`; 0 when there are no user bytes.
    pub wasted_user_percent: f64,
    pub removed_bytes: u64,
    pub updated_bytes: u64,
    pub duplicate_bytes: u64,
    /// Largest first, then by path.
    pub wastes: Vec<Waste>,
}

/// storesnap's figures for an image whose layers (base first) hold `layers`.
pub fn own<L: AsRef<[FileEntry]>>(layers: &[L]) -> OwnReport {
    let stacked = stack(layers);
    let layer_bytes: Vec<u64> = layers
        .iter()
        .map(|l| {
            l.as_ref()
                .iter()
                .map(|e| e.size)
                .fold(0u64, u64::saturating_add)
        })
        .collect();
    let size_bytes = layer_bytes.iter().fold(0u64, |a, b| a.saturating_add(*b));
    let user_size_bytes = layer_bytes
        .iter()
        .skip(1)
        .fold(0u64, |a, b| a.saturating_add(*b));
    let mut by_path: BTreeMap<&str, Waste> = BTreeMap::new();
    let (mut removed, mut updated, mut duplicate) = (0u64, 0u64, 0u64);
    for g in &stacked.gone {
        let kind = match g.how {
            ChangeKind::Removed => WasteKind::Removed,
            ChangeKind::Same => WasteKind::Duplicate,
            _ => WasteKind::Updated,
        };
        match kind {
            WasteKind::Removed => removed = removed.saturating_add(g.size),
            WasteKind::Updated => updated = updated.saturating_add(g.size),
            WasteKind::Duplicate => duplicate = duplicate.saturating_add(g.size),
        }
        let w = by_path.entry(g.path.as_str()).or_insert_with(|| Waste {
            path: format!("/{}", g.path),
            versions: 0,
            wasted: 0,
            kind,
            written_in: Vec::new(),
            lost_in: Vec::new(),
        });
        w.versions += 1;
        w.wasted = w.wasted.saturating_add(g.size);
        w.kind = kind;
        w.written_in.push(g.layer);
        w.lost_in.push(g.by);
    }
    // The version the image shows counts among the versions, never among the waste.
    for (path, w) in &mut by_path {
        if stacked.merged.contains_key(*path) {
            w.versions += 1;
        }
    }
    let mut wastes: Vec<Waste> = by_path.into_values().collect();
    crate::order::sort_by(&mut wastes, |a, b| {
        b.wasted.cmp(&a.wasted).then_with(|| a.path.cmp(&b.path))
    });
    let wasted_bytes = removed.saturating_add(updated).saturating_add(duplicate);
    OwnReport {
        efficiency: if size_bytes == 0 {
            1.0
        } else {
            (size_bytes - wasted_bytes.min(size_bytes)) as f64 / size_bytes as f64
        },
        size_bytes,
        user_size_bytes,
        wasted_bytes,
        wasted_user_percent: if user_size_bytes == 0 {
            0.0
        } else {
            wasted_bytes as f64 / user_size_bytes as f64
        },
        removed_bytes: removed,
        updated_bytes: updated,
        duplicate_bytes: duplicate,
        wastes,
    }
}
