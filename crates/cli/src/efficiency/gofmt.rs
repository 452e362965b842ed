//! Go's formatting, where dive's output depends on it: `encoding/json`'s `MarshalIndent` (two
//! spaces, HTML-safe strings, shortest floats), `%v` and `%2.4f` of a float64, and
//! go-humanize's `Bytes`.

/// A JSON value as Go's encoder writes it; objects keep their key order.
pub enum Json {
    Object(Vec<(&'static str, Json)>),
    Array(Vec<Json>),
    String(String),
    Int(i128),
    Float(f64),
    Bool(bool),
}

/// `json.MarshalIndent(v, "", "  ")`.
pub fn marshal_indent(v: &Json) -> String {
    let mut out = String::new();
    write(&mut out, v, 0);
    out
}

fn write(out: &mut String, v: &Json, depth: usize) {
    let indent = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    };
    match v {
        Json::Object(fields) if fields.is_empty() => out.push_str("{}"),
        Json::Object(fields) => {
            out.push('{');
            for (i, (key, value)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                indent(out, depth + 1);
                string(out, key);
                out.push_str(": ");
                write(out, value, depth + 1);
            }
            indent(out, depth);
            out.push('}');
        }
        Json::Array(items) if items.is_empty() => out.push_str("[]"),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                indent(out, depth + 1);
                write(out, item, depth + 1);
            }
            indent(out, depth);
            out.push(']');
        }
        Json::String(s) => string(out, s),
        Json::Int(n) => out.push_str(&n.to_string()),
        Json::Float(f) => out.push_str(&json_float(*f)),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
    }
}

/// Go's string encoding with HTML escaping on (its default).
fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A float64 as `encoding/json` writes it: shortest digits, exponent form only below 1e-6 or
/// from 1e21 on (`e-07` written `e-7`). NaN and infinities, which Go refuses, are written as
/// `null`.
pub fn json_float(f: f64) -> String {
    if !f.is_finite() {
        return "null".into();
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // Rust's `{:e}` is shortest digits with a bare exponent: `5e-7`, `1e21`; Go writes
        // `1e+21`.
        let e = format!("{f:e}");
        return match e.split_once('e') {
            Some((m, exp)) if !exp.starts_with('-') => format!("{m}e+{exp}"),
            _ => e,
        };
    }
    format!("{f}")
}

/// `fmt.Sprintf("%v", f)` for a float64, which is `strconv.FormatFloat(f, 'g', -1, 64)`:
/// shortest digits, in exponent form (two exponent digits at least) when the decimal exponent is
/// below -4 or at least 6.
pub fn go_v(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == 0.0 {
        return "0".into();
    }
    let e = format!("{f:e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    format!("{f}")
}

/// `fmt.Sprintf("%2.4f", f)`.
pub fn go_f4(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    format!("{f:.4}")
}

/// go-humanize's `Bytes`: SI units, one decimal under 10.
pub fn humanize_bytes(s: u64) -> String {
    const SIZES: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    if s < 10 {
        return format!("{s} B");
    }
    let e = ((s as f64).ln() / 1000f64.ln()).floor();
    let suffix = SIZES[(e as usize).min(SIZES.len() - 1)];
    let val = (s as f64 / 1000f64.powf(e) * 10.0 + 0.5).floor() / 10.0;
    if val < 10.0 {
        format!("{val:.1} {suffix}")
    } else {
        format!("{val:.0} {suffix}")
    }
}

/// go-humanize's `ParseBytes`: a number (commas allowed), then a unit, SI (kB, MB: powers of
/// 1000) or IEC (KiB, MiB: powers of 1024), any case; none is bytes.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let digits = s
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.' || *c == ','))
        .map_or(s.len(), |(i, _)| i);
    let number: String = s[..digits].chars().filter(|c| *c != ',').collect();
    let f: f64 = number
        .parse()
        .map_err(|_| format!("strconv.ParseFloat: parsing {number:?}: invalid syntax"))?;
    let unit = s[digits..].trim().to_ascii_lowercase();
    let m: u64 = match unit.as_str() {
        "b" | "" => 1,
        "kib" | "ki" => 1 << 10,
        "kb" | "k" => 1_000,
        "mib" | "mi" => 1 << 20,
        "mb" | "m" => 1_000_000,
        "gib" | "gi" => 1 << 30,
        "gb" | "g" => 1_000_000_000,
        "tib" | "ti" => 1 << 40,
        "tb" | "t" => 1_000_000_000_000,
        "pib" | "pi" => 1 << 50,
        "pb" | "p" => 1_000_000_000_000_000,
        "eib" | "ei" => 1 << 60,
        "eb" | "e" => 1_000_000_000_000_000_000,
        other => return Err(format!("unhandled size name: {other}")),
    };
    let bytes = f * m as f64;
    if bytes >= u64::MAX as f64 {
        return Err(format!("too large: {s}"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_go_does() {
        assert_eq!(json_float(1.0), "1");
        assert_eq!(json_float(0.40350877192982454), "0.40350877192982454");
        assert_eq!(json_float(5e-7), "5e-7");
        assert_eq!(json_float(1e21), "1e+21");
        assert_eq!(go_v(0.9), "0.9");
        assert_eq!(go_v(2.16), "2.16");
        assert_eq!(go_v(1e-5), "1e-05");
        assert_eq!(go_v(1234567.0), "1.234567e+06");
        assert_eq!(go_v(100000.0), "100000");
        assert_eq!(go_v(f64::INFINITY), "+Inf");
        assert_eq!(go_f4(40.35087719298245), "40.3509");
        assert_eq!(humanize_bytes(270), "270 B");
        assert_eq!(humanize_bytes(9), "9 B");
        assert_eq!(humanize_bytes(1234), "1.2 kB");
        assert_eq!(humanize_bytes(131_072), "131 kB");
        assert_eq!(parse_bytes("20Mb"), Ok(20_000_000));
        assert_eq!(parse_bytes("1,000 KiB"), Ok(1_024_000));
        assert_eq!(parse_bytes("12"), Ok(12));
        assert!(parse_bytes("-1").is_err());
        assert!(parse_bytes("5 parsecs")
            .unwrap_err()
            .contains("unhandled size name"));
        let doc = Json::Object(vec![
            ("a", Json::Array(vec![])),
            ("b", Json::String("<&>\"".into())),
            ("c", Json::Array(vec![Json::Int(1), Json::Bool(false)])),
        ]);
        assert_eq!(
            marshal_indent(&doc),
            "{\n  \"a\": [],\n  \"b\": \"\\u003c\\u0026\\u003e\\\"\",\n  \"c\": [\n    1,\n    false\n  ]\n}"
        );
    }
}
