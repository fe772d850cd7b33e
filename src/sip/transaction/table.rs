//! The transaction table: every live transaction of the four kinds, keyed by the caller's
//! key type (branch + sent-by + method per §17.1.3/§17.2.3, built by `sip::message`), and
//! every armed timer in one ordered map so waking up is O(log n) whatever the load.
//!
//! Must not: compute keys (the caller does: for an incoming ACK it passes the key of the
//! INVITE it acknowledges, i.e. method INVITE, so §17.2.3 matching holds), decide answers.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::Hash;
use std::time::Instant;

use super::{
    InviteClientTransaction, InviteServerTransaction, MethodKind, NonInviteClientTransaction,
    NonInviteServerTransaction, Output, Timer, TimerConfig, TransactionError, Transport, TxRequest,
};

/// The four kinds, for counts, errors and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// [`InviteClientTransaction`].
    InviteClient,
    /// [`NonInviteClientTransaction`].
    NonInviteClient,
    /// [`InviteServerTransaction`].
    InviteServer,
    /// [`NonInviteServerTransaction`].
    NonInviteServer,
}

/// One transaction of any kind, as the table holds it.
#[derive(Debug, Clone)]
pub enum Transaction<Req: TxRequest> {
    /// An INVITE we sent.
    InviteClient(InviteClientTransaction<Req>),
    /// A non-INVITE request we sent.
    NonInviteClient(NonInviteClientTransaction<Req>),
    /// An INVITE we received.
    InviteServer(InviteServerTransaction<Req>),
    /// A non-INVITE request we received.
    NonInviteServer(NonInviteServerTransaction<Req>),
}

impl<Req: TxRequest> Transaction<Req> {
    /// Which of the four it is.
    pub fn kind(&self) -> Kind {
        match self {
            Self::InviteClient(_) => Kind::InviteClient,
            Self::NonInviteClient(_) => Kind::NonInviteClient,
            Self::InviteServer(_) => Kind::InviteServer,
            Self::NonInviteServer(_) => Kind::NonInviteServer,
        }
    }

    /// The current state's name, for logs.
    pub fn state_name(&self) -> &'static str {
        match self {
            Self::InviteClient(t) => t.state().name(),
            Self::NonInviteClient(t) => t.state().name(),
            Self::InviteServer(t) => t.state().name(),
            Self::NonInviteServer(t) => t.state().name(),
        }
    }

    fn is_terminated(&self) -> bool {
        match self {
            Self::InviteClient(t) => t.is_terminated(),
            Self::NonInviteClient(t) => t.is_terminated(),
            Self::InviteServer(t) => t.is_terminated(),
            Self::NonInviteServer(t) => t.is_terminated(),
        }
    }

    fn poll_output(&mut self) -> Option<Output<Req>> {
        match self {
            Self::InviteClient(t) => t.poll_output(),
            Self::NonInviteClient(t) => t.poll_output(),
            Self::InviteServer(t) => t.poll_output(),
            Self::NonInviteServer(t) => t.poll_output(),
        }
    }

    fn poll_timeout(&self) -> Option<(Instant, Timer)> {
        match self {
            Self::InviteClient(t) => t.poll_timeout(),
            Self::NonInviteClient(t) => t.poll_timeout(),
            Self::InviteServer(t) => t.poll_timeout(),
            Self::NonInviteServer(t) => t.poll_timeout(),
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        match self {
            Self::InviteClient(t) => t.handle_timeout(now),
            Self::NonInviteClient(t) => t.handle_timeout(now),
            Self::InviteServer(t) => t.handle_timeout(now),
            Self::NonInviteServer(t) => t.handle_timeout(now),
        }
    }

    fn handle_transport_error(&mut self, now: Instant) {
        match self {
            Self::InviteClient(t) => t.handle_transport_error(now),
            Self::NonInviteClient(t) => t.handle_transport_error(now),
            Self::InviteServer(t) => t.handle_transport_error(now),
            Self::NonInviteServer(t) => t.handle_transport_error(now),
        }
    }
}

