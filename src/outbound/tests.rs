//! The dialler with a fake clock: pacing and concurrency under a burst, retries and their
//! gaps, the calling window, the do-not-call list, refusals and cancellation.

use chrono::{DateTime, TimeZone, Utc};

use super::dialler::{
    AttemptId, CallRequest, Dialler, DiallerError, DiallerOutput, JobResult, Purpose,
};
use super::rules::{OutboundRules, Outcome};
use crate::workflow::model::china;

fn cst(d: u32, h: u32, min: u32) -> DateTime<Utc> {
    china()
        .with_ymd_and_hms(2026, 12, d, h, min, 0)
        .single()
        .expect("a time")
        .with_timezone(&Utc)
}

fn request(n: u32) -> CallRequest {
    CallRequest {
        reference: format!("20261207-{n:06}"),
        number: format!("1381234{n:04}"),
        purpose: Purpose::RobotCallback,
    }
}

fn drain(d: &mut Dialler) -> Vec<DiallerOutput> {
    std::iter::from_fn(|| d.poll_output()).collect()
}

fn dials(out: &[DiallerOutput]) -> Vec<(AttemptId, u32)> {
    out.iter()
        .filter_map(|o| match o {
            DiallerOutput::Dial {
                attempt, try_no, ..
            } => Some((*attempt, *try_no)),
            _ => None,
        })
        .collect()
}

