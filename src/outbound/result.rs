//! What the engine's callback found out (issue 15), in the call record and for the ticket:
//! the robot's answers, the citizen's spoken reason, and the ticket action they make
//! (`workflow::action::Callback` or `CallbackMissed`), decided here once.

use serde::{Deserialize, Serialize};

use crate::outbound::dialler::JobResult;
use crate::outbound::rules::Outcome;
use crate::workflow::action::{
    Action, CallbackEvidence, CallbackMethod, CallbackMiss, CallbackTry, Rating,
};
use crate::workflow::model::Recording;

/// What a callback robot collected on one call: the ticket's `callback` event is made of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RobotSummary {
    pub ended: RobotEnded,
    /// 1 = go on, 2 = no (`None`: not asked or not answered).
    #[serde(default)]
    pub consent: Option<bool>,
    /// Was the unit in contact with the citizen?
    #[serde(default)]
    pub contacted: Option<bool>,
    /// Is the problem solved?
    #[serde(default)]
    pub solved: Option<bool>,
    #[serde(default)]
    pub rating: Option<RobotRating>,
}

/// How a robot callback ended (`ivr::robot::Ended`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RobotEnded {
    /// Every question answered.
    Completed,
    /// A question went unanswered as often as the script allows.
    NoInput,
    /// The citizen declined at the consent step.
    Refused,
    /// `0`: the citizen asked for a person.
    ToPerson,
    /// The citizen hung up before the end.
    HungUp,
}

/// The citizen's keypad rating (W14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RobotRating {
    Satisfied,
    BasicallySatisfied,
    Unsatisfied,
}

/// A reason recording: its file under the data dir, its hash, how long it plays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReasonRecording {
    pub path: String,
    pub sha256: String,
    pub duration_ms: u64,
}

impl RobotSummary {
    pub fn of(r: &crate::ivr::robot::RobotResult) -> RobotSummary {
        use crate::ivr::robot::{Ended, Rating};
        RobotSummary {
            ended: match r.ended {
                Ended::Completed => RobotEnded::Completed,
                Ended::NoInput => RobotEnded::NoInput,
                Ended::Refused => RobotEnded::Refused,
                Ended::ToPerson => RobotEnded::ToPerson,
                Ended::HungUp => RobotEnded::HungUp,
            },
            consent: r.consent,
            contacted: r.contacted,
            solved: r.solved,
            rating: r.rating.map(|x| match x {
                Rating::Satisfied => RobotRating::Satisfied,
                Rating::BasicallySatisfied => RobotRating::BasicallySatisfied,
                Rating::Unsatisfied => RobotRating::Unsatisfied,
            }),
        }
    }
}

/// How one try of the engine's callback went, for the ticket's attempt history.
pub fn try_of(at: chrono::DateTime<chrono::Utc>, outcome: Option<Outcome>) -> CallbackTry {
    CallbackTry {
        at: at.with_timezone(&crate::workflow::model::china()),
        outcome: match outcome {
            Some(Outcome::Answered) => "answered",
            Some(Outcome::Busy) => "busy",
            Some(Outcome::NoAnswer) => "no_answer",
            Some(Outcome::Rejected { .. }) => "rejected",
            Some(Outcome::Unreachable { .. }) => "unreachable",
            None => "interrupted",
        }
        .to_string(),
    }
}

/// The ticket action for a callback job the dialler ended without an answered call; `None`
/// when the job reached the citizen (its call's record decides) or was withdrawn.
pub fn missed_action(
    result: JobResult,
    method: CallbackMethod,
    tries: Vec<CallbackTry>,
) -> Option<Action> {
    let why = match result {
        JobResult::Exhausted => CallbackMiss::NotReached,
        JobResult::Unreachable => CallbackMiss::Unreachable,
        JobResult::DoNotCall => CallbackMiss::DoNotCall,
        JobResult::Reached | JobResult::Cancelled => return None,
    };
    Some(Action::CallbackMissed {
        method,
        why,
        evidence: CallbackEvidence {
            tries,
            ..CallbackEvidence::default()
        },
    })
}

