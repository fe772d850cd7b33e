//! A second agent on a call (consult, conference, interpreter) with a fake clock: every
//! method, every error, the take-over, the assistant's wrap-up, and that an assisting agent
//! is offered neither a call nor a web item.
//!
//! Shipped config: 1001 enterprise 5 / general 4; 1002 general 5; 1003 cantonese 5 /
//! general 3; 1004 English 5 / general 3; 1005 sign 5 / general 2; 1006 enterprise 2.
//! Wrap-up: general 30 s, sign 60 s, high_frequency 20 s.

use std::path::Path;

use super::tests_items::{items, key, s, AGENTS};
use super::*;
use crate::acd::model::{NotReadyReason, StateRequest};

const QUEUES: &str = include_str!("../../../config/queues.toml");

fn acd_with(agents: &str, queues: &str) -> (Acd<u32>, Instant) {
    let t0 = crate::shell::clock::now();
    let cfg = AcdConfig::parse(
        agents,
        Path::new("agents.toml"),
        queues,
        Path::new("queues.toml"),
    )
    .expect("valid config");
    let mut acd = Acd::new(&cfg, t0);
    while acd.poll_output().is_some() {}
    (acd, t0)
}

fn drain(acd: &mut Acd<u32>) -> Vec<Output<u32>> {
    acd.check_invariants().unwrap();
    std::iter::from_fn(|| acd.poll_output()).collect()
}

/// Registered and ready.
fn online(acd: &mut Acd<u32>, id: &str, at: Instant) {
    acd.handle_registration(id, true, at).unwrap();
    acd.handle_agent_state(id, StateRequest::Ready, at).unwrap();
    acd.check_invariants().unwrap();
}

/// Call `c` queued in `queue` at `at` and answered by whoever it is offered to.
fn connected(acd: &mut Acd<u32>, c: u32, queue: &str, at: Instant) -> String {
    acd.handle_call_queued(c, queue, at, 0, at).unwrap();
    acd.handle_ring_answered(&c, at).unwrap();
    drain(acd);
    acd.agent_of(&c).expect("connected").to_string()
}

fn state(acd: &Acd<u32>, id: &str) -> AgentState<u32> {
    acd.agent_state(id).cloned().expect("known agent")
}

/// 1002 talks on general call 1; 1003 is ready with a phone.
fn talking_with_1003_ready() -> (Acd<u32>, Instant) {
    let (mut acd, t0) = acd_with(AGENTS, QUEUES);
    online(&mut acd, "1002", t0);
    assert_eq!(connected(&mut acd, 1, "general", t0), "1002");
    online(&mut acd, "1003", t0);
    drain(&mut acd);
    (acd, t0)
}

#[test]
fn a_named_agent_goes_assisting_at_once_without_any_answer_output_and_wraps_up_after() {
    let (mut acd, t0) = talking_with_1003_ready();
    let who = acd
        .handle_assist_requested(&1, AssistTarget::Agent("1003"), t0 + s(10))
        .unwrap();
    assert_eq!(who.as_str(), "1003");
    let out = drain(&mut acd);
    assert_eq!(
        out,
        vec![Output::AgentStateChanged {
            agent: who.clone(),
            from: AgentStateKind::Ready,
            state: AgentState::Assisting { call: 1 },
        }],
        "only the state change: no offer, no answer, no KPI"
    );
    let snap = acd.snapshot(t0 + s(10));
    assert_eq!((snap.totals.talking, snap.totals.assisting), (1, 1));
    let general = snap.queues.iter().find(|q| &*q.name == "general").unwrap();
    assert_eq!((general.agents.assisting, general.agents.ready), (1, 0));
    assert_eq!(acd.agent_of(&1).map(AgentId::as_str), Some("1002"));
    // Answered, the assist ends with the assisted call's queue's wrap-up (general: 30 s).
    acd.handle_assist_ended("1003", true, t0 + s(70)).unwrap();
    assert_eq!(
        state(&acd, "1003"),
        AgentState::WrapUp {
            call: 1,
            until: t0 + s(100)
        }
    );
    acd.handle_timeout(t0 + s(100));
    assert_eq!(state(&acd, "1003"), AgentState::Ready);
    assert_eq!(state(&acd, "1002"), AgentState::Talking { call: 1 });
    drain(&mut acd);
}

