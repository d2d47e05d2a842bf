//! The `Authorization` codec (and its gRPC metadata forms): emits credentials exactly as
//! Aperture's client does and parses what any L402/LSAT client sends. Input is header values as
//! `&str`; no IO. Macaroon bytes are returned raw: decoding them is the verifier's job.

use core::fmt;

use crate::base64_codec::{self, Base64Error};
use crate::challenge::{Scheme, find_control_char, is_ows};
use crate::types::{HexError, Preimage};

/// Largest credential header value accepted, in bytes, after trimming surrounding whitespace:
/// the hex form of the largest macaroon the verifier accepts
/// ([`MAX_MACAROON_BYTES`](crate::limits::MAX_MACAROON_BYTES)) with room to spare, or a list of
/// [`MAX_MACAROONS_PER_CREDENTIAL`](crate::limits::MAX_MACAROONS_PER_CREDENTIAL) tokens of
/// ordinary size (with their `preimage=` caveats) in base64; plus the scheme and a preimage.
/// Anything longer is refused before it is decoded. Each macaroon is then held to the limits.
pub const MAX_CREDENTIAL_VALUE: usize = 4 * crate::limits::MAX_MACAROON_BYTES + 128;

/// Where a credential came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialScheme {
    /// `Authorization: L402 <macaroon>:<preimage>`.
    L402,
    /// `Authorization: LSAT <macaroon>:<preimage>` (legacy name).
    Lsat,
    /// `Macaroon: <hex>` header or gRPC `macaroon` metadata (Aperture's gRPC clients).
    MacaroonHeader,
    /// `Grpc-Metadata-Macaroon: <hex>` header (grpc-gateway / REST clients).
    GrpcMetadataMacaroon,
}

impl From<Scheme> for CredentialScheme {
    fn from(scheme: Scheme) -> Self {
        match scheme {
            Scheme::L402 => CredentialScheme::L402,
            Scheme::Lsat => CredentialScheme::Lsat,
        }
    }
}

/// Where the proof of payment is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreimageSource {
    /// Sent after the `:` of an `Authorization` credential.
    Explicit(Preimage),
    /// Inside the primary macaroon's last `preimage=<hex>` caveat (the hex header and metadata
    /// forms); the verifier, which decodes macaroons, extracts it.
    InCaveat,
}

/// A credential as sent by a client, not yet verified.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    /// Which header form carried it.
    pub scheme: CredentialScheme,
    /// Raw macaroon bytes in the order sent. Each is a token of its own, verified in full (see
    /// [`verify_credential`](crate::verify::verify_credential)); the first is the primary one.
    /// Never empty and at most
    /// [`MAX_MACAROONS_PER_CREDENTIAL`](crate::limits::MAX_MACAROONS_PER_CREDENTIAL) long when
    /// returned by [`parse_credential`].
    pub macaroons: Vec<Vec<u8>>,
    /// The proof of payment.
    pub preimage: PreimageSource,
}

impl Credential {
    /// The primary macaroon's bytes.
    pub fn primary_macaroon(&self) -> Option<&[u8]> {
        self.macaroons.first().map(Vec::as_slice)
    }
}

impl fmt::Debug for Credential {
    /// Shows macaroon lengths only and no preimage: both are bearer secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("scheme", &self.scheme)
            .field("macaroon_lens", &MacaroonLens(&self.macaroons))
            .field("preimage", &self.preimage)
            .finish()
    }
}

/// Debug helper listing only the lengths of macaroons.
struct MacaroonLens<'a>(&'a [Vec<u8>]);

impl fmt::Debug for MacaroonLens<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter().map(Vec::len)).finish()
    }
}

