//! BOLT11 invoices as L402 sees them: parsing (with the signature checked) and the checks a
//! client runs before it pays anything. Sans-IO: the current time is passed in.
//!
//! Parsing is deliberately a little more lenient than `lightning-invoice`'s strict
//! [`Bolt11Invoice`](lightning_invoice::Bolt11Invoice): invoices without a payment secret (`s`
//! field) or without a description are accepted, because older L402 servers still issue them
//! (the lsat-js vector in the tests is one). Whether such an invoice can actually be paid is the
//! paying node's decision. Everything that matters for the client's safety is strict: the
//! signature must verify, there must be exactly one payment hash, and the amount must be a whole
//! number of millisatoshis.

use bech32::primitives::decode::CheckedHrpstring;
use bech32::{Fe32, Fe32IterExt};
use lightning_invoice::{
    Bolt11Bech32, RawBolt11Invoice, RawHrp, SignedRawBolt11Invoice, TaggedField,
};

pub use crate::network::{Network, ParseNetworkError};
use crate::types::{Msat, PaymentHash};

/// Default invoice expiry in seconds when the invoice has no `x` field (BOLT11).
pub const DEFAULT_EXPIRY_SECS: u64 = 3600;

/// Why a string is not an acceptable BOLT11 invoice.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvoiceError {
    /// The string does not decode as BOLT11 (bech32, prefix, amount, fields).
    #[error("malformed BOLT11 invoice: {0}")]
    Malformed(String),
    /// The invoice decodes, but its signature does not verify.
    #[error("BOLT11 invoice signature is invalid")]
    InvalidSignature,
    /// The invoice is for a network L402 does not support (simnet).
    #[error("BOLT11 invoice is for an unsupported network ({0})")]
    UnsupportedNetwork(String),
    /// The invoice has no payment hash (`p` field).
    #[error("BOLT11 invoice has no payment hash")]
    MissingPaymentHash,
    /// The invoice has more than one payment hash (`p` field).
    #[error("BOLT11 invoice has {0} payment hashes; exactly one is allowed")]
    MultiplePaymentHashes(usize),
    /// The invoice has more than one description or description hash.
    #[error("BOLT11 invoice has more than one description")]
    MultipleDescriptions,
    /// The amount is not a whole number of millisatoshis.
    #[error("BOLT11 invoice amount is not a whole number of millisatoshis")]
    ImpreciseAmount,
}

/// A BOLT11 invoice reduced to what L402 needs, with its signature already verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedInvoice {
    /// The invoice as given (trimmed, `lightning:` prefix removed).
    pub bolt11: String,
    /// The payment hash (`p` field).
    pub payment_hash: PaymentHash,
    /// The amount, if the invoice carries one.
    pub amount: Option<Msat>,
    /// The network, from the invoice's prefix.
    pub network: Network,
    /// Creation time, seconds since the Unix epoch.
    pub created_at_unix: u64,
    /// Seconds after creation at which the invoice expires (`x` field, default 3600).
    pub expiry_secs: u64,
    /// The description (`d` field); `None` when absent or given only as a hash (`h` field).
    pub description: Option<String>,
    /// The payee's compressed public key in lower-case hex (`n` field, or recovered from the
    /// signature).
    pub payee_pubkey_hex: String,
}

impl ParsedInvoice {
    /// Expiry time, seconds since the Unix epoch (saturating).
    pub fn expires_at_unix(&self) -> u64 {
        self.created_at_unix.saturating_add(self.expiry_secs)
    }

    /// True when the invoice has expired at `now_unix` (the expiry second itself counts as
    /// expired: paying at that instant would race the payee's node).
    pub fn is_expired_at(&self, now_unix: u64) -> bool {
        now_unix >= self.expires_at_unix()
    }
}

/// Parses a BOLT11 invoice and verifies its signature.
///
/// Surrounding whitespace and a `lightning:` URI prefix are ignored. Never panics on any input.
pub fn parse_bolt11(input: &str) -> Result<ParsedInvoice, InvoiceError> {
    let (bolt11, signed) = decode(input)?;
    if !signed.check_signature() {
        return Err(InvoiceError::InvalidSignature);
    }
    let fields = read_fields(signed.raw_invoice())?;
    let payee = match signed.raw_invoice().payee_pub_key() {
        Some(pk) => pk.0,
        // check_signature() above succeeded, and without an `n` field that means recovery works;
        // map the impossible failure to InvalidSignature rather than panicking.
        None => {
            signed
                .recover_payee_pub_key()
                .map_err(|_| InvoiceError::InvalidSignature)?
                .0
        }
    };
    Ok(ParsedInvoice {
        bolt11: bolt11.to_owned(),
        payment_hash: fields.payment_hash,
        amount: fields.amount,
        network: fields.network,
        created_at_unix: fields.created_at_unix,
        expiry_secs: fields.expiry_secs,
        description: fields.description,
        payee_pubkey_hex: hex::encode(payee.serialize()),
    })
}

