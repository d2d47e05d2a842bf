//! Verification: signature, proof of payment and every caveat the server understands, with a
//! typed error that separates malformed input from an invalid token and names the reason.

use std::collections::HashSet;

use l402_macaroon::{DecodeError, Macaroon, VerifyError as MacVerifyError};

use crate::caveat::{self, CaveatRef};
use crate::credential::{Credential, CredentialError, PreimageSource};
use crate::identifier::{Identifier, IdentifierError};
use crate::keys::{RootKeyError, RootKeySource};
use crate::limits::{self, LimitExceeded};
use crate::price_bound::MaxPriceSatisfier;
use crate::satisfier::{
    CapabilitiesSatisfier, CaveatFailure, Satisfier, ServicesSatisfier, ValidUntilSatisfier,
    check_caveats_canonical,
};
use crate::types::{Msat, Preimage, TokenId};

/// Why a credential was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The request carries no L402 credential at all.
    #[error("no L402 credential")]
    Missing,
    /// The credential header does not parse.
    #[error("malformed credential: {0}")]
    MalformedCredential(CredentialError),
    /// The macaroon bytes are not a V2 macaroon.
    #[error("malformed macaroon: {0}")]
    MalformedMacaroon(DecodeError),
    /// The macaroon identifier is not an L402 version-0 identifier.
    #[error("malformed identifier: {0}")]
    MalformedIdentifier(IdentifierError),
    /// A gRPC-style credential without a `preimage=` caveat.
    #[error("no preimage: send `Authorization: L402 <macaroon>:<preimage>` or a preimage= caveat")]
    MissingPreimage,
    /// The `preimage=` caveat is not 64 lower-case hex characters.
    #[error("malformed preimage caveat")]
    MalformedPreimage,
    /// `sha256(preimage)` is not the payment hash: the invoice was not paid.
    #[error("preimage does not match the payment hash")]
    WrongPreimage,
    /// The token was minted under a key epoch this server does not hold.
    #[error("unknown key epoch {0}")]
    UnknownKeyEpoch(u32),
    /// The token was minted under a key epoch the operator retired.
    #[error("key epoch {0} was retired")]
    RetiredKeyEpoch(u32),
    /// The key source has no root key for this token.
    #[error("unknown token")]
    UnknownRootKey,
    /// The signature chain does not verify: forged or altered.
    #[error("bad signature")]
    BadSignature,
    /// The macaroon is bigger than the verifier accepts (see [`crate::limits`]); refused
    /// before its signature is checked.
    #[error("credential too large: {0}")]
    LimitExceeded(LimitExceeded),
    /// Third-party caveats cannot be discharged here.
    #[error("third-party caveats are not supported")]
    ThirdPartyCaveat,
    /// The token was revoked.
    #[error("token revoked")]
    Revoked,
    /// A caveat refused the request (expired, wrong service, missing capability, ...).
    #[error(transparent)]
    Caveat(CaveatFailure),
}

impl TokenError {
    /// True when the input could not even be parsed, as opposed to a well-formed but invalid
    /// token.
    pub fn is_malformed(&self) -> bool {
        matches!(
            self,
            Self::MalformedCredential(_)
                | Self::MalformedMacaroon(_)
                | Self::MalformedIdentifier(_)
                | Self::MalformedPreimage
                | Self::LimitExceeded(_)
                | Self::Caveat(CaveatFailure::Malformed { .. })
        )
    }

