//! A scripted period (Mon 2026-11-23 and Tue 2026-11-24, China time) whose values were
//! computed by hand for every measured rule (the sums are in the comments).

use super::*;
use crate::workflow::event::Event;
use crate::workflow::model::Channel;
use chrono::{FixedOffset, TimeZone};

fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap()
}

/// Day 1 = Mon 2026-11-23, day 2 = Tue 2026-11-24, day 3 = Wed.
fn t(day: u32, h: u32, m: u32) -> DateTime<FixedOffset> {
    china()
        .with_ymd_and_hms(2026, 11, 22 + day, h, m, 0)
        .single()
        .unwrap()
}

fn u(day: u32, h: u32, m: u32) -> DateTime<Utc> {
    t(day, h, m).with_timezone(&Utc)
}

fn s(d: DateTime<FixedOffset>) -> String {
    d.to_rfc3339()
}

fn intake(channel: &str, received: DateTime<FixedOffset>) -> Value {
    json!({"channel": channel, "received_at": s(received), "content": "路灯不亮",
           "urgency": "non_urgent", "type": "help", "domain": "public_service"})
}

/// Events from `(at, body)` pairs, numbered in order.
fn log(items: Vec<(DateTime<FixedOffset>, Value)>) -> Vec<Event> {
    items
        .into_iter()
        .enumerate()
        .map(|(k, (at, mut body))| {
            let m = body.as_object_mut().unwrap();
            m.insert("seq".into(), json!(k + 1));
            m.insert("at".into(), json!(s(at)));
            m.insert(
                "actor".into(),
                json!({"user": "agent-1001", "role": "agent"}),
            );
            serde_json::from_value(body.clone()).unwrap_or_else(|e| panic!("{e}: {body}"))
        })
        .collect()
}

fn due(at: DateTime<FixedOffset>) -> Value {
    json!({ "at": s(at) })
}

fn ticket(
    id: &str,
    channel: Channel,
    received: DateTime<FixedOffset>,
    responded: Option<DateTime<FixedOffset>>,
    events: Vec<Event>,
) -> TicketHistory {
    TicketHistory {
        id: id.into(),
        channel,
        received_at: received,
        responded_at: responded,
        call_id: None,
        events,
    }
}

