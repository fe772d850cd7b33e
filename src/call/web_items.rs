//! Internet requests as the ACD's web work items, seen from the signaling core: the shell
//! hands in a registered request, an agent's accept or decline from the desk, and what became
//! of the ticket; the ACD decides who is offered what. Nothing here speaks SIP: a web item
//! never rings a phone, the desk shows it from the ACD's snapshot.

use std::sync::Arc;
use std::time::Instant;

use crate::acd::core::{AcdError, ItemOutput};
use crate::acd::model::AgentId;
use crate::call::engine::CallEngine;

/// Where a web item's ticket stands, as far as the ACD cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketStage {
    /// Registered; nobody at the hotline has responded yet: the item waits or is offered.
    Received,
    /// Accepted (C13's first response): held by whoever accepted it.
    Accepted,
    /// Handled (answered, dispatched, refused, linked, closed…): off every desk.
    Beyond,
}

impl CallEngine {
    /// A registered internet request waits for an agent; C13's clock runs from `t0` (its
    /// receipt, earlier than `now` after a restart). Answers the queue it went to.
    pub fn web_item_queued(
        &mut self,
        item: &str,
        request_type: &str,
        content: &str,
        t0: Instant,
        now: Instant,
    ) -> Result<String, AcdError> {
        let queue = self
            .acd_files
            .web_queue_for(request_type, content)
            .map(str::to_string)
            .ok_or_else(|| AcdError::UnknownQueue(self.acd_files.web.default_queue.clone()))?;
        let result = self
            .acd
            .handle_item_queued(Arc::from(item), &queue, t0, now);
        self.drain_acd(now);
        result.map(|()| queue)
    }

    /// The agent accepted the item offered on their desk.
    pub fn web_item_accepted(
        &mut self,
        item: &str,
        agent: &str,
        now: Instant,
    ) -> Result<(), AcdError> {
        let queue = self.acd.item_queue(item).map(|q| q.to_string());
        let result = self.acd.handle_item_accepted(item, agent, now);
        if result.is_ok() {
            let activity = crate::stats::activity::AgentActivity {
                agent: agent.to_string(),
                at: self.wall(now),
                kind: crate::stats::activity::ActivityKind::WebItem {
                    item: item.to_string(),
                },
                call: None,
                queue,
            };
            self.out
                .push_back(crate::call::output::Output::AgentActivity(Box::new(
                    activity,
                )));
        }
        self.drain_acd(now);
        result
    }

    /// The agent passed the item on: it goes to the next agent.
    pub fn web_item_declined(
        &mut self,
        item: &str,
        agent: &str,
        now: Instant,
    ) -> Result<(), AcdError> {
        let result = self.acd.handle_item_declined(item, agent, now);
        self.drain_acd(now);
        result
    }

    /// The item's ticket changed: an item handled elsewhere leaves the queue or the desk, one
    /// handled by its agent frees their capacity. Items the ACD does not know are ignored
    /// (phone tickets, or requests already done).
    pub fn web_item_ticket_changed(&mut self, item: &str, stage: TicketStage, now: Instant) {
        let held = self.acd.item_is_accepted(item);
        let known = self.acd.item_queue(item).is_some();
        let result = match (known, held, stage) {
            (false, _, _) | (true, false, TicketStage::Received) => Ok(()),
            (true, true, TicketStage::Received | TicketStage::Accepted) => Ok(()),
            (true, false, _) => self.acd.handle_item_withdrawn(item, now),
            (true, true, TicketStage::Beyond) => self.acd.handle_item_done(item, now),
        };
        if let Err(e) = result {
            tracing::warn!(ticket = item, error = %e, "web item update refused");
        }
        self.drain_acd(now);
    }

    /// The agent who holds (or is offered) a web item.
    pub fn web_item_agent(&self, item: &str) -> Option<&AgentId> {
        self.acd.item_agent(item)
    }

    /// Logs what the ACD decided for web items; the desks and the wallboard read the ACD's
    /// snapshot, so nothing else is sent anywhere.
    pub(crate) fn drain_items(&mut self) {
        while let Some(out) = self.acd.poll_item_output() {
            match out {
                ItemOutput::OfferItem {
                    item, agent, queue, ..
                } => tracing::info!(ticket = %item, %agent, %queue, "web item offered"),
                ItemOutput::CancelItemOffer {
                    item,
                    agent,
                    reason,
                } => {
                    tracing::info!(ticket = %item, %agent, reason = reason.as_str(), "web item offer withdrawn")
                }
                ItemOutput::ItemAccepted {
                    item,
                    agent,
                    queue,
                    wait,
                } => {
                    tracing::info!(ticket = %item, %agent, %queue, wait_s = wait.as_secs(), "web item accepted")
                }
                ItemOutput::ItemWaitExceeded {
                    item,
                    queue,
                    waited,
                } => {
                    tracing::warn!(ticket = %item, %queue, waited_s = waited.as_secs(), "web item waits past its alarm")
                }
                ItemOutput::ItemExpanded { item, queue, step } => {
                    tracing::debug!(ticket = %item, %queue, step, "web item widened")
                }
            }
        }
    }
}
