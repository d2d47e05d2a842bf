//! Calendar arithmetic and RFC 3339 date-times in UTC, without a date crate: what challenges
//! (`expires`), backends' timestamps and per-day reports need. Pure.

/// How strictly [`parse_rfc3339`] reads a date-time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rfc3339 {
    /// RFC 3339 exactly: `T` (or `t`) between date and time, and `Z` or `±HH:MM` at the end.
    Strict,
    /// Also a space between date and time, no offset (read as UTC) and `±HHMM` offsets, as
    /// some servers (LNbits) write them.
    Lenient,
}

/// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds.
///
/// ```
/// assert_eq!(l402_core::time::format_rfc3339(1_773_576_300), "2026-03-15T12:05:00Z");
/// ```
pub fn format_rfc3339(unix: u64) -> String {
    let secs = unix % 86_400;
    let (y, m, d) = civil_from_days(i64::try_from(unix / 86_400).unwrap_or(i64::MAX));
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Unix seconds of a date-time such as `2026-03-15T12:05:00Z` or
/// `2026-03-15T13:05:00.5+01:00` (fractions of a second dropped), read as `mode` says; `None`
/// for anything else or a time before 1970.
///
/// ```
/// use l402_core::time::{Rfc3339, parse_rfc3339};
/// assert_eq!(parse_rfc3339("2026-03-15T12:05:00Z", Rfc3339::Strict), Some(1_773_576_300));
/// assert_eq!(parse_rfc3339("2026-03-15 12:05:00", Rfc3339::Strict), None);
/// assert_eq!(parse_rfc3339("2026-03-15 12:05:00", Rfc3339::Lenient), Some(1_773_576_300));
/// ```
pub fn parse_rfc3339(s: &str, mode: Rfc3339) -> Option<u64> {
    let lenient = mode == Rfc3339::Lenient;
    let b = s.as_bytes();
    let separator_ok =
        matches!(b.get(10), Some(b'T' | b't')) || (lenient && b.get(10) == Some(&b' '));
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !separator_ok {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (digits(s, 0, 4)?, digits(s, 5, 7)?, digits(s, 8, 10)?);
    let (hour, minute, second) = (digits(s, 11, 13)?, digits(s, 14, 16)?, digits(s, 17, 19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let count = frac.bytes().take_while(u8::is_ascii_digit).count();
        if count == 0 {
            return None;
        }
        rest = &frac[count..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        "" if lenient => 0,
        _ => {
            let sign = match rest.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            let (h, m) = match rest.len() {
                6 if rest.as_bytes()[3] == b':' => (digits(rest, 1, 3)?, digits(rest, 4, 6)?),
                5 if lenient => (digits(rest, 1, 3)?, digits(rest, 3, 5)?),
                _ => return None,
            };
            sign * (h * 3600 + m * 60)
        }
    };
    let local = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    u64::try_from(local - offset).ok()
}

/// The decimal number in `s[from..to]`, digits only.
fn digits(s: &str, from: usize, to: usize) -> Option<i64> {
    let part = s.get(from..to)?;
    if part.bytes().all(|c| c.is_ascii_digit()) {
        part.parse().ok()
    } else {
        None
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
///
/// ```
/// assert_eq!(l402_core::time::days_from_civil(2000, 3, 1), 11_017);
/// ```
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `(year, month, day)` of a day count since 1970-01-01 (the inverse of
/// [`days_from_civil`]).
///
/// ```
/// assert_eq!(l402_core::time::civil_from_days(11_017), (2000, 3, 1));
/// ```
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_dates_round_trip() {
        for days in [0, 1, 59, 60, 11_016, 11_017, 20_527, 47_482] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }
}
