//! Issue 15, who makes a ticket's callback, per ticket, against real peers: SIPp plays the
//! trunk and the citizen. A ticket the reviewer marked `agent` is called and put through to
//! `agent_queue` although `[callback] by = "robot"`; a ticket marked `robot` is called by the
//! robot although `by = "agent"`; and a robot without its script falls back to an agent,
//! saying so in the log.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::callback::{
    awaiting_callback_with, citizen, engine, engine_calling_back, event, free_port, settled,
    ticket, trunk, under_review,
};
use common::{http_request, Engine};
use serde_json::{json, Value};

/// A SIPp citizen who answers the callback, waits `talk_ms` (put through to the queue, no
/// agent free) and hangs up.
fn citizen_hangs_up(dir: &Path, talk_ms: u64) -> PathBuf {
    let xml = format!(
        r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="citizen answering an agent callback, then hanging up">
  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp="sip:139[0-9]+@" search_in="msg" check_it="true" assign_to="uri"/>
      <ereg regexp="sip:[^>;]+" search_in="hdr" header="Contact:" check_it="true" assign_to="contact"/>
      <ereg regexp=".*" search_in="hdr" header="From:" check_it="true" assign_to="from"/>
      <ereg regexp=".*" search_in="hdr" header="To:" check_it="true" assign_to="to"/>
    </action>
  </recv>
  <Reference variables="uri"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:citizen@[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=citizen 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-16
      a=ptime:20

    ]]>
  </send>
  <recv request="ACK" crlf="true"/>
  <pause milliseconds="{talk_ms}"/>
  <send retrans="500">
    <![CDATA[

      BYE [$contact] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: [$to];tag=[pid]SIPpTag01[call_number]
      To: [$from]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
</scenario>
"#
    );
    let path = dir.join("citizen_hangs_up.xml");
    std::fs::write(&path, xml).expect("scenario");
    path
}

/// The record of the callback call about ticket `id`, once written.
fn callback_record(engine: &Engine, id: &str) -> Value {
    for _ in 0..30 {
        if let Some(r) = engine.latest_record(Duration::from_secs(1)) {
            if r["outbound"]["reference"] == id {
                return r;
            }
        }
    }
    panic!("no record of the callback of {id}; log:\n{}", engine.log())
}

#[test]
fn a_ticket_marked_agent_is_put_through_to_the_agent_queue_though_the_robot_is_configured() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("dir");
    let scenario = citizen_hangs_up(dir.path(), 4000);
    let sipp_run = trunk(port, &scenario, 1, Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(300));
    // `[callback] by` is the shipped "robot", and the robot's script is loaded.
    let engine = engine(port, "");
    let id = awaiting_callback_with(
        &engine,
        "13900001212",
        json!({"action":"review_pass","callback_by":"agent"}),
    );
    let t = ticket(&engine, &id);
    assert_eq!(t["callback_by"], "agent", "{t}");
    let passed = event(&t, "review_passed");
    assert_eq!(passed["callback_by"], "agent", "{passed}");
    assert_eq!(passed["actor"]["role"], "reviewer", "{passed}");
    let record = callback_record(&engine, &id);
    assert_eq!(record["direction"], "outbound", "{record}");
    assert_eq!(record["outbound"]["purpose"], "agent_callback", "{record}");
    assert_eq!(
        record["outbound"]["outcome"]["outcome"], "answered",
        "{record}"
    );
    assert!(record["outbound"]["robot"].is_null(), "{record}");
    assert_eq!(
        record["queue"], "general",
        "put through to agent_queue: {record}"
    );
    // An agent's callback is recorded by the agent on the desk: the ticket still waits.
    let t = ticket(&engine, &id);
    assert_eq!(t["state"], "awaiting_callback", "{t}");
    sipp_run.join().expect("sipp").assert_ok();
}

#[test]
fn a_ticket_marked_robot_is_called_by_the_robot_though_agents_are_configured() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("dir");
    // Consent, contacted, solved, 满意 (1).
    let scenario = citizen(
        dir.path(),
        &[(2500, 1), (1500, 1), (1500, 1), (1500, 1)],
        None,
    );
    let sipp_run = trunk(port, &scenario, 1, Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(300));
    let engine = engine_calling_back(port, "by = \"agent\"");
    let id = awaiting_callback_with(
        &engine,
        "13900001313",
        json!({"action":"review_pass","callback_by":"robot"}),
    );
    let t = settled(&engine, &id, Duration::from_secs(60));
    assert_eq!(t["state"], "closed", "{t}");
    assert_eq!(t["rating"], "satisfied", "{t}");
    assert_eq!(event(&t, "callback_made")["method"], "robot", "{t}");
    let record = callback_record(&engine, &id);
    assert_eq!(record["outbound"]["purpose"], "robot_callback", "{record}");
    sipp_run.join().expect("sipp").assert_ok();
}

#[test]
fn a_robot_ticket_without_the_robot_s_script_is_an_agent_callback_and_the_log_says_so() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("dir");
    let scenario = citizen_hangs_up(dir.path(), 3000);
    let sipp_run = trunk(port, &scenario, 1, Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(300));
    let engine = engine_calling_back(port, "by = \"agent\"\nrobot = \"no_such_script\"");
    let id = awaiting_callback_with(
        &engine,
        "13900001414",
        json!({"action":"review_pass","callback_by":"robot"}),
    );
    let record = callback_record(&engine, &id);
    assert_eq!(record["outbound"]["purpose"], "agent_callback", "{record}");
    let log = engine.log();
    assert!(
        log.contains("its script is not in ivr-menus/: an agent callback instead"),
        "{log}"
    );
    sipp_run.join().expect("sipp").assert_ok();
}

