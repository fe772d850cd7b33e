//! A softphone's blind transfer to a colleague or a handling unit (REFER without `Replaces`,
//! `Refer-To: <sip:1002@…>` or `<sip:96116@…>`): the most common transfer key on an agent's
//! phone. The engine rings the target as a consultation of the citizen's call (the citizen
//! hears hold music, `call::parties`), and when they answer they take the call over as the
//! desk's hand-over does; the phone is told in the REFER's NOTIFY. A phone that hangs up at
//! once (many do after the 202) leaves the citizen waiting for the target; if the target does
//! not answer, the citizen goes back to their queue, so a person still answers (C5).

use std::time::Instant;

use crate::call::engine::CallEngine;
use crate::call::parties::{ConferenceError, PartyTarget};
use crate::call::record::PartyRole;
use crate::call::session::CallId;
use crate::call::transfer::ReferredOn;
use crate::media::mixer::PartyId;

/// A blind transfer waiting for its target to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlindTransfer {
    /// The consultation party that will take the call over.
    pub party: PartyId,
    /// The agent's phone hung up meanwhile: its leg waits, silent, to be closed at the end.
    pub agent_gone: bool,
}

impl CallEngine {
    /// Starts a blind transfer of call `id` to `target` (an agent or a unit).
    pub(crate) fn start_blind_transfer(
        &mut self,
        id: CallId,
        target: PartyTarget,
        now: Instant,
    ) -> Result<(), ConferenceError> {
        let party = self.add_party_inner(id, target, PartyRole::Consult, None, now)?;
        if let Some(call) = self.calls.get_mut(&id) {
            call.conference.blind = Some(BlindTransfer {
                party: PartyId(party),
                agent_gone: false,
            });
        }
        Ok(())
    }

    /// The agent's phone hung up: with a blind transfer still ringing, the citizen waits for
    /// its target instead of being hung up. Answers whether that is the case.
    pub(crate) fn agent_gone_during_blind_transfer(&mut self, id: CallId) -> bool {
        let Some(call) = self.calls.get_mut(&id) else {
            return false;
        };
        match call.conference.blind.as_mut() {
            Some(b) => {
                b.agent_gone = true;
                tracing::info!(call = %id, party = b.party.0, "the agent hung up; the citizen waits for the transfer's target");
                true
            }
            None => false,
        }
    }

    /// The call's blind transfer, if `pid` is its target: taken off the call (it is settled).
    fn take_blind(&mut self, id: CallId, pid: PartyId) -> Option<BlindTransfer> {
        let conf = &mut self.calls.get_mut(&id)?.conference;
        let b = conf.blind.filter(|b| b.party == pid)?;
        conf.blind = None;
        Some(b)
    }

    /// A party answered: if it is a blind transfer's target, it takes the call over.
    pub(crate) fn blind_target_answered(&mut self, id: CallId, pid: PartyId, now: Instant) {
        let Some(b) = self.take_blind(id, pid) else {
            return;
        };
        if b.agent_gone {
            self.agent_leaves(id, pid, true, now);
        } else {
            self.notify_refer_result(id, ReferredOn::CallLeg, 200, now);
            if let Err(e) = self.hand_over(id, pid.0, now) {
                tracing::info!(error = %e, "blind transfer: hand-over failed");
            }
        }
    }

    /// A party left without answering: if it was a blind transfer's target, the phone is told
    /// (it keeps the citizen), or — its agent gone — the citizen goes back to their queue.
    pub(crate) fn blind_target_failed(&mut self, id: CallId, pid: PartyId, now: Instant) {
        let Some(b) = self.take_blind(id, pid) else {
            return;
        };
        if !b.agent_gone {
            self.notify_refer_result(id, ReferredOn::CallLeg, 480, now);
            return;
        }
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        // Nobody is left with the citizen: their agent's silent leg closes, back to the queue.
        let queue = call.queue.clone().unwrap_or_else(|| "general".into());
        let agent = call.agent.take().unwrap_or_default();
        call.on_hold = false;
        call.transfers
            .push(format!("{agent} → no answer → queue {queue}"));
        let mixing = call.conference.mixing;
        let agent_party = call.conference.agent_party;
        if let Some(leg) = call.agent_leg.take() {
            self.forget_leg(&leg);
        }
        // As a blind transfer to a queue: the caller waits for the next agent.
        self.release_agent_media(id, mixing, agent_party);
        if let Err(e) = self.acd.handle_call_ended(&id, now) {
            tracing::debug!(error = %e, "ACD: the transferring agent's end");
        }
        tracing::warn!(call = %id, %queue, "blind transfer unanswered: back to the queue");
        self.enqueue(id, queue, now);
        self.drain_acd(now);
    }
}
