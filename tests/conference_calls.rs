//! Three-way calls with real peers, each speaking its own tone (issue 14's judging): the
//! citizen (SIPp + endpoint, 400 Hz), agent 1001 (baresip, 600 Hz), the water unit's phone
//! behind the gateway (SIPp + endpoint, 800 Hz), agent 1002 (baresip, 700 Hz) and the
//! supervisor's desk phone (SIPp + endpoint, 900 Hz). Each must hear the others it is meant
//! to hear and never itself; the recording keeps the citizen on the left and everyone else on
//! the right; the call record and the ticket keep who was on the line when.

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::tone_calls::{
    agent_1001, agent_phone, assert_record_transferred, assert_took_over, call_until,
    citizen_calls, gateway_phone, phone_heard, recording, talking, window, AGENT_HZ, CITIZEN_HZ,
    UNIT_HZ,
};
use common::tones::{
    assert_hears, assert_hears_at, engine_rtp_from_sipp_log, sipp_logged, Law, ToneEndpoint,
};
use common::{http_request, sipp, Engine};

const AGENT2_HZ: f64 = 700.0;
const SUPERVISOR_HZ: f64 = 900.0;

/// A free UDP port on loopback for a SIPp peer.
fn free_port() -> std::net::SocketAddr {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free port")
}

fn post(engine: &Engine, token: &str, path: &str, body: &str) -> (u16, String) {
    http_request(engine.http, "POST", path, Some(token), Some(body))
}

