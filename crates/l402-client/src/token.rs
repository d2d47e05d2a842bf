//! Held tokens: their public view ([`TokenInfo`]), the `Authorization` value they are sent as,
//! their expiry (read from the caveats), attenuation for a sub-agent, and import of a token
//! someone handed over. Pure.

use l402_core::caveat::{VALID_UNTIL_SUFFIX, parse_caveat, parse_timestamp};
use l402_core::challenge::Scheme;
use l402_core::credential::{
    CredentialHeaders, CredentialScheme, PreimageSource, parse_credential,
    single_authorization_value,
};
use l402_core::identifier::Identifier;
use l402_core::macaroon::Macaroon;
use l402_core::mint::Attenuation;
use l402_core::{Msat, PaymentHash, Preimage, TokenId};
use l402_store::TokenRecord;

use crate::error::ClientError;

/// A held token as shown to users and agents: everything but the secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// The scope key it is used for.
    pub scope: String,
    /// The origin.
    pub origin: String,
    /// The payment hash it was paid for.
    pub payment_hash: PaymentHash,
    /// The token id, if the macaroon identifier decodes.
    pub token_id: Option<TokenId>,
    /// What it cost.
    pub amount: Msat,
    /// The routing fee.
    pub fee: Msat,
    /// When it was stored, Unix seconds.
    pub created_at: u64,
    /// When it expires, Unix seconds, if known.
    pub expires_at: Option<u64>,
    /// A label (imported tokens say where from).
    pub label: Option<String>,
}

impl From<&TokenRecord> for TokenInfo {
    fn from(t: &TokenRecord) -> Self {
        Self {
            scope: t.scope.clone(),
            origin: t.origin.clone(),
            payment_hash: t.payment_hash,
            token_id: token_id(&t.macaroon),
            amount: t.amount,
            fee: t.fee,
            created_at: t.created_at,
            expires_at: t.expires_at,
            label: t.label.clone(),
        }
    }
}

/// The `Authorization` value for a held token: one value, `L402 <macaroon>:<preimage>`, or
/// `LSAT …` when the server challenged with `LSAT` only. Servers that speak L402 (Aperture since
/// v0.3.2, ours) accept either.
pub fn authorization_value(t: &TokenRecord) -> String {
    single_authorization_value(t.scheme, &t.macaroon, &t.preimage)
}

/// The token id in a macaroon's identifier, if it decodes.
pub fn token_id(macaroon: &[u8]) -> Option<TokenId> {
    let mac = Macaroon::decode_v2(macaroon).ok()?;
    Identifier::decode(mac.identifier())
        .ok()
        .map(|id| id.token_id)
}

/// When a macaroon stops being useful, Unix seconds: for each `<service>_valid_until`
/// condition the earliest value counts (later caveats can only narrow), and the token is useless
/// once every service has expired, so the latest of those. `None` without any such caveat.
pub fn expires_at(macaroon: &[u8]) -> Option<u64> {
    let mac = Macaroon::decode_v2(macaroon).ok()?;
    let mut per_condition: Vec<(String, u64)> = Vec::new();
    for raw in mac.first_party_caveats() {
        let Some(c) = parse_caveat(raw) else { continue };
        if !c.condition.ends_with(VALID_UNTIL_SUFFIX) {
            continue;
        }
        let Ok(until) = parse_timestamp(c.value) else {
            continue;
        };
        match per_condition.iter_mut().find(|(k, _)| k == c.condition) {
            Some((_, v)) => *v = (*v).min(until),
            None => per_condition.push((c.condition.to_owned(), until)),
        }
    }
    per_condition.into_iter().map(|(_, v)| v).max()
}

/// The service names in a macaroon's last `services` caveat, if it decodes.
pub(crate) fn services(macaroon: &[u8]) -> Option<Vec<String>> {
    let mac = Macaroon::decode_v2(macaroon).ok()?;
    let value = mac
        .first_party_caveats()
        .filter_map(parse_caveat)
        .filter(|c| c.condition == l402_core::caveat::SERVICES)
        .last()?
        .value;
    let list = l402_core::caveat::parse_services(value).ok()?;
    Some(list.into_iter().map(|s| s.name).collect())
}

/// True when a challenge's macaroon is for services the held macaroon does not cover: the
/// held token was refused because it is another service's, not because it is invalid.
pub fn other_service(held: &[u8], challenge: &[u8]) -> bool {
    match (services(held), services(challenge)) {
        (Some(held), Some(wanted)) => wanted.iter().any(|w| !held.contains(w)),
        _ => false,
    }
}

/// True when the token's caveats say it has expired at `now` (valid while `now < until`).
pub fn is_expired(t: &TokenRecord, now: u64) -> bool {
    t.expires_at.is_some_and(|until| now >= until)
}

/// An `Authorization` value for a narrowed copy of `t`: the caveats of `attenuation` are
/// appended, which anyone holding the token can do without a key, and the server honours the
/// narrowest. Hand it to a sub-agent, which imports it with
/// [`L402Client::import_token`](crate::L402Client::import_token).
pub fn attenuate(t: &TokenRecord, attenuation: &Attenuation) -> Result<String, ClientError> {
    let mac = Macaroon::decode_v2(&t.macaroon).map_err(|e| {
        ClientError::InvalidToken(format!("the held macaroon does not decode: {e}"))
    })?;
    let narrowed = attenuation.apply(&mac).encode_v2();
    Ok(single_authorization_value(t.scheme, &narrowed, &t.preimage))
}

