//! The L402 macaroon identifier, version 0: `u16 version || payment_hash[32] || token_id[32]`.

use crate::types::{PaymentHash, TokenId};

/// Length of a version-0 identifier.
pub const IDENTIFIER_LEN: usize = 66;

/// A decoded version-0 identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Identifier {
    /// The payment hash of the invoice that pays for this token.
    pub payment_hash: PaymentHash,
    /// The random token id; its first four bytes carry our key epoch.
    pub token_id: TokenId,
}

/// Why bytes are not a version-0 identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentifierError {
    /// Not exactly 66 bytes.
    #[error("identifier must be {IDENTIFIER_LEN} bytes, got {0}")]
    WrongLength(usize),
    /// A version other than 0.
    #[error("unknown identifier version {0}")]
    UnknownVersion(u16),
}

impl Identifier {
    /// Encodes as the 66 bytes signed by the root key.
    pub fn encode(&self) -> [u8; IDENTIFIER_LEN] {
        let mut out = [0u8; IDENTIFIER_LEN];
        out[2..34].copy_from_slice(&self.payment_hash.0);
        out[34..].copy_from_slice(&self.token_id.0);
        out
    }

    /// Decodes exactly 66 bytes with version 0 (Aperture accepts trailing bytes; we do not).
    pub fn decode(bytes: &[u8]) -> Result<Self, IdentifierError> {
        let bytes: &[u8; IDENTIFIER_LEN] = bytes
            .try_into()
            .map_err(|_| IdentifierError::WrongLength(bytes.len()))?;
        let version = u16::from_be_bytes([bytes[0], bytes[1]]);
        if version != 0 {
            return Err(IdentifierError::UnknownVersion(version));
        }
        let mut hash = [0u8; 32];
        let mut token = [0u8; 32];
        hash.copy_from_slice(&bytes[2..34]);
        token.copy_from_slice(&bytes[34..]);
        Ok(Self {
            payment_hash: PaymentHash(hash),
            token_id: TokenId(token),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aperture_identifier_vector() {
        let mut hash = [0u8; 32];
        let mut token = [0u8; 32];
        for i in 0..32 {
            hash[i] = i as u8 + 1;
            token[i] = 32 - i as u8;
        }
        let id = Identifier {
            payment_hash: PaymentHash(hash),
            token_id: TokenId(token),
        };
        assert_eq!(
            hex::encode(id.encode()),
            "00000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20201f1e1d1c1b1a191817161514131211100f0e0d0c0b0a090807060504030201"
        );
        assert_eq!(Identifier::decode(&id.encode()).unwrap(), id);
    }

    #[test]
    fn aperture_token_id_display() {
        let mut token = [0u8; 32];
        token[..3].copy_from_slice(&[1, 2, 3]);
        assert_eq!(TokenId(token).to_hex(), format!("010203{}", "0".repeat(58)));
    }

    #[test]
    fn rejects_wrong_length_and_version() {
        assert_eq!(
            Identifier::decode(&[0; 65]),
            Err(IdentifierError::WrongLength(65))
        );
        assert_eq!(
            Identifier::decode(&[0; 67]),
            Err(IdentifierError::WrongLength(67))
        );
        let mut v1 = [0u8; 66];
        v1[1] = 1;
        assert_eq!(
            Identifier::decode(&v1),
            Err(IdentifierError::UnknownVersion(1))
        );
    }
}
