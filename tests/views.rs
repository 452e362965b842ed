use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::*;

/// Fields that depend on when the command runs, not on the store.
const RELATIVE: &[&str] = &["CreatedSince", "RunningFor"];

fn without_relative(mut v: Value) -> Value {
    if let Value::Object(m) = &mut v {
        for k in RELATIVE {
            m.remove(*k);
        }
        // Docker joins these from Go maps, whose order is random: compare them as sets.
        for k in ["Labels", "Mounts"] {
            if let Some(Value::String(s)) = m.get_mut(k) {
                let mut parts: Vec<&str> = s.split(',').collect();
                parts.sort();
                *s = parts.join(",");
            }
        }
        // "Exited (0) 7 seconds ago": the state is the store's, the age is the clock's.
        if let Some(Value::String(s)) = m.get_mut("Status") {
            if let Some(i) = s.find(") ") {
                s.truncate(i + 1);
            }
        }
    }
    v
}

fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| without_relative(serde_json::from_str(l).unwrap()))
        .collect()
}

/// Runs storesnap with TZ=UTC (the oracle was recorded in UTC) and returns stdout.
fn run(args: &[&str]) -> String {
    let o = storesnap_env(args, &[("TZ", "UTC")]);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// Rows are ordered newest first; the daemon breaks ties between images created in the same
/// second by map order, which is random, so rows compare in order by creation second and as a
/// multiset within one second.
#[track_caller]
fn check_rows(what: &str, ours: Vec<Value>, docker: Vec<Value>) {
    let group = |rows: &[Value]| -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for r in rows {
            let key = r["CreatedAt"].as_str().unwrap_or_default().to_owned();
            let text = r.to_string();
            match out.last_mut() {
                Some((k, v)) if *k == key => v.push(text),
                _ => out.push((key, vec![text])),
            }
        }
        for (_, v) in out.iter_mut() {
            v.sort();
        }
        out
    };
    assert_eq!(ours.len(), docker.len(), "{what}: row count");
    assert_eq!(group(&ours), group(&docker), "{what}");
}

/// The ways to point storesnap at a harness store: the live root and a snapshot of it.
fn sources(store: &Store, name: &str) -> Vec<(String, Vec<String>)> {
    let snap = scratch(&format!("views-{name}")).join("s.tar.gz");
    pack(&store.root, &snap, &["-q"]);
    vec![
        ("live root".into(), store.root_args()),
        ("snapshot".into(), vec![snap.to_str().unwrap().into()]),
    ]
}

