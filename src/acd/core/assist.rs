//! A second agent on a call (issue 14: consult transfer, three-way call, interpreter seat).
//!
//! The call room rings the phones and mixes the audio; the ACD only keeps the agents'
//! states right, so that an agent brought onto a call is never offered another call or a
//! web item meanwhile, counts as busy on the wallboard and wraps up afterwards:
//!
//! - [`Acd::handle_assist_requested`]: the call's agent consults or conferences in a named
//!   agent or "whoever is best in queue Q" (a special seat). The chosen agent goes
//!   [`AgentState::Assisting`] at once, while their phone rings: no queue wait, no
//!   15-second clock, no KPI output (the citizen was answered once, by the first agent).
//! - [`Acd::handle_assist_ended`]: the assistant left (dropped, hung up, consult cancelled,
//!   citizen gone). Never answered: ready again, keeping their place in the idle order.
//!   Answered: wrap-up for the call's queue's wrap-up time, as after a call.
//! - [`Acd::handle_call_taken_over`]: a consult transfer completes: the call's agent wraps
//!   up and the assistant becomes the call's agent.
//!
//! Ending the call itself ([`Acd::handle_call_ended`], [`Acd::handle_caller_hung_up`])
//! leaves its assistants alone: the call room ends each assist. So an assistant may be
//! `Assisting` on a call the ACD has already forgotten (the call room carries a call on
//! with a unit or an interpreter after the first agent left); that is legal, and the
//! assist's wrap-up then uses the queue's wrap-up remembered when the assist began.

use std::time::Instant;

use super::{Acd, AcdError, AgentIx, CallKey, CallStatus};
use crate::acd::model::{AgentId, AgentState};

