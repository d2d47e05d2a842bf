//! LNbits timestamps (`2026-11-21T07:56:40.763974+00:00`, sometimes without an offset) to Unix
//! seconds. A tiny RFC 3339 reader: LNbits' only date format, no date crate needed.

/// Unix seconds of an ISO 8601 / RFC 3339 date-time such as `2026-11-21T07:56:40.763974+00:00`,
/// `2026-11-21T07:56:40Z` or `2026-11-21 07:56:40` (no offset: UTC, which is what LNbits stores).
/// Fractions of a second are dropped. `None` for anything else or a time before 1970.
pub(super) fn parse_unix(s: &str) -> Option<u64> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        let part = s.get(from..to)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset_secs = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let hhmm = rest[1..].replace(':', "");
            if hhmm.len() != 4 || !hhmm.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let (h, m): (i64, i64) = (hhmm[..2].parse().ok()?, hhmm[2..].parse().ok()?);
            sign * (h * 3600 + m * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    let local = days * 86_400 + hour * 3600 + minute * 60 + second;
    u64::try_from(local - offset_secs).ok()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
