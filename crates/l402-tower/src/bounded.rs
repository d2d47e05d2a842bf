//! Keeps a per-client table bounded without ever locking a new client out: when it is full,
//! the oldest eighth (by the age each entry reports) is forgotten at once, so a flood of new
//! keys costs one pass over the table per `max / 8` insertions, not one per insertion.

use std::collections::HashMap;
use std::hash::Hash;

/// Makes room for one more entry in `map` (at most `max` entries): if it is full, drops every
/// entry `forgettable` says can go, and if that frees less than an eighth of the table, the
/// entries with the smallest `age` (least recently used) until an eighth is free.
pub(crate) fn make_room<K: Eq + Hash, V>(
    map: &mut HashMap<K, V>,
    max: usize,
    forgettable: impl Fn(&K, &V) -> bool,
    age: impl Fn(&V) -> u64,
) {
    if map.len() < max {
        return;
    }
    map.retain(|k, v| !forgettable(k, v));
    let target = max - (max / 8).max(1);
    if map.len() <= target {
        return;
    }
    let mut ages: Vec<u64> = map.values().map(&age).collect();
    let excess = map.len() - target;
    let (_, cutoff, _) = ages.select_nth_unstable(excess - 1);
    let cutoff = *cutoff;
    let mut seen_at_cutoff = 0;
    let at_cutoff = ages.iter().filter(|a| **a == cutoff).count();
    let below = ages.iter().filter(|a| **a < cutoff).count();
    // Entries below the cutoff all go; of those at it, only as many as needed.
    let keep_at_cutoff = at_cutoff.saturating_sub(excess - below);
    map.retain(|_, v| {
        let a = age(v);
        if a < cutoff {
            false
        } else if a == cutoff {
            seen_at_cutoff += 1;
            seen_at_cutoff <= keep_at_cutoff
        } else {
            true
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_table_forgets_the_forgettable_then_the_oldest_eighth() {
        let mut map: HashMap<u32, u64> = (0..64).map(|k| (k, u64::from(k))).collect();
        make_room(&mut map, 100, |_, _| true, |v| *v);
        assert_eq!(map.len(), 64, "not full: nothing goes");
        make_room(&mut map, 64, |_, v| *v % 2 == 0, |v| *v);
        assert_eq!(map.len(), 32, "the forgettable went");
        let mut map: HashMap<u32, u64> = (0..64).map(|k| (k, u64::from(k))).collect();
        make_room(&mut map, 64, |_, _| false, |v| *v);
        assert_eq!(map.len(), 56);
        assert!(
            (0..8).all(|k| !map.contains_key(&k)),
            "the oldest eighth went"
        );
        let mut same: HashMap<u32, u64> = (0..64).map(|k| (k, 7)).collect();
        make_room(&mut same, 64, |_, _| false, |v| *v);
        assert_eq!(same.len(), 56, "ties: exactly an eighth goes");
    }
}
