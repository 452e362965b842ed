//! `storesnap report`: the Markdown to paste into a bug report.

use std::io::{self, Write};

use crate::exit::Exit;
use crate::source::Source;

/// Print a Markdown summary for a bug report: host, engine, driver, counts, disk use, every
/// finding with its hint, the largest images, and what was redacted or left out.
///
/// It holds nothing the snapshot does not (so no secret `pack` redacted), and it is the same
/// text the viewer's "Copy report" button gives for the same file. Paste it into the issue and
/// attach the snapshot.
///
/// Examples: storesnap report snapshot.tar.zst | xclip; sudo storesnap report --root /var/lib/docker
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    #[command(flatten)]
    source: Source,
}

pub fn run(args: ReportArgs) -> anyhow::Result<Exit> {
    let (store, findings, manifest) = args.source.load()?.analyzed();
    let text = storesnap_core::report::markdown(manifest.as_ref(), &store, &findings);
    io::stdout().lock().write_all(text.as_bytes())?;
    Ok(Exit::Success)
}
