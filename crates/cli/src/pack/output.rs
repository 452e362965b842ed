//! Writing the snapshot file: next to its final name, then renamed into place.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::PackError;

pub(super) fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub(super) fn write_file(
    output: &Path,
    roots: &[&Path],
    write: impl FnOnce(&mut CountingWriter<io::BufWriter<File>>) -> io::Result<()>,
) -> anyhow::Result<u64> {
    let dir = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let dir =
        fs::canonicalize(&dir).with_context(|| format!("output directory {}", dir.display()))?;
    if roots.iter().any(|root| dir.starts_with(root)) {
        return Err(PackError::OutputInsideRoot(output.to_owned()).into());
    }
    let name = output
        .file_name()
        .context("the output path has no file name")?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| -> anyhow::Result<u64> {
        let file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        let mut w = CountingWriter::new(io::BufWriter::new(file));
        write(&mut w).with_context(|| format!("writing {}", output.display()))?;
        let count = w.count;
        w.inner
            .into_inner()
            .map_err(|e| e.into_error())?
            .sync_all()?;
        fs::rename(&tmp, dir.join(name))
            .with_context(|| format!("renaming into {}", output.display()))?;
        Ok(count)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Counts the bytes written through it (the snapshot's size for the summary).
pub struct CountingWriter<W> {
    inner: W,
    pub(super) count: u64,
}

impl<W> CountingWriter<W> {
    pub(super) fn new(inner: W) -> Self {
        CountingWriter { inner, count: 0 }
    }
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
