//! The agent's side of a call (we are a B2BUA): the ACD says "offer call C to agent A", we
//! ring A's registered phone with an INVITE, and its answer, refusal or silence goes back to
//! the ACD. Once answered, the two legs are bridged and recorded; either side's BYE ends both.

use std::collections::HashMap;
use std::time::Instant;

use crate::acd::core::{Output as AcdOutput, RingFailure};
use crate::acd::model::AgentId;
use crate::call::engine::{CallEngine, MediaCommand, Output, Peer};
use crate::call::media_session::{self, Negotiated};
use crate::call::record::CallOutcome;
use crate::call::session::{CallId, Phase};
use crate::sip::dialog::{Dialog, ViaSpec};
use crate::sip::message::{
    CSeq, MediaType, Method, Request, Response, TransactionKey, Transport as ViaTransport, Uri,
};

/// Why a second leg's INVITE did not go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LegStartError {
    /// Every port is taken (even the agents' reserve).
    #[error("no RTP port for the leg")]
    NoPort,
    /// The call is gone or the INVITE could not be sent.
    #[error("the INVITE could not be sent")]
    NotSent,
}

/// Where the agent's leg is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegState {
    /// Our INVITE is out; the phone may be ringing.
    Ringing,
    /// The agent answered: audio is bridged.
    Talking,
}

/// Who the second leg rings: an agent's phone (the ACD decides), or an outside number
/// through the gateway after a blind transfer (C12: 110, 119, 120, 122, utility hotlines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Party {
    Agent(AgentId),
    External {
        target: String,
    },
    /// A handling unit's phone through the gateway (a consultation or conference).
    Unit {
        unit: String,
    },
    /// A supervisor's phone (listen, whisper, barge).
    Supervisor {
        user: String,
        mode: crate::call::record::MonitorMode,
    },
}

/// Where a new leg goes on its call: the agent's leg, or one more party.
pub(crate) enum LegSlot {
    Agent,
    Party {
        id: crate::media::mixer::PartyId,
        kind: crate::call::record::PartyKind,
        role: crate::call::record::PartyRole,
        monitor: Option<crate::call::record::MonitorMode>,
        held_caller: bool,
    },
}

/// Where and as whom a new leg's INVITE goes.
pub(crate) struct LegTarget {
    pub party: Party,
    /// The request-URI: the phone's registered contact, or `sip:<number>@<gateway>`.
    pub uri: Uri,
    /// The `To` user part.
    pub to_user: String,
    pub peer: Peer,
    /// The `From` user and display name: `hotline` with the masked caller for an agent's
    /// phone; the caller's own number for the public network (110 must see who calls).
    pub from_user: String,
    pub from_display: Option<String>,
    /// The Route set of the INVITE: the Path the phone registered through (RFC 3327), so
    /// the call reaches it back through the proxy in front (Kamailio). Empty otherwise.
    pub route: Vec<crate::sip::message::NameAddr>,
}

/// The agent's leg of a call (or, after an external transfer, the gateway's).
#[derive(Debug, Clone)]
pub struct AgentLeg {
    pub party: Party,
    /// Our INVITE (for CANCEL and the ACK of its 2xx).
    pub invite: Request,
    /// Its client transaction.
    pub key: TransactionKey,
    /// The phone's flow (where its REGISTER came from).
    pub peer: Peer,
    /// Our RTP port on this leg.
    pub port: u16,
    pub state: LegState,
    pub dialog: Option<Dialog>,
    pub media: Option<Negotiated>,
}

/// Legs we gave up on (cancelled) whose INVITE transaction has not finished yet: a 2xx that
/// crosses our CANCEL still has to be ACKed and hung up.
pub(crate) type DyingLegs = HashMap<TransactionKey, AgentLeg>;

