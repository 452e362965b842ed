//! The graph-driver store (`/var/lib/docker` with `image/<driver>/` and `<driver>/`): its files
//! become the model.
//!
//! Loading never fails and never panics: a file that is missing, empty, NUL-filled, not JSON or
//! not the identifier it should hold becomes a [`Finding`] and the object it belongs to is kept
//! with what could be read.

use std::sync::OnceLock;

use serde_json::Value;

use super::driver::{Driver, Record};
use crate::finding::{Code, Finding, Subject};
use crate::id::{ChainId, DiffId, Digest, ImageId, RefName};
use crate::provenance::Provenance;
use crate::snapshot::Entry;
use crate::source::files::{blank, children, file, str_of, under, Files, Reader};
use crate::source::{containers, image_config};
use crate::store::*;

/// Builds the model from a store's files; problems with single files come back as findings.
pub fn load(files: &Files, provenance: &Provenance) -> (Store, Vec<Finding>) {
    let driver = provenance
        .storage_driver()
        .map(str::to_owned)
        .or_else(|| detect_driver(files))
        .unwrap_or_default();
    let mut l = Loader {
        r: Reader::new(files),
        provenance,
        base: format!("image/{driver}/"),
        store: Store {
            driver: driver.clone(),
            image_configs_redacted: provenance.image_configs_redacted(),
            provenance: provenance.clone(),
            ..Store::default()
        },
    };
    l.layers();
    l.mounts();
    l.images();
    l.references();
    l.distribution();
    l.store.containers = containers::load(&mut l.r);
    driver_dirs(&mut l.r, &driver, &mut l.store);
    (l.store, l.r.findings)
}

/// The active graph driver of files with no manifest: the one under `image/` whose own
/// directory exists (dockerd keeps `image/<old driver>/` after a switch), else the first.
fn detect_driver(files: &Files) -> Option<String> {
    let names = children(files, "image/");
    names
        .iter()
        .find(|n| matches!(files.get(**n), Some(Entry::Dir)))
        .or_else(|| names.iter().next())
        .map(|n| (*n).to_owned())
}

struct Loader<'a> {
    r: Reader<'a>,
    provenance: &'a Provenance,
    base: String,
    store: Store,
}

// The loader reads through its reader: `self.json(…)` and `self.files` are the reader's.
impl<'a> std::ops::Deref for Loader<'a> {
    type Target = Reader<'a>;
    fn deref(&self) -> &Reader<'a> {
        &self.r
    }
}
impl<'a> std::ops::DerefMut for Loader<'a> {
    fn deref_mut(&mut self) -> &mut Reader<'a> {
        &mut self.r
    }
}

impl<'a> Loader<'a> {
    fn layers(&mut self) {
        let prefix = format!("{}layerdb/sha256/", self.base);
        let omitted = self.provenance.omitted();
        for name in children(self.files, &prefix) {
            let dir = format!("{prefix}{name}");
            if name.ends_with("-removing") {
                self.finding(
                    Code::Leftover,
                    vec![Subject::Path(dir.clone())],
                    format!("{dir} is a layer removal that did not finish"),
                );
                continue;
            }
            let Ok(chain_id) = ChainId::from_hex(name) else {
                self.finding(
                    Code::InvalidValue,
                    vec![Subject::Path(dir.clone())],
                    format!("{dir} is not named by a chainID"),
                );
                continue;
            };
            let subject = Subject::Chain(chain_id.clone());
            for required in ["diff", "size", "cache-id"] {
                if !self.files.contains_key(&format!("{dir}/{required}")) {
                    self.finding(
                        Code::MissingFile,
                        vec![subject.clone(), Subject::Path(format!("{dir}/{required}"))],
                        format!("layer {} has no {required} file", chain_id.short()),
                    );
                }
            }
            let diff_id = self.id(&format!("{dir}/diff"), &subject);
            let parent = self.id(&format!("{dir}/parent"), &subject);
            let cache_id = self.id(&format!("{dir}/cache-id"), &subject);
            let size =
                self.text(&format!("{dir}/size"), &subject)
                    .and_then(|s| match s.parse::<u64>() {
                        Ok(n) if n <= MAX_LAYER_SIZE => Some(n),
                        _ => {
                            self.finding(
                                Code::InvalidValue,
                                vec![subject.clone(), Subject::Path(format!("{dir}/size"))],
                                format!("{dir}/size is not a layer size in bytes"),
                            );
                            None
                        }
                    });
            let descriptor = self.json(&format!("{dir}/descriptor.json"), &subject);
            let tar_split_path = format!("{dir}/tar-split.json.gz");
            // Left out by `pack --no-tar-split`: present on the host, just not in the snapshot.
            let tar_split = crate::tarsplit::Stored::exists(self.files, &tar_split_path)
                || omitted.contains(tar_split_path.as_str());
            self.store.layers.insert(
                chain_id.clone(),
                Layer {
                    chain_id,
                    diff_id,
                    parent,
                    cache_id,
                    size,
                    tar_split,
                    descriptor,
                },
            );
        }
        let tmp = format!("{}layerdb/tmp/", self.base);
        for name in children(self.files, &tmp) {
            let path = format!("{tmp}{name}");
            self.finding(
                Code::Leftover,
                vec![Subject::Path(path.clone())],
                format!("{path} is a layer write that did not finish"),
            );
        }
    }

