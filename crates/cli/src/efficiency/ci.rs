//! dive's CI rules (`runtime/ci/rule.go`, `evaluator.go`): three thresholds with dive's
//! defaults, read from a `.dive-ci` file when there is one, overridden by flags.

use std::path::Path;

use anyhow::Context;

use super::gofmt::{go_v, humanize_bytes, parse_bytes};
use storesnap_core::files::efficiency::DiveReport;

/// Rule names in the order dive reports them (by name).
pub const RULES: [&str; 3] = [
    "highestUserWastedPercent",
    "highestWastedBytes",
    "lowestEfficiency",
];

/// Each rule's configured value, as dive holds it: a string, "disabled" to skip the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    pub lowest_efficiency: String,
    pub highest_wasted_bytes: String,
    pub highest_user_wasted_percent: String,
}

impl Default for Rules {
    fn default() -> Rules {
        Rules {
            lowest_efficiency: "0.9".into(),
            highest_wasted_bytes: "disabled".into(),
            highest_user_wasted_percent: "0.1".into(),
        }
    }
}

impl Rules {
    fn get(&self, rule: &str) -> &str {
        match rule {
            "lowestEfficiency" => &self.lowest_efficiency,
            "highestWastedBytes" => &self.highest_wasted_bytes,
            _ => &self.highest_user_wasted_percent,
        }
    }

    fn set(&mut self, rule: &str, value: String) {
        match rule {
            "lowestEfficiency" => self.lowest_efficiency = value,
            "highestWastedBytes" => self.highest_wasted_bytes = value,
            _ => self.highest_user_wasted_percent = value,
        }
    }

    /// Reads a `.dive-ci` file: YAML with a `rules:` mapping (keys in any case), as dive reads
    /// it. Only that subset of YAML is understood: a line storesnap cannot read is an error,
    /// not a silently different rule.
    pub fn read(&mut self, path: &Path) -> anyhow::Result<()> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the CI config {}", path.display()))?;
        self.parse(&text)
            .with_context(|| format!("reading the CI config {}", path.display()))
    }

    pub fn parse(&mut self, text: &str) -> anyhow::Result<()> {
        let mut in_rules = false;
        for (n, raw) in text.lines().enumerate() {
            let line = strip_comment(raw).trim_end();
            if line.trim().is_empty() || line.trim() == "---" {
                continue;
            }
            let nested = line.starts_with([' ', '\t']);
            let (key, value) = line
                .trim()
                .split_once(':')
                .ok_or_else(|| anyhow::anyhow!("line {}: not `key: value`: {raw:?}", n + 1))?;
            let key = key.trim().trim_matches(['"', '\'']).to_ascii_lowercase();
            let value = unquote(value.trim());
            let rule = match (nested, in_rules) {
                (false, _) if key == "rules" => {
                    in_rules = true;
                    continue;
                }
                (false, _) => {
                    in_rules = false;
                    match key.strip_prefix("rules.") {
                        Some(rule) => rule.to_owned(),
                        None => continue,
                    }
                }
                (true, true) => key,
                (true, false) => continue,
            };
            if let Some(name) = RULES.iter().find(|r| r.to_ascii_lowercase() == rule) {
                // An empty value keeps the default, as viper does for a null.
                if !value.is_empty() && value != "~" && value != "null" {
                    self.set(name, value);
                }
            }
        }
        Ok(())
    }
}

fn strip_comment(line: &str) -> &str {
    // A `#` starts a comment at the line's start or after a space, outside quotes.
    let mut quote = None;
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match (quote, b) {
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), b) if b == q => quote = None,
            (None, b'#') if i == 0 || bytes[i - 1].is_ascii_whitespace() => return &line[..i],
            _ => {}
        }
    }
    line
}

fn unquote(v: &str) -> String {
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|v| v.strip_suffix(q)) {
            return inner.to_owned();
        }
    }
    v.to_owned()
}

/// One rule's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail(String),
    /// Set to "disabled".
    Skip,
    Misconfigured(String),
    /// Valid, but not evaluated: another rule is misconfigured.
    Configured,
}

/// Every rule's outcome, by name, for one image.
pub struct Verdict {
    pub results: Vec<(&'static str, Status)>,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.results
            .iter()
            .all(|(_, s)| matches!(s, Status::Pass | Status::Skip))
    }

    pub fn misconfigured(&self) -> bool {
        self.results
            .iter()
            .any(|(_, s)| matches!(s, Status::Misconfigured(_)))
    }
}

fn go_float(value: &str) -> Result<f64, String> {
    value
        .parse::<f64>()
        .map_err(|_| format!("invalid config value ('{value}'): strconv.ParseFloat: parsing {value:?}: invalid syntax"))
}

/// dive's `Validate`: `None` when the value can be used.
fn validate(rule: &str, value: &str) -> Option<String> {
    match rule {
        "highestWastedBytes" => parse_bytes(value)
            .err()
            .map(|e| format!("invalid config value ('{value}'): {e}")),
        _ => match go_float(value) {
            Err(e) => Some(e),
            Ok(x) if !(0.0..=1.0).contains(&x) => Some(format!(
                "{rule} config value is outside allowed range (0-1), given '{value}'"
            )),
            Ok(_) => None,
        },
    }
}

