//! RTP port allocation: one even port per call from the configured range (RTCP would take
//! the odd one above). Round-robin, so a port just released is not reused at once and late
//! packets of an old call do not land in a new one.

use std::collections::HashSet;

/// Hands out even ports from `[min, max]`.
#[derive(Debug)]
pub struct PortAllocator {
    min: u16,
    max: u16,
    next: u16,
    in_use: HashSet<u16>,
}

impl PortAllocator {
    /// `min` and `max` are even (the config validates it); odd bounds are rounded inward.
    pub fn new(min: u16, max: u16) -> Self {
        let min = min + (min % 2);
        let max = max - (max % 2);
        Self {
            min,
            max,
            next: min,
            in_use: HashSet::new(),
        }
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

    /// The next free even port, or `None` when every port is taken.
    pub fn allocate(&mut self) -> Option<u16> {
        for _ in 0..self.capacity() {
            let p = self.next;
            self.next = if p >= self.max { self.min } else { p + 2 };
            if self.in_use.insert(p) {
                return Some(p);
            }
        }
        None
    }

    /// Gives a port back.
    pub fn release(&mut self, port: u16) {
        self.in_use.remove(&port);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_out_even_ports_round_robin_until_full() {
        let mut a = PortAllocator::new(20000, 20006);
        assert_eq!(a.capacity(), 4);
        let got: Vec<u16> = (0..4).filter_map(|_| a.allocate()).collect();
        assert_eq!(got, vec![20000, 20002, 20004, 20006]);
        assert_eq!(a.allocate(), None);
        a.release(20002);
        assert_eq!(a.allocate(), Some(20002));
        a.release(20000);
        a.release(20004);
        // Round robin: continues after the last one handed out.
        assert_eq!(a.allocate(), Some(20004));
        assert_eq!(a.allocate(), Some(20000));
    }

    #[test]
    fn odd_bounds_round_inward() {
        let a = PortAllocator::new(20001, 20005);
        assert_eq!(a.capacity(), 2);
    }
}
