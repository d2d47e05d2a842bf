//! Satisfiers: for each condition, every later caveat may only narrow the one before it, and the
//! last one decides. Conditions nobody registered a satisfier for are skipped (they may be meant
//! for another service), as Aperture does.

use std::borrow::Cow;

use crate::caveat::{self, CaveatRef, CaveatValueError};

/// A caveat that fails verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CaveatFailure {
    /// The token expired (`<service>_valid_until` is not after now).
    #[error("token expired at {valid_until} (now {now})")]
    Expired {
        /// The last `_valid_until` value.
        valid_until: u64,
        /// The verifier's clock.
        now: u64,
    },
    /// The token does not cover the requested service.
    #[error("token does not cover service {service:?}")]
    WrongService {
        /// The service the request is for.
        service: String,
    },
    /// The token lacks a capability the route requires.
    #[error("token lacks capability {capability:?}")]
    MissingCapability {
        /// The missing capability.
        capability: String,
    },
    /// The token paid less than the requested route costs (`<service>_max_price_msat`, or the
    /// service's base price for a token minted without that caveat).
    #[error(
        "token paid for routes up to {paid_msat} msat; this one costs {price_msat} msat: pay its challenge to upgrade"
    )]
    PriceNotCovered {
        /// What the token covers, in millisatoshis.
        paid_msat: u64,
        /// The requested route's price, in millisatoshis.
        price_msat: u64,
    },
    /// A later caveat tries to widen an earlier one.
    #[error("caveat {condition:?} widens an earlier one")]
    Widened {
        /// The condition.
        condition: String,
    },
    /// A standard caveat's value does not parse.
    #[error("malformed caveat {condition:?}: {error}")]
    Malformed {
        /// The condition.
        condition: String,
        /// What is wrong.
        error: CaveatValueError,
    },
    /// A custom satisfier refused the caveat.
    #[error("caveat {condition:?} not satisfied: {reason}")]
    Custom {
        /// The condition.
        condition: String,
        /// Why.
        reason: String,
    },
}

/// Checks one condition. Implement this to add custom caveats.
pub trait Satisfier {
    /// The exact condition this satisfier handles.
    fn condition(&self) -> &str;
    /// Whether a token without this condition fails (with [`Satisfier::satisfy_missing`]).
    fn required(&self) -> bool {
        false
    }
    /// The failure for a token that lacks a required condition.
    fn satisfy_missing(&self) -> CaveatFailure {
        CaveatFailure::Custom {
            condition: self.condition().to_owned(),
            reason: "required caveat missing".into(),
        }
    }
    /// Checks that `current` only narrows `previous` (both values of this condition).
    fn satisfy_previous(&self, previous: &str, current: &str) -> Result<(), CaveatFailure>;
    /// Checks the last value of this condition against the request.
    fn satisfy_final(&self, value: &str) -> Result<(), CaveatFailure>;
    /// The canonical spelling of a value [`Satisfier::satisfy_final`] accepted: what is
    /// forwarded to the upstream as the checked caveat (see [`check_caveats_canonical`]). The
    /// default is the value as it was written.
    fn canonical(&self, value: &str) -> String {
        value.to_owned()
    }
    /// Appends [`Satisfier::canonical`] of `value` to `out` (what the verifier calls; the
    /// standard satisfiers write it without an intermediate `String`).
    fn write_canonical(&self, value: &str, out: &mut String) {
        out.push_str(&self.canonical(value));
    }
}

/// The canonical form a satisfier writes, as a `String`.
pub(crate) fn canonical_of(satisfier: &dyn Satisfier, value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    satisfier.write_canonical(value, &mut out);
    out
}

/// Appends `n` in decimal.
fn write_decimal(n: u64, out: &mut String) {
    use std::fmt::Write as _;
    // Writing to a String cannot fail.
    let _ = write!(out, "{n}");
}

/// A `<service><suffix>` condition (`weather_capabilities`), kept inline when it fits: the
/// standard satisfiers are built for every verification, and this spares each a heap
/// allocation.
#[derive(Debug, Clone)]
pub(crate) enum Condition {
    /// Up to 64 bytes, and how many are used.
    Inline([u8; 64], u8),
    /// A longer one.
    Heap(String),
}

