//! Bounds on the work one credential can make the verifier do, checked before the HMAC chain:
//! the macaroon's size (what is decoded and hashed), its number of caveats (one HMAC each), and
//! the entries of the lists it carries (`services`, `<service>_capabilities`, whose satisfiers
//! compare consecutive lists), per list and in total. A token this implementation mints uses a
//! fraction of each (four caveats; a client adds `preimage=` and a few attenuations), so only
//! crafted or absurdly attenuated tokens meet them. `l402 serve --check` refuses a configuration
//! whose own tokens would exceed them.

use l402_macaroon::Macaroon;

use crate::caveat;

/// Most macaroons one `Authorization` credential may list (`L402 <mac>,<mac>:<preimage>`):
/// each is a token verified in full, so the count bounds the fixed cost per token (identifier,
/// root key derivation, proof of payment) that the credential length limit does not.
pub const MAX_MACAROONS_PER_CREDENTIAL: usize = 4;
/// Largest macaroon accepted, in bytes of its binary (V2) form; also the most bytes the HMAC
/// chain of a decoded macaroon may read (identifier, caveat ids and VIDs). A token this
/// implementation mints is about 250 bytes, 330 with a `preimage=` caveat.
pub const MAX_MACAROON_BYTES: usize = 1024;
/// Most caveats (first- and third-party) a macaroon may carry.
pub const MAX_CAVEATS: usize = 12;
/// Most entries in one `services` or `<service>_capabilities` list.
pub const MAX_LIST_ENTRIES: usize = 32;
/// Most entries in all the `services` and `<service>_capabilities` lists of a macaroon
/// together: a 32-entry grant and one attenuation repeating it still fit.
pub const MAX_TOTAL_LIST_ENTRIES: usize = 64;

