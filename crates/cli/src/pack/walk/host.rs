//! What the walk asks of the host's filesystem: directory listings, errors worded for the
//! user, whether a symlink's target stays under the root, and the host's redaction key.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::super::PackError;

/// Lists a directory's entry names, sorted; `None` if it does not exist.
pub(super) fn list_dir(dir: &Path) -> anyhow::Result<Option<Vec<String>>> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e)
            if e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ENOTDIR) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(io_error(e, dir)),
    };
    let mut names = Vec::new();
    for entry in rd {
        let entry = match entry {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io_error(e, dir)),
        };
        match entry.file_name().into_string() {
            Ok(name) => names.push(name),
            // Docker writes ASCII names only; anything else is not its metadata.
            Err(name) => anyhow::bail!("non-UTF-8 file name {:?} in {}", name, dir.display()),
        }
    }
    names.sort();
    Ok(Some(names))
}

pub(super) fn io_error(e: io::Error, path: &Path) -> anyhow::Error {
    if e.kind() == io::ErrorKind::PermissionDenied {
        return PackError::PermissionDenied(path.to_owned()).into();
    }
    anyhow::Error::from(e).context(format!("reading {}", path.display()))
}

/// Whether `path`, with `.` and `..` resolved without touching the filesystem, lies under `root`.
pub(super) fn lexically_inside(path: &Path, root: &Path) -> bool {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out.starts_with(root)
}

/// The redaction key: stable on one host (so packs are reproducible), unknown elsewhere.
pub(super) fn redaction_key(root: &Path) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"storesnap redaction key v1\0");
    // machine-id never leaves the host and is not in the snapshot; boot_id is the fallback.
    for source in [
        "/etc/machine-id",
        "/var/lib/dbus/machine-id",
        "/proc/sys/kernel/random/boot_id",
    ] {
        if let Ok(id) = fs::read(source) {
            h.update(&id);
            break;
        }
    }
    h.update(b"\0");
    h.update(root.as_os_str().as_encoded_bytes());
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlink_targets_are_judged_lexically() {
        let root = Path::new("/r/docker");
        assert!(lexically_inside(
            Path::new("/r/docker/overlay2/l/../abc/diff"),
            root
        ));
        assert!(!lexically_inside(
            Path::new("/r/docker/overlay2/l/../../../etc"),
            root
        ));
        assert!(!lexically_inside(Path::new("/etc/passwd"), root));
        assert!(!lexically_inside(Path::new("/r/docker-other/x"), root));
    }
}
