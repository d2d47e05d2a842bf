//! The `Date` of an answer, formatted once a second per thread (a response costs a clock read,
//! not a formatting).

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

/// An IMF-fixdate (`Mon, 07 Dec 2026 20:32:27 GMT`) is always this long.
const LEN: usize = 29;

thread_local! {
    /// The second last formatted, and its text.
    static CACHE: RefCell<(u64, [u8; LEN])> = const { RefCell::new((u64::MAX, [0; LEN])) };
}

/// Calls `f` with the current date as a `Date` header value.
pub(super) fn with_date<R>(f: impl FnOnce(&[u8]) -> R) -> R {
    let now = SystemTime::now();
    let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.0 != second {
            let text = httpdate::fmt_http_date(now);
            if let Ok(bytes) = <[u8; LEN]>::try_from(text.as_bytes()) {
                *cache = (second, bytes);
            }
        }
        f(&cache.1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_date_is_this_second_as_http_writes_it() {
        let before = SystemTime::now();
        let text = with_date(|d| String::from_utf8(d.to_vec()).unwrap());
        let parsed = httpdate::parse_http_date(&text).unwrap();
        let after = SystemTime::now();
        let second = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_secs();
        let got = second(parsed);
        assert!(second(before) <= got && got <= second(after), "{text}");
        assert!(text.ends_with(" GMT") && text.len() == LEN, "{text}");
    }
}
