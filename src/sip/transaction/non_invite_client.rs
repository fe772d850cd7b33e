//! The non-INVITE client transaction (RFC 3261 §17.1.2, Figure 6): BYE, CANCEL, OPTIONS,
//! REGISTER and the like that we send. Retransmits on Timer E, gives up on Timer F, absorbs
//! late responses until Timer K.

use std::time::Instant;

use super::{
    class_of, earliest, Class, Outbox, Output, Retransmit, Timer, TimerConfig, Transport, TuEvent,
    TxRequest, TxResponse,
};

/// The state of a non-INVITE client transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum NonInviteClientState<Req: TxRequest> {
    /// Request sent, nothing heard: Timer E doubles up to T2.
    Trying {
        /// Kept for retransmission.
        request: Req,
        /// Timer E; `None` over reliable transports.
        retransmit: Option<Retransmit>,
        /// Timer F.
        timer_f: Instant,
    },
    /// A provisional arrived: Timer E now paces at T2 (§17.1.2.2).
    Proceeding {
        /// Kept for retransmission.
        request: Req,
        /// Timer E; `None` over reliable transports.
        retransmit: Option<Retransmit>,
        /// Timer F.
        timer_f: Instant,
    },
    /// A final arrived: later copies of it are absorbed.
    Completed {
        /// Timer K.
        timer_k: Instant,
    },
    /// Over; nothing more is emitted.
    Terminated,
}

impl<Req: TxRequest> NonInviteClientState<Req> {
    /// The state's name, for logs and errors.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Trying { .. } => "Trying",
            Self::Proceeding { .. } => "Proceeding",
            Self::Completed { .. } => "Completed",
            Self::Terminated => "Terminated",
        }
    }
}

/// One non-INVITE request sent by us.
#[derive(Debug, Clone)]
pub struct NonInviteClientTransaction<Req: TxRequest> {
    state: NonInviteClientState<Req>,
    transport: Transport,
    config: TimerConfig,
    out: Outbox<Req>,
}

impl<Req: TxRequest> NonInviteClientTransaction<Req> {
    /// Starts the transaction: the request is the first output, Timers E and F are armed.
    pub fn new(request: Req, transport: Transport, config: TimerConfig, now: Instant) -> Self {
        let mut out = Outbox::default();
        out.push(Output::SendRequest(request.clone()));
        Self {
            state: NonInviteClientState::Trying {
                request,
                retransmit: config.first_retransmit(transport, now),
                timer_f: now + config.t1_x64(),
            },
            transport,
            config,
            out,
        }
    }

    /// The current state, for the TU and for tests.
    pub fn state(&self) -> &NonInviteClientState<Req> {
        &self.state
    }

    /// True once nothing more will happen; the table drops it then.
    pub fn is_terminated(&self) -> bool {
        matches!(self.state, NonInviteClientState::Terminated)
    }

    /// A response matched to this transaction arrived from the peer.
    pub fn handle_response(&mut self, response: Req::Response, now: Instant) {
        let Some(class) = class_of(response.status_code()) else {
            tracing::debug!(status = response.status_code(), "ignoring invalid status");
            return;
        };
        let state = std::mem::replace(&mut self.state, NonInviteClientState::Terminated);
        let next = match state {
            NonInviteClientState::Trying { .. } | NonInviteClientState::Proceeding { .. }
                if class != Class::Provisional =>
            {
                self.out.tell_tu(TuEvent::Response(response));
                let k = self.config.t4_if_unreliable(self.transport);
                if k.is_zero() {
                    NonInviteClientState::Terminated
                } else {
                    NonInviteClientState::Completed { timer_k: now + k }
                }
            }
            NonInviteClientState::Trying {
                request,
                retransmit,
                timer_f,
            }
            | NonInviteClientState::Proceeding {
                request,
                retransmit,
                timer_f,
            } => {
                self.out.tell_tu(TuEvent::Response(response));
                NonInviteClientState::Proceeding {
                    request,
                    retransmit,
                    timer_f,
                }
            }
            completed @ NonInviteClientState::Completed { .. } => completed,
            NonInviteClientState::Terminated => return,
        };
        self.set(next);
    }

