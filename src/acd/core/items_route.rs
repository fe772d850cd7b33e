//! Web items' routing decisions and bookkeeping: who may be offered an item, which item an
//! agent who became free gets, offers and their end, the items' timers and the web queues'
//! staffing. The rules are in [`super::items`].

use std::cmp::Reverse;
use std::time::Instant;

use super::items::{ItemCancelReason, ItemOutput, ItemRt, ItemSlot, ItemStatus};
use super::{Acd, AgentIx, CallKey, Timer};
use crate::acd::model::AgentState;

/// Among eligible agents for an item: fewest tries of this item, then the queue's own skill
/// before later stages', highest level, fewest items in hand, longest idle, then by index.
type AgentRank = (u16, u8, Reverse<u8>, u32, Instant, AgentIx);

/// The order of waiting items across web queues: queue priority, receipt, arrival.
type ItemOrder = (Reverse<u8>, Instant, u64);

impl<C: CallKey> Acd<C> {
    /// Whether the agent may be offered a web item now (any queue's). Not while assisting on
    /// someone else's call: that agent is about to be (or is) on the phone for a colleague.
    pub(super) fn web_eligible(&self, a: AgentIx) -> bool {
        let ag = &self.agents[a as usize];
        !ag.retired
            && !matches!(
                ag.state,
                AgentState::LoggedOut | AgentState::NotReady { .. } | AgentState::Assisting { .. }
            )
            && ag.web.offer.is_none()
            && ag.web.held < u32::from(ag.web.capacity)
    }

    /// When the agent's idle time began, for the longest-idle rule: the later of becoming
    /// ready (or ending their last call: wrap-up) and finishing their last item. An agent
    /// being rung or talking is not idle at all (`now`): among equals, the free go first.
    fn web_idle(&self, a: AgentIx, now: Instant) -> Instant {
        let ag = &self.agents[a as usize];
        let since = match ag.state {
            AgentState::Reserved { .. }
            | AgentState::Talking { .. }
            | AgentState::Assisting { .. } => now,
            AgentState::WrapUp { .. } => ag.since,
            _ => ag.idle_since,
        };
        since.max(ag.web.idle_since)
    }

    /// After anything that may change an agent's web side: withdraws a pending offer the
    /// agent may no longer hold, counts web staffing, and offers the agent the oldest item
    /// they may take.
    pub(super) fn settle_web(&mut self, a: AgentIx, now: Instant) {
        let ag = &self.agents[a as usize];
        if let Some(slot) = ag.web.offer {
            let reason = match ag.state {
                _ if ag.retired => Some(ItemCancelReason::Reconfigured),
                AgentState::LoggedOut => Some(ItemCancelReason::AgentLoggedOut),
                AgentState::NotReady { .. } => Some(ItemCancelReason::AgentNotReady),
                AgentState::Assisting { .. } => Some(ItemCancelReason::AgentAssisting),
                _ => None,
            };
            if let Some(reason) = reason {
                // Not the agent's refusal of this item: no try is counted.
                self.cancel_item_offer(slot, reason);
                self.line_item(slot, now);
            }
        }
        self.update_web_staffing(a);
        self.route_web_agent(a, now);
    }

    fn update_web_staffing(&mut self, a: AgentIx) {
        let ag = &mut self.agents[a as usize];
        let counts =
            !ag.retired && ag.web.capacity > 0 && !matches!(ag.state, AgentState::LoggedOut);
        if counts == ag.web.counted {
            return;
        }
        ag.web.counted = counts;
        for i in 0..self.agents[a as usize].web.staffs.len() {
            let q = self.agents[a as usize].web.staffs[i];
            let qr = &mut self.queues[q as usize];
            if counts {
                qr.staffed += 1;
            } else {
                qr.staffed -= 1;
            }
            self.update_alarm(q);
        }
    }

    /// Puts an item (back) in its queue's line and offers it if someone may take it.
    pub(super) fn line_item(&mut self, slot: ItemSlot, now: Instant) {
        let Some(it) = self.items.get_mut(slot) else {
            return;
        };
        it.status = ItemStatus::Waiting;
        let (q, key) = (it.queue, (it.t0, it.seq, slot));
        if let Some(wq) = self.queues[q as usize].web.as_mut() {
            wq.line.insert(key);
        }
        self.route_web_item(slot, now);
    }

