use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use storesnap_core::store::Store;

use crate::support::*;

/// A copy of a harness store to damage, and its model before the damage.
struct Target {
    root: PathBuf,
    store: Store,
}

impl Target {
    fn image(&self, tag: &str) -> &storesnap_core::store::Image {
        let r = self
            .store
            .references
            .iter()
            .find(|r| r.name.as_str() == tag)
            .unwrap_or_else(|| panic!("no {tag}"));
        &self.store.images[&r.image]
    }
    fn top(&self, tag: &str) -> String {
        self.image(tag).top_layer().unwrap().hex().to_owned()
    }
    fn cache(&self, chain_hex: &str) -> String {
        let chain = storesnap_core::ChainId::from_hex(chain_hex).unwrap();
        self.store.layers[&chain]
            .cache_id
            .as_ref()
            .unwrap()
            .to_string()
    }
    fn link(&self, cache: &str) -> String {
        self.store.driver_dirs[cache].link.clone().unwrap()
    }
    fn mount(&self, container_name: &str) -> &storesnap_core::store::Mount {
        let c = self
            .store
            .containers
            .values()
            .find(|c| c.name == container_name)
            .unwrap();
        &self.store.mounts[&c.id]
    }
    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }
    fn layer_dir(&self, chain_hex: &str) -> PathBuf {
        self.path(&format!(
            "image/{}/layerdb/sha256/{chain_hex}",
            self.store.driver
        ))
    }
    /// The graph driver's record of a layer or container layer (`vfs/dir/<id>`, …).
    fn record(&self, id: &str) -> PathBuf {
        self.path(&self.store.driver_record_path(id))
    }
}

fn model(root: &Path, name: &str) -> Store {
    let gz = pack(
        root,
        &scratch(&format!("damage-model-{name}")).join("s.tar.gz"),
        &["-q"],
    );
    storesnap_core::analyze(&read_snapshot(&gz)).0
}

