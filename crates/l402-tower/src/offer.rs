//! What a request costs and what paying for it grants.

use std::net::IpAddr;

use http::request::Parts;
use l402_core::Msat;

/// The price of a request and the token a payment buys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// The service name written into the `services` caveat.
    pub service: String,
    /// The price; zero means the request passes free.
    pub price: Msat,
    /// Capabilities the route requires of the token (enforced).
    pub required_capabilities: Vec<String>,
    /// Capabilities minted into a new token.
    pub grant_capabilities: Vec<String>,
    /// Token lifetime in seconds (`<service>_valid_until`), `None` for no expiry.
    pub token_lifetime_secs: Option<u64>,
    /// Invoice expiry in seconds.
    pub invoice_expiry_secs: u64,
    /// Invoice memo.
    pub memo: String,
    /// Unpaid requests allowed per client IP before the paywall applies (0 = none).
    pub freebies_per_ip: u32,
    /// The client's IP, for freebies.
    pub client_ip: Option<IpAddr>,
    /// Forward the buyer's L402 credential (`Authorization: L402|LSAT …`, gRPC `macaroon`
    /// metadata) to the upstream. Off (the default), the upstream sees the `X-L402-*` headers
    /// instead and never holds a credential it could replay elsewhere.
    pub forward_credential: bool,
}

impl Offer {
    /// An offer for `service` at `price` with Aperture's defaults: no capabilities, no expiry,
    /// one-hour invoices, memo "L402".
    pub fn new(service: impl Into<String>, price: Msat) -> Self {
        Self {
            service: service.into(),
            price,
            required_capabilities: Vec::new(),
            grant_capabilities: Vec::new(),
            token_lifetime_secs: None,
            invoice_expiry_secs: 3600,
            memo: "L402".into(),
            freebies_per_ip: 0,
            client_ip: None,
            forward_credential: false,
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