#[test]
fn an_assisting_agent_is_never_offered_a_call_and_cannot_leave_or_pause() {
    let (mut acd, t0) = talking_with_1003_ready();
    acd.handle_assist_requested(&1, AssistTarget::Agent("1003"), t0 + s(1))
        .unwrap();
    drain(&mut acd);
    // 1003 (general 3) would take this call at once if ready.
    acd.handle_call_queued(2, "general", t0 + s(2), 0, t0 + s(2))
        .unwrap();
    acd.handle_timeout(t0 + s(60));
    let out = drain(&mut acd);
    assert!(
        !out.iter().any(|o| matches!(o, Output::Offer { .. })),
        "{out:?}"
    );
    assert_eq!(acd.position(&2), Some(1));
    for request in [
        StateRequest::LoggedOut,
        StateRequest::NotReady(NotReadyReason::Break),
        StateRequest::Ready,
    ] {
        assert_eq!(
            acd.handle_agent_state("1003", request, t0 + s(61)),
            Err(AcdError::AgentOnCall {
                agent: "1003".into(),
                call: "1".into()
            })
        );
    }
    // Losing the phone's registration does not end the assist (the call room does).
    acd.handle_registration("1003", false, t0 + s(62)).unwrap();
    acd.handle_registration("1003", true, t0 + s(63)).unwrap();
    assert_eq!(state(&acd, "1003"), AgentState::Assisting { call: 1 });
    assert!(drain(&mut acd)
        .iter()
        .all(|o| !matches!(o, Output::Offer { .. })));
    // Never answered (the consult was cancelled): ready at once, and the waiting call goes
    // to them.
    acd.handle_assist_ended("1003", false, t0 + s(64)).unwrap();
    let out = drain(&mut acd);
    assert!(
        matches!(&out[..], [Output::AgentStateChanged { state: AgentState::Ready, .. }, Output::Offer { call: 2, agent, .. }, ..] if agent.as_str() == "1003"),
        "{out:?}"
    );
}

#[test]
fn the_best_ready_agent_of_a_queue_is_chosen_by_the_queues_own_rule_or_nobody() {
    let (mut acd, t0) = acd_with(AGENTS, QUEUES);
    online(&mut acd, "1002", t0);
    assert_eq!(connected(&mut acd, 1, "general", t0), "1002");
    // Nobody of the sign skill is ready (1005 logged out; 1003 ready but not a signer).
    online(&mut acd, "1003", t0);
    drain(&mut acd);
    assert_eq!(
        acd.handle_assist_requested(&1, AssistTarget::Queue("sign"), t0 + s(1)),
        Err(AcdError::NobodyReady {
            queue: "sign".into()
        })
    );
    online(&mut acd, "1005", t0 + s(2));
    drain(&mut acd);
    let who = acd
        .handle_assist_requested(&1, AssistTarget::Queue("sign"), t0 + s(3))
        .unwrap();
    assert_eq!(who.as_str(), "1005");
    assert_eq!(state(&acd, "1005"), AgentState::Assisting { call: 1 });
    // A queue picks its highest level first: with 1002 (general 5) busy, 1001 (general 4)
    // before 1003 (general 3), who has been idle longer.
    online(&mut acd, "1001", t0 + s(4));
    drain(&mut acd);
    let who = acd
        .handle_assist_requested(&1, AssistTarget::Queue("general"), t0 + s(6))
        .unwrap();
    assert_eq!(who.as_str(), "1001", "general 4 before general 3");
    // The sign assistant's wrap-up is the assisted call's queue's (general: 30 s), not 60 s.
    acd.handle_assist_ended("1005", true, t0 + s(10)).unwrap();
    assert_eq!(
        state(&acd, "1005"),
        AgentState::WrapUp {
            call: 1,
            until: t0 + s(40)
        }
    );
    assert_eq!(
        acd.handle_assist_requested(&1, AssistTarget::Queue("nope"), t0 + s(11)),
        Err(AcdError::UnknownQueue("nope".into()))
    );
    assert_eq!(
        acd.handle_assist_requested(&1, AssistTarget::Queue("web"), t0 + s(11)),
        Err(AcdError::NotAVoiceQueue("web".into()))
    );
    drain(&mut acd);
}

