//! Reading a store's files: the tree of paths a loader works on, and the reader that turns a
//! file into bytes, text, an identifier or JSON, making every unusable file a finding.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::finding::{Code, Finding, Subject};
use crate::id::ContainerId;
use crate::snapshot::Entry;

/// The files of a store, by path relative to its data root.
pub type Files = BTreeMap<String, Entry>;

/// Entries under `prefix`, as (rest of path, entry), in path order.
pub(crate) fn under<'a>(
    files: &'a Files,
    prefix: &'a str,
) -> impl Iterator<Item = (&'a str, &'a Entry)> + 'a {
    files
        .range(prefix.to_owned()..)
        .map_while(move |(p, e)| Some((p.strip_prefix(prefix)?, e)))
}

/// The names directly under `prefix` (files, dirs and links).
pub(crate) fn children<'a>(files: &'a Files, prefix: &'a str) -> BTreeSet<&'a str> {
    under(files, prefix)
        .filter_map(|(rest, _)| rest.split('/').next())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The bytes of a regular file.
pub(crate) fn file<'a>(files: &'a Files, path: &str) -> Option<&'a [u8]> {
    match files.get(path)? {
        Entry::File(b) => Some(b),
        _ => None,
    }
}

/// `EmptyFile` or `NulFilled` when the bytes carry nothing.
pub(crate) fn blank(bytes: &[u8]) -> Option<Code> {
    if bytes.is_empty() {
        Some(Code::EmptyFile)
    } else if bytes.iter().all(|&b| b == 0) {
        Some(Code::NulFilled)
    } else {
        None
    }
}

pub(crate) fn str_of(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

pub(crate) fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// A store's files and the findings met while reading them.
pub(crate) struct Reader<'a> {
    pub files: &'a Files,
    pub findings: Vec<Finding>,
}

impl<'a> Reader<'a> {
    pub fn new(files: &'a Files) -> Self {
        Reader {
            files,
            findings: Vec::new(),
        }
    }

    pub fn finding(&mut self, code: Code, subjects: Vec<Subject>, message: String) {
        self.findings.push(Finding::new(code, subjects, message));
    }

    /// A directory named by a container ID; any other name is a finding.
    pub fn container_id(&mut self, name: &str, dir: &str) -> Option<ContainerId> {
        match name.parse() {
            Ok(id) => Some(id),
            Err(e) => {
                self.finding(
                    Code::InvalidValue,
                    vec![Subject::Path(dir.to_owned())],
                    format!("{dir} is not named by a container ID: {e}"),
                );
                None
            }
        }
    }

    /// The bytes of a metadata file, or `None` (with a finding) when it is not a regular file
    /// or carries nothing (empty, NUL-filled). A missing file gives `None` and no finding.
    pub fn content(&mut self, path: &str, subject: &Subject) -> Option<&'a [u8]> {
        let files: &'a Files = self.files;
        let bytes = match files.get(path)? {
            Entry::File(b) => b.as_slice(),
            _ => {
                self.finding(
                    Code::InvalidValue,
                    vec![subject.clone(), Subject::Path(path.into())],
                    format!("{path} is not a regular file"),
                );
                return None;
            }
        };
        if let Some(code) = blank(bytes) {
            let what = if code == Code::EmptyFile {
                "is empty"
            } else {
                "holds only NUL bytes"
            };
            self.finding(
                code,
                vec![subject.clone(), Subject::Path(path.into())],
                format!("{path} {what}"),
            );
            return None;
        }
        Some(bytes)
    }

    /// The trimmed text of a metadata file, or `None` (with a finding) when it is unusable.
    /// A missing file gives `None` and no finding: whether that matters is the caller's call.
    pub fn text(&mut self, path: &str, subject: &Subject) -> Option<String> {
        let bytes = self.content(path, subject)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Some(s.trim().to_owned()),
            Err(_) => {
                self.finding(
                    Code::InvalidValue,
                    vec![subject.clone(), Subject::Path(path.into())],
                    format!("{path} is not text"),
                );
                None
            }
        }
    }

    /// Parses an identifier file; a bad value is a finding.
    pub fn id<T: std::str::FromStr<Err = crate::Error>>(
        &mut self,
        path: &str,
        subject: &Subject,
    ) -> Option<T> {
        let text = self.text(path, subject)?;
        match text.parse() {
            Ok(v) => Some(v),
            Err(e) => {
                self.finding(
                    Code::InvalidValue,
                    vec![subject.clone(), Subject::Path(path.into())],
                    format!("{path}: {e}"),
                );
                None
            }
        }
    }

    pub fn json(&mut self, path: &str, subject: &Subject) -> Option<Value> {
        let bytes = self.content(path, subject)?;
        // serde_json stops at 128 levels of nesting, which caps hostile depth.
        match serde_json::from_slice(bytes) {
            Ok(v) => Some(v),
            Err(e) => {
                self.finding(
                    Code::InvalidJson,
                    vec![subject.clone(), Subject::Path(path.into())],
                    format!("{path} is not valid JSON: {e}"),
                );
                None
            }
        }
    }
}
