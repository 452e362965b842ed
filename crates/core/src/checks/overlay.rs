//! overlay2's short links and lower files (also fuse-overlayfs, which shares the layout).

use std::collections::{BTreeMap, BTreeSet};

use crate::finding::{Code, Finding, Subject};
use crate::id::ChainId;
use crate::store::Store;

fn applies(store: &Store) -> bool {
    store.graph_driver().is_some_and(|d| d.has_overlay_links()) && super::knows_driver_dirs(store)
}

/// Each directory's `link` and the `l/` symlinks.
pub fn links(store: &Store, out: &mut Vec<Finding>) {
    if !applies(store) {
        return;
    }
    let driver = &store.driver;
    let links = Links::new(store);
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
            if !links.known.contains(link) {
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
}

/// Each `lower` file lists its layer's parents' links, nearest first.
///
/// Linear in the size of the lower files: a lower file is compared with the chain only as far as
/// it goes (one step more to see that the chain is longer), and whether a chain can be resolved
/// at all is worked out once per layer.
pub fn lowers(store: &Store, out: &mut Vec<Finding>) {
    if !applies(store) {
        return;
    }
    let links = Links::new(store);
    let chains = Chains::new(store, &links);
    for layer in store.layers.values() {
        let Some(cache) = &layer.cache_id else {
            continue;
        };
        compare(
            store,
            &chains,
            cache.as_str(),
            None,
            layer.parent.as_ref(),
            vec![
                Subject::Chain(layer.chain_id.clone()),
                Subject::CacheDir(cache.to_string()),
            ],
            out,
        );
    }
    for m in store.mounts.values() {
        let subject = Subject::Container(m.container.clone());
        let Some(init) = &m.init_id else { continue };
        compare(
            store,
            &chains,
            init.as_str(),
            None,
            m.parent.as_ref(),
            vec![subject.clone(), Subject::CacheDir(init.to_string())],
            out,
        );
        if let (Some(rw), Some(init_link)) = (&m.mount_id, links.of.get(init.as_str())) {
            compare(
                store,
                &chains,
                rw.as_str(),
                Some(init_link),
                m.parent.as_ref(),
                vec![subject, Subject::CacheDir(rw.to_string())],
                out,
            );
        }
    }
}

struct Links<'a> {
    /// Directory name → its link.
    of: BTreeMap<&'a str, &'a str>,
    /// Every link a lower may name.
    known: BTreeSet<&'a str>,
}

impl<'a> Links<'a> {
    fn new(store: &'a Store) -> Self {
        let of: BTreeMap<&str, &str> = store
            .driver_dirs
            .values()
            .filter_map(|d| {
                let link = d.link.as_deref().filter(|l| !l.is_empty())?;
                Some((d.name.as_str(), link))
            })
            .collect();
        let known = of
            .values()
            .copied()
            .chain(store.links.keys().map(String::as_str))
            .collect();
        Links { of, known }
    }
}

/// Per layer: its link and its chain's length, when every layer down to the base is in layerdb
/// and has a link (otherwise other checks report why, and lowers are not compared).
struct Chains<'a> {
    resolved: BTreeMap<&'a ChainId, Option<(&'a str, usize)>>,
    /// The same, by position, with each layer's parent's position: walks along a chain index
    /// vectors instead of looking chainIDs up.
    index: BTreeMap<&'a ChainId, usize>,
    nodes: Vec<(Option<&'a str>, Option<usize>)>,
}

impl<'a> Chains<'a> {
    fn new(store: &'a Store, links: &Links<'a>) -> Self {
        let mut resolved: BTreeMap<&ChainId, Option<(&str, usize)>> = BTreeMap::new();
        let mut path: Vec<&ChainId> = Vec::new();
        for start in store.layers.keys() {
            // Walk down to a layer already resolved (or past the base), then resolve on the
            // way back up. `base` is the chain length below the walk, `None` if unresolvable.
            // Each layer walked is marked unresolvable until the way back sets it, so coming
            // upon one again (a loop) stops the walk: a loop is never resolvable.
            path.clear();
            let mut next = Some(start);
            let mut base = loop {
                let Some(c) = next else { break Some(0) };
                if let Some(r) = resolved.get(c) {
                    break r.map(|(_, n)| n);
                }
                let Some(layer) = store.layers.get(c) else {
                    break None;
                };
                resolved.insert(c, None);
                path.push(c);
                next = layer.parent.as_ref();
            };
            for &c in path.iter().rev() {
                let link = store
                    .layers
                    .get(c)
                    .and_then(|l| l.cache_id.as_ref())
                    .and_then(|id| links.of.get(id.as_str()).copied());
                let here = base.zip(link).map(|(n, link)| (link, n + 1));
                resolved.insert(c, here);
                base = here.map(|(_, n)| n);
            }
        }
        let index: BTreeMap<&ChainId, usize> = store
            .layers
            .keys()
            .enumerate()
            .map(|(i, c)| (c, i))
            .collect();
        let nodes = store
            .layers
            .iter()
            .map(|(c, l)| {
                let link = resolved.get(c).copied().flatten().map(|(link, _)| link);
                let parent = l.parent.as_ref().and_then(|p| index.get(p).copied());
                (link, parent)
            })
            .collect();
        Chains {
            resolved,
            index,
            nodes,
        }
    }

    /// `(link, chain length)` of a resolvable layer.
    fn get(&self, c: &ChainId) -> Option<(&'a str, usize)> {
        self.resolved.get(c).copied().flatten()
    }
}

/// Compares `dir`'s lower file with `prefix` followed by the links of `from` and its parents.
fn compare(
    store: &Store,
    chains: &Chains<'_>,
    dir: &str,
    prefix: Option<&str>,
    from: Option<&ChainId>,
    subjects: Vec<Subject>,
    out: &mut Vec<Finding>,
) {
    let Some(d) = store.driver_dirs.get(dir) else {
        return;
    };
    let depth = match from {
        None => 0,
        Some(c) => match chains.get(c) {
            Some((_, n)) => n,
            None => return,
        },
    };
    let want_len = depth + usize::from(prefix.is_some());
    let have: &[String] = d.lower.as_deref().unwrap_or_default();
    // The expected list, lazily: only as far as it is compared or shown.
    // The expected links, lazily: only as far as they are compared or shown.
    let links = || {
        let mut next = from.and_then(|c| chains.index.get(c).copied());
        prefix.into_iter().chain(std::iter::from_fn(move || {
            let (link, parent) = chains.nodes[next?];
            next = parent;
            link
        }))
    };
    let want =
        |limit: usize| -> Vec<String> { links().take(limit).map(|l| format!("l/{l}")).collect() };
    let matches = have.len() == want_len
        && have
            .iter()
            .zip(links())
            .all(|(h, l)| h.strip_prefix("l/") == Some(l));
    if matches {
        return;
    }
    const SHOWN: usize = 8;
    let show = |v: &[String], len: usize| {
        let mut s = v.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(":");
        if len > SHOWN {
            s.push_str(":…");
        }
        s
    };
    out.push(Finding::new(
        Code::OverlayLowerMismatch,
        subjects,
        format!(
            "{}/{dir}/lower lists {} layers [{}], expected {want_len} [{}]",
            store.driver,
            have.len(),
            show(have, have.len()),
            show(&want(SHOWN), want_len)
        ),
    ));
}
