//! `storesnap images|history|df`: the docker CLI's views of a snapshot or a live root, with its
//! flags, its tables and its `--format json` output.

use std::io::{self, Write};

use anyhow::bail;
use storesnap_core::docker::{Clock, HistoryOptions, ImageListOptions, TimeZone, Zone};
use storesnap_core::store::{Image, Store};

use crate::exit::Exit;
use crate::source::Source;

/// Output format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table, like the docker CLI's.
    #[default]
    Table,
    /// The JSON that `docker … --format '{{json .}}'` prints, field for field.
    Json,
}

/// List images, like `docker image ls`.
///
/// Example: storesnap images -a --digests snapshot.tar.zst
#[derive(Debug, clap::Args)]
pub struct ImagesArgs {
    #[command(flatten)]
    source: Source,
    /// Show all images, including intermediate ones (untagged images with children).
    #[arg(short, long)]
    all: bool,
    /// Show digests.
    #[arg(long)]
    digests: bool,
    /// Do not truncate IDs.
    #[arg(long)]
    no_trunc: bool,
    /// Only print image IDs.
    #[arg(short, long)]
    quiet: bool,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Show an image's history, like `docker history`.
///
/// IMAGE is a tag (`local/app:v1`; the tag defaults to `latest`), a full image ID, or an ID
/// prefix that names one image.
///
/// Example: storesnap history snapshot.tar.zst local/app:v1
#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// The snapshot written by `storesnap pack` (omit it with --root).
    #[arg(value_name = "SNAPSHOT_OR_IMAGE", num_args = 1..=2, required = true)]
    args: Vec<String>,
    /// Read a live Docker data root instead of a snapshot.
    #[arg(long, value_name = "DIR")]
    root: Option<std::path::PathBuf>,
    /// With --root, for a containerd image store: the containerd root.
    #[arg(long, value_name = "DIR", requires = "root")]
    containerd_root: Option<std::path::PathBuf>,
    /// Do not truncate IDs and commands.
    #[arg(long)]
    no_trunc: bool,
    /// Human-readable sizes and times; `-H=false` prints bytes and RFC 3339 times.
    #[arg(short = 'H', long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    human: bool,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Show disk usage, like `docker system df`.
///
/// Container and volume sizes come from what `pack` recorded; BuildKit's cache is not part of a
/// snapshot, so its row is always empty.
///
/// Example: storesnap df -v snapshot.tar.zst
#[derive(Debug, clap::Args)]
pub struct DfArgs {
    #[command(flatten)]
    source: Source,
    /// Show per-image, per-container and per-volume usage.
    #[arg(short, long)]
    verbose: bool,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// The host's time zone, as Go's `time.Local` sees it (TZ, else /etc/localtime).
struct LocalZone(jiff::tz::TimeZone);

impl TimeZone for LocalZone {
    fn at(&self, unix: i64) -> Zone {
        let ts = jiff::Timestamp::from_second(unix).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let info = self.0.to_offset_info(ts);
        Zone {
            offset_seconds: info.offset().seconds(),
            abbreviation: info.abbreviation().to_owned(),
        }
    }
}

fn with_clock<T>(f: impl FnOnce(&Clock<'_>) -> T) -> T {
    let zone = LocalZone(jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    f(&Clock {
        now_unix: now,
        zone: &zone,
    })
}

fn json_line<T: serde::Serialize>(out: &mut impl Write, value: &T) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}

pub fn images(args: ImagesArgs) -> anyhow::Result<Exit> {
    // The docker views read the model; they need none of the checks.
    let store = args.source.load()?.store;
    let opts = ImageListOptions {
        all: args.all,
        digests: args.digests,
        no_trunc: args.no_trunc,
    };
    let rows = with_clock(|clock| store.image_rows(opts, clock));
    let mut out = io::stdout().lock();
    if args.quiet {
        for r in &rows {
            writeln!(out, "{}", r.id)?;
        }
    } else if args.format == Format::Json {
        for r in &rows {
            json_line(&mut out, r)?;
        }
    } else {
        let mut header = vec!["REPOSITORY", "TAG"];
        if args.digests {
            header.push("DIGEST");
        }
        header.extend(["IMAGE ID", "CREATED", "SIZE"]);
        let body = rows.iter().map(|r| {
            let mut row = vec![r.repository.clone(), r.tag.clone()];
            if args.digests {
                row.push(r.digest.clone());
            }
            row.extend([r.id.clone(), r.created_since.clone(), r.size.clone()]);
            row
        });
        table(&mut out, &header, body)?;
    }
    Ok(Exit::Success)
}

pub fn history(args: HistoryArgs) -> anyhow::Result<Exit> {
    let (source, name) = match (&args.root, args.args.as_slice()) {
        (Some(root), [image]) => (
            Source {
                snapshot: None,
                root: Some(root.clone()),
                containerd_root: args.containerd_root.clone(),
            },
            image.clone(),
        ),
        (None, [snapshot, image]) => (
            Source {
                snapshot: Some(snapshot.into()),
                root: None,
                containerd_root: None,
            },
            image.clone(),
        ),
        (Some(_), _) => {
            bail!("with --root, give only the image: storesnap history --root DIR IMAGE")
        }
        (None, _) => bail!("give a snapshot and an image: storesnap history SNAPSHOT IMAGE"),
    };
    // The docker views read the model; they need none of the checks.
    let store = source.load()?.store;
    let image = resolve(&store, &name)?;
    let opts = HistoryOptions {
        no_trunc: args.no_trunc,
        human: args.human,
    };
    let rows = with_clock(|clock| store.history_rows(image, opts, clock));
    let mut out = io::stdout().lock();
    if args.format == Format::Json {
        for r in &rows {
            json_line(&mut out, r)?;
        }
    } else {
        let body = rows.iter().map(|r| {
            vec![
                r.id.clone(),
                r.created_since.clone(),
                r.created_by.clone(),
                r.size.clone(),
                r.comment.clone(),
            ]
        });
        table(
            &mut out,
            &["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"],
            body,
        )?;
    }
    Ok(Exit::Success)
}

/// Finds an image by tag, full ID or unique ID prefix, as the docker CLI does.
pub fn resolve<'s>(store: &'s Store, name: &str) -> anyhow::Result<&'s Image> {
    let tagged = if name
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains(':'))
    {
        name.to_owned()
    } else {
        format!("{name}:latest")
    };
    if let Some(r) = store
        .references
        .iter()
        .find(|r| r.name.as_str() == tagged || r.name.as_str() == name)
    {
        if let Some(image) = store.images.get(&r.image) {
            return Ok(image);
        }
        bail!(
            "{name} points at image {}, which is not in the store",
            r.image.short()
        );
    }
    let hex = name.strip_prefix("sha256:").unwrap_or(name);
    if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        let matches: Vec<&Image> = store
            .images
            .values()
            .filter(|i| i.id.hex().starts_with(hex))
            .collect();
        match matches.as_slice() {
            [one] => return Ok(one),
            [] => {}
            many => bail!("{name} is ambiguous: it prefixes {} image IDs", many.len()),
        }
    }
    bail!("no such image: {name}")
}