    /// Offers a waiting item to the best eligible agent, if any.
    pub(super) fn route_web_item(&mut self, slot: ItemSlot, now: Instant) {
        let Some(it) = self.items.get(slot) else {
            return;
        };
        if it.status != ItemStatus::Waiting {
            return;
        }
        let Some(wq) = self.queues[it.queue as usize].web.as_ref() else {
            return;
        };
        let mut best: Option<AgentRank> = None;
        let mut group = None;
        for &(stage, level, a) in &wq.cands {
            if stage > it.stage {
                break;
            }
            // Candidates come best group first: once an untried agent is found, later
            // groups cannot beat it.
            if group != Some((stage, level)) {
                if best.is_some_and(|b| b.0 == 0) {
                    break;
                }
                group = Some((stage, level));
            }
            if !self.web_eligible(a) {
                continue;
            }
            let held = self.agents[a as usize].web.held;
            let rank = (it.tries(a), stage, level, held, self.web_idle(a, now), a);
            if best.is_none_or(|b| rank < b) {
                best = Some(rank);
            }
        }
        if let Some(rank) = best {
            self.offer_item(slot, rank.5, now);
        }
    }

    /// Offers an agent who may take web items the first waiting item of the web queues they
    /// serve at its current stage: by queue priority, then oldest receipt.
    pub(super) fn route_web_agent(&mut self, a: AgentIx, now: Instant) {
        if !self.web_eligible(a) {
            return;
        }
        let mut best: Option<(ItemOrder, ItemSlot)> = None;
        for &(q, from_stage) in &self.agents[a as usize].web.stage_in {
            let qr = &self.queues[q as usize];
            // The oldest item of a queue has its widest stage: if it cannot go to the
            // agent, no later one can.
            let Some(&(t0, seq, slot)) = qr.web.as_ref().and_then(|w| w.line.first()) else {
                continue;
            };
            if self.items.get(slot).map_or(0, |it| it.stage) < from_stage {
                continue;
            }
            let key = (Reverse(qr.priority), t0, seq);
            if best.as_ref().is_none_or(|(k, _)| key < *k) {
                best = Some((key, slot));
            }
        }
        if let Some((_, slot)) = best {
            self.offer_item(slot, a, now);
        }
    }

    fn offer_item(&mut self, slot: ItemSlot, a: AgentIx, now: Instant) {
        let Some(it) = self.items.get_mut(slot) else {
            return;
        };
        let q = it.queue;
        let Some(wq) = self.queues[q as usize].web.as_mut() else {
            return;
        };
        let until = now + wq.offer_timeout;
        wq.line.remove(&(it.t0, it.seq, slot));
        wq.offered += 1;
        it.status = ItemStatus::Offered { agent: a, until };
        let item = it.id.clone();
        self.agents[a as usize].web.offer = Some(slot);
        self.timers.insert((until, Timer::ItemOffer(slot)));
        self.items.outputs.push_back(ItemOutput::OfferItem {
            item,
            agent: self.agents[a as usize].id.clone(),
            queue: self.queues[q as usize].name.clone(),
            until,
        });
    }

    /// Ends an offer's bookkeeping (timer, the agent's slot, the queue's count). The item is
    /// left `Waiting` but not in its line: the caller lines it up, accepts or forgets it.
    pub(super) fn take_offer(&mut self, slot: ItemSlot) {
        let Some(it) = self.items.get(slot) else {
            return;
        };
        let ItemStatus::Offered { agent, until } = it.status else {
            return;
        };
        self.timers.remove(&(until, Timer::ItemOffer(slot)));
        if let Some(wq) = self.queues[it.queue as usize].web.as_mut() {
            wq.offered -= 1;
        }
        let web = &mut self.agents[agent as usize].web;
        if web.offer == Some(slot) {
            web.offer = None;
        }
        if let Some(it) = self.items.get_mut(slot) {
            it.status = ItemStatus::Waiting;
        }
    }