/// What a seller reads from an invoice its own node has just issued for a challenge: its
/// payment hash and its expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IssuedInvoice {
    /// The payment hash (`p` field).
    pub payment_hash: PaymentHash,
    /// The amount, if the invoice carries one.
    pub amount: Option<Msat>,
    /// The network, from the invoice's prefix.
    pub network: Network,
    /// Creation time, seconds since the Unix epoch.
    pub created_at_unix: u64,
    /// Seconds after creation at which the invoice expires (`x` field, default 3600).
    pub expiry_secs: u64,
}

impl IssuedInvoice {
    /// Expiry time, seconds since the Unix epoch (saturating).
    pub fn expires_at_unix(&self) -> u64 {
        self.created_at_unix.saturating_add(self.expiry_secs)
    }
}

/// Reads an invoice the seller's own node issued, as [`parse_bolt11`] does, but neither checks
/// its signature nor recovers the payee's key: the invoice came from the seller's node over its
/// authenticated connection, and those two public-key operations are most of what parsing an
/// invoice costs (about 100 µs, on every challenge). Nor does it hash the invoice for a
/// signature check or read the signature's bytes (a third of what is left): the bech32 checksum
/// and every field L402 reads are checked as [`parse_bolt11`] checks them, while the fields it
/// does not read (route hints, fallbacks, the payee key) and the signature's encoding are not
/// validated at all. Never use it on an invoice someone else gave you: a buyer paying must use
/// [`parse_bolt11`].
///
/// ```
/// # let bolt11 = "lnbcrt100n1p3qqkygpp5xzj85m5mpvatnapgpuyfxtxhypa5gr6sskqd8664v04550vqp8lsdq8f3f5z4qcqzpgsp5tpzvsq5pckqgln3ltpy3e9cf6tf2aj82ffa2tted77ltweuaweks9qyyssq0w5da3k40wtdukac7hp5s58hsxf8k8f52c5qneezu4xg3xh87xrnkl5jwtw098d2gjywx20nmkxl2y4vq9fr89kg5kzcwupv9xpdaggp4fc4ms";
/// let issued = l402_core::invoice::read_issued_bolt11(bolt11)?;
/// let checked = l402_core::invoice::parse_bolt11(bolt11)?;
/// assert_eq!(issued.payment_hash, checked.payment_hash);
/// assert_eq!(issued.expires_at_unix(), checked.expires_at_unix());
/// # Ok::<(), l402_core::invoice::InvoiceError>(())
/// ```
pub fn read_issued_bolt11(input: &str) -> Result<IssuedInvoice, InvoiceError> {
    let fields = Seen::unsigned(without_prefix(input))?.check()?;
    Ok(IssuedInvoice {
        payment_hash: fields.payment_hash,
        amount: fields.amount,
        network: fields.network,
        created_at_unix: fields.created_at_unix,
        expiry_secs: fields.expiry_secs,
    })
}

/// The invoice without whitespace and `lightning:` prefix.
fn without_prefix(input: &str) -> &str {
    let trimmed = input.trim();
    strip_prefix_ignore_case(trimmed, "lightning:").unwrap_or(trimmed)
}

/// The invoice without whitespace and `lightning:` prefix, and its bech32 decoding.
fn decode(input: &str) -> Result<(&str, SignedRawBolt11Invoice), InvoiceError> {
    let bolt11 = without_prefix(input);
    let signed = bolt11.parse().map_err(malformed)?;
    Ok((bolt11, signed))
}

fn malformed(e: lightning_invoice::Bolt11ParseError) -> InvoiceError {
    InvoiceError::Malformed(e.to_string())
}

/// The signature's length in 5-bit groups, at the end of the data part (65 bytes).
const SIGNATURE_FES: usize = 104;
/// The timestamp's length in 5-bit groups, at the start of the data part (35 bits).
const TIMESTAMP_FES: usize = 7;
/// The length in 5-bit groups of a `p` or `h` field L402 reads (32 bytes); BOLT11 readers skip
/// such fields of any other length.
const HASH_FES: usize = 52;
/// BOLT11 tags (the field type, one 5-bit group).
const TAG_PAYMENT_HASH: u8 = 1;
const TAG_DESCRIPTION: u8 = 13;
const TAG_DESCRIPTION_HASH: u8 = 23;
const TAG_EXPIRY: u8 = 6;

