//! Whether an offer can keep its promise: the token it sells, presented back by a buyer who
//! paid, must open the request it priced. `l402 serve --check` runs this for every route.

use l402_core::credential::{Credential, CredentialScheme, PreimageSource};
use l402_core::identifier::Identifier;
use l402_core::macaroon::RootKey;
use l402_core::mint::{DEFAULT_LOCATION, mint_with_root_key, with_preimage_caveat};
use l402_core::verify::{NoRevocations, TokenError, verify_credential};
use l402_core::{Preimage, TokenId};

use crate::offer::Offer;

impl Offer {
    /// Mints the token this offer sells under a throwaway key, presents it back as the largest
    /// client form does (the `Macaroon` header, with `preimage=` appended) and verifies it
    /// against the offer. `Err` says why a buyer who paid would still be refused (a capability
    /// list or token beyond [`l402_core::limits`], say): such an offer takes money for nothing.
    pub fn check_sellable(&self) -> Result<(), TokenError> {
        const NOW: u64 = 1;
        let preimage = Preimage([7; 32]);
        let identifier = Identifier {
            payment_hash: preimage.payment_hash(),
            token_id: TokenId([1; 32]),
        };
        let root_key = RootKey::new(vec![9; 32]);
        let request = self.mint_request(identifier.payment_hash);
        let token = mint_with_root_key(&root_key, &identifier, DEFAULT_LOCATION, &request, NOW);
        let credential = Credential {
            scheme: CredentialScheme::MacaroonHeader,
            macaroons: vec![with_preimage_caveat(&token, &preimage).encode_v2()],
            preimage: PreimageSource::InCaveat,
        };
        let context = self.request_context(NOW);
        verify_credential(&credential, &root_key, &NoRevocations, &context).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use l402_core::Msat;
    use l402_core::limits::MAX_LIST_ENTRIES;

    use super::*;

    #[test]
    fn an_offer_whose_route_needs_capabilities_is_sellable() {
        let mut offer = Offer::new("api", Msat(5000));
        offer.base_price = Msat(2000);
        offer.grant_capabilities = vec!["read".into()];
        offer.required_capabilities = vec!["admin".into(), "read".into()];
        offer.token_lifetime_secs = Some(60);
        assert_eq!(offer.check_sellable(), Ok(()));
    }

    #[test]
    fn an_offer_granting_more_than_the_limit_is_not() {
        let mut offer = Offer::new("api", Msat(5000));
        offer.grant_capabilities = (0..MAX_LIST_ENTRIES).map(|i| format!("c{i}")).collect();
        assert_eq!(offer.check_sellable(), Ok(()));
        offer.required_capabilities = vec!["one-more".into()];
        let err = offer.check_sellable().unwrap_err();
        assert_eq!(err.reason_code(), "caveat_list_too_long");
    }
}
