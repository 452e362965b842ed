//! `storesnap efficiency`: wasted space in each image, as dive 0.13.1 counts it and as
//! storesnap counts it, with dive's `--json` shape and its CI rules.

mod ci;
mod gofmt;

use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::{bail, Context};
use storesnap_core::files::efficiency::{dive, own, DiveReport, OwnReport};
use storesnap_core::files::{image_layers, FileLimits, LayerFiles};
use storesnap_core::store::{Image, Store};

use crate::exit::Exit;
use crate::source::SourceAndImages;
use crate::views::{resolve, Format};
use gofmt::Json;

/// Show wasted space in images: files that later layers delete or write again, whose bytes
/// every pull still carries. Reads layers' tar-splits (a snapshot, a live root), or their tars
/// (a `docker save` archive); never layer contents from a snapshot.
///
/// Two sets of figures per image:
///   dive       computed exactly as dive 0.13.1 computes them: efficiency score, wasted bytes,
///              user wasted percent, and the inefficient paths (met in two or more layers, all
///              their copies counted). dive ignores opaque directories, counts a deleted
///              directory's files as no waste, and counts the copy still in the image as waste.
///   storesnap  the bytes layers hold that the image no longer shows: versions removed
///              (whiteouts, opaque directories, files over directories), updated (other content
///              written over them) or duplicated (the same content, by CRC-64, written again).
///
/// With no IMAGE, every tagged image. `--format json` prints, per image, dive's `--json`
/// document (`layer`, `image`), plus a `storesnap` object; scripts written for dive read it
/// unchanged. `--ci` applies dive's CI rules (lowestEfficiency 0.9, highestWastedBytes
/// disabled, highestUserWastedPercent 0.1, or those of a `.dive-ci` file) and exits 1 when an
/// image fails them.
///
/// Examples: storesnap efficiency snapshot.tar.zst local/app:v1;
/// storesnap efficiency app.tar --ci; storesnap efficiency --root /var/lib/docker --format json
#[derive(Debug, clap::Args)]
pub struct EfficiencyArgs {
    #[command(flatten)]
    source: SourceAndImages,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Apply dive's CI rules; exit 1 if an image fails one.
    #[arg(long)]
    ci: bool,
    /// The CI rules file (YAML with a `rules:` mapping) [default: .dive-ci if it exists].
    #[arg(long, value_name = "FILE")]
    ci_config: Option<PathBuf>,
    /// Lowest allowed efficiency (0 to 1), or "disabled" [default: 0.9].
    #[arg(long, alias = "lowestEfficiency", value_name = "RATIO")]
    lowest_efficiency: Option<String>,
    /// Most wasted bytes allowed (e.g. 20MB, 5MiB), or "disabled" [default: disabled].
    #[arg(long, alias = "highestWastedBytes", value_name = "SIZE")]
    highest_wasted_bytes: Option<String>,
    /// Most wasted bytes allowed relative to the non-base layers' bytes (0 to 1), or
    /// "disabled" [default: 0.1].
    #[arg(long, alias = "highestUserWastedPercent", value_name = "RATIO")]
    highest_user_wasted_percent: Option<String>,
}

pub fn run(args: EfficiencyArgs) -> anyhow::Result<Exit> {
    let rules = args.ci.then(|| rules(&args)).transpose()?;
    let (source, names) = args.source.split()?;
    let loaded = source.load()?;
    let store = &loaded.store;
    let images: Vec<&Image> = if names.is_empty() {
        let tagged: Vec<&Image> = store
            .images
            .values()
            .filter(|i| !i.tags.is_empty())
            .collect();
        if tagged.is_empty() {
            bail!(
                "no tagged image in {}: name one (an ID or a prefix)",
                source.describe()
            );
        }
        tagged
    } else {
        names
            .iter()
            .map(|n| resolve(store, n))
            .collect::<anyhow::Result<_>>()?
    };
    let files = loaded.held.layer_files();
    let mut out = io::stdout().lock();
    let mut failed = false;
    for image in images {
        let name = image.display_name();
        let layers = image_layers(files, store, image, &FileLimits::default())
            .map_err(|(chain, e)| anyhow::anyhow!("layer {}: {e}", chain.short()))
            .with_context(|| format!("reading the files of {name}"))?;
        let d = dive(&layers);
        let o = own(&layers);
        match (&rules, args.format) {
            (rules, Format::Json) => {
                // With --ci, the verdict is the exit code alone.
                if let Some(rules) = rules {
                    failed |= !ci::evaluate(rules, &d).passed();
                }
                let doc = json(store, image, files, &d, &o);
                writeln!(out, "{}", gofmt::marshal_indent(&doc))?;
            }
            (Some(rules), Format::Table) => {
                let verdict = ci::evaluate(rules, &d);
                failed |= !verdict.passed();
                let mut text = format!("{name} ({})\n", image.id.short());
                ci::report(&mut text, &d, &verdict);
                writeln!(out, "{text}")?;
            }
            (None, Format::Table) => write_text(&mut out, &name, image, &d, &o)?,
        }
    }
    Ok(if failed {
        Exit::Findings
    } else {
        Exit::Success
    })
}

