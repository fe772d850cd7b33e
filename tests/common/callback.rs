//! The callback tests' shared parts (issue 15): an engine with SIPp as its trunk, a ticket
//! driven to `awaiting_callback`, the SIPp citizen who answers and presses keys, and waiting
//! for the ticket to settle.

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

use super::{http_request, sipp, Engine};

/// A free UDP port for SIPp's trunk.
pub fn free_port() -> SocketAddr {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free port")
}

/// The engine with SIPp as its trunk, calling at any hour, two tries; `extra` in `[outbound]`.
pub fn engine(trunk: SocketAddr, extra: &str) -> Engine {
    engine_at(
        trunk,
        "window_start = \"00:00:00\"\nwindow_end = \"23:59:59\"\nmax_attempts = 2\n",
        extra,
        &[],
    )
}

/// The engine with SIPp as its trunk and `callback` (e.g. `by = "agent"`) in `[callback]`.
pub fn engine_calling_back(trunk: SocketAddr, callback: &str) -> Engine {
    Engine::start_with_env(
        &format!(
            "[trunk]\naddress = \"{trunk}\"\n\n[callback]\nscan_every = \"1s\"\n{callback}\n\n[outbound]\nwindow_start = \"00:00:00\"\nwindow_end = \"23:59:59\"\nmax_attempts = 1\nretry_gap = \"2s\"\nring_timeout = \"5s\"\n"
        ),
        &[],
        &[],
    )
}

/// The engine with SIPp as its trunk; `rules` and `extra` go into `[outbound]`.
pub fn engine_at(trunk: SocketAddr, rules: &str, extra: &str, env: &[(&str, &str)]) -> Engine {
    Engine::start_with_env(
        &format!(
            "[trunk]\naddress = \"{trunk}\"\n\n[callback]\nscan_every = \"1s\"\n\n[outbound]\n{rules}retry_gap = \"2s\"\nring_timeout = \"5s\"\n{extra}\n"
        ),
        &[],
        env,
    )
}

pub fn act(engine: &Engine, id: &str, token: &str, body: Value) -> Value {
    let (status, reply) = http_request(
        engine.http,
        "POST",
        &format!("/api/tickets/{id}/actions"),
        Some(token),
        Some(&body.to_string()),
    );
    assert_eq!(status, 200, "{body}: {reply}");
    serde_json::from_str(&reply).expect("ticket json")
}

/// A request from `phone`, dispatched, answered by the unit and reviewed: its callback is due.
pub fn awaiting_callback(engine: &Engine, phone: &str) -> String {
    awaiting_callback_with(engine, phone, json!({"action":"review_pass"}))
}

/// A request from `phone`, dispatched and answered by the unit: its reply awaits review.
pub fn under_review(engine: &Engine, phone: &str) -> String {
    let body = json!({"channel":"web","caller":{"phone":phone},"content":"小区门口路灯不亮",
        "urgency":"non_urgent","type":"help","domain":"social_management"});
    let (status, reply) = http_request(
        engine.http,
        "POST",
        "/api/tickets",
        Some("demo-agent-1001"),
        Some(&body.to_string()),
    );
    assert_eq!(status, 201, "{reply}");
    let t: Value = serde_json::from_str(&reply).expect("json");
    let id = t["id"].as_str().expect("id").to_string();
    act(
        engine,
        &id,
        "demo-agent-1001",
        json!({"action":"dispatch","lead":"hrss"}),
    );
    act(engine, &id, "demo-unit-hrss", json!({"action":"sign"}));
    act(
        engine,
        &id,
        "demo-unit-hrss",
        json!({"action":"feedback","contact":"电话","verification":"现场查看","legal_basis":"管理办法","result":"已修复","caller_informed":true}),
    );
    id
}

/// The same, with `review` as the reviewer's `review_pass` (e.g. naming `callback_by`).
pub fn awaiting_callback_with(engine: &Engine, phone: &str, review: Value) -> String {
    let id = under_review(engine, phone);
    let t = act(engine, &id, "demo-reviewer", review);
    assert_eq!(t["state"], "awaiting_callback", "{t}");
    id
}

pub fn ticket(engine: &Engine, id: &str) -> Value {
    let (_, body) = http_request(
        engine.http,
        "GET",
        &format!("/api/tickets/{id}"),
        Some("demo-reviewer"),
        None,
    );
    serde_json::from_str(&body).expect("ticket json")
}

/// The ticket once it left `awaiting_callback`.
/// (Looked at once a second: reads of tickets with citizens' numbers are rate-limited.)
pub fn settled(engine: &Engine, id: &str, limit: Duration) -> Value {
    for _ in 0..limit.as_secs() {
        std::thread::sleep(Duration::from_secs(1));
        let t = ticket(engine, id);
        if t["state"].is_string() && t["state"] != "awaiting_callback" {
            return t;
        }
    }
    panic!("the callback never settled; log:\n{}", engine.log())
}

pub fn event<'a>(t: &'a Value, name: &str) -> &'a Value {
    t["history"]
        .as_array()
        .and_then(|h| h.iter().find(|e| e["event"] == name))
        .unwrap_or_else(|| panic!("no {name} in {t}"))
}

/// A SIPp scenario for the citizen: answers (A-law and RFC 4733), presses `keys` (each after
/// its pause, ms, each press with its own timestamp), optionally speaks (7 s of A-law) after
/// `speak_after` ms, then waits for the robot's BYE.
pub fn citizen(dir: &Path, keys: &[(u64, u8)], speak_after: Option<u64>) -> PathBuf {
    let mut steps = String::new();
    for (i, (pause, key)) in keys.iter().enumerate() {
        let pcap = dir.join(format!("key{i}.pcap"));
        super::pcap::key_press(&pcap, *key, 40_000 + 16_000 * i as u32, 100 + 20 * i as u16);
        steps.push_str(&format!(
            "  <pause milliseconds=\"{pause}\"/>\n  <nop><action><exec play_pcap_audio=\"{}\"/></action></nop>\n",
            pcap.display()
        ));
    }
    if let Some(pause) = speak_after {
        steps.push_str(&format!(
            "  <pause milliseconds=\"{pause}\"/>\n  <nop><action><exec play_pcap_audio=\"/usr/share/sip-tester/g711a.pcap\"/></action></nop>\n"
        ));
    }
    let xml = format!(
        r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="citizen answering the callback robot">
  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp="sip:139[0-9]+@" search_in="msg" check_it="true" assign_to="uri"/>
    </action>
  </recv>
  <Reference variables="uri"/>
  <send>
    <![CDATA[

      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <send retrans="500">
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
{steps}  <recv request="BYE" timeout="90000"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
</scenario>
"#
    );
    let path = dir.join("citizen.xml");
    std::fs::write(&path, xml).expect("scenario");
    path
}

/// Runs SIPp as the trunk on `port` with a scenario file, once per call in `calls`.
pub fn trunk(
    port: SocketAddr,
    scenario: &Path,
    calls: u32,
    timeout: Duration,
) -> std::thread::JoinHandle<super::SippRun> {
    let scenario = scenario.to_path_buf();
    std::thread::spawn(move || {
        sipp(
            // SIPp as a UAS needs no target; its own port is the trunk's.
            "127.0.0.1:9".parse().expect("addr"),
            scenario.to_str().expect("path"),
            &[
                "-m",
                &calls.to_string(),
                "-p",
                &port.port().to_string(),
                "-mi",
                "127.0.0.1",
            ],
            timeout,
        )
    })
}
