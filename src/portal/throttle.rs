//! Abuse protection without accounts: per client address (an IPv4 /32, an IPv6 /64, since one
//! home or phone gets a whole /64) token buckets for submissions and for lookups, and an
//! arithmetic challenge once an address has submitted `challenge_after` requests within
//! `challenge_window`. Memory is bounded: at most `max_addresses` addresses and as many open
//! challenges are tracked; past that the oldest is forgotten (an attacker rotating addresses
//! then only resets the others' counters, never grows the table).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The limits (`[public]` of `hotline.toml`).
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Submissions an address may make at once…
    pub submit_burst: u32,
    /// …and then this many per minute.
    pub submit_per_minute: u32,
    pub lookup_burst: u32,
    pub lookup_per_minute: u32,
    /// After this many submissions from one address within `challenge_window`, each further
    /// one needs a solved challenge (0: never).
    pub challenge_after: u32,
    pub challenge_window: Duration,
    /// How long a challenge question may be answered.
    pub challenge_ttl: Duration,
    pub max_addresses: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            submit_burst: 10,
            submit_per_minute: 6,
            lookup_burst: 30,
            lookup_per_minute: 30,
            challenge_after: 3,
            challenge_window: Duration::from_secs(3600),
            challenge_ttl: Duration::from_secs(600),
            max_addresses: 100_000,
        }
    }
}

/// The part of an address that names one client: an IPv4 address, an IPv6 /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddrKey {
    V4(u32),
    V6(u64),
}

impl From<IpAddr> for AddrKey {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => AddrKey::V4(u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => AddrKey::V4(u32::from(v4)),
                None => AddrKey::V6((u128::from(v6) >> 64) as u64),
            },
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(burst: u32, now: Instant) -> Self {
        Self {
            tokens: f64::from(burst),
            at: now,
        }
    }

    /// Takes a token, or says how long until one is there.
    fn take(&mut self, burst: u32, per_minute: u32, now: Instant) -> Result<(), Duration> {
        let rate = f64::from(per_minute) / 60.0;
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(f64::from(burst));
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else if rate <= 0.0 {
            Err(Duration::from_secs(3600))
        } else {
            Err(Duration::from_secs_f64(
                ((1.0 - self.tokens) / rate).max(1.0),
            ))
        }
    }
}

#[derive(Debug)]
struct AddrState {
    submit: Bucket,
    lookup: Bucket,
    /// Times of the recent submissions (at most `challenge_after` kept).
    recent: VecDeque<Instant>,
}

#[derive(Debug)]
struct Challenge {
    answer: u32,
    addr: AddrKey,
    expires: Instant,
}

/// A question to show; the answer stays here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub id: String,
    /// e.g. `7 + 5 = ?`
    pub question: String,
}

/// What to do with a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    RateLimited { retry_after: Duration },
    ChallengeRequired(Question),
    ChallengeFailed(Question),
}

/// The throttle's state. One per engine, behind a lock in the shell.
#[derive(Debug)]
pub struct Throttle {
    limits: Limits,
    addrs: HashMap<AddrKey, AddrState>,
    order: VecDeque<AddrKey>,
    challenges: HashMap<String, Challenge>,
    challenge_order: VecDeque<String>,
}

