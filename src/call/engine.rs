//! The call engine: every SIP message, key press, prompt end and timer of every call goes in
//! here, and what to send, what to play and what to record comes out. It is the one place
//! where transactions, dialogs, the IVR and the waiting lines meet; it holds no socket and
//! reads no clock (the shell hands in `now`).

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::rngs::StdRng as SmallRng;
use rand::{Rng, SeedableRng};

use crate::acd::config::AcdConfig;
use crate::acd::core::Acd;
use crate::acd::model::AgentId;
use crate::call::ports::PortAllocator;
use crate::call::record::CallOutcome;
use crate::call::screen::{allow_list, invite_key_of, reason_phrase};
use crate::call::session::{Call, CallId, Phase};
use crate::ivr::model::MenuTree;
use crate::sip::message::{Host, MediaType, Message, Method, Request, Response, TransactionKey};
use crate::sip::parse::ParseError;
use crate::sip::registrar::{Flow, Registrar, RegistrarEvent, Screening};
use crate::sip::transaction::{
    CancelTarget, Incoming, Output as TxOutput, TimerConfig, TransactionTable, TuEvent,
};

/// Which connection a message came in on or must go out on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Link {
    /// The shared UDP socket.
    Udp,
    /// One accepted TCP connection, by the shell's id for it.
    Tcp(u64),
    /// One SIP-over-WebSocket connection (RFC 7118) on the HTTP listener, by the shell's id
    /// for it; `secure` when the listener speaks TLS (WSS). Its clients' Contacts name
    /// `.invalid` hosts, so requests to them can only go down this connection.
    Ws { id: u64, secure: bool },
}

/// The far end of a message: its address and the link it travels on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    pub addr: SocketAddr,
    pub link: Link,
}

impl Peer {
    /// Whether the transport is reliable (no retransmission timers, §17).
    pub fn reliable(&self) -> bool {
        matches!(self.link, Link::Tcp(_) | Link::Ws { .. })
    }

    /// The Via transport of a request we send over this link (RFC 7118 §5 for WS/WSS).
    pub fn via_transport(&self) -> crate::sip::message::Transport {
        use crate::sip::message::Transport;
        match self.link {
            Link::Udp => Transport::Udp,
            Link::Tcp(_) => Transport::Tcp,
            Link::Ws { secure: false, .. } => Transport::Ws,
            Link::Ws { secure: true, .. } => Transport::Wss,
        }
    }
}

pub use crate::call::output::{MediaCommand, Output};

/// The engine's settings, taken from the config at start.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Request-URI user parts we answer (`12345`).
    pub service_numbers: Vec<String>,
    /// Our SIP address, for Via and Contact.
    pub sip_addr: SocketAddr,
    pub timers: TimerConfig,
    pub user_agent: String,
    /// Address announced in SDP and bound for RTP.
    pub rtp_address: IpAddr,
    /// Browser agents' Opus encoder complexity (`[rtp] opus_complexity`).
    pub opus_complexity: u8,
    pub rtp_port_min: u16,
    pub rtp_port_max: u16,
    /// Ports only agents' legs may take.
    pub rtp_agent_reserve: u16,
    /// Longest time in the voice menus before the call goes to a person.
    pub max_in_ivr: Duration,
    /// Longest wait in a queue before the closing prompt and the end.
    pub max_in_queue: Duration,
    /// RFC 4028: the session interval we ask of callers that support timers; `min_se` the
    /// shortest we accept.
    pub session_expires: Duration,
    pub min_se: Duration,
    /// Ring (180) this long before answering; zero answers at once.
    pub answer_delay: Duration,
    /// How often a waiting caller hears their position.
    pub queue_notice_interval: Duration,
    /// Queues calls may wait in.
    pub queues: Vec<String>,
    /// The SIP gateway to the public network for external transfers (none: refused).
    pub transfer_gateway: Option<SocketAddr>,
    /// Outside transfer targets (`110`, `water`, …) → the number dialled at the gateway.
    pub transfer_numbers: std::collections::BTreeMap<String, String>,
    /// Handling units' desks (unit id → number of `config/dispatch.toml`), dialled through
    /// `transfer_gateway` when an agent brings a unit onto a call (W3 three-way transfer).
    pub unit_numbers: std::collections::BTreeMap<String, String>,
    /// The carrier's trunks: their SDP address is trusted and they are not limited per source.
    pub trunks: Vec<crate::sip::prefix::IpPrefix>,
    /// Calls one source may have in set-up (INVITE taken, no ACK yet); more get 503. Zero
    /// turns the limit off.
    pub max_setup_per_source: usize,
    /// The trunk calls to citizens go out through (`[trunk] address`; none: no outbound).
    pub trunk: Option<SocketAddr>,
    /// The hotline's own number, shown to the citizens it calls.
    pub trunk_caller_id: String,
    /// How long a citizen's phone may ring before the try counts as not answered.
    pub outbound_ring_timeout: Duration,
    /// "Keep your place and be called back" (`[callback_offer]`, `call::call_me_back`).
    pub call_me_back: crate::call::call_me_back::CallMeBackConfig,
    /// What a challenge from the trunk is answered with (`[trunk] username`, password).
    pub trunk_credentials: Option<crate::sip::digest_client::ClientCredentials>,
}

