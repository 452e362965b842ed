//! `docker image ls`, and the per-image sizes `system df -v` and the viewer use.

use super::*;
use std::collections::BTreeMap;

use serde::Serialize;

use std::borrow::Cow;

use crate::id::{ChainId, ImageId, RefName};
use crate::store::{Image, Store};

/// A row of `docker image ls --format '{{json .}}'` (and of `system df -v`'s Images).
/// Fields in the order Go's JSON encoder prints them (sorted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageRow {
    pub containers: String,
    pub created_at: String,
    pub created_since: String,
    pub digest: String,
    #[serde(rename = "ID")]
    pub id: String,
    pub repository: String,
    pub shared_size: String,
    pub size: String,
    pub tag: String,
    pub unique_size: String,
    pub virtual_size: String,
}

/// An image's sizes as numbers; see [`Store::image_usage`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImageUsage {
    pub id: ImageId,
    /// The first reference's repository and tag, as `docker system df -v` shows them, or
    /// `<none>`.
    pub repository: String,
    pub tag: String,
    /// Unix seconds.
    pub created: i64,
    pub size: i64,
    pub shared_size: Option<i64>,
    pub unique_size: Option<i64>,
    pub containers: Option<i64>,
}

impl ImageUsage {
    /// Whether `docker image ls` (without `-a`) lists it; only those carry usage figures.
    pub fn listed(&self) -> bool {
        self.shared_size.is_some()
    }
}

/// `docker image ls` flags that change rows.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImageListOptions {
    /// `-a`: include untagged images that have children (intermediate images).
    pub all: bool,
    /// `--digests`: a row per digest.
    pub digests: bool,
    /// `--no-trunc`: full IDs.
    pub no_trunc: bool,
}

/// The daemon's `ImageSummary`: one per image, before the CLI turns it into rows.
#[derive(Debug, Clone)]
pub(super) struct Summary<'a> {
    pub(super) image: &'a Image,
    pub(super) created: i64,
    pub(super) size: i64,
    /// -1 when not computed (`image ls`), as the daemon sends it.
    pub(super) shared_size: i64,
    pub(super) containers: i64,
    /// The digests the CLI shows, when not the image's own (the containerd store sends at
    /// most one, from one record).
    pub(super) repo_digests: Option<Vec<RefName>>,
    /// Every chainID the image uses (all of its platforms', in the containerd store).
    pub(super) chains: Cow<'a, [ChainId]>,
}

impl Store {
    /// Sum of the layers' own sizes along the image's chain (`layer.Size()`).
    pub fn image_size(&self, image: &Image) -> i64 {
        image
            .chain()
            .iter()
            .filter_map(|c| self.layers.get(c)?.size)
            .map(|s| s as i64)
            .fold(0, i64::saturating_add)
    }

    /// Images whose metadata names this one as its parent.
    pub(super) fn children_of(&self) -> BTreeMap<&ImageId, usize> {
        let mut out = BTreeMap::new();
        for image in self.images.values() {
            if let Some(p) = &image.parent {
                *out.entry(p).or_default() += 1;
            }
        }
        out
    }

    /// Containers created from the image, by image ID.
    pub(super) fn containers_of(&self, image: &ImageId) -> i64 {
        self.containers
            .values()
            .filter(|c| c.image.as_ref() == Some(image))
            .count() as i64
    }

    /// The daemon's image list: untagged images with children only with `all`; newest first.
    pub(super) fn summaries(&self, all: bool) -> Vec<Summary<'_>> {
        let generation = self.generation();
        let mut out = match self.containerd.as_deref() {
            Some(cd) => self.containerd_summaries(cd, all, generation),
            None => self.graph_summaries(all, generation),
        };
        // The daemon sorts by creation second; ties come out in map order, which is random.
        crate::order::sort_by(&mut out, |a, b| {
            b.created.cmp(&a.created).then(a.image.id.cmp(&b.image.id))
        });
        out
    }

    fn graph_summaries(&self, all: bool, generation: Generation) -> Vec<Summary<'_>> {
        let children = self.children_of();
        self.images
            .values()
            .filter(|i| i.config.is_some())
            .filter(|i| all || listed_by_default(i, &children))
            .map(|i| Summary {
                image: i,
                created: created_of(i, generation),
                size: self.image_size(i),
                shared_size: -1,
                // Docker 28.3 (API 1.51) counts containers in `image ls` too.
                containers: if generation >= Generation::Docker28 {
                    self.containers_of(&i.id)
                } else {
                    -1
                },
                repo_digests: None,
                chains: Cow::Borrowed(i.chain()),
            })
            .collect()
    }

    /// Fills in shared sizes and container counts as `docker system df` does: a layer is shared
    /// when more than one of `summaries` uses it.
    pub(super) fn add_usage(&self, summaries: &mut [Summary<'_>]) {
        if let Some(cd) = self.containerd.as_deref() {
            return self.containerd_add_usage(cd, summaries);
        }
        let mut refs: BTreeMap<&ChainId, usize> = BTreeMap::new();
        if self.generation() >= Generation::Docker26 {
            // Since v23 (moby #42550) every image counts, intermediate ones too.
            for i in self.images.values().filter(|i| i.config.is_some()) {
                for c in i.chain() {
                    *refs.entry(c).or_default() += 1;
                }
            }
        } else {
            for s in summaries.iter() {
                for c in s.image.chain() {
                    *refs.entry(c).or_default() += 1;
                }
            }
        }
        for s in summaries.iter_mut() {
            s.containers = self.containers_of(&s.image.id);
            s.shared_size = s
                .image
                .chain()
                .iter()
                .filter(|c| refs.get(c).copied().unwrap_or(0) > 1)
                .filter_map(|c| self.layers.get(c)?.size)
                .map(|n| n as i64)
                .fold(0, i64::saturating_add);
        }
    }

    /// The rows of `docker image ls`.
    pub fn image_rows(&self, opts: ImageListOptions, clock: &Clock<'_>) -> Vec<ImageRow> {
        let mut rows = Vec::new();
        for s in self.summaries(opts.all) {
            for (repo, tag, digest) in entries(s.image, s.repo_digests.as_deref(), opts.digests) {
                rows.push(image_row(&s, repo, tag, digest, !opts.no_trunc, clock));
            }
        }
        rows
    }

    /// One row per image with numbers rather than docker's text: what the viewer's table sorts
    /// and the report ranks. Images `docker system df -v` lists carry their shared and unique
    /// sizes and container counts; with `all`, intermediate images follow without them.
    pub fn image_usage(&self, all: bool) -> Vec<ImageUsage> {
        let children = self.children_of();
        let (mut listed, intermediate): (Vec<Summary<'_>>, Vec<Summary<'_>>) = self
            .summaries(all)
            .into_iter()
            .partition(|s| listed_by_default(s.image, &children));
        self.add_usage(&mut listed);
        let row = |s: &Summary<'_>, with_usage: bool| {
            let (repository, tag) = first_tag(s.image);
            ImageUsage {
                id: s.image.id.clone(),
                repository,
                tag,
                created: s.created,
                size: s.size,
                shared_size: with_usage.then_some(s.shared_size),
                unique_size: with_usage.then_some(s.size.saturating_sub(s.shared_size)),
                containers: with_usage.then_some(s.containers),
            }
        };
        let mut out: Vec<ImageUsage> = listed.iter().map(|s| row(s, true)).collect();
        out.extend(intermediate.iter().map(|s| row(s, false)));
        out
    }
}

