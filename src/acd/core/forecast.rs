//! How long a waiting call is likely still to wait (issue 15, C8): the IVR offers "keep your
//! place and be called back" when this passes a threshold. And the calls whose caller took
//! that offer: they keep their place in the line with nobody on it (`kept`), so no 15-second
//! alarm is raised for them and the wallboard counts them apart.
//!
//! The forecast is the call's position divided by the queue's service rate, the larger of:
//! - the rate observed: calls of the queue answered in the last [`RATE_WINDOW`] (from at
//!   least [`MIN_SAMPLES`] answers, over the part of the window the ACD has been up); and
//! - the rate the staff can give: agents of the queue's own skill who are at work (ready,
//!   ringing, talking, in wrap-up), each finishing a call per average handle time (talk plus
//!   wrap-up, an exponentially weighted mean of the queue's own calls, starting from the
//!   operator's assumption until calls have ended).
//!
//! With neither (nobody at work, nothing answered lately) the wait is unbounded: `None`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::{Acd, AcdError, CallKey, QueueIx};
use crate::acd::model::AgentState;

/// How far back answers count for the observed rate.
pub const RATE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Fewer answers than this in the window say nothing about the rate.
pub const MIN_SAMPLES: usize = 3;
/// Weight of a new handle time in the queue's mean.
const EWMA_WEIGHT: f64 = 0.2;
/// The observed rate is never taken over less than this, so three quick answers in the
/// first seconds do not promise a rate nobody can keep.
const MIN_SPAN: Duration = Duration::from_secs(60);

/// A queue's recent service: answer instants and the handle-time mean.
#[derive(Debug, Default)]
pub(super) struct QueueService {
    answers: VecDeque<Instant>,
    /// Talk plus wrap-up, seconds; `None` until a call of the queue ended.
    handle_s: Option<f64>,
}

impl QueueService {
    pub(super) fn answered(&mut self, now: Instant) {
        self.answers.push_back(now);
        self.trim(now);
    }

    pub(super) fn handled(&mut self, handle: Duration) {
        let s = handle.as_secs_f64();
        self.handle_s = Some(match self.handle_s {
            Some(mean) => mean + EWMA_WEIGHT * (s - mean),
            None => s,
        });
    }

    fn trim(&mut self, now: Instant) {
        while self
            .answers
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > RATE_WINDOW)
        {
            self.answers.pop_front();
        }
    }
}

/// What the forecast rests on, for the log and the wallboard.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaitForecast {
    /// 1-based position among the waiting calls (kept callbacks included: they hold places).
    pub position: usize,
    /// The expected wait from now; `None`: nobody is at work to answer it.
    pub wait: Option<Duration>,
    /// Calls per minute the forecast assumes.
    pub rate_per_min: f64,
    /// Agents of the queue's skill at work now.
    pub working: u32,
}

impl<C: CallKey> Acd<C> {
    /// The forecast for a waiting call; `None` when the call is not waiting (ringing an
    /// agent, connected, unknown). `assumed_handle` stands in for the handle time until the
    /// queue has its own.
    pub fn forecast_wait(
        &mut self,
        call: &C,
        assumed_handle: Duration,
        now: Instant,
    ) -> Option<WaitForecast> {
        let position = self.position(call)?;
        let q = self.call(*self.call_ix.get(call)?)?.queue;
        let working = self.working_agents(q);
        let started = self.started;
        let service = &mut self.queues[q as usize].service;
        service.trim(now);
        let handle = service
            .handle_s
            .unwrap_or(assumed_handle.as_secs_f64())
            .max(1.0);
        let staff_rate = f64::from(working) / handle;
        let observed = if service.answers.len() >= MIN_SAMPLES {
            let span = now
                .saturating_duration_since(started)
                .min(RATE_WINDOW)
                .max(MIN_SPAN);
            service.answers.len() as f64 / span.as_secs_f64()
        } else {
            0.0
        };
        let rate = staff_rate.max(observed);
        let wait = (rate > 0.0).then(|| Duration::from_secs_f64(position as f64 / rate));
        Some(WaitForecast {
            position,
            wait,
            rate_per_min: rate * 60.0,
            working,
        })
    }

    /// The caller left the line but keeps the place: the engine calls them back when the
    /// call's turn comes (an `Offer` as for any call). No deadline alarm is raised for it.
    pub fn handle_call_kept(&mut self, call: &C, now: Instant) -> Result<(), AcdError> {
        self.handle_timeout(now);
        let slot = self.slot(call)?;
        let Some(c) = self.calls[slot as usize].as_mut() else {
            return Err(AcdError::UnknownCall(format!("{call:?}")));
        };
        c.kept = true;
        if let Some(t) = c.deadline_timer.take() {
            self.timers.remove(&(t, super::Timer::Deadline(slot)));
        }
        Ok(())
    }

    /// Whether the call's caller took the callback offer and left the line.
    pub fn is_kept(&self, call: &C) -> bool {
        self.call_ix
            .get(call)
            .and_then(|&s| self.call(s))
            .is_some_and(|c| c.kept)
    }

    /// Agents who serve the queue from its first stage and are at work now.
    fn working_agents(&self, q: QueueIx) -> u32 {
        let n = self
            .agents
            .iter()
            .filter(|a| a.registered && a.stage_in.iter().any(|&(qi, s)| qi == q && s == 0))
            .filter(|a| {
                matches!(
                    a.state,
                    AgentState::Ready
                        | AgentState::Reserved { .. }
                        | AgentState::Talking { .. }
                        | AgentState::WrapUp { .. }
                )
            })
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// A call of queue `q` was answered now.
    pub(super) fn note_answered(&mut self, q: QueueIx, now: Instant) {
        self.queues[q as usize].service.answered(now);
    }

    /// A call of queue `q` ended after `talk`; its wrap-up is the queue's.
    pub(super) fn note_handled(&mut self, q: QueueIx, talk: Duration) {
        let qr = &mut self.queues[q as usize];
        qr.service.handled(talk + qr.wrap_up);
    }
}
