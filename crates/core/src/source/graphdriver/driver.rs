//! What each graph driver keeps under `<root>/<driver>/`, from moby's source
//! (`daemon/graphdriver/<driver>/`, see docs in `shared/reference/docker-store-formats.md` §6).

use std::fmt;

/// A graph driver whose directory layout storesnap knows.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Driver {
    /// `overlay2/<id>/{diff,work,merged,link,lower,committed}` and `overlay2/l/<link>`.
    Overlay2,
    /// The same layout as overlay2, under `fuse-overlayfs/`.
    FuseOverlayfs,
    /// overlay (v1, removed in 24.0): `overlay/<id>/{root | upper,lower-id,work,merged}`.
    Overlay,
    /// aufs (removed in 24.0): `aufs/{diff,mnt}/<id>/` and the parent list `aufs/layers/<id>`.
    Aufs,
    /// devicemapper (removed in 25.0): one `devicemapper/metadata/<id>` JSON record per device.
    Devicemapper,
    /// vfs: a full copy per layer in `vfs/dir/<id>`.
    Vfs,
    /// btrfs: one subvolume per layer in `btrfs/subvolumes/<id>`, `btrfs/quotas/<id>`.
    Btrfs,
    /// zfs: datasets outside the data root, mounted at `zfs/graph/<id>` only while in use.
    Zfs,
    /// Windows: `windowsfilter/<id>`.
    Windowsfilter,
}

/// How a driver records one layer under its directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// A directory per layer.
    Dir,
    /// A metadata file per layer (devicemapper's `devInfo`).
    File,
}

impl Driver {
    pub const ALL: [Driver; 9] = [
        Driver::Overlay2,
        Driver::FuseOverlayfs,
        Driver::Overlay,
        Driver::Aufs,
        Driver::Devicemapper,
        Driver::Vfs,
        Driver::Btrfs,
        Driver::Zfs,
        Driver::Windowsfilter,
    ];

    /// The name dockerd uses (`--storage-driver`, `image/<name>/`, `<root>/<name>/`).
    pub fn name(self) -> &'static str {
        match self {
            Driver::Overlay2 => "overlay2",
            Driver::FuseOverlayfs => "fuse-overlayfs",
            Driver::Overlay => "overlay",
            Driver::Aufs => "aufs",
            Driver::Devicemapper => "devicemapper",
            Driver::Vfs => "vfs",
            Driver::Btrfs => "btrfs",
            Driver::Zfs => "zfs",
            Driver::Windowsfilter => "windowsfilter",
        }
    }

    pub fn from_name(name: &str) -> Option<Driver> {
        Driver::ALL.into_iter().find(|d| d.name() == name)
    }

    /// Where the per-layer records live, relative to the data root, ending in `/`.
    pub fn records_prefix(self) -> &'static str {
        match self {
            Driver::Overlay2 => "overlay2/",
            Driver::FuseOverlayfs => "fuse-overlayfs/",
            Driver::Overlay => "overlay/",
            Driver::Aufs => "aufs/diff/",
            Driver::Devicemapper => "devicemapper/metadata/",
            Driver::Vfs => "vfs/dir/",
            Driver::Btrfs => "btrfs/subvolumes/",
            Driver::Zfs => "zfs/graph/",
            Driver::Windowsfilter => "windowsfilter/",
        }
    }

    /// The path of the record of layer `id` (a cache-id, mount-id or init-id).
    pub fn record_path(self, id: &str) -> String {
        format!("{}{id}", self.records_prefix())
    }

    pub fn record(self) -> Record {
        match self {
            Driver::Devicemapper => Record::File,
            _ => Record::Dir,
        }
    }

    /// Names among the records that are the driver's own bookkeeping, not layers.
    pub fn is_reserved(self, name: &str) -> bool {
        match self {
            Driver::Overlay2 | Driver::FuseOverlayfs => name == "l",
            // `base` is the thin pool's base device; the others describe the pool.
            Driver::Devicemapper => {
                matches!(name, "base" | "deviceset-metadata" | "transaction-metadata")
            }
            _ => false,
        }
    }

    /// Whether every layer has a record while the daemon is stopped, so that a missing one is
    /// damage. zfs mounts a dataset at `graph/<id>` only while it is in use.
    pub fn records_every_layer(self) -> bool {
        !matches!(self, Driver::Zfs)
    }

    /// overlay2's short links (`l/`, `<id>/link`, `<id>/lower`).
    pub fn has_overlay_links(self) -> bool {
        matches!(self, Driver::Overlay2 | Driver::FuseOverlayfs)
    }

    /// Where `docker system df` measures a container's writable layer, relative to the data
    /// root; `None` when its contents are not reachable without mounting (devicemapper, zfs).
    pub fn rw_dir(self, mount_id: &str) -> Option<String> {
        match self {
            Driver::Overlay2 | Driver::FuseOverlayfs => {
                Some(format!("{}{mount_id}/diff", self.records_prefix()))
            }
            Driver::Overlay => Some(format!("overlay/{mount_id}/upper")),
            Driver::Aufs | Driver::Vfs | Driver::Btrfs | Driver::Windowsfilter => {
                Some(self.record_path(mount_id))
            }
            Driver::Devicemapper | Driver::Zfs => None,
        }
    }

    /// Whether the daemon sizes a writable layer by comparing it with its parent
    /// (`graphdriver.NaiveDiffDriver`), rather than by the size of a diff directory.
    pub fn naive_diff(self) -> bool {
        matches!(
            self,
            Driver::Vfs | Driver::Btrfs | Driver::Overlay | Driver::Devicemapper | Driver::Zfs
        )
    }
}

impl fmt::Display for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_records_are_distinct() {
        let mut prefixes = std::collections::BTreeSet::new();
        for d in Driver::ALL {
            assert_eq!(Driver::from_name(d.name()), Some(d));
            assert!(d.records_prefix().starts_with(d.name()));
            assert!(prefixes.insert(d.records_prefix()));
        }
        assert_eq!(Driver::from_name("overlay3"), None);
        assert_eq!(Driver::Vfs.record_path("abc"), "vfs/dir/abc");
        assert_eq!(
            Driver::Overlay2.rw_dir("abc").as_deref(),
            Some("overlay2/abc/diff")
        );
    }
}
