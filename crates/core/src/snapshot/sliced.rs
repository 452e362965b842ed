//! Reading a snapshot held in memory a slice at a time, so a caller can report progress (and,
//! on a UI thread, yield) between slices.

use std::io::{self, Read};

use super::read::{sniff, stream_error, Capped, Codec, TarParse};
use super::{Contents, Limits, Snapshot};
use crate::error::{Error, Result};
use crate::tarball;

/// Reads a snapshot held in memory a slice at a time. Same result and the same limits as
/// [`Snapshot::from_bytes`].
///
/// It inflates only as far as the entry it parses: the inflated tar is never held whole (a
/// 15,000-layer snapshot inflates to 390 MB, twice what its entries hold), which in a browser
/// is memory the worker would have to be given, page by page, before it could use it.
pub struct SlicedReader<B: AsRef<[u8]> = Vec<u8>> {
    tar: tarball::Reader<Capped<Inflating<B>>>,
    parse: TarParse,
    stage: Stage,
    total: usize,
    limits: Limits,
    codec: Codec,
}

enum Stage {
    Entries,
    /// Past the tar's end (or an entry the parser refused): the rest of the stream is read
    /// for its own checks (gzip's CRC and length, zstd's checksums), whose failure is the
    /// likelier cause of whatever the parser tripped on.
    Draining(Option<Error>),
    Done,
    /// An error was returned; the reader has nothing more to give.
    Failed,
}

/// The compressed input, inflated on demand.
enum Inflating<B: AsRef<[u8]>> {
    Gzip(Box<flate2::bufread::GzDecoder<io::Cursor<B>>>),
    // ruzstd answers each read by decoding blocks anew: the tar parser's 512-byte reads go to
    // a buffer instead (as Snapshot::from_reader does).
    Zstd(io::BufReader<crate::zstd::Frames<io::Cursor<B>>>),
}

impl<B: AsRef<[u8]>> Inflating<B> {
    /// Compressed bytes consumed so far.
    fn position(&self, total: usize) -> u64 {
        match self {
            Inflating::Gzip(d) => d.get_ref().position(),
            Inflating::Zstd(d) => d.get_ref().get_ref().map_or(total as u64, |c| c.position()),
        }
    }
}

impl<B: AsRef<[u8]>> Read for Inflating<B> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Inflating::Gzip(d) => d.read(buf),
            Inflating::Zstd(d) => d.read(buf),
        }
    }
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
        SlicedReader::with_contents(input, limits, Contents::All)
    }
}

impl<B: AsRef<[u8]>> SlicedReader<B> {
    /// A reader that keeps only some files' contents; any bytes will do as input, a shared
    /// buffer to read twice, say.
    pub fn with_contents(input: B, limits: Limits, contents: Contents) -> Result<SlicedReader<B>> {
        let total = input.as_ref().len();
        let codec = sniff(&mut input.as_ref())?;
        let input = io::Cursor::new(input);
        let inflating = match codec {
            Codec::Gzip => Inflating::Gzip(Box::new(flate2::bufread::GzDecoder::new(input))),
            Codec::Zstd => Inflating::Zstd(io::BufReader::with_capacity(
                1 << 20,
                crate::zstd::Frames::new(input),
            )),
        };
        Ok(SlicedReader {
            tar: tarball::Reader::new(Capped {
                inner: inflating,
                left: limits.max_decompressed_bytes,
            }),
            parse: TarParse::new(limits, codec.name(), contents),
            stage: Stage::Entries,
            total,
            limits,
            codec,
        })
    }

    /// Does about `work` bytes of work, counting both compressed bytes read and bytes inflated
    /// (a bomb's few KB of input can be many MB of output), a whole entry at least; returns
    /// `true` once the stream has ended (bytes after a gzip member are ignored, as the
    /// streaming reader ignores them). After an error it has nothing more to give.
    pub fn step(&mut self, work: usize) -> Result<bool> {
        let result = self.run(work.max(1) as u64);
        if result.is_err() {
            self.stage = Stage::Failed;
        }
        result
    }

    fn run(&mut self, work: u64) -> Result<bool> {
        let start = self.work_done();
        let mut buf = Vec::new();
        while self.work_done() - start < work {
            match &mut self.stage {
                Stage::Entries => match self.parse.entry(&mut self.tar) {
                    Ok(true) => {}
                    Ok(false) => self.stage = Stage::Draining(None),
                    Err(e) => self.stage = Stage::Draining(Some(e)),
                },
                Stage::Draining(refused) => {
                    buf.resize(64 << 10, 0);
                    match self.tar.get_mut().read(&mut buf) {
                        Ok(0) => {
                            let refused = refused.take();
                            self.stage = Stage::Done;
                            if let Some(e) = refused {
                                return Err(e);
                            }
                        }
                        Ok(_) => {}
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(stream_error(e, self.codec, &self.limits)),
                    }
                }
                Stage::Done => break,
                Stage::Failed => {
                    return Err(Error::Format("the snapshot could not be read".into()))
                }
            }
        }
        Ok(matches!(self.stage, Stage::Done))
    }

    fn work_done(&self) -> u64 {
        let p = self.progress();
        p.read + p.inflated
    }

    pub fn progress(&self) -> Progress {
        let capped = self.tar.get_ref();
        let read = match self.stage {
            // Whatever follows the stream is not read, and not waited for.
            Stage::Done => self.total as u64,
            _ => capped.inner.position(self.total),
        };
        Progress {
            read,
            total: self.total as u64,
            inflated: self.limits.max_decompressed_bytes - capped.left,
        }
    }

    /// Reads whatever is left and returns the snapshot.
    pub fn finish(mut self) -> Result<Snapshot> {
        while !self.step(usize::MAX)? {}
        self.parse.finish()
    }
}
