//! Files inside layers in the viewer as users get it (the worker surveys, the page draws): the
//! real waste store's wasted-space panel and a layer whose directory went opaque, in both
//! browsers.

use serde_json::Value;

use super::*;

#[test]
fn the_viewer_shows_files_and_wasted_space() {
    let store = store(Scenario::Waste);
    let dir = scratch("viewer-files");
    let snapshot = dir.join("waste.tar.gz");
    pack(&store.root, &snapshot, &["-q"]);
    // The layer whose RUN emptied /opq and refilled it, and the image's ID, as the CLI sees
    // them.
    let o = storesnap(&[
        "files",
        snapshot.to_str().unwrap(),
        "local/waste:classic",
        "--format",
        "json",
    ]);
    let tree: Value = serde_json::from_slice(&o.stdout).unwrap();
    let opaque = tree["layers"][9]["chain_id"].as_str().unwrap().to_owned();
    let image = tree["image"].as_str().unwrap().to_owned();
    let url = serve(viewer_dist(&dir));
    for engine in Engine::ALL {
        let browser = Browser::start_in(engine);
        browser.goto(&url);
        let input = browser.wait_for("input[type=file]").remove(0);
        browser.send_keys(&input, snapshot.to_str().unwrap());
        browser.wait_for("[data-chain-id]");
        // The survey fills in the images table and the panel.
        let cell = browser.wait_for(&format!(
            "#images tr[data-image-id='{image}'] td[data-wasted]"
        ));
        let wasted: u64 = browser.attribute(&cell[0], "data-wasted").parse().unwrap();
        assert_eq!(wasted, 65536 * 2 + 10 + 3 + 24, "{engine:?}");
        let offenders: Vec<String> = browser
            .find_all("#waste tr[data-waste-path]")
            .iter()
            .map(|r| browser.attribute(r, "data-waste-path"))
            .collect();
        for path in ["/data/big.bin", "/data/gone/inner.bin", "/opq/old1"] {
            assert!(
                offenders.iter().any(|p| p == path),
                "{engine:?}: {offenders:?}"
            );
        }
        // The layer that made /opq opaque: what it hid is marked removed, what it wrote added.
        browser.goto(&format!("{url}#layer={opaque}"));
        let input = browser.wait_for("input[type=file]").remove(0);
        browser.send_keys(&input, snapshot.to_str().unwrap());
        let rows = browser.wait_for("#file-tree .file-row");
        let marked: Vec<(String, String)> = browser
            .find_all("#file-tree .file-row[data-change]")
            .iter()
            .map(|r| {
                (
                    browser.attribute(r, "data-file-path"),
                    browser.attribute(r, "data-change"),
                )
            })
            .collect();
        assert!(!rows.is_empty());
        for (path, change) in [
            ("opq/old1", "removed"),
            ("opq/sub", "removed"),
            ("opq/new", "added"),
        ] {
            assert!(
                marked.iter().any(|(p, c)| p == path && c == change),
                "{engine:?}: {marked:?}"
            );
        }
        let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("viewer-files-{}.png", engine.name()));
        browser.screenshot(&shot);
    }
}