/// Evaluates the rules on one image as dive does: equality passes; a rule set to "disabled"
/// is skipped; a value that does not parse makes the configuration fail as a whole.
pub fn evaluate(rules: &Rules, report: &DiveReport) -> Verdict {
    let enabled = |rule: &str| rules.get(rule) != "disabled";
    let bad: Vec<(&str, String)> = RULES
        .iter()
        .filter(|r| enabled(r))
        .filter_map(|r| validate(r, rules.get(r)).map(|e| (*r, e)))
        .collect();
    if !bad.is_empty() {
        let results = RULES
            .iter()
            .map(|r| {
                let status = match bad.iter().find(|(b, _)| b == r) {
                    Some((_, e)) => Status::Misconfigured(e.clone()),
                    None if enabled(r) => Status::Configured,
                    None => Status::Skip,
                };
                (*r, status)
            })
            .collect();
        return Verdict { results };
    }
    let results = RULES
        .iter()
        .map(|&rule| {
            let value = rules.get(rule);
            if !enabled(rule) {
                return (rule, Status::Skip);
            }
            let status = match rule {
                "lowestEfficiency" => {
                    let threshold = go_float(value).unwrap_or(f64::NAN);
                    if threshold > report.efficiency {
                        Status::Fail(format!(
                            "image efficiency is too low (efficiency={} < threshold={})",
                            go_v(report.efficiency),
                            go_v(threshold)
                        ))
                    } else {
                        Status::Pass
                    }
                }
                "highestWastedBytes" => {
                    let threshold = parse_bytes(value).unwrap_or(u64::MAX);
                    if report.wasted_bytes > threshold {
                        Status::Fail(format!(
                            "too many bytes wasted (wasted-bytes={} > threshold={threshold})",
                            report.wasted_bytes
                        ))
                    } else {
                        Status::Pass
                    }
                }
                _ => {
                    let threshold = go_float(value).unwrap_or(f64::NAN);
                    if threshold < report.wasted_user_percent {
                        Status::Fail(format!(
                            "too many bytes wasted, relative to the user bytes added (%-user-wasted-bytes={} > threshold={})",
                            go_v(report.wasted_user_percent),
                            go_v(threshold)
                        ))
                    } else {
                        Status::Pass
                    }
                }
            };
            (rule, status)
        })
        .collect();
    Verdict { results }
}

/// dive's CI report for one image, without its colours.
pub fn report(out: &mut String, dive: &DiveReport, verdict: &Verdict) {
    use std::fmt::Write as _;
    let _ = writeln!(
        out,
        "  efficiency: {} %",
        super::gofmt::go_f4(dive.efficiency * 100.0)
    );
    let _ = writeln!(
        out,
        "  wastedBytes: {} bytes ({})",
        dive.wasted_bytes,
        humanize_bytes(dive.wasted_bytes)
    );
    let _ = writeln!(
        out,
        "  userWastedPercent: {} %",
        super::gofmt::go_f4(dive.wasted_user_percent * 100.0)
    );
    let _ = writeln!(out, "Inefficient Files:");
    let _ = writeln!(out, "{:>5}  {:>12}  File Path", "Count", "Wasted Space");
    if dive.inefficiencies.is_empty() || verdict.misconfigured() {
        let _ = writeln!(out, "None");
    }
    if !verdict.misconfigured() {
        for i in &dive.inefficiencies {
            let _ = writeln!(
                out,
                "{:>5}  {:>12}  {}",
                i.count,
                humanize_bytes(i.size),
                i.path
            );
        }
    }
    let _ = writeln!(out, "Results:");
    let misconfigured = verdict.misconfigured();
    for (rule, status) in &verdict.results {
        let line = match (status, misconfigured) {
            (Status::Pass, _) => format!("PASS: {rule}"),
            (Status::Fail(m), _) => format!("FAIL: {rule}: {m}"),
            (Status::Skip, false) => format!("SKIP: {rule}: rule disabled"),
            (Status::Skip, true) => format!("CONFIGURED   : {rule}: rule disabled"),
            (Status::Configured, _) => format!("CONFIGURED   : {rule}: test"),
            (Status::Misconfigured(m), _) => format!("MISCONFIGURED: {rule}: {m}"),
        };
        let _ = writeln!(out, "  {line}");
    }
    if misconfigured {
        let _ = writeln!(out, "CI Misconfigured");
    } else {
        let count = |f: fn(&Status) -> bool| verdict.results.iter().filter(|(_, s)| f(s)).count();
        let _ = writeln!(
            out,
            "Result:{} [Total:{}] [Passed:{}] [Failed:{}] [Warn:0] [Skipped:{}]",
            if verdict.passed() { "PASS" } else { "FAIL" },
            verdict.results.len(),
            count(|s| *s == Status::Pass),
            count(|s| matches!(s, Status::Fail(_))),
            count(|s| *s == Status::Skip),
        );
    }
}
