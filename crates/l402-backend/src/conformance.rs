//! The conformance suite every [`LightningBackend`] must pass (feature `conformance`).
//!
//! Each check takes a *seller* backend (issues invoices) and, where a payment is involved, a
//! *payer* backend that can pay the seller's invoices (the same node, two nodes with a channel,
//! or two dev wallets sharing a ledger). Checks create their own invoices, so they can run in any
//! order and concurrently against one node. A check returns [`Outcome::Skipped`] when the backend
//! legitimately lacks the feature (a node that cannot stream settlements), and
//! [`ConformanceFailure`] naming the check otherwise.
//!
//! Amountless invoices and [`LightningBackend::pay_amount`] are optional: the caller declares
//! what the backends under test support in [`Supports`], and the suite holds them to it. A
//! declared feature must work; an undeclared one must be refused (with
//! [`BackendError::Unsupported`], or [`BackendError::InvalidInvoice`] for a zero amount at
//! `create_invoice`), and its checks then end [`Outcome::Skipped`] with the reason, so a report
//! shows what was not covered.
//!
//! ```no_run
//! # async fn demo(
//! #     seller: &dyn l402_backend::LightningBackend,
//! #     payer: &dyn l402_backend::LightningBackend,
//! # ) -> Result<(), Box<dyn std::error::Error>> {
//! use l402_backend::{Network, conformance};
//!
//! // `seller` issues invoices, `payer` can pay them (two dev wallets sharing a ledger, two
//! // nodes with a channel, ...).
//! let supports = conformance::Supports::ALL;
//! for (check, outcome) in conformance::run_all(seller, payer, Network::Regtest, supports).await? {
//!     println!("{check}: {outcome:?}");
//! }
//! # Ok(())
//! # }
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use l402_core::Network;
use l402_core::invoice::parse_bolt11;
use l402_core::{Msat, PaymentHash, Preimage};
use tokio::sync::broadcast::error::RecvError;

use crate::backend::{
    CreateInvoice, CreatedInvoice, InvoiceState, LightningBackend, PayOptions, PaymentResult,
    PaymentState,
};
use crate::error::BackendError;
use l402_core::env::now_unix;

/// The amount every check's invoice asks for: 21 sat.
pub const AMOUNT: Msat = Msat::from_sat(21);
/// The expiry of every check's invoice except the expiry check's.
pub const EXPIRY_SECS: u64 = 600;
/// The payment options every check pays with.
pub const PAY_OPTIONS: PayOptions = PayOptions {
    max_fee: Msat::from_sat(10),
    timeout: Duration::from_secs(60),
};
/// What the amountless checks send with [`LightningBackend::pay_amount`]: 13.001 sat, unlike
/// [`AMOUNT`], and not a whole number of satoshis.
pub const AMOUNTLESS_PAY: Msat = Msat(13_001);
/// How long the settlement check waits for the settlement.
pub const STREAM_WAIT: Duration = Duration::from_secs(10);

/// A check that did not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("conformance check `{check}` failed: {detail}")]
pub struct ConformanceFailure {
    /// The check's name (its function's name).
    pub check: &'static str,
    /// What was expected and what happened.
    pub detail: String,
}

/// How a check ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every expectation held.
    Passed,
    /// The backend lacks the optional feature this check covers (the reason says which).
    Skipped(&'static str),
}

/// The optional features the backends under test claim; the checks of a claimed feature must
/// pass, and an unclaimed one must be refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Supports {
    /// The seller issues amountless invoices (`create_invoice` with amount 0).
    pub amountless_invoices: bool,
    /// The payer pays with [`LightningBackend::pay_amount`].
    pub pay_amount: bool,
}

impl Supports {
    /// Every optional feature.
    pub const ALL: Supports = Supports {
        amountless_invoices: true,
        pay_amount: true,
    };
    /// No optional feature.
    pub const NONE: Supports = Supports {
        amountless_invoices: false,
        pay_amount: false,
    };
}

type CheckResult = Result<Outcome, ConformanceFailure>;