impl CallEngine {
    /// Carries out what the ACD decided.
    pub(crate) fn drain_acd(&mut self, now: Instant) {
        self.drain_items();
        while let Some(out) = self.acd.poll_output() {
            self.drain_items();
            match out {
                AcdOutput::Offer {
                    call,
                    agent,
                    queue,
                    ring_timeout,
                } => {
                    tracing::info!(%call, %agent, %queue, ?ring_timeout, "ringing agent");
                    if let Some(c) = self.calls.get_mut(&call) {
                        if c.answered_queue.is_none() {
                            c.first_ring_at.get_or_insert(now);
                        }
                    }
                    if !self.kept_turn(call, agent.clone(), now) {
                        self.ring_agent(call, agent, now);
                    }
                }
                AcdOutput::CancelOffer {
                    call,
                    agent,
                    reason,
                } => {
                    tracing::info!(%call, %agent, ?reason, "ring cancelled");
                    if reason == crate::acd::core::CancelReason::NoAnswer {
                        if let Some(c) = self.calls.get_mut(&call) {
                            if c.answered_queue.is_none() {
                                c.rings_unanswered += 1;
                            }
                        }
                    }
                    self.cancel_agent_leg(call, now);
                    self.drop_reserving(call);
                }
                AcdOutput::CallAnswered {
                    call,
                    agent,
                    queue,
                    wait,
                } => {
                    tracing::info!(%call, %agent, %queue, wait_ms = wait.as_millis() as u64, "answered by an agent");
                    // A citizen's call is offered once: after a transfer the next answer is
                    // not a second offer, and the 15-second clock stopped at the first.
                    let mut first = true;
                    // A callback the hotline placed is about its ticket already: no new
                    // draft, and not an offer in the inbound KPIs.
                    let mut inbound = true;
                    if let Some(c) = self.calls.get_mut(&call) {
                        first = c.answered_queue.is_none();
                        inbound = c.outbound.is_none();
                        c.agent = Some(agent.as_str().to_string());
                        if first {
                            c.wait = Some(wait);
                            c.answered_queue = Some(queue.to_string());
                        }
                        // The shell opens the call's draft ticket (whole number: W2).
                        let connected = crate::call::record::ConnectedCall {
                            live: c.live(),
                            caller_number: c.caller.expose().to_string(),
                        };
                        // Journalled with the whole number, so a crash can reopen the draft.
                        let entry = crate::call::record::JournalEntry {
                            call: connected.live.clone(),
                            sip_call_id: c.invite.headers.call_id.clone(),
                            caller_number: Some(connected.caller_number.clone()),
                        };
                        self.out.push_back(Output::Journal(Box::new(entry)));
                        if inbound {
                            self.out.push_back(Output::Connected(Box::new(connected)));
                        }
                    }
                    if first && inbound {
                        let at = self.wall(now);
                        self.out.push_back(Output::Kpi(crate::stats::kpi::KpiEvent {
                            queue: Some(queue.to_string()),
                            number: self.kpi_number(call),
                            outcome: crate::stats::kpi::Outcome::Answered { wait },
                            at,
                        }));
                    }
                }
                AcdOutput::CallAbandoned { call, queue, wait } => {
                    tracing::info!(%call, %queue, wait_ms = wait.as_millis() as u64, "abandoned while waiting");
                    // (A caller who hangs up after a transfer, once a person had answered, is
                    // withdrawn, not abandoned: the ACD reports no abandon for it.) A citizen
                    // the hotline called back is not an inbound caller.
                    let inbound = self.calls.get(&call).is_none_or(|c| c.outbound.is_none());
                    if inbound {
                        let at = self.wall(now);
                        self.out.push_back(Output::Kpi(crate::stats::kpi::KpiEvent {
                            queue: Some(queue.to_string()),
                            number: self.kpi_number(call),
                            outcome: crate::stats::kpi::Outcome::Abandoned { wait },
                            at,
                        }));
                    }
                }
                AcdOutput::CallWaitExceeded {
                    call,
                    queue,
                    waited,
                } => {
                    tracing::warn!(%call, %queue, waited_ms = waited.as_millis() as u64, "no person within the deadline");
                }
                AcdOutput::CallExpanded { call, queue, step } => {
                    tracing::debug!(%call, %queue, step, "routing widened");
                }
                AcdOutput::AgentStateChanged { agent, from, state } => {
                    self.state_dirty = true;
                    tracing::info!(%agent, from = from.as_str(), to = state.kind().as_str(), "agent state");
                    let call = state.call().and_then(|c| self.calls.get(c));
                    let reason = match &state {
                        crate::acd::model::AgentState::NotReady { reason } => {
                            Some(reason.as_str().to_string())
                        }
                        _ => None,
                    };
                    let activity = crate::stats::activity::AgentActivity {
                        agent: agent.as_str().to_string(),
                        at: self.wall(now),
                        kind: crate::stats::activity::ActivityKind::State {
                            state: state.kind().as_str().to_string(),
                            reason,
                        },
                        call: call.map(|c| c.name.clone()),
                        queue: call.and_then(|c| c.queue.clone()),
                    };
                    self.out
                        .push_back(Output::AgentActivity(Box::new(activity)));
                }
                AcdOutput::AlarmRaised(alarm) => tracing::warn!(%alarm, "alarm raised"),
                AcdOutput::AlarmCleared(alarm) => tracing::info!(%alarm, "alarm cleared"),
            }
        }
    }

