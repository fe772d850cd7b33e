//! Live reconfiguration: a reloaded `agents.toml`/`queues.toml` replaces the queues and the
//! agents without dropping a call. The new tables are built from the config as at start-up,
//! then every live call and every known agent's state is carried over by name.
//!
//! The rules (documented for operators in `docs/RELOAD.md`):
//! - a call keeps its queue, its t₀ (the 15-second clock keeps running) and its place; if its
//!   queue is gone it moves to `general` (mandatory in every config);
//! - an agent who stays keeps their state (with its reason), registration and idle order;
//! - an agent removed while talking (or assisting on a call) finishes the call, is offered
//!   nothing more, and is logged out (and gone at the next reload) when the call (or the
//!   assist) ends; an assisting agent stays assisting on the same call;
//! - an agent removed while being rung: the ring is withdrawn and the call goes back to the
//!   front of its queue; removed in any other state: gone at once;
//! - a web item keeps its t₀, its place and its alarm; its queue gone, it moves to
//!   `[web] default_queue`; an offer stays on a kept agent's desk while they may still hold
//!   it (else it is cancelled and the item goes on); an accepted item stays counted for its
//!   agent. With no web queue left, or accepted by a removed agent, it leaves the ACD and
//!   is listed in [`Reconfigured::items_dropped`].

use std::cmp::Reverse;
use std::collections::HashMap;
use std::time::Instant;

use super::{Acd, AgentIx, AgentRt, Alarm, CallKey, CallRt, CallStatus, Lane, Output, Slot, Timer};
use crate::acd::config::AcdConfig;
use crate::acd::model::{AgentId, AgentState};

/// What a reconfiguration did, for the reload's log line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconfigured {
    /// Calls whose queue was removed, now waiting in `general`.
    pub moved_to_general: usize,
    /// Agents removed while talking or assisting: they stay until their call (or assist)
    /// ends.
    pub retired: Vec<AgentId>,
    /// Agents removed at once.
    pub removed: Vec<AgentId>,
    /// Web items the new tables cannot hold (no web queue left, or accepted by a removed
    /// agent): their tickets stay as they are; the ACD just stops routing them.
    pub items_dropped: Vec<super::ItemKey>,
}

