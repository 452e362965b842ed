//! Reader-level classes: the tar, gzip and zstd streams themselves, and what the fuzzers found.

use super::*;

/// One ustar header; `name` and `link` as raw bytes, so tests can write what `tar` refuses.
fn header(name: &[u8], kind: u8, size: u64, link: &[u8]) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len().min(100)].copy_from_slice(&name[..name.len().min(100)]);
    h[100..108].copy_from_slice(b"0000644\0");
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    h[136..148].copy_from_slice(b"00000000000\0");
    h[156] = kind;
    h[157..157 + link.len().min(100)].copy_from_slice(&link[..link.len().min(100)]);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

fn tar_entry(out: &mut Vec<u8>, name: &[u8], kind: u8, data: &[u8], link: &[u8]) {
    out.extend_from_slice(&header(name, kind, data.len() as u64, link));
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

fn manifest_bytes() -> Vec<u8> {
    serde_json::to_vec(&base_snapshot("vfs").manifest).unwrap()
}

fn gzip(tar: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(tar).unwrap();
    gz.finish().unwrap()
}

fn zstd(tar: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(tar, ruzstd::encoding::CompressionLevel::Fastest)
}

/// A snapshot tar: the manifest, then `rest`.
fn snapshot_tar(rest: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut t = Vec::new();
    tar_entry(&mut t, b"storesnap.json", b'0', &manifest_bytes(), b"");
    rest(&mut t);
    t.extend_from_slice(&[0; 1024]);
    t
}

/// Both readers give the same answer, and so does the sliced one told to keep only some
/// files' contents (the viewer reads a snapshot so, twice); returns the answer.
fn read_both(bytes: &[u8]) -> Result<Snapshot, String> {
    let streamed = Snapshot::from_bytes(bytes, Limits::default());
    let sliced = |contents| crate::sliced(bytes, contents);
    let all = sliced(Contents::All);
    let some = [Contents::Metadata, Contents::TarSplits].map(|c| (c, sliced(c)));
    match (streamed, all) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b);
            for (contents, read) in some {
                assert_eq!(read.unwrap(), crate::unread(&a, contents), "{contents:?}");
            }
            Ok(a)
        }
        (Err(a), Err(b)) => {
            assert_eq!(a.to_string(), b.to_string());
            for (contents, read) in some {
                let e = read.expect_err("a reader keeping less read it");
                assert_eq!(e.to_string(), a.to_string(), "{contents:?}");
            }
            Err(a.to_string())
        }
        (a, b) => panic!("readers disagree: {a:?} vs {b:?}"),
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn hostile_archives_are_clear_errors() {
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "a name with ..",
            gzip(&snapshot_tar(|t| {
                tar_entry(t, b"image/../../etc/passwd", b'0', b"x", b"")
            })),
            "unsafe path",
        ),
        (
            "an absolute name",
            gzip(&snapshot_tar(|t| {
                tar_entry(t, b"/etc/passwd", b'0', b"x", b"")
            })),
            "unsafe path",
        ),
        (
            "a name that is not UTF-8",
            gzip(&snapshot_tar(|t| {
                tar_entry(t, b"image/\xff\xfe", b'0', b"x", b"")
            })),
            "non-UTF-8",
        ),
        (
            "the same path twice",
            gzip(&snapshot_tar(|t| {
                tar_entry(t, b"image/a", b'0', b"x", b"");
                tar_entry(t, b"image/a", b'0', b"y", b"");
            })),
            "appears twice",
        ),
        (
            "a hard link",
            gzip(&snapshot_tar(|t| {
                tar_entry(t, b"image/a", b'1', b"", b"storesnap.json")
            })),
            "unexpected tar entry type",
        ),
        (
            "a device",
            gzip(&snapshot_tar(|t| tar_entry(t, b"image/a", b'3', b"", b""))),
            "unexpected tar entry type",
        ),
        (
            "no manifest",
            gzip(&{
                let mut t = Vec::new();
                tar_entry(&mut t, b"image/a", b'0', b"x", b"");
                t
            }),
            "not a storesnap snapshot",
        ),
        (
            "a NUL-filled manifest",
            gzip(&{
                let mut t = Vec::new();
                tar_entry(&mut t, b"storesnap.json", b'0', &[0; 300], b"");
                t
            }),
            "invalid json",
        ),
        (
            "a manifest that lies about its fields",
            gzip(&{
                let mut t = Vec::new();
                tar_entry(
                    &mut t,
                    b"storesnap.json",
                    b'0',
                    br#"{"kind":"storesnap","format_version":1,"counts":"many"}"#,
                    b"",
                );
                t
            }),
            "invalid json",
        ),
        (
            "a deeply nested manifest",
            gzip(&{
                let mut t = Vec::new();
                let deep = format!("{}{}", "[".repeat(50_000), "]".repeat(50_000));
                tar_entry(&mut t, b"storesnap.json", b'0', deep.as_bytes(), b"");
                t
            }),
            "invalid json",
        ),
        (
            "a header that promises more than follows",
            gzip(&{
                let mut t = Vec::new();
                tar_entry(&mut t, b"storesnap.json", b'0', &manifest_bytes(), b"");
                t.extend_from_slice(&header(b"image/big", b'0', 1 << 20, b""));
                t.extend_from_slice(&[b'x'; 1000]);
                t
            }),
            "the file is truncated",
        ),
        (
            "an entry over the per-entry limit",
            gzip(&{
                let mut t = Vec::new();
                tar_entry(&mut t, b"storesnap.json", b'0', &manifest_bytes(), b"");
                t.extend_from_slice(&header(b"image/big", b'0', 0o77777777777, b""));
                t
            }),
            "exceeds a limit",
        ),
        (
            "not gzip at all",
            b"hello, this is a text file".to_vec(),
            "not a storesnap snapshot",
        ),
        (
            "a zstd snapshot cut short",
            {
                let z = zstd(&snapshot_tar(|t| {
                    tar_entry(t, b"image/x", b'0', &[7; 5000], b"")
                }));
                z[..z.len() / 2].to_vec()
            },
            "truncated or its zstd stream is damaged",
        ),
        (
            "a zstd snapshot whose checksum is wrong",
            {
                let mut z = zstd(&snapshot_tar(|_| {}));
                let n = z.len();
                z[n - 1] ^= 0x40;
                z
            },
            "truncated or its zstd stream is damaged",
        ),
        (
            "a zstd block of the reserved type",
            // Magic, a frame header with a 1 KiB window, then a last block of type 3.
            vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x00, 0x07, 0x00, 0x00],
            "truncated or its zstd stream is damaged",
        ),
        (
            "junk after the zstd frames",
            {
                let mut z = zstd(&snapshot_tar(|_| {}));
                z.extend_from_slice(b"more bytes that are no frame");
                z
            },
            "truncated or its zstd stream is damaged",
        ),
    ];
    for (name, bytes, want) in cases {
        match read_both(&bytes) {
            Ok(_) => panic!("{name}: read without error"),
            Err(e) => assert!(e.contains(want), "{name}: {e:?} does not say {want:?}"),
        }
    }
    // Trailing garbage after the gzip member and a healthy tar: read or refused, the same way
    // by both readers.
    let mut trailing = gzip(&snapshot_tar(|_| {}));
    trailing.extend_from_slice(b"garbage after the end");
    let _ = read_both(&trailing);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn three_hundred_thousand_entries() {
    let n = 300_000 / SCALE;
    let tar = snapshot_tar(|t| {
        dir_entry(t, b"containers");
        for i in 0..n {
            tar_entry(t, format!("junk/{i:07}").as_bytes(), b'0', b"", b"");
        }
    });
    let s = read_both(&gzip(&tar)).unwrap();
    assert_eq!(s.entries.len(), n + 1);
    let _ = survives(&s);
}

