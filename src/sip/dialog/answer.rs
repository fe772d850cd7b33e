//! The answering side's 2xx duty (RFC 3261 §13.3.1.4): the INVITE transaction ends when the
//! 2xx is sent, so the dialog itself retransmits the 2xx — T1, 2·T1, … capped at T2, only
//! over unreliable transports — until the ACK arrives, and gives up after 64·T1 (the caller
//! is then sent a BYE by the layer above).

use std::time::{Duration, Instant};

/// Where the 2xx of an answered INVITE stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerState {
    /// Waiting for the ACK; the 2xx goes out again at `next_retransmit` (if any).
    AwaitingAck {
        next_retransmit: Option<Instant>,
        interval: Duration,
        give_up_at: Instant,
    },
    /// The ACK arrived.
    Confirmed,
    /// No ACK within 64·T1: the session must be ended.
    AckTimedOut,
}

/// What the 2xx machine wants done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerEvent {
    /// Send the same 2xx again.
    Retransmit,
    /// No ACK came: end the call with a BYE.
    AckTimeout,
}

/// The 2xx-until-ACK machine of one answered INVITE.
#[derive(Debug, Clone)]
pub struct AnswerRetransmitter {
    state: AnswerState,
    t2: Duration,
}

impl AnswerRetransmitter {
    /// Starts when the 2xx is first sent at `now`.
    pub fn new(now: Instant, t1: Duration, t2: Duration, reliable: bool) -> Self {
        Self {
            state: AnswerState::AwaitingAck {
                next_retransmit: (!reliable).then_some(now + t1),
                interval: t1,
                give_up_at: now + t1 * 64,
            },
            t2,
        }
    }

    /// The current state.
    pub fn state(&self) -> &AnswerState {
        &self.state
    }

    /// The ACK for the 2xx arrived.
    pub fn handle_ack(&mut self) {
        if matches!(self.state, AnswerState::AwaitingAck { .. }) {
            self.state = AnswerState::Confirmed;
        }
    }

    /// When to be woken next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.state {
            AnswerState::AwaitingAck {
                next_retransmit,
                give_up_at,
                ..
            } => Some(next_retransmit.map_or(*give_up_at, |r| r.min(*give_up_at))),
            _ => None,
        }
    }

    /// Advances to `now`; says what to do, if anything.
    #[must_use]
    pub fn handle_timeout(&mut self, now: Instant) -> Option<AnswerEvent> {
        let AnswerState::AwaitingAck {
            next_retransmit,
            interval,
            give_up_at,
        } = &mut self.state
        else {
            return None;
        };
        if now >= *give_up_at {
            self.state = AnswerState::AckTimedOut;
            return Some(AnswerEvent::AckTimeout);
        }
        match next_retransmit {
            Some(at) if now >= *at => {
                *interval = (*interval * 2).min(self.t2);
                *at = now + *interval;
                Some(AnswerEvent::Retransmit)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T1: Duration = Duration::from_millis(500);
    const T2: Duration = Duration::from_secs(4);

    #[allow(clippy::disallowed_methods)] // a fixed origin; every step after it is explicit
    fn t0() -> Instant {
        Instant::now()
    }

    #[test]
    fn retransmits_doubling_to_t2_until_ack() {
        let t0 = t0();
        let mut a = AnswerRetransmitter::new(t0, T1, T2, false);
        let mut sent = Vec::new();
        let mut now = t0;
        while let Some(at) = a.poll_timeout() {
            if at > t0 + Duration::from_secs(12) {
                break;
            }
            now = at;
            if a.handle_timeout(now) == Some(AnswerEvent::Retransmit) {
                sent.push((now - t0).as_millis());
            }
        }
        assert_eq!(sent, vec![500, 1500, 3500, 7500, 11500]);
        a.handle_ack();
        assert_eq!(a.state(), &AnswerState::Confirmed);
        assert_eq!(a.poll_timeout(), None);
        assert_eq!(a.handle_timeout(now + T2), None);
    }

    #[test]
    fn gives_up_after_64_t1() {
        let t0 = t0();
        let mut a = AnswerRetransmitter::new(t0, T1, T2, false);
        let mut last = None;
        while let Some(at) = a.poll_timeout() {
            last = a.handle_timeout(at).or(last);
            if matches!(a.state(), AnswerState::AckTimedOut) {
                assert_eq!(at - t0, T1 * 64);
                break;
            }
        }
        assert_eq!(last, Some(AnswerEvent::AckTimeout));
    }

    #[test]
    fn reliable_transport_never_retransmits_but_still_times_out() {
        let t0 = t0();
        let mut a = AnswerRetransmitter::new(t0, T1, T2, true);
        assert_eq!(a.poll_timeout(), Some(t0 + T1 * 64));
        assert_eq!(
            a.handle_timeout(t0 + T1 * 64),
            Some(AnswerEvent::AckTimeout)
        );
    }
}
