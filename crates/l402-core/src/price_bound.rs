//! `<service>_max_price_msat=<msat>`: the price a token paid binds it to routes of its service
//! that cost no more. A token bought on the dearest route opens the cheaper ones; one bought on
//! a cheap route cannot open a dearer one (its buyer gets that route's challenge instead).
//!
//! A later caveat may only lower the bound. A token without the caveat (minted before tokens
//! were bound to their price) is taken to have paid the service's base price.

use crate::Msat;
use crate::caveat;
use crate::satisfier::{
    CaveatFailure, Condition, Satisfier, canonical_of, malformed, no_higher,
    write_canonical_decimal,
};

/// Checks the requested route's price against the token's `<service>_max_price_msat`.
#[derive(Debug, Clone)]
pub struct MaxPriceSatisfier {
    condition: Condition,
    price: Msat,
    base_price: Msat,
}

impl MaxPriceSatisfier {
    /// A satisfier for a request to `service` on a route costing `price`; a token without the
    /// caveat covers routes up to `base_price`.
    pub fn new(service: &str, price: Msat, base_price: Msat) -> Self {
        Self {
            condition: Condition::new(service, caveat::MAX_PRICE_SUFFIX),
            price,
            base_price,
        }
    }

    fn not_covered(&self, paid: u64) -> CaveatFailure {
        CaveatFailure::PriceNotCovered {
            paid_msat: paid,
            price_msat: self.price.0,
        }
    }
}

impl Satisfier for MaxPriceSatisfier {
    fn condition(&self) -> &str {
        self.condition.as_str()
    }
    /// Only a route dearer than the base price needs the caveat.
    fn required(&self) -> bool {
        self.price > self.base_price
    }
    fn satisfy_missing(&self) -> CaveatFailure {
        self.not_covered(self.base_price.0)
    }
    fn satisfy_previous(&self, previous: &str, current: &str) -> Result<(), CaveatFailure> {
        no_higher(
            self.condition(),
            previous,
            current,
            caveat::parse_price_msat,
        )
    }
    fn satisfy_final(&self, value: &str) -> Result<(), CaveatFailure> {
        let paid = caveat::parse_price_msat(value).map_err(|e| malformed(self.condition(), e))?;
        if self.price.0 <= paid {
            Ok(())
        } else {
            Err(self.not_covered(paid))
        }
    }
    /// Decimal millisatoshis without leading zeros.
    fn canonical(&self, value: &str) -> String {
        canonical_of(self, value)
    }
    fn write_canonical(&self, value: &str, out: &mut String) {
        write_canonical_decimal(value, caveat::parse_price_msat, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::satisfier::check_caveats;

    fn check(caveats: &[&str], price: u64, base: u64) -> Result<(), CaveatFailure> {
        let parsed: Vec<_> = caveats
            .iter()
            .filter_map(|c| caveat::parse_caveat(c.as_bytes()))
            .collect();
        let sat = MaxPriceSatisfier::new("api", Msat(price), Msat(base));
        check_caveats(&parsed, &[&sat])
    }

    #[test]
    fn a_token_opens_routes_up_to_what_it_paid() {
        assert!(check(&["api_max_price_msat=2000"], 2000, 5000).is_ok());
        assert!(check(&["api_max_price_msat=10000"], 2000, 5000).is_ok());
        assert_eq!(
            check(&["api_max_price_msat=2000"], 10_000, 5000),
            Err(CaveatFailure::PriceNotCovered {
                paid_msat: 2000,
                price_msat: 10_000
            })
        );
        // Another service's bound says nothing about this one.
        assert!(check(&["other_max_price_msat=1"], 5000, 5000).is_ok());
    }

    #[test]
    fn later_caveats_only_lower_the_bound() {
        assert_eq!(
            check(
                &["api_max_price_msat=10000", "api_max_price_msat=2000"],
                5000,
                0
            ),
            Err(CaveatFailure::PriceNotCovered {
                paid_msat: 2000,
                price_msat: 5000
            })
        );
        assert!(matches!(
            check(
                &["api_max_price_msat=2000", "api_max_price_msat=10000"],
                1000,
                0
            ),
            Err(CaveatFailure::Widened { .. })
        ));
    }

    #[test]
    fn a_token_without_the_caveat_covers_the_base_price() {
        assert!(check(&[], 5000, 5000).is_ok());
        assert!(check(&[], 1000, 5000).is_ok());
        assert_eq!(
            check(&[], 5001, 5000),
            Err(CaveatFailure::PriceNotCovered {
                paid_msat: 5000,
                price_msat: 5001
            })
        );
    }

    #[test]
    fn malformed_bounds_are_refused() {
        for bad in [
            "api_max_price_msat=",
            "api_max_price_msat=-1",
            "api_max_price_msat=1e3",
        ] {
            assert!(
                matches!(check(&[bad], 1, 0), Err(CaveatFailure::Malformed { .. })),
                "{bad} accepted"
            );
        }
    }
}
