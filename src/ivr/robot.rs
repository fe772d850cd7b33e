//! The callback robot's per-call navigator (回访机器人, issue 15): a sans-IO state machine that
//! runs one answered callback through a `RobotScript`. Keys, "prompt finished", "recording
//! finished", hang-up and timeouts in; what to play, when to record, "to a person" and the
//! result out. It reads no clock, plays and records nothing itself, and every path ends in
//! exactly one `Finished`, whatever the citizen does or the media layer fails to report.

#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::model::{total, Key, PromptRef};
use super::navigator::PlayId;
use super::script::{Answer, RobotScript, StepKind};

/// A reason shorter than this is silence, not a reason: the step counts as unanswered.
pub const MIN_REASON: Duration = Duration::from_secs(1);

/// How long past a play list's length (or a recording's `max`) the navigator waits for the
/// media layer's report before going on without it.
pub const MEDIA_GRACE: Duration = Duration::from_secs(5);

/// The citizen's rating by keypad (W14). `as_str` gives the ticket's rating names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rating {
    /// 满意
    Satisfied,
    /// 基本满意
    BasicallySatisfied,
    /// 不满意: the reason is recorded and the ticket goes to `checking_rating` (W15).
    Unsatisfied,
}

impl Rating {
    /// The name the ticket's rating uses (`workflow::action::Rating` in snake case).
    pub fn as_str(self) -> &'static str {
        match self {
            Rating::Satisfied => "satisfied",
            Rating::BasicallySatisfied => "basically_satisfied",
            Rating::Unsatisfied => "unsatisfied",
        }
    }
}

/// How a callback ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ended {
    /// Every question answered (the reason is optional: see `RobotResult::reason_recorded`).
    Completed,
    /// A step went unanswered `tries` times: the callback counts as not answered.
    NoInput,
    /// The citizen declined to take part (2 at the consent step).
    Refused,
    /// `0`: the citizen asked for a person (a new request, a question).
    ToPerson,
    /// The citizen hung up before the end.
    HungUp,
}

/// What the callback collected; `None` for a question not (yet) answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RobotResult {
    pub consent: Option<bool>,
    pub contacted: Option<bool>,
    pub solved: Option<bool>,
    pub rating: Option<Rating>,
    /// A reason recording of at least `MIN_REASON` was made (the media layer keeps it).
    pub reason_recorded: bool,
    /// The steps answered, in order (the reason counts once recorded).
    pub answered_steps: Vec<StepKind>,
    pub ended: Ended,
}

/// What the call layer must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RobotOutput {
    /// Play these prompts in order, replacing anything playing; a key press during them is
    /// taken at once (barge-in). Report the end with `handle_play_done(id, now)`.
    Play { id: PlayId, prompts: Vec<PromptRef> },
    /// Record the citizen until `max`, or until `silence` of silence; report the kept length
    /// (trailing silence cut) with `handle_recording_done`.
    StartRecording { max: Duration, silence: Duration },
    /// End the recording now (`#`, `0` or hang-up); `handle_recording_done` still follows.
    StopRecording,
    /// Hand the call to this ACD queue (`0` was pressed); `Finished` follows.
    ToPerson { queue: String },
    /// Terminal: the result for the ticket's callback event. Nothing follows.
    Finished(RobotResult),
}

/// Where the current step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// A play list runs; `guard` is when to stop waiting for its end.
    Playing { play: PlayId, guard: Instant },
    /// Asked; waiting for a key until `until`.
    Waiting { until: Instant },
    /// The reason is being recorded.
    Recording { guard: Instant },
    /// The recording was told to stop; its report decides what comes next.
    Stopping { guard: Instant, then: AfterStop },
}

/// What follows a recording stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterStop {
    Thanks,
    Person,
    HungUp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    NotStarted,
    /// In `step`; `failures` counts timeouts and wrong keys there.
    At {
        step: StepKind,
        failures: u32,
        phase: Phase,
    },
    Done,
}

/// Why a round failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    Timeout,
    InvalidKey,
}

