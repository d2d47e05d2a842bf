//! What an L402 seller publishes about itself, as plain serde types shared by the seller (which
//! writes them) and the buyer (which reads them). Sans-IO: no HTTP, no clock.
//!
//! - [`Manifest`]: the free document at [`MANIFEST_PATH`] (`/.well-known/l402.json`), after
//!   the L402 discovery proposal (field names as in its reference server): services, tiers,
//!   capabilities, priced resources in msat, payment methods, caveats a buyer may add.
//! - [`QuoteRequest`], [`Quote`] and [`ErrorBody`]: `POST /l402/quote` ([`QUOTE_PATH`]).
//! - [`PaymentInfo`]: the `x-payment-info` extension of an OpenAPI operation (MPP discovery),
//!   both its `{offers: [...]}` form and the one-offer shorthand.
//!
//! - [`DirectoryEntry`]: what a public L402 directory ingests for one seller.
//!
//! Discovery is advisory: the 402 challenge a request gets is authoritative.

mod directory;
mod manifest;
mod offers;
mod pattern;
mod quote;

pub use directory::{DIRECTORY_FORMAT, DirectoryEntry, DirectoryService};
pub use manifest::{CaveatInfo, Manifest, Pricing, Provider, Resource, Service, Tier};
pub use offers::{PaymentInfo, PaymentOffer, sat_amount};
pub use pattern::path_matches;
pub use quote::{Alternative, ErrorBody, ErrorDetail, Quote, QuoteErrorCode, QuoteRequest};

/// Where the manifest is served (RFC 8615 well-known URI).
pub const MANIFEST_PATH: &str = "/.well-known/l402.json";
/// Where the OpenAPI document with `x-payment-info` is served.
pub const OPENAPI_PATH: &str = "/openapi.json";
/// Where quotes are answered (`POST`).
pub const QUOTE_PATH: &str = "/l402/quote";
/// The link relation of the `Link` header every 402 carries, pointing at the manifest.
pub const MANIFEST_REL: &str = "l402-manifest";
/// The manifest format version written and understood.
pub const MANIFEST_VERSION: &str = "1.0";
/// The `Link` header value every 402 carries.
pub const MANIFEST_LINK: &str = "</.well-known/l402.json>; rel=\"l402-manifest\"";

/// The target of a `Link` header value with relation [`MANIFEST_REL`], if any (e.g.
/// `</.well-known/l402.json>; rel="l402-manifest"` gives `/.well-known/l402.json`).
pub fn manifest_link_target(link: &str) -> Option<&str> {
    link.split(',').find_map(|entry| {
        let entry = entry.trim();
        let (target, params) = entry.strip_prefix('<')?.split_once('>')?;
        params
            .split(';')
            .filter_map(|p| p.trim().strip_prefix("rel="))
            .any(|rel| {
                rel.trim_matches('"')
                    .split_ascii_whitespace()
                    .any(|r| r.eq_ignore_ascii_case(MANIFEST_REL))
            })
            .then_some(target)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_target_is_found_among_other_links() {
        assert_eq!(
            manifest_link_target(MANIFEST_LINK),
            Some("/.well-known/l402.json")
        );
        assert_eq!(
            manifest_link_target(
                "</a>; rel=next, <https://x/m.json>; rel=\"alternate l402-manifest\""
            ),
            Some("https://x/m.json")
        );
        assert_eq!(manifest_link_target("</a>; rel=next"), None);
        assert_eq!(manifest_link_target("garbage"), None);
    }
}
