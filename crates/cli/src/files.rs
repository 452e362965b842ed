//! `storesnap files`: what is inside an image's layers, from their tar-splits (or, for an
//! archive, their tars): the merged tree, or one layer's changes.

use std::io::{self, Write};

use anyhow::{bail, Context};
use serde::Serialize;
use storesnap_core::docker::human_size;
use storesnap_core::files::{image_layers, stack, Change, FileEntry, FileLimits, Merged};

use crate::exit::Exit;
use crate::source::SourceAndImages;
use crate::views::{resolve, Format};

/// List the files in an image, as its layers' tar headers describe them (never their content).
///
/// Without --layer: the image's merged tree, what a container started from it sees, each path
/// with the layer it comes from. With --layer N (1 is the base, as `storesnap history` counts
/// from the bottom): what that layer added, modified, rewrote unchanged ("same") or removed,
/// with sizes. Whiteouts and opaque directories are applied as overlayfs applies them.
///
/// A snapshot needs its tar-splits (`pack` keeps them unless told --no-tar-split); a `docker
/// save` archive is read whole. The containerd image store keeps no tar-split: save the image
/// and open the archive.
///
/// Examples: storesnap files snapshot.tar.zst local/app:v1;
/// storesnap files app.tar local/app:v1 --layer 3 --format json
#[derive(Debug, clap::Args)]
pub struct FilesArgs {
    #[command(flatten)]
    source: SourceAndImages,
    /// Show one layer's changes instead of the merged tree (1 = the base layer).
    #[arg(long, value_name = "N")]
    layer: Option<usize>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// `--format json` without --layer.
#[derive(Serialize)]
struct TreeJson<'a> {
    image: String,
    layers: Vec<LayerJson<'a>>,
    merged: Vec<MergedJson<'a>>,
}

#[derive(Serialize)]
struct LayerJson<'a> {
    index: usize,
    chain_id: String,
    entries: &'a [FileEntry],
}

#[derive(Serialize)]
struct MergedJson<'a> {
    #[serde(flatten)]
    entry: &'a FileEntry,
    /// 1-based, as --layer counts.
    layer: usize,
}

/// `--format json` with --layer.
#[derive(Serialize)]
struct ChangesJson<'a> {
    image: String,
    layer: usize,
    chain_id: String,
    changes: &'a [Change],
}

pub fn run(args: FilesArgs) -> anyhow::Result<Exit> {
    let (source, names) = args.source.split()?;
    let [name] = names else {
        bail!("give one image: storesnap files SNAPSHOT|ARCHIVE IMAGE");
    };
    let loaded = source.load()?;
    let store = &loaded.store;
    let image = resolve(store, name)?;
    let layers = image_layers(
        loaded.held.layer_files(),
        store,
        image,
        &FileLimits::default(),
    )
    .map_err(|(chain, e)| anyhow::anyhow!("layer {}: {e}", chain.short()))
    .with_context(|| format!("listing the files of {name}"))?;
    let stacked = stack(&layers);
    let mut out = io::stdout().lock();
    let chain = image.chain();
    if let Some(n) = args.layer {
        if n == 0 || n > layers.len() {
            bail!(
                "{name} has {} layers: --layer takes 1 to {}",
                layers.len(),
                layers.len()
            );
        }
        let changes = &stacked.layers[n - 1].changes;
        if args.format == Format::Json {
            let doc = ChangesJson {
                image: image.id.to_string(),
                layer: n,
                chain_id: chain[n - 1].to_string(),
                changes,
            };
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        } else {
            for c in changes {
                let mark = match c.kind.as_str() {
                    "added" => "A",
                    "modified" => "M",
                    "same" => "=",
                    _ => "R",
                };
                writeln!(out, "{mark} {:>9}  {}", human_size(c.size as i64), c.path)?;
            }
        }
        return Ok(Exit::Success);
    }
    if args.format == Format::Json {
        let doc = TreeJson {
            image: image.id.to_string(),
            layers: layers
                .iter()
                .enumerate()
                .map(|(i, entries)| LayerJson {
                    index: i + 1,
                    chain_id: chain[i].to_string(),
                    entries,
                })
                .collect(),
            merged: stacked
                .merged
                .values()
                .map(|m| MergedJson {
                    entry: &m.entry,
                    layer: m.layer + 1,
                })
                .collect(),
        };
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        for m in stacked.merged.values() {
            write_merged(&mut out, m)?;
        }
    }
    Ok(Exit::Success)
}

/// `ls -l`-like: mode, owner, size, layer, path (and a link's target).
fn write_merged(out: &mut impl Write, m: &Merged) -> io::Result<()> {
    let e = &m.entry;
    let kind = match e.kind.as_str() {
        "dir" => 'd',
        "symlink" => 'l',
        "hardlink" => 'h',
        "char-device" => 'c',
        "block-device" => 'b',
        "fifo" => 'p',
        _ => '-',
    };
    let link = e
        .link
        .as_deref()
        .map(|l| format!(" -> {l}"))
        .unwrap_or_default();
    writeln!(
        out,
        "{kind}{:04o} {:>5}:{:<5} {:>9}  L{:<3} {}{link}",
        e.mode & 0o7777,
        e.uid,
        e.gid,
        human_size(e.size as i64),
        m.layer + 1,
        e.path
    )
}
