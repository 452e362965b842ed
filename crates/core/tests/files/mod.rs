//! File lists from tar-splits a real engine wrote, and layers stacked as overlayfs stacks them.

use std::collections::BTreeSet;

use storesnap_core::files::{stack, ChangeKind, FileEntry, FileKind, FileLimits, FilesError};
use storesnap_core::{Entry, Limits, Snapshot};

fn tar_splits(snapshot: &[u8]) -> Vec<(String, Vec<u8>, u64)> {
    let s = Snapshot::from_bytes(snapshot, Limits::default()).unwrap();
    let prefix = "image/overlay2/layerdb/sha256/";
    s.entries
        .iter()
        .filter_map(|(path, e)| {
            let chain = path
                .strip_prefix(prefix)?
                .strip_suffix("/tar-split.json.gz")?;
            let Entry::File(gz) = e else { return None };
            let size = match s.entries.get(&format!("{prefix}{chain}/size")) {
                Some(Entry::File(b)) => std::str::from_utf8(b).unwrap().trim().parse().unwrap(),
                _ => panic!("no size for {chain}"),
            };
            Some((chain.to_owned(), gz.clone(), size))
        })
        .collect()
}

/// overlay2 records a layer's size as its applied directory measures: file bytes plus each
/// symlink's target length. The entries read from the tar-split add up to exactly that, on
/// every layer a real engine wrote.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn tar_split_entries_add_up_to_each_layers_size() {
    let layers = tar_splits(include_bytes!("../data/full/snapshot.tar.gz"));
    assert!(layers.len() >= 10);
    let mut timed = 0;
    for (chain, gz, size) in layers {
        let entries = storesnap_core::tarsplit::entries(
            storesnap_core::tarsplit::Stored::Gzip(&gz),
            &FileLimits::default(),
        )
        .unwrap();
        assert!(!entries.is_empty(), "{chain}");
        let files: u64 = entries
            .iter()
            .filter(|e| e.kind == FileKind::File)
            .map(|e| e.size)
            .sum();
        let links: u64 = entries
            .iter()
            .filter(|e| e.kind == FileKind::Symlink)
            .map(|e| e.link.as_ref().unwrap().len() as u64)
            .sum();
        assert_eq!(files + links, size, "{chain}");
        let summary = storesnap_core::tarsplit::summarize(
            storesnap_core::tarsplit::Stored::Gzip(&gz),
            1 << 30,
        )
        .unwrap();
        assert_eq!(summary.file_bytes, files, "{chain}");
        // Kept inflated, as a snapshot since format 2 keeps it: the same entries and sums.
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut text).unwrap();
        let stored = storesnap_core::tarsplit::Stored::Inflated(&text);
        assert_eq!(
            storesnap_core::tarsplit::entries(stored, &FileLimits::default()).unwrap(),
            entries,
            "{chain}"
        );
        assert_eq!(
            storesnap_core::tarsplit::summarize(stored, 1 << 30).unwrap(),
            summary,
            "{chain}"
        );
        // Every non-empty file has its checksum; names are clean and unique.
        for e in &entries {
            assert_eq!(
                e.crc64.is_some(),
                e.kind == FileKind::File && e.size > 0,
                "{e:?}"
            );
            assert!(
                !e.path.starts_with('/') && !e.path.ends_with('/') && !e.path.starts_with("./")
            );
        }
        let unique: BTreeSet<&str> = entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(unique.len(), entries.len(), "{chain}");
        timed += entries.iter().filter(|e| e.mtime > 1_000_000_000).count();
    }
    // Built layers carry their files' times (the imported base has none).
    assert!(timed > 0);
}

fn line(kind: u8, name: &str, size: u64, payload: Option<&[u8]>) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    serde_json::json!({
        "type": kind,
        "name": name,
        "size": size,
        "payload": payload.map(|p| b64.encode(p)),
    })
    .to_string()
}

fn gzip(text: &str) -> Vec<u8> {
    use std::io::Write as _;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap()
}

