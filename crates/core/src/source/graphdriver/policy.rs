//! What `storesnap pack` takes from a graph-driver data root. The loader reads exactly what
//! this keeps, so the two cannot drift: one policy, used by both.

use super::driver::Driver;
use crate::manifest::SkipReason;

/// What kind of filesystem object a path is, as seen by `lstat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File,
    Symlink,
    Other,
}

/// What the pack does with a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Files are copied, symlinks recorded, directories recorded and walked.
    Keep,
    /// A directory is recorded as existing, but nothing inside it is read (layer contents).
    KeepEmpty,
    /// Left out, and listed in the manifest with the reason.
    Skip(SkipReason),
    /// Copied with secret values redacted.
    RedactContainerConfig,
    RedactHostConfig,
    /// An image config: kept byte-exact, or redacted with `--redact`.
    ImageConfig,
    /// A pre-1.10 layer's v1 `json` (it holds the image config): kept byte-exact, or redacted
    /// with `--redact`; its name is no digest, so there is no ID to check it against.
    V1ImageJson,
    /// `volumes/metadata.db`: kept only when no volume has driver options or labels, which can
    /// carry credentials (see [`volume_db_is_safe`]).
    VolumeDatabase,
}

/// Whether `volumes/metadata.db` can be packed as it is: it opens, and no volume in it has
/// driver options or labels (a CIFS or NFS volume's options hold its password).
pub fn volume_db_is_safe(bytes: &[u8]) -> bool {
    let Ok(db) = crate::bbolt::Db::open(bytes) else {
        return false;
    };
    let Ok(Some(volumes)) = db.bucket_at(&[b"volumes"]) else {
        return false;
    };
    let Ok(entries) = volumes.entries() else {
        return false;
    };
    entries.into_iter().all(|(_, item)| match item {
        crate::bbolt::Item::Value(v) => {
            serde_json::from_slice::<serde_json::Value>(v).is_ok_and(|doc| {
                ["Options", "Labels"].iter().all(|k| match doc.get(*k) {
                    None | Some(serde_json::Value::Null) => true,
                    Some(serde_json::Value::Object(m)) => m.is_empty(),
                    Some(_) => false,
                })
            })
        }
        crate::bbolt::Item::Bucket(_) => false,
    })
}

/// `image/<driver>/layerdb/sha256/<chain>/tar-split.json.gz`.
pub fn is_tar_split(parts: &[&str]) -> bool {
    matches!(
        parts,
        ["image", _, "layerdb", "sha256", _, "tar-split.json.gz"]
    )
}

/// A layer write or removal that did not finish.
pub fn is_leftover(parts: &[&str]) -> bool {
    matches!(parts, ["image", _, "layerdb", "tmp", _])
        || matches!(parts, ["image", _, "layerdb", "sha256", name] if name.ends_with("-removing"))
}

/// The packing policy: what happens to `path` (relative to the data root, split on `/`).
pub fn classify(path: &[&str], kind: Kind) -> Action {
    use Action::*;
    use SkipReason::*;
    let dir = kind == Kind::Dir;
    let file = kind == Kind::File;
    match path {
        // The image store: everything is metadata.
        ["image", _, "imagedb", "content", "sha256", _] if file => ImageConfig,
        ["image", ..] => Keep,

        // The pre-1.10 layout (docs/research/pre-1.10-layout.md): the v1 graph, the tags.
        ["graph"] if dir => Keep,
        ["graph", _] if dir => Keep,
        ["graph", _, "json"] if file => V1ImageJson,
        ["graph", _, "layersize" | "checksum" | "tar-data.json.gz" | "parent" | "v1Compatibility"]
            if file =>
        {
            Keep
        }
        ["graph", ..] => Skip(Contents),
        [name] if file && name.starts_with("repositories-") => Keep,
        // Container names and links (sqlite): listed, not read.
        ["linkgraph.db"] => Skip(OutOfScope),

        ["containers"] if dir => Keep,
        ["containers", _] if dir => Keep,
        ["containers", _, "config.v2.json"] if file => RedactContainerConfig,
        ["containers", _, "hostconfig.json"] if file => RedactHostConfig,
        // Before 1.10 the container config was config.json.
        ["containers", _, "config.json"] if file => RedactContainerConfig,
        ["containers", ..] => Skip(Contents),

        ["volumes"] if dir => Keep,
        ["volumes", _] if dir => Keep,
        ["volumes", _, "_data"] if dir => KeepEmpty,
        // metadata.db holds volume driver options, which can carry credentials.
        ["volumes", "metadata.db"] if file => VolumeDatabase,
        ["volumes", "metadata.db"] => Skip(Sensitive),
        ["volumes", ..] => Skip(Contents),

        ["swarm" | "trust" | "certs.d", ..] => Skip(Sensitive),

        [name, rest @ ..] => match Driver::from_name(name) {
            Some(driver) => classify_driver(driver, rest, kind),
            None => Skip(OutOfScope),
        },
        [] => Keep,
    }
}

