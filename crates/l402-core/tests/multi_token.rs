//! Several tokens in one credential (`Authorization: L402 <mac>,<mac>:<preimage>`): every
//! macaroon must be authentic, one must authorize the request on its own, and the credential
//! opens the union of what its tokens open alone.

mod common;

use std::collections::HashSet;

use common::{NOW, SeqRng, ring};
use l402_core::caveat::ServiceTier;
use l402_core::challenge::Scheme;
use l402_core::credential::{
    Credential, CredentialError, CredentialHeaders, CredentialScheme, PreimageSource,
    multi_authorization_value, parse_credential,
};
use l402_core::env::FixedClock;
use l402_core::limits::MAX_MACAROONS_PER_CREDENTIAL;
use l402_core::macaroon::Macaroon;
use l402_core::mint::{MintRequest, Minter, ServiceGrant, with_preimage_caveat};
use l402_core::satisfier::CaveatFailure;
use l402_core::verify::{
    NoRevocations, RequestContext, Revocations, TokenError, VerifiedCredential,
    verify_credential_all,
};
use l402_core::{Msat, Preimage, TokenId};
use proptest::prelude::*;

/// A paid token: its macaroon, minted for `service` with `caps` (token id seeded by `seed`),
/// and the preimage that pays it.
struct Token {
    macaroon: Macaroon,
    preimage: Preimage,
}

impl Token {
    fn new(seed: u8, service: &str, caps: &[&str], lifetime: Option<u64>) -> Self {
        let preimage = Preimage([seed; 32]);
        let macaroon = Minter::new(ring())
            .mint(
                &MintRequest {
                    payment_hash: preimage.payment_hash(),
                    grants: vec![ServiceGrant {
                        service: ServiceTier {
                            name: service.into(),
                            tier: 0,
                        },
                        capabilities: caps.iter().map(|c| c.to_string()).collect(),
                        lifetime_secs: lifetime,
                    }],
                    extra_caveats: vec![],
                },
                &FixedClock(NOW),
                &mut SeqRng(seed),
            )
            .unwrap();
        Self { macaroon, preimage }
    }

    /// The macaroon carrying its own proof of payment, to ride beside another token's preimage.
    fn carrying_preimage(&self) -> Vec<u8> {
        with_preimage_caveat(&self.macaroon, &self.preimage).encode_v2()
    }

    /// The same macaroon with its signature's last byte changed.
    fn forged(&self) -> Vec<u8> {
        let mut bytes = self.carrying_preimage();
        *bytes.last_mut().unwrap() ^= 1;
        bytes
    }

    fn token_id(&self) -> TokenId {
        l402_core::identifier::Identifier::decode(self.macaroon.identifier())
            .unwrap()
            .token_id
    }
}

fn ctx<'a>(service: &'a str, caps: &'a [String], now: u64) -> RequestContext<'a> {
    RequestContext {
        service,
        required_capabilities: caps,
        price: Msat(0),
        base_price: Msat(0),
        now_unix: now,
        custom: &[],
    }
}

/// Parses `Authorization: L402 <macaroons…>:<preimage>` and verifies it for `request`.
fn verify(
    macaroons: &[Vec<u8>],
    preimage: &Preimage,
    revocations: &dyn Revocations,
    request: &RequestContext<'_>,
) -> Result<VerifiedCredential, TokenError> {
    let value =
        multi_authorization_value(Scheme::L402, macaroons.iter().map(Vec::as_slice), preimage);
    let credential = parse_credential(&CredentialHeaders {
        authorization: vec![&value],
        ..CredentialHeaders::default()
    })
    .map_err(TokenError::MalformedCredential)?;
    assert_eq!(credential.macaroons, macaroons, "the header round-trips");
    verify_credential_all(&credential, &ring(), revocations, request)
}

#[test]
fn two_valid_tokens_open_the_union_of_their_services() {
    let a = Token::new(1, "alpha", &[], Some(600));
    let b = Token::new(2, "beta", &[], Some(3600));
    // A carries its own preimage; B's is the one after the `:`.
    let list = [a.carrying_preimage(), b.macaroon.encode_v2()];

    let for_alpha = verify(&list, &b.preimage, &NoRevocations, &ctx("alpha", &[], NOW)).unwrap();
    assert_eq!(for_alpha.position, 0);
    assert_eq!(for_alpha.token.identifier.token_id, a.token_id());
    assert_eq!(for_alpha.token.valid_until, Some(NOW + 600));
    assert_eq!(
        for_alpha
            .others
            .iter()
            .map(|i| i.token_id)
            .collect::<Vec<_>>(),
        [b.token_id()]
    );

    let for_beta = verify(&list, &b.preimage, &NoRevocations, &ctx("beta", &[], NOW)).unwrap();
    assert_eq!(for_beta.position, 1);
    assert_eq!(for_beta.token.identifier.token_id, b.token_id());
    assert_eq!(for_beta.token.valid_until, Some(NOW + 3600));

    // Neither token opens a third service.
    assert!(matches!(
        verify(&list, &b.preimage, &NoRevocations, &ctx("gamma", &[], NOW)).unwrap_err(),
        TokenError::Caveat(CaveatFailure::WrongService { .. })
    ));
}

