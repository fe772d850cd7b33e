//! One call's life on the engine: answer (or refuse) the INVITE, wait for the ACK, walk the
//! IVR and wait in a queue (`ivr_walk`), time out (position notices, lost ACK), and end — by
//! the caller's BYE or CANCEL, or by us (shutdown, lost ACK) with a BYE. Every end leaves one
//! record.

use std::fmt;
use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::call::engine::{CallEngine, MediaCommand, Output, Peer};
use crate::call::media_session::{self, Negotiated};
use crate::call::record::{CallOutcome, CallState, LiveCall};
use crate::call::screen::reason_phrase;
use crate::ivr::navigator::{Navigator, PlayId};
use crate::masked::Masked;
use crate::sip::dialog::answer::{AnswerEvent, AnswerRetransmitter};
use crate::sip::dialog::session_timer::{self, Negotiation, SessionTimer};
use crate::sip::dialog::{local_contact, Dialog};
use crate::sip::message::{Contact, MediaType, Method, Request, Response, TransactionKey};

/// Our id for a call: copyable, unique by construction (`call::ids`), also across restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub u64);

/// The id as every log line about the call shows it: the 16 hex digits that also end the
/// call's public name (`20261206T170614-<id>`), so one grep finds the whole call.
impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Where a call is, with the data that only makes sense there.
#[derive(Debug)]
pub enum Phase {
    /// INVITE taken, 180 sent; we answer at `answer_at` (the configured answer delay), and
    /// only once the media shell holds the call's RTP port (`media_ready`): a call whose
    /// media cannot be opened is refused with 503, never answered into silence.
    Ringing {
        answer_at: Instant,
        media_ready: bool,
    },
    /// 200 sent; it goes out again until the ACK comes.
    Answered {
        retx: AnswerRetransmitter,
        ok: Vec<u8>,
    },
    /// In the voice menu; `play` is the navigator's current play list and our token for it.
    /// `until`: the longest stay in the menus (`ivr.max_in_ivr`), then a person.
    Ivr {
        nav: Box<Navigator>,
        play: Option<(u64, PlayId)>,
        until: Instant,
    },
    /// Waiting for a person in `queue` (an agent's phone may be ringing for it); the next
    /// position notice is due at `next_notice`; at `until` (`ivr.max_in_queue`) the wait ends.
    Queued {
        queue: String,
        next_notice: Instant,
        until: Instant,
        /// "Keep your place and be called back" (`call::call_me_back`).
        offer: crate::call::call_me_back::QueueOffer,
    },
    /// A callback robot talks with the citizen the hotline called (`call::robot_call`);
    /// `play` is its current play list and our token for it; `to_person` the queue `0`
    /// asked for, until the robot's result is out.
    Robot {
        nav: Box<crate::ivr::robot::RobotNavigator>,
        play: Option<(u64, PlayId)>,
        to_person: Option<String>,
    },
    /// Connected to an agent: audio is relayed between the two legs and recorded.
    Talking,
    /// An outbound call ringing at the citizen's phone until `until` (`call::outbound`).
    Dialling { until: Instant },
    /// A kept callback's turn (`call::call_me_back`): the agent's phone rings first; the
    /// citizen is dialled once the agent answered.
    Reserving,
    /// We sent a BYE; the call ends when it is answered (or times out).
    Ending { outcome: CallOutcome },
}

