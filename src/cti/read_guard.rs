//! Reads of citizens' data, bounded per user (rule C16): a token that reads more tickets with
//! whole numbers and names than a person at a desk could is stopped (429) before it can copy
//! the register out; every such read is audited (`shell::read_audit`). Takes the time as an
//! argument, so it is tested without a clock.

use std::collections::HashMap;
use std::sync::Mutex;

/// A fixed one-minute window per user.
#[derive(Debug)]
pub struct ReadLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<String, (i64, u32)>>,
}

impl ReadLimiter {
    /// At most `per_minute` reads per user in each clock minute; 0 turns the limit off.
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one read by `user` at `now_s` (Unix seconds); `Err(seconds)` says how long
    /// until the next minute when the user is over the limit.
    pub fn allow(&self, user: &str, now_s: i64) -> Result<(), u64> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let minute = now_s.div_euclid(60);
        let mut w = match self.windows.lock() {
            Ok(w) => w,
            Err(p) => p.into_inner(),
        };
        let slot = w.entry(user.to_string()).or_insert((minute, 0));
        if slot.0 != minute {
            *slot = (minute, 0);
        }
        if slot.1 >= self.per_minute {
            return Err((60 - now_s.rem_euclid(60)).max(1) as u64);
        }
        slot.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_user_has_its_own_minute() {
        let l = ReadLimiter::new(3);
        let t = 1_800_000_030; // 30 s into a minute
        for _ in 0..3 {
            assert!(l.allow("a", t).is_ok());
        }
        assert_eq!(l.allow("a", t + 5), Err(25));
        assert!(l.allow("b", t + 5).is_ok(), "another user is not held back");
        assert!(l.allow("a", t + 30).is_ok(), "a new minute");
        let off = ReadLimiter::new(0);
        assert!((0..1000).all(|_| off.allow("a", t).is_ok()));
    }
}