pub use crate::call::counters::EngineCounters;

/// The signaling core of the whole engine. See the module doc.
pub struct CallEngine {
    pub(crate) cfg: EngineConfig,
    pub(crate) menus: Arc<MenuTree>,
    /// Maps `Instant`s to wall time for records: wall = base_wall + (now − base).
    clock_base: (Instant, DateTime<Utc>),
    pub(crate) rng: SmallRng,
    pub(crate) txns: TransactionTable<TransactionKey, Request>,
    /// Where each live transaction's messages go.
    pub(crate) txn_peers: HashMap<TransactionKey, Peer>,
    pub(crate) calls: HashMap<CallId, Call>,
    /// The INVITE server transaction of each call not yet answered or refused.
    pub(crate) by_invite: HashMap<TransactionKey, CallId>,
    /// Dialog (Call-ID, our tag) → call.
    pub(crate) by_dialog: HashMap<(String, String), CallId>,
    /// Our BYE's client transaction → call.
    pub(crate) by_bye: HashMap<TransactionKey, CallId>,
    pub(crate) ports: PortAllocator,
    /// Queues, agents and routing.
    pub(crate) acd: Acd<CallId>,
    /// The ACD's files as loaded: which web queue an internet request goes to (`[web]` of
    /// `queues.toml`), the supervisors' phones.
    pub(crate) acd_files: Arc<AcdConfig>,
    /// Agent id by the SIP user its phone registers as, and back.
    pub(crate) agent_by_user: HashMap<String, AgentId>,
    pub(crate) user_by_agent: HashMap<AgentId, String>,
    /// Agent legs' INVITE client transactions → call.
    pub(crate) by_agent_invite: HashMap<TransactionKey, CallId>,
    /// Cancelled agent legs whose INVITE has not finished yet.
    pub(crate) dying_legs: crate::call::agent_leg::DyingLegs,
    /// Browser agents' WebRTC legs not yet handed to the media shell (`call::browser_leg`).
    pub(crate) browser: crate::call::browser_leg::BrowserLegs,
    /// The inbound call `finish` is removing and the number it dialled: the ACD's abandon
    /// for it comes out after the call is gone, and its KPI event names the number.
    pub(crate) finishing: Option<(CallId, String)>,
    /// Extra parties' INVITE client transactions → call and party (`call::parties`).
    pub(crate) party_invites: HashMap<TransactionKey, (CallId, crate::media::mixer::PartyId)>,
    /// Outbound calls' INVITE client transactions → call (`call::outbound`).
    pub(crate) outbound_invites: HashMap<TransactionKey, CallId>,
    /// Every call's next wake-up, ordered; each call remembers its entry to replace it.
    timers: BTreeSet<(Instant, CallId)>,
    /// Call ids, unique by construction (see `call::ids`).
    ids: crate::call::ids::IdMint,
    pub(crate) next_token: u64,
    pub(crate) out: VecDeque<Output>,
    pub(crate) accepting: bool,
    /// The hot standby of two engines (`call::role`): every new request gets 503.
    pub(crate) standby: bool,
    /// Agents' phone bindings, digest authentication and the scanner guard.
    pub(crate) registrar: Registrar<Link>,
    pub counters: EngineCounters,
    /// Registrations or agent states changed since the shell last saved them.
    pub(crate) state_dirty: bool,
    /// Places kept for callers who chose to be called back.
    pub(crate) kept: crate::call::call_me_back::KeptCallbacks,
    /// Surge mode (C8): since when, and who turned it on.
    pub(crate) surge: Option<crate::call::call_me_back::Surge>,
}