/// A ustar header for `name`, as tar-split keeps it in a segment.
fn header(name: &str, flag: u8, size: u64, link: &str) -> Vec<u8> {
    let mut h = tar::Header::new_ustar();
    h.set_path(name).unwrap();
    h.set_entry_type(tar::EntryType::new(flag));
    h.set_size(size);
    h.set_mode(0o755);
    h.set_mtime(1_700_000_000);
    if !link.is_empty() {
        h.set_link_name(link).unwrap();
    }
    h.set_cksum();
    h.as_bytes().to_vec()
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_hand_written_tar_split_reads_as_its_headers_say() {
    // Hand-written (a real one cannot hold a symlink after a padded file on demand): a file of
    // 3 bytes, its padding in the next segment with a symlink's header.
    let mut second = vec![0u8; 509];
    second.extend(header("etc/link", b'2', 0, "target"));
    let text = [
        line(2, "", 0, Some(&header("./", b'5', 0, ""))),
        line(1, "./", 0, None),
        line(2, "", 0, Some(&header("etc/file", b'0', 3, ""))),
        line(1, "etc/file", 3, Some(&7u64.to_be_bytes())),
        line(2, "", 0, Some(&second)),
        line(1, "etc/link", 0, None),
        line(2, "", 0, Some(&[0u8; 1024])),
    ]
    .join("\n");
    let entries = storesnap_core::tarsplit::entries(
        storesnap_core::tarsplit::Stored::Gzip(&gzip(&text)),
        &FileLimits::default(),
    )
    .unwrap();
    assert_eq!(entries.len(), 2, "the root is not an entry");
    assert_eq!(
        (
            entries[0].path.as_str(),
            entries[0].kind,
            entries[0].size,
            entries[0].crc64
        ),
        ("etc/file", FileKind::File, 3, Some(7))
    );
    assert_eq!(entries[0].mode, 0o755);
    assert_eq!(entries[0].mtime, 1_700_000_000);
    assert_eq!(entries[1].kind, FileKind::Symlink);
    assert_eq!(entries[1].link.as_deref(), Some("target"));
}

/// Bad input of every kind is an error that says what is wrong, never a panic.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn hostile_tar_splits_are_errors() {
    let ok = header("f", b'0', 0, "");
    let check = |text: &str, limits: FileLimits, want: &str| {
        let err = storesnap_core::tarsplit::entries(
            storesnap_core::tarsplit::Stored::Gzip(&gzip(text)),
            &limits,
        )
        .unwrap_err();
        assert!(err.to_string().contains(want), "{err} lacks {want:?}");
    };
    let limits = FileLimits::default();
    check("{", limits, "not tar-split JSON");
    check(&line(1, "f", 0, None), limits, "no tar header");
    check(&line(3, "f", 0, None), limits, "unknown entry type");
    check(&line(1, "f", 5, Some(b"abc")), limits, "not 8");
    check(r#"{"type":2,"payload":"!!!"}"#, limits, "not base64");
    let many = format!("{}\n{}\n", line(2, "", 0, Some(&ok)), line(1, "f", 0, None)).repeat(3);
    check(
        &many,
        FileLimits {
            max_entries: 2,
            ..limits
        },
        "more than 2 entries",
    );
    let big = line(2, "", 0, Some(&vec![0u8; 10_000]));
    check(
        &big,
        FileLimits {
            max_inflated: 1000,
            ..limits
        },
        "more than 1000 bytes",
    );
    // Not gzip at all, and gzip cut short.
    assert!(matches!(
        storesnap_core::tarsplit::entries(
            storesnap_core::tarsplit::Stored::Gzip(b"plain"),
            &limits
        ),
        Err(FilesError::Gzip(_))
    ));
    let gz = gzip(&many);
    assert!(storesnap_core::tarsplit::entries(
        storesnap_core::tarsplit::Stored::Gzip(&gz[..gz.len() / 2]),
        &limits
    )
    .is_err());
}

fn file(path: &str, size: u64, crc: u64) -> FileEntry {
    FileEntry {
        path: path.into(),
        kind: FileKind::File,
        size,
        mode: 0o644,
        uid: 0,
        gid: 0,
        mtime: 0,
        link: None,
        crc64: (size > 0).then_some(crc),
    }
}

fn dir(path: &str) -> FileEntry {
    FileEntry {
        kind: FileKind::Dir,
        mode: 0o755,
        ..file(path, 0, 0)
    }
}

/// One layer's changes as `kind path size` lines, and the merged tree's files.
fn check(layers: &[Vec<FileEntry>], changes: &[&str], merged: &[&str]) {
    let s = stack(layers);
    let got: Vec<String> = s
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let lines: Vec<String> = l
                .changes
                .iter()
                .map(|c| format!("{} {} {}", c.kind.as_str(), c.path, c.size))
                .collect();
            format!("{i}: {}", lines.join(", "))
        })
        .collect();
    assert_eq!(got, changes);
    let files: Vec<String> = s
        .merged
        .values()
        .map(|m| format!("{}@{}", m.entry.path, m.layer))
        .collect();
    assert_eq!(files, merged);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn layers_stack_as_overlayfs_stacks_them() {
    let base = vec![
        dir("etc"),
        file("etc/a", 10, 1),
        file("etc/b", 20, 2),
        dir("usr"),
        file("usr/c", 30, 3),
    ];
    // A whiteout removes a file; a file re-added unchanged is "same"; a changed one "modified".
    check(
        &[
            base.clone(),
            vec![
                dir("etc"),
                file("etc/.wh.a", 0, 0),
                file("etc/b", 20, 2),
                file("usr/c", 31, 4),
            ],
        ],
        &[
            "0: added etc 0, added etc/a 10, added etc/b 20, added usr 0, added usr/c 30",
            "1: removed etc/a 10, same etc/b 20, modified usr/c 31",
        ],
        // A directory listed again is the upper one, with the upper's attributes.
        &["etc@1", "etc/b@1", "usr@0", "usr/c@1"],
    );
    // An opaque directory hides everything below it, not what its own layer adds.
    check(
        &[
            base.clone(),
            vec![
                file("etc/new", 5, 9),
                dir("etc"),
                file("etc/.wh..wh..opq", 0, 0),
            ],
        ],
        &[
            "0: added etc 0, added etc/a 10, added etc/b 20, added usr 0, added usr/c 30",
            "1: removed etc/a 10, removed etc/b 20, added etc/new 5",
        ],
        &["etc@1", "etc/new@1", "usr@0", "usr/c@0"],
    );
    // A whiteout of a directory takes its contents; a file over a directory hides them too.
    check(
        &[base.clone(), vec![file(".wh.etc", 0, 0), file("usr", 4, 5)]],
        &[
            "0: added etc 0, added etc/a 10, added etc/b 20, added usr 0, added usr/c 30",
            "1: removed etc 30, modified usr 4, removed usr/c 30",
        ],
        &["usr@1"],
    );
    // A path listed twice in one layer is one change, the later entry winning.
    check(
        &[vec![file("x", 1, 1), file("x", 2, 2)]],
        &["0: added x 2"],
        &["x@0"],
    );
    // A whiteout of something that is not there changes nothing.
    check(&[vec![file(".wh.ghost", 0, 0)]], &["0: "], &[]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_file_without_checksums_is_never_the_same() {
    let mut a = file("f", 10, 1);
    a.crc64 = None;
    let s = stack(&[vec![a.clone()], vec![a]]);
    assert_eq!(s.layers[1].changes[0].kind, ChangeKind::Modified);
}

/// The worked example of dive's algorithm (its efficiency.go read line by line): a file
/// modified, a file deleted, a directory that only grows.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn dive_counts_as_dive_counts() {
    use storesnap_core::files::efficiency::dive;
    let layers = vec![
        vec![
            file("a", 100, 1),
            file("b", 50, 2),
            dir("d"),
            file("d/x", 10, 3),
        ],
        vec![
            file("a", 120, 4),
            file(".wh.b", 0, 0),
            dir("d"),
            file("d/y", 5, 5),
        ],
    ];
    let r = dive(&layers);
    assert_eq!(r.efficiency, 115.0 / 285.0);
    assert_eq!(
        (r.size_bytes, r.user_size_bytes, r.wasted_bytes),
        (285, 125, 270)
    );
    assert_eq!(r.wasted_user_percent, 2.16);
    let listed: Vec<(&str, usize, u64)> = r
        .inefficiencies
        .iter()
        .map(|i| (i.path.as_str(), i.count, i.size))
        .collect();
    assert_eq!(listed, [("/a", 2, 220), ("/b", 2, 50)]);
    // Each layer's nodes, children first: the directory after its files.
    let paths: Vec<&str> = r.layers[0]
        .file_list
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(paths, ["a", "b", "d/x", "d"]);
    assert_eq!(r.layers[0].file_list[3].file_mode, 0o755 | 1 << 31);
    assert!(r.layers[0].file_list[3].is_dir);
}

/// What dive leaves out, and storesnap counts: an opaque directory's hidden files, a deleted
/// directory's contents, and the copy of a rewritten file that is not in the image.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn storesnap_counts_what_dive_leaves_out() {
    use storesnap_core::files::efficiency::{dive, own, WasteKind};
    let layers = vec![
        vec![
            dir("opq"),
            file("opq/old", 40, 1),
            dir("gone"),
            file("gone/x", 30, 2),
            file("same", 7, 3),
        ],
        vec![
            dir("opq"),
            file("opq/.wh..wh..opq", 0, 0),
            file("opq/new", 1, 4),
            file(".wh.gone", 0, 0),
            file("same", 7, 3),
        ],
    ];
    let d = dive(&layers);
    // dive: the opaque directory hides nothing; the removed directory's 30 bytes count once
    // for its path, which is not met twice; only the rewrite of `same` is an inefficiency,
    // worth both copies.
    let listed: Vec<(&str, usize, u64)> = d
        .inefficiencies
        .iter()
        .map(|i| (i.path.as_str(), i.count, i.size))
        .collect();
    assert_eq!(listed, [("/same", 2, 14)]);
    let o = own(&layers);
    assert_eq!(
        (o.removed_bytes, o.updated_bytes, o.duplicate_bytes),
        (70, 0, 7)
    );
    assert_eq!(o.wasted_bytes, 77);
    assert_eq!(o.size_bytes, 85);
    assert_eq!(o.efficiency, 8.0 / 85.0);
    let kinds: Vec<(&str, WasteKind, u64)> = o
        .wastes
        .iter()
        .map(|w| (w.path.as_str(), w.kind, w.wasted))
        .collect();
    assert_eq!(
        kinds,
        [
            ("/opq/old", WasteKind::Removed, 40),
            ("/gone/x", WasteKind::Removed, 30),
            ("/same", WasteKind::Duplicate, 7)
        ]
    );
    assert_eq!(o.wastes[2].versions, 2);
}