    /// Takes an offer off the desk and says why.
    pub(super) fn cancel_item_offer(&mut self, slot: ItemSlot, reason: ItemCancelReason) {
        let Some(it) = self.items.get(slot) else {
            return;
        };
        let ItemStatus::Offered { agent, .. } = it.status else {
            return;
        };
        self.items.outputs.push_back(ItemOutput::CancelItemOffer {
            item: it.id.clone(),
            agent: self.agents[agent as usize].id.clone(),
            reason,
        });
        self.take_offer(slot);
    }

    /// The offer timed out or was declined: the item goes to the next agent, and the agent
    /// (now without an offer) may be offered another waiting item.
    pub(super) fn offer_failed(&mut self, slot: ItemSlot, reason: ItemCancelReason, now: Instant) {
        let Some(ItemStatus::Offered { agent, .. }) = self.items.get(slot).map(|it| it.status)
        else {
            return;
        };
        self.cancel_item_offer(slot, reason);
        if let Some(it) = self.items.get_mut(slot) {
            match it.tried.iter_mut().find(|(x, _)| *x == agent) {
                Some((_, n)) => *n = n.saturating_add(1),
                None => it.tried.push((agent, 1)),
            }
        }
        self.line_item(slot, now);
        self.settle_web(agent, now);
    }

    /// An accepted item is done: it leaves the ACD and frees the agent's capacity.
    pub(super) fn finish_item(&mut self, slot: ItemSlot, now: Instant) {
        let Some(it) = self.forget_item(slot) else {
            return;
        };
        if let ItemStatus::Accepted { agent } = it.status {
            let web = &mut self.agents[agent as usize].web;
            web.held = web.held.saturating_sub(1);
            web.idle_since = now;
            self.settle_web(agent, now);
        }
    }

    /// Takes an item out of its line (if waiting), off its desk (if offered), out of the
    /// table, with its timers. An accepted item's agent load is the caller's.
    pub(super) fn forget_item(&mut self, slot: ItemSlot) -> Option<ItemRt> {
        self.take_offer(slot);
        let it = self.items.slots.get_mut(slot as usize)?.take()?;
        if it.status == ItemStatus::Waiting {
            if let Some(wq) = self.queues[it.queue as usize].web.as_mut() {
                wq.line.remove(&(it.t0, it.seq, slot));
            }
        }
        if let Some(t) = it.stage_timer {
            self.timers.remove(&(t, Timer::ItemStage(slot)));
        }
        if let Some(t) = it.alarm_timer {
            self.timers.remove(&(t, Timer::ItemAlarm(slot)));
        }
        self.items.ix.remove(&it.id);
        self.items.free.push(slot);
        Some(it)
    }

    /// Fires an item timer (called from [`Acd::handle_timeout`]).
    pub(super) fn item_timer(&mut self, timer: Timer, now: Instant) {
        match timer {
            Timer::ItemOffer(slot) => self.offer_failed(slot, ItemCancelReason::Timeout, now),
            Timer::ItemStage(slot) => {
                let Some(it) = self.items.get(slot) else {
                    return;
                };
                let (stage, next) = self.stage_at(it.queue, it.t0, now);
                let Some(it) = self.items.get_mut(slot) else {
                    return;
                };
                it.stage = stage;
                it.stage_timer = next;
                let out = ItemOutput::ItemExpanded {
                    item: it.id.clone(),
                    queue: self.queues[it.queue as usize].name.clone(),
                    step: stage as usize,
                };
                if let Some(t) = next {
                    self.timers.insert((t, Timer::ItemStage(slot)));
                }
                self.items.outputs.push_back(out);
                self.route_web_item(slot, now);
            }
            Timer::ItemAlarm(slot) => {
                let Some(it) = self.items.get_mut(slot) else {
                    return;
                };
                it.alarm_timer = None;
                let out = ItemOutput::ItemWaitExceeded {
                    item: it.id.clone(),
                    queue: self.queues[it.queue as usize].name.clone(),
                    waited: Self::waited(it.t0, now),
                };
                self.items.outputs.push_back(out);
            }
            _ => {}
        }
    }
}