/// Whether `docker image ls` without `-a` lists an image: tagged, digested, or with no child
/// images (so not an intermediate step of a build).
pub(super) fn listed_by_default(i: &Image, children: &BTreeMap<&ImageId, usize>) -> bool {
    !i.tags.is_empty() || !i.digests.is_empty() || !children.contains_key(&i.id)
}

pub(super) fn created_of(i: &Image, generation: Generation) -> i64 {
    i.config
        .as_ref()
        .and_then(|c| c.created_unix)
        .unwrap_or(generation.missing_time())
}

pub(super) fn image_row(
    s: &Summary<'_>,
    repo: String,
    tag: String,
    digest: String,
    trunc: bool,
    clock: &Clock<'_>,
) -> ImageRow {
    let na = |v: i64, f: &dyn Fn(i64) -> String| if v == -1 { "N/A".to_owned() } else { f(v) };
    ImageRow {
        containers: na(s.containers, &|v| v.to_string()),
        created_at: clock.go_string(s.created),
        created_since: clock.since(s.created),
        digest,
        id: if trunc {
            s.image.id.short().to_owned()
        } else {
            s.image.id.to_string()
        },
        repository: repo,
        shared_size: na(s.shared_size, &human_size),
        size: human_size_with_precision(s.size as f64, 3),
        tag,
        unique_size: if s.shared_size == -1 {
            "N/A".into()
        } else {
            human_size(s.size.saturating_sub(s.shared_size))
        },
        virtual_size: human_size(s.size),
    }
}

/// The CLI's `imageEntries`: a row per tag (times digests with `--digests`), then per
/// digest-only repository; `<none>` rows for untagged images.
pub(super) fn entries(
    image: &Image,
    repo_digests: Option<&[RefName]>,
    digests: bool,
) -> Vec<(String, String, String)> {
    let repo_digests = repo_digests.unwrap_or(&image.digests);
    if image.tags.is_empty() && repo_digests.is_empty() {
        return vec![("<none>".into(), "<none>".into(), "<none>".into())];
    }
    let mut tags: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for t in &image.tags {
        if let Some(tag) = t.tag() {
            tags.entry(t.repository()).or_default().push(tag);
        }
    }
    let mut by_digest: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for d in repo_digests {
        if let Some(digest) = d.digest() {
            by_digest.entry(d.repository()).or_default().push(digest);
        }
    }
    let mut out = Vec::new();
    for (repo, repo_tags) in &tags {
        let ds = by_digest
            .remove(repo)
            .filter(|_| digests)
            .unwrap_or_default();
        for tag in repo_tags {
            if ds.is_empty() {
                out.push(((*repo).to_owned(), (*tag).to_owned(), "<none>".to_owned()));
            }
            for d in &ds {
                out.push(((*repo).to_owned(), (*tag).to_owned(), (*d).to_owned()));
            }
        }
    }
    for (repo, ds) in by_digest {
        if digests {
            out.extend(
                ds.iter()
                    .map(|d| (repo.to_owned(), "<none>".to_owned(), (*d).to_owned())),
            );
        } else {
            out.push((repo.to_owned(), "<none>".to_owned(), String::new()));
        }
    }
    out
}

/// `system df` shows an image's first tag in the daemon's order: sorted by the fully
/// qualified name (`docker.io/library/…`).
pub(super) fn first_tag(image: &Image) -> (String, String) {
    image
        .first_tag()
        .map(|t| {
            (
                t.repository().to_owned(),
                t.tag().unwrap_or_default().to_owned(),
            )
        })
        .unwrap_or_else(|| ("<none>".into(), "<none>".into()))
}
