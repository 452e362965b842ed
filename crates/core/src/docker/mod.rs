//! The docker CLI's views of a store: `docker image ls`, `docker history`, `docker system df -v`.
//!
//! Rows are computed the way the 20.10 daemon computes them (daemon/images/image_list.go,
//! image_history.go, disk_usage.go) and formatted the way the CLI formats them (cli/command/
//! formatter, go-units), so `--format json` output can be compared field by field. The core reads
//! no clock: the caller passes "now" and the time zone in a [`Clock`].

mod containerd;
mod df;
mod engine;
mod format;
mod history;
mod images;

pub use df::*;
pub use engine::Generation;
pub use format::*;
pub use history::*;
pub use images::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_size(bytes: f64, precision: usize, expected: &str) {
        assert_eq!(human_size_with_precision(bytes, precision), expected);
    }

    #[test]
    fn sizes_match_go_units() {
        check_size(0.0, 3, "0B");
        check_size(3.0, 3, "3B");
        check_size(35.0, 4, "35B");
        check_size(1_982_384.0, 3, "1.98MB");
        check_size(1_982_384.0, 4, "1.982MB");
        check_size(77_822_319.0, 3, "77.8MB");
        check_size(1_000_000.0, 3, "1MB");
        check_size(999_999.0, 3, "1e+03kB");
        check_size(999.0, 3, "999B");
        check_size(10_240.0, 4, "10.24kB");
        check_size(1_234_567_890_123.0, 4, "1.235TB");
        assert_eq!(go_g(0.000012345, 3), "1.23e-05");
        assert_eq!(go_g(123456.0, 3), "1.23e+05");
        assert_eq!(go_g(0.5, 3), "0.5");
    }

    #[test]
    fn durations_match_go_units() {
        for (s, want) in [
            (0, "Less than a second"),
            (1, "1 second"),
            (59, "59 seconds"),
            (60, "About a minute"),
            (119, "About a minute"),
            (120, "2 minutes"),
            (3600, "About an hour"),
            (5400, "2 hours"),
            (48 * 3600, "2 days"),
            (15 * 86400, "2 weeks"),
            (70 * 86400, "2 months"),
            (800 * 86400, "2 years"),
        ] {
            assert_eq!(human_duration(s), want, "{s}s");
        }
    }

    struct Cet;
    impl TimeZone for Cet {
        fn at(&self, _: i64) -> Zone {
            Zone {
                offset_seconds: 3600,
                abbreviation: "CET".into(),
            }
        }
    }

    #[test]
    fn times_print_like_go() {
        let utc = Clock {
            now_unix: 0,
            zone: &Utc,
        };
        assert_eq!(
            utc.go_string(1_700_000_000),
            "2023-11-14 22:13:20 +0000 UTC"
        );
        assert_eq!(utc.rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        let cet = Clock {
            now_unix: 0,
            zone: &Cet,
        };
        assert_eq!(
            cet.go_string(1_700_000_000),
            "2023-11-14 23:13:20 +0100 CET"
        );
        assert_eq!(cet.rfc3339(1_700_000_000), "2023-11-14T23:13:20+01:00");
        assert_eq!(utc.rfc3339(GO_ZERO_TIME), "0001-01-01T00:00:00Z");
    }

    #[test]
    fn references_split_and_sort_like_docker() {
        let q = |s: &str| s.parse::<crate::RefName>().unwrap().qualified();
        assert_eq!(q("alpine:1"), "docker.io/library/alpine:1");
        assert_eq!(q("local/app:1"), "docker.io/local/app:1");
        assert_eq!(q("127.0.0.1:5000/x:1"), "127.0.0.1:5000/x:1");
        assert_eq!(ellipsis("abcdef", 4), "abc…");
        assert_eq!(
            quote("sh -c 'echo \"x\" > /f'"),
            "\"sh -c 'echo \\\"x\\\" > /f'\""
        );
    }
}
