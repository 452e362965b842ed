//! A read-only reader of bbolt database files over bytes.
//!
//! containerd keeps its metadata (`meta.db`) and each snapshotter's `metadata.db` in bbolt
//! (etcd-io/bbolt). No crate reads those from a byte slice and builds for wasm, so this one is
//! written from the on-disk format (see `docs` in the repository and bbolt's `page.go`,
//! `node.go` and `cursor.go`):
//!
//! - Pages 0 and 1 are meta pages. Each holds the page size, the root bucket's page and a
//!   transaction ID, guarded by an FNV-1a 64 checksum; the valid one with the higher txid wins.
//! - A page starts with a 16-byte header (`id u64, flags u16, count u16, overflow u32`) and
//!   spans `overflow + 1` pages.
//! - Branch pages hold `(pos u32, ksize u32, pgid u64)` elements, leaf pages
//!   `(flags u32, pos u32, ksize u32, vsize u32)`; `pos` counts from the element itself.
//! - A leaf value with flag 1 is a nested bucket: `{root u64, sequence u64}`, and when root is
//!   0 the bucket is inline, a whole page stored in the value right after that header.
//!
//! Everything is bounds-checked: a hostile file gives a [`BoltError`], never a panic, a loop or
//! unbounded work (every page visit is counted against a budget tied to the file's size).

use std::cell::Cell;

mod go;
#[cfg(test)]
mod tests;

pub use go::{go_time, uvarint, varint};

/// Why a bbolt file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BoltError {
    #[error("not a bbolt database (no valid meta page)")]
    NotBolt,
    #[error("page {0} lies outside the file")]
    PageOutOfRange(u64),
    #[error("page {pgid} is damaged: {what}")]
    Damaged { pgid: u64, what: &'static str },
    #[error("an inline bucket is damaged: {0}")]
    DamagedInline(&'static str),
    #[error("the tree is deeper than {0} levels (a loop between pages?)")]
    TooDeep(usize),
    #[error("the tree refers to more pages than the file holds (pages shared or looped)")]
    TooManyVisits,
}

const MAGIC: u32 = 0xED0C_DAED;
const VERSION: u32 = 2;
const PAGE_HEADER: usize = 16;
const ELEMENT: usize = 16;
const BRANCH: u16 = 0x01;
const LEAF: u16 = 0x02;
const BUCKET_FLAG: u32 = 0x01;
const BUCKET_HEADER: usize = 16;
/// bbolt's trees are a handful of levels deep; anything deeper is a loop.
const MAX_DEPTH: usize = 64;

/// An open database: a view of the bytes with the meta page chosen.
#[derive(Debug)]
pub struct Db<'a> {
    data: &'a [u8],
    page_size: usize,
    root: u64,
    txid: u64,
    /// Page visits left before the reader refuses to go on (see [`BoltError::TooManyVisits`]).
    budget: Cell<u64>,
}

#[derive(Debug, Clone, Copy)]
struct Meta {
    page_size: usize,
    root: u64,
    high_water: u64,
    txid: u64,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The meta struct of the page at `offset`, if it is a valid one.
fn meta_at(data: &[u8], offset: usize) -> Option<Meta> {
    let m = offset.checked_add(PAGE_HEADER)?;
    let raw = data.get(m..m + 64)?;
    if u32_at(raw, 0)? != MAGIC || u32_at(raw, 4)? != VERSION {
        return None;
    }
    if fnv1a64(&raw[..56]) != u64_at(raw, 56)? {
        return None;
    }
    let page_size = u32_at(raw, 8)? as usize;
    // bbolt only ever writes power-of-two page sizes; the bounds keep arithmetic small.
    if !(512..=1 << 20).contains(&page_size) || !page_size.is_power_of_two() {
        return None;
    }
    Some(Meta {
        page_size,
        root: u64_at(raw, 16)?,
        high_water: u64_at(raw, 40)?,
        txid: u64_at(raw, 48)?,
    })
}

impl<'a> Db<'a> {
    /// Opens the database in `data`: picks the newest valid meta page.
    pub fn open(data: &'a [u8]) -> Result<Self, BoltError> {
        let first = meta_at(data, 0);
        // The second meta page sits one page in; if the first is damaged its page size is
        // unknown, so every size bbolt can write is tried.
        let second = match first {
            Some(m) => meta_at(data, m.page_size),
            None => (9..=16)
                .find_map(|shift| meta_at(data, 1 << shift).filter(|m| m.page_size == 1 << shift)),
        };
        let meta = match (first, second) {
            (Some(a), Some(b)) => {
                if b.txid > a.txid {
                    b
                } else {
                    a
                }
            }
            (Some(m), None) | (None, Some(m)) => m,
            (None, None) => return Err(BoltError::NotBolt),
        };
        let pages = (data.len() / meta.page_size) as u64;
        if meta.root < 2 || meta.root >= pages.min(meta.high_water.max(3)) {
            return Err(BoltError::PageOutOfRange(meta.root));
        }
        // A sound tree visits each page once per walk; nested walks and lookups revisit a few.
        let budget = pages.saturating_mul(8).saturating_add(4096);
        Ok(Db {
            data,
            page_size: meta.page_size,
            root: meta.root,
            txid: meta.txid,
            budget: Cell::new(budget),
        })
    }

