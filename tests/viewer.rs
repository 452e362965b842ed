use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
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

/// Layers the graph draws: (nodes of their own, layers inside collapsed runs).
fn drawn(browser: &Browser) -> (usize, usize) {
    let in_runs = browser
        .find_all("[data-run-count]")
        .iter()
        .map(|e| {
            browser
                .attribute(e, "data-run-count")
                .parse::<usize>()
                .unwrap()
        })
        .sum();
    (browser.find_all("[data-chain-id]").len(), in_runs)
}

/// The viewer built by Trunk into a fresh `dir/dist` (tests add files to it).
fn viewer_dist(dir: &Path) -> PathBuf {
    // Trunk builds into the shared target dir: one build at a time.
    static TRUNK: Mutex<()> = Mutex::new(());
    let _one = TRUNK.lock().unwrap_or_else(|e| e.into_inner());
    let dist = dir.join("dist");
    let built = Command::new("trunk")
        .args(["build", "--release", "--offline", "--dist"])
        .arg(&dist)
        .current_dir(repo_root())
        .output()
        .expect("trunk (scripts/setup installs it)");
    assert!(
        built.status.success(),
        "trunk build: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    dist
}

/// The viewer as users get it: built by Trunk, served from 127.0.0.1, a snapshot packed from a
/// real store uploaded through the file input of headless Chromium.
#[test]
fn the_viewer_shows_a_packed_store() {
    let store = store(Scenario::Full);
    let dir = scratch("viewer");
    let snapshot = dir.join("store.tar.gz");
    pack(&store.root, &snapshot, &["-q"]);
    let dist = viewer_dist(&dir);

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
    let (nodes, in_runs) = drawn(&browser);
    assert_eq!(nodes + in_runs, layers);

    // "Copy report" gives what `storesnap report` prints for the same file, byte for byte.
    let cli = storesnap(&["report", snapshot.to_str().unwrap()]);
    assert!(cli.status.success());
    let cli = String::from_utf8(cli.stdout).unwrap();
    browser.click(&browser.wait_for("#report summary").remove(0));
    browser.click(&browser.wait_for("#copy-report").remove(0));
    let notice = browser.wait_for("#copy-notice").remove(0);
    assert_eq!(
        browser.text(&notice),
        "Copied.",
        "a real click may write the clipboard"
    );
    let copied =
        browser.execute("return navigator.clipboard.readText().catch(e => 'unreadable: ' + e)");
    let copied = copied.as_str().unwrap_or_default();
    let shown = browser.execute("return document.querySelector('#report-text').value");
    assert_eq!(shown.as_str().unwrap(), cli, "the report the viewer shows");
    if !copied.starts_with("unreadable: ") {
        assert_eq!(copied, cli, "the report on the clipboard");
    }
    browser.click(&browser.wait_for("#report summary").remove(0));

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

    // A picture to look at: an image with a real history selected, its chain lit in the graph.
    browser.execute(
        "[...document.querySelectorAll('tr[data-image-id]')]\
           .find(r => r.cells[0].textContent == 'local/app' && r.cells[1].textContent == 'classic')\
           .click()",
    );
    eventually(1, || browser.find_all("#details").len());
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

/// A containerd snapshot in the viewer: the same panes (graph by chainID, images, history,
/// findings), and per image its records, index, platform manifests, snapshots and leases.
#[test]
fn the_viewer_shows_a_containerd_store() {
    let store = store(Scenario::D28Containerd);
    let dir = scratch("viewer-containerd");
    let snapshot = dir.join("store.tar.gz");
    let gz = pack(&store.root, &snapshot, &["-q"]);
    let (model, _) = storesnap_core::analyze(&read_snapshot(&gz));
    let cd = model.containerd.as_deref().unwrap();
    let dist = viewer_dist(&dir);

    let browser = Browser::start();
    browser.goto(&serve(dist));
    let input = browser.wait_for("input[type=file]").remove(0);
    browser.send_keys(&input, snapshot.to_str().unwrap());
    browser.wait_for("[data-chain-id]");
    let (nodes, in_runs) = drawn(&browser);
    assert_eq!(nodes + in_runs, model.layers.len(), "one node per chainID");
    assert!(browser.find_all("#findings").len() == 1);

    // An index with an attestation: both manifests listed, the host's marked as used.
    let bk = model
        .images
        .values()
        .find(|i| i.tags.iter().any(|t| t.as_str() == "local/bk:1"))
        .unwrap();
    let target = &cd.targets[&bk.id];
    assert!(target.index);
    browser.click(&browser.wait_for(&format!("tr[data-image-id='{}']", bk.id))[0]);
    let rows = eventually(target.manifests.len(), || {
        browser
            .find_all("#containerd-manifests tr[data-manifest]")
            .len()
    });
    assert_eq!(rows, target.manifests.len());
    let chosen = browser.find_all("#containerd-manifests tr.chosen");
    assert_eq!(chosen.len(), 1);
    assert_eq!(
        browser.attribute(&chosen[0], "data-platform"),
        "linux/amd64"
    );
    let kinds = browser.execute("return [...document.querySelectorAll('#containerd-manifests tr[data-manifest]')].map(r => r.cells[2].textContent).join('|')");
    assert!(kinds.as_str().unwrap().contains("attestation"), "{kinds}");
    let records = browser
        .find_all("#containerd-records tr[data-record]")
        .len();
    assert_eq!(records, cd.records_of(&bk.id).count());
    assert_eq!(
        browser
            .find_all("#containerd .containerd-snapshots tr[data-snapshot]")
            .len(),
        bk.chain().len()
    );

    // A container's image: the lease that holds its snapshots is named.
    let app = model
        .images
        .values()
        .find(|i| i.tags.iter().any(|t| t.as_str() == "local/app:classic"))
        .unwrap();
    browser.click(&browser.wait_for(&format!("tr[data-image-id='{}']", app.id))[0]);
    eventually(1, || {
        browser
            .find_all("#containerd-leases li[data-lease]")
            .len()
            .min(1)
    });
    let leases: Vec<String> = browser
        .find_all("#containerd-leases li[data-lease]")
        .iter()
        .map(|l| browser.attribute(l, "data-lease"))
        .collect();
    let container_leases = model
        .containers
        .values()
        .filter(|c| c.image.as_ref() == Some(&app.id))
        .count();
    assert!(leases.len() >= container_leases, "{leases:?}");
    assert!(browser
        .text(&browser.find_all("#details")[0])
        .contains("sha256(manifest) = ID"));
}

/// A containerd finding about a blob selects the image made of it.
#[test]
fn a_containerd_finding_selects_its_image() {
    let root = copy_store(store(Scenario::D28Containerd), "viewer-cd-damage");
    let dir = scratch("viewer-cd-damage-out");
    let (model, _) = storesnap_core::analyze(&read_snapshot(&pack(
        &root,
        &dir.join("before.tar.gz"),
        &["-q"],
    )));
    let cd = model.containerd.as_deref().unwrap();
    let image = model
        .images
        .values()
        .find(|i| i.tags.iter().any(|t| t.as_str() == "local/leaf-a:1"))
        .unwrap();
    let target = &cd.targets[&image.id];
    let config = target.manifests[target.chosen.unwrap()]
        .config
        .clone()
        .unwrap()
        .digest;
    let blob = root.join(format!(
        "containerd/daemon/io.containerd.content.v1.content/blobs/sha256/{}",
        config.hex()
    ));
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes.push(b' ');
    std::fs::write(&blob, bytes).unwrap();
    let snapshot = dir.join("damaged.tar.gz");
    pack(&root, &snapshot, &["-q"]);
    let dist = viewer_dist(&dir);

    let browser = Browser::start();
    browser.goto(&serve(dist));
    let input = browser.wait_for("input[type=file]").remove(0);
    browser.send_keys(&input, snapshot.to_str().unwrap());
    let finding = browser
        .wait_for("li[data-finding-code='blob-digest-mismatch']")
        .remove(0);
    browser.click(&finding);
    eventually(1, || {
        browser
            .find_all("#containerd-records tr[data-record]")
            .len()
            .min(1)
    });
    let records: Vec<String> = browser
        .find_all("#containerd-records tr[data-record]")
        .iter()
        .map(|r| browser.attribute(r, "data-record"))
        .collect();
    assert!(
        records.iter().any(|r| r == "docker.io/local/leaf-a:1"),
        "{records:?}"
    );
}

/// Clicks the first element matching `css` from inside the page: SVG nodes panned out of view
/// are not clickable through WebDriver, but users reach them by panning.
fn click_in_page(browser: &Browser, css: &str) {
    browser.execute(&format!(
        "document.querySelector({css:?}).dispatchEvent(new MouseEvent('click', {{bubbles: true}}))"
    ));
}

/// Polls `f` every 10 ms until it holds (or 30 s pass); returns how long that took.
fn time_until(mut f: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < Duration::from_secs(30), "timed out");
        std::thread::sleep(Duration::from_millis(10));
    }
    start.elapsed()
}

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

