//! Web work items: internet requests (web page, app, mini-program, public account, mailbox)
//! routed like calls (issue 13; 44190 6.2: one intake, one queueing, one routing).
//!
//! An item is a registered ticket waiting for an agent's first response (rule C13: within
//! 3 minutes of the server's receipt, `t0`). It waits in a web queue (`channel = "web"` in
//! `queues.toml`), FIFO by `t0` (queue priority first, as for calls), and is offered on the
//! agent's desk to ONE agent at a time for the queue's `offer_timeout`.
//!
//! Who may be offered an item: an agent who is logged in, not not-ready and not assisting on
//! a colleague's call (ready, being rung, talking and in wrap-up all qualify: a talking
//! agent may take web items, never a second call; being brought onto a colleague's call
//! withdraws a pending offer, accepted items stay counted; no registered phone is needed,
//! items go to the desk), whose skills let them serve the queue at the item's current
//! expansion stage, with no other item offer pending and fewer items in hand than their
//! `web_capacity` (0 = never). Among them: agents not yet tried for this item (declined
//! or timed out) first, then the queue's own skill before each expansion step's, highest
//! level, fewest items in hand, longest idle (since the last item or call ended or they
//! became ready). An offer that times out or is declined goes to the next such agent; the
//! agent's state does not change. Not-ready or logout withdraws a pending offer (the item
//! goes on) but keeps accepted items counted until done: they are tickets the agent holds.
//!
//! Items never touch the call tables, the phone pools or an agent's [`AgentState`], so
//! voice routing is exactly what it was. Their outputs are [`ItemOutput`]s, drained by
//! [`Acd::poll_item_output`] after every input, beside [`Acd::poll_output`]; their timers
//! (offer timeout, expansion, alarm) share [`Acd::poll_timeout`] and
//! [`Acd::handle_timeout`].
//!
//! Invariant kept after every input: no waiting item has an agent it may be offered to.
//!
//! [`AgentState`]: crate::acd::model::AgentState

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Acd, AcdError, AgentIx, CallKey, QueueIx, Timer};
use crate::acd::config::{AcdConfig, QueueConfig};
use crate::acd::model::AgentId;

/// A web item's key: the ticket id (`YYYYMMDD-NNNNNN`), cheap to clone into outputs.
pub type ItemKey = Arc<str>;

pub(super) type ItemSlot = u32;

/// Why an item's offer left an agent's desk (the desk removes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemCancelReason {
    /// The offer waited `offer_timeout`; the item goes to the next agent.
    Timeout,
    /// The agent declined it; it goes to the next agent.
    Declined,
    /// Handled elsewhere (e.g. answered on the ticket page) while offered.
    Withdrawn,
    /// The agent went not-ready (by choice or after a missed ring).
    AgentNotReady,
    /// The agent logged out.
    AgentLoggedOut,
    /// The agent was brought onto a colleague's call (consult, conference, interpreter).
    AgentAssisting,
    /// A reload removed the agent or made them unable to serve the item's queue.
    Reconfigured,
}

impl ItemCancelReason {
    /// Log spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemCancelReason::Timeout => "timeout",
            ItemCancelReason::Declined => "declined",
            ItemCancelReason::Withdrawn => "withdrawn",
            ItemCancelReason::AgentNotReady => "agent_not_ready",
            ItemCancelReason::AgentLoggedOut => "agent_logged_out",
            ItemCancelReason::AgentAssisting => "agent_assisting",
            ItemCancelReason::Reconfigured => "reconfigured",
        }
    }
}

/// What the ACD tells the agent desk, the wallboard and the statistics about web items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemOutput {
    /// Show `item` on `agent`'s desk until `until`; report accept or decline.
    OfferItem {
        item: ItemKey,
        agent: AgentId,
        queue: Arc<str>,
        until: Instant,
    },
    /// Take the offer off `agent`'s desk.
    CancelItemOffer {
        item: ItemKey,
        agent: AgentId,
        reason: ItemCancelReason,
    },
    /// `agent` accepted: the ticket's first response (C13); `wait` is from the receipt.
    ItemAccepted {
        item: ItemKey,
        agent: AgentId,
        queue: Arc<str>,
        wait: Duration,
    },
    /// The item has waited `alarm_after` without being accepted (once per item).
    ItemWaitExceeded {
        item: ItemKey,
        queue: Arc<str>,
        waited: Duration,
    },
    /// The item reached expansion step `step` (1-based) of its queue.
    ItemExpanded {
        item: ItemKey,
        queue: Arc<str>,
        step: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ItemStatus {
    Waiting,
    Offered { agent: AgentIx, until: Instant },
    Accepted { agent: AgentIx },
}

impl ItemStatus {
    pub(super) fn name(&self) -> &'static str {
        match self {
            ItemStatus::Waiting => "waiting",
            ItemStatus::Offered { .. } => "offered",
            ItemStatus::Accepted { .. } => "accepted",
        }
    }
}

