//! A call's end: every way a call ends comes here once, which frees its port, its media and
//! its extra parties, tells the ACD, and emits its one record (with why a wait broke the
//! 15-second maximum, and everyone's span after a conference).

use std::time::Instant;

use crate::call::engine::{CallEngine, MediaCommand, Output};
use crate::call::record::{CallOutcome, CallRecord, CallState};
use crate::call::session::{CallId, Phase};

impl CallEngine {
    /// Our BYE was answered, timed out or failed: the call is over.
    pub(crate) fn bye_done(&mut self, id: CallId, now: Instant) {
        let outcome = match self.phase_of(id) {
            Some(Phase::Ending { outcome }) => *outcome,
            _ => CallOutcome::EndedByEngine,
        };
        self.finish(id, outcome, now);
    }

    /// Forgets the call, frees its port and media, and emits its record.
    pub(crate) fn finish(&mut self, id: CallId, outcome: CallOutcome, now: Instant) {
        // A robot still talking settles its result first, for the record.
        self.robot_call_ends(id, now);
        // Everyone else on the line goes too (their spans close before the record is made).
        self.end_parties(id, now);
        let Some(mut call) = self.calls.remove(&id) else {
            return;
        };
        if let Some(o) = &call.outbound {
            self.out
                .push_back(Output::OutboundEnded { attempt: o.attempt });
        }
        let wall = self.wall(now);
        // The agent's leg may be gone already (the caller's BYE ends it first).
        let agent_kind = match (&call.agent_leg, &call.agent) {
            (Some(leg), _) if leg.state == crate::call::agent_leg::LegState::Talking => {
                Some(crate::call::parties::kind_of(&leg.party))
            }
            (None, Some(agent)) if call.connected_at.is_some() => {
                Some(crate::call::record::PartyKind::Agent {
                    agent: agent.clone(),
                })
            }
            _ => None,
        };
        if let Some((party, joined_at)) =
            call.conference
                .close_agent_span(agent_kind, call.connected_at, wall)
        {
            self.out
                .push_back(Output::Party(Box::new(crate::call::record::PartyEvent {
                    call: call.name.clone(),
                    ticket: call.ticket.clone(),
                    party,
                    joined_at,
                    left_at: Some(wall),
                })));
        }
        self.disarm(id, call.armed);
        self.ports.release(call.port);
        if let Some(leg) = &call.agent_leg {
            self.ports.release(leg.port);
            self.by_agent_invite.remove(&leg.key);
            if let Some(tag) = leg.invite.headers.from.tag() {
                self.by_dialog
                    .remove(&(leg.invite.headers.call_id.clone(), tag.to_string()));
            }
        }
        let agent_on_line = call
            .agent_leg
            .as_ref()
            .is_some_and(|l| l.state == crate::call::agent_leg::LegState::Talking)
            || call.agent.is_some();
        let acd_result = match call.phase {
            // The caller left the line with the place kept: the ACD goes on with it.
            _ if outcome == CallOutcome::CallbackRequested => Ok(()),
            Phase::Talking => self.acd.handle_call_ended(&id, now),
            // A callback the agent answered whose citizen was not reached (or not yet).
            Phase::Dialling { .. } if agent_on_line => self.acd.handle_call_ended(&id, now),
            // Waiting again after a transfer: a person had answered, so no abandon.
            Phase::Queued { .. } if call.answered_queue.is_some() => {
                self.acd.handle_call_withdrawn(&id, now)
            }
            Phase::Queued { .. } => self.acd.handle_caller_hung_up(&id, now),
            Phase::Ending {
                outcome: CallOutcome::Answered,
            } => self.acd.handle_call_ended(&id, now),
            // `end_dead` told the ACD when it sent the BYE.
            Phase::Ending {
                outcome:
                    CallOutcome::MediaTimeout | CallOutcome::SessionExpired | CallOutcome::QueueTimeout,
            } => Ok(()),
            Phase::Ending { .. } if call.queue.is_some() => {
                self.acd.handle_call_withdrawn(&id, now)
            }
            _ => Ok(()),
        };
        if let Err(e) = acd_result {
            tracing::debug!(error = %e, "ACD: call end");
        }
        self.by_invite.remove(&call.invite_key);
        self.by_dialog
            .remove(&(call.invite.headers.call_id.clone(), call.local_tag.clone()));
        self.out
            .push_back(Output::Media(MediaCommand::Close { call: id }));
        // C2 is a maximum: a wait past 15 s is recorded with its cause.
        let waited = if call.answered_queue.is_some() {
            call.wait
        } else if matches!(
            outcome,
            CallOutcome::AbandonedInQueue
                | CallOutcome::MediaTimeout
                | CallOutcome::SessionExpired
                | CallOutcome::QueueTimeout
        ) {
            call.queued_mono.map(|t0| now.saturating_duration_since(t0))
        } else {
            None
        };
        let over_15s = waited.and_then(|w| {
            let first_ring = call
                .first_ring_at
                .zip(call.queued_mono)
                .map(|(r, t0)| r.saturating_duration_since(t0));
            crate::call::record::WaitBreach::of(w, first_ring, call.rings_unanswered)
        });
        let mut live = call.live();
        // A record is of a finished call: its state is `ended`, its `outcome` says how.
        live.state = CallState::Ended;
        let record = CallRecord {
            call: live,
            ended_at: self.wall(now),
            outcome,
            sip_call_id: call.invite.headers.call_id.clone(),
            recording_sha256: None,
            over_15s,
        };
        tracing::info!(call = %call.id, %outcome, "call ended");
        self.counters.call_ended(outcome);
        self.out.push_back(Output::Record(Box::new(record)));
        self.drain_acd(now);
    }
}
