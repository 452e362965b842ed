//! A minimal streaming reader of tar entries: ustar, GNU long names and links, PAX paths.
//!
//! The `tar` crate zeroes a 32 KiB buffer to skip each entry's padding; a snapshot has tens of
//! thousands of small entries, and that alone was a tenth of `storesnap check`. This reader
//! reads a header, an entry's exact bytes and its padding, nothing more. It checks every header's
//! checksum and caps what a hostile header can make it allocate.

use std::io::{self, Read};

pub(crate) const BLOCK: usize = 512;
/// How much of an unread entry one read skips.
const SKIP_CHUNK: usize = 256 << 10;
/// GNU long names and links, and PAX headers, are paths: anything longer is not one.
const MAX_META: u64 = 64 << 10;

/// One entry's header, with GNU and PAX long names applied.
#[derive(Debug)]
pub(crate) struct Header {
    pub path: Vec<u8>,
    pub link: Vec<u8>,
    pub kind: Kind,
    pub size: u64,
    pub meta: Meta,
}

/// What a header says about an entry beyond its name, kind and size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Meta {
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// Seconds since the epoch (PAX's fraction dropped).
    pub mtime: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    File,
    Dir,
    Symlink,
    HardLink,
    /// Any other type flag, named for the error message.
    Other(&'static str),
}

impl Kind {
    pub fn of_flag(flag: u8) -> Kind {
        match flag {
            b'0' | 0 | b'7' => Kind::File,
            b'5' => Kind::Dir,
            b'2' => Kind::Symlink,
            b'1' => Kind::HardLink,
            b'3' => Kind::Other("character device"),
            b'4' => Kind::Other("block device"),
            b'6' => Kind::Other("FIFO"),
            _ => Kind::Other("unknown"),
        }
    }
}

/// What a header block says, before any long name or PAX record is applied.
pub(crate) struct Block<'a> {
    pub block: &'a [u8; BLOCK],
    pub flag: u8,
    pub size: u64,
}

impl<'a> Block<'a> {
    /// Checks the header's checksum and reads its size; `None` for an all-zero block (the end
    /// of the archive).
    pub fn parse(block: &'a [u8; BLOCK]) -> io::Result<Option<Block<'a>>> {
        if block.iter().all(|&b| b == 0) {
            return Ok(None);
        }
        verify_checksum(block)?;
        Ok(Some(Block {
            block,
            flag: block[156],
            size: parse_size(&block[124..136])?,
        }))
    }

    /// Whether this block starts a metadata entry (long name or link, PAX record) that
    /// describes the next header rather than being an entry itself.
    pub fn is_meta(&self) -> bool {
        matches!(self.flag, b'L' | b'K' | b'x' | b'g')
    }

    pub fn name(&self) -> Vec<u8> {
        let name = until_nul(&self.block[0..100]);
        let prefix = until_nul(&self.block[345..500]);
        // POSIX ustar splits long names into prefix/name; GNU uses that space otherwise.
        if &self.block[257..263] == b"ustar\0" && !prefix.is_empty() {
            [prefix, b"/", name].concat()
        } else {
            name.to_vec()
        }
    }

    pub fn link(&self) -> Vec<u8> {
        until_nul(&self.block[157..257]).to_vec()
    }

    /// Mode, owner and time, with PAX's overrides. A field that is not a number reads as 0:
    /// they are shown, never relied on.
    pub fn meta(&self, pax: &Pax) -> Meta {
        let number = |range: std::ops::Range<usize>| parse_size(&self.block[range]).unwrap_or(0);
        Meta {
            mode: (number(100..108) & 0o7777_7777) as u32,
            uid: pax.uid.unwrap_or_else(|| number(108..116)),
            gid: pax.gid.unwrap_or_else(|| number(116..124)),
            mtime: pax
                .mtime
                .unwrap_or_else(|| i64::try_from(number(136..148)).unwrap_or(i64::MAX)),
        }
    }
}

pub(crate) struct Reader<R> {
    inner: R,
    /// Bytes of the current entry not yet read, then its padding.
    left: u64,
    pad: usize,
}

impl<R: Read> Reader<R> {
    pub fn new(inner: R) -> Self {
        Reader {
            inner,
            left: 0,
            pad: 0,
        }
    }

