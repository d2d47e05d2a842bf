//! Times as people read them: `2026-12-05 08:24:09 +01:00 (3 min ago)` in the local time zone
//! on a terminal (`TZ` or the system's zone), RFC 3339 next to the Unix seconds in `--json`.

use chrono::{DateTime, Local, Offset as _, TimeZone, Utc};

/// `2026-12-05T07:24:09Z` for Unix seconds `unix`.
pub fn rfc3339(unix: u64) -> String {
    utc(unix).format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `2026-12-05 08:24:09 +01:00 (3 min ago)` (or `(in 2 h)` for a time to come) in the local
/// time zone, relative to `now`.
pub fn human(unix: u64, now: u64) -> String {
    human_in(&Local, unix, now)
}

/// [`human`] in the time zone `tz` (`UTC` is written as such, other zones as their offset).
pub fn human_in<Tz: TimeZone>(tz: &Tz, unix: u64, now: u64) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let local = utc(unix).with_timezone(tz);
    let zone = match local.offset().fix().local_minus_utc() {
        0 => "UTC".to_owned(),
        _ => local.format("%:z").to_string(),
    };
    format!(
        "{} {zone} ({})",
        local.format("%Y-%m-%d %H:%M:%S"),
        relative(unix, now)
    )
}

/// `just now`, `42 s ago`, `3 min ago`, `5 h ago`, `2 days ago`, or `in …` for the future.
pub fn relative(unix: u64, now: u64) -> String {
    let (span, future) = if unix > now {
        (unix - now, true)
    } else {
        (now - unix, false)
    };
    let amount = match span {
        0..=4 => return "just now".to_owned(),
        5..=59 => format!("{span} s"),
        60..=3_599 => format!("{} min", span / 60),
        3_600..=86_399 => format!("{} h", span / 3_600),
        _ => match span / 86_400 {
            1 => "1 day".to_owned(),
            days => format!("{days} days"),
        },
    };
    if future {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

/// The instant `unix` seconds after the epoch (times beyond chrono's range, which no token or
/// receipt holds, show as its last instant).
fn utc(unix: u64) -> DateTime<Utc> {
    i64::try_from(unix)
        .ok()
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use chrono::FixedOffset;

    use super::*;

    #[test]
    fn dates_match_known_instants() {
        for (unix, expected) in [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_796_455_449, "2026-12-05T07:24:09Z"),
            (4_102_444_799, "2099-12-31T23:59:59Z"),
        ] {
            assert_eq!(rfc3339(unix), expected);
        }
    }

    #[test]
    fn spans_read_naturally_both_ways() {
        let now = 1_796_455_449;
        assert_eq!(relative(now, now), "just now");
        assert_eq!(relative(now - 42, now), "42 s ago");
        assert_eq!(relative(now - 180, now), "3 min ago");
        assert_eq!(relative(now + 7_200, now), "in 2 h");
        assert_eq!(relative(now - 86_400, now), "1 day ago");
        assert_eq!(relative(now - 3 * 86_400, now), "3 days ago");
    }

    #[test]
    fn human_times_are_in_the_given_zone() {
        let now = 1_796_455_449;
        assert_eq!(
            human_in(&Utc, now - 180, now),
            "2026-12-05 07:21:09 UTC (3 min ago)"
        );
        let paris = FixedOffset::east_opt(3_600).unwrap();
        assert_eq!(
            human_in(&paris, now - 180, now),
            "2026-12-05 08:21:09 +01:00 (3 min ago)"
        );
        let new_york = FixedOffset::west_opt(5 * 3_600).unwrap();
        assert_eq!(
            human_in(&new_york, now, now),
            "2026-12-05 02:24:09 -05:00 (just now)"
        );
    }
}