    /// A stable, machine-readable reason code for response bodies and metrics.
    pub fn reason_code(&self) -> &'static str {
        match self {
            Self::Missing => "missing_credential",
            Self::MalformedCredential(CredentialError::TooManyMacaroons { .. }) => {
                "too_many_macaroons"
            }
            Self::MalformedCredential(_) => "malformed_credential",
            Self::MalformedMacaroon(_) => "malformed_macaroon",
            Self::MalformedIdentifier(_) => "malformed_identifier",
            Self::MissingPreimage => "missing_preimage",
            Self::MalformedPreimage => "malformed_preimage",
            Self::WrongPreimage => "wrong_preimage",
            Self::UnknownKeyEpoch(_) => "unknown_key_epoch",
            Self::RetiredKeyEpoch(_) => "retired_key_epoch",
            Self::UnknownRootKey => "unknown_token",
            Self::BadSignature => "bad_signature",
            Self::LimitExceeded(limit) => limit.reason_code(),
            Self::ThirdPartyCaveat => "third_party_caveat",
            Self::Revoked => "revoked",
            Self::Caveat(CaveatFailure::Expired { .. }) => "expired",
            Self::Caveat(CaveatFailure::WrongService { .. }) => "wrong_service",
            Self::Caveat(CaveatFailure::MissingCapability { .. }) => "missing_capability",
            Self::Caveat(CaveatFailure::PriceNotCovered { .. }) => "price_not_covered",
            Self::Caveat(CaveatFailure::Widened { .. }) => "caveat_widened",
            Self::Caveat(CaveatFailure::Malformed { .. }) => "malformed_caveat",
            Self::Caveat(_) => "caveat_failed",
        }
    }
}

/// Revoked token ids, as the verifier sees them (an in-memory set on the server).
pub trait Revocations {
    /// True when `token_id` is revoked.
    fn is_revoked(&self, token_id: &TokenId) -> bool;
}

/// Nothing is revoked.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRevocations;

impl Revocations for NoRevocations {
    fn is_revoked(&self, _token_id: &TokenId) -> bool {
        false
    }
}

impl Revocations for HashSet<TokenId> {
    fn is_revoked(&self, token_id: &TokenId) -> bool {
        self.contains(token_id)
    }
}

/// What the request asks of the token.
#[derive(Clone, Copy)]
pub struct RequestContext<'a> {
    /// The service the request is for.
    pub service: &'a str,
    /// Capabilities the matched route requires.
    pub required_capabilities: &'a [String],
    /// The matched route's price: the token's `<service>_max_price_msat` must be at least this.
    pub price: Msat,
    /// What a token without a `<service>_max_price_msat` caveat (minted before tokens were bound
    /// to their price) is taken to have paid: the service's base price.
    pub base_price: Msat,
    /// The verifier's clock, Unix seconds.
    pub now_unix: u64,
    /// Satisfiers for custom conditions.
    pub custom: &'a [&'a dyn Satisfier],
}

/// A token that verified, with what the upstream may need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// The identifier (payment hash and token id).
    pub identifier: Identifier,
    /// The caveats a satisfier checked, one per condition: its deciding (last) value in
    /// canonical form, `condition=value`, in the order `services`, `<service>_capabilities`,
    /// `<service>_max_price_msat`, `<service>_valid_until`, then the custom satisfiers. What the
    /// paywall forwards to the upstream (see [`check_caveats_canonical`]). Shared, so a copy of
    /// the token (one per paid request, for the handlers downstream) copies no text.
    pub checked_caveats: std::sync::Arc<[String]>,
    /// When the token stops being valid for the requested service (its narrowest
    /// `<service>_valid_until`), Unix seconds; `None` if it never expires.
    pub valid_until: Option<u64>,
}

/// A credential that verified: the token that authorized the request and the other tokens it
/// presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCredential {
    /// The token that authorized the request: the first in the list whose caveats all pass.
    pub token: VerifiedToken,
    /// Its position in the credential's macaroon list, from 0.
    pub position: usize,
    /// The identifiers of the credential's other macaroons, in order: each is authentic (signed,
    /// paid for, not revoked) but was not needed for this request. Empty for a one-macaroon
    /// credential.
    pub others: Vec<Identifier>,
}

/// Verifies a parsed credential and returns the token that authorized the request (see
/// [`verify_credential_all`] for the rule with several macaroons).
pub fn verify_credential(
    credential: &Credential,
    keys: &dyn RootKeySource,
    revocations: &dyn Revocations,
    request: &RequestContext<'_>,
) -> Result<VerifiedToken, TokenError> {
    verify_credential_all(credential, keys, revocations, request).map(|v| v.token)
}

