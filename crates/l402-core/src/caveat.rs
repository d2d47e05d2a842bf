//! First-party caveats: `condition=value` split at the first `=`, the standard L402 conditions
//! `services`, `<service>_capabilities` and `<service>_valid_until`, and this implementation's
//! `<service>_max_price_msat` (the price the token paid, binding it to routes no dearer).

use std::fmt;

/// The condition naming the services (and tiers) a token pays for.
pub const SERVICES: &str = "services";
/// Suffix of the condition listing a service's capabilities.
pub const CAPABILITIES_SUFFIX: &str = "_capabilities";
/// Suffix of the condition giving a service's expiry in Unix seconds.
pub const VALID_UNTIL_SUFFIX: &str = "_valid_until";
/// Suffix of the condition giving the price, in millisatoshis, a token paid for a service: it
/// opens routes of that service priced at most this much. Other implementations skip it as an
/// unknown condition.
pub const MAX_PRICE_SUFFIX: &str = "_max_price_msat";
/// The condition a client adds to carry its preimage in the gRPC credential forms.
pub const PREIMAGE: &str = "preimage";

/// A caveat split into condition and value, borrowing from the macaroon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaveatRef<'a> {
    /// Text before the first `=`.
    pub condition: &'a str,
    /// Text after the first `=` (may itself contain `=`).
    pub value: &'a str,
}

/// Splits a caveat id at its first `=`. Returns `None` for ids that are not UTF-8 or have no
/// `=`; like Aperture, a verifier skips those.
pub fn parse_caveat(id: &[u8]) -> Option<CaveatRef<'_>> {
    let text = std::str::from_utf8(id).ok()?;
    let (condition, value) = text.split_once('=')?;
    Some(CaveatRef { condition, value })
}

/// Formats `condition=value`.
pub fn format_caveat(condition: &str, value: &str) -> String {
    [condition, "=", value].concat()
}

/// `<service>_capabilities`.
pub fn capabilities_condition(service: &str) -> String {
    [service, CAPABILITIES_SUFFIX].concat()
}

/// `<service>_valid_until`.
pub fn valid_until_condition(service: &str) -> String {
    [service, VALID_UNTIL_SUFFIX].concat()
}

/// `<service>_max_price_msat`.
pub fn max_price_condition(service: &str) -> String {
    [service, MAX_PRICE_SUFFIX].concat()
}

/// A service name and tier, as in `services=name:tier`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServiceTier {
    /// The service name.
    pub name: String,
    /// The tier; 0 is the base tier.
    pub tier: u8,
}

impl fmt::Display for ServiceTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.name, self.tier)
    }
}

/// A standard caveat value that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CaveatValueError {
    /// `services` is empty or an entry is not `name:tier` with a decimal u8 tier.
    #[error("malformed services value {0:?}: expected name:tier[,name:tier...]")]
    Services(String),
    /// A `_valid_until` value that is not a decimal Unix time in seconds.
    #[error("malformed timestamp {0:?}: expected Unix seconds")]
    Timestamp(String),
    /// A `_max_price_msat` value that is not a decimal amount of millisatoshis.
    #[error("malformed price {0:?}: expected decimal millisatoshis")]
    Price(String),
}

/// Parses `name:tier{,name:tier}` into borrowed `(name, tier)` pairs, allocating no names (what
/// the verifier's satisfiers use). Empty lists, empty names and non-numeric tiers are errors.
pub fn parse_service_entries(value: &str) -> Result<Vec<(&str, u8)>, CaveatValueError> {
    service_entries(value)
        .map(|entry| entry.ok_or_else(|| CaveatValueError::Services(value.to_owned())))
        .collect()
}

/// The entries of `name:tier{,name:tier}` one by one, `None` for one that is malformed (an
/// empty name, a tier that is not a decimal u8); what [`parse_service_entries`] collects, for
/// callers that need no list.
pub(crate) fn service_entries(value: &str) -> impl Iterator<Item = Option<(&str, u8)>> {
    comma_split(value).map(|entry| {
        let (name, tier) = entry.split_once(':')?;
        if name.is_empty() || tier.is_empty() || !tier.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some((name, tier.parse::<u8>().ok()?))
    })
}

