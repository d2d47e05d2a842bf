//! The `Authorization` value of the token sent last, kept ready: a client reusing one token
//! (the usual loop of an agent calling one API) would otherwise base64-encode its macaroon and
//! hex its preimage on every request.

use std::sync::Mutex;

use l402_core::Preimage;
use l402_core::challenge::Scheme;
use l402_store::TokenRecord;
use reqwest::header::HeaderValue;

use crate::error::ClientError;
use crate::token::authorization_value;

/// One token's header value, and what it was built from.
struct Built {
    scheme: Scheme,
    macaroon: Vec<u8>,
    preimage: Preimage,
    value: HeaderValue,
}

/// The last built value (one entry: a client alternating between tokens only rebuilds). Kept
/// by the [`TokenCache`](crate::token_cache::TokenCache), and emptied with it whenever this
/// client's tokens change, so a forgotten or replaced token's value does not linger.
#[derive(Default)]
pub(crate) struct AuthHeaderMemo(Mutex<Option<Built>>);

impl std::fmt::Debug for AuthHeaderMemo {
    /// Says nothing of the value: it holds the preimage.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthHeaderMemo(..)")
    }
}

impl AuthHeaderMemo {
    /// Forgets the kept value.
    pub(crate) fn clear(&self) {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    }

    /// Whether nothing is kept.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.0.lock().unwrap().is_none()
    }

    /// The `Authorization` value presenting `token` (marked sensitive): the kept one when it was
    /// built from the same scheme, macaroon and preimage, else built and kept.
    pub(crate) fn value(&self, token: &TokenRecord) -> Result<HeaderValue, ClientError> {
        let mut memo = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(built) = memo.as_ref()
            && built.scheme == token.scheme
            && built.macaroon == token.macaroon
            && built.preimage == token.preimage
        {
            return Ok(built.value.clone());
        }
        let mut value = HeaderValue::from_str(&authorization_value(token)).map_err(|_| {
            ClientError::InvalidToken("the held token is not a valid header value".into())
        })?;
        value.set_sensitive(true);
        *memo = Some(Built {
            scheme: token.scheme,
            macaroon: token.macaroon.clone(),
            preimage: token.preimage.clone(),
            value: value.clone(),
        });
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token_cache::test_token as token;

    #[test]
    fn the_value_follows_the_token_it_presents() {
        let memo = AuthHeaderMemo::default();
        for t in [
            token(b"first", 1),
            token(b"first", 1),
            token(b"second", 1),
            token(b"second", 2),
            TokenRecord {
                scheme: Scheme::Lsat,
                ..token(b"second", 2)
            },
            token(b"first", 1),
        ] {
            let value = memo.value(&t).expect("ASCII");
            assert_eq!(value.to_str().unwrap(), authorization_value(&t));
            assert!(value.is_sensitive());
        }
        memo.clear();
        assert!(memo.is_empty(), "cleared: nothing kept");
    }
}
