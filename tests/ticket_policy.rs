//! Issue 11 items 9–14 through the ticket HTTP API (real listener on 127.0.0.1:0, real SQLite
//! file, pinned clock): the `[policy]` numbers of `hotline.toml` are the ones the API applies;
//! a late sign-off is supervised in the same write, without a sweep; a returned ticket's
//! decision deadline; a final answer's repeat held for a supervisor; the reviewer records a
//! declined callback and the report counts it as not rated; the engine's transfer to 110
//! marks the call's ticket urgent and linked in one step.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, TimeZone};
use hotline::config::Config;
use hotline::cti::tickets::{router, TicketApi, TicketApiConfig};
use hotline::workflow::model::china;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Engine {
    addr: SocketAddr,
    now: Arc<AtomicI64>,
    api: TicketApi,
    _dir: tempfile::TempDir,
}

impl Engine {
    fn set_now(&self, s: &str) {
        let t = DateTime::parse_from_rfc3339(s).expect("time");
        self.now.store(t.timestamp(), Ordering::SeqCst);
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut s = tokio::net::TcpStream::connect(self.addr)
            .await
            .expect("connect");
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: application/json\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).await.expect("write");
        let mut buf = Vec::new();
        let read =
            tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut buf));
        read.await.expect("answer within 10 s").expect("read");
        let text = String::from_utf8_lossy(&buf);
        let (head, body) = text.split_once("\r\n\r\n").expect("http response");
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status");
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }

    async fn act(&self, id: &str, token: &str, body: Value) -> (u16, Value) {
        self.call(
            "POST",
            &format!("/api/tickets/{id}/actions"),
            token,
            Some(body),
        )
        .await
    }
}

/// The API as `hotline serve` opens it, with the `[policy]` of `hotline_toml`.
async fn start(hotline_toml: &str) -> Engine {
    let config = Config::parse(hotline_toml, Path::new("hotline.toml")).expect("config parses");
    config
        .validate(hotline_toml, Path::new("hotline.toml"))
        .expect("config valid");
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let now = Arc::new(AtomicI64::new(0));
    let n = now.clone();
    let api = TicketApi::open(&TicketApiConfig {
        policy: config.policy.clone(),
        ..TicketApiConfig::new(dir.path(), &root.join("config"))
    })
    .expect("api opens")
    .with_clock(move || {
        china()
            .timestamp_opt(n.load(Ordering::SeqCst), 0)
            .single()
            .expect("valid time")
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let served = api.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router(served)).await;
    });
    Engine {
        addr,
        now,
        api,
        _dir: dir,
    }
}

const AGENT: &str = "demo-agent-1001";
const REVIEWER: &str = "demo-reviewer";
const SUPERVISOR: &str = "demo-supervisor";
const HRSS: &str = "demo-unit-hrss";

fn request(phone: &str, content: &str, kind: &str) -> Value {
    json!({"channel":"web","caller":{"phone":phone},"content":content,
        "urgency":"non_urgent","type":kind,"domain":"social_management"})
}

async fn create(e: &Engine, body: Value) -> String {
    let r = e.call("POST", "/api/tickets", AGENT, Some(body)).await;
    assert_eq!(r.0, 201, "{:?}", r.1);
    r.1["id"].as_str().expect("id").to_string()
}

