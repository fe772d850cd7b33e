//! Who makes the callback, per ticket, against the rules with a fixed clock: chosen at review,
//! changed while awaited, refused elsewhere and to other roles, recorded in the history.

use super::*;
use crate::workflow::action::{CallbackMethod, Rating};
use crate::workflow::citizen::tests::{t0, to_callback, to_review, wf};
use crate::workflow::model::Role;
use crate::workflow::store::TicketStore;
use crate::workflow::{Action, Actor, WorkflowError};

fn reviewer() -> Actor {
    Actor::new("r", Role::Reviewer)
}

fn set(by: CallbackMaker) -> Action {
    Action::SetCallbackBy {
        callback_by: Some(by),
    }
}

fn refusal(r: Result<Ticket, WorkflowError>) -> Refusal {
    match r {
        Err(WorkflowError::Refused(r)) => r,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn the_reviewer_chooses_an_agent_at_review_pass_and_the_history_says_who_and_when() {
    let (w, mut s) = (wf(), crate::workflow::memory::MemoryStore::new());
    let (t, n) = to_review(&w, &mut s);
    let at = t0() + chrono::Duration::minutes(n + 1);
    let pass = Action::ReviewPass {
        callback_by: Some(CallbackMaker::Agent),
    };
    let t = w.act(&mut s, &t.id, None, &reviewer(), &pass, at).unwrap();
    assert_eq!(t.state.name(), "awaiting_callback");
    assert_eq!(t.callback_by(), Some(CallbackMaker::Agent));
    let last = s.events(&t.id).unwrap().pop().unwrap();
    assert_eq!((last.actor.user.as_str(), last.at), ("r", at));
    assert!(matches!(
        last.kind,
        EventKind::ReviewPassed {
            callback_by: Some(CallbackMaker::Agent),
            callback_due: Some(_)
        }
    ));
    // As the log stores it, and read back the same (the store keeps only the log).
    let json = serde_json::to_value(&last).unwrap();
    assert_eq!(json["callback_by"], "agent", "{json}");
    let again = w.load(&mut s, &t.id).unwrap();
    assert_eq!(again.callback_by(), Some(CallbackMaker::Agent));
}

#[test]
fn without_a_choice_the_configuration_decides_and_old_logs_still_read() {
    let (w, mut s) = (wf(), crate::workflow::memory::MemoryStore::new());
    let (t, _) = to_callback(&w, &mut s);
    assert_eq!(t.callback_by(), None);
    let pass: Action = serde_json::from_str(r#"{"action":"review_pass"}"#).unwrap();
    assert_eq!(pass, Action::ReviewPass { callback_by: None });
    let old: EventKind =
        serde_json::from_str(r#"{"event":"review_passed","callback_due":null}"#).unwrap();
    assert_eq!(
        old,
        EventKind::ReviewPassed {
            callback_due: None,
            callback_by: None
        }
    );
    let robot: Action =
        serde_json::from_str(r#"{"action":"review_pass","callback_by":"robot"}"#).unwrap();
    assert_eq!(
        robot,
        Action::ReviewPass {
            callback_by: Some(CallbackMaker::Robot)
        }
    );
    assert!(
        serde_json::from_str::<Action>(r#"{"action":"review_pass","callback_by":"sms"}"#).is_err()
    );
}

#[test]
fn a_supervisor_changes_it_while_the_callback_is_awaited_and_the_last_choice_counts() {
    let (w, mut s) = (wf(), crate::workflow::memory::MemoryStore::new());
    let (t, n) = to_callback(&w, &mut s);
    let sup = Actor::new("s", Role::Supervisor);
    let at = |m: i64| t0() + chrono::Duration::minutes(n + m);
    let t = w
        .act(&mut s, &t.id, None, &sup, &set(CallbackMaker::Agent), at(1))
        .unwrap();
    assert_eq!(t.state.name(), "awaiting_callback");
    assert_eq!(t.callback_by(), Some(CallbackMaker::Agent));
    let t = w
        .act(
            &mut s,
            &t.id,
            None,
            &reviewer(),
            &set(CallbackMaker::Robot),
            at(2),
        )
        .unwrap();
    assert_eq!(t.callback_by(), Some(CallbackMaker::Robot));
    let sets: Vec<(String, CallbackMaker)> = t
        .history
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::CallbackBySet { callback_by } => Some((e.actor.user.clone(), callback_by)),
            _ => None,
        })
        .collect();
    assert_eq!(
        sets,
        [
            ("s".to_string(), CallbackMaker::Agent),
            ("r".to_string(), CallbackMaker::Robot)
        ]
    );
    // Offered to them on the desk, with its input still to give.
    let rules = w.rules();
    assert!(rules
        .available_actions(&t, &sup, at(3))
        .contains(&"set_callback_by"));
    assert!(!rules
        .available_actions(&t, &Actor::new("a", Role::Agent), at(3))
        .contains(&"set_callback_by"));
}

#[test]
fn other_roles_other_states_and_a_missing_choice_are_refused_with_their_reason() {
    let (w, mut s) = (wf(), crate::workflow::memory::MemoryStore::new());
    let (t, n) = to_review(&w, &mut s);
    let at = |m: i64| t0() + chrono::Duration::minutes(n + m);
    // Under review: not yet awaiting a callback.
    let r = refusal(w.act(
        &mut s,
        &t.id,
        None,
        &reviewer(),
        &set(CallbackMaker::Agent),
        at(1),
    ));
    assert_eq!(r.code(), "not_allowed_in_state", "{r}");
    assert!(!r.is_forbidden() && !r.is_invalid_input());
    let pass = Action::ReviewPass { callback_by: None };
    let t = w
        .act(&mut s, &t.id, None, &reviewer(), &pass, at(2))
        .unwrap();
    for who in [
        Actor::new("a", Role::Agent),
        Actor::new("h", Role::Unit(crate::workflow::model::UnitId::new("hrss"))),
        Actor::system(),
        Actor::new("c", Role::Citizen),
    ] {
        let r = refusal(w.act(&mut s, &t.id, None, &who, &set(CallbackMaker::Robot), at(3)));
        assert!(r.is_forbidden(), "{who:?}: {r}");
    }
    let none = Action::SetCallbackBy { callback_by: None };
    let r = refusal(w.act(&mut s, &t.id, None, &reviewer(), &none, at(4)));
    assert_eq!(r.code(), "missing_field", "{r}");
    assert!(r.is_invalid_input());
    // Once the callback is made, the choice is history: it cannot change any more.
    let callback = Action::Callback {
        method: CallbackMethod::Phone,
        consent: true,
        contacted: Some(true),
        solved: Some(true),
        rating: Some(Rating::Satisfied),
        reason: None,
        evidence: Default::default(),
    };
    let t = w
        .act(&mut s, &t.id, None, &reviewer(), &callback, at(5))
        .unwrap();
    assert_eq!(t.state.name(), "closed");
    let r = refusal(w.act(
        &mut s,
        &t.id,
        None,
        &reviewer(),
        &set(CallbackMaker::Agent),
        at(6),
    ));
    assert_eq!(r.code(), "not_allowed_in_state", "{r}");
    assert_eq!(s.events(&t.id).unwrap().len() as u64, t.version);
}
