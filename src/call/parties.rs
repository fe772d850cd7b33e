//! Consult, conference and supervision (rules C11, C12, W3's 三方转接, C16): the legs a call
//! has beyond its caller and its agent, and who hears whom. The agent consults someone (the
//! caller hears hold music; the agent and the consulted party hear each other), conferences
//! them in (everyone hears everyone), drops them, hands the call over to them, or leaves them
//! with the caller. Each party is one more SIP leg (`agent_leg`'s INVITE/ACK/BYE code) and one
//! more [`PartyId`] of the call's media; the first party that answers moves the call's media
//! from the two-party bridge to the mixer (`MediaCommand::Mix`), where it stays. What the
//! ticket and the audit log keep of it leaves as [`Output::Party`].

use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::call::agent_leg::{AgentLeg, LegState, Party};
use crate::call::engine::{CallEngine, MediaCommand, Output};
use crate::call::record::{MonitorMode, PartyEvent, PartyKind, PartyRole, PartySpan, PartyState};
use crate::call::session::CallId;
use crate::media::mixer::PartyId;

/// Most people on one call: the citizen, the agent, a unit, an interpreter and a supervisor.
pub const MAX_PARTIES: usize = 5;

/// One leg beyond the caller and the agent.
#[derive(Debug, Clone)]
pub struct CallParty {
    pub id: PartyId,
    pub kind: PartyKind,
    pub role: PartyRole,
    /// A supervisor's way of being on the call (only for [`PartyRole::Monitor`]).
    pub monitor: Option<MonitorMode>,
    pub leg: AgentLeg,
    /// This consult put the caller on hold: cancelling or merging it takes them off.
    pub held_caller: bool,
}

/// A call's conference state: the live extra legs, the media mode, and the spans of every
/// party so far (for the desk and the record).
#[derive(Debug, Clone)]
pub struct Conference {
    pub parties: Vec<CallParty>,
    /// The call's media is in the mixer (after the first extra party answered).
    pub mixing: bool,
    /// The next party number to hand out (never reused within a call).
    pub next: u8,
    /// The media party of the call's current agent leg (`agent_leg`): 1 until a party
    /// takes the call over.
    pub agent_party: PartyId,
    /// When the current agent leg began talking (for its span when it leaves).
    pub agent_since: Option<DateTime<Utc>>,
    pub spans: Vec<PartySpan>,
    /// The agent's phone's own consultation call, dialled from this call
    /// (`call::side_line`).
    pub side_line: Option<crate::call::side_line::SideLine>,
    /// A phone's blind transfer waiting for its target (`call::blind_refer`).
    pub blind: Option<crate::call::blind_refer::BlindTransfer>,
}

impl Default for Conference {
    fn default() -> Self {
        Conference {
            parties: Vec::new(),
            mixing: false,
            next: 2,
            agent_party: PartyId::AGENT,
            agent_since: None,
            spans: Vec::new(),
            side_line: None,
            blind: None,
        }
    }
}

impl Conference {
    /// At the call's end, after a conference, the agent on the line gets its span closed (a
    /// party that took the call over) or added (the agent who answered). Answers the party
    /// whose span closed, and since when it was on, for its `left` event.
    pub fn close_agent_span(
        &mut self,
        agent: Option<PartyKind>,
        connected_at: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    ) -> Option<(PartyKind, DateTime<Utc>)> {
        if self.spans.is_empty() {
            return None; // a plain two-party call: the record's agent and times say it all
        }
        if let Some(span) = self.span_mut(self.agent_party) {
            if span.state != PartyState::Left {
                span.state = PartyState::Left;
                span.left_at = Some(at);
                return span.joined_at.map(|j| (span.party.clone(), j));
            }
            return None;
        }
        self.spans.push(PartySpan {
            id: self.agent_party.0,
            party: agent?,
            role: PartyRole::Conference,
            state: PartyState::Left,
            joined_at: self.agent_since.or(connected_at),
            left_at: Some(at),
        });
        None
    }

    fn span_mut(&mut self, id: PartyId) -> Option<&mut PartySpan> {
        self.spans.iter_mut().rev().find(|s| s.id == id.0)
    }

