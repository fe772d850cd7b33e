//! The role machine on a fake clock: first start, standby, takeover (a failover), loss of the
//! session, a check that times out, a late answer.

use super::*;

fn t0() -> Instant {
    crate::shell::clock::now()
}

const S: Duration = Duration::from_secs(1);

fn machine(t0: Instant) -> Leadership {
    Leadership::new(
        LeadershipConfig {
            retry_every: S,
            store_timeout: 2 * S,
        },
        t0,
    )
}

fn actions(l: &mut Leadership) -> Vec<Action> {
    std::iter::from_fn(|| l.poll_action()).collect()
}

fn events(l: &mut Leadership) -> Vec<LeaderEvent> {
    std::iter::from_fn(|| l.poll_event()).collect()
}

#[test]
fn the_first_engine_up_takes_the_lock_and_checks_its_session_every_second() {
    let t0 = t0();
    let mut l = machine(t0);
    assert_eq!(l.role(), Role::Standby);
    assert_eq!(l.poll_timeout(), t0);
    l.handle_timeout(t0);
    assert_eq!(actions(&mut l), vec![Action::TryLock]);
    l.handle_answer(Answer::Acquired, t0 + Duration::from_millis(3));
    assert_eq!(l.role(), Role::Active);
    assert_eq!(
        events(&mut l),
        vec![LeaderEvent::Promoted { failover: false }]
    );
    assert_eq!(l.stats().failovers, 0);
    assert_eq!(l.stats().last_latency, Some(Duration::from_millis(3)));
    assert!(l.stats().store_ok);
    // The next ask is a check, one period after the last ask.
    assert_eq!(l.poll_timeout(), t0 + S);
    l.handle_timeout(t0 + S);
    assert_eq!(actions(&mut l), vec![Action::CheckSession]);
    l.handle_answer(Answer::Alive, t0 + S);
    assert_eq!(l.role(), Role::Active);
    assert!(events(&mut l).is_empty());
}

#[test]
fn the_standby_asks_every_second_and_takes_over_when_the_other_is_gone() {
    let t0 = t0();
    let mut l = machine(t0);
    for i in 0..5 {
        let at = t0 + S * i;
        assert_eq!(l.poll_timeout(), at);
        l.handle_timeout(at);
        assert_eq!(actions(&mut l), vec![Action::TryLock]);
        l.handle_answer(Answer::Busy, at + Duration::from_millis(2));
        assert_eq!(l.role(), Role::Standby);
    }
    assert!(events(&mut l).is_empty());
    // The active engine was killed: its session closed, the server released the lock.
    let at = t0 + S * 5;
    l.handle_timeout(at);
    assert_eq!(actions(&mut l), vec![Action::TryLock]);
    l.handle_answer(Answer::Acquired, at);
    assert_eq!(l.role(), Role::Active);
    assert_eq!(
        events(&mut l),
        vec![LeaderEvent::Promoted { failover: true }]
    );
    assert_eq!(l.stats().failovers, 1);
}

#[test]
fn an_active_engine_that_loses_its_session_steps_down_at_once_and_asks_again() {
    let t0 = t0();
    let mut l = machine(t0);
    l.handle_timeout(t0);
    let _ = actions(&mut l);
    l.handle_answer(Answer::Acquired, t0);
    let _ = events(&mut l);
    let lost_at = t0 + Duration::from_millis(400);
    l.handle_session_lost(lost_at);
    assert_eq!(l.role(), Role::Standby);
    assert_eq!(
        events(&mut l),
        vec![LeaderEvent::Demoted(StepDown::SessionLost)]
    );
    assert!(!l.stats().store_ok);
    assert_eq!(l.stats().step_downs, 1);
    // It asks for the lock again at the usual time, as a standby.
    l.handle_timeout(t0 + S);
    assert_eq!(actions(&mut l), vec![Action::TryLock]);
}

#[test]
fn a_check_that_fails_or_hangs_makes_the_active_engine_step_down_and_drop_its_session() {
    let t0 = t0();
    let mut l = machine(t0);
    l.handle_timeout(t0);
    let _ = actions(&mut l);
    l.handle_answer(Answer::Acquired, t0);
    let _ = events(&mut l);
    l.handle_timeout(t0 + S);
    let _ = actions(&mut l);
    l.handle_answer(Answer::Failed("connection reset".into()), t0 + S);
    assert_eq!(l.role(), Role::Standby);
    assert_eq!(actions(&mut l), vec![Action::DropSession]);
    assert_eq!(
        events(&mut l),
        vec![LeaderEvent::Demoted(StepDown::CheckFailed(
            "connection reset".into()
        ))]
    );

    // Taken again, then a check that never comes back.
    l.handle_timeout(t0 + 2 * S);
    let _ = actions(&mut l);
    l.handle_answer(Answer::Acquired, t0 + 2 * S);
    let _ = events(&mut l);
    l.handle_timeout(t0 + 3 * S);
    assert_eq!(actions(&mut l), vec![Action::CheckSession]);
    assert_eq!(l.poll_timeout(), t0 + 5 * S);
    l.handle_timeout(t0 + 5 * S - Duration::from_millis(1));
    assert_eq!(l.role(), Role::Active);
    l.handle_timeout(t0 + 5 * S);
    assert_eq!(l.role(), Role::Standby);
    assert_eq!(actions(&mut l), vec![Action::DropSession]);
    assert_eq!(
        events(&mut l),
        vec![LeaderEvent::Demoted(StepDown::Timeout)]
    );
    // The check's answer arriving now is too late and changes nothing.
    l.handle_answer(Answer::Alive, t0 + 5 * S + Duration::from_millis(5));
    assert_eq!(l.role(), Role::Standby);
    assert_eq!(l.stats().step_downs, 2);
}

#[test]
fn a_standby_that_cannot_reach_the_store_stays_standby_and_keeps_trying() {
    let t0 = t0();
    let mut l = machine(t0);
    for i in 0..3 {
        let at = t0 + S * i;
        l.handle_timeout(at);
        assert_eq!(actions(&mut l), vec![Action::TryLock]);
        l.handle_answer(Answer::Failed("connection refused".into()), at);
        assert_eq!(actions(&mut l), vec![Action::DropSession]);
        assert_eq!(l.role(), Role::Standby);
        assert!(!l.stats().store_ok);
    }
    assert!(events(&mut l).is_empty());
    // A promotion after failures that never saw another holder is not a failover.
    l.handle_timeout(t0 + 3 * S);
    let _ = actions(&mut l);
    l.handle_answer(Answer::Acquired, t0 + 3 * S);
    assert_eq!(
        events(&mut l),
        vec![LeaderEvent::Promoted { failover: false }]
    );
}
