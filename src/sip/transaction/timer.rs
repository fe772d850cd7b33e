//! The §17 timers by name, the T1/T2/T4 base values and the reliable/unreliable switch that
//! turns retransmission and wait timers off over TCP. No clock is read here.

use std::time::{Duration, Instant};

/// Every timer a transaction can arm, named as in RFC 3261 Table 4 and RFC 6026, so logs and
/// `poll_timeout()` say which one is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timer {
    /// INVITE client: retransmit the INVITE (unreliable only), doubling from T1.
    A,
    /// INVITE client: give up waiting for any response, 64·T1.
    B,
    /// INVITE client: absorb retransmitted non-2xx finals, ≥ 32 s unreliable, 0 reliable.
    D,
    /// Non-INVITE client: retransmit the request (unreliable only), doubling to T2.
    E,
    /// Non-INVITE client: give up waiting for a final, 64·T1.
    F,
    /// INVITE server: retransmit the non-2xx final (unreliable only), doubling to T2.
    G,
    /// INVITE server: give up waiting for the ACK, 64·T1.
    H,
    /// INVITE server: absorb ACK retransmissions, T4 unreliable, 0 reliable.
    I,
    /// Non-INVITE server: absorb request retransmissions, 64·T1 unreliable, 0 reliable.
    J,
    /// Non-INVITE client: absorb response retransmissions, T4 unreliable, 0 reliable.
    K,
    /// INVITE server (RFC 6026): absorb INVITE retransmissions after a 2xx, 64·T1.
    L,
    /// INVITE client (RFC 6026): pass further 2xx to the TU, 64·T1.
    M,
    /// INVITE client (§9.1): no final 64·T1 after a CANCEL, so the INVITE is given up.
    CancelGuard,
}

/// How the transport carries messages: §17 retransmits and lingers only over unreliable ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// TCP, TLS, SCTP, WebSocket: no retransmission timers, zero wait timers.
    Reliable,
    /// UDP: retransmissions and wait timers as in Table 4.
    Unreliable,
}

/// The base timer values of RFC 3261 Table 4, configurable because a LAN-only deployment may
/// lower T1 (§17.1.1.1) and tests want small numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerConfig {
    /// RTT estimate; the start of every retransmission back-off (default 500 ms).
    pub t1: Duration,
    /// Cap of the non-INVITE and 2xx-less back-offs (default 4 s).
    pub t2: Duration,
    /// How long the network may hold a message (default 5 s).
    pub t4: Duration,
}

/// Why a [`TimerConfig`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimerConfigError {
    /// A zero T1 would retransmit in a busy loop.
    #[error("T1 must be greater than zero (RFC 3261 default 500 ms)")]
    ZeroT1,
    /// T2 caps a back-off that starts at T1.
    #[error("T2 ({t2:?}) must not be less than T1 ({t1:?}); RFC 3261 default T2 is 4 s")]
    T2BelowT1 {
        /// Configured T1.
        t1: Duration,
        /// Configured T2.
        t2: Duration,
    },
}

/// The floor of every retransmission interval, so even a nonsensical config cannot make
/// `handle_timeout` spin.
const MIN_INTERVAL: Duration = Duration::from_millis(1);

