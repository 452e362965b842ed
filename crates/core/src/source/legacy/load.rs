//! The pre-1.10 layout's files become the model (docs/research/pre-1.10-layout.md, §1–§6).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::Value;

use super::GRAPH;
use crate::finding::{Code, Finding, Subject};
use crate::id::{CacheId, ChainId, ImageId, RefName};
use crate::provenance::Provenance;
use crate::snapshot::Entry;
use crate::source::files::{children, file, str_of, string_map, Files, Reader};
use crate::source::graphdriver::driver::Driver;
use crate::source::graphdriver::load::driver_dirs;
use crate::store::*;
use crate::time::parse_rfc3339;

/// The TagStore file's name before its driver suffix.
const REPOSITORIES: &str = "repositories-";
/// A tar-split larger than this once inflated is not one Docker wrote for a layer.
const MAX_TAR_SPLIT: u64 = 256 << 20;

/// One `graph/<id>/` as read.
struct V1Layer {
    json: Option<Value>,
    parent: Option<ChainId>,
}

/// Builds the model from a pre-1.10 root's files.
pub fn load(files: &Files, provenance: &Provenance) -> (Store, Vec<Finding>) {
    let driver = provenance
        .storage_driver()
        .map(str::to_owned)
        .or_else(|| detect_driver(files))
        .unwrap_or_default();
    let mut r = Reader::new(files);
    let mut store = Store {
        driver: driver.clone(),
        provenance: provenance.clone(),
        v1: true,
        ..Store::default()
    };
    driver_dirs(&mut r, &driver, &mut store);
    let v1 = layers(&mut r, &mut store);
    aufs_chains(&mut r, &store);
    references(&mut r, &driver, &mut store);
    images(&v1, &mut store);
    (store, r.findings)
}

/// The driver: named by a `repositories-<driver>` file whose driver directory exists.
fn detect_driver(files: &Files) -> Option<String> {
    let names: Vec<&str> = files
        .keys()
        .filter_map(|k| k.strip_prefix(REPOSITORIES))
        .filter(|d| !d.contains('/'))
        .collect();
    names
        .iter()
        .find(|d| matches!(files.get(**d), Some(Entry::Dir)))
        .or(names.first())
        .map(|d| (*d).to_owned())
}

fn layers(r: &mut Reader, store: &mut Store) -> BTreeMap<ChainId, V1Layer> {
    let naive = !matches!(store.graph_driver(), Some(Driver::Aufs));
    let mut out = BTreeMap::new();
    for name in children(r.files, GRAPH) {
        let dir = format!("{GRAPH}{name}");
        // `_tmp` and anything else not named by an ID: the migration skips it too.
        let Ok(id) = ChainId::from_hex(name) else {
            continue;
        };
        let subject = Subject::Chain(id.clone());
        let json_path = format!("{dir}/json");
        if !r.files.contains_key(&json_path) {
            r.finding(
                Code::MissingFile,
                vec![subject.clone(), Subject::Path(json_path.clone())],
                format!(
                    "layer {} has no json: Docker skips it and every layer above",
                    id.short()
                ),
            );
        }
        let json = r.json(&json_path, &subject);
        if let Some(inner) = json.as_ref().and_then(|j| str_of(j, "id")) {
            if !inner.is_empty() && inner != name {
                r.finding(
                    Code::InvalidValue,
                    vec![subject.clone(), Subject::Path(json_path.clone())],
                    format!("{json_path} says its id is {inner:.12}, not {}", id.short()),
                );
            }
        }
        let parent = parent_of(r, &dir, json.as_ref(), &subject);
        let size = layersize(r, &dir, &subject);
        let (tar_split_path, tar_split) =
            match crate::tarsplit::Stored::find(r.files, &format!("{dir}/tar-data.json.gz")) {
                Some((path, stored)) => (
                    path,
                    Some(crate::tarsplit::summarize(stored, MAX_TAR_SPLIT)),
                ),
                None => (String::new(), None),
            };
        match (&tar_split, size) {
            (Some(Err(e)), _) => r.finding(
                Code::InvalidValue,
                vec![subject.clone(), Subject::Path(tar_split_path.clone())],
                format!("{tar_split_path} is not a readable tar-split: {e}"),
            ),
            // aufs measures the applied directory (symlinks, hard links once): it may differ.
            (Some(Ok(summary)), Some(size)) if naive && summary.file_bytes != size => r.finding(
                Code::LayersizeMismatch,
                vec![subject.clone(), Subject::Path(format!("{dir}/layersize"))],
                format!(
                    "layer {}: layersize says {size} bytes, its tar-split holds {} bytes of files",
                    id.short(),
                    summary.file_bytes
                ),
            ),
            _ => {}
        }
        let cache_id = store
            .driver_dirs
            .contains_key(name)
            .then(|| name.parse::<CacheId>().ok())
            .flatten()
            .or_else(|| name.parse().ok());
        store.layers.insert(
            id.clone(),
            Layer {
                chain_id: id.clone(),
                diff_id: None,
                parent: parent.clone(),
                cache_id,
                size,
                tar_split: tar_split.is_some(),
                descriptor: None,
            },
        );
        out.insert(id, V1Layer { json, parent });
    }
    out
}

