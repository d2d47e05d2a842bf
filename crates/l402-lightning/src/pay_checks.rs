//! The checks every paying backend runs around a payment: before it, the invoice must parse,
//! carry an amount and not have expired; after it, the preimage the node reports must pay the
//! invoice's hash.

use l402_backend::BackendError;
use l402_core::Msat;
use l402_core::env::now_unix;
use l402_core::invoice::{ParsedInvoice, parse_bolt11};
#[cfg(any(feature = "lnbits", feature = "nwc"))]
use l402_core::{PaymentHash, Preimage};

/// The invoice and its amount, if it can be paid now. `who` names the backend in the message
/// for an amountless invoice.
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

    #[test]
    fn garbage_is_an_invalid_invoice() {
        assert!(matches!(
            payable_invoice("lnbc1garbage", "X"),
            Err(BackendError::InvalidInvoice(_))
        ));
    }
}