#[test]
fn a_named_agent_must_be_ready_with_a_registered_free_phone_and_refusals_change_nothing() {
    let (mut acd, t0) = acd_with(AGENTS, QUEUES);
    online(&mut acd, "1002", t0);
    assert_eq!(connected(&mut acd, 1, "general", t0), "1002");
    online(&mut acd, "1001", t0);
    assert_eq!(connected(&mut acd, 2, "enterprise", t0), "1001");
    online(&mut acd, "1003", t0);
    acd.handle_agent_state("1003", StateRequest::NotReady(NotReadyReason::Meal), t0)
        .unwrap();
    acd.handle_agent_state("1004", StateRequest::Ready, t0)
        .unwrap(); // on the desk, no phone
    online(&mut acd, "1005", t0);
    acd.handle_agent_phone_busy("1005", true, t0).unwrap();
    drain(&mut acd);
    let refused = |acd: &mut Acd<u32>, who: &str, state: AgentStateKind| {
        assert_eq!(
            acd.handle_assist_requested(&1, AssistTarget::Agent(who), t0 + s(1)),
            Err(AcdError::AgentNotAvailable {
                agent: who.into(),
                state
            }),
            "{who}"
        );
        assert!(drain(acd).is_empty(), "a refusal changes nothing");
    };
    refused(&mut acd, "1001", AgentStateKind::Talking); // busy on another call
    refused(&mut acd, "1002", AgentStateKind::Talking); // the call's own agent
    refused(&mut acd, "1003", AgentStateKind::NotReady);
    refused(&mut acd, "1004", AgentStateKind::Ready); // no registered phone
    refused(&mut acd, "1005", AgentStateKind::Ready); // phone on another call
    refused(&mut acd, "1006", AgentStateKind::LoggedOut);
    assert_eq!(
        acd.handle_assist_requested(&1, AssistTarget::Agent("9999"), t0 + s(1)),
        Err(AcdError::UnknownAgent("9999".into()))
    );
    // The call must be connected in the ACD.
    assert_eq!(
        acd.handle_assist_requested(&7, AssistTarget::Agent("1004"), t0 + s(1)),
        Err(AcdError::UnknownCall("7".into()))
    );
    acd.handle_call_queued(3, "sign", t0 + s(2), 0, t0 + s(2))
        .unwrap();
    assert_eq!(
        acd.handle_assist_requested(&3, AssistTarget::Agent("1004"), t0 + s(2)),
        Err(AcdError::NotTalking {
            call: "3".into(),
            status: "waiting"
        })
    );
    acd.handle_agent_phone_busy("1005", false, t0 + s(3))
        .unwrap();
    assert!(matches!(
        acd.handle_assist_requested(&3, AssistTarget::Agent("1003"), t0 + s(3)),
        Err(AcdError::NotTalking {
            status: "ringing",
            ..
        })
    ));
    drain(&mut acd);
}

