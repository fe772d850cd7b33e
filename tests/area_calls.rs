//! Issue 21's utilities against the real engine: agent 1001 (baresip, auto-answer) takes a
//! SIPp citizen's call and transfers it through the `[transfer]` gateway (SIPp answering
//! 10000) to `telecom`, a `[transfer.numbers]` key that is a utility unit of the dispatch
//! catalogue; the call's ticket records the hand-over to the utility (unit, number, seconds
//! from the call's start) while its state stays, and the utility then works it like any unit.

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::Duration;

use common::baresip::start_baresip;
use common::{http_request, sipp, wait_for, Engine};

fn registered_and_ready(engine: &Engine, id: &str) {
    wait_for(Duration::from_secs(15), || {
        let (_, body) = http_request(
            engine.http,
            "GET",
            "/api/agents",
            Some("demo-supervisor"),
            None,
        );
        let list: serde_json::Value = serde_json::from_str(&body).ok()?;
        list.as_array()?
            .iter()
            .any(|a| a["id"] == id && a["registered"] == true)
            .then_some(())
    })
    .unwrap_or_else(|| panic!("{id} registers; log:\n{}", engine.log()));
    let (status, body) = http_request(
        engine.http,
        "POST",
        &format!("/api/agents/{id}/state"),
        Some("demo-supervisor"),
        Some(r#"{"state":"ready"}"#),
    );
    assert_eq!(status, 204, "{body}");
}

#[test]
fn a_call_transferred_to_the_telecoms_hotline_is_recorded_on_its_ticket() {
    let gateway = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free port for the gateway");
    let engine = Engine::start(&format!(
        "[transfer]\ngateway = \"{gateway}\"\n[transfer.numbers]\ntelecom = \"10000\"\n"
    ));
    let dir = tempfile::tempdir().expect("temp dir");
    let _phone = start_baresip(dir.path(), engine.sip);
    registered_and_ready(&engine, "1001");
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
            "uas_utility.xml",
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
        Some(r#"{"queue":"telecom"}"#),
    );
    assert_eq!(status, 204, "{reply}");
    engine
        .call_where(Duration::from_secs(5), |c| {
            c["state"] == "talking" && c["transfers"][0] == "1001 → telecom"
        })
        .unwrap_or_else(|| panic!("the utility's hotline answers; log:\n{}", engine.log()));
    caller.join().expect("sipp thread").assert_ok();
    gw.join().expect("gateway thread").assert_ok();
    let record = engine
        .latest_record(Duration::from_secs(5))
        .expect("a call record");
    let ticket = record["ticket"]
        .as_str()
        .expect("the call's ticket")
        .to_string();
    let get = |ticket: &str| {
        let (_, body) = http_request(
            engine.http,
            "GET",
            &format!("/api/tickets/{ticket}"),
            Some("demo-supervisor"),
            None,
        );
        serde_json::from_str::<serde_json::Value>(&body).ok()
    };
    let t = wait_for(Duration::from_secs(10), || {
        let t = get(&ticket)?;
        t["history"]
            .as_array()?
            .iter()
            .any(|e| e["event"] == "handed_to_utility")
            .then_some(t)
    })
    .unwrap_or_else(|| panic!("no hand-over on the ticket; log:\n{}", engine.log()));
    let ev = t["history"]
        .as_array()
        .and_then(|h| h.iter().find(|e| e["event"] == "handed_to_utility"))
        .cloned()
        .expect("the hand-over");
    assert_eq!(ev["actor"]["role"], "system", "{ev}");
    assert_eq!(
        (ev["unit"].as_str(), ev["number"].as_str()),
        (Some("telecom"), Some("10000")),
        "{ev}"
    );
    assert!(
        ev["after_secs"]
            .as_i64()
            .is_some_and(|s| (0..60).contains(&s)),
        "{ev}"
    );
    assert_eq!(
        t["state"], "draft",
        "not a C12 service: no linkage, no state change: {t}"
    );
    assert_eq!(t["urgency"], "non_urgent", "{t}");
    // The agent completes and dispatches it; the utility signs with its own token.
    for (token, action) in [
        (
            "demo-agent-1001",
            r#"{"action":"complete","content":"宽带断网三天，打电信热线没人管","urgency":"non_urgent","type":"complaint","domain":"public_service","category":"telecom_service"}"#,
        ),
        ("demo-agent-1001", r#"{"action":"dispatch"}"#),
        ("demo-unit-telecom", r#"{"action":"sign"}"#),
    ] {
        let (status, body) = http_request(
            engine.http,
            "POST",
            &format!("/api/tickets/{ticket}/actions"),
            Some(token),
            Some(action),
        );
        assert_eq!(status, 200, "{action}: {body}");
    }
    let t = get(&ticket).expect("ticket");
    assert_eq!(
        (t["state"].as_str(), t["assignment"]["lead"].as_str()),
        (Some("handling"), Some("telecom")),
        "{t}"
    );
}
