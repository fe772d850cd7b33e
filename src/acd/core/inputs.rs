//! The ACD's inputs: calls arriving and leaving, rings' outcomes, agents' requests and
//! phones, and timers. Each first fires the timers already due, so the order of events is
//! the order of time even when the shell is late to wake.

use std::time::Instant;

use super::{
    Acd, AcdError, AgentIx, CallKey, CallRt, CallStatus, CancelReason, Lane, Output, RingFailure,
    Slot, Timer,
};
use crate::acd::model::{AgentState, NotReadyReason, StateRequest};

impl<C: CallKey> Acd<C> {
    /// A caller asked for a person at `t0` (usually `now`; earlier for a call transferred
    /// from another queue, so its 15-second clock keeps running). `priority` is the call's
    /// own (urgent calls), added to the queue's.
    pub fn handle_call_queued(
        &mut self,
        call: C,
        queue: &str,
        t0: Instant,
        priority: u8,
        now: Instant,
    ) -> Result<(), AcdError> {
        self.handle_timeout(now);
        let q = *self
            .queue_ix
            .get(queue)
            .ok_or_else(|| AcdError::UnknownQueue(queue.to_string()))?;
        if self.queues[q as usize].web.is_some() {
            return Err(AcdError::NotAVoiceQueue(queue.to_string()));
        }
        if self.call_ix.contains_key(&call) {
            return Err(AcdError::CallAlreadyKnown(format!("{call:?}")));
        }
        let (stage, next) = self.stage_at(q, t0, now);
        let deadline = t0 + self.deadline;
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.calls.push(None);
                (self.calls.len() - 1) as Slot
            }
        };
        self.seq += 1;
        let qr = &self.queues[q as usize];
        let mut c = CallRt {
            id: call.clone(),
            queue: q,
            t0,
            priority: qr.priority.saturating_add(priority),
            seq: self.seq,
            stage,
            status: CallStatus::Waiting { lane: Lane::Back },
            stage_timer: next,
            deadline_timer: None,
            kept: false,
        };
        if let Some(t) = next {
            self.timers.insert((t, Timer::Stage(slot)));
        }
        if deadline > now {
            c.deadline_timer = Some(deadline);
            self.timers.insert((deadline, Timer::Deadline(slot)));
        } else {
            self.outputs.push_back(Output::CallWaitExceeded {
                call: call.clone(),
                queue: qr.name.clone(),
                waited: Self::waited(t0, now),
            });
        }
        self.calls[slot as usize] = Some(c);
        self.call_ix.insert(call, slot);
        self.line_up(slot, Lane::Back, now);
        Ok(())
    }

    /// The agent's phone answered: the call is connected (`CallAnswered`). If this races a
    /// `CancelOffer` already emitted, the error tells the engine to hang up the agent leg.
    pub fn handle_ring_answered(&mut self, call: &C, now: Instant) -> Result<(), AcdError> {
        self.handle_timeout(now);
        let slot = self.slot(call)?;
        let (agent, until) = self.ringing(slot)?;
        self.timers.remove(&(until, Timer::Ring(slot)));
        let Some(c) = self.calls[slot as usize].as_mut() else {
            return Err(AcdError::UnknownCall(format!("{call:?}")));
        };
        c.status = CallStatus::Talking { agent };
        // The call is answered: the clock has stopped, expansion is over.
        let timers = [
            c.stage_timer.take().map(|t| (t, Timer::Stage(slot))),
            c.deadline_timer.take().map(|t| (t, Timer::Deadline(slot))),
        ];
        let (queue, t0) = (c.queue, c.t0);
        for t in timers.into_iter().flatten() {
            self.timers.remove(&t);
        }
        self.note_answered(queue, now);
        self.outputs.push_back(Output::CallAnswered {
            call: call.clone(),
            agent: self.agents[agent as usize].id.clone(),
            queue: self.queues[queue as usize].name.clone(),
            wait: Self::waited(t0, now),
        });
        self.set_state(
            agent,
            AgentState::Talking { call: call.clone() },
            false,
            now,
        );
        Ok(())
    }

    /// The agent's phone refused the ring: the agent goes not-ready with the reason, the call
    /// goes back to the front of its queue and on to the next agent. `NoPort` (our failure)
    /// keeps the agent ready, only skipped for a moment.
    pub fn handle_ring_failed(
        &mut self,
        call: &C,
        failure: RingFailure,
        now: Instant,
    ) -> Result<(), AcdError> {
        self.handle_timeout(now);
        let slot = self.slot(call)?;
        let (agent, until) = self.ringing(slot)?;
        self.timers.remove(&(until, Timer::Ring(slot)));
        match failure.reason() {
            Some(reason) => self.set_state(agent, AgentState::NotReady { reason }, false, now),
            None => {
                let resume = now + super::NO_PORT_PAUSE;
                self.agents[agent as usize].paused_until = Some(resume);
                self.timers.insert((resume, Timer::Resume(agent)));
                self.set_state(agent, AgentState::Ready, true, now);
            }
        }
        self.line_up(slot, Lane::Front, now);
        Ok(())
    }

    /// The caller hung up. Waiting or ringing: the call is abandoned (and a ringing agent is
    /// cancelled and back to ready, keeping their place). Connected: the call ended (its
    /// assisting agents are left to [`Acd::handle_assist_ended`]).
    pub fn handle_caller_hung_up(&mut self, call: &C, now: Instant) -> Result<(), AcdError> {
        self.leave(call, CancelReason::CallerHungUp, now)
    }

    /// The engine took the call away before an answer (a transfer to another queue or
    /// number, shutdown): like a hang-up but not counted as abandoned. Connected: the call
    /// ended for the agent (wrap-up).
    pub fn handle_call_withdrawn(&mut self, call: &C, now: Instant) -> Result<(), AcdError> {
        self.leave(call, CancelReason::Withdrawn, now)
    }

    /// A connected call ended (either side hung up): the agent goes to wrap-up for the
    /// queue's wrap-up time. Agents assisting on it are left as they are: the call room ends
    /// each with [`Acd::handle_assist_ended`] (it may carry the call on with them).
    pub fn handle_call_ended(&mut self, call: &C, now: Instant) -> Result<(), AcdError> {
        self.handle_timeout(now);
        let slot = self.slot(call)?;
        let status = self.call(slot).map(|c| c.status);
        match status {
            Some(CallStatus::Talking { .. }) => self.end(slot, now),
            Some(other) => Err(AcdError::NotTalking {
                call: format!("{call:?}"),
                status: other.name(),
            }),
            None => Err(AcdError::UnknownCall(format!("{call:?}"))),
        }
    }

    fn leave(&mut self, call: &C, why: CancelReason, now: Instant) -> Result<(), AcdError> {
        self.handle_timeout(now);
        let slot = self.slot(call)?;
        let Some(status) = self.call(slot).map(|c| c.status) else {
            return Err(AcdError::UnknownCall(format!("{call:?}")));
        };
        if let CallStatus::Talking { .. } = status {
            return self.end(slot, now);
        }
        let Some(c) = self.forget(slot) else {
            return Err(AcdError::UnknownCall(format!("{call:?}")));
        };
        if let CallStatus::Ringing { agent, .. } = status {
            self.outputs.push_back(Output::CancelOffer {
                call: c.id.clone(),
                agent: self.agents[agent as usize].id.clone(),
                reason: why,
            });
        }
        if why == CancelReason::CallerHungUp {
            self.outputs.push_back(Output::CallAbandoned {
                call: c.id.clone(),
                queue: self.queues[c.queue as usize].name.clone(),
                wait: Self::waited(c.t0, now),
            });
        }
        if let CallStatus::Ringing { agent, .. } = status {
            self.set_state(agent, AgentState::Ready, true, now);
        }
        Ok(())
    }

    fn end(&mut self, slot: Slot, now: Instant) -> Result<(), AcdError> {
        let Some(c) = self.forget(slot) else {
            return Err(AcdError::UnknownCall(String::new()));
        };
        if let CallStatus::Talking { agent } = c.status {
            let talk = now.saturating_duration_since(self.agents[agent as usize].since);
            self.note_handled(c.queue, talk);
            let wrap = self.queues[c.queue as usize].wrap_up;
            self.set_state(agent, Self::after_call(c.id, wrap, now), false, now);
        }
        Ok(())
    }

    /// Where an agent goes when their part in `call` ends: wrap-up for `wrap`, or straight
    /// to ready when the queue has none.
    pub(super) fn after_call(call: C, wrap: std::time::Duration, now: Instant) -> AgentState<C> {
        if wrap.is_zero() {
            AgentState::Ready
        } else {
            AgentState::WrapUp {
                call,
                until: now + wrap,
            }
        }
    }

    /// The agent saved the ticket form: wrap-up ends early and the agent is ready.
    pub fn handle_wrap_up_done(&mut self, agent: &str, now: Instant) -> Result<(), AcdError> {
        self.handle_timeout(now);
        let a = self.agent(agent)?;
        match self.agents[a as usize].state.kind() {
            crate::acd::model::AgentStateKind::WrapUp => {
                self.set_state(a, AgentState::Ready, false, now);
                Ok(())
            }
            state => Err(AcdError::NotInWrapUp {
                agent: agent.to_string(),
                state,
            }),
        }
    }

    /// An agent (or a supervisor for them) asks to be ready, not ready or logged out.
    /// Refused while the agent is talking or assisting on a call; while being rung, anything but `Ready` cancels the
    /// ring and puts the call back at the front of its queue.
    pub fn handle_agent_state(
        &mut self,
        agent: &str,
        request: StateRequest,
        now: Instant,
    ) -> Result<(), AcdError> {
        self.handle_timeout(now);
        let a = self.agent(agent)?;
        let current = self.agents[a as usize].state.clone();
        let target = match request {
            StateRequest::Ready => AgentState::Ready,
            StateRequest::NotReady(reason) => AgentState::NotReady { reason },
            StateRequest::LoggedOut => AgentState::LoggedOut,
        };
        match &current {
            AgentState::Talking { call } | AgentState::Assisting { call } => {
                return Err(AcdError::AgentOnCall {
                    agent: agent.to_string(),
                    call: format!("{call:?}"),
                })
            }
            AgentState::Reserved { .. } if request == StateRequest::Ready => return Ok(()),
            AgentState::Reserved { call } => {
                let reason = if request == StateRequest::LoggedOut {
                    CancelReason::AgentLoggedOut
                } else {
                    CancelReason::AgentNotReady
                };
                let call = call.clone();
                self.cancel_ring(a, &call, reason, target, now);
                return Ok(());
            }
            _ if current == target => return Ok(()),
            _ => {}
        }
        self.set_state(a, target, false, now);
        Ok(())
    }

    /// The agent's phone registered (`true`) or its binding expired or was removed
    /// (`false`). Without a registration an agent is never offered a call; losing it while
    /// ringing cancels the ring.
    pub fn handle_registration(
        &mut self,
        agent: &str,
        registered: bool,
        now: Instant,
    ) -> Result<(), AcdError> {
        self.handle_timeout(now);
        let a = self.agent(agent)?;
        if self.agents[a as usize].registered == registered {
            return Ok(());
        }
        self.agents[a as usize].registered = registered;
        if let (false, AgentState::Reserved { call }) = (registered, &self.agents[a as usize].state)
        {
            let call = call.clone();
            self.cancel_ring(
                a,
                &call,
                CancelReason::RegistrationLost,
                AgentState::Ready,
                now,
            );
        } else {
            self.settle_agent(a, now);
        }
        Ok(())
    }

    /// The agent's phone is on a call the ACD did not place (a direct or outgoing call):
    /// such an agent is never rung for another.
    pub fn handle_agent_phone_busy(
        &mut self,
        agent: &str,
        busy: bool,
        now: Instant,
    ) -> Result<(), AcdError> {
        self.handle_timeout(now);
        let a = self.agent(agent)?;
        self.agents[a as usize].phone_busy = busy;
        self.settle_agent(a, now);
        Ok(())
    }

    /// Fires every timer due at `now`: ring timeouts, expansion steps, deadlines, wrap-ups,
    /// and web items' offer timeouts, expansion steps and alarms.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(&(at, timer)) = self.timers.first() {
            if at > now {
                break;
            }
            self.timers.remove(&(at, timer));
            match timer {
                Timer::Resume(a) => {
                    self.agents[a as usize].paused_until = None;
                    self.settle_agent(a, now);
                }
                Timer::Ring(slot) => self.ring_timed_out(slot, now),
                Timer::WrapUp(a) => {
                    if let AgentState::WrapUp { .. } = self.agents[a as usize].state {
                        self.set_state(a, AgentState::Ready, false, now);
                    }
                }
                Timer::Stage(slot) => self.next_stage(slot, now),
                Timer::ItemOffer(_) | Timer::ItemStage(_) | Timer::ItemAlarm(_) => {
                    self.item_timer(timer, now)
                }
                Timer::Deadline(slot) => {
                    if let Some(c) = self.calls[slot as usize].as_mut() {
                        c.deadline_timer = None;
                        let out = Output::CallWaitExceeded {
                            call: c.id.clone(),
                            queue: self.queues[c.queue as usize].name.clone(),
                            waited: Self::waited(c.t0, now),
                        };
                        self.outputs.push_back(out);
                    }
                }
            }
        }
    }

    fn ring_timed_out(&mut self, slot: Slot, now: Instant) {
        let Some(CallStatus::Ringing { agent, .. }) = self.call(slot).map(|c| c.status) else {
            return;
        };
        let Some(call) = self.call(slot).map(|c| c.id.clone()) else {
            return;
        };
        let reason = NotReadyReason::NoAnswer;
        self.outputs.push_back(Output::CancelOffer {
            call,
            agent: self.agents[agent as usize].id.clone(),
            reason: CancelReason::NoAnswer,
        });
        self.set_state(agent, AgentState::NotReady { reason }, false, now);
        self.line_up(slot, Lane::Front, now);
    }

    fn next_stage(&mut self, slot: Slot, now: Instant) {
        let Some(c) = self.call(slot) else { return };
        let (stage, next) = self.stage_at(c.queue, c.t0, now);
        let Some(c) = self.calls[slot as usize].as_mut() else {
            return;
        };
        c.stage = stage;
        c.stage_timer = next;
        let out = Output::CallExpanded {
            call: c.id.clone(),
            queue: self.queues[c.queue as usize].name.clone(),
            step: stage as usize,
        };
        if let Some(t) = next {
            self.timers.insert((t, Timer::Stage(slot)));
        }
        self.outputs.push_back(out);
        self.route_call(slot, now);
    }

    /// Stops a ring for a reason on the agent's side: cancel, move the agent, and put the
    /// call back at the front of its queue (it may go straight to someone else).
    fn cancel_ring(
        &mut self,
        a: AgentIx,
        call: &C,
        reason: CancelReason,
        target: AgentState<C>,
        now: Instant,
    ) {
        let Some(&slot) = self.call_ix.get(call) else {
            return;
        };
        if let Some(CallStatus::Ringing { until, .. }) = self.call(slot).map(|c| c.status) {
            self.timers.remove(&(until, Timer::Ring(slot)));
        }
        self.outputs.push_back(Output::CancelOffer {
            call: call.clone(),
            agent: self.agents[a as usize].id.clone(),
            reason,
        });
        // A ring lost to a registration drop is not the agent's fault: keep their place.
        let keep = reason == CancelReason::RegistrationLost;
        self.set_state(a, target, keep, now);
        self.line_up(slot, Lane::Front, now);
    }

    pub(super) fn slot(&self, call: &C) -> Result<Slot, AcdError> {
        self.call_ix
            .get(call)
            .copied()
            .ok_or_else(|| AcdError::UnknownCall(format!("{call:?}")))
    }

    fn ringing(&self, slot: Slot) -> Result<(AgentIx, Instant), AcdError> {
        match self.call(slot) {
            Some(CallRt {
                status: CallStatus::Ringing { agent, until },
                ..
            }) => Ok((*agent, *until)),
            Some(c) => Err(AcdError::NotRinging {
                call: format!("{:?}", c.id),
                status: c.status.name(),
            }),
            None => Err(AcdError::UnknownCall(String::new())),
        }
    }

    pub(super) fn agent(&self, agent: &str) -> Result<AgentIx, AcdError> {
        self.agent_ix
            .get(agent)
            .copied()
            .filter(|&a| !self.agents[a as usize].retired)
            .ok_or_else(|| AcdError::UnknownAgent(agent.to_string()))
    }
}
