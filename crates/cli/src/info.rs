//! `storesnap info`: what a snapshot holds, from its manifest.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::Context;
use storesnap_core::docker::human_size;
use storesnap_core::{Limits, Snapshot};

use crate::exit::Exit;

/// Summarise a snapshot: where and when it was packed, what it holds, what was left out or
/// redacted, and any warnings from packing.
///
/// Example: storesnap info storesnap-host-20261123T072453Z.tar.zst
#[derive(Debug, clap::Args)]
pub struct InfoArgs {
    /// The snapshot file written by `storesnap pack`.
    snapshot: PathBuf,
    /// Print the manifest (storesnap.json) as JSON instead.
    #[arg(long)]
    json: bool,
}

pub fn run(args: InfoArgs) -> anyhow::Result<Exit> {
    let file = std::fs::File::open(&args.snapshot)
        .with_context(|| format!("opening {}", args.snapshot.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let snap = Snapshot::from_reader(file, Limits::default())
        .with_context(|| format!("reading {}", args.snapshot.display()))?;
    let m = &snap.manifest;
    let mut out = io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, m)?;
        writeln!(out)?;
        return Ok(Exit::Success);
    }
    let c = &m.counts;
    writeln!(
        out,
        "snapshot   {} ({}), format {}, {}",
        args.snapshot.display(),
        human_size(size as i64),
        m.format_version,
        m.tool
    )?;
    writeln!(
        out,
        "packed     {} on {} ({}/{})",
        m.created, m.host.hostname, m.host.os, m.host.arch
    )?;
    writeln!(out, "data root  {} [{}]", m.data_root, m.storage_driver)?;
    if let Some(c) = &m.containerd {
        writeln!(
            out,
            "containerd {} (namespace {}, snapshotter {}): the containerd image store",
            c.root, c.namespace, c.snapshotter
        )?;
    }
    writeln!(
        out,
        "contents   {} images, {} layers, {} container mounts, {} containers, {} driver dirs",
        c.images, c.layers, c.mounts, c.containers, c.driver_dirs
    )?;
    writeln!(
        out,
        "entries    {} files, {} symlinks, {} dirs ({} of metadata)",
        c.files,
        c.symlinks,
        c.dirs,
        human_size(c.bytes_read as i64)
    )?;
    let values = m.redacted_values();
    writeln!(
        out,
        "redacted   {values} values in {} files",
        m.redacted.len()
    )?;
    if m.image_configs_redacted() {
        let matched = m.configs_matched_before_redaction();
        writeln!(
            out,
            "           image configs redacted ({matched} of {} matched their ID before)",
            m.image_configs.len()
        )?;
    } else {
        writeln!(out, "           image configs kept byte-exact")?;
    }
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for s in &m.skipped {
        let reason = serde_json::to_value(s.reason)?
            .as_str()
            .unwrap_or("other")
            .to_owned();
        *reasons.entry(reason).or_default() += 1;
    }
    let reasons: Vec<String> = reasons.iter().map(|(r, n)| format!("{r}: {n}")).collect();
    writeln!(
        out,
        "skipped    {} paths ({})",
        m.skipped.len(),
        if reasons.is_empty() {
            "none".into()
        } else {
            reasons.join(", ")
        }
    )?;
    writeln!(
        out,
        "leftovers  {}",
        if m.leftovers.is_empty() {
            "none".into()
        } else {
            m.leftovers.join(", ")
        }
    )?;
    if m.warnings.is_empty() {
        writeln!(out, "warnings   none")?;
    } else {
        for (i, w) in m.warnings.iter().enumerate() {
            writeln!(
                out,
                "{}{w}",
                if i == 0 { "warnings   " } else { "           " }
            )?;
        }
    }
    Ok(Exit::Success)
}