fn tickets() -> Vec<TicketHistory> {
    let dispatched = |unit: &str, sign: DateTime<FixedOffset>, feedback: DateTime<FixedOffset>| {
        json!({"event": "dispatched", "category": null, "lead": unit, "assisting": [],
               "sign_due": due(sign), "return_due": due(t(3, 18, 0)),
               "feedback_due": due(feedback)})
    };
    vec![
        // T1: dispatched in time, signed an hour late (water), feedback in time, called back
        // an hour late, rated unsatisfied and unsolved without a reason, never checked.
        ticket(
            "T1",
            Channel::Phone,
            t(1, 9, 0),
            None,
            log(vec![
                (
                    t(1, 9, 0),
                    json!({"event": "created", "intake": intake("phone", t(1, 9, 0)), "dispatch_due": due(t(2, 9, 0))}),
                ),
                (t(1, 12, 0), dispatched("water", t(1, 18, 0), t(2, 20, 0))),
                (t(1, 19, 0), json!({"event": "signed", "unit": "water"})),
                (
                    t(2, 10, 0),
                    json!({"event": "feedback_given", "feedback": {"unit": "water", "contact": "电话联系", "verification": "现场核实", "legal_basis": "条例", "result": "已修复"}}),
                ),
                (
                    t(2, 11, 0),
                    json!({"event": "review_passed", "callback_due": due(t(2, 15, 0))}),
                ),
                (
                    t(2, 16, 0),
                    json!({"event": "callback_made", "method": "phone", "consent": true, "contacted": true, "solved": false, "rating_due": null}),
                ),
                (
                    t(2, 16, 1),
                    json!({"event": "rated", "rating": "unsatisfied", "solved": false, "reason": null}),
                ),
            ]),
        ),
        // T2 (web, responded after 5 min): dispatched and signed in time by power, returned
        // in time, the return rejected, returned again (W8).
        ticket(
            "T2",
            Channel::Web,
            t(1, 10, 0),
            Some(t(1, 10, 5)),
            log(vec![
                (
                    t(1, 10, 0),
                    json!({"event": "created", "intake": intake("web", t(1, 10, 0)), "dispatch_due": due(t(1, 10, 30))}),
                ),
                (t(1, 10, 20), dispatched("power", t(1, 12, 0), t(3, 18, 0))),
                (t(1, 11, 0), json!({"event": "signed", "unit": "power"})),
                (
                    t(1, 13, 0),
                    json!({"event": "returned", "unit": "power", "reason": "非本单位职责", "suggestion": "燃气公司"}),
                ),
                (
                    t(1, 14, 0),
                    json!({"event": "return_rejected", "reason": "属于职责", "feedback_due": due(t(3, 18, 0))}),
                ),
                (
                    t(1, 15, 0),
                    json!({"event": "returned", "unit": "power", "reason": "再次退回", "suggestion": "燃气公司"}),
                ),
            ]),
        ),
        // T3 (web, responded after 2 min): refused without an explanation, in time for W4.
        ticket(
            "T3",
            Channel::Web,
            t(2, 8, 0),
            Some(t(2, 8, 2)),
            log(vec![
                (
                    t(2, 8, 0),
                    json!({"event": "created", "intake": intake("web", t(2, 8, 0)), "dispatch_due": due(t(2, 9, 0))}),
                ),
                (
                    t(2, 8, 30),
                    json!({"event": "refused", "reason": "litigation", "explanation": " "}),
                ),
            ]),
        ),
        // T4: a call's draft never completed (W2).
        ticket(
            "T4",
            Channel::Phone,
            t(2, 14, 0),
            None,
            log(vec![(
                t(2, 14, 0),
                json!({"event": "drafted", "intake": intake("phone", t(2, 14, 0)), "dispatch_due": due(t(3, 14, 0))}),
            )]),
        ),
        // T5: never dispatched; due at 10:00 on day 2 (W4 missed).
        ticket(
            "T5",
            Channel::Phone,
            t(2, 9, 0),
            None,
            log(vec![(
                t(2, 9, 0),
                json!({"event": "created", "intake": intake("phone", t(2, 9, 0)), "dispatch_due": due(t(2, 10, 0))}),
            )]),
        ),
    ]
}

fn call(id: &str, outcome: Outcome, at: DateTime<Utc>, recorded: bool) -> CallFact {
    CallFact {
        id: id.into(),
        answered: matches!(outcome, Outcome::Answered { .. }),
        outcome: Some(outcome),
        at,
        recorded,
    }
}

fn calls() -> Vec<CallFact> {
    let secs = Duration::from_secs;
    let mut v = vec![
        call("c1", Outcome::Answered { wait: secs(5) }, u(1, 10, 0), true),
        call(
            "c2",
            Outcome::Answered { wait: secs(20) },
            u(1, 11, 0),
            true,
        ),
        call(
            "c3",
            Outcome::Abandoned { wait: secs(30) },
            u(1, 12, 0),
            false,
        ),
        call("c4", Outcome::Answered { wait: secs(3) }, u(2, 9, 0), false),
        call("c5", Outcome::Refused, u(2, 10, 0), false),
        // Within the 5 s grace: out of C3, and no breach of C2.
        call(
            "c6",
            Outcome::Abandoned { wait: secs(2) },
            u(2, 11, 0),
            false,
        ),
    ];
    for k in 0..18 {
        let id = format!("d{k}");
        v.push(call(
            &id,
            Outcome::Answered { wait: secs(1) },
            u(2, 12, k),
            true,
        ));
    }
    v
}

