//! Reading a snapshot held in memory a slice at a time, so a caller on a UI thread can yield
//! between slices and show progress.

use std::io::{self, Read, Write};

use super::read::{read_tar, sniff, stream_error, Codec, LimitHit};
use super::{Limits, Snapshot};
use crate::error::Result;

/// Reads a snapshot held in memory a slice at a time. Same result and the same limits as
/// [`Snapshot::from_bytes`].
///
/// Only inflating is sliced: it is the step whose cost a hostile file controls (a few hundred
/// KB can claim gigabytes). Parsing the inflated tar is bounded by the same caps and is fast.
pub struct SlicedReader {
    inflater: Inflater,
    total: usize,
    limits: Limits,
}

enum Inflater {
    /// flate2 inflates what it is given: the input is pushed in.
    Gzip {
        input: Vec<u8>,
        pos: usize,
        decoder: Box<flate2::write::GzDecoder<CappedVec>>,
    },
    /// ruzstd decodes what is asked of it: the output is pulled out.
    Zstd {
        frames: crate::zstd::Frames<io::Cursor<Vec<u8>>>,
        out: CappedVec,
        done: bool,
    },
}

/// How far a [`SlicedReader`] has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Compressed bytes consumed so far, out of `total`.
    pub read: u64,
    pub total: u64,
    /// Bytes inflated so far.
    pub inflated: u64,
}

impl SlicedReader {
    /// Checks the file's magic; the errors for an empty or uncompressed file come from here.
    pub fn new(input: Vec<u8>, limits: Limits) -> Result<SlicedReader> {
        let sink = CappedVec {
            left: limits.max_decompressed_bytes,
            ..CappedVec::default()
        };
        let total = input.len();
        let inflater = match sniff(&mut &input[..])? {
            Codec::Gzip => Inflater::Gzip {
                input,
                pos: 0,
                decoder: Box::new(flate2::write::GzDecoder::new(sink)),
            },
            Codec::Zstd => Inflater::Zstd {
                frames: crate::zstd::Frames::new(io::Cursor::new(input)),
                out: sink,
                done: false,
            },
        };
        Ok(SlicedReader {
            inflater,
            total,
            limits,
        })
    }

    /// Does about `work` bytes of work, counting both compressed bytes read and bytes inflated
    /// (a bomb's few KB of input can be many MB of output); returns `true` once all input is read.
    pub fn step(&mut self, work: usize) -> Result<bool> {
        let work = work.max(1) as u64;
        let start = self.work_done();
        let limits = self.limits;
        match &mut self.inflater {
            Inflater::Gzip {
                input,
                pos,
                decoder,
            } => {
                while *pos < input.len() && (*pos as u64 + decoder.get_ref().len) - start < work {
                    // Small writes: each produces at most one buffer of output, so the budget holds.
                    let end = input.len().min(*pos + 8192);
                    let n = decoder
                        .write(&input[*pos..end])
                        .map_err(|e| stream_error(e, Codec::Gzip, &limits))?;
                    if n == 0 {
                        // The gzip member and its trailer are complete: what follows is
                        // ignored, as the streaming reader does.
                        *pos = input.len();
                        break;
                    }
                    *pos += n;
                }
            }
            Inflater::Zstd { frames, out, done } => {
                let mut buf = vec![0u8; 64 << 10];
                while !*done {
                    let read = frames.get_ref().map_or(self.total as u64, |c| c.position());
                    if read + out.len - start >= work {
                        break;
                    }
                    let n = frames
                        .read(&mut buf)
                        .map_err(|e| stream_error(e, Codec::Zstd, &limits))?;
                    if n == 0 {
                        *done = true;
                    }
                    out.write_all(&buf[..n])
                        .map_err(|e| stream_error(e, Codec::Zstd, &limits))?;
                }
            }
        }
        Ok(self.finished())
    }

    fn finished(&self) -> bool {
        match &self.inflater {
            Inflater::Gzip { input, pos, .. } => *pos >= input.len(),
            Inflater::Zstd { done, .. } => *done,
        }
    }

    fn work_done(&self) -> u64 {
        let p = self.progress();
        p.read + p.inflated
    }

    pub fn progress(&self) -> Progress {
        let (read, inflated) = match &self.inflater {
            Inflater::Gzip { pos, decoder, .. } => (*pos as u64, decoder.get_ref().len),
            Inflater::Zstd { frames, out, .. } => (
                frames.get_ref().map_or(self.total as u64, |c| c.position()),
                out.len,
            ),
        };
        Progress {
            read,
            total: self.total as u64,
            inflated,
        }
    }

    /// Inflates whatever is left, checks the stream's trailer and parses the tar.
    pub fn finish(mut self) -> Result<Snapshot> {
        while !self.step(usize::MAX)? {}
        let limits = self.limits;
        let codec = match self.inflater {
            Inflater::Gzip { .. } => Codec::Gzip,
            Inflater::Zstd { .. } => Codec::Zstd,
        };
        let tar = match self.inflater {
            Inflater::Gzip { decoder, .. } => decoder
                .finish()
                .map_err(|e| stream_error(e, Codec::Gzip, &limits))?,
            Inflater::Zstd { out, .. } => out,
        };
        let reader = ChunkReader {
            chunks: tar.chunks.into(),
            at: 0,
        };
        read_tar(reader, self.limits, codec.name())
    }
}

/// A sink that refuses to grow past the decompression cap. It keeps 1 MiB chunks rather than
/// one `Vec`: doubling a `Vec` of hundreds of MB copies it all in one go, a stall the page
/// would feel.
#[derive(Default)]
struct CappedVec {
    chunks: Vec<Vec<u8>>,
    len: u64,
    left: u64,
}

const CHUNK: usize = 1 << 20;

impl Write for CappedVec {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.len() as u64 > self.left {
            return Err(io::Error::other(LimitHit("decompressed size")));
        }
        self.left -= buf.len() as u64;
        self.len += buf.len() as u64;
        let mut rest = buf;
        while !rest.is_empty() {
            match self.chunks.last_mut() {
                Some(chunk) if chunk.len() < CHUNK => {
                    let n = rest.len().min(CHUNK - chunk.len());
                    chunk.extend_from_slice(&rest[..n]);
                    rest = &rest[n..];
                }
                _ => self.chunks.push(Vec::with_capacity(CHUNK)),
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Reads the chunks of a [`CappedVec`] back in order, freeing each once read: the entries
/// parsed from them take their place, so the whole tar and all its entries are never held at
/// once (a 15,000-layer snapshot inflates to 450 MB).
struct ChunkReader {
    chunks: std::collections::VecDeque<Vec<u8>>,
    at: usize,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while let Some(first) = self.chunks.front() {
            if self.at < first.len() {
                let n = buf.len().min(first.len() - self.at);
                buf[..n].copy_from_slice(&first[self.at..self.at + n]);
                self.at += n;
                return Ok(n);
            }
            self.chunks.pop_front();
            self.at = 0;
        }
        Ok(0)
    }
}
