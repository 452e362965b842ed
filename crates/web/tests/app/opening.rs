//! Opening files: bad ones get a clear message, a bomb is refused while the page stays
//! responsive, a later file wins over one still reading, and the worker that reads them (warmed
//! ahead, or missing).

use super::*;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// A tar whose first entry is `name` and claims `size` bytes, with only `body` behind it.
fn tar_with(name: &str, size: u64, body: &[u8]) -> Vec<u8> {
    let mut h = tar::Header::new_gnu();
    h.set_path(name).unwrap();
    h.set_size(size);
    h.set_cksum();
    let mut out = h.as_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

#[wasm_bindgen_test]
async fn bad_files_get_a_clear_message() {
    let root = mount();
    settle().await;
    let demo = storesnap_web::DEMO;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.tar.gz", vec![], "the file is empty"),
        (
            "random.bin",
            (0..4096u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
            "neither zstd- nor gzip-compressed",
        ),
        ("cut.tar.gz", demo[..demo.len() / 2].to_vec(), "truncated"),
        // A header that claims 300 MB behind a few bytes: refused before anything is inflated.
        (
            "bomb.tar.gz",
            gzip(&tar_with("storesnap.json", 300 << 20, &[0; 512])),
            "allowed per entry",
        ),
        // A tar that is no snapshot is read as an archive, and one with no image list says so.
        (
            "other.tar.gz",
            gzip(&{
                let mut tar = tar::Builder::new(Vec::new());
                let mut h = tar::Header::new_ustar();
                h.set_size(2);
                tar.append_data(&mut h, "notes.txt", &b"hi"[..]).unwrap();
                tar.into_inner().unwrap()
            }),
            "not a `docker save` archive",
        ),
    ];
    for (name, bytes, expected) in cases {
        pick(&root, name, &bytes);
        let mut message = String::new();
        // Each file starts a worker: up to 5 s.
        for _ in 0..300 {
            settle().await;
            message = text_of(&root, "#error");
            if message.starts_with(name) {
                break;
            }
        }
        assert!(
            message.contains(expected),
            "{name}: {message:?} lacks {expected:?}; the page says {:?}",
            root.text_content()
        );
        assert!(
            message.starts_with(name),
            "{name}: the message names the file: {message:?}"
        );
    }
    // A good file after bad ones loads and clears the message.
    pick(&root, "good.tar.gz", demo);
    for _ in 0..40 {
        settle().await;
        if !query_all(&root, "[data-chain-id]").is_empty() {
            break;
        }
    }
    assert!(!query_all(&root, "[data-chain-id]").is_empty());
    assert_eq!(text_of(&root, "#error"), "");
    root.remove();
}

/// A real decompression bomb: `megabytes` MB of zeros in about a thousandth of that. The same
/// fully flushed deflate block, which never refers back past itself, repeated; the gzip trailer is
/// left wrong because a reader must stop at its cap long before it gets there.
fn bomb(megabytes: usize) -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress};
    let zeros = vec![0u8; 1 << 20];
    let mut c = Compress::new(Compression::best(), false);
    let mut block = Vec::with_capacity(64 << 10);
    c.compress_vec(&zeros, &mut block, FlushCompress::Full)
        .unwrap();
    assert_eq!(c.total_in(), 1 << 20);
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    for _ in 0..megabytes {
        out.extend_from_slice(&block);
    }
    // An empty final block, then a trailer (CRC and length) that does not matter.
    out.extend_from_slice(&[0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
    out
}

#[wasm_bindgen_test]
async fn a_decompression_bomb_shows_progress_and_keeps_the_page_responsive() {
    let root = mount();
    settle().await;
    // Past the viewer's cap on inflated bytes (768 MiB).
    let file = bomb(800);
    assert!(file.len() < 1 << 20, "{} bytes", file.len());

    // A timer that can only fire when the page is not blocked.
    let ticks = std::rc::Rc::new(std::cell::RefCell::new(Vec::<f64>::new()));
    let interval = {
        let ticks = ticks.clone();
        gloo::timers::callback::Interval::new(5, move || {
            ticks.borrow_mut().push(js_sys::Date::now())
        })
    };
    let start = js_sys::Date::now();
    pick(&root, "bomb.tar.gz", &file);
    let (mut saw_progress, mut message) = (false, String::new());
    for _ in 0..1500 {
        TimeoutFuture::new(20).await;
        saw_progress |= text_of(&root, "#loading").contains("inflated");
        message = text_of(&root, "#error");
        if !message.is_empty() {
            break;
        }
    }
    let took = js_sys::Date::now() - start;
    drop(interval);
    assert!(
        message.contains("exceeds a limit") && message.contains("decompression bomb"),
        "{message:?}"
    );
    assert!(saw_progress, "progress was shown while inflating");
    // However fast this machine inflates, the work came in slices: the page never went an eighth
    // of the whole time without running its timer (one big buffer copy was enough to break that).
    let ticks = ticks.borrow();
    let longest = ticks
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(ticks.first().map_or(took, |t| t - start), f64::max);
    console_log!(
        "bomb refused in {took:.0} ms; {} timer ticks; longest stall {longest:.0} ms",
        ticks.len()
    );
    assert!(ticks.len() >= 4, "{} ticks in {took} ms", ticks.len());
    assert!(longest < took / 8.0, "stalled {longest} ms of {took} ms");
    assert!(
        query_all(&root, "#loading").is_empty(),
        "the progress bar is gone"
    );
    root.remove();
}

#[wasm_bindgen_test]
async fn a_file_opened_later_wins_over_one_still_reading() {
    let root = mount();
    settle().await;
    pick(&root, "bomb.tar.gz", &bomb(300));
    wait_for(&root, "#loading").await;
    // The user gives up on the slow file and opens the demo instead.
    click(&query_all(&root, "#demo")[0]);
    wait_for(&root, "[data-chain-id]").await;
    // The first file's outcome, whenever it comes, does not replace the demo.
    TimeoutFuture::new(2000).await;
    assert_eq!(text_of(&root, "#error"), "");
    assert!(query_all(&root, "#loading").is_empty());
    assert_eq!(text_of(&root, "#overview h2"), "demo snapshot");
    root.remove();
}

#[wasm_bindgen_test]
async fn a_worker_warms_up_while_the_user_picks_a_file() {
    let root = mount();
    // The page starts a worker at once, which reads the demo to warm up, and says so.
    let app = &wait_for(&root, ".app[data-worker-warmed]").await[0];
    assert_eq!(
        app.get_attribute("data-worker-warmed").as_deref(),
        Some("true")
    );
    // The file picked then is read by it, and the next file by another spare.
    for name in ["first.tar.gz", "second.tar.gz"] {
        pick(&root, name, storesnap_web::DEMO);
        wait_for(&root, "[data-chain-id]").await;
        for _ in 0..100 {
            if text_of(&root, "#overview h2") == name {
                break;
            }
            settle().await;
        }
        assert_eq!(text_of(&root, "#overview h2"), name);
        assert_eq!(text_of(&root, "#error"), "");
    }
    root.remove();
}

#[wasm_bindgen_test]
async fn without_its_worker_the_viewer_says_how_to_serve_it() {
    // A viewer hosted without its worker script: the page has no reader of its own.
    let root = mount_with_worker("", "/tests/no-such-worker.js");
    settle().await;
    pick(&root, "good.tar.gz", storesnap_web::DEMO);
    let mut message = String::new();
    for _ in 0..400 {
        settle().await;
        message = text_of(&root, "#error");
        if !message.is_empty() {
            break;
        }
    }
    storesnap_web::worker::set_script(WORKER);
    assert!(message.starts_with("good.tar.gz: "), "{message:?}");
    assert!(
        message.contains("serve the viewer with its worker script"),
        "{message:?}"
    );
    assert!(query_all(&root, "#loading").is_empty());
    root.remove();
}
