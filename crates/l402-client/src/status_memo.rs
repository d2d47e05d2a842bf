//! The last `L402-Token` answer read, and what it said: a client reusing one token reads the
//! same header (give or take its seconds left) on every answer, and would otherwise parse it
//! and decode the token's id from its macaroon each time.

use std::sync::{Mutex, PoisonError};

use l402_store::{ReportedStatus, TokenRecord};
use reqwest::header::HeaderValue;

use crate::token::reported_status;

/// One header value read for one token, and its reading.
struct Read {
    header: HeaderValue,
    macaroon: Vec<u8>,
    status: Option<ReportedStatus>,
}

/// The last reading (one entry: a client alternating between tokens only reads again). Kept by
/// the [`TokenCache`](crate::token_cache::TokenCache) beside the `Authorization` value.
#[derive(Default)]
pub(crate) struct StatusMemo(Mutex<Option<Read>>);

impl std::fmt::Debug for StatusMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StatusMemo(..)")
    }
}

impl StatusMemo {
    /// What `header` (an answer's `L402-Token`) says about `sent`, read at `now`: as
    /// [`reported_status`] reads it, from the kept reading when the same value was read for the
    /// same macaroon last time (only `at` is new).
    pub(crate) fn read(
        &self,
        header: Option<&HeaderValue>,
        sent: &TokenRecord,
        now: u64,
    ) -> Option<ReportedStatus> {
        let header = header?;
        let mut memo = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(read) = memo.as_ref()
            && read.header == header
            && read.macaroon == sent.macaroon
        {
            return read
                .status
                .map(|status| ReportedStatus { at: now, ..status });
        }
        let status = reported_status(header.to_str().ok(), sent, now);
        *memo = Some(Read {
            header: header.clone(),
            macaroon: sent.macaroon.clone(),
            status,
        });
        status
    }
}

#[cfg(test)]
mod tests {
    use l402_core::identifier::Identifier;
    use l402_core::macaroon::{Macaroon, RootKey};
    use l402_core::token_status::TokenStatus;
    use l402_core::{PaymentHash, TokenId};

    use super::*;
    use crate::token_cache::test_token;

    fn token_with_id(id: u8) -> TokenRecord {
        let identifier = Identifier {
            payment_hash: PaymentHash([id; 32]),
            token_id: TokenId([id; 32]),
        };
        let mac = Macaroon::new(
            &RootKey::new(vec![1; 32]),
            identifier.encode().to_vec(),
            None,
        );
        test_token(&mac.encode_v2(), id)
    }

    fn header(token: u8, ttl: u64) -> HeaderValue {
        let status = TokenStatus {
            token_id: TokenId([token; 32]),
            expires: Some(1_000 + ttl),
            ttl: Some(ttl),
            balance_msat: None,
        };
        HeaderValue::from_str(&status.header_value()).unwrap()
    }

    #[test]
    fn a_reading_is_what_a_fresh_parse_says_and_follows_the_header_and_the_token() {
        let memo = StatusMemo::default();
        let (one, two) = (token_with_id(1), token_with_id(2));
        for (h, sent, now) in [
            (header(1, 60), &one, 10),
            (header(1, 60), &one, 11),
            (header(1, 59), &one, 12),
            (header(1, 59), &two, 13),
            (header(2, 59), &two, 14),
            (header(2, 59), &two, 15),
        ] {
            let fresh = reported_status(h.to_str().ok(), sent, now);
            assert_eq!(memo.read(Some(&h), sent, now), fresh, "{h:?} at {now}");
        }
        assert_eq!(memo.read(None, &two, 16), None);
        // A header about another token says nothing about this one, kept or not.
        assert_eq!(memo.read(Some(&header(1, 59)), &two, 17), None);
        assert_eq!(memo.read(Some(&header(1, 59)), &two, 18), None);
        assert!(memo.read(Some(&header(2, 59)), &two, 19).is_some());
    }
}
