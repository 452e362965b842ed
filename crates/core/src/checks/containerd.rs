//! Checks of the containerd image store: content, snapshots, leases. Each finds nothing on a
//! graph-driver store.

use std::collections::BTreeSet;

use crate::finding::{Code, Finding, Subject};
use crate::id::ImageId;
use crate::store::{BlobFile, Containerd, SnapshotKind, Store};

fn containerd(store: &Store) -> Option<&Containerd> {
    store.containerd.as_deref()
}

/// A packed blob whose bytes do not hash to its name.
pub fn blob_digests(store: &Store, out: &mut Vec<Finding>) {
    let Some(cd) = containerd(store) else { return };
    for (d, b) in &cd.blobs {
        if b.file == (BlobFile::Packed { verified: false }) {
            out.push(Finding::new(
                Code::BlobDigestMismatch,
                vec![Subject::Blob(d.clone())],
                format!("blob {}: its bytes do not hash to its name", d.short()),
            ));
        }
    }
}

fn present(cd: &Containerd, d: &crate::id::Digest) -> bool {
    cd.blobs.get(d).is_some_and(|b| b.file != BlobFile::Missing)
}

/// An image whose index, manifest or config is gone.
pub fn missing_blobs(store: &Store, out: &mut Vec<Finding>) {
    let Some(cd) = containerd(store) else { return };
    for (id, target) in &cd.targets {
        let mut missing = |what: &str, d: &crate::id::Digest| {
            out.push(Finding::new(
                Code::MissingBlob,
                vec![Subject::Image(id.clone()), Subject::Blob(d.clone())],
                format!(
                    "image {}: its {what} {} is not in the content store",
                    name(store, id),
                    d.short()
                ),
            ));
        };
        if !present(cd, id.digest()) {
            missing(if target.index { "index" } else { "manifest" }, id.digest());
            continue;
        }
        match target.chosen.map(|i| &target.manifests[i]) {
            None => {
                // No runnable manifest is present: name the ones the index lists.
                for m in target.manifests.iter().filter(|m| !m.attestation) {
                    missing(
                        &format!(
                            "manifest for {}",
                            if m.platform.is_empty() {
                                "the host"
                            } else {
                                &m.platform
                            }
                        ),
                        &m.digest,
                    );
                }
            }
            Some(m) => match &m.config {
                Some(c) if !present(cd, &c.digest) => missing("config", &c.digest),
                _ => {}
            },
        }
    }
}

fn name(store: &Store, id: &ImageId) -> String {
    store
        .images
        .get(id)
        .map_or_else(|| id.short().to_owned(), |i| i.display_name())
}

/// Each layer of an image needs a committed snapshot keyed by its chainID, on the snapshot of
/// the layer below. Docker 26 and later commit a layer built by RUN or commit on the
/// container's `<id>-init` snapshot, which itself sits on the layer below: that is the same
/// filesystem stack, and fine.
pub fn snapshots(store: &Store, out: &mut Vec<Finding>) {
    let Some(cd) = containerd(store) else { return };
    let mut seen = BTreeSet::new();
    for image in store.images.values() {
        let chain = image.chain();
        for (i, c) in chain.iter().enumerate() {
            if !seen.insert(c.clone()) {
                continue;
            }
            let subjects = vec![Subject::Chain(c.clone()), Subject::Snapshot(c.into())];
            // An unknown kind (the snapshotter's records unreadable) is not evidence of damage.
            let Some(s) = cd
                .snapshots
                .get(c.as_str())
                .filter(|s| matches!(s.kind, SnapshotKind::Committed | SnapshotKind::Unknown))
            else {
                out.push(Finding::new(
                    Code::MissingSnapshot,
                    subjects,
                    format!(
                        "layer {} of {} has no committed snapshot",
                        c.short(),
                        image.display_name()
                    ),
                ));
                continue;
            };
            let below = i.checked_sub(1).map(|j| chain[j].as_str());
            let mut parent = s.parent.as_deref();
            if let Some(p) = parent.filter(|p| p.ends_with("-init")) {
                parent = cd.snapshots.get(p).and_then(|s| s.parent.as_deref());
            }
            if parent != below {
                out.push(Finding::new(
                    Code::SnapshotParentMismatch,
                    subjects,
                    format!(
                        "layer {}: its snapshot's parent is {}, not {}",
                        c.short(),
                        s.parent.as_deref().unwrap_or("nothing"),
                        below.unwrap_or("nothing")
                    ),
                ));
            }
        }
    }
}

