//! Web items seen from outside and carried through a reload: the web queues' wallboard view,
//! the structural self-check the tests run, and the carry-over of items when `reconfigure`
//! replaces the tables (the same rules as calls: an item keeps its t₀, its place and, where
//! its agent stays able to hold it, its offer or acceptance).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::items::{ItemCancelReason, ItemKey, ItemOutput, ItemRt, ItemSlot, ItemStatus};
use super::snapshot::StateCounts;
use super::{Acd, AgentIx, CallKey, Timer};
use crate::acd::model::AgentState;

/// One web queue on the wallboard (`web…` keys of `GET /api/wallboard`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebQueueSnapshot {
    pub name: Arc<str>,
    /// Items waiting for an offer.
    pub waiting: usize,
    /// Items on an agent's desk, not yet accepted.
    pub offered: usize,
    /// Items accepted and not yet done.
    pub accepted: usize,
    /// The receipt of the oldest item not yet accepted (waiting or offered): the longest
    /// web wait is measured from it.
    pub oldest_t0: Option<Instant>,
    /// The longest current wait of an item not yet accepted.
    pub longest_wait: Option<Duration>,
    /// The agents holding the queue's skill, by state.
    pub agents: StateCounts,
    /// Whether the queue's "nobody logged in" alarm is up.
    pub unstaffed: bool,
    /// The items not yet accepted (waiting or offered), oldest first, with their wait: the
    /// wallboard lists them.
    pub items: Vec<(ItemKey, Duration)>,
}

impl<C: CallKey> Acd<C> {
    pub(super) fn web_snapshot(&self, now: Instant) -> Vec<WebQueueSnapshot> {
        let mut out: Vec<Option<WebQueueSnapshot>> = self
            .queues
            .iter()
            .map(|q| {
                q.web.as_ref().map(|w| WebQueueSnapshot {
                    name: q.name.clone(),
                    waiting: w.line.len(),
                    offered: w.offered,
                    accepted: 0,
                    oldest_t0: None,
                    longest_wait: None,
                    agents: StateCounts::default(),
                    unstaffed: q.alarm,
                    items: Vec::new(),
                })
            })
            .collect();
        for it in self.items.slots.iter().flatten() {
            let Some(Some(q)) = out.get_mut(it.queue as usize) else {
                continue;
            };
            if let ItemStatus::Accepted { .. } = it.status {
                q.accepted += 1;
                continue;
            }
            q.oldest_t0 = Some(q.oldest_t0.map_or(it.t0, |t| t.min(it.t0)));
            q.items.push((it.id.clone(), Self::waited(it.t0, now)));
        }
        for q in out.iter_mut().flatten() {
            q.longest_wait = q.oldest_t0.map(|t0| Self::waited(t0, now));
            q.items.sort_by_key(|it| std::cmp::Reverse(it.1));
        }
        for a in self
            .agents
            .iter()
            .filter(|a| !(a.retired && matches!(a.state, AgentState::LoggedOut)))
        {
            for &q in &a.web.staffs {
                if let Some(Some(s)) = out.get_mut(q as usize) {
                    s.agents.add(a.state.kind(), a.registered);
                }
            }
        }
        out.into_iter().flatten().collect()
    }

