//! What images an archive lists: `manifest.json` in the layouts `docker save` writes, or a bare
//! OCI layout's `index.json`, each image with its config, its layers' files and its names.

use std::collections::BTreeMap;

use serde_json::Value;

use super::load::{content, file, named_digest, BLOBS, INDEX, MANIFEST};
use super::scan::Scan;
use crate::finding::{Code, Subject};
use crate::id::{Digest, ImageId, RefName};
use crate::source::containerd::content::Resolver;
use crate::source::files::{Files, Reader};
use crate::store::*;

/// What a bare OCI layout's index is read for when it offers several platforms: the platform
/// Docker pulls by default. The viewer has no host to ask.
const DEFAULT_PLATFORM: &str = "linux/amd64";
/// containerd's name annotation, fully qualified (`docker.io/local/app:1`).
const NAME_ANNOTATION: &str = "io.containerd.image.name";
/// The OCI name annotation: a tag, or (from other tools) a whole reference.
const REF_ANNOTATION: &str = "org.opencontainers.image.ref.name";

/// One image as the archive lists it, before its files are checked.
pub(super) struct Listed {
    pub id: ImageId,
    /// Where its config is, and the ID its name promises (its blob or file name).
    pub config_path: String,
    pub layer_paths: Vec<String>,
    pub tags: Vec<RefName>,
    pub parent: Option<ImageId>,
}

/// `manifest.json`: every image the archive holds, in the layouts `docker save` writes. In the
/// containerd layout an image is known by its `index.json` target, so IDs come from there.
pub(super) fn from_manifest(scan: &Scan, r: &mut Reader, layout: ArchiveLayout) -> Vec<Listed> {
    let subject = Subject::Path(MANIFEST.into());
    let Some(doc) = r.json(MANIFEST, &subject) else {
        return Vec::new();
    };
    let Some(items) = doc.as_array() else {
        r.finding(
            Code::InvalidJson,
            vec![subject],
            "manifest.json is not a JSON array".into(),
        );
        return Vec::new();
    };
    let targets = if layout == ArchiveLayout::ContainerdOci {
        index_targets(scan, r)
    } else {
        BTreeMap::new()
    };
    let mut out = Vec::new();
    for (n, item) in items.iter().enumerate() {
        let Some(config_path) = item.get("Config").and_then(Value::as_str) else {
            r.finding(
                Code::InvalidValue,
                vec![Subject::Path(MANIFEST.into())],
                format!("manifest.json item {n} names no Config"),
            );
            continue;
        };
        let config_path = super::scan::clean(config_path).unwrap_or_default();
        let named = named_digest(&config_path)
            .or_else(|| file(scan, &config_path).map(|(_, f)| f.sha256.clone()));
        let Some(config_digest) = named else {
            r.finding(
                Code::ArchiveMissingFile,
                vec![Subject::Path(config_path.clone())],
                format!("manifest.json item {n}: its config {config_path} is not in the archive"),
            );
            continue;
        };
        let (id, mut tags) = match targets.get(&config_digest) {
            Some((target, names)) => (ImageId::from(target.clone()), names.clone()),
            None => (ImageId::from(config_digest), Vec::new()),
        };
        for t in item
            .get("RepoTags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match t.as_str().map(str::parse::<RefName>) {
                Some(Ok(name)) if !tags.contains(&name) => tags.push(name),
                Some(Ok(_)) => {}
                _ => r.finding(
                    Code::InvalidValue,
                    vec![Subject::Image(id.clone()), Subject::Path(MANIFEST.into())],
                    format!("manifest.json item {n}: RepoTags holds {t}, not a name:tag"),
                ),
            }
        }
        let layer_paths = item
            .get("Layers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|l| l.as_str().and_then(super::scan::clean).unwrap_or_default())
            .collect();
        out.push(Listed {
            id,
            config_path,
            layer_paths,
            tags,
            parent: item
                .get("Parent")
                .and_then(Value::as_str)
                .and_then(|p| p.parse().ok()),
        });
    }
    out
}

