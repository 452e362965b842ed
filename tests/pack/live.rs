//! `pack` on a data root a running dockerd is changing: every pack succeeds, reads back and
//! records the engine that owns the root.

use std::process::Command;

use crate::support::*;

#[test]
#[allow(clippy::print_stderr)] // The figures are worth seeing in the test log.
fn packing_a_live_daemon_warns_but_does_not_fail() {
    let dir = scratch("live");
    let d = dir.to_str().unwrap();
    engine(&["start", d]);
    let result = std::panic::catch_unwind(|| {
        engine(&["populate", d, "basic"]);
        let mut churn = churn(&dir, 25);
        // With the daemon up, pack records what it is: the first thing a bug report needs.
        let socket = daemon_socket(&dir);
        let gz = pack(
            &dir.join("root"),
            &dir.join("engine.tar.gz"),
            &["-q", "--docker-host", &socket],
        );
        let engine = read_snapshot(&gz)
            .manifest
            .engine
            .expect("the engine is recorded");
        let docker = Command::new("/usr/bin/docker")
            .args([
                "-H",
                &socket,
                "version",
                "-f",
                "{{.Server.Version}} {{.Server.APIVersion}}",
            ])
            .output()
            .unwrap();
        assert_eq!(
            format!("{} {}", engine.version, engine.api_version),
            String::from_utf8_lossy(&docker.stdout).trim()
        );
        // A daemon that owns another data root says nothing about this one.
        let other = copy_store(
            &Store {
                root: dir.join("root"),
                oracle: dir.join("oracle"),
                containerd_root: None,
            },
            "other-root",
        );
        let gz = pack(
            &other,
            &dir.join("other.tar.gz"),
            &["-q", "--docker-host", &socket],
        );
        assert_eq!(read_snapshot(&gz).manifest.engine, None);

        let mut packs = 0;
        let mut distinct = std::collections::HashSet::new();
        let mut warnings = 0;
        while churn.try_wait().unwrap().is_none() && packs < 40 {
            let gz = pack(
                &dir.join("root"),
                &dir.join(format!("live-{packs}.tar.gz")),
                &["-q"],
            );
            let snap = read_snapshot(&gz);
            assert!(
                snap.manifest.counts.images >= 2,
                "a live pack lost the store"
            );
            warnings += snap.manifest.warnings.len();
            distinct.insert(snap.entries.keys().cloned().collect::<Vec<_>>());
            packs += 1;
        }
        let _ = churn.kill();
        let _ = churn.wait();
        assert!(packs >= 3, "only {packs} packs ran while the daemon worked");
        // The store really changed under the packs: they saw different states.
        assert!(
            distinct.len() > 1,
            "all {packs} packs saw the same store; the churn did not overlap them"
        );
        eprintln!(
            "live packs: {packs}, distinct states: {}, warnings: {warnings}",
            distinct.len()
        );
    });
    engine(&["stop", d]);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
