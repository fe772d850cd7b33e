//! The validated callback robot script (回访机器人, issue 15): what the loader hands the
//! `RobotNavigator`. Like `MenuTree` it has no public constructor: a `RobotScript` exists only
//! if every step binds `0` to a person, every answer of a step has a key, every prompt file
//! exists and every purpose is from the closed, advertising-free list.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use super::model::{total, Key, Prompt};

/// The robot's steps, in the order a callback runs them. `Reason` is asked only after
/// 不满意; `Goodbye` closes a refused or unanswered callback, `Thanks` a completed one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StepKind {
    /// Says who calls about which request, then asks whether the citizen will answer.
    Consent,
    /// Did the unit handling the request contact the citizen?
    Contacted,
    /// Is the problem solved?
    Solved,
    /// 满意 / 基本满意 / 不满意 (W14).
    Rating,
    /// The citizen's reason for 不满意, recorded as audio.
    Reason,
    Thanks,
    Goodbye,
}

impl StepKind {
    /// Every step, in file order.
    pub const ALL: [StepKind; 7] = [
        StepKind::Consent,
        StepKind::Contacted,
        StepKind::Solved,
        StepKind::Rating,
        StepKind::Reason,
        StepKind::Thanks,
        StepKind::Goodbye,
    ];

    /// The step's table name in a robot file (`[robot.<id>.<name>]`).
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Consent => "consent",
            StepKind::Contacted => "contacted",
            StepKind::Solved => "solved",
            StepKind::Rating => "rating",
            StepKind::Reason => "reason",
            StepKind::Thanks => "thanks",
            StepKind::Goodbye => "goodbye",
        }
    }

    /// The answers a key of this step may give; every one but `person` must be bound, and `0`
    /// must be `person` (rule C5).
    pub fn answers(self) -> &'static [Answer] {
        match self {
            StepKind::Consent | StepKind::Contacted | StepKind::Solved => {
                &[Answer::Yes, Answer::No, Answer::Person]
            }
            StepKind::Rating => &[
                Answer::Satisfied,
                Answer::BasicallySatisfied,
                Answer::Unsatisfied,
                Answer::Person,
            ],
            StepKind::Reason => &[Answer::Done, Answer::Person],
            StepKind::Thanks | StepKind::Goodbye => &[Answer::Person],
        }
    }

    /// Closing steps say their words, take `0` for a person a little longer, and end the call.
    pub fn is_closing(self) -> bool {
        matches!(self, StepKind::Thanks | StepKind::Goodbye)
    }

    /// The purpose of the prompt a step cannot do without: the question it asks, or the
    /// closing words.
    pub fn required_purpose(self) -> super::model::Purpose {
        if self.is_closing() {
            super::model::Purpose::Thanks
        } else {
            super::model::Purpose::Question
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for StepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a key means in a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Answer {
    Yes,
    No,
    Satisfied,
    BasicallySatisfied,
    Unsatisfied,
    /// Ends the reason recording (`#`).
    Done,
    /// Leave the robot for a person (`0`, at every step).
    Person,
}

impl Answer {
    /// The name used in robot files.
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Yes => "yes",
            Answer::No => "no",
            Answer::Satisfied => "satisfied",
            Answer::BasicallySatisfied => "basically_satisfied",
            Answer::Unsatisfied => "unsatisfied",
            Answer::Done => "done",
            Answer::Person => "person",
        }
    }

    /// Parses an answer as written in a robot file, among those `allowed` in its step.
    pub fn parse_in(name: &str, allowed: &[Answer]) -> Option<Answer> {
        allowed.iter().copied().find(|a| a.as_str() == name)
    }
}

/// One validated step: its prompts and what its keys mean.
#[derive(Debug, Clone)]
pub struct RobotStep {
    pub(crate) kind: StepKind,
    pub(crate) prompts: Vec<Prompt>,
    /// Index in `prompts` of the first `question` (or, in closing steps, `thanks`) prompt: a
    /// step asked again starts there, so nobody hears the introduction twice.
    pub(crate) retry_start: usize,
    pub(crate) keys: BTreeMap<Key, Answer>,
}

