//! The agent hands a call over to one of its parties, or leaves it to them (`call::parties`):
//! the party's leg becomes the call's agent leg (another agent takes the call over in the
//! ACD; a unit or an outside service carries on with the caller outside it), every
//! consultation joins the conference, the caller comes off hold, and the leaving agent's span
//! closes in the record. The recording goes on in the same file.

use std::time::Instant;

use crate::call::agent_leg::LegState;
use crate::call::engine::{CallEngine, MediaCommand, Output};
use crate::call::parties::{kind_of, ConferenceError};
use crate::call::record::{PartyKind, PartyRole, PartySpan, PartyState};
use crate::call::session::CallId;
use crate::media::mixer::PartyId;

impl CallEngine {
    /// Completes a transfer to a party who answered: they take the call over (an agent
    /// becomes the call's agent; a unit or outside service stays with the caller), and the
    /// agent leaves for wrap-up.
    pub fn hand_over(
        &mut self,
        id: CallId,
        party: u8,
        now: Instant,
    ) -> Result<(), ConferenceError> {
        let result = self.hand_over_inner(id, Some(PartyId(party)), now);
        self.flush_transactions(now);
        result
    }

    /// The agent leaves; the caller and the others go on (the first party still talking
    /// takes the call over, the recording continues).
    pub fn leave(&mut self, id: CallId, now: Instant) -> Result<(), ConferenceError> {
        let result = self.hand_over_inner(id, None, now);
        self.flush_transactions(now);
        result
    }

    fn hand_over_inner(
        &mut self,
        id: CallId,
        to: Option<PartyId>,
        now: Instant,
    ) -> Result<(), ConferenceError> {
        let call = self.talking_call(id)?;
        let name = call.name.clone();
        let successor = match to {
            Some(pid) => {
                let p = call
                    .conference
                    .party(pid)
                    .ok_or(ConferenceError::UnknownParty {
                        call: name.clone(),
                        party: pid.0,
                    })?;
                if p.leg.state != LegState::Talking {
                    return Err(ConferenceError::NotAnswered {
                        call: name,
                        party: pid.0,
                    });
                }
                if p.role == PartyRole::Monitor {
                    return Err(ConferenceError::Supervisor {
                        call: name,
                        party: pid.0,
                    });
                }
                pid
            }
            None => self
                .successor(id)
                .ok_or(ConferenceError::NobodyToLeaveTo(name))?,
        };
        self.agent_leaves(id, successor, false, now);
        Ok(())
    }

    /// The current agent leg ends (BYE, media closed, a span for the record) and `successor`'s
    /// leg becomes the call's agent leg; every consultation becomes part of the conference.
    pub(crate) fn agent_leaves(
        &mut self,
        id: CallId,
        successor: PartyId,
        hung_up: bool,
        now: Instant,
    ) {
        let wall = self.wall(now);
        let Some(p) = self.take_party(id, successor) else {
            return;
        };
        // The agent's phone's own consultation line goes with the agent.
        self.end_side_line(id, now);
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let old_party = call.conference.agent_party;
        let old_agent = call.agent.clone();
        let since = call.conference.agent_since.or(call.connected_at);
        let mut old_leg = call.agent_leg.take();
        // The agent's own span: who left when.
        if let Some(leg) = &old_leg {
            call.conference.spans.push(PartySpan {
                id: old_party.0,
                party: kind_of(&leg.party),
                role: PartyRole::Conference,
                state: PartyState::Left,
                joined_at: since,
                left_at: Some(wall),
            });
        }
        call.agent_leg = Some(p.leg.clone());
        call.conference.agent_party = p.id;
        call.conference.agent_since = call
            .conference
            .spans
            .iter()
            .rev()
            .find(|s| s.id == p.id.0)
            .and_then(|s| s.joined_at);
        call.agent = match &p.kind {
            PartyKind::Agent { agent } => Some(agent.clone()),
            _ => None,
        };
        // Who handed over: the agent, or the unit or service that had taken the call over.
        let from = match (&old_agent, &old_leg) {
            (Some(agent), _) => agent.clone(),
            (None, Some(leg)) => party_label(&kind_of(&leg.party)),
            (None, None) => "?".into(),
        };
        call.transfers
            .push(format!("{from} → {}", party_label(&p.kind)));
        for q in call.conference.parties.iter_mut() {
            if q.role == PartyRole::Consult {
                q.role = PartyRole::Conference;
            }
            q.held_caller = false;
        }
        for s in call.conference.spans.iter_mut() {
            if s.role == PartyRole::Consult && s.state != PartyState::Left {
                s.role = PartyRole::Conference;
            }
        }
        tracing::info!(call = %id, from = ?old_agent, to = ?p.kind, "the agent left the call to a party");
        if let Some(leg) = old_leg.as_mut() {
            if !hung_up {
                self.send_leg_bye(leg, now);
            }
            self.forget_leg(leg);
        }
        self.out.push_back(Output::Media(MediaCommand::CloseParty {
            call: id,
            party: old_party,
        }));
        // The ACD: another agent takes the call over; otherwise the agent's part ended.
        let acd = match &p.kind {
            PartyKind::Agent { agent } => self.take_over(id, agent, now),
            _ => self.acd.handle_call_ended(&id, now),
        };
        if let Err(e) = acd {
            tracing::debug!(error = %e, "ACD: hand-over");
        }
        self.set_caller_held(id, false);
        self.remix(id);
        self.drain_acd(now);
    }

    /// The next agent of a call whose media is in the mixer (after a transfer) joins it as
    /// party `party`: its leg (plain RTP, or a browser's WebRTC) opens as one more party
    /// instead of the two-party agent leg, and the caller comes back into the mix.
    pub(crate) fn agent_joins_mixer(
        &mut self,
        id: CallId,
        open: MediaCommand,
        party: PartyId,
        held: bool,
    ) {
        let open = match open {
            MediaCommand::OpenAgent {
                call,
                port,
                remote,
                codec,
                telephone_event,
            } => MediaCommand::OpenParty {
                call,
                party,
                port,
                remote,
                codec,
                telephone_event,
            },
            MediaCommand::OpenWebRtcAgent { call, port, leg } => MediaCommand::OpenWebRtcParty {
                call,
                party,
                port,
                leg,
            },
            other => other,
        };
        self.out.push_back(Output::Media(open));
        if !held {
            self.out.push_back(Output::Media(MediaCommand::Hold {
                call: id,
                prompt: None,
            }));
        }
        self.remix(id);
    }

    /// The first party still talking who could carry the call on without the agent.
    pub(crate) fn successor(&self, id: CallId) -> Option<PartyId> {
        self.calls
            .get(&id)?
            .conference
            .talking()
            .find(|p| p.role != PartyRole::Monitor)
            .map(|p| p.id)
    }
}

/// How the record's transfer list names a party.
fn party_label(kind: &PartyKind) -> String {
    match kind {
        PartyKind::Agent { agent } => agent.clone(),
        PartyKind::Unit { unit } => format!("unit {unit}"),
        PartyKind::External { target } => target.clone(),
        PartyKind::Supervisor { user, .. } => format!("supervisor {user}"),
    }
}