/// What the checks read from an invoice, however it was decoded.
struct Seen {
    currency: lightning_invoice::Currency,
    amount_pico_btc: Option<u64>,
    created_at_unix: u64,
    /// Every `p` field of the right length.
    payment_hashes: Vec<[u8; 32]>,
    /// `d` and `h` fields.
    descriptions: usize,
    /// The last `d` field.
    description: Option<String>,
    /// The first `x` field.
    expiry_secs: Option<u64>,
}

impl Seen {
    /// What a signed parse decoded.
    fn in_raw(raw: &RawBolt11Invoice) -> Self {
        let mut seen = Seen {
            currency: raw.currency(),
            amount_pico_btc: raw.amount_pico_btc(),
            created_at_unix: raw.data.timestamp.as_unix_timestamp(),
            payment_hashes: Vec::new(),
            descriptions: 0,
            description: None,
            expiry_secs: raw.expiry_time().map(|x| x.as_seconds()),
        };
        for field in raw.known_tagged_fields() {
            match field {
                TaggedField::PaymentHash(h) => {
                    if let Ok(bytes) = <[u8; 32]>::try_from(AsRef::<[u8]>::as_ref(&h.0)) {
                        seen.payment_hashes.push(bytes);
                    }
                }
                TaggedField::Description(d) => {
                    seen.descriptions += 1;
                    seen.description = Some(d.as_inner().0.clone());
                }
                TaggedField::DescriptionHash(_) => seen.descriptions += 1,
                _ => {}
            }
        }
        seen
    }

    /// Decodes `bolt11` as [`SignedRawBolt11Invoice`]'s parse decodes it (the bech32
    /// checksum, the prefix and amount, the timestamp, the framing of every tagged field, and
    /// the `p`, `d`, `h` and `x` fields by its rules), without the signature: neither the hash
    /// it signs nor its bytes. Fields L402 does not read are not decoded, so one its parse
    /// would refuse (a malformed route hint, say) passes here.
    fn unsigned(bolt11: &str) -> Result<Self, InvoiceError> {
        use lightning_invoice::Bolt11ParseError as E;
        let checked = CheckedHrpstring::new::<Bolt11Bech32>(bolt11)
            .map_err(|e| malformed(E::Bech32Error(e)))?;
        let hrp: RawHrp = checked.hrp().to_lowercase().parse().map_err(malformed)?;
        let data: Vec<Fe32> = checked
            .fe32_iter::<&mut dyn Iterator<Item = u8>>()
            .collect();
        let fields_end = data
            .len()
            .checked_sub(SIGNATURE_FES)
            .filter(|end| *end >= TIMESTAMP_FES)
            .ok_or_else(|| malformed(E::TooShortDataPart))?;
        let mut seen = Seen {
            amount_pico_btc: hrp.raw_amount.and_then(|v| {
                v.checked_mul(
                    hrp.si_prefix
                        .as_ref()
                        .map_or(1_000_000_000_000, |si| si.multiplier()),
                )
            }),
            currency: hrp.currency,
            // 35 bits: `big_endian` cannot overflow here.
            created_at_unix: big_endian(&data[..TIMESTAMP_FES]).unwrap_or(u64::MAX),
            payment_hashes: Vec::new(),
            descriptions: 0,
            description: None,
            expiry_secs: None,
        };
        let mut rest = &data[TIMESTAMP_FES..fields_end];
        while !rest.is_empty() {
            let (tag, len) = match rest {
                [tag, high, low, ..] => (
                    tag.to_u8(),
                    usize::from(high.to_u8()) << 5 | usize::from(low.to_u8()),
                ),
                _ => return Err(malformed(E::UnexpectedEndOfTaggedFields)),
            };
            let Some(value) = rest.get(3..3 + len) else {
                return Err(malformed(E::UnexpectedEndOfTaggedFields));
            };
            rest = &rest[3 + len..];
            match tag {
                TAG_PAYMENT_HASH if len == HASH_FES => {
                    // 52 groups are 260 bits: 32 bytes, the 4 bits left over dropped.
                    let mut hash = [0u8; 32];
                    for (byte, out) in value.iter().copied().fes_to_bytes().zip(&mut hash) {
                        *out = byte;
                    }
                    seen.payment_hashes.push(hash);
                }
                TAG_DESCRIPTION_HASH if len == HASH_FES => seen.descriptions += 1,
                TAG_DESCRIPTION => {
                    let text = String::from_utf8(value.iter().copied().fes_to_bytes().collect())
                        .map_err(|e| malformed(E::DescriptionDecodeError(e)))?;
                    seen.descriptions += 1;
                    seen.description = Some(text);
                }
                TAG_EXPIRY => {
                    let secs =
                        big_endian(value).ok_or_else(|| malformed(E::IntegerOverflowError))?;
                    seen.expiry_secs.get_or_insert(secs);
                }
                _ => {}
            }
        }
        Ok(seen)
    }