/// Live transactions per kind, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransactionCounts {
    /// INVITEs we sent.
    pub invite_client: usize,
    /// Non-INVITE requests we sent.
    pub non_invite_client: usize,
    /// INVITEs we received.
    pub invite_server: usize,
    /// Non-INVITE requests we received.
    pub non_invite_server: usize,
}

impl TransactionCounts {
    /// All four together.
    pub fn total(&self) -> usize {
        self.invite_client + self.non_invite_client + self.invite_server + self.non_invite_server
    }

    fn slot(&mut self, kind: Kind) -> &mut usize {
        match kind {
            Kind::InviteClient => &mut self.invite_client,
            Kind::NonInviteClient => &mut self.non_invite_client,
            Kind::InviteServer => &mut self.invite_server,
            Kind::NonInviteServer => &mut self.non_invite_server,
        }
    }
}

/// Where an incoming request went.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Incoming<Req> {
    /// A server transaction took it (a retransmission, or the ACK of a non-2xx); its
    /// outputs, if any, are queued.
    Matched,
    /// No transaction: a new request. Start a server transaction with
    /// [`TransactionTable::start_server`] and hand the request to the TU.
    New(Req),
    /// An ACK with no transaction: the ACK of a 2xx, for the dialog (§13.3.1.4).
    StrayAck(Req),
}

/// What a CANCEL finds (§9.2), so the TU knows how to answer it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelTarget {
    /// No INVITE server transaction: answer the CANCEL with 481.
    NoMatch,
    /// The INVITE has no final yet: answer the CANCEL with 200, then the INVITE with 487.
    Pending,
    /// A final already went out: answer the CANCEL with 200 and change nothing else.
    AlreadyFinal,
}

/// Why the table refused a TU's input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// Keys must be unique among live transactions.
    #[error("a transaction with this key is already live")]
    DuplicateKey,
    /// ACK belongs to an INVITE transaction or to a dialog, never to a new transaction.
    #[error(
        "an ACK never starts a transaction; pass it to handle_request or send it via the dialog"
    )]
    AckStartsNoTransaction,
    /// The key matched nothing (it may have terminated already).
    #[error("no live transaction with this key")]
    NoSuchTransaction,
    /// The key matched a transaction of a kind that cannot do this.
    #[error("a {kind:?} transaction cannot {action}")]
    WrongKind {
        /// The kind that was found.
        kind: Kind,
        /// What was asked of it.
        action: &'static str,
    },
    /// The transaction itself refused.
    #[error(transparent)]
    Transaction(#[from] TransactionError),
}

/// A transaction and the timer entry registered for it.
#[derive(Debug)]
struct Slot<Req: TxRequest> {
    txn: Transaction<Req>,
    /// The (instant, sequence) key of its one entry in `timers`, and which timer.
    timer: Option<(Instant, u64, Timer)>,
}

/// Every live transaction, routed by key, with one ordered timer map for all of them.
#[derive(Debug)]
pub struct TransactionTable<K, Req: TxRequest> {
    config: TimerConfig,
    map: HashMap<K, Slot<Req>>,
    /// Each transaction's earliest timer only; the sequence breaks ties between equal
    /// instants so two transactions never collide.
    timers: BTreeMap<(Instant, u64), (K, Timer)>,
    next_seq: u64,
    out: VecDeque<(K, Output<Req>)>,
    counts: TransactionCounts,
}

impl<K: Hash + Eq + Clone, Req: TxRequest> TransactionTable<K, Req> {
    /// An empty table whose transactions all use `config`.
    pub fn new(config: TimerConfig) -> Self {
        Self {
            config,
            map: HashMap::new(),
            timers: BTreeMap::new(),
            next_seq: 0,
            out: VecDeque::new(),
            counts: TransactionCounts::default(),
        }
    }

    /// Starts a client transaction for a request we send (INVITE or non-INVITE by its
    /// method); its first output is the request itself.
    pub fn start_client(
        &mut self,
        key: K,
        request: Req,
        transport: Transport,
        now: Instant,
    ) -> Result<(), TableError> {
        let txn =
            match request.method_kind() {
                MethodKind::Ack => return Err(TableError::AckStartsNoTransaction),
                MethodKind::Invite => Transaction::InviteClient(InviteClientTransaction::new(
                    request,
                    transport,
                    self.config,
                    now,
                )),
                MethodKind::NonInvite => Transaction::NonInviteClient(
                    NonInviteClientTransaction::new(request, transport, self.config, now),
                ),
            };
        self.insert(key, txn)
    }

