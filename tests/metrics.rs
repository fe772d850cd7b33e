//! `/metrics` on a real engine: a SIPp call and a ticket move the counters, and the document
//! stays valid exposition format throughout.

mod common;

use std::net::UdpSocket;
use std::time::Duration;

use common::{http_request, sipp, Engine};
use hotline::cti::metrics::text::{self, Kind, Parsed};

fn scrape(engine: &Engine) -> Parsed {
    let (status, body) = engine.get("/metrics");
    assert_eq!(status, 200, "{body}");
    text::parse(&body).unwrap_or_else(|e| panic!("invalid exposition: {e}\n{body}"))
}

fn value(p: &Parsed, name: &str, labels: &[(&str, &str)]) -> f64 {
    p.get(name, labels)
        .unwrap_or_else(|| panic!("no sample {name}{labels:?}"))
}

#[test]
fn a_call_and_a_ticket_move_the_metrics() {
    // The listen-only SIPp caller sends no RTP: it stands for a trunk, whose SDP address
    // is trusted, so the menu's packets really go out and are counted.
    let engine = Engine::start("[sip]\ntrunks = [\"127.0.0.1\"]\n");
    let before = scrape(&engine);
    for (family, kind) in [
        ("hotline_calls_ended_total", Kind::Counter),
        ("hotline_queue_calls_waiting", Kind::Gauge),
        ("hotline_queue_longest_wait_seconds", Kind::Gauge),
        ("hotline_agents", Kind::Gauge),
        ("hotline_answer_rate_15s", Kind::Gauge),
        ("hotline_connection_rate", Kind::Gauge),
        ("hotline_rtp_packets_sent_total", Kind::Counter),
        ("hotline_rtp_packets_received_total", Kind::Counter),
        ("hotline_rtp_packets_late_total", Kind::Counter),
        ("hotline_sip_requests_total", Kind::Counter),
        ("hotline_sip_responses_total", Kind::Counter),
        ("hotline_sip_parse_errors_total", Kind::Counter),
        ("hotline_ticket_transitions_total", Kind::Counter),
        ("hotline_ticket_refusals_total", Kind::Counter),
        ("hotline_ticket_store_commit_seconds", Kind::Histogram),
    ] {
        assert_eq!(before.families.get(family), Some(&kind), "{family}");
    }
    assert_eq!(before.sum("hotline_calls_ended_total"), 0.0);
    // The shipped agents are all logged out at start; each is counted once.
    assert!(value(&before, "hotline_agents", &[("state", "logged_out")]) >= 1.0);
    assert_eq!(
        before.sum("hotline_agents"),
        value(&before, "hotline_agents", &[("state", "logged_out")])
    );
    assert!(before
        .get("hotline_queue_calls_waiting", &[("queue", "general")])
        .is_some());

    // One call that is answered, hears the menu for a second and hangs up.
    let rtp = UdpSocket::bind("127.0.0.1:0").expect("rtp socket");
    let port = rtp.local_addr().expect("addr").port().to_string();
    sipp(
        engine.sip,
        "uac_listen.xml",
        &["-m", "1", "-d", "1000", "-key", "rtp_port", &port],
        Duration::from_secs(20),
    )
    .assert_ok();
    engine
        .latest_record(Duration::from_secs(10))
        .expect("the call's record");

    // A ticket, and an action its role may not take.
    let ticket = r#"{"channel":"web","caller":{"phone":"13800138000"},"content":"路灯不亮","urgency":"non_urgent","type":"help","domain":"public_service"}"#;
    let (status, body) = http_request(
        engine.http,
        "POST",
        "/api/tickets",
        Some("demo-agent-1006"),
        Some(ticket),
    );
    assert_eq!(status, 201, "{body}");
    let id = serde_json::from_str::<serde_json::Value>(&body).expect("json")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let (status, body) = http_request(
        engine.http,
        "POST",
        &format!("/api/tickets/{id}/actions"),
        Some("demo-agent-1006"),
        Some(r#"{"action":"sign"}"#),
    );
    assert!((400..500).contains(&status), "{status} {body}");
    let code = serde_json::from_str::<serde_json::Value>(&body).expect("json")["code"]
        .as_str()
        .expect("code")
        .to_string();

    let after = scrape(&engine);
    let log = engine.log();
    assert_eq!(value(&after, "hotline_calls_offered_total", &[]), 1.0);
    assert_eq!(after.sum("hotline_calls_ended_total"), 1.0, "{log}");
    for method in ["INVITE", "ACK", "BYE"] {
        assert!(
            value(
                &after,
                "hotline_sip_requests_total",
                &[("direction", "received"), ("method", method)]
            ) >= 1.0,
            "{method}"
        );
    }
    assert!(
        value(
            &after,
            "hotline_sip_responses_total",
            &[("direction", "sent"), ("class", "2xx")]
        ) >= 2.0,
        "200 to the INVITE and to the BYE"
    );
    // 1 s of menu at 50 packets a second.
    assert!(value(&after, "hotline_rtp_packets_sent_total", &[]) >= 25.0);
    assert_eq!(
        value(
            &after,
            "hotline_ticket_transitions_total",
            &[("action", "create")]
        ),
        1.0
    );
    assert_eq!(
        value(&after, "hotline_ticket_refusals_total", &[("code", &code)]),
        1.0
    );
    // The create and the refused action each ran in a committed transaction.
    assert!(value(&after, "hotline_ticket_store_commit_seconds_count", &[]) >= 2.0);
    assert!(value(&after, "hotline_ticket_store_commit_seconds_sum", &[]) > 0.0);
    // Counters only go up.
    for ((name, labels), v) in &before.samples {
        if name.ends_with("_total") {
            let now = after.samples.get(&(name.clone(), labels.clone()));
            assert!(now.is_some_and(|n| n >= v), "{name}{labels:?} went down");
        }
    }
}