/// Snapshot directories against snapshot records, both ways.
pub fn snapshot_dirs(store: &Store, out: &mut Vec<Finding>) {
    let Some(cd) = containerd(store) else { return };
    if !cd.snapshot_dirs_listed {
        return;
    }
    // The native snapshotter (and others that copy) gives a view of a committed parent no
    // directory: it mounts the parent's read-only.
    let views_have_dirs = crate::source::containerd::policy::has_upper_dirs(&cd.snapshotter);
    for s in cd.snapshots.values() {
        let Some(id) = s.backend_id else { continue };
        if s.kind == SnapshotKind::View && s.parent.is_some() && !views_have_dirs {
            continue;
        }
        if !cd.snapshot_dirs.contains_key(&id) {
            out.push(Finding::new(
                Code::SnapshotDirMissing,
                vec![Subject::Snapshot(s.key.clone())],
                format!("snapshot {}: its directory snapshots/{id} is gone", s.key),
            ));
        }
    }
    for id in cd.snapshot_dirs.keys().filter(|_| cd.snapshotter_read) {
        if !cd.backend_ids.contains(id) {
            out.push(Finding::new(
                Code::OrphanSnapshotDir,
                vec![Subject::Path(format!(
                    "{}snapshots/{id}",
                    crate::source::containerd::snapshotter_dir(&cd.snapshotter)
                ))],
                format!("snapshots/{id} belongs to no snapshot"),
            ));
        }
    }
}

/// Snapshots nothing uses: not an image's layer, not a container's, below none of those, and
/// held by no lease.
pub fn unused_snapshots(store: &Store, out: &mut Vec<Finding>) {
    let Some(cd) = containerd(store) else { return };
    let mut used: BTreeSet<&str> = BTreeSet::new();
    let mut roots: Vec<&str> = store
        .images
        .values()
        .flat_map(|i| i.chain())
        .map(|c| c.as_str())
        .collect();
    roots.extend(store.containers.keys().map(|c| c.as_str()));
    roots.extend(
        cd.leases
            .values()
            .flat_map(|l| &l.snapshots)
            .map(|(_, k)| k.as_str()),
    );
    for root in roots {
        let mut next = Some(root);
        // Stops at the first snapshot already counted, so a loop ends too.
        while let Some(k) = next {
            if !used.insert(k) {
                break;
            }
            next = cd.snapshots.get(k).and_then(|s| s.parent.as_deref());
        }
    }
    for s in cd
        .snapshots
        .values()
        .filter(|s| !used.contains(s.key.as_str()))
    {
        out.push(Finding::new(
            Code::UnusedSnapshot,
            vec![Subject::Snapshot(s.key.clone())],
            format!("snapshot {} is used by no image, container or lease", s.key),
        ));
    }
}

/// A container needs its writable snapshot (keyed by its ID) and the lease that holds it.
pub fn container_snapshots(store: &Store, out: &mut Vec<Finding>) {
    let Some(cd) = containerd(store) else { return };
    for c in store.containers.values() {
        let id = c.id.as_str();
        let problem = match (cd.snapshots.get(id), cd.leases.get(id)) {
            (None, _) => "has no writable snapshot",
            (Some(s), _) if !matches!(s.kind, SnapshotKind::Active | SnapshotKind::Unknown) => {
                "has a writable snapshot that is not active"
            }
            (Some(_), None) => "has no lease holding its snapshot",
            _ => continue,
        };
        out.push(Finding::new(
            Code::ContainerSnapshotMissing,
            vec![
                Subject::Container(c.id.clone()),
                Subject::Snapshot((&c.id).into()),
            ],
            format!("container {} ({}) {problem}", c.id.short(), c.name),
        ));
    }
}

/// Leases past their `containerd.io/gc.expire` at the time the snapshot was taken.
pub fn expired_leases(store: &Store, out: &mut Vec<Finding>) {
    let Some(cd) = containerd(store) else { return };
    let Some(now) = store.provenance.created_unix() else {
        return;
    };
    for l in cd.leases.values() {
        if l.expires.is_some_and(|e| e < now) {
            out.push(Finding::new(
                Code::LeaseExpired,
                vec![Subject::Lease(l.id.clone())],
                format!("lease {} expired before the snapshot was taken", l.id),
            ));
        }
    }
}

/// Graph-driver metadata and unfinished content writes left behind.
pub fn leftovers(store: &Store, out: &mut Vec<Finding>) {
    let Some(cd) = containerd(store) else { return };
    for dir in &cd.graphdriver_leftovers {
        out.push(Finding::new(
            Code::GraphdriverLeftover,
            vec![Subject::Path(dir.clone())],
            format!("{dir} holds graph-driver images from before the switch to containerd"),
        ));
    }
    for name in &cd.ingests {
        let path = format!("{}{name}", crate::source::containerd::INGEST);
        out.push(Finding::new(
            Code::Leftover,
            vec![Subject::Path(path.clone())],
            format!("{path} is a content write that did not finish"),
        ));
    }
}
