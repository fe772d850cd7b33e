//! Per-agent and per-queue statistics from real calls (issue 17): two softphones (baresip),
//! a citizen played by SIPp. 1001 lets the enterprise call ring out (ring-no-answer), 1002
//! answers it, holds the caller about 2 s, and completes the call's ticket; 1001 takes a
//! break. `GET /api/stats/agents` and `/api/stats/queues` must match the hand counts, and the
//! talk time the call record's own timestamps.

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::{Duration, Instant};

use common::baresip::start_baresip_with;
use common::{http_request, sipp, wait_for, Engine};

fn json(engine: &Engine, path: &str) -> serde_json::Value {
    let (status, body) = engine.get(path);
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).expect("json")
}

fn row<'a>(list: &'a serde_json::Value, key: &str, id: &str) -> Option<&'a serde_json::Value> {
    list.as_array()?.iter().find(|x| x[key] == id)
}

fn post(engine: &Engine, path: &str, token: &str, body: &str) {
    let (status, text) = http_request(engine.http, "POST", path, Some(token), Some(body));
    assert!(status == 200 || status == 204, "{path}: {status} {text}");
}

fn secs(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("a number: {v}"))
}

fn time(v: &serde_json::Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().expect("a time"))
        .expect("RFC 3339")
        .to_utc()
}

