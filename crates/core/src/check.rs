//! Integrity checks across the objects of a [`Store`]: references, chains, driver directories,
//! overlay2 links and lowers, container mounts.

use std::collections::{BTreeMap, BTreeSet};

use crate::finding::{Code, Finding, Subject};
use crate::id::ChainId;
use crate::store::Store;

/// overlay2 mounts at most this many lower layers (moby `maxDepth` less the layers it adds).
pub const MAX_CHAIN_DEPTH: usize = 125;

/// Loads and checks a snapshot: the model plus every finding, most severe first.
pub fn analyze(snapshot: &crate::Snapshot) -> (Store, Vec<Finding>) {
    let (store, mut findings) = crate::store::load(snapshot);
    findings.extend(check(&store));
    sort_findings(&mut findings);
    (store, findings)
}

/// The order findings are reported in: most severe first, then by code and subjects.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.code.cmp(&b.code))
            .then(a.subjects.cmp(&b.subjects))
    });
}

/// The cross-object checks.
pub fn check(store: &Store) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut push =
        |code, subjects, message: String| out.push(Finding::new(code, subjects, message));

    for r in &store.references {
        if !store.images.contains_key(&r.image) {
            push(
                Code::DanglingReference,
                vec![
                    Subject::Reference(r.name.clone()),
                    Subject::Image(r.image.clone()),
                ],
                format!(
                    "{} points at image {}, which is not in imagedb",
                    r.name,
                    r.image.short()
                ),
            );
        }
    }

    for image in store.images.values() {
        if let Some(parent) = &image.parent {
            if !store.images.contains_key(parent) {
                push(
                    Code::MissingParentImage,
                    vec![
                        Subject::Image(image.id.clone()),
                        Subject::Image(parent.clone()),
                    ],
                    format!(
                        "image {}: its parent image {} is not in imagedb",
                        image.id.short(),
                        parent.short()
                    ),
                );
            }
        }
        let chain = image.chain();
        let missing: Vec<&ChainId> = chain
            .iter()
            .filter(|c| !store.layers.contains_key(*c))
            .collect();
        if let Some(first) = missing.first() {
            let mut subjects = vec![Subject::Image(image.id.clone())];
            subjects.extend(missing.iter().map(|c| Subject::Chain((*c).clone())));
            push(
                Code::MissingLayer,
                subjects,
                format!(
                    "image {}: {} of its {} layers are not in layerdb, the first being {}",
                    image.id.short(),
                    missing.len(),
                    chain.len(),
                    first.short()
                ),
            );
        }
        if chain.len() > MAX_CHAIN_DEPTH {
            push(
                Code::DeepChain,
                vec![Subject::Image(image.id.clone())],
                format!(
                    "image {} has {} layers, more than {MAX_CHAIN_DEPTH}",
                    image.id.short(),
                    chain.len()
                ),
            );
        }
    }

    // A snapshot without the driver's directory cannot say whether cache dirs exist.
    let know_dirs = !store.driver_dirs.is_empty();
    for layer in store.layers.values() {
        let subject = Subject::Chain(layer.chain_id.clone());
        if let Some(parent) = &layer.parent {
            if !store.layers.contains_key(parent) {
                push(
                    Code::MissingParentLayer,
                    vec![subject.clone(), Subject::Chain(parent.clone())],
                    format!(
                        "layer {}: its parent {} is not in layerdb",
                        layer.chain_id.short(),
                        parent.short()
                    ),
                );
            }
        }
        if let Some(diff) = &layer.diff_id {
            let expected = match &layer.parent {
                None => ChainId::from(diff.digest().clone()),
                Some(parent) => parent.child(diff),
            };
            if expected != layer.chain_id {
                push(
                    Code::ChainIdMismatch,
                    vec![subject.clone()],
                    format!(
                        "layer {}: its diff {} on parent {} hashes to {}",
                        layer.chain_id.short(),
                        diff.short(),
                        layer.parent.as_ref().map_or("(none)", |p| p.short()),
                        expected.short()
                    ),
                );
            }
        }
        if let Some(cache) = &layer.cache_id {
            if know_dirs && !store.driver_dirs.contains_key(cache.as_str()) {
                push(
                    Code::MissingCacheDir,
                    vec![subject.clone(), Subject::CacheDir(cache.to_string())],
                    format!(
                        "layer {}: its cache dir {}/{cache} does not exist",
                        layer.chain_id.short(),
                        store.driver
                    ),
                );
            }
        }
        if !layer.tar_split {
            push(
                Code::NoTarSplit,
                vec![subject],
                format!("layer {} has no tar-split.json.gz", layer.chain_id.short()),
            );
        }
    }

    for m in store.mounts.values() {
        let subject = Subject::Container(m.container.clone());
        if let Some(parent) = &m.parent {
            if !store.layers.contains_key(parent) {
                push(
                    Code::MountParentMissing,
                    vec![subject.clone(), Subject::Chain(parent.clone())],
                    format!(
                        "container {}: its image layer {} is not in layerdb",
                        short(&m.container),
                        parent.short()
                    ),
                );
            }
        }
        for (id, code, what) in [
            (&m.mount_id, Code::MountDirMissing, "writable"),
            (&m.init_id, Code::MountInitMissing, "init"),
        ] {
            if let Some(id) = id {
                if know_dirs && !store.driver_dirs.contains_key(id.as_str()) {
                    push(
                        code,
                        vec![subject.clone(), Subject::CacheDir(id.to_string())],
                        format!(
                            "container {}: its {what} layer {}/{id} does not exist",
                            short(&m.container),
                            store.driver
                        ),
                    );
                }
            }
        }
    }

    for c in store.containers.values() {
        if let Some(image) = &c.image {
            if !store.images.contains_key(image) {
                push(
                    Code::ContainerImageMissing,
                    vec![
                        Subject::Container(c.id.clone()),
                        Subject::Image(image.clone()),
                    ],
                    format!(
                        "container {} ({}): its image {} is not in imagedb",
                        c.name,
                        short(&c.id),
                        image.short()
                    ),
                );
            }
        }
    }

    let referenced: BTreeSet<&str> = store
        .layers
        .values()
        .filter_map(|l| l.cache_id.as_ref())
        .chain(
            store
                .mounts
                .values()
                .flat_map(|m| m.mount_id.iter().chain(m.init_id.iter())),
        )
        .map(|c| c.as_str())
        .collect();
    for name in store.driver_dirs.keys() {
        if referenced.contains(name.as_str()) {
            continue;
        }
        let subject = vec![Subject::CacheDir(name.clone())];
        if is_buildkit_id(name) {
            push(
                Code::BuildCacheDir,
                subject,
                format!(
                    "{}/{name} is not used by any layer or container",
                    store.driver
                ),
            );
        } else {
            push(
                Code::OrphanDriverDir,
                subject,
                format!(
                    "{}/{name} is not used by any layer or container",
                    store.driver
                ),
            );
        }
    }

    if matches!(store.driver.as_str(), "overlay2" | "fuse-overlayfs") && know_dirs {
        overlay(store, &mut out);
    }

    let mut used: BTreeSet<&ChainId> = BTreeSet::new();
    for image in store.images.values() {
        used.extend(image.chain());
    }
    for m in store.mounts.values() {
        let mut next = m.parent.as_ref();
        while let Some(c) = next {
            if !used.insert(c) {
                break;
            }
            next = store.layers.get(c).and_then(|l| l.parent.as_ref());
        }
    }
    for layer in store.layers.values() {
        if !used.contains(&layer.chain_id) {
            out.push(Finding::new(
                Code::UnusedLayer,
                vec![Subject::Chain(layer.chain_id.clone())],
                format!(
                    "layer {} is used by no image and no container",
                    layer.chain_id.short()
                ),
            ));
        }
    }
    out
}