    fn mounts(&mut self) {
        let prefix = format!("{}layerdb/mounts/", self.base);
        for name in children(self.files, &prefix) {
            let dir = format!("{prefix}{name}");
            let Some(container) = self.container_id(name, &dir) else {
                continue;
            };
            let subject = Subject::Container(container.clone());
            if !self.files.contains_key(&format!("{dir}/mount-id")) {
                self.finding(
                    Code::MissingFile,
                    vec![subject.clone(), Subject::Path(format!("{dir}/mount-id"))],
                    format!("container mount {container} has no mount-id"),
                );
            }
            let mount_id = self.id(&format!("{dir}/mount-id"), &subject);
            let init_id = self.id(&format!("{dir}/init-id"), &subject);
            let parent = self.id(&format!("{dir}/parent"), &subject);
            self.store.mounts.insert(
                container.clone(),
                Mount {
                    container,
                    mount_id,
                    init_id,
                    parent,
                },
            );
        }
    }

    fn images(&mut self) {
        let content = format!("{}imagedb/content/sha256/", self.base);
        let redacted = self.provenance.redacted_image_configs();
        for (hex, entry) in under(self.files, &content) {
            let path = format!("{content}{hex}");
            let Ok(id) = ImageId::from_hex(hex) else {
                self.finding(
                    Code::InvalidValue,
                    vec![Subject::Path(path.clone())],
                    format!("{path} is not named by an image ID"),
                );
                continue;
            };
            let subject = Subject::Image(id.clone());
            let Entry::File(bytes) = entry else {
                self.finding(
                    Code::InvalidValue,
                    vec![subject, Subject::Path(path.clone())],
                    format!("{path} is not a regular file"),
                );
                continue;
            };
            let verified = match redacted.get(&id) {
                Some(matched) => *matched,
                None => Digest::sha256_of(bytes) == *id.digest(),
            };
            let blank_file = blank(bytes).is_some();
            if !verified && !blank_file {
                self.finding(
                    Code::ImageIdMismatch,
                    vec![subject.clone(), Subject::Path(path.clone())],
                    format!(
                        "image {}: the config's sha256 is {}, not its ID",
                        id.short(),
                        Digest::sha256_of(bytes).short()
                    ),
                );
            }
            let config = self
                .json(&path, &subject)
                .and_then(|v| image_config::parse(&mut self.r, &v, &id, &path));
            let meta = format!("{}imagedb/metadata/sha256/{hex}", self.base);
            let parent = self.id(&format!("{meta}/parent"), &subject);
            let last_updated = self
                .text(&format!("{meta}/lastUpdated"), &subject)
                .filter(|s| !s.is_empty());
            let built_locally = matches!(file(self.files, &format!("{meta}/builtLocally")), Some(b) if b.first() == Some(&1));
            self.store.images.insert(
                id.clone(),
                Image {
                    id,
                    verified,
                    config,
                    parent,
                    last_updated,
                    built_locally,
                    tags: Vec::new(),
                    digests: Vec::new(),
                    chain: OnceLock::new(),
                },
            );
        }
    }