#[test]
fn a_forged_macaroon_refuses_the_whole_credential_wherever_it_stands() {
    let a = Token::new(1, "alpha", &[], None);
    let b = Token::new(2, "beta", &[], None);
    let valid = a.macaroon.encode_v2();
    // The forgery is for another service, so the valid token alone would suffice: still refused.
    for list in [
        vec![valid.clone(), b.forged()],
        vec![b.forged(), valid.clone()],
    ] {
        assert_eq!(
            verify(&list, &a.preimage, &NoRevocations, &ctx("alpha", &[], NOW)).unwrap_err(),
            TokenError::BadSignature
        );
    }
    // A forged copy of the valid token itself, too.
    let mut altered = valid.clone();
    *altered.last_mut().unwrap() ^= 0x80;
    assert_eq!(
        verify(
            &[valid.clone(), altered],
            &a.preimage,
            &NoRevocations,
            &ctx("alpha", &[], NOW)
        )
        .unwrap_err(),
        TokenError::BadSignature
    );
    // Garbage that is not a macaroon at all.
    assert!(matches!(
        verify(
            &[valid, b"not a macaroon".to_vec()],
            &a.preimage,
            &NoRevocations,
            &ctx("alpha", &[], NOW)
        )
        .unwrap_err(),
        TokenError::MalformedMacaroon(_)
    ));
}

#[test]
fn an_unpaid_or_revoked_macaroon_refuses_the_whole_credential() {
    let a = Token::new(1, "alpha", &[], None);
    let b = Token::new(2, "beta", &[], None);
    // B without its preimage caveat: the preimage after `:` pays A only.
    let unpaid = [a.macaroon.encode_v2(), b.macaroon.encode_v2()];
    assert_eq!(
        verify(
            &unpaid,
            &a.preimage,
            &NoRevocations,
            &ctx("alpha", &[], NOW)
        )
        .unwrap_err(),
        TokenError::WrongPreimage
    );
    // B with a preimage caveat that does not pay it.
    let wrong = with_preimage_caveat(&b.macaroon, &a.preimage).encode_v2();
    assert_eq!(
        verify(
            &[a.macaroon.encode_v2(), wrong],
            &a.preimage,
            &NoRevocations,
            &ctx("alpha", &[], NOW)
        )
        .unwrap_err(),
        TokenError::WrongPreimage
    );
    let list = [a.macaroon.encode_v2(), b.carrying_preimage()];
    let revoked: HashSet<TokenId> = [b.token_id()].into();
    assert_eq!(
        verify(&list, &a.preimage, &revoked, &ctx("alpha", &[], NOW)).unwrap_err(),
        TokenError::Revoked
    );
    assert!(verify(&list, &a.preimage, &NoRevocations, &ctx("alpha", &[], NOW)).is_ok());
}

#[test]
fn capabilities_are_not_pooled_across_tokens() {
    let reader = Token::new(1, "alpha", &["read"], None);
    let writer = Token::new(2, "alpha", &["write"], None);
    let list = [reader.carrying_preimage(), writer.carrying_preimage()];
    let both = ["read".to_string(), "write".to_string()];
    assert!(matches!(
        verify(
            &list,
            &reader.preimage,
            &NoRevocations,
            &ctx("alpha", &both, NOW)
        )
        .unwrap_err(),
        TokenError::Caveat(CaveatFailure::MissingCapability { .. })
    ));
    let write = ["write".to_string()];
    let granted = verify(
        &list,
        &reader.preimage,
        &NoRevocations,
        &ctx("alpha", &write, NOW),
    )
    .unwrap();
    assert_eq!(granted.position, 1);
}

#[test]
fn the_reported_refusal_prefers_a_reason_over_wrong_service() {
    let a = Token::new(1, "alpha", &[], None);
    let b = Token::new(2, "beta", &[], Some(60));
    let list = [a.carrying_preimage(), b.carrying_preimage()];
    // For beta: A is another service's (wrong_service), B has expired: the expiry is reported.
    let error = verify(
        &list,
        &a.preimage,
        &NoRevocations,
        &ctx("beta", &[], NOW + 61),
    )
    .unwrap_err();
    assert_eq!(error.reason_code(), "expired");
}