    /// The page size the file declares.
    pub fn page_size(&self) -> usize {
        self.page_size
    }

    /// The transaction ID of the meta page in use.
    pub fn txid(&self) -> u64 {
        self.txid
    }

    /// The root bucket, whose keys are the top-level buckets.
    pub fn root(&self) -> Bucket<'_, 'a> {
        Bucket {
            db: self,
            root: Root::Page(self.root),
        }
    }

    /// Convenience: the bucket at a path of names from the root.
    pub fn bucket_at(&self, path: &[&[u8]]) -> Result<Option<Bucket<'_, 'a>>, BoltError> {
        let mut b = self.root();
        for name in path {
            match b.bucket(name)? {
                Some(next) => b = next,
                None => return Ok(None),
            }
        }
        Ok(Some(b))
    }

    fn spend(&self) -> Result<(), BoltError> {
        let left = self.budget.get();
        if left == 0 {
            return Err(BoltError::TooManyVisits);
        }
        self.budget.set(left - 1);
        Ok(())
    }

    /// The bytes of page `pgid`, overflow pages included.
    fn page(&self, pgid: u64) -> Result<Page<'a>, BoltError> {
        self.spend()?;
        let ps = self.page_size as u64;
        let start = pgid
            .checked_mul(ps)
            .ok_or(BoltError::PageOutOfRange(pgid))?;
        let head = usize::try_from(start)
            .ok()
            .and_then(|s| self.data.get(s..s.checked_add(PAGE_HEADER)?))
            .ok_or(BoltError::PageOutOfRange(pgid))?;
        let overflow = u64::from(u32_at(head, 12).unwrap_or(0));
        let len = (overflow + 1)
            .checked_mul(ps)
            .ok_or(BoltError::PageOutOfRange(pgid))?;
        let bytes = usize::try_from(start)
            .ok()
            .zip(usize::try_from(len).ok())
            .and_then(|(s, l)| self.data.get(s..s.checked_add(l)?))
            .ok_or(BoltError::PageOutOfRange(pgid))?;
        if u64_at(bytes, 0) != Some(pgid) {
            return Err(BoltError::Damaged {
                pgid,
                what: "its header names another page",
            });
        }
        Page::parse(bytes).map_err(|what| BoltError::Damaged { pgid, what })
    }
}

/// One page's bytes with its flags and element count checked against its length.
#[derive(Debug, Clone, Copy)]
struct Page<'a> {
    bytes: &'a [u8],
    flags: u16,
    count: usize,
}