#[test]
fn a_consult_transfer_hands_the_call_to_the_assistant_and_wraps_up_the_first_agent() {
    let (mut acd, t0) = talking_with_1003_ready();
    acd.handle_assist_requested(&1, AssistTarget::Agent("1003"), t0 + s(5))
        .unwrap();
    drain(&mut acd);
    acd.handle_call_taken_over(&1, "1003", t0 + s(20)).unwrap();
    let out = drain(&mut acd);
    let id = |s: &str| AgentId::new(s);
    assert_eq!(
        out,
        vec![
            Output::AgentStateChanged {
                agent: id("1002"),
                from: AgentStateKind::Talking,
                state: AgentState::WrapUp {
                    call: 1,
                    until: t0 + s(50)
                },
            },
            Output::AgentStateChanged {
                agent: id("1003"),
                from: AgentStateKind::Assisting,
                state: AgentState::Talking { call: 1 },
            },
        ],
        "no second answer"
    );
    assert_eq!(acd.agent_of(&1).map(AgentId::as_str), Some("1003"));
    acd.handle_call_ended(&1, t0 + s(30)).unwrap();
    assert_eq!(
        state(&acd, "1003"),
        AgentState::WrapUp {
            call: 1,
            until: t0 + s(60)
        }
    );
    drain(&mut acd);
}

#[test]
fn a_take_over_needs_a_connected_call_and_its_assistant() {
    let (mut acd, t0) = talking_with_1003_ready();
    online(&mut acd, "1001", t0);
    assert_eq!(connected(&mut acd, 2, "enterprise", t0), "1001");
    online(&mut acd, "1004", t0);
    acd.handle_assist_requested(&2, AssistTarget::Agent("1004"), t0 + s(1))
        .unwrap();
    drain(&mut acd);
    assert_eq!(
        acd.handle_call_taken_over(&1, "1003", t0 + s(2)),
        Err(AcdError::NotAssistingOn {
            agent: "1003".into(),
            call: "1".into(),
            state: AgentStateKind::Ready
        })
    );
    assert_eq!(
        acd.handle_call_taken_over(&1, "1004", t0 + s(2)),
        Err(AcdError::NotAssistingOn {
            agent: "1004".into(),
            call: "1".into(),
            state: AgentStateKind::Assisting
        }),
        "assisting on another call"
    );
    assert_eq!(
        acd.handle_call_taken_over(&1, "9999", t0 + s(2)),
        Err(AcdError::UnknownAgent("9999".into()))
    );
    assert_eq!(
        acd.handle_call_taken_over(&9, "1004", t0 + s(2)),
        Err(AcdError::UnknownCall("9".into()))
    );
    assert_eq!(
        acd.handle_assist_ended("1003", true, t0 + s(2)),
        Err(AcdError::NotAssisting {
            agent: "1003".into(),
            state: AgentStateKind::Ready
        })
    );
    assert_eq!(
        acd.handle_assist_ended("9999", true, t0 + s(2)),
        Err(AcdError::UnknownAgent("9999".into()))
    );
    assert!(drain(&mut acd).is_empty(), "refusals change nothing");
    acd.handle_call_queued(3, "sign", t0 + s(3), 0, t0 + s(3))
        .unwrap();
    assert_eq!(
        acd.handle_call_taken_over(&3, "1004", t0 + s(3)),
        Err(AcdError::NotTalking {
            call: "3".into(),
            status: "waiting"
        })
    );
    drain(&mut acd);
}

