//! Calls the hotline places to citizens (issue 15): the dialler (`outbound::dialler`) decides
//! whom and when; this places the call through the `[trunk]`, tells its outcome apart
//! (answered, busy, no answer, refused, unreachable) and, once answered, runs it like a
//! citizen's own call: its media opens on the caller's side of the call (so it is recorded the
//! same way) and the citizen is put through to the queue the callback asks for. Until the
//! answer the citizen's leg is a client INVITE like an agent's (`agent_leg`): the same ACK,
//! CANCEL and BYE code. Outbound calls never count in the inbound KPIs.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use crate::ivr::script::RobotScript;

use crate::call::agent_leg::{AgentLeg, LegState, LegTarget, Party};
use crate::call::engine::{CallEngine, MediaCommand, Output, Peer};
use crate::call::media_session;
use crate::call::record::{CallOutcome, OutboundInfo};
use crate::call::session::{Call, CallId, Phase};
use crate::masked::Masked;
use crate::outbound::dialler::Purpose;
use crate::outbound::rules::Outcome;
use crate::sip::dialog::Dialog;
use crate::sip::message::Request;
use crate::sip::message::{Host, Response, SipUri, TransactionKey, Uri};
use chrono::{DateTime, Utc};

/// A call the dialler asks for.
#[derive(Debug, Clone)]
pub struct OutboundCall {
    /// The dialler's try (`outbound::dialler::AttemptId`), echoed in the result.
    pub attempt: u64,
    pub try_no: u32,
    /// The number as the trunk takes it.
    pub number: String,
    pub purpose: Purpose,
    /// The ticket (or call) it is about.
    pub reference: String,
    /// Where the citizen is put through once they answer (a robot callback: after `0`).
    pub queue: String,
    /// A robot callback's script: it talks with the citizen first.
    pub robot: Option<Arc<RobotScript>>,
}

/// An outbound call's own state beside the call's.
#[derive(Debug, Clone)]
pub struct OutboundState {
    pub attempt: u64,
    pub info: OutboundInfo,
    pub queue: String,
    /// The robot's script, for a robot callback.
    pub robot: Option<Arc<RobotScript>>,
    /// The citizen's leg while it rings (our INVITE); `None` once answered.
    pub leg: Option<AgentLeg>,
    /// We gave up ringing (CANCEL sent): whatever comes now is "no answer".
    pub cancelled: bool,
    /// A provisional answer came: the trunk took the call (only then may it be cancelled,
    /// RFC 3261 §9.1; silence until Timer B is "unreachable").
    pub heard: bool,
    /// Whether the INVITE carries the trunk's credentials (`call::outbound_auth`).
    pub auth: crate::call::outbound_auth::TrunkAuth,
    /// Our BYE was challenged and sent again with credentials (once only).
    pub bye_authenticated: bool,
}

/// Why a call could not be placed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    #[error("no [trunk] address in config/hotline.toml: the hotline cannot call out")]
    NoTrunk,
    #[error("{0:?} is not a phone number")]
    BadNumber(String),
    #[error("no free RTP port")]
    NoPort,
    #[error("the engine is shutting down")]
    ShuttingDown,
    #[error("the INVITE could not be sent")]
    NotSent,
}

impl CallEngine {
    /// Places a call to a citizen through the trunk; answers the call's public name. Its
    /// result comes back as [`Output::Outbound`].
    pub fn place_outbound(
        &mut self,
        req: OutboundCall,
        now: Instant,
    ) -> Result<String, OutboundError> {
        let result = self.place_outbound_inner(req, now);
        self.flush_transactions(now);
        result
    }

    fn place_outbound_inner(
        &mut self,
        req: OutboundCall,
        now: Instant,
    ) -> Result<String, OutboundError> {
        if !self.accepting || self.standby {
            return Err(OutboundError::ShuttingDown);
        }
        let trunk = self.cfg.trunk.ok_or(OutboundError::NoTrunk)?;
        if !crate::outbound::rules::is_phone_number(&req.number) {
            return Err(OutboundError::BadNumber(req.number));
        }
        let port = self
            .ports
            .allocate(crate::call::ports::PortUse::Caller, &mut self.rng)
            .ok_or(OutboundError::NoPort)?;
        let id = self.new_call_id();
        let name = crate::call::ids::call_name(self.wall(now), id);
        let caller_id = self.cfg.trunk_caller_id.clone();
        let target = trunk_target(trunk, &req.number, &caller_id);
        let peer = target.peer;
        let Some((invite, key, from_tag)) = self.place_invite(id, &target, port, &name, None, now)
        else {
            return Err(OutboundError::NotSent);
        };
        self.outbound_invites.insert(key.clone(), id);
        tracing::info!(call = %id, %name, number = %crate::masked::Masked::new(req.number.clone()), purpose = ?req.purpose, reference = %req.reference, try_no = req.try_no, "calling a citizen");
        let leg = AgentLeg {
            party: Party::External {
                target: req.number.clone(),
            },
            invite: invite.clone(),
            key: key.clone(),
            peer,
            port,
            state: LegState::Ringing,
            dialog: None,
            media: None,
        };
        let call = Call::outbound(
            NewOutbound {
                id,
                name: name.clone(),
                number: req.number.clone(),
                called: caller_id,
                peer,
                local_sdp: invite.body.to_vec(),
                invite,
                key,
                local_tag: from_tag,
                port,
                ring_until: now + self.cfg.outbound_ring_timeout,
                started_at: self.wall(now),
            },
            OutboundState {
                attempt: req.attempt,
                info: OutboundInfo {
                    purpose: req.purpose,
                    reference: req.reference,
                    try_no: req.try_no,
                    outcome: None,
                    robot: None,
                    reason: None,
                    requested_at: None,
                    last_try: false,
                },
                robot: req.robot,
                queue: req.queue,
                leg: Some(leg),
                cancelled: false,
                heard: false,
                auth: Default::default(),
                bye_authenticated: false,
            },
        );
        let mut call = call;
        // A callback is about its ticket: the desk shows it, no draft is opened.
        call.ticket = call_ticket(&call);
        self.calls.insert(id, call);
        self.journal(id);
        // The port is bound now, so early media and the answer's first packets are caught.
        self.out
            .push_back(Output::Media(MediaCommand::Reserve { call: id, port }));
        self.rearm(id);
        Ok(name)
    }