#[derive(Debug)]
pub(super) struct ItemRt {
    pub(super) id: ItemKey,
    pub(super) queue: QueueIx,
    pub(super) t0: Instant,
    pub(super) seq: u64,
    pub(super) stage: u8,
    pub(super) status: ItemStatus,
    pub(super) stage_timer: Option<Instant>,
    pub(super) alarm_timer: Option<Instant>,
    /// Agents whose offer of this item timed out or was declined, and how often.
    pub(super) tried: Vec<(AgentIx, u16)>,
}

impl ItemRt {
    pub(super) fn tries(&self, a: AgentIx) -> u16 {
        self.tried
            .iter()
            .find(|(x, _)| *x == a)
            .map_or(0, |(_, n)| *n)
    }
}

/// A web queue's own tables.
#[derive(Debug)]
pub(super) struct WebQueueRt {
    pub(super) offer_timeout: Duration,
    /// Waiting items, FIFO by t₀.
    pub(super) line: BTreeSet<(Instant, u64, ItemSlot)>,
    /// Items on an agent's desk.
    pub(super) offered: usize,
    /// Agents who may serve the queue: (first stage, level, agent), best first.
    pub(super) cands: Vec<(u8, Reverse<u8>, AgentIx)>,
}

impl WebQueueRt {
    pub(super) fn new(q: &QueueConfig) -> Self {
        Self {
            offer_timeout: q.offer_timeout,
            line: BTreeSet::new(),
            offered: 0,
            cands: Vec::new(),
        }
    }
}

/// One agent's web side.
#[derive(Debug, Clone)]
pub(super) struct AgentWeb {
    pub(super) capacity: u8,
    /// Accepted items not yet done.
    pub(super) held: u32,
    pub(super) offer: Option<ItemSlot>,
    /// When the agent's last item was done.
    pub(super) idle_since: Instant,
    /// The web queues the agent may serve, and from which stage on.
    pub(super) stage_in: Vec<(QueueIx, u8)>,
    /// The web queues whose staffing counts this agent.
    pub(super) staffs: Vec<QueueIx>,
    pub(super) counted: bool,
}

impl AgentWeb {
    pub(super) fn new(capacity: u8, now: Instant) -> Self {
        Self {
            capacity,
            held: 0,
            offer: None,
            idle_since: now,
            stage_in: Vec::new(),
            staffs: Vec::new(),
            counted: false,
        }
    }
}

/// Every web item, by slot.
#[derive(Debug)]
pub(super) struct ItemTable {
    pub(super) slots: Vec<Option<ItemRt>>,
    pub(super) free: Vec<ItemSlot>,
    pub(super) ix: HashMap<ItemKey, ItemSlot>,
    pub(super) outputs: VecDeque<ItemOutput>,
    pub(super) seq: u64,
    pub(super) alarm_after: Duration,
    /// `[web] default_queue`: where a reload moves items whose queue is gone.
    pub(super) default_queue: String,
}

impl ItemTable {
    pub(super) fn new(config: &AcdConfig) -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            ix: HashMap::new(),
            outputs: VecDeque::new(),
            seq: 0,
            alarm_after: config.web.alarm_after,
            default_queue: config.web.default_queue.clone(),
        }
    }

    pub(super) fn get(&self, slot: ItemSlot) -> Option<&ItemRt> {
        self.slots.get(slot as usize).and_then(Option::as_ref)
    }

    pub(super) fn get_mut(&mut self, slot: ItemSlot) -> Option<&mut ItemRt> {
        self.slots.get_mut(slot as usize).and_then(Option::as_mut)
    }

    pub(super) fn slot(&self, item: &str) -> Result<ItemSlot, AcdError> {
        self.ix
            .get(item)
            .copied()
            .ok_or_else(|| AcdError::UnknownItem(item.to_string()))
    }
}

