//! The non-INVITE server transaction (RFC 3261 §17.2.2, Figure 8): BYE, CANCEL, OPTIONS,
//! REGISTER and the like that we receive. It caches the final response and resends it for
//! every retransmitted request until Timer J; it never retransmits on its own.

use std::time::Instant;

use super::{
    class_of, Class, Outbox, Output, Timer, TimerConfig, TransactionError, Transport, TuEvent,
    TxRequest, TxResponse,
};

/// The state of a non-INVITE server transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum NonInviteServerState<Req: TxRequest> {
    /// The TU has the request and has not answered: retransmissions are absorbed.
    Trying,
    /// The TU sent a provisional: a retransmission gets it again.
    Proceeding {
        /// The latest 1xx the TU sent.
        last_provisional: Req::Response,
    },
    /// The TU sent the final: a retransmission gets it again until Timer J.
    Completed {
        /// The cached final response.
        response: Req::Response,
        /// Timer J.
        timer_j: Instant,
    },
    /// Over; nothing more is emitted.
    Terminated,
}

impl<Req: TxRequest> NonInviteServerState<Req> {
    /// The state's name, for logs and errors.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Trying => "Trying",
            Self::Proceeding { .. } => "Proceeding",
            Self::Completed { .. } => "Completed",
            Self::Terminated => "Terminated",
        }
    }
}

/// One non-INVITE request received by us.
#[derive(Debug, Clone)]
pub struct NonInviteServerTransaction<Req: TxRequest> {
    state: NonInviteServerState<Req>,
    transport: Transport,
    config: TimerConfig,
    out: Outbox<Req>,
}

impl<Req: TxRequest> NonInviteServerTransaction<Req> {
    /// Creates the transaction for a new request, which the caller hands to the TU itself.
    pub fn new(transport: Transport, config: TimerConfig, _now: Instant) -> Self {
        Self {
            state: NonInviteServerState::Trying,
            transport,
            config,
            out: Outbox::default(),
        }
    }

    /// The current state, for the TU and for tests.
    pub fn state(&self) -> &NonInviteServerState<Req> {
        &self.state
    }

    /// True once nothing more will happen; the table drops it then.
    pub fn is_terminated(&self) -> bool {
        matches!(self.state, NonInviteServerState::Terminated)
    }

    /// A retransmission of the request arrived.
    pub fn handle_request(&mut self, _now: Instant) {
        match &self.state {
            NonInviteServerState::Proceeding { last_provisional } => self
                .out
                .push(Output::SendResponse(last_provisional.clone())),
            NonInviteServerState::Completed { response, .. } => {
                self.out.push(Output::SendResponse(response.clone()))
            }
            NonInviteServerState::Trying | NonInviteServerState::Terminated => {}
        }
    }

    /// The TU sends a response; after the final nothing more may be sent.
    pub fn send_response(
        &mut self,
        response: Req::Response,
        now: Instant,
    ) -> Result<(), TransactionError> {
        let status = response.status_code();
        let class = class_of(status).ok_or(TransactionError::InvalidStatus { status })?;
        match &self.state {
            NonInviteServerState::Trying | NonInviteServerState::Proceeding { .. } => {
                self.out.push(Output::SendResponse(response.clone()));
                if class == Class::Provisional {
                    self.state = NonInviteServerState::Proceeding {
                        last_provisional: response,
                    };
                } else {
                    let j = self.config.timer_j(self.transport);
                    if j.is_zero() {
                        self.set(NonInviteServerState::Terminated);
                    } else {
                        self.state = NonInviteServerState::Completed {
                            response,
                            timer_j: now + j,
                        };
                    }
                }
                Ok(())
            }
            state => Err(TransactionError::WrongState {
                status,
                state: state.name(),
            }),
        }
    }