    fn references(&mut self) {
        let path = format!("{}repositories.json", self.base);
        let Some(doc) = self.json(&path, &Subject::Path(path.clone())) else {
            return;
        };
        let Some(repos) = doc.get("Repositories").and_then(Value::as_object) else {
            self.finding(
                Code::InvalidJson,
                vec![Subject::Path(path.clone())],
                format!("{path} has no Repositories object"),
            );
            return;
        };
        for (repository, refs) in repos {
            let Some(refs) = refs.as_object() else {
                continue;
            };
            for (name, id) in refs {
                let Ok(ref_name) = name.parse::<RefName>() else {
                    self.finding(
                        Code::InvalidValue,
                        vec![Subject::Path(path.clone())],
                        format!("{path} holds {name:?}, which is not a reference"),
                    );
                    continue;
                };
                match id.as_str().map(str::parse::<ImageId>) {
                    Some(Ok(image)) => self.store.references.push(Reference {
                        repository: repository.clone(),
                        name: ref_name,
                        image,
                    }),
                    _ => self.finding(
                        Code::InvalidValue,
                        vec![
                            Subject::Reference(ref_name.to_string()),
                            Subject::Path(path.clone()),
                        ],
                        format!("{name} in {path} points at {id}, not an image ID"),
                    ),
                }
            }
        }
        for r in &self.store.references {
            if let Some(image) = self.store.images.get_mut(&r.image) {
                if r.name.digest().is_some() {
                    image.digests.push(r.name.clone());
                } else {
                    image.tags.push(r.name.clone());
                }
            }
        }
    }

    fn distribution(&mut self) {
        let by_digest = format!("{}distribution/diffid-by-digest/sha256/", self.base);
        for hex in children(self.files, &by_digest) {
            let path = format!("{by_digest}{hex}");
            let Ok(digest) = Digest::from_hex(hex) else {
                continue;
            };
            if let Some(diff) = self.id::<DiffId>(&path, &Subject::Path(path.clone())) {
                self.store
                    .distribution
                    .diff_id_by_digest
                    .insert(digest, diff);
            }
        }
        let by_diff = format!("{}distribution/v2metadata-by-diffid/sha256/", self.base);
        for hex in children(self.files, &by_diff) {
            let path = format!("{by_diff}{hex}");
            let Ok(diff) = DiffId::from_hex(hex) else {
                continue;
            };
            let Some(Value::Array(items)) = self.json(&path, &Subject::Path(path.clone())) else {
                continue;
            };
            let sources = items
                .iter()
                .map(|m| BlobSource {
                    digest: str_of(m, "Digest").unwrap_or_default(),
                    repository: str_of(m, "SourceRepository").unwrap_or_default(),
                    pushed: !str_of(m, "HMAC").unwrap_or_default().is_empty(),
                })
                .collect();
            self.store
                .distribution
                .sources_by_diff_id
                .insert(diff, sources);
        }
    }
}

/// The driver's per-layer records (and overlay2's links), as `<driver>/` lists them. The
/// pre-1.10 layout has the same driver directories, so its loader reads them here too.
pub(crate) fn driver_dirs(r: &mut Reader, driver: &str, store: &mut Store) {
    let Some(driver) = Driver::from_name(driver) else {
        return;
    };
    let prefix = driver.records_prefix();
    let listing = prefix.trim_end_matches('/');
    store.driver_dirs_listed =
        driver.records_every_layer() && matches!(r.files.get(listing), Some(Entry::Dir));
    if driver.has_overlay_links() {
        for (link, entry) in under(r.files, &format!("{prefix}l/")) {
            if let Entry::Symlink(target) = entry {
                store.links.insert(link.to_owned(), target.clone());
            }
        }
    }
    for name in children(r.files, prefix) {
        if driver.is_reserved(name) {
            continue;
        }
        let path = format!("{prefix}{name}");
        let is_record = matches!(
            (driver.record(), r.files.get(&path)),
            (Record::Dir, Some(Entry::Dir)) | (Record::File, Some(Entry::File(_)))
        );
        if !is_record {
            continue;
        }
        let has = |f: &str| r.files.contains_key(&format!("{path}/{f}"));
        let mut d = DriverDir {
            name: name.to_owned(),
            committed: has("committed"),
            has_diff: has("diff"),
            has_work: has("work"),
            has_merged: has("merged"),
            ..DriverDir::default()
        };
        if driver.has_overlay_links() {
            let subject = Subject::CacheDir(name.to_owned());
            d.link = match file(r.files, &format!("{path}/link")) {
                Some([]) => Some(String::new()),
                Some(_) => r
                    .text(&format!("{path}/link"), &subject)
                    .or(Some(String::new())),
                None => None,
            };
            d.lower = r
                .text(&format!("{path}/lower"), &subject)
                .map(|s| s.split(':').map(str::to_owned).collect());
        }
        store.driver_dirs.insert(name.to_owned(), d);
    }
}

/// A layer larger than this (8 PiB) is a lie: sums of such sizes could not be trusted, and
/// every size past it could overflow the i64 the docker CLI prints.
const MAX_LAYER_SIZE: u64 = 1 << 53;
