//! Live reconfiguration with a fake clock: calls and states survive, removed queues and
//! agents are handled as the module doc of `reconfigure` says.

use std::path::Path;
use std::time::Duration;

use super::*;
use crate::acd::model::{NotReadyReason, StateRequest};

const AGENTS: &str = include_str!("../../../config/agents.toml");
const QUEUES: &str = include_str!("../../../config/queues.toml");

/// The shipped text without the `[[kind]]` block whose first line after it is `first`.
fn without(text: &str, kind: &str, first: &str) -> String {
    let marker = format!("[[{kind}]]\n{first}\n");
    let start = text.find(&marker).expect("block present");
    let rest = &text[start + marker.len()..];
    let end = rest
        .find(&format!("[[{kind}]]"))
        .map_or(text.len(), |i| start + marker.len() + i);
    format!("{}{}", &text[..start], &text[end..])
}

fn parse(agents: &str, queues: &str) -> AcdConfig {
    AcdConfig::parse(
        agents,
        Path::new("agents.toml"),
        queues,
        Path::new("queues.toml"),
    )
    .expect("valid config")
}

fn drain(acd: &mut Acd<u32>) -> Vec<Output<u32>> {
    std::iter::from_fn(|| acd.poll_output()).collect()
}

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn ready(acd: &mut Acd<u32>, id: &str, now: Instant) {
    acd.handle_registration(id, true, now).unwrap();
    acd.handle_agent_state(id, StateRequest::Ready, now)
        .unwrap();
}

#[test]
fn reload_keeps_talking_and_not_ready_agents_and_moves_calls_of_a_removed_queue_to_general() {
    let t0 = crate::shell::clock::now();
    let mut acd = Acd::new(&parse(AGENTS, QUEUES), t0);
    ready(&mut acd, "1001", t0);
    acd.handle_call_queued(1, "enterprise", t0, 0, t0).unwrap();
    acd.handle_ring_answered(&1, t0 + s(1)).unwrap();
    acd.handle_registration("1002", true, t0).unwrap();
    acd.handle_agent_state("1002", StateRequest::NotReady(NotReadyReason::Meal), t0)
        .unwrap();
    // Nobody ready: the dialect call waits.
    acd.handle_call_queued(2, "dialect", t0 + s(2), 0, t0 + s(2))
        .unwrap();
    drain(&mut acd);

    let agents = format!(
        "{AGENTS}\n[[agent]]\nid = \"1099\"\nname = \"New\"\npassword = \"secret-1099\"\nskills = [{{ skill = \"general\", level = 3 }}]\n"
    );
    let queues = without(QUEUES, "queue", "name = \"dialect\"          # 方言");
    let report = acd.reconfigure(&parse(&agents, &queues), t0 + s(3));
    acd.check_invariants().unwrap();
    assert_eq!(report.moved_to_general, 1);
    assert!(report.retired.is_empty() && report.removed.is_empty());
    assert_eq!(
        acd.agent_state("1001"),
        Some(&AgentState::Talking { call: 1 })
    );
    assert_eq!(
        acd.agent_state("1002"),
        Some(&AgentState::NotReady {
            reason: NotReadyReason::Meal
        })
    );
    assert_eq!(acd.agent_state("1099"), Some(&AgentState::LoggedOut));
    assert!(!acd.has_queue("dialect"));
    assert_eq!(acd.queue_of(&2), Some("general"));
    assert_eq!(acd.position(&2), Some(1));
    // The dialect queue's alarm is cleared, nothing else is said about unchanged queues.
    let out = drain(&mut acd);
    assert!(
        out.iter().all(|o| matches!(o, Output::AlarmCleared(Alarm::QueueUnstaffed { queue }) if &**queue == "dialect")),
        "{out:?}"
    );
    // The talking call ends normally: wrap-up of its (kept) queue.
    acd.handle_call_ended(&1, t0 + s(10)).unwrap();
    assert!(
        matches!(acd.agent_state("1001"), Some(AgentState::WrapUp { call: 1, until }) if *until == t0 + s(55))
    );
    // The moved call still keeps its 15-second clock from t0 + 2 s.
    acd.handle_timeout(t0 + s(17));
    let out = drain(&mut acd);
    assert!(
        out.iter().any(
            |o| matches!(o, Output::CallWaitExceeded { call: 2, waited, .. } if *waited == s(15))
        ),
        "{out:?}"
    );
    acd.check_invariants().unwrap();
}

