//! `check` on copies of the Docker 28 containerd store, each damaged one way: exactly the
//! expected findings, naming what is damaged.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use storesnap_core::source::containerd::ROOT;
use storesnap_core::store::{Containerd, Store};

use crate::support::*;

/// A copy of the Docker 28 containerd store, damaged one way, and `check`'s new findings.
struct Damage {
    root: PathBuf,
    model: Store,
}

impl Damage {
    fn cd(&self) -> &Containerd {
        self.model.containerd.as_deref().unwrap()
    }
    fn croot(&self) -> PathBuf {
        self.root.join("containerd/daemon")
    }
    fn blob(&self, digest: &storesnap_core::Digest) -> PathBuf {
        self.croot().join(format!(
            "io.containerd.content.v1.content/blobs/sha256/{}",
            digest.hex()
        ))
    }
    fn image(&self, tag: &str) -> &storesnap_core::store::Image {
        self.model
            .images
            .values()
            .find(|i| i.tags.iter().any(|t| t.as_str() == tag))
            .unwrap_or_else(|| panic!("no {tag}"))
    }
    fn snapshot_dir(&self, key: &str) -> PathBuf {
        let id = self.cd().snapshots[key].backend_id.unwrap();
        self.croot().join(format!(
            "io.containerd.snapshotter.v1.overlayfs/snapshots/{id}"
        ))
    }
    /// Rewrites every occurrence of `from` in meta.db with `to`, of the same length: bbolt keeps
    /// no checksum over leaf pages, so this renames a key or changes a value in place.
    fn patch_meta(&self, from: &[u8], to: &[u8]) {
        assert_eq!(from.len(), to.len());
        let p = self.croot().join("io.containerd.metadata.v1.bolt/meta.db");
        let mut bytes = fs::read(&p).unwrap();
        let mut n = 0;
        let mut i = 0;
        while let Some(at) = bytes[i..].windows(from.len()).position(|w| w == from) {
            bytes[i + at..i + at + from.len()].copy_from_slice(to);
            i += at + from.len();
            n += 1;
        }
        assert!(n > 0, "{} not in meta.db", String::from_utf8_lossy(from));
        fs::write(p, bytes).unwrap();
    }
}

/// The findings of `check` on a live root, as (code, subject ids).
fn findings(root: &Path, extra: &[&str]) -> (i32, Vec<(String, String)>) {
    let mut args = vec![
        "check",
        "--root",
        root.to_str().unwrap(),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let o = storesnap(&args);
    let report: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    let list = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_owned(),
                f["subjects"].to_string(),
            )
        })
        .collect();
    (o.status.code().unwrap(), list)
}