    /// The checked fields: a known network, exactly one payment hash, at most one
    /// description, a whole number of millisatoshis.
    fn check(self) -> Result<Fields, InvoiceError> {
        let currency = self.currency;
        let network = Network::from_currency(&currency).ok_or_else(|| {
            InvoiceError::UnsupportedNetwork(format!("{currency:?}").to_lowercase())
        })?;
        let payment_hash = match self.payment_hashes.as_slice() {
            [] => return Err(InvoiceError::MissingPaymentHash),
            [one] => PaymentHash(*one),
            many => return Err(InvoiceError::MultiplePaymentHashes(many.len())),
        };
        if self.descriptions > 1 {
            return Err(InvoiceError::MultipleDescriptions);
        }
        let amount = match self.amount_pico_btc {
            None => None,
            Some(pico) if pico % 10 == 0 => Some(Msat(pico / 10)),
            Some(_) => return Err(InvoiceError::ImpreciseAmount),
        };
        Ok(Fields {
            payment_hash,
            amount,
            network,
            created_at_unix: self.created_at_unix,
            expiry_secs: self.expiry_secs.unwrap_or(DEFAULT_EXPIRY_SECS),
            description: self.description,
        })
    }
}

/// 5-bit groups as a big-endian number; `None` past 64 bits.
fn big_endian(groups: &[Fe32]) -> Option<u64> {
    groups.iter().try_fold(0u64, |n, g| {
        n.checked_mul(32)?.checked_add(u64::from(g.to_u8()))
    })
}

/// The fields L402 reads, each checked (one payment hash, at most one description, a whole
/// number of millisatoshis, a known network).
struct Fields {
    payment_hash: PaymentHash,
    amount: Option<Msat>,
    network: Network,
    created_at_unix: u64,
    expiry_secs: u64,
    description: Option<String>,
}

fn read_fields(raw: &RawBolt11Invoice) -> Result<Fields, InvoiceError> {
    Seen::in_raw(raw).check()
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

/// Why the client refuses to pay an invoice.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvoiceCheckError {
    /// The invoice pays a different hash than the one bound into the macaroon: paying it would
    /// not yield a preimage that unlocks the token.
    #[error("invoice payment hash {invoice} does not match the macaroon's payment hash {macaroon}")]
    HashMismatch {
        /// The invoice's payment hash.
        invoice: PaymentHash,
        /// The payment hash in the macaroon identifier.
        macaroon: PaymentHash,
    },
    /// The invoice is for another network than the paying wallet's.
    #[error("invoice is for {found}, but the wallet is on {expected}")]
    WrongNetwork {
        /// The wallet's network.
        expected: Network,
        /// The invoice's network.
        found: Network,
    },
    /// The invoice has expired.
    #[error("invoice expired at {expired_at} (unix), now is {now}")]
    Expired {
        /// Expiry time, seconds since the Unix epoch.
        expired_at: u64,
        /// The time of the check, seconds since the Unix epoch.
        now: u64,
    },
    /// The invoice carries no amount; such invoices are never paid automatically.
    #[error("invoice carries no amount; amountless invoices are not paid automatically")]
    NoAmount,
    /// The invoice asks for more than the allowed maximum.
    #[error("invoice amount {amount} exceeds the maximum {max}")]
    OverMax {
        /// The invoice's amount.
        amount: Msat,
        /// The allowed maximum.
        max: Msat,
    },
}

/// What a client requires of an invoice before paying it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceCheck {
    /// The payment hash in the macaroon identifier the invoice came with.
    pub expected_hash: PaymentHash,
    /// The paying wallet's network.
    pub network: Network,
    /// The most the client is willing to pay for this invoice (excluding routing fees).
    pub max_amount: Msat,
    /// The current time, seconds since the Unix epoch.
    pub now_unix: u64,
}