    pub(crate) fn via_transport(peer: Peer) -> ViaTransport {
        peer.via_transport()
    }

    /// Sends an INVITE to the agent's registered phone.
    pub(crate) fn ring_agent_for(&mut self, id: CallId, agent: AgentId, now: Instant) {
        self.ring_agent(id, agent, now);
    }

    fn ring_agent(&mut self, id: CallId, agent: AgentId, now: Instant) {
        let agent_name = agent.to_string();
        let Some(target) = self.agent_phone_target(id, &agent, now) else {
            self.ring_failed(id, RingFailure::Unreachable, now);
            return;
        };
        match self.start_leg(id, target, now) {
            Ok(()) => {}
            Err(LegStartError::NoPort) => {
                // Our fault, not the agent's: the agent stays ready, the call goes on.
                self.counters.agent_leg_no_port += 1;
                tracing::error!(call = %id, agent = %agent_name, in_use = self.ports.in_use(), "no RTP port for the agent leg: call back to routing, agent kept ready (raise rtp.agent_reserve or widen the port range)");
                self.ring_failed(id, RingFailure::NoPort, now);
            }
            Err(LegStartError::NotSent) => self.ring_failed(id, RingFailure::Unreachable, now),
        }
    }

    /// Sends the INVITE of a call's second leg.
    pub(crate) fn start_leg(
        &mut self,
        id: CallId,
        target: LegTarget,
        now: Instant,
    ) -> Result<(), LegStartError> {
        self.start_leg_in(id, target, LegSlot::Agent, now)
    }

    /// Sends the INVITE of a leg of a call, for the agent or one more party.
    pub(crate) fn start_leg_in(
        &mut self,
        id: CallId,
        target: LegTarget,
        slot: LegSlot,
        now: Instant,
    ) -> Result<(), LegStartError> {
        let Some(call_name) = self.calls.get(&id).map(|c| c.name.clone()) else {
            return Err(LegStartError::NotSent);
        };
        let Some(port) = self
            .ports
            .allocate(crate::call::ports::PortUse::Agent, &mut self.rng)
        else {
            return Err(LegStartError::NoPort);
        };
        let peer = target.peer;
        // A browser's leg is WebRTC, the agent's (`browser_leg`) or a party's
        // (`browser_party`).
        let offer = match &slot {
            LegSlot::Agent => self.browser_offer(id, peer, port, now)?,
            LegSlot::Party { id: pid, .. } => {
                self.browser_party_offer(id, *pid, peer, port, now)?
            }
        };
        let Some((invite, key, _)) = self.place_invite(id, &target, port, &call_name, offer, now)
        else {
            match &slot {
                LegSlot::Agent => self.drop_browser_offer(id),
                LegSlot::Party { id: pid, .. } => self.drop_browser_party(id, *pid),
            }
            return Err(LegStartError::NotSent);
        };
        let leg = AgentLeg {
            party: target.party.clone(),
            invite,
            key: key.clone(),
            peer,
            port,
            state: LegState::Ringing,
            dialog: None,
            media: None,
        };
        match slot {
            LegSlot::Agent => {
                self.by_agent_invite.insert(key, id);
                if let Some(call) = self.calls.get_mut(&id) {
                    call.agent_leg = Some(leg);
                }
            }
            LegSlot::Party {
                id: pid,
                kind,
                role,
                monitor,
                held_caller,
            } => {
                self.party_invites.insert(key, (id, pid));
                if let Some(call) = self.calls.get_mut(&id) {
                    call.conference
                        .parties
                        .push(crate::call::parties::CallParty {
                            id: pid,
                            kind,
                            role,
                            monitor,
                            leg,
                            held_caller,
                        });
                }
            }
        }
        Ok(())
    }

    pub(crate) fn token_u32(&mut self) -> u32 {
        use rand::Rng;
        self.rng.gen()
    }

    fn ring_failed(&mut self, id: CallId, failure: RingFailure, now: Instant) {
        if let Err(e) = self.acd.handle_ring_failed(&id, failure, now) {
            tracing::debug!(error = %e, "ACD: ring failed");
        }
        self.drop_reserving(id);
    }