fn fail(check: &'static str, detail: impl Into<String>) -> ConformanceFailure {
    ConformanceFailure {
        check,
        detail: detail.into(),
    }
}

/// A payment hash no backend has seen: sha256 of the time and a counter.
fn fresh_hash() -> PaymentHash {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut seed = [0u8; 32];
    seed[..16].copy_from_slice(&nanos.to_le_bytes());
    seed[16..24].copy_from_slice(&COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    seed[24..].copy_from_slice(b"l402conf");
    Preimage(seed).payment_hash()
}

async fn create(
    check: &'static str,
    seller: &dyn LightningBackend,
    memo: &str,
    expiry_secs: u64,
) -> Result<CreatedInvoice, ConformanceFailure> {
    seller
        .create_invoice(CreateInvoice {
            amount: AMOUNT,
            memo: memo.to_owned(),
            expiry_secs,
        })
        .await
        .map_err(|e| fail(check, format!("create_invoice failed: {e}")))
}

async fn pay(
    check: &'static str,
    payer: &dyn LightningBackend,
    created: &CreatedInvoice,
) -> Result<PaymentResult, ConformanceFailure> {
    let paid = payer
        .pay_invoice(&created.bolt11, PAY_OPTIONS)
        .await
        .map_err(|e| fail(check, format!("pay_invoice failed: {e}")))?;
    if !paid.preimage.pays(&created.payment_hash) {
        return Err(fail(
            check,
            "the returned preimage does not hash to the invoice's payment hash",
        ));
    }
    if paid.payment_hash != created.payment_hash {
        return Err(fail(
            check,
            format!(
                "payment hash {} returned for invoice {}",
                paid.payment_hash, created.payment_hash
            ),
        ));
    }
    if paid.amount != AMOUNT {
        return Err(fail(
            check,
            format!("paid {} for an invoice of {AMOUNT}", paid.amount),
        ));
    }
    if paid.fee > PAY_OPTIONS.max_fee {
        return Err(fail(
            check,
            format!("fee {} exceeds the limit {}", paid.fee, PAY_OPTIONS.max_fee),
        ));
    }
    Ok(paid)
}

async fn state(
    check: &'static str,
    seller: &dyn LightningBackend,
    hash: &PaymentHash,
) -> Result<InvoiceState, ConformanceFailure> {
    seller
        .invoice_state(hash)
        .await
        .map_err(|e| fail(check, format!("invoice_state failed: {e}")))
}

/// `node_info` reports `expected` and a well-formed compressed public key.
pub async fn node_info_reports_network(
    backend: &dyn LightningBackend,
    expected: Network,
) -> CheckResult {
    const CHECK: &str = "node_info_reports_network";
    let info = backend
        .node_info()
        .await
        .map_err(|e| fail(CHECK, format!("node_info failed: {e}")))?;
    if info.network != expected {
        return Err(fail(
            CHECK,
            format!("network {} instead of {expected}", info.network),
        ));
    }
    let pk = info.pubkey_hex.as_bytes();
    let well_formed = pk.len() == 66
        && (pk.starts_with(b"02") || pk.starts_with(b"03"))
        && pk.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
    if !well_formed {
        return Err(fail(
            CHECK,
            format!(
                "{:?} is not a compressed public key in lower-case hex",
                info.pubkey_hex
            ),
        ));
    }
    Ok(Outcome::Passed)
}

/// A new invoice is a valid BOLT11 string for the seller's network, payee and amount, with the
/// returned hash, memo and expiry, and reads as `Open`.
pub async fn create_invoice_is_open(seller: &dyn LightningBackend) -> CheckResult {
    const CHECK: &str = "create_invoice_is_open";
    let info = seller
        .node_info()
        .await
        .map_err(|e| fail(CHECK, format!("node_info failed: {e}")))?;
    let before = now_unix();
    let memo = "l402 conformance: create";
    let created = create(CHECK, seller, memo, EXPIRY_SECS).await?;
    let after = now_unix();
    let parsed = parse_bolt11(&created.bolt11)
        .map_err(|e| fail(CHECK, format!("the invoice does not parse: {e}")))?;
    let expectations = [
        (
            parsed.payment_hash == created.payment_hash,
            format!(
                "bolt11 hash {} but returned hash {}",
                parsed.payment_hash, created.payment_hash
            ),
        ),
        (
            parsed.amount == Some(AMOUNT),
            format!("bolt11 amount {:?}, expected {AMOUNT}", parsed.amount),
        ),
        (
            parsed.network == info.network,
            format!(
                "bolt11 network {} but node network {}",
                parsed.network, info.network
            ),
        ),
        (
            parsed.payee_pubkey_hex == info.pubkey_hex,
            format!(
                "bolt11 payee {} but node key {}",
                parsed.payee_pubkey_hex, info.pubkey_hex
            ),
        ),
        (
            parsed.description.as_deref() == Some(memo),
            format!(
                "bolt11 description {:?}, expected {memo:?}",
                parsed.description
            ),
        ),
        (
            parsed.expiry_secs == EXPIRY_SECS,
            format!(
                "bolt11 expiry {} s, expected {EXPIRY_SECS}",
                parsed.expiry_secs
            ),
        ),
        (
            parsed.expires_at_unix().abs_diff(created.expires_at_unix) <= 1,
            format!(
                "bolt11 expires at {} but the backend said {}",
                parsed.expires_at_unix(),
                created.expires_at_unix
            ),
        ),
        (
            (before.saturating_sub(2)..=after + 2).contains(&parsed.created_at_unix),
            format!(
                "bolt11 created at {}, the call ran from {before} to {after}",
                parsed.created_at_unix
            ),
        ),
    ];
    if let Some((_, detail)) = expectations.into_iter().find(|(ok, _)| !ok) {
        return Err(fail(CHECK, detail));
    }
    match state(CHECK, seller, &created.payment_hash).await? {
        InvoiceState::Open => Ok(Outcome::Passed),
        other => Err(fail(CHECK, format!("new invoice is {other:?}, not Open"))),
    }
}

/// Paying returns the preimage of the invoice's hash, the amount and a fee within the limit,
/// and the seller then reports the invoice `Settled` with the amount.
pub async fn pay_settles_invoice(
    seller: &dyn LightningBackend,
    payer: &dyn LightningBackend,
) -> CheckResult {
    const CHECK: &str = "pay_settles_invoice";
    let created = create(CHECK, seller, "l402 conformance: pay", EXPIRY_SECS).await?;
    let before = now_unix();
    pay(CHECK, payer, &created).await?;
    let after = now_unix();
    match state(CHECK, seller, &created.payment_hash).await? {
        InvoiceState::Settled {
            amount_received,
            settled_at_unix,
        } => {
            if amount_received < AMOUNT {
                return Err(fail(
                    CHECK,
                    format!("settled with {amount_received}, less than {AMOUNT}"),
                ));
            }
            if !(before.saturating_sub(2)..=after + 2).contains(&settled_at_unix) {
                return Err(fail(
                    CHECK,
                    format!(
                        "settled at {settled_at_unix}, the payment ran from {before} to {after}"
                    ),
                ));
            }
            Ok(Outcome::Passed)
        }
        other => Err(fail(
            CHECK,
            format!("paid invoice is {other:?}, not Settled"),
        )),
    }
}

/// The payer's [`balance`](LightningBackend::balance) falls by at least the amount paid (or is
/// unlimited before and after, as the dev wallet's is).
pub async fn balance_falls_when_paying(
    seller: &dyn LightningBackend,
    payer: &dyn LightningBackend,
) -> CheckResult {
    const CHECK: &str = "balance_falls_when_paying";
    let read = || async {
        payer
            .balance()
            .await
            .map(|b| b.spendable)
            .map_err(|e| fail(CHECK, format!("balance failed: {e}")))
    };
    let before = read().await?;
    let created = create(CHECK, seller, "l402 conformance: balance", EXPIRY_SECS).await?;
    pay(CHECK, payer, &created).await?;
    match (before, read().await?) {
        (None, None) => Ok(Outcome::Passed),
        (Some(before), Some(after)) if after.0.saturating_add(AMOUNT.0) <= before.0 => {
            Ok(Outcome::Passed)
        }
        (before, after) => Err(fail(
            CHECK,
            format!("spendable balance {before:?} before paying {AMOUNT}, {after:?} after"),
        )),
    }
}

/// Paying a paid invoice again fails with [`BackendError::AlreadyPaid`].
pub async fn pay_twice_is_already_paid(
    seller: &dyn LightningBackend,
    payer: &dyn LightningBackend,
) -> CheckResult {
    const CHECK: &str = "pay_twice_is_already_paid";
    let created = create(CHECK, seller, "l402 conformance: twice", EXPIRY_SECS).await?;
    pay(CHECK, payer, &created).await?;
    match payer.pay_invoice(&created.bolt11, PAY_OPTIONS).await {
        Err(BackendError::AlreadyPaid) => Ok(Outcome::Passed),
        Err(e) => Err(fail(
            CHECK,
            format!("second payment failed with {e:?}, not AlreadyPaid"),
        )),
        Ok(_) => Err(fail(CHECK, "the second payment succeeded")),
    }
}

/// An invoice with a 1-second expiry reads `Expired` once that has passed, and paying it fails
/// with [`BackendError::InvoiceExpired`]. Takes about two seconds.
pub async fn expired_invoice_is_refused(
    seller: &dyn LightningBackend,
    payer: &dyn LightningBackend,
) -> CheckResult {
    const CHECK: &str = "expired_invoice_is_refused";
    let created = create(CHECK, seller, "l402 conformance: expiry", 1).await?;
    let now = now_unix();
    if created.expires_at_unix > now + 2 {
        return Err(fail(
            CHECK,
            format!(
                "an invoice with a 1 s expiry expires at {}, now is {now}",
                created.expires_at_unix
            ),
        ));
    }
    // Wait until the clock is a full second past the expiry.
    let target = Duration::from_secs(created.expires_at_unix + 1);
    loop {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        if now > target {
            break;
        }
        tokio::time::sleep((target - now) + Duration::from_millis(20)).await;
    }
    match state(CHECK, seller, &created.payment_hash).await? {
        InvoiceState::Expired => {}
        other => {
            return Err(fail(
                CHECK,
                format!("expired invoice is {other:?}, not Expired"),
            ));
        }
    }
    match payer.pay_invoice(&created.bolt11, PAY_OPTIONS).await {
        Err(BackendError::InvoiceExpired) => Ok(Outcome::Passed),
        Err(e) => Err(fail(
            CHECK,
            format!("paying an expired invoice failed with {e:?}, not InvoiceExpired"),
        )),
        Ok(_) => Err(fail(CHECK, "an expired invoice was paid")),
    }
}

/// When the seller can stream settlements, paying delivers the matching settlement.
pub async fn settlement_stream_delivers(
    seller: &dyn LightningBackend,
    payer: &dyn LightningBackend,
) -> CheckResult {
    const CHECK: &str = "settlement_stream_delivers";
    let Some(mut rx) = seller
        .subscribe_settlements()
        .await
        .map_err(|e| fail(CHECK, format!("subscribe_settlements failed: {e}")))?
    else {
        return Ok(Outcome::Skipped("the seller cannot stream settlements"));
    };
    let created = create(CHECK, seller, "l402 conformance: stream", EXPIRY_SECS).await?;
    pay(CHECK, payer, &created).await?;
    let wait = async {
        loop {
            match rx.recv().await {
                Ok(s) if s.payment_hash == created.payment_hash => return Ok(s),
                // Other checks may be settling invoices on the same node.
                Ok(_) | Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return Err(fail(CHECK, "the stream closed")),
            }
        }
    };
    let settlement = tokio::time::timeout(STREAM_WAIT, wait)
        .await
        .map_err(|_| fail(CHECK, format!("no settlement within {STREAM_WAIT:?}")))??;
    if settlement.amount_received < AMOUNT {
        return Err(fail(
            CHECK,
            format!(
                "settlement of {} for an invoice of {AMOUNT}",
                settlement.amount_received
            ),
        ));
    }
    Ok(Outcome::Passed)
}

/// After a successful payment the payer reports `Succeeded` with the same preimage and fee.
pub async fn payment_state_after_success(
    seller: &dyn LightningBackend,
    payer: &dyn LightningBackend,
) -> CheckResult {
    const CHECK: &str = "payment_state_after_success";
    let created = create(CHECK, seller, "l402 conformance: state", EXPIRY_SECS).await?;
    let paid = pay(CHECK, payer, &created).await?;
    match payer.payment_state(&created.payment_hash).await {
        Ok(PaymentState::Succeeded { preimage, fee }) => {
            if preimage != paid.preimage {
                return Err(fail(CHECK, "payment_state returned another preimage"));
            }
            if fee != paid.fee {
                return Err(fail(
                    CHECK,
                    format!("payment_state fee {fee}, the payment reported {}", paid.fee),
                ));
            }
            Ok(Outcome::Passed)
        }
        Ok(other) => Err(fail(
            CHECK,
            format!("payment state is {other:?}, not Succeeded"),
        )),
        Err(e) => Err(fail(CHECK, format!("payment_state failed: {e}"))),
    }
}

/// A payment hash nobody used reads `Unknown` at the payer and
/// [`BackendError::UnknownInvoice`] at the seller.
pub async fn unknown_hashes_are_reported(
    seller: &dyn LightningBackend,
    payer: &dyn LightningBackend,
) -> CheckResult {
    const CHECK: &str = "unknown_hashes_are_reported";
    let hash = fresh_hash();
    match payer.payment_state(&hash).await {
        Ok(PaymentState::Unknown) => {}
        other => {
            return Err(fail(
                CHECK,
                format!("payment_state of an unused hash is {other:?}, not Unknown"),
            ));
        }
    }
    match seller.invoice_state(&hash).await {
        Err(BackendError::UnknownInvoice(h)) if h == hash => Ok(Outcome::Passed),
        other => Err(fail(
            CHECK,
            format!("invoice_state of an unused hash is {other:?}, not UnknownInvoice"),
        )),
    }
}

/// Paying a string that is not an invoice fails with [`BackendError::InvalidInvoice`].
pub async fn invalid_invoice_is_rejected(payer: &dyn LightningBackend) -> CheckResult {
    const CHECK: &str = "invalid_invoice_is_rejected";
    match payer.pay_invoice("lnbcrt1notaninvoice", PAY_OPTIONS).await {
        Err(BackendError::InvalidInvoice(_)) => Ok(Outcome::Passed),
        other => Err(fail(
            CHECK,
            format!(
                "paying garbage gave {:?}, not InvalidInvoice",
                other.map(|p| p.amount)
            ),
        )),
    }
}

/// The skip reason of the `pay_amount` checks when the payer does not claim it.
const NO_PAY_AMOUNT: &str = "the payer does not support pay_amount";
/// The skip reason of checks that need an amountless invoice the seller cannot issue.
const NO_AMOUNTLESS: &str = "the seller cannot issue amountless invoices";

/// `result` of a `pay_amount` the payer does not claim to support: it must be
/// [`BackendError::Unsupported`], and the check is then skipped.
fn refused_as_unsupported(
    check: &'static str,
    result: Result<PaymentResult, BackendError>,
) -> CheckResult {
    match result {
        Err(BackendError::Unsupported { .. }) => Ok(Outcome::Skipped(NO_PAY_AMOUNT)),
        Err(e) => Err(fail(
            check,
            format!("pay_amount is not claimed, yet it failed with {e:?}, not Unsupported"),
        )),
        Ok(_) => Err(fail(check, "pay_amount is not claimed, yet it paid")),
    }
}

/// An amountless invoice the seller issues (or, without [`Supports::amountless_invoices`], the
/// reason to skip). Checks that it parses without an amount, with the returned hash.
async fn create_amountless(
    check: &'static str,
    seller: &dyn LightningBackend,
    supports: Supports,
    memo: &str,
) -> Result<Result<CreatedInvoice, &'static str>, ConformanceFailure> {
    let result = seller
        .create_invoice(CreateInvoice {
            amount: Msat(0),
            memo: memo.to_owned(),
            expiry_secs: EXPIRY_SECS,
        })
        .await;
    if !supports.amountless_invoices {
        return match result {
            Err(BackendError::Unsupported { .. } | BackendError::InvalidInvoice(_)) => {
                Ok(Err(NO_AMOUNTLESS))
            }
            Err(e) => Err(fail(
                check,
                format!(
                    "amountless invoices are not claimed, yet create_invoice(0) failed with \
                     {e:?}, not Unsupported or InvalidInvoice"
                ),
            )),
            Ok(c) => Err(fail(
                check,
                format!(
                    "amountless invoices are not claimed, yet create_invoice(0) issued {}",
                    c.bolt11
                ),
            )),
        };
    }
    let created = result.map_err(|e| fail(check, format!("create_invoice(0) failed: {e}")))?;
    let parsed = parse_bolt11(&created.bolt11)
        .map_err(|e| fail(check, format!("the amountless invoice does not parse: {e}")))?;
    if let Some(amount) = parsed.amount {
        return Err(fail(
            check,
            format!("create_invoice(0) issued an invoice for {amount}, not an amountless one"),
        ));
    }
    if parsed.payment_hash != created.payment_hash {
        return Err(fail(
            check,
            format!(
                "bolt11 hash {} but returned hash {}",
                parsed.payment_hash, created.payment_hash
            ),
        ));
    }
    Ok(Ok(created))
}

