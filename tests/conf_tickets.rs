//! Issue 14 on the ticket side, against the running engine: the call's extra parties as the
//! call room reports them (`Output::Party`) reach the ticket (W3) and the monitoring audit
//! (C16) through the shell's call-ticket jobs, `three_way_transfer` closes a ticket only with a
//! unit on its call, both survive a restart; and a blind transfer to 110 through a SIPp
//! gateway is timed in `GET /api/stats` (C12).
//!
//! The call room itself (who joins, SIP, media) is built beside this; here the shell's
//! function the engine calls for `Output::Party` (`CallTickets::party`) is fed the events on
//! the data folder an engine then serves.

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use common::baresip::start_baresip;
use common::proc::{project, Proc};
use common::{http_request, sipp, wait_for, Engine};
use hotline::call::record::{ConnectedCall, MonitorMode, PartyEvent, PartyKind};
use hotline::cti::tickets::{TicketApi, TicketApiConfig};
use hotline::shell::call_tickets::CallTickets;
use serde_json::{json, Value};

fn connected(call: &str, started: DateTime<Utc>) -> ConnectedCall {
    ConnectedCall {
        live: serde_json::from_value(json!({
            "id": call,
            "caller": "138****8000",
            "called": "12345",
            "state": "talking",
            "menu_path": [],
            "queue": "general",
            "started_at": started,
            "agent": "1001",
        }))
        .expect("a live call"),
        caller_number: "13800138000".into(),
    }
}

fn party(
    call: &str,
    ticket: &str,
    party: PartyKind,
    joined: DateTime<Utc>,
    left: Option<DateTime<Utc>>,
) -> PartyEvent {
    PartyEvent {
        call: call.into(),
        ticket: Some(ticket.into()),
        party,
        joined_at: joined,
        left_at: left,
    }
}

/// What the engine's task does with a call's outputs, on the data folder: two calls
/// answered (drafts opened), on the first the water unit joins and stays, a supervisor
/// listens for 20 s; the second has only 110 on it. Returns the two tickets' ids.
fn feed_the_shell(data: &Path, config_dir: &Path) -> (String, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let api = TicketApi::open(&TicketApiConfig::new(data, config_dir)).expect("ticket store");
        let mut jobs = CallTickets::new(api);
        let t0 = Utc::now() - chrono::Duration::seconds(120);
        let (a, b) = (
            "20261206T120000-00000000000000a1",
            "20261206T120100-00000000000000b2",
        );
        jobs.call_answered(connected(a, t0));
        jobs.call_answered(connected(b, t0));
        let first = tokio::time::timeout(Duration::from_secs(10), jobs.next_link())
            .await
            .expect("a draft in time")
            .expect("a draft");
        let second = tokio::time::timeout(Duration::from_secs(10), jobs.next_link())
            .await
            .expect("a draft in time")
            .expect("a draft");
        let (ta, tb) = (first.ticket.0.clone(), second.ticket.0.clone());
        assert_eq!(first.call, a);
        let joined = t0 + chrono::Duration::seconds(30);
        let unit = PartyKind::Unit {
            unit: "water".into(),
        };
        jobs.party(party(a, &ta, unit, joined, None));
        let sup = PartyKind::Supervisor {
            user: "demo-supervisor".into(),
            mode: MonitorMode::Listen,
        };
        jobs.party(party(a, &ta, sup.clone(), joined, None));
        jobs.party(party(
            a,
            &ta,
            sup,
            joined,
            Some(joined + chrono::Duration::seconds(20)),
        ));
        jobs.party(party(
            b,
            &tb,
            PartyKind::External {
                target: "110".into(),
            },
            joined,
            None,
        ));
        jobs.finish(Duration::from_secs(10)).await;
        (ta, tb)
    })
}