#[test]
fn an_agent_removed_while_talking_finishes_the_call_and_then_leaves() {
    let t0 = crate::shell::clock::now();
    let mut acd = Acd::new(&parse(AGENTS, QUEUES), t0);
    ready(&mut acd, "1002", t0);
    acd.handle_call_queued(1, "general", t0, 0, t0).unwrap();
    acd.handle_ring_answered(&1, t0 + s(1)).unwrap();
    drain(&mut acd);
    let agents = without(AGENTS, "agent", "id = \"1002\"");
    let report = acd.reconfigure(&parse(&agents, QUEUES), t0 + s(2));
    acd.check_invariants().unwrap();
    assert_eq!(report.retired, vec![AgentId::new("1002")]);
    assert_eq!(
        acd.agent_state("1002"),
        Some(&AgentState::Talking { call: 1 })
    );
    assert!(
        matches!(
            acd.handle_agent_state("1002", StateRequest::Ready, t0 + s(3)),
            Err(AcdError::UnknownAgent(_))
        ),
        "a removed agent cannot ask for anything"
    );
    acd.handle_call_ended(&1, t0 + s(4)).unwrap();
    acd.check_invariants().unwrap();
    assert_eq!(acd.agent_state("1002"), Some(&AgentState::LoggedOut));
    assert!(acd
        .snapshot(t0 + s(4))
        .agents
        .iter()
        .all(|a| a.id.as_str() != "1002"));
    // Never offered again, and gone at the next reload.
    acd.handle_call_queued(2, "general", t0 + s(5), 0, t0 + s(5))
        .unwrap();
    assert!(drain(&mut acd)
        .iter()
        .all(|o| !matches!(o, Output::Offer { .. })));
    let report = acd.reconfigure(&parse(&agents, QUEUES), t0 + s(6));
    assert!(report.retired.is_empty() && report.removed.is_empty());
    assert_eq!(acd.agent_state("1002"), None);
    acd.check_invariants().unwrap();
}

#[test]
fn an_agent_removed_while_ringing_loses_the_ring_and_the_call_goes_to_the_next_agent() {
    let t0 = crate::shell::clock::now();
    let mut acd = Acd::new(&parse(AGENTS, QUEUES), t0);
    ready(&mut acd, "1002", t0);
    acd.handle_call_queued(1, "general", t0 + s(1), 0, t0 + s(1))
        .unwrap();
    let out = drain(&mut acd);
    assert!(out
        .iter()
        .any(|o| matches!(o, Output::Offer { call: 1, agent, .. } if agent.as_str() == "1002")));
    ready(&mut acd, "1001", t0 + s(2));
    drain(&mut acd);
    let agents = without(AGENTS, "agent", "id = \"1002\"");
    let report = acd.reconfigure(&parse(&agents, QUEUES), t0 + s(3));
    assert_eq!(report.removed, vec![AgentId::new("1002")]);
    let out = drain(&mut acd);
    assert!(
        matches!(&out[0], Output::CancelOffer { call: 1, agent, reason: CancelReason::Withdrawn } if agent.as_str() == "1002"),
        "{out:?}"
    );
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Offer { call: 1, agent, .. } if agent.as_str() == "1001")),
        "{out:?}"
    );
    assert!(matches!(
        acd.agent_state("1001"),
        Some(AgentState::Reserved { call: 1 })
    ));
    acd.check_invariants().unwrap();
}

#[test]
fn reload_keeps_a_ringing_call_and_a_wrap_up_with_their_timers() {
    let t0 = crate::shell::clock::now();
    let mut acd = Acd::new(&parse(AGENTS, QUEUES), t0);
    ready(&mut acd, "1001", t0);
    ready(&mut acd, "1002", t0);
    acd.handle_call_queued(1, "enterprise", t0, 0, t0).unwrap();
    acd.handle_ring_answered(&1, t0 + s(1)).unwrap();
    acd.handle_call_ended(&1, t0 + s(2)).unwrap();
    acd.handle_call_queued(2, "general", t0 + s(3), 0, t0 + s(3))
        .unwrap();
    drain(&mut acd);
    assert!(matches!(
        acd.agent_state("1002"),
        Some(AgentState::Reserved { call: 2 })
    ));
    acd.reconfigure(&parse(AGENTS, QUEUES), t0 + s(4));
    assert!(
        drain(&mut acd).is_empty(),
        "the same config changes nothing"
    );
    acd.check_invariants().unwrap();
    assert!(matches!(
        acd.agent_state("1002"),
        Some(AgentState::Reserved { call: 2 })
    ));
    // The ring still times out 8 s after it began.
    acd.handle_timeout(t0 + s(11));
    let out = drain(&mut acd);
    assert!(
        out.iter().any(|o| matches!(
            o,
            Output::CancelOffer {
                call: 2,
                reason: CancelReason::NoAnswer,
                ..
            }
        )),
        "{out:?}"
    );
    // The wrap-up still ends 45 s after the call.
    acd.handle_timeout(t0 + s(47));
    // …and then 1001 takes the call that waited at the front.
    assert_eq!(
        acd.agent_state("1001"),
        Some(&AgentState::Reserved { call: 2 })
    );
    acd.check_invariants().unwrap();
}
