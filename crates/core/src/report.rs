//! The Markdown report a user pastes into a bug report: `storesnap report` prints it and the
//! viewer's "Copy report" button copies it, from this one function.
//!
//! It holds only what the snapshot already holds after redaction (names, IDs, sizes, findings),
//! and no clock: times are the snapshot's own, in UTC, so the same file gives the same text
//! everywhere.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::docker::{human_size, human_size_with_precision, Clock, Utc};
use crate::finding::{Finding, Severity, Subject};
use crate::manifest::Manifest;
use crate::store::Store;

/// How many findings and images the report lists before it says "and N more".
const MAX_FINDINGS: usize = 50;
const MAX_IMAGES: usize = 10;

/// The report for a snapshot's manifest (`None` for a `docker save` archive), the store loaded
/// from it, and its findings in the order `analyze` gives them (most severe first).
pub fn markdown(manifest: Option<&Manifest>, store: &Store, findings: &[Finding]) -> String {
    let mut out = String::new();
    let clock = Clock {
        now_unix: 0,
        zone: &Utc,
    };
    let count = |s| findings.iter().filter(|f| f.severity == s).count();
    let (errors, warnings, infos) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
    );
    let verdict = match (errors, warnings) {
        (0, 0) => "no problems found".to_owned(),
        (e, w) => format!("{}, {}", n(e, "error"), n(w, "warning")),
    };
    let _ = writeln!(out, "### Docker image store: {verdict}\n");
    let _ = writeln!(out, "| | |\n|---|---|");
    let contents = format!(
        "{}, {}, {}",
        n(store.images.len(), "image"),
        n(store.layers.len(), "layer"),
        n(store.containers.len(), "container")
    );
    let found = format!(
        "{}, {}, {infos} info",
        n(errors, "error"),
        n(warnings, "warning")
    );
    let rows: Vec<(&str, String)> = match (&store.archive, manifest) {
        (Some(a), _) => vec![
            ("Source", a.layout.describe().to_owned()),
            (
                "Archive",
                format!(
                    "{}, {} entries, {}",
                    human_size(i64::try_from(a.read).unwrap_or(i64::MAX)),
                    a.entries,
                    a.compression.map_or("not read", |c| c.as_str())
                ),
            ),
            ("Contents", contents),
            ("Findings", found),
        ],
        (None, None) => vec![("Contents", contents), ("Findings", found)],
        (None, Some(m)) => vec![
            (
                "Host",
                format!("`{}` ({}/{})", m.host.hostname, m.host.os, m.host.arch),
            ),
            (
                "Engine",
                match &m.engine {
                    Some(e) => format!("Docker {} (API {})", e.version, e.api_version),
                    None => "not recorded (the daemon was not reachable when packed)".to_owned(),
                },
            ),
            ("Storage driver", format!("`{}`", m.storage_driver)),
            (
                "Image store",
                match &m.containerd {
                    Some(c) => format!(
                        "containerd (`{}`, namespace `{}`, snapshotter `{}`)",
                        c.root, c.namespace, c.snapshotter
                    ),
                    None => "graph driver".to_owned(),
                },
            ),
            ("Data root", format!("`{}`", m.data_root)),
            ("Packed", format!("{} by {}", m.created, m.tool)),
            ("Contents", contents),
            ("Findings", found),
        ],
    };
    for (k, v) in rows {
        let _ = writeln!(out, "| {k} | {} |", cell(&v));
    }

    // An archive is not on a disk Docker manages: it has no `docker system df`.
    let disk = match manifest {
        Some(m) if store.archive.is_none() => store.disk_summary(&m.dir_sizes),
        _ => Vec::new(),
    };
    if !disk.is_empty() {
        let _ = writeln!(out, "\n#### Disk use (`docker system df`)\n");
        let _ = writeln!(
            out,
            "| Type | Total | Active | Size | Reclaimable |\n|---|---:|---:|---:|---:|"
        );
    }
    for r in disk {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            r.kind,
            r.total_count,
            r.active,
            r.size,
            cell(&r.reclaimable)
        );
    }

    let _ = writeln!(out, "\n#### Findings\n");
    if findings.is_empty() {
        let _ = writeln!(out, "None: every ID, chain and reference checks out.");
    } else {
        let _ = writeln!(
            out,
            "| Severity | Code | Concerns | What was seen | What to do |\n|---|---|---|---|---|"
        );
        for f in findings.iter().take(MAX_FINDINGS) {
            let subjects: Vec<String> = f.subjects.iter().map(subject).collect();
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} | {} |",
                f.severity.as_str(),
                f.code.as_str(),
                cell(&subjects.join(", ")),
                cell(&f.message),
                cell(f.hint)
            );
        }
        if findings.len() > MAX_FINDINGS {
            let _ = writeln!(
                out,
                "\n…and {} more (`storesnap check` lists them all).",
                findings.len() - MAX_FINDINGS
            );
        }
    }

    let mut images = store.image_usage(false);
    crate::order::sort_by(&mut images, |a, b| {
        b.size.cmp(&a.size).then(a.id.cmp(&b.id))
    });
    let _ = writeln!(out, "\n#### Largest images\n");
    if images.is_empty() {
        let _ = writeln!(out, "No images.");
    } else {
        let _ = writeln!(
            out,
            "| Image | ID | Created | Size | Unique |\n|---|---|---|---:|---:|"
        );
        for i in images.iter().take(MAX_IMAGES) {
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} | {} |",
                cell(&format!("{}:{}", i.repository, i.tag)),
                i.id.short(),
                clock.go_string(i.created),
                human_size_with_precision(i.size as f64, 3),
                i.unique_size.map_or("N/A".into(), human_size)
            );
        }
        if images.len() > MAX_IMAGES {
            let _ = writeln!(out, "\n…and {} more.", images.len() - MAX_IMAGES);
        }
    }

    if let Some(m) = manifest {
        let _ = writeln!(out, "\n#### What the snapshot left out\n");
        let fields = m.redacted_values();
        let _ = writeln!(
            out,
            "- Redacted: {} in {}, replaced by keyed-hash markers (`<redacted:…>`); image configs {}.",
            n(fields, "value"),
            n(m.redacted.len(), "file"),
            if m.image_configs_redacted() {
                "redacted too (`--redact`)"
            } else {
                "kept byte-exact"
            }
        );
        let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
        for s in &m.skipped {
            *skipped.entry(s.reason.as_str().to_owned()).or_default() += 1;
        }
        let skipped: Vec<String> = skipped.iter().map(|(r, n)| format!("{r}: {n}")).collect();
        let _ = writeln!(
            out,
            "- Never packed: layer contents, logs, volume data. Skipped paths: {}.",
            if skipped.is_empty() {
                "none".to_owned()
            } else {
                skipped.join(", ")
            }
        );
        if !m.warnings.is_empty() {
            let _ = writeln!(
                out,
                "- Packing warnings: {} (the daemon changed files while it ran).",
                m.warnings.len()
            );
        }
    }
    let _ = writeln!(
        out,
        "\n<sub>Made by `storesnap report`; open the attached snapshot in the storesnap viewer to \
         see the layer graph.</sub>"
    );
    out
}

fn subject(s: &Subject) -> String {
    match s {
        Subject::Image(id) => format!("image `{}`", id.short()),
        Subject::Chain(id) => format!("layer `{}`", id.short()),
        Subject::CacheDir(d) => format!("dir `{}`", short(d)),
        Subject::Container(c) => format!("container `{}`", c.short()),
        Subject::Reference(r) => format!("`{r}`"),
        Subject::Path(p) => format!("`{p}`"),
        Subject::Blob(d) => format!("blob `{}`", d.short()),
        Subject::Snapshot(k) => format!("snapshot `{}`", short(k)),
        Subject::Lease(l) => format!("lease `{}`", short(l)),
    }
}

fn short(s: &str) -> &str {
    s.get(..12).unwrap_or(s)
}

/// Text safe inside a Markdown table cell: no pipes or line breaks to end it early, and no `<`
/// that GitHub would take for an HTML tag and hide (`<none>`).
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace(['\n', '\r'], " ")
}

/// `1 file`, `2 files`.
fn n(count: usize, word: &str) -> String {
    if count == 1 {
        format!("1 {word}")
    } else {
        format!("{count} {word}s")
    }
}