/// Parses `name:tier{,name:tier}`. Empty lists, empty names and non-numeric tiers are errors.
pub fn parse_services(value: &str) -> Result<Vec<ServiceTier>, CaveatValueError> {
    Ok(parse_service_entries(value)?
        .into_iter()
        .map(|(name, tier)| ServiceTier {
            name: name.to_owned(),
            tier,
        })
        .collect())
}

/// Formats a services list.
pub fn format_services(services: &[ServiceTier]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(services.iter().map(|s| s.name.len() + 4).sum());
    for (i, service) in services.iter().enumerate() {
        let comma = if i > 0 { "," } else { "" };
        // Writing to a String cannot fail.
        let _ = write!(out, "{comma}{}:{}", service.name, service.tier);
    }
    out
}

/// Parses a capabilities list; the empty value means "no capabilities".
pub fn parse_capabilities(value: &str) -> impl Iterator<Item = &str> {
    comma_split(value).map(str::trim).filter(|c| !c.is_empty())
}

/// `value` split at each `,`, as `value.split(',')` does. A byte loop rather than `str::split`'s
/// `memchr` search, which costs more than it saves on entries a few bytes long (capability
/// names, `name:tier`), the lists the verifier walks on every request.
pub(crate) fn comma_split(value: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(value);
    std::iter::from_fn(move || {
        let current = rest?;
        match current.bytes().position(|b| b == b',') {
            Some(comma) => {
                // `,` is ASCII: both sides are on character boundaries.
                let (entry, tail) = current.split_at(comma);
                rest = tail.get(1..);
                Some(entry)
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

/// A non-empty run of ASCII digits that fits a u64 (no sign, no spaces, no exponent).
fn parse_decimal(value: &str) -> Option<u64> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// Parses a `_valid_until` value (Unix seconds).
pub fn parse_timestamp(value: &str) -> Result<u64, CaveatValueError> {
    parse_decimal(value).ok_or_else(|| CaveatValueError::Timestamp(value.to_owned()))
}

/// Parses a `_max_price_msat` value (decimal millisatoshis).
pub fn parse_price_msat(value: &str) -> Result<u64, CaveatValueError> {
    parse_decimal(value).ok_or_else(|| CaveatValueError::Price(value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_first_equals() {
        assert_eq!(
            parse_caveat(b"expiration=1337="),
            Some(CaveatRef {
                condition: "expiration",
                value: "1337="
            })
        );
        assert_eq!(parse_caveat(b"no-equals"), None);
        assert_eq!(parse_caveat(&[0xff, b'=']), None);
        assert_eq!(
            parse_caveat(b"meme_capabilities="),
            Some(CaveatRef {
                condition: "meme_capabilities",
                value: ""
            })
        );
    }

    #[test]
    fn aperture_service_vectors() {
        assert_eq!(
            parse_services("a:0").unwrap(),
            vec![ServiceTier {
                name: "a".into(),
                tier: 0
            }]
        );
        assert_eq!(parse_services("a:0,b:1,c:0").unwrap().len(), 3);
        for bad in ["", ":0", "a", "a:", "a:b", ",,", "a:256", "a:-1", "a:+1"] {
            assert!(parse_services(bad).is_err(), "{bad:?} accepted");
        }
        let list = parse_services("a:0,b:1").unwrap();
        assert_eq!(format_services(&list), "a:0,b:1");
    }

    proptest::proptest! {
        /// The byte loop splits exactly as `str::split(',')`, on any text with commas,
        /// multi-byte characters and empty entries.
        #[test]
        fn comma_split_is_str_split(value in "[a,é ]{0,12}") {
            let ours: Vec<&str> = comma_split(&value).collect();
            let std: Vec<&str> = value.split(',').collect();
            proptest::prop_assert_eq!(ours, std);
        }
    }

    #[test]
    fn timestamps_and_capabilities() {
        assert_eq!(parse_timestamp("1700000000"), Ok(1_700_000_000));
        assert!(parse_timestamp("-1").is_err());
        assert!(parse_timestamp("").is_err());
        assert!(parse_timestamp("1e9").is_err());
        assert_eq!(parse_price_msat("2000"), Ok(2000));
        for bad in ["", "-1", "+1", " 1", "1.5", "18446744073709551616"] {
            assert!(parse_price_msat(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(max_price_condition("api"), "api_max_price_msat");
        assert_eq!(parse_capabilities("").count(), 0);
        assert_eq!(
            parse_capabilities("read,write").collect::<Vec<_>>(),
            vec!["read", "write"]
        );
    }
}