impl Condition {
    pub(crate) fn new(service: &str, suffix: &str) -> Self {
        let len = service.len() + suffix.len();
        if len > 64 {
            return Self::Heap([service, suffix].concat());
        }
        let mut inline = [0u8; 64];
        inline[..service.len()].copy_from_slice(service.as_bytes());
        inline[service.len()..len].copy_from_slice(suffix.as_bytes());
        // At most 64: fits.
        Self::Inline(inline, len as u8)
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            Self::Heap(heap) => heap,
            // Two `str`s copied whole: valid UTF-8.
            Self::Inline(bytes, len) => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
        }
    }
}

pub(crate) fn malformed(condition: &str, error: CaveatValueError) -> CaveatFailure {
    CaveatFailure::Malformed {
        condition: condition.to_owned(),
        error,
    }
}

fn widened(condition: &str) -> CaveatFailure {
    CaveatFailure::Widened {
        condition: condition.to_owned(),
    }
}

/// The narrowing rule of a numeric bound (an expiry, a price): `current` may not exceed
/// `previous`; both must parse with `parse`.
pub(crate) fn no_higher(
    condition: &str,
    previous: &str,
    current: &str,
    parse: fn(&str) -> Result<u64, CaveatValueError>,
) -> Result<(), CaveatFailure> {
    let prev = parse(previous).map_err(|e| malformed(condition, e))?;
    let cur = parse(current).map_err(|e| malformed(condition, e))?;
    if cur <= prev {
        Ok(())
    } else {
        Err(widened(condition))
    }
}

/// `services=name:tier,...`: the requested service must be listed; a later caveat may only drop
/// services or lower tiers. Required: a token without it covers nothing.
#[derive(Debug, Clone)]
pub struct ServicesSatisfier<'a> {
    /// The service the request is for.
    pub target: Cow<'a, str>,
}

impl Satisfier for ServicesSatisfier<'_> {
    fn condition(&self) -> &str {
        caveat::SERVICES
    }
    fn required(&self) -> bool {
        true
    }
    fn satisfy_missing(&self) -> CaveatFailure {
        CaveatFailure::WrongService {
            service: self.target.clone().into_owned(),
        }
    }
    fn satisfy_previous(&self, previous: &str, current: &str) -> Result<(), CaveatFailure> {
        let parse =
            |v| caveat::parse_service_entries(v).map_err(|e| malformed(caveat::SERVICES, e));
        let mut prev = parse(previous)?;
        let cur = parse(current)?;
        // Sorted by name then tier, the last entry of a name holds its highest tier: each
        // current entry is a binary search, so a long list costs n log n, not n².
        prev.sort_unstable();
        let narrows = cur.iter().all(|&(name, tier)| {
            let after = prev.partition_point(|&(p, _)| p <= name);
            after > 0 && prev[after - 1].0 == name && tier <= prev[after - 1].1
        });
        if narrows {
            Ok(())
        } else {
            Err(widened(caveat::SERVICES))
        }
    }
    fn satisfy_final(&self, value: &str) -> Result<(), CaveatFailure> {
        // Every entry is checked, the target found or not: a malformed list is refused as such.
        let mut found = false;
        for entry in caveat::service_entries(value) {
            let Some((name, _)) = entry else {
                return Err(malformed(
                    caveat::SERVICES,
                    CaveatValueError::Services(value.to_owned()),
                ));
            };
            found |= name == self.target;
        }
        if found {
            Ok(())
        } else {
            Err(CaveatFailure::WrongService {
                service: self.target.clone().into_owned(),
            })
        }
    }
    /// `name:tier` entries with decimal tiers (no leading zeros), comma-separated.
    fn canonical(&self, value: &str) -> String {
        canonical_of(self, value)
    }
    fn write_canonical(&self, value: &str, out: &mut String) {
        if caveat::service_entries(value).any(|entry| entry.is_none()) {
            out.push_str(value);
            return;
        }
        for (i, (name, tier)) in caveat::service_entries(value).flatten().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(name);
            out.push(':');
            write_decimal(tier.into(), out);
        }
    }
}

/// `<service>_capabilities=a,b`: every required capability must be in the last list; a later
/// list must be a subset of the one before. Required only when the route needs capabilities.
#[derive(Debug, Clone)]
pub struct CapabilitiesSatisfier<'a> {
    condition: Condition,
    required: Cow<'a, [String]>,
}

