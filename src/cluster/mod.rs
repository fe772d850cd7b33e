//! Roles of two engines behind Kamailio (issue 19): which one is active for calls and which
//! one is the hot standby, decided from the answers of a PostgreSQL advisory lock.
//!
//! Sans-IO: the shell asks the lock when [`Leadership::poll_action`] says so, feeds the answer
//! to [`Leadership::handle_answer`] with the time, tells [`Leadership::handle_session_lost`]
//! when its database session dies, and wakes at [`Leadership::poll_timeout`]. Role changes
//! come out of [`Leadership::poll_event`]. It never touches a socket or the database and never
//! reads a clock; it must not know calls, registrations or SIP.
//!
//! The rules: the holder of the lock is active; the other asks for it every `retry_every`.
//! The active engine checks its session as often; an error, a closed session or an answer
//! slower than `store_timeout` makes it step down at once (the shell drops the session, so
//! the server releases the lock to the other engine), since from then on it cannot know it
//! still holds the lock.

#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

/// What this engine is for calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Holds the lock: takes calls and registrations.
    Active,
    /// Does not: answers every SIP request 503 and asks for the lock again and again.
    Standby,
}

impl Role {
    /// The spelling in `/api/health` and `/metrics`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Active => "active",
            Role::Standby => "standby",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the shell must do with the leadership store (one at a time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Connect if need be, then `SELECT pg_try_advisory_lock(key)`.
    TryLock,
    /// Check the session that holds the lock is still alive.
    CheckSession,
    /// Close the session (the server then releases the lock, if it is held).
    DropSession,
}

/// The store's answer to the last [`Action`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The lock is ours.
    Acquired,
    /// Another session holds it.
    Busy,
    /// The check passed: the session (and so the lock) is alive.
    Alive,
    /// Connecting or the query failed.
    Failed(String),
}

/// Why an active engine stepped down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepDown {
    /// The session that held the lock closed.
    SessionLost,
    /// A check failed.
    CheckFailed(String),
    /// A check got no answer within `store_timeout`.
    Timeout,
}

/// A change of role, for the shell to apply (and the logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaderEvent {
    /// This engine took the lock. `failover` when another engine had held it before (this
    /// one takes over from it), false on a first start with nobody else.
    Promoted {
        /// Whether it is a takeover.
        failover: bool,
    },
    /// This engine lost the lock.
    Demoted(StepDown),
}

/// Timings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeadershipConfig {
    /// Between two tries (standby) or two checks (active).
    pub retry_every: Duration,
    /// The longest wait for an answer.
    pub store_timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Nothing asked; ask at `next`.
    Idle { next: Instant },
    /// `action` asked at `since`; give up at `since + store_timeout`.
    Waiting { action: Action, since: Instant },
}

/// Counters and gauges for `/metrics` and `/api/health`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LeaderStats {
    /// Takeovers from another engine.
    pub failovers: u64,
    /// Times this engine stepped down.
    pub step_downs: u64,
    /// Whether the last exchange with the store succeeded.
    pub store_ok: bool,
    /// How long the last answer took.
    pub last_latency: Option<Duration>,
}

/// The role state machine of one engine.
#[derive(Debug)]
pub struct Leadership {
    cfg: LeadershipConfig,
    role: Role,
    step: Step,
    /// Another engine was seen holding the lock: a later promotion is a failover.
    seen_other: bool,
    stats: LeaderStats,
    actions: VecDeque<Action>,
    events: VecDeque<LeaderEvent>,
}

impl Leadership {
    /// A standby that asks for the lock at once.
    pub fn new(cfg: LeadershipConfig, now: Instant) -> Self {
        Self {
            cfg,
            role: Role::Standby,
            step: Step::Idle { next: now },
            seen_other: false,
            stats: LeaderStats::default(),
            actions: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// The role now.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Counters and the store's health.
    pub fn stats(&self) -> LeaderStats {
        self.stats
    }

    /// When [`Leadership::handle_timeout`] must next be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Instant {
        match self.step {
            Step::Idle { next } => next,
            Step::Waiting { since, .. } => since + self.cfg.store_timeout,
        }
    }

    /// Asks the store when it is time, or gives up on an answer that is too late.
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.step {
            Step::Idle { next } if now >= next => {
                let action = match self.role {
                    Role::Standby => Action::TryLock,
                    Role::Active => Action::CheckSession,
                };
                self.actions.push_back(action);
                self.step = Step::Waiting { action, since: now };
            }
            Step::Waiting { since, .. } if now >= since + self.cfg.store_timeout => {
                self.stats.store_ok = false;
                self.stats.last_latency = Some(now.saturating_duration_since(since));
                // A late answer must not count: the session it would come on is dropped.
                self.actions.push_back(Action::DropSession);
                if self.role == Role::Active {
                    self.step_down(StepDown::Timeout);
                }
                self.step = Step::Idle {
                    next: now + self.cfg.retry_every,
                };
            }
            _ => {}
        }
    }

    /// The answer to the action asked; ignored when nothing is asked (it came too late).
    pub fn handle_answer(&mut self, answer: Answer, now: Instant) {
        let Step::Waiting { action, since } = self.step else {
            return;
        };
        self.stats.last_latency = Some(now.saturating_duration_since(since));
        self.stats.store_ok = !matches!(answer, Answer::Failed(_));
        match (self.role, action, answer) {
            (Role::Standby, Action::TryLock, Answer::Acquired) => {
                self.role = Role::Active;
                let failover = self.seen_other;
                if failover {
                    self.stats.failovers += 1;
                }
                self.seen_other = false;
                self.events.push_back(LeaderEvent::Promoted { failover });
            }
            (Role::Standby, _, Answer::Busy) => self.seen_other = true,
            (Role::Active, _, Answer::Alive) => {}
            (Role::Active, _, Answer::Failed(e)) => {
                self.actions.push_back(Action::DropSession);
                self.step_down(StepDown::CheckFailed(e));
            }
            (Role::Active, _, other) => {
                // Anything but "alive" from the holder's own session: it cannot know it
                // still holds the lock.
                self.actions.push_back(Action::DropSession);
                self.step_down(StepDown::CheckFailed(format!(
                    "unexpected answer {other:?}"
                )));
            }
            (Role::Standby, _, Answer::Failed(_)) => {
                self.actions.push_back(Action::DropSession);
            }
            (Role::Standby, _, Answer::Alive) => {}
            (Role::Standby, Action::CheckSession | Action::DropSession, Answer::Acquired) => {}
        }
        // Measured from the ask, so a slow store does not stretch the period.
        self.step = Step::Idle {
            next: (since + self.cfg.retry_every).max(now),
        };
    }

    /// The session closed (the server went away, the connection broke). An active engine
    /// steps down at once; the next try reconnects.
    pub fn handle_session_lost(&mut self, now: Instant) {
        self.stats.store_ok = false;
        if self.role == Role::Active {
            self.step_down(StepDown::SessionLost);
        }
        if let Step::Waiting { .. } = self.step {
            self.step = Step::Idle {
                next: now + self.cfg.retry_every,
            };
        }
    }

    fn step_down(&mut self, why: StepDown) {
        self.role = Role::Standby;
        self.stats.step_downs += 1;
        self.events.push_back(LeaderEvent::Demoted(why));
    }

    /// The next thing to ask the store, until `None`.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The next role change, until `None`.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<LeaderEvent> {
        self.events.pop_front()
    }
}