    /// Whether a client transaction is an outbound call's INVITE.
    pub(crate) fn is_outbound_invite(&self, key: &TransactionKey) -> bool {
        self.outbound_invites.contains_key(key)
    }

    /// A response to an outbound call's INVITE.
    pub(crate) fn handle_outbound_response(
        &mut self,
        key: &TransactionKey,
        resp: Response,
        now: Instant,
    ) {
        let Some(id) = self.outbound_invites.get(key).copied() else {
            return;
        };
        if resp.status < 200 {
            if let Some(state) = self.calls.get_mut(&id).and_then(|c| c.outbound.as_mut()) {
                state.heard = true;
            }
            if resp.status == 180 || resp.status == 183 {
                tracing::debug!(call = %id, "the citizen's phone rings");
            }
            return;
        }
        self.outbound_invites.remove(key);
        let Some(state) = self.calls.get_mut(&id).and_then(|c| c.outbound.as_mut()) else {
            return;
        };
        let cancelled = state.cancelled;
        let Some(mut leg) = state.leg.take() else {
            return; // a retransmitted final answer after we moved on
        };
        if resp.status >= 300 {
            // A 401/407 is answered with the trunk's credentials: the try goes on.
            if !cancelled && self.outbound_auth_retry(id, leg, &resp, now) {
                return;
            }
            let outcome = if cancelled {
                Outcome::NoAnswer
            } else {
                Outcome::of_status(Some(resp.status))
            };
            self.outbound_over(id, outcome, now);
            return;
        }
        leg.dialog = Some(Dialog::from_uac_2xx(&leg.invite, &resp));
        self.send_ack(&mut leg, now);
        if cancelled {
            // Their answer crossed our CANCEL: acknowledged and hung up, as not answered.
            self.send_leg_bye(&mut leg, now);
            self.outbound_over(id, Outcome::NoAnswer, now);
            return;
        }
        let media = match media_session::read_answer(&resp.body) {
            Ok(m) => m,
            Err(e) => {
                tracing::info!(call = %id, error = %e, "the citizen's answer has no usable SDP: hung up");
                self.send_leg_bye(&mut leg, now);
                self.outbound_over(
                    id,
                    Outcome::Unreachable {
                        status: Some(resp.status),
                    },
                    now,
                );
                return;
            }
        };
        self.outbound_answered(id, leg, media, now);
    }

    /// The INVITE got no final answer (Timer B) or could not be sent.
    pub(crate) fn outbound_invite_failed(&mut self, key: &TransactionKey, now: Instant) {
        let Some(id) = self.outbound_invites.remove(key) else {
            return;
        };
        let cancelled = self
            .calls
            .get(&id)
            .and_then(|c| c.outbound.as_ref())
            .is_some_and(|o| o.cancelled);
        let outcome = if cancelled {
            Outcome::NoAnswer
        } else {
            Outcome::Unreachable { status: None }
        };
        self.outbound_over(id, outcome, now);
    }