#[test]
fn the_caller_hanging_up_leaves_the_assistant_to_the_call_room() {
    let (mut acd, t0) = talking_with_1003_ready();
    acd.handle_assist_requested(&1, AssistTarget::Agent("1003"), t0 + s(5))
        .unwrap();
    drain(&mut acd);
    acd.handle_caller_hung_up(&1, t0 + s(40)).unwrap();
    let out = drain(&mut acd);
    assert_eq!(out.len(), 1, "only the call's agent changed: {out:?}");
    assert!(matches!(
        state(&acd, "1002"),
        AgentState::WrapUp { call: 1, .. }
    ));
    // The ACD forgot the call; its assistant is still on it (legal).
    assert_eq!(state(&acd, "1003"), AgentState::Assisting { call: 1 });
    assert_eq!(acd.queue_of(&1), None);
    assert_eq!(
        acd.handle_call_taken_over(&1, "1003", t0 + s(41)),
        Err(AcdError::UnknownCall("1".into()))
    );
    // Still not offered a call.
    acd.handle_call_queued(2, "general", t0 + s(42), 0, t0 + s(42))
        .unwrap();
    assert!(drain(&mut acd)
        .iter()
        .all(|o| !matches!(o, Output::Offer { .. })));
    // Answered: the general queue's 30 s, remembered from the start of the assist.
    acd.handle_assist_ended("1003", true, t0 + s(50)).unwrap();
    assert_eq!(
        state(&acd, "1003"),
        AgentState::WrapUp {
            call: 1,
            until: t0 + s(80)
        }
    );
    drain(&mut acd);
}

#[test]
fn an_assist_on_a_queue_without_wrap_up_ends_ready() {
    let queues = QUEUES.replace("wrap_up = \"20s\"", "wrap_up = \"0s\"");
    let (mut acd, t0) = acd_with(AGENTS, &queues);
    online(&mut acd, "1002", t0);
    assert_eq!(connected(&mut acd, 1, "high_frequency", t0), "1002");
    online(&mut acd, "1003", t0);
    acd.handle_assist_requested(&1, AssistTarget::Agent("1003"), t0 + s(1))
        .unwrap();
    acd.handle_assist_ended("1003", true, t0 + s(9)).unwrap();
    assert_eq!(state(&acd, "1003"), AgentState::Ready);
    drain(&mut acd);
}

#[test]
fn an_assisting_agent_loses_a_pending_web_offer_and_gets_none_until_the_assist_ends() {
    let (mut acd, t0) = acd_with(AGENTS, QUEUES);
    // 1005 (general 2) talks on a sign call: not a candidate of `web` before 60 s.
    online(&mut acd, "1005", t0);
    assert_eq!(connected(&mut acd, 1, "sign", t0), "1005");
    online(&mut acd, "1003", t0);
    drain(&mut acd);
    items(&mut acd);
    acd.handle_item_queued(key("i1"), "web", t0 + s(1), t0 + s(1))
        .unwrap();
    assert!(
        matches!(&items(&mut acd)[..], [ItemOutput::OfferItem { agent, .. }] if agent.as_str() == "1003")
    );
    acd.handle_assist_requested(&1, AssistTarget::Agent("1003"), t0 + s(2))
        .unwrap();
    let out = drain(&mut acd);
    assert!(
        !out.iter().any(|o| matches!(o, Output::AlarmRaised(_))),
        "an assisting agent still staffs their queues: {out:?}"
    );
    assert_eq!(
        items(&mut acd),
        vec![ItemOutput::CancelItemOffer {
            item: key("i1"),
            agent: AgentId::new("1003"),
            reason: ItemCancelReason::AgentAssisting,
        }]
    );
    acd.handle_item_queued(key("i2"), "web", t0 + s(3), t0 + s(3))
        .unwrap();
    assert!(items(&mut acd).is_empty(), "nobody may take it");
    let web = acd.snapshot(t0 + s(3)).web_queues;
    assert!(web.iter().any(|q| &*q.name == "web" && !q.unstaffed));
    acd.handle_assist_ended("1003", false, t0 + s(10)).unwrap();
    drain(&mut acd);
    assert!(
        matches!(&items(&mut acd)[..], [ItemOutput::OfferItem { item, agent, .. }] if &**item == "i1" && agent.as_str() == "1003")
    );
}

