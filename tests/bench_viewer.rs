//! A measurement, not a test: run by scripts/bench-archive and scripts/bench-wasm
//! (`--test bench-viewer`), never by `cargo test`. Opens the archive in $BENCH_ARCHIVE in the
//! viewer in headless Chromium and prints how long the worker took to hash it, next to the
//! CLI's time in $BENCH_CLI_SECONDS; or opens the snapshot in $BENCH_SNAPSHOT $BENCH_RUNS times
//! (each on a freshly loaded page, picked once its spare worker has warmed up) and prints the
//! best read and check times the page reports, and the time from the pick to the page.

#[allow(dead_code)]
mod support;

use std::time::{Duration, Instant};

use support::webdriver::{serve, Browser};

#[test]
fn viewer_snapshot_times() {
    let Some(snapshot) = std::env::var_os("BENCH_SNAPSHOT") else {
        return;
    };
    let runs: usize = env_number("BENCH_RUNS", 3);
    // `storesnap check` on the same file, natively, to print the ratio against.
    let cli_ms: f64 = env_number("BENCH_CLI_MS", 0.0);
    let browser = Browser::start();
    let site = serve(support::repo_root().join("dist"));
    // (read, check, layout, shown) of the run whose read and check took least.
    let mut best: Option<(f64, f64, f64, f64)> = None;
    for _ in 0..runs {
        browser.goto(&site);
        let input = browser.wait_for("input[type=file]").remove(0);
        // As a user would: the file is picked once the page has loaded and its spare worker
        // has warmed up (about a second), not the instant the page appears.
        browser.wait_for(".app[data-worker-warmed]");
        browser.send_keys(&input, snapshot.to_str().unwrap());
        let started = Instant::now();
        let timing = loop {
            if let Some(t) = browser.find_all("#timing").first() {
                break t.clone();
            }
            if started.elapsed() > Duration::from_secs(300) {
                let page = browser.execute("return document.body.innerText");
                panic!("the viewer did not open the snapshot in 5 minutes; it shows: {page}");
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let ms = |name| browser.attribute(&timing, name).parse::<f64>().unwrap();
        let run = (
            ms("data-read-ms"),
            ms("data-check-ms"),
            ms("data-layout-ms"),
            started.elapsed().as_secs_f64() * 1000.0,
        );
        let memory: f64 = browser
            .attribute(&timing, "data-worker-memory")
            .parse()
            .unwrap_or(0.0);
        println!(
            "  run: read {:.0} ms, checked {:.0} ms, laid out {:.0} ms; shown after {:.0} ms; worker memory {:.0} MB",
            run.0,
            run.1,
            run.2,
            run.3,
            memory / 1e6
        );
        if best.is_none_or(|b| run.0 + run.1 < b.0 + b.1) {
            best = Some(run);
        }
    }
    let (read, check, layout, shown) = best.expect("at least one run");
    println!("wasm: read {read:.0} ms + checked {check:.0} ms = {:.0} ms, then laid out {layout:.0} ms (best of {runs}, Chromium worker); from the pick to the page showing it {shown:.0} ms (polled every 100 ms)", read + check);
    if cli_ms > 0.0 {
        println!(
            "wasm / native: read + check {:.2}x `storesnap check` ({cli_ms:.0} ms); with the layout {:.2}x",
            (read + check) / cli_ms,
            (read + check + layout) / cli_ms
        );
    }
}

#[test]
fn viewer_throughput() {
    let Some(archive) = std::env::var_os("BENCH_ARCHIVE") else {
        return;
    };
    let cli: f64 = env_number("BENCH_CLI_SECONDS", 0.0);
    let size = std::fs::metadata(&archive).unwrap().len() as f64;
    let browser = Browser::start();
    browser.goto(&serve(support::repo_root().join("dist")));
    let input = browser.wait_for("input[type=file]").remove(0);
    let started = Instant::now();
    browser.send_keys(&input, archive.to_str().unwrap());
    // The progress bar moves while the worker hashes: the page stays responsive to queries.
    let mut progress_seen = 0;
    let timing = loop {
        if let Some(t) = browser.find_all("#timing").first() {
            break t.clone();
        }
        if !browser.find_all("#progress").is_empty() {
            progress_seen += 1;
        }
        assert!(started.elapsed() < Duration::from_secs(1800), "no result");
        std::thread::sleep(Duration::from_millis(250));
    };
    let read_ms: f64 = browser.attribute(&timing, "data-read-ms").parse().unwrap();
    let check_ms: f64 = browser.attribute(&timing, "data-check-ms").parse().unwrap();
    let memory: f64 = browser
        .attribute(&timing, "data-worker-memory")
        .parse()
        .unwrap_or(0.0);
    let read = read_ms / 1000.0;
    println!(
        "viewer (Chromium, worker over Blob slices): {:.3}s to hash {:.0} MB = {:.0} MB/s, then {check_ms:.0} ms to load and check; worker memory {:.0} MB; progress polled {progress_seen} times while it ran",
        read,
        size / 1e6,
        size / read / 1e6,
        memory / 1e6
    );
    if cli > 0.0 {
        println!(
            "  storesnap check (CLI) on the same file: {cli:.3}s = {:.0} MB/s; viewer / CLI throughput: {:.2}x",
            size / cli / 1e6,
            cli / read
        );
    }
}

/// The number in the environment variable `name`, or `default` where it is unset or no number.
fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}
