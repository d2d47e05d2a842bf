//! Byte scans over credential-sized strings (a header can be 4 KB) written so the compiler turns
//! them into vector code: whole-slice reductions (`min`/`max`, OR of a branch-free predicate)
//! rather than a loop that branches on every byte. The precise, byte-by-byte search runs only
//! when a reduction says there is something to find.

/// The smallest and largest byte of `bytes` (`(255, 0)` when empty); `pminub`/`pmaxub` loops.
#[inline]
pub(crate) fn min_max(bytes: &[u8]) -> (u8, u8) {
    let min = bytes.iter().fold(u8::MAX, |m, &b| m.min(b));
    let max = bytes.iter().fold(0, |m, &b| m.max(b));
    (min, max)
}

/// Whether `pred` holds for any byte of `bytes`; reads them all, without branching on each.
/// `pred` should itself be branch-free (`&`, `|` rather than `&&`, `||`).
#[inline]
pub(crate) fn any(bytes: &[u8], pred: impl Fn(u8) -> bool) -> bool {
    bytes.iter().fold(0u8, |hits, &b| hits | u8::from(pred(b))) != 0
}

/// Offset of the first byte for which `pred` holds: [`any`] first, the search only on a hit.
#[inline]
pub(crate) fn position(bytes: &[u8], pred: impl Fn(u8) -> bool + Copy) -> Option<usize> {
    if any(bytes, pred) {
        bytes.iter().position(|&b| pred(b))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::{any as any_match, min_max, position};
    use proptest::prelude::*;

    fn byte() -> impl Strategy<Value = u8> {
        // Few distinct values, so matches are frequent; and every byte sometimes.
        prop_oneof![Just(b'a'), Just(b' '), Just(0u8), Just(0xff), 0u8..=255]
    }

    proptest! {
        #[test]
        fn agrees_with_the_iterator(bytes in proptest::collection::vec(byte(), 0..200), needle in byte()) {
            let pred = |b: u8| b == needle;
            prop_assert_eq!(position(&bytes, pred), bytes.iter().position(|&b| pred(b)));
            prop_assert_eq!(any_match(&bytes, pred), bytes.contains(&needle));
            let expected = (
                bytes.iter().copied().min().unwrap_or(u8::MAX),
                bytes.iter().copied().max().unwrap_or(0),
            );
            prop_assert_eq!(min_max(&bytes), expected);
        }
    }
}