#[test]
fn accepted_web_items_stay_counted_while_assisting() {
    let (mut acd, t0) = talking_with_1003_ready();
    items(&mut acd);
    acd.handle_item_queued(key("i1"), "web", t0, t0).unwrap();
    let offered = items(&mut acd);
    let Some(ItemOutput::OfferItem { agent, .. }) = offered.first() else {
        panic!("{offered:?}");
    };
    // 1002 (general 5) is offered it first; declined, it goes to 1003.
    assert_eq!(agent.as_str(), "1002");
    acd.handle_item_declined("i1", "1002", t0).unwrap();
    assert!(
        matches!(&items(&mut acd)[..], [_, ItemOutput::OfferItem { agent, .. }] if agent.as_str() == "1003")
    );
    acd.handle_item_accepted("i1", "1003", t0 + s(1)).unwrap();
    items(&mut acd);
    acd.handle_assist_requested(&1, AssistTarget::Agent("1003"), t0 + s(2))
        .unwrap();
    drain(&mut acd);
    let snap = acd.snapshot(t0 + s(2));
    let a = snap
        .agents
        .iter()
        .find(|a| a.id.as_str() == "1003")
        .unwrap();
    assert_eq!((a.web_items, a.web_held.clone()), (1, vec![key("i1")]));
    acd.handle_item_done("i1", t0 + s(3)).unwrap();
    items(&mut acd);
}

/// The shipped agents with agent `id` renamed (so the reload removes `id`).
fn renamed(id: &str) -> String {
    AGENTS.replace(&format!("id = \"{id}\""), &format!("id = \"9{id}\""))
}

#[test]
fn an_assist_survives_a_reload_and_a_removed_assistant_is_logged_out_when_it_ends() {
    let (mut acd, t0) = acd_with(AGENTS, QUEUES);
    online(&mut acd, "1001", t0);
    assert_eq!(connected(&mut acd, 1, "enterprise", t0), "1001");
    online(&mut acd, "1002", t0);
    acd.handle_assist_requested(&1, AssistTarget::Agent("1002"), t0 + s(1))
        .unwrap();
    drain(&mut acd);
    let cfg = |agents: &str| {
        AcdConfig::parse(
            agents,
            Path::new("agents.toml"),
            QUEUES,
            Path::new("queues.toml"),
        )
        .expect("valid")
    };
    acd.reconfigure(&cfg(AGENTS), t0 + s(2));
    assert_eq!(state(&acd, "1002"), AgentState::Assisting { call: 1 });
    drain(&mut acd);
    let report = acd.reconfigure(&cfg(&renamed("1002")), t0 + s(3));
    assert_eq!(report.retired, vec![AgentId::new("1002")]);
    assert_eq!(state(&acd, "1002"), AgentState::Assisting { call: 1 });
    drain(&mut acd);
    // A retired assistant may still take the call over, and leaves when it ends.
    acd.handle_call_taken_over(&1, "1002", t0 + s(4)).unwrap();
    assert_eq!(state(&acd, "1002"), AgentState::Talking { call: 1 });
    acd.handle_call_ended(&1, t0 + s(5)).unwrap();
    assert_eq!(state(&acd, "1002"), AgentState::LoggedOut);
    drain(&mut acd);
    // A retired assistant whose assist ends is logged out too.
    acd.handle_wrap_up_done("1001", t0 + s(6)).unwrap();
    assert_eq!(connected(&mut acd, 2, "enterprise", t0 + s(6)), "1001");
    online(&mut acd, "1006", t0 + s(6));
    acd.handle_assist_requested(&2, AssistTarget::Agent("1006"), t0 + s(7))
        .unwrap();
    acd.reconfigure(&cfg(&renamed("1006")), t0 + s(8));
    assert_eq!(state(&acd, "1006"), AgentState::Assisting { call: 2 });
    acd.handle_assist_ended("1006", true, t0 + s(9)).unwrap();
    assert_eq!(state(&acd, "1006"), AgentState::LoggedOut);
    drain(&mut acd);
}