/// A credential bigger than the verifier accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitExceeded {
    /// The macaroon is larger than [`MAX_MACAROON_BYTES`].
    #[error("macaroon of {len} bytes; the limit is {max}")]
    MacaroonBytes {
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// More caveats than [`MAX_CAVEATS`].
    #[error("{count} caveats; the limit is {max}")]
    Caveats {
        /// How many the macaroon carries.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// List caveats with more entries together than [`MAX_TOTAL_LIST_ENTRIES`].
    #[error("{count} list entries in all caveats; the limit is {max}")]
    TotalListEntries {
        /// How many entries the lists hold together.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A list caveat with more entries than [`MAX_LIST_ENTRIES`].
    #[error("caveat {condition:?} lists {count} entries; the limit is {max}")]
    ListEntries {
        /// The caveat's condition.
        condition: String,
        /// How many entries it lists.
        count: usize,
        /// The limit.
        max: usize,
    },
}

impl LimitExceeded {
    /// A stable, machine-readable reason code.
    pub fn reason_code(&self) -> &'static str {
        match self {
            Self::MacaroonBytes { .. } => "macaroon_too_large",
            Self::Caveats { .. } => "too_many_caveats",
            Self::ListEntries { .. } => "caveat_list_too_long",
            Self::TotalListEntries { .. } => "caveat_lists_too_long",
        }
    }
}

/// Refuses a macaroon whose binary form is `len` bytes, before it is decoded.
pub fn check_encoded_len(len: usize) -> Result<(), LimitExceeded> {
    if len > MAX_MACAROON_BYTES {
        return Err(LimitExceeded::MacaroonBytes {
            len,
            max: MAX_MACAROON_BYTES,
        });
    }
    Ok(())
}

/// True for the conditions whose values are comma-separated lists.
fn is_list(condition: &str) -> bool {
    condition == caveat::SERVICES || condition.ends_with(caveat::CAPABILITIES_SUFFIX)
}

/// Refuses a decoded macaroon that would cost the verifier more than the limits allow.
pub fn check_macaroon(macaroon: &Macaroon) -> Result<(), LimitExceeded> {
    let caveats = macaroon.caveats();
    if caveats.len() > MAX_CAVEATS {
        return Err(LimitExceeded::Caveats {
            count: caveats.len(),
            max: MAX_CAVEATS,
        });
    }
    let hashed = caveats.iter().fold(macaroon.identifier().len(), |sum, c| {
        sum + c.id.len() + c.vid.as_ref().map_or(0, Vec::len)
    });
    check_encoded_len(hashed)?;
    let mut total = 0;
    for c in macaroon.first_party_caveats() {
        let Some(parsed) = caveat::parse_caveat(c) else {
            continue;
        };
        if !is_list(parsed.condition) {
            continue;
        }
        // Counting bytes, not splitting: one tight pass over the value.
        let count = 1 + parsed.value.bytes().filter(|&b| b == b',').count();
        if count > MAX_LIST_ENTRIES {
            return Err(LimitExceeded::ListEntries {
                condition: parsed.condition.to_owned(),
                count,
                max: MAX_LIST_ENTRIES,
            });
        }
        total += count;
    }
    if total > MAX_TOTAL_LIST_ENTRIES {
        return Err(LimitExceeded::TotalListEntries {
            count: total,
            max: MAX_TOTAL_LIST_ENTRIES,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use l402_macaroon::RootKey;

    fn macaroon(caveats: &[String]) -> Macaroon {
        let mut mac = Macaroon::new(&RootKey::new(vec![1; 32]), vec![0; 66], None);
        for c in caveats {
            mac.add_first_party_caveat(c.clone().into_bytes());
        }
        mac
    }

    #[test]
    fn caveat_count_is_bounded() {
        let at_limit: Vec<String> = (0..MAX_CAVEATS).map(|i| format!("c{i}=v")).collect();
        assert_eq!(check_macaroon(&macaroon(&at_limit)), Ok(()));
        let over: Vec<String> = (0..=MAX_CAVEATS).map(|i| format!("c{i}=v")).collect();
        assert_eq!(
            check_macaroon(&macaroon(&over)),
            Err(LimitExceeded::Caveats {
                count: MAX_CAVEATS + 1,
                max: MAX_CAVEATS
            })
        );
    }

    #[test]
    fn list_lengths_are_bounded() {
        let list = |n: usize| {
            (0..n)
                .map(|i| format!("c{i}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        let ok = format!("api_capabilities={}", list(MAX_LIST_ENTRIES));
        assert_eq!(check_macaroon(&macaroon(&[ok])), Ok(()));
        let caps = format!("api_capabilities={}", list(MAX_LIST_ENTRIES + 1));
        let err = check_macaroon(&macaroon(&[caps])).unwrap_err();
        assert_eq!(err.reason_code(), "caveat_list_too_long");
        let services = format!(
            "services={}",
            (0..=MAX_LIST_ENTRIES)
                .map(|i| format!("s{i}:0"))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert!(check_macaroon(&macaroon(&[services])).is_err());
        // Other conditions are free text, not lists.
        let other = format!("note={}", list(MAX_LIST_ENTRIES + 1));
        assert_eq!(check_macaroon(&macaroon(&[other])), Ok(()));
        // Two full lists fit; a third entry beyond them does not.
        let full = format!("api_capabilities={}", list(MAX_LIST_ENTRIES));
        assert_eq!(
            check_macaroon(&macaroon(&[full.clone(), full.clone()])),
            Ok(())
        );
        let err =
            check_macaroon(&macaroon(&[full.clone(), full, "services=api:0".into()])).unwrap_err();
        assert_eq!(
            err,
            LimitExceeded::TotalListEntries {
                count: MAX_TOTAL_LIST_ENTRIES + 1,
                max: MAX_TOTAL_LIST_ENTRIES
            }
        );
    }

    #[test]
    fn size_is_bounded() {
        assert_eq!(check_encoded_len(MAX_MACAROON_BYTES), Ok(()));
        assert!(check_encoded_len(MAX_MACAROON_BYTES + 1).is_err());
        let big = format!("note={}", "x".repeat(MAX_MACAROON_BYTES));
        assert_eq!(
            check_macaroon(&macaroon(&[big])).map_err(|e| e.reason_code()),
            Err("macaroon_too_large")
        );
    }
}
