//! The client's decision machine against real signed invoices and minted challenges.

use std::time::Duration;

use bitcoin::hashes::{Hash, sha256};
use bitcoin::secp256k1::{Secp256k1, SecretKey};
use l402_core::caveat::ServiceTier;
use l402_core::challenge::{ChallengeError, challenge_header_values};
use l402_core::client::{Decision, PayPolicy, RequestFlow, ResponseView, StopReason};
use l402_core::env::{FixedClock, Rng};
use l402_core::invoice::{InvoiceCheckError, Network};
use l402_core::keys::{KeyRing, MasterKey};
use l402_core::mint::{MintRequest, Minter, ServiceGrant};
use l402_core::verify::{NoRevocations, RequestContext, verify_credential};
use l402_core::{Msat, PaymentHash, Preimage};
use lightning_invoice::{Currency, InvoiceBuilder, PaymentSecret};

const NOW: u64 = 1_800_000_000;

struct SeqRng(u8);
impl Rng for SeqRng {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            *b = self.0;
            self.0 = self.0.wrapping_add(11);
        }
    }
}

fn invoice(hash: &PaymentHash, msat: u64, currency: Currency) -> String {
    let key = SecretKey::from_slice(&[0x21; 32]).unwrap();
    InvoiceBuilder::new(currency)
        .description("L402".into())
        .payment_hash(sha256::Hash::from_byte_array(hash.0))
        .payment_secret(PaymentSecret([7; 32]))
        .duration_since_epoch(Duration::from_secs(NOW - 10))
        .min_final_cltv_expiry_delta(144)
        .amount_milli_satoshis(msat)
        .expiry_time(Duration::from_secs(600))
        .build_signed(|h| Secp256k1::new().sign_ecdsa_recoverable(h, &key))
        .unwrap()
        .to_string()
}

fn ring() -> KeyRing {
    KeyRing::new(1, &MasterKey::from_bytes([3; 32]))
}

/// A challenge as a server would send it: minted macaroon for `hash`, and `invoice`.
fn challenge(hash: PaymentHash, invoice: &str) -> [String; 2] {
    let mac = Minter::new(ring())
        .mint(
            &MintRequest {
                payment_hash: hash,
                grants: vec![ServiceGrant {
                    service: ServiceTier {
                        name: "svc".into(),
                        tier: 0,
                    },
                    capabilities: vec![],
                    lifetime_secs: None,
                }],
                extra_caveats: vec![],
            },
            &FixedClock(NOW),
            &mut SeqRng(0),
        )
        .unwrap();
    challenge_header_values(&mac.encode_v2(), invoice)
}

fn policy(max_sat: u64) -> PayPolicy {
    PayPolicy {
        network: Network::Regtest,
        max_amount: Msat::from_sat(max_sat),
        now_unix: NOW,
    }
}

