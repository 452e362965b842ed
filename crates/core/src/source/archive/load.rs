//! A scanned archive becomes the model: images from `manifest.json` (or, in a bare OCI layout,
//! from `index.json`), layers by chainID, and a finding for every file whose bytes are not what
//! the images say. Like every loader it keeps going: a damaged image is a finding, not an error.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::Value;

use super::scan::{FileScan, Scan, Scanned};
use crate::error::{Error, Result};
use crate::finding::{Code, Finding, Subject};
use crate::id::{ChainId, DiffId, Digest, ImageId, RefName};
use crate::snapshot::Entry;
use crate::source::containerd::content::Resolver;
use crate::source::files::{Files, Reader};
use crate::source::image_config;
use crate::store::*;

const MANIFEST: &str = "manifest.json";
const INDEX: &str = "index.json";
const OCI_LAYOUT: &str = "oci-layout";
const REPOSITORIES: &str = "repositories";
const BLOBS: &str = "blobs/sha256/";
/// A chain of links longer than this is a loop.
const MAX_LINKS: usize = 16;
/// What a bare OCI layout's index is read for when it offers several platforms: the platform
/// Docker pulls by default. The viewer has no host to ask.
const DEFAULT_PLATFORM: &str = "linux/amd64";
/// containerd's name annotation, fully qualified (`docker.io/local/app:1`).
const NAME_ANNOTATION: &str = "io.containerd.image.name";
/// The OCI name annotation: a tag, or (from other tools) a whole reference.
const REF_ANNOTATION: &str = "org.opencontainers.image.ref.name";

/// One image as the archive lists it, before its files are checked.
struct Listed {
    id: ImageId,
    /// Where its config is, and the ID its name promises (its blob or file name).
    config_path: String,
    layer_paths: Vec<String>,
    tags: Vec<RefName>,
    parent: Option<ImageId>,
}

/// Builds the model from a scan; `Err` when the tar holds no image list at all.
pub fn load(scan: &Scan) -> Result<(Store, Vec<Finding>)> {
    let files = kept_files(scan);
    let layout = detect(scan)?;
    let mut r = Reader::new(&files);
    if let Some(e) = &scan.error {
        r.finding(Code::ArchiveTruncated, vec![], e.clone());
    }
    for p in &scan.unsafe_paths {
        r.finding(
            Code::UnsafePath,
            vec![Subject::Path(p.clone())],
            format!("entry {p:?} is absolute or climbs out of the archive; it was not read"),
        );
    }
    if layout == ArchiveLayout::Legacy {
        return Ok(legacy(scan, r.findings));
    }
    verify_names(scan, &mut r);
    let listed = match layout {
        ArchiveLayout::Unknown | ArchiveLayout::Legacy => Vec::new(),
        ArchiveLayout::Oci => from_index(scan, &mut r, &files),
        _ => from_manifest(scan, &mut r, layout),
    };
    let mut store = Store {
        archive: Some(Box::new(Archive {
            layout,
            compression: scan.compression,
            read: scan.read,
            entries: scan.entries.len(),
            layers: BTreeMap::new(),
        })),
        ..Store::default()
    };
    for image in listed {
        add_image(scan, &mut r, &mut store, image);
    }
    Ok((store, r.findings))
}

/// Which layout the files are in (docs/research/docker-save-archives.md, §0).
fn detect(scan: &Scan) -> Result<ArchiveLayout> {
    let has = |p: &str| scan.entries.contains_key(p);
    Ok(match (has(MANIFEST), has(OCI_LAYOUT) || has(INDEX)) {
        (true, false) => ArchiveLayout::DockerV1,
        // Only moby writes `repositories` or `LayerSources` beside an OCI layout.
        (true, true) if has(REPOSITORIES) || manifest_has_layer_sources(scan) => {
            ArchiveLayout::MobyOci
        }
        (true, true) => ArchiveLayout::ContainerdOci,
        (false, true) => ArchiveLayout::Oci,
        (false, false) if has(REPOSITORIES) => ArchiveLayout::Legacy,
        // Engines write the image list last: a cut archive has none, and says so in a finding.
        (false, false) if scan.error.is_some() => ArchiveLayout::Unknown,
        (false, false) => {
            return Err(Error::NotAnArchive(
                "the tar holds neither manifest.json nor an OCI index.json".into(),
            ))
        }
    })
}

