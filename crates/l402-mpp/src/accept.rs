//! `Accept-Payment`: the client's ranked method/intent preference,
//! `lightning/charge, lightning/session;q=0.5, */*;q=0.1`.

/// One range of an `Accept-Payment` value.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentRange {
    /// A method name or `*`.
    pub method: String,
    /// An intent or `*`.
    pub intent: String,
    /// The weight, 0 to 1 (default 1).
    pub q: f32,
}

impl PaymentRange {
    /// Whether the range covers `method`/`intent`.
    pub fn matches(&self, method: &str, intent: &str) -> bool {
        (self.method == "*" || self.method.eq_ignore_ascii_case(method))
            && (self.intent == "*" || self.intent.eq_ignore_ascii_case(intent))
    }
}

/// Reads an `Accept-Payment` value; malformed elements are skipped (the draft lets servers
/// ignore them).
pub fn parse(value: &str) -> Vec<PaymentRange> {
    value
        .split(',')
        .filter_map(|element| {
            let mut parts = element.split(';');
            let (method, intent) = parts.next()?.trim().split_once('/')?;
            if method.is_empty() || intent.is_empty() {
                return None;
            }
            let mut q = 1.0;
            for p in parts {
                let (k, v) = p.trim().split_once('=')?;
                if k.trim().eq_ignore_ascii_case("q") {
                    q = v
                        .trim()
                        .parse::<f32>()
                        .ok()
                        .filter(|q| (0.0..=1.0).contains(q))?;
                }
            }
            Some(PaymentRange {
                method: method.to_owned(),
                intent: intent.to_owned(),
                q,
            })
        })
        .collect()
}

/// The weight the client gives `method`/`intent`: the most specific matching range's; 1 when
/// the header is absent (`ranges` empty), 0 when nothing matches.
pub fn weight(ranges: &[PaymentRange], method: &str, intent: &str) -> f32 {
    if ranges.is_empty() {
        return 1.0;
    }
    ranges
        .iter()
        .filter(|r| r.matches(method, intent))
        .max_by_key(|r| u8::from(r.method != "*") + u8::from(r.intent != "*"))
        .map_or(0.0, |r| r.q)
}

/// Writes ranges as a header value (`q` only when below 1).
pub fn format(ranges: &[PaymentRange]) -> String {
    ranges
        .iter()
        .map(|r| {
            if r.q < 1.0 {
                format!("{}/{};q={}", r.method, r.intent, r.q)
            } else {
                format!("{}/{}", r.method, r.intent)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_specific_range_wins() {
        let r = parse("lightning/charge, lightning/session;q=0.5, */*;q=0.1, bad, x/y;q=7");
        assert_eq!(r.len(), 3);
        assert_eq!(weight(&r, "lightning", "charge"), 1.0);
        assert_eq!(weight(&r, "lightning", "session"), 0.5);
        assert_eq!(weight(&r, "tempo", "charge"), 0.1);
        assert_eq!(
            weight(&parse("lightning/*;q=0"), "lightning", "charge"),
            0.0
        );
        assert_eq!(weight(&[], "tempo", "charge"), 1.0);
        assert_eq!(
            format(&r),
            "lightning/charge, lightning/session;q=0.5, */*;q=0.1"
        );
    }
}
