//! The dialler (issue 15): the citizens the hotline has to call back, each a *job* with its
//! tries, dialled within the operator's rules (`outbound::rules`): only inside the calling
//! window, never a do-not-call number, at most `max_concurrent` calls up and
//! `calls_per_second` new ones, a failed try retried after `retry_gap` until `max_attempts`.
//! Sans-IO: the shell hands it requests, outcomes and the time, and places the calls it asks
//! for; the time is the wall clock (`DateTime<Utc>`), because the window is a time of day.

use std::collections::{BTreeSet, HashMap, VecDeque};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::outbound::rules::{is_phone_number, OutboundRules, Outcome};

/// Why a citizen is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// W13's callback by the robot (回访机器人).
    RobotCallback,
    /// W13's callback by a person.
    AgentCallback,
    /// The caller chose "call me back" instead of waiting (C8).
    CallMeBack,
}

/// A citizen to call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRequest {
    /// The ticket (or, for "call me back", the call) it is about: one job each at a time.
    pub reference: String,
    /// The number to dial, as the trunk takes it.
    pub number: String,
    pub purpose: Purpose,
}

/// A job's number within this dialler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct JobId(pub u64);

/// One try's number (the shell's handle on the call it places).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct AttemptId(pub u64);

/// One try, for the job's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Attempt {
    #[serde(serialize_with = "crate::china_time::serialize")]
    pub at: DateTime<Utc>,
    /// `None` while the call is up.
    pub outcome: Option<Outcome>,
}

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobResult {
    /// A try was answered.
    Reached,
    /// Every try failed in a way worth retrying (busy, no answer, trunk trouble).
    Exhausted,
    /// A try was refused for good (no such number, refused): no more tries.
    Unreachable,
    /// The number is on the do-not-call list: never dialled.
    DoNotCall,
    /// Withdrawn before it ended (the ticket changed, the operator cancelled it).
    Cancelled,
}

/// What the dialler asks of the shell, or tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiallerOutput {
    /// Place a call now.
    Dial {
        job: JobId,
        attempt: AttemptId,
        request: CallRequest,
        /// 1 for the first try.
        try_no: u32,
    },
    /// A job is over; its history goes with it.
    Finished {
        job: JobId,
        request: CallRequest,
        result: JobResult,
        attempts: Vec<Attempt>,
    },
}

/// Why a request was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiallerError {
    #[error("{0:?} is not a phone number")]
    BadNumber(String),
    #[error("{0} already has a callback waiting or under way")]
    AlreadyQueued(String),
    #[error("no job {0:?}")]
    UnknownJob(JobId),
    #[error("no try {0:?} is under way")]
    UnknownAttempt(AttemptId),
}

#[derive(Debug, Clone)]
struct Job {
    request: CallRequest,
    attempts: Vec<Attempt>,
    /// When it may be dialled (waiting), or `None` while a try is up.
    due: Option<(DateTime<Utc>, u64)>,
}

/// The dialler's state: jobs waiting by due time, tries under way.
#[derive(Debug)]
pub struct Dialler {
    rules: OutboundRules,
    jobs: HashMap<JobId, Job>,
    /// Waiting jobs by (due, submission order).
    waiting: BTreeSet<(DateTime<Utc>, u64, JobId)>,
    in_flight: HashMap<AttemptId, JobId>,
    /// Answered tries whose calls are still up: each holds a trunk line (`max_concurrent`)
    /// until [`Dialler::handle_call_ended`].
    talking: std::collections::HashSet<AttemptId>,
    last_dial: Option<DateTime<Utc>>,
    next: u64,
    out: VecDeque<DiallerOutput>,
}

impl Dialler {
    pub fn new(rules: OutboundRules) -> Self {
        Dialler {
            rules,
            jobs: HashMap::new(),
            waiting: BTreeSet::new(),
            in_flight: HashMap::new(),
            talking: std::collections::HashSet::new(),
            last_dial: None,
            next: 1,
            out: VecDeque::new(),
        }
    }

    /// New rules (a reload): they apply from the next dial on.
    pub fn set_rules(&mut self, rules: OutboundRules) {
        self.rules = rules;
    }

    pub fn rules(&self) -> &OutboundRules {
        &self.rules
    }