/// Whom a live call is from and which agent has it: see [`CallEngine::caller_of`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerOf {
    /// The caller's whole number (for the ticket store's lookup only; never displayed).
    pub number: String,
    /// The agent whose phone rings for it or who answered it.
    pub agent: Option<String>,
}

impl CallEngine {
    /// A new engine; `now`/`wall` anchor its wall-clock for records, `seed` its tags and
    /// branches (fixed in tests, random in the shell).
    pub fn new(
        cfg: EngineConfig,
        menus: Arc<MenuTree>,
        registrar: Registrar<Link>,
        acd_config: &AcdConfig,
        now: Instant,
        wall: DateTime<Utc>,
        seed: u64,
    ) -> Self {
        let ports = PortAllocator::new(cfg.rtp_port_min, cfg.rtp_port_max, cfg.rtp_agent_reserve);
        let acd = Acd::new(acd_config, now);
        let agent_by_user: HashMap<String, AgentId> = acd_config
            .agents
            .iter()
            .map(|a| (a.sip_user.clone(), a.id.clone()))
            .collect();
        let user_by_agent = agent_by_user
            .iter()
            .map(|(u, a)| (a.clone(), u.clone()))
            .collect();
        let txns = TransactionTable::new(cfg.timers);
        let mut rng = SmallRng::seed_from_u64(seed);
        let ids = crate::call::ids::IdMint::new(&mut rng);
        Self {
            cfg,
            menus,
            clock_base: (now, wall),
            rng,
            txns,
            txn_peers: HashMap::new(),
            calls: HashMap::new(),
            by_invite: HashMap::new(),
            by_dialog: HashMap::new(),
            by_bye: HashMap::new(),
            ports,
            acd,
            acd_files: Arc::new(acd_config.clone()),
            agent_by_user,
            user_by_agent,
            by_agent_invite: HashMap::new(),
            dying_legs: HashMap::new(),
            browser: Default::default(),
            finishing: None,
            party_invites: HashMap::new(),
            outbound_invites: HashMap::new(),
            timers: BTreeSet::new(),
            ids,
            next_token: 1,
            out: VecDeque::new(),
            accepting: true,
            standby: false,
            registrar,
            counters: EngineCounters::default(),
            state_dirty: false,
            kept: Default::default(),
            surge: None,
        }
    }

    /// Wall-clock time of a monotonic instant.
    pub(crate) fn wall(&self, now: Instant) -> DateTime<Utc> {
        let (base, wall) = self.clock_base;
        let delta = now.saturating_duration_since(base);
        wall + chrono::Duration::from_std(delta).unwrap_or(chrono::Duration::zero())
    }

    /// A random token for tags and branches.
    pub(crate) fn token(&mut self) -> String {
        format!("{:016x}", self.rng.gen::<u64>())
    }

    pub(crate) fn new_call_id(&mut self) -> CallId {
        self.ids.next_id()
    }

