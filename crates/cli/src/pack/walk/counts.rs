//! The manifest's counts of what a snapshot holds, from its entries.

use std::collections::BTreeMap;

use storesnap_core::manifest::Counts;
use storesnap_core::source::graphdriver::Driver;
use storesnap_core::Entry;

/// What `entries` hold: files, links and directories, and the images, layers, mounts,
/// containers and driver directories among them.
pub(super) fn count(entries: &BTreeMap<String, Entry>, bytes_read: u64) -> Counts {
    let mut c = Counts {
        bytes_read,
        ..Counts::default()
    };
    c.driver_dirs = Driver::ALL
        .iter()
        .map(|d| {
            let prefix = d.records_prefix();
            entries
                .range(prefix.to_owned()..)
                .take_while(|(p, _)| p.starts_with(prefix))
                .filter(|(p, _)| {
                    let name = &p[prefix.len()..];
                    !name.contains('/') && !d.is_reserved(name)
                })
                .count()
        })
        .sum::<usize>() as u64;
    for (path, entry) in entries {
        match entry {
            Entry::File(_) | Entry::Unread(_) => c.files += 1,
            Entry::Symlink(_) => c.symlinks += 1,
            Entry::Dir => c.dirs += 1,
        }
        let parts: Vec<&str> = path.split('/').collect();
        match (parts.as_slice(), entry) {
            (["image", _, "imagedb", "content", "sha256", _], Entry::File(_)) => c.images += 1,
            (["image", _, "layerdb", "sha256", name], Entry::Dir)
                if !name.ends_with("-removing") =>
            {
                c.layers += 1
            }
            (["image", _, "layerdb", "mounts", _], Entry::Dir) => c.mounts += 1,
            (["containers", _], Entry::Dir) => c.containers += 1,
            _ => {}
        }
    }
    c
}
