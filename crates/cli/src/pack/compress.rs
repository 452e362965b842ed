//! A snapshot file's outer compression. `pack` writes format 2, zstd: at level 3 with an 8 MiB
//! window it is about half the size of the same files gzip'd and faster to write (figures in
//! `scripts/bench`). Every storesnap since format 1 reads gzip, and core reads both.

use std::io::{self, Write};

use storesnap_core::Snapshot;

/// zstd's own default level: wider windows and higher levels bought little on real stores
/// and cost seconds (see the closing note of issue 14).
const LEVEL: i32 = 3;
/// 8 MiB: past the viewer's memory budget nothing is gained; a reader needs this much.
const WINDOW_LOG: u32 = 23;

/// Writes `snapshot` as a deterministic `.tar.zst`, and returns `out`.
pub fn write_zstd<W: Write>(snapshot: &Snapshot, out: W, mtime: u64) -> io::Result<W> {
    snapshot.write_tar(Frames::new(out)?, mtime)?.finish()
}

/// A zstd stream whose `flush` ends the frame and starts another. The snapshot writer flushes
/// once, after the manifest: a decoder hands out nothing of a frame until it has a window's
/// worth or the frame's end, and a reader telling a snapshot from an archive has only the
/// file's first kilobytes.
struct Frames<W: Write> {
    encoder: Option<zstd::stream::write::Encoder<'static, W>>,
}

fn encoder<W: Write>(out: W) -> io::Result<zstd::stream::write::Encoder<'static, W>> {
    let mut encoder = zstd::stream::write::Encoder::new(out, LEVEL)?;
    encoder.include_checksum(true)?;
    encoder.window_log(WINDOW_LOG)?;
    Ok(encoder)
}

impl<W: Write> Frames<W> {
    fn new(out: W) -> io::Result<Self> {
        Ok(Frames {
            encoder: Some(encoder(out)?),
        })
    }

    fn current(&mut self) -> &mut zstd::stream::write::Encoder<'static, W> {
        self.encoder.as_mut().expect("an encoder between calls")
    }

    fn finish(mut self) -> io::Result<W> {
        self.encoder
            .take()
            .expect("an encoder between calls")
            .finish()
    }
}

impl<W: Write> Write for Frames<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.current().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        let out = self
            .encoder
            .take()
            .expect("an encoder between calls")
            .finish()?;
        self.encoder = Some(encoder(out)?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use storesnap_core::{Limits, Snapshot};

    /// The viewer's demos, which its spare worker reads to warm up, are the real-engine full
    /// fixtures (overlay2, and containerd's store) as `pack` writes snapshots today, so the
    /// warm-up runs what a user's file runs. libzstd's output for the same input and settings
    /// never changes; `UPDATE_SNAPSHOTS=1` rewrites them (scripts/make-fixtures does).
    #[test]
    fn the_demos_are_the_full_fixtures_as_pack_writes_them() {
        for name in ["full", "d28-containerd"] {
            let data = format!("{}/../core/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
            let format1 = std::fs::read(format!("{data}/snapshot.tar.gz")).unwrap();
            let mut s = Snapshot::from_bytes(&format1, Limits::default()).unwrap();
            s.manifest.format_version = storesnap_core::manifest::FORMAT_VERSION;
            let made = super::write_zstd(&s, Vec::new(), 0).unwrap();
            let path = format!("{data}/snapshot.tar.zst");
            if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
                std::fs::write(&path, &made).unwrap();
                continue;
            }
            assert!(
                std::fs::read(&path).unwrap() == made,
                "{path} is stale: UPDATE_SNAPSHOTS=1 cargo test -p storesnap-cli --bin \
                 storesnap the_demos rewrites it"
            );
        }
    }
}