/// Checks a `pay_amount` result against the invoice paid and the amount sent.
fn check_paid(
    check: &'static str,
    created: &CreatedInvoice,
    paid: &PaymentResult,
    amount: Msat,
) -> Result<(), ConformanceFailure> {
    if !paid.preimage.pays(&created.payment_hash) || paid.payment_hash != created.payment_hash {
        return Err(fail(
            check,
            "the payment's preimage or hash does not match the invoice",
        ));
    }
    if paid.amount != amount {
        return Err(fail(
            check,
            format!("pay_amount({amount}) reports {} paid", paid.amount),
        ));
    }
    if paid.fee > PAY_OPTIONS.max_fee {
        return Err(fail(
            check,
            format!("fee {} exceeds the limit {}", paid.fee, PAY_OPTIONS.max_fee),
        ));
    }
    Ok(())
}

/// `create_invoice` with amount 0 issues an amountless invoice that reads `Open` (or, where
/// not claimed, is refused).
pub async fn amountless_invoice_is_open(
    seller: &dyn LightningBackend,
    supports: Supports,
) -> CheckResult {
    const CHECK: &str = "amountless_invoice_is_open";
    let created =
        match create_amountless(CHECK, seller, supports, "l402 conformance: amountless").await? {
            Ok(created) => created,
            Err(reason) => return Ok(Outcome::Skipped(reason)),
        };
    match state(CHECK, seller, &created.payment_hash).await? {
        InvoiceState::Open => Ok(Outcome::Passed),
        other => Err(fail(
            CHECK,
            format!("new amountless invoice is {other:?}, not Open"),
        )),
    }
}

