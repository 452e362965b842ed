use std::collections::BTreeSet;
use std::process::Command;

use storesnap_core::manifest::SkipReason;
use storesnap_core::Entry;

use crate::support::*;

/// Packing while a daemon works on the store.
mod live;
/// Secrets never reach a snapshot, and `--redact` takes image configs too.
mod privacy;

/// Strings that exist only inside layer files, container logs and volume data.
const CONTENT_MARKERS: &[&str] = &[
    "LAYER-CONTENT-MARKER-7f3a",
    "CONTAINER-LOG-MARKER-91",
    "VOLUME-CONTENT-MARKER-7",
];

/// What must be in a snapshot of `find`'s listing, by an independent reading of the list.
fn expected_entries(
    listing: &std::collections::BTreeMap<String, char>,
) -> BTreeSet<(String, char)> {
    let mut want = BTreeSet::new();
    for (path, &kind) in listing {
        let parts: Vec<&str> = path.split('/').collect();
        let keep = matches!(
            (parts.as_slice(), kind),
            (["image", ..], 'f' | 'd')
                | (["containers", _, "config.v2.json" | "hostconfig.json"], 'f')
                | (["overlay2", _, "link" | "lower" | "committed"], 'f')
                | (["overlay2", "l", _], 'l')
                | (["overlay2", _, "diff" | "work" | "merged"], 'd')
                // Volume names and drivers; the harness's volumes have no options.
                | (["volumes", "metadata.db"], 'f')
        );
        if keep {
            want.insert((path.clone(), kind));
        }
    }
    want
}

fn kind_of(e: &Entry) -> char {
    match e {
        Entry::File(_) | Entry::Unread(_) => 'f',
        Entry::Symlink(_) => 'l',
        Entry::Dir => 'd',
    }
}

#[test]
fn snapshot_holds_every_metadata_file_and_nothing_else() {
    let store = store(Scenario::Full);
    let out = scratch("contents").join("s.tar.gz");
    let snap = read_snapshot(&pack(&store.root, &out, &[]));
    let listing = find(&store.root);

    let have: BTreeSet<(String, char)> = snap
        .entries
        .iter()
        .map(|(p, e)| (stored_path(p), kind_of(e)))
        .collect();
    let want = expected_entries(&listing);
    let missing: Vec<_> = want.difference(&have).collect();
    assert!(
        missing.is_empty(),
        "missing from the snapshot: {missing:#?}"
    );

    // Anything beyond the list is a directory that holds listed things.
    let allowed_dirs = |p: &str| {
        let parts: Vec<&str> = p.split('/').collect();
        matches!(
            parts.as_slice(),
            ["containers"]
                | ["containers", _]
                | ["overlay2"]
                | ["overlay2", _]
                | ["volumes"]
                | ["volumes", _]
                | ["volumes", _, "_data"]
        )
    };
    for (path, kind) in have.difference(&want) {
        assert!(
            *kind == 'd' && allowed_dirs(path),
            "unexpected entry {path} ({kind})"
        );
    }

    // The image store is copied byte for byte; a tar-split, inflated.
    for (path, kind) in &want {
        if *kind == 'f' && path.starts_with("image/") {
            let on_disk = std::fs::read(store.root.join(path)).unwrap();
            match storesnap_core::snapshot::inflated_path(path) {
                Some(inflated) => {
                    let mut text = Vec::new();
                    std::io::Read::read_to_end(
                        &mut flate2::read::GzDecoder::new(&on_disk[..]),
                        &mut text,
                    )
                    .unwrap();
                    assert_eq!(snap.file(&inflated).unwrap(), text, "{path} differs");
                }
                None => assert_eq!(snap.file(path).unwrap(), on_disk, "{path} differs"),
            }
        }
    }
    let layer_dirs = listing
        .keys()
        .filter(|p| p.starts_with("image/overlay2/layerdb/sha256/") && p.matches('/').count() == 4);
    assert_eq!(snap.manifest.counts.layers, layer_dirs.count() as u64);
    assert_eq!(snap.manifest.storage_driver, "overlay2");
    assert!(
        listing.keys().any(|p| p.ends_with("/tar-split.json.gz")),
        "the harness store has tar-split files"
    );

    let bytes = all_bytes(&std::fs::read(&out).unwrap());
    for marker in CONTENT_MARKERS {
        assert!(
            !contains(&bytes, marker),
            "{marker} (layer, log or volume contents) leaked into the snapshot"
        );
    }
    // The markers do exist on disk, so the check above could fail.
    let on_disk = Command::new("grep")
        .args(["-rqa", "LAYER-CONTENT-MARKER-7f3a"])
        .arg(store.root.join("overlay2"))
        .status()
        .unwrap();
    assert!(on_disk.success());
}

