//! Redaction of values that may hold secrets.
//!
//! A redacted value becomes `<redacted:XXXXXXXXXXXX>`: the first 12 hex digits of
//! HMAC-SHA256(key, value). Equal values give equal markers inside one snapshot, so a reader can
//! still see that two containers share a password, but not what it is. The key never leaves the
//! packing host, so a low-entropy secret cannot be confirmed by hashing guesses.
//!
//! Names stay readable: `DB_PASSWORD=<redacted:…>`, label keys, the program of a command.

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::error::{Error, Result};
use crate::id::push_hex;

/// The prefix of every redaction marker.
pub const MARKER_PREFIX: &str = "<redacted:";

/// Replaces values by keyed-hash markers.
#[derive(Clone)]
pub struct Redactor {
    key: [u8; 32],
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor { key: <hidden> }")
    }
}

/// A redacted document and the JSON paths of the values it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redaction {
    pub bytes: Vec<u8>,
    pub fields: Vec<String>,
}

impl Redactor {
    /// A redactor with a secret key, derived by the caller from something that stays on the host.
    pub fn new(key: [u8; 32]) -> Redactor {
        Redactor { key }
    }

    /// The marker for `value`.
    pub fn marker(&self, value: &str) -> String {
        let mut mac = <Hmac<Sha256>>::new_from_slice(&self.key).expect("hmac takes any key size");
        mac.update(value.as_bytes());
        let tag = mac.finalize().into_bytes();
        let mut out = String::from(MARKER_PREFIX);
        push_hex(&mut out, &tag[..6]);
        out.push('>');
        out
    }

    /// Redacts `containers/<id>/config.v2.json`: env values, labels, command arguments,
    /// health-check commands. Keeps the program name (`Path`) and every key.
    pub fn container_config(&self, path: &str, json: &[u8]) -> Result<Redaction> {
        let mut doc = parse(path, json)?;
        let mut fields = Vec::new();
        if let Some(args) = doc.get_mut("Args") {
            self.strings(args, "Args", 0, &mut fields);
        }
        if let Some(config) = doc.get_mut("Config") {
            self.runtime_config(config, "Config", &mut fields);
        }
        Ok(Redaction {
            bytes: to_json_line(&doc),
            fields,
        })
    }

    /// Redacts `containers/<id>/hostconfig.json`: log-driver options.
    pub fn host_config(&self, path: &str, json: &[u8]) -> Result<Redaction> {
        let mut doc = parse(path, json)?;
        let mut fields = Vec::new();
        if let Some(opts) = doc.pointer_mut("/LogConfig/Config") {
            self.map_values(opts, "LogConfig.Config", &mut fields);
        }
        Ok(Redaction {
            bytes: to_json_line(&doc),
            fields,
        })
    }

    /// Redacts an image config (`imagedb/content/sha256/<id>`), only with `pack --redact`: the
    /// same fields in `config` and `container_config`, and every history `created_by`.
    ///
    /// The result no longer hashes to the image ID; the manifest records that.
    pub fn image_config(&self, path: &str, json: &[u8]) -> Result<Redaction> {
        let mut doc = parse(path, json)?;
        let mut fields = Vec::new();
        for key in ["config", "container_config"] {
            if let Some(config) = doc.get_mut(key) {
                self.runtime_config(config, key, &mut fields);
            }
        }
        if let Some(Value::Array(history)) = doc.get_mut("history") {
            for (i, entry) in history.iter_mut().enumerate() {
                if let Some(v) = entry.get_mut("created_by") {
                    self.string(v, &format!("history[{i}].created_by"), &mut fields);
                }
            }
        }
        let mut bytes = serde_json::to_vec(&doc).expect("a json value serializes");
        bytes.shrink_to_fit();
        Ok(Redaction { bytes, fields })
    }

