//! Agent and queue statistics over scripted days (issue 17: "the agent statistics match hand
//! counts over a scripted day"). `stats_day/script.rs` writes two days of three agents in two
//! queues into a data dir through the store's own writers; the engine starts on it with
//! libfaketime at 2026-11-25 10:00 China time (today: a day with nothing in it), and every
//! column of `GET /api/stats/agents` and `/api/stats/queues`, JSON and CSV, is compared with
//! figures counted by hand below (the arithmetic is in the comments).
//!
//! How the edges are counted (docs/KPI.md): time in a state is split at midnight, so G5
//! (talking 23:50:10 → 00:10:10, on hold 23:58:00 → 00:03:00) gives 590 s of talk and 120 s
//! of hold to day A and 610 s and 180 s to day B; its ring and answer are day A's; it is one
//! of the `talks` of both days (a talk under way at the start counts) but once in the range
//! over both. For the queue's callers G5 is answered on day A (when a person answered) and
//! its handle time (1200 s) belongs to day B (when it ended). A call across an hour or a
//! quarter hour (E1, 10:59:05 → 11:04:05) counts whole in its day.

// A real engine on loopback, read in real time.
#![allow(clippy::disallowed_methods)]

mod common;
#[path = "stats_day/script.rs"]
mod script;

use std::path::Path;

use common::{http_request, Engine};
use serde_json::{json, Value};

/// libfaketime, as Debian's `faketime` package installs it.
const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