impl Throttle {
    /// An empty throttle with these limits.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            addrs: HashMap::new(),
            order: VecDeque::new(),
            challenges: HashMap::new(),
            challenge_order: VecDeque::new(),
        }
    }

    /// Number of addresses tracked now.
    pub fn tracked(&self) -> usize {
        self.addrs.len()
    }

    fn state(&mut self, key: AddrKey, now: Instant) -> &mut AddrState {
        if !self.addrs.contains_key(&key) {
            while self.addrs.len() >= self.limits.max_addresses.max(1) {
                match self.order.pop_front() {
                    Some(old) => {
                        self.addrs.remove(&old);
                    }
                    None => break,
                }
            }
            self.order.push_back(key);
        }
        let l = &self.limits;
        self.addrs.entry(key).or_insert_with(|| AddrState {
            submit: Bucket::full(l.submit_burst, now),
            lookup: Bucket::full(l.lookup_burst, now),
            recent: VecDeque::new(),
        })
    }

    /// A lookup from `ip`: allowed, or how long to wait.
    pub fn lookup(&mut self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let (burst, rate) = (self.limits.lookup_burst, self.limits.lookup_per_minute);
        self.state(ip.into(), now).lookup.take(burst, rate, now)
    }

    /// A submission from `ip` carrying `answer` (challenge id, answer) if the page showed one.
    /// `random` makes the next question (the shell draws it from the OS).
    pub fn submit(
        &mut self,
        ip: IpAddr,
        answer: Option<(&str, &str)>,
        random: [u8; 10],
        now: Instant,
    ) -> Verdict {
        let key = AddrKey::from(ip);
        let l = self.limits.clone();
        let st = self.state(key, now);
        if let Err(retry_after) = st.submit.take(l.submit_burst, l.submit_per_minute, now) {
            return Verdict::RateLimited { retry_after };
        }
        while st
            .recent
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= l.challenge_window)
        {
            st.recent.pop_front();
        }
        let needs = l.challenge_after > 0 && st.recent.len() >= l.challenge_after as usize;
        if needs {
            let solved = answer.is_some_and(|(id, given)| self.solve(key, id, given, now));
            if !solved {
                let q = self.ask(key, random, now);
                return if answer.is_some() {
                    Verdict::ChallengeFailed(q)
                } else {
                    Verdict::ChallengeRequired(q)
                };
            }
        }
        if let Some(st) = self.addrs.get_mut(&key) {
            if st.recent.len() >= l.challenge_after.max(1) as usize {
                st.recent.pop_front();
            }
            st.recent.push_back(now);
        }
        Verdict::Allow
    }

    /// Checks and spends a challenge: single use, same address, not expired.
    fn solve(&mut self, key: AddrKey, id: &str, given: &str, now: Instant) -> bool {
        let Some(c) = self.challenges.remove(id) else {
            return false;
        };
        let given: String = given.chars().filter(|c| !c.is_whitespace()).collect();
        c.addr == key && now < c.expires && given.parse::<u32>().ok() == Some(c.answer)
    }

    fn ask(&mut self, addr: AddrKey, random: [u8; 10], now: Instant) -> Question {
        while self.challenges.len() >= self.limits.max_addresses.max(1) {
            match self.challenge_order.pop_front() {
                Some(old) => {
                    self.challenges.remove(&old);
                }
                None => break,
            }
        }
        let id = hex::encode(&random[..8]);
        let (a, b) = (u32::from(random[8] % 9) + 1, u32::from(random[9] % 9) + 1);
        self.challenges.insert(
            id.clone(),
            Challenge {
                answer: a + b,
                addr,
                expires: now + self.limits.challenge_ttl,
            },
        );
        self.challenge_order.push_back(id.clone());
        Question {
            id,
            question: format!("{a} + {b} = ?"),
        }
    }

    /// The answer to an open challenge (tests read it; a page never does).
    #[cfg(test)]
    fn answer_of(&self, id: &str) -> Option<u32> {
        self.challenges.get(id).map(|c| c.answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn limits() -> Limits {
        Limits {
            submit_burst: 20,
            submit_per_minute: 6,
            challenge_after: 2,
            ..Limits::default()
        }
    }

    #[test]
    fn a_burst_is_refused_then_refilled_and_other_addresses_are_untouched() {
        let t0 = crate::shell::clock::now();
        let mut t = Throttle::new(Limits {
            challenge_after: 0,
            submit_burst: 5,
            ..limits()
        });
        for _ in 0..5 {
            assert_eq!(t.submit(ip("10.0.0.1"), None, [0; 10], t0), Verdict::Allow);
        }
        let Verdict::RateLimited { retry_after } = t.submit(ip("10.0.0.1"), None, [0; 10], t0)
        else {
            panic!("the sixth is refused")
        };
        assert_eq!(retry_after, Duration::from_secs(10));
        assert_eq!(t.submit(ip("10.0.0.2"), None, [0; 10], t0), Verdict::Allow);
        let later = t0 + Duration::from_secs(10);
        assert_eq!(
            t.submit(ip("10.0.0.1"), None, [0; 10], later),
            Verdict::Allow
        );
    }

    #[test]
    fn an_ipv6_64_is_one_client() {
        let t0 = crate::shell::clock::now();
        let mut t = Throttle::new(Limits {
            lookup_burst: 2,
            ..limits()
        });
        assert!(t.lookup(ip("2001:db8::1"), t0).is_ok());
        assert!(t.lookup(ip("2001:db8::ffff:2"), t0).is_ok());
        assert!(t.lookup(ip("2001:db8::3"), t0).is_err());
        assert!(t.lookup(ip("2001:db8:0:1::1"), t0).is_ok(), "another /64");
    }

    #[test]
    fn the_challenge_is_single_use_per_address_and_expires() {
        let t0 = crate::shell::clock::now();
        let mut t = Throttle::new(limits());
        let a = ip("10.0.0.1");
        assert_eq!(t.submit(a, None, [0; 10], t0), Verdict::Allow);
        assert_eq!(t.submit(a, None, [0; 10], t0), Verdict::Allow);
        let Verdict::ChallengeRequired(q) = t.submit(a, None, [1; 10], t0) else {
            panic!("the third needs a challenge")
        };
        assert_eq!(q.question, "2 + 2 = ?");
        let right = t.answer_of(&q.id).unwrap().to_string();
        // Another address cannot use it, and trying spends it.
        let b = ip("10.0.0.9");
        assert_eq!(t.submit(b, None, [0; 10], t0), Verdict::Allow);
        assert_eq!(t.submit(b, None, [0; 10], t0), Verdict::Allow);
        assert!(matches!(
            t.submit(b, Some((&q.id, &right)), [2; 10], t0),
            Verdict::ChallengeFailed(_)
        ));
        let Verdict::ChallengeFailed(q2) = t.submit(a, Some((&q.id, &right)), [3; 10], t0) else {
            panic!("spent")
        };
        let Verdict::ChallengeFailed(q3) = t.submit(a, Some((&q2.id, "999")), [4; 10], t0) else {
            panic!("wrong answer")
        };
        let right3 = t.answer_of(&q3.id).unwrap().to_string();
        assert_eq!(
            t.submit(a, Some((&q3.id, &right3)), [5; 10], t0),
            Verdict::Allow
        );
        // An expired question no longer counts.
        let t1 = t0 + Duration::from_secs(30);
        let Verdict::ChallengeRequired(q4) = t.submit(a, None, [6; 10], t1) else {
            panic!()
        };
        let right4 = t.answer_of(&q4.id).unwrap().to_string();
        let late = t1 + Duration::from_secs(601);
        assert!(matches!(
            t.submit(a, Some((&q4.id, &right4)), [7; 10], late),
            Verdict::ChallengeFailed(_)
        ));
        // After the window, no challenge.
        let next_hour = t0 + Duration::from_secs(7300);
        assert_eq!(t.submit(a, None, [8; 10], next_hour), Verdict::Allow);
    }

    #[test]
    fn memory_is_bounded_by_evicting_the_oldest_address() {
        let t0 = crate::shell::clock::now();
        let mut t = Throttle::new(Limits {
            max_addresses: 100,
            ..limits()
        });
        for i in 0..1000u32 {
            let _ = t.submit(IpAddr::from(i.to_be_bytes()), None, [0; 10], t0);
            let _ = t.submit(IpAddr::from(i.to_be_bytes()), None, [0; 10], t0);
            let _ = t.submit(IpAddr::from(i.to_be_bytes()), None, [i as u8; 10], t0);
        }
        assert_eq!(t.tracked(), 100);
        assert!(t.challenges.len() <= 100);
    }
}