fn with_source<'a>(cmd: &'a str, source: &'a [String], rest: &'a [&'a str]) -> Vec<&'a str> {
    let mut args = vec![cmd];
    args.extend(source.iter().map(String::as_str));
    args.extend_from_slice(rest);
    args
}

#[track_caller]
fn check_images(scenario: Scenario) {
    let store = store(scenario);
    let docker = lines(&std::fs::read_to_string(store.oracle.join("images.jsonl")).unwrap());
    for (label, source) in sources(store, &format!("images-{}", scenario.name())) {
        let ours = lines(&run(&with_source(
            "images",
            &source,
            &["-a", "--digests", "--no-trunc", "--format", "json"],
        )));
        check_rows(
            &format!("{} images ({label})", scenario.name()),
            ours,
            docker.clone(),
        );
    }
}

#[test]
fn images_match_docker_image_ls() {
    for scenario in Scenario::ALL {
        check_images(scenario);
    }
}

#[track_caller]
fn check_history(scenario: Scenario) {
    let store = store(scenario);
    let ids = std::fs::read_to_string(store.oracle.join("image-ids.txt")).unwrap();
    assert!(ids.lines().count() >= 3);
    for (label, source) in sources(store, &format!("history-{}", scenario.name())) {
        for id in ids.lines() {
            let docker = lines(
                &std::fs::read_to_string(store.oracle.join(format!("history/{}.jsonl", &id[7..])))
                    .unwrap(),
            );
            let mut args = vec!["history"];
            if label == "live root" {
                args.extend(source.iter().map(String::as_str));
            } else {
                args.push(&source[0]);
            }
            args.extend_from_slice(&[id, "--no-trunc", "--format", "json"]);
            let ours = lines(&run(&args));
            assert_eq!(
                ours,
                docker,
                "{} history of {id} ({label})",
                scenario.name()
            );
        }
    }
}

#[test]
fn history_matches_docker_history_for_every_image() {
    for scenario in Scenario::ALL {
        check_history(scenario);
    }
}

#[test]
fn df_matches_docker_system_df() {
    for scenario in Scenario::ALL {
        check_df(scenario);
    }
}

#[track_caller]
fn check_df(scenario: Scenario) {
    let store = store(scenario);
    let docker: Value = serde_json::from_str(
        &std::fs::read_to_string(store.oracle.join("system-df.json")).unwrap(),
    )
    .unwrap();
    for (label, source) in sources(store, &format!("df-{}", scenario.name())) {
        let ours: Value = serde_json::from_str(&run(&with_source(
            "df",
            &source,
            &["-v", "--format", "json"],
        )))
        .unwrap();
        let rows = |v: &Value, k: &str| -> Vec<Value> {
            v[k].as_array()
                .unwrap()
                .iter()
                .cloned()
                .map(without_relative)
                .collect()
        };
        check_rows(
            &format!("df images ({label})"),
            rows(&ours, "Images"),
            rows(&docker, "Images"),
        );
        check_rows(
            "df volumes",
            rows(&ours, "Volumes"),
            rows(&docker, "Volumes"),
        );
        let by_id = |rows: Vec<Value>| -> BTreeMap<String, Value> {
            rows.into_iter()
                .map(|mut r| {
                    // A snapshot redacts commands and labels; their redaction is tested in pack.
                    if label == "snapshot" {
                        r.as_object_mut().unwrap().remove("Command");
                        r.as_object_mut().unwrap().remove("Labels");
                    }
                    (r["ID"].as_str().unwrap().to_owned(), r)
                })
                .collect()
        };
        assert_eq!(
            by_id(rows(&ours, "Containers")),
            by_id(rows(&docker, "Containers")),
            "df containers ({label})"
        );
        assert_eq!(
            ours["BuildCache"],
            Value::Array(vec![]),
            "build cache is not part of a snapshot"
        );
    }
}

/// A healthy store of every driver a real engine here writes gives nothing above info, both
/// live and from its snapshot.
#[test]
fn every_healthy_store_checks_clean() {
    for scenario in Scenario::ALL {
        let store = store(scenario);
        for (label, source) in sources(store, &format!("clean-{}", scenario.name())) {
            let o = storesnap(&with_source("check", &source, &["--format", "json"]));
            let report: Value = serde_json::from_slice(&o.stdout).unwrap();
            let above_info: Vec<&Value> = report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["severity"] != "info")
                .collect();
            assert!(
                above_info.is_empty(),
                "{} ({label}): {above_info:#?}",
                scenario.name()
            );
            assert_eq!(o.status.code(), Some(0), "{} ({label})", scenario.name());
        }
    }
}

#[test]
fn history_names_images_like_docker() {
    let store = store(Scenario::Basic);
    let root = store.root.to_str().unwrap();
    let by_tag = run(&[
        "history",
        "--root",
        root,
        "local/app:v1",
        "--no-trunc",
        "--format",
        "json",
    ]);
    let ids = std::fs::read_to_string(store.oracle.join("image-ids.txt")).unwrap();
    let top = lines(&by_tag)[0]["ID"].as_str().unwrap().to_owned();
    assert!(ids.lines().any(|l| l == top));
    let by_prefix = run(&[
        "history",
        "--root",
        root,
        &top[7..19],
        "--no-trunc",
        "--format",
        "json",
    ]);
    assert_eq!(by_tag, by_prefix);
    let o = storesnap_env(&["history", "--root", root, "nope:1"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no such image: nope:1"));
}

/// `docker system df` without `-v`: the summary rows. Build cache lives in buildkit/, which a
/// snapshot does not hold, so that row is ours alone.
#[test]
fn df_summary_matches_docker_system_df() {
    for scenario in Scenario::ALL {
        let store = store(scenario);
        let docker: Vec<Value> =
            lines(&std::fs::read_to_string(store.oracle.join("system-df-summary.jsonl")).unwrap())
                .into_iter()
                .filter(|r| r["Type"] != "Build Cache")
                .collect();
        assert_eq!(docker.len(), 3);
        for (label, source) in sources(store, &format!("df-summary-{}", scenario.name())) {
            let ours: Vec<Value> = lines(&run(&with_source("df", &source, &["--format", "json"])))
                .into_iter()
                .filter(|r| r["Type"] != "Build Cache")
                .collect();
            assert_eq!(ours, docker, "{} df ({label})", scenario.name());
        }
    }
}