/// An amountless invoice is refused by `pay_invoice`, and `pay_amount` pays it with exactly
/// [`AMOUNTLESS_PAY`]: the payer reports that amount, the seller settles the invoice with it,
/// and the payer's `payment_state` is `Succeeded`.
pub async fn pay_amount_settles_amountless_invoice(
    seller: &dyn LightningBackend,
    payer: &dyn LightningBackend,
    supports: Supports,
) -> CheckResult {
    const CHECK: &str = "pay_amount_settles_amountless_invoice";
    let memo = "l402 conformance: pay amount";
    let created = match create_amountless(CHECK, seller, supports, memo).await? {
        Ok(created) => created,
        Err(reason) if supports.pay_amount => return Ok(Outcome::Skipped(reason)),
        Err(_) => {
            // Still make sure the payer refuses as it should.
            let created = create(CHECK, seller, memo, EXPIRY_SECS).await?;
            let result = payer.pay_amount(&created.bolt11, AMOUNT, PAY_OPTIONS).await;
            return refused_as_unsupported(CHECK, result);
        }
    };
    match payer.pay_invoice(&created.bolt11, PAY_OPTIONS).await {
        Err(BackendError::InvalidInvoice(_)) => {}
        other => {
            return Err(fail(
                CHECK,
                format!(
                    "pay_invoice of an amountless invoice gave {:?}, not InvalidInvoice",
                    other.map(|p| p.amount)
                ),
            ));
        }
    }
    let result = payer
        .pay_amount(&created.bolt11, AMOUNTLESS_PAY, PAY_OPTIONS)
        .await;
    if !supports.pay_amount {
        return refused_as_unsupported(CHECK, result);
    }
    let paid = result.map_err(|e| fail(CHECK, format!("pay_amount failed: {e}")))?;
    check_paid(CHECK, &created, &paid, AMOUNTLESS_PAY)?;
    match state(CHECK, seller, &created.payment_hash).await? {
        InvoiceState::Settled {
            amount_received, ..
        } if amount_received == AMOUNTLESS_PAY => {}
        other => {
            return Err(fail(
                CHECK,
                format!("after paying {AMOUNTLESS_PAY} the invoice is {other:?}"),
            ));
        }
    }
    match payer.payment_state(&created.payment_hash).await {
        Ok(PaymentState::Succeeded { preimage, .. }) if preimage == paid.preimage => {
            Ok(Outcome::Passed)
        }
        Ok(other) => Err(fail(
            CHECK,
            format!("payment state is {other:?}, not Succeeded with the preimage"),
        )),
        Err(e) => Err(fail(CHECK, format!("payment_state failed: {e}"))),
    }
}