    /// A message arrived from `from`.
    pub fn handle_message(&mut self, msg: Message, from: Peer, now: Instant) {
        match msg {
            Message::Request(mut req) => {
                self.counters.requests += 1;
                self.counters.received.request(&req.method);
                crate::sip::message::stamp_received(&mut req, from.addr);
                self.handle_request(req, from, now);
            }
            Message::Response(resp) => {
                self.counters.responses += 1;
                self.counters.received.response(resp.status);
                self.handle_response(resp, now);
            }
        }
        self.flush_transactions(now);
    }

    /// Bytes arrived that are not a SIP message: answer 400 (or 505, 513) when the sender
    /// can be addressed, otherwise count and drop. Never a panic.
    pub fn handle_malformed(&mut self, err: &ParseError, from: Peer) {
        self.counters.parse_errors += 1;
        match err.response() {
            Some(mut resp) => {
                if let Some(via) = resp.headers.top_via_mut() {
                    if via.params.contains("rport") {
                        via.params.set("rport", Some(&from.addr.port().to_string()));
                        via.params
                            .set("received", Some(&from.addr.ip().to_string()));
                    }
                }
                self.transmit(from, resp.to_bytes());
            }
            None => self.counters.dropped_unaddressable += 1,
        }
    }

    fn handle_request(&mut self, req: Request, from: Peer, now: Instant) {
        let Some(key) = req.server_transaction_key() else {
            self.counters.dropped_unaddressable += 1;
            return;
        };
        if self.refuse_as_standby(&req, from) {
            return;
        }
        // Blocked sources and SIP scanners are refused before anything else looks at them
        // (REGISTER screens itself, so its failures are counted once). A block refuses only
        // registration and agents' requests: calls to the service numbers come from the
        // carrier's address too.
        if req.method != Method::Register {
            let in_our_dialog = req.headers.to.tag().is_some() && self.dialog_call(&req).is_some();
            let traffic =
                crate::call::screen::traffic_of(&req, &self.cfg.service_numbers, in_our_dialog);
            match self
                .registrar
                .screen(&req, from.addr, from.reliable(), traffic, now)
            {
                Screening::Pass => {}
                Screening::Refuse(resp) => {
                    self.transmit(from, resp.to_bytes());
                    return;
                }
                Screening::Drop => return,
            }
        }
        if req.method == Method::Cancel {
            self.handle_cancel(req, key, from, now);
            return;
        }
        match self.txns.handle_request(&key, req, now) {
            Incoming::Matched => {}
            Incoming::StrayAck(ack) => self.handle_ack(ack, now),
            Incoming::New(req) => {
                let reliable = from.reliable();
                if req.method == Method::Ack {
                    // ACKs never start transactions; a stray one is for a dialog.
                    self.handle_ack(req, now);
                    return;
                }
                if self
                    .txns
                    .start_server(key.clone(), &req, transport(reliable), now)
                    .is_err()
                {
                    return;
                }
                self.txn_peers.insert(key.clone(), from);
                self.dispatch_new_request(req, key, from, now);
            }
        }
    }

    fn dispatch_new_request(
        &mut self,
        req: Request,
        key: TransactionKey,
        from: Peer,
        now: Instant,
    ) {
        if let Some(resp) = crate::call::screen::screen_request(&req) {
            self.respond(&key, resp, now);
            return;
        }
        let in_dialog = req.headers.to.tag().is_some();
        match req.method {
            Method::Invite if !in_dialog => self.handle_invite(req, key, from, now),
            Method::Options => {
                let resp = self.options_response(&req);
                self.respond(&key, resp, now);
            }
            Method::Invite | Method::Bye | Method::Info | Method::Refer | Method::Update => {
                self.handle_in_dialog(req, key, now);
            }
            Method::Register => {
                let flow = Flow {
                    addr: from.addr,
                    link: from.link,
                };
                let resp = self
                    .registrar
                    .handle_register_from(&req, flow, from.reliable(), now);
                self.respond(&key, resp, now);
                self.drain_registrar(now);
            }
            Method::Extension(_) => {
                let mut resp = Response::for_request(&req, 501, "Not Implemented");
                resp.headers.allow = Some(allow_list());
                self.respond(&key, resp, now);
            }
            _ => {
                let mut resp = Response::for_request(&req, 405, "Method Not Allowed");
                resp.headers.allow = Some(allow_list());
                self.respond(&key, resp, now);
            }
        }
    }

