//! A containerd image store's files become the model: the common part (images by ID, layers
//! by chainID, containers) that every view and check reads, and the containerd part.
//!
//! Like every loader it never fails: a damaged database is a finding and the model keeps what
//! the other files say.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use super::content::Resolver;
use super::{meta, snapshotter, snapshotter_dir, BLOBS, INGEST, META_DB, NAMESPACE, SNAPSHOTTER};
use crate::bbolt::Db;
use crate::finding::{Code, Finding, Subject};
use crate::id::{ChainId, Digest, ImageId, RefName};
use crate::provenance::Provenance;
use crate::snapshot::Entry;
use crate::source::files::{children, file, Files, Reader};
use crate::source::{containers, image_config};
use crate::store::*;

/// Names Docker gives untagged images in containerd: `moby-dangling@<digest>`.
const DANGLING_PREFIX: &str = "moby-dangling@";
/// An image's build parent, on its record.
const PARENT_LABEL: &str = "org.mobyproject.image.parent";

/// Builds the model from a containerd store's files.
pub fn load(files: &Files, provenance: &Provenance) -> (Store, Vec<Finding>) {
    let source = provenance.containerd();
    let namespace = source
        .map_or(NAMESPACE, |s| s.namespace.as_str())
        .to_owned();
    let snapshotter_name = source
        .map_or(SNAPSHOTTER, |s| s.snapshotter.as_str())
        .to_owned();
    let mut r = Reader::new(files);
    let mut store = Store {
        driver: snapshotter_name.clone(),
        image_configs_redacted: provenance.image_configs_redacted(),
        provenance: provenance.clone(),
        ..Store::default()
    };
    let mut cd = Containerd {
        namespace: namespace.clone(),
        snapshotter: snapshotter_name.clone(),
        ..Containerd::default()
    };

    let meta = database(&mut r, META_DB, |db| {
        meta::read(db, &namespace, &snapshotter_name)
    })
    .unwrap_or_default();
    for p in &meta.problems {
        r.findings.push(Finding::new(
            Code::InvalidValue,
            vec![Subject::Path(META_DB.into())],
            format!("{META_DB}: {p}"),
        ));
    }
    let snap_db = format!("{}metadata.db", snapshotter_dir(&snapshotter_name));
    let backend = database(&mut r, &snap_db, snapshotter::read);
    cd.snapshotter_read = backend.is_some();
    let backend = backend.unwrap_or_default();

    blobs(files, provenance, &meta, &mut cd);
    snapshots(
        files,
        provenance,
        &meta,
        &backend,
        &snapshotter_name,
        &mut cd,
    );
    cd.leases = meta.leases;
    cd.ingests = children(files, INGEST)
        .into_iter()
        .map(str::to_owned)
        .collect();
    cd.graphdriver_leftovers = children(files, "image/")
        .into_iter()
        .map(|d| format!("image/{d}"))
        .collect();
    cd.records = meta.records;

    // Each image's target, resolved through the packed blobs.
    let host = host_platform(provenance);
    let mut resolver = Resolver {
        blob: |d: &Digest| file(files, &format!("{BLOBS}{}", d.hex())),
        host_platform: host,
        kinds: BTreeMap::new(),
    };
    for record in cd.records.values() {
        let id = ImageId::from(record.target.digest.clone());
        if let std::collections::btree_map::Entry::Vacant(slot) = cd.targets.entry(id) {
            slot.insert(resolver.resolve(&record.target));
        }
    }
    for (d, kind) in resolver.kinds {
        cd.blobs.entry(d).or_default().kind = kind;
    }
    for record in cd.records.values() {
        if let Some(c) = record
            .labels
            .get("org.mobyproject.image.containerconfig")
            .and_then(|c| c.parse::<Digest>().ok())
        {
            let b = cd.blobs.entry(c).or_default();
            if b.kind == BlobKind::Unreferenced {
                b.kind = BlobKind::ContainerConfig;
            }
        }
    }

    config_diff_ids(files, &mut cd);
    images(&mut r, &cd, &mut store);
    layers(&cd, &mut store);
    store.containers = containers::load(&mut r);
    store.containerd = Some(Box::new(cd));
    (store, r.findings)
}

