//! RFC 3339 in UTC whole seconds (`2026-03-15T12:05:00Z`), the form challenges carry, read
//! strictly (`l402_core::time`).

use l402_core::time::{Rfc3339, format_rfc3339, parse_rfc3339};

/// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds.
pub fn format(unix: u64) -> String {
    format_rfc3339(unix)
}

/// Unix seconds of an RFC 3339 date-time (`Z` or a numeric offset, fractions dropped); `None`
/// for anything else or a time before 1970.
pub fn parse(s: &str) -> Option<u64> {
    parse_rfc3339(s, Rfc3339::Strict)
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_and_parses() {
        // `date -u -d 2026-03-15T12:05:00Z +%s` is 1773576300.
        assert_eq!(super::format(1_773_576_300), "2026-03-15T12:05:00Z");
        assert_eq!(super::parse("2026-03-15T12:05:00Z"), Some(1_773_576_300));
        assert_eq!(
            super::parse("2026-03-15T13:05:00.5+01:00"),
            Some(1_773_576_300)
        );
        assert_eq!(super::parse("2026-03-15 12:05:00Z"), None);
        assert_eq!(super::parse("2026-03-15T12:05:00"), None);
        for t in [0, 951_782_400, 4_102_444_799, 1_773_576_300] {
            assert_eq!(super::parse(&super::format(t)), Some(t));
        }
    }
}
