//! The INVITE server transaction (RFC 3261 §17.2.1, Figure 7, with RFC 6026's `Accepted`).
//! It absorbs retransmitted INVITEs, retransmits a non-2xx final until the ACK, and after a
//! 2xx leaves retransmission to the dialog. What to answer (and when to answer 487 after a
//! CANCEL, §9.2) is the TU's decision; this machine only carries it.

use std::time::Instant;

use super::{
    class_of, earliest, Class, Outbox, Output, Retransmit, Timer, TimerConfig, TransactionError,
    Transport, TuEvent, TxRequest, TxResponse,
};

/// The state of an INVITE server transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum InviteServerState<Req: TxRequest> {
    /// The TU has the INVITE; a retransmitted INVITE gets the latest provisional again.
    Proceeding {
        /// The latest 1xx the TU sent, if any.
        last_provisional: Option<Req::Response>,
    },
    /// A non-2xx final was sent: retransmit it on Timer G until the ACK, give up on Timer H.
    Completed {
        /// The final response, resent as is.
        response: Req::Response,
        /// Timer G; `None` over reliable transports.
        retransmit: Option<Retransmit>,
        /// Timer H.
        timer_h: Instant,
    },
    /// The ACK arrived: absorb its retransmissions until Timer I.
    Confirmed {
        /// Timer I.
        timer_i: Instant,
    },
    /// RFC 6026: a 2xx was sent. INVITE retransmissions are absorbed (not new calls), the
    /// dialog's own 2xx retransmissions pass through, an ACK goes up to the TU.
    Accepted {
        /// Timer L.
        timer_l: Instant,
    },
    /// Over; nothing more is emitted.
    Terminated,
}

impl<Req: TxRequest> InviteServerState<Req> {
    /// The state's name, for logs and errors.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Proceeding { .. } => "Proceeding",
            Self::Completed { .. } => "Completed",
            Self::Confirmed { .. } => "Confirmed",
            Self::Accepted { .. } => "Accepted",
            Self::Terminated => "Terminated",
        }
    }
}

/// One INVITE received by us (an inbound call to the hotline).
#[derive(Debug, Clone)]
pub struct InviteServerTransaction<Req: TxRequest> {
    state: InviteServerState<Req>,
    transport: Transport,
    config: TimerConfig,
    out: Outbox<Req>,
}

impl<Req: TxRequest> InviteServerTransaction<Req> {
    /// Creates the transaction for a new INVITE, which the caller hands to the TU itself.
    /// The TU should send 100 Trying at once (see the module doc of `transaction`).
    pub fn new(transport: Transport, config: TimerConfig, _now: Instant) -> Self {
        Self {
            state: InviteServerState::Proceeding {
                last_provisional: None,
            },
            transport,
            config,
            out: Outbox::default(),
        }
    }

    /// The current state, for the TU (e.g. "has a final gone out?") and for tests.
    pub fn state(&self) -> &InviteServerState<Req> {
        &self.state
    }

    /// True once nothing more will happen; the table drops it then.
    pub fn is_terminated(&self) -> bool {
        matches!(self.state, InviteServerState::Terminated)
    }

    /// True while no final response has gone out, so a CANCEL still has an effect (§9.2).
    pub fn is_cancellable(&self) -> bool {
        matches!(self.state, InviteServerState::Proceeding { .. })
    }

    /// A retransmission of the INVITE arrived.
    pub fn handle_request(&mut self, _now: Instant) {
        match &self.state {
            InviteServerState::Proceeding {
                last_provisional: Some(p),
            } => self.out.push(Output::SendResponse(p.clone())),
            InviteServerState::Completed { response, .. } => {
                self.out.push(Output::SendResponse(response.clone()))
            }
            // Proceeding without a 1xx, Confirmed, Accepted: absorbed.
            _ => {}
        }
    }

    /// An ACK matched to this transaction arrived.
    pub fn handle_ack(&mut self, ack: Req, now: Instant) {
        match &self.state {
            InviteServerState::Completed { .. } => {
                let i = self.config.t4_if_unreliable(self.transport);
                if i.is_zero() {
                    self.set(InviteServerState::Terminated);
                } else {
                    self.state = InviteServerState::Confirmed { timer_i: now + i };
                }
            }
            InviteServerState::Accepted { .. } => self.out.tell_tu(TuEvent::Ack(ack)),
            // An ACK before any final is bogus; in Confirmed it is a retransmission.
            _ => {}
        }
    }