#[test]
fn the_agent_conferences_the_water_unit_in_each_hears_the_others_and_leaves_them_talking() {
    let gateway_sip = free_port();
    let engine = Engine::start(&format!("[transfer]\ngateway = \"{gateway_sip}\"\n"));
    let dir = tempfile::tempdir().expect("temp dir");
    let phone = agent_1001(&engine, dir.path());
    let (unit, gateway, gw_log) =
        gateway_phone(&engine, dir.path(), gateway_sip, UNIT_HZ, Law::Pcmu);
    // The citizen speaks A-law, the unit μ-law: the mixer transcodes per party.
    let (citizen, caller) = citizen_calls(&engine, dir.path(), 30_000, Law::Pcma);
    let call = talking(&engine, dir.path());
    let id = call["id"].as_str().expect("call id").to_string();
    let (status, body) = post(
        &engine,
        "demo-agent-1001",
        &format!("/api/calls/{id}/parties"),
        r#"{"unit":"water","mode":"conference"}"#,
    );
    assert_eq!(status, 201, "{body}");
    assert!(body.contains(r#""party":2"#), "{body}");
    call_until(&engine, &id, "the unit answers", |c| {
        c["parties"][0]["state"] == "talking"
    });
    let rtp = engine_rtp_from_sipp_log(&gw_log, Duration::from_secs(10))
        .expect("the gateway's SIPp logs the engine's SDP");
    unit.aim(rtp);
    let logged = |key| sipp_logged(&gw_log, key, Duration::from_secs(1)).unwrap_or_default();
    assert_eq!(
        logged("called"),
        "96116",
        "the unit's phone of dispatch.toml"
    );
    // All three together: each hears the two others and not itself.
    let agent_mark = phone.mark();
    let unit_from = unit.mark();
    let heard = window(&citizen, 4);
    let unit_heard = unit.heard_since(unit_from);
    let (agent_heard, agent_rate) = phone.heard_since(agent_mark);
    assert_hears(
        "the citizen (conference)",
        &heard,
        &[AGENT_HZ, UNIT_HZ],
        &[CITIZEN_HZ],
    );
    assert_hears(
        "the unit (conference)",
        &unit_heard,
        &[CITIZEN_HZ, AGENT_HZ],
        &[UNIT_HZ],
    );
    assert_hears_at(
        "agent 1001 (conference)",
        &agent_heard,
        agent_rate,
        &[CITIZEN_HZ, UNIT_HZ],
        &[AGENT_HZ],
    );
    // The agent leaves: the citizen and the unit go on with each other.
    let (status, body) = post(
        &engine,
        "demo-agent-1001",
        &format!("/api/calls/{id}/leave"),
        "{}",
    );
    assert_eq!(status, 204, "{body}");
    call_until(&engine, &id, "the agent has left", |c| c["agent"].is_null());
    let unit_from = unit.mark();
    let heard = window(&citizen, 3);
    let unit_heard = unit.heard_since(unit_from);
    assert_hears(
        "the citizen (with the unit)",
        &heard,
        &[UNIT_HZ],
        &[CITIZEN_HZ, AGENT_HZ],
    );
    assert_hears(
        "the unit (with the citizen)",
        &unit_heard,
        &[CITIZEN_HZ],
        &[UNIT_HZ, AGENT_HZ],
    );
    // The agent is in wrap-up, free of the call.
    let (_, agents) = engine.get("/api/agents");
    assert!(
        agents.contains(r#""state":"wrap_up""#) || agents.contains(r#""state":"ready""#),
        "{agents}"
    );
    caller.join().expect("sipp thread").assert_ok();
    gateway.join().expect("gateway thread").assert_ok();
    // The record: who was on the line, when.
    let record = engine
        .latest_record(Duration::from_secs(15))
        .expect("a call record");
    let parties = record["parties"].as_array().expect("parties in the record");
    let unit_span = parties
        .iter()
        .find(|p| p["party"]["kind"] == "unit")
        .unwrap_or_else(|| panic!("the unit's span: {record}"));
    assert_eq!(unit_span["party"]["unit"], "water");
    assert!(unit_span["joined_at"].is_string() && unit_span["left_at"].is_string());
    let agent_span = parties
        .iter()
        .find(|p| p["party"]["kind"] == "agent")
        .unwrap_or_else(|| panic!("the agent's span: {record}"));
    assert!(agent_span["left_at"].as_str() < unit_span["left_at"].as_str());
    // The recording: the citizen alone on the left; the agent and the unit on the right.
    let (left, right) = recording(&engine);
    assert_hears(
        "the recording's left",
        &left,
        &[CITIZEN_HZ],
        &[AGENT_HZ, UNIT_HZ],
    );
    assert_hears(
        "the recording's right",
        &right,
        &[AGENT_HZ, UNIT_HZ],
        &[CITIZEN_HZ],
    );
    let (agent_all, rate) = phone_heard(&phone, dir.path());
    assert_hears_at(
        "agent 1001 (whole call)",
        &agent_all,
        rate,
        &[CITIZEN_HZ],
        &[AGENT_HZ],
    );
    // The ticket names the unit's part in the call (W3).
    let ticket = record["ticket"].as_str().expect("the call's ticket");
    let (_, t) = http_request(
        engine.http,
        "GET",
        &format!("/api/tickets/{ticket}"),
        Some("demo-supervisor"),
        None,
    );
    assert!(t.contains("water"), "the ticket names the unit: {t}");
}

/// The supervisor's desk phone: registers as 9001 with SIPp, then a second SIPp on the same
/// port answers the engine's INVITE with an endpoint sending `SUPERVISOR_HZ`.
fn supervisor_phone(
    engine: &Engine,
    dir: &Path,
) -> (
    ToneEndpoint,
    std::thread::JoinHandle<common::SippRun>,
    std::path::PathBuf,
) {
    let at = free_port();
    let port = at.port().to_string();
    let trace = dir.join("register-msgs.log");
    let args = [
        "-m",
        "1",
        "-s",
        "9001",
        "-au",
        "9001",
        "-ap",
        "demo-supervisor",
        "-p",
        &port,
        "-trace_msg",
        "-message_file",
        trace.to_str().expect("utf-8 path"),
    ];
    let run = sipp(
        engine.sip,
        "uac_register.xml",
        &args,
        Duration::from_secs(20),
    );
    assert!(
        run.success,
        "the desk phone registers: {}\n{}",
        std::fs::read_to_string(&trace).unwrap_or_default(),
        run.stderr
    );
    gateway_phone(engine, dir, at, SUPERVISOR_HZ, Law::Pcmu)
}

#[test]
fn a_supervisor_listens_and_a_consult_transfer_to_agent_1002_completes() {
    // SIPp answers MD5 digest challenges only.
    // SIPp (the supervisor's desk phone) answers MD5 digest challenges only, like baresip.
    let engine = Engine::start(
        "[registrar]\nmd5_only_agents = [\"baresip v0.\", \"baresip v1.\", \"sipp-desk-phone\"]\n",
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let dir1 = dir.path().join("1001");
    let dir2 = dir.path().join("1002");
    std::fs::create_dir_all(&dir1).expect("dir");
    std::fs::create_dir_all(&dir2).expect("dir");
    let phone1 = agent_1001(&engine, &dir1);
    let (citizen, caller) = citizen_calls(&engine, dir.path(), 40_000, Law::Pcmu);
    let call = talking(&engine, &dir1);
    let id = call["id"].as_str().expect("call id").to_string();
    assert_eq!(call["agent"], "1001");
    // The supervisor listens: hears both sides, heard by neither.
    let (sup, sup_run, sup_log) = supervisor_phone(&engine, dir.path());
    let (status, body) = post(
        &engine,
        "demo-supervisor",
        &format!("/api/calls/{id}/monitor"),
        r#"{"mode":"listen"}"#,
    );
    assert_eq!(status, 201, "{body}");
    let party: serde_json::Value = serde_json::from_str(&body).expect("json");
    let party = party["party"].as_u64().expect("party");
    call_until(&engine, &id, "the supervisor answers", |c| {
        c["parties"][0]["state"] == "talking"
    });
    sup.aim(engine_rtp_from_sipp_log(&sup_log, Duration::from_secs(10)).expect("sdp"));
    let sup_from = sup.mark();
    let agent_mark = phone1.mark();
    let heard = window(&citizen, 4);
    let sup_heard = sup.heard_since(sup_from);
    let (agent_heard, rate) = phone1.heard_since(agent_mark);
    assert_hears(
        "the supervisor (listen)",
        &sup_heard,
        &[CITIZEN_HZ, AGENT_HZ],
        &[SUPERVISOR_HZ],
    );
    assert_hears(
        "the citizen (listened to)",
        &heard,
        &[AGENT_HZ],
        &[CITIZEN_HZ, SUPERVISOR_HZ],
    );
    assert_hears_at(
        "agent 1001 (listened to)",
        &agent_heard,
        rate,
        &[CITIZEN_HZ],
        &[AGENT_HZ, SUPERVISOR_HZ],
    );
    let (code, body) = http_request(
        engine.http,
        "DELETE",
        &format!("/api/calls/{id}/parties/{party}"),
        Some("demo-supervisor"),
        None,
    );
    assert_eq!(code, 204, "{body}");
    sup_run.join().expect("supervisor thread").assert_ok();
    // Agent 1002 comes ready; 1001 consults them (the citizen hears hold music), then
    // completes the transfer.
    let phone2 = agent_phone(&engine, &dir2, "1002", AGENT2_HZ);
    let (status, body) = post(
        &engine,
        "demo-agent-1001",
        &format!("/api/calls/{id}/parties"),
        r#"{"agent":"1002","mode":"consult"}"#,
    );
    assert_eq!(status, 201, "{body}");
    let consulted: serde_json::Value = serde_json::from_str(&body).expect("json");
    let consulted = consulted["party"].as_u64().expect("party");
    call_until(&engine, &id, "1002 answers the consultation", |c| {
        c["on_hold"] == true
            && c["parties"].as_array().is_some_and(|p| {
                p.iter()
                    .any(|p| p["id"] == consulted && p["state"] == "talking")
            })
    });
    // The consulted agent's desk shows the call they are on.
    let (_, desk) = http_request(
        engine.http,
        "GET",
        "/api/desk",
        Some("demo-agent-1002"),
        None,
    );
    let desk: serde_json::Value = serde_json::from_str(&desk).expect("desk json");
    assert_eq!(desk["call"]["id"], id.as_str(), "{desk}");
    assert_eq!(desk["agent"]["state"], "assisting", "{desk}");
    let agent_mark = phone1.mark();
    let agent2_mark = phone2.mark();
    let heard = window(&citizen, 3);
    let (a1, r1) = phone1.heard_since(agent_mark);
    let (a2, r2) = phone2.heard_since(agent2_mark);
    assert_hears(
        "the held citizen",
        &heard,
        &[],
        &[AGENT_HZ, AGENT2_HZ, CITIZEN_HZ],
    );
    assert_hears_at(
        "agent 1001 (consulting)",
        &a1,
        r1,
        &[AGENT2_HZ],
        &[CITIZEN_HZ, AGENT_HZ],
    );
    assert_hears_at(
        "agent 1002 (consulted)",
        &a2,
        r2,
        &[AGENT_HZ],
        &[CITIZEN_HZ, AGENT2_HZ],
    );
    let (status, body) = post(
        &engine,
        "demo-agent-1001",
        &format!("/api/calls/{id}/parties/{consulted}/handover"),
        "{}",
    );
    assert_eq!(status, 204, "{body}");
    call_until(&engine, &id, "1002 has the call", |c| {
        c["agent"] == "1002" && c["on_hold"] == false
    });
    let agent2_mark = phone2.mark();
    let heard = window(&citizen, 3);
    let (a2, r2) = phone2.heard_since(agent2_mark);
    assert_hears(
        "the citizen (with 1002)",
        &heard,
        &[AGENT2_HZ],
        &[CITIZEN_HZ, AGENT_HZ],
    );
    assert_hears_at(
        "agent 1002 (with the citizen)",
        &a2,
        r2,
        &[CITIZEN_HZ],
        &[AGENT2_HZ, AGENT_HZ],
    );
    assert_took_over(&engine, "1001", "1002");
    caller.join().expect("sipp thread").assert_ok();
    assert_record_transferred(&engine, "1001", "1002");
    // The audit log names the supervisor, the call and the mode (C16).
    let (code, audit) = http_request(
        engine.http,
        "GET",
        "/api/audit/monitoring",
        Some("demo-supervisor"),
        None,
    );
    assert_eq!(code, 200, "{audit}");
    assert!(audit.contains("listen") && audit.contains(&id), "{audit}");
}

/// C12 in one action: the agent adds 110 to the call (here as a consultation) and the call's
/// ticket is urgent and linked to 110 before 110 even answers; `/api/stats` reports the time
/// from the citizen's call to the linkage.
#[test]
fn calling_110_onto_the_call_links_the_ticket_in_the_same_action() {
    let gateway_sip = free_port();
    let engine = Engine::start(&format!(
        "[transfer]\ngateway = \"{gateway_sip}\"\n[transfer.numbers]\n\"110\" = \"110\"\n"
    ));
    let dir = tempfile::tempdir().expect("temp dir");
    let _phone = agent_1001(&engine, dir.path());
    let (police, gateway, gw_log) =
        gateway_phone(&engine, dir.path(), gateway_sip, UNIT_HZ, Law::Pcmu);
    let (citizen, caller) = citizen_calls(&engine, dir.path(), 16_000, Law::Pcmu);
    let call = talking(&engine, dir.path());
    let id = call["id"].as_str().expect("call id").to_string();
    let ticket = engine
        .call_where(Duration::from_secs(10), |c| {
            c["id"] == id.as_str() && c["ticket"].is_string()
        })
        .and_then(|c| c["ticket"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("the call's draft ticket; log:\n{}", engine.log()));
    let (status, body) = post(
        &engine,
        "demo-agent-1001",
        &format!("/api/calls/{id}/parties"),
        r#"{"number":"110","mode":"consult"}"#,
    );
    assert_eq!(status, 201, "{body}");
    let linked = common::wait_for(Duration::from_secs(10), || {
        let (_, t) = http_request(
            engine.http,
            "GET",
            &format!("/api/tickets/{ticket}"),
            Some("demo-supervisor"),
            None,
        );
        let t: serde_json::Value = serde_json::from_str(&t).ok()?;
        let event = t["history"]
            .as_array()?
            .iter()
            .find(|e| e["event"] == "linked_emergency")?
            .clone();
        Some((t, event))
    });
    let (t, event) =
        linked.unwrap_or_else(|| panic!("the ticket is linked; log:\n{}", engine.log()));
    assert_eq!(t["urgency"], "urgent", "{t}");
    assert!(
        event["after_secs"].as_u64().is_some_and(|s| s < 60),
        "{event}"
    );
    assert!(t.to_string().contains("110"), "{t}");
    // 110 answers the consultation: the citizen hears hold music meanwhile, not the police.
    call_until(&engine, &id, "110 answers", |c| {
        c["parties"][0]["state"] == "talking"
    });
    police.aim(engine_rtp_from_sipp_log(&gw_log, Duration::from_secs(10)).expect("sdp"));
    let heard = window(&citizen, 2);
    assert_hears(
        "the held citizen",
        &heard,
        &[],
        &[UNIT_HZ, AGENT_HZ, CITIZEN_HZ],
    );
    let stats = common::wait_for(Duration::from_secs(12), || {
        let (_, s) = engine.get("/api/stats");
        let s: serde_json::Value = serde_json::from_str(&s).ok()?;
        (s["emergency_linkage"]["last_24h"].as_array()?.len() == 1).then_some(s)
    })
    .unwrap_or_else(|| panic!("the linkage in /api/stats: {}", engine.get("/api/stats").1));
    assert_eq!(stats["emergency_linkage"]["last_24h"][0]["service"], "110");
    caller.join().expect("sipp thread").assert_ok();
    gateway.join().expect("gateway thread").assert_ok();
}