impl<'a> Page<'a> {
    fn parse(bytes: &'a [u8]) -> Result<Self, &'static str> {
        let flags = u16_at(bytes, 8).ok_or("shorter than a page header")?;
        let count = usize::from(u16_at(bytes, 10).ok_or("shorter than a page header")?);
        if flags & (BRANCH | LEAF) == 0 || flags & BRANCH != 0 && flags & LEAF != 0 {
            return Err("neither a branch nor a leaf page where one was expected");
        }
        if PAGE_HEADER + count * ELEMENT > bytes.len() {
            return Err("its elements run past its end");
        }
        Ok(Page {
            bytes,
            flags,
            count,
        })
    }

    fn is_leaf(&self) -> bool {
        self.flags & LEAF != 0
    }

    fn slice(&self, elem: usize, pos: u32, len: u32) -> Result<&'a [u8], &'static str> {
        let start = elem
            .checked_add(pos as usize)
            .ok_or("an element points past the page")?;
        let end = start
            .checked_add(len as usize)
            .ok_or("an element points past the page")?;
        self.bytes
            .get(start..end)
            .ok_or("an element points past the page")
    }

    /// Key and child page of branch element `i`.
    fn branch(&self, i: usize) -> Result<(&'a [u8], u64), &'static str> {
        let e = PAGE_HEADER + i * ELEMENT;
        let (pos, ksize, pgid) = (
            u32_at(self.bytes, e),
            u32_at(self.bytes, e + 4),
            u64_at(self.bytes, e + 8),
        );
        let (Some(pos), Some(ksize), Some(pgid)) = (pos, ksize, pgid) else {
            return Err("truncated element");
        };
        Ok((self.slice(e, pos, ksize)?, pgid))
    }

    /// Flags, key and value of leaf element `i`.
    fn leaf(&self, i: usize) -> Result<(u32, &'a [u8], &'a [u8]), &'static str> {
        let e = PAGE_HEADER + i * ELEMENT;
        let field = |o| u32_at(self.bytes, e + o).ok_or("truncated element");
        let (flags, pos, ksize, vsize) = (field(0)?, field(4)?, field(8)?, field(12)?);
        let key = self.slice(e, pos, ksize)?;
        let value = self.slice(
            e,
            pos.checked_add(ksize)
                .ok_or("an element points past the page")?,
            vsize,
        )?;
        Ok((flags, key, value))
    }
}

#[derive(Debug, Clone, Copy)]
enum Root<'a> {
    Page(u64),
    /// An inline bucket's page, held in its parent's value.
    Inline(Page<'a>),
}

/// A bucket: a sorted map of keys to values or nested buckets.
#[derive(Debug, Clone, Copy)]
pub struct Bucket<'d, 'a> {
    db: &'d Db<'a>,
    root: Root<'a>,
}

/// What a key holds.
#[derive(Debug, Clone, Copy)]
pub enum Item<'d, 'a> {
    Value(&'a [u8]),
    Bucket(Bucket<'d, 'a>),
}

impl<'d, 'a> Bucket<'d, 'a> {
    fn open_child(&self, value: &'a [u8]) -> Result<Bucket<'d, 'a>, BoltError> {
        let root = u64_at(value, 0).ok_or(BoltError::DamagedInline(
            "a bucket header shorter than 16 bytes",
        ))?;
        if root != 0 {
            return Ok(Bucket {
                db: self.db,
                root: Root::Page(root),
            });
        }
        // Found by the bbolt fuzzer: an inline bucket's value shorter than its header.
        let inline = value.get(BUCKET_HEADER..).ok_or(BoltError::DamagedInline(
            "an inline bucket shorter than its header",
        ))?;
        let page = Page::parse(inline).map_err(BoltError::DamagedInline)?;
        if !page.is_leaf() {
            return Err(BoltError::DamagedInline(
                "an inline bucket holds a branch page",
            ));
        }
        Ok(Bucket {
            db: self.db,
            root: Root::Inline(page),
        })
    }

    fn item(&self, flags: u32, value: &'a [u8]) -> Result<Item<'d, 'a>, BoltError> {
        if flags & BUCKET_FLAG != 0 {
            Ok(Item::Bucket(self.open_child(value)?))
        } else {
            Ok(Item::Value(value))
        }
    }

    fn root_page(&self) -> Result<(Page<'a>, Option<u64>), BoltError> {
        match self.root {
            Root::Page(pgid) => Ok((self.db.page(pgid)?, Some(pgid))),
            Root::Inline(page) => Ok((page, None)),
        }
    }

