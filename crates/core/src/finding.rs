//! Findings: what is wrong (or worth knowing) about a store, as data.
//!
//! A finding has a stable code (scripts and the viewer key on it), a severity, the identifiers it
//! concerns, a message saying what was seen, and a hint saying what to do about it.

use serde::{Deserialize, Serialize};

use crate::id::{ChainId, ContainerId, ImageId};

/// How bad a finding is. A store the engine wrote and nobody damaged has nothing above `Info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// What a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
pub enum Subject {
    Image(ImageId),
    Chain(ChainId),
    /// A graph-driver directory name (a cache-id, mount-id or init-id).
    CacheDir(String),
    /// A container ID.
    Container(ContainerId),
    /// A reference from repositories.json, e.g. `alpine:3.20`.
    Reference(String),
    /// A path relative to the data root.
    Path(String),
    /// A containerd content blob.
    Blob(crate::id::Digest),
    /// A containerd snapshot, by key.
    Snapshot(crate::id::SnapshotKey),
    /// A containerd lease, by ID.
    Lease(crate::id::LeaseId),
}

macro_rules! codes {
    ($($variant:ident = $text:literal, $severity:ident, $hint:literal;)*) => {
        /// The stable code of a finding.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as printed and serialized, e.g. `image-id-mismatch`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)*
                }
            }

            /// The severity a finding of this code has.
            pub fn severity(self) -> Severity {
                match self {
                    $(Code::$variant => Severity::$severity,)*
                }
            }

            /// What a user can do about it.
            pub fn hint(self) -> &'static str {
                match self {
                    $(Code::$variant => $hint,)*
                }
            }
        }
    };
}

