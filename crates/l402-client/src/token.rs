//! Held tokens: their public view ([`TokenInfo`]), the `Authorization` value they are sent as,
//! their expiry (read from the caveats), attenuation for a sub-agent, and import of a token
//! someone handed over. Pure.

use l402_core::caveat::{VALID_UNTIL_SUFFIX, parse_caveat, parse_timestamp};
use l402_core::challenge::Scheme;
use l402_core::credential::{
    CredentialHeaders, CredentialScheme, PreimageSource, multi_authorization_value,
    parse_credential, single_authorization_value,
};
use l402_core::identifier::Identifier;
use l402_core::macaroon::Macaroon;
use l402_core::mint::{Attenuation, with_preimage_caveat};
use l402_core::token_status::TokenStatus;
use l402_core::{Msat, PaymentHash, Preimage, TokenId};
use l402_store::{ReportedStatus, TokenRecord};

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
    /// What the server last said about it in a paid response's `L402-Token` header (token
    /// introspection; see [`l402_core::token_status`]), if it has.
    pub status: Option<ReportedStatus>,
}

impl TokenInfo {
    /// Seconds the token has left at the client's `now`: from the server's last report if
    /// there is one (counted by the server's clock, see [`ReportedStatus::remaining_secs`]),
    /// else from the expiry its caveats give. `None` when neither says it expires.
    pub fn remaining_secs(&self, now: u64) -> Option<u64> {
        match &self.status {
            Some(status) => status.remaining_secs(now),
            None => self.expires_at.map(|until| until.saturating_sub(now)),
        }
    }
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
            status: t.status,
        }
    }
}

/// The `Authorization` value for a held token: one value, `L402 <macaroon>:<preimage>`, or
/// `LSAT …` when the server challenged with `LSAT` only. Servers that speak L402 (Aperture since
/// v0.3.2, ours) accept either.
pub fn authorization_value(t: &TokenRecord) -> String {
    single_authorization_value(t.scheme, &t.macaroon, &t.preimage)
}

/// One `Authorization` value presenting several held tokens at once
/// (`L402 <mac>,<mac>:<preimage>`), for a request that spans services of one server: each
/// token but the last carries its own preimage in a `preimage=` caveat (appended without a
/// key, as any holder may), the last one's preimage follows the `:`. A server implementing
/// multi-token credentials (ours) then grants the request if one of the tokens alone does, and
/// refuses the whole credential if any of them is not valid; Aperture refuses lists outright.
/// Errors with no token, more than
/// [`MAX_MACAROONS_PER_CREDENTIAL`](l402_core::limits::MAX_MACAROONS_PER_CREDENTIAL), or a
/// held macaroon that does not decode.
pub fn combined_authorization_value(tokens: &[TokenRecord]) -> Result<String, ClientError> {
    let max = l402_core::limits::MAX_MACAROONS_PER_CREDENTIAL;
    let Some((last, others)) = tokens.split_last() else {
        return Err(ClientError::InvalidToken("no token to present".into()));
    };
    if tokens.len() > max {
        return Err(ClientError::InvalidToken(format!(
            "{} tokens in one credential; servers take at most {max}",
            tokens.len()
        )));
    }
    let mut macaroons = Vec::with_capacity(tokens.len());
    for t in others {
        let mac = Macaroon::decode_v2(&t.macaroon).map_err(|e| {
            ClientError::InvalidToken(format!("the held macaroon does not decode: {e}"))
        })?;
        macaroons.push(with_preimage_caveat(&mac, &t.preimage).encode_v2());
    }
    macaroons.push(last.macaroon.clone());
    Ok(multi_authorization_value(
        last.scheme,
        macaroons.iter().map(Vec::as_slice),
        &last.preimage,
    ))
}

/// The token id in a macaroon's identifier, if its header and identifier decode (only the
/// header is read: this runs on every answer to a held token).
pub fn token_id(macaroon: &[u8]) -> Option<TokenId> {
    let identifier = Macaroon::peek_identifier_v2(macaroon).ok()?;
    Identifier::decode(identifier).ok().map(|id| id.token_id)
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
    if cred.macaroons.len() > 1 {
        return Err(ClientError::InvalidToken(format!(
            "the credential lists {} tokens; import one token at a time",
            cred.macaroons.len()
        )));
    }
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
        status: None,
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
        status: None,
    }
}