/// One answered callback's way through the script.
#[derive(Debug)]
pub struct RobotNavigator {
    script: Arc<RobotScript>,
    state: State,
    result: RobotResult,
    /// How the goodbye step ends the callback (refused, or no input).
    goodbye_ends: Ended,
    next_play: u64,
    out: VecDeque<RobotOutput>,
}

impl RobotNavigator {
    /// A navigator for `script`; nothing happens until `start`.
    pub fn new(script: &Arc<RobotScript>) -> Self {
        RobotNavigator {
            script: Arc::clone(script),
            state: State::NotStarted,
            result: RobotResult {
                consent: None,
                contacted: None,
                solved: None,
                rating: None,
                reason_recorded: false,
                answered_steps: Vec::new(),
                ended: Ended::NoInput,
            },
            goodbye_ends: Ended::NoInput,
            next_play: 0,
            out: VecDeque::new(),
        }
    }

    /// The citizen answered: say who calls and ask for consent (`now` is the answer time).
    pub fn start(&mut self, now: Instant) {
        if self.state == State::NotStarted {
            self.ask(StepKind::Consent, 0, None, now);
        }
    }

    /// A DTMF key. During a prompt it is taken at once (barge-in); during the reason
    /// recording only `#` (done) and `0` (person) count; after the end it is ignored.
    pub fn handle_digit(&mut self, digit: char, now: Instant) {
        let State::At {
            step,
            failures,
            phase,
        } = self.state
        else {
            tracing::debug!(%digit, "robot: key outside a step ignored");
            return;
        };
        let answer = Key::from_char(digit).and_then(|k| self.script.step(step).answer(k));
        match phase {
            Phase::Recording { .. } => {
                let then = match answer {
                    Some(Answer::Done) => AfterStop::Thanks,
                    Some(Answer::Person) => AfterStop::Person,
                    // Other keys are part of what the citizen says.
                    _ => return,
                };
                self.stop_recording(step, failures, then, now);
                return;
            }
            Phase::Stopping { .. } => return,
            Phase::Playing { .. } | Phase::Waiting { .. } => {}
        }
        match answer {
            Some(Answer::Person) => self.hand_to_person(),
            _ if step.is_closing() => {}
            // `#` during the reason question: the citizen gives no reason.
            Some(Answer::Done) => self.ask(StepKind::Thanks, 0, None, now),
            Some(a) => self.answered(step, a, now),
            None => self.fail(step, failures, Failure::InvalidKey, now),
        }
    }

    /// The player finished play list `play`: wait for a key, or start the reason recording.
    /// Reports for a list that was replaced are ignored.
    pub fn handle_play_done(&mut self, play: PlayId, now: Instant) {
        if let State::At {
            phase: Phase::Playing { play: current, .. },
            ..
        } = self.state
        {
            if current == play {
                self.played(now);
            }
        }
    }

    /// The reason recording ended (by `max`, silence, or `StopRecording`), keeping `duration`
    /// of audio.
    pub fn handle_recording_done(&mut self, duration: Duration, now: Instant) {
        let State::At {
            step,
            failures,
            phase,
        } = self.state
        else {
            return;
        };
        let then = match phase {
            Phase::Recording { .. } => None,
            Phase::Stopping { then, .. } => Some(then),
            Phase::Playing { .. } | Phase::Waiting { .. } => return,
        };
        let said = duration >= MIN_REASON;
        if said {
            self.result.reason_recorded = true;
            self.result.answered_steps.push(StepKind::Reason);
        }
        match then {
            Some(AfterStop::Thanks) => self.ask(StepKind::Thanks, 0, None, now),
            Some(AfterStop::Person) => self.hand_to_person(),
            Some(AfterStop::HungUp) => self.finish(Ended::HungUp),
            None if said => self.ask(StepKind::Thanks, 0, None, now),
            None => self.fail(step, failures, Failure::Timeout, now),
        }
    }

