//! HMAC-SHA256 (RFC 2104) written on SHA-256's compression function, for the signature chain.
//!
//! A chain step hashes a 32-byte key's two padded blocks and a caveat of a few dozen bytes:
//! about four compressions. Through the `hmac`/`digest` stack, the buffering and finalisation
//! around those compressions cost a third as much again (profile in `docs/BENCHMARKS.md`);
//! here the message is fed to `compress256` whole blocks at a time and padded once. Every
//! state, pad and partial block holding key-derived bytes is zeroized on drop. The tests check
//! it against the `hmac` crate on random keys and messages.

use sha2::block_api::compress256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// SHA-256's initial state (FIPS 180-4, 5.3.3).
const IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// SHA-256's block size, and the length of HMAC's padded key.
const BLOCK: usize = 64;

/// An HMAC-SHA256 key with its inner and outer padded blocks already compressed: computing a
/// MAC under it costs the message's blocks and one more compression.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct HmacKey {
    inner: [u32; 8],
    outer: [u32; 8],
}

impl HmacKey {
    /// Prepares `key` (any length; one longer than a block is hashed first, as RFC 2104 says).
    pub(crate) fn new(key: &[u8]) -> Self {
        // One padded block, XOR-ed with the inner pad, then turned into the outer one in place:
        // a single buffer of key bytes to wipe.
        let mut block = Zeroizing::new([0u8; BLOCK]);
        if key.len() > BLOCK {
            let mut state = Zeroizing::new(IV);
            let digest = Zeroizing::new(finish(&mut state, 0, key));
            write_words(&digest, &mut block[..32]);
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        block.iter_mut().for_each(|b| *b ^= 0x36);
        let mut inner = IV;
        compress256(&mut inner, std::slice::from_ref(&*block));
        block.iter_mut().for_each(|b| *b ^= 0x36 ^ 0x5c);
        let mut outer = IV;
        compress256(&mut outer, std::slice::from_ref(&*block));
        Self { inner, outer }
    }

    /// `HMAC-SHA256(key, msg)`, written into `out`.
    pub(crate) fn mac_into(&self, msg: &[u8], out: &mut [u8; 32]) {
        let mut inner = Zeroizing::new(self.inner);
        let inner_digest = Zeroizing::new(finish(&mut inner, BLOCK, msg));
        // The outer hash reads the 32-byte inner digest after the outer pad: one block.
        let mut block = [0u8; BLOCK];
        write_words(&inner_digest, &mut block[..32]);
        block[32] = 0x80;
        block[BLOCK - 8..].copy_from_slice(&((BLOCK as u64 + 32) * 8).to_be_bytes());
        let mut outer = Zeroizing::new(self.outer);
        compress256(&mut outer, std::slice::from_ref(&block));
        block[..32].zeroize();
        write_words(&outer, out);
    }
}

/// Hashes `msg` into `state`, which has already absorbed `absorbed` bytes (whole blocks), pads,
/// and returns the final state (the digest, as big-endian words). The copy of the message's
/// last partial block is wiped; the caller's message is the caller's.
fn finish(state: &mut [u32; 8], absorbed: usize, msg: &[u8]) -> [u32; 8] {
    let (blocks, rest) = msg.as_chunks::<BLOCK>();
    compress256(state, blocks);
    // The rest, 0x80, zeros and the length in bits fill one block, or two when the rest leaves
    // fewer than 9 bytes free.
    let mut tail = [[0u8; BLOCK]; 2];
    let used = if rest.len() < BLOCK - 8 { 1 } else { 2 };
    let flat = tail.as_flattened_mut();
    flat[..rest.len()].copy_from_slice(rest);
    flat[rest.len()] = 0x80;
    let bits = ((absorbed + msg.len()) as u64).wrapping_mul(8);
    flat[used * BLOCK - 8..used * BLOCK].copy_from_slice(&bits.to_be_bytes());
    compress256(state, &tail[..used]);
    // The message's tail may be key material (a root key is the message when the chain's
    // first key is derived; a long key's last bytes when it is hashed first).
    tail.as_flattened_mut()[..rest.len()].zeroize();
    *state
}

/// Writes state words big-endian into `out` (32 bytes).
fn write_words(words: &[u32; 8], out: &mut [u8]) {
    for (chunk, word) in out.chunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, KeyInit, Mac};
    use proptest::prelude::*;

    fn ours(key: &[u8], msg: &[u8]) -> [u8; 32] {
        let mut out = [0; 32];
        HmacKey::new(key).mac_into(msg, &mut out);
        out
    }

    fn reference(key: &[u8], msg: &[u8]) -> [u8; 32] {
        let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).expect("any length");
        mac.update(msg);
        mac.finalize().into_bytes().into()
    }

    #[test]
    fn rfc_4231_test_case_2() {
        let mac = ours(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn every_padding_boundary_matches_the_hmac_crate() {
        // Messages that end just before, at and after the one- and two-block padding limits.
        for len in (0..=200).chain([1000, 2048]) {
            let msg: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
            for key in [&[][..], &[7u8; 32], &[1u8; 64], &[9u8; 65], &[3u8; 200]] {
                assert_eq!(ours(key, &msg), reference(key, &msg), "{len}");
            }
        }
    }

    proptest! {
        #[test]
        fn matches_the_hmac_crate(
            key in proptest::collection::vec(any::<u8>(), 0..150),
            msg in proptest::collection::vec(any::<u8>(), 0..400),
        ) {
            prop_assert_eq!(ours(&key, &msg), reference(&key, &msg));
        }
    }
}