fn get(http: std::net::SocketAddr, path: &str, token: &str) -> (u16, Value) {
    let (status, body) = http_request(http, "GET", path, Some(token), None);
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn act(http: std::net::SocketAddr, ticket: &str, token: &str, body: Value) -> (u16, Value) {
    let (status, body) = http_request(
        http,
        "POST",
        &format!("/api/tickets/{ticket}/actions"),
        Some(token),
        Some(&body.to_string()),
    );
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn complete(version: u64) -> Value {
    json!({
        "action": "complete",
        "version": version,
        "content": "小区停水三天了，请自来水集团答复",
        "urgency": "non_urgent",
        "type": "consultation",
        "domain": "public_service",
        "category": "water_supply",
    })
}

#[test]
fn the_calls_parties_reach_the_ticket_and_the_monitoring_audit_and_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let ports = common::ports::lease();
    let config = project(dir.path(), ports.first);
    let data = dir.path().join("data");
    let (ta, tb) = feed_the_shell(&data, config.parent().expect("config dir"));

    let mut engine = Proc::start(&config, &data, dir.path().join("first.log"));
    let http = engine.http;
    // W3: the ticket shows who else was on its call; the supervisor is not a party of it.
    let (status, t) = get(http, &format!("/api/tickets/{ta}"), "demo-supervisor");
    assert_eq!(status, 200, "{t}");
    let p = t["participation"].as_array().expect("participation");
    assert_eq!(p.len(), 1, "{t}");
    assert_eq!(p[0]["kind"], "unit");
    assert_eq!(p[0]["unit"], "water");
    assert_eq!(p[0]["left_at"], Value::Null, "still on the line");
    assert!(
        p[0]["joined_at"]
            .as_str()
            .is_some_and(|s| s.ends_with("+08:00")),
        "{t}"
    );
    let joined: Vec<&Value> = t["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter(|e| e["event"] == "party_joined")
        .collect();
    assert_eq!(joined.len(), 1, "{t}");
    assert_eq!(joined[0]["actor"]["role"], "system");
    assert_eq!(joined[0]["party"], json!({"kind": "unit", "unit": "water"}));
    // The desk never offers the engine's own steps.
    let (_, mine) = get(http, &format!("/api/tickets/{ta}"), "demo-agent-1001");
    let offered = mine["actions"].as_array().expect("actions");
    assert!(
        !offered
            .iter()
            .any(|a| a == "party_joined" || a == "party_left"),
        "{mine}"
    );
    // A person cannot write a party onto a ticket.
    let (status, e) = act(
        http,
        &ta,
        "demo-agent-1001",
        json!({"action": "party_joined", "call": "x", "party": {"kind": "unit", "unit": "water"}, "joined_at": "2026-12-06T12:00:00+08:00"}),
    );
    assert_eq!(
        (status, e["code"].as_str()),
        (403, Some("engine_only")),
        "{e}"
    );

    // The agent saw version 1 (before the unit joined) and saves in the same step: not stale.
    let (status, t) = act(http, &ta, "demo-agent-1001", complete(1));
    assert_eq!(status, 200, "{t}");
    let v = t["version"].as_u64().expect("version");
    let (status, t) = act(
        http,
        &ta,
        "demo-agent-1001",
        json!({"action": "direct_close", "method": "three_way_transfer", "answer": "自来水集团在线答复：今晚八点前恢复供水", "version": v}),
    );
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["state"], "closed", "{t}");
    let closing = t["history"]
        .as_array()
        .and_then(|h| h.iter().find(|e| e["event"] == "directly_closed"))
        .cloned()
        .expect("the closing event");
    assert_eq!(closing["method"], "three_way_transfer");
    assert_eq!(closing["participation"][0]["unit"], "water", "{closing}");
    assert_eq!(closing["participation"][0]["left_at"], Value::Null);

    // Only 110 was on the second call: no unit took part, so no three-way transfer.
    let (status, t) = act(http, &tb, "demo-agent-1001", complete(1));
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["participation"][0]["kind"], "external", "{t}");
    assert_eq!(t["participation"][0]["target"], "110", "{t}");
    let (status, e) = act(
        http,
        &tb,
        "demo-agent-1001",
        json!({"action": "direct_close", "method": "three_way_transfer", "answer": "已答复"}),
    );
    assert_eq!(status, 422, "{e}");
    assert_eq!(e["code"], "no_unit_on_call");
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("handling unit")),
        "{e}"
    );

    // C16: the audit of monitoring, for supervisors only.
    let audit = "/api/audit/monitoring";
    for token in ["demo-agent-1001", "demo-unit-water", "demo-reviewer"] {
        let (status, e) = get(http, audit, token);
        assert_eq!(status, 403, "{token}: {e}");
    }
    let (status, _) = {
        let (s, b) = http_request(http, "GET", audit, None, None);
        (s, b)
    };
    assert_eq!(status, 401);
    let check = |http| {
        let (status, rows) = get(http, audit, "demo-supervisor");
        assert_eq!(status, 200, "{rows}");
        let rows = rows.as_array().cloned().expect("rows");
        assert_eq!(rows.len(), 1, "{rows:?}");
        let r = &rows[0];
        assert_eq!(r["user"], "demo-supervisor");
        assert_eq!(r["mode"], "listen");
        assert_eq!(r["call"], "20261206T120000-00000000000000a1");
        assert_eq!(r["ticket"], ta.as_str());
        assert!(
            r["joined_at"].is_string() && r["left_at"].is_string(),
            "{r}"
        );
    };
    check(http);
    let (status, none) = get(
        http,
        &format!("{audit}?user=someone-else"),
        "demo-supervisor",
    );
    assert_eq!((status, none), (200, json!([])));
    let (status, none) = get(
        http,
        &format!("{audit}?call=20261206T120100-00000000000000b2"),
        "demo-supervisor",
    );
    assert_eq!((status, none), (200, json!([])));
    let (status, e) = get(http, &format!("{audit}?from=yesterday"), "demo-supervisor");
    assert_eq!(status, 400, "{e}");

    // A restart keeps the audit and the ticket's participation.
    assert_eq!(engine.terminate(), Some(0), "clean exit");
    let engine = Proc::start(&config, &data, dir.path().join("second.log"));
    check(engine.http);
    let (_, t) = get(
        engine.http,
        &format!("/api/tickets/{ta}"),
        "demo-supervisor",
    );
    assert_eq!(t["participation"][0]["unit"], "water", "{t}");
}

