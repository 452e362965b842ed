//! `containers/<id>/config.v2.json`, the same in every kind of data root: the containers the
//! model knows, with what `docker ps` and `docker system df` show of them.

use std::collections::BTreeMap;

use serde_json::Value;

use super::files::{children, str_of, string_map, Reader};
use crate::finding::{Code, Subject};
use crate::id::{ContainerId, ImageId};
use crate::store::Container;
use crate::time::parse_rfc3339;

/// Every container with a readable `config.v2.json`; problems become findings in `r`.
pub(crate) fn load(r: &mut Reader) -> BTreeMap<ContainerId, Container> {
    let mut out = BTreeMap::new();
    for name in children(r.files, "containers/") {
        let path = format!("containers/{name}/config.v2.json");
        if !r.files.contains_key(&path) {
            continue;
        }
        let Some(id) = r.container_id(name, &format!("containers/{name}")) else {
            continue;
        };
        let subject = Subject::Container(id.clone());
        let Some(v) = r.json(&path, &subject) else {
            continue;
        };
        let state = v.get("State");
        let flag = |k: &str| {
            state
                .and_then(|s| s.get(k))
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        let started_at = state
            .and_then(|s| str_of(s, "StartedAt"))
            .unwrap_or_default();
        let created = str_of(&v, "Created");
        let mut command: Vec<String> = str_of(&v, "Path")
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect();
        if let Some(args) = v.get("Args").and_then(Value::as_array) {
            command.extend(args.iter().filter_map(|a| a.as_str().map(str::to_owned)));
        }
        let volumes = v
            .get("MountPoints")
            .and_then(Value::as_object)
            .map(|m| {
                m.values()
                    .filter(|p| str_of(p, "Type").as_deref() == Some("volume"))
                    .filter_map(|p| str_of(p, "Name"))
                    .collect()
            })
            .unwrap_or_default();
        let image = match str_of(&v, "Image").map(|s| s.parse::<ImageId>()) {
            Some(Ok(i)) => Some(i),
            Some(Err(e)) => {
                r.finding(
                    Code::InvalidValue,
                    vec![subject.clone(), Subject::Path(path.clone())],
                    format!("{path}: {e}"),
                );
                None
            }
            None => None,
        };
        out.insert(
            id.clone(),
            Container {
                id,
                name: str_of(&v, "Name")
                    .unwrap_or_default()
                    .trim_start_matches('/')
                    .to_owned(),
                image,
                image_name: v
                    .pointer("/Config/Image")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                created_unix: created.as_deref().and_then(parse_rfc3339).map(|(s, _)| s),
                created_nanos: created.as_deref().and_then(parse_rfc3339),
                created,
                image_manifest: v
                    .pointer("/ImageManifest/digest")
                    .and_then(Value::as_str)
                    .and_then(|d| d.parse().ok()),
                image_platform: v.get("ImagePlatform").filter(|p| p.is_object()).map(|p| {
                    format!(
                        "{}/{}",
                        p.get("os").and_then(Value::as_str).unwrap_or_default(),
                        p.get("architecture")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                    )
                }),
                running: flag("Running"),
                paused: flag("Paused"),
                restarting: flag("Restarting"),
                dead: flag("Dead"),
                exit_code: state
                    .and_then(|s| s.get("ExitCode"))
                    .and_then(Value::as_i64)
                    .unwrap_or(0),
                // Go's zero time: the container never started.
                started: !started_at.is_empty() && !started_at.starts_with("0001-01-01"),
                finished_at: state.and_then(|s| str_of(s, "FinishedAt")),
                driver: str_of(&v, "Driver").unwrap_or_default(),
                command,
                labels: string_map(v.pointer("/Config/Labels")),
                volumes,
                networks: v
                    .pointer("/NetworkSettings/Networks")
                    .and_then(Value::as_object)
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default(),
            },
        );
    }
    out
}