fn get(engine: &Engine, path: &str) -> Value {
    let (status, body) = engine.get(path);
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

/// `actual` equals `expected` field for field (numbers within 1e-6), with no field beyond;
/// every difference is listed.
fn same(actual: &Value, expected: &Value, at: &str) {
    let mut diffs = Vec::new();
    diff(actual, expected, at, &mut diffs);
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

fn diff(actual: &Value, expected: &Value, at: &str, out: &mut Vec<String>) {
    match (actual, expected) {
        (Value::Number(a), Value::Number(e)) => {
            let (a, e) = (
                a.as_f64().unwrap_or(f64::NAN),
                e.as_f64().unwrap_or(f64::NAN),
            );
            if (a - e).abs() >= 1e-6 {
                out.push(format!("{at}: {a} but counted by hand {e}"));
            }
        }
        (Value::Object(a), Value::Object(e)) => {
            let mut ka: Vec<&String> = a.keys().collect();
            let mut ke: Vec<&String> = e.keys().collect();
            ka.sort();
            ke.sort();
            if ka != ke {
                out.push(format!("{at}: fields {ka:?} vs {ke:?}"));
            }
            for (k, v) in e {
                diff(
                    a.get(k).unwrap_or(&Value::Null),
                    v,
                    &format!("{at}.{k}"),
                    out,
                );
            }
        }
        (Value::Array(a), Value::Array(e)) if a.len() == e.len() => {
            for (i, (x, y)) in a.iter().zip(e).enumerate() {
                diff(x, y, &format!("{at}[{i}]"), out);
            }
        }
        _ if actual == expected => {}
        _ => out.push(format!("{at}: {actual} but counted by hand {expected}")),
    }
}

/// One agent's row. `t` = (talk s, talks), `h` = hold s, `w` = (wrap-up s, wrap-ups),
/// `time` = (logged in, ready, ringing, not ready), `occ` = (busy, available), `tk` =
/// (tickets created, closed).
#[allow(clippy::too_many_arguments)]
fn agent(
    id: &str,
    rings: (u64, u64, u64),
    t: (f64, u64),
    h: f64,
    w: (f64, u64),
    web: u64,
    time: (f64, f64, f64, f64),
    reasons: Value,
    occ: Option<(f64, f64)>,
    tk: (u64, u64),
    queues: &[&str],
) -> Value {
    let avg = |s: f64, n: u64| {
        if n > 0 {
            json!(s / n as f64)
        } else {
            Value::Null
        }
    };
    json!({
        "agent": id, "offered": rings.0, "answered": rings.1, "ring_no_answer": rings.2,
        "talk_s": t.0, "talks": t.1, "avg_talk_s": avg(t.0, t.1),
        "hold_s": h, "avg_hold_s": avg(h, t.1),
        "wrap_up_s": w.0, "wrap_ups": w.1, "avg_wrap_up_s": avg(w.0, w.1),
        "web_items": web,
        "logged_in_s": time.0, "ready_s": time.1, "ringing_s": time.2, "assisting_s": 0.0,
        "not_ready_s": time.3, "not_ready_by_reason": reasons,
        "occupancy": occ.map(|(b, a)| b / a),
        "tickets_created": tk.0, "tickets_closed": tk.1,
        "queues": queues,
    })
}

/// The callers' side of a queue (`docs/KPI.md`): (offered, answered, within 15 s, abandoned,
/// waited over 15 s), the sum and the longest of the waits, the handle times' sum and count.
fn callers(n: (u64, u64, u64, u64, u64), wait: (f64, f64), handle: (f64, u64)) -> Value {
    let (offered, answered, within, abandoned, over) = n;
    let counted = answered + abandoned;
    let ratio = |x: u64| {
        if counted > 0 {
            json!(x as f64 / counted as f64)
        } else {
            Value::Null
        }
    };
    json!({
        "offered": offered, "answered": answered, "answered_within_15s": within,
        "abandoned": abandoned, "abandoned_in_grace": 0, "refused_no_capacity": 0,
        "waited_over_15s": over, "counted": counted,
        "connection_rate": ratio(answered), "answer_rate_15s": ratio(within),
        "avg_wait_s": if answered > 0 { json!(wait.0 / answered as f64) } else { Value::Null },
        "max_wait_s": if counted > 0 { json!(wait.1) } else { Value::Null },
        "avg_handle_s": if handle.1 > 0 { json!(handle.0 / handle.1 as f64) } else { Value::Null },
        // No caller of the scripted days took "call me back" (C8).
        "callbacks": {"offered": 0, "kept": 0, "reached": 0, "given_up": 0, "avg_time_to_callback_s": null},
    })
}

/// One queue's row: its callers, then the agents' side: (rings, answered, ring-no-answer),
/// (talk s, talks), hold s, (wrap-up s, wrap-ups), web items.
fn queue(
    name: &str,
    calls: Value,
    rings: (u64, u64, u64),
    t: (f64, u64),
    h: f64,
    w: (f64, u64),
    web: u64,
) -> Value {
    let avg = |s: f64, n: u64| {
        if n > 0 {
            json!(s / n as f64)
        } else {
            Value::Null
        }
    };
    json!({
        "queue": name, "calls": calls,
        "offered": rings.0, "answered": rings.1, "ring_no_answer": rings.2,
        "talk_s": t.0, "talks": t.1, "avg_talk_s": avg(t.0, t.1),
        "hold_s": h, "avg_hold_s": avg(h, t.1),
        "wrap_up_s": w.0, "wrap_ups": w.1, "avg_wrap_up_s": avg(w.0, w.1),
        "web_items": web,
    })
}

fn web_queue(items: u64) -> Value {
    queue(
        "web",
        callers((0, 0, 0, 0, 0), (0.0, 0.0), (0.0, 0)),
        (0, 0, 0),
        (0.0, 0),
        0.0,
        (0.0, 0),
        items,
    )
}

fn day_a_agents() -> Value {
    json!([
        agent(
            "1001",
            // Rung for G1 08:00:04, G2 08:59:55, E1 10:59:02; G2 rang out.
            (3, 2, 1),
            // G1 08:00:10 → 08:05:10 (300) + E1 10:59:05 → 11:04:05 (300).
            (600.0, 2),
            // G1 08:02:00 → 08:02:45 (45) + E1 11:01 → 11:02 (60) + 11:03:00 → 11:03:30 (30).
            135.0,
            // G1 08:05:10 → 08:06:10 (60) + E1 11:04:05 → 11:05:35 (90).
            (150.0, 2),
            1,
            (
                // 07:55 → 12:30 (16500) + 13:30 → 17:00 (12600).
                29_100.0,
                // 07:55:00 → 08:00:04 (304) + 08:06:10 → 08:59:55 (3225) + 09:02:15 → 10:00
                // (3465) + 10:15 → 10:59:02 (2642) + 11:05:35 → 12:00 (3265) + 13:30 → 17:00
                // (12600) = 25501.
                25_501.0, // 6 + 20 + 3.
                29.0,
                // no answer 09:00:15 → 09:02:15 (120) + break 900 + meal 12:00 → 12:30 (1800).
                2_820.0,
            ),
            json!({"break": 900.0, "meal": 1_800.0, "no_answer": 120.0}),
            // (29 + 600 + 150) ÷ (779 + 25501).
            Some((779.0, 26_280.0)),
            // G1's draft completed; the web request registered and directly closed.
            (2, 1),
            &["enterprise", "general", "web"],
        ),
        agent(
            "1002",
            // G2 09:00:15, G3 09:30:03 (its caller gave up while ringing), E2, G5.
            (4, 3, 0),
            // G2 600 + E2 14:00:12 → 14:08:12 (480) + G5 23:50:10 → 24:00 (590).
            (1_670.0, 3),
            // G5 23:58 → 24:00.
            120.0,
            // G2 30 + E2 120.
            (150.0, 2),
            1,
            (
                // 08:30 → 24:00.
                55_800.0,
                // 08:30:00 → 09:00:15 (1815) + 09:10:50 → 09:30:03 (1153) + 09:30:12 →
                // 09:35 (288) + 09:45 → 12:00 (8100) + 13:00 → 14:00:06 (3606) + 14:10:12 →
                // 23:50:05 (34793) = 49755.
                49_755.0, // 5 + 9 + 6 + 5.
                25.0,     // break 600 + meal 3600.
                4_200.0,
            ),
            json!({"break": 600.0, "meal": 3_600.0}),
            // (25 + 1670 + 150) ÷ (1845 + 49755).
            Some((1_845.0, 51_600.0)),
            // G2's draft completed and answered directly; E2's refused (W1).
            (1, 2),
            &["enterprise", "general", "web"],
        ),
        agent(
            "1003",
            // E3 rang out, E4 answered.
            (2, 1, 1),
            // E4 10:00:08 → 10:20:08.
            (1_200.0, 1),
            0.0,
            // 10:20:08 → 10:23:08.
            (180.0, 1),
            0,
            (
                // 08:00 → 18:00.
                36_000.0,
                // 08:00 → 09:20:02 (4802) + 09:21 → 10:00:03 (2343) + 10:23:08 → 15:00
                // (16612) + 15:20 → 18:00 (9600) = 33357.
                33_357.0, // 20 + 5.
                25.0,     // no answer 09:20:22 → 09:21 (38) + break 1200.
                1_238.0,
            ),
            json!({"break": 1_200.0, "no_answer": 38.0}),
            // (25 + 1200 + 180) ÷ (1405 + 33357).
            Some((1_405.0, 34_762.0)),
            (1, 0),
            &["enterprise"],
        ),
    ])
}

fn day_b_agents() -> Value {
    json!([
        agent(
            "1001",
            (1, 1, 0),
            // G6 08:30:05 → 08:35:05.
            (300.0, 1),
            0.0,
            (30.0, 1),
            0,
            (
                // 08:00 → 12:00.
                14_400.0,
                // 08:00 → 08:30:02 (1802) + 08:35:35 → 09:00 (1465) + 09:10 → 12:00 (10200).
                13_467.0, 3.0, 600.0,
            ),
            json!({"break": 600.0}),
            // (3 + 300 + 30) ÷ (333 + 13467).
            Some((333.0, 13_800.0)),
            (0, 0),
            &["general"],
        ),
        agent(
            "1002",
            // No ring today; G5 was under way at midnight: one talk, 00:00 → 00:10:10.
            (0, 0, 0),
            (610.0, 1),
            // 00:00 → 00:03.
            180.0,
            // 00:10:10 → 00:11:10.
            (60.0, 1),
            0,
            // 00:00 → 00:15; ready 00:11:10 → 00:15 (230).
            (900.0, 230.0, 0.0, 0.0),
            json!({}),
            // (610 + 60) ÷ (670 + 230).
            Some((670.0, 900.0)),
            // G5's ticket completed at 00:10:30.
            (1, 0),
            &["general"],
        ),
        agent(
            "1003",
            (1, 1, 0),
            // E5 09:30:04 → 09:40:04.
            (600.0, 1),
            20.0,
            (60.0, 1),
            1,
            (
                // 09:00 → 12:00.
                10_800.0,
                // 09:00 → 09:30:01 (1801) + 09:41:04 → 11:00 (4736) + 11:30 → 12:00 (1800).
                8_337.0, 3.0, 1_800.0,
            ),
            json!({"meal": 1_800.0}),
            // (3 + 600 + 60) ÷ (663 + 8337).
            Some((663.0, 9_000.0)),
            (1, 1),
            &["enterprise", "web"],
        ),
    ])
}

fn range_agents() -> Value {
    json!([
        agent(
            "1001",
            (4, 3, 1),
            (900.0, 3),
            135.0,
            (180.0, 3),
            1,
            // 29100 + 14400; 25501 + 13467; 29 + 3; 2820 + 600.
            (43_500.0, 38_968.0, 32.0, 3_420.0),
            json!({"break": 1_500.0, "meal": 1_800.0, "no_answer": 120.0}),
            // (32 + 900 + 180) ÷ (1112 + 38968).
            Some((1_112.0, 40_080.0)),
            (2, 1),
            &["enterprise", "general", "web"],
        ),
        agent(
            "1002",
            (4, 3, 0),
            // 1670 + 610, but G5 is one talk over the two days: 3 talks, not 3 + 1.
            (2_280.0, 3),
            // 120 + 180.
            300.0,
            (210.0, 3),
            1,
            (56_700.0, 49_985.0, 25.0, 4_200.0),
            json!({"break": 600.0, "meal": 3_600.0}),
            // (25 + 2280 + 210) ÷ (2515 + 49985).
            Some((2_515.0, 52_500.0)),
            (2, 2),
            &["enterprise", "general", "web"],
        ),
        agent(
            "1003",
            (3, 2, 1),
            (1_800.0, 2),
            20.0,
            (240.0, 2),
            1,
            (46_800.0, 41_694.0, 28.0, 3_038.0),
            json!({"break": 1_200.0, "meal": 1_800.0, "no_answer": 38.0}),
            // (28 + 1800 + 240) ÷ (2068 + 41694).
            Some((2_068.0, 43_762.0)),
            (2, 1),
            &["enterprise", "web"],
        ),
    ])
}

fn day_a_queues() -> Value {
    json!([
        queue(
            "enterprise",
            // E3 abandoned after 40 s; E4 8 s, E1 5 s, E2 12 s; talks 1200, 300, 480.
            callers((4, 3, 3, 1, 1), (25.0, 40.0), (1_980.0, 3)),
            // Rings: E3 and E4 on 1003, E1 on 1001, E2 on 1002; E3 rang out.
            (4, 3, 1),
            (1_980.0, 3),
            // E1's 60 + 30.
            90.0,
            // E4 180 + E1 90 + E2 120.
            (390.0, 3),
            0,
        ),
        queue(
            "general",
            // G1 10 s, G2 30 s (over 15), G5 10 s answered; G3 (12 s) and G4 (40 s, over 15)
            // abandoned; ended today: G1 300, G2 600 (G5 ends on day B).
            callers((5, 3, 2, 2, 2), (50.0, 40.0), (900.0, 2)),
            // Rings: G1 and G2 on 1001, G2, G3 and G5 on 1002; G2 rang out on 1001.
            (5, 3, 1),
            // G1 300 + G2 600 + G5 590.
            (1_490.0, 3),
            // G1 45 + G5 120.
            165.0,
            // G1 60 + G2 30.
            (90.0, 2),
            0,
        ),
        web_queue(2),
    ])
}

fn day_b_queues() -> Value {
    json!([
        queue(
            "enterprise",
            callers((1, 1, 1, 0, 0), (4.0, 4.0), (600.0, 1)),
            (1, 1, 0),
            (600.0, 1),
            20.0,
            (60.0, 1),
            0,
        ),
        queue(
            "general",
            // G6 answered in 5 s; handle times ended today: G5 1200, G6 300.
            callers((1, 1, 1, 0, 0), (5.0, 5.0), (1_500.0, 2)),
            (1, 1, 0),
            // G5 610 + G6 300.
            (910.0, 2),
            180.0,
            // G5 60 + G6 30.
            (90.0, 2),
            0,
        ),
        web_queue(1),
    ])
}

fn range_queues() -> Value {
    json!([
        queue(
            "enterprise",
            // Waits 25 + 4; handle 1980 + 600.
            callers((5, 4, 4, 1, 1), (29.0, 40.0), (2_580.0, 4)),
            (5, 4, 1),
            (2_580.0, 4),
            110.0,
            (450.0, 4),
            0,
        ),
        queue(
            "general",
            // Waits 50 + 5; handle 900 + 1500.
            callers((6, 4, 3, 2, 2), (55.0, 40.0), (2_400.0, 4)),
            (6, 4, 1),
            // 1490 + 910, G5 one talk.
            (2_400.0, 4),
            345.0,
            (180.0, 4),
            0,
        ),
        web_queue(3),
    ])
}

/// Splits one CSV line (fields quoted as `agents::csv_field` quotes them).
fn csv_line(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                out.last_mut().expect("a field").push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(String::new()),
            (c, _) => out.last_mut().expect("a field").push(c),
        }
    }
    out
}