#[test]
fn agent_and_queue_statistics_match_hand_counts_over_real_calls() {
    let engine = Engine::start("");
    let dir = tempfile::tempdir().expect("temp dir");
    let sip = engine.sip;
    let _phones = start_baresip_with(
        dir.path(),
        &format!(
            "<sip:1001@{sip};transport=udp>;auth_pass=demo-1001;regint=600;answermode=manual\n\
             <sip:1002@{sip};transport=udp>;auth_pass=demo-1002;regint=600;answermode=auto\n"
        ),
    );
    for id in ["1001", "1002"] {
        wait_for(Duration::from_secs(15), || {
            let list = json(&engine, "/api/agents");
            (row(&list, "id", id)?["registered"] == true).then_some(())
        })
        .unwrap_or_else(|| panic!("{id} registers; log:\n{}", engine.log()));
        post(
            &engine,
            &format!("/api/agents/{id}/state"),
            "demo-supervisor",
            r#"{"state":"ready"}"#,
        );
    }
    // Only supervisors read the figures; a bad range or format is refused with a reason.
    for (path, token, expected) in [
        ("/api/stats/agents", Some("demo-agent-1001"), 403),
        ("/api/stats/queues", None, 401),
        (
            "/api/stats/agents?from=2026-12-02&to=2026-12-01",
            Some("demo-supervisor"),
            400,
        ),
        ("/api/stats/agents?format=xml", Some("demo-supervisor"), 400),
        (
            "/api/stats/agents?day=2026-12-01",
            Some("demo-supervisor"),
            400,
        ),
    ] {
        let (status, body) = http_request(engine.http, "GET", path, token, None);
        assert_eq!(status, expected, "{path}: {body}");
    }

    let caller = std::thread::spawn(move || {
        sipp(
            sip,
            "uac_ivr_enterprise.xml",
            &["-m", "1", "-d", "16000"],
            Duration::from_secs(40),
        )
    });
    // 1001 (the enterprise specialist) rings for the queue's 8 s and does not answer; 1002 does.
    let talking = engine
        .call_where(Duration::from_secs(25), |c| {
            c["state"] == "talking" && c["agent"] == "1002"
        })
        .unwrap_or_else(|| panic!("1002 answers; log:\n{}", engine.log()));
    let call = talking["id"].as_str().expect("call id").to_string();
    // Hold about 2 s, timed from outside.
    post(
        &engine,
        &format!("/api/calls/{call}/hold"),
        "demo-agent-1002",
        r#"{"hold":true}"#,
    );
    let held = Instant::now();
    std::thread::sleep(Duration::from_secs(2));
    post(
        &engine,
        &format!("/api/calls/{call}/hold"),
        "demo-agent-1002",
        r#"{"hold":false}"#,
    );
    let hold_s = held.elapsed().as_secs_f64();
    // The answer opened a draft: 1002 completes it (one ticket created by 1002).
    let ticket = engine
        .call_where(Duration::from_secs(5), |c| c["ticket"].is_string())
        .and_then(|c| c["ticket"].as_str().map(str::to_string))
        .expect("a draft on the call");
    post(
        &engine,
        &format!("/api/tickets/{ticket}/actions"),
        "demo-agent-1002",
        r#"{"action":"complete","content":"企业开办咨询","urgency":"non_urgent","type":"consultation","domain":"market_supervision"}"#,
    );
    caller.join().expect("sipp thread").assert_ok();
    let record = engine
        .latest_record(Duration::from_secs(5))
        .expect("a call record");
    assert_eq!(record["agent"], "1002", "{record}");
    let talk_s = (time(&record["ended_at"]) - time(&record["connected_at"])).num_milliseconds()
        as f64
        / 1000.0;
    // 1001 takes a 1 s break, then is ready again.
    post(
        &engine,
        "/api/agents/1001/state",
        "demo-supervisor",
        r#"{"state":"not_ready","reason":"break"}"#,
    );
    std::thread::sleep(Duration::from_secs(1));
    post(
        &engine,
        "/api/agents/1001/state",
        "demo-supervisor",
        r#"{"state":"ready"}"#,
    );
    // A second citizen presses 1 a second after the menu answered and hangs up 5 s later,
    // while 1001's phone rings for them (8 s ring timeout): offered to 1001, not a
    // ring-no-answer, abandoned for the queue.
    sipp(
        sip,
        "uac_ivr_enterprise.xml",
        &["-m", "1", "-d", "2000"],
        Duration::from_secs(40),
    )
    .assert_ok();
    let second = engine
        .latest_record(Duration::from_secs(5))
        .expect("the second call's record");
    assert_eq!(second["outcome"], "abandoned_in_queue", "{second}");

    // The facts are written by the store's thread: wait until the last one shows.
    let agents = wait_for(Duration::from_secs(10), || {
        let r = json(&engine, "/api/stats/agents");
        let a = row(&r["agents"], "agent", "1001")?;
        (a["not_ready_by_reason"]["break"].as_f64()? > 0.5 && a["offered"] == 2).then_some(r)
    })
    .unwrap_or_else(|| panic!("stats show the break; log:\n{}", engine.log()));
    let a1 = row(&agents["agents"], "agent", "1001").expect("1001");
    let a2 = row(&agents["agents"], "agent", "1002").expect("1002");
    // Hand counts: 1001 was rung twice, let the first ring out and lost the second to the
    // caller; 1002 was rung once and answered.
    assert_eq!(
        (&a1["offered"], &a1["answered"], &a1["ring_no_answer"]),
        (&2.into(), &0.into(), &1.into()),
        "{a1}"
    );
    assert_eq!(
        (&a2["offered"], &a2["answered"], &a2["ring_no_answer"]),
        (&1.into(), &1.into(), &0.into()),
        "{a2}"
    );
    // 1001 rang for the queue's 8 s ring timeout, then a few seconds for the second caller.
    let rang = secs(&a1["ringing_s"]);
    assert!(rang > 10.0 && rang < 15.0, "{a1}");
    assert!(secs(&a1["not_ready_by_reason"]["no_answer"]) > 0.0, "{a1}");
    assert!(
        (secs(&a1["not_ready_by_reason"]["break"]) - 1.0).abs() < 0.5,
        "{a1}"
    );
    assert_eq!(
        a1["occupancy"].as_f64().map(|o| o > 0.0),
        Some(true),
        "{a1}"
    );
    // 1002's talk is the record's connected → ended; its hold what we timed.
    assert!(
        (secs(&a2["talk_s"]) - talk_s).abs() < 0.5,
        "{a2} vs {talk_s}"
    );
    assert_eq!(a2["talks"], 1, "{a2}");
    assert!(
        (secs(&a2["hold_s"]) - hold_s).abs() < 0.5,
        "{a2} vs {hold_s}"
    );
    assert!(secs(&a2["wrap_up_s"]) > 0.0, "{a2}");
    assert_eq!(a2["tickets_created"], 1, "{a2}");
    assert_eq!(a1["tickets_created"], 0, "{a1}");

    let queues = json(&engine, "/api/stats/queues");
    let q = row(&queues["queues"], "queue", "enterprise").expect("enterprise");
    assert_eq!(q["calls"]["offered"], 2, "{q}");
    assert_eq!(q["calls"]["answered"], 1, "{q}");
    // The answer came after the 8 s ring-out, within 15 s; the second caller gave up.
    assert_eq!(q["calls"]["answered_within_15s"], 1, "{q}");
    assert_eq!(q["calls"]["abandoned"], 1, "{q}");
    assert_eq!(q["calls"]["connection_rate"], 0.5, "{q}");
    assert_eq!(
        (&q["offered"], &q["answered"]),
        (&3.into(), &1.into()),
        "{q}"
    );
    assert_eq!(q["ring_no_answer"], 1, "{q}");
    assert!((secs(&q["talk_s"]) - talk_s).abs() < 0.5, "{q}");
    assert!((secs(&q["hold_s"]) - hold_s).abs() < 0.5, "{q}");

    // The same as CSV, one row per agent / queue.
    let (status, csv) = engine.get("/api/stats/agents?format=csv");
    assert_eq!(status, 200);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("agent,offered,answered,ring_no_answer,"),
        "{csv}"
    );
    assert!(lines.iter().any(|l| l.starts_with("1001,2,0,1,")), "{csv}");
    assert!(lines.iter().any(|l| l.starts_with("1002,1,1,0,")), "{csv}");
    let (status, csv) = engine.get("/api/stats/queues?format=csv");
    assert_eq!(status, 200);
    assert!(
        csv.lines()
            .any(|l| l.starts_with("enterprise,2,1,1,1,0,0.5000,")),
        "{csv}"
    );
    // Staffing for today: 96 quarter hours; no past weeks yet, so no agent is needed, and
    // the current quarter hour shows the two agents logged in (both were all along).
    let plan = json(&engine, "/api/stats/staffing");
    assert_eq!(plan["model"], "erlang_c");
    let intervals = plan["intervals"].as_array().expect("intervals");
    assert_eq!(intervals.len(), 96);
    assert!(intervals.iter().all(|i| i["agents_needed"] == 0), "{plan}");
    let now_logged: Vec<f64> = intervals
        .iter()
        .filter_map(|i| i["logged_in"].as_f64())
        .collect();
    assert!(
        now_logged.last().is_some_and(|n| *n > 0.0 && *n <= 2.0),
        "{plan}"
    );
    // The conformance report over today, on the same calls: every rule once; the answered
    // caller within 15 s and recorded, the second lost (C3: 1 of 2 in the worst 24 h); the
    // call's ticket registered (W2).
    let report = json(&engine, "/api/conformance");
    let rules = report["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 35, "{report}");
    let rule = |id: &str| {
        rules
            .iter()
            .find(|r| r["rule"] == id)
            .expect("rule")
            .clone()
    };
    let c2 = rule("C2");
    assert_eq!(c2["measured"]["asked_for_a_person"], 2, "{c2}");
    assert_eq!(c2["measured"]["answered_within_15s"], 1, "{c2}");
    assert_eq!(c2["status"], "pass", "{c2}");
    let c3 = rule("C3");
    assert_eq!(
        (&c3["status"], &c3["measured"]["worst_24h_rate"]),
        (&"fail".into(), &0.5.into()),
        "{c3}"
    );
    assert_eq!(c3["calls"], serde_json::json!([second["id"]]), "{c3}");
    let c9 = rule("C9");
    assert_eq!(
        (&c9["status"], &c9["measured"]["recorded"]),
        (&"pass".into(), &1.into()),
        "{c9}"
    );
    let w2 = rule("W2");
    assert_eq!(
        (&w2["status"], &w2["measured"]["counted"]),
        (&"pass".into(), &1.into()),
        "{w2}"
    );
    assert_eq!(
        http_request(
            engine.http,
            "GET",
            "/api/conformance",
            Some("demo-agent-1002"),
            None
        )
        .0,
        403
    );
    // An explicit day range that excludes today shows nobody.
    let empty = json(&engine, "/api/stats/agents?from=2020-01-01&to=2020-01-02");
    assert!(
        empty["agents"]
            .as_array()
            .is_some_and(|a| a.iter().all(|r| r["offered"] == 0)),
        "{empty}"
    );
}