#[test]
fn more_macaroons_than_the_limit_are_refused_before_decoding() {
    let a = Token::new(1, "alpha", &[], None);
    let at_limit: Vec<Vec<u8>> = (0..MAX_MACAROONS_PER_CREDENTIAL)
        .map(|_| a.macaroon.encode_v2())
        .collect();
    assert!(
        verify(
            &at_limit,
            &a.preimage,
            &NoRevocations,
            &ctx("alpha", &[], NOW)
        )
        .is_ok()
    );

    let over = MAX_MACAROONS_PER_CREDENTIAL + 1;
    // Not even base64: the count is checked first.
    let value = format!("L402 {}:{}", vec!["!"; over].join(","), a.preimage.to_hex());
    let error = parse_credential(&CredentialHeaders {
        authorization: vec![&value],
        ..CredentialHeaders::default()
    })
    .unwrap_err();
    assert_eq!(
        error,
        CredentialError::TooManyMacaroons {
            count: over,
            max: MAX_MACAROONS_PER_CREDENTIAL
        }
    );
    assert_eq!(
        TokenError::MalformedCredential(error.clone()).reason_code(),
        "too_many_macaroons"
    );
    assert_eq!(
        error.to_string(),
        format!("{over} macaroons in one credential; the limit is {MAX_MACAROONS_PER_CREDENTIAL}")
    );
    // A credential built by hand past the parser is refused by the verifier too.
    let credential = Credential {
        scheme: CredentialScheme::L402,
        macaroons: vec![a.macaroon.encode_v2(); over],
        preimage: PreimageSource::Explicit(a.preimage.clone()),
    };
    assert_eq!(
        verify_credential_all(
            &credential,
            &ring(),
            &NoRevocations,
            &ctx("alpha", &[], NOW)
        )
        .unwrap_err()
        .reason_code(),
        "too_many_macaroons"
    );
}

#[test]
fn a_preimage_caveat_proves_payment_when_the_explicit_preimage_does_not() {
    let a = Token::new(1, "alpha", &[], None);
    let stranger = Preimage([0xee; 32]);
    assert_eq!(
        verify(
            &[a.macaroon.encode_v2()],
            &stranger,
            &NoRevocations,
            &ctx("alpha", &[], NOW)
        )
        .unwrap_err(),
        TokenError::WrongPreimage
    );
    assert!(
        verify(
            &[a.carrying_preimage()],
            &stranger,
            &NoRevocations,
            &ctx("alpha", &[], NOW)
        )
        .is_ok()
    );
}

/// One entry of a generated credential.
#[derive(Debug, Clone, Copy)]
enum Entry {
    Alpha,
    Beta,
    Forged,
    Unpaid,
}

proptest! {
    /// Whatever the mix and order: the credential verifies iff every macaroon is authentic and
    /// one is for the requested service, and then the granted token is one for that service.
    #[test]
    fn a_bad_macaroon_never_widens(
        entries in prop::collection::vec(
            prop_oneof![Just(Entry::Alpha), Just(Entry::Beta), Just(Entry::Forged), Just(Entry::Unpaid)],
            1..=MAX_MACAROONS_PER_CREDENTIAL,
        ),
        for_beta in any::<bool>(),
    ) {
        let alpha = Token::new(1, "alpha", &[], None);
        let beta = Token::new(2, "beta", &[], None);
        let unpaid = Token::new(3, "alpha", &[], None);
        let explicit = Preimage([0xee; 32]);
        let list: Vec<Vec<u8>> = entries
            .iter()
            .map(|e| match e {
                Entry::Alpha => alpha.carrying_preimage(),
                Entry::Beta => beta.carrying_preimage(),
                Entry::Forged => alpha.forged(),
                Entry::Unpaid => unpaid.macaroon.encode_v2(),
            })
            .collect();
        let service = if for_beta { "beta" } else { "alpha" };
        let result = verify(&list, &explicit, &NoRevocations, &ctx(service, &[], NOW));
        let all_authentic = entries.iter().all(|e| matches!(e, Entry::Alpha | Entry::Beta));
        let covered = entries.iter().any(|e| matches!((e, for_beta), (Entry::Alpha, false) | (Entry::Beta, true)));
        prop_assert_eq!(result.is_ok(), all_authentic && covered, "{:?}", result);
        if let Ok(granted) = result {
            let expected = if for_beta { beta.token_id() } else { alpha.token_id() };
            prop_assert_eq!(granted.token.identifier.token_id, expected);
            prop_assert_eq!(granted.others.len(), entries.len() - 1);
        }
    }
}
