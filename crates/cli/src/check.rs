//! `storesnap check`: the store's integrity findings, as a report or JSON.

use std::io::{self, Write};

use serde::Serialize;
use storesnap_core::{Finding, Severity};

use crate::exit::Exit;
use crate::source::Source;
use crate::views::Format;

/// Check a store's integrity: IDs against contents, references, layer chains, graph-driver
/// directories, overlay2 links and lowers, container mounts.
///
/// Exits 0 when nothing of error severity was found, 1 when something was, 2 when the store
/// could not be read.
///
/// Examples: storesnap check snapshot.tar.zst; sudo storesnap check --root /var/lib/docker
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    source: Source,
    /// Leave out findings below this severity.
    #[arg(long, value_enum, default_value_t = MinSeverity::Info)]
    min_severity: MinSeverity,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum MinSeverity {
    Info,
    Warning,
    Error,
}

/// The JSON document `check --format json` prints. `version` changes when fields do.
#[derive(Serialize)]
struct Report<'a> {
    version: u32,
    source: String,
    counts: Counts,
    findings: Vec<&'a Finding>,
}

#[derive(Clone, Copy, Serialize)]
struct Counts {
    images: usize,
    layers: usize,
    containers: usize,
    errors: usize,
    warnings: usize,
    infos: usize,
}

pub fn run(args: CheckArgs) -> anyhow::Result<Exit> {
    let (store, findings, _) = args.source.load()?.analyzed();
    let min = match args.min_severity {
        MinSeverity::Info => Severity::Info,
        MinSeverity::Warning => Severity::Warning,
        MinSeverity::Error => Severity::Error,
    };
    let count = |s| findings.iter().filter(|f| f.severity == s).count();
    let counts = Counts {
        images: store.images.len(),
        layers: store.layers.len(),
        containers: store.containers.len(),
        errors: count(Severity::Error),
        warnings: count(Severity::Warning),
        infos: count(Severity::Info),
    };
    let shown: Vec<&Finding> = findings.iter().filter(|f| f.severity >= min).collect();
    let mut out = io::stdout().lock();
    if args.format == Format::Json {
        let report = Report {
            version: 1,
            source: args.source.describe(),
            counts,
            findings: shown,
        };
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{}: {} images, {} layers, {} containers",
            args.source.describe(),
            counts.images,
            counts.layers,
            counts.containers
        )?;
        for f in &shown {
            writeln!(
                out,
                "{:<8}{}: {}",
                f.severity.as_str(),
                f.code.as_str(),
                f.message
            )?;
            writeln!(out, "        hint: {}", f.hint)?;
        }
        writeln!(
            out,
            "{} errors, {} warnings, {} info",
            counts.errors, counts.warnings, counts.infos
        )?;
    }
    Ok(if counts.errors > 0 {
        Exit::Findings
    } else {
        Exit::Success
    })
}
