//! The graph-driver store (`/var/lib/docker` with `image/<driver>/` and `<driver>/`): its files
//! become the model.
//!
//! Loading never fails and never panics: a file that is missing, empty, NUL-filled, not JSON or
//! not the identifier it should hold becomes a [`Finding`] and the object it belongs to is kept
//! with what could be read.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::Value;

use super::driver::{Driver, Record};
use crate::finding::{Code, Finding, Subject};
use crate::id::{ChainId, ContainerId, DiffId, Digest, ImageId, RefName};
use crate::provenance::Provenance;
use crate::snapshot::Entry;
use crate::store::*;
use crate::time::parse_rfc3339;

/// The files of a store, by path relative to its data root.
pub type Files = BTreeMap<String, Entry>;

/// Builds the model from a store's files; problems with single files come back as findings.
pub fn load(files: &Files, provenance: &Provenance) -> (Store, Vec<Finding>) {
    let driver = provenance
        .storage_driver()
        .map(str::to_owned)
        .or_else(|| detect_driver(files))
        .unwrap_or_default();
    let mut l = Loader {
        files,
        provenance,
        base: format!("image/{driver}/"),
        findings: Vec::new(),
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
    l.containers();
    l.driver_dirs(&driver);
    (l.store, l.findings)
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
    files: &'a Files,
    provenance: &'a Provenance,
    base: String,
    findings: Vec<Finding>,
    store: Store,
}

/// Entries under `prefix`, as (rest of path, entry), in path order.
fn under<'a>(files: &'a Files, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a Entry)> + 'a {
    files
        .range(prefix.to_owned()..)
        .map_while(move |(p, e)| Some((p.strip_prefix(prefix)?, e)))
}

/// The names directly under `prefix` (files, dirs and links).
fn children<'a>(files: &'a Files, prefix: &'a str) -> BTreeSet<&'a str> {
    under(files, prefix)
        .filter_map(|(rest, _)| rest.split('/').next())
        .filter(|s| !s.is_empty())
        .collect()
}

impl<'a> Loader<'a> {
    fn finding(&mut self, code: Code, subjects: Vec<Subject>, message: String) {
        self.findings.push(Finding::new(code, subjects, message));
    }

    /// A directory named by a container ID; any other name is a finding.
    fn container_id(&mut self, name: &str, dir: &str) -> Option<ContainerId> {
        match name.parse() {
            Ok(id) => Some(id),
            Err(e) => {
                self.finding(
                    Code::InvalidValue,
                    vec![Subject::Path(dir.to_owned())],
                    format!("{dir} is not named by a container ID: {e}"),
                );
                None
            }
        }
    }