fn activity() -> Vec<AgentActivity> {
    let st = |agent: &str, at, state: &str| AgentActivity {
        agent: agent.into(),
        at,
        kind: ActivityKind::State {
            state: state.into(),
            reason: None,
        },
        call: None,
        queue: None,
    };
    vec![
        st("1001", u(0, 20, 0), "ready"),
        st("1001", u(1, 22, 0), "logged_out"),
        st("1002", u(1, 23, 0), "ready"),
    ]
}

fn the_report() -> Conformance {
    let (calls, activity, tickets) = (calls(), activity(), tickets());
    report(&Inputs {
        from: u(1, 0, 0),
        to: u(3, 0, 0),
        now: u(4, 0, 0),
        grace: Duration::from_secs(5),
        calls: &calls,
        activity: &activity,
        tickets: &tickets,
        callbacks: &[],
    })
}

fn rule<'a>(c: &'a Conformance, id: &str) -> &'a RuleResult {
    c.rules.iter().find(|r| r.rule == id).unwrap()
}

#[test]
fn every_rule_is_reported_once_in_order() {
    let c = the_report();
    let ids: Vec<&str> = c.rules.iter().map(|r| r.rule).collect();
    let expected: Vec<String> = (1..=16)
        .map(|n| format!("C{n}"))
        .chain((1..=19).map(|n| format!("W{n}")))
        .collect();
    assert_eq!(ids, expected);
    assert_eq!(c.passed + c.failed + c.not_measurable, 35);
    for r in &c.rules {
        if r.status == Status::NotMeasurable {
            assert!(r.reason.is_some(), "{} says why", r.rule);
        }
    }
}