fn manifest_has_layer_sources(scan: &Scan) -> bool {
    content(scan, MANIFEST)
        .and_then(|b| serde_json::from_slice::<Value>(b).ok())
        .and_then(|v| v.as_array().cloned())
        .is_some_and(|items| items.iter().any(|i| i.get("LayerSources").is_some()))
}

/// The kept bytes and the links of the archive, as the shared readers take files.
fn kept_files(scan: &Scan) -> Files {
    scan.entries
        .iter()
        .filter_map(|(path, e)| {
            let entry = match e {
                Scanned::File(FileScan {
                    content: Some(c), ..
                }) => Entry::File(c.clone()),
                Scanned::Dir => Entry::Dir,
                _ => return None,
            };
            Some((path.clone(), entry))
        })
        .collect()
}

/// The file `path` names once links are followed, with its final path.
fn file<'a>(scan: &'a Scan, path: &str) -> Option<(&'a str, &'a FileScan)> {
    let mut at = path;
    for _ in 0..MAX_LINKS {
        let (key, entry) = scan.entries.get_key_value(at)?;
        match entry {
            Scanned::File(f) => return Some((key.as_str(), f)),
            Scanned::Link {
                target: Some(t), ..
            } => at = t,
            _ => return None,
        }
    }
    None
}

fn content<'a>(scan: &'a Scan, path: &str) -> Option<&'a [u8]> {
    file(scan, path).and_then(|(_, f)| f.content.as_deref())
}

/// Every file named by a digest must hash to it: blobs, and the `<id>.json` configs of the
/// Docker 1.10–24 layout.
fn verify_names(scan: &Scan, r: &mut Reader) {
    for (path, entry) in &scan.entries {
        let Scanned::File(f) = entry else { continue };
        let Some(named) = named_digest(path) else {
            continue;
        };
        if named != f.sha256 {
            r.finding(
                Code::ArchiveDigestMismatch,
                vec![Subject::Blob(named.clone()), Subject::Path(path.clone())],
                format!(
                    "{path} hashes to {}, not to {} as its name says",
                    f.sha256.short(),
                    named.short()
                ),
            );
        }
    }
}

fn named_digest(path: &str) -> Option<Digest> {
    let hex = match path.strip_prefix(BLOBS) {
        Some(hex) => hex,
        None if !path.contains('/') => path.strip_suffix(".json")?,
        None => return None,
    };
    Digest::from_hex(hex).ok()
}

