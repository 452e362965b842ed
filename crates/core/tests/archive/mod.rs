//! `docker save` archives: corner cases and hostile files, made by hand here. Archives that
//! real engines wrote are read in the end-to-end tests (tests/archives), against the docker
//! CLI; these cover what no engine writes on purpose, and run under wasm too.

use std::io::Write;

use sha2::{Digest as _, Sha256};
use storesnap_core::source::archive::{self, Input, ScanLimits};
use storesnap_core::{Code, Error};

fn sha(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// One tar entry to write.
enum E<'a> {
    File(&'a str, Vec<u8>),
    Link(&'a str, &'a str),
    Raw(Vec<u8>),
}

fn tar(entries: &[E]) -> Vec<u8> {
    let mut out = tar::Builder::new(Vec::new());
    for e in entries {
        match e {
            E::File(path, bytes) => {
                let mut h = tar::Header::new_ustar();
                h.set_size(bytes.len() as u64);
                h.set_mode(0o644);
                out.append_data(&mut h, path, bytes.as_slice()).unwrap();
            }
            E::Link(path, target) => {
                let mut h = tar::Header::new_ustar();
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                out.append_link(&mut h, path, target).unwrap();
            }
            E::Raw(bytes) => out.get_mut().extend_from_slice(bytes),
        }
    }
    out.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(bytes, ruzstd::encoding::CompressionLevel::Fastest)
}

/// A layer: one 10-byte file and a symlink to it (7 bytes of target).
fn layer(marker: &str) -> Vec<u8> {
    tar(&[
        E::File("data.txt", format!("{marker:<10}").into_bytes()),
        E::Link("link", "data.txt"),
    ])
}

fn config(diff_ids: &[&str]) -> Vec<u8> {
    let ids: Vec<String> = diff_ids.iter().map(|d| format!("\"sha256:{d}\"")).collect();
    format!(
        "{{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-01-02T03:04:05Z\",\
         \"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[{}]}},\"history\":[{}]}}",
        ids.join(","),
        diff_ids
            .iter()
            .map(|_| "{\"created_by\":\"RUN x\"}")
            .collect::<Vec<_>>()
            .join(",")
    )
    .into_bytes()
}

/// A Docker 25+ graph-driver archive of one image with layers `layers` (uncompressed), as
/// (entries, config hex, layer hexes).
fn moby_oci(layers: &[Vec<u8>]) -> (Vec<(String, Vec<u8>)>, String) {
    let hexes: Vec<String> = layers.iter().map(|l| sha(l)).collect();
    let refs: Vec<&str> = hexes.iter().map(String::as_str).collect();
    let config = config(&refs);
    let config_hex = sha(&config);
    let mut files: Vec<(String, Vec<u8>)> = layers
        .iter()
        .zip(&hexes)
        .map(|(l, h)| (format!("blobs/sha256/{h}"), l.clone()))
        .collect();
    files.push((format!("blobs/sha256/{config_hex}"), config));
    let manifest = format!(
        "[{{\"Config\":\"blobs/sha256/{config_hex}\",\"RepoTags\":[\"local/x:1\"],\"Layers\":[{}]}}]",
        hexes
            .iter()
            .map(|h| format!("\"blobs/sha256/{h}\""))
            .collect::<Vec<_>>()
            .join(",")
    );
    files.push(("manifest.json".into(), manifest.into_bytes()));
    files.push((
        "oci-layout".into(),
        b"{\"imageLayoutVersion\": \"1.0.0\"}".to_vec(),
    ));
    files.push((
        "repositories".into(),
        format!("{{\"local/x\":{{\"1\":\"{}\"}}}}", hexes.last().unwrap()).into_bytes(),
    ));
    (files, config_hex)
}

fn write(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let entries: Vec<E> = files
        .iter()
        .map(|(p, b)| E::File(p.as_str(), b.clone()))
        .collect();
    tar(&entries)
}

/// Reads `bytes` as an archive; the codes of the findings, sorted.
#[track_caller]
fn check(bytes: &[u8], expected: &[Code]) -> storesnap_core::Store {
    assert_eq!(
        archive::sniff(&bytes[..bytes.len().min(65536)]),
        Input::Archive
    );
    let (store, mut findings) = archive::read(bytes, &ScanLimits::default(), &mut |_| {}).unwrap();
    findings.extend(storesnap_core::checks::check(&store));
    let mut codes: Vec<Code> = findings.iter().map(|f| f.code).collect();
    codes.sort();
    codes.dedup();
    let mut want = expected.to_vec();
    want.sort();
    assert_eq!(codes, want, "{findings:#?}");
    store
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_valid_archive_plain_gzip_or_zstd_reads_the_same() {
    let (files, _) = moby_oci(&[layer("base"), layer("top")]);
    let plain = write(&files);
    for bytes in [plain.clone(), gzip(&plain), zstd(&plain)] {
        let store = check(&bytes, &[]);
        assert_eq!(store.images.len(), 1);
        assert_eq!(store.layers.len(), 2);
        // Files plus symlink targets, as overlay2 records a layer's size.
        assert!(store.layers.values().all(|l| l.size == Some(10 + 8)));
        let image = store.images.values().next().unwrap();
        assert_eq!(image.tags[0].as_str(), "local/x:1");
        assert_eq!(store.id_check(image), "sha256(config) = ID");
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn compressed_layers_are_inflated_and_their_diff_ids_checked() {
    // The containerd layout: blobs as stored, named by their compressed digest.
    let (base, top) = (layer("base"), layer("top"));
    let config = config(&[&sha(&base), &sha(&top)]);
    let (gz, zs) = (gzip(&base), zstd(&top));
    let manifest = format!(
        "{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\
         \"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:{}\",\"size\":{}}},\
         \"layers\":[{{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:{}\",\"size\":{}}},\
         {{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\",\"digest\":\"sha256:{}\",\"size\":{}}}]}}",
        sha(&config), config.len(), sha(&gz), gz.len(), sha(&zs), zs.len()
    );
    let index = format!(
        "{{\"schemaVersion\":2,\"manifests\":[{{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\
         \"digest\":\"sha256:{}\",\"size\":{},\"annotations\":{{\"io.containerd.image.name\":\"docker.io/local/c:1\"}}}}]}}",
        sha(manifest.as_bytes()),
        manifest.len()
    );
    let files = vec![
        (format!("blobs/sha256/{}", sha(&gz)), gz.clone()),
        (format!("blobs/sha256/{}", sha(&zs)), zs.clone()),
        (format!("blobs/sha256/{}", sha(&config)), config.clone()),
        (
            format!("blobs/sha256/{}", sha(manifest.as_bytes())),
            manifest.clone().into_bytes(),
        ),
        ("index.json".into(), index.into_bytes()),
        (
            "oci-layout".into(),
            b"{\"imageLayoutVersion\":\"1.0.0\"}".to_vec(),
        ),
    ];
    // Without manifest.json: a bare OCI layout, the image known by its manifest digest.
    let store = check(&write(&files), &[]);
    let id = store.images.keys().next().unwrap();
    assert_eq!(id.hex(), sha(manifest.as_bytes()));
    assert_eq!(store.images[id].tags[0].as_str(), "local/c:1");
    assert_eq!(store.id_check(&store.images[id]), "sha256(manifest) = ID");

    // A gzip layer cut short, renamed to match: it no longer inflates.
    let mut cut = files.clone();
    let short = gz[..gz.len() / 2].to_vec();
    cut[0] = (format!("blobs/sha256/{}", sha(&gz)), short);
    check(
        &write(&cut),
        &[Code::ArchiveDigestMismatch, Code::LayerUnreadable],
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn damage_is_named() {
    let (files, config_hex) = moby_oci(&[layer("base"), layer("top")]);
    // A layer's bytes changed: its name and its diffID no longer match.
    let mut changed = files.clone();
    changed[0].1[600] ^= 1;
    check(
        &write(&changed),
        &[Code::ArchiveDigestMismatch, Code::DiffIdMismatch],
    );
    // A layer gone.
    let mut gone = files.clone();
    gone.remove(1);
    check(&write(&gone), &[Code::ArchiveMissingFile]);
    // The config changed.
    let mut config = files.clone();
    let at = config
        .iter()
        .position(|(p, _)| p.ends_with(&config_hex))
        .unwrap();
    config[at].1 = String::from_utf8(config[at].1.clone())
        .unwrap()
        .replace("RUN x", "RUN y")
        .into_bytes();
    check(
        &write(&config),
        &[Code::ArchiveDigestMismatch, Code::ConfigDigestMismatch],
    );
    // The manifest lists one layer, the config two.
    let mut short = files.clone();
    let m = short
        .iter()
        .position(|(p, _)| p == "manifest.json")
        .unwrap();
    let text = String::from_utf8(short[m].1.clone()).unwrap();
    let first = text.find("\"blobs/sha256/").unwrap();
    let layers_at = text.find("\"Layers\":[").unwrap() + "\"Layers\":[".len();
    let comma = text[layers_at..].find(',').unwrap() + layers_at;
    short[m].1 = format!("{}{}", &text[..comma], "]}]").into_bytes();
    assert!(first > 0);
    check(&write(&short), &[Code::ManifestMismatch]);
    // Not JSON.
    let mut broken = files.clone();
    broken[m].1 = b"[{\"Config\": ".to_vec();
    check(&write(&broken), &[Code::InvalidJson]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn links_resolve_in_any_order_and_never_leave_the_archive() {
    // Docker before 25: a repeated layer is a symlink, which may come before its target.
    let base = layer("base");
    let config = config(&[&sha(&base)]);
    let hex = sha(&config);
    let manifest = |layer: &str| {
        format!("[{{\"Config\":\"{hex}.json\",\"RepoTags\":null,\"Layers\":[\"{layer}\"]}}]")
            .into_bytes()
    };
    let v1 = "a".repeat(64);
    let target = "b".repeat(64);
    let ok = tar(&[
        E::Link(
            &format!("{v1}/layer.tar"),
            &format!("../{target}/layer.tar"),
        ),
        E::File(&format!("{target}/layer.tar"), base.clone()),
        E::File(&format!("{hex}.json"), config.clone()),
        E::File("manifest.json", manifest(&format!("{v1}/layer.tar"))),
    ]);
    check(&ok, &[]);
    // A loop, and a link out of the archive: the layer is missing, nothing hangs.
    let looping = tar(&[
        E::Link("x/layer.tar", "../y/layer.tar"),
        E::Link("y/layer.tar", "../x/layer.tar"),
        E::File(&format!("{hex}.json"), config.clone()),
        E::File("manifest.json", manifest("x/layer.tar")),
    ]);
    check(&looping, &[Code::ArchiveMissingFile]);
    let escaping = tar(&[
        E::Link("x/layer.tar", "../../../etc/passwd"),
        E::File(&format!("{hex}.json"), config.clone()),
        E::File("manifest.json", manifest("x/layer.tar")),
    ]);
    check(&escaping, &[Code::ArchiveMissingFile]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn hostile_archives_give_errors_or_findings() {
    let limits = ScanLimits::default();
    let read = |b: &[u8]| archive::read(b, &limits, &mut |_| {});
    assert!(matches!(read(b""), Err(Error::NotAnArchive(_))));
    assert!(matches!(
        read(&[0xfd, b'7', b'z', b'X', b'Z', 0, 1, 2]),
        Err(Error::Unsupported(_))
    ));
    assert_eq!(archive::sniff(b"hello world"), Input::Unknown);
    // A tar of something else.
    assert!(matches!(
        read(&tar(&[E::File("notes.txt", b"hi".to_vec())])),
        Err(Error::NotAnArchive(_))
    ));

    // Cut in the middle of a layer: what was read is kept, and the cut is a finding.
    let (files, _) = moby_oci(&[layer("base"), layer("top")]);
    let whole = write(&files);
    let (store, findings) = read(&whole[..1700]).unwrap();
    assert!(store.images.is_empty());
    assert!(
        findings.iter().any(|f| f.code == Code::ArchiveTruncated),
        "{findings:?}"
    );
    // The same through gzip, cut anywhere.
    let gz = gzip(&whole);
    for cut in [10, gz.len() / 2, gz.len() - 3] {
        match read(&gz[..cut]) {
            Ok((_, findings)) => assert!(findings.iter().any(|f| f.code == Code::ArchiveTruncated)),
            Err(e) => assert!(matches!(e, Error::NotAnArchive(_)), "{e}"),
        }
    }

    // A header claiming a terabyte: no allocation, a truncation.
    let mut h = tar::Header::new_ustar();
    h.set_path("blobs/sha256/huge").unwrap();
    h.set_size(1 << 40);
    h.set_cksum();
    let mut huge = h.as_bytes().to_vec();
    huge.extend_from_slice(&[b'{'; 4096]);
    let (_, findings) = read(&huge).unwrap();
    assert!(findings.iter().any(|f| f.code == Code::ArchiveTruncated));

    // `tar -C dir .` writes `./` first and `./` before every name: that is the root, not an
    // escape.
    let (files, _) = moby_oci(&[layer("dot")]);
    let raw = |name: &str, kind: tar::EntryType, body: &[u8]| {
        let mut h = tar::Header::new_ustar();
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_entry_type(kind);
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        let mut out = h.as_bytes().to_vec();
        out.extend_from_slice(body);
        out.resize(out.len().div_ceil(512) * 512, 0);
        E::Raw(out)
    };
    let mut dotted = vec![raw("./", tar::EntryType::Directory, b"")];
    for (p, b) in &files {
        dotted.push(raw(&format!("./{p}"), tar::EntryType::Regular, b));
    }
    let mut dotted = tar(&dotted);
    dotted.extend_from_slice(&[0; 1024]);
    assert!(
        dotted.windows(8).any(|w| w == b"./blobs/"),
        "the names keep their ./"
    );
    check(&dotted, &[]);

    // An xz layer (Docker before 1.10 took them): named, not inflated.
    let mut xz = vec![0xfd, b'7', b'z', b'X', b'Z', 0];
    xz.extend_from_slice(&[7; 100]);
    let (files, _) = moby_oci(&[xz]);
    check(&write(&files), &[Code::LayerUnreadable]);

    // Entry names that climb out are not read.
    let mut raw = tar::Header::new_gnu();
    raw.as_old_mut().name[..16].copy_from_slice(b"../../etc/passwd");
    raw.set_size(2);
    raw.set_cksum();
    let mut bytes = raw.as_bytes().to_vec();
    bytes.extend_from_slice(b"hi");
    bytes.resize(1024, 0);
    let mut evil = files.clone();
    evil.truncate(evil.len());
    let mut all = bytes;
    let rest = write(&evil);
    all.extend_from_slice(&rest);
    let (_, findings) = read(&all).unwrap();
    assert!(
        findings.iter().any(|f| f.code == Code::UnsafePath),
        "{findings:?}"
    );

    // An index that names itself: resolution stops.
    let index_self = tar(&[
        E::File("oci-layout", b"{\"imageLayoutVersion\":\"1.0.0\"}".to_vec()),
        E::File(
            "index.json",
            format!(
                "{{\"manifests\":[{{\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"digest\":\"sha256:{}\",\"size\":1}}]}}",
                "c".repeat(64)
            )
            .into_bytes(),
        ),
        E::File(
            &format!("blobs/sha256/{}", "c".repeat(64)),
            format!(
                "{{\"manifests\":[{{\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"digest\":\"sha256:{}\",\"size\":1}}]}}",
                "c".repeat(64)
            )
            .into_bytes(),
        ),
    ]);
    let _ = read(&index_self).unwrap();
    let _ = E::Raw(Vec::new());
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_snapshot_is_not_taken_for_an_archive() {
    let snapshot = include_bytes!("../data/basic/snapshot.tar.gz");
    assert_eq!(
        archive::sniff(&snapshot[..snapshot.len().min(65536)]),
        Input::Snapshot
    );
}
