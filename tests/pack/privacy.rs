//! What must never reach a snapshot: the harness plants secrets in container and image
//! configs, and each is looked for in every byte of the snapshot, compressed or not.

use std::process::Command;

use crate::support::*;

const PLANTED_SECRETS: &[&str] = &[
    "PLANTED-SECRET-env-5e1",
    "PLANTED-SECRET-token-77a",
    "PLANTED-SECRET-label-0b3",
    "PLANTED-SECRET-health-c4d",
    "PLANTED-SECRET-logopt-9e2",
    "PLANTED-SECRET-arg-a18",
];
const IMAGE_SECRETS: &[&str] = &[
    "PLANTED-IMAGE-SECRET-env-6f0",
    "PLANTED-IMAGE-SECRET-arg-21b",
];

/// The scenarios whose secrets the privacy tests look for: both kinds of store, both engines.
const PRIVACY: [Scenario; 4] = [
    Scenario::Full,
    Scenario::D28Graph,
    Scenario::D28Containerd,
    Scenario::D26Containerd,
];

#[test]
fn planted_secrets_appear_nowhere() {
    for scenario in PRIVACY {
        planted_secrets_appear_nowhere_in(scenario);
    }
}

fn planted_secrets_appear_nowhere_in(scenario: Scenario) {
    let store = store(scenario);
    let dir = scratch(&format!("secrets-{}", scenario.name()));
    let gz = pack(&store.root, &dir.join("s.tar.gz"), &[]);
    let bytes = all_bytes(&gz);
    for secret in PLANTED_SECRETS {
        assert!(!contains(&bytes, secret), "{secret} survived redaction");
    }
    // The secrets are really on disk, and the names and hashed markers are kept.
    let disk = Command::new("grep")
        .args(["-rqa", PLANTED_SECRETS[0]])
        .arg(store.root.join("containers"))
        .status()
        .unwrap();
    assert!(disk.success());
    assert!(contains(&bytes, "DB_PASSWORD=<redacted:"));
    let snap = read_snapshot(&gz);
    let fields: Vec<&String> = snap
        .manifest
        .redacted
        .iter()
        .flat_map(|r| &r.fields)
        .collect();
    for f in [
        "Config.Labels.com.example.secret",
        "LogConfig.Config.tag",
        "Config.Healthcheck.Test[1]",
    ] {
        assert!(
            fields.iter().any(|x| *x == f),
            "{f} not recorded as redacted: {fields:?}"
        );
    }
    // Image configs are byte-exact by default: image IDs stay verifiable.
    for secret in IMAGE_SECRETS {
        assert!(
            contains(&bytes, secret),
            "{secret} should be kept without --redact"
        );
    }
    assert!(!snap.manifest.image_configs_redacted());
}

#[test]
fn redact_flag_takes_image_configs_too_and_records_their_ids() {
    for scenario in PRIVACY {
        let store = store(scenario);
        let gz = pack(
            &store.root,
            &scratch(&format!("redact-{}", scenario.name())).join("s.tar.gz"),
            &["--redact"],
        );
        let bytes = all_bytes(&gz);
        for secret in PLANTED_SECRETS.iter().chain(IMAGE_SECRETS) {
            assert!(
                !contains(&bytes, secret),
                "{secret} survived --redact in {}",
                scenario.name()
            );
        }
        let snap = read_snapshot(&gz);
        redacted_configs_are_recorded(&snap);
        // Redacted configs are not damage: the store still checks clean.
        let (_, findings) = storesnap_core::analyze(&snap);
        assert!(
            findings
                .iter()
                .all(|f| f.severity == storesnap_core::Severity::Info),
            "{}: {findings:#?}",
            scenario.name()
        );
    }
}

fn redacted_configs_are_recorded(snap: &storesnap_core::Snapshot) {
    // A graph-driver store has one config per image; a containerd one also redacts Docker's
    // container-config blobs, and names configs by their own digest.
    if snap.manifest.containerd.is_none() {
        assert_eq!(
            snap.manifest.image_configs.len() as u64,
            snap.manifest.counts.images
        );
    } else {
        assert!(snap.manifest.image_configs.len() as u64 >= snap.manifest.counts.images);
    }
    assert!(snap
        .manifest
        .image_configs
        .iter()
        .all(|c| c.matched_before_redaction));
}

/// `report` holds what a bug report needs and none of the secrets: neither from a snapshot nor
/// from the live, unredacted root.
#[test]
fn a_report_contains_no_secret() {
    let store = store(Scenario::Full);
    let dir = scratch("report");
    let gz = dir.join("s.tar.gz");
    pack(&store.root, &gz, &["-q"]);
    for args in [
        vec!["report", gz.to_str().unwrap()],
        vec!["report", "--root", store.root.to_str().unwrap()],
    ] {
        let o = storesnap(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = String::from_utf8(o.stdout).unwrap();
        for secret in PLANTED_SECRETS.iter().chain(IMAGE_SECRETS) {
            assert!(!text.contains(secret), "{secret} in the report of {args:?}");
        }
        assert!(text.starts_with("### Docker image store: "), "{text}");
        assert!(text.contains("| Storage driver | `overlay2` |"));
        assert!(
            text.contains("local/app:classic"),
            "largest images are listed"
        );
    }
}