impl<C: CallKey> Acd<C> {
    /// The next web item output; drain until `None` after every input (like
    /// [`Acd::poll_output`], which never carries item events).
    #[must_use]
    pub fn poll_item_output(&mut self) -> Option<ItemOutput> {
        self.items.outputs.pop_front()
    }

    /// A web request was registered at `t0` (the server's receipt; earlier than `now` after
    /// a restart, so its 3-minute clock, expansion and alarm keep counting from the
    /// receipt). It waits in `queue` (a web queue, e.g. from
    /// [`AcdConfig::web_queue_for`]) and is offered at once if someone may take it.
    pub fn handle_item_queued(
        &mut self,
        item: ItemKey,
        queue: &str,
        t0: Instant,
        now: Instant,
    ) -> Result<(), AcdError> {
        self.handle_timeout(now);
        let q = *self
            .queue_ix
            .get(queue)
            .ok_or_else(|| AcdError::UnknownQueue(queue.to_string()))?;
        if self.queues[q as usize].web.is_none() {
            return Err(AcdError::NotAWebQueue(queue.to_string()));
        }
        if self.items.ix.contains_key(&item) {
            return Err(AcdError::ItemAlreadyKnown(item.to_string()));
        }
        let (stage, stage_timer) = self.stage_at(q, t0, now);
        let alarm_at = t0 + self.items.alarm_after;
        let alarm_timer = (alarm_at > now).then_some(alarm_at);
        let slot = match self.items.free.pop() {
            Some(s) => s,
            None => {
                self.items.slots.push(None);
                (self.items.slots.len() - 1) as ItemSlot
            }
        };
        self.items.seq += 1;
        let rt = ItemRt {
            id: item.clone(),
            queue: q,
            t0,
            seq: self.items.seq,
            stage,
            status: ItemStatus::Waiting,
            stage_timer,
            alarm_timer,
            tried: Vec::new(),
        };
        if let Some(t) = stage_timer {
            self.timers.insert((t, Timer::ItemStage(slot)));
        }
        match alarm_timer {
            Some(t) => {
                self.timers.insert((t, Timer::ItemAlarm(slot)));
            }
            None => self.items.outputs.push_back(ItemOutput::ItemWaitExceeded {
                item: item.clone(),
                queue: self.queues[q as usize].name.clone(),
                waited: Self::waited(t0, now),
            }),
        }
        self.items.slots[slot as usize] = Some(rt);
        self.items.ix.insert(item, slot);
        self.line_item(slot, now);
        Ok(())
    }

    /// `agent` accepted the item offered on their desk (the ticket's `Accept`: C13's first
    /// response). Refused if the offer is no longer theirs (it timed out and moved on): the
    /// desk tells the agent it was too late.
    pub fn handle_item_accepted(
        &mut self,
        item: &str,
        agent: &str,
        now: Instant,
    ) -> Result<(), AcdError> {
        self.handle_timeout(now);
        let (slot, a) = self.offered_to(item, agent)?;
        self.take_offer(slot);
        let Some(it) = self.items.get_mut(slot) else {
            return Err(AcdError::UnknownItem(item.to_string()));
        };
        it.status = ItemStatus::Accepted { agent: a };
        // Responded to: the clock has stopped, expansion and the alarm are over.
        let timers = [
            it.stage_timer.take().map(|t| (t, Timer::ItemStage(slot))),
            it.alarm_timer.take().map(|t| (t, Timer::ItemAlarm(slot))),
        ];
        let (id, q, t0) = (it.id.clone(), it.queue, it.t0);
        for t in timers.into_iter().flatten() {
            self.timers.remove(&t);
        }
        self.agents[a as usize].web.held += 1;
        self.items.outputs.push_back(ItemOutput::ItemAccepted {
            item: id,
            agent: self.agents[a as usize].id.clone(),
            queue: self.queues[q as usize].name.clone(),
            wait: Self::waited(t0, now),
        });
        self.settle_web(a, now);
        Ok(())
    }