/// Who is brought onto a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssistTarget<'a> {
    /// This agent, who must be ready with a registered phone that is not busy.
    Agent(&'a str),
    /// The best ready agent of this voice queue, chosen as the queue chooses for a new call
    /// (its own skill at its minimum level, highest level first, then longest idle). The
    /// queue's expansion steps do not apply: a special seat is asked for its skill.
    Queue(&'a str),
}

impl<C: CallKey> Acd<C> {
    /// The agent on `call` asks for another agent on it (consult or three-way call). The
    /// call must be connected (`Talking`) in the ACD. Returns the agent chosen, now
    /// `Assisting { call }`: ring their phone. Errors: `UnknownCall`, `NotTalking`,
    /// `UnknownAgent`, `AgentNotAvailable` (named agent not ready, or phone not registered
    /// or busy), `UnknownQueue`, `NotAVoiceQueue`, `NobodyReady`.
    pub fn handle_assist_requested(
        &mut self,
        call: &C,
        target: AssistTarget<'_>,
        now: Instant,
    ) -> Result<AgentId, AcdError> {
        self.handle_timeout(now);
        let slot = self.slot(call)?;
        let queue = match self.call(slot) {
            Some(c) if matches!(c.status, CallStatus::Talking { .. }) => c.queue,
            Some(c) => {
                return Err(AcdError::NotTalking {
                    call: format!("{call:?}"),
                    status: c.status.name(),
                })
            }
            None => return Err(AcdError::UnknownCall(format!("{call:?}"))),
        };
        let a = match target {
            AssistTarget::Agent(id) => {
                let a = self.agent(id)?;
                let ag = &self.agents[a as usize];
                let free = matches!(ag.state, AgentState::Ready) && ag.registered && !ag.phone_busy;
                if !free {
                    return Err(AcdError::AgentNotAvailable {
                        agent: id.to_string(),
                        state: ag.state.kind(),
                    });
                }
                a
            }
            AssistTarget::Queue(name) => {
                let q = *self
                    .queue_ix
                    .get(name)
                    .ok_or_else(|| AcdError::UnknownQueue(name.to_string()))?;
                if self.queues[q as usize].web.is_some() {
                    return Err(AcdError::NotAVoiceQueue(name.to_string()));
                }
                // The routing pools hold exactly the available agents (ready, registered,
                // phone free): the queue's first stage picks among them as for a call.
                self.best_agent(q, 0).ok_or_else(|| AcdError::NobodyReady {
                    queue: name.to_string(),
                })?
            }
        };
        self.agents[a as usize].assist_wrap_up = self.queues[queue as usize].wrap_up;
        self.set_state(a, AgentState::Assisting { call: call.clone() }, false, now);
        Ok(self.agents[a as usize].id.clone())
    }

    /// The assisting `agent` left the call. `answered = false` (their phone never answered:
    /// cancelled, refused, timed out): ready again, keeping their place in the idle order.
    /// `answered = true`: wrap-up for the call's queue's wrap-up time (ready at once when it
    /// is zero), as after a call of their own. Errors: `UnknownAgent`, `NotAssisting`.
    pub fn handle_assist_ended(
        &mut self,
        agent: &str,
        answered: bool,
        now: Instant,
    ) -> Result<(), AcdError> {
        self.handle_timeout(now);
        let a = self.any_agent(agent)?;
        let AgentState::Assisting { call } = &self.agents[a as usize].state else {
            return Err(AcdError::NotAssisting {
                agent: agent.to_string(),
                state: self.agents[a as usize].state.kind(),
            });
        };
        let call = call.clone();
        if !answered {
            self.set_state(a, AgentState::Ready, true, now);
            return Ok(());
        }
        // The call's queue now (a reload may have moved it), else the one it had.
        let wrap = match self.call_ix.get(&call).and_then(|&s| self.call(s)) {
            Some(c) => self.queues[c.queue as usize].wrap_up,
            None => self.agents[a as usize].assist_wrap_up,
        };
        self.set_state(a, Self::after_call(call, wrap, now), false, now);
        Ok(())
    }

    /// A consult transfer completes: the call's agent leaves and goes to wrap-up (as on
    /// [`Acd::handle_call_ended`]); the assisting `agent` becomes the call's agent,
    /// `Talking { call }`. No answer is reported again: the citizen was answered once.
    /// Errors: `UnknownCall`, `NotTalking`, `UnknownAgent`, `NotAssistingOn` (the agent is
    /// not assisting on this call).
    pub fn handle_call_taken_over(
        &mut self,
        call: &C,
        agent: &str,
        now: Instant,
    ) -> Result<(), AcdError> {
        self.handle_timeout(now);
        let slot = self.slot(call)?;
        let (old, queue) = match self.call(slot) {
            Some(c) => match c.status {
                CallStatus::Talking { agent } => (agent, c.queue),
                other => {
                    return Err(AcdError::NotTalking {
                        call: format!("{call:?}"),
                        status: other.name(),
                    })
                }
            },
            None => return Err(AcdError::UnknownCall(format!("{call:?}"))),
        };
        let a = self.any_agent(agent)?;
        match &self.agents[a as usize].state {
            AgentState::Assisting { call: on } if on == call => {}
            other => {
                return Err(AcdError::NotAssistingOn {
                    agent: agent.to_string(),
                    call: format!("{call:?}"),
                    state: other.kind(),
                })
            }
        }
        if let Some(c) = self.calls[slot as usize].as_mut() {
            c.status = CallStatus::Talking { agent: a };
        }
        let wrap = self.queues[queue as usize].wrap_up;
        self.set_state(old, Self::after_call(call.clone(), wrap, now), false, now);
        self.set_state(a, AgentState::Talking { call: call.clone() }, false, now);
        Ok(())
    }

    /// An agent by id, retired ones included: an agent removed by a reload while assisting
    /// still ends (or takes over) that assist.
    fn any_agent(&self, agent: &str) -> Result<AgentIx, AcdError> {
        self.agent_ix
            .get(agent)
            .copied()
            .ok_or_else(|| AcdError::UnknownAgent(agent.to_string()))
    }
}
