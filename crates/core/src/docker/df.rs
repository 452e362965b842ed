//! `docker system df` and `system df -v`: images, containers, volumes, build cache.

use super::*;
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::id::ChainId;
use crate::store::Store;

impl Store {
    /// The `dir_sizes` key under which pack recorded a writable layer's size.
    pub(super) fn rw_size_key(&self, mount_id: &str) -> Option<String> {
        self.graph_driver()?.rw_dir(mount_id)
    }

    /// A container's writable layer as `pack` measured it: the driver's diff directory, or the
    /// snapshotter's usage of its active snapshot.
    pub(super) fn rw_size(
        &self,
        c: &crate::store::Container,
        dir_sizes: &BTreeMap<String, u64>,
    ) -> u64 {
        match self.containerd.as_deref() {
            Some(cd) => cd
                .snapshots
                .get(c.id.as_str())
                .and_then(|s| s.upper_size)
                .unwrap_or(0),
            None => self
                .mounts
                .get(&c.id)
                .and_then(|m| m.mount_id.as_ref())
                .and_then(|id| dir_sizes.get(&self.rw_size_key(id.as_str())?))
                .copied()
                .unwrap_or(0),
        }
    }

    /// `LayersSize`, the Images row's size: the listed images' layers (graph driver); every
    /// snapshot's usage, and from v28 also every blob the images reach, once (containerd,
    /// moby's `ImageDiskUsage` / `LayerDiskUsage`).
    fn layers_size(&self, summaries: &[Summary<'_>]) -> i64 {
        let Some(cd) = self.containerd.as_deref() else {
            let mut layers: BTreeSet<&ChainId> = BTreeSet::new();
            for s in summaries {
                layers.extend(s.image.chain());
            }
            return layers
                .iter()
                .filter_map(|c| self.layers.get(*c)?.size)
                .map(|n| n as i64)
                .fold(0, i64::saturating_add);
        };
        let snapshots = cd
            .snapshots
            .values()
            .map(|s| match s.kind {
                crate::store::SnapshotKind::Active => s.upper_size.unwrap_or(0),
                _ => s.size.unwrap_or(0),
            } as i64)
            .fold(0, i64::saturating_add);
        if self.generation() < Generation::Docker28 {
            return snapshots;
        }
        let mut blobs: BTreeMap<&crate::id::Digest, u64> = BTreeMap::new();
        for (id, record) in cd.records.values().map(|r| (&r.target.digest, r)) {
            blobs.insert(id, record.target.size);
            if let Some(t) = cd.targets.get(&crate::id::ImageId::from(id.clone())) {
                for m in &t.manifests {
                    blobs.insert(&m.digest, m.size);
                    for d in m.config.iter().chain(&m.layers) {
                        blobs.insert(&d.digest, d.size);
                    }
                }
            }
        }
        let content = blobs
            .into_iter()
            .filter(|(d, _)| cd.blobs.get(*d).is_some_and(|b| b.size.is_some()))
            .map(|(_, n)| n as i64)
            .fold(0, i64::saturating_add);
        snapshots.saturating_add(content)
    }

    /// The daemon's list with `withExtraAttrs`: container counts, and shared sizes counted over
    /// the listed images only.
    pub(super) fn summaries_with_usage(&self) -> Vec<Summary<'_>> {
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

        let generation = self.generation();
        let mut containers: Vec<&crate::store::Container> = self.containers.values().collect();
        // Newest first, to the nanosecond, as the daemon sorts them.
        crate::order::sort_by(&mut containers, |a, b| {
            b.created_nanos.cmp(&a.created_nanos).then(a.id.cmp(&b.id))
        });
        let container_rows = containers
            .iter()
            .map(|c| {
                let created = c.created_unix.unwrap_or(generation.missing_time());
                let size_rw = self.rw_size(c, dir_sizes);
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
                    // CLI v28.2 prints the image platform, which `df` never fills.
                    platform: (generation >= Generation::Docker28)
                        .then_some(serde_json::Value::Null),
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
                // CLI v23 added cluster-volume fields, `N/A` for local volumes.
                availability: (generation >= Generation::Docker26).then(|| "N/A".into()),
                group: (generation >= Generation::Docker26).then(|| "N/A".into()),
                status: (generation >= Generation::Docker26).then(|| "N/A".into()),
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
        let total = self.layers_size(&summaries);
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
        let rw = |c: &crate::store::Container| -> i64 { self.rw_size(c, dir_sizes) as i64 };
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
    /// CLI v28.2 prints the image platform, which `df` never fills.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<serde_json::Value>,
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
    /// CLI v23 added cluster-volume fields, `N/A` for local volumes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability: Option<String>,
    pub driver: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub labels: String,
    pub links: String,
    pub mountpoint: String,
    pub name: String,
    pub scope: String,
    pub size: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
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
            // Docker's states are ASCII words ("running", "paused"): only ASCII case to fold.
            state => {
                let mut c = state.chars();
                c.next()
                    .map(|first| {
                        std::iter::once(first.to_ascii_uppercase())
                            .chain(c)
                            .collect()
                    })
                    .unwrap_or_default()
            }
        }
    }
}
