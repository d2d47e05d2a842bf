//! Times as people read them: `2026-12-05 07:24:09 UTC (3 min ago)` on a terminal, RFC 3339 next
//! to the Unix seconds in `--json`.

/// `2026-12-05T07:24:09Z` for Unix seconds `unix`.
pub fn rfc3339(unix: u64) -> String {
    let (date, h, m, s) = civil(unix);
    format!("{date}T{h:02}:{m:02}:{s:02}Z")
}

/// `2026-12-05 07:24:09 UTC (3 min ago)` (or `(in 2 h)` for a time to come), relative to `now`.
pub fn human(unix: u64, now: u64) -> String {
    let (date, h, m, s) = civil(unix);
    format!("{date} {h:02}:{m:02}:{s:02} UTC ({})", relative(unix, now))
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

/// The UTC date (`YYYY-MM-DD`), hour, minute and second of Unix seconds `unix`: the proleptic
/// Gregorian calendar, counted from 0000-03-01 so that leap days fall at the end of a year.
fn civil(unix: u64) -> (String, u64, u64, u64) {
    let (days, secs) = (unix / 86_400, unix % 86_400);
    // Days since 0000-03-01 (1970-01-01 is day 719_468 of that count).
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153; // 0 = March
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (
        format!("{year:04}-{month:02}-{day:02}"),
        secs / 3_600,
        secs % 3_600 / 60,
        secs % 60,
    )
}

#[cfg(test)]
mod tests {
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
        assert_eq!(human(now - 180, now), "2026-12-05 07:21:09 UTC (3 min ago)");
    }
}
