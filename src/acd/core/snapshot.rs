//! What the wallboard shows, taken at an instant: per queue the calls waiting, the longest
//! current wait and its agents by state; per agent its state and time in it. Also the
//! structural self-check the property tests run after every step.

use std::cmp::Reverse;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Acd, AgentIx, CallKey, CallStatus, Timer};
use crate::acd::model::{AgentId, AgentState, AgentStateKind};

/// How many agents are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateCounts {
    pub logged_out: u32,
    /// Ready with a registered phone: available for a call.
    pub ready: u32,
    /// Ready on the desk but with no registered phone: nobody can reach them, so they are
    /// not counted as available.
    pub ready_no_phone: u32,
    pub not_ready: u32,
    pub reserved: u32,
    pub talking: u32,
    /// On someone else's call (consult, conference, interpreter): busy, like talking.
    pub assisting: u32,
    pub wrap_up: u32,
}

impl StateCounts {
    pub(super) fn add(&mut self, kind: AgentStateKind, registered: bool) {
        let n = match kind {
            AgentStateKind::LoggedOut => &mut self.logged_out,
            AgentStateKind::Ready if !registered => &mut self.ready_no_phone,
            AgentStateKind::Ready => &mut self.ready,
            AgentStateKind::NotReady => &mut self.not_ready,
            AgentStateKind::Reserved => &mut self.reserved,
            AgentStateKind::Talking => &mut self.talking,
            AgentStateKind::Assisting => &mut self.assisting,
            AgentStateKind::WrapUp => &mut self.wrap_up,
        };
        *n += 1;
    }
}

/// One queue on the wallboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSnapshot<C> {
    pub name: Arc<str>,
    /// Calls waiting for an agent, in queue order, with their wait so far.
    pub waiting: Vec<(C, Duration)>,
    /// Calls whose agent's phone is ringing.
    pub ringing: usize,
    /// The longest current wait of a call not yet answered (waiting or ringing).
    pub longest_wait: Option<Duration>,
    /// The agents holding the queue's skill, by state.
    pub agents: StateCounts,
    /// Whether the queue's "nobody logged in" alarm is up.
    pub unstaffed: bool,
    /// Places kept for callers who chose to be called back (not on the line, so not in
    /// `waiting` nor in `longest_wait`).
    pub kept: usize,
}

/// One agent on the wallboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSnapshot<C> {
    pub id: AgentId,
    pub name: String,
    pub state: AgentState<C>,
    pub in_state: Duration,
    /// Time left in wrap-up before the agent is ready again by itself.
    pub wrap_up_left: Option<Duration>,
    pub registered: bool,
    /// On a call the ACD did not place.
    pub phone_busy: bool,
    /// Web items accepted and not yet done.
    pub web_items: u32,
    /// The web item on the agent's desk waiting for accept or decline.
    pub web_offer: Option<super::ItemKey>,
    /// How many web items the agent may hold at once.
    pub web_capacity: u8,
    /// The web items the agent accepted and has not finished, oldest receipt first.
    pub web_held: Vec<super::ItemKey>,
    /// The voice queues whose staffing counts this agent (the wallboard filters by them).
    pub queues: Vec<Arc<str>>,
}

/// The whole ACD at an instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot<C> {
    /// The voice queues (calls).
    pub queues: Vec<QueueSnapshot<C>>,
    pub agents: Vec<AgentSnapshot<C>>,
    /// Every agent, by state.
    pub totals: StateCounts,
    /// The web queues (internet requests as work items).
    pub web_queues: Vec<super::WebQueueSnapshot>,
    /// When a web item's wait raises the wallboard's alarm (`[web] alarm_after`).
    pub web_alarm_after: Duration,
}