pub fn df(args: DfArgs) -> anyhow::Result<Exit> {
    let loaded = args.source.load()?;
    let Some(m) = &loaded.manifest else {
        bail!("an archive is not a store on disk: `df` needs a snapshot or --root (check, images, history and report read archives)");
    };
    // The docker views read the model; they need none of the checks.
    let store = &loaded.store;
    let usage = with_clock(|clock| store.disk_usage(&m.dir_sizes, &m.data_root, clock));
    let mut out = io::stdout().lock();
    match (args.verbose, args.format) {
        (true, Format::Json) => json_line(&mut out, &usage)?,
        (true, Format::Table) => {
            writeln!(out, "Images space usage:\n")?;
            let body = usage.images.iter().map(|r| {
                let id =
                    r.id.trim_start_matches("sha256:")
                        .chars()
                        .take(12)
                        .collect();
                vec![
                    r.repository.clone(),
                    r.tag.clone(),
                    id,
                    r.created_since.clone(),
                    r.size.clone(),
                    r.shared_size.clone(),
                    r.unique_size.clone(),
                    r.containers.clone(),
                ]
            });
            table(
                &mut out,
                &[
                    "REPOSITORY",
                    "TAG",
                    "IMAGE ID",
                    "CREATED",
                    "SIZE",
                    "SHARED SIZE",
                    "UNIQUE SIZE",
                    "CONTAINERS",
                ],
                body,
            )?;
            writeln!(out, "\nContainers space usage:\n")?;
            let body = usage.containers.iter().map(|c| {
                vec![
                    c.id.chars().take(12).collect(),
                    c.image.clone(),
                    c.command.clone(),
                    c.local_volumes.clone(),
                    c.size.clone(),
                    c.running_for.clone(),
                    c.status.clone(),
                    c.names.clone(),
                ]
            });
            table(
                &mut out,
                &[
                    "CONTAINER ID",
                    "IMAGE",
                    "COMMAND",
                    "LOCAL VOLUMES",
                    "SIZE",
                    "CREATED",
                    "STATUS",
                    "NAMES",
                ],
                body,
            )?;
            writeln!(out, "\nLocal Volumes space usage:\n")?;
            let body = usage
                .volumes
                .iter()
                .map(|v| vec![v.name.clone(), v.links.clone(), v.size.clone()]);
            table(&mut out, &["VOLUME NAME", "LINKS", "SIZE"], body)?;
            writeln!(out, "\nBuild cache usage: 0B (not part of a snapshot)")?;
        }
        (false, format) => {
            let s = store.disk_summary(&m.dir_sizes);
            if format == Format::Json {
                for row in &s {
                    json_line(&mut out, row)?;
                }
            } else {
                let body = s.iter().map(|r| {
                    vec![
                        r.kind.clone(),
                        r.total_count.clone(),
                        r.active.clone(),
                        r.size.clone(),
                        r.reclaimable.clone(),
                    ]
                });
                table(
                    &mut out,
                    &["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"],
                    body,
                )?;
            }
        }
    }
    Ok(Exit::Success)
}

/// Go's text/tabwriter as the docker CLI sets it up: columns at least 20 wide, 3 spaces of
/// padding, the last column unpadded.
fn table(
    out: &mut impl Write,
    header: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> io::Result<()> {
    let rows: Vec<Vec<String>> = std::iter::once(header.iter().map(|h| (*h).to_owned()).collect())
        .chain(rows)
        .collect();
    let columns = header.len();
    let mut widths = vec![0usize; columns];
    for row in &rows {
        for (i, cell) in row.iter().enumerate().take(columns - 1) {
            widths[i] = widths[i].max((cell.chars().count() + 3).max(20));
        }
    }
    for row in &rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < columns {
                line.extend(std::iter::repeat_n(' ', widths[i] - cell.chars().count()));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}