/// The request headers (or gRPC metadata) that can carry a credential. Header names are
/// case-insensitive; the caller looks them up accordingly and fills this in.
#[derive(Clone, Default)]
pub struct CredentialHeaders<'a> {
    /// Every `Authorization` value, in order.
    pub authorization: Vec<&'a str>,
    /// The `Grpc-Metadata-Macaroon` value, if any.
    pub grpc_metadata_macaroon: Option<&'a str>,
    /// The `Macaroon` header or gRPC `macaroon` metadata value, if any.
    pub macaroon: Option<&'a str>,
}

impl fmt::Debug for CredentialHeaders<'_> {
    /// Shows which headers are present, not their secret contents.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialHeaders")
            .field("authorization_values", &self.authorization.len())
            .field(
                "grpc_metadata_macaroon",
                &self.grpc_metadata_macaroon.is_some(),
            )
            .field("macaroon", &self.macaroon.is_some())
            .finish()
    }
}

/// Why no credential could be read. [`CredentialError::Missing`] means the client sent none;
/// every other variant means it sent a malformed one.
///
/// Byte indices are offsets in the header value as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// No L402/LSAT `Authorization` value and no non-empty macaroon header.
    #[error("no L402 credential")]
    Missing,
    /// The value is longer than [`MAX_CREDENTIAL_VALUE`].
    #[error("credential is {len} bytes; the limit is {max}")]
    TooLong {
        /// Length of the value.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// An ASCII control character in the value.
    #[error("control character at byte {index} of the credential")]
    ControlCharacter {
        /// Byte offset in the header value.
        index: usize,
    },
    /// The scheme is not followed by a credential.
    #[error("nothing follows the scheme")]
    EmptyToken,
    /// Whitespace inside the credential.
    #[error("whitespace inside the credential at byte {index}")]
    Whitespace {
        /// Byte offset in the header value.
        index: usize,
    },
    /// No `:` separates macaroons from the preimage.
    #[error("no `:` between macaroon and preimage")]
    MissingColon,
    /// Nothing after the `:`.
    #[error("the preimage after `:` is empty")]
    MissingPreimage,
    /// The preimage is not 64 lower-case hex characters.
    #[error("bad preimage: {0}")]
    BadPreimage(#[source] HexError),
    /// More comma-separated macaroons than
    /// [`MAX_MACAROONS_PER_CREDENTIAL`](crate::limits::MAX_MACAROONS_PER_CREDENTIAL); refused
    /// before any is decoded.
    #[error("{count} macaroons in one credential; the limit is {max}")]
    TooManyMacaroons {
        /// How many the list holds.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// An empty element in the comma-separated macaroon list.
    #[error("macaroon {index} is empty")]
    EmptyMacaroon {
        /// Position in the comma-separated list, from 0.
        index: usize,
    },
    /// A macaroon that is not base64.
    #[error("macaroon {index} is not valid base64: {source}")]
    BadBase64 {
        /// Position in the comma-separated list, from 0.
        index: usize,
        /// What is wrong with it.
        source: Base64Error,
    },
    /// A hex macaroon header holds a character that is not a hex digit.
    #[error("{header} holds a non-hex character at byte {index}")]
    InvalidHex {
        /// The header name.
        header: &'static str,
        /// Byte offset in the header value.
        index: usize,
    },
    /// A hex macaroon header has an odd number of digits.
    #[error("{header} has an odd number of hex digits ({len})")]
    OddHexLength {
        /// The header name.
        header: &'static str,
        /// Number of hex digits.
        len: usize,
    },
}

impl CredentialError {
    /// True when the client sent no credential at all (answer with a challenge), false when it
    /// sent a malformed one.
    pub fn is_missing(&self) -> bool {
        matches!(self, CredentialError::Missing)
    }
}

/// Finds and parses the request's credential.
///
/// Priority (Aperture's, minus its last-value-wins bug): the first `Authorization` value whose
/// scheme is `L402` or `LSAT` (any case) decides, and values with other schemes are skipped;
/// otherwise a non-empty `Grpc-Metadata-Macaroon`; otherwise a non-empty `Macaroon`.
pub fn parse_credential(headers: &CredentialHeaders<'_>) -> Result<Credential, CredentialError> {
    for value in &headers.authorization {
        if let Some((scheme, offset)) = l402_scheme(value) {
            return parse_authorization(value, scheme, offset);
        }
    }
    let hex_headers = [
        (
            headers.grpc_metadata_macaroon,
            CredentialScheme::GrpcMetadataMacaroon,
            "Grpc-Metadata-Macaroon",
        ),
        (
            headers.macaroon,
            CredentialScheme::MacaroonHeader,
            "Macaroon",
        ),
    ];
    for (value, scheme, name) in hex_headers {
        if let Some(value) = value.filter(|v| !trim_ows(v).is_empty()) {
            return parse_hex_macaroon(value, scheme, name);
        }
    }
    Err(CredentialError::Missing)
}

/// One `Authorization` value: `<SCHEME> <std base64, padded>:<lower-case hex preimage>`.
pub fn single_authorization_value(scheme: Scheme, macaroon: &[u8], preimage: &Preimage) -> String {
    format!(
        "{} {}:{}",
        scheme.as_str(),
        base64_codec::encode_std(macaroon),
        preimage.to_hex()
    )
}

/// One `Authorization` value presenting several tokens, `<SCHEME> <mac>,<mac>,…:<preimage>`
/// (the L402 grammar's list form): `macaroons` in order, then the preimage after the `:`. A
/// verifier takes that preimage as the proof of payment of every macaroon it pays, and a
/// macaroon's own last `preimage=` caveat for the others, so each macaroon but the one
/// `preimage` pays should carry one (see
/// [`with_preimage_caveat`](crate::mint::with_preimage_caveat)).
pub fn multi_authorization_value<'a>(
    scheme: Scheme,
    macaroons: impl IntoIterator<Item = &'a [u8]>,
    preimage: &Preimage,
) -> String {
    let mut value = String::from(scheme.as_str());
    value.push(' ');
    for (i, macaroon) in macaroons.into_iter().enumerate() {
        if i > 0 {
            value.push(',');
        }
        value.push_str(&base64_codec::encode_std(macaroon));
    }
    value.push(':');
    value.push_str(&preimage.to_hex());
    value
}

/// The two `Authorization` values Aperture's own client sends: `LSAT …` then `L402 …`, which
/// old servers (first value, LSAT only) and new ones (last value, either scheme) both accept.
pub fn authorization_header_values(macaroon: &[u8], preimage: &Preimage) -> [String; 2] {
    [
        single_authorization_value(Scheme::Lsat, macaroon, preimage),
        single_authorization_value(Scheme::L402, macaroon, preimage),
    ]
}

/// The gRPC `macaroon` metadata value (also the `Macaroon` header): lower-case hex of a
/// macaroon that already carries its `preimage=<hex>` caveat.
pub fn macaroon_metadata_value(macaroon_with_preimage_caveat: &[u8]) -> String {
    hex::encode(macaroon_with_preimage_caveat)
}

/// `value` without leading and trailing optional whitespace.
fn trim_ows(value: &str) -> &str {
    value.trim_matches([' ', '\t'])
}

/// The value's scheme if it is L402 or LSAT, with the offset just past the scheme name.
fn l402_scheme(value: &str) -> Option<(Scheme, usize)> {
    let start = value.len() - value.trim_start_matches([' ', '\t']).len();
    let rest = value.get(start..)?;
    let name_len = rest.bytes().position(is_ows).unwrap_or(rest.len());
    let scheme = Scheme::from_name(rest.get(..name_len)?)?;
    Some((scheme, start + name_len))
}

/// Parses an `Authorization` value known to start with an L402/LSAT scheme ending at `offset`.
fn parse_authorization(
    value: &str,
    scheme: Scheme,
    offset: usize,
) -> Result<Credential, CredentialError> {
    let value = value.trim_end_matches([' ', '\t']);
    check_size(trim_ows(value))?;
    let after_scheme = value.get(offset..).unwrap_or_default();
    let token = after_scheme.trim_start_matches(' ');
    let token_start = offset + (after_scheme.len() - token.len());
    // One pass over the token finds neither whitespace nor a control character in the usual
    // case; otherwise the checks below say which, and where.
    let clean_token = !crate::scan::any(token.as_bytes(), |b| (b <= b' ') | (b == 0x7f));
    let prefix = value.get(..token_start).unwrap_or(value);
    let clean = clean_token && find_control_char(prefix).is_none();
    if !clean {
        if let Some(index) = find_control_char(value) {
            return Err(CredentialError::ControlCharacter { index });
        }
        if let Some(i) = crate::scan::position(token.as_bytes(), |b| (b == b' ') | (b == b'\t')) {
            return Err(CredentialError::Whitespace {
                index: token_start + i,
            });
        }
    }
    if token.is_empty() {
        return Err(CredentialError::EmptyToken);
    }
    let (macaroons, preimage) = token
        .rsplit_once(':')
        .ok_or(CredentialError::MissingColon)?;
    Ok(Credential {
        scheme: scheme.into(),
        macaroons: decode_macaroon_list(macaroons)?,
        preimage: PreimageSource::Explicit(parse_preimage(preimage)?),
    })
}

/// Rejects an over-long value.
fn check_size(value: &str) -> Result<(), CredentialError> {
    if value.len() > MAX_CREDENTIAL_VALUE {
        return Err(CredentialError::TooLong {
            len: value.len(),
            max: MAX_CREDENTIAL_VALUE,
        });
    }
    Ok(())
}

/// Decodes `b64[,b64...]`, refusing more than
/// [`MAX_MACAROONS_PER_CREDENTIAL`](crate::limits::MAX_MACAROONS_PER_CREDENTIAL) before
/// decoding any.
fn decode_macaroon_list(list: &str) -> Result<Vec<Vec<u8>>, CredentialError> {
    let max = crate::limits::MAX_MACAROONS_PER_CREDENTIAL;
    // One branch-free pass for the usual single macaroon; counting only for a list.
    if crate::scan::any(list.as_bytes(), |b| b == b',') {
        let count = 1 + list.bytes().filter(|&b| b == b',').count();
        if count > max {
            return Err(CredentialError::TooManyMacaroons { count, max });
        }
    }
    list.split(',')
        .enumerate()
        .map(|(index, b64)| {
            if b64.is_empty() {
                return Err(CredentialError::EmptyMacaroon { index });
            }
            base64_codec::decode_lenient(b64)
                .map_err(|source| CredentialError::BadBase64 { index, source })
        })
        .collect()
}

/// Parses the 64 lower-case hex characters after the `:`.
fn parse_preimage(hex: &str) -> Result<Preimage, CredentialError> {
    if hex.is_empty() {
        return Err(CredentialError::MissingPreimage);
    }
    Preimage::from_hex(hex).map_err(CredentialError::BadPreimage)
}

/// Parses a hex macaroon header (either case); the preimage is in a caveat.
fn parse_hex_macaroon(
    value: &str,
    scheme: CredentialScheme,
    header: &'static str,
) -> Result<Credential, CredentialError> {
    let start = value.len() - value.trim_start_matches([' ', '\t']).len();
    let hex = trim_ows(value);
    check_size(hex)?;
    if let Some(i) = hex.bytes().position(|b| !b.is_ascii_hexdigit()) {
        return Err(CredentialError::InvalidHex {
            header,
            index: start + i,
        });
    }
    let macaroon = hex::decode(hex).map_err(|_| CredentialError::OddHexLength {
        header,
        len: hex.len(),
    })?;
    Ok(Credential {
        scheme,
        macaroons: vec![macaroon],
        preimage: PreimageSource::InCaveat,
    })
}
