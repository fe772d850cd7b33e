use std::path::Path;
use std::time::Duration;

use super::*;
use crate::acd::model::StateRequest;

fn config() -> AcdConfig {
    AcdConfig::parse(
        include_str!("../../../config/agents.toml"),
        Path::new("agents.toml"),
        include_str!("../../../config/queues.toml"),
        Path::new("queues.toml"),
    )
    .expect("shipped config")
}

/// A fixed origin from the shell's clock; every step after it is explicit.
fn t0() -> Instant {
    crate::shell::clock::now()
}

fn drain(acd: &mut Acd<u32>) -> Vec<Output<u32>> {
    std::iter::from_fn(|| acd.poll_output()).collect()
}

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[test]
fn enterprise_call_goes_to_the_enterprise_agent_and_is_answered() {
    let t0 = t0();
    let mut acd = Acd::new(&config(), t0);
    let alarms = drain(&mut acd);
    assert_eq!(
        alarms.len(),
        10,
        "every queue (8 voice, 2 web) starts unstaffed: {alarms:?}"
    );
    for id in ["1001", "1002"] {
        acd.handle_registration(id, true, t0).unwrap();
        acd.handle_agent_state(id, StateRequest::Ready, t0).unwrap();
    }
    drain(&mut acd);
    acd.handle_call_queued(7, "enterprise", t0 + s(1), 0, t0 + s(1))
        .unwrap();
    let out = drain(&mut acd);
    assert!(
        matches!(&out[0], Output::Offer { call: 7, agent, ring_timeout, .. } if agent.as_str() == "1001" && *ring_timeout == s(8)),
        "{out:?}"
    );
    assert_eq!(
        acd.poll_timeout(),
        Some(t0 + s(6)),
        "expansion step at 5 s after t0"
    );
    acd.handle_ring_answered(&7, t0 + s(3)).unwrap();
    let out = drain(&mut acd);
    assert!(
        matches!(&out[0], Output::CallAnswered { wait, .. } if *wait == s(2)),
        "{out:?}"
    );
    assert_eq!(acd.poll_timeout(), None);
    acd.check_invariants().unwrap();
    acd.handle_call_ended(&7, t0 + s(60)).unwrap();
    assert!(
        matches!(acd.agent_state("1001"), Some(AgentState::WrapUp { until, .. }) if *until == t0 + s(105))
    );
    acd.handle_timeout(t0 + s(105));
    assert_eq!(acd.agent_state("1001"), Some(&AgentState::Ready));
    acd.check_invariants().unwrap();
}

#[test]
fn talking_agent_cannot_change_state_and_unknown_things_are_refused() {
    let t0 = t0();
    let mut acd: Acd<u32> = Acd::new(&config(), t0);
    acd.handle_registration("1001", true, t0).unwrap();
    acd.handle_agent_state("1001", StateRequest::Ready, t0)
        .unwrap();
    acd.handle_call_queued(1, "general", t0, 0, t0).unwrap();
    acd.handle_ring_answered(&1, t0).unwrap();
    assert!(matches!(
        acd.handle_agent_state("1001", StateRequest::LoggedOut, t0),
        Err(AcdError::AgentOnCall { .. })
    ));
    assert_eq!(
        acd.handle_call_queued(1, "general", t0, 0, t0),
        Err(AcdError::CallAlreadyKnown("1".into()))
    );
    assert_eq!(
        acd.handle_call_queued(2, "nope", t0, 0, t0),
        Err(AcdError::UnknownQueue("nope".into()))
    );
    assert_eq!(
        acd.handle_registration("9", true, t0),
        Err(AcdError::UnknownAgent("9".into()))
    );
    assert!(matches!(
        acd.handle_ring_answered(&1, t0),
        Err(AcdError::NotRinging { .. })
    ));
    assert!(matches!(
        acd.handle_wrap_up_done("1001", t0),
        Err(AcdError::NotInWrapUp { .. })
    ));
    acd.check_invariants().unwrap();
}

#[test]
fn position_counts_waiting_calls_in_queue_order() {
    let t0 = t0();
    let mut acd: Acd<u32> = Acd::new(&config(), t0);
    acd.handle_call_queued(1, "sign", t0, 0, t0).unwrap();
    acd.handle_call_queued(2, "sign", t0 + s(1), 0, t0 + s(1))
        .unwrap();
    acd.handle_call_queued(3, "sign", t0 + s(2), 3, t0 + s(2))
        .unwrap();
    assert_eq!(acd.position(&3), Some(1), "urgent call first");
    assert_eq!(acd.position(&1), Some(2));
    assert_eq!(acd.position(&2), Some(3));
    assert_eq!(acd.queue_of(&2), Some("sign"));
    let snap = acd.snapshot(t0 + s(4));
    assert_eq!(snap.queues[4].waiting.len(), 3);
    assert_eq!(snap.queues[4].longest_wait, Some(s(4)));
    assert!(snap.queues[4].unstaffed);
}

#[test]
fn a_ready_agent_without_a_phone_is_not_available_and_wrap_up_counts_down() {
    let t0 = t0();
    let mut acd: Acd<u32> = Acd::new(&config(), t0);
    acd.handle_registration("1001", true, t0).unwrap();
    acd.handle_agent_state("1001", StateRequest::Ready, t0)
        .unwrap();
    // 1002 says ready on the desk, but its phone never registered: nobody can ring it.
    acd.handle_agent_state("1002", StateRequest::Ready, t0)
        .unwrap();
    let snap = acd.snapshot(t0);
    assert_eq!(snap.totals.ready, 1);
    assert_eq!(snap.totals.ready_no_phone, 1);
    // A call, answered and ended: the desk sees how much wrap-up is left, not how long.
    acd.handle_call_queued(7, "enterprise", t0, 0, t0).unwrap();
    drain(&mut acd);
    acd.handle_ring_answered(&7, t0 + s(2)).unwrap();
    acd.handle_call_ended(&7, t0 + s(20)).unwrap();
    let snap = acd.snapshot(t0 + s(30));
    let a = snap
        .agents
        .iter()
        .find(|a| a.id.as_str() == "1001")
        .expect("1001");
    assert_eq!(a.wrap_up_left, Some(s(35)), "45 s wrap-up, 10 s gone");
    assert_eq!(a.in_state, s(10));
}
