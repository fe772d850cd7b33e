//! RFC 3261 §17 transactions (with the RFC 6026 fix for 2xx to INVITE), sans-IO.
//!
//! Owns: the four transaction machines (INVITE/non-INVITE × client/server), their timers
//! (A–M by name, T1/T2/T4 configurable), and [`TransactionTable`], which holds thousands of
//! them, routes messages to them and keeps every timer in one ordered structure.
//!
//! Must not: parse or build SIP messages (it is generic over them through [`TxRequest`] and
//! [`TxResponse`]), decide what to answer (that is the TU: dialogs and calls), read the clock
//! or touch a socket. Every input takes `now`; outputs are drained with `poll_output()` until
//! `None`; `poll_timeout()` says when to call `handle_timeout(now)` next and for which timer.
//!
//! Choices the TU must know:
//! - **2xx to INVITE follows RFC 6026.** The server machine enters `Accepted` on a 2xx and
//!   stays there for Timer L (64·T1), absorbing retransmitted INVITEs so they are not taken
//!   for new calls; it never retransmits the 2xx itself: the dialog does, until the ACK, by
//!   calling `send_response` again. The client machine enters `Accepted` on a 2xx and passes
//!   every further 2xx (retransmissions, forks) to the TU until Timer M (64·T1), so they are
//!   matched here and not treated as stray.
//! - **The ACK for a non-2xx final is built by the machine** through
//!   [`TxRequest::build_ack`], synchronously, as §17.1.1.3 puts it in the transaction layer.
//! - **100 Trying is sent by the TU**: the machines never invent a message, so the call room
//!   sends 100 right after it creates an INVITE server transaction (§17.2.1 allows this when
//!   the TU answers within 200 ms).
//! - **A server transaction waits for its TU.** In Proceeding/Trying it arms no timer; a TU
//!   that never answers leaks it. An INVITE client transaction in Proceeding also waits (the
//!   TU's ring timeout sends CANCEL, then [`InviteClientTransaction::handle_cancel_sent`]
//!   arms the §9.1 64·T1 guard).

mod invite_client;
mod invite_server;
mod non_invite_client;
mod non_invite_server;
mod sip_message;
mod table;
mod timer;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod test_support;

pub use invite_client::{InviteClientState, InviteClientTransaction};
pub use invite_server::{InviteServerState, InviteServerTransaction};
pub use non_invite_client::{NonInviteClientState, NonInviteClientTransaction};
pub use non_invite_server::{NonInviteServerState, NonInviteServerTransaction};
pub use table::{
    CancelTarget, Incoming, Kind, TableError, Transaction, TransactionCounts, TransactionTable,
};
pub use timer::{Retransmit, Timer, TimerConfig, TimerConfigError, Transport};

use std::time::Instant;

/// What the transaction layer must know about a request, and nothing more, so the real
/// message type can be plugged in by implementing this one trait.
pub trait TxRequest: Clone + std::fmt::Debug {
    /// The response type that answers this request.
    type Response: TxResponse;

    /// INVITE, ACK or anything else: the three behave differently in §17.
    fn method_kind(&self) -> MethodKind;

    /// Builds the ACK for a non-2xx final response to this INVITE (§17.1.1.3): same
    /// Request-URI, Call-ID, From, CSeq number and top Via as the INVITE, the To of the
    /// response (with its tag), the INVITE's Route headers, method ACK.
    fn build_ack(&self, response: &Self::Response) -> Self;
}

/// What the transaction layer must know about a response.
pub trait TxResponse: Clone + std::fmt::Debug {
    /// The status code (100–699) that picks the transition.
    fn status_code(&self) -> u16;
}

/// The three request classes §17 tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MethodKind {
    /// INVITE: the three-way handshake machines.
    Invite,
    /// ACK: never a transaction of its own; it belongs to the INVITE transaction it
    /// acknowledges (non-2xx) or to the dialog (2xx).
    Ack,
    /// Every other method (BYE, CANCEL, REGISTER, OPTIONS, INFO, …).
    NonInvite,
}

/// The response classes the machines switch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Provisional,
    Success,
    Failure,
}

/// Sorts a status code into its class; `None` for anything outside 100–699, which the
/// parser should have rejected and the machines ignore (or refuse, if the TU sent it).
pub(crate) fn class_of(status: u16) -> Option<Class> {
    match status {
        100..=199 => Some(Class::Provisional),
        200..=299 => Some(Class::Success),
        300..=699 => Some(Class::Failure),
        _ => None,
    }
}

/// Something a transaction wants done, drained with `poll_output()` until `None`.
#[derive(Debug, Clone, PartialEq)]
pub enum Output<Req: TxRequest> {
    /// Hand this request to the transport (client side: the request, its retransmission,
    /// or the ACK for a non-2xx final).
    SendRequest(Req),
    /// Hand this response to the transport (server side: a response or its retransmission).
    SendResponse(Req::Response),
    /// Tell the transaction user (dialog, call, registrar).
    ToTu(TuEvent<Req>),
}

/// What a transaction tells its user; separate from the states, which the TU never drives.
#[derive(Debug, Clone, PartialEq)]
pub enum TuEvent<Req: TxRequest> {
    /// Client side: a response to pass up (every 1xx, the first non-2xx final, every 2xx).
    Response(Req::Response),
    /// Server side: an ACK that reached an INVITE server transaction in `Accepted` (RFC 6026
    /// §8.7: it acknowledges the 2xx, so the dialog must see it).
    Ack(Req),
    /// The peer went silent: Timer B, F or H fired (or the §9.1 CANCEL guard).
    Timeout(Timer),
    /// The transport could not send what this transaction handed it (§17.1.4, §17.2.4).
    TransportError,
    /// The transaction is over; it will emit nothing more and can be dropped.
    Terminated,
}

/// Why a TU's input was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransactionError {
    /// The status code is outside 100–699.
    #[error("status code {status} is not a SIP response status (100-699)")]
    InvalidStatus {
        /// The refused code.
        status: u16,
    },
    /// The TU tried to send a response the current state cannot carry (for example a
    /// second final, or a 1xx after the final).
    #[error("cannot send a {status} response in state {state}")]
    WrongState {
        /// The refused code.
        status: u16,
        /// The state the transaction was in.
        state: &'static str,
    },
}

/// The outbox every machine keeps, so "nothing after Terminated" is enforced in one place.
#[derive(Debug, Clone)]
pub(crate) struct Outbox<Req: TxRequest> {
    queue: std::collections::VecDeque<Output<Req>>,
}

impl<Req: TxRequest> Default for Outbox<Req> {
    fn default() -> Self {
        Self {
            queue: std::collections::VecDeque::new(),
        }
    }
}

impl<Req: TxRequest> Outbox<Req> {
    pub(crate) fn push(&mut self, output: Output<Req>) {
        self.queue.push_back(output);
    }

    pub(crate) fn pop(&mut self) -> Option<Output<Req>> {
        self.queue.pop_front()
    }

    pub(crate) fn tell_tu(&mut self, event: TuEvent<Req>) {
        self.queue.push_back(Output::ToTu(event));
    }
}

/// The earlier of two armed timers; ties go to the first, which callers order by priority
/// (a give-up timer before a retransmission at the same instant).
pub(crate) fn earliest(
    a: Option<(Instant, Timer)>,
    b: Option<(Instant, Timer)>,
) -> Option<(Instant, Timer)> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if y.0 < x.0 { y } else { x }),
        (x, None) => x,
        (None, y) => y,
    }
}