    /// Starts a server transaction for a request that [`Self::handle_request`] called
    /// [`Incoming::New`]; the caller hands the request to the TU.
    pub fn start_server(
        &mut self,
        key: K,
        request: &Req,
        transport: Transport,
        now: Instant,
    ) -> Result<(), TableError> {
        let txn = match request.method_kind() {
            MethodKind::Ack => return Err(TableError::AckStartsNoTransaction),
            MethodKind::Invite => {
                Transaction::InviteServer(InviteServerTransaction::new(transport, self.config, now))
            }
            MethodKind::NonInvite => Transaction::NonInviteServer(NonInviteServerTransaction::new(
                transport,
                self.config,
                now,
            )),
        };
        self.insert(key, txn)
    }

    /// Routes a request from the network. For an ACK, `key` must be the key of the INVITE
    /// it acknowledges.
    pub fn handle_request(&mut self, key: &K, request: Req, now: Instant) -> Incoming<Req> {
        let is_ack = request.method_kind() == MethodKind::Ack;
        let unmatched = |request| {
            if is_ack {
                Incoming::StrayAck(request)
            } else {
                Incoming::New(request)
            }
        };
        let takes = matches!(
            self.map.get(key).map(|s| s.txn.kind()),
            Some(Kind::InviteServer | Kind::NonInviteServer)
        );
        if !takes {
            // No transaction, or one of our own client keys, which is not ours to take.
            return unmatched(request);
        }
        let _ = self.with_txn(key, |txn| match txn {
            Transaction::InviteServer(t) if is_ack => t.handle_ack(request, now),
            Transaction::InviteServer(t) => t.handle_request(now),
            Transaction::NonInviteServer(t) => t.handle_request(now),
            Transaction::InviteClient(_) | Transaction::NonInviteClient(_) => {}
        });
        Incoming::Matched
    }

    /// Routes a response from the network to its client transaction. Returns the response
    /// back when nothing matched (a stray, which the UA core drops per RFC 6026 §7.5).
    #[must_use]
    pub fn handle_response(
        &mut self,
        key: &K,
        response: Req::Response,
        now: Instant,
    ) -> Option<Req::Response> {
        let Some(slot) = self.map.get_mut(key) else {
            return Some(response);
        };
        match &mut slot.txn {
            Transaction::InviteClient(t) => t.handle_response(response, now),
            Transaction::NonInviteClient(t) => t.handle_response(response, now),
            Transaction::InviteServer(_) | Transaction::NonInviteServer(_) => {
                return Some(response)
            }
        }
        self.settle(key);
        None
    }

    /// The TU answers a request through its server transaction.
    pub fn send_response(
        &mut self,
        key: &K,
        response: Req::Response,
        now: Instant,
    ) -> Result<(), TableError> {
        self.with_txn(key, |txn| match txn {
            Transaction::InviteServer(t) => Ok(t.send_response(response, now)?),
            Transaction::NonInviteServer(t) => Ok(t.send_response(response, now)?),
            other => Err(TableError::WrongKind {
                kind: other.kind(),
                action: "send a response",
            }),
        })
        .unwrap_or(Err(TableError::NoSuchTransaction))
    }

    /// The TU sent a CANCEL for the INVITE client transaction `key` (§9.1 guard).
    pub fn cancel_sent(&mut self, key: &K, now: Instant) -> Result<(), TableError> {
        self.with_txn(key, |txn| match txn {
            Transaction::InviteClient(t) => {
                t.handle_cancel_sent(now);
                Ok(())
            }
            other => Err(TableError::WrongKind {
                kind: other.kind(),
                action: "be cancelled",
            }),
        })
        .unwrap_or(Err(TableError::NoSuchTransaction))
    }

