//! The model of an image store, built from a snapshot's files.
//!
//! Loading never fails and never panics: a file that is missing, empty, NUL-filled, not JSON or
//! not the identifier it should hold becomes a [`Finding`] and the object it belongs to is kept
//! with what could be read. Cross-object checks live in [`crate::check`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::Value;

use crate::finding::{Code, Finding, Subject};
use crate::id::{CacheId, ChainId, DiffId, Digest, ImageId};
use crate::snapshot::{Entry, Snapshot};
use crate::time::parse_rfc3339;

/// Everything storesnap knows about one image store.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Store {
    /// The graph driver, e.g. `overlay2`.
    pub driver: String,
    pub images: BTreeMap<ImageId, Image>,
    pub layers: BTreeMap<ChainId, Layer>,
    /// Container RW layers, keyed by container ID.
    pub mounts: BTreeMap<String, Mount>,
    pub containers: BTreeMap<String, Container>,
    /// repositories.json, in its (sorted) order.
    pub references: Vec<Reference>,
    pub distribution: Distribution,
    /// Graph-driver directories by name (every driver), with overlay2 details where known.
    pub driver_dirs: BTreeMap<String, DriverDir>,
    /// overlay2 `l/<link>` → the target as written.
    pub links: BTreeMap<String, String>,
    /// Whether image configs were redacted at pack time (their bytes no longer hash to the ID).
    pub image_configs_redacted: bool,
}

/// An image from imagedb.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub id: ImageId,
    /// sha256(config bytes) == ID; for a redacted config, whether it did before redaction.
    pub verified: bool,
    /// The parsed config; `None` when the bytes are not a usable config.
    pub config: Option<ImageConfig>,
    /// `imagedb/metadata/sha256/<id>/parent`.
    pub parent: Option<ImageId>,
    /// `lastUpdated`, as written (RFC 3339 with nanoseconds, local offset).
    pub last_updated: Option<String>,
    pub built_locally: bool,
    /// `repo:tag` references to it, from repositories.json.
    pub tags: Vec<String>,
    /// `repo@sha256:…` references to it.
    pub digests: Vec<String>,
    /// [`Image::chain`], computed on first use: checks, views and every render of the viewer ask
    /// for it, and it costs one sha256 per layer. `config` is not changed after loading.
    pub(crate) chain: OnceLock<Vec<ChainId>>,
}

impl Image {
    /// The chainID of every prefix of the image's diff_ids, base first.
    pub fn chain(&self) -> &[ChainId] {
        self.chain.get_or_init(|| {
            let Some(config) = &self.config else {
                return Vec::new();
            };
            let mut out: Vec<ChainId> = Vec::with_capacity(config.diff_ids.len());
            for diff in &config.diff_ids {
                let next = match out.last() {
                    None => ChainId::from(diff.digest().clone()),
                    Some(parent) => parent.child(diff),
                };
                out.push(next);
            }
            out
        })
    }

    /// The top layer's chainID; `None` for an image with no layers.
    pub fn top_layer(&self) -> Option<ChainId> {
        self.chain().last().cloned()
    }
}

/// The parts of an image config storesnap uses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageConfig {
    pub architecture: String,
    pub os: String,
    pub variant: String,
    /// As written, RFC 3339.
    pub created: Option<String>,
    /// `created` as Unix seconds.
    pub created_unix: Option<i64>,
    pub author: String,
    pub comment: String,
    pub docker_version: String,
    pub env: Vec<String>,
    pub cmd: Vec<String>,
    pub entrypoint: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub history: Vec<HistoryEntry>,
    pub diff_ids: Vec<DiffId>,
}

/// One `history[]` entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistoryEntry {
    pub created: Option<String>,
    pub created_unix: Option<i64>,
    pub created_by: String,
    pub author: String,
    pub comment: String,
    pub empty_layer: bool,
    /// For a non-empty entry, the index of its layer in `diff_ids` (and so in the chain).
    pub layer: Option<usize>,
}

/// A layer from `layerdb/sha256/<chainID>/`.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub chain_id: ChainId,
    pub diff_id: Option<DiffId>,
    pub parent: Option<ChainId>,
    pub cache_id: Option<CacheId>,
    /// The layer's own size (`size`), not the chain's.
    pub size: Option<u64>,
    /// Whether the layer has its tar-split on the host (in the snapshot, or left out on request).
    pub tar_split: bool,
    pub descriptor: Option<Value>,
}

/// A container's RW layer from `layerdb/mounts/<containerID>/`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mount {
    pub container: String,
    pub mount_id: Option<CacheId>,
    pub init_id: Option<CacheId>,
    /// The image top layer it sits on; `None` for a `FROM scratch` container.
    pub parent: Option<ChainId>,
}

