//! Mint and verify end to end through the header codecs, with every refusal reason.

mod common;

use std::collections::HashSet;

use common::{NOW, SeqRng, ring};
use l402_core::caveat::ServiceTier;
use l402_core::credential::{
    CredentialHeaders, authorization_header_values, macaroon_metadata_value, parse_credential,
};
use l402_core::env::FixedClock;
use l402_core::keys::{KeyRing, MasterKey};
use l402_core::macaroon::{Macaroon, RootKey};
use l402_core::mint::{Attenuation, MintRequest, Minter, ServiceGrant, with_preimage_caveat};
use l402_core::satisfier::CaveatFailure;
use l402_core::verify::{
    NoRevocations, RequestContext, TokenError, verify_credential, verify_macaroon,
};
use l402_core::{Preimage, TokenId};
use proptest::prelude::*;

fn grant(name: &str, caps: &[&str], lifetime: Option<u64>) -> ServiceGrant {
    ServiceGrant {
        service: ServiceTier {
            name: name.into(),
            tier: 0,
        },
        capabilities: caps.iter().map(|c| c.to_string()).collect(),
        lifetime_secs: lifetime,
    }
}

fn mint(preimage: &Preimage, grants: Vec<ServiceGrant>) -> Macaroon {
    Minter::new(ring())
        .mint(
            &MintRequest {
                payment_hash: preimage.payment_hash(),
                grants,
                extra_caveats: vec![],
            },
            &FixedClock(NOW),
            &mut SeqRng(1),
        )
        .unwrap()
}

fn ctx<'a>(service: &'a str, caps: &'a [String], now: u64) -> RequestContext<'a> {
    RequestContext {
        service,
        required_capabilities: caps,
        price: l402_core::Msat(0),
        base_price: l402_core::Msat(0),
        now_unix: now,
        custom: &[],
    }
}

fn via_header(
    mac: &Macaroon,
    preimage: &Preimage,
    request: &RequestContext<'_>,
) -> Result<Vec<String>, TokenError> {
    let values = authorization_header_values(&mac.encode_v2(), preimage);
    let headers = CredentialHeaders {
        authorization: values.iter().map(String::as_str).collect(),
        grpc_metadata_macaroon: None,
        macaroon: None,
    };
    let cred = parse_credential(&headers).map_err(TokenError::MalformedCredential)?;
    verify_credential(&cred, &ring(), &NoRevocations, request).map(|t| t.checked_caveats.to_vec())
}

#[test]
fn minted_token_verifies_through_the_authorization_header() {
    let preimage = Preimage([5; 32]);
    let mac = mint(
        &preimage,
        vec![grant("weather", &["read", "write"], Some(3600))],
    );
    let caveats = via_header(
        &mac,
        &preimage,
        &ctx("weather", &["write".into()], NOW + 10),
    )
    .unwrap();
    assert_eq!(
        caveats,
        vec![
            "services=weather:0",
            "weather_capabilities=read,write",
            &format!("weather_valid_until={}", NOW + 3600)
        ]
    );
    assert_eq!(mac.location(), Some(&b"lsat"[..]));
    let token = verify_macaroon(
        &mac,
        Some(&preimage),
        &ring(),
        &NoRevocations,
        &ctx("weather", &[], NOW),
    )
    .unwrap();
    assert_eq!(token.valid_until, Some(NOW + 3600));
}