    /// The transport could not send the request (§17.1.4).
    pub fn handle_transport_error(&mut self, _now: Instant) {
        match self.state {
            NonInviteClientState::Trying { .. } | NonInviteClientState::Proceeding { .. } => {
                self.out.tell_tu(TuEvent::TransportError);
                self.set(NonInviteClientState::Terminated);
            }
            NonInviteClientState::Completed { .. } | NonInviteClientState::Terminated => {}
        }
    }

    /// Fires every timer due at `now`, earliest first.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((at, timer)) = self.poll_timeout() {
            if at > now {
                break;
            }
            self.fire(timer, now);
        }
    }

    /// The earliest armed timer and which it is; `None` when nothing is armed.
    pub fn poll_timeout(&self) -> Option<(Instant, Timer)> {
        match &self.state {
            NonInviteClientState::Trying {
                retransmit,
                timer_f,
                ..
            }
            | NonInviteClientState::Proceeding {
                retransmit,
                timer_f,
                ..
            } => earliest(
                Some((*timer_f, Timer::F)),
                retransmit.map(|r| (r.at, Timer::E)),
            ),
            NonInviteClientState::Completed { timer_k } => Some((*timer_k, Timer::K)),
            NonInviteClientState::Terminated => None,
        }
    }

    /// The next thing to do; call until `None` after every input.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Output<Req>> {
        self.out.pop()
    }

    fn fire(&mut self, timer: Timer, now: Instant) {
        if self.is_terminated() {
            return;
        }
        let t2 = self.config.t2;
        let state = std::mem::replace(&mut self.state, NonInviteClientState::Terminated);
        let next = match (state, timer) {
            (
                NonInviteClientState::Trying {
                    request,
                    retransmit: Some(r),
                    timer_f,
                },
                Timer::E,
            ) => {
                self.out.push(Output::SendRequest(request.clone()));
                NonInviteClientState::Trying {
                    request,
                    retransmit: Some(r.doubled(Some(t2), now)),
                    timer_f,
                }
            }
            (
                NonInviteClientState::Proceeding {
                    request,
                    retransmit: Some(_),
                    timer_f,
                },
                Timer::E,
            ) => {
                self.out.push(Output::SendRequest(request.clone()));
                NonInviteClientState::Proceeding {
                    request,
                    retransmit: Some(Retransmit::fixed(t2, now)),
                    timer_f,
                }
            }
            (
                NonInviteClientState::Trying { .. } | NonInviteClientState::Proceeding { .. },
                Timer::F,
            ) => {
                self.out.tell_tu(TuEvent::Timeout(Timer::F));
                NonInviteClientState::Terminated
            }
            (NonInviteClientState::Completed { .. }, Timer::K) => NonInviteClientState::Terminated,
            (state, _) => state,
        };
        self.set(next);
    }

    fn set(&mut self, next: NonInviteClientState<Req>) {
        if matches!(next, NonInviteClientState::Terminated) {
            self.out.tell_tu(TuEvent::Terminated);
        }
        self.state = next;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::sip::transaction::test_support::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Runs the timers until `until`, returning when each retransmission went out.
    fn retransmissions(
        t: &mut NonInviteClientTransaction<FakeReq>,
        t0: Instant,
        until: Instant,
    ) -> Vec<Duration> {
        let mut sends = Vec::new();
        while let Some((at, _)) = t.poll_timeout() {
            if at > until {
                break;
            }
            t.handle_timeout(at);
            for o in drain(|| t.poll_output()) {
                if o == Output::SendRequest(bye()) {
                    sends.push(at - t0);
                }
            }
        }
        sends
    }

    #[test]
    fn timer_e_doubles_to_t2_then_timer_f_times_out() {
        let t0 = t0();
        let mut t = NonInviteClientTransaction::new(
            bye(),
            Transport::Unreliable,
            TimerConfig::default(),
            t0,
        );
        assert_eq!(drain(|| t.poll_output()), vec![Output::SendRequest(bye())]);
        let sends = retransmissions(&mut t, t0, t0 + Duration::from_secs(20));
        // 0.5, 1.5, 3.5, 7.5 (interval capped at 4 s), 11.5, 15.5, 19.5
        let expected: Vec<_> = [500, 1500, 3500, 7500, 11500, 15500, 19500]
            .map(ms)
            .to_vec();
        assert_eq!(sends, expected);
        t.handle_timeout(t0 + Duration::from_secs(32));
        let out = drain(|| t.poll_output());
        assert!(out.contains(&Output::ToTu(TuEvent::Timeout(Timer::F))));
        assert_eq!(out.last().cloned(), Some(terminated()));
        assert_eq!(t.poll_timeout(), None);
    }

    #[test]
    fn proceeding_paces_retransmissions_at_t2() {
        let t0 = t0();
        let mut t = NonInviteClientTransaction::new(
            bye(),
            Transport::Unreliable,
            TimerConfig::default(),
            t0,
        );
        let _ = drain(|| t.poll_output());
        t.handle_response(FakeResp(100), t0 + ms(100));
        assert_eq!(drain(|| t.poll_output()), vec![to_tu_resp(100)]);
        let sends = retransmissions(&mut t, t0, t0 + Duration::from_secs(14));
        // The pending 0.5 s timer still fires, then every retransmission waits T2.
        let expected: Vec<_> = [500, 4500, 8500, 12500].map(ms).to_vec();
        assert_eq!(sends, expected);
    }

    #[test]
    fn final_completes_absorbs_copies_and_timer_k_terminates() {
        let t0 = t0();
        let mut t = NonInviteClientTransaction::new(
            bye(),
            Transport::Unreliable,
            TimerConfig::default(),
            t0,
        );
        let _ = drain(|| t.poll_output());
        t.handle_response(FakeResp(200), t0 + ms(40));
        assert_eq!(drain(|| t.poll_output()), vec![to_tu_resp(200)]);
        let k_at = t0 + ms(40) + Duration::from_secs(5);
        assert_eq!(t.poll_timeout(), Some((k_at, Timer::K)));
        t.handle_response(FakeResp(200), t0 + ms(900));
        assert!(drain(|| t.poll_output()).is_empty(), "copy absorbed");
        t.handle_timeout(k_at);
        assert_eq!(drain(|| t.poll_output()), vec![terminated()]);
    }

    #[test]
    fn reliable_has_no_timer_e_and_zero_timer_k() {
        let t0 = t0();
        let mut t =
            NonInviteClientTransaction::new(bye(), Transport::Reliable, TimerConfig::default(), t0);
        let _ = drain(|| t.poll_output());
        assert_eq!(
            t.poll_timeout(),
            Some((t0 + Duration::from_secs(32), Timer::F))
        );
        t.handle_response(FakeResp(481), t0 + ms(5));
        assert_eq!(
            drain(|| t.poll_output()),
            vec![to_tu_resp(481), terminated()]
        );
    }

    #[test]
    fn transport_error_terminates() {
        let t0 = t0();
        let mut t = NonInviteClientTransaction::new(
            bye(),
            Transport::Unreliable,
            TimerConfig::default(),
            t0,
        );
        let _ = drain(|| t.poll_output());
        t.handle_transport_error(t0);
        assert_eq!(
            drain(|| t.poll_output()),
            vec![Output::ToTu(TuEvent::TransportError), terminated()]
        );
        t.handle_timeout(t0 + Duration::from_secs(100));
        assert!(drain(|| t.poll_output()).is_empty());
    }
}