impl Default for TimerConfig {
    fn default() -> Self {
        Self {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

impl TimerConfig {
    /// Checks the values the config room loaded, so a bad file fails at start-up.
    pub fn validate(&self) -> Result<(), TimerConfigError> {
        if self.t1.is_zero() {
            return Err(TimerConfigError::ZeroT1);
        }
        if self.t2 < self.t1 {
            return Err(TimerConfigError::T2BelowT1 {
                t1: self.t1,
                t2: self.t2,
            });
        }
        Ok(())
    }

    /// 64·T1: Timers B, F, H, L, M, the §9.1 CANCEL guard and (unreliable) J.
    pub fn t1_x64(&self) -> Duration {
        self.t1.saturating_mul(64)
    }

    /// Timer D: at least 32 s over UDP (and never shorter than the server's Timer H, so a
    /// larger T1 stays safe), zero over reliable transports.
    pub fn timer_d(&self, transport: Transport) -> Duration {
        match transport {
            Transport::Reliable => Duration::ZERO,
            Transport::Unreliable => self.t1_x64().max(Duration::from_secs(32)),
        }
    }

    /// Timers I and K: T4 over UDP, zero over reliable transports.
    pub fn t4_if_unreliable(&self, transport: Transport) -> Duration {
        match transport {
            Transport::Reliable => Duration::ZERO,
            Transport::Unreliable => self.t4,
        }
    }

    /// Timer J: 64·T1 over UDP, zero over reliable transports.
    pub fn timer_j(&self, transport: Transport) -> Duration {
        match transport {
            Transport::Reliable => Duration::ZERO,
            Transport::Unreliable => self.t1_x64(),
        }
    }

    /// The first retransmission timer (A, E, G) over UDP; none over reliable transports.
    pub(crate) fn first_retransmit(
        &self,
        transport: Transport,
        now: Instant,
    ) -> Option<Retransmit> {
        match transport {
            Transport::Reliable => None,
            Transport::Unreliable => Some(Retransmit::start(self.t1, now)),
        }
    }
}

/// An armed retransmission timer: when it fires and the interval that got it there, which
/// the next interval doubles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retransmit {
    /// When it fires.
    pub at: Instant,
    /// The interval that led to `at`.
    pub interval: Duration,
}

impl Retransmit {
    fn start(interval: Duration, now: Instant) -> Self {
        let interval = interval.max(MIN_INTERVAL);
        Self {
            at: now + interval,
            interval,
        }
    }

    /// The timer after this one fired at `now`: doubled, capped at `cap` when there is one
    /// (Timer A is uncapped, E and G stop at T2).
    pub(crate) fn doubled(self, cap: Option<Duration>, now: Instant) -> Self {
        let mut next = self.interval.saturating_mul(2);
        if let Some(cap) = cap {
            next = next.min(cap);
        }
        Self::start(next, now)
    }

    /// The timer after this one fired at `now` with a fixed interval (Timer E in Proceeding).
    pub(crate) fn fixed(interval: Duration, now: Instant) -> Self {
        Self::start(interval, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_rfc_table_4() {
        let c = TimerConfig::default();
        assert_eq!(c.t1, Duration::from_millis(500));
        assert_eq!(c.t2, Duration::from_secs(4));
        assert_eq!(c.t4, Duration::from_secs(5));
        assert_eq!(c.t1_x64(), Duration::from_secs(32));
        assert_eq!(c.timer_d(Transport::Unreliable), Duration::from_secs(32));
        assert_eq!(c.timer_d(Transport::Reliable), Duration::ZERO);
        assert_eq!(c.timer_j(Transport::Reliable), Duration::ZERO);
        assert_eq!(c.t4_if_unreliable(Transport::Reliable), Duration::ZERO);
        assert!(c.validate().is_ok());
    }

    #[test]
    fn timer_d_never_shorter_than_64_t1() {
        let c = TimerConfig {
            t1: Duration::from_secs(1),
            ..TimerConfig::default()
        };
        assert_eq!(c.timer_d(Transport::Unreliable), Duration::from_secs(64));
    }

    #[test]
    fn validate_refuses_zero_t1_and_t2_below_t1() {
        let zero = TimerConfig {
            t1: Duration::ZERO,
            ..TimerConfig::default()
        };
        assert_eq!(zero.validate(), Err(TimerConfigError::ZeroT1));
        let low = TimerConfig {
            t2: Duration::from_millis(100),
            ..TimerConfig::default()
        };
        assert!(matches!(
            low.validate(),
            Err(TimerConfigError::T2BelowT1 { .. })
        ));
    }

    #[test]
    fn doubling_caps_and_floors() {
        let t0 = crate::sip::transaction::test_support::t0();
        let r = Retransmit::start(Duration::from_secs(2), t0);
        let n = r.doubled(Some(Duration::from_secs(3)), t0);
        assert_eq!(n.interval, Duration::from_secs(3));
        let z = Retransmit::start(Duration::ZERO, t0);
        assert_eq!(z.interval, MIN_INTERVAL);
    }
}