fn overlay(store: &Store, out: &mut Vec<Finding>) {
    let driver = &store.driver;
    let link_of: BTreeMap<&str, &str> = store
        .driver_dirs
        .values()
        .filter_map(|d| {
            d.link
                .as_deref()
                .filter(|l| !l.is_empty())
                .map(|l| (d.name.as_str(), l))
        })
        .collect();
    let known_links: BTreeSet<&str> = link_of
        .values()
        .copied()
        .chain(store.links.keys().map(String::as_str))
        .collect();

    for d in store.driver_dirs.values() {
        let subject = Subject::CacheDir(d.name.clone());
        match d.link.as_deref() {
            None | Some("") => out.push(Finding::new(
                Code::OverlayLinkMissing,
                vec![subject.clone()],
                format!(
                    "{driver}/{}/link is {}",
                    d.name,
                    if d.link.is_none() { "missing" } else { "empty" }
                ),
            )),
            Some(link) => {
                let want = format!("../{}/diff", d.name);
                match store.links.get(link) {
                    Some(target) if *target == want => {}
                    Some(target) => out.push(Finding::new(
                        Code::OverlayLinkDangling,
                        vec![subject.clone(), Subject::Path(format!("{driver}/l/{link}"))],
                        format!("{driver}/l/{link} points at {target}, not {want}"),
                    )),
                    None => out.push(Finding::new(
                        Code::OverlayLinkDangling,
                        vec![subject.clone(), Subject::Path(format!("{driver}/l/{link}"))],
                        format!("{driver}/l/{link} (the link of {}) is missing", d.name),
                    )),
                }
            }
        }
        for lower in d.lower.iter().flatten() {
            let link = lower.strip_prefix("l/").unwrap_or(lower);
            if !known_links.contains(link) {
                out.push(Finding::new(
                    Code::OverlayLowerUnknown,
                    vec![subject.clone()],
                    format!(
                        "{driver}/{}/lower names {lower}, which is no layer's link",
                        d.name
                    ),
                ));
            }
        }
    }
    for (link, target) in &store.links {
        let dir = target
            .strip_prefix("../")
            .and_then(|t| t.strip_suffix("/diff"));
        if !dir.is_some_and(|d| store.driver_dirs.contains_key(d)) {
            out.push(Finding::new(
                Code::OverlayLinkDangling,
                vec![Subject::Path(format!("{driver}/l/{link}"))],
                format!("{driver}/l/{link} points at {target}, which does not exist"),
            ));
        }
    }

    let expect =
        |dir: &str, want: Option<Vec<String>>, subjects: Vec<Subject>, out: &mut Vec<Finding>| {
            let (Some(d), Some(want)) = (store.driver_dirs.get(dir), want) else {
                return;
            };
            let have = d.lower.clone().unwrap_or_default();
            if have != want {
                out.push(Finding::new(
                    Code::OverlayLowerMismatch,
                    subjects,
                    format!(
                        "{driver}/{dir}/lower lists {} layers [{}], expected {} [{}]",
                        have.len(),
                        have.join(":"),
                        want.len(),
                        want.join(":")
                    ),
                ));
            }
        };
    for layer in store.layers.values() {
        let Some(cache) = &layer.cache_id else {
            continue;
        };
        let want = lowers_from(store, &link_of, layer.parent.as_ref());
        expect(
            cache.as_str(),
            want,
            vec![
                Subject::Chain(layer.chain_id.clone()),
                Subject::CacheDir(cache.to_string()),
            ],
            out,
        );
    }
    for m in store.mounts.values() {
        let image_lowers = lowers_from(store, &link_of, m.parent.as_ref());
        let subject = Subject::Container(m.container.clone());
        if let Some(init) = &m.init_id {
            expect(
                init.as_str(),
                image_lowers.clone(),
                vec![subject.clone(), Subject::CacheDir(init.to_string())],
                out,
            );
            if let (Some(rw), Some(init_link)) = (&m.mount_id, link_of.get(init.as_str())) {
                let want = image_lowers.map(|rest| {
                    std::iter::once(format!("l/{init_link}"))
                        .chain(rest)
                        .collect()
                });
                expect(
                    rw.as_str(),
                    want,
                    vec![subject, Subject::CacheDir(rw.to_string())],
                    out,
                );
            }
        }
    }
}