    /// The party with this number, if its leg is live.
    pub fn party(&self, id: PartyId) -> Option<&CallParty> {
        self.parties.iter().find(|p| p.id == id)
    }

    pub(crate) fn talking(&self) -> impl Iterator<Item = &CallParty> {
        self.parties
            .iter()
            .filter(|p| p.leg.state == LegState::Talking)
    }
}

/// Whom the agent asks to bring onto a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartyTarget {
    /// A named agent (a special seat's person, a colleague).
    Agent(String),
    /// Whoever is best and ready in this queue (the sign-language or foreign-language seat).
    Queue(String),
    /// A handling unit of `config/dispatch.toml`, at its `phone`.
    Unit(String),
    /// An outside service of `[transfer.numbers]` (`"110"`, `water`, …).
    External(String),
    /// A supervisor's phone (`call::monitor`).
    Supervisor { user: String, mode: MonitorMode },
}

/// What the desk asks of a call's parties.
#[derive(Debug, Clone)]
pub enum PartyAction {
    /// Call someone in: the answer is their party number.
    Add {
        target: PartyTarget,
        role: PartyRole,
    },
    Drop(u8),
    /// A consultation becomes a conference.
    Join(u8),
    /// The party takes the call over; the agent leaves.
    HandOver(u8),
    /// The agent leaves; the others go on.
    Leave,
    /// A supervisor listens, whispers or barges (`call::monitor`).
    Monitor {
        user: String,
        mode: MonitorMode,
    },
}

/// Why a consult, conference or hand-over was refused (the API answers 4xx with it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConferenceError {
    #[error("no live call {0}")]
    UnknownCall(String),
    #[error("call {0} is not talking to an agent")]
    NotTalking(String),
    #[error("call {call} already has {max} people on it")]
    TooManyParties { call: String, max: usize },
    #[error("call {0} already has a consultation going: complete, merge or drop it first")]
    ConsultInProgress(String),
    #[error("call {call} has no party {party}")]
    UnknownParty { call: String, party: u8 },
    #[error("party {party} of call {call} has not answered yet")]
    NotAnswered { call: String, party: u8 },
    #[error("party {party} of call {call} is a supervisor: they cannot take the call over")]
    Supervisor { call: String, party: u8 },
    #[error("nobody else is talking on call {0}: the agent cannot leave it to anyone")]
    NobodyToLeaveTo(String),
    #[error("unit {0:?} has no phone number: set `phone` for it in config/dispatch.toml (and [transfer] gateway)")]
    UnitUnreachable(String),
    #[error("{0:?} is not an outside number this hotline may dial: configure [transfer] gateway and numbers")]
    External(String),
    #[error("agent {agent} cannot be brought in: {reason}")]
    AgentUnavailable { agent: String, reason: String },
    #[error("no RTP port or the INVITE could not be sent")]
    NotSent,
    #[error("supervisor {0} has no registered phone: add a [[supervisor]] to agents.toml and register it")]
    NoSupervisorPhone(String),
    #[error("party {party} of call {call} is not a supervisor")]
    NotASupervisor { call: String, party: u8 },
}

/// Whether a call's party hears another (the rules of [`PartyRole`] and [`MonitorMode`]).
fn hears(listener: &Listener, speaker: &Listener) -> bool {
    use Listener as L;
    match (listener, speaker) {
        (a, b) if a == b => false,
        // A held caller hears the hold music only, and nobody hears them.
        (L::Caller { held: true }, _) | (_, L::Caller { held: true }) => false,
        // A supervisor listening or whispering is heard by nobody but (whisper) the agent.
        (L::Agent, L::Monitor(MonitorMode::Whisper)) => true,
        (_, L::Monitor(MonitorMode::Listen | MonitorMode::Whisper)) => false,
        (L::Monitor(MonitorMode::Listen | MonitorMode::Whisper), _) => true,
        // The agent's phone consulting on its own second line: that line and the consulted
        // party hear each other, and nobody else.
        (L::SideLine, L::Consult) | (L::Consult, L::SideLine) => true,
        (L::SideLine, _) | (_, L::SideLine) => false,
        // A consultation is between the agent and the consulted party only.
        (L::Consult, L::Agent) | (L::Agent, L::Consult) => true,
        (L::Consult, _) | (_, L::Consult) => false,
        _ => true,
    }
}

