//! The sizes `docker system df` reports that nothing on disk stores: measured with `lstat`
//! only, never opening a file and never following a symlink.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Every entry under `dir` (not `dir` itself), by `lstat`, each inode once; entries that
/// vanish while walking are skipped.
fn each_inode(dir: &Path, mut visit: impl FnMut(&fs::Metadata)) {
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for entry in rd.flatten() {
            let Ok(m) = entry.metadata() else { continue };
            if m.is_dir() {
                stack.push(entry.path());
            }
            if seen.insert((m.dev(), m.ino())) {
                visit(&m);
            }
        }
    }
}

/// moby's `directory.Size`: the apparent size of everything but directories, hard links once,
/// symlinks by their own size.
pub(super) fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    each_inode(dir, |m| {
        if !m.is_dir() {
            total += m.len();
        }
    });
    total
}

/// containerd's `fs.DiskUsage` (continuity), which the overlayfs snapshotter reports for an
/// active snapshot: allocated bytes (`st_blocks * 512`) of every entry, the directory itself
/// included, each inode once.
pub(super) fn disk_usage(dir: &Path) -> u64 {
    let Ok(root) = fs::symlink_metadata(dir) else {
        return 0;
    };
    let mut total = root.blocks() * 512;
    each_inode(dir, |m| total = total.saturating_add(m.blocks() * 512));
    total
}

/// moby's `NaiveDiffDriver.DiffSize`: `archive.ChangesDirs(layer, parent)` then `ChangesSize`.
/// A non-directory counts when the parent has nothing at its path or its mode, owner, device,
/// size or modification time differ (`statDifferent`, with `sameFsTime`); hard links once.
/// Only `lstat`s, never following a symlink.
pub(super) fn naive_diff_size(layer: &Path, parent: Option<&Path>) -> u64 {
    use std::collections::{HashMap, HashSet};
    type Stat = (u32, u32, u32, u64, u64, i64, i64);
    fn walk(dir: &Path, mut visit: impl FnMut(PathBuf, &fs::Metadata)) {
        let mut stack = vec![PathBuf::new()];
        while let Some(rel) = stack.pop() {
            let Ok(rd) = fs::read_dir(dir.join(&rel)) else {
                continue;
            };
            for entry in rd.flatten() {
                let Ok(m) = entry.metadata() else { continue };
                let child = rel.join(entry.file_name());
                if m.is_dir() {
                    stack.push(child.clone());
                }
                visit(child, &m);
            }
        }
    }
    let stat = |m: &fs::Metadata| -> Stat {
        (
            m.mode(),
            m.uid(),
            m.gid(),
            m.rdev(),
            m.size(),
            m.mtime(),
            m.mtime_nsec(),
        )
    };
    let mut old: HashMap<PathBuf, Stat> = HashMap::new();
    if let Some(parent) = parent {
        walk(parent, |rel, m| {
            old.insert(rel, stat(m));
        });
    }
    let same_time = |a: i64, an: i64, b: i64, bn: i64| a == b && (an == bn || an == 0 || bn == 0);
    let mut seen = HashSet::new();
    let mut total = 0;
    walk(layer, |rel, m| {
        if m.is_dir() {
            return;
        }
        let new = stat(m);
        let changed = match old.get(&rel) {
            None => true,
            Some(o) => {
                o.0 != new.0
                    || o.1 != new.1
                    || o.2 != new.2
                    || o.3 != new.3
                    || o.4 != new.4
                    || !same_time(o.5, o.6, new.5, new.6)
            }
        };
        if changed && (m.nlink() <= 1 || seen.insert((m.dev(), m.ino()))) {
            total += m.size();
        }
    });
    total
}
