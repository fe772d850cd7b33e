//! RTP port allocation: one even port per leg from the configured range (RTCP would take the
//! odd one above). The port is picked at random among the free ones, so an outsider cannot
//! guess the next call's port and aim packets at it before the caller does. A port just
//! released cools off: it is not handed out again until a quarter of the range has been
//! released after it (unless nothing else is free). The shell closes a finished call's socket
//! a moment after the core lets go of its port, so a port handed out again at once could not
//! be bound yet (at 1,500 calls/s, 30 of 45,000 calls were refused 503 that way), and late
//! packets of an old call would land in the new one.
//! The last `agent_reserve` ports are only for agents' legs: callers who never hang up cannot
//! leave an answering agent without a port.

use std::collections::{HashSet, VecDeque};

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
    /// Free ports released most recently, oldest first (at most `cooling_max`).
    cooling: VecDeque<u16>,
    cooling_set: HashSet<u16>,
    cooling_max: usize,
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
            cooling: VecDeque::new(),
            cooling_set: HashSet::new(),
            cooling_max: 0,
        };
        a.reserve = usize::from(agent_reserve).min(a.capacity() / 2);
        a.cooling_max = a.capacity() / 4;
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
        // from a random start finishes the job when it is nearly full; the port that has
        // cooled longest when only cooling ones are left.
        let ready = |a: &Self, p: u16| !a.in_use.contains(&p) && !a.cooling_set.contains(&p);
        let found = (0..16)
            .map(|_| self.min + 2 * rng.gen_range(0..capacity) as u16)
            .find(|p| ready(self, *p))
            .or_else(|| {
                let start = rng.gen_range(0..capacity);
                (0..capacity)
                    .map(|i| self.min + 2 * ((start + i) % capacity) as u16)
                    .find(|p| ready(self, *p))
            })
            .or_else(|| {
                let p = self.cooling.pop_front()?;
                self.cooling_set.remove(&p);
                Some(p)
            })?;
        self.in_use.insert(found);
        Some(found)
    }

    /// Gives a port back; it cools off before it is handed out again.
    pub fn release(&mut self, port: u16) {
        if !self.in_use.remove(&port) || self.cooling_max == 0 {
            return;
        }
        self.cooling.push_back(port);
        self.cooling_set.insert(port);
        if self.cooling.len() > self.cooling_max {
            if let Some(old) = self.cooling.pop_front() {
                self.cooling_set.remove(&old);
            }
        }
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

    /// The shell closes an ended call's socket a moment after the core releases its port:
    /// handing the port out again at once made its bind fail (503 to a caller).
    #[test]
    fn a_released_port_cools_off_until_a_quarter_of_the_range_was_released_after_it() {
        let mut r = rng();
        let mut a = PortAllocator::new(20000, 20078, 0);
        assert_eq!((a.capacity(), a.cooling_max), (40, 10));
        let first: Vec<u16> = (0..20)
            .filter_map(|_| a.allocate(PortUse::Caller, &mut r))
            .collect();
        for p in &first {
            a.release(*p);
        }
        // The last ten released cool off; 20 never-used and the ten oldest are ready.
        let cooling: Vec<u16> = first[10..].to_vec();
        for _ in 0..30 {
            let p = a.allocate(PortUse::Caller, &mut r).unwrap();
            assert!(!cooling.contains(&p), "{p} was handed out while cooling");
        }
        // Only cooling ports are left: the one released first comes first.
        assert_eq!(a.allocate(PortUse::Caller, &mut r), Some(first[10]));
        assert_eq!(a.allocate(PortUse::Caller, &mut r), Some(first[11]));
        assert_eq!(a.in_use(), 32);
        // Releasing a port twice (or one never handed out) changes nothing.
        a.release(first[10]);
        a.release(first[10]);
        a.release(1);
        assert_eq!(a.cooling.len(), 9);
    }

    #[test]
    fn odd_bounds_round_inward() {
        let a = PortAllocator::new(20001, 20005, 0);
        assert_eq!(a.capacity(), 2);
    }
}
