//! The checks every paying backend runs around a payment: before it, the invoice must parse,
//! carry an amount (or, for `pay_amount`, agree with the amount to send) and not have expired;
//! after it, the preimage the node reports must pay the invoice's hash.

use l402_backend::BackendError;
use l402_core::Msat;
#[cfg(any(feature = "lnbits", feature = "lnd", feature = "nwc", feature = "cln"))]
use l402_core::env::now_unix;
use l402_core::invoice::ParsedInvoice;
#[cfg(any(feature = "lnbits", feature = "lnd", feature = "nwc", feature = "cln"))]
use l402_core::invoice::parse_bolt11;
#[cfg(any(feature = "lnbits", feature = "nwc"))]
use l402_core::{PaymentHash, Preimage};

/// The invoice and its amount, if it can be paid now. `who` names the backend in the message
/// for an amountless invoice.
#[cfg(any(feature = "lnbits", feature = "nwc", feature = "cln"))]
pub(crate) fn payable_invoice(
    bolt11: &str,
    who: &str,
) -> Result<(ParsedInvoice, Msat), BackendError> {
    let invoice = parse_bolt11(bolt11).map_err(|e| BackendError::InvalidInvoice(e.to_string()))?;
    let Some(amount) = invoice.amount else {
        return Err(BackendError::InvalidInvoice(format!(
            "the invoice has no amount ({who} pays only invoices with an amount)"
        )));
    };
    if invoice.is_expired_at(now_unix()) {
        return Err(BackendError::InvoiceExpired);
    }
    Ok((invoice, amount))
}

/// The invoice, if `amount` may be sent to it now under the rules of
/// [`LightningBackend::pay_amount`](l402_backend::LightningBackend::pay_amount), and the amount
/// the payment request to the node must name: `Some(amount)` for an amountless invoice, `None`
/// for an invoice that names `amount` itself (nodes refuse an explicit amount for those).
#[cfg(any(feature = "lnd", feature = "nwc", feature = "cln"))]
pub(crate) fn payable_with_amount(
    bolt11: &str,
    amount: Msat,
) -> Result<(ParsedInvoice, Option<Msat>), BackendError> {
    let invoice = parse_bolt11(bolt11).map_err(|e| BackendError::InvalidInvoice(e.to_string()))?;
    let explicit = amount_to_name(&invoice, amount)?;
    if invoice.is_expired_at(now_unix()) {
        return Err(BackendError::InvoiceExpired);
    }
    Ok((invoice, explicit))
}

/// The amount a payment of `amount` to `invoice` must name (see [`payable_with_amount`]), or
/// why `amount` cannot be sent to it: zero, or not the amount the invoice names.
#[cfg(any(feature = "dev", feature = "lnd", feature = "nwc", feature = "cln"))]
pub(crate) fn amount_to_name(
    invoice: &ParsedInvoice,
    amount: Msat,
) -> Result<Option<Msat>, BackendError> {
    if amount.0 == 0 {
        return Err(BackendError::InvalidInvoice(
            "the amount to pay must be at least 1 msat".into(),
        ));
    }
    match invoice.amount {
        None => Ok(Some(amount)),
        Some(named) if named == amount => Ok(None),
        Some(named) => Err(BackendError::InvalidInvoice(format!(
            "the invoice asks for {named}, not the {amount} to pay (an invoice with an amount is \
             paid only with that amount)"
        ))),
    }
}

#[cfg(any(feature = "lnbits", feature = "nwc"))]
/// The preimage a node reported for the payment of `hash`, checked. `who` names the node in
/// the message ("LNbits", "the NWC wallet service").
pub(crate) fn checked_preimage(
    hex: Option<&str>,
    hash: &PaymentHash,
    who: &str,
) -> Result<Preimage, BackendError> {
    let preimage = Preimage::from_hex(hex.unwrap_or("")).map_err(|_| {
        BackendError::Other(format!(
            "{who} reports the payment of {hash} as successful without a valid preimage"
        ))
    })?;
    if !preimage.pays(hash) {
        return Err(BackendError::Other(format!(
            "{who} returned a preimage that does not hash to {hash}"
        )));
    }
    Ok(preimage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(any(feature = "lnbits", feature = "nwc"))]
    #[test]
    fn a_preimage_must_pay_the_hash() {
        let preimage = Preimage([5; 32]);
        let hash = preimage.payment_hash();
        let hex = preimage.to_hex();
        assert_eq!(checked_preimage(Some(&hex), &hash, "X").unwrap(), preimage);
        let other = Preimage([6; 32]).payment_hash();
        let err = checked_preimage(Some(&hex), &other, "X").unwrap_err();
        assert!(err.to_string().contains("does not hash"), "{err}");
        let err = checked_preimage(None, &hash, "X").unwrap_err();
        assert!(
            err.to_string().contains("without a valid preimage"),
            "{err}"
        );
    }

    #[cfg(all(feature = "dev", feature = "lnd"))]
    #[test]
    fn an_amount_must_be_positive_and_agree_with_the_invoice() {
        use crate::dev::DevWallet;
        use l402_backend::{CreateInvoice, LightningBackend as _};

        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let wallet = DevWallet::open(dir.path(), l402_core::invoice::Network::Regtest).unwrap();
        let issue = |amount| {
            rt.block_on(wallet.create_invoice(CreateInvoice {
                amount,
                memo: "m".into(),
                expiry_secs: 60,
            }))
            .unwrap()
            .bolt11
        };
        let amountless = issue(Msat(0));
        let priced = issue(Msat(5_000));
        let (_, explicit) = payable_with_amount(&amountless, Msat(7)).unwrap();
        assert_eq!(explicit, Some(Msat(7)));
        let (_, explicit) = payable_with_amount(&priced, Msat(5_000)).unwrap();
        assert_eq!(explicit, None);
        let err = payable_with_amount(&priced, Msat(5_001)).unwrap_err();
        assert!(
            matches!(&err, BackendError::InvalidInvoice(m) if m.contains("asks for 5 sat")),
            "{err}"
        );
        for bolt11 in [&amountless, &priced] {
            assert!(matches!(
                payable_with_amount(bolt11, Msat(0)),
                Err(BackendError::InvalidInvoice(_))
            ));
        }
    }

    #[cfg(any(feature = "lnbits", feature = "nwc", feature = "cln"))]
    #[test]
    fn garbage_is_an_invalid_invoice() {
        assert!(matches!(
            payable_invoice("lnbc1garbage", "X"),
            Err(BackendError::InvalidInvoice(_))
        ));
    }
}