    /// A bare `container.Config` document: Docker's container-config blob of an image built
    /// by the classic builder or by commit, in the containerd store.
    pub fn runtime_config_document(&self, path: &str, json: &[u8]) -> Result<Redaction> {
        let mut doc = parse(path, json)?;
        let mut fields = Vec::new();
        self.runtime_config(&mut doc, "", &mut fields);
        let fields = fields
            .into_iter()
            .map(|f| f.trim_start_matches('.').to_owned())
            .collect();
        let mut bytes = serde_json::to_vec(&doc).expect("a json value serializes");
        bytes.shrink_to_fit();
        Ok(Redaction { bytes, fields })
    }

    // A `container.Config` as found in container and image configs.
    fn runtime_config(&self, config: &mut Value, at: &str, fields: &mut Vec<String>) {
        if let Some(Value::Array(env)) = config.get_mut("Env") {
            for (i, item) in env.iter_mut().enumerate() {
                let Value::String(s) = item else { continue };
                let Some((name, value)) = s.split_once('=') else {
                    continue;
                };
                if value.is_empty() || value.starts_with(MARKER_PREFIX) {
                    continue;
                }
                *s = format!("{name}={}", self.marker(value));
                fields.push(format!("{at}.Env[{i}]"));
            }
        }
        let has_entrypoint =
            matches!(config.get("Entrypoint"), Some(Value::Array(a)) if !a.is_empty());
        if let Some(ep) = config.get_mut("Entrypoint") {
            self.strings(ep, &format!("{at}.Entrypoint"), 1, fields);
        }
        if let Some(cmd) = config.get_mut("Cmd") {
            // The first word is the program unless an entrypoint is: then all of Cmd is arguments.
            let keep = if has_entrypoint { 0 } else { 1 };
            self.strings(cmd, &format!("{at}.Cmd"), keep, fields);
        }
        if let Some(test) = config.pointer_mut("/Healthcheck/Test") {
            // Test[0] is the kind: CMD, CMD-SHELL or NONE.
            self.strings(test, &format!("{at}.Healthcheck.Test"), 1, fields);
        }
        if let Some(labels) = config.get_mut("Labels") {
            self.map_values(labels, &format!("{at}.Labels"), fields);
        }
    }

    fn strings(&self, v: &mut Value, at: &str, keep: usize, fields: &mut Vec<String>) {
        if let Value::Array(items) = v {
            for (i, item) in items.iter_mut().enumerate().skip(keep) {
                self.string(item, &format!("{at}[{i}]"), fields);
            }
        }
    }

    fn map_values(&self, v: &mut Value, at: &str, fields: &mut Vec<String>) {
        if let Value::Object(map) = v {
            for (k, item) in map.iter_mut() {
                self.string(item, &format!("{at}.{k}"), fields);
            }
        }
    }

    fn string(&self, v: &mut Value, at: &str, fields: &mut Vec<String>) {
        if let Value::String(s) = v {
            if !s.is_empty() && !s.starts_with(MARKER_PREFIX) {
                *s = self.marker(s);
                fields.push(at.to_owned());
            }
        }
    }
}

fn parse(path: &str, json: &[u8]) -> Result<Value> {
    serde_json::from_slice(json).map_err(|source| Error::Json {
        path: path.to_owned(),
        source,
    })
}