fn rules(args: &EfficiencyArgs) -> anyhow::Result<ci::Rules> {
    let mut rules = ci::Rules::default();
    let path = args
        .ci_config
        .clone()
        .unwrap_or_else(|| PathBuf::from(".dive-ci"));
    if path.exists() {
        rules.read(&path)?;
    } else if args.ci_config.is_some() {
        bail!("no CI config at {}", path.display());
    }
    for (value, set) in [
        (&args.lowest_efficiency, &mut rules.lowest_efficiency),
        (&args.highest_wasted_bytes, &mut rules.highest_wasted_bytes),
        (
            &args.highest_user_wasted_percent,
            &mut rules.highest_user_wasted_percent,
        ),
    ] {
        if let Some(v) = value {
            *set = v.clone();
        }
    }
    Ok(rules)
}

fn write_text(
    out: &mut impl Write,
    name: &str,
    image: &Image,
    d: &DiveReport,
    o: &OwnReport,
) -> io::Result<()> {
    use storesnap_core::docker::human_size;
    let size = |b: u64| human_size(i64::try_from(b).unwrap_or(i64::MAX));
    writeln!(out, "{name} ({})", image.id.short())?;
    writeln!(
        out,
        "  dive 0.13.1  efficiency {} %, wasted {} ({} bytes), {} % of the user layers",
        gofmt::go_f4(d.efficiency * 100.0),
        size(d.wasted_bytes),
        d.wasted_bytes,
        gofmt::go_f4(d.wasted_user_percent * 100.0),
    )?;
    writeln!(
        out,
        "  storesnap    efficiency {} %, wasted {} ({} bytes): {} removed, {} updated, {} duplicated",
        gofmt::go_f4(o.efficiency * 100.0),
        size(o.wasted_bytes),
        o.wasted_bytes,
        size(o.removed_bytes),
        size(o.updated_bytes),
        size(o.duplicate_bytes),
    )?;
    if o.wastes.is_empty() {
        writeln!(out, "  nothing wasted")?;
    } else {
        writeln!(
            out,
            "  {:>9}  {:<9}  {:>8}  PATH",
            "WASTED", "WHY", "VERSIONS"
        )?;
        for w in &o.wastes {
            writeln!(
                out,
                "  {:>9}  {:<9}  {:>8}  {}",
                size(w.wasted),
                w.kind.as_str(),
                w.versions,
                w.path
            )?;
        }
    }
    for note in differences(d, o) {
        writeln!(out, "  note: {note}")?;
    }
    writeln!(out)
}

/// Why the two figures differ, in words.
fn differences(d: &DiveReport, o: &OwnReport) -> Vec<String> {
    let mut notes = Vec::new();
    let dive_paths: std::collections::BTreeSet<&str> =
        d.inefficiencies.iter().map(|i| i.path.as_str()).collect();
    let unseen: Vec<&str> = o
        .wastes
        .iter()
        .filter(|w| !dive_paths.contains(w.path.as_str()))
        .map(|w| w.path.as_str())
        .collect();
    if !unseen.is_empty() {
        let bytes: u64 = o
            .wastes
            .iter()
            .filter(|w| !dive_paths.contains(w.path.as_str()))
            .map(|w| w.wasted)
            .sum();
        notes.push(format!(
            "dive misses {} wasted paths ({bytes} bytes) under deleted or opaque directories, e.g. {}",
            unseen.len(),
            unseen[0]
        ));
    }
    let kept: u64 = d
        .inefficiencies
        .iter()
        .map(|i| i.size)
        .sum::<u64>()
        .saturating_sub(
            o.wastes
                .iter()
                .filter(|w| dive_paths.contains(w.path.as_str()))
                .map(|w| w.wasted)
                .sum(),
        );
    if kept > 0 {
        notes.push(format!(
            "dive counts {kept} bytes the image still shows (the last copy of each path it lists)"
        ));
    }
    notes
}