/// The parent, as the migration resolves it: `parent`, else `parent_id`'s hex, and a
/// `graph/<id>/parent` file over both (docs/research/pre-1.10-layout.md §1.1).
fn parent_of(
    r: &mut Reader,
    dir: &str,
    json: Option<&Value>,
    subject: &Subject,
) -> Option<ChainId> {
    let path = format!("{dir}/json");
    let mut parent = json
        .and_then(|j| str_of(j, "parent"))
        .filter(|p| !p.is_empty());
    if parent.is_none() {
        if let Some(pid) = json
            .and_then(|j| str_of(j, "parent_id"))
            .filter(|p| !p.is_empty())
        {
            match pid.split_once(':') {
                Some((_, hex)) => parent = Some(hex.to_owned()),
                // v1.10's migration panics here; storesnap says so instead.
                None => r.finding(
                    Code::InvalidValue,
                    vec![subject.clone(), Subject::Path(path.clone())],
                    format!("{path}: parent_id {pid:.80} is not a digest"),
                ),
            }
        }
    }
    let override_path = format!("{dir}/parent");
    if let Some(text) = file(r.files, &override_path).filter(|b| !b.is_empty()) {
        parent = Some(String::from_utf8_lossy(text).into_owned());
    }
    let parent = parent?;
    match ChainId::from_hex(&parent) {
        Ok(p) => Some(p),
        Err(_) => {
            r.finding(
                Code::InvalidValue,
                vec![subject.clone(), Subject::Path(path)],
                format!("{dir}: parent {parent:.80} is not a v1 ID"),
            );
            None
        }
    }
}

fn layersize(r: &mut Reader, dir: &str, subject: &Subject) -> Option<u64> {
    let path = format!("{dir}/layersize");
    let bytes = file(r.files, &path)?;
    // Docker 1.9 parses it untrimmed: a newline makes it drop the image.
    match std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        Some(n) => Some(n),
        None => {
            r.finding(
                Code::InvalidValue,
                vec![subject.clone(), Subject::Path(path.clone())],
                format!("{path} is not a size in bytes (Docker 1.9 ignores the image)"),
            );
            None
        }
    }
}

/// aufs mounts a layer from its `aufs/layers/<id>` list, not from the json parents: the two
/// must agree, or the mounted filesystem is not the image's.
fn aufs_chains(r: &mut Reader, store: &Store) {
    if store.graph_driver() != Some(Driver::Aufs) {
        return;
    }
    for (id, layer) in &store.layers {
        let path = format!("aufs/layers/{}", id.hex());
        // Without its json the layer's parents are unknown: that is the missing file's finding.
        let known = file(r.files, &format!("{GRAPH}{}/json", id.hex())).is_some();
        let Some(bytes) = file(r.files, &path).filter(|_| known) else {
            continue;
        };
        let listed: Vec<&str> = std::str::from_utf8(bytes)
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.is_empty())
            .collect();
        let mut chain = Vec::new();
        let mut seen = BTreeSet::new();
        let mut at = layer.parent.as_ref();
        while let Some(p) = at {
            if !seen.insert(p) {
                break;
            }
            chain.push(p.hex());
            at = store.layers.get(p).and_then(|l| l.parent.as_ref());
        }
        if listed != chain {
            r.finding(
                Code::AufsLayersMismatch,
                vec![Subject::Chain(id.clone()), Subject::Path(path.clone())],
                format!(
                    "{path} lists {} parents, the json chain has {}{}",
                    listed.len(),
                    chain.len(),
                    match listed.iter().zip(&chain).position(|(a, b)| a != b) {
                        Some(i) => format!(" (they part at parent {})", i + 1),
                        None => String::new(),
                    }
                ),
            );
        }
    }
}