    /// The transport failed to send something for `key` (§17.1.4, §17.2.4).
    pub fn handle_transport_error(&mut self, key: &K, now: Instant) -> Result<(), TableError> {
        self.with_txn(key, |txn| txn.handle_transport_error(now))
            .ok_or(TableError::NoSuchTransaction)
    }

    /// What a CANCEL finds: `invite_key` is the CANCEL's key with the method set to INVITE
    /// (§9.2: same branch and sent-by, the method is the only difference).
    pub fn cancel_target(&self, invite_key: &K) -> CancelTarget {
        match self.map.get(invite_key).map(|s| &s.txn) {
            Some(Transaction::InviteServer(t)) if t.is_cancellable() => CancelTarget::Pending,
            Some(Transaction::InviteServer(_)) => CancelTarget::AlreadyFinal,
            _ => CancelTarget::NoMatch,
        }
    }

    /// A live transaction, to inspect its state.
    pub fn get(&self, key: &K) -> Option<&Transaction<Req>> {
        self.map.get(key).map(|s| &s.txn)
    }

    /// Fires every timer due at `now` across the whole table; terminated transactions leave.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let ((at, seq), (key, _)) = entry.remove_entry();
            let Some(slot) = self.map.get_mut(&key) else {
                continue;
            };
            if slot.timer.is_some_and(|(a, s, _)| (a, s) == (at, seq)) {
                slot.timer = None;
            }
            slot.txn.handle_timeout(now);
            self.settle(&key);
        }
    }

    /// The earliest timer in the whole table and which it is; wake up then.
    pub fn poll_timeout(&self) -> Option<(Instant, Timer)> {
        self.timers
            .first_key_value()
            .map(|((at, _), (_, timer))| (*at, *timer))
    }

    /// The next thing to do and for which transaction; drain until `None` after each input.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<(K, Output<Req>)> {
        self.out.pop_front()
    }

    /// Live transactions per kind.
    pub fn counts(&self) -> TransactionCounts {
        self.counts
    }

    /// Live transactions in all.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when no transaction is live.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    fn insert(&mut self, key: K, txn: Transaction<Req>) -> Result<(), TableError> {
        if self.map.contains_key(&key) {
            return Err(TableError::DuplicateKey);
        }
        *self.counts.slot(txn.kind()) += 1;
        self.map.insert(key.clone(), Slot { txn, timer: None });
        self.settle(&key);
        Ok(())
    }

    /// Runs `f` on the transaction for `key`, then settles it; `None` when there is none.
    /// One hash lookup in all, since this is the hot path.
    fn with_txn<R>(&mut self, key: &K, f: impl FnOnce(&mut Transaction<Req>) -> R) -> Option<R> {
        let Self {
            map,
            timers,
            next_seq,
            out,
            counts,
            ..
        } = self;
        let slot = map.get_mut(key)?;
        let r = f(&mut slot.txn);
        if settle_slot(key, slot, timers, next_seq, out) {
            let kind = slot.txn.kind();
            map.remove(key);
            *counts.slot(kind) -= 1;
        }
        Some(r)
    }

    /// [`Self::with_txn`] for callers that already know the key is live.
    fn settle(&mut self, key: &K) {
        let _ = self.with_txn(key, |_| ());
    }
}

/// After any input: queue the transaction's outputs and re-register its timer. Returns true
/// when it has terminated, so the caller removes it.
fn settle_slot<K: Clone, Req: TxRequest>(
    key: &K,
    slot: &mut Slot<Req>,
    timers: &mut BTreeMap<(Instant, u64), (K, Timer)>,
    next_seq: &mut u64,
    out: &mut VecDeque<(K, Output<Req>)>,
) -> bool {
    while let Some(o) = slot.txn.poll_output() {
        out.push_back((key.clone(), o));
    }
    let next = slot.txn.poll_timeout();
    let registered = slot.timer.map(|(at, _, timer)| (at, timer));
    if next != registered {
        if let Some((at, seq, _)) = slot.timer.take() {
            timers.remove(&(at, seq));
        }
        if let Some((at, timer)) = next {
            *next_seq += 1;
            timers.insert((at, *next_seq), (key.clone(), timer));
            slot.timer = Some((at, *next_seq, timer));
        }
    }
    slot.txn.is_terminated()
}

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;
