//! Go's and go-units' formatting as the docker CLI prints it: sizes, durations, times.

use crate::time::UtcTime;

/// A zone's offset and abbreviation at some instant, e.g. `+3600`, `CET`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    pub offset_seconds: i32,
    pub abbreviation: String,
}

/// Time zone rules, provided by the host (the CLI) or the browser.
pub trait TimeZone {
    fn at(&self, unix: i64) -> Zone;
}

/// UTC, as the docker CLI prints it when TZ=UTC.
#[derive(Debug, Clone, Copy, Default)]
pub struct Utc;

impl TimeZone for Utc {
    fn at(&self, _unix: i64) -> Zone {
        Zone {
            offset_seconds: 0,
            abbreviation: "UTC".into(),
        }
    }
}

/// The current time and the zone to print times in.
pub struct Clock<'a> {
    pub now_unix: i64,
    pub zone: &'a dyn TimeZone,
}

/// Go's zero `time.Time` as Unix seconds: what `Created.Unix()` gives for a missing time.
pub(super) const GO_ZERO_TIME: i64 = -62_135_596_800;

impl Clock<'_> {
    /// Go's `time.Unix(t, 0).String()`: `2026-11-23 07:36:51 +0000 UTC`.
    pub fn go_string(&self, unix: i64) -> String {
        let z = self.zone.at(unix);
        let t = UtcTime::from_unix(unix + i64::from(z.offset_seconds));
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} {} {}",
            t.year,
            t.month,
            t.day,
            t.hour,
            t.minute,
            t.second,
            offset(z.offset_seconds, false),
            z.abbreviation
        )
    }

    /// Go's `time.Unix(t, 0).Format(time.RFC3339)`: `2026-11-23T07:36:51Z` or `…+01:00`.
    pub fn rfc3339(&self, unix: i64) -> String {
        let z = self.zone.at(unix);
        let t = UtcTime::from_unix(unix + i64::from(z.offset_seconds));
        let zone = if z.offset_seconds == 0 {
            "Z".to_owned()
        } else {
            offset(z.offset_seconds, true)
        };
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{zone}",
            t.year, t.month, t.day, t.hour, t.minute, t.second
        )
    }

    /// `units.HumanDuration(now - t) + " ago"`.
    pub fn since(&self, unix: i64) -> String {
        format!("{} ago", human_duration(self.now_unix.saturating_sub(unix)))
    }
}

pub(super) fn offset(seconds: i32, colon: bool) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let m = seconds.unsigned_abs() / 60;
    if colon {
        format!("{sign}{:02}:{:02}", m / 60, m % 60)
    } else {
        format!("{sign}{:02}{:02}", m / 60, m % 60)
    }
}

/// go-units `HumanDuration`.
pub fn human_duration(seconds: i64) -> String {
    let hours_rounded = (seconds as f64 / 3600.0 + 0.5) as i64;
    match seconds {
        s if s < 1 => "Less than a second".into(),
        1 => "1 second".into(),
        s if s < 60 => format!("{s} seconds"),
        s if s / 60 == 1 => "About a minute".into(),
        s if s / 60 < 60 => format!("{} minutes", s / 60),
        _ if hours_rounded == 1 => "About an hour".into(),
        _ if hours_rounded < 48 => format!("{hours_rounded} hours"),
        _ if hours_rounded < 24 * 7 * 2 => format!("{} days", hours_rounded / 24),
        _ if hours_rounded < 24 * 30 * 2 => format!("{} weeks", hours_rounded / 24 / 7),
        _ if hours_rounded < 24 * 365 * 2 => format!("{} months", hours_rounded / 24 / 30),
        s => format!("{} years", s / 3600 / 24 / 365),
    }
}

/// go-units `HumanSizeWithPrecision`: decimal units and Go's `%.*g`.
pub fn human_size_with_precision(size: f64, precision: usize) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut size = size;
    let mut i = 0;
    while size >= 1000.0 && i < UNITS.len() - 1 {
        size /= 1000.0;
        i += 1;
    }
    format!("{}{}", go_g(size, precision), UNITS[i])
}

/// go-units `HumanSize` (precision 4).
pub fn human_size(size: i64) -> String {
    human_size_with_precision(size as f64, 4)
}

/// Go's `fmt.Sprintf("%.*g", precision, v)` for finite values.
pub(super) fn go_g(v: f64, precision: usize) -> String {
    let p = precision.max(1);
    if v == 0.0 {
        return "0".into();
    }
    if !v.is_finite() {
        return v.to_string();
    }
    // Round to p significant digits first: the exponent is the rounded value's.
    let sci = format!("{:.*e}", p - 1, v);
    let (mantissa, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("{:e} exponent is a number");
    if exp < -4 || exp >= p as i32 {
        let mantissa = trim_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        trim_zeros(&format!("{v:.decimals$}")).to_owned()
    }
}

pub(super) fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// The CLI's `Ellipsis`: at most `max` characters, the last one `…` when cut.
pub(super) fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// Go's `strconv.Quote` for the printable strings commands are.
pub(super) fn quote(s: &str) -> String {
    serde_json::to_string(s)
        .expect("a string serializes")
        .replace("\\u003c", "<")
        .replace("\\u003e", ">")
}
