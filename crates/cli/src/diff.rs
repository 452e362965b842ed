//! `storesnap diff`: what changed between two snapshots of a store.

use std::io::{self, Write};
use std::path::PathBuf;

use storesnap_core::diff::{diff, Diff, Side};
use storesnap_core::docker::human_size;

use crate::exit::Exit;
use crate::source::Source;
use crate::views::Format;

/// Compare two snapshots (or archives) of a store: before and after an upgrade, a prune, a
/// build or a bug.
///
/// Shows images added, removed and retagged; layers added and removed with the space they
/// take or freed; containers added, removed and changed in state; findings that are new and
/// findings that are resolved; and the `docker system df` totals before and after.
///
/// Exits 0 when nothing changed, 1 when something did (as diff(1) does), 2 when a file could
/// not be read.
///
/// Example: storesnap diff before.tar.zst after.tar.zst
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The earlier snapshot or archive.
    #[arg(value_name = "OLD")]
    old: PathBuf,
    /// The later one.
    #[arg(value_name = "NEW")]
    new: PathBuf,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn run(args: DiffArgs) -> anyhow::Result<Exit> {
    let open = |path: &PathBuf| {
        Source {
            snapshot: Some(path.clone()),
            root: None,
            containerd_root: None,
        }
        .load()
    };
    let (old, new) = (open(&args.old)?.analyzed(), open(&args.new)?.analyzed());
    let d = diff(&side(&old), &side(&new));
    let mut out = io::stdout().lock();
    if args.format == Format::Json {
        serde_json::to_writer_pretty(&mut out, &d)?;
        writeln!(out)?;
    } else {
        write_text(&mut out, &d)?;
    }
    Ok(if d.is_empty() {
        Exit::Success
    } else {
        Exit::Findings
    })
}

type Analyzed = (
    storesnap_core::Store,
    Vec<storesnap_core::Finding>,
    Option<storesnap_core::Manifest>,
);

fn side((store, findings, manifest): &Analyzed) -> Side<'_> {
    Side {
        store,
        findings,
        df: manifest.as_ref().map(|m| store.disk_summary(&m.dir_sizes)),
    }
}

fn write_text(out: &mut impl Write, d: &Diff) -> io::Result<()> {
    if d.is_empty() {
        return writeln!(out, "No changes.");
    }
    let size = |b: u64| human_size(i64::try_from(b).unwrap_or(i64::MAX));
    let names = |tags: &[String]| {
        if tags.is_empty() {
            "<none>".to_owned()
        } else {
            tags.join(", ")
        }
    };
    writeln!(
        out,
        "Images: {} added, {} removed, {} retagged",
        d.images_added.len(),
        d.images_removed.len(),
        d.images_retagged.len()
    )?;
    for i in &d.images_added {
        writeln!(
            out,
            "  + {} {} ({} layers)",
            i.id.short(),
            names(&i.tags),
            i.layers
        )?;
    }
    for i in &d.images_removed {
        writeln!(
            out,
            "  - {} {} ({} layers)",
            i.id.short(),
            names(&i.tags),
            i.layers
        )?;
    }
    for r in &d.images_retagged {
        writeln!(
            out,
            "  ~ {} {} -> {}",
            r.id.short(),
            names(&r.before),
            names(&r.after)
        )?;
    }
    writeln!(
        out,
        "Layers: {} added ({}), {} removed ({} freed)",
        d.layers_added.len(),
        size(d.layer_bytes_added),
        d.layers_removed.len(),
        size(d.layer_bytes_freed)
    )?;
    writeln!(
        out,
        "Containers: {} added, {} removed, {} changed state",
        d.containers_added.len(),
        d.containers_removed.len(),
        d.containers_changed.len()
    )?;
    for c in &d.containers_added {
        writeln!(out, "  + {} {} ({})", &c.id.as_str()[..12], c.name, c.state)?;
    }
    for c in &d.containers_removed {
        writeln!(out, "  - {} {} ({})", &c.id.as_str()[..12], c.name, c.state)?;
    }
    for c in &d.containers_changed {
        writeln!(
            out,
            "  ~ {} {}: {} -> {}",
            &c.id.as_str()[..12],
            c.name,
            c.before,
            c.after
        )?;
    }
    writeln!(
        out,
        "Findings: {} new, {} resolved",
        d.findings_new.len(),
        d.findings_resolved.len()
    )?;
    for f in &d.findings_new {
        writeln!(
            out,
            "  + {} {}: {}",
            f.severity.as_str(),
            f.code.as_str(),
            f.message
        )?;
    }
    for f in &d.findings_resolved {
        writeln!(
            out,
            "  - {} {}: {}",
            f.severity.as_str(),
            f.code.as_str(),
            f.message
        )?;
    }
    if !d.df.is_empty() {
        writeln!(out, "Disk use (docker system df):")?;
        let cell = |t: &Option<storesnap_core::diff::DfTotals>| {
            t.as_ref().map_or_else(
                || "-".to_owned(),
                |t| {
                    format!(
                        "{} ({} total, {} reclaimable)",
                        t.size, t.total, t.reclaimable
                    )
                },
            )
        };
        for row in &d.df {
            let mark = if row.before == row.after { " " } else { "~" };
            writeln!(
                out,
                "  {mark} {:<14} {}  ->  {}",
                row.kind,
                cell(&row.before),
                cell(&row.after)
            )?;
        }
    }
    Ok(())
}
