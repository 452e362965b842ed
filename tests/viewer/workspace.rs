//! The triage workspace in a real browser: one screen at two widths, and a damaged real store
//! opened on its problem.

use std::time::Duration;

use super::*;

/// The workspace is one screen, with the page's own styles: the page does not scroll, and the
/// findings, the graph and the inspector all start on it, wide and narrow, in both browsers.
#[test]
fn the_workspace_is_one_screen() {
    let store = store(Scenario::Full);
    let dir = scratch("viewer-workspace");
    let snapshot = dir.join("store.tar.gz");
    pack(&store.root, &snapshot, &["-q"]);
    let url = serve(viewer_dist(&dir));
    for engine in Engine::ALL {
        one_screen(engine, &url, &snapshot);
    }
}

fn one_screen(engine: Engine, url: &str, snapshot: &std::path::Path) {
    let browser = Browser::start_in(engine);
    browser.goto(url);
    let input = browser.wait_for("input[type=file]").remove(0);
    browser.send_keys(&input, snapshot.to_str().unwrap());
    browser.wait_for("[data-chain-id]");
    // Wide, and narrow enough that the inspector goes under the graph.
    for width in [1400, 1024] {
        browser.set_window_size(width, 900);
        std::thread::sleep(Duration::from_millis(300));
        let m = browser.execute(
            "const top = s => document.querySelector(s).getBoundingClientRect().top; \
             return [document.documentElement.scrollHeight, window.innerHeight, \
                     top('#findings'), top('svg#graph'), top('#details')]",
        );
        let m: Vec<f64> = m
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let (page, screen) = (m[0], m[1]);
        assert!(
            page <= screen + 1.0,
            "{engine:?} at {width}px: the page is {page}px in a {screen}px window"
        );
        for (name, top) in ["findings", "graph", "details"].iter().zip(&m[2..]) {
            assert!(
                *top < screen,
                "{engine:?} at {width}px: {name} starts at {top}, below {screen}"
            );
        }
        if width == 1400 {
            let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("viewer-workspace-{}.png", engine.name()));
            browser.screenshot(&shot);
        }
        // Narrow, the inspector is under the graph; wide, beside it.
        let (graph, details) = (m[3], m[4]);
        if width < 1200 {
            assert!(
                details > graph + 100.0,
                "{engine:?} at {width}px: the inspector is under the graph"
            );
        } else {
            assert!(
                (details - graph).abs() < 80.0,
                "{engine:?} at {width}px: the inspector is beside the graph"
            );
        }
    }
}

/// A real store with one layer gone from layerdb: the viewer opens on the worst finding, draws
/// the missing layer as a ghost where it was, and its inspector says what to do, in both
/// browsers.
#[test]
fn the_viewer_opens_a_damaged_store_on_its_problem() {
    let root = copy_store(store(Scenario::Full), "viewer-damaged");
    let layerdb = root.join("image/overlay2/layerdb/sha256");
    // A middle layer: it has a parent, and another layer names it as theirs.
    let parents: Vec<String> = std::fs::read_dir(&layerdb)
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.unwrap().path().join("parent")).ok())
        .collect();
    let gone = std::fs::read_dir(&layerdb)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let name = format!("sha256:{}", p.file_name().unwrap().to_str().unwrap());
            p.join("parent").exists() && parents.contains(&name)
        })
        .unwrap();
    let chain = format!("sha256:{}", gone.file_name().unwrap().to_str().unwrap());
    std::fs::remove_dir_all(&gone).unwrap();
    let dir = scratch("viewer-damaged-snapshot");
    let snapshot = dir.join("damaged.tar.gz");
    pack(&root, &snapshot, &["-q"]);
    let url = serve(viewer_dist(&dir));
    for engine in Engine::ALL {
        opens_on_the_problem(engine, &url, &snapshot, &chain);
    }
}

fn opens_on_the_problem(engine: Engine, url: &str, snapshot: &std::path::Path, chain: &str) {
    let browser = Browser::start_in(engine);
    browser.goto(url);
    let input = browser.wait_for("input[type=file]").remove(0);
    browser.send_keys(&input, snapshot.to_str().unwrap());
    let ghost = browser.wait_for(&format!("[data-chain-id='{chain}'][data-missing]"));
    assert_eq!(ghost.len(), 1);
    // Opened on the first error, whose hint the inspector shows.
    let details = browser.wait_for("#details").remove(0);
    let problems = browser.wait_for("#problems").remove(0);
    assert!(!browser.text(&details).is_empty());
    assert!(
        browser.text(&problems).contains("remove"),
        "{}",
        browser.text(&problems)
    );
    let ghost_box = browser.wait_for(&format!("[data-chain-id='{chain}'][data-missing] rect"));
    browser.click_center(&ghost_box[0]);
    eventually(1, || browser.find_all("#details[data-missing]").len());
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("viewer-damaged-{}.png", engine.name()));
    browser.screenshot(&shot);
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);
}