    /// The next entry's header, or `None` at the end of the archive. Whatever of the previous
    /// entry was not read is skipped first.
    pub fn next(&mut self) -> io::Result<Option<Header>> {
        let (mut long_path, mut long_link) = (None, None);
        let mut records = Pax::default();
        loop {
            self.skip_rest()?;
            let mut raw = [0u8; BLOCK];
            if !self.read_block(&mut raw)? {
                return Ok(None);
            }
            let Some(block) = Block::parse(&raw)? else {
                return Ok(None);
            };
            let (flag, size) = (block.flag, block.size);
            match flag {
                b'L' | b'K' | b'x' => {
                    if size > MAX_META {
                        return Err(io::Error::other(format!(
                            "a tar metadata entry of {size} bytes (over {MAX_META})"
                        )));
                    }
                    self.begin(size);
                    let data = self.read_data(size)?;
                    match flag {
                        b'L' => long_path = Some(until_nul(&data).to_vec()),
                        b'K' => long_link = Some(until_nul(&data).to_vec()),
                        _ => records.merge(pax(&data)),
                    }
                    continue;
                }
                // A global PAX header sets defaults storesnap has no use for.
                b'g' => {
                    self.begin(size);
                    continue;
                }
                _ => {}
            }
            let kind = Kind::of_flag(flag);
            // PAX records win over GNU long names, which win over the header's own fields.
            let path = records
                .path
                .take()
                .or(long_path)
                .unwrap_or_else(|| block.name());
            let link = records
                .link
                .take()
                .or(long_link)
                .unwrap_or_else(|| block.link());
            let meta = block.meta(&records);
            // Go writes a file over 8 GiB with its size in a PAX record.
            let size = records.size.unwrap_or(size);
            // Directories and links carry no data, whatever their size field says.
            let size = if kind == Kind::File { size } else { 0 };
            self.begin(size);
            return Ok(Some(Header {
                path,
                link,
                kind,
                size,
                meta,
            }));
        }
    }

    /// The current entry's bytes: `size` from its header, read exactly.
    pub fn read_data(&mut self, size: u64) -> io::Result<Vec<u8>> {
        // Callers cap `size` first; the buffer grows in steps all the same, so a header that
        // lies costs at most what the input really holds.
        const STEP: usize = 1 << 20;
        let size = usize::try_from(size).map_err(io::Error::other)?;
        let mut data = Vec::new();
        while data.len() < size {
            let start = data.len();
            data.resize(size.min(start + STEP), 0);
            self.inner.read_exact(&mut data[start..])?;
        }
        self.left = 0;
        Ok(data)
    }

    /// The stream after the archive's end (the caller drains it, to see a damaged trailer).
    pub fn into_inner(self) -> R {
        self.inner
    }

    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The stream itself; reading it leaves the current entry's place behind.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The current entry's bytes as a stream, for entries too large to hold.
    pub fn data(&mut self) -> Data<'_, R> {
        Data { tar: self }
    }