    /// The items' part of [`Acd::check_invariants`]: every offer held by exactly its agent,
    /// loads within capacity, the lines exactly the waiting items, and no waiting item with
    /// an agent it may be offered to.
    pub(super) fn check_item_invariants(&self) -> Result<(), String> {
        let mut held = vec![0u32; self.agents.len()];
        let mut waiting = 0;
        let mut offered = vec![0usize; self.queues.len()];
        for (slot, it) in self.items.slots.iter().enumerate() {
            let Some(it) = it else { continue };
            let slot = slot as ItemSlot;
            if self.items.ix.get(&it.id) != Some(&slot) {
                return Err(format!("item {} not indexed", it.id));
            }
            let Some(w) = self.queues[it.queue as usize].web.as_ref() else {
                return Err(format!("item {} in a voice queue", it.id));
            };
            match it.status {
                ItemStatus::Waiting => {
                    waiting += 1;
                    if !w.line.contains(&(it.t0, it.seq, slot)) {
                        return Err(format!("item {} waiting but not in its line", it.id));
                    }
                    if let Some(&(_, _, a)) = w
                        .cands
                        .iter()
                        .take_while(|(s, _, _)| *s <= it.stage)
                        .find(|&&(_, _, a)| self.web_eligible(a))
                    {
                        return Err(format!(
                            "item {} waits while {} may take it",
                            it.id, self.agents[a as usize].id
                        ));
                    }
                }
                ItemStatus::Offered { agent, until } => {
                    offered[it.queue as usize] += 1;
                    let ag = &self.agents[agent as usize];
                    if ag.web.offer != Some(slot) {
                        return Err(format!(
                            "item {} offered to {} who has not got it",
                            it.id, ag.id
                        ));
                    }
                    if !self.timers.contains(&(until, Timer::ItemOffer(slot))) {
                        return Err(format!("item {} offered without a timer", it.id));
                    }
                    if ag.retired
                        || matches!(
                            ag.state,
                            AgentState::LoggedOut
                                | AgentState::NotReady { .. }
                                | AgentState::Assisting { .. }
                        )
                    {
                        return Err(format!("item {} offered to unavailable {}", it.id, ag.id));
                    }
                    if !w.cands.iter().any(|&(s, _, a)| a == agent && s <= it.stage) {
                        return Err(format!("item {} offered to unskilled {}", it.id, ag.id));
                    }
                }
                ItemStatus::Accepted { agent } => held[agent as usize] += 1,
            }
        }
        for (i, a) in self.agents.iter().enumerate() {
            if a.web.held != held[i] {
                return Err(format!(
                    "agent {} holds {} items, counted {}",
                    a.id, held[i], a.web.held
                ));
            }
            if let Some(slot) = a.web.offer {
                let mine = matches!(self.items.get(slot).map(|it| it.status),
                    Some(ItemStatus::Offered { agent, .. }) if agent as usize == i);
                if !mine {
                    return Err(format!("agent {} has an offer that is not theirs", a.id));
                }
                if a.web.held >= u32::from(a.web.capacity) {
                    return Err(format!("agent {} offered an item beyond capacity", a.id));
                }
            }
        }
        let lined: usize = self
            .queues
            .iter()
            .filter_map(|q| q.web.as_ref())
            .map(|w| w.line.len())
            .sum();
        if lined != waiting {
            return Err(format!("{lined} items lined, {waiting} waiting"));
        }
        for (q, n) in offered.iter().enumerate() {
            if let Some(w) = self.queues[q].web.as_ref() {
                if w.offered != *n {
                    return Err(format!(
                        "queue {} counts {} offered, holds {n}",
                        self.queues[q].name, w.offered
                    ));
                }
            }
        }
        Ok(())
    }

