//! Property tests: the codec round-trips, and any single-byte change breaks verification.

use l402_macaroon::{Macaroon, RootKey};
use proptest::prelude::*;

fn arb_macaroon() -> impl Strategy<Value = (Vec<u8>, Macaroon)> {
    (
        prop::collection::vec(any::<u8>(), 1..64),
        prop::collection::vec(any::<u8>(), 0..80),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..20)),
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..6),
        prop::collection::vec(
            (
                prop::option::of(prop::collection::vec(any::<u8>(), 0..10)),
                prop::collection::vec(any::<u8>(), 0..10),
                prop::collection::vec(any::<u8>(), 1..80),
            ),
            0..2,
        ),
    )
        .prop_map(|(key, id, location, first, third)| {
            let root = RootKey::new(key.clone());
            let mut m = Macaroon::new(&root, id, location);
            for c in first {
                m.add_first_party_caveat(c);
            }
            for (loc, cid, vid) in third {
                m.add_third_party_caveat_raw(loc, cid, vid);
            }
            (key, m)
        })
}

proptest! {
    #[test]
    fn v2_round_trip((_key, m) in arb_macaroon()) {
        let bytes = m.encode_v2();
        let back = Macaroon::decode_v2(&bytes).unwrap();
        prop_assert_eq!(back.encode_v2(), bytes);
        prop_assert_eq!(back, m);
    }

    #[test]
    fn any_byte_change_breaks_verification(
        key in prop::collection::vec(any::<u8>(), 32),
        id in prop::collection::vec(any::<u8>(), 1..70),
        caveats in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..30), 0..4),
        pick in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let root = RootKey::new(key);
        let mut m = Macaroon::new(&root, id, Some(b"lsat".to_vec()));
        for c in caveats {
            m.add_first_party_caveat(c);
        }
        let bytes = m.encode_v2();
        // Positions 1..=(5 + "lsat") hold the location, which the signature does not cover.
        let location_end = 1 + 2 + 4;
        let candidates: Vec<usize> = (location_end..bytes.len()).collect();
        let pos = candidates[pick.index(candidates.len())];
        let mut changed = bytes.clone();
        changed[pos] ^= flip;
        if let Ok(tampered) = Macaroon::decode_v2(&changed) {
            prop_assert!(tampered.verify(&root).is_err(), "byte {} changed yet verified", pos);
        }
    }

    #[test]
    fn decoder_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = Macaroon::decode_v2(&bytes);
        let mut v2 = vec![0x02];
        v2.extend_from_slice(&bytes);
        let _ = Macaroon::decode_v2(&v2);
    }

    #[test]
    fn wrong_key_never_verifies(
        key in prop::collection::vec(any::<u8>(), 32),
        other in prop::collection::vec(any::<u8>(), 32),
        id in prop::collection::vec(any::<u8>(), 1..70),
    ) {
        prop_assume!(key != other);
        let m = Macaroon::new(&RootKey::new(key), id, None);
        prop_assert!(m.verify(&RootKey::new(other)).is_err());
    }
}