    fn begin(&mut self, size: u64) {
        self.left = size;
        self.pad = ((BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64) as usize;
    }

    fn skip_rest(&mut self) -> io::Result<()> {
        let mut buf = [0u8; BLOCK];
        if self.left > BLOCK as u64 {
            // A layer's files are skipped in large reads: every read passes through hashers.
            let mut big = vec![0u8; SKIP_CHUNK.min(self.left as usize)];
            while self.left > 0 {
                let n = self.left.min(big.len() as u64) as usize;
                self.inner.read_exact(&mut big[..n])?;
                self.left -= n as u64;
            }
        }
        while self.left > 0 {
            let n = self.left.min(BLOCK as u64) as usize;
            self.inner.read_exact(&mut buf[..n])?;
            self.left -= n as u64;
        }
        if self.pad > 0 {
            self.inner.read_exact(&mut buf[..self.pad])?;
            self.pad = 0;
        }
        Ok(())
    }

    /// Reads one block; `false` at a clean end of input before it.
    fn read_block(&mut self, block: &mut [u8; BLOCK]) -> io::Result<bool> {
        let mut got = 0;
        while got < BLOCK {
            match self.inner.read(&mut block[got..]) {
                Ok(0) if got == 0 => return Ok(false),
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}

/// The current entry's bytes, read through; the reader skips whatever is left at `next`.
pub(crate) struct Data<'a, R> {
    tar: &'a mut Reader<R>,
}

impl<R: Read> Read for Data<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = usize::try_from(self.tar.left).unwrap_or(usize::MAX);
        let want = buf.len().min(left);
        if want == 0 {
            return Ok(0);
        }
        let n = self.tar.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.tar.left -= n as u64;
        Ok(n)
    }
}

pub(crate) fn until_nul(b: &[u8]) -> &[u8] {
    b.iter().position(|&c| c == 0).map_or(b, |i| &b[..i])
}

fn verify_checksum(block: &[u8; BLOCK]) -> io::Result<()> {
    let field = until_nul(&block[148..156]);
    let text = std::str::from_utf8(field).unwrap_or("").trim();
    let want = u64::from_str_radix(text, 8)
        .map_err(|_| io::Error::other("archive header checksum is not a number"))?;
    // The checksum field counts as spaces.
    let all: u64 = block.iter().map(|&b| u64::from(b)).sum();
    let field_bytes: u64 = block[148..156].iter().map(|&b| u64::from(b)).sum();
    let sum = all - field_bytes + 8 * 32;
    if sum != want {
        return Err(io::Error::other("archive header checksum mismatch"));
    }
    Ok(())
}

/// Octal ASCII, or GNU's base-256 when the first byte's top bit is set.
fn parse_size(field: &[u8]) -> io::Result<u64> {
    if field[0] & 0x80 != 0 {
        let mut n: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            n = n
                .checked_mul(256)
                .and_then(|n| n.checked_add(u64::from(b)))
                .ok_or_else(|| io::Error::other("archive entry size overflows"))?;
        }
        return Ok(n);
    }
    let text = std::str::from_utf8(until_nul(field)).unwrap_or("").trim();
    if text.is_empty() {
        return Ok(0);
    }
    u64::from_str_radix(text, 8).map_err(|_| io::Error::other("archive entry size is not a number"))
}

/// What storesnap takes from PAX records (`<len> <key>=<value>\n`).
#[derive(Default)]
pub(crate) struct Pax {
    pub path: Option<Vec<u8>>,
    pub link: Option<Vec<u8>>,
    pub size: Option<u64>,
    pub uid: Option<u64>,
    pub gid: Option<u64>,
    pub mtime: Option<i64>,
}

impl Pax {
    /// Later records win.
    pub fn merge(&mut self, later: Pax) {
        self.path = later.path.or(self.path.take());
        self.link = later.link.or(self.link.take());
        self.size = later.size.or(self.size);
        self.uid = later.uid.or(self.uid);
        self.gid = later.gid.or(self.gid);
        self.mtime = later.mtime.or(self.mtime);
    }
}

