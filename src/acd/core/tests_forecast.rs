//! The wait forecast and kept callbacks (issue 15, C8).

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

fn drain(acd: &mut Acd<u32>) -> Vec<Output<u32>> {
    std::iter::from_fn(|| acd.poll_output()).collect()
}

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

const ASSUMED: Duration = Duration::from_secs(240);

/// 1001 (general level 4) at work; returns the ACD.
fn one_agent(t0: Instant) -> Acd<u32> {
    let mut acd = Acd::new(&config(), t0);
    acd.handle_registration("1001", true, t0).unwrap();
    acd.handle_agent_state("1001", StateRequest::Ready, t0)
        .unwrap();
    drain(&mut acd);
    acd
}

/// Queues `call` in general at `at`; when 1001 is rung for it, answers at once.
fn answered_call(acd: &mut Acd<u32>, call: u32, at: Instant) {
    acd.handle_call_queued(call, "general", at, 0, at).unwrap();
    acd.handle_ring_answered(&call, at).unwrap();
}

#[test]
fn nobody_at_work_forecasts_no_end_to_the_wait() {
    let t0 = crate::shell::clock::now();
    let mut acd = Acd::new(&config(), t0);
    acd.handle_call_queued(1, "general", t0, 0, t0).unwrap();
    let f = acd.forecast_wait(&1, ASSUMED, t0 + s(1)).expect("waiting");
    assert_eq!((f.position, f.wait, f.working), (1, None, 0));
}

#[test]
fn the_staff_rate_uses_the_assumed_handle_time_until_calls_ended() {
    let t0 = crate::shell::clock::now();
    let mut acd = one_agent(t0);
    answered_call(&mut acd, 1, t0);
    acd.handle_call_queued(2, "general", t0 + s(1), 0, t0 + s(1))
        .unwrap();
    acd.handle_call_queued(3, "general", t0 + s(2), 0, t0 + s(2))
        .unwrap();
    // One agent at work, 240 s a call: the second in line waits about 480 s.
    let f = acd.forecast_wait(&3, ASSUMED, t0 + s(3)).expect("waiting");
    assert_eq!((f.position, f.working), (2, 1));
    assert_eq!(f.wait, Some(s(480)));
    // The call ends after 60 s of talk; general's wrap-up is 30 s: 90 s a call from now on.
    acd.handle_call_ended(&1, t0 + s(60)).unwrap();
    drain(&mut acd);
    let f = acd.forecast_wait(&3, ASSUMED, t0 + s(61)).expect("waiting");
    assert_eq!(f.wait, Some(s(180)), "{f:?}");
    assert!(
        acd.forecast_wait(&1, ASSUMED, t0 + s(61)).is_none(),
        "a call that is not waiting has no forecast"
    );
}

#[test]
fn the_observed_answer_rate_wins_when_it_is_faster_than_the_staff_rate() {
    let t0 = crate::shell::clock::now();
    let mut acd = one_agent(t0);
    // Three calls answered and ended in the first 30 s (the one agent is quick).
    for (i, at) in [(1, 0), (2, 10), (3, 20)] {
        answered_call(&mut acd, i, t0 + s(at));
        acd.handle_call_ended(&i, t0 + s(at + 5)).unwrap();
        acd.handle_wrap_up_done("1001", t0 + s(at + 6)).unwrap();
    }
    acd.handle_agent_state(
        "1001",
        StateRequest::NotReady(crate::acd::model::NotReadyReason::Break),
        t0 + s(29),
    )
    .unwrap();
    acd.handle_call_queued(4, "general", t0 + s(30), 0, t0 + s(30))
        .unwrap();
    // Nobody at work now, but three answers in the window: taken over at least 60 s, that
    // is 3 a minute, so the first in line waits 20 s.
    let f = acd.forecast_wait(&4, ASSUMED, t0 + s(30)).expect("waiting");
    assert_eq!(f.working, 0);
    assert_eq!(f.wait, Some(s(20)), "{f:?}");
    // Past the window the answers no longer count.
    let late = t0 + RATE_WINDOW + s(30);
    let f = acd.forecast_wait(&4, ASSUMED, late).expect("waiting");
    assert_eq!(f.wait, None, "{f:?}");
}

#[test]
fn a_kept_call_holds_its_place_without_alarms_and_is_offered_at_its_turn() {
    let t0 = crate::shell::clock::now();
    let mut acd = one_agent(t0);
    answered_call(&mut acd, 1, t0);
    acd.handle_call_queued(2, "general", t0 + s(1), 0, t0 + s(1))
        .unwrap();
    acd.handle_call_queued(3, "general", t0 + s(2), 0, t0 + s(2))
        .unwrap();
    drain(&mut acd);
    acd.handle_call_kept(&2, t0 + s(5)).unwrap();
    assert!(acd.is_kept(&2) && !acd.is_kept(&3));
    acd.handle_timeout(t0 + s(20));
    let out = drain(&mut acd);
    assert!(
        out.iter()
            .all(|o| !matches!(o, Output::CallWaitExceeded { call: 2, .. })),
        "no 15-second alarm for a caller who is not on the line: {out:?}"
    );
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::CallWaitExceeded { call: 3, .. })),
        "{out:?}"
    );
    let snap = acd.snapshot(t0 + s(20));
    let general = snap
        .queues
        .iter()
        .find(|q| &*q.name == "general")
        .expect("general");
    assert_eq!(general.kept, 1);
    assert_eq!(general.waiting.iter().map(|w| w.0).collect::<Vec<_>>(), [3]);
    assert_eq!(general.longest_wait, Some(s(18)));
    // Its place is first: the agent's next call is the kept one.
    acd.handle_call_ended(&1, t0 + s(30)).unwrap();
    acd.handle_wrap_up_done("1001", t0 + s(31)).unwrap();
    let out = drain(&mut acd);
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Offer { call: 2, agent, .. } if agent.as_str() == "1001")),
        "{out:?}"
    );
    assert_eq!(
        acd.handle_call_kept(&9, t0 + s(31)),
        Err(AcdError::UnknownCall("9".into()))
    );
}