#[test]
fn a_blind_transfer_to_110_is_timed_in_api_stats_and_metrics() {
    let gateway = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free port for the gateway");
    let engine = Engine::start(&format!(
        "[transfer]\ngateway = \"{gateway}\"\n[transfer.numbers]\n\"110\" = \"110\"\n"
    ));
    // Nothing linked yet: no figure is made up.
    let (status, stats) = get(engine.http, "/api/stats", "demo-supervisor");
    assert_eq!(status, 200, "{stats}");
    assert_eq!(
        stats["emergency_linkage"],
        json!({"today": [], "last_24h": []}),
        "{stats}"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let _phone = start_baresip(dir.path(), engine.sip);
    wait_for(Duration::from_secs(15), || {
        let (_, agents) = get(engine.http, "/api/agents", "demo-supervisor");
        agents
            .as_array()?
            .iter()
            .any(|a| a["id"] == "1001" && a["registered"] == true)
            .then_some(())
    })
    .unwrap_or_else(|| panic!("1001 registers; log:\n{}", engine.log()));
    let (status, body) = http_request(
        engine.http,
        "POST",
        "/api/agents/1001/state",
        Some("demo-supervisor"),
        Some(r#"{"state":"ready"}"#),
    );
    assert_eq!(status, 204, "{body}");
    let target = engine.sip;
    let caller = std::thread::spawn(move || {
        sipp(
            target,
            "uac_ivr_enterprise.xml",
            &["-m", "1", "-d", "8000"],
            Duration::from_secs(40),
        )
    });
    let call = engine
        .call_where(Duration::from_secs(15), |c| c["state"] == "talking")
        .expect("the agent answers");
    let id = call["id"].as_str().expect("call id").to_string();
    let port = gateway.port().to_string();
    let gw = std::thread::spawn(move || {
        sipp(
            target,
            "uas_gateway.xml",
            &["-m", "1", "-p", &port],
            Duration::from_secs(40),
        )
    });
    std::thread::sleep(Duration::from_millis(500));
    let (status, reply) = http_request(
        engine.http,
        "POST",
        &format!("/api/calls/{id}/transfer"),
        Some("demo-agent-1001"),
        Some(r#"{"queue":"110"}"#),
    );
    assert_eq!(status, 204, "{reply}");
    // The ticket's linkage event carries the seconds from the call's start.
    let ticket = wait_for(Duration::from_secs(10), || {
        let (_, calls) = get(engine.http, "/api/calls", "demo-supervisor");
        calls.as_array()?.iter().find(|c| c["id"] == id.as_str())?["ticket"]
            .as_str()
            .map(str::to_string)
    })
    .unwrap_or_else(|| panic!("the call's ticket; log:\n{}", engine.log()));
    let after = wait_for(Duration::from_secs(10), || {
        let (_, t) = get(
            engine.http,
            &format!("/api/tickets/{ticket}"),
            "demo-supervisor",
        );
        t["history"]
            .as_array()?
            .iter()
            .find(|e| e["event"] == "linked_emergency")?["after_secs"]
            .as_u64()
    })
    .unwrap_or_else(|| panic!("the linkage; log:\n{}", engine.log()));
    assert!(after < 60, "{after} s from the call's start");
    // /api/stats reports it within the store's 5 s read, for today and the last 24 h.
    let stats = wait_for(Duration::from_secs(12), || {
        let (_, s) = get(engine.http, "/api/stats", "demo-supervisor");
        (s["emergency_linkage"]["last_24h"].as_array()?.len() == 1).then_some(s)
    })
    .unwrap_or_else(|| panic!("the linkage in /api/stats; log:\n{}", engine.log()));
    let expected =
        json!([{"service": "110", "count": 1, "median_s": after as f64, "max_s": after}]);
    assert_eq!(stats["emergency_linkage"]["last_24h"], expected, "{stats}");
    assert_eq!(stats["emergency_linkage"]["today"], expected, "{stats}");
    let (status, metrics) = http_request(engine.http, "GET", "/metrics", None, None);
    assert_eq!(status, 200);
    let line = |prefix: &str| {
        metrics
            .lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.split_whitespace().last()?.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("{prefix} in\n{metrics}"))
    };
    assert_eq!(
        line(r#"hotline_emergency_linkages{period="24h",service="110"}"#),
        1.0
    );
    assert_eq!(
        line(r#"hotline_emergency_linkage_seconds{period="24h",service="110",quantile="1"}"#),
        after as f64
    );
    caller.join().expect("sipp thread").assert_ok();
    gw.join().expect("gateway thread").assert_ok();
}