    /// `agent` declined the item on their desk: it goes to the next eligible agent (back to
    /// this one only when nobody else may take it).
    pub fn handle_item_declined(
        &mut self,
        item: &str,
        agent: &str,
        now: Instant,
    ) -> Result<(), AcdError> {
        self.handle_timeout(now);
        let (slot, _) = self.offered_to(item, agent)?;
        self.offer_failed(slot, ItemCancelReason::Declined, now);
        Ok(())
    }

    /// The agent finished an accepted item (answered, dispatched…): their capacity is free
    /// for the next one.
    pub fn handle_item_done(&mut self, item: &str, now: Instant) -> Result<(), AcdError> {
        self.handle_timeout(now);
        let slot = self.items.slot(item)?;
        match self.items.get(slot).map(|it| it.status) {
            Some(ItemStatus::Accepted { .. }) => {
                self.finish_item(slot, now);
                Ok(())
            }
            Some(other) => Err(AcdError::ItemNotAccepted {
                item: item.to_string(),
                status: other.name(),
            }),
            None => Err(AcdError::UnknownItem(item.to_string())),
        }
    }

    /// The item was handled elsewhere (on the ticket page, by a supervisor): waiting, it
    /// leaves its queue; offered, the offer is withdrawn; accepted, it counts as done.
    pub fn handle_item_withdrawn(&mut self, item: &str, now: Instant) -> Result<(), AcdError> {
        self.handle_timeout(now);
        let slot = self.items.slot(item)?;
        let Some(status) = self.items.get(slot).map(|it| it.status) else {
            return Err(AcdError::UnknownItem(item.to_string()));
        };
        match status {
            ItemStatus::Accepted { .. } => self.finish_item(slot, now),
            ItemStatus::Waiting => {
                self.forget_item(slot);
            }
            ItemStatus::Offered { agent, .. } => {
                self.cancel_item_offer(slot, ItemCancelReason::Withdrawn);
                self.forget_item(slot);
                self.settle_web(agent, now);
            }
        }
        Ok(())
    }

    /// The engine became the standby of two (issue 19): the items waiting or offered leave
    /// (the active engine reads them back from the shared store; an offer is withdrawn from
    /// the agent's desk); an item an agent accepted stays until they finish it. Answers how
    /// many left.
    pub fn handle_standby(&mut self, now: Instant) -> usize {
        self.handle_timeout(now);
        let leaving: Vec<ItemKey> = self
            .items
            .ix
            .iter()
            .filter(|(_, slot)| {
                self.items
                    .get(**slot)
                    .is_some_and(|it| !matches!(it.status, ItemStatus::Accepted { .. }))
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in &leaving {
            let _ = self.handle_item_withdrawn(k, now);
        }
        leaving.len()
    }

    /// The web queue an item waits, is offered or is held in.
    pub fn item_queue(&self, item: &str) -> Option<&str> {
        let it = self.items.get(*self.items.ix.get(item)?)?;
        Some(&self.queues[it.queue as usize].name)
    }

    /// Whether an agent has accepted the item (it is a ticket on their desk).
    pub fn item_is_accepted(&self, item: &str) -> bool {
        self.items
            .ix
            .get(item)
            .and_then(|s| self.items.get(*s))
            .is_some_and(|it| matches!(it.status, ItemStatus::Accepted { .. }))
    }

    /// The agent an item is offered to or accepted by.
    pub fn item_agent(&self, item: &str) -> Option<&AgentId> {
        let it = self.items.get(*self.items.ix.get(item)?)?;
        match it.status {
            ItemStatus::Offered { agent, .. } | ItemStatus::Accepted { agent } => {
                Some(&self.agents[agent as usize].id)
            }
            ItemStatus::Waiting => None,
        }
    }

    /// The item and agent of a pending offer, or why not.
    fn offered_to(&self, item: &str, agent: &str) -> Result<(ItemSlot, AgentIx), AcdError> {
        let slot = self.items.slot(item)?;
        let a = self.agent(agent)?;
        match self.items.get(slot).map(|it| it.status) {
            Some(ItemStatus::Offered { agent: x, .. }) if x == a => Ok((slot, a)),
            Some(other) => Err(AcdError::ItemNotOffered {
                item: item.to_string(),
                agent: agent.to_string(),
                status: match other {
                    ItemStatus::Offered { .. } => "offered to another agent",
                    s => s.name(),
                },
            }),
            None => Err(AcdError::UnknownItem(item.to_string())),
        }
    }
}