    /// The bytes of a metadata file, or `None` (with a finding) when it is not a regular file
    /// or carries nothing (empty, NUL-filled). A missing file gives `None` and no finding.
    fn content(&mut self, path: &str, subject: &Subject) -> Option<&'a [u8]> {
        let files: &'a Files = self.files;
        let bytes = match files.get(path)? {
            Entry::File(b) => b.as_slice(),
            _ => {
                self.finding(
                    Code::InvalidValue,
                    vec![subject.clone(), Subject::Path(path.into())],
                    format!("{path} is not a regular file"),
                );
                return None;
            }
        };
        if let Some(code) = blank(bytes) {
            let what = if code == Code::EmptyFile {
                "is empty"
            } else {
                "holds only NUL bytes"
            };
            self.finding(
                code,
                vec![subject.clone(), Subject::Path(path.into())],
                format!("{path} {what}"),
            );
            return None;
        }
        Some(bytes)
    }

    /// The trimmed text of a metadata file, or `None` (with a finding) when it is unusable.
    /// A missing file gives `None` and no finding: whether that matters is the caller's call.
    fn text(&mut self, path: &str, subject: &Subject) -> Option<String> {
        let bytes = self.content(path, subject)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Some(s.trim().to_owned()),
            Err(_) => {
                self.finding(
                    Code::InvalidValue,
                    vec![subject.clone(), Subject::Path(path.into())],
                    format!("{path} is not text"),
                );
                None
            }
        }
    }

    /// Parses an identifier file; a bad value is a finding.
    fn id<T: std::str::FromStr<Err = crate::Error>>(
        &mut self,
        path: &str,
        subject: &Subject,
    ) -> Option<T> {
        let text = self.text(path, subject)?;
        match text.parse() {
            Ok(v) => Some(v),
            Err(e) => {
                self.finding(
                    Code::InvalidValue,
                    vec![subject.clone(), Subject::Path(path.into())],
                    format!("{path}: {e}"),
                );
                None
            }
        }
    }

    fn json(&mut self, path: &str, subject: &Subject) -> Option<Value> {
        let bytes = self.content(path, subject)?;
        // serde_json stops at 128 levels of nesting, which caps hostile depth.
        match serde_json::from_slice(bytes) {
            Ok(v) => Some(v),
            Err(e) => {
                self.finding(
                    Code::InvalidJson,
                    vec![subject.clone(), Subject::Path(path.into())],
                    format!("{path} is not valid JSON: {e}"),
                );
                None
            }
        }
    }

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
            let tar_split = self.files.contains_key(&tar_split_path)
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
                .and_then(|v| self.image_config(&v, &id, &path));
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

    fn image_config(&mut self, v: &Value, id: &ImageId, path: &str) -> Option<ImageConfig> {
        let subject = Subject::Image(id.clone());
        if !v.is_object() {
            self.finding(
                Code::InvalidJson,
                vec![subject, Subject::Path(path.into())],
                format!("{path} is not a JSON object"),
            );
            return None;
        }
        let mut diff_ids = Vec::new();
        if let Some(ids) = v.pointer("/rootfs/diff_ids").and_then(Value::as_array) {
            for d in ids {
                match d.as_str().map(str::parse::<DiffId>) {
                    Some(Ok(d)) => diff_ids.push(d),
                    _ => {
                        self.finding(
                            Code::InvalidValue,
                            vec![subject.clone(), Subject::Path(path.into())],
                            format!(
                                "image {}: rootfs.diff_ids holds {d}, not a diffID",
                                id.short()
                            ),
                        );
                        return None;
                    }
                }
            }
        } else {
            self.finding(
                Code::InvalidJson,
                vec![subject, Subject::Path(path.into())],
                format!("image {} has no rootfs.diff_ids", id.short()),
            );
            return None;
        }
        let mut layer = 0;
        let history = v
            .get("history")
            .and_then(Value::as_array)
            .map(|h| {
                h.iter()
                    .map(|e| {
                        let empty_layer = e
                            .get("empty_layer")
                            .and_then(Value::as_bool)
                            .unwrap_or(false);
                        let created = str_of(e, "created");
                        let index = (!empty_layer && layer < diff_ids.len()).then(|| {
                            layer += 1;
                            layer - 1
                        });
                        HistoryEntry {
                            created_unix: created
                                .as_deref()
                                .and_then(parse_rfc3339)
                                .map(|(s, _)| s),
                            created,
                            created_by: str_of(e, "created_by").unwrap_or_default(),
                            author: str_of(e, "author").unwrap_or_default(),
                            comment: str_of(e, "comment").unwrap_or_default(),
                            empty_layer,
                            layer: index,
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let created = str_of(v, "created");
        let config = v.get("config");
        let strings = |key: &str| -> Vec<String> {
            config
                .and_then(|c| c.get(key))
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        Some(ImageConfig {
            architecture: str_of(v, "architecture").unwrap_or_default(),
            os: str_of(v, "os").unwrap_or_default(),
            variant: str_of(v, "variant").unwrap_or_default(),
            created_unix: created.as_deref().and_then(parse_rfc3339).map(|(s, _)| s),
            created,
            author: str_of(v, "author").unwrap_or_default(),
            comment: str_of(v, "comment").unwrap_or_default(),
            docker_version: str_of(v, "docker_version").unwrap_or_default(),
            env: strings("Env"),
            cmd: strings("Cmd"),
            entrypoint: strings("Entrypoint"),
            labels: string_map(config.and_then(|c| c.get("Labels"))),
            history,
            diff_ids,
        })
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

    fn containers(&mut self) {
        for name in children(self.files, "containers/") {
            let path = format!("containers/{name}/config.v2.json");
            if !self.files.contains_key(&path) {
                continue;
            }
            let Some(id) = self.container_id(name, &format!("containers/{name}")) else {
                continue;
            };
            let subject = Subject::Container(id.clone());
            let Some(v) = self.json(&path, &subject) else {
                continue;
            };
            let state = v.get("State");
            let flag = |k: &str| {
                state
                    .and_then(|s| s.get(k))
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
            };
            let started_at = state
                .and_then(|s| str_of(s, "StartedAt"))
                .unwrap_or_default();
            let created = str_of(&v, "Created");
            let mut command: Vec<String> = str_of(&v, "Path")
                .into_iter()
                .filter(|p| !p.is_empty())
                .collect();
            if let Some(args) = v.get("Args").and_then(Value::as_array) {
                command.extend(args.iter().filter_map(|a| a.as_str().map(str::to_owned)));
            }
            let volumes = v
                .get("MountPoints")
                .and_then(Value::as_object)
                .map(|m| {
                    m.values()
                        .filter(|p| str_of(p, "Type").as_deref() == Some("volume"))
                        .filter_map(|p| str_of(p, "Name"))
                        .collect()
                })
                .unwrap_or_default();
            let image = match str_of(&v, "Image").map(|s| s.parse::<ImageId>()) {
                Some(Ok(i)) => Some(i),
                Some(Err(e)) => {
                    self.finding(
                        Code::InvalidValue,
                        vec![subject.clone(), Subject::Path(path.clone())],
                        format!("{path}: {e}"),
                    );
                    None
                }
                None => None,
            };
            self.store.containers.insert(
                id.clone(),
                Container {
                    id,
                    name: str_of(&v, "Name")
                        .unwrap_or_default()
                        .trim_start_matches('/')
                        .to_owned(),
                    image,
                    image_name: v
                        .pointer("/Config/Image")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    created_unix: created.as_deref().and_then(parse_rfc3339).map(|(s, _)| s),
                    created,
                    running: flag("Running"),
                    paused: flag("Paused"),
                    restarting: flag("Restarting"),
                    dead: flag("Dead"),
                    exit_code: state
                        .and_then(|s| s.get("ExitCode"))
                        .and_then(Value::as_i64)
                        .unwrap_or(0),
                    // Go's zero time: the container never started.
                    started: !started_at.is_empty() && !started_at.starts_with("0001-01-01"),
                    finished_at: state.and_then(|s| str_of(s, "FinishedAt")),
                    driver: str_of(&v, "Driver").unwrap_or_default(),
                    command,
                    labels: string_map(v.pointer("/Config/Labels")),
                    volumes,
                    networks: v
                        .pointer("/NetworkSettings/Networks")
                        .and_then(Value::as_object)
                        .map(|m| m.keys().cloned().collect())
                        .unwrap_or_default(),
                },
            );
        }
    }

    fn driver_dirs(&mut self, driver: &str) {
        let Some(driver) = Driver::from_name(driver) else {
            return;
        };
        let prefix = driver.records_prefix();
        let listing = prefix.trim_end_matches('/');
        self.store.driver_dirs_listed =
            driver.records_every_layer() && matches!(self.files.get(listing), Some(Entry::Dir));
        if driver.has_overlay_links() {
            for (link, entry) in under(self.files, &format!("{prefix}l/")) {
                if let Entry::Symlink(target) = entry {
                    self.store.links.insert(link.to_owned(), target.clone());
                }
            }
        }
        for name in children(self.files, prefix) {
            if driver.is_reserved(name) {
                continue;
            }
            let path = format!("{prefix}{name}");
            let is_record = matches!(
                (driver.record(), self.files.get(&path)),
                (Record::Dir, Some(Entry::Dir)) | (Record::File, Some(Entry::File(_)))
            );
            if !is_record {
                continue;
            }
            let has = |f: &str| self.files.contains_key(&format!("{path}/{f}"));
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
                d.link = match file(self.files, &format!("{path}/link")) {
                    Some([]) => Some(String::new()),
                    Some(_) => self
                        .text(&format!("{path}/link"), &subject)
                        .or(Some(String::new())),
                    None => None,
                };
                d.lower = self
                    .text(&format!("{path}/lower"), &subject)
                    .map(|s| s.split(':').map(str::to_owned).collect());
            }
            self.store.driver_dirs.insert(name.to_owned(), d);
        }
    }
}

/// A layer larger than this (8 PiB) is a lie: sums of such sizes could not be trusted, and
/// every size past it could overflow the i64 the docker CLI prints.
const MAX_LAYER_SIZE: u64 = 1 << 53;

/// The bytes of a regular file.
fn file<'a>(files: &'a Files, path: &str) -> Option<&'a [u8]> {
    match files.get(path)? {
        Entry::File(b) => Some(b),
        _ => None,
    }
}

/// `EmptyFile` or `NulFilled` when the bytes carry nothing.
fn blank(bytes: &[u8]) -> Option<Code> {
    if bytes.is_empty() {
        Some(Code::EmptyFile)
    } else if bytes.iter().all(|&b| b == 0) {
        Some(Code::NulFilled)
    } else {
        None
    }
}

fn str_of(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}