/// Verifies a parsed credential that may list several macaroons
/// (`Authorization: L402 <mac>,<mac>:<preimage>`), each a token of its own.
///
/// The rule (see `docs/SECURITY.md`, "Several tokens in one credential"):
///
/// 1. **Every macaroon must be authentic**: within the [`crate::limits`], a v0 identifier, paid
///    for, a root key, a signature that verifies, no third-party caveat, not revoked. One that
///    is not refuses the whole credential with its error, before any caveat of any macaroon
///    is looked at: a forged, unpaid or revoked macaroon never rides along with valid ones.
/// 2. **One token must authorize the request on its own**: the first macaroon, in list order,
///    whose caveats all pass for the request is the verified token. Caveats are never pooled
///    across tokens (one token's capability does not complete another's grant), so the
///    credential opens exactly the union of what each of its tokens opens alone.
/// 3. When none does, the error is the first failure that is not
///    [`CaveatFailure::WrongService`] (a token of another service is expected in such a
///    list), or else the first failure.
///
/// Proof of payment, per macaroon: the preimage after the `:` if it pays the macaroon's payment
/// hash, else the macaroon's last `preimage=` caveat (how a client presents tokens bought with
/// different invoices together, and Aperture's gRPC form).
pub fn verify_credential_all(
    credential: &Credential,
    keys: &dyn RootKeySource,
    revocations: &dyn Revocations,
    request: &RequestContext<'_>,
) -> Result<VerifiedCredential, TokenError> {
    let explicit = match &credential.preimage {
        PreimageSource::Explicit(p) => Some(p),
        PreimageSource::InCaveat => None,
    };
    let decode = |bytes: &Vec<u8>| {
        limits::check_encoded_len(bytes.len()).map_err(TokenError::LimitExceeded)?;
        Macaroon::decode_v2(bytes).map_err(TokenError::MalformedMacaroon)
    };
    match credential.macaroons.as_slice() {
        [] => Err(TokenError::Missing),
        // The common case, without the list's allocations.
        [only] => {
            let macaroon = decode(only)?;
            let token = verify_macaroon(&macaroon, explicit, keys, revocations, request)?;
            Ok(VerifiedCredential {
                token,
                position: 0,
                others: Vec::new(),
            })
        }
        list => {
            if list.len() > limits::MAX_MACAROONS_PER_CREDENTIAL {
                return Err(TokenError::MalformedCredential(
                    CredentialError::TooManyMacaroons {
                        count: list.len(),
                        max: limits::MAX_MACAROONS_PER_CREDENTIAL,
                    },
                ));
            }
            let macaroons = list.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
            let authentic = macaroons
                .iter()
                .map(|m| authenticate(m, explicit, keys, revocations))
                .collect::<Result<Vec<_>, _>>()?;
            let mut refusal: Option<TokenError> = None;
            for (position, token) in authentic.iter().enumerate() {
                match authorize(token, request) {
                    Ok(verified) => {
                        let others = authentic
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| *i != position)
                            .map(|(_, a)| a.identifier)
                            .collect();
                        return Ok(VerifiedCredential {
                            token: verified,
                            position,
                            others,
                        });
                    }
                    Err(e) => {
                        let wrong_service =
                            matches!(e, TokenError::Caveat(CaveatFailure::WrongService { .. }));
                        match &refusal {
                            None => refusal = Some(e),
                            Some(TokenError::Caveat(CaveatFailure::WrongService { .. }))
                                if !wrong_service =>
                            {
                                refusal = Some(e)
                            }
                            Some(_) => {}
                        }
                    }
                }
            }
            Err(refusal.unwrap_or(TokenError::Missing))
        }
    }
}

/// Verifies a decoded macaroon. The proof of payment is `preimage` if it pays the payment
/// hash, else the macaroon's last `preimage=` caveat (Aperture's gRPC form). A macaroon beyond
/// the [`crate::limits`] is refused before anything is hashed.
pub fn verify_macaroon(
    macaroon: &Macaroon,
    preimage: Option<&Preimage>,
    keys: &dyn RootKeySource,
    revocations: &dyn Revocations,
    request: &RequestContext<'_>,
) -> Result<VerifiedToken, TokenError> {
    authorize(
        &authenticate(macaroon, preimage, keys, revocations)?,
        request,
    )
}