/// A party as the mix sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Listener {
    Caller {
        held: bool,
    },
    Agent,
    Consult,
    Conference,
    Monitor(MonitorMode),
    /// The agent's phone's second line (`call::side_line`).
    SideLine,
}

impl CallEngine {
    /// Brings `target` onto a talking call: `Consult` holds the caller while the agent talks
    /// to them; `Conference` adds them for everyone to hear once they answer. Answers the new
    /// party's number. Calling 110/119/120/122 or a utility links the call's ticket at once
    /// (C12), whatever the role.
    pub fn add_party(
        &mut self,
        id: CallId,
        target: PartyTarget,
        role: PartyRole,
        now: Instant,
    ) -> Result<u8, ConferenceError> {
        let result = self.add_party_inner(id, target, role, None, now);
        self.flush_transactions(now);
        result
    }

    pub(crate) fn add_party_inner(
        &mut self,
        id: CallId,
        target: PartyTarget,
        role: PartyRole,
        monitor: Option<MonitorMode>,
        now: Instant,
    ) -> Result<u8, ConferenceError> {
        let call = self.talking_call(id)?;
        let name = call.name.clone();
        if call.conference.parties.len() + 2 >= MAX_PARTIES {
            return Err(ConferenceError::TooManyParties {
                call: name,
                max: MAX_PARTIES,
            });
        }
        if role == PartyRole::Consult
            && call
                .conference
                .parties
                .iter()
                .any(|p| p.role == PartyRole::Consult)
        {
            return Err(ConferenceError::ConsultInProgress(name));
        }
        let (leg_target, kind) = self.party_leg_target(id, &target, now)?;
        let pid = {
            let Some(call) = self.calls.get_mut(&id) else {
                return Err(ConferenceError::UnknownCall(name));
            };
            let pid = PartyId(call.conference.next);
            call.conference.next = call.conference.next.saturating_add(1);
            pid
        };
        let held_caller =
            role == PartyRole::Consult && !self.calls.get(&id).is_some_and(|c| c.on_hold);
        let slot = crate::call::agent_leg::LegSlot::Party {
            id: pid,
            kind: kind.clone(),
            role,
            monitor,
            held_caller,
        };
        if self.start_leg_in(id, leg_target, slot, now).is_err() {
            if let PartyKind::Agent { agent } = &kind {
                self.assist_over(agent, false, now);
            }
            return Err(ConferenceError::NotSent);
        }
        tracing::info!(call = %id, party = pid.0, ?kind, ?role, "party called");
        if let Some(call) = self.calls.get_mut(&id) {
            call.conference.spans.push(PartySpan {
                id: pid.0,
                party: kind.clone(),
                role,
                state: PartyState::Ringing,
                joined_at: None,
                left_at: None,
            });
        }
        if held_caller {
            self.set_caller_held(id, true);
        }
        if let PartyKind::External { target } = &kind {
            self.out.push_back(Output::EmergencyTransfer {
                call: name,
                target: target.clone(),
            });
        }
        Ok(pid.0)
    }

    /// The call, if an agent is talking on it.
    pub(crate) fn talking_call(
        &self,
        id: CallId,
    ) -> Result<&crate::call::session::Call, ConferenceError> {
        let call = self
            .calls
            .get(&id)
            .ok_or_else(|| ConferenceError::UnknownCall(id.to_string()))?;
        let talking = matches!(call.phase, crate::call::session::Phase::Talking)
            && call
                .agent_leg
                .as_ref()
                .is_some_and(|l| l.state == LegState::Talking);
        if talking {
            Ok(call)
        } else {
            Err(ConferenceError::NotTalking(call.name.clone()))
        }
    }