/// Opens a bbolt file and reads it with `read`; a damaged one is a finding.
fn database<T>(
    r: &mut Reader,
    path: &str,
    read: impl FnOnce(&Db) -> Result<T, crate::bbolt::BoltError>,
) -> Option<T> {
    let subject = Subject::Path(path.to_owned());
    let bytes = r.content(path, &subject)?;
    match Db::open(bytes).and_then(|db| read(&db)) {
        Ok(v) => Some(v),
        Err(e) => {
            r.findings.push(Finding::new(
                Code::DamagedDatabase,
                vec![subject],
                format!("{path}: {e}"),
            ));
            None
        }
    }
}

/// `os/arch` of the packing host as an OCI platform; `linux/amd64` when it is not known.
fn host_platform(provenance: &Provenance) -> String {
    let arch = match provenance.host_arch() {
        Some("x86_64") | None => "amd64",
        Some("aarch64") => "arm64",
        Some(a) if a.starts_with("armv7") => "arm",
        Some("i686" | "i386") => "386",
        Some(a) => a,
    };
    format!("linux/{arch}")
}

fn blobs(files: &Files, provenance: &Provenance, meta: &meta::Meta, cd: &mut Containerd) {
    let listed = provenance.listed_sizes();
    // Configs `pack --redact` rewrote: whether they matched their digest before.
    let redacted = provenance.redacted_image_configs();
    let mut on_disk: BTreeSet<&str> = children(files, BLOBS);
    for p in listed.keys() {
        if let Some(hex) = p.strip_prefix(BLOBS) {
            on_disk.insert(hex);
        }
    }
    for hex in on_disk {
        let Ok(d) = Digest::from_hex(hex) else {
            continue;
        };
        let path = format!("{BLOBS}{hex}");
        let state = match (files.get(&path), listed.get(path.as_str())) {
            (Some(Entry::File(bytes)), _) => BlobFile::Packed {
                verified: match redacted.get(&ImageId::from(d.clone())) {
                    Some(matched) => *matched,
                    None => Digest::sha256_of(bytes) == d,
                },
            },
            (_, Some(&size)) => BlobFile::Listed { size },
            _ => BlobFile::Missing,
        };
        cd.blobs.entry(d).or_default().file = state;
    }
    for (d, (size, labels)) in &meta.blobs {
        let b = cd.blobs.entry(d.clone()).or_default();
        b.size = *size;
        b.labels = labels.clone();
    }
}

fn snapshots(
    files: &Files,
    provenance: &Provenance,
    meta: &meta::Meta,
    backend: &BTreeMap<String, snapshotter::Record>,
    snapshotter_name: &str,
    cd: &mut Containerd,
) {
    let dir = snapshotter_dir(snapshotter_name);
    let root = format!("{dir}snapshots/");
    cd.snapshot_dirs_listed = matches!(files.get(root.trim_end_matches('/')), Some(Entry::Dir));
    cd.backend_ids = backend.values().filter_map(|b| b.id).collect();
    for name in children(files, &root) {
        // Only directories named by a number are the snapshotter's.
        let Ok(id) = name.parse::<u64>() else {
            continue;
        };
        if !matches!(files.get(&format!("{root}{name}")), Some(Entry::Dir)) {
            continue;
        }
        let has = |f: &str| matches!(files.get(&format!("{root}{name}/{f}")), Some(Entry::Dir));
        cd.snapshot_dirs.insert(
            id,
            SnapshotDir {
                has_fs: has("fs"),
                has_work: has("work"),
            },
        );
    }
    let sizes = provenance.dir_sizes();
    for (key, rec) in &meta.snapshots {
        let b = backend.get(&rec.backend);
        let id = b.and_then(|b| b.id);
        cd.snapshots.insert(
            key.clone(),
            Snapshot {
                key: key.clone(),
                kind: b.map_or(SnapshotKind::Unknown, |b| b.kind),
                parent: rec.parent.clone(),
                backend_id: id,
                size: b.and_then(|b| b.size),
                inodes: b.and_then(|b| b.inodes),
                // Measured at pack time: the upper dir, or the whole snapshot for snapshotters
                // without one.
                upper_size: id.and_then(|id| {
                    sizes
                        .get(&format!("{root}{id}/fs"))
                        .or_else(|| sizes.get(&format!("{root}{id}")))
                        .copied()
                }),
                created: rec.created,
                labels: rec.labels.clone(),
            },
        );
    }
}