/// The ticket action for a robot callback the citizen answered: their answers with the
/// call, its recording and the spoken reason (W13/W14); declined → 未评 (no consent); no
/// rating (silent, gone, asked for a person) → the ticket waits for one by other means.
pub fn answered_action(
    robot: Option<&RobotSummary>,
    reason: Option<&ReasonRecording>,
    call: &str,
    recording: Option<Recording>,
    tries: Vec<CallbackTry>,
) -> Action {
    let evidence = CallbackEvidence {
        call: Some(call.to_string()),
        recording,
        reason_recording: reason.map(|r| Recording {
            path: r.path.clone(),
            sha256: r.sha256.clone(),
        }),
        tries,
    };
    let miss = |why| Action::CallbackMissed {
        method: CallbackMethod::Robot,
        why,
        evidence: evidence.clone(),
    };
    let Some(r) = robot else {
        // The call ended before the robot had a result (the engine stopped): nobody answered.
        return miss(CallbackMiss::HungUp);
    };
    if r.consent == Some(false) {
        return Action::Callback {
            method: CallbackMethod::Robot,
            consent: false,
            contacted: None,
            solved: None,
            rating: None,
            reason: None,
            evidence,
        };
    }
    match (r.ended, r.rating) {
        (RobotEnded::Completed, Some(rating)) => Action::Callback {
            method: CallbackMethod::Robot,
            consent: true,
            contacted: r.contacted,
            solved: r.solved,
            rating: Some(match rating {
                RobotRating::Satisfied => Rating::Satisfied,
                RobotRating::BasicallySatisfied => Rating::BasicallySatisfied,
                RobotRating::Unsatisfied => Rating::Unsatisfied,
            }),
            reason: None,
            evidence,
        },
        (RobotEnded::ToPerson, _) => miss(CallbackMiss::ToPerson),
        (RobotEnded::HungUp, _) => miss(CallbackMiss::HungUp),
        _ => miss(CallbackMiss::NoInput),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(
        ended: RobotEnded,
        consent: Option<bool>,
        rating: Option<RobotRating>,
    ) -> RobotSummary {
        RobotSummary {
            ended,
            consent,
            contacted: Some(true),
            solved: Some(false),
            rating,
        }
    }

    #[test]
    fn answers_make_a_callback_and_everything_else_a_miss() {
        let reason = ReasonRecording {
            path: "r.wav".into(),
            sha256: "00".repeat(32),
            duration_ms: 4000,
        };
        let a = answered_action(
            Some(&summary(
                RobotEnded::Completed,
                Some(true),
                Some(RobotRating::Unsatisfied),
            )),
            Some(&reason),
            "c1",
            None,
            Vec::new(),
        );
        match a {
            Action::Callback {
                method,
                consent,
                rating,
                evidence,
                ..
            } => {
                assert_eq!(
                    (method, consent, rating),
                    (CallbackMethod::Robot, true, Some(Rating::Unsatisfied))
                );
                assert_eq!(
                    evidence.reason_recording.map(|r| r.path),
                    Some("r.wav".into())
                );
                assert_eq!(evidence.call.as_deref(), Some("c1"));
            }
            other => panic!("{other:?}"),
        }
        let declined = answered_action(
            Some(&summary(RobotEnded::Refused, Some(false), None)),
            None,
            "c1",
            None,
            Vec::new(),
        );
        assert!(matches!(declined, Action::Callback { consent: false, .. }));
        for (ended, why) in [
            (RobotEnded::NoInput, CallbackMiss::NoInput),
            (RobotEnded::HungUp, CallbackMiss::HungUp),
            (RobotEnded::ToPerson, CallbackMiss::ToPerson),
        ] {
            let a = answered_action(
                Some(&summary(ended, Some(true), None)),
                None,
                "c1",
                None,
                Vec::new(),
            );
            assert!(
                matches!(a, Action::CallbackMissed { why: w, .. } if w == why),
                "{ended:?}"
            );
        }
        assert_eq!(
            missed_action(JobResult::Reached, CallbackMethod::Robot, Vec::new()),
            None
        );
        assert!(matches!(
            missed_action(JobResult::DoNotCall, CallbackMethod::Robot, Vec::new()),
            Some(Action::CallbackMissed {
                why: CallbackMiss::DoNotCall,
                ..
            })
        ));
    }
}
