//! C8 over a scripted period: the day 2026-12-01 (China time), judged at 2026-12-02 23:00.
//!
//! | call | offered | kept  | tries (try time: reached?)                      | fate                      |
//! |------|---------|-------|-------------------------------------------------|---------------------------|
//! | K0   | 11-30 22:59 | 11-30 23:00 | 12-01 00:10 reached                 | kept before: not counted  |
//! | K1   | 10:00   | 10:01 | 10:20 reached (1140 s)                          | reached                   |
//! | K2   | 10:05   | 10:06 | 10:30 no, 10:33:30 no, 10:37 no (last)          | given up (in time)        |
//! | K3   | 11:00   | 11:02 | 11:10 no, 11:14 reached (720 s)                 | reached                   |
//! | K4   | 20:00   | 20:01 | none                                            | late: due 12-02 20:01     |
//! | K5   | 21:00   | 21:05 | 12-02 22:00 reached (24 h 55 min = 89700 s)     | late: due 12-02 21:05     |
//! | K6   | 23:50   | 23:55 | 12-02 08:00 no                                  | pending: due 12-02 23:55  |
//! | K7   | 12:00   | —     | —                                               | declined: offered only    |
//! | K8   | 12-02 09:00 | 12-02 09:01 | —                                   | kept after: not counted   |

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use super::super::conformance::{report, Inputs, Status};
use super::{CallbackFact, CallbackStep};

/// `d` December 2026 (30: November 30), `hh:mm:ss` China time.
fn at(d: u32, hh: u32, mm: u32, ss: u32) -> DateTime<Utc> {
    let (month, day) = if d == 30 { (11, 30) } else { (12, d) };
    chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(2026, month, day, hh, mm, ss)
        .unwrap()
        .with_timezone(&Utc)
}

fn fact(origin: &str, step: CallbackStep, at: DateTime<Utc>) -> CallbackFact {
    CallbackFact {
        origin: format!("call-{origin}"),
        step,
        at,
    }
}

fn offered(o: &str, t: DateTime<Utc>) -> CallbackFact {
    fact(o, CallbackStep::Offered, t)
}

fn kept(o: &str, t: DateTime<Utc>) -> CallbackFact {
    fact(o, CallbackStep::Kept, t)
}

fn tried(o: &str, t: DateTime<Utc>, reached_after_s: Option<u64>, last: bool) -> CallbackFact {
    fact(
        o,
        CallbackStep::Tried {
            reached: reached_after_s.map(Duration::from_secs),
            last,
        },
        t,
    )
}

fn c8(callbacks: &[CallbackFact], now: DateTime<Utc>) -> super::RuleResult {
    let r = report(&Inputs {
        from: at(1, 0, 0, 0),
        to: at(2, 0, 0, 0),
        now,
        grace: Duration::ZERO,
        calls: &[],
        activity: &[],
        tickets: &[],
        callbacks,
    });
    r.rules.into_iter().find(|r| r.rule == "C8").unwrap()
}

fn period() -> Vec<CallbackFact> {
    vec![
        offered("K0", at(30, 22, 59, 0)),
        kept("K0", at(30, 23, 0, 0)),
        tried("K0", at(1, 0, 10, 0), Some(4200), false),
        offered("K1", at(1, 10, 0, 0)),
        kept("K1", at(1, 10, 1, 0)),
        // 10:01 → 10:20 = 19 min = 1140 s.
        tried("K1", at(1, 10, 20, 0), Some(1140), false),
        offered("K2", at(1, 10, 5, 0)),
        kept("K2", at(1, 10, 6, 0)),
        tried("K2", at(1, 10, 30, 0), None, false),
        tried("K2", at(1, 10, 33, 30), None, false),
        tried("K2", at(1, 10, 37, 0), None, true),
        offered("K3", at(1, 11, 0, 0)),
        kept("K3", at(1, 11, 2, 0)),
        tried("K3", at(1, 11, 10, 0), None, false),
        // 11:02 → 11:14 = 720 s.
        tried("K3", at(1, 11, 14, 0), Some(720), false),
        offered("K4", at(1, 20, 0, 0)),
        kept("K4", at(1, 20, 1, 0)),
        offered("K5", at(1, 21, 0, 0)),
        kept("K5", at(1, 21, 5, 0)),
        // 12-01 21:05 → 12-02 22:00 = 24 h 55 min = 86400 + 3300 = 89700 s.
        tried("K5", at(2, 22, 0, 0), Some(89_700), false),
        offered("K6", at(1, 23, 50, 0)),
        kept("K6", at(1, 23, 55, 0)),
        tried("K6", at(2, 8, 0, 0), None, false),
        offered("K7", at(1, 12, 0, 0)),
        offered("K8", at(2, 9, 0, 0)),
        kept("K8", at(2, 9, 1, 0)),
    ]
}

