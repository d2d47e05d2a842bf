//! Human-friendly durations (`10`, `"10s"`, `"500ms"`, `"2m"`) and byte sizes (`16384`, `"16KiB"`,
//! `"1GiB"`, `"10MB"`) for the configuration file.

use std::fmt;
use std::num::ParseIntError;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};

/// What a configuration value with a unit measures; it decides the accepted units and the words
/// of the error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// A duration: a bare number is seconds; `ms`, `s`, `m`, `h`.
    Duration,
    /// A byte size: a bare number is bytes; `B`, `KB`/`KiB`, `MB`/`MiB`, `GB`/`GiB`.
    Size,
}

impl Quantity {
    /// Examples of accepted values, for error messages.
    fn examples(self) -> &'static str {
        match self {
            Self::Duration => "10, \"10s\", \"500ms\"",
            Self::Size => "16384, \"16KiB\", \"1GiB\"",
        }
    }

    /// The accepted units, for error messages.
    fn units(self) -> &'static str {
        match self {
            Self::Duration => "ms, s, m or h",
            Self::Size => "B, KiB, MiB, GiB, KB, MB or GB",
        }
    }

    /// How many base units (milliseconds, bytes) one `unit` is; `None` for an unknown unit.
    fn multiplier(self, unit: &str) -> Option<u64> {
        match self {
            Self::Duration => match unit {
                "" | "s" | "sec" | "secs" => Some(1_000),
                "ms" => Some(1),
                "m" | "min" | "mins" => Some(60_000),
                "h" => Some(3_600_000),
                _ => None,
            },
            Self::Size => match unit.to_ascii_lowercase().as_str() {
                "" | "b" => Some(1),
                "kb" | "k" => Some(1_000),
                "kib" => Some(1 << 10),
                "mb" | "m" => Some(1_000_000),
                "mib" => Some(1 << 20),
                "gb" | "g" => Some(1_000_000_000),
                "gib" => Some(1 << 30),
                _ => None,
            },
        }
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Duration => "duration",
            Self::Size => "size",
        })
    }
}

/// A duration or byte size that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnitError {
    /// The value does not start with a whole number.
    #[error("invalid {quantity} `{text}`: expected e.g. {}", quantity.examples())]
    NotANumber {
        /// What the value measures.
        quantity: Quantity,
        /// The value as written.
        text: String,
        /// Why the number cannot be read.
        #[source]
        source: ParseIntError,
    },
    /// The unit after the number is not one of the accepted ones.
    #[error("invalid {quantity} unit `{unit}` in `{text}`: use {}", quantity.units())]
    UnknownUnit {
        /// What the value measures.
        quantity: Quantity,
        /// The unit as written.
        unit: String,
        /// The value as written.
        text: String,
    },
    /// The value does not fit in 64 bits of the base unit (milliseconds, bytes).
    #[error("{quantity} `{text}` is too large")]
    TooLarge {
        /// What the value measures.
        quantity: Quantity,
        /// The value as written.
        text: String,
    },
}

/// Parses a duration: a bare number is seconds; suffixes `ms`, `s`, `m`, `h` are accepted.
pub fn parse_duration(text: &str) -> Result<Duration, UnitError> {
    parse_quantity(Quantity::Duration, text).map(Duration::from_millis)
}

/// Parses a byte size: a bare number is bytes; suffixes `B`, `KB`/`KiB`, `MB`/`MiB`, `GB`/`GiB`
/// are accepted (decimal and binary multiples, case-insensitive).
pub fn parse_byte_size(text: &str) -> Result<u64, UnitError> {
    parse_quantity(Quantity::Size, text)
}

/// A number followed by an optional unit, in the base unit of `quantity` (milliseconds, bytes).
fn parse_quantity(quantity: Quantity, text: &str) -> Result<u64, UnitError> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: u64 = number.parse().map_err(|source| UnitError::NotANumber {
        quantity,
        text: text.to_owned(),
        source,
    })?;
    let unit = unit.trim();
    let multiplier = quantity
        .multiplier(unit)
        .ok_or_else(|| UnitError::UnknownUnit {
            quantity,
            unit: unit.to_owned(),
            text: text.to_owned(),
        })?;
    value
        .checked_mul(multiplier)
        .ok_or_else(|| UnitError::TooLarge {
            quantity,
            text: text.to_owned(),
        })
}

/// Reads a value of `quantity` from an integer (seconds, bytes) or a string with a unit, in
/// the base unit (milliseconds, bytes).
struct QuantityVisitor(Quantity);

impl Visitor<'_> for QuantityVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Quantity::Duration => f.write_str(
                "a duration: seconds as an integer, or a string like \"10s\" or \"500ms\"",
            ),
            Quantity::Size => {
                f.write_str("a size: bytes as an integer, or a string like \"16KiB\" or \"1GiB\"")
            }
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        let v =
            u64::try_from(v).map_err(|_| E::custom(format!("a {} cannot be negative", self.0)))?;
        self.visit_u64(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        let bare = self.0.multiplier("").unwrap_or(1);
        v.checked_mul(bare)
            .ok_or_else(|| E::custom(format!("the {} {v} is too large", self.0)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        parse_quantity(self.0, v).map_err(E::custom)
    }
}

/// `#[serde(deserialize_with = "duration")]`: an integer (seconds) or a string with a unit,
/// as every duration of the file (an application's keys use it too).
pub fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    d.deserialize_any(QuantityVisitor(Quantity::Duration))
        .map(Duration::from_millis)
}

/// `#[serde(deserialize_with = "byte_size")]`.
pub(crate) fn byte_size<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    d.deserialize_any(QuantityVisitor(Quantity::Size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("10 parsecs").is_err());
        assert!(parse_duration("-1s").is_err());
        assert_eq!(
            parse_duration("10 parsecs").unwrap_err().to_string(),
            "invalid duration unit `parsecs` in `10 parsecs`: use ms, s, m or h"
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_byte_size("16KiB"), Ok(16 * 1024));
        assert_eq!(parse_byte_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_byte_size("10MB"), Ok(10_000_000));
        assert_eq!(parse_byte_size("512"), Ok(512));
        assert!(parse_byte_size("1TB").is_err());
        assert!(parse_byte_size("99999999999999999999").is_err());
        assert_eq!(
            parse_byte_size("x").unwrap_err().to_string(),
            "invalid size `x`: expected e.g. 16384, \"16KiB\", \"1GiB\""
        );
    }
}