/// dive's own outputs, from its v0.13.1 efficiency, analysis and export code compiled with Go
/// 1.24.4 and run on layer tars of these entries (recorded when this was written; dive cannot
/// be built offline here). Each row: the layers, then score, wasted bytes, size and user size,
/// and the inefficiencies in dive's order.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn dive_matches_dives_own_outputs() {
    use storesnap_core::files::efficiency::dive;
    let check = |layers: Vec<Vec<FileEntry>>,
                 score: f64,
                 wasted: u64,
                 sizes: (u64, u64),
                 list: &[(&str, usize, u64)]| {
        let r = dive(&layers);
        assert_eq!(r.efficiency, score, "{layers:?}");
        assert_eq!(r.wasted_bytes, wasted, "{layers:?}");
        assert_eq!((r.size_bytes, r.user_size_bytes), sizes, "{layers:?}");
        let got: Vec<(&str, usize, u64)> = r
            .inefficiencies
            .iter()
            .map(|i| (i.path.as_str(), i.count, i.size))
            .collect();
        assert_eq!(got, list, "{layers:?}");
        r
    };
    // A removed directory: its bytes count once for its path, which no other layer meets; the
    // empty directory `e` met twice is an inefficiency of 0 bytes.
    let r = check(
        vec![
            vec![dir("d"), file("d/x", 10, 1), file("d/y", 20, 2), dir("e")],
            vec![file(".wh.d", 0, 0), dir("e")],
        ],
        1.0,
        0,
        (30, 0),
        &[("/e", 2, 0)],
    );
    assert!(r.wasted_user_percent.is_nan());
    // A whiteout of nothing: dive stops reading the layer there, and the path's -1 stays in
    // the score.
    check(
        vec![
            vec![file("a", 100, 1), file("z", 7, 2)],
            vec![file(".wh.nothere", 0, 0), file("z", 9, 3)],
        ],
        106.0 / 107.0,
        0,
        (116, 9),
        &[],
    );
    // Opaque markers are ignored.
    check(
        vec![
            vec![dir("d"), file("d/x", 10, 1)],
            vec![dir("d"), file("d/.wh..wh..opq", 0, 0), file("d/x", 11, 2)],
        ],
        10.0 / 21.0,
        21,
        (21, 11),
        &[("/d/x", 2, 21)],
    );
    // Leaves are visited by path component: `a/b` before `a-b`.
    let twice = || vec![file("a/b", 5, 1), file("a-b", 5, 2)];
    check(
        vec![twice(), twice()],
        0.5,
        20,
        (20, 10),
        &[("/a-b", 2, 10), ("/a/b", 2, 10)],
    );
    // Thirty ties: Go's unstable sort decides their order.
    let layer = || {
        (0..30u64)
            .map(|i| {
                file(
                    &format!("f{i:02}"),
                    if i.is_multiple_of(3) { 20 } else { 10 },
                    i,
                )
            })
            .collect::<Vec<_>>()
    };
    let order = "f03 f06 f27 f09 f12 f24 f00 f18 f21 f15 f19 f16 f17 f22 f23 f01 f13 f25 f11 f10 \
                 f26 f08 f07 f28 f05 f04 f29 f02 f20 f14";
    let want: Vec<(String, usize, u64)> = order
        .split_whitespace()
        .map(|f| {
            let i: u64 = f[1..].parse().unwrap();
            (
                format!("/{f}"),
                2,
                if i.is_multiple_of(3) { 40 } else { 20 },
            )
        })
        .collect();
    let want: Vec<(&str, usize, u64)> = want.iter().map(|(p, c, s)| (p.as_str(), *c, *s)).collect();
    check(vec![layer(), layer()], 0.5, 800, (800, 400), &want);
}

