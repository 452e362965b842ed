//! The reader on hand-made files in bbolt's layout: what the real databases in the fixtures
//! do not have (overflow pages, branches over small pages) and damage to them.

use super::*;

/// A page: header then elements then their keys and values, padded to `pages` pages.
fn page(id: u64, flags: u16, elements: &[(u32, &[u8], &[u8])], page_size: usize) -> Vec<u8> {
    let mut head = Vec::new();
    let mut data = Vec::new();
    let n = elements.len();
    for (i, (eflags, k, v)) in elements.iter().enumerate() {
        let elem_at = PAGE_HEADER + i * ELEMENT;
        let pos = (PAGE_HEADER + n * ELEMENT + data.len() - elem_at) as u32;
        head.extend_from_slice(&eflags.to_le_bytes());
        head.extend_from_slice(&pos.to_le_bytes());
        head.extend_from_slice(&(k.len() as u32).to_le_bytes());
        head.extend_from_slice(&(v.len() as u32).to_le_bytes());
        data.extend_from_slice(k);
        data.extend_from_slice(v);
    }
    let body = PAGE_HEADER + head.len() + data.len();
    let pages = body.div_ceil(page_size);
    let mut out = Vec::new();
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&flags.to_le_bytes());
    out.extend_from_slice(&(n as u16).to_le_bytes());
    out.extend_from_slice(&((pages - 1) as u32).to_le_bytes());
    out.extend(head);
    out.extend(data);
    out.resize(pages * page_size, 0);
    out
}

fn meta(id: u64, page_size: usize, root: u64, high_water: u64, txid: u64) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&MAGIC.to_le_bytes());
    m.extend_from_slice(&VERSION.to_le_bytes());
    m.extend_from_slice(&(page_size as u32).to_le_bytes());
    m.extend_from_slice(&0u32.to_le_bytes());
    m.extend_from_slice(&root.to_le_bytes());
    m.extend_from_slice(&0u64.to_le_bytes());
    m.extend_from_slice(&0u64.to_le_bytes()); // freelist
    m.extend_from_slice(&high_water.to_le_bytes());
    m.extend_from_slice(&txid.to_le_bytes());
    let sum = fnv1a64(&m);
    m.extend_from_slice(&sum.to_le_bytes());
    let mut out = Vec::new();
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&0x04u16.to_le_bytes());
    out.extend_from_slice(&[0; 6]);
    out.extend(m);
    out.resize(page_size, 0);
    out
}

/// A hand-made file (bbolt's layout, 1 KiB pages) with what the real fixtures lack: a value
/// that overflows onto a second page, and a bucket under a branch page.
#[test]
fn overflow_pages_and_branches_read_back() {
    let ps = 1024;
    let big = vec![b'x'; 3000];
    let bucket_header = |root: u64| [root.to_le_bytes(), 0u64.to_le_bytes()].concat();
    let mut file = meta(0, ps, 2, 8, 1);
    file.extend(meta(1, ps, 2, 8, 2));
    // 2: root leaf naming bucket "b" at page 3.
    file.extend(page(2, LEAF, &[(BUCKET_FLAG, b"b", &bucket_header(3))], ps));
    // 3: a branch over leaves 4 ("a".."m") and 5 ("n".. with the big value, 3 pages).
    let b: [(&[u8], u64); 2] = [(b"a", 4), (b"n", 5)];
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&3u64.to_le_bytes());
    bytes.extend_from_slice(&BRANCH.to_le_bytes());
    bytes.extend_from_slice(&2u16.to_le_bytes());
    bytes.extend_from_slice(&0u32.to_le_bytes());
    let keys_at = PAGE_HEADER + 2 * ELEMENT;
    let mut keys = Vec::new();
    for (i, (k, child)) in b.iter().enumerate() {
        let pos = (keys_at + keys.len() - (PAGE_HEADER + i * ELEMENT)) as u32;
        bytes.extend_from_slice(&pos.to_le_bytes());
        bytes.extend_from_slice(&(k.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&child.to_le_bytes());
        keys.extend_from_slice(k);
    }
    bytes.extend(keys);
    bytes.resize(ps, 0);
    file.extend(bytes);
    file.extend(page(4, LEAF, &[(0, b"a", b"1"), (0, b"m", b"2")], ps));
    file.extend(page(5, LEAF, &[(0, b"n", &big), (0, b"z", b"3")], ps));
    let db = Db::open(&file).unwrap();
    assert_eq!((db.page_size(), db.txid()), (ps, 2));
    let b = db.bucket_at(&[b"b"]).unwrap().unwrap();
    assert!(b.spans_pages().unwrap());
    let keys: Vec<&[u8]> = b.entries().unwrap().into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, [&b"a"[..], b"m", b"n", b"z"]);
    assert_eq!(b.value(b"n").unwrap(), Some(&big[..]));
    assert_eq!(b.value(b"z").unwrap(), Some(&b"3"[..]));
    assert_eq!(b.value(b"m").unwrap(), Some(&b"2"[..]));
    assert_eq!(b.value(b"b").unwrap(), None);
    // The big value's page cut short: an error naming the page, not a panic.
    let cut = &file[..file.len() - ps];
    let db = Db::open(cut).unwrap();
    let b = db.bucket_at(&[b"b"]).unwrap().unwrap();
    assert_eq!(b.value(b"n").unwrap_err(), BoltError::PageOutOfRange(5));
    // A branch that points back at itself is a loop the budget or depth ends.
    let mut looped = file.clone();
    let child_of_second = 3 * ps + PAGE_HEADER + ELEMENT + 8;
    looped[child_of_second..child_of_second + 8].copy_from_slice(&3u64.to_le_bytes());
    let db = Db::open(&looped).unwrap();
    let b = db.bucket_at(&[b"b"]).unwrap().unwrap();
    assert!(b.entries().is_err());
    assert!(b.value(b"z").is_err());
}

/// Found by the bbolt fuzzer: a bucket whose value holds a zero root (inline) but is shorter
/// than the 16-byte bucket header.
#[test]
fn a_bucket_value_shorter_than_its_header_is_an_error() {
    let ps = 1024;
    let mut file = meta(0, ps, 2, 3, 1);
    file.extend(meta(1, ps, 2, 3, 2));
    file.extend(page(2, LEAF, &[(BUCKET_FLAG, b"b", &[0u8; 8])], ps));
    let db = Db::open(&file).unwrap();
    assert!(matches!(
        db.root().entries(),
        Err(BoltError::DamagedInline(_))
    ));
    assert!(db.bucket_at(&[b"b"]).is_err());
}

#[test]
fn empty_and_random_bytes_are_not_bolt() {
    assert_eq!(Db::open(&[]).unwrap_err(), BoltError::NotBolt);
    assert_eq!(Db::open(&[0xAB; 8192]).unwrap_err(), BoltError::NotBolt);
}
