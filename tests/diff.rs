//! `storesnap diff` on two snapshots of one real store, before and after real changes: a
//! build, a container created and one removed, an rmi, a tag added, a prune of a dangling
//! image, and a damaged file.

use std::process::Command;

use serde_json::Value;

use crate::support::*;

fn docker(socket: &str, args: &[&str]) -> String {
    let o = Command::new("/usr/bin/docker")
        .arg("-H")
        .arg(socket)
        .args(args)
        .env("DOCKER_BUILDKIT", "0")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

#[test]
fn diff_shows_what_changed_between_two_snapshots() {
    let dir = scratch("diff");
    let d = dir.to_str().unwrap();
    engine(&["start", d]);
    let before = dir.join("before.tar.gz");
    let changed = std::panic::catch_unwind(|| {
        engine(&["populate", d, "basic"]);
        let socket = daemon_socket(&dir);
        let build = |tag: &str, dockerfile: &str| {
            let ctx = dir.join("ctx");
            std::fs::create_dir_all(&ctx).unwrap();
            std::fs::write(ctx.join("Dockerfile"), dockerfile).unwrap();
            docker(
                &socket,
                &[
                    "build",
                    "-q",
                    "--network",
                    "none",
                    "-t",
                    tag,
                    ctx.to_str().unwrap(),
                ],
            );
            docker(&socket, &["image", "inspect", "-f", "{{.Id}}", tag])
        };
        // A dangling image for the prune: the tag moves to a rebuild.
        let dangling = build(
            "local/old:1",
            "FROM local/busybox:1\nRUN echo v1 > /old.txt\n",
        );
        build(
            "local/old:1",
            "FROM local/busybox:1\nRUN echo v2 > /old.txt\n",
        );
        pack(&dir.join("root"), &before, &["-q"]);
        let app = docker(
            &socket,
            &["image", "inspect", "-f", "{{.Id}}", "local/app:classic"],
        );
        let busybox = docker(
            &socket,
            &["image", "inspect", "-f", "{{.Id}}", "local/busybox:1"],
        );
        let new = build(
            "local/new:1",
            "FROM local/busybox:1\nRUN echo new > /new.txt\n",
        );
        docker(&socket, &["create", "--name", "fresh", "local/new:1"]);
        docker(&socket, &["rm", "exited"]);
        docker(&socket, &["rmi", "local/app:classic", "local/app:v1"]);
        docker(&socket, &["tag", "local/busybox:1", "local/retag:1"]);
        docker(&socket, &["image", "prune", "-f"]);
        (app, busybox, new, dangling)
    });
    engine(&["stop", d]);
    let (app, busybox, new, dangling) = changed.unwrap();
    // Damage after the daemon stopped: the new image's top layer loses its cache-id.
    let after_root = dir.join("root");
    let top = std::fs::read_dir(after_root.join("image/overlay2/layerdb/sha256"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let parent = std::fs::read_to_string(p.join("parent")).unwrap_or_default();
            let mine = std::fs::read_to_string(p.join("diff")).unwrap_or_default();
            // The layer RUN made: a parent, and no layer on top of it.
            !parent.is_empty()
                && !mine.is_empty()
                && !std::fs::read_dir(p.parent().unwrap()).unwrap().any(|q| {
                    std::fs::read_to_string(q.unwrap().path().join("parent")).unwrap_or_default()
                        == format!("sha256:{}", p.file_name().unwrap().to_str().unwrap())
                })
        })
        .unwrap();
    std::fs::remove_file(top.join("cache-id")).unwrap();
    let after = dir.join("after.tar.gz");
    pack(&after_root, &after, &["-q"]);

    let o = storesnap(&[
        "diff",
        before.to_str().unwrap(),
        after.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let ids = |key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(ids("images_added").contains(&new), "{v:#}");
    assert!(ids("images_removed").contains(&app), "{v:#}");
    assert!(
        ids("images_removed").contains(&dangling),
        "the prune: {v:#}"
    );
    let retag = v["images_retagged"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == busybox.as_str())
        .unwrap_or_else(|| panic!("{v:#}"));
    assert!(retag["after"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "local/retag:1"));
    assert!(!retag["before"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "local/retag:1"));
    let names = |key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names("containers_added"), ["fresh"]);
    assert_eq!(names("containers_removed"), ["exited"]);
    assert!(!v["layers_added"].as_array().unwrap().is_empty());
    assert!(v["layer_bytes_freed"].as_u64().unwrap() > 0, "{v:#}");
    // The damage is a new finding about that layer; nothing was wrong before.
    let chain = format!("sha256:{}", top.file_name().unwrap().to_str().unwrap());
    let new_findings = v["findings_new"].as_array().unwrap();
    assert!(
        new_findings
            .iter()
            .any(|f| f["severity"] == "error" && f.to_string().contains(&chain)),
        "{new_findings:#?}"
    );
    // docker system df before and after: the image count changed.
    let images = v["df"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "Images")
        .unwrap();
    assert_ne!(images["before"], images["after"]);

    let text = storesnap(&["diff", before.to_str().unwrap(), after.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("local/new:1") && text.contains("fresh") && text.contains("-> "),
        "{text}"
    );
    // A snapshot compared with itself: nothing changed, exit 0.
    let same = storesnap(&["diff", before.to_str().unwrap(), before.to_str().unwrap()]);
    assert_eq!(same.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&same.stdout).trim(), "No changes.");
}
