//! Scanner protection: failed authentications counted per source IP in a sliding window,
//! a temporary block when they pile up, and the User-Agent patterns of known SIP scanners.
//! Owns only per-IP counters and their timers; it does not know bindings or passwords.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::sip::prefix::{any_contains, IpPrefix};

/// When failures turn into a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockPolicy {
    /// This many failures inside `window` block the source; 0 disables blocking.
    pub max_failures: u32,
    /// The sliding window failures are counted in.
    pub window: Duration,
    /// How long a block lasts (not extended by requests during it, so a legitimate
    /// phone behind the same NAT recovers on its own).
    pub block_for: Duration,
    /// Sources tracked at once; beyond it the oldest entry is forgotten, so a flood from
    /// spoofed addresses cannot grow memory without bound.
    pub max_tracked: usize,
    /// Sources never counted nor blocked: the carrier's trunks, whose address every
    /// citizen's call shares and anyone can forge in one UDP datagram.
    pub exempt: Vec<IpPrefix>,
}

impl Default for BlockPolicy {
    fn default() -> Self {
        BlockPolicy {
            max_failures: 5,
            window: Duration::from_secs(60),
            block_for: Duration::from_secs(600),
            max_tracked: 65_536,
            exempt: Vec::new(),
        }
    }
}

/// What to do with requests whose User-Agent names a known scanner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScannerPolicy {
    /// Treat them like anyone else.
    Allow,
    /// Answer 403 without a challenge.
    Refuse,
    /// Answer 403, and block the source at once for `block_for` when its address is proven
    /// (a TCP connection); a UDP User-Agent alone is forgeable, so it only refuses.
    RefuseAndBlock,
}

/// User-Agent substrings (matched case-insensitively) of SIP scanners and brute-forcers
/// seen on public SIP ports: SIPVicious (`friendly-scanner`, `sipvicious`), sipcli,
/// sip-scan, VaxSIPUserAgent, iWar, sundayddr, pplsip, smap.
pub const DEFAULT_SCANNER_AGENTS: &[&str] = &[
    "friendly-scanner",
    "sipvicious",
    "sipcli",
    "sip-scan",
    "vaxsipuseragent",
    "iwar",
    "sundayddr",
    "pplsip",
    "smap",
];

/// Whether a User-Agent value matches one of `patterns` (lower-case substrings).
pub fn is_scanner_agent(user_agent: &str, patterns: &[String]) -> bool {
    let ua = user_agent.to_ascii_lowercase();
    patterns
        .iter()
        .any(|p| !p.is_empty() && ua.contains(p.as_str()))
}

#[derive(Debug)]
enum SourceState {
    /// Failures inside the window, oldest first (at most `max_failures`).
    Failing(VecDeque<Instant>),
    /// Refused until then.
    Blocked { until: Instant },
}

impl SourceState {
    fn deadline(&self, window: Duration) -> Option<Instant> {
        match self {
            SourceState::Failing(f) => f.front().map(|t| *t + window),
            SourceState::Blocked { until } => Some(*until),
        }
    }
}

/// What changed for a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GuardChange {
    /// Newly blocked until then.
    Blocked { ip: IpAddr, until: Instant },
    /// A block ended.
    Unblocked { ip: IpAddr },
}

/// Per-source failure counters and blocks.
#[derive(Debug)]
pub(crate) struct Guard {
    policy: BlockPolicy,
    sources: HashMap<IpAddr, SourceState>,
    timers: BTreeSet<(Instant, IpAddr)>,
}

/// IPv4-mapped IPv6 sources count as the IPv4 address, so one attacker is one entry.
pub(crate) fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

impl Guard {
    pub(crate) fn new(policy: BlockPolicy) -> Self {
        Guard {
            policy,
            sources: HashMap::new(),
            timers: BTreeSet::new(),
        }
    }

    /// Whether `ip` is one of the exempt trunks.
    pub(crate) fn is_exempt(&self, ip: IpAddr) -> bool {
        any_contains(&self.policy.exempt, ip)
    }

