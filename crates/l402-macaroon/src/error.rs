//! Why a macaroon could not be decoded or verified.

/// A byte string that is not a canonical V2 macaroon.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// No bytes at all.
    #[error("empty macaroon")]
    Empty,
    /// The first byte is not the V2 version byte `0x02`.
    #[error("unsupported macaroon version byte 0x{0:02x} (only V2 binary is accepted)")]
    UnsupportedVersion(u8),
    /// The input ended in the middle of a field.
    #[error("macaroon truncated while reading {0}")]
    Truncated(&'static str),
    /// A varint used more bytes than needed.
    #[error("non-minimal varint encoding")]
    NonMinimalVarint,
    /// A varint does not fit in 31 bits.
    #[error("varint overflow")]
    VarintOverflow,
    /// A field is longer than [`crate::MAX_FIELD_LEN`].
    #[error("field of {0} bytes exceeds the limit")]
    FieldTooLarge(usize),
    /// A field tag that V2 does not define.
    #[error("unknown field type {0}")]
    UnknownField(u32),
    /// Fields in a section must appear in strictly increasing tag order.
    #[error("field type {0} out of order")]
    FieldOutOfOrder(u32),
    /// A field tag that is valid V2 but not allowed in this section.
    #[error("field type {tag} not allowed in the {section} section")]
    FieldNotAllowed {
        /// The offending tag.
        tag: u32,
        /// Which section: "header", "caveat" or "signature".
        section: &'static str,
    },
    /// The header or a caveat has no identifier.
    #[error("missing identifier in the {0} section")]
    MissingIdentifier(&'static str),
    /// A first-party caveat (no VID) carries a location, which go-macaroon rejects.
    #[error("first-party caveat with a location")]
    LocationWithoutVid,
    /// A VID field is present but empty.
    #[error("empty verification id")]
    EmptyVid,
    /// More than [`crate::MAX_CAVEATS`] caveats.
    #[error("more than {} caveats", crate::MAX_CAVEATS)]
    TooManyCaveats,
    /// The signature field is missing.
    #[error("missing signature")]
    MissingSignature,
    /// The signature is not 32 bytes.
    #[error("signature must be 32 bytes, got {0}")]
    BadSignatureLength(usize),
    /// Bytes follow the signature.
    #[error("{0} trailing bytes after the signature")]
    TrailingBytes(usize),
}

/// A well-formed macaroon that does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The HMAC chain does not end in the macaroon's signature.
    #[error("signature mismatch")]
    SignatureMismatch,
    /// The macaroon has a third-party caveat; this verifier takes no discharge macaroons.
    #[error("third-party caveat at index {0} is not supported")]
    ThirdPartyCaveat(usize),
}
