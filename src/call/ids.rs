//! Call ids that are unique by construction. A call's id names durable things — its
//! recording file, its call record, its draft ticket — so two calls must never share one,
//! within a run or across restarts. Each engine numbers its calls 0, 1, 2, … and passes the
//! number through a keyed permutation of the 64-bit integers: distinct numbers give distinct
//! ids (no birthday chance at all inside a run), and the keys, drawn from the engine's seed
//! (random in the shell), make another run's ids as good as 64 random bits.

use rand::Rng;

use crate::call::session::CallId;

/// Hands out the engine's call ids.
#[derive(Debug, Clone)]
pub struct IdMint {
    next: u64,
    keys: (u64, u64),
}

impl IdMint {
    /// A mint keyed from `rng` (the engine's seeded generator).
    pub fn new(rng: &mut impl Rng) -> Self {
        IdMint {
            next: 0,
            keys: (rng.gen(), rng.gen()),
        }
    }

    /// The next id: never one handed out before by this mint.
    pub fn next_id(&mut self) -> CallId {
        let n = self.next;
        // 2^64 calls will not happen; wrapping keeps this total rather than panicking.
        self.next = self.next.wrapping_add(1);
        CallId(permute(n, self.keys))
    }
}

/// A bijection on u64: a keyed XOR, the SplitMix64 finaliser (xor-shifts and odd
/// multipliers, each invertible), another keyed XOR.
fn permute(n: u64, (k0, k1): (u64, u64)) -> u64 {
    let mut z = n ^ k0;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    z ^ k1
}

/// The id part of a call's public name (what log lines show as `call=`).
pub fn id_of_name(name: &str) -> &str {
    name.rsplit_once('-').map_or(name, |(_, id)| id)
}

/// A call's public name (records, recording file, draft ticket): its start second and its
/// whole 64-bit id, so it is unique whenever the id is.
pub fn call_name(started: chrono::DateTime<chrono::Utc>, id: CallId) -> String {
    format!("{}-{:016x}", started.format("%Y%m%dT%H%M%S"), id.0)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn a_hundred_thousand_ids_and_names_have_no_duplicate() {
        let mut mint = IdMint::new(&mut StdRng::seed_from_u64(7));
        let at = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
        let mut ids = HashSet::new();
        let mut names = HashSet::new();
        for _ in 0..100_000 {
            let id = mint.next_id();
            assert!(ids.insert(id), "duplicate id {id}");
            // Every call in the same second: only the id tells them apart.
            assert!(names.insert(call_name(at, id)), "duplicate name for {id}");
        }
    }

    #[test]
    fn restarts_in_the_same_second_do_not_repeat_ids() {
        // Two runs of the engine (random seeds in the shell) that both start numbering at 0.
        let mut ids = HashSet::new();
        for seed in [1u64, 2, 3, 4] {
            let mut mint = IdMint::new(&mut StdRng::seed_from_u64(seed));
            for _ in 0..25_000 {
                assert!(ids.insert(mint.next_id()));
            }
        }
        assert_eq!(ids.len(), 100_000);
    }

    #[test]
    fn the_permutation_is_one_to_one_on_a_dense_range() {
        // Bijective by construction; check it on consecutive inputs and their neighbours.
        let keys = (0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210);
        let out: HashSet<u64> = (0..50_000u64)
            .chain(u64::MAX - 50_000..=u64::MAX)
            .map(|n| permute(n, keys))
            .collect();
        assert_eq!(out.len(), 100_001);
    }
}
