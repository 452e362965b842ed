//! The image list of a containerd image store, as moby's `daemon/containerd/image_list.go`
//! computes it (v26.1 and v28.5): one summary per target digest, sized as the blobs present
//! plus the snapshots the image unpacks to.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use super::images::Summary;
use super::Generation;
use crate::id::{ChainId, Digest, ImageId, RefName};
use crate::store::{Containerd, ImageRecord, PlatformManifest, Store};

const DANGLING_PREFIX: &str = "moby-dangling@";
const PARENT_LABEL: &str = "org.mobyproject.image.parent";

fn is_dangling(r: &ImageRecord) -> bool {
    r.name.strip_prefix(DANGLING_PREFIX) == Some(r.target.digest.as_str())
}

/// A manifest that is not a runnable image: an attestation, an `unknown/unknown` platform
/// (v28 only), or layers none of which is an image layer.
fn is_pseudo(m: &PlatformManifest, generation: Generation) -> bool {
    m.attestation
        || (generation >= Generation::Docker28 && m.platform == "unknown/unknown")
        || (!m.layers.is_empty() && !m.layers.iter().any(|l| is_image_layer(&l.media_type)))
}

fn is_image_layer(media_type: &str) -> bool {
    media_type.contains(".image.layer.") || media_type.contains(".image.rootfs.")
}

impl Store {
    /// Whether containerd has a record of the blob (its `Info` succeeds).
    fn blob_present(cd: &Containerd, d: &Digest) -> bool {
        cd.blobs.get(d).is_some_and(|b| b.size.is_some())
    }

    /// `calculateSnapshotTotalUsage`: the stored usage of a snapshot and all its parents; 0 when
    /// one is missing (the daemon's error makes it count nothing).
    fn snapshot_total(cd: &Containerd, top: &str) -> i64 {
        let mut total: i64 = 0;
        let mut next = Some(top);
        let mut steps = 0;
        while let Some(key) = next {
            let Some(s) = cd.snapshots.get(key) else {
                return 0;
            };
            total = total.saturating_add(s.size.unwrap_or(0) as i64);
            next = s.parent.as_deref();
            steps += 1;
            if steps > cd.snapshots.len() {
                return 0;
            }
        }
        total
    }

    /// The chainIDs of a manifest's config (another platform's than the one the model reads).
    fn manifest_chain(cd: &Containerd, m: &PlatformManifest) -> Vec<ChainId> {
        let Some(diff_ids) = m
            .config
            .as_ref()
            .and_then(|c| cd.config_diff_ids.get(&c.digest))
        else {
            return Vec::new();
        };
        let mut chain: Vec<ChainId> = Vec::with_capacity(diff_ids.len());
        for d in diff_ids {
            let next = match chain.last() {
                None => ChainId::from(d.digest().clone()),
                Some(p) => p.child(d),
            };
            chain.push(next);
        }
        chain
    }

    /// How many containers run each platform manifest (`ImageManifest` in their config).
    fn containers_by_manifest(&self) -> BTreeMap<&Digest, i64> {
        let mut out = BTreeMap::new();
        for d in self
            .containers
            .values()
            .filter_map(|c| c.image_manifest.as_ref())
        {
            *out.entry(d).or_default() += 1;
        }
        out
    }

