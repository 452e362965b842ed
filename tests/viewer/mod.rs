use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::support::webdriver::{serve, Browser, Engine};
use crate::support::*;

mod files;
mod large;
mod workspace;

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

/// The viewer built by Trunk, copied into a fresh `dir/dist` (tests add files to it). Trunk
/// runs once per test run: its release build ends with a wasm-opt pass of many seconds.
fn viewer_dist(dir: &Path) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let dist = scratch("viewer-dist").join("dist");
        // wasm-opt comes from npm into tools/ (scripts/setup viewer), not the system's PATH.
        let path = format!(
            "{}:{}",
            repo_root()
                .join("tools/binaryen/node_modules/.bin")
                .display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let built = Command::new("trunk")
            .args(["build", "--release", "--offline", "--dist"])
            .arg(&dist)
            .env("PATH", path)
            .current_dir(repo_root())
            .output()
            .expect("trunk (scripts/setup installs it)");
        assert!(
            built.status.success(),
            "trunk build: {}",
            String::from_utf8_lossy(&built.stderr)
        );
        dist
    });
    let dist = dir.join("dist");
    let copied = Command::new("cp")
        .arg("-r")
        .arg(built)
        .arg(&dist)
        .status()
        .unwrap();
    assert!(copied.success(), "copying the built viewer");
    dist
}

/// The viewer as users get it: built by Trunk, served from 127.0.0.1, a snapshot packed from a
/// real store uploaded through the file input of headless Chromium and of headless Firefox.
#[test]
fn the_viewer_shows_a_packed_store() {
    let store = store(Scenario::Full);
    let dir = scratch("viewer");
    let snapshot = dir.join("store.tar.gz");
    pack(&store.root, &snapshot, &["-q"]);
    let dist = viewer_dist(&dir);
    let site = serve(dist.clone());
    for engine in Engine::ALL {
        shows_a_packed_store(engine, store, &snapshot, &dist, &site);
    }
}

fn shows_a_packed_store(engine: Engine, store: &Store, snapshot: &Path, dist: &Path, site: &str) {
    let browser = Browser::start_in(engine);
    browser.goto(site);
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
    // Headless Firefox may refuse the clipboard; the notice then says to select the text.
    if engine == Engine::Chromium {
        assert_eq!(
            browser.text(&notice),
            "Copied.",
            "a real click may write the clipboard"
        );
    }
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
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("viewer-e2e-{}.png", engine.name()));
    browser.screenshot(&shot);
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 10_000,
        "the screenshot is not blank"
    );
    // A link to a snapshot: `#url=` fetches it (the query string makes it a real navigation).
    std::fs::copy(snapshot, dist.join("linked.tar.gz")).unwrap();
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
        assert!(url.ends_with("/#url=snapshot"), "{url}");
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
            let reply = raw_get(addr, "/snapshot", &host);
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
    assert!(String::from_utf8_lossy(&out.stderr).contains("neither zstd- nor gzip-compressed"));
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
