//! A call's end: every way a call ends comes here once, which frees its port, its media and
//! its extra parties, tells the ACD, and emits its one record (with why a wait broke the
//! 15-second maximum, and everyone's span after a conference). The ways we end a call
//! ourselves live here too: 487 to a cancelled INVITE, the engine's own end, our BYE.

use std::time::Instant;

use crate::call::engine::{transport, CallEngine, MediaCommand, Output};
use crate::call::record::{CallOutcome, CallRecord, CallState};
use crate::call::session::{CallId, Phase};
use crate::sip::dialog::ViaSpec;
use crate::sip::message::{Contact, Method, Response};

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
            agent_media_failure: self.browser.take_failure(id),
        };
        tracing::info!(call = %call.id, %outcome, "call ended");
        self.counters.call_ended(outcome);
        self.out.push_back(Output::Record(Box::new(record)));
        if call.outbound.is_none() {
            self.finishing = Some((id, call.called.clone()));
        }
        self.drain_acd(now);
        self.finishing = None;
    }

    /// CANCEL of a call we have not answered: 487 to its INVITE and the call is over.
    pub(crate) fn cancel_call(&mut self, id: CallId, now: Instant) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        let mut resp = Response::for_request(&call.invite, 487, "Request Terminated");
        resp.headers.to.set_tag(&call.local_tag);
        let key = call.invite_key.clone();
        self.respond(&key, resp, now);
        self.finish(id, CallOutcome::CancelledBeforeAnswer, now);
    }

    /// We end the call: a final response if unanswered, otherwise a BYE.
    pub(crate) fn end_call_by_engine(&mut self, id: CallId, now: Instant) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        match call.phase {
            Phase::Ringing { .. } => {
                let mut resp = Response::for_request(&call.invite, 503, "Service Unavailable");
                resp.headers.to.set_tag(&call.local_tag);
                resp.headers.push("Retry-After", "30");
                let key = call.invite_key.clone();
                self.respond(&key, resp, now);
                self.finish(id, CallOutcome::Rejected, now);
            }
            Phase::Ending { .. } => {}
            // Our own call still ringing at the citizen's: CANCEL; the 487 ends it.
            Phase::Dialling { .. } => self.cancel_outbound(id, now),
            Phase::Talking => {
                // Both legs get a BYE; the agent's conversation did happen, so the call
                // counts as answered and the agent goes to wrap-up.
                self.end_agent_leg(id, now);
                self.send_bye(id, CallOutcome::Answered, now);
            }
            _ => {
                // An agent's phone may be ringing for it.
                self.end_agent_leg(id, now);
                self.send_bye(id, CallOutcome::EndedByEngine, now);
            }
        }
    }

    pub(crate) fn send_bye(&mut self, id: CallId, outcome: CallOutcome, now: Instant) {
        let branch = self.token();
        let host = self.local_host();
        let port = self.cfg.sip_addr.port();
        let contact = match self.calls.get(&id) {
            Some(c) => self.contact_for(c.peer),
            None => return,
        };
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(dialog) = call.dialog.as_mut() else {
            return;
        };
        let via_transport = call.peer.via_transport();
        let mut bye = dialog.request(
            Method::Bye,
            ViaSpec {
                transport: &via_transport,
                host: &host,
                port,
                branch_suffix: &branch,
            },
        );
        bye.headers.contact = Some(Contact::List(vec![contact]));
        bye.headers.push("Reason", "Q.850;cause=16");
        let peer = call.peer;
        call.phase = Phase::Ending { outcome };
        let Some(key) = bye.client_transaction_key() else {
            return;
        };
        self.out
            .push_back(Output::Media(MediaCommand::Close { call: id }));
        self.txn_peers.insert(key.clone(), peer);
        self.by_bye.insert(key.clone(), id);
        if self
            .txns
            .start_client(key, bye, transport(peer.reliable()), now)
            .is_err()
        {
            self.finish(id, outcome, now);
        }
        self.rearm(id);
    }
}
