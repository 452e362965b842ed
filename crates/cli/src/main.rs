//! `storesnap`: the command-line front end. It owns everything that touches the host (the data
//! root, the clock, the terminal, exit codes) and hands bytes to `storesnap-core`.

mod check;
mod diff;
mod efficiency;
mod engine;
mod exit;
mod files;
mod info;
mod pack;
mod report;
mod source;
mod view;
mod views;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::exit::Exit;

/// Snapshot a Docker image store's metadata, and inspect it.
///
/// A snapshot is one small, deterministic .tar.zst holding the metadata of the local image store
/// (repositories.json, imagedb, layerdb, mounts, distribution, graph-driver links, container
/// configs with secrets redacted), never layer contents. Attach it to a bug report; open it in
/// the storesnap viewer.
#[derive(Debug, Parser)]
#[command(name = "storesnap", version, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Pack(pack::PackArgs),
    Info(info::InfoArgs),
    Check(check::CheckArgs),
    Images(views::ImagesArgs),
    History(views::HistoryArgs),
    Df(views::DfArgs),
    Report(report::ReportArgs),
    Files(files::FilesArgs),
    Efficiency(efficiency::EfficiencyArgs),
    Diff(diff::DiffArgs),
    View(view::ViewArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Pack(args) => pack::run(args),
        Command::Info(args) => info::run(args),
        Command::Check(args) => check::run(args),
        Command::Images(args) => views::images(args),
        Command::History(args) => views::history(args),
        Command::Df(args) => views::df(args),
        Command::Report(args) => report::run(args),
        Command::Files(args) => files::run(args),
        Command::Efficiency(args) => efficiency::run(args),
        Command::Diff(args) => diff::run(args),
        Command::View(args) => view::run(args),
    };
    match result {
        Ok(exit) => exit.into(),
        Err(err) => report(&err),
    }
}

fn report(err: &anyhow::Error) -> ExitCode {
    // A closed pipe (`storesnap pack -o - | head`) is how the reader says it has enough.
    if err.chain().any(|e| {
        e.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    }) {
        return Exit::Success.into();
    }
    let mut stderr = io::stderr().lock();
    let _ = writeln!(stderr, "storesnap: error: {err}");
    for cause in err.chain().skip(1) {
        let _ = writeln!(stderr, "  caused by: {cause}");
    }
    if let Some(hint) = err
        .chain()
        .find_map(|e| e.downcast_ref::<pack::PackError>())
        .and_then(pack::PackError::hint)
    {
        let _ = writeln!(stderr, "  hint: {hint}");
    }
    Exit::Error.into()
}

/// The default data roots, in the order tried: the system daemon's, then the rootless daemon's
/// of the calling user.
fn default_roots() -> Vec<PathBuf> {
    let mut roots = vec![PathBuf::from("/var/lib/docker")];
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        roots.push(PathBuf::from(xdg).join("docker"));
    } else if let Some(home) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        roots.push(PathBuf::from(home).join(".local/share/docker"));
    }
    roots
}