/// `pay_amount` refuses an invoice that names another amount with
/// [`BackendError::InvalidInvoice`] and pays nothing; with the invoice's own amount it pays the
/// invoice as `pay_invoice` would.
pub async fn pay_amount_checks_the_named_amount(
    seller: &dyn LightningBackend,
    payer: &dyn LightningBackend,
    supports: Supports,
) -> CheckResult {
    const CHECK: &str = "pay_amount_checks_the_named_amount";
    let created = create(CHECK, seller, "l402 conformance: named amount", EXPIRY_SECS).await?;
    let other = Msat(AMOUNT.0 + 1_000);
    let result = payer.pay_amount(&created.bolt11, other, PAY_OPTIONS).await;
    if !supports.pay_amount {
        return refused_as_unsupported(CHECK, result);
    }
    match result {
        Err(BackendError::InvalidInvoice(_)) => {}
        Err(e) => {
            return Err(fail(
                CHECK,
                format!(
                    "pay_amount({other}) of an invoice for {AMOUNT} failed with {e:?}, not InvalidInvoice"
                ),
            ));
        }
        Ok(_) => {
            return Err(fail(
                CHECK,
                format!("pay_amount({other}) paid an invoice for {AMOUNT}"),
            ));
        }
    }
    match state(CHECK, seller, &created.payment_hash).await? {
        InvoiceState::Open => {}
        other => {
            return Err(fail(
                CHECK,
                format!("after a refused pay_amount the invoice is {other:?}, not Open"),
            ));
        }
    }
    let paid = payer
        .pay_amount(&created.bolt11, AMOUNT, PAY_OPTIONS)
        .await
        .map_err(|e| {
            fail(
                CHECK,
                format!("pay_amount with the invoice's amount failed: {e}"),
            )
        })?;
    check_paid(CHECK, &created, &paid, AMOUNT)?;
    match state(CHECK, seller, &created.payment_hash).await? {
        InvoiceState::Settled {
            amount_received, ..
        } if amount_received >= AMOUNT => Ok(Outcome::Passed),
        other => Err(fail(
            CHECK,
            format!("after pay_amount({AMOUNT}) the invoice is {other:?}, not Settled"),
        )),
    }
}