impl<C: CallKey> Acd<C> {
    /// Replaces queues and agents with `config`'s (already validated), keeping every live
    /// call and every remaining agent's state. See the module doc for the rules.
    pub fn reconfigure(&mut self, config: &AcdConfig, now: Instant) -> Reconfigured {
        self.handle_timeout(now);
        let mut old = std::mem::replace(self, Acd::new(config, now));
        // `new` raised every queue's alarm; the real changes are worked out at the end.
        self.outputs.clear();
        let mut report = Reconfigured::default();

        // Agents: old index → new index (retired agents are appended).
        let mut map: Vec<Option<AgentIx>> = vec![None; old.agents.len()];
        for (oi, oa) in old.agents.iter().enumerate() {
            if let Some(&ni) = self.agent_ix.get(oa.id.as_str()) {
                map[oi] = Some(ni);
            } else if matches!(
                oa.state,
                AgentState::Talking { .. } | AgentState::Assisting { .. }
            ) {
                let ni = self.agents.len() as AgentIx;
                self.agents.push(AgentRt {
                    id: oa.id.clone(),
                    name: oa.name.clone(),
                    state: AgentState::LoggedOut,
                    since: oa.since,
                    registered: oa.registered,
                    phone_busy: oa.phone_busy,
                    idle_since: oa.idle_since,
                    indexed: None,
                    pools: Vec::new(),
                    stage_in: Vec::new(),
                    staffs: Vec::new(),
                    counted: false,
                    web: super::items::AgentWeb::new(0, oa.web.idle_since),
                    retired: true,
                    paused_until: None,
                    assist_wrap_up: oa.assist_wrap_up,
                });
                self.agent_ix.insert(oa.id.as_str().to_string(), ni);
                map[oi] = Some(ni);
                report.retired.push(oa.id.clone());
            } else if !oa.retired {
                report.removed.push(oa.id.clone());
            }
        }

        // Calls, in their old slots' order; waiting ones are lined up once agents are placed.
        let general = self.queue_ix.get("general").copied().unwrap_or(0);
        let mut to_line: Vec<(Slot, Lane)> = Vec::new();
        let mut states: HashMap<AgentIx, AgentState<C>> = HashMap::new();
        for c in old.calls.iter_mut().filter_map(Option::take) {
            let old_q = &old.queues[c.queue as usize];
            let q = match self.queue_ix.get(&*old_q.name) {
                Some(&q) => q,
                None => {
                    report.moved_to_general += 1;
                    general
                }
            };
            let own = c.priority.saturating_sub(old_q.priority);
            let slot = self.calls.len() as Slot;
            let mut status = c.status;
            match c.status {
                CallStatus::Waiting { lane } => to_line.push((slot, lane)),
                CallStatus::Ringing { agent, until } => {
                    match map[agent as usize].filter(|&a| !self.agents[a as usize].retired) {
                        Some(a) => {
                            status = CallStatus::Ringing { agent: a, until };
                            self.timers.insert((until, Timer::Ring(slot)));
                            states.insert(a, AgentState::Reserved { call: c.id.clone() });
                        }
                        None => {
                            self.outputs.push_back(Output::CancelOffer {
                                call: c.id.clone(),
                                agent: old.agents[agent as usize].id.clone(),
                                reason: super::CancelReason::Withdrawn,
                            });
                            to_line.push((slot, Lane::Front));
                        }
                    }
                }
                CallStatus::Talking { agent } => {
                    // Talking agents are always kept (retired if removed).
                    if let Some(a) = map[agent as usize] {
                        status = CallStatus::Talking { agent: a };
                        states.insert(a, AgentState::Talking { call: c.id.clone() });
                    }
                }
            }
            let talking = matches!(status, CallStatus::Talking { .. });
            let (stage, stage_timer) = if talking {
                (0, None)
            } else {
                self.stage_at(q, c.t0, now)
            };
            let deadline_timer = match c.deadline_timer {
                Some(_) if !talking => Some((c.t0 + self.deadline).max(now)),
                _ => None,
            };
            for t in [
                stage_timer.map(|t| (t, Timer::Stage(slot))),
                deadline_timer.map(|t| (t, Timer::Deadline(slot))),
            ]
            .into_iter()
            .flatten()
            {
                self.timers.insert(t);
            }
            self.call_ix.insert(c.id.clone(), slot);
            self.calls.push(Some(CallRt {
                id: c.id,
                queue: q,
                t0: c.t0,
                priority: self.queues[q as usize].priority.saturating_add(own),
                seq: c.seq,
                stage,
                // Waiting calls are put in their line below.
                status: match status {
                    CallStatus::Waiting { .. } => CallStatus::Waiting { lane: Lane::Back },
                    s => s,
                },
                stage_timer,
                deadline_timer,
                kept: c.kept,
            }));
        }
        self.seq = old.seq;

        // Agents' facts and states, silently: nothing changed for them.
        for (oi, oa) in old.agents.iter().enumerate() {
            let Some(a) = map[oi] else { continue };
            let state = match &oa.state {
                AgentState::Reserved { .. } | AgentState::Talking { .. } => {
                    states.remove(&a).unwrap_or(AgentState::Ready)
                }
                s => s.clone(),
            };
            if let AgentState::WrapUp { until, .. } = state {
                self.timers.insert((until, Timer::WrapUp(a)));
            }
            let na = &mut self.agents[a as usize];
            na.registered = oa.registered;
            na.phone_busy = oa.phone_busy;
            na.since = oa.since;
            na.idle_since = oa.idle_since;
            na.web.idle_since = oa.web.idle_since;
            na.assist_wrap_up = oa.assist_wrap_up;
            na.state = state;
        }
        let (items_to_line, items_dropped) = self.carry_items(&mut old, &map, now);
        report.items_dropped = items_dropped;
        for a in 0..self.agents.len() {
            self.settle_agent(a as AgentIx, now);
        }
        to_line.sort_by_key(|&(slot, lane)| {
            let c = self.call(slot).map(|c| (Reverse(c.priority), c.t0, c.seq));
            (c.map(|c| c.0), lane, c.map(|c| (c.1, c.2)))
        });
        for (slot, lane) in to_line {
            self.line_up(slot, lane, now);
        }
        for slot in items_to_line {
            self.line_item(slot, now);
        }
        for a in 0..self.agents.len() {
            self.settle_web(a as AgentIx, now);
        }

        // Alarms: say only what changed against the old configuration.
        self.outputs
            .retain(|o| !matches!(o, Output::AlarmRaised(_) | Output::AlarmCleared(_)));
        let was: HashMap<&str, bool> = old.queues.iter().map(|q| (&*q.name, q.alarm)).collect();
        for q in &self.queues {
            let before = was.get(&*q.name).copied();
            let alarm = Alarm::QueueUnstaffed {
                queue: q.name.clone(),
            };
            if q.alarm && before != Some(true) {
                self.outputs.push_back(Output::AlarmRaised(alarm));
            } else if !q.alarm && before == Some(true) {
                self.outputs.push_back(Output::AlarmCleared(alarm));
            }
        }
        for q in old.queues.iter().filter(|q| q.alarm) {
            if !self.queue_ix.contains_key(&*q.name) {
                self.outputs
                    .push_back(Output::AlarmCleared(Alarm::QueueUnstaffed {
                        queue: q.name.clone(),
                    }));
            }
        }
        // Anything the old core had not handed out yet comes first.
        let mut pending = std::mem::take(&mut old.outputs);
        pending.append(&mut self.outputs);
        self.outputs = pending;
        report
    }
}