    /// The citizen answered: their media opens as the call's caller side, the dialler
    /// hears of it, and they are put through to the callback's queue.
    fn outbound_answered(
        &mut self,
        id: CallId,
        leg: AgentLeg,
        media: media_session::Negotiated,
        now: Instant,
    ) {
        let wall = self.wall(now);
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        call.dialog = leg.dialog;
        call.media = Some(media);
        call.answered_at = Some(wall);
        let Some(state) = call.outbound.as_mut() else {
            return;
        };
        state.info.outcome = Some(Outcome::Answered);
        let (attempt, queue, robot) = (state.attempt, state.queue.clone(), state.robot.clone());
        let state_purpose = state.info.purpose;
        tracing::info!(call = %id, %queue, "the citizen answered the hotline's call");
        // The trunk's SDP address is believed, as for calls coming in from it.
        let open = crate::call::session::open_command(id, call.port, &media, true);
        self.out.push_back(Output::Media(open));
        self.out.push_back(Output::Outbound {
            attempt,
            outcome: Outcome::Answered,
        });
        self.journal(id);
        if state_purpose == Purpose::CallMeBack {
            self.callback_citizen_answered(id, now);
            return;
        }
        match robot {
            Some(script) => self.start_robot(id, &script, now),
            None => {
                self.enqueue(id, queue, now);
                self.drain_acd(now);
            }
        }
    }

    /// An unanswered try is over: the dialler is told and the call recorded as not reached.
    fn outbound_over(&mut self, id: CallId, outcome: Outcome, now: Instant) {
        let Some(state) = self.calls.get_mut(&id).and_then(|c| c.outbound.as_mut()) else {
            return;
        };
        if state.info.purpose == Purpose::CallMeBack {
            self.callback_not_reached(id, outcome, now);
            return;
        }
        state.info.outcome = Some(outcome);
        let attempt = state.attempt;
        tracing::info!(call = %id, ?outcome, "the citizen was not reached");
        self.out.push_back(Output::Outbound { attempt, outcome });
        self.finish(id, CallOutcome::NotReached, now);
    }

    /// The citizen's phone rang past `outbound.ring_timeout`: CANCEL; the 487 ends the try.
    pub(crate) fn outbound_ring_timeout(&mut self, id: CallId, now: Instant) {
        let Some(state) = self.calls.get_mut(&id).and_then(|c| c.outbound.as_mut()) else {
            return;
        };
        if state.cancelled || !state.heard {
            return; // nothing heard yet: Timer B ends the try as unreachable
        }
        state.cancelled = true;
        let Some((invite, key, peer)) = state
            .leg
            .as_ref()
            .map(|l| (l.invite.clone(), l.key.clone(), l.peer))
        else {
            return;
        };
        tracing::info!(call = %id, "no answer from the citizen: cancelling");
        self.send_cancel(&invite, &key, peer, now);
    }

    /// Ends an outbound call that has not been answered (shutdown, the ticket withdrawn).
    pub(crate) fn cancel_outbound(&mut self, id: CallId, now: Instant) {
        if self
            .calls
            .get(&id)
            .is_some_and(|c| matches!(c.phase, Phase::Dialling { .. }))
        {
            self.outbound_ring_timeout(id, now);
        }
    }
}

/// What a new outbound call starts with (`Call::outbound`).
pub(crate) struct NewOutbound {
    pub id: CallId,
    pub name: String,
    pub number: String,
    pub called: String,
    pub peer: Peer,
    pub invite: Request,
    pub key: TransactionKey,
    pub local_tag: String,
    pub local_sdp: Vec<u8>,
    pub port: u16,
    pub ring_until: Instant,
    pub started_at: DateTime<Utc>,
}

impl Call {
    /// A call the hotline places: ringing at the citizen's phone (`call::outbound`).
    pub(crate) fn outbound(n: NewOutbound, state: crate::call::outbound::OutboundState) -> Call {
        Call {
            id: n.id,
            name: n.name,
            caller: Masked::new(n.number),
            called: n.called,
            called_name: None,
            peer: n.peer,
            invite: n.invite,
            invite_key: n.key,
            local_tag: n.local_tag,
            dialog: None,
            phase: Phase::Dialling {
                until: n.ring_until,
            },
            port: n.port,
            media: None,
            local_sdp: n.local_sdp,
            menu_path: Vec::new(),
            queue: None,
            started_at: n.started_at,
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
            session_interval: None,
            session_timer: None,
            outbound: Some(state),
            callback_offered: false,
        }
    }
}

/// The ticket an outbound call is about: a callback's reference (a "call me back" refers
/// to the call the citizen left, whose ticket comes with the answer).
fn call_ticket(call: &Call) -> Option<String> {
    call.outbound
        .as_ref()
        .filter(|o| o.info.purpose != Purpose::CallMeBack)
        .map(|o| o.info.reference.clone())
}

/// `sip:<number>@<trunk>` from the hotline's own number.
pub(crate) fn trunk_target(trunk: SocketAddr, number: &str, caller_id: &str) -> LegTarget {
    let host = match trunk.ip() {
        std::net::IpAddr::V4(a) => Host::Ipv4(a),
        std::net::IpAddr::V6(a) => Host::Ipv6(a),
    };
    LegTarget {
        party: Party::External {
            target: number.to_string(),
        },
        uri: Uri::Sip(SipUri::new(host).with_user(number).with_port(trunk.port())),
        to_user: number.to_string(),
        peer: Peer {
            addr: trunk,
            link: crate::call::engine::Link::Udp,
        },
        from_user: caller_id.to_string(),
        from_display: None,
        route: Vec::new(),
    }
}
