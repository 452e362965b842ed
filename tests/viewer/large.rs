//! The viewer on large real stores: 1,600 layers on a shared base, and 15,560 layers in the
//! shape large stores take, with the page's long tasks recorded. The figures are printed, and
//! written for `scripts/bench-viewer` when `STORESNAP_VIEWER_FIGURES` names a file; the budgets
//! are that benchmark's to show, not these tests' to assert (timings vary with the machine).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::*;

/// A store far larger than the harness scenarios: 1,600 layers in 26 images on a shared
/// 40-layer base, written by a real Docker 28 (it loads layers far faster than 20.10). Every
/// layer can be drawn and selected. The times are printed for the record (they include
/// WebDriver round trips), not asserted.
#[test]
#[allow(clippy::print_stderr)] // The figures are for the record; `--nocapture` shows them.
fn the_viewer_stays_usable_at_1600_layers() {
    let dir = scratch("bulk");
    engine_script_env(
        "bulk",
        &[dir.to_str().unwrap(), "1600", "40"],
        &[("ENGINE", "28"), ("MODE", "graph")],
    );
    let snapshot = dir.join("bulk.tar.gz");
    pack(&dir.join("root"), &snapshot, &["-q"]);
    let dist = viewer_dist(&dir);
    let browser = Browser::start();
    browser.goto(&serve(dist));
    let input = browser.wait_for("input[type=file]").remove(0);
    let start = Instant::now();
    browser.send_keys(&input, snapshot.to_str().unwrap());
    browser.wait_for("[data-chain-id]");
    let opened = start.elapsed();
    let timing = browser.wait_for("#timing").remove(0);
    let (read_ms, check_ms) = (
        browser.attribute(&timing, "data-read-ms"),
        browser.attribute(&timing, "data-check-ms"),
    );

    // Only what is in view is drawn; Fit brings everything into view.
    let fit = |browser: &Browser| {
        click_in_page(browser, "#zoom-fit");
        std::thread::sleep(Duration::from_millis(200));
    };
    fit(&browser);
    let (nodes, in_runs) = drawn(&browser);
    assert_eq!(nodes + in_runs, 1600);
    assert!(in_runs > 0, "long single-child runs start collapsed");
    // The 26 images on the shared base fold into one family named after them.
    let families = browser.find_all("[data-family]");
    assert_eq!(families.len(), 1);
    let label = browser.text(&families[0]);
    assert!(label.contains("26 images bulk/img"), "{label}");

    // Open every fold, one click each, until all 1,600 layers are drawn.
    let mut clicks = 0;
    let mut slowest = Duration::ZERO;
    while !browser.find_all("[data-run-count]").is_empty() {
        let before = browser.find_all("[data-chain-id]").len();
        let graph = || browser.execute("return document.querySelector('#graph').innerHTML.length");
        let drawing = graph();
        click_in_page(&browser, "[data-run-count]");
        // The new layout is drawn from its first view: the graph changes.
        slowest = slowest.max(time_until(|| graph() != drawing));
        fit(&browser);
        assert!(browser.find_all("[data-chain-id]").len() > before);
        clicks += 1;
        assert!(clicks <= 100, "folds do not stay open");
    }
    assert_eq!(drawn(&browser), (1600, 0));
    // A fold mark closes a run again, and opening it again brings every layer back.
    assert_eq!(browser.find_all("[data-fold]").len(), clicks);
    click_in_page(&browser, "[data-fold]");
    fit(&browser);
    time_until(|| !browser.find_all("[data-run-count]").is_empty());
    click_in_page(&browser, "[data-run-count]");
    fit(&browser);
    time_until(|| browser.find_all("[data-chain-id]").len() == 1600);

    // Many images: the timeline groups them into stretches of time, under round ticks.
    let buckets: usize = browser
        .find_all("[data-bucket-count]")
        .iter()
        .map(|b| {
            browser
                .attribute(b, "data-bucket-count")
                .parse::<usize>()
                .unwrap()
        })
        .sum();
    let single = browser
        .find_all("#store-timeline [data-timeline-image]")
        .len();
    assert!(
        buckets > 0 && buckets + single == 26,
        "{buckets} + {single}"
    );
    let ticks: Vec<String> = browser
        .find_all("#store-timeline [data-tick]")
        .iter()
        .map(|t| browser.text(t))
        .collect();
    let distinct: std::collections::BTreeSet<&String> = ticks.iter().collect();
    assert!(
        ticks.len() >= 2 && distinct.len() == ticks.len(),
        "{ticks:?}"
    );

    // Select the last layer drawn; the details panel names it, the arrow keys move on.
    let last = browser.find_all("[data-chain-id]").pop().unwrap();
    let chain = browser.attribute(&last, "data-chain-id");
    let css = format!("[data-chain-id='{chain}']");
    click_in_page(&browser, &css);
    let select = time_until(|| {
        let d = browser.find_all("#details");
        !d.is_empty() && browser.text(&d[0]).contains(&chain)
    });
    browser.execute(
        "document.querySelector('#graph').dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowUp', bubbles: true}))",
    );
    time_until(|| {
        let s = browser.find_all(".node.selected");
        s.len() == 1 && browser.attribute(&s[0], "data-chain-id") != chain
    });
    eprintln!(
        "viewer at 1600 layers ({} KB snapshot): opened and drawn in {} ms (read {read_ms} ms, \
         checked {check_ms} ms in the worker); {clicks} folds opened, slowest {} ms; \
         selection shown in {} ms",
        std::fs::metadata(&snapshot).unwrap().len() / 1024,
        opened.as_millis(),
        slowest.as_millis(),
        select.as_millis()
    );
}