impl<'a> CapabilitiesSatisfier<'a> {
    /// A satisfier for `service` demanding `required` capabilities (owned, or borrowed from the
    /// route).
    pub fn new(service: &str, required: impl Into<Cow<'a, [String]>>) -> Self {
        Self {
            condition: Condition::new(service, caveat::CAPABILITIES_SUFFIX),
            required: required.into(),
        }
    }
}

impl Satisfier for CapabilitiesSatisfier<'_> {
    fn condition(&self) -> &str {
        self.condition.as_str()
    }
    fn required(&self) -> bool {
        !self.required.is_empty()
    }
    fn satisfy_missing(&self) -> CaveatFailure {
        CaveatFailure::MissingCapability {
            capability: self.required.first().cloned().unwrap_or_default(),
        }
    }
    fn satisfy_previous(&self, previous: &str, current: &str) -> Result<(), CaveatFailure> {
        if current == previous || is_in_order_subset(current, previous) {
            return Ok(());
        }
        // Out of order: sorted once, each current entry is a binary search (n log n, not n²).
        let mut prev: Vec<&str> = caveat::parse_capabilities(previous).collect();
        prev.sort_unstable();
        let subset = caveat::parse_capabilities(current).all(|c| prev.binary_search(&c).is_ok());
        if subset {
            Ok(())
        } else {
            Err(widened(self.condition.as_str()))
        }
    }
    fn satisfy_final(&self, value: &str) -> Result<(), CaveatFailure> {
        match self
            .required
            .iter()
            .find(|r| !caveat::parse_capabilities(value).any(|have| have == r.as_str()))
        {
            None => Ok(()),
            Some(missing) => Err(CaveatFailure::MissingCapability {
                capability: missing.clone(),
            }),
        }
    }
    /// The capabilities trimmed, empty entries dropped, comma-separated.
    fn canonical(&self, value: &str) -> String {
        canonical_of(self, value)
    }
    fn write_canonical(&self, value: &str, out: &mut String) {
        for (i, capability) in caveat::parse_capabilities(value).enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(capability);
        }
    }
}

/// Whether every capability of `current` is in `previous`, found in the same order (how a
/// holder narrows a list: by dropping entries). One pass over both; `false` when out of order,
/// even if it is a subset (the caller then checks it the general way).
fn is_in_order_subset(current: &str, previous: &str) -> bool {
    let mut prev = caveat::parse_capabilities(previous);
    caveat::parse_capabilities(current).all(|c| prev.any(|p| p == c))
}

/// `<service>_valid_until=<unix seconds>`: valid while now is strictly before the last value; a
/// later value may not be later than the one before.
#[derive(Debug, Clone)]
pub struct ValidUntilSatisfier {
    condition: Condition,
    now: u64,
}

impl ValidUntilSatisfier {
    /// A satisfier for `service` at time `now`.
    pub fn new(service: &str, now: u64) -> Self {
        Self {
            condition: Condition::new(service, caveat::VALID_UNTIL_SUFFIX),
            now,
        }
    }
}

impl Satisfier for ValidUntilSatisfier {
    fn condition(&self) -> &str {
        self.condition.as_str()
    }
    fn satisfy_previous(&self, previous: &str, current: &str) -> Result<(), CaveatFailure> {
        no_higher(self.condition(), previous, current, caveat::parse_timestamp)
    }
    fn satisfy_final(&self, value: &str) -> Result<(), CaveatFailure> {
        let valid_until =
            caveat::parse_timestamp(value).map_err(|e| malformed(self.condition(), e))?;
        if self.now < valid_until {
            Ok(())
        } else {
            Err(CaveatFailure::Expired {
                valid_until,
                now: self.now,
            })
        }
    }
    /// Decimal Unix seconds without leading zeros.
    fn canonical(&self, value: &str) -> String {
        canonical_of(self, value)
    }
    fn write_canonical(&self, value: &str, out: &mut String) {
        write_canonical_decimal(value, caveat::parse_timestamp, out);
    }
}

/// Appends a decimal value re-spelled without leading zeros (as written if it does not parse).
pub(crate) fn write_canonical_decimal(
    value: &str,
    parse: fn(&str) -> Result<u64, CaveatValueError>,
    out: &mut String,
) {
    match parse(value) {
        Ok(n) => write_decimal(n, out),
        Err(_) => out.push_str(value),
    }
}