/// Where a CSV column's value is in the JSON row.
fn pointer(table: &str, column: &str) -> String {
    const QUEUE_CALLS: &[&str] = &[
        "offered",
        "answered",
        "answered_within_15s",
        "abandoned",
        "abandoned_in_grace",
        "connection_rate",
        "answer_rate_15s",
        "avg_wait_s",
        "max_wait_s",
        "refused_no_capacity",
        "waited_over_15s",
        "counted",
        "avg_handle_s",
    ];
    match (table, column) {
        ("queues", "avg_time_to_callback_s") => "/calls/callbacks/avg_time_to_callback_s".into(),
        ("queues", c) if c.starts_with("callbacks_") => {
            format!("/calls/callbacks/{}", &c["callbacks_".len()..])
        }
        ("queues", "rings") => "/offered".into(),
        ("queues", "rings_answered") => "/answered".into(),
        ("queues", c) if QUEUE_CALLS.contains(&c) => format!("/calls/{c}"),
        (_, c) => format!("/{c}"),
    }
}

/// The CSV of `path` has the JSON's rows in the same order, and every JSON field in a column
/// whose value is the JSON's (rounded as the CSV prints it).
fn csv_matches_json(engine: &Engine, path: &str, table: &str) {
    let json = get(engine, path);
    let rows = json[table].as_array().expect("rows");
    let sep = if path.contains('?') { '&' } else { '?' };
    let (status, csv) = engine.get(&format!("{path}{sep}format=csv"));
    assert_eq!(status, 200, "{csv}");
    let mut lines = csv.lines();
    let header = csv_line(lines.next().expect("a header"));
    let body: Vec<Vec<String>> = lines.map(csv_line).collect();
    assert_eq!(
        body.len(),
        rows.len(),
        "{path}: one CSV row per JSON row\n{csv}"
    );
    // Every JSON leaf has its column.
    let mut leaves = Vec::new();
    for (k, v) in rows
        .first()
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        match v {
            Value::Object(o) if k == "calls" => {
                for (c, v) in o {
                    match v {
                        // "Call me back" (C8): its counts are one level down.
                        Value::Object(inner) => {
                            leaves.extend(inner.keys().map(|i| format!("/calls/{c}/{i}")))
                        }
                        _ => leaves.push(format!("/calls/{c}")),
                    }
                }
            }
            _ => leaves.push(format!("/{k}")),
        }
    }
    let columns: Vec<String> = header.iter().map(|c| pointer(table, c)).collect();
    for leaf in &leaves {
        assert!(columns.contains(leaf), "{path}: no CSV column for {leaf}");
    }
    for (row, fields) in rows.iter().zip(&body) {
        assert_eq!(fields.len(), header.len(), "{path}: {fields:?}");
        for (col, text) in header.iter().zip(fields) {
            let want = row
                .pointer(&pointer(table, col))
                .unwrap_or_else(|| panic!("{path}: column {col} is not in {row}"));
            let at = format!("{path} CSV {col} of {}", fields[0]);
            match want {
                Value::Null => assert_eq!(text, "", "{at}"),
                Value::String(s) => assert_eq!(text, s, "{at}"),
                Value::Number(n) => {
                    let decimals = text.split_once('.').map_or(0, |(_, d)| d.len());
                    let got: f64 = text.parse().unwrap_or_else(|_| panic!("{at}: {text}"));
                    let n = n.as_f64().unwrap_or(f64::NAN);
                    assert!(
                        (got - n).abs() <= 0.5 * 10f64.powi(-(decimals as i32)) + 1e-9,
                        "{at}: {text} vs {n}"
                    );
                }
                Value::Object(reasons) => {
                    // `reason=seconds;…`
                    let pairs: Vec<(String, f64)> = text
                        .split(';')
                        .filter(|p| !p.is_empty())
                        .map(|p| {
                            let (k, v) = p.split_once('=').expect("reason=seconds");
                            (k.to_string(), v.parse().expect("seconds"))
                        })
                        .collect();
                    assert_eq!(pairs.len(), reasons.len(), "{at}: {text}");
                    for (k, v) in pairs {
                        let n = reasons[&k].as_f64().expect("seconds");
                        assert!((v - n).abs() <= 0.05, "{at}: {k}");
                    }
                }
                Value::Array(list) => {
                    let names: Vec<&str> = list.iter().filter_map(Value::as_str).collect();
                    assert_eq!(text, &names.join(";"), "{at}");
                }
                Value::Bool(_) => panic!("{at}: no boolean column"),
            }
        }
    }
}

