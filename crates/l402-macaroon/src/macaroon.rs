//! The macaroon value: location, identifier, caveats and signature.

use core::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto::{self, Signature};
use crate::error::VerifyError;

/// The secret a macaroon is minted with. Zeroized on drop; `Debug` does not print it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct RootKey(Vec<u8>);

impl RootKey {
    /// Wraps secret key bytes (any length; L402 uses 32).
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
    /// The secret bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for RootKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RootKey(<redacted>)")
    }
}

/// One caveat: first-party (`vid` is `None`) or third-party.
#[derive(Clone, PartialEq, Eq)]
pub struct Caveat {
    /// Location hint of a third-party caveat; never signed.
    pub location: Option<Vec<u8>>,
    /// The caveat identifier; for L402 first-party caveats, `condition=value`.
    pub id: Vec<u8>,
    /// The verification id of a third-party caveat.
    pub vid: Option<Vec<u8>>,
}

impl Caveat {
    /// True for a first-party caveat.
    pub fn is_first_party(&self) -> bool {
        self.vid.is_none()
    }
}

impl fmt::Debug for Caveat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Caveat");
        d.field("id", &String::from_utf8_lossy(&self.id));
        if let Some(loc) = &self.location {
            d.field("location", &String::from_utf8_lossy(loc));
        }
        if let Some(vid) = &self.vid {
            d.field("vid_len", &vid.len());
        }
        d.finish()
    }
}

/// A macaroon: a bearer credential whose caveats can only be added, never removed.
#[derive(Clone, PartialEq, Eq)]
pub struct Macaroon {
    pub(crate) location: Option<Vec<u8>>,
    pub(crate) identifier: Vec<u8>,
    pub(crate) caveats: Vec<Caveat>,
    pub(crate) signature: Signature,
}

impl Macaroon {
    /// Mints a macaroon with no caveats, signed by `root_key`.
    pub fn new(root_key: &RootKey, identifier: Vec<u8>, location: Option<Vec<u8>>) -> Self {
        let signature = crypto::initial_signature(root_key.as_bytes(), &identifier);
        Self {
            location,
            identifier,
            caveats: Vec::new(),
            signature,
        }
    }

    /// Adds a first-party caveat, extending the signature chain. Anyone holding the macaroon
    /// can do this; it can only narrow what the macaroon allows.
    pub fn add_first_party_caveat(&mut self, id: Vec<u8>) {
        self.signature = crypto::chain_first_party(&self.signature, &id);
        self.caveats.push(Caveat {
            location: None,
            id,
            vid: None,
        });
    }

    /// Adds a third-party caveat with a verification id the caller computed. L402 does not use
    /// third-party caveats; this exists for codec completeness and published test vectors.
    pub fn add_third_party_caveat_raw(
        &mut self,
        location: Option<Vec<u8>>,
        id: Vec<u8>,
        vid: Vec<u8>,
    ) {
        self.signature = crypto::chain_third_party(&self.signature, &vid, &id);
        self.caveats.push(Caveat {
            location,
            id,
            vid: Some(vid),
        });
    }

    /// The location hint (not covered by the signature).
    pub fn location(&self) -> Option<&[u8]> {
        self.location.as_deref()
    }
    /// The identifier, which the root key signs first.
    pub fn identifier(&self) -> &[u8] {
        &self.identifier
    }
    /// The caveats in order.
    pub fn caveats(&self) -> &[Caveat] {
        &self.caveats
    }
    /// First-party caveat ids in order.
    pub fn first_party_caveats(&self) -> impl Iterator<Item = &[u8]> {
        self.caveats
            .iter()
            .filter(|c| c.is_first_party())
            .map(|c| c.id.as_slice())
    }
    /// The signature.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// Recomputes the signature chain from `root_key`, including third-party caveats.
    pub fn expected_signature(&self, root_key: &RootKey) -> Signature {
        let mut sig = crypto::initial_signature(root_key.as_bytes(), &self.identifier);
        for caveat in &self.caveats {
            sig = match &caveat.vid {
                None => crypto::chain_first_party(&sig, &caveat.id),
                Some(vid) => crypto::chain_third_party(&sig, vid, &caveat.id),
            };
        }
        sig
    }

    /// Checks the signature chain against `root_key` in constant time. Refuses third-party
    /// caveats, since no discharge macaroons are taken.
    pub fn verify(&self, root_key: &RootKey) -> Result<(), VerifyError> {
        if let Some(index) = self.caveats.iter().position(|c| !c.is_first_party()) {
            return Err(VerifyError::ThirdPartyCaveat(index));
        }
        if self.expected_signature(root_key) == self.signature {
            Ok(())
        } else {
            Err(VerifyError::SignatureMismatch)
        }
    }
}

impl fmt::Debug for Macaroon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Macaroon")
            .field(
                "location",
                &self.location.as_deref().map(String::from_utf8_lossy),
            )
            .field("identifier_len", &self.identifier.len())
            .field("caveats", &self.caveats)
            .field("signature", &self.signature)
            .finish()
    }
}