/// What a paid response's `L402-Token` header value says about `sent`, the token the request
/// carried, read at the client's `now`. `None` when there is no such header, it does not parse,
/// or it names another token (a server that answered with one of several tokens presented, or
/// a confused one): only a report about the held token is kept.
pub fn reported_status(
    header: Option<&str>,
    sent: &TokenRecord,
    now: u64,
) -> Option<ReportedStatus> {
    let status = TokenStatus::parse(header?)?;
    if token_id(&sent.macaroon) != Some(status.token_id) {
        return None;
    }
    Some(ReportedStatus {
        at: now,
        expires_at: status.expires,
        ttl_secs: status.ttl,
        balance_msat: status.balance_msat,
    })
}

/// True when `fresh` says something `held` (what the store keeps) does not: a first report, a
/// new expiry or a new balance. The time left needs no rewrite while the expiry stands, since
/// it is counted from the report, so a token reused on every request is written once.
pub fn status_changed(held: Option<&ReportedStatus>, fresh: &ReportedStatus) -> bool {
    held.is_none_or(|h| h.expires_at != fresh.expires_at || h.balance_msat != fresh.balance_msat)
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
    fn a_reported_status_is_kept_only_for_the_token_sent() {
        let p = Preimage([2; 32]);
        let mac = mac_with(&["services=a:0"], &p);
        let value = single_authorization_value(Scheme::L402, &mac, &p);
        let held = import(&value, "http://h/a".into(), "http://h".into(), None, 9).unwrap();
        let ours = TokenStatus::at(TokenId([5; 32]), Some(1_000), 400).header_value();
        let status = reported_status(Some(&ours), &held, 77).unwrap();
        assert_eq!(
            status,
            ReportedStatus {
                at: 77,
                expires_at: Some(1_000),
                ttl_secs: Some(600),
                balance_msat: None
            }
        );
        let theirs = TokenStatus::at(TokenId([6; 32]), Some(1_000), 400).header_value();
        assert_eq!(reported_status(Some(&theirs), &held, 77), None);
        assert_eq!(reported_status(Some("garbage"), &held, 77), None);
        assert_eq!(reported_status(None, &held, 77), None);

        // Written once while nothing but the time left changes.
        assert!(status_changed(None, &status));
        let later = ReportedStatus {
            at: 177,
            ttl_secs: Some(500),
            ..status
        };
        assert!(!status_changed(Some(&status), &later));
        let extended = ReportedStatus {
            expires_at: Some(2_000),
            ..later
        };
        assert!(status_changed(Some(&status), &extended));
        let spent = ReportedStatus {
            balance_msat: Some(1),
            ..later
        };
        assert!(status_changed(Some(&status), &spent));

        // What a holder is told: the server's count first, the caveats' expiry otherwise.
        let mut info = TokenInfo::from(&held);
        assert_eq!(info.remaining_secs(100), None);
        info.expires_at = Some(150);
        assert_eq!(info.remaining_secs(100), Some(50));
        info.status = Some(status);
        assert_eq!(info.remaining_secs(100), Some(577));
    }

    #[test]
    fn several_held_tokens_make_one_credential_that_verifies() {
        use l402_core::verify::{NoRevocations, RequestContext, verify_credential_all};

        let held: Vec<TokenRecord> = [("a", 7u8), ("b", 8)]
            .into_iter()
            .map(|(service, n)| {
                let p = Preimage([n; 32]);
                let mac = mac_with(&[&format!("services={service}:0")], &p);
                let value = single_authorization_value(Scheme::L402, &mac, &p);
                import(
                    &value,
                    format!("http://h/{service}"),
                    "http://h".into(),
                    None,
                    0,
                )
                .unwrap()
            })
            .collect();
        let value = combined_authorization_value(&held).unwrap();
        let credential = parse_credential(&CredentialHeaders {
            authorization: vec![&value],
            ..CredentialHeaders::default()
        })
        .unwrap();
        assert_eq!(credential.macaroons.len(), 2);
        let key = RootKey::new(vec![1; 32]);
        for (service, position) in [("a", 0), ("b", 1)] {
            let request = RequestContext {
                service,
                required_capabilities: &[],
                price: Msat(0),
                base_price: Msat(0),
                now_unix: 0,
                custom: &[],
            };
            let granted =
                verify_credential_all(&credential, &key, &NoRevocations, &request).unwrap();
            assert_eq!(granted.position, position);
        }
        assert!(combined_authorization_value(&[]).is_err());
        let refused = import(&value, "s".into(), "o".into(), None, 0).unwrap_err();
        assert!(refused.to_string().contains("lists 2 tokens"), "{refused}");
        let many = vec![held[0].clone(); l402_core::limits::MAX_MACAROONS_PER_CREDENTIAL + 1];
        assert!(combined_authorization_value(&many).is_err());
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
