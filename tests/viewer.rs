use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::webdriver::{serve, Browser};
use crate::support::*;

/// Polls until `f` gives `want` or 10 s pass; returns the last value.
fn eventually(want: usize, mut f: impl FnMut() -> usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = f();
        if got == want || Instant::now() > deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The viewer as users get it: built by Trunk, served from 127.0.0.1, a snapshot packed from a
/// real store uploaded through the file input of headless Chromium.
#[test]
fn the_viewer_shows_a_packed_store() {
    let store = store(Scenario::Full);
    let dir = scratch("viewer");
    let snapshot = dir.join("store.tar.gz");
    pack(&store.root, &snapshot, &["-q"]);
    let dist = dir.join("dist");
    let built = Command::new("trunk")
        .args(["build", "--offline", "--dist"])
        .arg(&dist)
        .current_dir(repo_root())
        .output()
        .expect("trunk (scripts/setup installs it)");
    assert!(
        built.status.success(),
        "trunk build: {}",
        String::from_utf8_lossy(&built.stderr)
    );

    let browser = Browser::start();
    let site = serve(dist.clone());
    browser.goto(&site);
    let input = browser.wait_for("input[type=file]").remove(0);
    browser.send_keys(&input, snapshot.to_str().unwrap());
    browser.wait_for("[data-chain-id]");

    // One node per layer: each layer is drawn on its own or counted inside a collapsed run.
    let layers = find(&store.root)
        .into_iter()
        .filter(|(p, k)| {
            *k == 'd'
                && p.starts_with("image/overlay2/layerdb/sha256/")
                && p.matches('/').count() == 4
        })
        .count();
    let nodes = browser.find_all("[data-chain-id]").len();
    let in_runs: usize = browser
        .find_all("[data-run-count]")
        .iter()
        .map(|e| {
            browser
                .attribute(e, "data-run-count")
                .parse::<usize>()
                .unwrap()
        })
        .sum();
    assert_eq!(nodes + in_runs, layers);

    // Every image, intermediate ones too: its timeline has a row per `docker history` line.
    browser.click(&browser.wait_for("#all-images")[0]);
    let ids = std::fs::read_to_string(store.oracle.join("image-ids.txt")).unwrap();
    for id in ids.lines() {
        let docker =
            std::fs::read_to_string(store.oracle.join(format!("history/{}.jsonl", &id[7..])))
                .unwrap();
        let want = docker.lines().filter(|l| !l.is_empty()).count();
        browser.click(&browser.wait_for(&format!("tr[data-image-id='{id}']"))[0]);
        let got = eventually(want, || {
            browser.find_all("#timeline tr[data-history-index]").len()
        });
        assert_eq!(got, want, "timeline rows of {id}");
    }

    // A picture to look at: the last image selected, its chain lit in the graph.
    browser.execute("window.scrollTo(0, 0)");
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("viewer-e2e.png");
    browser.screenshot(&shot);
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 10_000,
        "the screenshot is not blank"
    );
    // A link to a snapshot: `#url=` fetches it (the query string makes it a real navigation).
    std::fs::copy(&snapshot, dist.join("linked.tar.gz")).unwrap();
    browser.goto(&format!("{site}?linked#url=linked.tar.gz"));
    browser.wait_for("[data-chain-id]");
    let heading = browser.wait_for("#overview h2").remove(0);
    assert_eq!(browser.text(&heading), "linked.tar.gz");
    browser.goto(&format!("{site}?missing#url=missing.tar.gz"));
    let error = browser.wait_for("#error").remove(0);
    let message = browser.text(&error);
    assert!(
        message.contains("could not fetch missing.tar.gz: HTTP 404"),
        "{message}"
    );
}