#[test]
fn c8_follows_each_place_kept_in_the_period_to_its_outcome() {
    let r = c8(&period(), at(2, 23, 0, 0));
    // Offered in the period: K1–K7 = 7; kept: K1–K6 = 6.
    assert_eq!(r.measured["offered"], 7);
    assert_eq!(r.measured["kept"], 6);
    // Reached: K1, K3, K5; given up: K2; pending: K6 (due 23:55, it is 23:00).
    assert_eq!(r.measured["reached"], 3);
    assert_eq!(r.measured["given_up"], 1);
    assert_eq!(r.measured["pending"], 1);
    // Late: K4 (never tried, due 12-02 20:01) and K5 (reached after its 24 h).
    assert_eq!(r.measured["late"], 2);
    assert_eq!(r.measured["never_tried"], 1);
    // Tries: K1 1 + K2 3 + K3 2 + K4 0 + K5 1 + K6 1 = 8.
    assert_eq!(r.measured["tries"], 8);
    // (1140 + 720 + 89700) ÷ 3 = 91560 ÷ 3 = 30520 s; the longest 89700 s.
    assert_eq!(r.measured["avg_time_to_callback_s"], 30_520.0);
    assert_eq!(r.measured["max_time_to_callback_s"], 89_700.0);
    assert_eq!(r.measured["limit_s"], 86_400);
    assert_eq!(r.status, Status::Fail);
    assert_eq!(r.breaches, 2);
    assert_eq!(r.calls, ["call-K4", "call-K5"]);
    assert!(r.tickets.is_empty());
    assert!(r.reason.as_deref().unwrap().starts_with("1 kept place(s)"));
}

#[test]
fn c8_judges_an_open_place_once_its_24_hours_passed() {
    // At 12-02 23:56 K6's 24 h are over (due 23:55) with one unreached try: late too.
    let r = c8(&period(), at(2, 23, 56, 0));
    assert_eq!(r.measured["pending"], 0);
    assert_eq!(r.measured["late"], 3);
    assert_eq!(r.calls, ["call-K4", "call-K5", "call-K6"]);
    assert_eq!(r.reason, None);
    // At 12-02 20:00 (K5 not yet called back, its try at 22:00 still to come): K4 (due
    // 20:01), K5 (due 21:05) and K6 are all within their 24 h: nothing broken yet.
    let facts: Vec<CallbackFact> = period()
        .into_iter()
        .filter(|f| !(f.origin == "call-K5" && matches!(f.step, CallbackStep::Tried { .. })))
        .collect();
    let r = c8(&facts, at(2, 20, 0, 0));
    assert_eq!(r.measured["pending"], 3);
    assert_eq!(r.measured["never_tried"], 2);
    assert_eq!(r.status, Status::Pass);
    assert!(r.calls.is_empty());
    assert!(r.reason.as_deref().unwrap().starts_with("3 kept place(s)"));
}

#[test]
fn c8_passes_when_every_kept_place_was_reached_or_tried_to_the_last() {
    let facts: Vec<CallbackFact> = period()
        .into_iter()
        .filter(|f| ["call-K1", "call-K2", "call-K3", "call-K7"].contains(&f.origin.as_str()))
        .collect();
    let r = c8(&facts, at(2, 23, 0, 0));
    assert_eq!(r.status, Status::Pass);
    assert_eq!(r.measured["kept"], 3);
    assert_eq!(r.measured["reached"], 2);
    assert_eq!(r.measured["given_up"], 1);
    // (1140 + 720) ÷ 2 = 930 s.
    assert_eq!(r.measured["avg_time_to_callback_s"], 930.0);
    assert_eq!(r.breaches, 0);
    assert!(r.calls.is_empty());
}

#[test]
fn c8_is_not_measurable_when_nobody_kept_a_place() {
    let r = c8(&[], at(2, 23, 0, 0));
    assert_eq!(r.status, Status::NotMeasurable);
    assert_eq!(
        r.reason.as_deref(),
        Some("no waiting caller was offered a callback in the period")
    );
    assert_eq!(r.measured["offered"], 0);
    assert_eq!(
        r.measured["avg_time_to_callback_s"],
        serde_json::Value::Null
    );
    // Offers declined (K7), or a place kept outside the period (K0, K8): still nothing owed.
    let facts: Vec<CallbackFact> = period()
        .into_iter()
        .filter(|f| ["call-K0", "call-K7", "call-K8"].contains(&f.origin.as_str()))
        .collect();
    let r = c8(&facts, at(2, 23, 0, 0));
    assert_eq!(r.status, Status::NotMeasurable);
    assert_eq!(r.measured["offered"], 1);
    assert_eq!(r.measured["kept"], 0);
    assert!(r.reason.as_deref().unwrap().contains("declined"));
}
