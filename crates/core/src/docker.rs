//! The docker CLI's views of a store: `docker image ls`, `docker history`, `docker system df -v`.
//!
//! Rows are computed the way the 20.10 daemon computes them (daemon/images/image_list.go,
//! image_history.go, disk_usage.go) and formatted the way the CLI formats them (cli/command/
//! formatter, go-units), so `--format json` output can be compared field by field. The core reads
//! no clock: the caller passes "now" and the time zone in a [`Clock`].

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::id::{ChainId, ImageId};
use crate::store::{Image, Store};
use crate::time::UtcTime;

/// A zone's offset and abbreviation at some instant, e.g. `+3600`, `CET`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    pub offset_seconds: i32,
    pub abbreviation: String,
}

/// Time zone rules, provided by the host (the CLI) or the browser.
pub trait TimeZone {
    fn at(&self, unix: i64) -> Zone;
}

/// UTC, as the docker CLI prints it when TZ=UTC.
#[derive(Debug, Clone, Copy, Default)]
pub struct Utc;

impl TimeZone for Utc {
    fn at(&self, _unix: i64) -> Zone {
        Zone {
            offset_seconds: 0,
            abbreviation: "UTC".into(),
        }
    }
}

/// The current time and the zone to print times in.
pub struct Clock<'a> {
    pub now_unix: i64,
    pub zone: &'a dyn TimeZone,
}

/// Go's zero `time.Time` as Unix seconds: what `Created.Unix()` gives for a missing time.
const GO_ZERO_TIME: i64 = -62_135_596_800;

impl Clock<'_> {
    /// Go's `time.Unix(t, 0).String()`: `2026-11-23 07:36:51 +0000 UTC`.
    pub fn go_string(&self, unix: i64) -> String {
        let z = self.zone.at(unix);
        let t = UtcTime::from_unix(unix + i64::from(z.offset_seconds));
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} {} {}",
            t.year,
            t.month,
            t.day,
            t.hour,
            t.minute,
            t.second,
            offset(z.offset_seconds, false),
            z.abbreviation
        )
    }

    /// Go's `time.Unix(t, 0).Format(time.RFC3339)`: `2026-11-23T07:36:51Z` or `…+01:00`.
    pub fn rfc3339(&self, unix: i64) -> String {
        let z = self.zone.at(unix);
        let t = UtcTime::from_unix(unix + i64::from(z.offset_seconds));
        let zone = if z.offset_seconds == 0 {
            "Z".to_owned()
        } else {
            offset(z.offset_seconds, true)
        };
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{zone}",
            t.year, t.month, t.day, t.hour, t.minute, t.second
        )
    }

    /// `units.HumanDuration(now - t) + " ago"`.
    pub fn since(&self, unix: i64) -> String {
        format!("{} ago", human_duration(self.now_unix.saturating_sub(unix)))
    }
}

fn offset(seconds: i32, colon: bool) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let m = seconds.unsigned_abs() / 60;
    if colon {
        format!("{sign}{:02}:{:02}", m / 60, m % 60)
    } else {
        format!("{sign}{:02}{:02}", m / 60, m % 60)
    }
}

/// go-units `HumanDuration`.
pub fn human_duration(seconds: i64) -> String {
    let hours_rounded = (seconds as f64 / 3600.0 + 0.5) as i64;
    match seconds {
        s if s < 1 => "Less than a second".into(),
        1 => "1 second".into(),
        s if s < 60 => format!("{s} seconds"),
        s if s / 60 == 1 => "About a minute".into(),
        s if s / 60 < 60 => format!("{} minutes", s / 60),
        _ if hours_rounded == 1 => "About an hour".into(),
        _ if hours_rounded < 48 => format!("{hours_rounded} hours"),
        _ if hours_rounded < 24 * 7 * 2 => format!("{} days", hours_rounded / 24),
        _ if hours_rounded < 24 * 30 * 2 => format!("{} weeks", hours_rounded / 24 / 7),
        _ if hours_rounded < 24 * 365 * 2 => format!("{} months", hours_rounded / 24 / 30),
        s => format!("{} years", s / 3600 / 24 / 365),
    }
}

