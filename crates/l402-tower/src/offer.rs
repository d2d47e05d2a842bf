//! What a request costs and what paying for it grants.

use std::net::IpAddr;
use std::sync::Arc;

use http::request::Parts;
use l402_core::caveat::{self, ServiceTier};
use l402_core::mint::{MintRequest, ServiceGrant};
use l402_core::verify::RequestContext;
use l402_core::{Msat, PaymentHash};

use crate::rate_limit::RateLimitRule;

/// The price of a request and the token a payment buys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// The service name written into the `services` caveat. Shared: the proxy builds an offer
    /// per request from its route's, and a copy copies no text.
    pub service: Arc<str>,
    /// The price; zero means the request passes free. A token sold for this offer is bound to
    /// it (`<service>_max_price_msat`): it opens requests of the service priced at most this.
    pub price: Msat,
    /// What a token minted without a `<service>_max_price_msat` caveat (before tokens were
    /// bound to their price) is taken to have paid: it opens requests priced up to this. The
    /// service's base price; [`Offer::new`] sets it to `price`.
    pub base_price: Msat,
    /// Capabilities the route requires of the token (enforced, and minted into the tokens this
    /// offer sells).
    pub required_capabilities: Vec<String>,
    /// Capabilities minted into a new token, besides the required ones.
    pub grant_capabilities: Vec<String>,
    /// Token lifetime in seconds (`<service>_valid_until`), `None` for no expiry.
    pub token_lifetime_secs: Option<u64>,
    /// Invoice expiry in seconds.
    pub invoice_expiry_secs: u64,
    /// Invoice memo (shared, as `service`).
    pub memo: Arc<str>,
    /// Unpaid requests allowed per client IP before the paywall applies (0 = none).
    pub freebies_per_ip: u32,
    /// The client's IP (as the proxy trusts it: see `l402_server::ClientIp`), for freebies,
    /// the unpaid-challenge cap and rate limits.
    pub client_ip: Option<IpAddr>,
    /// The rate limit this request counts against, if any: per token for a request carrying a
    /// valid credential, per client otherwise (see [`Paywall::admit_request`](crate::Paywall::admit_request)).
    pub rate_limit: Option<RateLimitRule>,
    /// Forward the buyer's credential (`Authorization: L402|LSAT|Payment …`, gRPC `macaroon`
    /// metadata) to the upstream. Off (the default), the upstream sees the `X-L402-*` headers
    /// instead and never holds a credential it could replay elsewhere.
    pub forward_credential: bool,
    /// The payment schemes sold: L402, the `Payment` scheme (MPP, Lightning charge), or both.
    /// [`Offer::new`]: L402 only.
    pub protocols: crate::Protocols,
    /// Prepaid, metered billing ([`Metering`](crate::Metering)): `price` is then the deposit
    /// (what an L402 token or a session's opening costs) and each request reserves from the
    /// buyer's balance. `None` (the default): every token opens the service until it expires.
    pub metering: Option<Arc<crate::Metering>>,
}

impl Offer {
    /// An offer for `service` at `price` with Aperture's defaults: no capabilities, no expiry,
    /// one-hour invoices, memo "L402".
    pub fn new(service: impl Into<Arc<str>>, price: Msat) -> Self {
        Self {
            service: service.into(),
            price,
            base_price: price,
            required_capabilities: Vec::new(),
            grant_capabilities: Vec::new(),
            token_lifetime_secs: None,
            invoice_expiry_secs: 3600,
            memo: "L402".into(),
            freebies_per_ip: 0,
            client_ip: None,
            rate_limit: None,
            forward_credential: false,
            protocols: crate::Protocols::default(),
            metering: None,
        }
    }
}

impl Offer {
    /// The capabilities a token sold for this offer carries: the granted ones, then each
    /// required one not among them, so the buyer always gets in where they paid.
    pub fn minted_capabilities(&self) -> Vec<String> {
        let mut caps = self.grant_capabilities.clone();
        for required in &self.required_capabilities {
            if !caps.contains(required) {
                caps.push(required.clone());
            }
        }
        caps
    }

    /// The token a payment of the invoice `payment_hash` buys: `services=<service>:0`, the
    /// [minted capabilities](Offer::minted_capabilities), `<service>_max_price_msat=<price>`
    /// and, with a lifetime, `<service>_valid_until`.
    pub fn mint_request(&self, payment_hash: PaymentHash) -> MintRequest {
        MintRequest {
            payment_hash,
            grants: vec![ServiceGrant {
                service: ServiceTier {
                    name: self.service.to_string(),
                    tier: 0,
                },
                capabilities: self.minted_capabilities(),
                lifetime_secs: self.token_lifetime_secs,
            }],
            extra_caveats: vec![caveat::format_caveat(
                &caveat::max_price_condition(&self.service),
                &self.price.0.to_string(),
            )],
        }
    }

    /// What this offer asks of a token at `now_unix`: its service, required capabilities and
    /// price.
    pub fn request_context(&self, now_unix: u64) -> RequestContext<'_> {
        RequestContext {
            service: &self.service,
            required_capabilities: &self.required_capabilities,
            price: self.price,
            base_price: self.base_price,
            now_unix,
            custom: &[],
        }
    }
}

/// Prices requests. `None` means the request is not paywalled at all.
pub trait Pricer: Send + Sync + 'static {
    /// The offer for this request.
    fn offer(&self, request: &Parts) -> Option<Offer>;
}

/// The same offer for every request: the simplest way to guard an axum or tonic service.
#[derive(Debug, Clone)]
pub struct FixedPrice(pub Offer);

impl Pricer for FixedPrice {
    fn offer(&self, _request: &Parts) -> Option<Offer> {
        Some(self.0.clone())
    }
}

impl<F> Pricer for F
where
    F: Fn(&Parts) -> Option<Offer> + Send + Sync + 'static,
{
    fn offer(&self, request: &Parts) -> Option<Offer> {
        self(request)
    }
}