/// One call.
#[derive(Debug)]
pub struct Call {
    pub id: CallId,
    /// Our public name for it (records, recordings, API).
    pub name: String,
    pub caller: Masked,
    pub called: String,
    /// The dialled number's configured name (`[numbers.<n>] name`), for the views.
    pub called_name: Option<String>,
    pub peer: Peer,
    pub invite: Request,
    pub invite_key: TransactionKey,
    pub local_tag: String,
    pub dialog: Option<Dialog>,
    pub phase: Phase,
    pub port: u16,
    pub media: Option<Negotiated>,
    /// Our SDP (the answer, or the offer when the INVITE had none).
    pub local_sdp: Vec<u8>,
    pub menu_path: Vec<String>,
    pub queue: Option<String>,
    pub started_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub queued_at: Option<DateTime<Utc>>,
    /// The entry this call holds in the engine's timer set.
    pub armed: Option<Instant>,
    /// The agent's phone being rung or talking, if any.
    pub agent_leg: Option<crate::call::agent_leg::AgentLeg>,
    /// The agent who answered, when, and how long the caller waited for a person.
    pub agent: Option<String>,
    pub connected_at: Option<DateTime<Utc>>,
    pub wait: Option<std::time::Duration>,
    /// The recording's path under the data dir, once the call is connected.
    pub recording: Option<String>,
    /// Blind transfers so far, for the record.
    pub transfers: Vec<String>,
    /// The ticket the shell opened for the call when an agent answered.
    pub ticket: Option<String>,
    /// RFC 4028: the interval agreed in the INVITE, then the running timer once answered.
    pub session_interval: Option<std::time::Duration>,
    pub session_timer: Option<SessionTimer>,
    /// The queue in which a person first answered: the call counts for it in the KPIs, once,
    /// however often it is transferred afterwards.
    pub answered_queue: Option<String>,
    /// When an agent's phone first rang for the call, and how many rings went unanswered:
    /// why a wait broke the 15-second maximum.
    pub first_ring_at: Option<Instant>,
    pub rings_unanswered: u32,
    /// When the call asked for a person (t₀), on the engine's clock.
    pub queued_mono: Option<Instant>,
    /// The agent put the caller on hold from the desk (hold music plays to the caller).
    pub on_hold: bool,
    /// Consult and conference: the legs beyond the caller and the agent, and everyone's
    /// spans for the record (`call::parties`).
    pub conference: crate::call::parties::Conference,
    /// For a call the hotline placed (`call::outbound`).
    pub outbound: Option<crate::call::outbound::OutboundState>,
    /// The caller was offered "keep your place and be called back" (`call::call_me_back`).
    pub callback_offered: bool,
}

impl Call {
    /// The earliest instant this call needs attention.
    pub fn next_wakeup(&self) -> Option<Instant> {
        let phase = match &self.phase {
            Phase::Ringing {
                answer_at,
                media_ready: true,
            } => Some(*answer_at),
            Phase::Ringing { answer_at, .. } => {
                Some(*answer_at + crate::call::media_ready::MEDIA_WAIT)
            }
            Phase::Answered { retx, .. } => retx.poll_timeout(),
            Phase::Ivr { nav, until, .. } => {
                Some(nav.poll_timeout().map_or(*until, |t| t.min(*until)))
            }
            Phase::Queued {
                next_notice, until, ..
            } => Some(
                self.offer_deadline()
                    .map_or((*next_notice).min(*until), |t| {
                        t.min(*next_notice).min(*until)
                    }),
            ),
            Phase::Reserving => None,
            Phase::Talking => None,
            Phase::Robot { nav, .. } => nav.poll_timeout(),
            Phase::Dialling { until } => Some(*until),
            Phase::Ending { .. } => return None,
        };
        let session = self.session_timer.map(|t| t.deadline());
        let side_line = self
            .conference
            .side_line
            .as_ref()
            .and_then(|s| s.poll_timeout());
        [phase, session, side_line].into_iter().flatten().min()
    }

    /// Where the call is, as the API names it.
    pub fn state(&self) -> CallState {
        match self.phase {
            Phase::Ringing { .. } => CallState::Setup,
            Phase::Dialling { .. } | Phase::Reserving => CallState::Dialling,
            Phase::Answered { .. } | Phase::Ivr { .. } | Phase::Robot { .. } => CallState::Ivr,
            Phase::Queued { .. } if self.agent_leg.is_some() => CallState::Ringing,
            Phase::Queued { .. } => CallState::Queued,
            Phase::Talking => CallState::Talking,
            Phase::Ending { .. } => CallState::Ending,
        }
    }