/// `repositories-<driver>`: `{"Repositories":{"<repo>":{"<tag or digest>":"<v1 id>"}}}`.
fn references(r: &mut Reader, driver: &str, store: &mut Store) {
    let path = format!("{REPOSITORIES}{driver}");
    let subject = Subject::Path(path.clone());
    let Some(doc) = r.json(&path, &subject) else {
        return;
    };
    let Some(repos) = doc.get("Repositories").and_then(Value::as_object) else {
        r.finding(
            Code::InvalidValue,
            vec![subject],
            format!("{path} has no Repositories object"),
        );
        return;
    };
    for (repo, tags) in repos {
        for (tag, id) in string_map(Some(tags)) {
            let joined = if tag.starts_with("sha256:") {
                format!("{repo}@{tag}")
            } else {
                format!("{repo}:{tag}")
            };
            match (joined.parse::<RefName>(), ImageId::from_hex(&id)) {
                (Ok(name), Ok(image)) => store.references.push(Reference {
                    repository: repo.clone(),
                    name,
                    image,
                }),
                _ => r.finding(
                    Code::InvalidValue,
                    vec![
                        Subject::Reference(joined.clone()),
                        Subject::Path(path.clone()),
                    ],
                    format!("{path}: {joined} → {id:.80} is not a name and a v1 ID"),
                ),
            }
        }
    }
}

/// The images `docker images` listed: the tagged layers and the heads (layers no other layer
/// names as its parent), each with its chain root first and a history from its layers' json.
fn images(v1: &BTreeMap<ChainId, V1Layer>, store: &mut Store) {
    let parents: BTreeSet<&ChainId> = v1.values().filter_map(|l| l.parent.as_ref()).collect();
    let tagged: BTreeSet<ChainId> = store
        .references
        .iter()
        .map(|r| ChainId::from(r.image.digest().clone()))
        .collect();
    for (id, layer) in v1 {
        if parents.contains(id) && !tagged.contains(id) {
            continue;
        }
        let mut chain = vec![id.clone()];
        let mut at = layer.parent.as_ref();
        while let Some(p) = at {
            // A loop is the layer checks' finding; here it only ends the walk.
            if chain.contains(p) || chain.len() > v1.len() {
                break;
            }
            chain.push(p.clone());
            at = v1.get(p).and_then(|l| l.parent.as_ref());
        }
        chain.reverse();
        let config = layer.json.as_ref().map(|j| config(j, &chain, v1));
        let image_id = ImageId::from(id.digest().clone());
        let refs: Vec<RefName> = store
            .references
            .iter()
            .filter(|r| r.image == image_id)
            .map(|r| r.name.clone())
            .collect();
        let (digests, tags) = refs.into_iter().partition(|n| n.digest().is_some());
        store.images.insert(
            image_id.clone(),
            Image {
                id: image_id,
                // v1 IDs are random: nothing to verify them against (`Store::id_check` says so).
                verified: false,
                config,
                parent: None,
                last_updated: None,
                built_locally: false,
                tags,
                digests,
                chain: OnceLock::from(chain),
            },
        );
    }
}

/// The image config the v1 json of the tip and its chain amount to (what `MakeConfigFromV1Config`
/// builds, without diffIDs).
fn config(tip: &Value, chain: &[ChainId], v1: &BTreeMap<ChainId, V1Layer>) -> ImageConfig {
    let s = |v: &Value, k: &str| str_of(v, k).unwrap_or_default();
    let list = |v: Option<&Value>| -> Vec<String> {
        match v {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect(),
            Some(Value::String(one)) => vec![one.clone()],
            _ => Vec::new(),
        }
    };
    let cfg = tip.get("config");
    let created = str_of(tip, "created");
    let history = chain
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let j = v1.get(c).and_then(|l| l.json.as_ref());
            let created = j.and_then(|j| str_of(j, "created"));
            HistoryEntry {
                created_unix: created.as_deref().and_then(parse_rfc3339).map(|(s, _)| s),
                created,
                created_by: list(j.and_then(|j| j.pointer("/container_config/Cmd"))).join(" "),
                author: j.map(|j| s(j, "author")).unwrap_or_default(),
                comment: j.map(|j| s(j, "comment")).unwrap_or_default(),
                empty_layer: false,
                layer: Some(i),
            }
        })
        .collect();
    ImageConfig {
        architecture: s(tip, "architecture"),
        os: s(tip, "os"),
        variant: String::new(),
        created_unix: created.as_deref().and_then(parse_rfc3339).map(|(s, _)| s),
        created,
        author: s(tip, "author"),
        comment: s(tip, "comment"),
        docker_version: s(tip, "docker_version"),
        env: list(cfg.and_then(|c| c.get("Env"))),
        cmd: list(cfg.and_then(|c| c.get("Cmd"))),
        entrypoint: list(cfg.and_then(|c| c.get("Entrypoint"))),
        labels: string_map(cfg.and_then(|c| c.get("Labels"))),
        history,
        diff_ids: Vec::new(),
    }
}