#[test]
fn every_refusal_reason() {
    let preimage = Preimage([5; 32]);
    let mac = mint(&preimage, vec![grant("weather", &["read"], Some(60))]);
    let none: [String; 0] = [];
    let check =
        |m: &Macaroon, p: &Preimage, c: RequestContext<'_>| via_header(m, p, &c).unwrap_err();

    assert!(matches!(
        check(&mac, &preimage, ctx("weather", &none, NOW + 60)),
        TokenError::Caveat(CaveatFailure::Expired { .. })
    ));
    assert!(matches!(
        check(&mac, &preimage, ctx("other", &none, NOW)),
        TokenError::Caveat(CaveatFailure::WrongService { .. })
    ));
    assert!(matches!(
        check(&mac, &preimage, ctx("weather", &["write".into()], NOW)),
        TokenError::Caveat(CaveatFailure::MissingCapability { .. })
    ));
    assert_eq!(
        check(&mac, &Preimage([6; 32]), ctx("weather", &none, NOW)),
        TokenError::WrongPreimage
    );

    let mut forged = mac.clone();
    forged.add_first_party_caveat(b"x=y".to_vec());
    let mut bytes = forged.encode_v2();
    let n = bytes.len();
    bytes[n - 1] ^= 1;
    let forged = Macaroon::decode_v2(&bytes).unwrap();
    assert_eq!(
        check(&forged, &preimage, ctx("weather", &none, NOW)),
        TokenError::BadSignature
    );

    let id = l402_core::identifier::Identifier::decode(mac.identifier()).unwrap();
    let revoked: HashSet<TokenId> = [id.token_id].into();
    assert_eq!(
        verify_macaroon(
            &mac,
            Some(&preimage),
            &ring(),
            &revoked,
            &ctx("weather", &none, NOW)
        )
        .unwrap_err(),
        TokenError::Revoked
    );

    let other_epoch = KeyRing::new(9, &MasterKey::from_bytes([0x42; 32]));
    assert_eq!(
        verify_macaroon(
            &mac,
            Some(&preimage),
            &other_epoch,
            &NoRevocations,
            &ctx("weather", &none, NOW)
        )
        .unwrap_err(),
        TokenError::UnknownKeyEpoch(3)
    );
    let rotated = KeyRing::new(3, &MasterKey::from_bytes([0x43; 32]));
    assert_eq!(
        verify_macaroon(
            &mac,
            Some(&preimage),
            &rotated,
            &NoRevocations,
            &ctx("weather", &none, NOW)
        )
        .unwrap_err(),
        TokenError::BadSignature
    );

    let mut third = mac.clone();
    third.add_third_party_caveat_raw(None, b"cid".to_vec(), vec![1; 72]);
    assert_eq!(
        check(&third, &preimage, ctx("weather", &none, NOW)),
        TokenError::ThirdPartyCaveat
    );

    let not_l402 = Macaroon::new(&RootKey::new(vec![1; 32]), b"short".to_vec(), None);
    let err = check(&not_l402, &preimage, ctx("weather", &none, NOW));
    assert!(matches!(err, TokenError::MalformedIdentifier(_)) && err.is_malformed());

    let mut bad_caveat = mac.clone();
    bad_caveat.add_first_party_caveat(b"weather_valid_until=soon".to_vec());
    assert!(matches!(
        check(&bad_caveat, &preimage, ctx("weather", &none, NOW)),
        TokenError::Caveat(CaveatFailure::Malformed { .. })
    ));
}

#[test]
fn grpc_macaroon_form_carries_the_preimage_in_a_caveat() {
    let preimage = Preimage([8; 32]);
    let mac = mint(&preimage, vec![grant("greeter", &[], None)]);
    let paid = with_preimage_caveat(&mac, &preimage);
    let hex = macaroon_metadata_value(&paid.encode_v2());
    for headers in [
        CredentialHeaders {
            authorization: vec![],
            grpc_metadata_macaroon: None,
            macaroon: Some(&hex),
        },
        CredentialHeaders {
            authorization: vec![],
            grpc_metadata_macaroon: Some(&hex),
            macaroon: None,
        },
    ] {
        let cred = parse_credential(&headers).unwrap();
        let token =
            verify_credential(&cred, &ring(), &NoRevocations, &ctx("greeter", &[], NOW)).unwrap();
        // What the seller minted, and not the `preimage=` the holder added.
        assert_eq!(
            *token.checked_caveats,
            ["services=greeter:0", "greeter_capabilities="]
        );
    }
    // Without the caveat the gRPC form has no proof of payment.
    let hex = macaroon_metadata_value(&mac.encode_v2());
    let cred = parse_credential(&CredentialHeaders {
        authorization: vec![],
        grpc_metadata_macaroon: None,
        macaroon: Some(&hex),
    })
    .unwrap();
    assert_eq!(
        verify_credential(&cred, &ring(), &NoRevocations, &ctx("greeter", &[], NOW)).unwrap_err(),
        TokenError::MissingPreimage
    );
}