/// Runs `satisfiers` over the caveats in macaroon order.
pub fn check_caveats(
    caveats: &[CaveatRef<'_>],
    satisfiers: &[&dyn Satisfier],
) -> Result<(), CaveatFailure> {
    check_caveats_canonical(caveats, satisfiers).map(drop)
}

/// Runs `satisfiers` over the caveats in macaroon order, and returns the caveats they checked:
/// for each satisfier whose condition the token carries, the deciding (last) value in the
/// satisfier's canonical form, as `condition=value`, in satisfier order. Caveats no satisfier
/// handles (skipped as unknown) and the narrower values a later caveat replaced are not in it.
pub fn check_caveats_canonical(
    caveats: &[CaveatRef<'_>],
    satisfiers: &[&dyn Satisfier],
) -> Result<Vec<String>, CaveatFailure> {
    let mut checked = Vec::with_capacity(satisfiers.len());
    for satisfier in satisfiers {
        // Asked once: `condition` is a dynamic call, and the caveats are many.
        let condition = satisfier.condition();
        let mut values = caveats
            .iter()
            .filter(|c| c.condition == condition)
            .map(|c| c.value);
        let Some(mut last) = values.next() else {
            if satisfier.required() {
                return Err(satisfier.satisfy_missing());
            }
            continue;
        };
        for value in values {
            satisfier.satisfy_previous(last, value)?;
            last = value;
        }
        satisfier.satisfy_final(last)?;
        // The canonical value is at most the value's length, or a little more for a number
        // re-spelled from another form.
        let mut entry = String::with_capacity(condition.len() + 1 + last.len() + 8);
        entry.push_str(condition);
        entry.push('=');
        satisfier.write_canonical(last, &mut entry);
        checked.push(entry);
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(items: &[&'static str]) -> Vec<CaveatRef<'static>> {
        items
            .iter()
            .filter_map(|s| caveat::parse_caveat(s.as_bytes()))
            .collect()
    }

    #[test]
    fn a_condition_reads_back_inline_or_on_the_heap() {
        assert_eq!(
            Condition::new("weather", "_valid_until").as_str(),
            "weather_valid_until"
        );
        let long = "s".repeat(60);
        assert_eq!(
            Condition::new(&long, "_capabilities").as_str(),
            format!("{long}_capabilities")
        );
        assert!(matches!(
            Condition::new(&long, "_x"),
            Condition::Inline(_, 62)
        ));
    }

    #[test]
    fn a_capability_list_narrows_in_order_or_not_and_never_widens() {
        let sat = CapabilitiesSatisfier::new("svc", vec!["b".to_owned()]);
        let narrows = |prev: &str, cur: &str| sat.satisfy_previous(prev, cur).is_ok();
        assert!(narrows("a,b,c", "a,c"), "entries dropped, order kept");
        assert!(narrows("a,b,c", "c,a"), "entries dropped, reordered");
        assert!(narrows("a, b ,c", "b,c"), "spacing does not matter");
        assert!(narrows("a,b", "a,a"), "a repeated entry adds nothing");
        assert!(narrows("a,b", ""), "everything dropped");
        assert!(!narrows("a,b", "a,d"), "a new capability widens");
        assert!(
            !narrows("a,b", "b,a,d"),
            "a new capability widens, out of order too"
        );
        assert!(!narrows("", "a"));
        assert!(is_in_order_subset("a,c", "a,b,c"));
        assert!(!is_in_order_subset("c,a", "a,b,c"));
    }

    #[test]
    fn aperture_valid_until_vectors() {
        let now = 1_000_000;
        let sat = ValidUntilSatisfier::new("svc", now);
        let cav = |vals: &[u64]| -> Vec<String> {
            vals.iter()
                .map(|v| format!("svc_valid_until={v}"))
                .collect()
        };
        let check = |vals: &[u64]| {
            let owned = cav(vals);
            let parsed: Vec<_> = owned
                .iter()
                .filter_map(|s| caveat::parse_caveat(s.as_bytes()))
                .collect();
            check_caveats(&parsed, &[&sat])
        };
        assert!(check(&[now + 1000]).is_ok());
        assert!(matches!(
            check(&[now - 1000]),
            Err(CaveatFailure::Expired { .. })
        ));
        assert!(check(&[now + 1000, now + 500]).is_ok());
        assert!(matches!(
            check(&[now + 500, now + 1000]),
            Err(CaveatFailure::Widened { .. })
        ));
        assert!(
            matches!(check(&[now]), Err(CaveatFailure::Expired { .. })),
            "expiry is strict"
        );
    }

    #[test]
    fn services_narrowing_and_target() {
        let sat = ServicesSatisfier { target: "b".into() };
        assert!(check_caveats(&refs(&["services=a:0,b:1"]), &[&sat]).is_ok());
        assert!(check_caveats(&refs(&["services=a:0,b:1", "services=b:0"]), &[&sat]).is_ok());
        assert!(matches!(
            check_caveats(&refs(&["services=a:0,b:1", "services=a:0"]), &[&sat]),
            Err(CaveatFailure::WrongService { .. })
        ));
        assert!(matches!(
            check_caveats(&refs(&["services=a:0", "services=a:0,b:0"]), &[&sat]),
            Err(CaveatFailure::Widened { .. })
        ));
        assert!(matches!(
            check_caveats(&refs(&["services=b:0", "services=b:1"]), &[&sat]),
            Err(CaveatFailure::Widened { .. })
        ));
        assert!(matches!(
            check_caveats(&refs(&[]), &[&sat]),
            Err(CaveatFailure::WrongService { .. })
        ));
        assert!(matches!(
            check_caveats(&refs(&["services=b"]), &[&sat]),
            Err(CaveatFailure::Malformed { .. })
        ));
    }

    #[test]
    fn checked_caveats_are_the_deciding_values_in_canonical_form() {
        let services = ServicesSatisfier {
            target: "svc".into(),
        };
        let capabilities = CapabilitiesSatisfier::new("svc", vec!["read".into()]);
        let expiry = ValidUntilSatisfier::new("svc", 10);
        let price =
            crate::price_bound::MaxPriceSatisfier::new("svc", crate::Msat(5), crate::Msat(5));
        let satisfiers: [&dyn Satisfier; 4] = [&services, &capabilities, &price, &expiry];
        let checked = check_caveats_canonical(
            &refs(&[
                "services=svc:01,other:2",
                "role=admin",
                "svc_capabilities=read,write",
                "svc_capabilities= read ,,",
                "svc_valid_until=0100",
                "other_capabilities=everything",
            ]),
            &satisfiers,
        )
        .unwrap();
        // Unknown and other services' caveats are not among them; a narrowed condition appears
        // once, with its last value; no `_max_price_msat` in the token, none reported.
        assert_eq!(
            checked,
            [
                "services=svc:1,other:2",
                "svc_capabilities=read",
                "svc_valid_until=100"
            ]
        );
        assert!(check_caveats_canonical(&refs(&["services=other:0"]), &satisfiers).is_err());
    }

    #[test]
    fn capabilities_enforced() {
        let need_write = CapabilitiesSatisfier::new("svc", vec!["write".into()]);
        let need_none = CapabilitiesSatisfier::new("svc", vec![]);
        assert!(check_caveats(&refs(&["svc_capabilities=read,write"]), &[&need_write]).is_ok());
        assert!(matches!(
            check_caveats(
                &refs(&["svc_capabilities=read,write", "svc_capabilities=read"]),
                &[&need_write]
            ),
            Err(CaveatFailure::MissingCapability { .. })
        ));
        assert!(matches!(
            check_caveats(
                &refs(&["svc_capabilities=read", "svc_capabilities=read,write"]),
                &[&need_write]
            ),
            Err(CaveatFailure::Widened { .. })
        ));
        assert!(matches!(
            check_caveats(&refs(&[]), &[&need_write]),
            Err(CaveatFailure::MissingCapability { .. })
        ));
        assert!(check_caveats(&refs(&[]), &[&need_none]).is_ok());
        assert!(check_caveats(&refs(&["svc_capabilities="]), &[&need_none]).is_ok());
        // Other services' caveats are ignored.
        assert!(
            check_caveats(
                &refs(&["other_capabilities=", "svc_capabilities=write"]),
                &[&need_write]
            )
            .is_ok()
        );
    }
}