/// The containerd layout: each `index.json` target, by the config of the manifest Docker
/// runs, with the names it carries.
fn index_targets(scan: &Scan, r: &mut Reader) -> BTreeMap<Digest, (Digest, Vec<RefName>)> {
    let mut out: BTreeMap<Digest, (Digest, Vec<RefName>)> = BTreeMap::new();
    for (desc, names, target) in resolve_index(scan, r, false) {
        for m in &target.manifests {
            let Some(config) = &m.config else { continue };
            if m.attestation {
                continue;
            }
            let entry = out
                .entry(config.digest.clone())
                .or_insert_with(|| (desc.digest.clone(), Vec::new()));
            for n in &names {
                if !entry.1.contains(n) {
                    entry.1.push(n.clone());
                }
            }
        }
    }
    out
}

/// Each `index.json` descriptor, its names, and its target resolved through the blobs.
fn resolve_index(
    scan: &Scan,
    r: &mut Reader,
    report_absent: bool,
) -> Vec<(Descriptor, Vec<RefName>, Target)> {
    let subject = Subject::Path(INDEX.into());
    let Some(doc) = r.json(INDEX, &subject) else {
        return Vec::new();
    };
    let blob = |d: &Digest| content(scan, &format!("{BLOBS}{}", d.hex()));
    let mut resolver = Resolver {
        blob,
        host_platform: DEFAULT_PLATFORM.into(),
        kinds: BTreeMap::new(),
    };
    let mut out = Vec::new();
    for d in doc
        .get("manifests")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(desc) = crate::source::containerd::content::descriptor(d) else {
            r.finding(
                Code::InvalidValue,
                vec![subject.clone()],
                "index.json names a manifest without a sha256 digest".into(),
            );
            continue;
        };
        let mut names = Vec::new();
        let annotation = |k: &str| d.pointer(&format!("/annotations/{}", k.replace('/', "~1")));
        if let Some(n) = annotation(NAME_ANNOTATION).and_then(Value::as_str) {
            names.extend(RefName::from_qualified(n).ok());
        } else if let Some(n) = annotation(REF_ANNOTATION).and_then(Value::as_str) {
            // Other tools may put a whole reference here; a bare tag names no repository.
            if n.contains('/') || n.contains(':') {
                names.extend(RefName::from_qualified(n).ok());
            }
        }
        let target = resolver.resolve(&desc);
        if report_absent {
            for m in &target.manifests {
                if file(scan, &format!("{BLOBS}{}", m.digest.hex())).is_none() {
                    r.finding(
                        Code::NotInArchive,
                        vec![Subject::Blob(m.digest.clone())],
                        format!(
                            "manifest {} ({}) of {} is not in the archive",
                            m.digest.short(),
                            if m.platform.is_empty() {
                                "no platform"
                            } else {
                                &m.platform
                            },
                            desc.digest.short()
                        ),
                    );
                }
            }
        }
        out.push((desc, names, target));
    }
    out
}

/// A bare OCI layout: each `index.json` descriptor is an image, read through the manifest
/// Docker would pick.
pub(super) fn from_index(scan: &Scan, r: &mut Reader, _files: &Files) -> Vec<Listed> {
    let mut by_id: BTreeMap<ImageId, Listed> = BTreeMap::new();
    for (desc, names, target) in resolve_index(scan, r, true) {
        let id = ImageId::from(desc.digest.clone());
        let Some(m) = target.chosen.map(|i| &target.manifests[i]) else {
            r.finding(
                Code::ArchiveMissingFile,
                vec![Subject::Image(id.clone())],
                format!(
                    "image {}: the archive holds no runnable manifest for it",
                    id.short()
                ),
            );
            continue;
        };
        let Some(config) = &m.config else { continue };
        let listed = by_id.entry(id.clone()).or_insert_with(|| Listed {
            id,
            config_path: format!("{BLOBS}{}", config.digest.hex()),
            layer_paths: m
                .layers
                .iter()
                .map(|l| format!("{BLOBS}{}", l.digest.hex()))
                .collect(),
            tags: Vec::new(),
            parent: None,
        });
        for n in names {
            if !listed.tags.contains(&n) {
                listed.tags.push(n);
            }
        }
    }
    by_id.into_values().collect()
}