/// Runs `storesnap view ARGS --no-open` and returns the child and the address it printed.
fn start_view(args: &[&str]) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_storesnap"))
        .arg("view")
        .args(args)
        .arg("--no-open")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    if line.is_empty() {
        let out = child.wait_with_output().unwrap();
        panic!(
            "storesnap view printed no address: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    (child, line.trim().to_owned())
}

/// `storesnap view` serves the viewer embedded in the binary with the snapshot preloaded, on
/// 127.0.0.1 only; with no snapshot it packs the data root first.
#[test]
fn storesnap_view_serves_the_embedded_viewer() {
    let store = store(Scenario::Full);
    let dir = scratch("view");
    let snapshot = dir.join("s.tar.gz");
    pack(&store.root, &snapshot, &["-q"]);
    let layers = read_snapshot(&std::fs::read(&snapshot).unwrap())
        .manifest
        .counts
        .layers as usize;
    let browser = Browser::start();
    for args in [
        vec![snapshot.to_str().unwrap()],
        vec!["--root", store.root.to_str().unwrap()],
    ] {
        let (mut child, url) = start_view(&args);
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        assert!(url.ends_with("/#url=snapshot.tar.gz"), "{url}");
        browser.goto(&url);
        browser.wait_for("[data-chain-id]");
        let nodes = eventually(layers, || {
            let (nodes, in_runs) = drawn(&browser);
            nodes + in_runs
        });
        assert_eq!(nodes, layers, "{args:?}");
        // Only its own files and the snapshot are served.
        let base = url.split('#').next().unwrap();
        let missing = ureq::get(&format!("{base}../../etc/passwd")).call();
        assert!(
            matches!(missing, Err(ureq::Error::Status(404, _))),
            "{args:?}"
        );
        // DNS rebinding: a page on another site reaches 127.0.0.1 under its own name, which the
        // server refuses; its own names are answered.
        let addr = base.trim_start_matches("http://").trim_end_matches('/');
        let port = addr.rsplit(':').next().unwrap();
        for (host, status) in [
            ("evil.example".to_owned(), "421"),
            (format!("evil.example:{port}"), "421"),
            (format!("localhost:{port}"), "200"),
            (addr.to_owned(), "200"),
        ] {
            let reply = raw_get(addr, "/snapshot.tar.gz", &host);
            assert!(
                reply.starts_with(&format!("HTTP/1.1 {status}")),
                "Host: {host}: {reply}"
            );
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    // A file that is not a snapshot is refused before anything is served.
    let bad = dir.join("bad.tar.gz");
    std::fs::write(&bad, b"not a snapshot").unwrap();
    let out = storesnap(&["view", bad.to_str().unwrap(), "--no-open"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not gzip-compressed"));
}

/// A GET with the `Host` header given, as another site's page would send it; the status line
/// and headers of the reply.
fn raw_get(addr: &str, path: &str, host: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = Vec::new();
    let _ = s.read_to_end(&mut reply);
    let text = String::from_utf8_lossy(&reply);
    text.split("\r\n\r\n").next().unwrap_or_default().to_owned()
}

/// `docker save` archives of every layout, picked in the viewer: hashed in the worker, drawn
/// like a store, every layer verified; a damaged one shows its finding; `storesnap view
/// ARCHIVE` opens one through `#url=`.
#[test]
fn the_viewer_reads_archives_in_a_worker() {
    use storesnap_core::source::archive;
    let dir = scratch("viewer-archives");
    let dist = viewer_dist(&dir);
    let browser = Browser::start();
    let site = serve(dist);
    let cases = [
        (Scenario::Full, "shared.tar", "Docker 1.10 to 24"),
        (Scenario::D28Graph, "buildkit.tar", "Docker 25+"),
        (
            Scenario::D28Containerd,
            "zstd.tar",
            "containerd image store",
        ),
        (Scenario::D28Containerd, "oci.tar", "OCI image layout"),
    ];
    for (scenario, name, layout) in cases {
        let path = crate::archives::archives(scenario).join(name);
        let file = std::fs::File::open(&path).unwrap();
        let (model, _) = archive::read(file, &Default::default(), &mut |_| {}).unwrap();
        browser.goto(&site);
        let input = browser.wait_for("input[type=file]").remove(0);
        browser.send_keys(&input, path.to_str().unwrap());
        browser.wait_for("[data-chain-id]");
        let layers = eventually(model.layers.len(), || {
            let (nodes, in_runs) = drawn(&browser);
            nodes + in_runs
        });
        assert_eq!(layers, model.layers.len(), "{name}: one node per chainID");
        let overview = browser.text(&browser.wait_for("#overview")[0]);
        assert!(overview.contains(layout), "{name}: {overview}");
        let all = model.layers.len();
        assert!(
            overview.contains(&format!("{all} of {all}")),
            "{name}: every layer verified: {overview}"
        );
        assert!(overview.contains("0 errors"), "{name}: {overview}");
        // The worker says what reading cost it: wasm memory, which holds no archive.
        let timing = browser.wait_for("#timing").remove(0);
        let memory: u64 = browser
            .attribute(&timing, "data-worker-memory")
            .parse()
            .unwrap();
        assert!(memory > 0 && memory < 256 << 20, "{name}: {memory}");
        assert_eq!(
            browser.find_all("tr[data-image-id]").len(),
            model.images.len(),
            "{name}"
        );
    }

    // A flipped byte in the base layer of a Docker 28 archive: found, and named.
    let original = crate::archives::archives(Scenario::D28Graph).join("single.tar");
    let mut bytes = std::fs::read(&original).unwrap();
    let file = std::fs::File::open(&original).unwrap();
    let (model, _) = archive::read(file, &Default::default(), &mut |_| {}).unwrap();
    let mid = bytes.len() / 3;
    bytes[mid] ^= 0x55;
    let damaged = dir.join("damaged.tar");
    std::fs::write(&damaged, &bytes).unwrap();
    let (_, found) = archive::read(bytes.as_slice(), &Default::default(), &mut |_| {}).unwrap();
    assert!(!found.is_empty());
    browser.goto(&site);
    let input = browser.wait_for("input[type=file]").remove(0);
    browser.send_keys(&input, damaged.to_str().unwrap());
    browser.wait_for("[data-chain-id]");
    let findings = browser.text(&browser.wait_for("#findings")[0]);
    for f in &found {
        assert!(
            findings.contains(f.code.as_str()),
            "{} in {findings}",
            f.code.as_str()
        );
    }
    drop(model);

    // `storesnap view ARCHIVE`: the archive is served, and the viewer reads it from the URL.
    let path = crate::archives::archives(Scenario::D28Containerd).join("buildkit.tar");
    let (mut child, url) = start_view(&[path.to_str().unwrap()]);
    browser.goto(&url);
    browser.wait_for("[data-chain-id]");
    let overview = browser.text(&browser.wait_for("#overview")[0]);
    assert!(overview.contains("containerd image store"), "{overview}");
    let _ = child.kill();
    let _ = child.wait();
}

/// A pre-1.10 store (made by hand: no engine writes one now) is drawn like any other: one node
/// per v1 layer, the tagged tip in the table.
#[test]
fn the_viewer_draws_a_pre_1_10_store() {
    let dir = scratch("viewer-legacy");
    let out = Command::new(repo_root().join("tests/harness/legacy"))
        .arg(&dir)
        .arg("seed001")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snapshot = dir.join("s.tar.gz");
    let gz = pack(&dir.join("root"), &snapshot, &["-q"]);
    let (model, findings) = storesnap_core::analyze(&read_snapshot(&gz));
    assert_eq!(model.layers.len(), 17);
    let browser = Browser::start();
    browser.goto(&serve(viewer_dist(&dir)));
    let input = browser.wait_for("input[type=file]").remove(0);
    browser.send_keys(&input, snapshot.to_str().unwrap());
    browser.wait_for("[data-chain-id]");
    let layers = eventually(model.layers.len(), || {
        let (nodes, in_runs) = drawn(&browser);
        nodes + in_runs
    });
    assert_eq!(layers, model.layers.len());
    assert_eq!(
        browser.find_all("tr[data-image-id]").len(),
        model.images.len()
    );
    let shown = browser.text(&browser.wait_for("#findings")[0]);
    for f in &findings {
        assert!(
            shown.contains(f.code.as_str()),
            "{} in {shown}",
            f.code.as_str()
        );
    }
}

/// The workspace is one screen, with the page's own styles: the page does not scroll, and the
/// findings, the graph and the inspector all start on it, wide and narrow.
#[test]
fn the_workspace_is_one_screen() {
    let store = store(Scenario::Full);
    let dir = scratch("viewer-workspace");
    let snapshot = dir.join("store.tar.gz");
    pack(&store.root, &snapshot, &["-q"]);
    let browser = Browser::start();
    browser.goto(&serve(viewer_dist(&dir)));
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
            "{width}px: the page is {page}px in a {screen}px window"
        );
        for (name, top) in ["findings", "graph", "details"].iter().zip(&m[2..]) {
            assert!(
                *top < screen,
                "{width}px: {name} starts at {top}, below {screen}"
            );
        }
        if width == 1400 {
            let shot =
                std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("viewer-workspace.png");
            browser.screenshot(&shot);
        }
        // Narrow, the inspector is under the graph; wide, beside it.
        let (graph, details) = (m[3], m[4]);
        if width < 1200 {
            assert!(
                details > graph + 100.0,
                "{width}px: the inspector is under the graph"
            );
        } else {
            assert!(
                (details - graph).abs() < 80.0,
                "{width}px: the inspector is beside the graph"
            );
        }
    }
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
/// images in each; tests/harness/tree), written by a real Docker 28. It opens and zooms without
/// long tasks on the page: reading, loading, checking and layout happen in the worker, and
/// only what is in view is drawn.
#[test]
#[allow(clippy::print_stderr)] // The figures are for the record; `--nocapture` shows them.
fn the_viewer_opens_15000_layers_without_long_tasks() {
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
    let (read_ms, check_ms, parse_ms, step_ms) = (
        browser.attribute(&timing, "data-read-ms"),
        browser.attribute(&timing, "data-check-ms"),
        browser.attribute(&timing, "data-parse-ms"),
        browser.attribute(&timing, "data-longest-step-ms"),
    );

    // Zoom out step by step with the wheel, then pan, as a user looks around.
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
    eprintln!(
        "viewer at {layers} layers ({} KB snapshot): first nodes drawn in {} ms (worker: read \
         {read_ms} ms, checked and laid out {check_ms} ms; page: took the parts in {parse_ms} \
         ms, longest step {step_ms} ms); longest page task opening {opening} ms, zooming and panning {moving} ms, fitting all {nodes} nodes {fitted} ms",
        std::fs::metadata(&snapshot).unwrap().len() / 1024,
        opened.as_millis(),
    );
    assert!(opening < 200.0, "a {opening} ms task while opening");
    assert!(
        moving < 50.0,
        "a {moving} ms task while zooming and panning"
    );
}

/// A real store with one layer gone from layerdb: the viewer opens on the worst finding, draws
/// the missing layer as a ghost where it was, and its inspector says what to do.
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
    let browser = Browser::start();
    browser.goto(&serve(viewer_dist(&dir)));
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
    browser.click(&ghost[0]);
    eventually(1, || browser.find_all("#details[data-missing]").len());
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("viewer-damaged.png");
    browser.screenshot(&shot);
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);
}