#[test]
fn two_packs_are_byte_identical() {
    let store = store(Scenario::Full);
    let dir = scratch("determinism");
    let run = |name: &str, env: &[(&str, &str)], extra: &[&str]| {
        let out = dir.join(name);
        let mut args = vec![
            "pack",
            "-q",
            "--root",
            store.root.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let o = storesnap_env(&args, env);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read(out).unwrap()
    };
    let a = run("a.tar.gz", &[("SOURCE_DATE_EPOCH", "1700000000")], &[]);
    let b = run("b.tar.gz", &[("SOURCE_DATE_EPOCH", "1700000000")], &[]);
    assert!(a == b, "two packs with the same SOURCE_DATE_EPOCH differ");
    let c = run("c.tar.gz", &[], &["--created", "2023-11-14T22:13:20Z"]);
    assert!(
        a == c,
        "--created and SOURCE_DATE_EPOCH of the same instant differ"
    );
    let d = run("d.tar.gz", &[], &["--created", "1700000001"]);
    assert!(a != d, "the creation time is not stamped");
    assert_eq!(read_snapshot(&a).manifest.created, "2023-11-14T22:13:20Z");
}

#[test]
fn pack_leaves_the_data_root_unchanged() {
    let store = store(Scenario::Full);
    let before = fingerprint(&store.root);
    pack(&store.root, &scratch("unchanged").join("s.tar.gz"), &[]);
    let after = fingerprint(&store.root);
    assert_eq!(before.len(), after.len());
    for (path, fp) in &before {
        assert_eq!(Some(fp), after.get(path), "{path} changed");
    }
}

#[track_caller]
fn check_failure(args: &[&str], code: i32, expected: &[&str]) {
    let o = storesnap(args);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "{args:?}: {stderr}");
    for e in expected {
        assert!(
            stderr.contains(e),
            "{args:?}: stderr lacks {e:?}:\n{stderr}"
        );
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn bad_roots_get_clear_errors() {
    let dir = scratch("bad-roots");
    let out = dir.join("s.tar.gz");
    let out = out.to_str().unwrap();
    check_failure(
        &["pack", "--root", "/nonexistent/docker", "-o", out],
        2,
        &["/nonexistent/docker does not exist", "hint: pass --root"],
    );
    let empty = dir.join("empty");
    std::fs::create_dir(&empty).unwrap();
    check_failure(
        &["pack", "--root", empty.to_str().unwrap(), "-o", out],
        2,
        &["is not a Docker data root: it has no image/ directory"],
    );
    check_failure(
        &["pack", "--root", "/etc/hostname", "-o", out],
        2,
        &["not a directory"],
    );
    check_failure(
        &[
            "pack",
            "--created",
            "yesterday",
            "--root",
            "/nonexistent",
            "-o",
            out,
        ],
        2,
        &["invalid --created"],
    );
    assert!(
        !std::path::Path::new(out).exists(),
        "a failed pack left a file"
    );

    let store = store(Scenario::Basic);
    let inside = store.root.join("s.tar.gz");
    check_failure(
        &[
            "pack",
            "--root",
            store.root.to_str().unwrap(),
            "-o",
            inside.to_str().unwrap(),
        ],
        2,
        &["inside the data root"],
    );
    assert!(!inside.exists());
}

#[test]
fn unreadable_file_is_a_permission_error_that_suggests_sudo() {
    let store = store(Scenario::Basic);
    // The copy and the binary live outside the checkout: nobody must reach both, and a checkout
    // may sit under a directory only root can enter (`mktemp -d` makes them 0700).
    let base = std::env::temp_dir().join(format!("storesnap-unreadable-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir(&base).unwrap();
    let copy = base.join("root");
    let binary = base.join("storesnap");
    std::fs::copy(env!("CARGO_BIN_EXE_storesnap"), &binary).unwrap();
    assert!(Command::new("cp")
        .arg("-a")
        .arg(&store.root)
        .arg(&copy)
        .status()
        .unwrap()
        .success());
    // Readable by everyone except one layer file; the pack runs as nobody.
    assert!(Command::new("chmod")
        .args(["-R", "a+rX"])
        .arg(&base)
        .status()
        .unwrap()
        .success());
    let victim = copy.join("image/overlay2/repositories.json");
    assert!(Command::new("chmod")
        .arg("000")
        .arg(&victim)
        .status()
        .unwrap()
        .success());
    let o = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&binary)
        .args(["pack", "--root"])
        .arg(&copy)
        .args(["-o", "-"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("permission denied reading") && stderr.contains("repositories.json"),
        "{stderr}"
    );
    assert!(stderr.contains("sudo storesnap pack"), "{stderr}");
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn symlinks_out_of_the_root_are_never_followed() {
    let store = store(Scenario::Basic);
    let copy = copy_store(store, "symlinks");
    let outside = copy.parent().unwrap().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("config.v2.json"), "OUTSIDE-THE-ROOT-MARKER-55").unwrap();
    let repos = copy.join("image/overlay2/repositories.json");
    std::fs::remove_file(&repos).unwrap();
    std::os::unix::fs::symlink(outside.join("config.v2.json"), &repos).unwrap();
    std::os::unix::fs::symlink(
        "../../../../outside",
        copy.join("image/overlay2/imagedb/escape"),
    )
    .unwrap();
    std::os::unix::fs::symlink(&outside, copy.join("containers/evil")).unwrap();

    let out = copy.parent().unwrap().join("s.tar.gz");
    let o = storesnap(&[
        "pack",
        "--root",
        copy.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("outside the data root; it was not followed"),
        "{stderr}"
    );
    let gz = std::fs::read(&out).unwrap();
    assert!(!contains(&all_bytes(&gz), "OUTSIDE-THE-ROOT-MARKER-55"));
    let snap = read_snapshot(&gz);
    let outside_links: BTreeSet<&str> = snap
        .manifest
        .skipped
        .iter()
        .filter(|s| s.reason == SkipReason::SymlinkOutsideRoot)
        .map(|s| s.path.as_str())
        .collect();
    assert_eq!(
        outside_links,
        BTreeSet::from([
            "image/overlay2/repositories.json",
            "image/overlay2/imagedb/escape",
            "containers/evil"
        ])
    );
}

#[test]
fn garbage_container_config_is_left_out_not_leaked() {
    let store = store(Scenario::Basic);
    let copy = copy_store(store, "garbage");
    let container = std::fs::read_dir(copy.join("containers"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(
        container.join("config.v2.json"),
        b"{\"Config\":{\"Env\":[\"PW=GARBAGE-SECRET-31\"",
    )
    .unwrap();
    std::fs::write(copy.join("image/overlay2/repositories.json"), [0u8; 64]).unwrap();
    let out = copy.parent().unwrap().join("s.tar.gz");
    let gz = pack(&copy, &out, &[]);
    assert!(!contains(&all_bytes(&gz), "GARBAGE-SECRET-31"));
    let snap = read_snapshot(&gz);
    assert!(snap
        .manifest
        .skipped
        .iter()
        .any(|s| s.reason == SkipReason::Unredactable));
    // Damaged image-store files are packed as they are: diagnosing them is the point.
    assert_eq!(
        snap.file("image/overlay2/repositories.json"),
        Some(&[0u8; 64][..])
    );
}

#[test]
fn large_files_are_listed_not_copied() {
    let store = store(Scenario::Basic);
    let gz = pack(
        &store.root,
        &scratch("large").join("s.tar.gz"),
        &["--max-file-size", "300"],
    );
    let snap = read_snapshot(&gz);
    let listed: Vec<_> = snap
        .manifest
        .skipped
        .iter()
        .filter(|s| s.reason == SkipReason::TooLarge)
        .collect();
    assert!(
        !listed.is_empty(),
        "the basic store has files over 300 bytes"
    );
    for s in &listed {
        assert!(s.size.unwrap() > 300, "{s:?}");
        assert!(
            !snap.entries.contains_key(&s.path),
            "{} was listed and copied",
            s.path
        );
    }
    // A tar-split is kept inflated: its size on disk, not here, is what the cap measured.
    assert!(snap
        .entries
        .iter()
        .filter(|(p, _)| stored_path(p) == **p)
        .all(|(_, e)| !matches!(e, Entry::File(b) if b.len() > 300)));
}

/// `--dry-run` lists exactly what a real pack would write, skip and redact, and writes nothing.
#[test]
fn dry_run_lists_what_pack_would_do_and_writes_nothing() {
    let store = store(Scenario::Full);
    let dir = scratch("dry-run");
    let out = dir.join("never.tar.gz");
    let o = storesnap(&[
        "pack",
        "--dry-run",
        "--root",
        store.root.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!out.exists(), "a dry run wrote {}", out.display());
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "nothing else either"
    );

    let snap = read_snapshot(&pack(&store.root, &dir.join("real.tar.gz"), &["-q"]));
    let text = String::from_utf8(o.stdout).unwrap();
    let (mut packed, mut redacted, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let mut words = line.split_whitespace();
        let (fate, path) = (words.next().unwrap(), words.next().unwrap());
        let path = path.trim_end_matches('/').to_owned();
        let rest: Vec<String> = words.map(str::to_owned).collect();
        match fate {
            "pack" => packed.push(path),
            "redact" => {
                packed.push(path.clone());
                redacted.push((path, rest));
            }
            "skip" => skipped.push((path, rest.join(" "))),
            other => panic!("unexpected line {other:?}"),
        }
    }
    let entries: BTreeSet<String> = snap.entries.keys().map(|p| stored_path(p)).collect();
    assert_eq!(packed, entries.into_iter().collect::<Vec<_>>());
    let want: Vec<(String, Vec<String>)> = snap
        .manifest
        .redacted
        .iter()
        .map(|r| (r.path.clone(), r.fields.clone()))
        .collect();
    redacted.sort();
    let mut want_sorted = want.clone();
    want_sorted.sort();
    assert_eq!(redacted, want_sorted);
    assert!(!redacted.is_empty());
    let want: Vec<(String, String)> = snap
        .manifest
        .skipped
        .iter()
        .map(|s| (s.path.clone(), s.reason.as_str().to_owned()))
        .collect();
    assert_eq!(skipped, want);
    assert!(text.lines().last().unwrap().ends_with("nothing written"));
}

/// `--no-tar-split` leaves every tar-split out, says so, and `check` does not call them missing.
#[test]
fn no_tar_split_is_smaller_and_still_checks_clean() {
    use storesnap_core::manifest::SkipReason;
    let store = store(Scenario::Full);
    let dir = scratch("no-tar-split");
    let (full, slim) = (dir.join("full.tar.gz"), dir.join("slim.tar.gz"));
    let full_bytes = pack(&store.root, &full, &["-q"]);
    let slim_bytes = pack(&store.root, &slim, &["-q", "--no-tar-split"]);
    assert!(slim_bytes.len() < full_bytes.len());
    let (a, b) = (read_snapshot(&full_bytes), read_snapshot(&slim_bytes));
    let tar_splits: Vec<String> = a
        .entries
        .keys()
        .filter(|p| p.ends_with("/tar-split.json"))
        .map(|p| stored_path(p))
        .collect();
    assert_eq!(tar_splits.len() as u64, a.manifest.counts.layers);
    assert!(!b.entries.keys().any(|p| p.contains("/tar-split.json")));
    let omitted: Vec<String> = b
        .manifest
        .skipped
        .iter()
        .filter(|s| s.reason == SkipReason::Omitted)
        .map(|s| s.path.clone())
        .collect();
    assert_eq!(omitted, tar_splits);
    let (_, fa) = storesnap_core::analyze(&a);
    let (_, fb) = storesnap_core::analyze(&b);
    assert_eq!(fa, fb, "the same findings with and without tar-split");
    let o = storesnap(&["check", slim.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
}
