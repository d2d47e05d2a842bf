//! The checks a `Payment` session challenge passes before its deposit is paid
//! (`l402_client::mpp::session_plan`): the same as a charge's (payment hash, amount, network,
//! expiry, `max_cost`), plus the session's own fields. Challenges are bound by a real
//! `ChargeVerifier` over invoices of a real (embedded dev) wallet.

use l402_client::ClientError;
use l402_client::mpp::session_plan;
use l402_core::client::{PayPolicy, StopReason};
use l402_core::invoice::{InvoiceCheckError, Network};
use l402_core::{Msat, PaymentHash};
use l402_lightning::dev::DevWallet;
use l402_lightning::{CreateInvoice, CreatedInvoice, LightningBackend};
use l402_mpp::session::SessionOffer;
use l402_mpp::{Challenge, ChargeVerifier};

const NOW: u64 = 1_900_000_000;

async fn invoice(wallet: &DevWallet, sat: u64) -> CreatedInvoice {
    wallet
        .create_invoice(CreateInvoice {
            amount: Msat::from_sat(sat),
            memo: "deposit".into(),
            expiry_secs: 600,
        })
        .await
        .unwrap()
}

/// A session challenge offering `deposit_sat` with `invoice` (whose hash it names as `hash`).
fn challenge(
    invoice: &CreatedInvoice,
    hash: PaymentHash,
    deposit_sat: u64,
    expires: u64,
) -> Challenge {
    ChargeVerifier::new("seller.test", b"32 bytes of server secret.......".to_vec())
        .session_challenge(&SessionOffer {
            deposit_invoice: Some(&invoice.bolt11),
            payment_hash: hash,
            unit_price_sat: 1,
            deposit_sat: Some(deposit_sat),
            unit_type: Some("token"),
            idle_timeout_secs: Some(300),
            expires_unix: expires,
            scope: Some("llm"),
            description: None,
        })
        .unwrap()
}

fn policy(network: Network, max_sat: u64, now_unix: u64) -> PayPolicy {
    PayPolicy {
        network,
        max_amount: Msat::from_sat(max_sat),
        now_unix,
    }
}

#[tokio::test]
async fn a_session_deposit_is_checked_like_a_charge_before_it_is_paid() {
    let dir = tempfile::tempdir().unwrap();
    let wallet = DevWallet::open(dir.path().join("w"), Network::Regtest).unwrap();
    let deposit = invoice(&wallet, 200).await;
    let now = deposit.expires_at_unix - 300;
    let good = challenge(&deposit, deposit.payment_hash, 200, now + 60);

    let (plan, request) = session_plan(&good, &policy(Network::Regtest, 1_000, now)).unwrap();
    assert_eq!(plan.amount, Msat::from_sat(200));
    assert_eq!(plan.payment_hash, deposit.payment_hash);
    assert!(
        plan.challenge.macaroon.is_empty(),
        "nothing is kept as a token"
    );
    assert_eq!(request.unit_price_sat(), Some(1));

    // The request names another hash than the invoice's.
    let other = invoice(&wallet, 200).await;
    let wrong_hash = challenge(&deposit, other.payment_hash, 200, now + 60);
    let err = session_plan(&wrong_hash, &policy(Network::Regtest, 1_000, now)).unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Refused(StopReason::InvoiceRefused(
                InvoiceCheckError::HashMismatch { .. }
            ))
        ),
        "{err}"
    );

    // The request's deposit is not the invoice's amount.
    let wrong_amount = challenge(&deposit, deposit.payment_hash, 100, now + 60);
    let err = session_plan(&wrong_amount, &policy(Network::Regtest, 1_000, now)).unwrap_err();
    assert!(
        matches!(err, ClientError::BadPaymentChallenge(ref why) if why.contains("200")),
        "{err}"
    );

    // Over max_cost, another network, an expired challenge, an expired invoice.
    let err = session_plan(&good, &policy(Network::Regtest, 199, now)).unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Refused(StopReason::InvoiceRefused(
                InvoiceCheckError::OverMax { .. }
            ))
        ),
        "{err}"
    );
    let err = session_plan(&good, &policy(Network::Bitcoin, 1_000, now)).unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Refused(StopReason::InvoiceRefused(
                InvoiceCheckError::WrongNetwork { .. }
            ))
        ),
        "{err}"
    );
    let err = session_plan(&good, &policy(Network::Regtest, 1_000, now + 61)).unwrap_err();
    assert!(
        matches!(err, ClientError::BadPaymentChallenge(ref why) if why.contains("expired")),
        "{err}"
    );
    let late = challenge(
        &deposit,
        deposit.payment_hash,
        200,
        deposit.expires_at_unix + 600,
    );
    let err = session_plan(
        &late,
        &policy(Network::Regtest, 1_000, deposit.expires_at_unix + 1),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Refused(StopReason::InvoiceRefused(
                InvoiceCheckError::Expired { .. }
            ))
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_session_challenge_without_its_own_fields_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let wallet = DevWallet::open(dir.path().join("w"), Network::Regtest).unwrap();
    let deposit = invoice(&wallet, 200).await;
    let verifier = ChargeVerifier::new("seller.test", b"32 bytes of server secret.......".to_vec());
    fn offer(
        invoice: Option<&str>,
        hash: PaymentHash,
        deposit_sat: Option<u64>,
    ) -> SessionOffer<'_> {
        SessionOffer {
            deposit_invoice: invoice,
            payment_hash: hash,
            unit_price_sat: 1,
            deposit_sat,
            unit_type: None,
            idle_timeout_secs: None,
            expires_unix: NOW + 60,
            scope: None,
            description: None,
        }
    }
    let p = policy(Network::Regtest, 1_000, NOW);
    let no_invoice = verifier
        .session_challenge(&offer(None, deposit.payment_hash, Some(200)))
        .unwrap();
    let err = session_plan(&no_invoice, &p).unwrap_err();
    assert!(
        matches!(err, ClientError::BadPaymentChallenge(ref why) if why.contains("depositInvoice")),
        "{err}"
    );
    let no_deposit = verifier
        .session_challenge(&offer(Some(&deposit.bolt11), deposit.payment_hash, None))
        .unwrap();
    let err = session_plan(&no_deposit, &p).unwrap_err();
    assert!(
        matches!(err, ClientError::BadPaymentChallenge(ref why) if why.contains("depositAmount")),
        "{err}"
    );
    let garbage = Challenge {
        request: "bm90IGpzb24".into(),
        ..no_deposit
    };
    let err = session_plan(&garbage, &p).unwrap_err();
    assert!(matches!(err, ClientError::BadPaymentChallenge(_)), "{err}");
}
