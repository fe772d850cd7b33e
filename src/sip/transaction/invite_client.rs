//! The INVITE client transaction (RFC 3261 §17.1.1, Figure 5, with RFC 6026's `Accepted`).
//! It retransmits the INVITE, builds and resends the ACK for a non-2xx final, and passes
//! every 2xx up; it never decides whether to CANCEL (the TU does).

use std::time::Instant;

use super::{
    class_of, earliest, Class, Outbox, Output, Retransmit, Timer, TimerConfig, Transport, TuEvent,
    TxRequest, TxResponse,
};

/// The state of an INVITE client transaction, with what each state needs inside it.
#[derive(Debug, Clone, PartialEq)]
pub enum InviteClientState<Req: TxRequest> {
    /// INVITE sent, nothing heard: retransmit on Timer A (unreliable), give up on Timer B.
    Calling {
        /// The INVITE, kept for retransmission and to build the ACK.
        request: Req,
        /// Timer A; `None` over reliable transports.
        retransmit: Option<Retransmit>,
        /// Timer B.
        timer_b: Instant,
    },
    /// A provisional arrived: no more retransmissions; waits for a final or the TU's CANCEL.
    Proceeding {
        /// The INVITE, kept to build the ACK for a non-2xx final.
        request: Req,
        /// The §9.1 guard, armed once the TU reports it sent a CANCEL.
        cancel_guard: Option<Instant>,
    },
    /// A non-2xx final was acknowledged: resend the ACK for every retransmission of it.
    Completed {
        /// The ACK this transaction built, resent as is.
        ack: Req,
        /// Timer D.
        timer_d: Instant,
    },
    /// RFC 6026: a 2xx arrived; further 2xx (retransmissions, forks) still go to the TU.
    Accepted {
        /// Timer M.
        timer_m: Instant,
    },
    /// Over; nothing more is emitted.
    Terminated,
}

impl<Req: TxRequest> InviteClientState<Req> {
    /// The state's name, for logs and errors.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Calling { .. } => "Calling",
            Self::Proceeding { .. } => "Proceeding",
            Self::Completed { .. } => "Completed",
            Self::Accepted { .. } => "Accepted",
            Self::Terminated => "Terminated",
        }
    }
}

/// One INVITE sent by us (an outbound call leg to an agent or a transfer target).
#[derive(Debug, Clone)]
pub struct InviteClientTransaction<Req: TxRequest> {
    state: InviteClientState<Req>,
    transport: Transport,
    config: TimerConfig,
    out: Outbox<Req>,
}

impl<Req: TxRequest> InviteClientTransaction<Req> {
    /// Starts the transaction: the INVITE is the first output, Timers A and B are armed.
    pub fn new(request: Req, transport: Transport, config: TimerConfig, now: Instant) -> Self {
        let mut out = Outbox::default();
        out.push(Output::SendRequest(request.clone()));
        Self {
            state: InviteClientState::Calling {
                request,
                retransmit: config.first_retransmit(transport, now),
                timer_b: now + config.t1_x64(),
            },
            transport,
            config,
            out,
        }
    }

    /// The current state, for the TU and for tests.
    pub fn state(&self) -> &InviteClientState<Req> {
        &self.state
    }

    /// True once nothing more will happen; the table drops it then.
    pub fn is_terminated(&self) -> bool {
        matches!(self.state, InviteClientState::Terminated)
    }

