//! Budget arithmetic (pure): rolling windows, and whether one more payment fits.

use l402_core::Msat;
use l402_store::{SpendQuery, SpendTotals};

use super::domain::{first_match, normalize_host};
use super::{Budget, BudgetError, Limit};

/// Length of the hourly window, seconds.
pub const HOUR_SECS: u64 = 3600;
/// Length of the daily window, seconds.
pub const DAY_SECS: u64 = 86_400;

/// The store query for the rolling windows ending at `now`: a payment made at `t` counts in the
/// hourly window while `now < t + 3600`, and in the daily window while `now < t + 86400`.
pub fn spend_query(now: u64, domain: Option<&str>) -> SpendQuery {
    SpendQuery {
        hour_since: now.saturating_sub(HOUR_SECS - 1),
        day_since: now.saturating_sub(DAY_SECS - 1),
        domain: domain.map(normalize_host),
    }
}

/// Refuses hosts on the deny list, and hosts missing from a non-empty allow list.
pub fn check_domain(budget: &Budget, host: &str) -> Result<(), BudgetError> {
    if let Some(rule) = first_match(&budget.deny_domains, host) {
        return Err(BudgetError::DomainDenied {
            domain: normalize_host(host),
            rule: rule.to_owned(),
        });
    }
    if !budget.allow_domains.is_empty() && first_match(&budget.allow_domains, host).is_none() {
        return Err(BudgetError::DomainNotAllowed {
            domain: normalize_host(host),
        });
    }
    Ok(())
}

/// Whether a payment costing `cost` (amount plus maximum fee) to `host` fits, given what was
/// already spent. Checks, in order: per request, hourly, daily, total, the host's limit.
pub fn check_amounts(
    budget: &Budget,
    host: &str,
    cost: Msat,
    spent: &SpendTotals,
) -> Result<(), BudgetError> {
    let host = normalize_host(host);
    let per_domain = budget.per_domain.iter().find_map(|(h, limit)| {
        (normalize_host(h) == host).then(|| (Limit::Domain(host.clone()), *limit, spent.domain))
    });
    let limits = [
        budget
            .max_per_request
            .map(|l| (Limit::PerRequest, l, Msat(0))),
        budget.hourly.map(|l| (Limit::Hourly, l, spent.hour)),
        budget.daily.map(|l| (Limit::Daily, l, spent.day)),
        budget.total.map(|l| (Limit::Total, l, spent.total)),
        per_domain,
    ];
    for (limit, limit_value, already_spent) in limits.into_iter().flatten() {
        if already_spent.0.saturating_add(cost.0) > limit_value.0 {
            return Err(BudgetError::Exceeded {
                limit,
                would_spend: cost,
                limit_value,
                already_spent,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(hour: u64, day: u64, total: u64, domain: u64) -> SpendTotals {
        SpendTotals {
            hour: Msat::from_sat(hour),
            day: Msat::from_sat(day),
            total: Msat::from_sat(total),
            domain: Msat::from_sat(domain),
        }
    }

    fn budget() -> Budget {
        Budget {
            max_per_request: Some(Msat::from_sat(100)),
            hourly: Some(Msat::from_sat(200)),
            daily: Some(Msat::from_sat(1000)),
            total: Some(Msat::from_sat(5000)),
            per_domain: [("api.test".to_owned(), Msat::from_sat(300))].into(),
            ..Budget::unlimited()
        }
    }

    fn limit_of(r: Result<(), BudgetError>) -> Option<Limit> {
        match r {
            Err(BudgetError::Exceeded { limit, .. }) => Some(limit),
            _ => None,
        }
    }

    #[test]
    fn windows_are_rolling() {
        let q = spend_query(10_000, Some("API.test"));
        assert_eq!(q.hour_since, 10_000 - 3599);
        assert_eq!(q.day_since, 0);
        assert_eq!(spend_query(100_000, None).day_since, 100_000 - 86_399);
        assert_eq!(q.domain.as_deref(), Some("api.test"));
        assert_eq!(spend_query(5, None).hour_since, 0);
    }

    #[test]
    fn each_limit_refuses_in_order() {
        let b = budget();
        let cost = Msat::from_sat(80);
        assert_eq!(
            check_amounts(&b, "api.test", cost, &totals(0, 0, 0, 0)),
            Ok(())
        );
        assert_eq!(
            limit_of(check_amounts(
                &b,
                "x",
                Msat::from_sat(101),
                &totals(0, 0, 0, 0)
            )),
            Some(Limit::PerRequest)
        );
        assert_eq!(
            limit_of(check_amounts(&b, "x", cost, &totals(121, 121, 121, 0))),
            Some(Limit::Hourly)
        );
        assert_eq!(
            limit_of(check_amounts(&b, "x", cost, &totals(0, 921, 921, 0))),
            Some(Limit::Daily)
        );
        assert_eq!(
            limit_of(check_amounts(&b, "x", cost, &totals(0, 0, 4921, 0))),
            Some(Limit::Total)
        );
        assert_eq!(
            limit_of(check_amounts(&b, "API.test", cost, &totals(0, 0, 0, 221))),
            Some(Limit::Domain("api.test".into()))
        );
        // Another host's spending does not count against api.test's limit.
        assert_eq!(
            check_amounts(&b, "other.test", cost, &totals(0, 0, 0, 900)),
            Ok(())
        );
    }

    #[test]
    fn exactly_at_the_limit_fits() {
        let b = budget();
        assert_eq!(
            check_amounts(&b, "x", Msat::from_sat(80), &totals(120, 120, 120, 0)),
            Ok(())
        );
    }

    #[test]
    fn the_error_carries_the_numbers() {
        let b = Budget {
            daily: Some(Msat::from_sat(1000)),
            ..Budget::unlimited()
        };
        let err = check_amounts(&b, "x", Msat::from_sat(80), &totals(0, 960, 960, 0)).unwrap_err();
        assert_eq!(
            err,
            BudgetError::Exceeded {
                limit: Limit::Daily,
                would_spend: Msat::from_sat(80),
                limit_value: Msat::from_sat(1000),
                already_spent: Msat::from_sat(960),
            }
        );
    }

    #[test]
    fn deny_wins_and_empty_allow_list_allows_all() {
        let mut b = Budget::unlimited();
        assert_eq!(check_domain(&b, "anything.test"), Ok(()));
        b.allow_domains = vec!["*.example.com".into(), "api.test".into()];
        assert_eq!(check_domain(&b, "a.example.com"), Ok(()));
        assert_eq!(
            check_domain(&b, "evil.test"),
            Err(BudgetError::DomainNotAllowed {
                domain: "evil.test".into()
            })
        );
        b.deny_domains = vec!["a.example.com".into()];
        assert_eq!(
            check_domain(&b, "A.example.com"),
            Err(BudgetError::DomainDenied {
                domain: "a.example.com".into(),
                rule: "a.example.com".into()
            })
        );
    }
}
