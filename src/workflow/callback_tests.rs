//! The engine's callback (the robot, issue 15) against the rules with a fixed clock: its
//! evidence, the spoken reason, a callback that brought no rating, and who may record them.

use crate::workflow::action::{
    Action, CallbackEvidence, CallbackMethod, CallbackMiss, CallbackTry, Rating, Refusal,
};
use crate::workflow::citizen::tests::{t0, to_callback, wf};
use crate::workflow::event::EventKind;
use crate::workflow::memory::MemoryStore;
use crate::workflow::model::{Actor, Recording, Role};
use crate::workflow::store::TicketStore;
use crate::workflow::WorkflowError;

fn evidence(reason: bool) -> CallbackEvidence {
    let rec = |p: &str| Recording {
        path: p.into(),
        sha256: "ab".repeat(32),
    };
    CallbackEvidence {
        call: Some("c-1".into()),
        recording: Some(rec("recordings/2026/09/29/c-1.wav")),
        reason_recording: reason.then(|| rec("recordings/2026/09/29/c-1-reason.wav")),
        tries: vec![
            CallbackTry {
                at: t0(),
                outcome: "busy".into(),
            },
            CallbackTry {
                at: t0() + chrono::Duration::hours(2),
                outcome: "answered".into(),
            },
        ],
    }
}

fn robot(rating: Rating, reason: bool) -> Action {
    Action::Callback {
        method: CallbackMethod::Robot,
        consent: true,
        contacted: Some(true),
        solved: Some(rating != Rating::Unsatisfied),
        rating: Some(rating),
        reason: None,
        evidence: evidence(reason),
    }
}

#[test]
fn a_robot_rating_closes_the_ticket_with_its_call_recording_and_tries() {
    let w = wf();
    let mut s = MemoryStore::new();
    let (t, n) = to_callback(&w, &mut s);
    let at = t0() + chrono::Duration::minutes(n + 1);
    let t = w
        .act(
            &mut s,
            &t.id,
            None,
            &Actor::system(),
            &robot(Rating::BasicallySatisfied, false),
            at,
        )
        .unwrap();
    assert_eq!(t.state.name(), "closed");
    assert_eq!(t.rating, Some(Rating::BasicallySatisfied));
    let made = s
        .events(&t.id)
        .unwrap()
        .into_iter()
        .find_map(|e| match e.kind {
            EventKind::CallbackMade {
                method, evidence, ..
            } => Some((method, evidence)),
            _ => None,
        })
        .expect("callback_made");
    assert_eq!(made, (CallbackMethod::Robot, evidence(false)));
}

#[test]
fn an_unsatisfied_robot_rating_with_a_spoken_reason_goes_to_checking() {
    let w = wf();
    let mut s = MemoryStore::new();
    let (t, n) = to_callback(&w, &mut s);
    let at = t0() + chrono::Duration::minutes(n + 1);
    // Without the reason's recording (and no text) W14's reason is missing.
    let e = w
        .act(
            &mut s,
            &t.id,
            None,
            &Actor::system(),
            &robot(Rating::Unsatisfied, false),
            at,
        )
        .unwrap_err();
    assert!(
        matches!(e, WorkflowError::Refused(Refusal::RatingReasonRequired)),
        "{e:?}"
    );
    let t = w
        .act(
            &mut s,
            &t.id,
            None,
            &Actor::system(),
            &robot(Rating::Unsatisfied, true),
            at,
        )
        .unwrap();
    assert_eq!(t.state.name(), "checking_rating");
}

#[test]
fn a_missed_callback_waits_for_a_rating_then_counts_as_not_rated() {
    let w = wf();
    let mut s = MemoryStore::new();
    let (t, n) = to_callback(&w, &mut s);
    let at = t0() + chrono::Duration::minutes(n + 1);
    let missed = Action::CallbackMissed {
        method: CallbackMethod::Robot,
        why: CallbackMiss::NotReached,
        evidence: CallbackEvidence {
            tries: evidence(false).tries,
            ..Default::default()
        },
    };
    let t = w
        .act(&mut s, &t.id, None, &Actor::system(), &missed, at)
        .unwrap();
    assert_eq!(t.state.name(), "awaiting_rating");
    let due = s
        .events(&t.id)
        .unwrap()
        .into_iter()
        .find_map(|e| match e.kind {
            EventKind::CallbackMissed {
                rating_due, why, ..
            } => Some((rating_due, why)),
            _ => None,
        })
        .expect("callback_missed");
    assert_eq!(due.1, CallbackMiss::NotReached);
    // W14: five working days later, nobody rated: 未评.
    let later = due.0.at + chrono::Duration::minutes(1);
    let swept = w.sweep(&mut s, later, 100).unwrap();
    assert_eq!(swept.tickets, 1);
    let t = w.load(&mut s, &t.id).unwrap();
    assert_eq!(t.rating, Some(Rating::NotRated));
}

#[test]
fn only_the_engine_records_its_callbacks_evidence_or_a_miss() {
    let w = wf();
    let mut s = MemoryStore::new();
    let (t, n) = to_callback(&w, &mut s);
    let at = t0() + chrono::Duration::minutes(n + 1);
    let agent = Actor::new("a", Role::Agent);
    let e = w
        .act(
            &mut s,
            &t.id,
            None,
            &agent,
            &robot(Rating::Satisfied, false),
            at,
        )
        .unwrap_err();
    assert!(
        matches!(e, WorkflowError::Refused(Refusal::EngineOnly { .. })),
        "{e:?}"
    );
    let missed = Action::CallbackMissed {
        method: CallbackMethod::Robot,
        why: CallbackMiss::DoNotCall,
        evidence: CallbackEvidence::default(),
    };
    let e = w.act(&mut s, &t.id, None, &agent, &missed, at).unwrap_err();
    assert!(
        matches!(e, WorkflowError::Refused(Refusal::EngineOnly { .. })),
        "{e:?}"
    );
}
