//! Just enough W3C WebDriver to drive headless Chromium (through chromedriver) and headless
//! Firefox (through geckodriver), plus a static file server for the built viewer. All bind to
//! 127.0.0.1 only.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Serves `dir` over HTTP on 127.0.0.1 from a background thread, for the life of the process.
pub fn serve(dir: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = respond(stream, &dir);
        }
    });
    url
}

fn respond(mut stream: TcpStream, dir: &Path) -> std::io::Result<()> {
    let mut line = String::new();
    let mut reader = BufReader::new(stream.try_clone()?);
    reader.read_line(&mut line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? <= 2 {
            break;
        }
    }
    let path = line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .split(['?', '#'])
        .next()
        .unwrap_or("/");
    let rel = path.trim_start_matches('/');
    let rel = if rel.is_empty() { "index.html" } else { rel };
    let file = dir.join(rel);
    let (status, body) = match (rel.contains(".."), std::fs::read(&file)) {
        (false, Ok(body)) => ("200 OK", body),
        _ => ("404 Not Found", b"not found".to_vec()),
    };
    let kind = match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html",
        Some("js") => "text/javascript",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css",
        _ => "application/octet-stream",
    };
    write!(stream, "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())?;
    stream.write_all(&body)
}

/// The browsers the viewer is tested in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Chromium,
    Firefox,
}

impl Engine {
    pub const ALL: [Engine; 2] = [Engine::Chromium, Engine::Firefox];

    pub fn name(self) -> &'static str {
        match self {
            Engine::Chromium => "chromium",
            Engine::Firefox => "firefox",
        }
    }
}

/// A WebDriver process and one session in a headless browser.
pub struct Browser {
    engine: Engine,
    driver: Child,
    base: String,
    session: String,
}

impl Browser {
    /// Headless Chromium.
    pub fn start() -> Browser {
        Browser::start_in(Engine::Chromium)
    }

    pub fn start_in(engine: Engine) -> Browser {
        let port = free_port();
        let (program, hint) = match engine {
            Engine::Chromium => ("chromedriver", "scripts/setup installs chromium-driver"),
            Engine::Firefox => ("geckodriver", "scripts/setup installs it with cargo"),
        };
        let driver = Command::new(program)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{program} ({hint}): {e}"));
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while ureq::get(&format!("{base}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "{program} did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = match engine {
            Engine::Chromium => {
                let mut args = vec![
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    "--window-size=1400,1000",
                ];
                // Benchmarks may try the engine's own settings (`--js-flags=--no-liftoff`, say).
                let extra = std::env::var("BENCH_CHROMIUM_ARGS").unwrap_or_default();
                args.extend(extra.split_whitespace());
                json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
                "binary": "/usr/bin/chromium", "args": args}}}})
            }
            Engine::Firefox => {
                json!({"capabilities": {"alwaysMatch": {"browserName": "firefox", "moz:firefoxOptions": {
                "args": ["-headless"],
                "prefs": {"app.update.enabled": false, "browser.shell.checkDefaultBrowser": false}}}}})
            }
        };
        let mut b = Browser {
            engine,
            driver,
            base,
            session: String::new(),
        };
        b.session = b.post("/session", caps)["sessionId"]
            .as_str()
            .unwrap()
            .to_owned();
        if engine == Engine::Firefox {
            b.set_window_size(1400, 1000);
        }
        b
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = if path == "/session" {
            format!("{}{path}", self.base)
        } else {
            format!("{}/session/{}{path}", self.base, self.session)
        };
        let req = ureq::request(method, &url).timeout(Duration::from_secs(60));
        let resp = match body {
            Some(b) => req.send_json(b),
            None => req.call(),
        };
        let v: Value = match resp {
            Ok(r) => r.into_json().unwrap(),
            Err(ureq::Error::Status(_, r)) => r.into_json().unwrap(),
            Err(e) => panic!("webdriver {method} {path}: {e}"),
        };
        if let Some(err) = v["value"]["error"].as_str() {
            panic!(
                "webdriver {method} {path}: {err}: {}",
                v["value"]["message"]
            );
        }
        v["value"].clone()
    }

    fn post(&self, path: &str, body: Value) -> Value {
        self.call("POST", path, Some(body))
    }

    /// Resizes the browser window (the page's viewport follows it).
    pub fn set_window_size(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({"width": width, "height": height}));
    }

    pub fn goto(&self, url: &str) {
        self.post("/url", json!({"url": url}));
    }

    /// Elements matching a CSS selector, as WebDriver element IDs.
    pub fn find_all(&self, css: &str) -> Vec<String> {
        let v = self.post("/elements", json!({"using": "css selector", "value": css}));
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| e[ELEMENT].as_str().unwrap().to_owned())
            .collect()
    }

    /// Waits up to 30 s for at least one match.
    pub fn wait_for(&self, css: &str) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let found = self.find_all(css);
            if !found.is_empty() {
                return found;
            }
            assert!(Instant::now() < deadline, "nothing matched {css}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn attribute(&self, element: &str, name: &str) -> String {
        self.call("GET", &format!("/element/{element}/attribute/{name}"), None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub fn text(&self, element: &str) -> String {
        self.call("GET", &format!("/element/{element}/text"), None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Clicks an element as a user would: scrolled to the middle of its pane first (WebDriver's
    /// own scrolling puts a row at the top edge, under a sticky table header). Firefox's
    /// WebDriver refuses to click table rows and SVG groups by element, so there the mouse is
    /// pressed at the element's middle instead.
    pub fn click(&self, element: &str) {
        self.post(
            "/execute/sync",
            json!({
                "script": "arguments[0].scrollIntoView({block: 'center', inline: 'nearest'})",
                "args": [{ELEMENT: element}],
            }),
        );
        match self.engine {
            Engine::Chromium => {
                self.post(&format!("/element/{element}/click"), json!({}));
            }
            Engine::Firefox => self.click_center(element),
        }
    }

    /// Presses and releases the mouse at the middle of an element's box, as a user would. For
    /// SVG shapes, which Firefox's WebDriver will not click by element ("could not be scrolled
    /// into view").
    pub fn click_center(&self, element: &str) {
        let r = self.post(
            "/execute/sync",
            json!({
                "script": "const r = arguments[0].getBoundingClientRect(); \
                           return [Math.round(r.left + r.width / 2), Math.round(r.top + r.height / 2)]",
                "args": [{ELEMENT: element}],
            }),
        );
        let (x, y) = (r[0].as_i64().unwrap(), r[1].as_i64().unwrap());
        self.post(
            "/actions",
            json!({"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"},
                "actions": [
                    {"type": "pointerMove", "duration": 0, "origin": "viewport", "x": x, "y": y},
                    {"type": "pointerDown", "button": 0},
                    {"type": "pointerUp", "button": 0}]}]}),
        );
        self.call("DELETE", "/actions", None);
    }

    /// Types into an element; for `input[type=file]`, the text is the path of the file to pick.
    pub fn send_keys(&self, element: &str, text: &str) {
        self.post(&format!("/element/{element}/value"), json!({"text": text}));
    }

    /// Runs a script in the page.
    pub fn execute(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": []}))
    }

    pub fn screenshot(&self, to: &Path) {
        use base64::Engine as _;
        let b64 = self.call("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        std::fs::write(to, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = ureq::delete(&format!("{}/session/{}", self.base, self.session)).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
