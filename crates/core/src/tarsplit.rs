//! tar-split (`tar-split.json.gz` in layerdb, `tar-data.json.gz` in the pre-1.10 `graph/`):
//! gzip'd JSON lines from which Docker rebuilds a layer's exact tar. Type 1 lines are files
//! (name, size, CRC-64), type 2 lines raw header bytes. Nothing of a file's content is in it.

use std::io::{BufRead, BufReader, Read};

use flate2::read::GzDecoder;
use serde::Deserialize;

/// What a tar-split says about its layer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// File entries.
    pub files: u64,
    /// Their bytes: what a graph driver that counts tar headers records as the layer's size.
    pub file_bytes: u64,
}

#[derive(Deserialize)]
struct Line {
    #[serde(rename = "type")]
    kind: u8,
    #[serde(default)]
    size: u64,
}

/// Reads a gzip'd tar-split, inflating at most `max_bytes`. A line longer than a header
/// segment could be is refused before it is held: a tar-split is a bomb like any gzip.
pub fn summarize(gz: &[u8], max_bytes: u64) -> Result<Summary, String> {
    const MAX_LINE: u64 = 1 << 20;
    let mut reader = BufReader::new(GzDecoder::new(gz).take(max_bytes));
    let mut out = Summary::default();
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = (&mut reader)
            .take(MAX_LINE)
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("not gzip: {e}"))?;
        if n == 0 {
            break;
        }
        if n as u64 == MAX_LINE && line.last() != Some(&b'\n') {
            return Err("a line longer than 1 MiB".into());
        }
        let text = line.trim_ascii();
        if text.is_empty() {
            continue;
        }
        let entry: Line =
            serde_json::from_slice(text).map_err(|e| format!("not tar-split JSON: {e}"))?;
        if entry.kind == 1 {
            out.files += 1;
            out.file_bytes = out.file_bytes.saturating_add(entry.size);
        }
    }
    if reader.into_inner().limit() == 0 {
        return Err(format!("inflates to more than {max_bytes} bytes"));
    }
    Ok(out)
}