    /// The citizen hung up. A reason being recorded is stopped and its report awaited, so
    /// what they said before hanging up is kept.
    pub fn handle_hangup(&mut self, now: Instant) {
        match self.state {
            State::At {
                step,
                failures,
                phase: Phase::Recording { .. },
            } => self.stop_recording(step, failures, AfterStop::HungUp, now),
            State::At {
                step,
                failures,
                phase: Phase::Stopping { guard, .. },
            } => {
                let phase = Phase::Stopping {
                    guard,
                    then: AfterStop::HungUp,
                };
                self.state = State::At {
                    step,
                    failures,
                    phase,
                };
            }
            // The closing words were reached: how the callback ends is already decided.
            State::At { step, .. } if step.is_closing() => self.finish(self.closing_end(step)),
            State::At { .. } | State::NotStarted => self.finish(Ended::HungUp),
            State::Done => {}
        }
    }

    /// The time from `poll_timeout` has come (early or repeated calls are harmless).
    pub fn handle_timeout(&mut self, now: Instant) {
        let State::At {
            step,
            failures,
            phase,
        } = self.state
        else {
            return;
        };
        match phase {
            Phase::Playing { guard, .. } if now >= guard => {
                tracing::warn!(%step, "robot: no end reported for a prompt; going on");
                self.played(now);
            }
            Phase::Waiting { until } if now >= until => {
                if step.is_closing() {
                    self.finish(self.closing_end(step));
                } else {
                    self.fail(step, failures, Failure::Timeout, now);
                }
            }
            Phase::Recording { guard } | Phase::Stopping { guard, .. } if now >= guard => {
                tracing::warn!("robot: no end reported for the reason recording; going on");
                // Nothing is known to have been kept: count it as no reason.
                let then = match phase {
                    Phase::Stopping { then, .. } => then,
                    _ => AfterStop::Thanks,
                };
                if matches!(phase, Phase::Recording { .. }) {
                    self.out.push_back(RobotOutput::StopRecording);
                }
                match then {
                    AfterStop::Thanks => self.ask(StepKind::Thanks, 0, None, now),
                    AfterStop::Person => self.hand_to_person(),
                    AfterStop::HungUp => self.finish(Ended::HungUp),
                }
            }
            _ => {}
        }
    }

