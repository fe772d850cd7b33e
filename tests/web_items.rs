//! Web requests are routed like calls (issue 13): a citizen's request registered on the
//! public route becomes a web work item in the ACD, is offered on one ready agent's desk at a
//! time, is accepted from the desk (the ticket's first response, C13) or passed on, and frees
//! the agent's capacity once handled; the wallboard counts the waiting ones; a restart reads
//! the waiting ones back from the store with the wait they had. Against the real engine.

// Real engines run in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::Duration;

use common::proc::{project, Proc};
use common::{http_request, wait_for};
use serde_json::{json, Value};

fn post(p: &Proc, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    let (status, text) = http_request(p.http, "POST", path, token, Some(&body.to_string()));
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn get(p: &Proc, path: &str, token: &str) -> Value {
    let (status, text) = http_request(p.http, "GET", path, Some(token), None);
    assert_eq!(status, 200, "{path}: {text}");
    serde_json::from_str(&text).expect("json")
}

fn submit(p: &Proc, content: &str) -> String {
    let (status, receipt) = post(
        p,
        "/api/public/requests",
        None,
        &json!({"content": content, "type": "help", "callback_consent": false}),
    );
    assert_eq!(status, 201, "{receipt}");
    receipt["id"].as_str().expect("id").to_string()
}

fn ready(p: &Proc, agent: &str) {
    let token = format!("demo-agent-{agent}");
    let (status, body) = post(
        p,
        &format!("/api/agents/{agent}/state"),
        Some(&token),
        &json!({"state": "ready"}),
    );
    assert_eq!(status, 204, "{body}");
}

fn desk(p: &Proc, agent: &str) -> Value {
    get(p, "/api/desk", &format!("demo-agent-{agent}"))
}

/// Waits until `agent`'s desk shows `want` as its offer.
fn offered_to(p: &Proc, agent: &str, want: &str) {
    wait_for(Duration::from_secs(10), || {
        (desk(p, agent)["web_offer"].as_str() == Some(want)).then_some(())
    })
    .unwrap_or_else(|| panic!("{want} not offered to {agent}: {}", desk(p, agent)));
}

#[test]
fn a_web_request_is_offered_accepted_handled_and_survives_a_restart_while_it_waits() {
    let dir = tempfile::tempdir().expect("tmp");
    let ports = common::ports::lease();
    let config = project(dir.path(), ports.first);
    let data = dir.path().join("data");
    let mut p = Proc::start(&config, &data, dir.path().join("engine.log"));

    // Nobody is ready: the request waits, and the wallboard says so under its web keys.
    let first = submit(&p, "小区路灯坏了一个星期，晚上很黑");
    let board = wait_for(Duration::from_secs(5), || {
        let b = get(&p, "/api/wallboard", "demo-supervisor");
        (b["web_waiting"] == 1).then_some(b)
    })
    .unwrap_or_else(|| {
        panic!(
            "not waiting: {}",
            get(&p, "/api/wallboard", "demo-supervisor")
        )
    });
    assert_eq!(board["web_offered"], 0);
    assert!(board["web_longest_wait_s"].as_u64().is_some(), "{board}");
    assert_eq!(board["web_alarm_after_s"], 150);

    // A restart in the middle: the request is read back from the store, still waiting.
    assert_eq!(p.terminate(), Some(0), "{}", p.log());
    drop(p);
    std::thread::sleep(Duration::from_secs(2));
    let p = Proc::start(&config, &data, dir.path().join("engine2.log"));
    let board = wait_for(Duration::from_secs(10), || {
        let b = get(&p, "/api/wallboard", "demo-supervisor");
        (b["web_waiting"] == 1).then_some(b)
    })
    .unwrap_or_else(|| {
        panic!(
            "not read back: {}\n{}",
            get(&p, "/api/wallboard", "demo-supervisor"),
            p.log()
        )
    });
    // Its wait counts from the receipt, not from the restart.
    assert!(
        board["web_longest_wait_s"].as_u64().expect("wait") >= 2,
        "{board}"
    );

    // Agent 1001 (general level 4; no phone needed for web items) goes ready: offered.
    ready(&p, "1001");
    offered_to(&p, "1001", &first);
    let board = get(&p, "/api/wallboard", "demo-supervisor");
    assert_eq!(
        (board["web_waiting"].clone(), board["web_offered"].clone()),
        (json!(0), json!(1))
    );

    // Another agent cannot answer 1001's offer; 1001 accepts: the ticket is accepted in
    // 1001's name, which is the first response.
    let (status, _) = post(
        &p,
        &format!("/api/agents/1001/items/{first}/accept"),
        Some("demo-agent-1002"),
        &json!({}),
    );
    assert_eq!(status, 403);
    let (status, t) = post(
        &p,
        &format!("/api/agents/1001/items/{first}/accept"),
        Some("demo-agent-1001"),
        &json!({}),
    );
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["state"], "accepted", "{t}");
    let last = t["history"]
        .as_array()
        .expect("history")
        .last()
        .cloned()
        .expect("event");
    assert_eq!(last["actor"]["user"], "agent-1001", "{t}");
    let d = desk(&p, "1001");
    assert_eq!(d["web_offer"], Value::Null);
    assert_eq!(d["web_items"], json!([first]));
    // A second accept of the same item is refused (it is no longer an offer).
    let (status, e) = post(
        &p,
        &format!("/api/agents/1001/items/{first}/accept"),
        Some("demo-agent-1001"),
        &json!({}),
    );
    assert_eq!(status, 409, "{e}");

    // Two more: 1001 may hold two (web_capacity 2), so the next is offered to 1001; it
    // passes it on and, with 1002 ready, it goes to 1002.
    let second = submit(&p, "咨询社保卡补办需要什么材料");
    offered_to(&p, "1001", &second);
    ready(&p, "1002");
    let (status, _) = post(
        &p,
        &format!("/api/agents/1001/items/{second}/decline"),
        Some("demo-agent-1001"),
        &json!({}),
    );
    assert_eq!(status, 204);
    offered_to(&p, "1002", &second);

    // 1001 answers the first directly (classified first): the item leaves its desk.
    let version = get(&p, &format!("/api/tickets/{first}"), "demo-agent-1001")["version"].clone();
    let (status, t) = post(
        &p,
        &format!("/api/tickets/{first}/actions"),
        Some("demo-agent-1001"),
        &json!({"action": "classify", "domain": "public_service", "version": version}),
    );
    assert_eq!(status, 200, "{t}");
    let (status, t) = post(
        &p,
        &format!("/api/tickets/{first}/actions"),
        Some("demo-agent-1001"),
        &json!({"action": "direct_close", "method": "knowledge_base", "answer": "已报修，三日内修复", "version": t["version"]}),
    );
    assert_eq!(status, 200, "{t}");
    wait_for(Duration::from_secs(5), || {
        (desk(&p, "1001")["web_items"] == json!([])).then_some(())
    })
    .unwrap_or_else(|| panic!("still held: {}", desk(&p, "1001")));

    // A request handled on the ticket page while it is offered leaves the desk it was on.
    let version = get(&p, &format!("/api/tickets/{second}"), "demo-supervisor")["version"].clone();
    let (status, t) = post(
        &p,
        &format!("/api/tickets/{second}/actions"),
        Some("demo-supervisor"),
        &json!({"action": "accept", "version": version}),
    );
    assert_eq!(status, 200, "{t}");
    wait_for(Duration::from_secs(5), || {
        desk(&p, "1002")["web_offer"].is_null().then_some(())
    })
    .unwrap_or_else(|| panic!("still offered: {}", desk(&p, "1002")));
    let board = get(&p, "/api/wallboard", "demo-supervisor");
    assert_eq!(
        (board["web_waiting"].clone(), board["web_offered"].clone()),
        (json!(0), json!(0)),
        "{board}"
    );
}