    fn handle_cancel(&mut self, req: Request, key: TransactionKey, from: Peer, now: Instant) {
        // A retransmitted CANCEL is absorbed by its own transaction.
        let req = match self.txns.handle_request(&key, req, now) {
            Incoming::New(r) => r,
            Incoming::Matched | Incoming::StrayAck(_) => return,
        };
        if self
            .txns
            .start_server(key.clone(), &req, transport(from.reliable()), now)
            .is_err()
        {
            return;
        }
        self.txn_peers.insert(key.clone(), from);
        let invite_key = invite_key_of(&key);
        match self.txns.cancel_target(&invite_key) {
            CancelTarget::NoMatch => {
                self.respond_status(&key, &req, 481, now);
            }
            CancelTarget::AlreadyFinal => {
                self.respond_status(&key, &req, 200, now);
            }
            CancelTarget::Pending => {
                self.respond_status(&key, &req, 200, now);
                if let Some(id) = self.by_invite.get(&invite_key).copied() {
                    self.cancel_call(id, now);
                } else {
                    self.side_line_cancelled(&invite_key, now);
                }
            }
        }
    }

    fn handle_response(&mut self, resp: Response, now: Instant) {
        let Some(key) = resp.client_transaction_key() else {
            return;
        };
        if let Some(stray) = self.txns.handle_response(&key, resp, now) {
            tracing::debug!(status = stray.status, "stray response dropped");
        }
    }

    /// Sends a response through its server transaction.
    pub(crate) fn respond(&mut self, key: &TransactionKey, mut resp: Response, now: Instant) {
        if resp.headers.get("Server").is_none() {
            resp.headers.push("Server", &self.cfg.user_agent);
        }
        if resp.status > 100 && resp.headers.to.tag().is_none() {
            let tag = self.token();
            resp.headers.to.set_tag(&tag);
        }
        if let Err(e) = self.txns.send_response(key, resp, now) {
            tracing::debug!(error = %e, "response not sent");
        }
    }

    pub(crate) fn respond_status(
        &mut self,
        key: &TransactionKey,
        req: &Request,
        status: u16,
        now: Instant,
    ) {
        let resp = Response::for_request(req, status, reason_phrase(status));
        self.respond(key, resp, now);
    }

    fn options_response(&self, req: &Request) -> Response {
        let mut resp = Response::for_request(req, 200, "OK");
        resp.headers.allow = Some(allow_list());
        resp.headers.accept = Some(vec![MediaType::new("application", "sdp")]);
        resp.headers.push("Accept-Encoding", "identity");
        resp.headers.push("Accept-Language", "zh, en");
        resp
    }

    pub(crate) fn transmit(&mut self, to: Peer, data: Vec<u8>) {
        self.counters.sent.sent(&data);
        self.out.push_back(Output::Transmit { to, data });
    }

    /// Moves what the transaction table produced to the outbox and hands its events to
    /// the calls.
    pub(crate) fn flush_transactions(&mut self, now: Instant) {
        while let Some((key, out)) = self.txns.poll_output() {
            match out {
                TxOutput::SendResponse(resp) => {
                    if let Some(peer) = self.txn_peers.get(&key).copied() {
                        self.transmit(peer, resp.to_bytes());
                    }
                }
                TxOutput::SendRequest(req) => {
                    if let Some(peer) = self.txn_peers.get(&key).copied() {
                        self.transmit(peer, req.to_bytes());
                    }
                }
                TxOutput::ToTu(event) => self.handle_tu_event(key, event, now),
            }
        }
    }