/// A container from `containers/<id>/config.v2.json`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Container {
    pub id: String,
    /// Without the leading `/`.
    pub name: String,
    pub image: Option<ImageId>,
    /// The image as the user named it (`Config.Image`).
    pub image_name: String,
    pub created: Option<String>,
    pub created_unix: Option<i64>,
    pub running: bool,
    pub paused: bool,
    pub restarting: bool,
    pub dead: bool,
    pub exit_code: i64,
    pub started: bool,
    pub finished_at: Option<String>,
    pub driver: String,
    /// Program and arguments (possibly redaction markers).
    pub command: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// Named volumes it mounts.
    pub volumes: Vec<String>,
    /// Networks it is attached to (`NetworkSettings.Networks`).
    pub networks: Vec<String>,
}

impl Container {
    /// `created`, `running`, `exited`… as `docker ps --format '{{.State}}'` prints it.
    pub fn state(&self) -> &'static str {
        match () {
            _ if self.dead => "dead",
            _ if self.paused => "paused",
            _ if self.restarting => "restarting",
            _ if self.running => "running",
            _ if !self.started => "created",
            _ => "exited",
        }
    }
}

/// A reference from repositories.json.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The outer key, e.g. `localhost:5000/app`.
    pub repository: String,
    /// The inner key, `repo:tag` or `repo@sha256:…`.
    pub name: String,
    pub image: ImageId,
}

impl Reference {
    /// The tag, for a `repo:tag` reference.
    pub fn tag(&self) -> Option<&str> {
        let rest = self.name.strip_prefix(self.repository.as_str())?;
        rest.strip_prefix(':')
    }

    /// The digest, for a `repo@sha256:…` reference.
    pub fn digest(&self) -> Option<&str> {
        let rest = self.name.strip_prefix(self.repository.as_str())?;
        rest.strip_prefix('@')
    }
}

/// `image/<driver>/distribution/`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Distribution {
    /// Registry blob digest → diffID.
    pub diff_id_by_digest: BTreeMap<Digest, DiffId>,
    /// diffID → where it was pulled from or pushed to.
    pub sources_by_diff_id: BTreeMap<DiffId, Vec<BlobSource>>,
}

/// One `V2Metadata` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobSource {
    pub digest: String,
    pub repository: String,
    /// Pushed (HMAC set) rather than pulled.
    pub pushed: bool,
}

/// A graph-driver directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriverDir {
    pub name: String,
    /// overlay2: the `link` file (26-char short name); `Some("")` when the file is empty.
    pub link: Option<String>,
    /// overlay2: `lower`, split on `:` (`l/<link>` each), immediate parent first.
    pub lower: Option<Vec<String>>,
    pub committed: bool,
    pub has_diff: bool,
    pub has_work: bool,
    pub has_merged: bool,
}

/// Builds the model from a snapshot; problems with single files come back as findings.
pub fn load(snapshot: &Snapshot) -> (Store, Vec<Finding>) {
    let driver = snapshot.manifest.storage_driver.clone();
    let mut l = Loader {
        snap: snapshot,
        base: format!("image/{driver}/"),
        findings: Vec::new(),
        store: Store {
            driver: driver.clone(),
            image_configs_redacted: snapshot.manifest.image_configs_redacted(),
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

struct Loader<'a> {
    snap: &'a Snapshot,
    base: String,
    findings: Vec<Finding>,
    store: Store,
}

/// Entries under `prefix`, as (rest of path, entry), in path order.
fn under<'a>(
    snap: &'a Snapshot,
    prefix: &'a str,
) -> impl Iterator<Item = (&'a str, &'a Entry)> + 'a {
    snap.entries
        .range(prefix.to_owned()..)
        .map_while(move |(p, e)| Some((p.strip_prefix(prefix)?, e)))
}

/// The names directly under `prefix` (files, dirs and links).
fn children<'a>(snap: &'a Snapshot, prefix: &'a str) -> BTreeSet<&'a str> {
    under(snap, prefix)
        .filter_map(|(rest, _)| rest.split('/').next())
        .filter(|s| !s.is_empty())
        .collect()
}