    /// The TU sends a response. In `Accepted` only 2xx (the dialog's retransmissions) pass;
    /// after a non-2xx final nothing more may be sent.
    pub fn send_response(
        &mut self,
        response: Req::Response,
        now: Instant,
    ) -> Result<(), TransactionError> {
        let status = response.status_code();
        let class = class_of(status).ok_or(TransactionError::InvalidStatus { status })?;
        match (&self.state, class) {
            (InviteServerState::Proceeding { .. }, Class::Provisional) => {
                self.out.push(Output::SendResponse(response.clone()));
                self.state = InviteServerState::Proceeding {
                    last_provisional: Some(response),
                };
            }
            (InviteServerState::Proceeding { .. }, Class::Success) => {
                self.out.push(Output::SendResponse(response));
                self.state = InviteServerState::Accepted {
                    timer_l: now + self.config.t1_x64(),
                };
            }
            (InviteServerState::Proceeding { .. }, Class::Failure) => {
                self.out.push(Output::SendResponse(response.clone()));
                self.state = InviteServerState::Completed {
                    response,
                    retransmit: self.config.first_retransmit(self.transport, now),
                    timer_h: now + self.config.t1_x64(),
                };
            }
            (InviteServerState::Accepted { .. }, Class::Success) => {
                self.out.push(Output::SendResponse(response));
            }
            (state, _) => {
                return Err(TransactionError::WrongState {
                    status,
                    state: state.name(),
                })
            }
        }
        Ok(())
    }

    /// The transport could not send a response (§17.2.4). In `Accepted` the TU is told but
    /// the transaction stays, since the 2xx and its retransmissions belong to the dialog and
    /// the INVITE copies must still be absorbed.
    pub fn handle_transport_error(&mut self, _now: Instant) {
        match self.state {
            InviteServerState::Proceeding { .. } | InviteServerState::Completed { .. } => {
                self.out.tell_tu(TuEvent::TransportError);
                self.set(InviteServerState::Terminated);
            }
            InviteServerState::Accepted { .. } => self.out.tell_tu(TuEvent::TransportError),
            InviteServerState::Confirmed { .. } | InviteServerState::Terminated => {}
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
            InviteServerState::Proceeding { .. } | InviteServerState::Terminated => None,
            InviteServerState::Completed {
                retransmit,
                timer_h,
                ..
            } => earliest(
                Some((*timer_h, Timer::H)),
                retransmit.map(|r| (r.at, Timer::G)),
            ),
            InviteServerState::Confirmed { timer_i } => Some((*timer_i, Timer::I)),
            InviteServerState::Accepted { timer_l } => Some((*timer_l, Timer::L)),
        }
    }

    /// The next thing to do; call until `None` after every input.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Output<Req>> {
        self.out.pop()
    }

    fn fire(&mut self, timer: Timer, now: Instant) {
        let t2 = self.config.t2;
        match (&mut self.state, timer) {
            (
                InviteServerState::Completed {
                    response,
                    retransmit: Some(r),
                    ..
                },
                Timer::G,
            ) => {
                self.out.push(Output::SendResponse(response.clone()));
                *r = r.doubled(Some(t2), now);
            }
            (InviteServerState::Completed { .. }, Timer::H) => {
                self.out.tell_tu(TuEvent::Timeout(Timer::H));
                self.set(InviteServerState::Terminated);
            }
            (InviteServerState::Confirmed { .. }, Timer::I)
            | (InviteServerState::Accepted { .. }, Timer::L) => {
                self.set(InviteServerState::Terminated)
            }
            _ => {}
        }
    }

    fn set(&mut self, next: InviteServerState<Req>) {
        if matches!(next, InviteServerState::Terminated) {
            self.out.tell_tu(TuEvent::Terminated);
        }
        self.state = next;
    }
}

#[cfg(test)]
#[path = "invite_server_tests.rs"]
mod tests;