fn images(r: &mut Reader, cd: &Containerd, store: &mut Store) {
    for record in cd.records.values() {
        let id = ImageId::from(record.target.digest.clone());
        let image = store.images.entry(id.clone()).or_insert_with(|| Image {
            id: id.clone(),
            verified: false,
            config: None,
            parent: None,
            last_updated: None,
            built_locally: false,
            tags: Vec::new(),
            digests: Vec::new(),
            chain: OnceLock::new(),
        });
        // When it was last tagged or pulled: the newest of its records' update times.
        if let Some(t) = record.updated {
            let t = crate::time::UtcTime::from_unix(t).rfc3339();
            if image.last_updated.as_ref().is_none_or(|old| *old < t) {
                image.last_updated = Some(t);
            }
        }
        if image.parent.is_none() {
            image.parent = record.labels.get(PARENT_LABEL).and_then(|p| p.parse().ok());
        }
        if record.name.starts_with(DANGLING_PREFIX) {
            continue;
        }
        match RefName::from_qualified(&record.name) {
            Ok(name) if name.digest().is_some() => image.digests.push(name),
            Ok(name) => image.tags.push(name),
            Err(e) => r.findings.push(Finding::new(
                Code::InvalidValue,
                vec![Subject::Image(id.clone()), Subject::Path(META_DB.into())],
                format!("image record {:?}: {e}", record.name),
            )),
        }
    }
    for (id, image) in store.images.iter_mut() {
        image.verified = matches!(
            cd.blobs.get(id.digest()).map(|b| b.file),
            Some(BlobFile::Packed { verified: true })
        );
        let Some(target) = cd.targets.get(id) else {
            continue;
        };
        let Some(config) = target
            .chosen
            .and_then(|i| target.manifests[i].config.as_ref())
        else {
            continue;
        };
        let path = format!("{BLOBS}{}", config.digest.hex());
        let subject = Subject::Image(id.clone());
        if let Some(v) = r.json(&path, &subject) {
            image.config = image_config::parse(r, &v, id, &path);
        }
    }
}

/// The diffIDs of every config an image's manifests name.
fn config_diff_ids(files: &Files, cd: &mut Containerd) {
    let configs: BTreeSet<&Digest> = cd
        .targets
        .values()
        .flat_map(|t| &t.manifests)
        .filter(|m| !m.attestation)
        .filter_map(|m| m.config.as_ref().map(|c| &c.digest))
        .collect();
    let mut out = BTreeMap::new();
    for d in configs {
        let Some(bytes) = file(files, &format!("{BLOBS}{}", d.hex())) else {
            continue;
        };
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) else {
            continue;
        };
        let ids: Option<Vec<crate::id::DiffId>> = v
            .pointer("/rootfs/diff_ids")
            .and_then(serde_json::Value::as_array)
            .map(|a| a.iter().filter_map(|d| d.as_str()?.parse().ok()).collect());
        if let Some(ids) = ids {
            out.insert(d.clone(), ids);
        }
    }
    cd.config_diff_ids = out;
}

/// One layer per chainID of every image, with the committed snapshot's recorded size.
fn layers(cd: &Containerd, store: &mut Store) {
    for image in store.images.values() {
        let Some(config) = &image.config else {
            continue;
        };
        let mut parent: Option<ChainId> = None;
        for diff in &config.diff_ids {
            let chain = match &parent {
                None => ChainId::from(diff.digest().clone()),
                Some(p) => p.child(diff),
            };
            store.layers.entry(chain.clone()).or_insert_with(|| Layer {
                chain_id: chain.clone(),
                diff_id: Some(diff.clone()),
                parent: parent.clone(),
                cache_id: None,
                size: cd.snapshots.get(chain.as_str()).and_then(|s| s.size),
                tar_split: false,
                descriptor: None,
            });
            parent = Some(chain);
        }
    }
}
