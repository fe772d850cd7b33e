//! The routing decisions and the bookkeeping they rest on: the pools of available agents,
//! the queue lines, offers, agent state changes, staffing alarms and timers.

use std::cmp::Reverse;
use std::time::{Duration, Instant};

use super::{Acd, AgentIx, Alarm, CallKey, CallRt, CallStatus, Lane, Output, QueueIx, Slot, Timer};
use crate::acd::model::AgentState;

/// The global order of waiting calls: priority, then front lane, then t₀, then arrival.
type CallOrder = (Reverse<u8>, Lane, Instant, u64);

impl<C: CallKey> Acd<C> {
    // ---- agents ----------------------------------------------------------------------

    /// Whether the agent may be offered a call right now.
    pub(super) fn available(&self, a: AgentIx) -> bool {
        let ag = &self.agents[a as usize];
        ag.registered
            && !ag.phone_busy
            && !ag.retired
            && ag.paused_until.is_none()
            && matches!(ag.state, AgentState::Ready)
    }

    /// Moves the agent in or out of its pools to match its availability; routes a call to
    /// it when it is available.
    pub(super) fn settle_agent(&mut self, a: AgentIx, now: Instant) {
        let avail = self.available(a);
        let ag = &mut self.agents[a as usize];
        match (ag.indexed, avail) {
            (None, true) => {
                let key = ag.idle_since;
                ag.indexed = Some(key);
                for &(p, level) in &ag.pools {
                    self.pools[p as usize].insert((Reverse(level), key, a));
                }
            }
            (Some(key), false) => {
                ag.indexed = None;
                for &(p, level) in &ag.pools {
                    self.pools[p as usize].remove(&(Reverse(level), key, a));
                }
            }
            _ => {}
        }
        self.update_staffing(a);
        if avail {
            self.route_agent(a, now);
        }
    }

    /// Changes an agent's state and says so. `keep_idle` keeps the agent's place in the
    /// idle order (a ring that failed through no fault of theirs).
    pub(super) fn set_state(
        &mut self,
        a: AgentIx,
        mut state: AgentState<C>,
        keep_idle: bool,
        now: Instant,
    ) {
        // A retired agent leaves once the call that kept them is over.
        if self.agents[a as usize].retired
            && !matches!(
                state,
                AgentState::Talking { .. }
                    | AgentState::Reserved { .. }
                    | AgentState::Assisting { .. }
            )
        {
            state = AgentState::LoggedOut;
        }
        if let AgentState::WrapUp { until, .. } = self.agents[a as usize].state {
            self.timers.remove(&(until, Timer::WrapUp(a)));
        }
        if let AgentState::WrapUp { until, .. } = state {
            self.timers.insert((until, Timer::WrapUp(a)));
        }
        let ag = &mut self.agents[a as usize];
        let from = ag.state.kind();
        if matches!(state, AgentState::Ready)
            && !matches!(ag.state, AgentState::Ready)
            && !keep_idle
        {
            ag.idle_since = now;
        }
        ag.state = state.clone();
        ag.since = now;
        self.outputs.push_back(Output::AgentStateChanged {
            agent: ag.id.clone(),
            from,
            state,
        });
        self.settle_agent(a, now);
        // Web items follow the state (not-ready withdraws an offer, ready may get one); a
        // call's ring, talk or wrap-up changes nothing for them.
        self.settle_web(a, now);
    }

    fn update_staffing(&mut self, a: AgentIx) {
        let ag = &mut self.agents[a as usize];
        let counts = ag.registered && !matches!(ag.state, AgentState::LoggedOut);
        if counts == ag.counted {
            return;
        }
        ag.counted = counts;
        for i in 0..self.agents[a as usize].staffs.len() {
            let q = self.agents[a as usize].staffs[i];
            let qr = &mut self.queues[q as usize];
            if counts {
                qr.staffed += 1;
            } else {
                qr.staffed -= 1;
            }
            self.update_alarm(q);
        }
    }

    pub(super) fn update_alarm(&mut self, q: QueueIx) {
        let qr = &mut self.queues[q as usize];
        let unstaffed = qr.staffed == 0;
        if unstaffed != qr.alarm {
            qr.alarm = unstaffed;
            let alarm = Alarm::QueueUnstaffed {
                queue: qr.name.clone(),
            };
            self.outputs.push_back(if unstaffed {
                Output::AlarmRaised(alarm)
            } else {
                Output::AlarmCleared(alarm)
            });
        }
    }

    // ---- routing ---------------------------------------------------------------------

    /// The best available agent for a call of queue `q` at stage `stage`: the first pool in
    /// preference order that has someone at the level needed, and in it the highest level,
    /// then the longest idle.
    pub(super) fn best_agent(&self, q: QueueIx, stage: u8) -> Option<AgentIx> {
        let st = &self.queues[q as usize].stages[stage as usize];
        st.pools.iter().find_map(|&(p, min)| {
            self.pools[p as usize]
                .first()
                .filter(|(Reverse(level), _, _)| *level >= min)
                .map(|&(_, _, a)| a)
        })
    }