    /// The transport could not send a response (§17.2.4).
    pub fn handle_transport_error(&mut self, _now: Instant) {
        match self.state {
            NonInviteServerState::Proceeding { .. } | NonInviteServerState::Completed { .. } => {
                self.out.tell_tu(TuEvent::TransportError);
                self.set(NonInviteServerState::Terminated);
            }
            // Nothing was sent yet, or it is over.
            NonInviteServerState::Trying | NonInviteServerState::Terminated => {}
        }
    }

    /// Fires Timer J when it is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let NonInviteServerState::Completed { timer_j, .. } = self.state {
            if timer_j <= now {
                self.set(NonInviteServerState::Terminated);
            }
        }
    }

    /// Timer J when armed; `None` otherwise (the TU owes the answer).
    pub fn poll_timeout(&self) -> Option<(Instant, Timer)> {
        match &self.state {
            NonInviteServerState::Completed { timer_j, .. } => Some((*timer_j, Timer::J)),
            _ => None,
        }
    }

    /// The next thing to do; call until `None` after every input.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Output<Req>> {
        self.out.pop()
    }

    fn set(&mut self, next: NonInviteServerState<Req>) {
        if matches!(next, NonInviteServerState::Terminated) {
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

    fn udp(t0: Instant) -> NonInviteServerTransaction<FakeReq> {
        NonInviteServerTransaction::new(Transport::Unreliable, TimerConfig::default(), t0)
    }

    #[test]
    fn caches_the_final_and_resends_it_until_timer_j() {
        let t0 = t0();
        let mut t = udp(t0);
        t.handle_request(t0 + ms(100));
        assert!(drain(|| t.poll_output()).is_empty(), "Trying absorbs");
        t.send_response(FakeResp(200), t0 + ms(200)).unwrap();
        assert_eq!(drain(|| t.poll_output()), vec![send_resp(200)]);
        let j_at = t0 + ms(200) + Duration::from_secs(32);
        assert_eq!(t.poll_timeout(), Some((j_at, Timer::J)));
        for k in 1..=3 {
            t.handle_request(t0 + ms(200 + 500 * k));
            assert_eq!(drain(|| t.poll_output()), vec![send_resp(200)]);
        }
        t.handle_timeout(j_at - ms(1));
        assert!(drain(|| t.poll_output()).is_empty());
        t.handle_timeout(j_at);
        assert_eq!(drain(|| t.poll_output()), vec![terminated()]);
        t.handle_request(j_at + ms(1));
        assert!(
            drain(|| t.poll_output()).is_empty(),
            "nothing after Terminated"
        );
    }

    #[test]
    fn proceeding_resends_the_latest_provisional() {
        let t0 = t0();
        let mut t = udp(t0);
        t.send_response(FakeResp(100), t0).unwrap();
        t.handle_request(t0 + ms(500));
        assert_eq!(
            drain(|| t.poll_output()),
            vec![send_resp(100), send_resp(100)]
        );
        t.send_response(FakeResp(404), t0 + ms(600)).unwrap();
        assert_eq!(
            t.send_response(FakeResp(200), t0 + ms(700)),
            Err(TransactionError::WrongState {
                status: 200,
                state: "Completed"
            })
        );
    }

    #[test]
    fn reliable_terminates_on_the_final() {
        let t0 = t0();
        let mut t = NonInviteServerTransaction::<FakeReq>::new(
            Transport::Reliable,
            TimerConfig::default(),
            t0,
        );
        t.send_response(FakeResp(200), t0).unwrap();
        assert_eq!(
            drain(|| t.poll_output()),
            vec![send_resp(200), terminated()]
        );
        assert_eq!(t.poll_timeout(), None);
    }

    #[test]
    fn transport_error_terminates() {
        let t0 = t0();
        let mut t = udp(t0);
        t.send_response(FakeResp(200), t0).unwrap();
        t.handle_transport_error(t0);
        assert_eq!(
            drain(|| t.poll_output()),
            vec![
                send_resp(200),
                Output::ToTu(TuEvent::TransportError),
                terminated()
            ]
        );
    }
}