    /// Holds or releases the caller for a consultation (hold music, nobody hears them).
    pub(crate) fn set_caller_held(&mut self, id: CallId, held: bool) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if call.on_hold == held {
            return;
        }
        call.on_hold = held;
        let prompt = held.then(|| self.menus.queue_audio().hold().as_str().to_string());
        self.out
            .push_back(Output::Media(MediaCommand::Hold { call: id, prompt }));
        self.remix(id);
    }

    /// Tells the media who hears whom now (only once the call is mixing).
    pub(crate) fn remix(&mut self, id: CallId) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        if !call.conference.mixing {
            return;
        }
        let mut members = vec![(PartyId::CALLER, Listener::Caller { held: call.on_hold })];
        if call
            .agent_leg
            .as_ref()
            .is_some_and(|l| l.state == LegState::Talking)
        {
            // While its phone consults on a second line, the agent's first line is just
            // one more member of the call: the consultation is on the other.
            let side = call
                .conference
                .side_line
                .as_ref()
                .filter(|s| matches!(s.state, crate::call::side_line::SideState::Talking));
            match side {
                Some(s) => {
                    members.push((call.conference.agent_party, Listener::Conference));
                    members.push((s.party, Listener::SideLine));
                }
                None => members.push((call.conference.agent_party, Listener::Agent)),
            }
        }
        for p in call.conference.talking() {
            let l = match (p.role, p.monitor) {
                (PartyRole::Consult, _) => Listener::Consult,
                (PartyRole::Monitor, Some(MonitorMode::Barge)) | (PartyRole::Conference, _) => {
                    Listener::Conference
                }
                (PartyRole::Monitor, mode) => {
                    Listener::Monitor(mode.unwrap_or(MonitorMode::Listen))
                }
            };
            members.push((p.id, l));
        }
        let matrix = members
            .iter()
            .map(|(who, l)| {
                let speakers = members
                    .iter()
                    .filter(|(_, s)| hears(l, s))
                    .map(|(s, _)| *s)
                    .collect();
                (*who, speakers)
            })
            .collect();
        self.out.push_back(Output::Media(MediaCommand::Mix {
            call: id,
            hears: matrix,
        }));
    }

    /// A party's leg answered: its media opens and it is mixed in.
    pub(crate) fn party_answered(&mut self, id: CallId, pid: PartyId, now: Instant) {
        let wall = self.wall(now);
        // A browser's answered WebRTC leg, or else the plain RTP leg its SDP described.
        let browser = self.open_browser_party(id, pid, pid);
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(p) = call.conference.parties.iter_mut().find(|p| p.id == pid) else {
            return;
        };
        let open = browser.or_else(|| {
            p.leg.media.map(|m| MediaCommand::OpenParty {
                call: id,
                party: pid,
                port: p.leg.port,
                remote: m.remote,
                codec: m.codec,
                telephone_event: m.telephone_event,
            })
        });
        let Some(open) = open else {
            // Never joined: hung up (the leg has its dialog), with no span and no event.
            tracing::warn!(call = %id, party = pid.0, "party answered without usable SDP: dropped");
            p.leg.state = LegState::Talking;
            if let Some(span) = call.conference.span_mut(pid) {
                span.state = PartyState::Left;
                span.left_at = Some(wall);
            }
            self.drop_party_inner(id, pid, now);
            return;
        };
        p.leg.state = LegState::Talking;
        let kind = p.kind.clone();
        if let Some(span) = call.conference.span_mut(pid) {
            span.state = PartyState::Talking;
            span.joined_at = Some(wall);
        }
        call.conference.mixing = true;
        let event = PartyEvent {
            call: call.name.clone(),
            ticket: call.ticket.clone(),
            party: kind,
            joined_at: wall,
            left_at: None,
        };
        tracing::info!(call = %id, party = pid.0, "party answered");
        self.out.push_back(Output::Media(open));
        self.out.push_back(Output::Party(Box::new(event)));
        self.remix(id);
        self.side_line_answer(id, pid, now);
        self.blind_target_answered(id, pid, now);
    }

    /// A party's RTP port could not be opened: without media they are taken off the call
    /// (hung up), the others go on.
    pub fn party_media_failed(&mut self, id: CallId, party: PartyId, now: Instant) {
        let known = self
            .calls
            .get(&id)
            .is_some_and(|c| c.conference.party(party).is_some());
        if known {
            tracing::warn!(call = %id, party = party.0, "no media for the party: dropped");
            self.drop_party_inner(id, party, now);
            self.flush_transactions(now);
        }
    }

    /// Takes a party off the call (the agent dropped them, or they never answered); their
    /// leg is cancelled or hung up. A consultation's caller comes off hold.
    pub fn drop_party(
        &mut self,
        id: CallId,
        party: u8,
        now: Instant,
    ) -> Result<(), ConferenceError> {
        let call = self
            .calls
            .get(&id)
            .ok_or_else(|| ConferenceError::UnknownCall(id.to_string()))?;
        if call.conference.party(PartyId(party)).is_none() {
            return Err(ConferenceError::UnknownParty {
                call: call.name.clone(),
                party,
            });
        }
        self.drop_party_inner(id, PartyId(party), now);
        self.flush_transactions(now);
        Ok(())
    }

    pub(crate) fn drop_party_inner(&mut self, id: CallId, pid: PartyId, now: Instant) {
        let Some(p) = self.take_party(id, pid) else {
            return;
        };
        let mut leg = p.leg.clone();
        match leg.state {
            LegState::Ringing => self.cancel_leg(leg, now),
            LegState::Talking => {
                self.send_leg_bye(&mut leg, now);
                self.forget_leg(&leg);
            }
        }
        self.party_gone(id, p, now);
    }

    /// A party hung up (their BYE): gone without a BYE of ours.
    pub(crate) fn party_hung_up(&mut self, id: CallId, pid: PartyId, now: Instant) {
        let Some(p) = self.take_party(id, pid) else {
            return;
        };
        self.forget_leg(&p.leg);
        self.party_gone(id, p, now);
    }

    /// A party's INVITE was refused or timed out.
    pub(crate) fn party_failed(&mut self, id: CallId, pid: PartyId, why: &str, now: Instant) {
        let Some(p) = self.take_party(id, pid) else {
            return;
        };
        tracing::info!(call = %id, party = pid.0, %why, "party did not answer");
        self.ports.release(p.leg.port);
        self.party_gone(id, p, now);
    }

    pub(crate) fn take_party(&mut self, id: CallId, pid: PartyId) -> Option<CallParty> {
        let call = self.calls.get_mut(&id)?;
        let i = call.conference.parties.iter().position(|p| p.id == pid)?;
        let p = call.conference.parties.remove(i);
        self.party_invites.remove(&p.leg.key);
        self.drop_browser_party(id, pid);
        Some(p)
    }

    /// Releases a talking leg's port and dialog entry.
    pub(crate) fn forget_leg(&mut self, leg: &AgentLeg) {
        self.ports.release(leg.port);
        if let Some(tag) = leg.invite.headers.from.tag() {
            self.by_dialog
                .remove(&(leg.invite.headers.call_id.clone(), tag.to_string()));
        }
    }

    /// What follows a party's leaving: its media closes, its span and event close, an
    /// assisting agent is released, a consultation's caller comes off hold.
    fn party_gone(&mut self, id: CallId, p: CallParty, now: Instant) {
        let wall = self.wall(now);
        let answered = p.leg.state == LegState::Talking;
        if let PartyKind::Agent { agent } = &p.kind {
            self.assist_over(agent, answered, now);
        }
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let joined_at = call.conference.span_mut(p.id).and_then(|s| {
            s.state = PartyState::Left;
            s.left_at = Some(wall);
            s.joined_at
        });
        if answered {
            self.out.push_back(Output::Media(MediaCommand::CloseParty {
                call: id,
                party: p.id,
            }));
            if let Some(joined_at) = joined_at {
                self.out.push_back(Output::Party(Box::new(PartyEvent {
                    call: call.name.clone(),
                    ticket: call.ticket.clone(),
                    party: p.kind.clone(),
                    joined_at,
                    left_at: Some(wall),
                })));
            }
        }
        if call
            .conference
            .side_line
            .as_ref()
            .is_some_and(|s| s.consult == p.id)
        {
            // The phone's consultation ended at the far side: its line ends too.
            self.end_side_line(id, now);
        }
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let release = p.held_caller
            && !call
                .conference
                .parties
                .iter()
                .any(|q| q.role == PartyRole::Consult);
        if release {
            self.set_caller_held(id, false);
        }
        self.remix(id);
        if !answered {
            self.blind_target_failed(id, p.id, now);
        }
        self.drain_acd(now);
    }

    /// A live party of a call with its span, and the call's name for errors.
    pub(crate) fn party_and_span(
        &mut self,
        id: CallId,
        party: u8,
    ) -> Result<(String, &mut CallParty, Option<&mut PartySpan>), ConferenceError> {
        let call = self
            .calls
            .get_mut(&id)
            .ok_or_else(|| ConferenceError::UnknownCall(id.to_string()))?;
        let name = call.name.clone();
        let conf = &mut call.conference;
        let span = conf.spans.iter_mut().rev().find(|s| s.id == party);
        match conf.parties.iter_mut().find(|p| p.id == PartyId(party)) {
            Some(p) => Ok((name, p, span)),
            None => Err(ConferenceError::UnknownParty { call: name, party }),
        }
    }

    /// Merges a consultation into a conference: the caller comes off hold and everyone hears
    /// everyone.
    pub fn join_party(
        &mut self,
        id: CallId,
        party: u8,
        now: Instant,
    ) -> Result<(), ConferenceError> {
        let _ = now;
        let (name, p, span) = self.party_and_span(id, party)?;
        if p.role == PartyRole::Monitor {
            // A supervisor joins by barging (`monitor`), not by merging.
            return Err(ConferenceError::Supervisor { call: name, party });
        }
        let held = std::mem::take(&mut p.held_caller);
        p.role = PartyRole::Conference;
        if let Some(span) = span {
            span.role = PartyRole::Conference;
        }
        if held {
            self.set_caller_held(id, false);
        }
        self.remix(id);
        Ok(())
    }

    /// Ends every extra leg of a call that is ending.
    pub(crate) fn end_parties(&mut self, id: CallId, now: Instant) {
        if let Some(call) = self.calls.get_mut(&id) {
            // The call is ending: a blind transfer's target is dropped, not waited for.
            call.conference.blind = None;
        }
        self.end_side_line(id, now);
        let ids: Vec<PartyId> = self
            .calls
            .get(&id)
            .map(|c| c.conference.parties.iter().map(|p| p.id).collect())
            .unwrap_or_default();
        for pid in ids {
            self.drop_party_inner(id, pid, now);
        }
    }

    /// A desk's request on a live call by its public name; `agent`, when given, must be the
    /// one serving it. Answers the new party's number for `Add`.
    pub fn party_action(
        &mut self,
        call: &str,
        agent: Option<String>,
        action: PartyAction,
        now: Instant,
    ) -> Result<Option<u8>, ConferenceError> {
        use PartyAction as A;
        let id = self
            .call_by_name(call)
            .ok_or_else(|| ConferenceError::UnknownCall(call.to_string()))?;
        if agent.is_some() && self.agent_of_call(id) != agent {
            return Err(ConferenceError::NotTalking(call.to_string()));
        }
        match action {
            A::Add { target, role } => self.add_party(id, target, role, now).map(Some),
            A::Drop(p) => self.drop_party(id, p, now).map(|()| None),
            A::Join(p) => self.join_party(id, p, now).map(|()| None),
            A::HandOver(p) => self.hand_over(id, p, now).map(|()| None),
            A::Leave => self.leave(id, now).map(|()| None),
            A::Monitor { user, mode } => self.monitor(id, &user, mode, now).map(Some),
        }
    }

    /// The call and party a party leg's dialog belongs to.
    pub(crate) fn party_of_dialog(&self, id: CallId, sip_call_id: &str) -> Option<PartyId> {
        self.calls
            .get(&id)?
            .conference
            .parties
            .iter()
            .find_map(|p| (p.leg.invite.headers.call_id == sip_call_id).then_some(p.id))
    }
}

/// Who a leg's party is, as the record names it.
pub(crate) fn kind_of(party: &Party) -> PartyKind {
    match party {
        Party::Agent(a) => PartyKind::Agent {
            agent: a.to_string(),
        },
        Party::External { target } => PartyKind::External {
            target: target.clone(),
        },
        Party::Unit { unit } => PartyKind::Unit { unit: unit.clone() },
        Party::Supervisor { user, mode } => PartyKind::Supervisor {
            user: user.clone(),
            mode: *mode,
        },
    }
}