fn classify_driver(driver: Driver, rest: &[&str], kind: Kind) -> Action {
    use Action::*;
    use Driver::*;
    use SkipReason::*;
    let dir = kind == Kind::Dir;
    let file = kind == Kind::File;
    match (driver, rest) {
        (_, []) if dir => Keep,
        (Overlay2 | FuseOverlayfs, ["l"]) if dir => Keep,
        (Overlay2 | FuseOverlayfs, ["l", _]) if kind == Kind::Symlink => Keep,
        (Overlay2 | FuseOverlayfs, [_]) if dir => Keep,
        (Overlay2 | FuseOverlayfs, [_, "link" | "lower" | "committed"]) if file => Keep,
        (Overlay2 | FuseOverlayfs, [_, "diff" | "work" | "merged"]) if dir => KeepEmpty,
        (Overlay, [_]) if dir => Keep,
        (Overlay, [_, "lower-id"]) if file => Keep,
        (Overlay, [_, "root" | "upper" | "work" | "merged"]) if dir => KeepEmpty,
        (Aufs, ["layers" | "diff" | "mnt"]) if dir => Keep,
        (Aufs, ["layers", _]) if file => Keep,
        (Aufs, ["diff" | "mnt", _]) if dir => KeepEmpty,
        // The thin pool's data and metadata block files are never read.
        (Devicemapper, ["devicemapper"]) if dir => Keep,
        (Devicemapper, ["devicemapper", _]) => Skip(Contents),
        (Devicemapper, ["metadata"]) if dir => Keep,
        (Devicemapper, ["metadata", _]) if file => Keep,
        (Devicemapper, ["mnt"]) if dir => Keep,
        (Devicemapper, ["mnt", _]) if dir => KeepEmpty,
        (Vfs, ["dir"]) | (Btrfs, ["subvolumes"]) | (Zfs, ["graph"]) if dir => Keep,
        (Vfs, ["dir", _]) | (Btrfs, ["subvolumes", _]) | (Zfs, ["graph", _]) if dir => KeepEmpty,
        (Btrfs, ["quotas"]) if dir => Keep,
        (Btrfs, ["quotas", _]) if file => Keep,
        (Windowsfilter, [_]) if dir => KeepEmpty,
        _ => Skip(Contents),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;
    use SkipReason::*;

    fn check(path: &str, kind: Kind, expected: Action) {
        let parts: Vec<&str> = path.split('/').collect();
        assert_eq!(classify(&parts, kind), expected, "{path} ({kind:?})");
    }

    const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn every_driver_keeps_its_records_and_never_their_contents() {
        for driver in Driver::ALL {
            let record = driver.record_path(ID);
            match driver.record() {
                super::super::driver::Record::Dir if driver.has_overlay_links() => {
                    check(&record, Kind::Dir, Keep);
                    check(&format!("{record}/diff"), Kind::Dir, KeepEmpty);
                }
                super::super::driver::Record::Dir if driver == Driver::Overlay => {
                    check(&record, Kind::Dir, Keep);
                    check(&format!("{record}/upper"), Kind::Dir, KeepEmpty);
                }
                super::super::driver::Record::Dir => check(&record, Kind::Dir, KeepEmpty),
                super::super::driver::Record::File => check(&record, Kind::File, Keep),
            }
            check(&format!("{record}/etc/passwd"), Kind::File, Skip(Contents));
            check(
                &format!("{record}/diff/etc/passwd"),
                Kind::File,
                Skip(Contents),
            );
        }
    }

    #[test]
    fn driver_bookkeeping_is_kept_and_block_files_are_not() {
        check(&format!("aufs/layers/{ID}"), Kind::File, Keep);
        check("devicemapper/metadata/deviceset-metadata", Kind::File, Keep);
        check("devicemapper/devicemapper/data", Kind::File, Skip(Contents));
        check(
            "devicemapper/devicemapper/metadata",
            Kind::File,
            Skip(Contents),
        );
        check(&format!("btrfs/quotas/{ID}"), Kind::File, Keep);
        check(&format!("overlay/{ID}/lower-id"), Kind::File, Keep);
        check("overlay2/l/ABCDEFGHIJKLMNOPQRSTUVWXYZ", Kind::Symlink, Keep);
        check(
            "overlay2/l/ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            Kind::File,
            Skip(Contents),
        );
        check("overlay3/x", Kind::File, Skip(OutOfScope));
    }

    #[test]
    fn policy_keeps_metadata_and_never_contents() {
        let id = "c".repeat(64);
        check("image/overlay2/repositories.json", Kind::File, Keep);
        check(
            &format!("image/overlay2/imagedb/content/sha256/{id}"),
            Kind::File,
            ImageConfig,
        );
        check(
            &format!("image/overlay2/layerdb/sha256/{id}/tar-split.json.gz"),
            Kind::File,
            Keep,
        );
        check(
            &format!("containers/{id}/config.v2.json"),
            Kind::File,
            RedactContainerConfig,
        );
        check(
            &format!("containers/{id}/hostconfig.json"),
            Kind::File,
            RedactHostConfig,
        );
        check(
            &format!("containers/{id}/{id}-json.log"),
            Kind::File,
            Skip(Contents),
        );
        check(
            &format!("containers/{id}/checkpoints"),
            Kind::Dir,
            Skip(Contents),
        );
        check(&format!("overlay2/{id}/link"), Kind::File, Keep);
        check(&format!("overlay2/{id}/lower"), Kind::File, Keep);
        check(&format!("overlay2/{id}/diff"), Kind::Dir, KeepEmpty);
        check(&format!("overlay2/{id}/diff"), Kind::File, Skip(Contents));
        check(
            &format!("overlay2/{id}/diff/etc/passwd"),
            Kind::File,
            Skip(Contents),
        );
        check("overlay2/l/ABCDEFGHIJKLMNOPQRSTUVWXYZ", Kind::Symlink, Keep);
        check(
            "overlay2/l/ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            Kind::File,
            Skip(Contents),
        );
        check("volumes/data/_data", Kind::Dir, KeepEmpty);
        check("volumes/data/_data/secret.txt", Kind::File, Skip(Contents));
        check("volumes/metadata.db", Kind::File, VolumeDatabase);
        check(
            "swarm/certificates/swarm-node.key",
            Kind::File,
            Skip(Sensitive),
        );
        check("trust", Kind::Dir, Skip(Sensitive));
        check("buildkit", Kind::Dir, Skip(OutOfScope));
        check("engine-id", Kind::File, Skip(OutOfScope));
        check("aufs/layers/abc", Kind::File, Keep);
        check("aufs/diff/abc", Kind::Dir, KeepEmpty);
        check("devicemapper/devicemapper/data", Kind::File, Skip(Contents));
        check("devicemapper/metadata/base", Kind::File, Keep);
    }

    #[test]
    fn the_pre_1_10_layout_keeps_its_v1_metadata() {
        let id = "c".repeat(64);
        check("graph", Kind::Dir, Keep);
        check(&format!("graph/{id}"), Kind::Dir, Keep);
        check(&format!("graph/{id}/json"), Kind::File, V1ImageJson);
        for f in [
            "layersize",
            "checksum",
            "tar-data.json.gz",
            "parent",
            "v1Compatibility",
        ] {
            check(&format!("graph/{id}/{f}"), Kind::File, Keep);
        }
        check(
            &format!("graph/{id}/.migration-diffid"),
            Kind::File,
            Skip(Contents),
        );
        check("graph/_tmp/x", Kind::File, Skip(Contents));
        check("repositories-aufs", Kind::File, Keep);
        check("repositories-devicemapper", Kind::File, Keep);
        check("linkgraph.db", Kind::File, Skip(OutOfScope));
        check(
            &format!("containers/{id}/config.json"),
            Kind::File,
            RedactContainerConfig,
        );
        check(&format!("aufs/layers/{id}"), Kind::File, Keep);
        check(
            &format!("aufs/diff/{id}/etc/passwd"),
            Kind::File,
            Skip(Contents),
        );
        check("devicemapper/metadata/deviceset-metadata", Kind::File, Keep);
        check(
            "devicemapper/metadata/transaction-metadata",
            Kind::File,
            Keep,
        );
        check("devicemapper/devicemapper/data", Kind::File, Skip(Contents));
        check(
            "devicemapper/devicemapper/metadata",
            Kind::File,
            Skip(Contents),
        );
    }

    #[test]
    fn leftovers_are_recognised() {
        assert!(is_leftover(&[
            "image",
            "overlay2",
            "layerdb",
            "tmp",
            "write-set-123"
        ]));
        assert!(is_leftover(&[
            "image",
            "overlay2",
            "layerdb",
            "sha256",
            "abc-def-removing"
        ]));
        assert!(!is_leftover(&[
            "image", "overlay2", "layerdb", "sha256", "abc"
        ]));
    }
}