fn view<'a>(status: u16, values: &'a [&'a str]) -> ResponseView<'a> {
    ResponseView {
        status,
        www_authenticate: values,
        grpc_status: None,
        grpc_message: None,
    }
}

#[test]
fn pays_then_retries_with_a_credential_the_server_accepts() {
    let preimage = Preimage([9; 32]);
    let hash = preimage.payment_hash();
    let values = challenge(hash, &invoice(&hash, 10_000, Currency::Regtest));
    let refs: Vec<&str> = values.iter().map(String::as_str).collect();

    let mut flow = RequestFlow::new(policy(100), false);
    let Decision::Pay { plan, drop_cached } = flow.on_response(&view(402, &refs)) else {
        panic!("expected Pay")
    };
    assert!(!drop_cached);
    assert_eq!(plan.amount, Msat(10_000));
    assert_eq!(plan.payment_hash, hash);

    let token = flow.on_paid(preimage.clone()).unwrap();
    let auth = token.authorization_values();
    assert!(auth[0].starts_with("LSAT ") && auth[1].starts_with("L402 "));
    let headers = l402_core::credential::CredentialHeaders {
        authorization: auth.iter().map(String::as_str).collect(),
        grpc_metadata_macaroon: None,
        macaroon: None,
    };
    let cred = l402_core::credential::parse_credential(&headers).unwrap();
    let ctx = RequestContext {
        service: "svc",
        required_capabilities: &[],
        price: l402_core::Msat(0),
        base_price: l402_core::Msat(0),
        now_unix: NOW,
        custom: &[],
    };
    assert!(verify_credential(&cred, &ring(), &NoRevocations, &ctx).is_ok());

    // The gRPC form verifies as well.
    let hex = token.grpc_metadata_value().unwrap();
    let cred = l402_core::credential::parse_credential(&l402_core::credential::CredentialHeaders {
        authorization: vec![],
        grpc_metadata_macaroon: None,
        macaroon: Some(&hex),
    })
    .unwrap();
    assert!(verify_credential(&cred, &ring(), &NoRevocations, &ctx).is_ok());

    // A second 402 after paying is a stop, never a second payment.
    assert!(matches!(
        flow.on_response(&view(402, &refs)),
        Decision::Stop(StopReason::StillRequiredAfterPayment)
    ));
    assert!(matches!(flow.on_response(&view(200, &[])), Decision::Done));
}

#[test]
fn rejected_cached_token_leads_to_one_fresh_payment() {
    let hash = Preimage([1; 32]).payment_hash();
    let values = challenge(hash, &invoice(&hash, 1_000, Currency::Regtest));
    let refs: Vec<&str> = values.iter().map(String::as_str).collect();
    let mut flow = RequestFlow::new(policy(100), true);
    assert!(matches!(
        flow.on_response(&view(402, &refs)),
        Decision::Pay {
            drop_cached: true,
            ..
        }
    ));
    assert_eq!(
        flow.on_paid(Preimage([2; 32])).unwrap_err(),
        StopReason::PreimageMismatch
    );
}

type ReasonCheck = fn(&StopReason) -> bool;

#[test]
fn refuses_bad_invoices_before_paying() {
    let hash = Preimage([1; 32]).payment_hash();
    let other = Preimage([2; 32]).payment_hash();
    let cases: Vec<(String, ReasonCheck)> = vec![
        (invoice(&other, 1_000, Currency::Regtest), |r| {
            matches!(
                r,
                StopReason::InvoiceRefused(InvoiceCheckError::HashMismatch { .. })
            )
        }),
        (invoice(&hash, 1_000, Currency::Bitcoin), |r| {
            matches!(
                r,
                StopReason::InvoiceRefused(InvoiceCheckError::WrongNetwork { .. })
            )
        }),
        (invoice(&hash, 200_000, Currency::Regtest), |r| {
            matches!(
                r,
                StopReason::InvoiceRefused(InvoiceCheckError::OverMax { .. })
            )
        }),
        ("lnbcrt1garbage".to_string(), |r| {
            matches!(r, StopReason::BadInvoice(_))
        }),
    ];
    for (inv, ok) in cases {
        let values = challenge(hash, &inv);
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        match RequestFlow::new(policy(100), false).on_response(&view(402, &refs)) {
            Decision::Stop(reason) => assert!(ok(&reason), "unexpected reason {reason:?}"),
            other => panic!("expected a stop, got {other:?}"),
        }
    }
    let expired = PayPolicy {
        now_unix: NOW + 601,
        ..policy(100)
    };
    let values = challenge(hash, &invoice(&hash, 1_000, Currency::Regtest));
    let refs: Vec<&str> = values.iter().map(String::as_str).collect();
    assert!(matches!(
        RequestFlow::new(expired, false).on_response(&view(402, &refs)),
        Decision::Stop(StopReason::InvoiceRefused(
            InvoiceCheckError::Expired { .. }
        ))
    ));
    assert!(matches!(
        RequestFlow::new(policy(100), false).on_response(&view(402, &["Bearer realm=\"x\""])),
        Decision::Stop(StopReason::NoChallenge(ChallengeError::NoL402Challenge))
    ));
}

#[test]
fn grpc_payment_required_is_recognised() {
    let grpc = |code, msg| ResponseView {
        status: 200,
        www_authenticate: &[],
        grpc_status: Some(code),
        grpc_message: Some(msg),
    };
    assert!(grpc(13, "payment required").is_payment_required());
    assert!(grpc(2, "Payment Required").is_payment_required());
    assert!(!grpc(13, "internal error").is_payment_required());
    assert!(!grpc(0, "payment required").is_payment_required());
}