#[test]
fn call_rules_match_hand_counts() {
    let c = the_report();
    // C1: nobody logged in from 22:00 to 23:00 on day 1.
    let c1 = rule(&c, "C1");
    assert_eq!((c1.status, c1.breaches), (Status::Fail, 1));
    assert_eq!(c1.measured["unstaffed_s"], 3600.0);
    assert_eq!(
        c1.measured["unstaffed"][0]["from"],
        "2026-11-23T22:00:00+08:00"
    );
    // C2: 21 answered + 2 abandoned asked; 20 within 15 s; c2 (20 s) and c3 (30 s) waited
    // longer; the longest wait 30 s.
    let c2 = rule(&c, "C2");
    assert_eq!(c2.status, Status::Fail);
    assert_eq!(c2.measured["asked_for_a_person"], 23);
    assert_eq!(c2.measured["answered_within_15s"], 20);
    assert_eq!(c2.measured["longest_wait_s"], 30.0);
    assert_eq!(c2.calls, ["c2", "c3"]);
    // C3: the worst 24 h holds c3 (lost), c4 (answered), c5 (refused), c6 (in grace): 1/3,
    // first from 11:01 on day 1 (after c2) to 11:01 on day 2 (before the 18 at noon).
    let c3 = rule(&c, "C3");
    assert_eq!(c3.status, Status::Fail);
    assert!((c3.measured["worst_24h_rate"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-9);
    assert_eq!(
        c3.measured["worst_window"]["from"],
        "2026-11-23T11:01:00+08:00"
    );
    assert_eq!(
        c3.measured["worst_window"]["to"],
        "2026-11-24T11:01:00+08:00"
    );
    assert_eq!(c3.measured["worst_window"]["counted"], 3);
    assert!((c3.measured["period_rate"].as_f64().unwrap() - 21.0 / 23.0).abs() < 1e-9);
    assert_eq!(c3.calls, ["c3", "c5"]);
    // C9: 21 answered, c4 not recorded.
    let c9 = rule(&c, "C9");
    assert_eq!(
        (c9.status, c9.calls.clone()),
        (Status::Fail, vec!["c4".to_string()])
    );
    assert_eq!(c9.measured["recorded"], 20);
    // C4–C6 are enforced by the configuration.
    for id in ["C4", "C5", "C6"] {
        assert_eq!(rule(&c, id).status, Status::Pass, "{id}");
    }
}

#[test]
fn ticket_rules_match_hand_counts() {
    let c = the_report();
    // C13: T2 responded after 5 min (late), T3 after 2.
    let c13 = rule(&c, "C13");
    assert_eq!(
        (c13.status, c13.tickets.clone()),
        (Status::Fail, vec!["T2".to_string()])
    );
    assert_eq!(
        (
            c13.measured["within_3_min"].clone(),
            c13.measured["late"].clone()
        ),
        (json!(1), json!(1))
    );
    // W1: T3's refusal has no explanation.
    assert_eq!(rule(&c, "W1").tickets, ["T3"]);
    // W2: five requests received, T4 left a draft.
    let w2 = rule(&c, "W2");
    assert_eq!(
        (w2.measured["counted"].clone(), w2.tickets.clone()),
        (json!(5), vec!["T4".to_string()])
    );
    // W4: four dispatch deadlines fell due (T1, T2, T3 met; T5 missed).
    let w4 = rule(&c, "W4");
    assert_eq!(
        (w4.measured["due"].clone(), w4.measured["on_time"].clone()),
        (json!(4), json!(3))
    );
    assert_eq!(w4.tickets, ["T5"]);
    // W7: water signed late (0/1), power in time (1/1).
    let w7 = rule(&c, "W7");
    assert_eq!(w7.tickets, ["T1"]);
    assert_eq!(
        w7.measured["by_unit"][0],
        json!({"unit": "power", "due": 1, "on_time": 1, "rate": 1.0})
    );
    assert_eq!(
        w7.measured["by_unit"][1],
        json!({"unit": "water", "due": 1, "on_time": 0, "rate": 0.0})
    );
    // W8: two returns, the second after a rejected one.
    let w8 = rule(&c, "W8");
    assert_eq!(
        (w8.measured["counted"].clone(), w8.tickets.clone()),
        (json!(2), vec!["T2".to_string()])
    );
    // W10: only T1's feedback fell due in the period, given in time.
    let w10 = rule(&c, "W10");
    assert_eq!(
        (w10.status, w10.measured["due"].clone()),
        (Status::Pass, json!(1))
    );
    // W11 complete, W12 reviewed, W6 no repeat dispatched.
    for id in ["W6", "W11", "W12"] {
        assert_eq!(rule(&c, id).status, Status::Pass, "{id}");
    }
    // W13: T1's callback an hour late.
    assert_eq!(rule(&c, "W13").tickets, ["T1"]);
    // W14: one unsatisfied rating without its reason; W15: never checked.
    let w14 = rule(&c, "W14");
    assert_eq!(
        (w14.status, w14.measured["by_rating"].clone()),
        (Status::Fail, json!({"unsatisfied": 1}))
    );
    assert_eq!(rule(&c, "W15").tickets, ["T1"]);
    // Nothing extended, nothing archived: not measurable, and they say why.
    for id in ["W9", "W18"] {
        let r = rule(&c, id);
        assert_eq!(r.status, Status::NotMeasurable, "{id}");
        assert!(
            r.reason.as_deref().unwrap().contains("in the period"),
            "{id}"
        );
    }
}

#[test]
fn a_period_shorter_than_a_day_is_its_own_window() {
    let calls = calls();
    let c = report(&Inputs {
        from: u(1, 10, 0),
        to: u(1, 13, 0),
        now: u(4, 0, 0),
        grace: Duration::from_secs(5),
        calls: &calls,
        activity: &[],
        tickets: &[],
        callbacks: &[],
    });
    let c3 = rule(&c, "C3");
    // c1 and c2 answered, c3 lost: 2/3 over the three hours.
    assert!((c3.measured["worst_24h_rate"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(c3.measured["window_minutes"], 180);
    assert!(c3.reason.as_deref().unwrap().contains("shorter than 24 h"));
    assert_eq!(rule(&c, "C1").status, Status::NotMeasurable);
}