    /// What `key` holds, found by descending the tree as bbolt's cursor does: in a branch page,
    /// into the last element whose key is at most `key`.
    pub fn get(&self, key: &[u8]) -> Result<Option<Item<'d, 'a>>, BoltError> {
        let (mut page, mut pgid) = self.root_page()?;
        let damaged = |pgid: Option<u64>, what| match pgid {
            Some(pgid) => BoltError::Damaged { pgid, what },
            None => BoltError::DamagedInline(what),
        };
        for _ in 0..MAX_DEPTH {
            if page.is_leaf() {
                let (mut lo, mut hi) = (0, page.count);
                while lo < hi {
                    let mid = (lo + hi) / 2;
                    let (flags, k, v) = page.leaf(mid).map_err(|w| damaged(pgid, w))?;
                    match k.cmp(key) {
                        std::cmp::Ordering::Less => lo = mid + 1,
                        std::cmp::Ordering::Greater => hi = mid,
                        std::cmp::Ordering::Equal => return self.item(flags, v).map(Some),
                    }
                }
                return Ok(None);
            }
            if page.count == 0 {
                return Err(damaged(pgid, "an empty branch page"));
            }
            // The first element whose key is ≥ key, stepped back one unless it is an exact match.
            let (mut lo, mut hi) = (0, page.count);
            while lo < hi {
                let mid = (lo + hi) / 2;
                let (k, _) = page.branch(mid).map_err(|w| damaged(pgid, w))?;
                if k < key {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            let exact = lo < page.count && page.branch(lo).map_err(|w| damaged(pgid, w))?.0 == key;
            let index = if exact || lo == 0 { lo } else { lo - 1 };
            let child = page.branch(index).map_err(|w| damaged(pgid, w))?.1;
            page = self.db.page(child)?;
            pgid = Some(child);
        }
        Err(BoltError::TooDeep(MAX_DEPTH))
    }

    /// Whether the bucket's tree has branch pages (it spans more than one page).
    pub fn spans_pages(&self) -> Result<bool, BoltError> {
        Ok(!self.root_page()?.0.is_leaf())
    }

    /// The nested bucket at `key`, if `key` holds one.
    pub fn bucket(&self, key: &[u8]) -> Result<Option<Bucket<'d, 'a>>, BoltError> {
        Ok(match self.get(key)? {
            Some(Item::Bucket(b)) => Some(b),
            _ => None,
        })
    }

    /// The plain value at `key`, if `key` holds one.
    pub fn value(&self, key: &[u8]) -> Result<Option<&'a [u8]>, BoltError> {
        Ok(match self.get(key)? {
            Some(Item::Value(v)) => Some(v),
            _ => None,
        })
    }

    /// Every key in order with what it holds.
    pub fn entries(&self) -> Result<Vec<(&'a [u8], Item<'d, 'a>)>, BoltError> {
        let mut out = Vec::new();
        let (root, pgid) = self.root_page()?;
        // Depth-first, left to right, with an explicit stack: (page, its id, next element).
        let mut stack = vec![(root, pgid, 0usize)];
        while let Some((page, pgid, next)) = stack.pop() {
            if page.is_leaf() {
                for i in 0..page.count {
                    let (flags, k, v) = page.leaf(i).map_err(|w| match pgid {
                        Some(pgid) => BoltError::Damaged { pgid, what: w },
                        None => BoltError::DamagedInline(w),
                    })?;
                    out.push((k, self.item(flags, v)?));
                }
                continue;
            }
            if next >= page.count {
                continue;
            }
            let pgid_here = pgid.unwrap_or(0);
            let (_, child) = page.branch(next).map_err(|what| BoltError::Damaged {
                pgid: pgid_here,
                what,
            })?;
            stack.push((page, pgid, next + 1));
            if stack.len() >= MAX_DEPTH {
                return Err(BoltError::TooDeep(MAX_DEPTH));
            }
            stack.push((self.db.page(child)?, Some(child), 0));
        }
        Ok(out)
    }

    /// Every key that holds a nested bucket, with the bucket.
    pub fn buckets(&self) -> Result<Vec<(&'a [u8], Bucket<'d, 'a>)>, BoltError> {
        Ok(self
            .entries()?
            .into_iter()
            .filter_map(|(k, item)| match item {
                Item::Bucket(b) => Some((k, b)),
                Item::Value(_) => None,
            })
            .collect())
    }
}