/// `pay_amount` with an amount of zero is refused with [`BackendError::InvalidInvoice`] (for an
/// amountless invoice where the seller can issue one), and the invoice stays `Open`.
pub async fn pay_amount_refuses_zero(
    seller: &dyn LightningBackend,
    payer: &dyn LightningBackend,
    supports: Supports,
) -> CheckResult {
    const CHECK: &str = "pay_amount_refuses_zero";
    let memo = "l402 conformance: zero";
    let created = match create_amountless(CHECK, seller, supports, memo).await? {
        Ok(created) => created,
        Err(_) => create(CHECK, seller, memo, EXPIRY_SECS).await?,
    };
    let result = payer
        .pay_amount(&created.bolt11, Msat(0), PAY_OPTIONS)
        .await;
    if !supports.pay_amount {
        return refused_as_unsupported(CHECK, result);
    }
    match result {
        Err(BackendError::InvalidInvoice(_)) => {}
        other => {
            return Err(fail(
                CHECK,
                format!(
                    "pay_amount(0) gave {:?}, not InvalidInvoice",
                    other.map(|p| p.amount)
                ),
            ));
        }
    }
    match state(CHECK, seller, &created.payment_hash).await? {
        InvoiceState::Open => Ok(Outcome::Passed),
        other => Err(fail(
            CHECK,
            format!("after a refused pay_amount(0) the invoice is {other:?}, not Open"),
        )),
    }
}