    fn handle_tu_event(&mut self, key: TransactionKey, event: TuEvent<Request>, now: Instant) {
        match event {
            TuEvent::Response(resp) if self.is_outbound_invite(&key) => {
                self.handle_outbound_response(&key, resp, now);
            }
            TuEvent::Timeout(_) | TuEvent::TransportError if self.is_outbound_invite(&key) => {
                self.outbound_invite_failed(&key, now);
            }
            TuEvent::Response(resp) if self.is_party_invite(&key) => {
                self.handle_party_response(&key, resp, now);
            }
            TuEvent::Timeout(_) | TuEvent::TransportError if self.is_party_invite(&key) => {
                self.party_invite_failed(&key, now);
            }
            TuEvent::Response(resp)
                if self.by_agent_invite.contains_key(&key)
                    || self.dying_legs.contains_key(&key) =>
            {
                self.handle_agent_response(&key, resp, now);
            }
            TuEvent::Timeout(_) | TuEvent::TransportError
                if self.by_agent_invite.contains_key(&key)
                    || self.dying_legs.contains_key(&key) =>
            {
                self.agent_invite_failed(&key, now);
            }
            TuEvent::Terminated => {
                self.txn_peers.remove(&key);
                self.by_agent_invite.remove(&key);
                self.party_invites.remove(&key);
                if self.outbound_invites.contains_key(&key) {
                    // Ended without a final answer reaching us.
                    self.outbound_invite_failed(&key, now);
                }
                if let Some(leg) = self.dying_legs.remove(&key) {
                    self.ports.release(leg.port);
                }
                self.by_invite.remove(&key);
                if let Some(id) = self.by_bye.remove(&key) {
                    self.bye_done(id, now);
                }
            }
            TuEvent::Ack(ack) => self.handle_ack(ack, now),
            TuEvent::Response(resp) => {
                if resp.status >= 200 {
                    if let Some(id) = self.by_bye.remove(&key) {
                        // A trunk that authenticates its BYEs too gets them with credentials.
                        if !self.bye_auth_retry(id, &resp, now) {
                            self.bye_done(id, now);
                        }
                    }
                }
            }
            TuEvent::Timeout(_) | TuEvent::TransportError => {
                if let Some(id) = self.by_bye.remove(&key) {
                    self.bye_done(id, now);
                } else if let Some(id) = self.by_invite.get(&key).copied() {
                    // Our final response could not be delivered: nobody is there.
                    self.finish(id, CallOutcome::Failed, now);
                }
            }
        }
    }

    /// Stops taking calls: new INVITEs get 503, live calls are ended politely (BYE, or a
    /// final response if not yet answered).
    pub fn begin_shutdown(&mut self, now: Instant) {
        self.accepting = false;
        let ids: Vec<CallId> = self.calls.keys().copied().collect();
        for id in ids {
            self.end_call_by_engine(id, now);
        }
        self.flush_transactions(now);
    }

    /// Shutdown's last step: calls that did not end politely in time are recorded as ended
    /// by the engine, so none is missing from the records.
    pub fn abandon_all(&mut self, now: Instant) {
        let ids: Vec<CallId> = self.calls.keys().copied().collect();
        for id in ids {
            self.finish(id, CallOutcome::EndedByEngine, now);
        }
    }

    /// Whether every call has finished (shutdown can complete).
    pub fn is_idle(&self) -> bool {
        self.calls.is_empty()
    }

    /// When to be woken next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.txns.poll_timeout().map(|(at, _)| at),
            self.timers.first().map(|(at, _)| *at),
            self.registrar.poll_timeout(),
            self.acd.poll_timeout(),
            self.kept.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// A TCP connection closed: bindings that lived on it are gone.
    pub fn handle_link_closed(&mut self, link: Link, now: Instant) {
        self.registrar.handle_link_closed(&link, now);
        self.drain_registrar(now);
    }

    /// An agent (or a supervisor for them) asks to be ready, not ready or logged out.
    pub fn set_agent_state(
        &mut self,
        agent: &str,
        request: crate::acd::model::StateRequest,
        now: Instant,
    ) -> Result<(), crate::acd::core::AcdError> {
        let result = self.acd.handle_agent_state(agent, request, now);
        self.drain_acd(now);
        self.flush_transactions(now);
        result
    }