impl RobotStep {
    pub fn kind(&self) -> StepKind {
        self.kind
    }
    /// Everything played when the step is first asked.
    pub fn prompts(&self) -> &[Prompt] {
        &self.prompts
    }
    /// What is played when the step is asked again (after no input or a wrong key).
    pub fn retry_prompts(&self) -> &[Prompt] {
        self.prompts.get(self.retry_start..).unwrap_or(&[])
    }
    pub fn keys(&self) -> &BTreeMap<Key, Answer> {
        &self.keys
    }
    pub fn answer(&self, key: Key) -> Option<Answer> {
        self.keys.get(&key).copied()
    }
}

/// One validated robot script (`[robot.<id>]`).
#[derive(Debug, Clone)]
pub struct RobotScript {
    pub(crate) id: String,
    /// In `StepKind::ALL` order.
    pub(crate) steps: Vec<RobotStep>,
    pub(crate) timeout: Duration,
    pub(crate) tries: u32,
    pub(crate) person_queue: String,
    pub(crate) invalid_key_prompt: Option<Prompt>,
    pub(crate) no_input_prompt: Option<Prompt>,
    pub(crate) reason_max: Duration,
    pub(crate) reason_silence: Duration,
}

impl RobotScript {
    /// The id used in files and in the ticket's callback event.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// A step; the loader guarantees every kind is present.
    pub fn step(&self, kind: StepKind) -> &RobotStep {
        // `steps` is built from `StepKind::ALL`, so the index always hits.
        self.steps
            .get(kind.index())
            .unwrap_or_else(|| &self.steps[0])
    }
    /// How long the citizen has to press a key after a question (and after the closing words,
    /// for `0`).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
    /// How often a step is asked before the callback ends as unanswered; timeouts and wrong
    /// keys each use one.
    pub fn tries(&self) -> u32 {
        self.tries
    }
    /// The ACD queue `0` leads to.
    pub fn person_queue(&self) -> &str {
        &self.person_queue
    }
    pub fn invalid_key_prompt(&self) -> Option<&Prompt> {
        self.invalid_key_prompt.as_ref()
    }
    pub fn no_input_prompt(&self) -> Option<&Prompt> {
        self.no_input_prompt.as_ref()
    }
    /// The longest reason recording.
    pub fn reason_max(&self) -> Duration {
        self.reason_max
    }
    /// The silence that ends a reason recording.
    pub fn reason_silence(&self) -> Duration {
        self.reason_silence
    }

    /// The longest a callback can last when the citizen answers every question at the last
    /// moment of the last try and gives a reason of the longest length: `hotline check` prints
    /// it, the dialler may size its slots with it.
    pub fn worst_case(&self) -> Duration {
        let retry = |s: &RobotStep| {
            self.no_input_prompt
                .as_ref()
                .map_or(Duration::ZERO, |p| p.duration)
                + total(s.retry_prompts())
                + self.timeout
        };
        let asked = |kind: StepKind| {
            let s = self.step(kind);
            total(s.prompts()) + self.timeout + retry(s) * self.tries.saturating_sub(1)
        };
        let reason = self.step(StepKind::Reason);
        let reason_round = |first: bool| {
            let prompts = if first {
                total(reason.prompts())
            } else {
                total(reason.retry_prompts())
            };
            prompts + self.reason_max
        };
        asked(StepKind::Consent)
            + asked(StepKind::Contacted)
            + asked(StepKind::Solved)
            + asked(StepKind::Rating)
            + reason_round(true)
            + reason_round(false) * self.tries.saturating_sub(1)
            + total(self.step(StepKind::Thanks).prompts())
            + self.timeout
    }
}

/// The script as `hotline check` prints it: one line per robot.
impl fmt::Display for RobotScript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "robot {}: consent, contacted, solved, rating, reason (≤ {} s), thanks; {} tries of {} s; 0→queue {}; longest call {:.0} s",
            self.id,
            self.reason_max.as_secs(),
            self.tries,
            self.timeout.as_secs_f64(),
            self.person_queue,
            self.worst_case().as_secs_f64()
        )
    }
}
