//! Blind transfer out of the hotline (C12: an urgent request linked to 110, 119, 120, 122 or a
//! utility hotline): the agent lets go, and the caller's leg is bridged to a new leg through
//! the configured gateway, still recorded in the same file. Only the numbers configured in
//! `[transfer.numbers]` can be dialled, so no desktop or softphone can open a trunk. If the
//! outside number fails, the caller goes back to their queue: a person still answers.

use std::time::Instant;

use crate::call::agent_leg::Party;
use crate::call::engine::CallEngine;
use crate::call::session::CallId;
use crate::call::transfer::TransferError;

impl CallEngine {
    /// The number dialled for `target`, if it is an outside target we may call.
    pub(crate) fn external_number(&self, target: &str) -> Option<&str> {
        self.cfg.transfer_gateway?;
        self.cfg.transfer_numbers.get(target).map(String::as_str)
    }

    /// Whether `target` names an outside number (configured or not): digits, or a name
    /// listed in `[transfer.numbers]`.
    pub(crate) fn looks_external(&self, target: &str) -> bool {
        self.cfg.transfer_numbers.contains_key(target)
            || (!target.is_empty() && target.bytes().all(|b| b.is_ascii_digit()))
    }

    /// Dials `target` through the gateway for call `id`, whose agent leg is already gone.
    pub(crate) fn dial_external(
        &mut self,
        id: CallId,
        target: &str,
        now: Instant,
    ) -> Result<(), TransferError> {
        let Some(number) = self.external_number(target).map(str::to_string) else {
            return Err(TransferError::External(target.to_string()));
        };
        let caller = self
            .calls
            .get(&id)
            .map(|c| c.caller.expose().to_string())
            .ok_or_else(|| TransferError::UnknownCall(id.to_string()))?;
        // The emergency service sees the citizen's number, not ours.
        let from = if caller.is_empty() {
            "anonymous".into()
        } else {
            caller
        };
        let party = Party::External {
            target: target.to_string(),
        };
        let Some(leg) = self.gateway_target(&number, party, from) else {
            return Err(TransferError::External(target.to_string()));
        };
        if self.start_leg(id, leg, now).is_ok() {
            // The caller hears hold music until the outside number answers.
            let hold = self.menus.queue_audio().hold().as_str().to_string();
            self.play_loop(id, vec![hold]);
            Ok(())
        } else {
            self.external_failed(id, "could not send the INVITE", now);
            Ok(())
        }
    }

    /// The outside number did not answer: back to the caller's queue, noted on the record.
    pub(crate) fn external_failed(&mut self, id: CallId, why: &str, now: Instant) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let queue = call.queue.clone().unwrap_or_else(|| "general".into());
        tracing::warn!(call = %call.id, %why, %queue, "external transfer failed: back to the queue");
        call.transfers
            .push(format!("failed ({why}) → queue {queue}"));
        self.enqueue(id, queue, now);
    }
}