fn dir_entry(t: &mut Vec<u8>, name: &[u8]) {
    tar_entry(t, name, b'5', b"", b"");
}

/// Inputs the fuzzers (`scripts/fuzz`) found, kept as regression tests.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn fuzz_regressions() {
    // A fixture with a corrupt deflate stream: the streaming reader met a broken tar header
    // before the gzip CRC, the sliced reader the CRC first, and the two errors differed.
    let crc = read_both(include_bytes!(
        "../data/fuzz/snapshot-gzip-crc-after-tar-error.bin"
    ));
    assert!(crc.unwrap_err().contains("gzip stream is damaged"));
    // A corrupt deflate block: the sliced reader worded it as a tar problem.
    let deflate = read_both(include_bytes!(
        "../data/fuzz/snapshot-deflate-error-mid-tar.bin"
    ));
    assert!(deflate.unwrap_err().contains("gzip stream is damaged"));
    // A whole tar, then a wrong CRC: worded as a tar problem by the streaming reader.
    let trailer = read_both(include_bytes!(
        "../data/fuzz/snapshot-crc-after-whole-tar.bin"
    ));
    assert!(trailer.unwrap_err().contains("gzip stream is damaged"));
    // A wrong CRC met while the tar parser was still reading.
    let during = read_both(include_bytes!("../data/fuzz/snapshot-crc-during-tar.bin"));
    assert!(during.unwrap_err().contains("gzip stream is damaged"));
    // 27 bytes: a gzip member whose trailer is cut. flate2's two decoders told it apart
    // differently (end of file, or a checksum).
    let cut = read_both(include_bytes!("../data/fuzz/snapshot-cut-trailer.bin"));
    assert!(cut.unwrap_err().contains("truncated"));
}