fn finished(out: &[DiallerOutput]) -> Vec<(String, JobResult, usize)> {
    out.iter()
        .filter_map(|o| match o {
            DiallerOutput::Finished {
                request,
                result,
                attempts,
                ..
            } => Some((request.reference.clone(), *result, attempts.len())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_burst_of_200_callbacks_keeps_the_concurrency_and_the_dial_rate_exactly() {
    let rules = OutboundRules {
        max_concurrent: 20,
        calls_per_second: 5,
        ..OutboundRules::default()
    };
    let mut d = Dialler::new(rules);
    let start = cst(7, 10, 0);
    for n in 0..200 {
        d.submit(request(n), start).expect("taken");
    }
    // Every call rings 2 s, is answered and talks 7 s more; step the clock by what the
    // dialler asks. A line is free only when the call ends, not when it is answered.
    let mut now = start;
    let mut up: Vec<(DateTime<Utc>, AttemptId, bool)> = Vec::new();
    let mut dial_times = Vec::new();
    let mut max_up = 0;
    let mut reached = 0;
    let mut done = Vec::new();
    for _ in 0..10_000 {
        let out = drain(&mut d);
        done.extend(finished(&out));
        for (attempt, _) in dials(&out) {
            dial_times.push(now);
            up.push((now + chrono::Duration::seconds(2), attempt, false));
        }
        max_up = max_up.max(up.len());
        assert_eq!(d.in_flight(), up.len());
        up.sort();
        let next_event = up.first().map(|(t, _, _)| *t);
        let next = [d.poll_timeout(), next_event].into_iter().flatten().min();
        let Some(next) = next else { break };
        now = next.max(now);
        while up.first().is_some_and(|(t, _, _)| *t <= now) {
            let (_, a, answered) = up.remove(0);
            if answered {
                d.handle_call_ended(a, now);
            } else {
                d.handle_outcome(a, Outcome::Answered, now).expect("known");
                reached += 1;
                up.push((now + chrono::Duration::seconds(7), a, true));
                up.sort();
            }
        }
        d.handle_timeout(now);
    }
    assert_eq!(reached, 200, "every citizen is answered");
    done.extend(finished(&drain(&mut d)));
    assert_eq!(done.len(), 200);
    assert!(done.iter().all(|f| f.1 == JobResult::Reached && f.2 == 1));
    assert_eq!(max_up, 20, "never more than max_concurrent up");
    assert_eq!(dial_times.len(), 200);
    let min_gap = dial_times
        .windows(2)
        .map(|w| w[1] - w[0])
        .min()
        .expect("gaps");
    assert_eq!(min_gap, chrono::Duration::milliseconds(200), "5 per second");
    // Any one second holds at most 5 dials.
    for (i, t) in dial_times.iter().enumerate() {
        let in_second = dial_times[i..]
            .iter()
            .take_while(|u| **u - *t < chrono::Duration::seconds(1))
            .count();
        assert!(in_second <= 5, "{in_second} dials within a second from {t}");
    }
}

#[test]
fn busy_then_no_answer_then_busy_ends_exhausted_after_three_tries_with_their_gaps() {
    let mut d = Dialler::new(OutboundRules::default());
    let t0 = cst(7, 9, 0);
    d.submit(request(1), t0).expect("taken");
    let mut now = t0;
    let mut tries = Vec::new();
    for outcome in [Outcome::Busy, Outcome::NoAnswer, Outcome::Busy] {
        let out = drain(&mut d);
        let (attempt, try_no) = dials(&out)[0];
        tries.push((now, try_no));
        d.handle_outcome(attempt, outcome, now + chrono::Duration::seconds(40))
            .expect("known");
        if let Some(next) = d.poll_timeout() {
            now = next;
            d.handle_timeout(now);
        }
    }
    assert_eq!(tries.iter().map(|t| t.1).collect::<Vec<_>>(), vec![1, 2, 3]);
    for w in tries.windows(2) {
        assert!(w[1].0 - w[0].0 >= chrono::Duration::hours(2), "{tries:?}");
    }
    let done = finished(&drain(&mut d));
    assert_eq!(
        done,
        vec![("20261207-000001".to_string(), JobResult::Exhausted, 3)]
    );
    assert_eq!(d.poll_timeout(), None);
}

#[test]
fn a_callback_due_at_22_00_waits_until_08_00() {
    let mut d = Dialler::new(OutboundRules::default());
    d.submit(request(2), cst(7, 22, 0)).expect("taken");
    assert!(dials(&drain(&mut d)).is_empty(), "nothing at 22:00");
    assert_eq!(d.poll_timeout(), Some(cst(8, 8, 0)));
    d.handle_timeout(cst(8, 7, 59));
    assert!(dials(&drain(&mut d)).is_empty());
    d.handle_timeout(cst(8, 8, 0));
    assert_eq!(dials(&drain(&mut d)).len(), 1);
    // A retry whose gap ends after 21:00 waits for the next morning too.
    let mut d = Dialler::new(OutboundRules::default());
    d.submit(request(3), cst(7, 20, 0)).expect("taken");
    let (a, _) = dials(&drain(&mut d))[0];
    d.handle_outcome(a, Outcome::NoAnswer, cst(7, 20, 1))
        .expect("known");
    assert_eq!(d.poll_timeout(), Some(cst(8, 8, 0)));
}

#[test]
fn a_do_not_call_number_is_never_dialled() {
    let mut rules = OutboundRules::default();
    rules.do_not_call.insert("+8613812340007".into());
    let mut d = Dialler::new(rules);
    d.submit(request(7), cst(7, 10, 0)).expect("taken");
    let out = drain(&mut d);
    assert!(dials(&out).is_empty());
    assert_eq!(
        finished(&out),
        vec![("20261207-000007".to_string(), JobResult::DoNotCall, 0)]
    );
    assert_eq!(d.poll_timeout(), None);
}

#[test]
fn a_number_that_does_not_exist_is_not_tried_again_and_bad_requests_are_refused() {
    let mut d = Dialler::new(OutboundRules::default());
    let now = cst(7, 10, 0);
    d.submit(request(4), now).expect("taken");
    assert_eq!(
        d.submit(request(4), now),
        Err(DiallerError::AlreadyQueued("20261207-000004".into()))
    );
    let (a, _) = dials(&drain(&mut d))[0];
    d.handle_outcome(a, Outcome::Rejected { status: 404 }, now)
        .expect("known");
    assert_eq!(
        finished(&drain(&mut d)),
        vec![("20261207-000004".to_string(), JobResult::Unreachable, 1)]
    );
    assert_eq!(
        d.handle_outcome(a, Outcome::Answered, now),
        Err(DiallerError::UnknownAttempt(a))
    );
    let bad = CallRequest {
        number: "138-1234".into(),
        ..request(5)
    };
    assert!(matches!(
        d.submit(bad, now),
        Err(DiallerError::BadNumber(_))
    ));
}

#[test]
fn a_cancelled_job_is_finished_and_its_late_outcome_ignored() {
    let mut d = Dialler::new(OutboundRules {
        max_concurrent: 1,
        ..OutboundRules::default()
    });
    let now = cst(7, 10, 0);
    let first = d.submit(request(8), now).expect("taken");
    let second = d.submit(request(9), now).expect("taken");
    let (a, _) = dials(&drain(&mut d))[0];
    d.cancel(second).expect("waiting job");
    d.cancel(first).expect("job under way");
    let done = finished(&drain(&mut d));
    assert_eq!(done.len(), 2);
    assert!(done.iter().all(|f| f.1 == JobResult::Cancelled));
    assert_eq!(
        d.handle_outcome(a, Outcome::Answered, now + chrono::Duration::seconds(5)),
        Err(DiallerError::UnknownAttempt(a))
    );
    assert_eq!(d.in_flight(), 0);
    assert_eq!(d.waiting(), 0);
}

/// Issue 15: the ticket's own choice before `[callback] by`; a robot without its script is an
/// agent's callback (said so); `off` dials nobody whatever the ticket says.
#[test]
fn each_ticket_is_called_back_as_it_says_before_the_configuration() {
    use super::settings::{CallbackBy, CallbackRoute, CallbackSettings};
    use crate::workflow::callback_by::CallbackMaker;
    let with = |by| CallbackSettings {
        by,
        ..CallbackSettings::default()
    };
    let route = |purpose, robot_missing| {
        Some(CallbackRoute {
            purpose,
            robot_missing,
        })
    };
    let (robot, agent) = (Some(CallbackMaker::Robot), Some(CallbackMaker::Agent));
    let r = with(CallbackBy::Robot);
    assert_eq!(r.route(None, true), route(Purpose::RobotCallback, false));
    assert_eq!(r.route(agent, true), route(Purpose::AgentCallback, false));
    assert_eq!(r.route(robot, true), route(Purpose::RobotCallback, false));
    assert_eq!(r.route(None, false), route(Purpose::AgentCallback, true));
    let a = with(CallbackBy::Agent);
    assert_eq!(a.route(None, true), route(Purpose::AgentCallback, false));
    assert_eq!(a.route(robot, true), route(Purpose::RobotCallback, false));
    assert_eq!(a.route(robot, false), route(Purpose::AgentCallback, true));
    assert_eq!(a.route(agent, false), route(Purpose::AgentCallback, false));
    let off = with(CallbackBy::Off);
    for chosen in [None, robot, agent] {
        assert_eq!(off.route(chosen, true), None);
    }
}
