//! A scanned archive becomes the model: images from `manifest.json` (or, in a bare OCI layout,
//! from `index.json`), layers by chainID, and a finding for every file whose bytes are not what
//! the images say. Like every loader it keeps going: a damaged image is a finding, not an error.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::Value;

use super::list::{from_index, from_manifest, Listed};
use super::scan::{FileScan, Scan, Scanned};
use crate::error::{Error, Result};
use crate::finding::{Code, Finding, Subject};
use crate::id::{ChainId, DiffId, Digest};
use crate::snapshot::Entry;
use crate::source::files::{Files, Reader};
use crate::source::image_config;
use crate::store::*;

pub(super) const MANIFEST: &str = "manifest.json";
pub(super) const INDEX: &str = "index.json";
const OCI_LAYOUT: &str = "oci-layout";
const REPOSITORIES: &str = "repositories";
pub(super) const BLOBS: &str = "blobs/sha256/";
/// A chain of links longer than this is a loop.
const MAX_LINKS: usize = 16;

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
pub(super) fn file<'a>(scan: &'a Scan, path: &str) -> Option<(&'a str, &'a FileScan)> {
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

pub(super) fn content<'a>(scan: &'a Scan, path: &str) -> Option<&'a [u8]> {
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

pub(super) fn named_digest(path: &str) -> Option<Digest> {
    let hex = match path.strip_prefix(BLOBS) {
        Some(hex) => hex,
        None if !path.contains('/') => path.strip_suffix(".json")?,
        None => return None,
    };
    Digest::from_hex(hex).ok()
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
