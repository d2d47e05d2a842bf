//! Path segments and query values of admin API calls.

use std::fmt::Write as _;

/// Percent-encodes everything but RFC 3986's unreserved characters, for a path segment or a
/// query value of an admin API call (a service name, a token id, a filter).
///
/// ```
/// assert_eq!(l402_admin_client::encode_component("a b/c~"), "a%20b%2Fc~");
/// ```
pub fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}