// Docker writes container configs with json.Encoder: compact, one trailing newline.
fn to_json_line(doc: &Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec(doc).expect("a json value serializes");
    bytes.push(b'\n');
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor() -> Redactor {
        Redactor::new([7; 32])
    }

    #[track_caller]
    fn check(redacted: Result<Redaction>, secrets: &[&str], expected_fields: &[&str]) -> Value {
        let r = redacted.unwrap();
        let text = String::from_utf8(r.bytes.clone()).unwrap();
        for s in secrets {
            assert!(!text.contains(s), "{s:?} survived in {text}");
        }
        assert_eq!(r.fields, expected_fields);
        serde_json::from_slice(&r.bytes).unwrap()
    }

    #[test]
    fn container_config_keeps_names_and_drops_values() {
        let json = br#"{"Path":"sh","Args":["-c","echo s3cret-arg"],"Config":{
            "Env":["PATH=/bin","DB_PASSWORD=hunter2","EMPTY="],
            "Cmd":["sh","-c","echo s3cret-arg"],
            "Healthcheck":{"Test":["CMD-SHELL","curl -u admin:pw localhost"]},
            "Labels":{"team":"storage","token":"abc123"}}}"#;
        let doc = check(
            redactor().container_config("c.json", json),
            &["hunter2", "s3cret-arg", "admin:pw", "abc123", "/bin\""],
            &[
                "Args[0]",
                "Args[1]",
                "Config.Env[0]",
                "Config.Env[1]",
                "Config.Cmd[1]",
                "Config.Cmd[2]",
                "Config.Healthcheck.Test[1]",
                "Config.Labels.team",
                "Config.Labels.token",
            ],
        );
        assert_eq!(doc["Path"], "sh");
        assert_eq!(doc["Config"]["Cmd"][0], "sh");
        assert_eq!(doc["Config"]["Healthcheck"]["Test"][0], "CMD-SHELL");
        assert_eq!(doc["Config"]["Env"][2], "EMPTY=");
        let env1 = doc["Config"]["Env"][1].as_str().unwrap();
        assert!(env1.starts_with("DB_PASSWORD=<redacted:"), "{env1}");
    }

    #[test]
    fn equal_values_give_equal_markers_and_keys_matter() {
        let r = redactor();
        assert_eq!(r.marker("x"), r.marker("x"));
        assert_ne!(r.marker("x"), r.marker("y"));
        assert_ne!(r.marker("x"), Redactor::new([8; 32]).marker("x"));
        assert_eq!(r.marker("x").len(), MARKER_PREFIX.len() + 12 + 1);
    }

    #[test]
    fn entrypoint_makes_all_of_cmd_arguments() {
        let json = br#"{"Config":{"Entrypoint":["/entry.sh","--token=t0k"],"Cmd":["serve"]}}"#;
        let doc = check(
            redactor().container_config("c.json", json),
            &["t0k", "serve"],
            &["Config.Entrypoint[1]", "Config.Cmd[0]"],
        );
        assert_eq!(doc["Config"]["Entrypoint"][0], "/entry.sh");
    }

    #[test]
    fn host_config_log_options() {
        let json =
            br#"{"LogConfig":{"Type":"splunk","Config":{"splunk-token":"tok-999"}},"Binds":null}"#;
        let doc = check(
            redactor().host_config("h.json", json),
            &["tok-999"],
            &["LogConfig.Config.splunk-token"],
        );
        assert_eq!(doc["LogConfig"]["Type"], "splunk");
    }

    #[test]
    fn image_config_history_and_both_configs() {
        let json = br#"{"config":{"Env":["K=v1"]},"container_config":{"Cmd":["/bin/sh","-c","|1 PW=zz9 echo"]},
            "history":[{"created_by":"RUN |1 PW=zz9 echo"},{"empty_layer":true}]}"#;
        check(
            redactor().image_config("i", json),
            &["zz9", "v1"],
            &[
                "config.Env[0]",
                "container_config.Cmd[1]",
                "container_config.Cmd[2]",
                "history[0].created_by",
            ],
        );
    }

    #[test]
    fn redaction_is_idempotent_and_tolerates_odd_shapes() {
        let r = redactor();
        let once = r
            .container_config(
                "c",
                br#"{"Config":{"Env":["A=b"],"Labels":null,"Cmd":null}}"#,
            )
            .unwrap();
        let twice = r.container_config("c", &once.bytes).unwrap();
        assert_eq!(once.bytes, twice.bytes);
        assert!(twice.fields.is_empty());
        assert!(r.container_config("c", b"[1,2]").unwrap().fields.is_empty());
        let err = r
            .container_config("containers/x/config.v2.json", b"{")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("invalid json in containers/x/config.v2.json"),
            "{err}"
        );
    }
}