impl Loader<'_> {
    fn finding(&mut self, code: Code, subjects: Vec<Subject>, message: String) {
        self.findings.push(Finding::new(code, subjects, message));
    }

    /// The trimmed text of a metadata file, or `None` (with a finding) when it is unusable.
    /// A missing file gives `None` and no finding: whether that matters is the caller's call.
    fn text(&mut self, path: &str, subject: &Subject) -> Option<String> {
        let bytes = match self.snap.entries.get(path)? {
            Entry::File(b) => b,
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
        let bytes = match self.snap.entries.get(path)? {
            Entry::File(b) => b,
            _ => return None,
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
        let snap = self.snap;
        let omitted: BTreeSet<&str> = snap
            .manifest
            .skipped
            .iter()
            .filter(|s| s.reason == crate::manifest::SkipReason::Omitted)
            .map(|s| s.path.as_str())
            .collect();
        for name in children(self.snap, &prefix) {
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
                if !self.snap.entries.contains_key(&format!("{dir}/{required}")) {
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
                        Ok(n) => Some(n),
                        Err(_) => {
                            self.finding(
                                Code::InvalidValue,
                                vec![subject.clone(), Subject::Path(format!("{dir}/size"))],
                                format!("{dir}/size is not a number"),
                            );
                            None
                        }
                    });
            let descriptor = self.json(&format!("{dir}/descriptor.json"), &subject);
            let tar_split_path = format!("{dir}/tar-split.json.gz");
            // Left out by `pack --no-tar-split`: present on the host, just not in the snapshot.
            let tar_split = self.snap.entries.contains_key(&tar_split_path)
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
        for name in children(self.snap, &tmp) {
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
        for container in children(self.snap, &prefix) {
            let dir = format!("{prefix}{container}");
            let subject = Subject::Container(container.to_owned());
            if !self.snap.entries.contains_key(&format!("{dir}/mount-id")) {
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
                container.to_owned(),
                Mount {
                    container: container.to_owned(),
                    mount_id,
                    init_id,
                    parent,
                },
            );
        }
    }

    fn images(&mut self) {
        let content = format!("{}imagedb/content/sha256/", self.base);
        let redacted: BTreeMap<ImageId, bool> = self
            .snap
            .manifest
            .image_configs
            .iter()
            .map(|c| (c.image.clone(), c.matched_before_redaction))
            .collect();
        for (hex, entry) in under(self.snap, &content) {
            let path = format!("{content}{hex}");
            let Ok(id) = ImageId::from_hex(hex) else {
                self.finding(
                    Code::InvalidValue,
                    vec![Subject::Path(path.clone())],
                    format!("{path} is not named by an image ID"),
                );
                continue;
            };
            let Entry::File(bytes) = entry else { continue };
            let subject = Subject::Image(id.clone());
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
            let built_locally = matches!(self.snap.file(&format!("{meta}/builtLocally")), Some(b) if b.first() == Some(&1));
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
                match id.as_str().map(str::parse::<ImageId>) {
                    Some(Ok(image)) => self.store.references.push(Reference {
                        repository: repository.clone(),
                        name: name.clone(),
                        image,
                    }),
                    _ => self.finding(
                        Code::InvalidValue,
                        vec![
                            Subject::Reference(name.clone()),
                            Subject::Path(path.clone()),
                        ],
                        format!("{name} in {path} points at {id}, not an image ID"),
                    ),
                }
            }
        }
        for r in &self.store.references {
            if let Some(image) = self.store.images.get_mut(&r.image) {
                if r.digest().is_some() {
                    image.digests.push(r.name.clone());
                } else {
                    image.tags.push(r.name.clone());
                }
            }
        }
    }

    fn distribution(&mut self) {
        let by_digest = format!("{}distribution/diffid-by-digest/sha256/", self.base);
        for hex in children(self.snap, &by_digest) {
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
        for hex in children(self.snap, &by_diff) {
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
        for id in children(self.snap, "containers/") {
            let path = format!("containers/{id}/config.v2.json");
            let subject = Subject::Container(id.to_owned());
            if !self.snap.entries.contains_key(&path) {
                continue;
            }
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
                id.to_owned(),
                Container {
                    id: id.to_owned(),
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
        let prefix = format!("{driver}/");
        let overlay = matches!(driver, "overlay2" | "fuse-overlayfs");
        for name in children(self.snap, &prefix) {
            if overlay && name == "l" {
                for (link, entry) in under(self.snap, &format!("{prefix}l/")) {
                    if let Entry::Symlink(target) = entry {
                        self.store.links.insert(link.to_owned(), target.clone());
                    }
                }
                continue;
            }
            if !matches!(
                self.snap.entries.get(&format!("{prefix}{name}")),
                Some(Entry::Dir)
            ) {
                continue;
            }
            let dir = format!("{prefix}{name}");
            let has = |f: &str| self.snap.entries.contains_key(&format!("{dir}/{f}"));
            let mut d = DriverDir {
                name: name.to_owned(),
                committed: has("committed"),
                has_diff: has("diff"),
                has_work: has("work"),
                has_merged: has("merged"),
                ..DriverDir::default()
            };
            if overlay {
                let subject = Subject::CacheDir(name.to_owned());
                d.link = match self.snap.file(&format!("{dir}/link")) {
                    Some([]) => Some(String::new()),
                    Some(_) => self
                        .text(&format!("{dir}/link"), &subject)
                        .or(Some(String::new())),
                    None => None,
                };
                d.lower = self
                    .text(&format!("{dir}/lower"), &subject)
                    .map(|s| s.split(':').map(str::to_owned).collect());
            }
            self.store.driver_dirs.insert(name.to_owned(), d);
        }
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
