//! Read buffers kept per worker thread between requests: a connection waiting for its next
//! request holds no buffer (idle connections cost little memory), yet a busy one does not pay
//! for an allocation and a free of 8 KiB per request.

use std::cell::RefCell;

use bytes::BytesMut;

use crate::h1_io::READ_CAPACITY;

/// The most buffers kept per thread (512 KiB at 8 KiB each).
const KEEP: usize = 64;

thread_local! {
    static SPARE: RefCell<Vec<BytesMut>> = const { RefCell::new(Vec::new()) };
}

/// A buffer for a connection that has something to read: a kept one, or a new empty one (the
/// read reserves its room).
pub(super) fn take() -> BytesMut {
    SPARE
        .with(|spare| spare.borrow_mut().pop())
        .unwrap_or_default()
}

/// Keeps the empty `buf` of a connection that is going to wait, when it still has the room
/// of a read and the thread keeps fewer than [`KEEP`]; else it is freed.
pub(super) fn give_back(buf: BytesMut) {
    debug_assert!(buf.is_empty());
    if buf.capacity() < READ_CAPACITY / 2 {
        return;
    }
    SPARE.with(|spare| {
        let mut spare = spare.borrow_mut();
        if spare.len() < KEEP {
            spare.push(buf);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_given_back_is_taken_again_and_small_ones_are_not_kept() {
        let buf = BytesMut::with_capacity(READ_CAPACITY);
        let at = buf.as_ptr();
        give_back(buf);
        let again = take();
        assert_eq!(again.as_ptr(), at, "the same allocation");
        give_back(BytesMut::with_capacity(16));
        assert_eq!(take().capacity(), 0, "a small buffer is not kept");
        for _ in 0..KEEP + 5 {
            give_back(BytesMut::with_capacity(READ_CAPACITY));
        }
        let kept = std::iter::from_fn(|| Some(take()).filter(|b| b.capacity() > 0)).count();
        assert_eq!(kept, KEEP);
    }
}