/// The lowers a directory must list: the links of its parent layers, nearest first; `None`
/// when a link on the way is unknown (reported by other checks).
fn lowers_from<'a>(
    store: &'a Store,
    link_of: &BTreeMap<&str, &str>,
    mut next: Option<&'a ChainId>,
) -> Option<Vec<String>> {
    let mut out = Vec::new();
    while let Some(c) = next {
        let layer = store.layers.get(c)?;
        let link = link_of.get(layer.cache_id.as_ref()?.as_str())?;
        out.push(format!("l/{link}"));
        next = layer.parent.as_ref();
    }
    Some(out)
}

/// BuildKit names its snapshots with 25 lowercase base-36 characters.
fn is_buildkit_id(name: &str) -> bool {
    name.len() == 25
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::DiffId;
    use crate::store::{Image, ImageConfig, Layer};

    /// A store no engine can write: overlay2 refuses to register a layer that deep.
    fn store_with_depth(depth: usize) -> Store {
        let diffs: Vec<DiffId> = (0..depth)
            .map(|i| DiffId::from_hex(&format!("{i:064x}")).unwrap())
            .collect();
        let config = ImageConfig {
            diff_ids: diffs.clone(),
            ..ImageConfig::default()
        };
        let id = crate::ImageId::from_hex(&"e".repeat(64)).unwrap();
        let image = Image {
            id: id.clone(),
            verified: true,
            config: Some(config),
            parent: None,
            last_updated: None,
            built_locally: false,
            tags: vec![],
            digests: vec![],
            chain: Default::default(),
        };
        let mut store = Store {
            driver: "vfs".into(),
            ..Store::default()
        };
        let mut parent: Option<ChainId> = None;
        for chain in image.chain() {
            let diff = diffs[store.layers.len()].clone();
            store.layers.insert(
                chain.clone(),
                Layer {
                    chain_id: chain.clone(),
                    diff_id: Some(diff),
                    parent: parent.clone(),
                    cache_id: None,
                    size: Some(1),
                    tar_split: true,
                    descriptor: None,
                },
            );
            parent = Some(chain.clone());
        }
        store.images.insert(id, image);
        store
    }

    #[track_caller]
    fn check_codes(store: &Store, expected: &[Code]) {
        let codes: Vec<Code> = check(store).iter().map(|f| f.code).collect();
        assert_eq!(codes, expected);
    }

    #[test]
    fn deep_chains_are_flagged_past_125() {
        check_codes(&store_with_depth(MAX_CHAIN_DEPTH), &[]);
        check_codes(&store_with_depth(MAX_CHAIN_DEPTH + 1), &[Code::DeepChain]);
    }
}