/// Runs every check in order and returns each check's name and outcome, or the first failure.
/// `supports` declares the optional features the seller and payer have (see [`Supports`]).
pub async fn run_all(
    seller: &dyn LightningBackend,
    payer: &dyn LightningBackend,
    network: Network,
    supports: Supports,
) -> Result<Vec<(&'static str, Outcome)>, ConformanceFailure> {
    Ok(vec![
        (
            "node_info_reports_network(seller)",
            node_info_reports_network(seller, network).await?,
        ),
        (
            "node_info_reports_network(payer)",
            node_info_reports_network(payer, network).await?,
        ),
        (
            "create_invoice_is_open",
            create_invoice_is_open(seller).await?,
        ),
        (
            "pay_settles_invoice",
            pay_settles_invoice(seller, payer).await?,
        ),
        (
            "pay_twice_is_already_paid",
            pay_twice_is_already_paid(seller, payer).await?,
        ),
        (
            "balance_falls_when_paying",
            balance_falls_when_paying(seller, payer).await?,
        ),
        (
            "expired_invoice_is_refused",
            expired_invoice_is_refused(seller, payer).await?,
        ),
        (
            "settlement_stream_delivers",
            settlement_stream_delivers(seller, payer).await?,
        ),
        (
            "payment_state_after_success",
            payment_state_after_success(seller, payer).await?,
        ),
        (
            "unknown_hashes_are_reported",
            unknown_hashes_are_reported(seller, payer).await?,
        ),
        (
            "invalid_invoice_is_rejected",
            invalid_invoice_is_rejected(payer).await?,
        ),
        (
            "amountless_invoice_is_open",
            amountless_invoice_is_open(seller, supports).await?,
        ),
        (
            "pay_amount_settles_amountless_invoice",
            pay_amount_settles_amountless_invoice(seller, payer, supports).await?,
        ),
        (
            "pay_amount_checks_the_named_amount",
            pay_amount_checks_the_named_amount(seller, payer, supports).await?,
        ),
        (
            "pay_amount_refuses_zero",
            pay_amount_refuses_zero(seller, payer, supports).await?,
        ),
    ])
}