    /// Calls up now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len() + self.talking.len()
    }

    /// Jobs waiting for their turn.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    fn mint(&mut self) -> u64 {
        let n = self.next;
        self.next += 1;
        n
    }

    /// Takes a citizen to call from `now` on. A do-not-call number is finished at once
    /// (`JobResult::DoNotCall`), never dialled.
    pub fn submit(
        &mut self,
        request: CallRequest,
        now: DateTime<Utc>,
    ) -> Result<JobId, DiallerError> {
        if !is_phone_number(&request.number) {
            return Err(DiallerError::BadNumber(request.number));
        }
        if self
            .jobs
            .values()
            .any(|j| j.request.reference == request.reference)
        {
            return Err(DiallerError::AlreadyQueued(request.reference));
        }
        let id = JobId(self.mint());
        if self.rules.is_do_not_call(&request.number) {
            self.out.push_back(DiallerOutput::Finished {
                job: id,
                request,
                result: JobResult::DoNotCall,
                attempts: Vec::new(),
            });
            return Ok(id);
        }
        let seq = self.mint();
        self.jobs.insert(
            id,
            Job {
                request,
                attempts: Vec::new(),
                due: Some((now, seq)),
            },
        );
        self.waiting.insert((now, seq, id));
        self.dial_due(now);
        Ok(id)
    }

    /// Withdraws a job; a try under way is left to end (its outcome is then ignored).
    pub fn cancel(&mut self, job: JobId) -> Result<(), DiallerError> {
        let j = self
            .jobs
            .remove(&job)
            .ok_or(DiallerError::UnknownJob(job))?;
        if let Some((due, seq)) = j.due {
            self.waiting.remove(&(due, seq, job));
        }
        self.in_flight.retain(|_, v| *v != job);
        self.out.push_back(DiallerOutput::Finished {
            job,
            request: j.request,
            result: JobResult::Cancelled,
            attempts: j.attempts,
        });
        Ok(())
    }

    /// How a try ended: the job is finished, or waits `retry_gap` for its next try.
    pub fn handle_outcome(
        &mut self,
        attempt: AttemptId,
        outcome: Outcome,
        now: DateTime<Utc>,
    ) -> Result<(), DiallerError> {
        let id = self
            .in_flight
            .remove(&attempt)
            .ok_or(DiallerError::UnknownAttempt(attempt))?;
        let Some(job) = self.jobs.get_mut(&id) else {
            return Ok(());
        };
        if let Some(last) = job.attempts.last_mut() {
            last.outcome = Some(outcome);
        }
        if outcome == Outcome::Answered {
            self.talking.insert(attempt);
        }
        let result = if outcome == Outcome::Answered {
            Some(JobResult::Reached)
        } else if !outcome.retryable() {
            Some(JobResult::Unreachable)
        } else if job.attempts.len() >= self.rules.max_attempts as usize {
            Some(JobResult::Exhausted)
        } else {
            None
        };
        match result {
            Some(result) => {
                if let Some(job) = self.jobs.remove(&id) {
                    self.out.push_back(DiallerOutput::Finished {
                        job: id,
                        request: job.request,
                        result,
                        attempts: job.attempts,
                    });
                }
            }
            None => {
                let seq = self.next;
                self.next += 1;
                let due =
                    now + chrono::Duration::from_std(self.rules.retry_gap).unwrap_or_default();
                job.due = Some((due, seq));
                self.waiting.insert((due, seq, id));
            }
        }
        self.dial_due(now);
        Ok(())
    }

    /// An answered try's call ended: its line is free for the next dial. (An unanswered
    /// try frees its line with its outcome; ending it again is harmless.)
    pub fn handle_call_ended(&mut self, attempt: AttemptId, now: DateTime<Utc>) {
        if self.talking.remove(&attempt) {
            self.dial_due(now);
        }
    }

    /// Dials what is due at `now`.
    pub fn handle_timeout(&mut self, now: DateTime<Utc>) {
        self.dial_due(now);
    }

    /// When the dialler next has something to dial (`None`: nothing waits, or every line
    /// is busy and an outcome will wake it).
    pub fn poll_timeout(&self) -> Option<DateTime<Utc>> {
        if self.in_flight() >= self.rules.max_concurrent {
            return None;
        }
        let (due, _, _) = self.waiting.first()?;
        let paced = self.next_slot().map_or(*due, |slot| slot.max(*due));
        self.rules.next_allowed(paced)
    }

    pub fn poll_output(&mut self) -> Option<DiallerOutput> {
        self.out.pop_front()
    }

    /// The earliest instant the pacing allows another dial.
    fn next_slot(&self) -> Option<DateTime<Utc>> {
        let spacing = chrono::Duration::from_std(self.rules.dial_spacing()).unwrap_or_default();
        self.last_dial.map(|t| t + spacing)
    }

    fn dial_due(&mut self, now: DateTime<Utc>) {
        while self.in_flight() < self.rules.max_concurrent {
            let Some(&(due, seq, id)) = self.waiting.first() else {
                return;
            };
            if due > now || self.next_slot().is_some_and(|slot| slot > now) {
                return;
            }
            if self.rules.next_allowed(now) != Some(now) {
                return; // outside the window: `poll_timeout` says when it opens
            }
            self.waiting.remove(&(due, seq, id));
            let attempt = AttemptId(self.mint());
            let Some(job) = self.jobs.get_mut(&id) else {
                continue;
            };
            job.due = None;
            job.attempts.push(Attempt {
                at: now,
                outcome: None,
            });
            let try_no = u32::try_from(job.attempts.len()).unwrap_or(u32::MAX);
            let request = job.request.clone();
            self.in_flight.insert(attempt, id);
            self.last_dial = Some(now);
            self.out.push_back(DiallerOutput::Dial {
                job: id,
                attempt,
                request,
                try_no,
            });
        }
    }
}