    /// Moves `old`'s items into the freshly built tables (agents already mapped and their
    /// states restored): accepted items stay with their agent (retired or not); an offer
    /// stays where its agent may still hold it, else it is cancelled; the rest wait. An
    /// item whose queue is gone moves to `[web] default_queue`; with no web queue left, or
    /// accepted by an agent who is gone, it leaves the ACD and is reported. Returns the
    /// items to line up (in their old order) and the dropped ones.
    pub(super) fn carry_items(
        &mut self,
        old: &mut Acd<C>,
        map: &[Option<AgentIx>],
        now: Instant,
    ) -> (Vec<ItemSlot>, Vec<ItemKey>) {
        let mut olds: Vec<ItemRt> = old
            .items
            .slots
            .iter_mut()
            .filter_map(Option::take)
            .collect();
        // Accepted first (they fill capacity before offers are judged), then by arrival.
        olds.sort_by_key(|it| (!matches!(it.status, ItemStatus::Accepted { .. }), it.seq));
        let default = self
            .queue_ix
            .get(&self.items.default_queue)
            .copied()
            .filter(|&q| self.queues[q as usize].web.is_some());
        let (mut to_line, mut dropped) = (Vec::new(), Vec::new());
        for it in olds {
            let q = self
                .queue_ix
                .get(&*old.queues[it.queue as usize].name)
                .copied()
                .filter(|&q| self.queues[q as usize].web.is_some())
                .or(default);
            let new_agent = |a: AgentIx| map.get(a as usize).copied().flatten();
            // The offer's agent as the desk knows them (from the old tables).
            let cancel = match it.status {
                ItemStatus::Offered { agent, .. } => {
                    old.agents
                        .get(agent as usize)
                        .map(|a| ItemOutput::CancelItemOffer {
                            item: it.id.clone(),
                            agent: a.id.clone(),
                            reason: ItemCancelReason::Reconfigured,
                        })
                }
                _ => None,
            };
            let Some(q) = q else {
                self.items.outputs.extend(cancel);
                dropped.push(it.id);
                continue;
            };
            let slot = self.items.slots.len() as ItemSlot;
            let (stage, stage_timer) = self.stage_at(q, it.t0, now);
            let status = match it.status {
                ItemStatus::Accepted { agent } => match new_agent(agent) {
                    Some(a) => {
                        self.agents[a as usize].web.held += 1;
                        ItemStatus::Accepted { agent: a }
                    }
                    None => {
                        dropped.push(it.id);
                        continue;
                    }
                },
                ItemStatus::Offered { agent, until } => {
                    let keep = new_agent(agent).filter(|&a| {
                        self.web_eligible(a)
                            && self.agents[a as usize]
                                .web
                                .stage_in
                                .iter()
                                .any(|&(wq, from)| wq == q && from <= stage)
                    });
                    match keep {
                        Some(a) => {
                            self.agents[a as usize].web.offer = Some(slot);
                            if let Some(w) = self.queues[q as usize].web.as_mut() {
                                w.offered += 1;
                            }
                            self.timers.insert((until, Timer::ItemOffer(slot)));
                            ItemStatus::Offered { agent: a, until }
                        }
                        None => {
                            self.items.outputs.extend(cancel);
                            to_line.push(slot);
                            ItemStatus::Waiting
                        }
                    }
                }
                ItemStatus::Waiting => {
                    to_line.push(slot);
                    ItemStatus::Waiting
                }
            };
            let accepted = matches!(status, ItemStatus::Accepted { .. });
            let (stage_timer, alarm_timer) = if accepted {
                (None, None)
            } else {
                let alarm = it
                    .alarm_timer
                    .map(|_| (it.t0 + self.items.alarm_after).max(now));
                (stage_timer, alarm)
            };
            if let Some(t) = stage_timer {
                self.timers.insert((t, Timer::ItemStage(slot)));
            }
            if let Some(t) = alarm_timer {
                self.timers.insert((t, Timer::ItemAlarm(slot)));
            }
            let tried = it
                .tried
                .iter()
                .filter_map(|&(a, n)| new_agent(a).map(|a| (a, n)))
                .collect();
            self.items.ix.insert(it.id.clone(), slot);
            self.items.slots.push(Some(ItemRt {
                id: it.id,
                queue: q,
                t0: it.t0,
                seq: it.seq,
                stage: if accepted { 0 } else { stage },
                status,
                stage_timer,
                alarm_timer,
                tried,
            }));
        }
        self.items.seq = old.items.seq;
        // Anything the old core had not handed out yet comes first.
        let mut pending = std::mem::take(&mut old.items.outputs);
        pending.append(&mut self.items.outputs);
        self.items.outputs = pending;
        (to_line, dropped)
    }
}
