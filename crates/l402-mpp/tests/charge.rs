//! The Lightning charge verifier refuses forged, widened, mis-bound, expired and unpaid
//! credentials, each with its problem type.

use l402_core::{PaymentHash, Preimage};
use l402_mpp::{
    ChargeError, ChargeOffer, ChargeVerifier, Credential, Expectation, ProblemType, b64, jcs,
};
use proptest::prelude::*;

const REALM: &str = "localhost:8081";
const SECRET: &[u8] = b"mpp-test-vector-secret";
const EXPIRES: u64 = 1_773_576_300; // 2026-03-15T12:05:00Z

fn offer<'a>(hash: PaymentHash, amount_sat: u64, scope: Option<&'a str>) -> ChargeOffer<'a> {
    ChargeOffer {
        invoice: "lnbcrt1u1pexample",
        payment_hash: hash,
        amount_sat,
        network: "regtest",
        expires_unix: EXPIRES,
        scope,
        description: None,
    }
}

fn paid(v: &ChargeVerifier, preimage: &Preimage, amount: u64, scope: Option<&str>) -> Credential {
    let challenge = v
        .challenge(&offer(preimage.payment_hash(), amount, scope))
        .unwrap();
    Credential {
        challenge,
        source: None,
        payload: serde_json::json!({ "preimage": preimage.to_hex() })
            .as_object()
            .unwrap()
            .clone(),
    }
}

fn expect(price_sat: u64, scope: Option<&str>) -> Expectation<'_> {
    Expectation {
        price_sat,
        scope,
        now_unix: EXPIRES - 60,
    }
}

fn kind(r: Result<l402_mpp::VerifiedCharge, ChargeError>) -> ProblemType {
    r.expect_err("accepted").problem_type()
}

#[test]
fn matches_the_reference_worked_example() {
    // mpp-payment-scheme.md §2.3: computed independently, same secret, preimage 32 x 0x01.
    let v = ChargeVerifier::new(REALM, SECRET);
    let preimage = Preimage([1; 32]);
    let c = v
        .challenge(&offer(preimage.payment_hash(), 100, None))
        .unwrap();
    assert_eq!(
        preimage.payment_hash().to_hex(),
        "72cd6e8422c407fb6d098690f1130b7ded7ec2f7f5e1d30bd9d521f015363793"
    );
    let request = String::from_utf8(b64::decode(&c.request).unwrap()).unwrap();
    assert_eq!(
        request,
        format!(
            "{{\"amount\":\"100\",\"currency\":\"sat\",\"methodDetails\":{{\"invoice\":\"lnbcrt1u1pexample\",\"network\":\"regtest\",\"paymentHash\":\"{}\"}}}}",
            preimage.payment_hash().to_hex()
        )
    );
    assert_eq!(jcs::canonicalize(&request).unwrap(), request);
    assert_eq!(c.expires.as_deref(), Some("2026-03-15T12:05:00Z"));
    assert_eq!(c.id, "wPnTvO3Y2NU-kVaF00evbrbh-YkOZ0i2lpJ7hVqmURs");
}

#[test]
fn a_paid_credential_verifies_through_the_header() {
    let v = ChargeVerifier::new(REALM, SECRET);
    let preimage = Preimage([7; 32]);
    let cred = paid(&v, &preimage, 100, Some("svc"));
    let ok = v
        .verify_header(&cred.to_authorization(), &expect(100, Some("svc")))
        .unwrap();
    assert_eq!(ok.payment_hash, preimage.payment_hash());
    assert_eq!(ok.challenge_id, cred.challenge.id);
    assert_eq!(ok.amount_sat, 100);
    assert_eq!(ok.expires_unix, EXPIRES);
}