    /// The next thing to do; drain until `None` after every input.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<RobotOutput> {
        self.out.pop_front()
    }

    /// When to call `handle_timeout`; `None` before the start and after the end.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::At { phase, .. } => Some(match phase {
                Phase::Playing { guard, .. }
                | Phase::Recording { guard }
                | Phase::Stopping { guard, .. } => guard,
                Phase::Waiting { until } => until,
            }),
            State::NotStarted | State::Done => None,
        }
    }

    /// The step under way, or `None` before the start and after the end.
    pub fn current_step(&self) -> Option<StepKind> {
        match self.state {
            State::At { step, .. } => Some(step),
            State::NotStarted | State::Done => None,
        }
    }

    /// What has been collected so far (final once `Finished` was sent).
    pub fn result(&self) -> &RobotResult {
        &self.result
    }

    /// Whether `Finished` has been sent.
    pub fn is_finished(&self) -> bool {
        self.state == State::Done
    }

    /// Plays a step: everything on first asking, from its question on after a failed round,
    /// with the error prompt in front.
    fn ask(&mut self, step: StepKind, failures: u32, error: Option<PromptRef>, now: Instant) {
        let s = self.script.step(step);
        let body = if failures == 0 {
            s.prompts()
        } else {
            s.retry_prompts()
        };
        let error_len = match &error {
            Some(_) if failures > 0 => self.error_len(),
            _ => Duration::ZERO,
        };
        let guard = now + error_len + total(body) + MEDIA_GRACE;
        let prompts: Vec<PromptRef> = error
            .into_iter()
            .chain(body.iter().map(|p| p.file().clone()))
            .collect();
        let play = PlayId::next(&mut self.next_play);
        self.state = State::At {
            step,
            failures,
            phase: Phase::Playing { play, guard },
        };
        self.out.push_back(RobotOutput::Play { id: play, prompts });
    }

    /// The longest error prompt, for the play guard.
    fn error_len(&self) -> Duration {
        let len = |p: Option<&super::model::Prompt>| p.map_or(Duration::ZERO, |p| p.duration());
        len(self.script.no_input_prompt()).max(len(self.script.invalid_key_prompt()))
    }

    /// The current play list ended: the reason step records, the others wait for a key.
    fn played(&mut self, now: Instant) {
        let State::At { step, failures, .. } = self.state else {
            return;
        };
        let phase = if step == StepKind::Reason {
            let (max, silence) = (self.script.reason_max(), self.script.reason_silence());
            self.out
                .push_back(RobotOutput::StartRecording { max, silence });
            Phase::Recording {
                guard: now + max + MEDIA_GRACE,
            }
        } else {
            Phase::Waiting {
                until: now + self.script.timeout(),
            }
        };
        self.state = State::At {
            step,
            failures,
            phase,
        };
    }

    fn stop_recording(&mut self, step: StepKind, failures: u32, then: AfterStop, now: Instant) {
        self.out.push_back(RobotOutput::StopRecording);
        self.state = State::At {
            step,
            failures,
            phase: Phase::Stopping {
                guard: now + MEDIA_GRACE,
                then,
            },
        };
    }

    /// A question answered: note it and go to the next step.
    fn answered(&mut self, step: StepKind, answer: Answer, now: Instant) {
        let yes = answer == Answer::Yes;
        self.result.answered_steps.push(step);
        let next = match (step, answer) {
            (StepKind::Consent, _) => {
                self.result.consent = Some(yes);
                if !yes {
                    self.goodbye_ends = Ended::Refused;
                    StepKind::Goodbye
                } else {
                    StepKind::Contacted
                }
            }
            (StepKind::Contacted, _) => {
                self.result.contacted = Some(yes);
                StepKind::Solved
            }
            (StepKind::Solved, _) => {
                self.result.solved = Some(yes);
                StepKind::Rating
            }
            (StepKind::Rating, a) => {
                let rating = match a {
                    Answer::BasicallySatisfied => Rating::BasicallySatisfied,
                    Answer::Unsatisfied => Rating::Unsatisfied,
                    _ => Rating::Satisfied,
                };
                self.result.rating = Some(rating);
                if rating == Rating::Unsatisfied {
                    StepKind::Reason
                } else {
                    StepKind::Thanks
                }
            }
            // Closing steps and the reason take no answers here (see `handle_digit`).
            (other, _) => other,
        };
        self.ask(next, 0, None, now);
    }

    /// A timeout or a wrong key: ask again, or after the last try end the callback as
    /// unanswered (the reason step, being optional, goes on to the thanks instead).
    fn fail(&mut self, step: StepKind, failures: u32, why: Failure, now: Instant) {
        let failures = failures + 1;
        if failures >= self.script.tries() {
            if step == StepKind::Reason {
                self.ask(StepKind::Thanks, 0, None, now);
            } else {
                self.goodbye_ends = Ended::NoInput;
                self.ask(StepKind::Goodbye, 0, None, now);
            }
            return;
        }
        let error = match why {
            Failure::Timeout => self.script.no_input_prompt(),
            Failure::InvalidKey => self.script.invalid_key_prompt(),
        }
        .map(|p| p.file().clone());
        self.ask(step, failures, error, now);
    }

    /// How a closing step ends the callback.
    fn closing_end(&self, step: StepKind) -> Ended {
        if step == StepKind::Thanks {
            Ended::Completed
        } else {
            self.goodbye_ends
        }
    }

    fn hand_to_person(&mut self) {
        self.out.push_back(RobotOutput::ToPerson {
            queue: self.script.person_queue().to_string(),
        });
        self.finish(Ended::ToPerson);
    }

    fn finish(&mut self, ended: Ended) {
        if self.state == State::Done {
            return;
        }
        self.state = State::Done;
        self.result.ended = ended;
        self.out
            .push_back(RobotOutput::Finished(self.result.clone()));
    }
}
