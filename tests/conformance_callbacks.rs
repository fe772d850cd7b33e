//! C8 in the conformance report against the running engine (issue 17): a scripted day of
//! "call me back" written as the engine writes its call records (`CallRecordLog::append`:
//! the inbound calls that were offered a callback and kept their place, the callbacks the
//! hotline placed for them), the engine started on it with libfaketime at 2026-12-03 10:00
//! China time, and `GET /api/conformance?from=2026-12-01` compared with figures counted by
//! hand; then the report page in Chromium shows C8's figures and links the late call.
//!
//! The day, 2026-12-01 (China time):
//! - K1 offered 10:00:00 (its t₀), kept 10:01:00; callback try 1 answered 10:20:00 (19 min).
//! - K2 offered 10:05:00, kept 10:06:00; try 1 busy 10:30:00, try 2 (the last) no answer
//!   10:34:00: given up.
//! - K3 offered 11:00:00, kept 11:02:00; try 1 no answer 11:10:00, try 2 answered 11:14:00
//!   (12 min).
//! - K4 offered 20:00:00, kept 20:01:00; never called back (the engine was stopped): 24 h
//!   later (12-02 20:01) it is late.
//! - K7 offered 12:00:00, declined: waited and was answered 12:03:00.
//! - Outside: K8 offered and kept on 12-02 09:00 (not this period), reached at 09:20.

// A real engine on loopback, read in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use common::pages::start_page;
use common::Engine;
use hotline::call::record::{
    CallOutcome, CallRecord, CallState, Direction, LiveCall, OutboundInfo,
};
use hotline::outbound::dialler::Purpose;
use hotline::outbound::rules::Outcome;
use hotline::shell::records::CallRecordLog;
use serde_json::Value;

const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// `day` of December 2026 at `h:m`, China time.
fn at(day: u32, h: u32, m: u32) -> DateTime<Utc> {
    FixedOffset::east_opt(8 * 3600)
        .expect("+08:00")
        .with_ymd_and_hms(2026, 12, day, h, m, 0)
        .single()
        .expect("one instant")
        .with_timezone(&Utc)
}

fn base(id: &str, started: DateTime<Utc>) -> LiveCall {
    LiveCall {
        callback_offered: false,
        id: id.to_string(),
        caller: "138****0000".into(),
        called: "12345".into(),
        called_name: None,
        state: CallState::Ended,
        menu_path: vec!["main:1".into()],
        queue: Some("general".into()),
        started_at: started,
        answered_at: Some(started),
        queued_at: None,
        offered_to: None,
        agent: None,
        connected_at: None,
        wait_s: None,
        recording: None,
        transfers: Vec::new(),
        ticket: None,
        answered_queue: None,
        on_hold: false,
        parties: Vec::new(),
        direction: Direction::Inbound,
        outbound: None,
    }
}

fn record(call: LiveCall, ended: DateTime<Utc>, outcome: CallOutcome) -> CallRecord {
    CallRecord {
        sip_call_id: format!("{}@test", call.id),
        call,
        ended_at: ended,
        outcome,
        recording_sha256: None,
        over_15s: None,
        agent_media_failure: None,
    }
}

/// An inbound caller offered a callback at `t0` who kept the place at `kept`.
fn kept(id: &str, t0: DateTime<Utc>, kept: DateTime<Utc>) -> CallRecord {
    let mut c = base(id, t0 - chrono::Duration::seconds(20));
    c.callback_offered = true;
    c.queued_at = Some(t0);
    record(c, kept, CallOutcome::CallbackRequested)
}

/// A callback try for `origin` (kept at `asked`), `try_no`, answered at `answered` or not
/// reached at `ended` with `outcome`, `last` the last try.
fn try_for(
    origin: &str,
    asked: DateTime<Utc>,
    try_no: u32,
    answered: Option<DateTime<Utc>>,
    ended: DateTime<Utc>,
    outcome: Outcome,
    last: bool,
) -> CallRecord {
    let mut c = base(
        &format!("{origin}-cb{try_no}"),
        ended - chrono::Duration::seconds(40),
    );
    c.direction = Direction::Outbound;
    c.agent = Some("1001".into());
    c.connected_at = answered;
    c.outbound = Some(OutboundInfo {
        purpose: Purpose::CallMeBack,
        reference: origin.to_string(),
        try_no,
        outcome: Some(outcome),
        robot: None,
        reason: None,
        requested_at: Some(asked),
        last_try: last,
    });
    let how = if answered.is_some() {
        CallOutcome::Answered
    } else {
        CallOutcome::NotReached
    };
    record(c, ended, how)
}

