//! The access line's latency, written as `core::fmt` writes an `f64` of
//! milliseconds but with less work: the line is written for every request, so each `core::fmt`
//! pass shows in the proxy's CPU per request. (The client's address: [`crate::ip_text`].)

use std::fmt;
use std::time::Duration;

/// A duration in milliseconds to the microsecond, written as `{:?}` writes the same number as
/// an `f64` (`0.37`, `12.0`, `1500.25`), without `f64` formatting.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Millis(pub(crate) u64);

impl Millis {
    /// The time from `elapsed`, to the microsecond.
    pub(crate) fn of(elapsed: Duration) -> Self {
        Self(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX))
    }
}

/// Up to 2^43 µs (about 102 days) the digits are written directly; above, through the `f64`
/// itself. (The two agree much further, while f64s near the value are less than 0.001 apart;
/// the bound only has to be safe, and no request lasts that long.)
const EXACT_MICROS: u64 = 1 << 53 >> 10;

impl Millis {
    /// Appends the text `Display` writes.
    pub(crate) fn push_to(self, out: &mut String) {
        let _ = self.write(out);
    }

    fn write(self, f: &mut impl fmt::Write) -> fmt::Result {
        let micros = self.0;
        if micros > EXACT_MICROS {
            return write!(f, "{:?}", micros as f64 / 1000.0);
        }
        let mut whole = itoa::Buffer::new();
        f.write_str(whole.format(micros / 1000))?;
        let fraction = micros % 1000;
        let digits = [
            b'.',
            b'0' + (fraction / 100) as u8,
            b'0' + (fraction / 10 % 10) as u8,
            b'0' + (fraction % 10) as u8,
        ];
        // `12.0`, `0.37`, `4.287`: trailing zeros dropped, one digit kept.
        let keep = match (fraction % 100, fraction % 10) {
            (0, _) => 2,
            (_, 0) => 3,
            _ => 4,
        };
        f.write_str(std::str::from_utf8(&digits[..keep]).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_are_written_as_the_f64_debug_writes_them() {
        let mut micros: Vec<u64> = (0..=20_000).collect();
        micros.extend((0..2_000u64).map(|i| i * 7_919_123 + i % 1000));
        micros.extend([
            999_999,
            1_000_000,
            1_000_001,
            86_400_000_000,
            EXACT_MICROS - 1,
            EXACT_MICROS,
            EXACT_MICROS + 1,
            u64::MAX,
        ]);
        for n in micros {
            let expected = format!("{:?}", n as f64 / 1000.0);
            assert_eq!(Millis(n).to_string(), expected, "{n} µs");
            let mut pushed = String::from("=");
            Millis(n).push_to(&mut pushed);
            assert_eq!(pushed[1..], expected, "{n} µs, appended");
        }
    }

    #[test]
    fn a_duration_is_counted_in_microseconds() {
        assert_eq!(
            Millis::of(Duration::from_nanos(4_287_999)).to_string(),
            "4.287"
        );
        assert_eq!(Millis::of(Duration::from_secs(12)).to_string(), "12000.0");
    }
}