impl<C: CallKey> Acd<C> {
    /// The wallboard's view at `now` (O(calls + agents); for a refresh every second or so).
    pub fn snapshot(&self, now: Instant) -> Snapshot<C> {
        let mut queues: Vec<QueueSnapshot<C>> = self
            .queues
            .iter()
            .map(|q| QueueSnapshot {
                name: q.name.clone(),
                waiting: q
                    .lines
                    .values()
                    .flatten()
                    .filter_map(|&(t0, _, slot)| {
                        self.call(slot)
                            .filter(|c| !c.kept)
                            .map(|c| (c.id.clone(), Self::waited(t0, now)))
                    })
                    .collect(),
                ringing: 0,
                longest_wait: None,
                agents: StateCounts::default(),
                unstaffed: q.alarm,
                kept: 0,
            })
            .collect();
        for c in self.calls.iter().flatten() {
            let q = &mut queues[c.queue as usize];
            if matches!(c.status, CallStatus::Talking { .. }) {
                continue;
            }
            if matches!(c.status, CallStatus::Ringing { .. }) {
                q.ringing += 1;
            }
            if c.kept {
                q.kept += usize::from(matches!(c.status, CallStatus::Waiting { .. }));
                continue;
            }
            let w = Self::waited(c.t0, now);
            q.longest_wait = Some(q.longest_wait.map_or(w, |l| l.max(w)));
        }
        // Each agent's accepted items, oldest receipt first, in one pass over the items.
        let mut held: std::collections::HashMap<AgentIx, Vec<(Instant, super::ItemKey)>> =
            std::collections::HashMap::new();
        for it in self.items.slots.iter().flatten() {
            if let super::items::ItemStatus::Accepted { agent } = it.status {
                held.entry(agent).or_default().push((it.t0, it.id.clone()));
            }
        }
        let mut totals = StateCounts::default();
        let agents = self
            .agents
            .iter()
            .enumerate()
            .filter(|(_, a)| !(a.retired && matches!(a.state, AgentState::LoggedOut)))
            .map(|(ix, a)| {
                totals.add(a.state.kind(), a.registered);
                for &q in &a.staffs {
                    queues[q as usize].agents.add(a.state.kind(), a.registered);
                }
                AgentSnapshot {
                    queues: a
                        .staffs
                        .iter()
                        .map(|&q| self.queues[q as usize].name.clone())
                        .collect(),
                    id: a.id.clone(),
                    name: a.name.clone(),
                    state: a.state.clone(),
                    in_state: now.saturating_duration_since(a.since),
                    wrap_up_left: match a.state {
                        AgentState::WrapUp { until, .. } => {
                            Some(until.saturating_duration_since(now))
                        }
                        _ => None,
                    },
                    registered: a.registered,
                    phone_busy: a.phone_busy,
                    web_items: a.web.held,
                    web_offer: a
                        .web
                        .offer
                        .and_then(|s| self.items.get(s))
                        .map(|it| it.id.clone()),
                    web_capacity: a.web.capacity,
                    web_held: {
                        let mut h = held.remove(&(ix as AgentIx)).unwrap_or_default();
                        h.sort();
                        h.into_iter().map(|(_, id)| id).collect()
                    },
                }
            })
            .collect();
        // Web queues have their own view; the calls' list stays as it always was.
        let mut is_web = self.queues.iter().map(|q| q.web.is_some());
        queues.retain(|_| !is_web.next().unwrap_or(false));
        Snapshot {
            queues,
            agents,
            totals,
            web_queues: self.web_snapshot(now),
            web_alarm_after: self.items.alarm_after,
        }
    }

    /// The routing pools' names and sizes (for `hotline check` and debugging).
    pub fn pool_sizes(&self) -> Vec<(&str, usize)> {
        self.pool_names
            .iter()
            .map(String::as_str)
            .zip(self.pools.iter().map(|p| p.len()))
            .collect()
    }