/// The synthetic Aperture-shaped vector (protocol reference 5.6): an explicit root key, as a
/// verifier of Aperture-minted tokens uses.
#[test]
fn aperture_shaped_token_with_explicit_root_key() {
    let header = "L402 AgEEbHNhdAJCAAB875PyxRqmUgi+wUR/w4/FjZvOE3WlMu2w3NKQosMwrgABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fAAIPc2VydmljZXM9bWVtZTowAAISbWVtZV9jYXBhYmlsaXRpZXM9AAIbbWVtZV92YWxpZF91bnRpbD0xNzAwMDAwMDAwAAAGIFwUwEIU3CXvKjaSyjSxwZFMyZbA9jCdw3eg1ZxM4wT1:2ca931a1c36b48f54948b898a271a53ed91ff7d0081939a5fa511249e81cba5c";
    let cred = parse_credential(&CredentialHeaders {
        authorization: vec![header],
        grpc_metadata_macaroon: None,
        macaroon: None,
    })
    .unwrap();
    let key = RootKey::new(vec![0x11; 32]);
    let token = verify_credential(
        &cred,
        &key,
        &NoRevocations,
        &ctx("meme", &[], 1_600_000_000),
    )
    .unwrap();
    assert_eq!(
        token.identifier.payment_hash.to_hex(),
        "7cef93f2c51aa65208bec1447fc38fc58d9bce1375a532edb0dcd290a2c330ae"
    );
    assert!(matches!(
        verify_credential(
            &cred,
            &key,
            &NoRevocations,
            &ctx("meme", &[], 1_700_000_000)
        )
        .unwrap_err(),
        TokenError::Caveat(CaveatFailure::Expired { .. })
    ));
    assert_eq!(
        verify_credential(
            &cred,
            &RootKey::new(vec![0x12; 32]),
            &NoRevocations,
            &ctx("meme", &[], 1_600_000_000)
        )
        .unwrap_err(),
        TokenError::BadSignature
    );
}

#[test]
fn attenuated_token_is_honoured_and_narrower() {
    let preimage = Preimage([5; 32]);
    let mac = mint(
        &preimage,
        vec![
            grant("a", &["read", "write"], Some(3600)),
            grant("b", &["read"], None),
        ],
    );
    let write: [String; 1] = ["write".into()];
    assert!(via_header(&mac, &preimage, &ctx("a", &write, NOW)).is_ok());
    assert!(via_header(&mac, &preimage, &ctx("b", &[], NOW)).is_ok());

    let narrowed = Attenuation {
        services: Some(vec![ServiceTier {
            name: "a".into(),
            tier: 0,
        }]),
        capabilities: vec![("a".into(), vec!["read".into()])],
        valid_until: vec![("a".into(), NOW + 60)],
        extra: vec![],
    }
    .apply(&mac);
    assert!(via_header(&narrowed, &preimage, &ctx("a", &["read".into()], NOW)).is_ok());
    assert!(matches!(
        via_header(&narrowed, &preimage, &ctx("a", &write, NOW)),
        Err(TokenError::Caveat(CaveatFailure::MissingCapability { .. }))
    ));
    assert!(matches!(
        via_header(&narrowed, &preimage, &ctx("b", &[], NOW)),
        Err(TokenError::Caveat(CaveatFailure::WrongService { .. }))
    ));
    assert!(matches!(
        via_header(&narrowed, &preimage, &ctx("a", &[], NOW + 61)),
        Err(TokenError::Caveat(CaveatFailure::Expired { .. }))
    ));

    // Trying to widen is refused outright.
    let widened = Attenuation {
        valid_until: vec![("a".into(), NOW + 99_999)],
        ..Default::default()
    }
    .apply(&mac);
    assert!(matches!(
        via_header(&widened, &preimage, &ctx("a", &[], NOW)),
        Err(TokenError::Caveat(CaveatFailure::Widened { .. }))
    ));
}

