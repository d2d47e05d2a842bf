//! Resource path patterns, as the seller's routing reads them: `*` matches any run of
//! characters inside one segment; a `*` that ends the pattern also matches the rest of the
//! path, across segments; a pattern ending in `/*` also matches the bare prefix. A pattern
//! without `*` matches exactly.

/// Whether `path` matches `pattern`.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    if let Some(prefix) = pattern.strip_suffix("/*")
        && path == prefix
    {
        return true;
    }
    glob(pattern.as_bytes(), path.as_bytes(), true)
}

/// Matches with `*` not crossing `/`, except a final `*` (when `last_star_spans`).
fn glob(pattern: &[u8], path: &[u8], last_star_spans: bool) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((b'*', rest)) => {
            if rest.is_empty() && last_star_spans {
                return true;
            }
            // Try every split inside the current segment.
            let mut i = 0;
            loop {
                if glob(rest, &path[i..], last_star_spans) {
                    return true;
                }
                if i == path.len() || path[i] == b'/' {
                    return false;
                }
                i += 1;
            }
        }
        Some((c, rest)) => path
            .split_first()
            .is_some_and(|(p, path_rest)| p == c && glob(rest, path_rest, last_star_spans)),
    }
}

#[cfg(test)]
mod tests {
    use super::path_matches;

    #[test]
    fn patterns_match_as_the_seller_routes() {
        assert!(path_matches("/api/weather", "/api/weather"));
        assert!(!path_matches("/api/weather", "/api/weather/x"));
        assert!(path_matches("/api/*", "/api"));
        assert!(path_matches("/api/*", "/api/a/b"));
        assert!(path_matches("/*", "/anything/at/all"));
        assert!(path_matches("/items/*/price", "/items/42/price"));
        assert!(!path_matches("/items/*/price", "/items/4/2/price"));
        assert!(!path_matches("/api/*", "/apix"));
    }
}