    /// Whether `ip` is refused at `now`.
    pub(crate) fn is_blocked(&self, ip: IpAddr, now: Instant) -> bool {
        matches!(self.sources.get(&canonical(ip)), Some(SourceState::Blocked { until }) if *until > now)
    }

    /// The end of `ip`'s block, if it is blocked.
    pub(crate) fn blocked_until(&self, ip: IpAddr, now: Instant) -> Option<Instant> {
        match self.sources.get(&canonical(ip)) {
            Some(SourceState::Blocked { until }) if *until > now => Some(*until),
            _ => None,
        }
    }

    /// Counts one failure; returns the block if this one tipped it over.
    pub(crate) fn record_failure(&mut self, ip: IpAddr, now: Instant) -> Option<GuardChange> {
        if self.policy.max_failures == 0 || self.is_exempt(ip) {
            return None;
        }
        let ip = canonical(ip);
        let window = self.policy.window;
        let old_deadline = self.sources.get(&ip).and_then(|s| s.deadline(window));
        if old_deadline.is_none() {
            self.make_room();
        }
        let state = self
            .sources
            .entry(ip)
            .or_insert_with(|| SourceState::Failing(VecDeque::new()));
        if let SourceState::Blocked { until } = state {
            if *until > now {
                return None;
            }
            // Its timer has not been handled yet, but the block is over.
            *state = SourceState::Failing(VecDeque::new());
        }
        let mut change = None;
        match state {
            SourceState::Blocked { .. } => return None,
            SourceState::Failing(f) => {
                while f.front().is_some_and(|t| *t + window <= now) {
                    f.pop_front();
                }
                f.push_back(now);
                if f.len() >= self.policy.max_failures as usize {
                    let until = now + self.policy.block_for;
                    *state = SourceState::Blocked { until };
                    change = Some(GuardChange::Blocked { ip, until });
                }
            }
        }
        let new_deadline = state.deadline(window);
        self.retime(ip, old_deadline, new_deadline);
        change
    }

    /// Blocks `ip` at once (a scanner); `None` if it already was.
    pub(crate) fn block(&mut self, ip: IpAddr, now: Instant) -> Option<GuardChange> {
        let ip = canonical(ip);
        if self.is_blocked(ip, now) || self.is_exempt(ip) {
            return None;
        }
        let window = self.policy.window;
        let old_deadline = self.sources.get(&ip).and_then(|s| s.deadline(window));
        if old_deadline.is_none() {
            self.make_room();
        }
        let until = now + self.policy.block_for;
        self.sources.insert(ip, SourceState::Blocked { until });
        self.retime(ip, old_deadline, Some(until));
        Some(GuardChange::Blocked { ip, until })
    }

    /// A successful authentication wipes the source's failures (not a block).
    pub(crate) fn record_success(&mut self, ip: IpAddr) {
        let ip = canonical(ip);
        if let Some(SourceState::Failing(f)) = self.sources.get(&ip) {
            let old = f.front().map(|t| *t + self.policy.window);
            self.sources.remove(&ip);
            self.retime(ip, old, None);
        }
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.timers.first().map(|(t, _)| *t)
    }

    /// Ends blocks and forgets old failures due at `now`.
    pub(crate) fn handle_timeout(&mut self, now: Instant, out: &mut Vec<GuardChange>) {
        while let Some(&(t, ip)) = self.timers.first() {
            if t > now {
                break;
            }
            self.timers.remove(&(t, ip));
            let window = self.policy.window;
            match self.sources.get_mut(&ip) {
                Some(SourceState::Blocked { .. }) => {
                    self.sources.remove(&ip);
                    out.push(GuardChange::Unblocked { ip });
                }
                Some(SourceState::Failing(f)) => {
                    while f.front().is_some_and(|t| *t + window <= now) {
                        f.pop_front();
                    }
                    match f.front() {
                        Some(first) => {
                            let next = *first + window;
                            self.timers.insert((next, ip));
                        }
                        None => {
                            self.sources.remove(&ip);
                        }
                    }
                }
                None => {}
            }
        }
    }