impl InvoiceCheck {
    /// Checks, in this order, hash, network, expiry, presence of an amount and the maximum.
    /// Returns the amount to pay.
    pub fn check(&self, invoice: &ParsedInvoice) -> Result<Msat, InvoiceCheckError> {
        // Payment hashes are public, so a plain comparison is fine here.
        if invoice.payment_hash != self.expected_hash {
            return Err(InvoiceCheckError::HashMismatch {
                invoice: invoice.payment_hash,
                macaroon: self.expected_hash,
            });
        }
        if invoice.network != self.network {
            return Err(InvoiceCheckError::WrongNetwork {
                expected: self.network,
                found: invoice.network,
            });
        }
        if invoice.is_expired_at(self.now_unix) {
            return Err(InvoiceCheckError::Expired {
                expired_at: invoice.expires_at_unix(),
                now: self.now_unix,
            });
        }
        let amount = invoice.amount.ok_or(InvoiceCheckError::NoAmount)?;
        if amount > self.max_amount {
            return Err(InvoiceCheckError::OverMax {
                amount,
                max: self.max_amount,
            });
        }
        Ok(amount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// l402-protocol.md §5.4 a: Aperture challenge, regtest, 100n = 10 sat, description "LSAT".
    const INV_A: &str = "lnbcrt100n1p3qqkygpp5xzj85m5mpvatnapgpuyfxtxhypa5gr6sskqd8664v04550vqp8lsdq8f3f5z4qcqzpgsp5tpzvsq5pckqgln3ltpy3e9cf6tf2aj82ffa2tted77ltweuaweks9qyyssq0w5da3k40wtdukac7hp5s58hsxf8k8f52c5qneezu4xg3xh87xrnkl5jwtw098d2gjywx20nmkxl2y4vq9fr89kg5kzcwupv9xpdaggp4fc4ms";
    const HASH_A: &str = "30a47a6e9b0b3ab9f4280f08932cd7207b440f508580d3eb5563eb4a3d8009ff";
    /// §5.4 b: testnet, 20n = 2 sat.
    const INV_B: &str = "lntb20n1psza5dwpp58kda9d0m7zcp8z2683k2spa6at08mcte88jlv8ukde5uqjpt07gsdzjfp85gnpqd9h8vmmfvdjjqurp09kk2mn5ypn8ymmdyppksctfdecx76twwssyxmmjv5sxcmny8gcnqvps8ycqzpgsp5m7xru8dlhrhmwjp8gynsj2l9mwan2jk52ah5xucrn9kc3p0pj5ns9qy9qsq7jjxypyyc7hvvs8srh6c3lvcp5l5wka94htnfxak99hd5qrx69sya9sj4zm3w5lncw0tksf944q73tduhlhs5apd63m9dte9dhva5dgqaceunx";
    const HASH_B: &str = "3d9bd2b5fbf0b013895a3c6ca807baeade7de17939e5f61f966e69c0482b7f91";
    /// §5.4 d: testnet, 10u = 1000 sat, no payment secret (a legacy invoice).
    const INV_D: &str = "lntb10u1pw7kfm8pp50nhe8uk9r2n9yz97c9z8lsu0ckxehnsnwkjn9mdsmnffpgkrxzhqdq5w3jhxapqd9h8vmmfvdjscqzpgllq2qvdlgkllc27kpd87lz8pdfsfmtteyc3kwq734jpwnvqt96e4nuy0yauzdrtkumxsvawgda8dlljxu3nnjlhs6w75390wy7ukj6cpfmygah";
    const HASH_D: &str = "7cef93f2c51aa65208bec1447fc38fc58d9bce1375a532edb0dcd290a2c330ae";
    /// BOLT11 spec example (via lightning-invoice's tests): mainnet, no amount, created
    /// 1496314658, hash 0001020304…0102.
    const INV_NO_AMOUNT: &str = "lnbc1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpl2pkx2ctnv5sxxmmwwd5kgetjypeh2ursdae8g6twvus8g6rfwvs8qun0dfjkxaq9qrsgq357wnc5r2ueh7ck6q93dj32dlqnls087fxdwk8qakdyafkq3yap9us6v52vjjsrvywa6rt52cm9r9zqt8r2t7mlcwspyetp5h2tztugp9lfyql";
    const HASH_NO_AMOUNT: &str = "0001020304050607080900010203040506070809000102030405060708090102";
    /// BOLT11 spec invalid vector: valid bech32, bad signature.
    const INV_BAD_SIG: &str = "lnbc2500u1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpusp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9qrsgqwgt7mcn5yqw3yx0w94pswkpq6j9uh6xfqqqtsk4tnarugeektd4hg5975x9am52rz4qskukxdmjemg92vvqz8nvmsye63r5ykel43pgz7zq0g2";
    /// BOLT11 spec invalid vector: amount 2500000001p is not a whole msat.
    const INV_IMPRECISE: &str = "lnbc2500000001p1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpusp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9qrsgq0lzc236j96a95uv0m3umg28gclm5lqxtqqwk32uuk4k6673k6n5kfvx3d2h8s295fad45fdhmusm8sjudfhlf6dcsxmfvkeywmjdkxcp99202x";

    fn hash(s: &str) -> PaymentHash {
        PaymentHash::from_hex(s).unwrap()
    }

    fn check_for(inv: &ParsedInvoice) -> InvoiceCheck {
        InvoiceCheck {
            expected_hash: inv.payment_hash,
            network: inv.network,
            max_amount: Msat::from_sat(1_000_000),
            now_unix: inv.created_at_unix + 1,
        }
    }

    #[test]
    fn an_issued_invoice_reads_as_the_checked_parse_does() {
        for bolt11 in [INV_A, INV_B, INV_D, INV_NO_AMOUNT] {
            let checked = parse_bolt11(bolt11).unwrap();
            let issued = read_issued_bolt11(bolt11).unwrap();
            assert_eq!(issued.payment_hash, checked.payment_hash, "{bolt11}");
            assert_eq!(issued.amount, checked.amount, "{bolt11}");
            assert_eq!(issued.network, checked.network, "{bolt11}");
            assert_eq!(issued.created_at_unix, checked.created_at_unix, "{bolt11}");
            assert_eq!(
                issued.expires_at_unix(),
                checked.expires_at_unix(),
                "{bolt11}"
            );
        }
        // The same field checks refuse the same invoices.
        assert_eq!(
            read_issued_bolt11(INV_IMPRECISE),
            Err(InvoiceError::ImpreciseAmount)
        );
        assert!(matches!(
            read_issued_bolt11("lnbc1garbage"),
            Err(InvoiceError::Malformed(_))
        ));
        // What it does not do: check the signature (only for the seller's own node's invoices).
        assert_eq!(
            parse_bolt11(INV_BAD_SIG),
            Err(InvoiceError::InvalidSignature)
        );
        assert!(read_issued_bolt11(INV_BAD_SIG).is_ok());
    }

    /// Every invoice one 5-bit group away from a vector (re-encoded with a valid checksum, so
    /// the change reaches the fields): the unsigned read agrees with the signed parse's fields
    /// whenever that parse succeeds, and fails whenever it fails for anything but the signature
    /// (no mutation of these vectors breaks a field only the signed parse reads).
    #[test]
    fn the_unsigned_read_agrees_with_the_signed_parse_one_group_away() {
        use bech32::Fe32IterExt;
        use lightning_invoice::Bolt11ParseError;

        let mut compared = 0;
        for vector in [INV_A, INV_NO_AMOUNT, INV_IMPRECISE] {
            let checked = CheckedHrpstring::new::<Bolt11Bech32>(vector).unwrap();
            let hrp = checked.hrp();
            let data: Vec<Fe32> = checked
                .fe32_iter::<&mut dyn Iterator<Item = u8>>()
                .collect();
            for at in 0..data.len() {
                for delta in [1u8, 2, 16, 31] {
                    let mut mutated = data.clone();
                    mutated[at] = Fe32::try_from(mutated[at].to_u8() ^ delta).unwrap();
                    let bolt11: String = mutated
                        .iter()
                        .copied()
                        .with_checksum::<Bolt11Bech32>(&hrp)
                        .chars()
                        .collect();
                    let ours = read_issued_bolt11(&bolt11);
                    match bolt11.parse::<SignedRawBolt11Invoice>() {
                        Ok(signed) => {
                            let reference = read_fields(signed.raw_invoice()).map(|f| {
                                (
                                    f.payment_hash,
                                    f.amount,
                                    f.network,
                                    f.created_at_unix,
                                    f.expiry_secs,
                                )
                            });
                            let ours = ours.map(|i| {
                                (
                                    i.payment_hash,
                                    i.amount,
                                    i.network,
                                    i.created_at_unix,
                                    i.expiry_secs,
                                )
                            });
                            assert_eq!(ours, reference, "{bolt11}");
                            compared += 1;
                        }
                        Err(Bolt11ParseError::MalformedSignature(_)) => {}
                        Err(e) => assert!(ours.is_err(), "{bolt11}: the signed parse says {e:?}"),
                    }
                }
            }
        }
        assert!(compared > 1000, "only {compared} mutations parsed");
    }

    /// Hand-built invoices (a zero signature) whose `x` or `d` field, or framing, is wrong:
    /// both reads refuse them.
    #[test]
    fn the_unsigned_read_refuses_what_the_signed_parse_refuses_in_the_fields_it_reads() {
        use bech32::Fe32IterExt;

        let encode = |fields: &[u8]| -> String {
            let hrp = bech32::Hrp::parse("lnbcrt10n").unwrap();
            let mut groups = vec![1u8; TIMESTAMP_FES];
            groups.extend_from_slice(&[TAG_PAYMENT_HASH, 1, 20]);
            groups.extend_from_slice(&[0; HASH_FES]);
            groups.extend_from_slice(fields);
            groups.extend_from_slice(&[0; SIGNATURE_FES]);
            groups
                .iter()
                .map(|g| Fe32::try_from(*g).unwrap())
                .with_checksum::<Bolt11Bech32>(&hrp)
                .chars()
                .collect()
        };
        let both_refuse = |fields: &[u8], what: &str| {
            let bolt11 = encode(fields);
            assert!(bolt11.parse::<SignedRawBolt11Invoice>().is_err(), "{what}");
            assert!(
                matches!(read_issued_bolt11(&bolt11), Err(InvoiceError::Malformed(_))),
                "{what}"
            );
        };
        // The well-formed base reads.
        let base = read_issued_bolt11(&encode(&[])).unwrap();
        assert_eq!((base.amount, base.expiry_secs), (Some(Msat(1_000)), 3600));
        both_refuse(
            &[
                TAG_EXPIRY, 0, 13, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31,
            ],
            "x > 64 bits",
        );
        both_refuse(&[TAG_DESCRIPTION, 0, 2, 31, 28], "d not UTF-8");
        both_refuse(&[TAG_EXPIRY, 0, 5, 1], "a field longer than what is left");
        both_refuse(&[TAG_EXPIRY, 0], "a field header cut short");
        // Several `x`: the first counts, as `expiry_time()` reads it.
        let two = read_issued_bolt11(&encode(&[TAG_EXPIRY, 0, 1, 7, TAG_EXPIRY, 0, 1, 9])).unwrap();
        assert_eq!(two.expiry_secs, 7);
    }

    #[test]
    fn vector_a_regtest_10_sat() {
        let inv = parse_bolt11(INV_A).unwrap();
        assert_eq!(inv.payment_hash, hash(HASH_A));
        assert_eq!(inv.amount, Some(Msat::from_sat(10)));
        assert_eq!(inv.network, Network::Regtest);
        assert_eq!(inv.description.as_deref(), Some("LSAT"));
        assert_eq!(inv.bolt11, INV_A);
        assert_eq!(inv.payee_pubkey_hex.len(), 66);
        assert_eq!(inv.expires_at_unix(), inv.created_at_unix + inv.expiry_secs);
    }

    #[test]
    fn vector_b_testnet_2_sat() {
        let inv = parse_bolt11(INV_B).unwrap();
        assert_eq!(inv.payment_hash, hash(HASH_B));
        assert_eq!(inv.amount, Some(Msat::from_sat(2)));
        assert_eq!(inv.network, Network::Testnet);
    }

    #[test]
    fn vector_d_testnet_1000_sat_without_payment_secret() {
        let inv = parse_bolt11(INV_D).unwrap();
        assert_eq!(inv.payment_hash, hash(HASH_D));
        assert_eq!(inv.amount, Some(Msat::from_sat(1000)));
        assert_eq!(inv.network, Network::Testnet);
    }

    #[test]
    fn amountless_spec_vector_parses_with_defaults() {
        let inv = parse_bolt11(INV_NO_AMOUNT).unwrap();
        assert_eq!(inv.payment_hash, hash(HASH_NO_AMOUNT));
        assert_eq!(inv.amount, None);
        assert_eq!(inv.network, Network::Bitcoin);
        assert_eq!(inv.created_at_unix, 1_496_314_658);
        assert_eq!(inv.expiry_secs, DEFAULT_EXPIRY_SECS);
        assert_eq!(
            inv.description.as_deref(),
            Some("Please consider supporting this project")
        );
        // BOLT11 spec: the payee of the examples.
        assert_eq!(
            inv.payee_pubkey_hex,
            "03e7156ae33b0a208d0744199163177e909e80176e55d97a2f221ede0f934dd9ad"
        );
    }

    #[test]
    fn lightning_uri_prefix_and_whitespace_are_ignored() {
        let inv = parse_bolt11(&format!("  LIGHTNING:{INV_A}\n")).unwrap();
        assert_eq!(inv.payment_hash, hash(HASH_A));
        assert_eq!(inv.bolt11, INV_A);
    }

    #[test]
    fn bad_signature_is_rejected() {
        assert_eq!(
            parse_bolt11(INV_BAD_SIG).unwrap_err(),
            InvoiceError::InvalidSignature
        );
    }

    #[test]
    fn imprecise_amount_is_rejected() {
        assert_eq!(
            parse_bolt11(INV_IMPRECISE).unwrap_err(),
            InvoiceError::ImpreciseAmount
        );
    }

    #[test]
    fn garbage_gives_parse_errors_not_panics() {
        let mut flipped = INV_A.to_owned();
        flipped.replace_range(20..21, if &INV_A[20..21] == "q" { "p" } else { "q" });
        for s in [
            "",
            "lightning:",
            "l",
            "lnbc",
            "not an invoice",
            "lnbc1",
            "lnbcrt100n1",
            "🦀🦀🦀",
            &flipped,
            &INV_A[..INV_A.len() - 1],
            &"q".repeat(10_000),
        ] {
            assert!(
                matches!(parse_bolt11(s), Err(InvoiceError::Malformed(_))),
                "{s:?}"
            );
        }
    }

    #[test]
    fn truncations_never_panic() {
        for end in 0..INV_A.len() {
            if INV_A.is_char_boundary(end) {
                assert!(parse_bolt11(&INV_A[..end]).is_err());
            }
        }
    }

    #[test]
    fn check_accepts_a_matching_invoice() {
        let inv = parse_bolt11(INV_A).unwrap();
        assert_eq!(check_for(&inv).check(&inv), Ok(Msat::from_sat(10)));
        // Exactly at the maximum is allowed.
        let at_max = InvoiceCheck {
            max_amount: Msat::from_sat(10),
            ..check_for(&inv)
        };
        assert_eq!(at_max.check(&inv), Ok(Msat::from_sat(10)));
    }

    #[test]
    fn check_hash_mismatch() {
        let inv = parse_bolt11(INV_A).unwrap();
        let c = InvoiceCheck {
            expected_hash: hash(HASH_B),
            ..check_for(&inv)
        };
        assert_eq!(
            c.check(&inv),
            Err(InvoiceCheckError::HashMismatch {
                invoice: hash(HASH_A),
                macaroon: hash(HASH_B),
            })
        );
    }

    #[test]
    fn check_wrong_network() {
        let inv = parse_bolt11(INV_B).unwrap();
        let c = InvoiceCheck {
            network: Network::Regtest,
            ..check_for(&inv)
        };
        assert_eq!(
            c.check(&inv),
            Err(InvoiceCheckError::WrongNetwork {
                expected: Network::Regtest,
                found: Network::Testnet,
            })
        );
    }

    #[test]
    fn check_expired_at_and_after_expiry() {
        let inv = parse_bolt11(INV_A).unwrap();
        let exp = inv.expires_at_unix();
        let before = InvoiceCheck {
            now_unix: exp - 1,
            ..check_for(&inv)
        };
        assert!(before.check(&inv).is_ok());
        for now in [exp, exp + 1_000_000] {
            let c = InvoiceCheck {
                now_unix: now,
                ..check_for(&inv)
            };
            assert_eq!(
                c.check(&inv),
                Err(InvoiceCheckError::Expired {
                    expired_at: exp,
                    now
                })
            );
        }
    }

    #[test]
    fn check_no_amount() {
        let inv = parse_bolt11(INV_NO_AMOUNT).unwrap();
        assert_eq!(
            check_for(&inv).check(&inv),
            Err(InvoiceCheckError::NoAmount)
        );
    }

    #[test]
    fn check_over_max() {
        let inv = parse_bolt11(INV_D).unwrap();
        let c = InvoiceCheck {
            max_amount: Msat(999_999),
            ..check_for(&inv)
        };
        assert_eq!(
            c.check(&inv),
            Err(InvoiceCheckError::OverMax {
                amount: Msat::from_sat(1000),
                max: Msat(999_999),
            })
        );
    }

    #[test]
    fn network_names_and_prefixes() {
        for n in Network::ALL {
            assert_eq!(n.to_string().parse::<Network>(), Ok(n));
            assert_eq!(Network::from_currency(&n.to_currency()), Some(n));
        }
        assert_eq!("mainnet".parse::<Network>(), Ok(Network::Bitcoin));
        assert_eq!("RegTest".parse::<Network>(), Ok(Network::Regtest));
        assert!("simnet".parse::<Network>().is_err());
        assert_eq!(Network::Bitcoin.bolt11_prefix(), "lnbc");
        assert_eq!(Network::Testnet.bolt11_prefix(), "lntb");
        assert_eq!(Network::Signet.bolt11_prefix(), "lntbs");
        assert_eq!(Network::Regtest.bolt11_prefix(), "lnbcrt");
        // The prefixes agree with the vectors.
        assert!(INV_A.starts_with(Network::Regtest.bolt11_prefix()));
        assert!(INV_B.starts_with(Network::Testnet.bolt11_prefix()));
        assert_eq!(
            Network::from_currency(&lightning_invoice::Currency::Simnet),
            None
        );
    }
}