#[test]
fn each_refusal_has_its_problem_type() {
    let v = ChargeVerifier::new(REALM, SECRET);
    let preimage = Preimage([0xab; 32]);
    let good = paid(&v, &preimage, 100, Some("svc"));
    let e = expect(100, Some("svc"));

    // Widened: a 100-sat challenge on a 101-sat request.
    assert_eq!(
        kind(v.verify(&good, &expect(101, Some("svc")))),
        ProblemType::PaymentInsufficient
    );
    // Mis-bound: another service, another realm, another server's secret.
    assert_eq!(
        kind(v.verify(&good, &expect(100, Some("other")))),
        ProblemType::InvalidChallenge
    );
    assert_eq!(
        kind(v.verify(&good, &expect(100, None))),
        ProblemType::InvalidChallenge
    );
    let other_realm = ChargeVerifier::new("evil.example", SECRET);
    assert_eq!(
        kind(other_realm.verify(&good, &e)),
        ProblemType::InvalidChallenge
    );
    let other_secret = ChargeVerifier::new(REALM, b"another".to_vec());
    assert_eq!(
        kind(other_secret.verify(&good, &e)),
        ProblemType::InvalidChallenge
    );
    // Expired, at and after `expires`.
    let late = Expectation {
        now_unix: EXPIRES,
        ..e
    };
    assert_eq!(kind(v.verify(&good, &late)), ProblemType::PaymentExpired);
    // Unpaid: a preimage of another hash; a malformed one.
    let mut unpaid = good.clone();
    unpaid
        .payload
        .insert("preimage".into(), Preimage([8; 32]).to_hex().into());
    assert_eq!(
        kind(v.verify(&unpaid, &e)),
        ProblemType::LightningInvalidPreimage
    );
    for bad in ["", "00", &"A".repeat(64), &"g".repeat(64)] {
        let mut m = good.clone();
        m.payload.insert("preimage".into(), bad.into());
        assert_eq!(
            kind(v.verify(&m, &e)),
            ProblemType::LightningMalformedCredential,
            "{bad:?}"
        );
    }
    let mut upper = good.clone();
    upper
        .payload
        .insert("preimage".into(), preimage.to_hex().to_uppercase().into());
    assert_eq!(
        kind(v.verify(&upper, &e)),
        ProblemType::LightningMalformedCredential
    );
    // Another method or intent.
    let mut session = good.clone();
    session.challenge.intent = "session".into();
    assert_eq!(kind(v.verify(&session, &e)), ProblemType::MethodUnsupported);
    assert_eq!(ProblemType::MethodUnsupported.status(), 400);
    // Not a credential at all.
    assert_eq!(
        kind(v.verify_header("Payment AB", &e)),
        ProblemType::MalformedCredential
    );
    // The store's verdict on a second use.
    assert_eq!(
        ChargeError::Replayed.problem_type(),
        ProblemType::InvalidChallenge
    );
    // And the problem body names the challenge.
    let body: serde_json::Value =
        serde_json::from_slice(&ChargeError::Expired.to_problem(Some("abc")).to_json()).unwrap();
    assert_eq!(
        body["type"],
        "https://paymentauth.org/problems/payment-expired"
    );
    assert_eq!(body["status"], 402);
    assert_eq!(body["challengeId"], "abc");
}

#[test]
fn a_rotated_secret_still_verifies_old_challenges() {
    let old = ChargeVerifier::new(REALM, b"old".to_vec());
    let cred = paid(&old, &Preimage([3; 32]), 10, None);
    let new = ChargeVerifier::new(REALM, b"new".to_vec());
    assert!(new.verify(&cred, &expect(10, None)).is_err());
    let rotated = new.accepting(b"old".to_vec());
    assert!(rotated.verify(&cred, &expect(10, None)).is_ok());
}

proptest! {
    /// Changing any bound parameter of a paid credential (here: the request's amount, i.e.
    /// a client raising its own credit, or the expiry) without the secret is refused.
    #[test]
    fn forged_parameters_are_refused(seed in any::<[u8; 32]>(), amount in 1u64..1_000_000, raise in 1u64..1_000, later in 1u64..100_000) {
        let v = ChargeVerifier::new(REALM, SECRET);
        let preimage = Preimage(seed);
        let good = paid(&v, &preimage, amount, Some("svc"));
        prop_assert!(v.verify(&good, &expect(amount, Some("svc"))).is_ok());

        let mut widened = good.clone();
        let other = v.challenge(&offer(preimage.payment_hash(), amount + raise, Some("svc"))).unwrap();
        widened.challenge.request = other.request;
        prop_assert_eq!(kind(v.verify(&widened, &expect(amount + raise, Some("svc")))), ProblemType::InvalidChallenge);

        let mut extended = good.clone();
        extended.challenge.expires = Some(l402_mpp::time::format(EXPIRES + later));
        prop_assert_eq!(kind(v.verify(&extended, &expect(amount, Some("svc")))), ProblemType::InvalidChallenge);
    }

    /// Any single-character change to the id is refused.
    #[test]
    fn tampered_ids_are_refused(seed in any::<[u8; 32]>(), at in 0usize..43, with in "[A-Za-z0-9_-]") {
        let v = ChargeVerifier::new(REALM, SECRET);
        let good = paid(&v, &Preimage(seed), 100, None);
        let mut id: Vec<char> = good.challenge.id.chars().collect();
        let c = with.chars().next().unwrap();
        prop_assume!(id[at] != c);
        id[at] = c;
        let mut forged = good.clone();
        forged.challenge.id = id.into_iter().collect();
        prop_assert_eq!(kind(v.verify(&forged, &expect(100, None))), ProblemType::InvalidChallenge);
    }

    /// Only the preimage of the request's hash pays.
    #[test]
    fn only_the_preimage_pays(a in any::<[u8; 32]>(), b in any::<[u8; 32]>()) {
        prop_assume!(a != b);
        let v = ChargeVerifier::new(REALM, SECRET);
        let mut cred = paid(&v, &Preimage(a), 5, None);
        cred.payload.insert("preimage".into(), Preimage(b).to_hex().into());
        prop_assert_eq!(kind(v.verify(&cred, &expect(5, None))), ProblemType::LightningInvalidPreimage);
    }

    /// A credential survives its own encoding.
    #[test]
    fn credentials_round_trip(seed in any::<[u8; 32]>(), amount in 1u64..u64::MAX, source in proptest::option::of("[ -~]{0,40}")) {
        let v = ChargeVerifier::new(REALM, SECRET);
        let mut cred = paid(&v, &Preimage(seed), amount, Some("s"));
        cred.source = source;
        let back = Credential::from_authorization(&cred.to_authorization()).unwrap();
        prop_assert_eq!(&back, &cred);
        prop_assert!(v.verify(&back, &expect(amount, Some("s"))).is_ok());
    }
}