    /// A response matched to this transaction arrived from the peer.
    pub fn handle_response(&mut self, response: Req::Response, now: Instant) {
        let Some(class) = class_of(response.status_code()) else {
            tracing::debug!(status = response.status_code(), "ignoring invalid status");
            return;
        };
        let state = std::mem::replace(&mut self.state, InviteClientState::Terminated);
        let next = match state {
            InviteClientState::Calling { request, .. }
            | InviteClientState::Proceeding { request, .. }
                if class == Class::Failure =>
            {
                let ack = request.build_ack(&response);
                self.out.push(Output::SendRequest(ack.clone()));
                self.out.tell_tu(TuEvent::Response(response));
                let d = self.config.timer_d(self.transport);
                if d.is_zero() {
                    InviteClientState::Terminated
                } else {
                    InviteClientState::Completed {
                        ack,
                        timer_d: now + d,
                    }
                }
            }
            InviteClientState::Calling { .. } | InviteClientState::Proceeding { .. }
                if class == Class::Success =>
            {
                self.out.tell_tu(TuEvent::Response(response));
                InviteClientState::Accepted {
                    timer_m: now + self.config.t1_x64(),
                }
            }
            InviteClientState::Calling { request, .. } => {
                self.out.tell_tu(TuEvent::Response(response));
                InviteClientState::Proceeding {
                    request,
                    cancel_guard: None,
                }
            }
            InviteClientState::Proceeding {
                request,
                cancel_guard,
            } => {
                self.out.tell_tu(TuEvent::Response(response));
                InviteClientState::Proceeding {
                    request,
                    cancel_guard,
                }
            }
            InviteClientState::Completed { ack, timer_d } => {
                // A retransmitted final means our ACK was lost: resend it, tell nobody.
                if class == Class::Failure {
                    self.out.push(Output::SendRequest(ack.clone()));
                }
                InviteClientState::Completed { ack, timer_d }
            }
            InviteClientState::Accepted { timer_m } => {
                if class == Class::Success {
                    self.out.tell_tu(TuEvent::Response(response));
                }
                InviteClientState::Accepted { timer_m }
            }
            InviteClientState::Terminated => return,
        };
        self.set(next);
    }

    /// The TU sent a CANCEL for this INVITE: arm the §9.1 guard so a peer that never sends
    /// the final (487) cannot keep the transaction alive forever.
    pub fn handle_cancel_sent(&mut self, now: Instant) {
        if let InviteClientState::Proceeding { cancel_guard, .. } = &mut self.state {
            if cancel_guard.is_none() {
                *cancel_guard = Some(now + self.config.t1_x64());
            }
        }
    }

    /// The transport could not send the INVITE or the ACK (§17.1.4).
    pub fn handle_transport_error(&mut self, _now: Instant) {
        match self.state {
            // Nothing is sent by this transaction in Accepted (the 2xx ACK is the TU's).
            InviteClientState::Terminated | InviteClientState::Accepted { .. } => {}
            _ => {
                self.out.tell_tu(TuEvent::TransportError);
                self.set(InviteClientState::Terminated);
            }
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
            InviteClientState::Calling {
                retransmit,
                timer_b,
                ..
            } => earliest(
                Some((*timer_b, Timer::B)),
                retransmit.map(|r| (r.at, Timer::A)),
            ),
            InviteClientState::Proceeding { cancel_guard, .. } => {
                cancel_guard.map(|at| (at, Timer::CancelGuard))
            }
            InviteClientState::Completed { timer_d, .. } => Some((*timer_d, Timer::D)),
            InviteClientState::Accepted { timer_m } => Some((*timer_m, Timer::M)),
            InviteClientState::Terminated => None,
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
        let state = std::mem::replace(&mut self.state, InviteClientState::Terminated);
        let next = match (state, timer) {
            (
                InviteClientState::Calling {
                    request,
                    retransmit: Some(r),
                    timer_b,
                },
                Timer::A,
            ) => {
                self.out.push(Output::SendRequest(request.clone()));
                InviteClientState::Calling {
                    request,
                    retransmit: Some(r.doubled(None, now)),
                    timer_b,
                }
            }
            (InviteClientState::Calling { .. }, Timer::B)
            | (InviteClientState::Proceeding { .. }, Timer::CancelGuard) => {
                self.out.tell_tu(TuEvent::Timeout(timer));
                InviteClientState::Terminated
            }
            (InviteClientState::Completed { .. }, Timer::D)
            | (InviteClientState::Accepted { .. }, Timer::M) => InviteClientState::Terminated,
            (state, _) => state,
        };
        self.set(next);
    }

    fn set(&mut self, next: InviteClientState<Req>) {
        if matches!(next, InviteClientState::Terminated) {
            self.out.tell_tu(TuEvent::Terminated);
        }
        self.state = next;
    }
}

#[cfg(test)]
#[path = "invite_client_tests.rs"]
mod tests;
