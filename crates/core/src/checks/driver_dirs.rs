use std::collections::BTreeSet;

use crate::finding::{Code, Finding, Subject};
use crate::store::Store;

/// Graph-driver records no layer or container refers to.
pub fn unreferenced(store: &Store, out: &mut Vec<Finding>) {
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
        let code = if is_buildkit_id(name) {
            Code::BuildCacheDir
        } else {
            Code::OrphanDriverDir
        };
        out.push(Finding::new(
            code,
            vec![Subject::CacheDir(name.clone())],
            format!(
                "{} is not used by any layer or container",
                store.driver_record_path(name)
            ),
        ));
    }
}

/// BuildKit names its snapshots with 25 lowercase base-36 characters.
fn is_buildkit_id(name: &str) -> bool {
    name.len() == 25
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}
