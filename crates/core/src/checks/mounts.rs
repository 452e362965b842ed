use crate::finding::{Code, Finding, Subject};
use crate::store::Store;

/// A container's writable layer: its image layer, and its own and init driver records.
pub fn check(store: &Store, out: &mut Vec<Finding>) {
    let know_dirs = super::knows_driver_dirs(store);
    for m in store.mounts.values() {
        let subject = Subject::Container(m.container.clone());
        if let Some(parent) = &m.parent {
            if !store.layers.contains_key(parent) {
                out.push(Finding::new(
                    Code::MountParentMissing,
                    vec![subject.clone(), Subject::Chain(parent.clone())],
                    format!(
                        "container {}: its image layer {} is not in layerdb",
                        m.container.short(),
                        parent.short()
                    ),
                ));
            }
        }
        for (id, code, what) in [
            (&m.mount_id, Code::MountDirMissing, "writable"),
            (&m.init_id, Code::MountInitMissing, "init"),
        ] {
            let Some(id) = id else { continue };
            if know_dirs && !store.driver_dirs.contains_key(id.as_str()) {
                out.push(Finding::new(
                    code,
                    vec![subject.clone(), Subject::CacheDir(id.to_string())],
                    format!(
                        "container {}: its {what} layer {} does not exist",
                        m.container.short(),
                        store.driver_record_path(id.as_str())
                    ),
                ));
            }
        }
    }
}