/// A token record from an `Authorization` value (`L402 <macaroon>:<preimage>` or `LSAT …`),
/// checked to be a well-formed L402 token whose preimage pays its payment hash.
pub fn import(
    authorization: &str,
    scope: String,
    origin: String,
    label: Option<String>,
    now: u64,
) -> Result<TokenRecord, ClientError> {
    let headers = CredentialHeaders {
        authorization: vec![authorization.trim()],
        ..CredentialHeaders::default()
    };
    let cred = parse_credential(&headers).map_err(|e| ClientError::InvalidToken(e.to_string()))?;
    let scheme = match cred.scheme {
        CredentialScheme::L402 => Scheme::L402,
        CredentialScheme::Lsat => Scheme::Lsat,
        _ => {
            return Err(ClientError::InvalidToken(
                "expected an Authorization value `L402 <macaroon>:<preimage>`".into(),
            ));
        }
    };
    let PreimageSource::Explicit(preimage) = cred.preimage else {
        return Err(ClientError::InvalidToken(
            "the token carries no preimage".into(),
        ));
    };
    let macaroon = cred
        .macaroons
        .into_iter()
        .next()
        .ok_or_else(|| ClientError::InvalidToken("no macaroon".into()))?;
    let mac = Macaroon::decode_v2(&macaroon)
        .map_err(|e| ClientError::InvalidToken(format!("the macaroon does not decode: {e}")))?;
    let id = Identifier::decode(mac.identifier())
        .map_err(|e| ClientError::InvalidToken(format!("not an L402 macaroon: {e}")))?;
    if !preimage.pays(&id.payment_hash) {
        return Err(ClientError::InvalidToken(
            "the preimage does not match the macaroon's payment hash".into(),
        ));
    }
    Ok(TokenRecord {
        scope,
        origin,
        scheme,
        expires_at: expires_at(&macaroon),
        macaroon,
        preimage,
        payment_hash: id.payment_hash,
        amount: Msat(0),
        fee: Msat(0),
        created_at: now,
        label,
    })
}

/// A token record for a payment that bought `macaroon`.
pub(crate) fn paid_token(
    payment: &l402_store::NewPayment,
    preimage: Preimage,
    fee: Msat,
    now: u64,
) -> TokenRecord {
    TokenRecord {
        scope: payment.scope.clone(),
        origin: payment.origin.clone(),
        scheme: payment.scheme,
        macaroon: payment.macaroon.clone(),
        preimage,
        payment_hash: payment.payment_hash,
        amount: payment.amount,
        fee,
        created_at: now,
        expires_at: expires_at(&payment.macaroon),
        label: None,
    }
}

#[cfg(test)]
mod tests {
    use l402_core::macaroon::RootKey;

    use super::*;

    fn mac_with(caveats: &[&str], preimage: &Preimage) -> Vec<u8> {
        let id = Identifier {
            payment_hash: preimage.payment_hash(),
            token_id: TokenId([5; 32]),
        };
        let mut mac = Macaroon::new(&RootKey::new(vec![1; 32]), id.encode().to_vec(), None);
        for c in caveats {
            mac.add_first_party_caveat(c.as_bytes().to_vec());
        }
        mac.encode_v2()
    }

    #[test]
    fn expiry_is_the_latest_service_expiry_after_narrowing() {
        let p = Preimage([1; 32]);
        assert_eq!(expires_at(&mac_with(&["services=a:0"], &p)), None);
        let m = mac_with(
            &["a_valid_until=100", "b_valid_until=300", "a_valid_until=50"],
            &p,
        );
        assert_eq!(expires_at(&m), Some(300));
        let m = mac_with(&["a_valid_until=100", "a_valid_until=70"], &p);
        assert_eq!(expires_at(&m), Some(70));
        assert_eq!(token_id(&m), Some(TokenId([5; 32])));
    }

    #[test]
    fn import_round_trips_and_checks_the_preimage() {
        let p = Preimage([2; 32]);
        let mac = mac_with(&["services=a:0"], &p);
        let value = single_authorization_value(Scheme::L402, &mac, &p);
        let t = import(&value, "http://h/a".into(), "http://h".into(), None, 9).unwrap();
        assert_eq!(t.macaroon, mac);
        assert_eq!(authorization_value(&t), value);
        let wrong = single_authorization_value(Scheme::L402, &mac, &Preimage([3; 32]));
        assert!(matches!(
            import(&wrong, "s".into(), "o".into(), None, 0),
            Err(ClientError::InvalidToken(_))
        ));
        assert!(import("Bearer x", "s".into(), "o".into(), None, 0).is_err());
    }

    #[test]
    fn attenuation_appends_caveats() {
        let p = Preimage([4; 32]);
        let mac = mac_with(&["services=a:0", "a_capabilities=read,write"], &p);
        let t = import(
            &single_authorization_value(Scheme::Lsat, &mac, &p),
            "s".into(),
            "o".into(),
            None,
            0,
        )
        .unwrap();
        let narrowed = attenuate(
            &t,
            &Attenuation {
                capabilities: vec![("a".into(), vec!["read".into()])],
                ..Attenuation::default()
            },
        )
        .unwrap();
        assert!(narrowed.starts_with("LSAT "));
        let back = import(&narrowed, "s".into(), "o".into(), None, 0).unwrap();
        let caveats: Vec<Vec<u8>> = Macaroon::decode_v2(&back.macaroon)
            .unwrap()
            .first_party_caveats()
            .map(<[u8]>::to_vec)
            .collect();
        assert_eq!(caveats.last().unwrap(), b"a_capabilities=read");
    }
}
