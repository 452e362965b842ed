//! Files inside layers in the viewer: a layer's tree with its changes marked, an image's merged
//! tree, wasted space in the images table and its own panel, and a 100,000-file layer that
//! draws only the rows in view.

use super::*;
use storesnap_core::{Entry, Limits, Snapshot};

/// Waits until the survey has arrived (its column is filled in): up to thirty seconds, like
/// `wait_for`, since the worker surveys a 100,000-file layer on a loaded CI machine too.
async fn surveyed(root: &Element) {
    let deadline = js_sys::Date::now() + 30_000.0;
    while js_sys::Date::now() < deadline {
        if !query_all(root, "#images td[data-wasted]").is_empty() {
            return;
        }
        TimeoutFuture::new(25).await;
    }
    panic!("the survey never arrived in 30 s");
}

fn row_paths(root: &Element) -> Vec<String> {
    attribute_values(root, "#file-tree .file-row", "data-file-path")
}

#[wasm_bindgen_test]
async fn layers_and_images_show_their_files_and_wasted_space() {
    let snapshot = Snapshot::from_bytes(storesnap_web::DEMO, Limits::default()).unwrap();
    let loaded = Loaded::parse("demo", storesnap_web::DEMO).unwrap();
    let survey = storesnap_web::files::Listing::of_snapshot(&snapshot).survey(&loaded.store);
    assert!(!survey.images.is_empty());
    let root = mount();
    settle().await;
    pick(&root, "demo.tar.gz", storesnap_web::DEMO);
    wait_for(&root, "[data-chain-id]").await;
    surveyed(&root).await;
    // Each image's wasted bytes are the survey's.
    for cell in query_all(&root, "#images td[data-wasted]") {
        let row = cell.closest("tr").unwrap().unwrap();
        let id: storesnap_core::ImageId =
            row.get_attribute("data-image-id").unwrap().parse().unwrap();
        assert_eq!(
            cell.get_attribute("data-wasted").unwrap(),
            survey.images[&id].wasted.to_string()
        );
    }
    // An image: its merged tree holds the base's busybox; only what changed above the base
    // leaves it out.
    let app = loaded
        .store
        .images
        .values()
        .find(|i| i.tags.iter().any(|t| t.as_str() == "local/app:classic"))
        .unwrap();
    let rows = query_all(&root, &format!("#images tr[data-image-id='{}']", app.id));
    assert!(
        !rows.is_empty(),
        "{:?}",
        attribute_values(&root, "#images tr", "data-image-id")
    );
    click(&rows[0]);
    settle().await;
    let merged = row_paths(&root);
    assert!(merged.contains(&"bin/busybox".to_owned()), "{merged:?}");
    assert!(merged.contains(&"app/hello.txt".to_owned()), "{merged:?}");
    click(&query_all(&root, "#only-changes")[0]);
    settle().await;
    let changed = row_paths(&root);
    assert!(!changed.contains(&"bin/busybox".to_owned()), "{changed:?}");
    assert!(changed.contains(&"app/hello.txt".to_owned()), "{changed:?}");
    // Its top layer (from the image's layer table): what it added, marked so.
    let top = app.top_layer().unwrap();
    click(&query_all(&root, &format!("tr[data-layer-row='{top}'] button"))[0]);
    settle().await;
    let caption = text_of(&root, "#file-tree-caption");
    assert!(
        caption.contains(&format!("layer {} of its chain", app.chain().len())),
        "{caption}"
    );
    assert!(!query_all(&root, "#file-tree .file-row[data-change=added]").is_empty());
    // Folding a directory hides what is in it.
    let before = row_paths(&root).len();
    if let Some(fold) = query_all(&root, "#file-tree .fold-dir").first() {
        click(fold);
        settle().await;
        assert!(row_paths(&root).len() < before);
    }
    root.remove();
    mount_at("").remove();
}