/// Damages a copy of the Docker 28 containerd store; the new findings are exactly the codes
/// `damage` returns, each naming the given ID among its subjects.
#[track_caller]
fn check(name: &str, damage: impl FnOnce(&Damage) -> Vec<(&'static str, String)>) {
    let root = copy_store(store(Scenario::D28Containerd), &format!("cd-damage-{name}"));
    let (code, before) = findings(&root, &[]);
    assert_eq!(code, 0, "{name}: the copy is not clean: {before:?}");
    let gz = pack(
        &root,
        &scratch(&format!("cd-model-{name}")).join("s.tar.gz"),
        &["-q"],
    );
    let d = Damage {
        model: storesnap_core::source::load(&read_snapshot(&gz)).0,
        root,
    };
    let expected = damage(&d);
    let (code, after) = findings(&d.root, &[]);
    let new: Vec<&(String, String)> = after.iter().filter(|f| !before.contains(f)).collect();
    let mut got: Vec<&str> = new.iter().map(|(c, _)| c.as_str()).collect();
    got.sort();
    got.dedup();
    let mut want: Vec<&str> = expected.iter().map(|(c, _)| *c).collect();
    want.sort();
    want.dedup();
    assert_eq!(got, want, "{name}: {new:#?}");
    for (c, id) in &expected {
        assert!(
            new.iter()
                .any(|(code, subjects)| code == c && subjects.contains(id.as_str())),
            "{name}: no {c} naming {id}: {new:#?}"
        );
    }
    // Warnings and info do not fail `check`; errors do.
    let not_errors = [
        "unused-snapshot",
        "lease-expired",
        "graphdriver-leftover",
        "leftover",
        "orphan-snapshot-dir",
    ];
    let errors = want.iter().any(|c| !not_errors.contains(c));
    assert_eq!(code, i32::from(errors), "{name}: exit code");
}

#[test]
fn containerd_content_damage() {
    check("blob-digest-mismatch", |d| {
        let config = d.cd().targets[&d.image("local/leaf-a:1").id].manifests[0]
            .config
            .clone()
            .unwrap()
            .digest;
        let p = d.blob(&config);
        let mut bytes = fs::read(&p).unwrap();
        bytes.push(b' ');
        fs::write(p, bytes).unwrap();
        vec![("blob-digest-mismatch", config.to_string())]
    });
    check("missing-config", |d| {
        let image = d.image("local/leaf-b:1");
        let config = d.cd().targets[&image.id].manifests[0]
            .config
            .clone()
            .unwrap()
            .digest;
        fs::remove_file(d.blob(&config)).unwrap();
        // Without its config nothing says which snapshots the image uses.
        let top = image.top_layer().unwrap().to_string();
        vec![
            ("missing-blob", config.to_string()),
            ("unused-snapshot", top),
        ]
    });
    check("ingest-leftover", |d| {
        // An interrupted pull: what it was is kept, the partial data never.
        let ingest = d
            .croot()
            .join("io.containerd.content.v1.content/ingest/0123abcd");
        fs::create_dir_all(&ingest).unwrap();
        fs::write(ingest.join("ref"), "moby/1/layer-sha256:feed").unwrap();
        fs::write(ingest.join("total"), "1048576").unwrap();
        fs::write(ingest.join("data"), "LAYER-CONTENT-MARKER-7f3a partial").unwrap();
        let gz = pack(&d.root, &d.root.with_file_name("ingest.tar.gz"), &["-q"]);
        let snap = read_snapshot(&gz);
        assert!(snap
            .file(&format!(
                "{ROOT}io.containerd.content.v1.content/ingest/0123abcd/ref"
            ))
            .is_some());
        assert!(!contains(&all_bytes(&gz), "LAYER-CONTENT-MARKER-7f3a"));
        vec![("leftover", "ingest/0123abcd".into())]
    });
    check("missing-manifest", |d| {
        let id = d.image("local/base2:1").id.clone();
        fs::remove_file(d.blob(id.digest())).unwrap();
        vec![("missing-blob", id.digest().to_string())]
    });
}

#[test]
fn containerd_snapshot_damage() {
    check("missing-snapshot", |d| {
        let top = d.image("local/leaf-b:1").top_layer().unwrap().to_string();
        let mut renamed = top.clone().into_bytes();
        let last = renamed.last_mut().unwrap();
        *last = if *last == b'0' { b'1' } else { b'0' };
        d.patch_meta(top.as_bytes(), &renamed);
        vec![
            ("missing-snapshot", top),
            ("unused-snapshot", String::from_utf8(renamed).unwrap()),
        ]
    });
    check("snapshot-parent-mismatch", |d| {
        // A layer whose snapshot sits right on the layer below, given another parent.
        let cd = d.cd();
        let (child, below) = d
            .model
            .images
            .values()
            .flat_map(|i| {
                i.chain()
                    .windows(2)
                    .map(|w| (w[1].clone(), w[0].clone()))
                    .collect::<Vec<_>>()
            })
            .find(|(c, b)| cd.snapshots[c.as_str()].parent.as_deref() == Some(b.as_str()))
            .expect("a layer parented directly on the one below");
        let other = cd
            .snapshots
            .keys()
            .find(|k| {
                // patch_meta swaps bytes in place: a key of another length (a build's
                // `sha256:…-init`, say) would not fit.
                k.starts_with("sha256:")
                    && k.len() == below.as_str().len()
                    && k.as_str() != below.as_str()
                    && k.as_str() != child.as_str()
            })
            .unwrap();
        d.patch_meta(
            format!("parent{below}").as_bytes(),
            format!("parent{other}").as_bytes(),
        );
        vec![("snapshot-parent-mismatch", child.to_string())]
    });
    check("snapshot-dir-missing", |d| {
        let top = d.image("local/leaf-a:1").top_layer().unwrap().to_string();
        fs::remove_dir_all(d.snapshot_dir(&top)).unwrap();
        vec![("snapshot-dir-missing", top)]
    });
    check("orphan-snapshot-dir", |d| {
        fs::create_dir_all(
            d.croot()
                .join("io.containerd.snapshotter.v1.overlayfs/snapshots/99999/fs"),
        )
        .unwrap();
        vec![("orphan-snapshot-dir", "snapshots/99999".into())]
    });
    check("container-snapshot-missing", |d| {
        let c = d
            .model
            .containers
            .values()
            .find(|c| c.name == "exited")
            .unwrap()
            .id
            .to_string();
        // The container's snapshots and lease get another name: the container has none.
        let other = format!("{}{}", &c[..60], "ffff");
        d.patch_meta(c.as_bytes(), other.as_bytes());
        vec![("container-snapshot-missing", c)]
    });
    check("damaged-database", |d| {
        let p = d
            .croot()
            .join("io.containerd.snapshotter.v1.overlayfs/metadata.db");
        fs::write(&p, vec![0x42; 8192]).unwrap();
        // Without the snapshotter's records nothing more can be said of the snapshots.
        vec![("damaged-database", "metadata.db".to_owned())]
    });
}

/// Leases expire by the clock: expired in a snapshot taken after their expiry, not before.
#[test]
fn expired_leases_depend_on_when_the_snapshot_was_taken() {
    let store = store(Scenario::D28Containerd);
    let dir = scratch("cd-leases");
    let (model, _) = storesnap_core::analyze(&read_snapshot(&pack(
        &store.root,
        &dir.join("now.tar.gz"),
        &["-q"],
    )));
    let cd = model.containerd.as_deref().unwrap();
    let expiring: Vec<i64> = cd.leases.values().filter_map(|l| l.expires).collect();
    assert!(!expiring.is_empty(), "BuildKit's temporary leases expire");
    let expired_at = |when: i64| {
        let gz = pack(
            &store.root,
            &dir.join(format!("{when}.tar.gz")),
            &["-q", "--created", &when.to_string()],
        );
        let (_, findings) = storesnap_core::analyze(&read_snapshot(&gz));
        findings
            .iter()
            .filter(|f| f.code.as_str() == "lease-expired")
            .count()
    };
    assert_eq!(
        expired_at(expiring.iter().max().unwrap() + 1),
        expiring.len()
    );
    assert_eq!(expired_at(expiring.iter().min().unwrap() - 1), 0);
}

/// Graph-driver data beside a containerd store: named when the containerd root is chosen.
#[test]
fn graph_driver_leftovers_are_reported() {
    let root = copy_store(store(Scenario::D28Containerd), "cd-leftover");
    fs::create_dir_all(root.join("image/overlay2/imagedb/content/sha256")).unwrap();
    fs::write(
        root.join("image/overlay2/repositories.json"),
        r#"{"Repositories":{}}"#,
    )
    .unwrap();
    let croot = root.join("containerd/daemon");
    let (code, list) = findings(&root, &["--containerd-root", croot.to_str().unwrap()]);
    assert_eq!(code, 0, "{list:?}");
    assert!(
        list.iter()
            .any(|(c, s)| c == "graphdriver-leftover" && s.contains("image/overlay2")),
        "{list:?}"
    );
    // Without --containerd-root, image/ makes it a graph-driver store, as Docker 29 decides.
    let gz = pack(
        &root,
        &scratch("cd-leftover-graph").join("s.tar.gz"),
        &["-q"],
    );
    assert!(read_snapshot(&gz).manifest.containerd.is_none());
}