    /// The agent's wrap-up is over early (the ticket form was saved).
    pub fn wrap_up_done(
        &mut self,
        agent: &str,
        now: Instant,
    ) -> Result<(), crate::acd::core::AcdError> {
        let result = self.acd.handle_wrap_up_done(agent, now);
        self.drain_acd(now);
        self.flush_transactions(now);
        result
    }

    /// Hands the registrar's events on: bindings tell the ACD which agents can be rung.
    pub(crate) fn drain_registrar(&mut self, now: Instant) {
        while let Some(event) = self.registrar.poll_event() {
            let binding = match &event {
                RegistrarEvent::BindingAdded { user, live, .. }
                | RegistrarEvent::BindingRefreshed { user, live, .. }
                | RegistrarEvent::BindingRemoved { user, live, .. }
                | RegistrarEvent::BindingExpired { user, live, .. } => {
                    Some((user.clone(), *live > 0))
                }
                _ => None,
            };
            match &event {
                RegistrarEvent::SourceBlocked { .. } | RegistrarEvent::ScannerRefused { .. } => {
                    tracing::warn!(%event, "registrar")
                }
                RegistrarEvent::BindingRefreshed { .. } => tracing::debug!(%event, "registrar"),
                _ => tracing::info!(%event, "registrar"),
            }
            if let Some((user, live)) = binding {
                self.state_dirty = true;
                if let Some(agent) = self.agent_by_user.get(&user).cloned() {
                    if let Err(e) = self.acd.handle_registration(agent.as_str(), live, now) {
                        tracing::warn!(error = %e, "ACD refused a registration change");
                    }
                }
            }
        }
        self.drain_acd(now);
    }

    /// Fires everything due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.acd.handle_timeout(now);
        self.drain_acd(now);
        self.registrar.handle_timeout(now);
        self.drain_registrar(now);
        self.txns.handle_timeout(now);
        self.flush_transactions(now);
        while let Some(&(at, id)) = self.timers.first() {
            if at > now {
                break;
            }
            self.timers.remove(&(at, id));
            if let Some(call) = self.calls.get_mut(&id) {
                call.armed = None;
            }
            self.call_timeout(id, now);
        }
        self.kept_timeout(now);
        self.flush_transactions(now);
    }

    /// The next output for the shell.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// Re-registers a call's wake-up after anything changed it.
    pub(crate) fn rearm(&mut self, id: CallId) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let next = call.next_wakeup();
        if call.armed == next {
            return;
        }
        if let Some(old) = call.armed.take() {
            self.timers.remove(&(old, id));
        }
        if let Some(at) = next {
            self.timers.insert((at, id));
            call.armed = Some(at);
        }
    }

    pub(crate) fn disarm(&mut self, id: CallId, armed: Option<Instant>) {
        if let Some(at) = armed {
            self.timers.remove(&(at, id));
        }
    }

    /// Our SIP host for Via and Contact.
    pub(crate) fn local_host(&self) -> Host {
        match self.cfg.sip_addr.ip() {
            IpAddr::V4(a) => Host::Ipv4(a),
            IpAddr::V6(a) => Host::Ipv6(a),
        }
    }

    pub(crate) fn phase_of(&self, id: CallId) -> Option<&Phase> {
        self.calls.get(&id).map(|c| &c.phase)
    }
}

/// The transport kind of the transaction layer for a link.
pub(crate) fn transport(reliable: bool) -> crate::sip::transaction::Transport {
    if reliable {
        crate::sip::transaction::Transport::Reliable
    } else {
        crate::sip::transaction::Transport::Unreliable
    }
}

/// What `/metrics` shows of the signaling core.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineSnapshot {
    pub counters: EngineCounters,
    pub calls_by_state: Vec<(crate::call::record::CallState, usize)>,
    /// Live SIP transactions.
    pub transactions: usize,
    /// Places kept for callbacks now, and whether surge mode is on.
    pub callbacks_waiting: usize,
    pub surge: bool,
}