    /// Offers a waiting call to the best agent, if there is one.
    pub(super) fn route_call(&mut self, slot: Slot, now: Instant) {
        let Some(c) = self.call(slot) else { return };
        if !matches!(c.status, CallStatus::Waiting { .. }) {
            return;
        }
        if let Some(a) = self.best_agent(c.queue, c.stage) {
            self.offer(slot, a, now);
        }
    }

    /// Offers the agent the call it should take: of all waiting calls it may serve at their
    /// current stage, the first by priority, then front lane, then longest wait.
    pub(super) fn route_agent(&mut self, a: AgentIx, now: Instant) {
        let mut best: Option<(CallOrder, Slot)> = None;
        for &(q, from_stage) in &self.agents[a as usize].stage_in {
            for (&(prio, lane), set) in &self.queues[q as usize].lines {
                if best.as_ref().is_some_and(|(k, _)| k.0 < prio) {
                    break; // every later segment has lower priority than the best so far
                }
                // The oldest call of a segment has its widest stage: if it cannot take the
                // agent, nobody in the segment can.
                let Some(&(t0, seq, slot)) = set.first() else {
                    continue;
                };
                let stage = self.call(slot).map_or(0, |c| c.stage);
                if stage >= from_stage {
                    let key = (prio, lane, t0, seq);
                    if best.as_ref().is_none_or(|(k, _)| key < *k) {
                        best = Some((key, slot));
                    }
                    break;
                }
            }
        }
        if let Some((_, slot)) = best {
            self.offer(slot, a, now);
        }
    }

    fn offer(&mut self, slot: Slot, a: AgentIx, now: Instant) {
        let Some(c) = self.calls[slot as usize].as_mut() else {
            return;
        };
        let q = c.queue;
        let ring = self.queues[q as usize].ring_timeout;
        let until = now + ring;
        let lane = match c.status {
            CallStatus::Waiting { lane } => lane,
            _ => return,
        };
        let seg = (Reverse(c.priority), lane);
        let key = (c.t0, c.seq, slot);
        c.status = CallStatus::Ringing { agent: a, until };
        let call = c.id.clone();
        self.unline(q, seg, key);
        self.timers.insert((until, Timer::Ring(slot)));
        self.outputs.push_back(Output::Offer {
            call: call.clone(),
            agent: self.agents[a as usize].id.clone(),
            queue: self.queues[q as usize].name.clone(),
            ring_timeout: ring,
        });
        self.set_state(a, AgentState::Reserved { call }, false, now);
    }

    // ---- lines and calls -------------------------------------------------------------

    fn unline(&mut self, q: QueueIx, seg: (Reverse<u8>, Lane), key: (Instant, u64, Slot)) {
        let qr = &mut self.queues[q as usize];
        if let Some(set) = qr.lines.get_mut(&seg) {
            if set.remove(&key) {
                qr.waiting -= 1;
            }
            if set.is_empty() {
                qr.lines.remove(&seg);
            }
        }
    }

    /// Puts a call in its queue's line (at the back, or at the front after a failed ring)
    /// and tries to route it.
    pub(super) fn line_up(&mut self, slot: Slot, lane: Lane, now: Instant) {
        let Some(c) = self.calls[slot as usize].as_mut() else {
            return;
        };
        c.status = CallStatus::Waiting { lane };
        let (q, seg, key) = (c.queue, (Reverse(c.priority), lane), (c.t0, c.seq, slot));
        let qr = &mut self.queues[q as usize];
        if qr.lines.entry(seg).or_default().insert(key) {
            qr.waiting += 1;
        }
        self.route_call(slot, now);
    }

    /// Takes a call out of the line (if waiting) and out of the table, with its timers.
    pub(super) fn forget(&mut self, slot: Slot) -> Option<CallRt<C>> {
        let c = self.calls.get_mut(slot as usize)?.take()?;
        if let CallStatus::Waiting { lane } = c.status {
            self.unline(c.queue, (Reverse(c.priority), lane), (c.t0, c.seq, slot));
        }
        if let CallStatus::Ringing { until, .. } = c.status {
            self.timers.remove(&(until, Timer::Ring(slot)));
        }
        if let Some(t) = c.stage_timer {
            self.timers.remove(&(t, Timer::Stage(slot)));
        }
        if let Some(t) = c.deadline_timer {
            self.timers.remove(&(t, Timer::Deadline(slot)));
        }
        self.call_ix.remove(&c.id);
        self.free.push(slot);
        Some(c)
    }

    /// The stage a call has reached after waiting `waited`, and when the next one begins.
    pub(super) fn stage_at(&self, q: QueueIx, t0: Instant, now: Instant) -> (u8, Option<Instant>) {
        let waited = now.saturating_duration_since(t0);
        let stages = &self.queues[q as usize].stages;
        let reached = stages.iter().take_while(|s| s.at <= waited).count().max(1) - 1;
        (reached as u8, stages.get(reached + 1).map(|s| t0 + s.at))
    }

    pub(super) fn waited(t0: Instant, now: Instant) -> Duration {
        now.saturating_duration_since(t0)
    }
}