/// go-units `HumanSizeWithPrecision`: decimal units and Go's `%.*g`.
pub fn human_size_with_precision(size: f64, precision: usize) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut size = size;
    let mut i = 0;
    while size >= 1000.0 && i < UNITS.len() - 1 {
        size /= 1000.0;
        i += 1;
    }
    format!("{}{}", go_g(size, precision), UNITS[i])
}

/// go-units `HumanSize` (precision 4).
pub fn human_size(size: i64) -> String {
    human_size_with_precision(size as f64, 4)
}

/// Go's `fmt.Sprintf("%.*g", precision, v)` for finite values.
fn go_g(v: f64, precision: usize) -> String {
    let p = precision.max(1);
    if v == 0.0 {
        return "0".into();
    }
    // Round to p significant digits first: the exponent is the rounded value's.
    let sci = format!("{:.*e}", p - 1, v);
    let (mantissa, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("{:e} exponent is a number");
    if exp < -4 || exp >= p as i32 {
        let mantissa = trim_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        trim_zeros(&format!("{v:.decimals$}")).to_owned()
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

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
#[derive(Debug, Clone, PartialEq, Eq)]
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
struct Summary<'a> {
    image: &'a Image,
    created: i64,
    size: i64,
    /// -1 when not computed (`image ls`), as the daemon sends it.
    shared_size: i64,
    containers: i64,
}

impl Store {
    /// The `dir_sizes` key under which pack recorded a writable layer's size.
    fn rw_size_key(&self, mount_id: &str) -> Option<String> {
        self.graph_driver()?.rw_dir(mount_id)
    }

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
    fn children_of(&self) -> BTreeMap<&ImageId, usize> {
        let mut out = BTreeMap::new();
        for image in self.images.values() {
            if let Some(p) = &image.parent {
                *out.entry(p).or_default() += 1;
            }
        }
        out
    }

    /// The daemon's image list: untagged images with children only with `all`; newest first.
    fn summaries(&self, all: bool) -> Vec<Summary<'_>> {
        let children = self.children_of();
        let mut out: Vec<Summary<'_>> = self
            .images
            .values()
            .filter(|i| i.config.is_some())
            .filter(|i| all || listed_by_default(i, &children))
            .map(|i| Summary {
                image: i,
                created: created_of(i),
                size: self.image_size(i),
                shared_size: -1,
                containers: -1,
            })
            .collect();
        // The daemon sorts by creation second; ties come out in map order, which is random.
        out.sort_by(|a, b| b.created.cmp(&a.created).then(a.image.id.cmp(&b.image.id)));
        out
    }

    /// Fills in shared sizes and container counts as `docker system df` does: a layer is shared
    /// when more than one of `summaries` uses it.
    fn add_usage(&self, summaries: &mut [Summary<'_>]) {
        let mut refs: BTreeMap<&ChainId, usize> = BTreeMap::new();
        for s in summaries.iter() {
            for c in s.image.chain() {
                *refs.entry(c).or_default() += 1;
            }
        }
        for s in summaries.iter_mut() {
            s.containers = self
                .containers
                .values()
                .filter(|c| c.image.as_ref() == Some(&s.image.id))
                .count() as i64;
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
            for (repo, tag, digest) in entries(s.image, opts.digests) {
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

    /// The rows of `docker history IMAGE`, newest first.
    pub fn history_rows(
        &self,
        image: &Image,
        opts: HistoryOptions,
        clock: &Clock<'_>,
    ) -> Vec<HistoryRow> {
        let Some(config) = &image.config else {
            return Vec::new();
        };
        let chain = image.chain();
        let mut rows: Vec<HistoryRow> = config
            .history
            .iter()
            .map(|h| {
                let size = match h.layer {
                    Some(i) => chain
                        .get(i)
                        .and_then(|c| self.layers.get(c)?.size)
                        .unwrap_or(0) as i64,
                    None => 0,
                };
                let created = h.created_unix.unwrap_or(GO_ZERO_TIME);
                let created_by = h.created_by.replace('\t', " ");
                HistoryRow {
                    comment: h.comment.clone(),
                    created_at: clock.rfc3339(created),
                    created_by: if opts.no_trunc {
                        created_by
                    } else {
                        ellipsis(&created_by, 45)
                    },
                    created_since: if opts.human {
                        clock.since(created)
                    } else {
                        clock.rfc3339(created)
                    },
                    id: "<missing>".into(),
                    size: if opts.human {
                        human_size_with_precision(size as f64, 3)
                    } else {
                        size.to_string()
                    },
                }
            })
            .collect();
        rows.reverse();
        // The newest row is the image; each older row the parent of the one above, while known.
        let mut current = Some(image);
        for row in rows.iter_mut() {
            let Some(img) = current else { break };
            row.id = if opts.no_trunc {
                img.id.to_string()
            } else {
                img.id.short().to_owned()
            };
            current = img.parent.as_ref().and_then(|p| self.images.get(p));
        }
        rows
    }

    /// The daemon's list with `withExtraAttrs`: container counts, and shared sizes counted over
    /// the listed images only.
    fn summaries_with_usage(&self) -> Vec<Summary<'_>> {
        let mut summaries = self.summaries(false);
        self.add_usage(&mut summaries);
        summaries
    }

    /// `docker system df -v --format '{{json .}}'`, given the directory sizes `pack` recorded.
    pub fn disk_usage(
        &self,
        dir_sizes: &BTreeMap<String, u64>,
        data_root: &str,
        clock: &Clock<'_>,
    ) -> DiskUsage {
        let summaries = self.summaries_with_usage();
        let images = summaries
            .iter()
            .map(|s| {
                let (repo, tag) = first_tag(s.image);
                let mut row = image_row(s, repo, tag, String::new(), false, clock);
                row.digest = String::new();
                row
            })
            .collect();

        let mut containers: Vec<&crate::store::Container> = self.containers.values().collect();
        containers.sort_by(|a, b| b.created_unix.cmp(&a.created_unix).then(a.id.cmp(&b.id)));
        let container_rows = containers
            .iter()
            .map(|c| {
                let created = c.created_unix.unwrap_or(GO_ZERO_TIME);
                let size_rw = self
                    .mounts
                    .get(&c.id)
                    .and_then(|m| m.mount_id.as_ref())
                    .and_then(|id| dir_sizes.get(&self.rw_size_key(id.as_str())?))
                    .copied()
                    .unwrap_or(0);
                let local_volumes = c.volumes.len();
                ContainerRow {
                    command: quote(&c.command_line()),
                    created_at: clock.go_string(created),
                    id: c.id.to_string(),
                    image: c.image_name.clone(),
                    labels: c
                        .labels
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(","),
                    local_volumes: local_volumes.to_string(),
                    mounts: c.volumes.join(","),
                    names: c.name.clone(),
                    networks: c.networks.join(","),
                    ports: String::new(),
                    running_for: clock.since(created),
                    size: human_size_with_precision(size_rw as f64, 3),
                    state: c.state().to_owned(),
                    status: c.status(clock),
                }
            })
            .collect();

        let mut volumes: BTreeSet<&str> = BTreeSet::new();
        for path in dir_sizes.keys() {
            if let Some(name) = path
                .strip_prefix("volumes/")
                .and_then(|p| p.strip_suffix("/_data"))
            {
                volumes.insert(name);
            }
        }
        let volume_rows = volumes
            .iter()
            .map(|name| VolumeRow {
                driver: "local".into(),
                labels: String::new(),
                links: self
                    .containers
                    .values()
                    .filter(|c| c.volumes.iter().any(|v| v == name))
                    .count()
                    .to_string(),
                mountpoint: format!("{data_root}/volumes/{name}/_data"),
                name: (*name).to_owned(),
                scope: "local".into(),
                size: human_size_with_precision(
                    dir_sizes[&format!("volumes/{name}/_data")] as f64,
                    3,
                ),
            })
            .collect();
        DiskUsage {
            images,
            containers: container_rows,
            volumes: volume_rows,
            build_cache: Vec::new(),
        }
    }
}

/// A row of `docker system df` (without `-v`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DiskSummaryRow {
    pub active: String,
    pub reclaimable: String,
    pub size: String,
    pub total_count: String,
    #[serde(rename = "Type")]
    pub kind: String,
}

impl Store {
    /// `docker system df`: totals per type, with the CLI's reclaimable arithmetic.
    pub fn disk_summary(&self, dir_sizes: &BTreeMap<String, u64>) -> Vec<DiskSummaryRow> {
        let clock = Clock {
            now_unix: 0,
            zone: &Utc,
        };
        let usage = self.disk_usage(dir_sizes, "", &clock);
        let summaries = self.summaries_with_usage();
        let mut layers: BTreeSet<ChainId> = BTreeSet::new();
        for s in &summaries {
            layers.extend(s.image.chain().iter().cloned());
        }
        let total: i64 = layers
            .iter()
            .filter_map(|c| self.layers.get(c)?.size)
            .map(|n| n as i64)
            .fold(0, i64::saturating_add);
        // The CLI: what images without containers would free.
        let in_use = summaries.iter().filter(|s| s.containers > 0);
        let reclaimable = total.saturating_sub(
            in_use
                .clone()
                .map(|s| s.size.saturating_sub(s.shared_size))
                .fold(0, i64::saturating_add),
        );
        let active_images = in_use.count();
        let percent = |part: i64, whole: i64| {
            if whole > 0 {
                format!(
                    "{} ({}%)",
                    human_size(part),
                    (i128::from(part) * 100 / i128::from(whole))
                )
            } else {
                human_size(part)
            }
        };
        let rw = |c: &crate::store::Container| -> i64 {
            self.mounts
                .get(&c.id)
                .and_then(|m| m.mount_id.as_ref())
                .and_then(|id| dir_sizes.get(&self.rw_size_key(id.as_str())?))
                .map_or(0, |n| *n as i64)
        };
        let containers_total: i64 = self
            .containers
            .values()
            .map(rw)
            .fold(0, i64::saturating_add);
        let containers_idle: i64 = self
            .containers
            .values()
            .filter(|c| !c.running)
            .map(rw)
            .fold(0, i64::saturating_add);
        let volume_size = |name: &str| {
            dir_sizes
                .get(&format!("volumes/{name}/_data"))
                .map_or(0, |n| *n as i64)
        };
        let volumes_total: i64 = usage
            .volumes
            .iter()
            .map(|v| volume_size(&v.name))
            .fold(0, i64::saturating_add);
        let volumes_idle: i64 = usage
            .volumes
            .iter()
            .filter(|v| v.links == "0")
            .map(|v| volume_size(&v.name))
            .fold(0, i64::saturating_add);
        let row =
            |kind: &str, count: usize, active: usize, size: i64, reclaim: String| DiskSummaryRow {
                active: active.to_string(),
                reclaimable: reclaim,
                size: human_size(size),
                total_count: count.to_string(),
                kind: kind.into(),
            };
        vec![
            row(
                "Images",
                summaries.len(),
                active_images,
                total,
                percent(reclaimable, total),
            ),
            row(
                "Containers",
                self.containers.len(),
                self.containers.values().filter(|c| c.running).count(),
                containers_total,
                percent(containers_idle, containers_total),
            ),
            row(
                "Local Volumes",
                usage.volumes.len(),
                usage.volumes.iter().filter(|v| v.links != "0").count(),
                volumes_total,
                percent(volumes_idle, volumes_total),
            ),
            row("Build Cache", 0, 0, 0, human_size(0)),
        ]
    }
}

/// Whether `docker image ls` without `-a` lists an image: tagged, digested, or with no child
/// images (so not an intermediate step of a build).
fn listed_by_default(i: &Image, children: &BTreeMap<&ImageId, usize>) -> bool {
    !i.tags.is_empty() || !i.digests.is_empty() || !children.contains_key(&i.id)
}

fn created_of(i: &Image) -> i64 {
    i.config
        .as_ref()
        .and_then(|c| c.created_unix)
        .unwrap_or(GO_ZERO_TIME)
}

fn image_row(
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
fn entries(image: &Image, digests: bool) -> Vec<(String, String, String)> {
    if image.tags.is_empty() && image.digests.is_empty() {
        return vec![("<none>".into(), "<none>".into(), "<none>".into())];
    }
    let mut tags: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for t in &image.tags {
        let (repo, tag) = split_tag(t);
        tags.entry(repo).or_default().push(tag);
    }
    let mut by_digest: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for d in &image.digests {
        if let Some((repo, digest)) = d.split_once('@') {
            by_digest.entry(repo).or_default().push(digest);
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

/// `repo:tag` → (`repo`, `tag`); the tag is after the last colon that follows the last slash.
fn split_tag(reference: &str) -> (&str, &str) {
    let slash = reference.rfind('/').map_or(0, |i| i + 1);
    match reference[slash..].rfind(':') {
        Some(i) => (&reference[..slash + i], &reference[slash + i + 1..]),
        None => (reference, "latest"),
    }
}

/// `system df` shows an image's first tag in the daemon's order: sorted by the fully
/// qualified name (`docker.io/library/…`).
fn first_tag(image: &Image) -> (String, String) {
    image
        .tags
        .iter()
        .min_by_key(|t| qualified(t))
        .map(|t| {
            let (r, tag) = split_tag(t);
            (r.to_owned(), tag.to_owned())
        })
        .unwrap_or_else(|| ("<none>".into(), "<none>".into()))
}

/// The normalized name Docker sorts references by.
fn qualified(familiar: &str) -> String {
    match familiar.split_once('/') {
        None => format!("docker.io/library/{familiar}"),
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            familiar.to_owned()
        }
        Some(_) => format!("docker.io/{familiar}"),
    }
}

/// The CLI's `Ellipsis`: at most `max` characters, the last one `…` when cut.
fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// Go's `strconv.Quote` for the printable strings commands are.
fn quote(s: &str) -> String {
    serde_json::to_string(s)
        .expect("a string serializes")
        .replace("\\u003c", "<")
        .replace("\\u003e", ">")
}

/// `docker history` flags.
#[derive(Debug, Clone, Copy)]
pub struct HistoryOptions {
    pub no_trunc: bool,
    /// `-H`: human sizes and relative times (the default).
    pub human: bool,
}

impl Default for HistoryOptions {
    fn default() -> Self {
        HistoryOptions {
            no_trunc: false,
            human: true,
        }
    }
}

/// A row of `docker history --format '{{json .}}'`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HistoryRow {
    pub comment: String,
    pub created_at: String,
    pub created_by: String,
    pub created_since: String,
    #[serde(rename = "ID")]
    pub id: String,
    pub size: String,
}

/// `docker system df -v --format '{{json .}}'`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DiskUsage {
    pub images: Vec<ImageRow>,
    pub containers: Vec<ContainerRow>,
    pub volumes: Vec<VolumeRow>,
    /// BuildKit's cache lives in buildkit/, which snapshots do not hold.
    pub build_cache: Vec<serde_json::Value>,
}

/// A container row of `system df -v`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerRow {
    pub command: String,
    pub created_at: String,
    #[serde(rename = "ID")]
    pub id: String,
    pub image: String,
    pub labels: String,
    pub local_volumes: String,
    pub mounts: String,
    pub names: String,
    pub networks: String,
    pub ports: String,
    pub running_for: String,
    pub size: String,
    pub state: String,
    pub status: String,
}

/// A volume row of `system df -v`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VolumeRow {
    pub driver: String,
    pub labels: String,
    pub links: String,
    pub mountpoint: String,
    pub name: String,
    pub scope: String,
    pub size: String,
}

impl crate::store::Container {
    /// The daemon's `Command`: the program, then the arguments, those holding a space in
    /// single quotes.
    pub fn command_line(&self) -> String {
        let quoted: Vec<String> = self
            .command
            .iter()
            .skip(1)
            .map(|a| {
                if a.contains(' ') {
                    format!("'{a}'")
                } else {
                    a.clone()
                }
            })
            .collect();
        match self.command.first() {
            Some(program) if quoted.is_empty() => program.clone(),
            Some(program) => format!("{program} {}", quoted.join(" ")),
            None => String::new(),
        }
    }

    /// `Exited (0) 7 seconds ago`, `Created`, `Up 2 hours`… as `docker ps` prints it.
    pub fn status(&self, clock: &Clock<'_>) -> String {
        let finished = self
            .finished_at
            .as_deref()
            .and_then(crate::time::parse_rfc3339)
            .map(|t| t.0);
        match self.state() {
            "created" => "Created".into(),
            "exited" => match finished {
                Some(t) => format!("Exited ({}) {}", self.exit_code, clock.since(t)),
                None => format!("Exited ({})", self.exit_code),
            },
            "dead" => "Dead".into(),
            state => {
                let mut s = state.to_owned();
                s[..1].make_ascii_uppercase();
                s
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_size(bytes: f64, precision: usize, expected: &str) {
        assert_eq!(human_size_with_precision(bytes, precision), expected);
    }

    #[test]
    fn sizes_match_go_units() {
        check_size(0.0, 3, "0B");
        check_size(3.0, 3, "3B");
        check_size(35.0, 4, "35B");
        check_size(1_982_384.0, 3, "1.98MB");
        check_size(1_982_384.0, 4, "1.982MB");
        check_size(77_822_319.0, 3, "77.8MB");
        check_size(1_000_000.0, 3, "1MB");
        check_size(999_999.0, 3, "1e+03kB");
        check_size(999.0, 3, "999B");
        check_size(10_240.0, 4, "10.24kB");
        check_size(1_234_567_890_123.0, 4, "1.235TB");
        assert_eq!(go_g(0.000012345, 3), "1.23e-05");
        assert_eq!(go_g(123456.0, 3), "1.23e+05");
        assert_eq!(go_g(0.5, 3), "0.5");
    }

    #[test]
    fn durations_match_go_units() {
        for (s, want) in [
            (0, "Less than a second"),
            (1, "1 second"),
            (59, "59 seconds"),
            (60, "About a minute"),
            (119, "About a minute"),
            (120, "2 minutes"),
            (3600, "About an hour"),
            (5400, "2 hours"),
            (48 * 3600, "2 days"),
            (15 * 86400, "2 weeks"),
            (70 * 86400, "2 months"),
            (800 * 86400, "2 years"),
        ] {
            assert_eq!(human_duration(s), want, "{s}s");
        }
    }

    struct Cet;
    impl TimeZone for Cet {
        fn at(&self, _: i64) -> Zone {
            Zone {
                offset_seconds: 3600,
                abbreviation: "CET".into(),
            }
        }
    }

    #[test]
    fn times_print_like_go() {
        let utc = Clock {
            now_unix: 0,
            zone: &Utc,
        };
        assert_eq!(
            utc.go_string(1_700_000_000),
            "2023-11-14 22:13:20 +0000 UTC"
        );
        assert_eq!(utc.rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        let cet = Clock {
            now_unix: 0,
            zone: &Cet,
        };
        assert_eq!(
            cet.go_string(1_700_000_000),
            "2023-11-14 23:13:20 +0100 CET"
        );
        assert_eq!(cet.rfc3339(1_700_000_000), "2023-11-14T23:13:20+01:00");
        assert_eq!(utc.rfc3339(GO_ZERO_TIME), "0001-01-01T00:00:00Z");
    }

    #[test]
    fn references_split_and_sort_like_docker() {
        assert_eq!(
            split_tag("localhost:5000/app:1.0"),
            ("localhost:5000/app", "1.0")
        );
        assert_eq!(split_tag("alpine:3.20"), ("alpine", "3.20"));
        assert_eq!(qualified("alpine"), "docker.io/library/alpine");
        assert_eq!(qualified("local/app"), "docker.io/local/app");
        assert_eq!(qualified("127.0.0.1:5000/x"), "127.0.0.1:5000/x");
        assert_eq!(ellipsis("abcdef", 4), "abc…");
        assert_eq!(
            quote("sh -c 'echo \"x\" > /f'"),
            "\"sh -c 'echo \\\"x\\\" > /f'\""
        );
    }
}