    /// Checks that the indexes agree with the states: every offer is held by exactly one
    /// reserved agent and the other way round, an assisting agent is neither its call's
    /// agent nor offered a web item (its call may be unknown: see [`super::assist`]), the pools hold exactly the available agents,
    /// the lines exactly the waiting calls, and every timer belongs to something live.
    /// For tests; O(calls + agents × pools).
    #[doc(hidden)]
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut reserved_by = std::collections::HashMap::new();
        for (i, a) in self.agents.iter().enumerate() {
            let i = i as u32;
            let avail = self.available(i);
            if avail != a.indexed.is_some() {
                return Err(format!(
                    "agent {} available={avail} but indexed={:?}",
                    a.id, a.indexed
                ));
            }
            for &(p, level) in &a.pools {
                let present = a
                    .indexed
                    .is_some_and(|k| self.pools[p as usize].contains(&(Reverse(level), k, i)));
                if present != avail {
                    return Err(format!(
                        "agent {} pool {} membership {present}",
                        a.id, self.pool_names[p as usize]
                    ));
                }
            }
            if let AgentState::Reserved { call } = &a.state {
                let slot = self
                    .call_ix
                    .get(call)
                    .ok_or(format!("agent {} reserved for unknown call {call:?}", a.id))?;
                reserved_by.insert(*slot, i);
            }
            if let AgentState::Talking { call } = &a.state {
                let slot = self
                    .call_ix
                    .get(call)
                    .ok_or(format!("agent {} talking on unknown call", a.id))?;
                if self.call(*slot).map(|c| c.status) != Some(CallStatus::Talking { agent: i }) {
                    return Err(format!("agent {} talking but call is not theirs", a.id));
                }
            }
            if let AgentState::Assisting { call } = &a.state {
                // Its call may be forgotten (the call room carries it on); if the ACD
                // still knows it, the assistant is not its agent.
                let own = self
                    .call_ix
                    .get(call)
                    .and_then(|&s| self.call(s))
                    .map(|c| c.status)
                    == Some(CallStatus::Talking { agent: i });
                if own {
                    return Err(format!("agent {} assisting on their own call", a.id));
                }
                if a.web.offer.is_some() {
                    return Err(format!("agent {} offered a web item while assisting", a.id));
                }
            }
            if let AgentState::WrapUp { until, .. } = a.state {
                if !self.timers.contains(&(until, Timer::WrapUp(i))) {
                    return Err(format!("agent {} in wrap-up without a timer", a.id));
                }
            }
        }
        let pooled: usize = self.pools.iter().map(|p| p.len()).sum();
        let expected: usize = self
            .agents
            .iter()
            .filter(|a| a.indexed.is_some())
            .map(|a| a.pools.len())
            .sum();
        if pooled != expected {
            return Err(format!("pools hold {pooled} entries, expected {expected}"));
        }
        let mut lined = HashSet::new();
        for (qi, q) in self.queues.iter().enumerate() {
            let n: usize = q.lines.values().map(|s| s.len()).sum();
            if n != q.waiting || q.lines.values().any(|s| s.is_empty()) {
                return Err(format!(
                    "queue {} counts {} waiting, holds {n}",
                    q.name, q.waiting
                ));
            }
            for (&(Reverse(prio), lane), set) in &q.lines {
                for &(t0, seq, slot) in set {
                    let c = self
                        .call(slot)
                        .ok_or(format!("queue {} holds a dead slot", q.name))?;
                    if c.queue as usize != qi
                        || c.t0 != t0
                        || c.seq != seq
                        || c.priority != prio
                        || c.status != (CallStatus::Waiting { lane })
                    {
                        return Err(format!("queue {} holds {:?} inconsistently", q.name, c.id));
                    }
                    lined.insert(slot);
                }
            }
        }
        for (slot, c) in self.calls.iter().enumerate() {
            let Some(c) = c else { continue };
            let slot = slot as u32;
            if self.call_ix.get(&c.id) != Some(&slot) {
                return Err(format!("call {:?} not indexed", c.id));
            }
            match c.status {
                CallStatus::Waiting { .. } if !lined.contains(&slot) => {
                    return Err(format!("call {:?} waiting but not in a line", c.id))
                }
                CallStatus::Ringing { agent, until } => {
                    if reserved_by.get(&slot) != Some(&agent) {
                        return Err(format!(
                            "call {:?} rings an agent not reserved for it",
                            c.id
                        ));
                    }
                    if !self.timers.contains(&(until, Timer::Ring(slot))) {
                        return Err(format!("call {:?} rings without a ring timer", c.id));
                    }
                    if !self.agents[agent as usize].registered {
                        return Err(format!("call {:?} rings an unregistered agent", c.id));
                    }
                }
                _ => {}
            }
        }
        let ringing = self
            .calls
            .iter()
            .flatten()
            .filter(|c| matches!(c.status, CallStatus::Ringing { .. }))
            .count();
        if ringing != reserved_by.len() {
            return Err(format!(
                "{ringing} calls ringing but {} agents reserved",
                reserved_by.len()
            ));
        }
        self.check_item_invariants()?;
        for &(_, t) in &self.timers {
            let live = match t {
                Timer::ItemOffer(s) | Timer::ItemStage(s) | Timer::ItemAlarm(s) => {
                    self.items.get(s).is_some()
                }
                Timer::Ring(s) | Timer::Stage(s) | Timer::Deadline(s) => self.call(s).is_some(),
                Timer::WrapUp(a) => {
                    matches!(self.agents[a as usize].state, AgentState::WrapUp { .. })
                }
                Timer::Resume(a) => self.agents[a as usize].paused_until.is_some(),
            };
            if !live {
                return Err(format!("stale timer {t:?}"));
            }
        }
        Ok(())
    }
}
