//! Turns the proxy's routing decision into the paywall's offer.

use l402_core::Msat;
use l402_server::{ClientAddr, RouteDecision};
use l402_tower::{Offer, Pricer};

/// Prices each request from the [`RouteDecision`] the proxy attached; free routes pass.
#[derive(Debug, Clone, Copy, Default)]
pub struct RoutePricer;

impl Pricer for RoutePricer {
    fn offer(&self, request: &http::request::Parts) -> Option<Offer> {
        let decision = request.extensions.get::<RouteDecision>()?;
        if decision.free {
            return None;
        }
        let service = &decision.service;
        Some(Offer {
            service: service.name.clone(),
            price: Msat(decision.price_msat),
            required_capabilities: decision.required_capabilities.clone(),
            grant_capabilities: service.capabilities.clone(),
            token_lifetime_secs: (service.token_lifetime_secs > 0)
                .then_some(service.token_lifetime_secs),
            invoice_expiry_secs: service.invoice_expiry_secs,
            memo: service.memo.clone().unwrap_or_else(|| "L402".to_owned()),
            freebies_per_ip: service.freebies_per_ip,
            client_ip: request.extensions.get::<ClientAddr>().map(|a| a.0.ip()),
        })
    }
}