/// `POST /api/tickets/{id}/actions` with `body` as `token`: the status and the JSON answer.
fn try_act(engine: &Engine, id: &str, token: &str, body: Value) -> (u16, Value) {
    let (status, reply) = http_request(
        engine.http,
        "POST",
        &format!("/api/tickets/{id}/actions"),
        Some(token),
        Some(&body.to_string()),
    );
    (status, serde_json::from_str(&reply).unwrap_or(Value::Null))
}

/// The API: the reviewer names who calls back at `review_pass`; reviewers and supervisors
/// change it while the callback is awaited; anyone else, any other state, or no choice is
/// refused with its reason; the ticket and its history show it.
#[test]
fn the_api_takes_the_choice_at_review_and_changes_it_only_while_the_callback_is_awaited() {
    let engine = Engine::start("");
    let id = under_review(&engine, "13900001515");
    let set = |by: &str| json!({"action":"set_callback_by","callback_by":by});
    // Not yet awaiting a callback.
    let (status, err) = try_act(&engine, &id, "demo-supervisor", set("agent"));
    assert_eq!(
        (status, err["code"].as_str()),
        (409, Some("not_allowed_in_state")),
        "{err}"
    );
    // Not a choice the workflow knows.
    let (status, err) = try_act(
        &engine,
        &id,
        "demo-reviewer",
        json!({"action":"review_pass","callback_by":"sms"}),
    );
    assert!((400..500).contains(&status), "{status} {err}");
    let (status, t) = try_act(
        &engine,
        &id,
        "demo-reviewer",
        json!({"action":"review_pass","callback_by":"agent"}),
    );
    assert_eq!(status, 200, "{t}");
    assert_eq!(
        (t["state"].as_str(), t["callback_by"].as_str()),
        (Some("awaiting_callback"), Some("agent")),
        "{t}"
    );
    let offered = |t: &Value| {
        t["actions"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == "set_callback_by"))
    };
    assert!(offered(&t), "{t}");
    // An agent or the handling unit may not change it.
    for token in ["demo-agent-1001", "demo-unit-hrss"] {
        let (status, err) = try_act(&engine, &id, token, set("robot"));
        assert_eq!(status, 403, "{token}: {err}");
        assert_eq!(err["code"], "wrong_role", "{token}: {err}");
    }
    let (status, err) = try_act(
        &engine,
        &id,
        "demo-supervisor",
        json!({"action":"set_callback_by"}),
    );
    assert_eq!(
        (status, err["code"].as_str()),
        (422, Some("missing_field")),
        "{err}"
    );
    assert!(
        err["message"]
            .as_str()
            .unwrap_or("")
            .contains("callback_by"),
        "{err}"
    );
    let (status, t) = try_act(&engine, &id, "demo-supervisor", set("robot"));
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["callback_by"], "robot", "{t}");
    let t = ticket(&engine, &id);
    assert_eq!(t["callback_by"], "robot", "{t}");
    let changed = event(&t, "callback_by_set");
    assert_eq!(changed["callback_by"], "robot", "{changed}");
    assert_eq!(changed["actor"]["role"], "supervisor", "{changed}");
    assert!(changed["at"].is_string(), "{changed}");
    assert_eq!(event(&t, "review_passed")["callback_by"], "agent", "{t}");
    // Once the callback is made the choice is history.
    let (status, t) = try_act(
        &engine,
        &id,
        "demo-reviewer",
        json!({"action":"callback","method":"phone","consent":true,"contacted":true,"solved":true,"rating":"satisfied"}),
    );
    assert_eq!((status, t["state"].as_str()), (200, Some("closed")), "{t}");
    assert!(!offered(&t), "{t}");
    let (status, err) = try_act(&engine, &id, "demo-supervisor", set("agent"));
    assert_eq!(
        (status, err["code"].as_str()),
        (409, Some("not_allowed_in_state")),
        "{err}"
    );
}

/// The ticket desk in headless Chromium (`tests/browser/callback_by.mjs`): the reviewer
/// passes the reply choosing an agent from the select beside the button, in Chinese; then, in
/// English, changes it to the robot; the API shows both choices with who made them.
#[test]
fn the_reviewer_chooses_who_calls_back_on_the_ticket_desk_in_both_languages() {
    let engine = Engine::start("");
    let base = format!("http://{}", engine.http);
    let tmp = tempfile::tempdir().expect("temp dir");
    let id = under_review(&engine, "13900001616");
    let page = common::pages::start_page(
        "callback_by",
        &base,
        "demo-reviewer",
        tmp.path(),
        &[id.as_str()],
    );
    page.expect("AGENT", Duration::from_secs(40), &engine);
    page.expect("ROBOT", Duration::from_secs(40), &engine);
    let t = ticket(&engine, &id);
    assert_eq!(t["callback_by"], "robot", "{t}");
    assert_eq!(event(&t, "review_passed")["callback_by"], "agent", "{t}");
    assert_eq!(
        event(&t, "callback_by_set")["actor"]["role"],
        "reviewer",
        "{t}"
    );
}