    pub(crate) fn ring_failed_for(&mut self, id: CallId, failure: RingFailure, now: Instant) {
        self.ring_failed(id, failure, now);
    }

    /// A response on an agent leg's INVITE transaction (live or dying).
    pub(crate) fn handle_agent_response(
        &mut self,
        key: &TransactionKey,
        resp: Response,
        now: Instant,
    ) {
        if let Some(mut leg) = self.dying_legs.remove(key) {
            if resp.is_success() {
                // Our CANCEL crossed their answer: acknowledge and hang up at once.
                self.ack_and_bye(&mut leg, &resp, now);
                self.ports.release(leg.port);
            } else if resp.status >= 200 {
                self.ports.release(leg.port);
            } else {
                self.dying_legs.insert(key.clone(), leg);
            }
            return;
        }
        let Some(id) = self.by_agent_invite.get(key).copied() else {
            return;
        };
        if resp.status < 200 {
            return;
        }
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(leg) = call.agent_leg.as_mut() else {
            return;
        };
        if !resp.is_success() {
            let failure = match resp.status {
                486 | 600 => RingFailure::Busy,
                603 => RingFailure::Declined,
                _ => RingFailure::Unreachable,
            };
            let port = leg.port;
            let external = matches!(leg.party, Party::External { .. });
            call.agent_leg = None;
            self.browser.pending.remove(&id);
            self.by_agent_invite.remove(key);
            self.ports.release(port);
            if external {
                self.external_failed(id, &format!("{} {}", resp.status, resp.reason), now);
            } else {
                self.ring_failed(id, failure, now);
            }
            self.drain_acd(now);
            return;
        }
        if leg.state == LegState::Talking {
            // A retransmitted 2xx: our ACK was lost.
            let mut leg = leg.clone();
            self.send_ack(&mut leg, now);
            return;
        }
        let mut dialog = Dialog::from_uac_2xx(&leg.invite, &resp);
        match self.browser_answer(id, &resp.body, now) {
            // A browser's leg: its media is the WebRTC leg's, handed over on connect.
            Some(Ok(())) => {}
            Some(Err(_)) => {
                let Some(mut leg) = self.calls.get_mut(&id).and_then(|c| c.agent_leg.take()) else {
                    return;
                };
                leg.dialog = Some(dialog);
                self.refuse_browser_answer(id, leg, now);
                return;
            }
            None => {
                if let Some(leg) = self.calls.get_mut(&id).and_then(|c| c.agent_leg.as_mut()) {
                    leg.media = media_session::read_answer(&resp.body).ok();
                }
            }
        }
        let Some(leg) = self.calls.get_mut(&id).and_then(|c| c.agent_leg.as_mut()) else {
            return;
        };
        let mut acked = leg.clone();
        acked.dialog = Some(dialog.clone());
        self.send_ack(&mut acked, now);
        dialog = acked.dialog.take().unwrap_or(dialog);
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(leg) = call.agent_leg.as_mut() else {
            return;
        };
        leg.dialog = Some(dialog);
        if matches!(leg.party, Party::External { .. }) {
            // The outside number answered: no ACD involved, bridge at once.
            self.connect(id, now);
            return;
        }
        let reserving = matches!(call.phase, Phase::Reserving);
        match self.acd.handle_ring_answered(&id, now) {
            Ok(()) if reserving => self.callback_agent_answered(id, now),
            Ok(()) => self.connect(id, now),
            Err(e) => {
                tracing::info!(error = %e, "agent answered too late: hanging up its leg");
                self.end_agent_leg(id, now);
                self.drop_reserving(id);
            }
        }
        self.drain_acd(now);
    }

