//! The graph drivers no engine here can run (aufs, devicemapper, zfs, overlay, fuse-overlayfs).
//!
//! Made by hand, from a real store: the full fixture, which dockerd wrote with overlay2, is
//! re-laid as each driver lays out its records (moby's `daemon/graphdriver/<driver>/`, see
//! `shared/reference/docker-store-formats.md` §6). Image and layer metadata is the engine's own.
//! vfs and btrfs stores come from a real dockerd in the end-to-end tests.

use storesnap_core::docker::{Clock, HistoryOptions, ImageListOptions, Utc};
use storesnap_core::source::graphdriver::driver::Record;
use storesnap_core::source::graphdriver::Driver;
use storesnap_core::{Code, Entry, Limits, Severity, Snapshot};

const FULL: &[u8] = include_bytes!("../data/full/snapshot.tar.gz");

/// The full fixture as `driver` would have written it.
fn relaid(driver: Driver) -> Snapshot {
    let mut s = Snapshot::from_bytes(FULL, Limits::default()).unwrap();
    let name = driver.name();
    let entries = std::mem::take(&mut s.entries);
    let records: Vec<String> = entries
        .iter()
        .filter_map(|(p, e)| {
            let id = p.strip_prefix("overlay2/")?;
            (matches!(e, Entry::Dir) && !id.contains('/') && id != "l").then(|| id.to_owned())
        })
        .collect();
    // The layers' parents by cache ID, for aufs's layers/<id> files and overlay's lower-id.
    let mut parent_of = std::collections::BTreeMap::new();
    for (p, e) in &entries {
        if let (Some(dir), Entry::File(cache)) = (p.strip_suffix("/cache-id"), e) {
            let parent = entries.get(&format!("{dir}/parent")).and_then(|e| match e {
                Entry::File(p) => entries.iter().find_map(|(q, e)| {
                    let d = q.strip_suffix("/cache-id")?;
                    (d.ends_with(&String::from_utf8_lossy(p)[7..])).then(|| e.clone())
                }),
                _ => None,
            });
            if let Some(Entry::File(parent)) = parent {
                parent_of.insert(
                    String::from_utf8_lossy(cache).into_owned(),
                    String::from_utf8_lossy(&parent).into_owned(),
                );
            }
        }
    }
    for (path, entry) in entries {
        if let Some(rest) = path.strip_prefix("image/overlay2/") {
            s.entries.insert(format!("image/{name}/{rest}"), entry);
        } else if path == "overlay2" || path.starts_with("overlay2/") {
            if driver == Driver::FuseOverlayfs {
                s.entries.insert(path.replacen("overlay2", name, 1), entry);
            }
        } else {
            s.entries.insert(path, entry);
        }
    }
    let prefix = driver.records_prefix().trim_end_matches('/');
    let mut parents = vec![prefix.to_owned()];
    while let Some((up, _)) = parents.last().unwrap().rsplit_once('/') {
        parents.push(up.to_owned());
    }
    for p in parents {
        s.entries.insert(p, Entry::Dir);
    }
    if driver != Driver::FuseOverlayfs && driver != Driver::Zfs {
        for (n, id) in records.iter().enumerate() {
            let record = driver.record_path(id);
            match driver.record() {
                Record::Dir => {
                    s.entries.insert(record.clone(), Entry::Dir);
                }
                Record::File => {
                    let info = format!(
                        r#"{{"device_id":{},"size":10737418240,"transaction_id":{},"initialized":false,"deleted":false}}"#,
                        n + 1,
                        n + 1
                    );
                    s.entries
                        .insert(record.clone(), Entry::File(info.into_bytes()));
                }
            }
            match driver {
                Driver::Aufs => {
                    s.entries.insert("aufs/layers".into(), Entry::Dir);
                    let mut chain = String::new();
                    let mut next = parent_of.get(id);
                    while let Some(p) = next {
                        chain.push_str(p);
                        chain.push('\n');
                        next = parent_of.get(p);
                    }
                    s.entries
                        .insert(format!("aufs/layers/{id}"), Entry::File(chain.into_bytes()));
                }
                Driver::Overlay => match parent_of.get(id) {
                    Some(p) => {
                        s.entries.insert(format!("{record}/upper"), Entry::Dir);
                        s.entries.insert(
                            format!("{record}/lower-id"),
                            Entry::File(p.clone().into_bytes()),
                        );
                    }
                    None => {
                        s.entries.insert(format!("{record}/root"), Entry::Dir);
                    }
                },
                _ => {}
            }
        }
        if driver == Driver::Devicemapper {
            s.entries.insert(
                "devicemapper/metadata/deviceset-metadata".into(),
                Entry::File(
                    br#"{"next_device_id":99,"BaseDeviceUUID":"x","BaseDeviceFilesystem":"xfs"}"#
                        .to_vec(),
                ),
            );
            s.entries.insert(
                "devicemapper/metadata/base".into(),
                Entry::File(b"{}".to_vec()),
            );
        }
    }
    s.manifest.storage_driver = name.into();
    s.manifest.dir_sizes = std::mem::take(&mut s.manifest.dir_sizes)
        .into_iter()
        .filter_map(|(k, v)| {
            match k
                .strip_prefix("overlay2/")
                .and_then(|r| r.strip_suffix("/diff"))
            {
                Some(id) => Some((driver.rw_dir(id)?, v)),
                None => Some((k, v)),
            }
        })
        .collect();
    s
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn every_driver_layout_is_read_as_healthy() {
    let original = Snapshot::from_bytes(FULL, Limits::default()).unwrap();
    let (base, _) = storesnap_core::analyze(&original);
    let clock = Clock {
        now_unix: 0,
        zone: &Utc,
    };
    let opts = ImageListOptions {
        all: true,
        digests: true,
        no_trunc: true,
    };
    for driver in [
        Driver::Aufs,
        Driver::Devicemapper,
        Driver::Zfs,
        Driver::Overlay,
        Driver::FuseOverlayfs,
    ] {
        let s = relaid(driver);
        // As the viewer's worker reads it, without the tar-splits: the same store.
        let without = crate::unread(&s, storesnap_core::Contents::Metadata);
        assert_ne!(without, s, "{driver}: its tar-splits are left unread");
        assert_eq!(crate::analyzed(&without), crate::analyzed(&s), "{driver}");
        let (store, findings) = storesnap_core::analyze(&s);
        let bad: Vec<_> = findings
            .iter()
            .filter(|f| f.severity > Severity::Info)
            .collect();
        assert!(bad.is_empty(), "{driver}: {bad:#?}");
        assert_eq!(
            store.driver_dirs.len(),
            if driver == Driver::Zfs {
                0
            } else {
                base.driver_dirs.len()
            },
            "{driver}"
        );
        // The same engine metadata gives the same docker views whatever the driver.
        assert_eq!(
            store.image_rows(opts, &clock),
            base.image_rows(opts, &clock),
            "{driver}"
        );
        for image in store.images.values() {
            assert_eq!(
                store.history_rows(image, HistoryOptions::default(), &clock),
                base.history_rows(&base.images[&image.id], HistoryOptions::default(), &clock),
                "{driver}"
            );
        }
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_missing_record_is_found_on_every_driver_that_keeps_one() {
    for driver in [
        Driver::Aufs,
        Driver::Devicemapper,
        Driver::Overlay,
        Driver::FuseOverlayfs,
    ] {
        let mut s = relaid(driver);
        let (store, _) = storesnap_core::analyze(&s);
        let layer = store.layers.values().find(|l| l.parent.is_none()).unwrap();
        let cache = layer.cache_id.clone().unwrap();
        let record = driver.record_path(cache.as_str());
        s.entries
            .retain(|p, _| *p != record && !p.starts_with(&format!("{record}/")));
        let (_, findings) = storesnap_core::analyze(&s);
        assert!(
            findings
                .iter()
                .any(|f| f.code == Code::MissingCacheDir && f.message.contains(&record)),
            "{driver}: {:?}",
            findings.iter().map(|f| f.code).collect::<Vec<_>>()
        );
    }
    // zfs mounts a layer only while it is used: no record is no damage.
    let s = relaid(Driver::Zfs);
    let (_, findings) = storesnap_core::analyze(&s);
    assert!(findings.iter().all(|f| f.code != Code::MissingCacheDir));
}

/// A source with no manifest (a future `docker save` or a hand-made tree) is read from its
/// files alone: the driver is found under `image/`, and the model is the snapshot's.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn files_without_a_manifest_give_the_same_model() {
    use storesnap_core::source::graphdriver;
    use storesnap_core::Provenance;
    for driver in [Driver::Overlay2, Driver::Aufs, Driver::Devicemapper] {
        let s = if driver == Driver::Overlay2 {
            Snapshot::from_bytes(FULL, Limits::default()).unwrap()
        } else {
            relaid(driver)
        };
        let (with, with_findings) = storesnap_core::source::load(&s);
        let (without, without_findings) = graphdriver::load(&s.entries, &Provenance::Files);
        assert_eq!(without.driver, driver.name());
        assert_eq!(without.images, with.images, "{driver}");
        assert_eq!(without.layers, with.layers, "{driver}");
        assert_eq!(without.driver_dirs, with.driver_dirs, "{driver}");
        assert_eq!(without_findings, with_findings, "{driver}");
    }
}