fn arb_attenuation() -> impl Strategy<Value = Attenuation> {
    let names = prop::sample::select(vec!["a", "b", "c"]);
    let caps = prop::collection::vec(prop::sample::select(vec!["read", "write", "admin"]), 0..3);
    (
        prop::option::of(prop::collection::vec((names.clone(), 0u8..3), 0..3)),
        prop::collection::vec((names.clone(), caps), 0..2),
        prop::collection::vec((names, (NOW - 100)..(NOW + 10_000)), 0..2),
    )
        .prop_map(|(services, capabilities, valid_until)| Attenuation {
            services: services.map(|s| {
                s.into_iter()
                    .map(|(n, t)| ServiceTier {
                        name: n.into(),
                        tier: t,
                    })
                    .collect()
            }),
            capabilities: capabilities
                .into_iter()
                .map(|(s, c)| (s.to_string(), c.into_iter().map(String::from).collect()))
                .collect(),
            valid_until: valid_until
                .into_iter()
                .map(|(s, t)| (s.to_string(), t))
                .collect(),
            extra: vec![],
        })
}

proptest! {
    /// Whatever caveats a holder adds, the token never allows a request the original refused.
    #[test]
    fn attenuation_never_widens(
        att in arb_attenuation(),
        service in prop::sample::select(vec!["a", "b", "c"]),
        need in prop::collection::vec(prop::sample::select(vec!["read", "write", "admin"]), 0..2),
        now in (NOW - 10)..(NOW + 20_000),
    ) {
        let preimage = Preimage([5; 32]);
        let mac = mint(&preimage, vec![grant("a", &["read", "write"], Some(3600)), grant("b", &["read"], Some(600))]);
        let need: Vec<String> = need.into_iter().map(String::from).collect();
        let request = ctx(service, &need, now);
        let original = verify_macaroon(&mac, Some(&preimage), &ring(), &NoRevocations, &request);
        let narrowed = verify_macaroon(&att.apply(&mac), Some(&preimage), &ring(), &NoRevocations, &request);
        prop_assert!(!(narrowed.is_ok() && original.is_err()), "attenuation widened: {:?}", att);
    }

    /// Changing any byte of the macaroon past its (unsigned) location, or of the preimage,
    /// makes verification fail.
    #[test]
    fn any_single_byte_change_fails(pick in any::<prop::sample::Index>(), flip in 1u8..=255, in_preimage in any::<bool>()) {
        let preimage = Preimage([5; 32]);
        let mac = mint(&preimage, vec![grant("a", &["read"], Some(3600))]);
        let request = ctx("a", &[], NOW);
        if in_preimage {
            let mut p = preimage.0;
            p[pick.index(32)] ^= flip;
            prop_assert_eq!(verify_macaroon(&mac, Some(&Preimage(p)), &ring(), &NoRevocations, &request).unwrap_err(), TokenError::WrongPreimage);
        } else {
            let mut bytes = mac.encode_v2();
            let start = 1 + 2 + 4; // version, location tag+len, "lsat"
            let pos = start + pick.index(bytes.len() - start);
            bytes[pos] ^= flip;
            if let Ok(changed) = Macaroon::decode_v2(&bytes) {
                prop_assert!(verify_macaroon(&changed, Some(&preimage), &ring(), &NoRevocations, &request).is_err());
            }
        }
    }
}

proptest! {
    /// The identifier codec round-trips, and every other length is refused.
    #[test]
    fn identifier_round_trip(hash in any::<[u8; 32]>(), token in any::<[u8; 32]>(), extra in prop::collection::vec(any::<u8>(), 1..4)) {
        use l402_core::identifier::{Identifier, IdentifierError};
        let id = Identifier { payment_hash: l402_core::PaymentHash(hash), token_id: TokenId(token) };
        let bytes = id.encode();
        prop_assert_eq!(Identifier::decode(&bytes).unwrap(), id);
        let mut longer = bytes.to_vec();
        longer.extend_from_slice(&extra);
        prop_assert_eq!(Identifier::decode(&longer), Err(IdentifierError::WrongLength(longer.len())));
        prop_assert_eq!(Identifier::decode(&bytes[..65]), Err(IdentifierError::WrongLength(65)));
    }
}