fn write(data_dir: &Path) {
    let min = |m: i64| chrono::Duration::minutes(m);
    let mut declined = base("call-K7", at(1, 12, 0) - chrono::Duration::seconds(20));
    declined.callback_offered = true;
    declined.queued_at = Some(at(1, 12, 0));
    declined.connected_at = Some(at(1, 12, 3));
    declined.agent = Some("1002".into());
    declined.wait_s = Some(180.0);
    declined.answered_queue = Some("general".into());
    let mut records = vec![
        kept("call-K1", at(1, 10, 0), at(1, 10, 1)),
        try_for(
            "call-K1",
            at(1, 10, 1),
            1,
            Some(at(1, 10, 20)),
            at(1, 10, 20) + min(5),
            Outcome::Answered,
            false,
        ),
        kept("call-K2", at(1, 10, 5), at(1, 10, 6)),
        try_for(
            "call-K2",
            at(1, 10, 6),
            1,
            None,
            at(1, 10, 30),
            Outcome::Busy,
            false,
        ),
        try_for(
            "call-K2",
            at(1, 10, 6),
            2,
            None,
            at(1, 10, 34),
            Outcome::NoAnswer,
            true,
        ),
        kept("call-K3", at(1, 11, 0), at(1, 11, 2)),
        try_for(
            "call-K3",
            at(1, 11, 2),
            1,
            None,
            at(1, 11, 10),
            Outcome::NoAnswer,
            false,
        ),
        try_for(
            "call-K3",
            at(1, 11, 2),
            2,
            Some(at(1, 11, 14)),
            at(1, 11, 20),
            Outcome::Answered,
            false,
        ),
        record(declined, at(1, 12, 8), CallOutcome::Answered),
        kept("call-K4", at(1, 20, 0), at(1, 20, 1)),
        kept("call-K8", at(2, 9, 0), at(2, 9, 1)),
        try_for(
            "call-K8",
            at(2, 9, 1),
            1,
            Some(at(2, 9, 20)),
            at(2, 9, 25),
            Outcome::Answered,
            false,
        ),
    ];
    records.sort_by_key(|r| r.ended_at);
    let mut log = CallRecordLog::open(data_dir).expect("call records");
    for r in &records {
        log.append(r).expect("a record");
    }
    log.sync().expect("sync");
}

#[test]
fn c8_counts_the_callbacks_kept_in_the_period_and_links_the_one_never_made() {
    assert!(
        Path::new(LIBFAKETIME).exists(),
        "libfaketime is missing: run ./.ci/test (it installs Debian's faketime)"
    );
    let data = tempfile::tempdir().expect("data dir");
    write(data.path());
    // 2026-12-03 10:00 China time.
    let engine = Engine::start_in(
        data,
        "",
        &[],
        &[
            ("LD_PRELOAD", LIBFAKETIME),
            ("FAKETIME", "@2026-12-03 02:00:00"),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
            ("TZ", "UTC"),
        ],
    );
    let (status, body) = engine.get("/api/conformance?from=2026-12-01");
    assert_eq!(status, 200, "{body}");
    let report: Value = serde_json::from_str(&body).expect("json");
    let c8 = report["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .find(|r| r["rule"] == "C8")
        .expect("C8")
        .clone();
    let m = &c8["measured"];
    // Offered: K1, K2, K3, K4, K7 = 5 (K8 is the next day's). Kept: K1–K4 = 4.
    assert_eq!(m["offered"], 5, "{c8}");
    assert_eq!(m["kept"], 4, "{c8}");
    // Reached: K1, K3. Given up: K2 (its last try). Late: K4, never tried (due 12-02 20:01,
    // now 12-03 10:00). Pending: none.
    assert_eq!(m["reached"], 2, "{c8}");
    assert_eq!(m["given_up"], 1, "{c8}");
    assert_eq!(m["late"], 1, "{c8}");
    assert_eq!(m["pending"], 0, "{c8}");
    assert_eq!(m["never_tried"], 1, "{c8}");
    // Tries: K1 1 + K2 2 + K3 2 = 5 (K8's is not this period's).
    assert_eq!(m["tries"], 5, "{c8}");
    // Time to callback: K1 10:01 → 10:20 = 1140 s, K3 11:02 → 11:14 = 720 s; mean 930 s.
    assert_eq!(m["avg_time_to_callback_s"], 930.0, "{c8}");
    assert_eq!(m["max_time_to_callback_s"], 1140.0, "{c8}");
    assert_eq!(c8["status"], "fail", "{c8}");
    assert_eq!(c8["breaches"], 1, "{c8}");
    assert_eq!(c8["calls"], serde_json::json!(["call-K4"]), "{c8}");

    // The next day's report: K8 kept and reached in 19 min (09:01 → 09:20 = 1140 s): pass.
    let (_, body) = engine.get("/api/conformance?from=2026-12-02");
    let next: Value = serde_json::from_str(&body).expect("json");
    let c8_next = next["rules"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["rule"] == "C8"))
        .expect("C8");
    assert_eq!(c8_next["status"], "pass", "{c8_next}");
    assert_eq!(c8_next["measured"]["kept"], 1, "{c8_next}");
    assert_eq!(c8_next["measured"]["avg_time_to_callback_s"], 1140.0);
    // A day with none: not measurable, with why.
    let (_, body) = engine.get("/api/conformance?from=2026-11-30");
    let none: Value = serde_json::from_str(&body).expect("json");
    let c8_none = none["rules"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["rule"] == "C8"))
        .expect("C8");
    assert_eq!(c8_none["status"], "not_measurable", "{c8_none}");

    // On the report page: the figures and the late call's link.
    let tmp = tempfile::tempdir().expect("temp dir");
    let page = start_page(
        "rule_row",
        &format!("http://{}", engine.http),
        "demo-supervisor",
        tmp.path(),
        &["2026-12-01", "C8"],
    );
    let row = page.expect("RULE", Duration::from_secs(60), &engine);
    assert!(
        row.contains("offered: 5")
            && row.contains("kept: 4")
            && row.contains("late: 1")
            && row.contains("avg_time_to_callback_s: 930"),
        "{row}"
    );
    assert!(row.contains("|fail|call-K4"), "{row}");
    page.expect("SHOT", Duration::from_secs(10), &engine);
}