/// A macaroon that is within the limits, paid for, signed under a root key this verifier holds
/// and not revoked; its caveats not yet checked against a request.
struct Authentic<'a> {
    identifier: Identifier,
    caveats: Vec<CaveatRef<'a>>,
}

/// Everything but the caveats: limits, identifier, proof of payment, root key, signature,
/// revocation (in that order: the signature is checked before revocation, so a forger learns
/// nothing about which token ids are revoked).
fn authenticate<'a>(
    macaroon: &'a Macaroon,
    preimage: Option<&Preimage>,
    keys: &dyn RootKeySource,
    revocations: &dyn Revocations,
) -> Result<Authentic<'a>, TokenError> {
    limits::check_macaroon(macaroon).map_err(TokenError::LimitExceeded)?;
    let identifier =
        Identifier::decode(macaroon.identifier()).map_err(TokenError::MalformedIdentifier)?;
    let caveats: Vec<CaveatRef<'_>> = macaroon
        .first_party_caveats()
        .filter_map(caveat::parse_caveat)
        .collect();
    check_payment(&identifier, preimage, &caveats)?;

    let root_key = keys.root_key(&identifier).map_err(|e| match e {
        RootKeyError::UnknownEpoch(epoch) => TokenError::UnknownKeyEpoch(epoch),
        RootKeyError::RetiredEpoch(epoch) => TokenError::RetiredKeyEpoch(epoch),
        _ => TokenError::UnknownRootKey,
    })?;
    macaroon.verify(&root_key).map_err(|e| match e {
        MacVerifyError::ThirdPartyCaveat(_) => TokenError::ThirdPartyCaveat,
        _ => TokenError::BadSignature,
    })?;
    if revocations.is_revoked(&identifier.token_id) {
        return Err(TokenError::Revoked);
    }
    Ok(Authentic {
        identifier,
        caveats,
    })
}

/// The proof of payment: `explicit` if it pays, else the last `preimage=` caveat.
fn check_payment(
    identifier: &Identifier,
    explicit: Option<&Preimage>,
    caveats: &[CaveatRef<'_>],
) -> Result<(), TokenError> {
    if explicit.is_some_and(|p| p.pays(&identifier.payment_hash)) {
        return Ok(());
    }
    let Some(hex) = caveats
        .iter()
        .rev()
        .find(|c| c.condition == caveat::PREIMAGE)
    else {
        return Err(match explicit {
            Some(_) => TokenError::WrongPreimage,
            None => TokenError::MissingPreimage,
        });
    };
    let from_caveat = Preimage::from_hex(hex.value).map_err(|_| TokenError::MalformedPreimage)?;
    if !from_caveat.pays(&identifier.payment_hash) {
        return Err(TokenError::WrongPreimage);
    }
    Ok(())
}

/// Checks an authentic token's caveats against the request.
fn authorize(
    token: &Authentic<'_>,
    request: &RequestContext<'_>,
) -> Result<VerifiedToken, TokenError> {
    let caveats = &token.caveats;
    let services = ServicesSatisfier {
        target: request.service.into(),
    };
    let capabilities = CapabilitiesSatisfier::new(request.service, request.required_capabilities);
    let price = MaxPriceSatisfier::new(request.service, request.price, request.base_price);
    let valid_until = ValidUntilSatisfier::new(request.service, request.now_unix);
    let standard: [&dyn Satisfier; 4] = [&services, &capabilities, &price, &valid_until];
    let checked_caveats = if request.custom.is_empty() {
        check_caveats_canonical(caveats, &standard)
    } else {
        let all: Vec<&dyn Satisfier> = standard.iter().chain(request.custom).copied().collect();
        check_caveats_canonical(caveats, &all)
    }
    .map_err(TokenError::Caveat)?;

    let expiry_condition = valid_until.condition();
    let valid_until = caveats
        .iter()
        .filter(|c| c.condition == expiry_condition)
        .filter_map(|c| caveat::parse_timestamp(c.value).ok())
        .min();
    Ok(VerifiedToken {
        identifier: token.identifier,
        valid_until,
        checked_caveats: checked_caveats.into(),
    })
}
