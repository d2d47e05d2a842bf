//! Token introspection: the `L402-Token` response header a paywall adds to every paid
//! response, telling the holder what the token that paid has left.
//!
//! ```text
//! L402-Token: id="<token id, 64 hex>", expires=1767225600, ttl=3599
//! ```
//!
//! The value is an RFC 8941 structured-field dictionary:
//!
//! | key | type | meaning |
//! |---|---|---|
//! | `id` | string | the token id of the token that paid (with several tokens in one credential, the one that authorized the request) |
//! | `expires` | integer | when the token stops being valid for this service, Unix seconds (its narrowest `<service>_valid_until`); absent when it never expires |
//! | `ttl` | integer | seconds from the server's clock to `expires` at the time of the response; absent with `expires` |
//! | `balance_msat` | integer | reserved for metered tokens: what is left to spend; not sent yet |
//!
//! Readers ignore keys they do not know (room for `balance_msat` and later fields) and members
//! they cannot read. Everything in it is already in the holder's macaroon (its identifier and
//! caveats) or the response's own `Date`; `ttl` saves the holder from trusting its own clock.

use core::fmt::Write as _;

use crate::types::TokenId;

/// The header name, lower case (HTTP/2 form; HTTP/1.1 readers ignore case): `L402-Token`.
pub const TOKEN_STATUS_HEADER: &str = "l402-token";

/// What a paid response says about the token that paid for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenStatus {
    /// The token id.
    pub token_id: TokenId,
    /// When it expires for the service, Unix seconds; `None` if never.
    pub expires: Option<u64>,
    /// Seconds left at the time of the response, by the server's clock; `None` if it never
    /// expires.
    pub ttl: Option<u64>,
    /// What is left to spend (metered tokens; no server sends it yet).
    pub balance_msat: Option<u64>,
}

impl TokenStatus {
    /// The status of `token_id` expiring at `expires` (if ever), at the server's `now`.
    pub fn at(token_id: TokenId, expires: Option<u64>, now: u64) -> Self {
        Self {
            token_id,
            expires,
            ttl: expires.map(|until| until.saturating_sub(now)),
            balance_msat: None,
        }
    }

    /// The header value: `id="…"`, then `expires=…, ttl=…` and `balance_msat=…` when known.
    pub fn header_value(&self) -> String {
        let mut value = String::with_capacity(96);
        value.push_str(&status_prefix(&self.token_id, self.expires));
        if let Some(ttl) = self.ttl {
            let _ = write!(value, ", ttl={ttl}");
        }
        if let Some(balance) = self.balance_msat {
            let _ = write!(value, ", balance_msat={balance}");
        }
        value
    }

    /// Reads a header value. Tolerant as RFC 8941 asks of dictionaries: members are separated
    /// by `,` with optional blanks, unknown keys and parameters (`;…`) are ignored, and a later
    /// duplicate key wins. `None` without a well-formed `id`.
    pub fn parse(value: &str) -> Option<Self> {
        let mut status = TokenStatus {
            token_id: TokenId([0; 32]),
            expires: None,
            ttl: None,
            balance_msat: None,
        };
        let mut has_id = false;
        for member in value.split(',') {
            let member = member.split(';').next().unwrap_or_default().trim();
            let Some((key, raw)) = member.split_once('=') else {
                continue;
            };
            let integer = || raw.parse::<u64>().ok();
            match key {
                "id" => {
                    let hex = raw.strip_prefix('"')?.strip_suffix('"')?;
                    status.token_id = TokenId::from_hex(hex).ok()?;
                    has_id = true;
                }
                "expires" => status.expires = integer(),
                "ttl" => status.ttl = integer(),
                "balance_msat" => status.balance_msat = integer(),
                _ => {}
            }
        }
        has_id.then_some(status)
    }
}

/// The part of the value that does not change from request to request, `id="…"` and
/// `, expires=…` when the token expires: a paywall computes it once per verified token and
/// appends only `, ttl=…` per response.
pub fn status_prefix(token_id: &TokenId, expires: Option<u64>) -> String {
    let mut value = String::with_capacity(96);
    let _ = write!(value, "id=\"{}\"", token_id.to_hex());
    if let Some(expires) = expires {
        let _ = write!(value, ", expires={expires}");
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> TokenId {
        let mut bytes = [0xab; 32];
        bytes[..4].copy_from_slice(&7u32.to_be_bytes());
        TokenId(bytes)
    }

    #[test]
    fn formats_with_and_without_expiry() {
        let hex = id().to_hex();
        let expiring = TokenStatus::at(id(), Some(1_700_000_600), 1_700_000_000);
        assert_eq!(
            expiring.header_value(),
            format!("id=\"{hex}\", expires=1700000600, ttl=600")
        );
        let forever = TokenStatus::at(id(), None, 1_700_000_000);
        assert_eq!(forever.header_value(), format!("id=\"{hex}\""));
        let metered = TokenStatus {
            balance_msat: Some(5_000),
            ..forever
        };
        assert_eq!(
            metered.header_value(),
            format!("id=\"{hex}\", balance_msat=5000")
        );
    }

    #[test]
    fn parses_what_it_formats_and_tolerates_the_rest() {
        for status in [
            TokenStatus::at(id(), Some(1_700_000_600), 1_700_000_000),
            TokenStatus::at(id(), None, 0),
            TokenStatus {
                balance_msat: Some(1),
                ..TokenStatus::at(id(), Some(9), 3)
            },
        ] {
            assert_eq!(TokenStatus::parse(&status.header_value()), Some(status));
        }
        let hex = id().to_hex();
        let odd = format!("later=?1,ttl=5;p=1 ,  id=\"{hex}\",expires=10, note=\"a=b\"");
        assert_eq!(
            TokenStatus::parse(&odd),
            Some(TokenStatus {
                token_id: id(),
                expires: Some(10),
                ttl: Some(5),
                balance_msat: None
            })
        );
        assert_eq!(TokenStatus::parse("expires=10, ttl=5"), None);
        assert_eq!(TokenStatus::parse(&format!("id={hex}")), None);
        assert_eq!(TokenStatus::parse("id=\"00\""), None);
        assert_eq!(TokenStatus::parse(""), None);
    }

    #[test]
    fn an_expired_token_has_no_time_left() {
        assert_eq!(TokenStatus::at(id(), Some(10), 20).ttl, Some(0));
    }
}