/// `check --root` as JSON: (exit code, findings).
fn check_root(root: &Path) -> (i32, Vec<Value>) {
    let o = storesnap(&[
        "check",
        "--root",
        root.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let report: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    (
        o.status.code().unwrap(),
        report["findings"].as_array().unwrap().clone(),
    )
}

fn key(f: &Value) -> String {
    format!("{} {}", f["code"], f["subjects"])
}

/// An expected finding: its code and IDs (or paths) that must be among its subjects.
type Expect = (&'static str, Vec<String>);

#[track_caller]
fn check(name: &str, damage: impl FnOnce(&Target) -> Vec<Expect>) {
    check_on(Scenario::Full, name, damage)
}

/// Damages a copy of `scenario`'s store and expects exactly the findings `damage` names.
#[track_caller]
fn check_on(scenario: Scenario, name: &str, damage: impl FnOnce(&Target) -> Vec<Expect>) {
    let name = &format!("{}-{name}", scenario.name());
    let root = copy_store(store(scenario), &format!("damage-{name}"));
    let (clean_code, baseline) = check_root(&root);
    assert_eq!(
        clean_code, 0,
        "{name}: the undamaged copy has errors: {baseline:#?}"
    );
    let target = Target {
        store: model(&root, name),
        root,
    };
    let expected = damage(&target);

    let (code, findings) = check_root(&target.root);
    let before: BTreeSet<String> = baseline.iter().map(key).collect();
    let new: Vec<&Value> = findings
        .iter()
        .filter(|f| !before.contains(&key(f)))
        .collect();
    let got: BTreeSet<&str> = new.iter().map(|f| f["code"].as_str().unwrap()).collect();
    let want: BTreeSet<&str> = expected.iter().map(|(c, _)| *c).collect();
    assert_eq!(got, want, "{name}: new findings {new:#?}");
    for (c, ids) in &expected {
        let named = new.iter().any(|f| {
            f["code"] == *c
                && ids.iter().all(|id| {
                    f["subjects"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|s| s["id"].as_str().is_some_and(|v| v.contains(id.as_str())))
                })
        });
        assert!(named, "{name}: no {c} finding names {ids:?}: {new:#?}");
    }
    let errors = new.iter().any(|f| f["severity"] == "error");
    assert_eq!(code, if errors { 1 } else { 0 }, "{name}: exit code");
}

fn write(p: PathBuf, bytes: impl AsRef<[u8]>) {
    fs::write(&p, bytes).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
}

#[test]
fn image_config_damage() {
    check("image-id-mismatch", |t| {
        let id = t.image("local/leaf-a:1").id.hex().to_owned();
        let p = t.path(&format!("image/overlay2/imagedb/content/sha256/{id}"));
        let mut bytes = fs::read(&p).unwrap();
        bytes.push(b' ');
        write(p, bytes);
        vec![("image-id-mismatch", vec![id])]
    });
    check("invalid-json", |t| {
        let id = t.image("local/leaf-b:1").id.hex().to_owned();
        let top = t.top("local/leaf-b:1");
        let p = t.path(&format!("image/overlay2/imagedb/content/sha256/{id}"));
        let bytes = fs::read(&p).unwrap();
        write(p, &bytes[..bytes.len() / 2]);
        // Without a readable config, nothing says the image's own layer is in use.
        vec![
            ("invalid-json", vec![id.clone()]),
            ("image-id-mismatch", vec![id]),
            ("unused-layer", vec![top]),
        ]
    });
    check("missing-parent-image", |t| {
        let id = t.image("local/leaf-a:1").id.hex().to_owned();
        let ghost = "ab".repeat(32);
        write(
            t.path(&format!(
                "image/overlay2/imagedb/metadata/sha256/{id}/parent"
            )),
            format!("sha256:{ghost}"),
        );
        vec![("missing-parent-image", vec![id, ghost])]
    });
}

#[test]
fn reference_damage() {
    check("dangling-reference", |t| {
        let p = t.path("image/overlay2/repositories.json");
        let mut doc: Value = serde_json::from_slice(&fs::read(&p).unwrap()).unwrap();
        let ghost = format!("sha256:{}", "cd".repeat(32));
        doc["Repositories"]["local/ghost"] = serde_json::json!({ "local/ghost:1": ghost });
        write(p, doc.to_string());
        vec![(
            "dangling-reference",
            vec!["local/ghost:1".into(), "cd".repeat(32)],
        )]
    });
    check("nul-filled", |t| {
        write(t.path("image/overlay2/repositories.json"), [0u8; 512]);
        vec![(
            "nul-filled",
            vec!["image/overlay2/repositories.json".into()],
        )]
    });
}

#[test]
fn layer_damage() {
    check("missing-layer", |t| {
        let top = t.top("local/leaf-a:1");
        let cache = t.cache(&top);
        fs::remove_dir_all(t.layer_dir(&top)).unwrap();
        let image = t.image("local/leaf-a:1").id.hex().to_owned();
        vec![
            ("missing-layer", vec![image, top]),
            ("orphan-driver-dir", vec![cache]),
        ]
    });
    check("missing-parent-layer", |t| {
        let base2 = t.top("local/base2:1");
        let base3 = t.top("local/base3:1");
        let cache = t.cache(&base2);
        fs::remove_dir_all(t.layer_dir(&base2)).unwrap();
        vec![
            ("missing-parent-layer", vec![base3, base2.clone()]),
            ("missing-layer", vec![base2]),
            ("orphan-driver-dir", vec![cache]),
        ]
    });
    check("chain-id-mismatch", |t| {
        let top = t.top("local/leaf-b:1");
        write(
            t.layer_dir(&top).join("diff"),
            format!("sha256:{}", "ef".repeat(32)),
        );
        vec![("chain-id-mismatch", vec![top])]
    });
    check("empty-file", |t| {
        let top = t.top("local/leaf-a:1");
        let cache = t.cache(&top);
        write(t.layer_dir(&top).join("cache-id"), "");
        vec![
            ("empty-file", vec![top]),
            ("orphan-driver-dir", vec![cache]),
        ]
    });
    check("invalid-value", |t| {
        let top = t.top("local/leaf-a:1");
        let cache = t.cache(&top);
        write(t.layer_dir(&top).join("parent"), "not a chain id");
        // With no readable parent the layer looks like a base layer, which has no lowers.
        vec![
            ("invalid-value", vec![top.clone()]),
            ("chain-id-mismatch", vec![top]),
            ("overlay-lower-mismatch", vec![cache]),
        ]
    });
    check("no-tar-split", |t| {
        let top = t.top("local/leaf-b:1");
        fs::remove_file(t.layer_dir(&top).join("tar-split.json.gz")).unwrap();
        vec![("no-tar-split", vec![top])]
    });
    check("unused-layer", |t| {
        let image = t.image("local/leaf-a:1").id.hex().to_owned();
        let top = t.top("local/leaf-a:1");
        fs::remove_file(t.path(&format!("image/overlay2/imagedb/content/sha256/{image}"))).unwrap();
        vec![
            ("unused-layer", vec![top]),
            ("dangling-reference", vec!["local/leaf-a:1".into(), image]),
        ]
    });
    check("leftover", |t| {
        fs::create_dir_all(t.path("image/overlay2/layerdb/tmp/write-set-123456")).unwrap();
        let removing = format!("{}-{}-removing", "12".repeat(32), "34".repeat(32));
        fs::create_dir_all(t.path(&format!("image/overlay2/layerdb/sha256/{removing}"))).unwrap();
        vec![("leftover", vec!["write-set-123456".into()])]
    });
}

#[test]
fn driver_dir_damage() {
    check("missing-cache-dir", |t| {
        let top = t.top("local/leaf-a:1");
        let cache = t.cache(&top);
        let link = t.link(&cache);
        fs::remove_dir_all(t.path(&format!("overlay2/{cache}"))).unwrap();
        vec![
            ("missing-cache-dir", vec![top, cache]),
            ("overlay-link-dangling", vec![link]),
        ]
    });
    check("orphan-driver-dir", |t| {
        let orphan = "9f".repeat(32);
        fs::create_dir_all(t.path(&format!("overlay2/{orphan}/diff"))).unwrap();
        write(
            t.path(&format!("overlay2/{orphan}/link")),
            "ORPHANLINKAAAAAAAAAAAAAAAA",
        );
        std::os::unix::fs::symlink(
            format!("../{orphan}/diff"),
            t.path("overlay2/l/ORPHANLINKAAAAAAAAAAAAAAAA"),
        )
        .unwrap();
        vec![("orphan-driver-dir", vec![orphan])]
    });
    check("overlay-link-missing", |t| {
        let cache = t.cache(&t.top("local/leaf-a:1"));
        write(t.path(&format!("overlay2/{cache}/link")), "");
        vec![("overlay-link-missing", vec![cache])]
    });
    check("overlay-link-dangling", |t| {
        let cache = t.cache(&t.top("local/base3:1"));
        let link = t.link(&cache);
        fs::remove_file(t.path(&format!("overlay2/l/{link}"))).unwrap();
        vec![("overlay-link-dangling", vec![cache, link])]
    });
    check("overlay-lower-unknown", |t| {
        let cache = t.cache(&t.top("local/leaf-a:1"));
        write(
            t.path(&format!("overlay2/{cache}/lower")),
            "l/AAAAAAAAAAAAAAAAAAAAAAAAAA",
        );
        vec![
            ("overlay-lower-unknown", vec![cache.clone()]),
            ("overlay-lower-mismatch", vec![cache]),
        ]
    });
    check("overlay-lower-mismatch", |t| {
        let cache = t.cache(&t.top("local/leaf-a:1"));
        let p = t.path(&format!("overlay2/{cache}/lower"));
        let lower = fs::read_to_string(&p).unwrap();
        let mut parts: Vec<&str> = lower.split(':').collect();
        assert!(parts.len() >= 2, "leaf-a sits on several layers");
        parts.swap(0, 1);
        write(p, parts.join(":"));
        vec![("overlay-lower-mismatch", vec![cache])]
    });
}

#[test]
fn container_mount_damage() {
    check("mount-parent-missing", |t| {
        let m = t.mount("exited");
        let ghost = "ba".repeat(32);
        write(
            t.path(&format!(
                "image/overlay2/layerdb/mounts/{}/parent",
                m.container
            )),
            format!("sha256:{ghost}"),
        );
        vec![("mount-parent-missing", vec![m.container.to_string(), ghost])]
    });
    check("mount-dir-missing", |t| {
        let m = t.mount("exited");
        let rw = m.mount_id.as_ref().unwrap().to_string();
        let link = t.link(&rw);
        fs::remove_dir_all(t.path(&format!("overlay2/{rw}"))).unwrap();
        vec![
            ("mount-dir-missing", vec![m.container.to_string(), rw]),
            ("overlay-link-dangling", vec![link]),
        ]
    });
    check("mount-init-missing", |t| {
        let m = t.mount("created-only");
        let init = m.init_id.as_ref().unwrap().to_string();
        let link = t.link(&init);
        fs::remove_dir_all(t.path(&format!("overlay2/{init}"))).unwrap();
        vec![
            ("mount-init-missing", vec![m.container.to_string(), init]),
            ("overlay-link-dangling", vec![link]),
        ]
    });
}

/// The damage that applies to every graph driver, on the drivers a real engine here runs
/// besides overlay2 (which the tests above cover with its links and lowers).
#[test]
fn naive_driver_damage() {
    for scenario in [Scenario::Vfs, Scenario::Btrfs] {
        check_on(scenario, "missing-cache-dir", |t| {
            let top = t.top("local/leaf-a:1");
            let cache = t.cache(&top);
            fs::remove_dir_all(t.record(&cache)).unwrap();
            vec![("missing-cache-dir", vec![top, cache])]
        });
        check_on(scenario, "orphan-driver-dir", |t| {
            let orphan = "9f".repeat(32);
            fs::create_dir_all(t.record(&orphan).join("etc")).unwrap();
            vec![("orphan-driver-dir", vec![orphan])]
        });
        check_on(scenario, "mount-dir-missing", |t| {
            let m = t.mount("exited");
            let rw = m.mount_id.as_ref().unwrap().to_string();
            fs::remove_dir_all(t.record(&rw)).unwrap();
            vec![("mount-dir-missing", vec![m.container.to_string(), rw])]
        });
        check_on(scenario, "mount-init-missing", |t| {
            let m = t.mount("created-only");
            let init = m.init_id.as_ref().unwrap().to_string();
            fs::remove_dir_all(t.record(&init)).unwrap();
            vec![("mount-init-missing", vec![m.container.to_string(), init])]
        });
        check_on(scenario, "missing-parent-layer", |t| {
            let top = t.top("local/leaf-b:1");
            let parent = fs::read_to_string(t.layer_dir(&top).join("parent")).unwrap();
            let parent_hex = parent.trim().trim_start_matches("sha256:").to_owned();
            let cache = t.cache(&parent_hex);
            fs::remove_dir_all(t.layer_dir(&parent_hex)).unwrap();
            // leaf-b's own layer loses its parent; the images above lose a layer; the parent's
            // driver record is left without a layer.
            vec![
                ("missing-parent-layer", vec![top, parent_hex.clone()]),
                ("missing-layer", vec![parent_hex]),
                ("orphan-driver-dir", vec![cache]),
            ]
        });
    }
}