pub(crate) fn pax(data: &[u8]) -> Pax {
    let mut out = Pax::default();
    let mut rest = data;
    while !rest.is_empty() {
        let Some(space) = rest.iter().position(|&b| b == b' ') else {
            break;
        };
        let len: usize = match std::str::from_utf8(&rest[..space])
            .ok()
            .and_then(|s| s.parse().ok())
        {
            Some(n) if n > space && n <= rest.len() => n,
            _ => break,
        };
        let record = &rest[space + 1..len];
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        if let Some(eq) = record.iter().position(|&b| b == b'=') {
            match &record[..eq] {
                b"path" => out.path = Some(record[eq + 1..].to_vec()),
                b"linkpath" => out.link = Some(record[eq + 1..].to_vec()),
                b"size" => out.size = number(&record[eq + 1..]),
                b"uid" => out.uid = number(&record[eq + 1..]),
                b"gid" => out.gid = number(&record[eq + 1..]),
                // Seconds, with an optional fraction.
                b"mtime" => {
                    let value = &record[eq + 1..];
                    let whole = value.split(|&b| b == b'.').next().unwrap_or_default();
                    out.mtime = std::str::from_utf8(whole).ok().and_then(|s| s.parse().ok());
                }
                _ => {}
            }
        }
        rest = &rest[len..];
    }
    out
}

fn number(text: &[u8]) -> Option<u64> {
    std::str::from_utf8(text).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Path, kind, link target and data of each entry.
    type Read = (String, Kind, String, Vec<u8>);

    fn read_all(tar: &[u8]) -> io::Result<Vec<Read>> {
        let mut r = Reader::new(tar);
        let mut out = Vec::new();
        while let Some(h) = r.next()? {
            let data = if h.kind == Kind::File {
                r.read_data(h.size)?
            } else {
                Vec::new()
            };
            out.push((
                String::from_utf8(h.path).unwrap(),
                h.kind,
                String::from_utf8(h.link).unwrap(),
                data,
            ));
        }
        Ok(out)
    }

    #[test]
    fn reads_what_the_tar_crate_writes_long_names_included() {
        let long = format!(
            "image/overlay2/layerdb/sha256/{}/tar-split.json.gz",
            "a".repeat(64)
        );
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(3);
        b.append_data(&mut h, &long, &b"abc"[..]).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(
            &mut h,
            "overlay2/l/ABC",
            format!("../{}/diff", "b".repeat(120)),
        )
        .unwrap();
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_size(0);
        b.append_data(&mut h, "containers/", io::empty()).unwrap();
        b.append_pax_extensions([("path", format!("pax/{}", "p".repeat(200)).as_bytes())])
            .unwrap();
        let mut h = tar::Header::new_ustar();
        h.set_size(1);
        b.append_data(&mut h, "short", &b"x"[..]).unwrap();
        let tar = b.into_inner().unwrap();
        let got = read_all(&tar).unwrap();
        assert_eq!(got[0], (long, Kind::File, String::new(), b"abc".to_vec()));
        assert_eq!(got[1].1, Kind::Symlink);
        assert_eq!(got[1].2, format!("../{}/diff", "b".repeat(120)));
        assert_eq!((got[2].0.as_str(), got[2].1), ("containers/", Kind::Dir));
        assert_eq!(got[3].0, format!("pax/{}", "p".repeat(200)));
        assert_eq!(got[3].3, b"x".to_vec());
        assert_eq!(got.len(), 4);
    }

    #[test]
    fn refuses_bad_headers() {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(3);
        b.append_data(&mut h, "f", &b"abc"[..]).unwrap();
        let good = b.into_inner().unwrap();
        let mut bad = good.clone();
        bad[0] = b'g';
        assert!(read_all(&bad)
            .unwrap_err()
            .to_string()
            .contains("checksum mismatch"));
        assert_eq!(
            read_all(&good[..600]).unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
        // A long name that claims to be huge is refused before anything is allocated.
        let mut huge = [0u8; BLOCK];
        huge[..4].copy_from_slice(b"././");
        huge[156] = b'L';
        huge[124..136].copy_from_slice(b"77777777777\0");
        huge[148..156].copy_from_slice(b"        ");
        let sum: u32 = huge.iter().map(|&b| u32::from(b)).sum();
        huge[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        assert!(read_all(&huge)
            .unwrap_err()
            .to_string()
            .contains("metadata entry"));
    }
}
