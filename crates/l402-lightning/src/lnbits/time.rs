//! LNbits timestamps (`2026-11-21T07:56:40.763974+00:00`, sometimes without an offset) to Unix
//! seconds, read leniently (`l402_core::time`).

use l402_core::time::{Rfc3339, parse_rfc3339};

/// Unix seconds of an ISO 8601 / RFC 3339 date-time such as `2026-11-21T07:56:40.763974+00:00`,
/// `2026-11-21T07:56:40Z` or `2026-11-21 07:56:40` (no offset: UTC, which is what LNbits stores).
/// Fractions of a second are dropped. `None` for anything else or a time before 1970.
pub(super) fn parse_unix(s: &str) -> Option<u64> {
    parse_rfc3339(s.trim(), Rfc3339::Lenient)
}

#[cfg(test)]
mod tests {
    use super::parse_unix;

    #[test]
    fn reads_lnbits_formats() {
        // `date -u -d 2026-11-21T00:00:00Z +%s` is 1795219200.
        let t = 1_795_219_200 + 7 * 3600 + 56 * 60 + 40;
        assert_eq!(parse_unix("2026-11-21T07:56:40.763974+00:00"), Some(t));
        assert_eq!(parse_unix("2026-11-21T07:56:40"), Some(t));
        assert_eq!(parse_unix("2026-11-21 07:56:40Z"), Some(t));
        assert_eq!(parse_unix("2026-11-21T09:56:40+02:00"), Some(t));
        assert_eq!(parse_unix("2026-11-21T02:56:40.5-0500"), Some(t));
        assert_eq!(parse_unix("1970-01-01T00:00:00"), Some(0));
        assert_eq!(parse_unix("2000-02-29T00:00:00Z"), Some(951_782_400));
    }

    #[test]
    fn rejects_other_text() {
        for bad in [
            "",
            "yesterday",
            "2026-11-21",
            "2026-13-01T00:00:00",
            "2026-11-21T24:00:00",
            "2026-11-21T07:56:40+0",
            "2026-11-21T07:56:40.",
            "2026-11-21T07:56:40 UTC",
            "1969-12-31T23:59:59Z",
            "2026-1a-21T07:56:40",
        ] {
            assert_eq!(parse_unix(bad), None, "{bad:?}");
        }
    }
}