    fn retime(&mut self, ip: IpAddr, old: Option<Instant>, new: Option<Instant>) {
        if old == new {
            return;
        }
        if let Some(o) = old {
            self.timers.remove(&(o, ip));
        }
        if let Some(n) = new {
            self.timers.insert((n, ip));
        }
    }

    /// Forgets the source due soonest when the table is full.
    fn make_room(&mut self) {
        if self.sources.len() < self.policy.max_tracked.max(1) {
            return;
        }
        if let Some((t, ip)) = self.timers.pop_first() {
            self.sources.remove(&ip);
            tracing::warn!(%ip, due = ?t, "registrar guard table full: forgetting a source");
        }
    }

    #[cfg(test)]
    pub(crate) fn tracked(&self) -> usize {
        self.sources.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> BlockPolicy {
        BlockPolicy {
            max_failures: 3,
            window: Duration::from_secs(60),
            block_for: Duration::from_secs(600),
            max_tracked: 4,
            exempt: vec!["192.0.2.0/24".parse().expect("prefix")],
        }
    }

    #[test]
    fn exempt_trunks_are_never_counted_nor_blocked() {
        let t0 = crate::shell::clock::now();
        let trunk = IpAddr::from([192, 0, 2, 9]);
        let mut g = Guard::new(policy());
        for i in 0..10 {
            assert_eq!(g.record_failure(trunk, t0 + Duration::from_secs(i)), None);
        }
        assert_eq!(g.block(trunk, t0), None);
        assert!(!g.is_blocked(trunk, t0));
        assert_eq!(g.tracked(), 0);
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up() {
        let t0 = crate::shell::clock::now();
        let ip: IpAddr = "198.51.100.1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let mut g = Guard::new(policy());
        assert_eq!(g.record_failure(ip, t0), None);
        assert_eq!(g.record_failure(ip, t0 + Duration::from_secs(30)), None);
        // The first failure has left the window by now.
        assert_eq!(g.record_failure(ip, t0 + Duration::from_secs(61)), None);
        let c = g.record_failure(ip, t0 + Duration::from_secs(62));
        assert_eq!(
            c,
            Some(GuardChange::Blocked {
                ip,
                until: t0 + Duration::from_secs(662)
            })
        );
        assert!(g.is_blocked(ip, t0 + Duration::from_secs(661)));
        let mut out = Vec::new();
        g.handle_timeout(t0 + Duration::from_secs(662), &mut out);
        assert_eq!(out, vec![GuardChange::Unblocked { ip }]);
        assert!(!g.is_blocked(ip, t0 + Duration::from_secs(662)));
        assert_eq!(g.tracked(), 0);
        assert_eq!(g.next_deadline(), None);
    }

    #[test]
    fn mapped_ipv6_is_the_same_source_and_table_is_bounded() {
        let t0 = crate::shell::clock::now();
        let mut g = Guard::new(policy());
        let v4: IpAddr = IpAddr::from([198, 51, 100, 7]);
        let mapped: IpAddr = IpAddr::from([0, 0, 0, 0, 0, 0xffff, 0xc633, 0x6407]);
        g.record_failure(v4, t0);
        g.record_failure(mapped, t0);
        assert!(g.record_failure(v4, t0).is_some());
        assert!(g.is_blocked(mapped, t0));
        for i in 0..20u8 {
            g.record_failure(IpAddr::from([10, 0, 0, i]), t0 + Duration::from_secs(1));
        }
        assert!(g.tracked() <= 4);
    }

    #[test]
    fn scanner_agents_match_case_insensitively() {
        let p: Vec<String> = DEFAULT_SCANNER_AGENTS
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(is_scanner_agent("friendly-scanner", &p));
        assert!(is_scanner_agent("SIPVicious 0.3.4", &p));
        assert!(!is_scanner_agent("baresip v1.0.0 (x86_64/linux)", &p));
        assert!(!is_scanner_agent("MicroSIP/3.21.3", &p));
        assert!(!is_scanner_agent("anything", &[String::new()]));
    }
}