/// The longest main-thread task (`longtask` entries are those over 50 ms) since the last call,
/// in ms; 0 when there was none.
fn longest_task(browser: &Browser) -> f64 {
    let v = browser.execute(
        "const d = window.longTasks || []; window.longTasks = []; return Math.max(0, ...d);",
    );
    v.as_f64().unwrap()
}

/// A 15,000-layer store in the shape large stores take (a base, groups, sub-groups, many
/// images in each; tests/harness/tree), written by a real Docker 28. It opens, zooms and pans,
/// and every layer is drawn or folded. The page's longest tasks are recorded (reading, loading,
/// checking and layout happen in the worker; only what is in view is drawn) for
/// `scripts/bench-viewer`, which shows them beside their budgets.
#[test]
#[allow(clippy::print_stderr)] // The figures are for the record; `--nocapture` shows them.
fn the_viewer_opens_15000_layers() {
    let dir = scratch("tree");
    let root = match std::env::var_os("STORESNAP_TREE_ROOT") {
        // A store made earlier by `tests/harness/tree DIR 15000` (for working on the viewer).
        Some(root) => PathBuf::from(root),
        None => {
            engine_script_env(
                "tree",
                &[dir.to_str().unwrap(), "15000"],
                &[("ENGINE", "28"), ("MODE", "graph")],
            );
            dir.join("root")
        }
    };
    let layers = std::fs::read_dir(root.join("image/overlay2/layerdb/sha256"))
        .unwrap()
        .count();
    assert!(layers >= 15_000, "{layers} layers");
    let snapshot = dir.join("tree.tar.gz");
    pack(&root, &snapshot, &["-q"]);
    let browser = Browser::start();
    browser.goto(&serve(viewer_dist(&dir)));
    browser.execute(
        "window.longTasks = []; new PerformanceObserver(list => { \
           for (const e of list.getEntries()) window.longTasks.push(e.duration); \
         }).observe({entryTypes: ['longtask']});",
    );
    let input = browser.wait_for("input[type=file]").remove(0);
    let start = Instant::now();
    browser.send_keys(&input, snapshot.to_str().unwrap());
    while browser.find_all("[data-chain-id]").is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "not open in 5 minutes"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let opened = start.elapsed();
    std::thread::sleep(Duration::from_millis(500));
    let opening = longest_task(&browser);
    let timing = browser.wait_for("#timing").remove(0);
    let (read_ms, check_ms, layout_ms, parse_ms, step_ms) = (
        browser.attribute(&timing, "data-read-ms"),
        browser.attribute(&timing, "data-check-ms"),
        browser.attribute(&timing, "data-layout-ms"),
        browser.attribute(&timing, "data-parse-ms"),
        browser.attribute(&timing, "data-longest-step-ms"),
    );

    // Zoom out step by step with the wheel, then pan, as a user looks around.
    let view_box =
        || browser.execute("return document.querySelector('#graph').getAttribute('viewBox')");
    let first_view = view_box();
    for _ in 0..12 {
        browser.execute(
            "document.querySelector('#graph').dispatchEvent(new WheelEvent('wheel', \
               {deltaY: 100, clientX: 600, clientY: 300, bubbles: true, cancelable: true}))",
        );
        std::thread::sleep(Duration::from_millis(60));
    }
    for step in 0..10 {
        let (x0, x1) = (400 + step * 20, 380 + step * 20);
        browser.execute(&format!(
            "const g = document.querySelector('#graph'); \
             g.dispatchEvent(new MouseEvent('mousedown', {{clientX: {x0}, clientY: 300, buttons: 1, bubbles: true}})); \
             g.dispatchEvent(new MouseEvent('mousemove', {{clientX: {x1}, clientY: 340, buttons: 1, bubbles: true}})); \
             g.dispatchEvent(new MouseEvent('mouseup', {{clientX: {x1}, clientY: 340, bubbles: true}}));"
        ));
        std::thread::sleep(Duration::from_millis(60));
    }
    std::thread::sleep(Duration::from_millis(300));
    let moving = longest_task(&browser);
    assert_ne!(
        view_box(),
        first_view,
        "the wheel and dragging move the view"
    );

    // Every layer is drawn, or folded into a node that says how many it holds.
    click_in_page(&browser, "#zoom-fit");
    std::thread::sleep(Duration::from_millis(300));
    let (nodes, folded) = drawn(&browser);
    assert_eq!(nodes + folded, layers);
    let families = browser.find_all("[data-family]");
    assert!(families.len() >= 50, "{} families", families.len());
    let label = browser.text(&families[0]);
    assert!(label.contains("images tree/g"), "{label}");
    let fitted = longest_task(&browser);

    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("viewer-15000.png");
    browser.screenshot(&shot);
    let figures = format!(
        "viewer at {layers} layers ({} KB snapshot): first nodes drawn in {} ms (worker: read \
         {read_ms} ms, checked {check_ms} ms, laid out {layout_ms} ms; page: took the parts in {parse_ms} \
         ms, longest step {step_ms} ms); longest page task opening {opening} ms, zooming and \
         panning {moving} ms, fitting all {nodes} nodes {fitted} ms",
        std::fs::metadata(&snapshot).unwrap().len() / 1024,
        opened.as_millis(),
    );
    eprintln!("{figures}");
    if let Some(path) = std::env::var_os("STORESNAP_VIEWER_FIGURES") {
        let json = serde_json::json!({
            "layers": layers,
            "snapshot_kb": std::fs::metadata(&snapshot).unwrap().len() / 1024,
            "first_drawn_ms": opened.as_millis() as u64,
            "worker_read_ms": read_ms,
            "worker_check_ms": check_ms,
            "worker_layout_ms": layout_ms,
            "page_parse_ms": parse_ms,
            "page_longest_step_ms": step_ms,
            "longest_task_opening_ms": opening,
            "longest_task_moving_ms": moving,
            "longest_task_fit_ms": fitted,
            "nodes_at_fit": nodes,
        });
        std::fs::write(path, json.to_string()).unwrap();
    }
}