/// A tar-split of `n` files, each with its raw header before it, as moby writes one.
/// Hand-made: no engine here makes a layer of 100,000 files in a test's time.
fn big_tar_split(n: usize) -> Vec<u8> {
    use base64::Engine as _;
    use std::io::Write as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut text = String::new();
    for i in 0..n {
        let mut h = tar::Header::new_ustar();
        h.set_path(format!("data/d{:03}/f{i:06}", i / 1000))
            .unwrap();
        h.set_size(1);
        h.set_mode(0o644);
        h.set_cksum();
        // The previous file's padding, then this header.
        let mut segment = if i == 0 { Vec::new() } else { vec![0u8; 511] };
        segment.extend_from_slice(h.as_bytes());
        text.push_str(&format!(
            "{{\"type\":2,\"payload\":\"{}\"}}\n{{\"type\":1,\"name\":\"data/d{:03}/f{i:06}\",\"size\":1,\"payload\":\"{}\"}}\n",
            b64.encode(&segment),
            i / 1000,
            b64.encode((i as u64).to_be_bytes())
        ));
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap()
}

#[wasm_bindgen_test]
async fn a_layer_of_100000_files_draws_only_the_rows_in_view() {
    const FILES: usize = 100_000;
    let mut s = Snapshot::from_bytes(storesnap_web::DEMO, Limits::default()).unwrap();
    let inflated = s
        .entries
        .keys()
        .find(|k| k.ends_with("/tar-split.json"))
        .unwrap()
        .clone();
    let chain = format!("sha256:{}", inflated.split('/').nth(4).unwrap());
    // A tar-split this big stays gzip'd in a snapshot, as `pack` keeps it.
    s.entries.remove(&inflated);
    s.entries
        .insert(format!("{inflated}.gz"), Entry::File(big_tar_split(FILES)));
    let bytes = s.write_to(Vec::new(), 0).unwrap();
    let root = mount_at(&format!("#layer={chain}"));
    settle().await;
    pick(&root, "big.tar.gz", &bytes);
    wait_for(&root, "[data-chain-id]").await;
    surveyed(&root).await;
    let boxes = wait_for(&root, "#file-tree .file-box").await;
    let total: usize = boxes[0]
        .get_attribute("data-rows")
        .unwrap()
        .parse()
        .unwrap();
    // Every file, its hundred directories and `data`.
    assert_eq!(total, FILES + 100 + 1);
    let first = row_paths(&root);
    assert!(first.len() < 60, "{} rows drawn", first.len());
    assert_eq!(first[0], "data");
    // Scrolled to the middle, the rows there are drawn instead, still only a screenful.
    boxes[0].set_scroll_top(20 * 50_000);
    boxes[0]
        .dispatch_event(&web_sys::Event::new("scroll").unwrap())
        .unwrap();
    settle().await;
    let middle = row_paths(&root);
    assert!(middle.len() < 60, "{} rows drawn", middle.len());
    assert!(
        middle.iter().any(|p| p.starts_with("data/d049/")),
        "{middle:?}"
    );
    root.remove();
    mount_at("").remove();
}

/// Compare mode: the demo against a copy that lost its base layer, then against itself.
#[wasm_bindgen_test]
async fn a_second_snapshot_is_compared_with_the_open_one() {
    let root = mount();
    settle().await;
    pick(&root, "demo.tar.gz", storesnap_web::DEMO);
    wait_for(&root, "[data-chain-id]").await;
    pick_into(&root, "#compare-file", "damaged.tar.gz", &damaged_demo());
    let layers = &wait_for(&root, "#compare-layers").await[0];
    assert_eq!(layers.get_attribute("data-removed").as_deref(), Some("1"));
    assert_eq!(layers.get_attribute("data-added").as_deref(), Some("0"));
    assert!(!query_all(&root, "#compare [data-diff=finding-new]").is_empty());
    assert!(text_of(&root, "#compare h3").contains("damaged.tar.gz"));
    click(&query_all(&root, "#close-compare")[0]);
    settle().await;
    assert!(query_all(&root, "#compare").is_empty());
    pick_into(&root, "#compare-file", "same.tar.gz", storesnap_web::DEMO);
    wait_for(&root, "#compare #no-changes").await;
    root.remove();
    mount_at("").remove();
}