    pub(super) fn containerd_summaries(
        &self,
        cd: &Containerd,
        all: bool,
        generation: Generation,
    ) -> Vec<Summary<'_>> {
        let by_manifest = self.containers_by_manifest();
        let intermediate: BTreeSet<&str> = cd
            .records
            .values()
            .filter_map(|r| r.labels.get(PARENT_LABEL))
            .map(String::as_str)
            .collect();
        // Records in name order, as bbolt returns them; the one that names a target wins as
        // Docker picks it: the last tagged one (v28), or simply the last one (v26).
        let mut chosen: BTreeMap<&Digest, &ImageRecord> = BTreeMap::new();
        let mut tags: BTreeMap<&Digest, Vec<RefName>> = BTreeMap::new();
        for r in cd.records.values() {
            let dangling = is_dangling(r);
            if !all && dangling && intermediate.contains(r.target.digest.as_str()) {
                continue;
            }
            let slot = chosen.entry(&r.target.digest);
            match slot {
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(r);
                }
                std::collections::btree_map::Entry::Occupied(mut o) => {
                    if !dangling || generation < Generation::Docker28 {
                        o.insert(r);
                    }
                }
            }
            if !dangling {
                if let Ok(name) = RefName::from_qualified(&r.name) {
                    if name.tag().is_some() {
                        tags.entry(&r.target.digest).or_default().push(name);
                    }
                }
            }
        }
        let mut out = Vec::new();
        for (digest, record) in chosen {
            let id = ImageId::from(digest.clone());
            let (Some(image), Some(target)) = (self.images.get(&id), cd.targets.get(&id)) else {
                continue;
            };
            let mut size: i64 = 0;
            let mut chains: Vec<ChainId> = Vec::new();
            let mut containers = 0i64;
            let mut best = false;
            for (i, m) in target.manifests.iter().enumerate() {
                let pseudo = is_pseudo(m, generation);
                let available = Self::blob_present(cd, &m.digest)
                    && m.config
                        .as_ref()
                        .is_some_and(|c| Self::blob_present(cd, &c.digest))
                    && m.layers.iter().all(|l| Self::blob_present(cd, &l.digest));
                let manifest_size = if target.index {
                    m.size
                } else {
                    record.target.size
                };
                let descriptors = std::iter::once((&m.digest, manifest_size))
                    .chain(m.config.iter().map(|c| (&c.digest, c.size)))
                    .chain(m.layers.iter().map(|l| (&l.digest, l.size)));
                if generation >= Generation::Docker28 {
                    // Every manifest's present blobs count, attestations too.
                    size = size.saturating_add(
                        descriptors
                            .filter(|(d, _)| Self::blob_present(cd, d))
                            .map(|(_, s)| s as i64)
                            .sum(),
                    );
                    if pseudo || !available {
                        continue;
                    }
                } else {
                    if pseudo || !available || !Self::blob_present(cd, &m.digest) {
                        continue;
                    }
                    size = size.saturating_add(descriptors.map(|(_, s)| s as i64).sum());
                }
                let chain = if Some(i) == target.chosen {
                    image.chain().to_vec()
                } else {
                    Self::manifest_chain(cd, m)
                };
                if let Some(top) = chain.last() {
                    size = size.saturating_add(Self::snapshot_total(cd, top.as_str()));
                }
                chains.extend(chain);
                containers += by_manifest.get(&m.digest).copied().unwrap_or(0);
                best = true;
            }
            if !best {
                // v26 leaves out an image with no usable manifest; v28 lists it undated.
                if generation < Generation::Docker28 {
                    continue;
                }
            }
            let repo_digests = RefName::from_qualified(&record.name)
                .ok()
                .filter(|n| n.tag().is_some() || n.digest().is_some())
                .filter(|_| !is_dangling(record))
                .and_then(|n| format!("{}@{}", n.repository(), digest).parse().ok())
                .into_iter()
                .collect();
            let mut image_tags = tags.remove(digest).unwrap_or_default();
            crate::order::sort(&mut image_tags);
            out.push(Summary {
                image,
                created: if best {
                    image
                        .config
                        .as_ref()
                        .and_then(|c| c.created_unix)
                        .unwrap_or(0)
                } else {
                    0
                },
                size,
                shared_size: -1,
                // v28.3 (API 1.51) counts containers in `image ls`; v26 only in `system df`.
                containers: if generation >= Generation::Docker28 {
                    containers
                } else {
                    -1
                },
                repo_digests: Some(repo_digests),
                chains: Cow::Owned(chains),
            });
        }
        out
    }

    /// Shared sizes as `computeSharedSize` counts them: the stored usage of each single
    /// snapshot more than one listed image uses.
    pub(super) fn containerd_add_usage(&self, cd: &Containerd, summaries: &mut [Summary<'_>]) {
        let by_manifest = self.containers_by_manifest();
        let mut refs: BTreeMap<ChainId, usize> = BTreeMap::new();
        for s in summaries.iter() {
            let unique: BTreeSet<&ChainId> = s.chains.iter().collect();
            for c in unique {
                *refs.entry(c.clone()).or_default() += 1;
            }
        }
        for s in summaries.iter_mut() {
            let unique: BTreeSet<&ChainId> = s.chains.iter().collect();
            s.shared_size = unique
                .into_iter()
                .filter(|c| refs.get(*c).copied().unwrap_or(0) > 1)
                .filter_map(|c| cd.snapshots.get(c.as_str())?.size)
                .map(|n| n as i64)
                .fold(0, i64::saturating_add);
            s.containers = cd
                .targets
                .get(&s.image.id)
                .map(|t| {
                    t.manifests
                        .iter()
                        .filter_map(|m| by_manifest.get(&m.digest))
                        .sum()
                })
                .unwrap_or(0);
        }
    }
}