    /// The agent answered: bridge the legs and start recording.
    fn connect(&mut self, id: CallId, now: Instant) {
        let wall = self.wall(now);
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(leg) = call.agent_leg.as_mut() else {
            return;
        };
        leg.state = LegState::Talking;
        call.phase = Phase::Talking;
        // The first person's answer: handle time runs from it, through any transfer.
        if matches!(leg.party, Party::Agent(_)) && call.connected_at.is_none() {
            call.connected_at = Some(wall);
        }
        // One recording per call: after a transfer the next agent goes on in the same file.
        let recording = call
            .recording
            .get_or_insert_with(|| {
                format!("recordings/{}/{}.wav", wall.format("%Y/%m/%d"), call.name)
            })
            .clone();
        let browser = self.open_browser_leg(id);
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(leg) = call.agent_leg.as_ref() else {
            return;
        };
        let open = browser.or_else(|| {
            leg.media.map(|m| MediaCommand::OpenAgent {
                call: id,
                port: leg.port,
                remote: m.remote,
                codec: m.codec,
                telephone_event: m.telephone_event,
            })
        });
        let mixing = call.conference.mixing;
        if mixing {
            call.conference.agent_party = crate::media::mixer::PartyId(call.conference.next);
            call.conference.next = call.conference.next.saturating_add(1);
            call.conference.agent_since = Some(wall);
        }
        let agent_party = call.conference.agent_party;
        let held = call.on_hold;
        match open {
            // The call's media is in the mixer: the next agent is one more party.
            Some(cmd) if mixing => self.agent_joins_mixer(id, cmd, agent_party, held),
            Some(cmd) => {
                self.out.push_back(Output::Media(cmd));
                self.out.push_back(Output::Media(MediaCommand::Bridge {
                    call: id,
                    recording,
                }));
            }
            None => {
                tracing::warn!(call = %id, "agent answered without usable SDP");
            }
        }
        self.rearm(id);
    }

    /// ACK for a 2xx on an agent leg (§13.2.2.4: a new transaction-less request, same CSeq).
    pub(crate) fn send_ack(&mut self, leg: &mut AgentLeg, _now: Instant) {
        let Some(dialog) = leg.dialog.as_ref() else {
            return;
        };
        let host = self.local_host();
        let transport = Self::via_transport(leg.peer);
        let branch = self.token();
        let mut ack = Request::new(
            Method::Ack,
            dialog.remote_target.clone(),
            dialog.local.clone(),
            dialog.remote.clone(),
            &dialog.call_id,
            leg.invite.headers.cseq.seq,
        );
        ack.headers.cseq = CSeq {
            seq: leg.invite.headers.cseq.seq,
            method: Method::Ack,
        };
        ack.headers.via = vec![ViaSpec {
            transport: &transport,
            host: &host,
            port: self.cfg.sip_addr.port(),
            branch_suffix: &branch,
        }
        .build()];
        ack.headers.route = dialog.route_set.clone();
        self.transmit(leg.peer, ack.to_bytes());
    }

    fn ack_and_bye(&mut self, leg: &mut AgentLeg, ok: &Response, now: Instant) {
        leg.dialog = Some(Dialog::from_uac_2xx(&leg.invite, ok));
        self.send_ack(leg, now);
        self.send_leg_bye(leg, now);
    }

    /// BYE on the agent's leg; its transaction runs on its own (nothing waits for it).
    pub(crate) fn send_leg_bye(&mut self, leg: &mut AgentLeg, now: Instant) {
        let host = self.local_host();
        let transport = Self::via_transport(leg.peer);
        let branch = self.token();
        let port = self.cfg.sip_addr.port();
        let Some(dialog) = leg.dialog.as_mut() else {
            return;
        };
        let bye = dialog.request(
            Method::Bye,
            ViaSpec {
                transport: &transport,
                host: &host,
                port,
                branch_suffix: &branch,
            },
        );
        let Some(key) = bye.client_transaction_key() else {
            return;
        };
        self.txn_peers.insert(key.clone(), leg.peer);
        if let Err(e) = self.txns.start_client(
            key,
            bye,
            crate::call::engine::transport(leg.peer.reliable()),
            now,
        ) {
            tracing::debug!(error = %e, "agent BYE not sent");
        }
    }

