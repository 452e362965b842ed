//! An image config (the JSON whose sha256 is a graph-driver image ID, or that a manifest names
//! in the containerd store) as the model holds it.

use serde_json::Value;

use super::files::{str_of, string_map, Reader};
use crate::finding::{Code, Subject};
use crate::id::{DiffId, ImageId};
use crate::store::{HistoryEntry, ImageConfig};
use crate::time::parse_rfc3339;

/// The model of the config `v` read from `path`; `None`, with a finding, when it has no usable
/// `rootfs.diff_ids`.
pub(crate) fn parse(r: &mut Reader, v: &Value, id: &ImageId, path: &str) -> Option<ImageConfig> {
    let subject = Subject::Image(id.clone());
    if !v.is_object() {
        r.finding(
            Code::InvalidJson,
            vec![subject, Subject::Path(path.into())],
            format!("{path} is not a JSON object"),
        );
        return None;
    }
    let mut diff_ids = Vec::new();
    if let Some(ids) = v.pointer("/rootfs/diff_ids").and_then(Value::as_array) {
        for d in ids {
            match d.as_str().map(str::parse::<DiffId>) {
                Some(Ok(d)) => diff_ids.push(d),
                _ => {
                    r.finding(
                        Code::InvalidValue,
                        vec![subject.clone(), Subject::Path(path.into())],
                        format!(
                            "image {}: rootfs.diff_ids holds {d}, not a diffID",
                            id.short()
                        ),
                    );
                    return None;
                }
            }
        }
    } else {
        r.finding(
            Code::InvalidJson,
            vec![subject, Subject::Path(path.into())],
            format!("image {} has no rootfs.diff_ids", id.short()),
        );
        return None;
    }
    let mut layer = 0;
    let history = v
        .get("history")
        .and_then(Value::as_array)
        .map(|h| {
            h.iter()
                .map(|e| {
                    let empty_layer = e
                        .get("empty_layer")
                        .and_then(Value::as_bool)
                        .unwrap_or(false);
                    let created = str_of(e, "created");
                    let index = (!empty_layer && layer < diff_ids.len()).then(|| {
                        layer += 1;
                        layer - 1
                    });
                    HistoryEntry {
                        created_unix: created.as_deref().and_then(parse_rfc3339).map(|(s, _)| s),
                        created,
                        created_by: str_of(e, "created_by").unwrap_or_default(),
                        author: str_of(e, "author").unwrap_or_default(),
                        comment: str_of(e, "comment").unwrap_or_default(),
                        empty_layer,
                        layer: index,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let created = str_of(v, "created");
    let config = v.get("config");
    let strings = |key: &str| -> Vec<String> {
        config
            .and_then(|c| c.get(key))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    Some(ImageConfig {
        architecture: str_of(v, "architecture").unwrap_or_default(),
        os: str_of(v, "os").unwrap_or_default(),
        variant: str_of(v, "variant").unwrap_or_default(),
        created_unix: created.as_deref().and_then(parse_rfc3339).map(|(s, _)| s),
        created,
        author: str_of(v, "author").unwrap_or_default(),
        comment: str_of(v, "comment").unwrap_or_default(),
        docker_version: str_of(v, "docker_version").unwrap_or_default(),
        env: strings("Env"),
        cmd: strings("Cmd"),
        entrypoint: strings("Entrypoint"),
        labels: string_map(config.and_then(|c| c.get("Labels"))),
        history,
        diff_ids,
    })
}
