//! Reading zstd streams of one or more frames (as `zstd`, `pzstd` and `storesnap pack` write
//! them), with each frame's content checksum checked when it carries one: ruzstd leaves that
//! to its caller, and without it a flipped bit inside a file's bytes would pass unnoticed.

use std::io::{self, BufRead, Read};

use ruzstd::decoding::{FrameDecoder, StreamingDecoder};

/// A zstd stream's frames, read one after the other.
pub(crate) struct Frames<R: BufRead> {
    state: Option<State<R>>,
}

enum State<R: BufRead> {
    Between(R),
    In(Box<StreamingDecoder<R, FrameDecoder>>),
    /// A damaged stream stays damaged: every later read repeats why.
    Failed(String),
}

impl<R: BufRead> Frames<R> {
    pub fn new(inner: R) -> Self {
        Frames {
            state: Some(State::Between(inner)),
        }
    }

    /// The compressed stream, as far as it has been read.
    pub fn get_ref(&self) -> Option<&R> {
        match self.state.as_ref()? {
            State::Between(r) => Some(r),
            State::In(d) => Some(d.get_ref()),
            State::Failed(_) => None,
        }
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// A finished frame whose checksum (when it has one) matches what was decoded.
fn check_frame(decoder: &FrameDecoder) -> io::Result<()> {
    if let (Some(stored), Some(computed)) = (
        decoder.get_checksum_from_data(),
        decoder.get_calculated_checksum(),
    ) {
        if stored != computed {
            return Err(invalid(format!(
                "zstd frame checksum mismatch (stored {stored:08x}, computed {computed:08x})"
            )));
        }
    }
    Ok(())
}

impl<R: BufRead> Read for Frames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let result = self.read_frames(buf);
        if let Err(e) = &result {
            self.state = Some(State::Failed(e.to_string()));
            // ruzstd reports a damaged or cut stream as `Other`; it is the data's fault.
            return Err(invalid(e.to_string()));
        }
        result
    }
}

impl<R: BufRead> Frames<R> {
    fn read_frames(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.state.take() {
                None => return Ok(0),
                Some(State::Between(mut inner)) => {
                    if inner.fill_buf()?.is_empty() {
                        return Ok(0);
                    }
                    let decoder =
                        StreamingDecoder::new(inner).map_err(|e| invalid(format!("zstd: {e}")))?;
                    self.state = Some(State::In(Box::new(decoder)));
                }
                Some(State::In(mut decoder)) => {
                    let n = decoder.read(buf)?;
                    if n > 0 || buf.is_empty() {
                        self.state = Some(State::In(decoder));
                        return Ok(n);
                    }
                    check_frame(&decoder.decoder)?;
                    self.state = Some(State::Between(decoder.into_inner()));
                }
                Some(State::Failed(message)) => return Err(invalid(message)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(bytes: &[u8]) -> Vec<u8> {
        ruzstd::encoding::compress_to_vec(bytes, ruzstd::encoding::CompressionLevel::Fastest)
    }

    fn read_all(input: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        Frames::new(input).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn frames_are_read_in_turn() {
        let mut two = frame(b"hello ");
        two.extend(frame(b"world"));
        assert_eq!(read_all(&two).unwrap(), b"hello world");
        assert_eq!(read_all(b"").unwrap(), b"");
    }

    #[test]
    fn damage_is_an_error() {
        let text: Vec<u8> = (0..20_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let good = frame(&text);
        assert!(read_all(&good[..good.len() - 3]).is_err(), "cut");
        assert!(read_all(b"\x28\xb5\x2f\xfdjunk").is_err(), "junk");
    }
}