codes! {
    ImageIdMismatch = "image-id-mismatch", Error,
        "the config was changed or corrupted after it was stored; `docker rmi` the image and pull or build it again";
    InvalidJson = "invalid-json", Error,
        "the file is truncated or corrupt (a crash or a full disk while writing); restore it or remove the object it belongs to";
    EmptyFile = "empty-file", Error,
        "a zero-byte metadata file usually means the host crashed while Docker was writing; remove the object it belongs to";
    NulFilled = "nul-filled", Error,
        "a file full of NUL bytes is what a filesystem leaves after a crash; remove the object it belongs to";
    InvalidValue = "invalid-value", Error,
        "the file does not hold the identifier Docker wrote there; the object it belongs to is unusable";
    MissingFile = "missing-file", Error,
        "a required metadata file is gone; Docker will skip the object it belongs to";
    DanglingReference = "dangling-reference", Error,
        "the tag points at an image that is gone; `docker rmi` the tag or pull the image again";
    MissingParentImage = "missing-parent-image", Warning,
        "the image's build parent is gone; harmless for running it, but `docker history` stops there";
    MissingLayer = "missing-layer", Error,
        "the image's layers are not all in the layer store; Docker ignores the image at start: remove and pull it again";
    LayerParentCycle = "layer-parent-cycle", Error,
        "the layers' parent files name each other in a loop, so none of them can be mounted; remove the images that use them and pull them again";
    MissingParentLayer = "missing-parent-layer", Error,
        "a layer's parent is gone, so the layer cannot be mounted; remove the images that use it and pull them again";
    ChainIdMismatch = "chain-id-mismatch", Error,
        "the layer's diff and parent do not hash to its directory name; its metadata was altered";
    MissingCacheDir = "missing-cache-dir", Error,
        "the layer's files are gone from the graph driver; images using it cannot run: remove them and pull again";
    OrphanDriverDir = "orphan-driver-dir", Warning,
        "nothing refers to this graph-driver directory; it only takes disk space (stop Docker before removing it by hand)";
    BuildCacheDir = "build-cache-dir", Info,
        "no layer refers to this directory; its name is BuildKit's, so it is probably build cache (`docker builder prune`)";
    OverlayLinkMissing = "overlay-link-missing", Error,
        "the overlay2 directory has no short link name, so no layer above it can be mounted";
    OverlayLinkDangling = "overlay-link-dangling", Error,
        "an l/ symlink is missing or points nowhere; Docker recreates l/ links at start (restart the daemon)";
    OverlayLowerUnknown = "overlay-lower-unknown", Error,
        "the lower file names a link that does not exist; the layer cannot be mounted";
    OverlayLowerMismatch = "overlay-lower-mismatch", Error,
        "the lower file does not list the layer's parents in order; the mounted filesystem would be wrong";
    MountParentMissing = "mount-parent-missing", Error,
        "the container's image layer is gone; the container cannot start: remove it";
    MountDirMissing = "mount-dir-missing", Error,
        "the container's writable layer is gone from the graph driver; the container cannot start: remove it";
    MountInitMissing = "mount-init-missing", Error,
        "the container's init layer is gone from the graph driver; the container cannot start: remove it";
    ContainerImageMissing = "container-image-missing", Warning,
        "the container's image was removed while the container stayed; it runs from its own layers";
    Leftover = "leftover", Info,
        "an interrupted write or removal left this behind; Docker cleans it up at start";
    UnusedLayer = "unused-layer", Info,
        "no image or container uses this layer; Docker removes such layers when their last image goes";
    DeepChain = "deep-chain", Warning,
        "more than 125 layers: overlay2 cannot mount it; squash the image";
    NoTarSplit = "no-tar-split", Warning,
        "without tar-split, `docker save` and push cannot reproduce the layer's exact bytes";
    DamagedDatabase = "damaged-database", Error,
        "containerd cannot open a damaged bbolt file; restore it from a backup, or stop Docker and containerd, move the containerd root aside and pull the images again";
    BlobDigestMismatch = "blob-digest-mismatch", Error,
        "the content blob's bytes do not hash to its name; containerd will refuse it: remove the images that use it and pull them again";
    MissingBlob = "missing-blob", Error,
        "an index, manifest or config the image needs is gone from the content store; remove the image and pull it again";
    MissingSnapshot = "missing-snapshot", Error,
        "a layer of the image has no committed snapshot, so containers cannot be created from it; remove the image and pull it again";
    SnapshotParentMismatch = "snapshot-parent-mismatch", Error,
        "the layer's snapshot sits on a parent other than the layer below it, so the image's filesystem would be wrong; remove the image and pull it again";
    SnapshotDirMissing = "snapshot-dir-missing", Error,
        "the snapshotter's directory for this snapshot is gone; mounting it fails: remove what uses it and pull again";
    OrphanSnapshotDir = "orphan-snapshot-dir", Warning,
        "no snapshot refers to this snapshotter directory; it only takes disk space (containerd's garbage collector removes it)";
    UnusedSnapshot = "unused-snapshot", Info,
        "no image or container uses this snapshot; containerd's garbage collector removes it unless a lease holds it";
    ContainerSnapshotMissing = "container-snapshot-missing", Error,
        "the container's writable snapshot or its lease is gone; the container cannot start: remove it";
    LeaseExpired = "lease-expired", Info,
        "the lease is past its expiry and goes at containerd's next garbage collection";
    ArchiveTruncated = "archive-truncated", Error,
        "the archive ends early or is damaged past this point (an interrupted download or `docker save`); what follows is missing: save or download it again";
    ArchiveDigestMismatch = "archive-digest-mismatch", Error,
        "the file's bytes do not hash to the digest it is named by: the archive was damaged after it was written, and `docker load` refuses it; save it again";
    ConfigDigestMismatch = "config-digest-mismatch", Error,
        "the image config does not hash to the image's ID: it was changed after `docker save`; save the image again";
    DiffIdMismatch = "diff-id-mismatch", Error,
        "the layer's uncompressed bytes do not hash to the diffID in the image config, so `docker load` refuses the image; save it again";
    LayerUnreadable = "layer-unreadable", Error,
        "the layer does not inflate to a complete tar (a damaged or cut blob); `docker load` fails on it: save the image again";
    ArchiveMissingFile = "archive-missing-file", Error,
        "the archive lacks a file its manifest names, so `docker load` fails; save the image again with all of its layers";
    ManifestMismatch = "manifest-mismatch", Error,
        "the manifest lists another number of layers than the config's rootfs.diff_ids; `docker load` rejects the image";
    UnsafePath = "unsafe-path", Warning,
        "an entry name that is absolute or climbs out with `..`: no engine writes one, and an extracting tool could write outside its target";
    NotInArchive = "not-in-archive", Info,
        "the index names a manifest or blob the archive leaves out (another platform, or a layer that may not be redistributed); that is how `docker save` writes it";
    LayersizeMismatch = "layersize-mismatch", Warning,
        "the pre-1.10 layersize file disagrees with the layer's tar-split; Docker 1.10's migration recomputes sizes, so only `docker images` before it was wrong";
    AufsLayersMismatch = "aufs-layers-mismatch", Warning,
        "aufs mounts the layer from its aufs/layers list, which does not follow the json parents: the mounted filesystem is not the image's; remove the image and pull it again";
    GraphdriverLeftover = "graphdriver-leftover", Info,
        "graph-driver data from before the switch to the containerd image store; `docker` no longer sees it (switch back, or remove it with the daemon stopped)";
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Code, D::Error> {
        let text = String::deserialize(d)?;
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == text)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown finding code {text:?}")))
    }
}

/// A finding as serialized: the hint is the code's, not data.
#[derive(Deserialize)]
struct FindingData {
    code: Code,
    severity: Severity,
    subjects: Vec<Subject>,
    message: String,
}

impl From<FindingData> for Finding {
    fn from(f: FindingData) -> Finding {
        Finding {
            code: f.code,
            severity: f.severity,
            subjects: f.subjects,
            message: f.message,
            hint: f.code.hint(),
        }
    }
}

impl<'de> Deserialize<'de> for Finding {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Finding, D::Error> {
        FindingData::deserialize(d).map(Finding::from)
    }
}

/// One thing found about a store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    pub subjects: Vec<Subject>,
    pub message: String,
    pub hint: &'static str,
}

impl Finding {
    /// A finding with the code's own severity and hint.
    pub fn new(code: Code, subjects: Vec<Subject>, message: impl Into<String>) -> Finding {
        Finding {
            code,
            severity: code.severity(),
            subjects,
            message: shorten(message.into()),
            hint: code.hint(),
        }
    }
}

/// Messages quote values from the store, which a hostile file can make megabytes long.
const MAX_MESSAGE: usize = 1000;

fn shorten(mut message: String) -> String {
    if message.len() > MAX_MESSAGE {
        let mut cut = MAX_MESSAGE;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
        message.push('…');
    }
    message
}