fn rows_named(list: &Value, key: &str, names: &[&str]) -> Value {
    Value::Array(
        list.as_array()
            .expect("rows")
            .iter()
            .filter(|r| names.iter().any(|n| r[key] == *n))
            .cloned()
            .collect(),
    )
}

#[test]
fn statistics_over_scripted_days_match_hand_counts() {
    assert!(
        Path::new(LIBFAKETIME).exists(),
        "libfaketime is missing: run ./.ci/test (it installs Debian's faketime)"
    );
    let data = tempfile::tempdir().expect("data dir");
    script::write(data.path());
    // Today is 2026-11-25, 10:00 China time: nobody has worked yet.
    let engine = Engine::start_in(
        data,
        "",
        &[],
        &[
            ("LD_PRELOAD", LIBFAKETIME),
            ("FAKETIME", "@2026-11-25 02:00:00"),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
            ("TZ", "UTC"),
        ],
    );

    let a = "from=2026-11-23";
    let b = "from=2026-11-24";
    let both = "from=2026-11-23&to=2026-11-24";
    for (q, agents, queues) in [
        (a, day_a_agents(), day_a_queues()),
        (b, day_b_agents(), day_b_queues()),
        (both, range_agents(), range_queues()),
    ] {
        let r = get(&engine, &format!("/api/stats/agents?{q}"));
        same(&r["agents"], &agents, &format!("agents {q}"));
        let r = get(&engine, &format!("/api/stats/queues?{q}"));
        same(&r["queues"], &queues, &format!("queues {q}"));
        csv_matches_json(&engine, &format!("/api/stats/agents?{q}"), "agents");
        csv_matches_json(&engine, &format!("/api/stats/queues?{q}"), "queues");
    }
    // `to` is the last day, included: a one-day range is that day.
    let r = get(&engine, "/api/stats/agents?from=2026-11-24&to=2026-11-24");
    same(&r["agents"], &day_b_agents(), "agents B..B");

    // Today (nothing yet): the three agents are there, logged out all day, every figure 0.
    let today = get(&engine, "/api/stats/agents");
    assert_eq!(today["from"], "2026-11-25", "{today}");
    let idle = |id: &str| {
        agent(
            id,
            (0, 0, 0),
            (0.0, 0),
            0.0,
            (0.0, 0),
            0,
            (0.0, 0.0, 0.0, 0.0),
            json!({}),
            None,
            (0, 0),
            &[],
        )
    };
    same(
        &today["agents"],
        &json!([idle("1001"), idle("1002"), idle("1003")]),
        "agents today",
    );
    same(
        &get(&engine, "/api/stats/queues")["queues"],
        &json!([]),
        "queues today",
    );
    csv_matches_json(&engine, "/api/stats/agents", "agents");
    // Before anything happened: no rows at all.
    for table in ["agents", "queues"] {
        let r = get(&engine, &format!("/api/stats/{table}?from=2026-11-22"));
        same(&r[table], &json!([]), &format!("{table} on 2026-11-22"));
        let (_, csv) = engine.get(&format!("/api/stats/{table}?from=2026-11-22&format=csv"));
        assert_eq!(csv.lines().count(), 1, "only the header: {csv}");
    }

    // A queue filter: that queue's row; the agents who served it (rang, talked, wrapped up
    // or took a web item from it in the period), their figures whole.
    let r = get(
        &engine,
        &format!("/api/stats/queues?{both}&queue=enterprise"),
    );
    same(
        &r["queues"],
        &rows_named(&range_queues(), "queue", &["enterprise"]),
        "queues range enterprise",
    );
    let r = get(&engine, &format!("/api/stats/agents?{b}&queue=enterprise"));
    same(
        &r["agents"],
        &rows_named(&day_b_agents(), "agent", &["1003"]),
        "agents B enterprise",
    );
    let r = get(&engine, &format!("/api/stats/agents?{b}&queue=general"));
    same(
        &r["agents"],
        &rows_named(&day_b_agents(), "agent", &["1001", "1002"]),
        "agents B general",
    );
    csv_matches_json(
        &engine,
        &format!("/api/stats/agents?{b}&queue=general"),
        "agents",
    );
    csv_matches_json(
        &engine,
        &format!("/api/stats/queues?{both}&queue=web"),
        "queues",
    );
    let r = get(&engine, &format!("/api/stats/queues?{a}&queue=sign"));
    same(&r["queues"], &json!([]), "a queue with nothing");

    // Bad input: 400 with a reason, never a 500.
    for (query, code) in [
        ("from=2026-11-24&to=2026-11-23", "bad_range"),
        ("from=2025-11-01&to=2026-11-24", "bad_range"),
        ("from=2026-13-01", "bad_query"),
        ("from=2026-11-31", "bad_query"),
        ("from=yesterday", "bad_query"),
        ("from=2026-11-23&to=2026-11-24&to=2026-11-25", "bad_query"),
        ("queue=", "bad_queue"),
        ("format=pdf", "bad_format"),
    ] {
        for table in ["agents", "queues"] {
            let path = format!("/api/stats/{table}?{query}");
            let (status, body) =
                http_request(engine.http, "GET", &path, Some("demo-supervisor"), None);
            assert_eq!(status, 400, "{path}: {body}");
            let v: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{body}"));
            assert_eq!(v["code"], code, "{path}: {body}");
            assert!(
                v["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{path}: a reason: {body}"
            );
        }
    }
    // The longest range allowed (366 days) is answered.
    let (status, body) = engine.get("/api/stats/agents?from=2025-11-24&to=2026-11-24");
    assert_eq!(status, 200, "{body}");
}
