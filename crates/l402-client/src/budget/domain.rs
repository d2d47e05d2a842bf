//! Host matching for allow and deny lists (pure): an entry is an exact host name, or
//! `*.example.com` for any subdomain of `example.com` (not `example.com` itself). Matching
//! ignores ASCII case and a trailing dot.

/// The host as compared: lower-case, without a trailing dot.
pub fn normalize_host(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// True when `pattern` matches `host`.
pub fn matches(pattern: &str, host: &str) -> bool {
    let pattern = normalize_host(pattern.trim());
    let host = normalize_host(host);
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .strip_suffix(suffix)
            .is_some_and(|rest| rest.len() > 1 && rest.ends_with('.')),
        None => !pattern.is_empty() && pattern == host,
    }
}

/// The first entry of `list` that matches `host`.
pub fn first_match<'a>(list: &'a [String], host: &str) -> Option<&'a str> {
    list.iter()
        .map(String::as_str)
        .find(|pattern| matches(pattern, host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_wildcard() {
        assert!(matches("api.example.com", "API.Example.com."));
        assert!(!matches("api.example.com", "example.com"));
        assert!(matches("*.example.com", "a.example.com"));
        assert!(matches("*.example.com", "a.b.example.com"));
        assert!(!matches("*.example.com", "example.com"));
        assert!(!matches("*.example.com", "badexample.com"));
        assert!(!matches("", "example.com"));
        assert!(matches("127.0.0.1", "127.0.0.1"));
    }

    #[test]
    fn first_match_reports_the_rule() {
        let list = vec!["x.test".to_owned(), "*.example.com".to_owned()];
        assert_eq!(first_match(&list, "a.example.com"), Some("*.example.com"));
        assert_eq!(first_match(&list, "y.test"), None);
    }
}