/// A path nested two thousand deep, the most PATH_MAX allows, walks without recursion: no
/// stack overflow in stacking, dive's trees or the drawn tree. A longer one is refused.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn deep_paths_do_not_overflow_the_stack() {
    use storesnap_core::files::efficiency::{dive, own};
    use storesnap_core::files::tree::{image_items, Tree};
    let deep = vec!["a"; 2_000].join("/");
    let layers = vec![vec![file(&deep, 5, 1)], vec![file(&deep, 6, 2)]];
    let d = dive(&layers);
    assert_eq!(d.inefficiencies.len(), 1);
    assert_eq!(own(&layers).wasted_bytes, 5);
    let rows = Tree::new(image_items(&stack(&layers), false)).rows(&Default::default());
    assert_eq!(rows.len(), 2_000);
    assert_eq!(rows.last().unwrap().depth, 1_999);
    let deeper = vec!["a"; 20_000].join("/");
    let text = format!(
        "{}\n{}\n",
        line(2, "", 0, Some(&header("x", b'0', 0, ""))),
        line(1, &deeper, 0, None)
    );
    let err = storesnap_core::tarsplit::entries(
        storesnap_core::tarsplit::Stored::Gzip(&gzip(&text)),
        &FileLimits::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("longer than any filesystem holds"),
        "{err}"
    );
}
