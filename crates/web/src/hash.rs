//! The URL hash: where the snapshot came from and what is selected, so a link opens the same view.
//!
//! `#demo`, `#url=<address>` and one of `#image=sha256:…`, `#layer=sha256:…`, `#dir=<name>` or
//! `#file=<path>` (percent-encoded), joined by `&`. The address comes last and takes the rest of
//! the hash, so an unencoded `&` in it survives.

use storesnap_core::{ChainId, ImageId};

use crate::state::Selection;

/// Where the hash says the snapshot comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Demo,
    /// The address as written in the hash (possibly percent-encoded); see [`Source::address`].
    Url(String),
}

impl Source {
    /// The address to fetch, percent-decoded.
    pub fn address(raw: &str) -> String {
        decode(raw)
    }
}

fn decode(raw: &str) -> String {
    js_sys::decode_uri_component(raw)
        .ok()
        .and_then(|u| u.as_string())
        .unwrap_or_else(|| raw.to_owned())
}

/// Names and paths may hold `&`, `=` or `#`.
fn encode(text: &str) -> String {
    String::from(js_sys::encode_uri_component(text))
}

/// What a hash holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hash {
    pub source: Option<Source>,
    pub selection: Selection,
}

impl Hash {
    /// Reads a hash, with or without its leading `#`. Unknown or malformed parts are ignored: a
    /// link from a newer viewer still opens.
    pub fn parse(hash: &str) -> Hash {
        let mut out = Hash::default();
        let mut rest = hash.strip_prefix('#').unwrap_or(hash);
        while !rest.is_empty() {
            if let Some(url) = rest.strip_prefix("url=") {
                out.source = Some(Source::Url(url.to_owned()));
                break;
            }
            let (part, tail) = rest.split_once('&').unwrap_or((rest, ""));
            rest = tail;
            match part.split_once('=') {
                None if part == "demo" => out.source = Some(Source::Demo),
                Some(("image", id)) => {
                    if let Ok(id) = id.parse::<ImageId>() {
                        out.selection = Selection::Image(id);
                    }
                }
                Some(("layer", id)) => {
                    if let Ok(id) = id.parse::<ChainId>() {
                        out.selection = Selection::Layer(id);
                    }
                }
                Some(("dir", name)) => out.selection = Selection::DriverDir(decode(name)),
                Some(("file", path)) => out.selection = Selection::File(decode(path)),
                _ => {}
            }
        }
        out
    }

    /// The hash for this source and selection, with its leading `#`, or empty.
    pub fn format(&self) -> String {
        let mut parts = Vec::new();
        match &self.selection {
            Selection::None => {}
            Selection::Image(id) => parts.push(format!("image={id}")),
            Selection::Layer(id) => parts.push(format!("layer={id}")),
            Selection::DriverDir(name) => parts.push(format!("dir={}", encode(name))),
            Selection::File(path) => parts.push(format!("file={}", encode(path))),
        }
        match &self.source {
            None => {}
            Some(Source::Demo) => parts.push("demo".into()),
            Some(Source::Url(url)) => parts.push(format!("url={url}")),
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("#{}", parts.join("&"))
        }
    }
}