    /// The agent whose phone rings for this call now (the desk shows the call on offer).
    pub fn offered_to(&self) -> Option<String> {
        match &self.agent_leg {
            Some(leg) if leg.state == crate::call::agent_leg::LegState::Ringing => {
                match &leg.party {
                    crate::call::agent_leg::Party::Agent(a) => Some(a.to_string()),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The live view of this call.
    pub fn live(&self) -> LiveCall {
        LiveCall {
            callback_offered: self.callback_offered,
            offered_to: self.offered_to(),
            agent: self.agent.clone(),
            connected_at: self.connected_at,
            wait_s: self.wait.map(|w| w.as_secs_f64()),
            recording: self.recording.clone(),
            transfers: self.transfers.clone(),
            ticket: self.ticket.clone(),
            answered_queue: self.answered_queue.clone(),
            on_hold: self.on_hold,
            parties: self.conference.spans.clone(),
            direction: if self.outbound.is_some() {
                crate::call::record::Direction::Outbound
            } else {
                crate::call::record::Direction::Inbound
            },
            outbound: self.outbound.as_ref().map(|o| o.info.clone()),
            id: self.name.clone(),
            caller: self.caller.masked(),
            called: self.called.clone(),
            called_name: self.called_name.clone(),
            state: self.state(),
            menu_path: self.menu_path.clone(),
            queue: self.queue.clone(),
            started_at: self.started_at,
            answered_at: self.answered_at,
            queued_at: self.queued_at,
        }
    }

    /// How a call in this phase ends when the caller leaves.
    fn abandon_outcome(&self) -> CallOutcome {
        match self.phase {
            Phase::Ringing { .. } => CallOutcome::CancelledBeforeAnswer,
            Phase::Dialling { .. } | Phase::Reserving => CallOutcome::NotReached,
            Phase::Queued { .. } => CallOutcome::AbandonedInQueue,
            Phase::Talking => CallOutcome::Answered,
            Phase::Ending { outcome } => outcome,
            _ => CallOutcome::AbandonedInIvr,
        }
    }
}

impl CallEngine {
    /// A new INVITE outside any dialog.
    pub(crate) fn handle_invite(
        &mut self,
        req: Request,
        key: TransactionKey,
        from: Peer,
        now: Instant,
    ) {
        let called = req
            .uri
            .as_sip()
            .and_then(|u| u.user_decoded())
            .map(|u| String::from_utf8_lossy(&u).into_owned())
            .unwrap_or_default();
        if self.is_agent_dialling(&req, &called) {
            // Not a citizen's call: the agent's phone consults from its call.
            self.side_line_invite(req, key, from, &called, now);
            return;
        }
        self.counters.calls_offered += 1;
        if !self.accepting {
            let mut resp = Response::for_request(&req, 503, "Service Unavailable");
            resp.headers.push("Retry-After", "30");
            self.counters.calls_rejected += 1;
            self.respond(&key, resp, now);
            return;
        }
        if !self.cfg.service_numbers.contains(&called) {
            self.counters.calls_rejected += 1;
            self.respond_status(&key, &req, 404, now);
            return;
        }
        let session_interval =
            match session_timer::negotiate(&req, self.cfg.session_expires, self.cfg.min_se) {
                Negotiation::None => None,
                Negotiation::Use { interval } => Some(interval),
                too_small @ Negotiation::TooSmall { .. } => {
                    let mut resp = Response::for_request(&req, 422, reason_phrase(422));
                    session_timer::apply(&mut resp, too_small);
                    self.counters.calls_rejected += 1;
                    self.respond(&key, resp, now);
                    return;
                }
            };
        if self.setup_limit_reached(from) {
            tracing::warn!(source = %from.addr.ip(), "too many calls in set-up from one source: 503");
            let mut resp = Response::for_request(&req, 503, "Service Unavailable");
            resp.headers.push("Retry-After", "5");
            self.counters.calls_rejected += 1;
            self.counters.refused_setup_limit += 1;
            self.respond(&key, resp, now);
            return;
        }
        let Some(port) = self
            .ports
            .allocate(crate::call::ports::PortUse::Caller, &mut self.rng)
        else {
            tracing::warn!("no free RTP port: refusing a call");
            self.refuse_for_capacity(&req, &key, called, now);
            return;
        };
        let session_id = self.rng_u32();
        let (local_sdp, media) = if req.body.is_empty() {
            (
                media_session::offer(self.cfg.rtp_address, port, session_id),
                None,
            )
        } else {
            match media_session::answer(&req.body, self.cfg.rtp_address, port, session_id) {
                Ok((sdp, negotiated)) => (sdp, Some(negotiated)),
                Err(e) => {
                    self.ports.release(port);
                    self.counters.calls_rejected += 1;
                    let mut resp = Response::for_request(&req, 488, "Not Acceptable Here");
                    resp.headers
                        .push("Warning", &format!("304 hotline \"{e}\""));
                    self.respond(&key, resp, now);
                    return;
                }
            }
        };
        let id = self.new_call_id();
        let name = crate::call::ids::call_name(self.wall(now), id);
        let caller = crate::call::refusal::caller_of(&req);
        let local_tag = self.token();
        tracing::info!(call = %id, %name, caller = %caller, called = %called, from = %from.addr, "call offered");
        self.respond_status(&key, &req, 100, now);
        let answer_delay = self.cfg.answer_delay;
        let call = Call {
            id,
            name,
            caller,
            called_name: self.menus.number_name(&called).map(str::to_string),
            called,
            peer: from,
            invite: req,
            invite_key: key.clone(),
            local_tag,
            dialog: None,
            phase: Phase::Ringing {
                answer_at: now + answer_delay,
                media_ready: false,
            },
            port,
            media,
            local_sdp,
            menu_path: Vec::new(),
            queue: None,
            started_at: self.wall(now),
            answered_at: None,
            queued_at: None,
            armed: None,
            agent_leg: None,
            agent: None,
            connected_at: None,
            wait: None,
            recording: None,
            transfers: Vec::new(),
            ticket: None,
            answered_queue: None,
            first_ring_at: None,
            rings_unanswered: 0,
            queued_mono: None,
            on_hold: false,
            conference: Default::default(),
            session_interval,
            session_timer: None,
            outbound: None,
            callback_offered: false,
        };
        self.by_invite.insert(key, id);
        self.calls.insert(id, call);
        self.journal(id);
        // The answer waits for `handle_media_ready` (at once, in the shell).
        self.out
            .push_back(Output::Media(MediaCommand::Reserve { call: id, port }));
        if !answer_delay.is_zero() {
            self.send_provisional(id, 180, now);
        }
        self.rearm(id);
    }

    /// Whether `from` (not a trunk) already has the most calls in set-up it may: answered
    /// or ringing, never ACKed. Bounded by the port range, so counting is cheap enough.
    fn setup_limit_reached(&self, from: Peer) -> bool {
        let max = self.cfg.max_setup_per_source;
        let ip = from.addr.ip().to_canonical();
        if max == 0 || crate::sip::prefix::any_contains(&self.cfg.trunks, ip) {
            return false;
        }
        let in_setup = self
            .calls
            .values()
            .filter(|c| matches!(c.phase, Phase::Ringing { .. } | Phase::Answered { .. }))
            .filter(|c| c.peer.addr.ip().to_canonical() == ip)
            .count();
        in_setup >= max
    }

    fn rng_u32(&mut self) -> u32 {
        use rand::Rng;
        self.rng.gen()
    }

    fn send_provisional(&mut self, id: CallId, status: u16, now: Instant) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        let mut resp = Response::for_request(&call.invite, status, reason_phrase(status));
        resp.headers.to.set_tag(&call.local_tag);
        resp.headers.contact = Some(Contact::List(vec![self.contact_for(call.peer)]));
        let key = call.invite_key.clone();
        self.respond(&key, resp, now);
    }

    pub(crate) fn contact_for(&self, peer: Peer) -> crate::sip::message::NameAddr {
        let transport = peer.via_transport();
        local_contact(
            &self.local_host(),
            self.cfg.sip_addr.port(),
            "hotline",
            &transport,
        )
    }

    /// Sends the 200 with our SDP and waits for the ACK (media opens then).
    pub(crate) fn answer(&mut self, id: CallId, now: Instant) {
        let wall = self.wall(now);
        let (t1, t2) = (self.cfg.timers.t1, self.cfg.timers.t2);
        let contact = match self.calls.get(&id) {
            Some(c) => self.contact_for(c.peer),
            None => return,
        };
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let mut resp = Response::for_request(&call.invite, 200, "OK");
        resp.headers.to.set_tag(&call.local_tag);
        resp.headers.contact = Some(Contact::List(vec![contact]));
        resp.headers.allow = Some(crate::call::screen::allow_list());
        resp.headers.record_route = call.invite.headers.record_route.clone();
        resp.headers.push("Server", &self.cfg.user_agent);
        if let Some(interval) = call.session_interval {
            session_timer::apply(&mut resp, Negotiation::Use { interval });
            call.session_timer = Some(SessionTimer::new(interval, now));
        }
        let resp = resp.with_body(MediaType::new("application", "sdp"), call.local_sdp.clone());
        let ok = resp.to_bytes();
        call.dialog = Some(Dialog::from_invite(&call.invite, &call.local_tag));
        call.answered_at = Some(wall);
        call.phase = Phase::Answered {
            retx: AnswerRetransmitter::new(now, t1, t2, call.peer.reliable()),
            ok,
        };
        let key = call.invite_key.clone();
        let dialog_key = (call.invite.headers.call_id.clone(), call.local_tag.clone());
        self.by_dialog.insert(dialog_key, id);
        if let Err(e) = self.txns.send_response(&key, resp, now) {
            tracing::debug!(error = %e, "200 not sent");
        }
        self.by_invite.remove(&key);
        self.journal(id);
        // No media before the ACK: an INVITE naming a third party's address, never ACKed,
        // must not make us stream at it (reflection).
        self.rearm(id);
    }

    /// Journals the call as it is now (a milestone): a crash then leaves a record of it.
    pub(crate) fn journal(&mut self, id: CallId) {
        if let Some(call) = self.calls.get(&id) {
            let entry = crate::call::record::JournalEntry {
                call: call.live(),
                sip_call_id: call.invite.headers.call_id.clone(),
                caller_number: None,
            };
            self.out.push_back(Output::Journal(Box::new(entry)));
        }
    }

    /// The ACK of our 2xx (from the transaction in Accepted, or stray after it ended).
    pub(crate) fn handle_ack(&mut self, ack: Request, now: Instant) {
        let Some(id) = self.dialog_call(&ack) else {
            return;
        };
        if self.side_line_ack(id, &ack) {
            return;
        }
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let Phase::Answered { retx, .. } = &mut call.phase else {
            return; // a retransmitted ACK, or the ACK of a re-INVITE
        };
        retx.handle_ack();
        if call.media.is_none() && !ack.body.is_empty() {
            // We offered in the 200; the caller answers in the ACK.
            match media_session::read_answer(&ack.body) {
                Ok(m) => call.media = Some(m),
                Err(e) => {
                    tracing::info!(call = %call.id, error = %e, "unusable SDP answer in ACK");
                    self.end_call_by_engine(id, now);
                    return;
                }
            }
        }
        // Only a trunk's SDP address is believed; anyone else is sent to where their own
        // RTP comes from, once it comes.
        let trusted = crate::sip::prefix::any_contains(&self.cfg.trunks, call.peer.addr.ip());
        if let Some(m) = call.media {
            let cmd = open_command(id, call.port, &m, trusted);
            self.out.push_back(Output::Media(cmd));
        }
        self.start_ivr(id, now);
    }

    pub(crate) fn dialog_call(&self, req: &Request) -> Option<crate::call::session::CallId> {
        let tag = req.headers.to.tag()?;
        self.by_dialog
            .get(&(req.headers.call_id.clone(), tag.to_string()))
            .copied()
    }

    /// A call's timer fired.
    pub(crate) fn call_timeout(&mut self, id: CallId, now: Instant) {
        if self.limits_reached(id, now) {
            self.rearm(id);
            return;
        }
        self.side_line_timeout(id, now);
        if self.offer_timeout(id, now) {
            return;
        }
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        match &mut call.phase {
            Phase::Ringing {
                answer_at,
                media_ready: true,
            } if now >= *answer_at => self.answer(id, now),
            Phase::Ringing {
                answer_at,
                media_ready: false,
            } if now >= *answer_at + crate::call::media_ready::MEDIA_WAIT => {
                tracing::warn!(call = %call.name, "media not ready: refusing the call");
                self.handle_media_failed(id, now);
                return;
            }
            Phase::Answered { retx, ok } => match retx.handle_timeout(now) {
                Some(AnswerEvent::Retransmit) => {
                    let data = ok.clone();
                    let peer = call.peer;
                    self.transmit(peer, data);
                }
                Some(AnswerEvent::AckTimeout) => {
                    // Timer H: the BYE still goes out (RFC 3261 §13.3.1.4), but the call, its
                    // port and its set-up slot are released now, not after the BYE's own
                    // timeout towards a peer that may never have existed.
                    tracing::info!(call = %call.id, "no ACK for our 200: ending the call");
                    self.send_bye(id, CallOutcome::Failed, now);
                    self.finish(id, CallOutcome::Failed, now);
                    return;
                }
                None => {}
            },
            Phase::Ivr { nav, .. } => {
                nav.handle_timeout(now);
                self.drive_navigator(id, now);
            }
            Phase::Robot { .. } => {
                self.robot_timeout(id, now);
                return;
            }
            Phase::Dialling { until } if now >= *until => {
                *until = now + self.cfg.timers.t1 * 64; // the CANCEL's own time to finish
                self.outbound_ring_timeout(id, now);
            }
            Phase::Queued { next_notice, .. } if now >= *next_notice => {
                *next_notice = now + self.cfg.queue_notice_interval;
                if call.offer_running() {
                    // The offer's dialog speaks with the caller: no notice over it.
                    self.rearm(id);
                    return;
                }
                self.offer_callback_if_due(id, now);
                if self
                    .calls
                    .get(&id)
                    .is_some_and(|c| c.offer_running() || c.agent_leg.is_some())
                {
                    // The offer speaks now, or an agent's phone is ringing: no notice.
                    self.rearm(id);
                    return;
                }
                let Some(call) = self.calls.get(&id) else {
                    return;
                };
                if call.agent_leg.is_some() {
                    // An agent's phone is ringing: no "N callers ahead of you" now.
                    self.rearm(id);
                    return;
                }
                let position = self.acd.position(&id).unwrap_or(1);
                let audio = self.menus.queue_audio();
                // "N callers ahead of you": the position minus this call itself.
                let ahead = u32::try_from(position.saturating_sub(1)).unwrap_or(u32::MAX);
                if ahead == 0 {
                    // Next in line: "zero callers ahead of you" is no news; the music goes on.
                    self.rearm(id);
                    return;
                }
                let mut prompts: Vec<String> = audio
                    .position_notice(ahead)
                    .iter()
                    .map(|p| p.as_str().to_string())
                    .collect();
                prompts.push(audio.hold().as_str().to_string());
                self.play_loop(id, prompts);
            }
            _ => {}
        }
        self.rearm(id);
    }

    /// BYE, INFO or re-INVITE inside a dialog.
    pub(crate) fn handle_in_dialog(&mut self, req: Request, key: TransactionKey, now: Instant) {
        let Some(id) = self.dialog_call(&req) else {
            self.respond_status(&key, &req, 481, now);
            return;
        };
        let Some(call) = self.calls.get_mut(&id) else {
            self.respond_status(&key, &req, 481, now);
            return;
        };
        if req.headers.call_id != call.invite.headers.call_id {
            let side_line = call
                .conference
                .side_line
                .as_ref()
                .is_some_and(|s| s.invite.headers.call_id == req.headers.call_id);
            if side_line {
                self.side_line_request(id, req, key, now);
                return;
            }
            match self.party_of_dialog(id, &req.headers.call_id) {
                Some(pid) => self.handle_party_in_dialog(id, pid, req, key, now),
                None => self.handle_agent_in_dialog(id, req, key, now),
            }
            return;
        }
        if let Some(dialog) = call.dialog.as_mut() {
            if dialog.check_remote_cseq(&req.headers.cseq).is_err() {
                self.respond_status(&key, &req, 500, now);
                return;
            }
        }
        match req.method {
            Method::Bye if call.offer_taken_on_hang_up().is_some() => {
                // The caller took the callback and hung up during the farewell: kept.
                self.respond_status(&key, &req, 200, now);
                if !self.offer_taken_and_gone(id, now) {
                    let outcome = CallOutcome::AbandonedInQueue;
                    self.end_agent_leg(id, now);
                    self.finish(id, outcome, now);
                }
            }
            Method::Bye => {
                let outcome = call.abandon_outcome();
                tracing::info!(call = %call.id, %outcome, "caller hung up");
                self.respond_status(&key, &req, 200, now);
                self.end_agent_leg(id, now);
                self.finish(id, outcome, now);
            }
            Method::Info => {
                let digit = dtmf_relay_digit(&req);
                self.respond_status(&key, &req, 200, now);
                if let Some(d) = digit {
                    self.handle_digit(id, d, now);
                }
            }
            Method::Invite | Method::Update => self.handle_refresh(id, req, key, now),
            _ => self.respond_status(&key, &req, 405, now),
        }
    }
}

pub(crate) fn open_command(call: CallId, port: u16, m: &Negotiated, trusted: bool) -> MediaCommand {
    MediaCommand::Open {
        call,
        port,
        remote: trusted.then_some(m.remote),
        codec: m.codec,
        telephone_event: m.telephone_event,
    }
}

/// A key press sent as SIP INFO (`application/dtmf-relay`: `Signal=5`, or `application/dtmf`).
fn dtmf_relay_digit(req: &Request) -> Option<char> {
    let ct = req.headers.content_type.as_ref()?;
    let body = std::str::from_utf8(&req.body).ok()?;
    let value = if ct.is("application", "dtmf-relay") {
        body.lines()
            .find_map(|l| l.trim().strip_prefix("Signal="))?
            .trim()
    } else if ct.is("application", "dtmf") {
        body.trim()
    } else {
        return None;
    };
    let c = value.chars().next()?;
    matches!(c, '0'..='9' | '*' | '#' | 'A'..='D').then_some(c)
}