/// `manifest.json`: every image the archive holds, in the layouts `docker save` writes. In the
/// containerd layout an image is known by its `index.json` target, so IDs come from there.
fn from_manifest(scan: &Scan, r: &mut Reader, layout: ArchiveLayout) -> Vec<Listed> {
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
fn from_index(scan: &Scan, r: &mut Reader, _files: &Files) -> Vec<Listed> {
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

/// Reads one image's config and checks each of its layers' files.
fn add_image(scan: &Scan, r: &mut Reader, store: &mut Store, listed: Listed) {
    let id = listed.id.clone();
    let subject = Subject::Image(id.clone());
    let config_file = file(scan, &listed.config_path);
    let mut verified = false;
    let config = match config_file {
        None => {
            r.finding(
                Code::ArchiveMissingFile,
                vec![subject.clone(), Subject::Path(listed.config_path.clone())],
                format!(
                    "image {}: its config {} is not in the archive",
                    name_of(&listed),
                    listed.config_path
                ),
            );
            None
        }
        Some((path, f)) => {
            let promised = named_digest(&listed.config_path).unwrap_or(f.sha256.clone());
            verified = promised == f.sha256;
            if !verified {
                r.finding(
                    Code::ConfigDigestMismatch,
                    vec![subject.clone(), Subject::Path(path.into())],
                    format!(
                        "image {}: its config hashes to {}, not {}",
                        name_of(&listed),
                        f.sha256.short(),
                        promised.short()
                    ),
                );
            }
            r.json(path, &subject)
                .and_then(|v| image_config::parse(r, &v, &id, path))
        }
    };
    let diff_ids: Vec<DiffId> = config
        .as_ref()
        .map(|c| c.diff_ids.clone())
        .unwrap_or_default();
    if config.is_some() && diff_ids.len() != listed.layer_paths.len() {
        r.finding(
            Code::ManifestMismatch,
            vec![subject.clone()],
            format!(
                "image {}: the manifest lists {} layers, its config {}",
                name_of(&listed),
                listed.layer_paths.len(),
                diff_ids.len()
            ),
        );
    }
    let image = Image {
        id: id.clone(),
        verified,
        config,
        parent: listed.parent.clone(),
        last_updated: None,
        built_locally: false,
        tags: listed.tags.clone(),
        digests: Vec::new(),
        chain: OnceLock::new(),
    };
    let chain: Vec<ChainId> = image.chain().to_vec();
    for (i, (chain_id, diff)) in chain.iter().zip(&diff_ids).enumerate() {
        if store.layers.contains_key(chain_id) {
            continue;
        }
        let path = listed.layer_paths.get(i).cloned().unwrap_or_default();
        let at = file(scan, &path);
        let what = || format!("layer {} of image {} ({path})", i + 1, name_of(&listed));
        let subjects = || {
            vec![
                Subject::Chain(chain_id.clone()),
                subject.clone(),
                Subject::Path(path.clone()),
            ]
        };
        let state = match at {
            // Past the end of a short layer list: the manifest-mismatch finding says it.
            None if i >= listed.layer_paths.len() => LayerState::Missing,
            None => {
                r.finding(
                    Code::ArchiveMissingFile,
                    subjects(),
                    format!("{} is not in the archive", what()),
                );
                LayerState::Missing
            }
            Some((_, f)) => match (&f.layer, &f.content) {
                (Some(l), _) if l.error.is_some() => {
                    r.finding(
                        Code::LayerUnreadable,
                        subjects(),
                        format!("{}: {}", what(), l.error.as_deref().unwrap_or_default()),
                    );
                    LayerState::Unreadable
                }
                (layer, _) => {
                    // A JSON "layer" (an attestation) is its own diff.
                    let got = layer
                        .as_ref()
                        .and_then(|l| l.diff_id.clone())
                        .unwrap_or_else(|| f.sha256.clone());
                    if got == *diff.digest() {
                        LayerState::Verified
                    } else {
                        r.finding(
                            Code::DiffIdMismatch,
                            subjects(),
                            format!(
                                "{}: its uncompressed bytes hash to {}, the config says {}",
                                what(),
                                got.short(),
                                diff.short()
                            ),
                        );
                        LayerState::Mismatch
                    }
                }
            },
        };
        let layer_scan = at.and_then(|(_, f)| f.layer.as_ref());
        store.layers.insert(
            chain_id.clone(),
            Layer {
                chain_id: chain_id.clone(),
                diff_id: Some(diff.clone()),
                parent: i.checked_sub(1).map(|p| chain[p].clone()),
                cache_id: None,
                size: layer_scan.filter(|l| l.error.is_none()).map(|l| l.size()),
                tar_split: false,
                descriptor: None,
            },
        );
        if let Some(archive) = store.archive.as_mut() {
            archive.layers.insert(
                chain_id.clone(),
                ArchiveLayer {
                    path: at.map_or(path.clone(), |(p, _)| p.to_owned()),
                    compression: layer_scan.and_then(|l| l.compression),
                    size: at.map(|(_, f)| f.size),
                    state,
                },
            );
        }
    }
    for tag in &image.tags {
        store.references.push(Reference {
            repository: tag.repository().to_owned(),
            name: tag.clone(),
            image: id.clone(),
        });
    }
    store.images.insert(id, image);
}

fn name_of(listed: &Listed) -> String {
    match listed.tags.first() {
        Some(t) => t.to_string(),
        None => listed.id.short().to_owned(),
    }
}

/// Docker before 1.10: each `<v1 id>/` holds a v1 `json` and its `layer.tar`; the tags are in
/// `repositories`. Read as the pre-1.10 v1 graph (`source::legacy`), with each layer's tar
/// checked to be there and readable.
fn legacy(scan: &Scan, mut findings: Vec<Finding>) -> (Store, Vec<Finding>) {
    let mut files = Files::new();
    let mut tars: BTreeMap<String, Option<&FileScan>> = BTreeMap::new();
    for (path, entry) in &scan.entries {
        let Some((id, name)) = path.split_once('/') else {
            continue;
        };
        if ChainId::from_hex(id).is_err() {
            continue;
        }
        match (name, entry) {
            (
                "json",
                Scanned::File(FileScan {
                    content: Some(c), ..
                }),
            ) => {
                files.insert(format!("graph/{id}/json"), Entry::File(c.clone()));
            }
            ("layer.tar", _) => {
                let f = file(scan, path).map(|(_, f)| f);
                if let Some(size) = f.and_then(|f| f.layer.as_ref()).map(|l| l.size()) {
                    files.insert(
                        format!("graph/{id}/layersize"),
                        Entry::File(size.to_string().into_bytes()),
                    );
                }
                tars.insert(id.to_owned(), f);
            }
            _ => {}
        }
    }
    for dir in scan.entries.keys().filter(|p| !p.contains('/')) {
        if ChainId::from_hex(dir).is_ok() {
            files.insert(format!("graph/{dir}"), Entry::Dir);
        }
    }
    // `repositories` is the TagStore's map without its `Repositories` wrapper.
    if let Some(tags) = content(scan, REPOSITORIES) {
        let mut wrapped = b"{\"Repositories\":".to_vec();
        wrapped.extend_from_slice(tags);
        wrapped.push(b'}');
        files.insert("repositories-archive".into(), Entry::File(wrapped));
    }
    let provenance = crate::provenance::Provenance::Files;
    let (mut store, more) = crate::source::legacy::load(&files, &provenance);
    findings.extend(more);
    store.driver = String::new();
    let mut archive = Archive {
        layout: ArchiveLayout::Legacy,
        compression: scan.compression,
        read: scan.read,
        entries: scan.entries.len(),
        layers: BTreeMap::new(),
    };
    for id in store.layers.keys() {
        let path = format!("{}/layer.tar", id.hex());
        let f = tars.get(id.hex()).copied().flatten();
        let state = match f.and_then(|f| f.layer.as_ref()) {
            None => {
                findings.push(Finding::new(
                    Code::ArchiveMissingFile,
                    vec![Subject::Chain(id.clone()), Subject::Path(path.clone())],
                    format!("layer {}: {path} is not in the archive", id.short()),
                ));
                LayerState::Missing
            }
            Some(l) if l.error.is_some() => {
                findings.push(Finding::new(
                    Code::LayerUnreadable,
                    vec![Subject::Chain(id.clone()), Subject::Path(path.clone())],
                    format!(
                        "layer {}: {}",
                        id.short(),
                        l.error.as_deref().unwrap_or_default()
                    ),
                ));
                LayerState::Unreadable
            }
            // No diffID to check a v1 layer against: it is whole and readable.
            Some(_) => LayerState::Verified,
        };
        archive.layers.insert(
            id.clone(),
            ArchiveLayer {
                path,
                compression: f.and_then(|f| f.layer.as_ref()).and_then(|l| l.compression),
                size: f.map(|f| f.size),
                state,
            },
        );
    }
    store.archive = Some(Box::new(archive));
    (store, findings)
}