    /// Stops ringing the agent (CANCEL) — the ACD took the offer back.
    pub(crate) fn cancel_agent_leg(&mut self, id: CallId, now: Instant) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if !matches!(
            call.agent_leg,
            Some(AgentLeg {
                state: LegState::Ringing,
                ..
            })
        ) {
            return;
        }
        let Some(leg) = call.agent_leg.take() else {
            return;
        };
        self.by_agent_invite.remove(&leg.key);
        self.drop_browser_offer(id);
        self.cancel_leg(leg, now);
    }

    /// CANCELs a ringing leg; it dies once its INVITE transaction ends (a 2xx that crosses
    /// the CANCEL is ACKed and hung up).
    pub(crate) fn cancel_leg(&mut self, leg: AgentLeg, now: Instant) {
        if let Some(tag) = leg.invite.headers.from.tag() {
            self.by_dialog
                .remove(&(leg.invite.headers.call_id.clone(), tag.to_string()));
        }
        self.send_cancel(&leg.invite, &leg.key, leg.peer, now);
        self.dying_legs.insert(leg.key.clone(), leg);
    }

    /// Ends the agent's leg whatever its state: CANCEL while ringing, BYE once talking.
    pub(crate) fn end_agent_leg(&mut self, id: CallId, now: Instant) {
        let state = self
            .calls
            .get(&id)
            .and_then(|c| c.agent_leg.as_ref().map(|l| l.state));
        match state {
            Some(LegState::Ringing) => self.cancel_agent_leg(id, now),
            Some(LegState::Talking) => {
                let Some(mut leg) = self.calls.get_mut(&id).and_then(|c| c.agent_leg.take()) else {
                    return;
                };
                self.send_leg_bye(&mut leg, now);
                self.ports.release(leg.port);
                if let Some(tag) = leg.invite.headers.from.tag() {
                    self.by_dialog
                        .remove(&(leg.invite.headers.call_id.clone(), tag.to_string()));
                }
            }
            None => {}
        }
    }

    /// The agent's INVITE got no final answer (Timer B) or could not be sent.
    pub(crate) fn agent_invite_failed(&mut self, key: &TransactionKey, now: Instant) {
        if let Some(leg) = self.dying_legs.remove(key) {
            self.ports.release(leg.port);
            return;
        }
        let Some(id) = self.by_agent_invite.remove(key) else {
            return;
        };
        let mut external = false;
        self.drop_browser_offer(id);
        if let Some(call) = self.calls.get_mut(&id) {
            if let Some(leg) = call.agent_leg.take() {
                external = matches!(leg.party, Party::External { .. });
                self.ports.release(leg.port);
            }
        }
        if external {
            self.external_failed(id, "no answer from the gateway", now);
        } else {
            self.ring_failed(id, RingFailure::Unreachable, now);
        }
        self.drain_acd(now);
    }

    /// A request inside the agent's dialog: BYE ends the whole call; re-INVITE (hold) and
    /// INFO are accepted.
    pub(crate) fn handle_agent_in_dialog(
        &mut self,
        id: CallId,
        req: Request,
        key: TransactionKey,
        now: Instant,
    ) {
        match req.method {
            Method::Bye => {
                self.respond_status(&key, &req, 200, now);
                let Some(call) = self.calls.get_mut(&id) else {
                    return;
                };
                tracing::info!(call = %call.id, "agent hung up");
                if self.agent_gone_during_blind_transfer(id) {
                    return;
                }
                if let Some(next) = self.successor(id) {
                    // In a conference the others go on with the caller.
                    self.agent_leaves(id, next, true, now);
                    return;
                }
                let Some(call) = self.calls.get_mut(&id) else {
                    return;
                };
                if let Some(leg) = call.agent_leg.take() {
                    self.ports.release(leg.port);
                }
                self.send_bye(id, CallOutcome::Answered, now);
            }
            Method::Invite => {
                // Hold (their `sendonly`/`inactive`), resume, or a session refresh: answer
                // their offer on the same port, and play hold music to the caller meanwhile.
                // A browser's offer is its WebRTC session's: the media shell answers it.
                if self.browser_reoffer(id, &req, &key, now) {
                    return;
                }
                let Some(port) = self
                    .calls
                    .get(&id)
                    .and_then(|c| c.agent_leg.as_ref().map(|l| l.port))
                else {
                    self.respond_status(&key, &req, 481, now);
                    return;
                };
                let session = self.token_u32();
                match media_session::answer(&req.body, self.cfg.rtp_address, port, session) {
                    Ok((sdp, agreed)) => {
                        let resp = Response::for_request(&req, 200, "OK")
                            .with_body(MediaType::new("application", "sdp"), sdp);
                        self.respond(&key, resp, now);
                        tracing::info!(call = %id, on_hold = agreed.on_hold, "agent re-INVITE");
                        // The same hold as the desk's: music to the caller, nobody hears them.
                        self.set_caller_held(id, agreed.on_hold);
                    }
                    Err(e) => {
                        let mut resp = Response::for_request(&req, 488, "Not Acceptable Here");
                        resp.headers
                            .push("Warning", &format!("304 hotline \"{e}\""));
                        self.respond(&key, resp, now);
                    }
                }
            }
            Method::Refer => self.handle_refer(id, req, key, now),
            _ => self.respond_status(&key, &req, 200, now),
        }
    }
}
