//! Minting: pure, given an invoice's payment hash, the grants, a clock and an RNG.

use l402_macaroon::{Macaroon, RootKey};

use crate::caveat::{self, ServiceTier};
use crate::env::{Clock, Rng};
use crate::identifier::Identifier;
use crate::keys::{KeyRing, RootKeyError};
use crate::types::{PaymentHash, Preimage};

/// The location Aperture writes into every L402 macaroon (unchanged since the LSAT rename).
pub const DEFAULT_LOCATION: &str = "lsat";

/// What one service grants a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceGrant {
    /// The service name and tier.
    pub service: ServiceTier,
    /// Capabilities granted (always written, even when empty, as Aperture does).
    pub capabilities: Vec<String>,
    /// Token lifetime in seconds; `None` mints no `_valid_until` caveat.
    pub lifetime_secs: Option<u64>,
}

/// A request to mint one token.
#[derive(Debug, Clone)]
pub struct MintRequest {
    /// The payment hash of the invoice that pays for the token.
    pub payment_hash: PaymentHash,
    /// Services granted, at least one.
    pub grants: Vec<ServiceGrant>,
    /// Extra `condition=value` caveats, written after capabilities and before expiries.
    pub extra_caveats: Vec<String>,
}

/// Mints L402 macaroons with root keys derived from a [`KeyRing`].
#[derive(Debug, Clone)]
pub struct Minter {
    keys: KeyRing,
    location: String,
}

impl Minter {
    /// A minter using `keys` and the location [`DEFAULT_LOCATION`].
    pub fn new(keys: KeyRing) -> Self {
        Self {
            keys,
            location: DEFAULT_LOCATION.to_owned(),
        }
    }

    /// The key ring (the verifier side needs the same keys).
    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// Mints a token. Caveats come in Aperture's order: `services`, each service's
    /// `_capabilities`, the extra caveats, then each service's `_valid_until = now + lifetime`.
    pub fn mint(
        &self,
        request: &MintRequest,
        clock: &dyn Clock,
        rng: &mut dyn Rng,
    ) -> Result<Macaroon, RootKeyError> {
        let identifier = Identifier {
            payment_hash: request.payment_hash,
            token_id: self.keys.new_token_id(rng),
        };
        let root_key = self.keys.derive(&identifier.token_id)?;
        Ok(mint_with_root_key(
            &root_key,
            &identifier,
            &self.location,
            request,
            clock.now_unix(),
        ))
    }
}

/// Mints with an explicit root key (what an Aperture-style store-backed minter does).
pub fn mint_with_root_key(
    root_key: &RootKey,
    identifier: &Identifier,
    location: &str,
    request: &MintRequest,
    now_unix: u64,
) -> Macaroon {
    let mut mac = Macaroon::new(
        root_key,
        identifier.encode().to_vec(),
        Some(location.as_bytes().to_vec()),
    );
    let services: Vec<ServiceTier> = request.grants.iter().map(|g| g.service.clone()).collect();
    mac.add_first_party_caveat(
        caveat::format_caveat(caveat::SERVICES, &caveat::format_services(&services)).into_bytes(),
    );
    for grant in &request.grants {
        let condition = caveat::capabilities_condition(&grant.service.name);
        mac.add_first_party_caveat(
            caveat::format_caveat(&condition, &grant.capabilities.join(",")).into_bytes(),
        );
    }
    for extra in &request.extra_caveats {
        mac.add_first_party_caveat(extra.clone().into_bytes());
    }
    for grant in &request.grants {
        if let Some(lifetime) = grant.lifetime_secs {
            let condition = caveat::valid_until_condition(&grant.service.name);
            let until = now_unix.saturating_add(lifetime);
            mac.add_first_party_caveat(
                caveat::format_caveat(&condition, &until.to_string()).into_bytes(),
            );
        }
    }
    mac
}

/// Narrowing a token the client holds, to hand a restricted copy to someone else (a
/// sub-agent, say). Each restriction becomes a caveat; the server honours the narrowest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attenuation {
    /// Keep only these services (and at most these tiers).
    pub services: Option<Vec<ServiceTier>>,
    /// For a service, keep only these capabilities.
    pub capabilities: Vec<(String, Vec<String>)>,
    /// For a service, expire at this Unix time (earlier than the current expiry to matter).
    pub valid_until: Vec<(String, u64)>,
    /// Any other `condition=value` caveats.
    pub extra: Vec<String>,
}

impl Attenuation {
    /// The caveats this attenuation adds, in order.
    pub fn caveats(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(services) = &self.services {
            out.push(caveat::format_caveat(
                caveat::SERVICES,
                &caveat::format_services(services),
            ));
        }
        for (service, caps) in &self.capabilities {
            out.push(caveat::format_caveat(
                &caveat::capabilities_condition(service),
                &caps.join(","),
            ));
        }
        for (service, until) in &self.valid_until {
            out.push(caveat::format_caveat(
                &caveat::valid_until_condition(service),
                &until.to_string(),
            ));
        }
        out.extend(self.extra.iter().cloned());
        out
    }

    /// A copy of `macaroon` with these caveats added. No key is needed.
    pub fn apply(&self, macaroon: &Macaroon) -> Macaroon {
        let mut out = macaroon.clone();
        for caveat in self.caveats() {
            out.add_first_party_caveat(caveat.into_bytes());
        }
        out
    }
}

/// The macaroon with a `preimage=<hex>` caveat appended: the form the gRPC `macaroon` metadata
/// and the `Macaroon` / `Grpc-Metadata-Macaroon` headers carry.
pub fn with_preimage_caveat(macaroon: &Macaroon, preimage: &Preimage) -> Macaroon {
    let mut out = macaroon.clone();
    out.add_first_party_caveat(
        caveat::format_caveat(caveat::PREIMAGE, &preimage.to_hex()).into_bytes(),
    );
    out
}
