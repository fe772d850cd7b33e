//! RTP port allocation: one even port per leg from the configured range (RTCP would take the
//! odd one above). The port is picked at random among the free ones, so an outsider cannot
//! guess the next call's port and aim packets at it before the caller does; and a port just
//! released is rarely reused at once, so late packets of an old call seldom land in a new one.
//! The last `agent_reserve` ports are only for agents' legs: callers who never hang up cannot
//! leave an answering agent without a port.

use std::collections::HashSet;

use rand::Rng;

/// Who a port is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortUse {
    /// A caller's leg: may not take the agents' reserve.
    Caller,
    /// An agent's (or an outside party's) second leg: may take any free port.
    Agent,
}

/// Hands out even ports from `[min, max]`.
#[derive(Debug)]
pub struct PortAllocator {
    min: u16,
    max: u16,
    reserve: usize,
    in_use: HashSet<u16>,
}

impl PortAllocator {
    /// `min` and `max` are even (the config validates it); odd bounds are rounded inward.
    /// `agent_reserve` ports stay free for agents' legs (at most half the range).
    pub fn new(min: u16, max: u16, agent_reserve: u16) -> Self {
        let min = min + (min % 2);
        let max = max - (max % 2);
        let mut a = Self {
            min,
            max,
            reserve: 0,
            in_use: HashSet::new(),
        };
        a.reserve = usize::from(agent_reserve).min(a.capacity() / 2);
        a
    }

    /// How many ports the range holds.
    pub fn capacity(&self) -> usize {
        if self.max < self.min {
            0
        } else {
            usize::from((self.max - self.min) / 2) + 1
        }
    }

    /// How many are handed out.
    pub fn in_use(&self) -> usize {
        self.in_use.len()
    }

    /// A random free even port, or `None` when none is left for this use.
    pub fn allocate(&mut self, use_: PortUse, rng: &mut impl Rng) -> Option<u16> {
        let capacity = self.capacity();
        let free = capacity - self.in_use.len();
        let needed = match use_ {
            PortUse::Caller => self.reserve + 1,
            PortUse::Agent => 1,
        };
        if free < needed {
            return None;
        }
        // Random probes find a free port quickly while the range is mostly free; a scan
        // from a random start finishes the job when it is nearly full.
        for _ in 0..16 {
            let p = self.min + 2 * rng.gen_range(0..capacity) as u16;
            if self.in_use.insert(p) {
                return Some(p);
            }
        }
        let start = rng.gen_range(0..capacity);
        (0..capacity)
            .map(|i| self.min + 2 * ((start + i) % capacity) as u16)
            .find(|p| self.in_use.insert(*p))
    }

    /// Gives a port back.
    pub fn release(&mut self, port: u16) {
        self.in_use.remove(&port);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn rng() -> rand::rngs::StdRng {
        rand::rngs::StdRng::seed_from_u64(7)
    }

    #[test]
    fn hands_out_every_even_port_once_until_full() {
        let mut r = rng();
        let mut a = PortAllocator::new(20000, 20006, 0);
        assert_eq!(a.capacity(), 4);
        let mut got: Vec<u16> = (0..4)
            .filter_map(|_| a.allocate(PortUse::Caller, &mut r))
            .collect();
        got.sort_unstable();
        assert_eq!(got, vec![20000, 20002, 20004, 20006]);
        assert_eq!(a.allocate(PortUse::Agent, &mut r), None);
        a.release(20002);
        assert_eq!(a.allocate(PortUse::Caller, &mut r), Some(20002));
    }

    #[test]
    fn callers_cannot_take_the_agents_reserve() {
        let mut r = rng();
        let mut a = PortAllocator::new(20000, 20018, 3);
        assert_eq!(a.capacity(), 10);
        let callers = (0..20)
            .filter_map(|_| a.allocate(PortUse::Caller, &mut r))
            .count();
        assert_eq!(callers, 7, "three ports stay for agents");
        let agents = (0..20)
            .filter_map(|_| a.allocate(PortUse::Agent, &mut r))
            .count();
        assert_eq!(agents, 3);
        // The reserve is at most half the range.
        assert_eq!(PortAllocator::new(20000, 20006, 100).reserve, 2);
    }

    #[test]
    fn ports_are_not_handed_out_in_order() {
        let mut r = rand::rngs::StdRng::seed_from_u64(1);
        let mut a = PortAllocator::new(20000, 29998, 16);
        let got: Vec<u16> = (0..50)
            .filter_map(|_| a.allocate(PortUse::Caller, &mut r))
            .collect();
        assert_eq!(got.len(), 50);
        let sequential = got.windows(2).filter(|w| w[1] == w[0] + 2).count();
        assert!(sequential < 5, "{got:?}");
        assert!(got
            .iter()
            .all(|p| p % 2 == 0 && (20000..=29998).contains(p)));
    }

    #[test]
    fn odd_bounds_round_inward() {
        let a = PortAllocator::new(20001, 20005, 0);
        assert_eq!(a.capacity(), 2);
    }
}