/// dive's `--json` document for one image, and storesnap's figures beside it.
fn json(
    store: &Store,
    image: &Image,
    files: LayerFiles<'_>,
    d: &DiveReport,
    o: &OwnReport,
) -> Json {
    let history: Vec<&str> = image
        .config
        .as_ref()
        .map(|c| {
            c.history
                .iter()
                .filter(|h| !h.empty_layer)
                .map(|h| h.created_by.as_str())
                .collect()
        })
        .unwrap_or_default();
    let diff_ids: Vec<String> = image
        .config
        .as_ref()
        .map(|c| c.diff_ids.iter().map(ToString::to_string).collect())
        .unwrap_or_default();
    let layers = d
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let command = history
                .get(i)
                .map_or("(missing)", |c| c.strip_prefix("/bin/sh -c ").unwrap_or(c));
            let digest = if i < history.len() {
                diff_ids.get(i).cloned().unwrap_or_default()
            } else {
                String::new()
            };
            Json::Object(vec![
                ("index", Json::Int(i as i128)),
                ("id", Json::String(layer_id(store, image, files, i))),
                ("digestId", Json::String(digest)),
                ("sizeBytes", Json::Int(i128::from(l.size_bytes))),
                ("command", Json::String(command.to_owned())),
                (
                    "fileList",
                    Json::Array(
                        l.file_list
                            .iter()
                            .map(|f| {
                                Json::Object(vec![
                                    ("path", Json::String(f.path.clone())),
                                    ("typeFlag", Json::Int(i128::from(f.type_flag))),
                                    ("linkName", Json::String(f.link_name.clone())),
                                    ("size", Json::Int(i128::from(f.size))),
                                    ("fileMode", Json::Int(i128::from(f.file_mode))),
                                    ("uid", Json::Int(i128::from(f.uid))),
                                    ("gid", Json::Int(i128::from(f.gid))),
                                    ("isDir", Json::Bool(f.is_dir)),
                                ])
                            })
                            .collect(),
                    ),
                ),
            ])
        })
        .collect();
    let references = d
        .inefficiencies
        .iter()
        .map(|i| {
            Json::Object(vec![
                ("count", Json::Int(i.count as i128)),
                ("sizeBytes", Json::Int(i128::from(i.size))),
                ("file", Json::String(i.path.clone())),
            ])
        })
        .collect();
    let wastes = o
        .wastes
        .iter()
        .map(|w| {
            Json::Object(vec![
                ("file", Json::String(w.path.clone())),
                ("kind", Json::String(w.kind.as_str().into())),
                ("versions", Json::Int(w.versions as i128)),
                ("wastedBytes", Json::Int(i128::from(w.wasted))),
            ])
        })
        .collect();
    Json::Object(vec![
        ("layer", Json::Array(layers)),
        (
            "image",
            Json::Object(vec![
                ("sizeBytes", Json::Int(i128::from(d.size_bytes))),
                ("inefficientBytes", Json::Int(i128::from(d.wasted_bytes))),
                ("efficiencyScore", Json::Float(d.efficiency)),
                ("fileReference", Json::Array(references)),
            ]),
        ),
        (
            "storesnap",
            Json::Object(vec![
                ("imageId", Json::String(image.id.to_string())),
                ("name", Json::String(image.display_name())),
                ("userSizeBytes", Json::Int(i128::from(d.user_size_bytes))),
                ("userWastedPercent", Json::Float(d.wasted_user_percent)),
                (
                    "corrected",
                    Json::Object(vec![
                        ("sizeBytes", Json::Int(i128::from(o.size_bytes))),
                        ("userSizeBytes", Json::Int(i128::from(o.user_size_bytes))),
                        ("inefficientBytes", Json::Int(i128::from(o.wasted_bytes))),
                        ("efficiencyScore", Json::Float(o.efficiency)),
                        ("userWastedPercent", Json::Float(o.wasted_user_percent)),
                        ("removedBytes", Json::Int(i128::from(o.removed_bytes))),
                        ("updatedBytes", Json::Int(i128::from(o.updated_bytes))),
                        ("duplicateBytes", Json::Int(i128::from(o.duplicate_bytes))),
                        ("files", Json::Array(wastes)),
                    ]),
                ),
                (
                    "differences",
                    Json::Array(differences(d, o).into_iter().map(Json::String).collect()),
                ),
            ]),
        ),
    ])
}

/// What dive names a layer: the first part of its file's path in the archive (the v1 ID, or
/// `blobs` in an OCI layout). A store has no archive: dive, given the image by a Docker 25 or
/// later daemon, sees an OCI layout and says `blobs`.
fn layer_id(store: &Store, image: &Image, files: LayerFiles<'_>, index: usize) -> String {
    let archived = match files {
        LayerFiles::Archive(_) => image.chain().get(index).and_then(|c| {
            store
                .archive
                .as_ref()
                .and_then(|a| a.layers.get(c))
                .map(|l| l.path.split('/').next().unwrap_or_default().to_owned())
        }),
        LayerFiles::Store(_) => None,
    };
    archived.unwrap_or_else(|| "blobs".into())
}