fn events(t: &Value) -> Vec<String> {
    t["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|e| e["event"].as_str().unwrap_or("?").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_numbers_of_hotline_toml_are_the_ones_the_api_applies() {
    let e =
        start("[policy]\ndispatch_within = \"2h\"\nsign_off_days = 2\ncallback_days = 1\n").await;
    e.set_now("2026-03-02T09:00:00+08:00");
    let id = create(&e, request("13900001234", "单位拖欠工资两个月", "help")).await;
    let t = e
        .call("GET", &format!("/api/tickets/{id}"), AGENT, None)
        .await
        .1;
    assert_eq!(t["due"]["dispatch"], "2026-03-02T11:00:00+08:00", "{t}");
    let t = e
        .act(&id, AGENT, json!({"action":"dispatch","lead":"hrss"}))
        .await
        .1;
    // Two working days to sign (the default is one): end of Wed Mar 4.
    assert_eq!(t["due"]["sign_off"], "2026-03-04T23:59:59+08:00", "{t}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_that_signs_late_is_supervised_in_the_same_write_without_a_sweep() {
    let e = start("").await;
    e.set_now("2026-03-02T09:00:00+08:00");
    let id = create(&e, request("13900001235", "单位拖欠工资两个月", "help")).await;
    e.act(&id, AGENT, json!({"action":"dispatch","lead":"hrss"}))
        .await;
    // Sign-off was due at the end of Tue Mar 3; no sweep runs before the unit signs.
    e.set_now("2026-03-04T09:00:00+08:00");
    let r = e.act(&id, HRSS, json!({"action":"sign"})).await;
    assert_eq!(r.0, 200, "{:?}", r.1);
    assert_eq!(r.1["state"], "handling");
    assert_eq!(r.1["supervision"], json!(["late_sign_off"]), "{}", r.1);
    let ev = events(&r.1);
    assert_eq!(
        &ev[ev.len() - 3..],
        ["overdue", "supervision_opened", "signed"]
    );
    let opened = &r.1["history"][ev.len() - 2];
    assert_eq!(
        opened["unit"], "hrss",
        "attributed to the late unit: {opened}"
    );
    // A supervisor closes it, with what was done.
    let r = e
        .act(
            &id,
            SUPERVISOR,
            json!({"action":"close_supervision","reason":"late_sign_off","note":"已约谈"}),
        )
        .await;
    assert_eq!(r.0, 200, "{:?}", r.1);
    assert_eq!(r.1["supervision"], json!([]));
    let r = e
        .act(
            &id,
            AGENT,
            json!({"action":"close_supervision","reason":"late_sign_off","note":"x"}),
        )
        .await;
    assert_eq!((r.0, r.1["code"].as_str()), (403, Some("wrong_role")));
    // Returned: the hotline's decision is due, the unit's feedback clock stands still.
    let r = e
        .act(
            &id,
            HRSS,
            json!({"action":"return","reason":"属劳动仲裁","suggestion":"引导仲裁"}),
        )
        .await;
    assert_eq!(r.0, 200, "{:?}", r.1);
    assert_eq!(
        r.1["due"]["return_decision"], "2026-03-05T23:59:59+08:00",
        "{}",
        r.1
    );
    assert!(r.1["due"]["feedback"].is_null(), "{}", r.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reviewer_records_a_declined_callback_and_the_report_counts_it_not_rated() {
    let e = start("").await;
    e.set_now("2026-09-14T09:00:00+08:00");
    let id = create(
        &e,
        request("13600009999", "咨询社保卡补办地点", "consultation"),
    )
    .await;
    e.act(&id, AGENT, json!({"action":"dispatch","lead":"hrss"}))
        .await;
    e.act(&id, HRSS, json!({"action":"sign"})).await;
    let r = e
        .act(&id, HRSS, json!({"action":"feedback","contact":"电话","verification":"查询","legal_basis":"办法","result":"已告知","caller_informed":true}))
        .await;
    assert_eq!(r.0, 200, "{:?}", r.1);
    let r = e.act(&id, REVIEWER, json!({"action":"review_pass"})).await;
    assert_eq!(
        r.1["due"]["callback"], "2026-09-17T23:59:59+08:00",
        "{}",
        r.1
    );
    let r = e
        .act(
            &id,
            REVIEWER,
            json!({"action":"callback","method":"phone","consent":false}),
        )
        .await;
    assert_eq!(r.0, 200, "{:?}", r.1);
    assert_eq!(r.1["state"], "closed");
    let rep = e
        .call(
            "GET",
            "/api/reports?from=2026-09-01T00:00:00%2B08:00&to=2026-10-01T00:00:00%2B08:00",
            SUPERVISOR,
            None,
        )
        .await;
    assert_eq!(rep.0, 200, "{:?}", rep.1);
    assert!(
        rep.1["ratings"].to_string().contains(r#"["not_rated",1]"#),
        "a declined callback is 未评: {}",
        rep.1["ratings"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_transferred_to_110_makes_its_ticket_urgent_and_linked_in_one_step() {
    let e = start("").await;
    e.set_now("2026-07-02T11:00:00+08:00");
    let draft = hotline::workflow::model::CallDraft {
        number: None,
        call_id: "call-110".into(),
        received_at: DateTime::parse_from_rfc3339("2026-07-02T10:58:20+08:00").expect("time"),
        caller_phone: Some("13700002222".into()),
        queue: Some("general".into()),
        menu_path: vec![],
    };
    let at = DateTime::parse_from_rfc3339("2026-07-02T11:00:00+08:00").expect("time");
    let opened = e
        .api
        .worker()
        .call(move |s, wf| wf.open_draft(s, &draft, &hotline::workflow::model::Actor::system(), at))
        .await
        .expect("draft");
    // A person may not claim the engine's transfer.
    let r = e
        .act(
            &opened.id.0,
            AGENT,
            json!({"action":"emergency_transferred","service":"110"}),
        )
        .await;
    assert_eq!((r.0, r.1["code"].as_str()), (403, Some("engine_only")));
    // What the engine task does when the call engine reports the blind transfer to 110.
    e.set_now("2026-07-02T11:01:00+08:00");
    let mut calls = hotline::shell::call_tickets::CallTickets::new(e.api.clone());
    calls.emergency_transfer("call-110".into(), "110");
    calls.finish(std::time::Duration::from_secs(10)).await;
    let t = e
        .call("GET", &format!("/api/tickets/{}", opened.id.0), AGENT, None)
        .await
        .1;
    assert_eq!(t["state"], "linked", "{t}");
    assert_eq!(t["urgency"], "urgent", "{t}");
    let last = t["history"]
        .as_array()
        .expect("history")
        .last()
        .cloned()
        .expect("event");
    assert_eq!(last["event"], "linked_emergency", "{last}");
    assert_eq!(last["service"], "110");
    assert_eq!(last["marked_urgent"], true);
    assert_eq!(last["after_secs"], 160, "10:58:20 → 11:01:00: {last}");
    assert_eq!(events(&t).len(), 2, "one step: drafted, linked_emergency");
}
