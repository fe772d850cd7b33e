//! The ticket HTTP API against a real listener on 127.0.0.1:0 and a real SQLite file, with the
//! clock pinned to 2026 dates: the issue's exact create request, a whole life by API, every
//! error class (400/401/403/404/409/422 with `{"code","message"}`), lists, catalogue, reports.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, TimeZone};
use hotline::cti::tickets::{router, TicketApi, TicketApiConfig};
use hotline::workflow::model::china;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Engine {
    addr: SocketAddr,
    now: Arc<AtomicI64>,
    /// The ticket service itself, to act as the call engine does (drafts, recordings); `None`
    /// for an API in another process.
    api: Option<TicketApi>,
    _dir: tempfile::TempDir,
}

impl Engine {
    fn set_now(&self, s: &str) {
        let t = DateTime::parse_from_rfc3339(s).expect("time");
        self.now.store(t.timestamp(), Ordering::SeqCst);
    }

    /// A JSON request, as every client of the API sends it.
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.send(
            method,
            path,
            token,
            Some("application/json"),
            body.as_bytes(),
        )
        .await
    }

    /// A POST of raw bytes (a file upload).
    async fn upload(&self, path: &str, token: Option<&str>, body: &[u8]) -> (u16, Value) {
        self.send("POST", path, token, Some("application/octet-stream"), body)
            .await
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> (u16, Value) {
        let mut s = tokio::net::TcpStream::connect(self.addr)
            .await
            .expect("connect");
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        if let Some(c) = content_type {
            req.push_str(&format!("Content-Type: {c}\r\n"));
        }
        if let Some(t) = token {
            req.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).await.expect("write");
        // The server may answer (and close) before it has read the whole body.
        let _ = s.write_all(body).await;
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf).await;
        let text = String::from_utf8_lossy(&buf);
        let (head, body) = text.split_once("\r\n\r\n").expect("http response");
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status");
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_checked_before_they_are_read_and_limited_to_20_mib() {
    let e = start().await;
    e.set_now("2026-11-23T10:00:00+08:00");
    let r = e.call("POST", "/api/tickets", AGENT, Some(example())).await;
    assert_eq!(r.0, 201, "{:?}", r.1);
    let id = r.1["id"].as_str().expect("id").to_string();
    let path = format!("/api/tickets/{id}/attachments?name=scan.pdf");
    assert_error(
        &e.upload(&path, None, &[1u8; 1 << 20]).await,
        401,
        "unauthorized",
    );
    assert_error(
        &e.upload(&path, MARKET, &[1u8; 1 << 20]).await,
        404,
        "not_found",
    );
    assert_error(
        &e.upload(&path, AGENT, &vec![1u8; (20 << 20) + 1]).await,
        413,
        "file_too_large",
    );
    let r = e.upload(&path, AGENT, b"%PDF-1.4 scan").await;
    assert_eq!(r.0, 201, "{:?}", r.1);
    assert_eq!(r.1["name"], "scan.pdf");
    assert_eq!(r.1["size"], 13);
    // A right-to-left override (U+202E) in a name would show `invoice.exe` as `…exe.pdf`:
    // format characters are stripped.
    let disguised = format!("/api/tickets/{id}/attachments?name=invoice%E2%80%AEfdp.exe");
    let r = e.upload(&disguised, AGENT, b"MZ").await;
    assert_eq!(r.0, 201, "{:?}", r.1);
    assert_eq!(r.1["name"], "invoicefdp.exe", "{:?}", r.1);
}

async fn start() -> Engine {
    start_with_reads(120).await
}

/// An API whose users may read `reads` tickets with whole caller data a minute.
async fn start_with_reads(reads: u32) -> Engine {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let now = Arc::new(AtomicI64::new(0));
    let n = now.clone();
    let api = TicketApi::open(&TicketApiConfig {
        caller_reads_per_minute: reads,
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
        api: Some(api),
        _dir: dir,
    }
}

fn example() -> Value {
    json!({"channel":"web","received_at":"2026-09-30T10:00:00+08:00",
        "caller":{"name":"张三","phone":"13800138000"},"content":"工地拖欠农民工工资三个月未发放",
        "urgency":"non_urgent","type":"complaint","domain":"social_management"})
}

fn assert_error(r: &(u16, Value), status: u16, code: &str) {
    assert_eq!(r.0, status, "{:?}", r.1);
    assert_eq!(r.1["code"], code, "{:?}", r.1);
    assert!(
        r.1["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{:?}",
        r.1
    );
}

const AGENT: Option<&str> = Some("demo-agent-1001");
const REVIEWER: Option<&str> = Some("demo-reviewer");
const SUPERVISOR: Option<&str> = Some("demo-supervisor");
const HRSS: Option<&str> = Some("demo-unit-hrss");
const MARKET: Option<&str> = Some("demo-unit-market");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_issue_example_and_a_whole_life_by_api() {
    let e = start().await;
    e.set_now("2026-09-30T10:02:00+08:00");
    // The issue's exact request, with an agent's and a supervisor's token.
    let r = e.call("POST", "/api/tickets", AGENT, Some(example())).await;
    assert_eq!(r.0, 201, "{:?}", r.1);
    assert_eq!(r.1["id"], "20260930-000001");
    assert_eq!(r.1["state"], "received");
    assert_eq!(r.1["due"]["dispatch"], "2026-10-01T10:00:00+08:00");
    assert_eq!(r.1["caller"]["phone"], "13800138000");
    let r2 = e
        .call("POST", "/api/tickets", SUPERVISOR, Some(example()))
        .await;
    assert_eq!(r2.0, 201);
    assert_eq!(r2.1["id"], "20260930-000002");
    // Same number, same facts → flagged as a repeat of the first (W6).
    assert_eq!(r2.1["repeat_of"]["id"], "20260930-000001");
    let id = "20260930-000001";
    let path = format!("/api/tickets/{id}/actions");

    assert_error(
        &e.call("POST", "/api/tickets", None, Some(example())).await,
        401,
        "unauthorized",
    );
    assert_error(
        &e.call("POST", "/api/tickets", Some("wrong-token"), Some(example()))
            .await,
        401,
        "unauthorized",
    );
    assert_error(
        &e.call("POST", "/api/tickets", HRSS, Some(example())).await,
        403,
        "wrong_role",
    );

    e.set_now("2026-09-30T17:50:00+08:00");
    let r = e
        .call(
            "POST",
            &path,
            AGENT,
            Some(json!({"action":"dispatch","category":"wage_arrears","version":1})),
        )
        .await;
    assert_eq!(r.0, 200, "{:?}", r.1);
    assert_eq!(r.1["assignment"]["lead"], "hrss");
    assert_eq!(r.1["assignment"]["assisting"], json!(["housing"]));
    assert_eq!(r.1["due"]["sign_off"], "2026-10-08T23:59:59+08:00");
    assert_eq!(r.1["due"]["return_window"], "2026-10-09T23:59:59+08:00");
    assert_eq!(r.1["due"]["feedback"], "2026-10-27T23:59:59+08:00");

    // Each reader is offered what it could do now: the lead unit signs or returns, the
    // assisting unit may only give its part of the answer, the supervisor reminds.
    let offered = |r: (u16, Value)| {
        assert_eq!(r.0, 200, "{:?}", r.1);
        r.1["actions"].clone()
    };
    let show = format!("/api/tickets/{id}");
    assert_eq!(
        offered(e.call("GET", &show, HRSS, None).await),
        json!(["sign", "return"])
    );
    assert_eq!(
        offered(e.call("GET", &show, Some("demo-unit-housing"), None).await),
        json!(["assist_reply"])
    );
    assert_eq!(
        offered(e.call("GET", &show, SUPERVISOR, None).await),
        json!(["remind", "supervise"])
    );

    // Another unit: the same 404 as for a ticket that does not exist, on read and on
    // action (a unit cannot probe which ids exist); a stale version: 409.
    let unknown = e
        .call("GET", "/api/tickets/20260930-999999", MARKET, None)
        .await;
    assert_error(&unknown, 404, "not_found");
    let other = e
        .call("GET", &format!("/api/tickets/{id}"), MARKET, None)
        .await;
    assert_error(&other, 404, "not_found");
    assert_eq!(
        other.1["message"].as_str().map(|m| m.replace(id, "ID")),
        unknown.1["message"]
            .as_str()
            .map(|m| m.replace("20260930-999999", "ID"))
    );
    assert_error(
        &e.call("POST", &path, MARKET, Some(json!({"action":"sign"})))
            .await,
        404,
        "not_found",
    );
    assert_error(
        &e.call(
            "POST",
            "/api/tickets/20260930-999999/actions",
            MARKET,
            Some(json!({"action":"sign"})),
        )
        .await,
        404,
        "not_found",
    );
    assert_error(
        &e.call(
            "POST",
            &path,
            Some("demo-unit-housing"),
            Some(json!({"action":"sign"})),
        )
        .await,
        403,
        "wrong_unit",
    );
    assert_error(
        &e.call(
            "POST",
            &path,
            HRSS,
            Some(json!({"action":"sign","version":1})),
        )
        .await,
        409,
        "version_conflict",
    );
    e.set_now("2026-10-08T09:00:00+08:00");
    let r = e
        .call(
            "POST",
            &path,
            HRSS,
            Some(json!({"action":"sign","version":2})),
        )
        .await;
    assert_eq!(r.0, 200, "{:?}", r.1);
    assert_eq!(r.1["state"], "handling");
    // Unit view: sees its ticket, and lists only its own.
    assert_eq!(
        e.call("GET", &format!("/api/tickets/{id}"), HRSS, None)
            .await
            .0,
        200
    );
    let l = e.call("GET", "/api/tickets?unit=market", HRSS, None).await;
    assert_error(&l, 403, "not_your_ticket");
    let l = e.call("GET", "/api/tickets", HRSS, None).await;
    assert_eq!(l.1["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        e.call("GET", "/api/tickets", MARKET, None).await.1["items"],
        json!([])
    );

    // Malformed and incomplete requests.
    assert_error(
        &e.call("POST", &path, HRSS, Some(json!({"action":"fly"})))
            .await,
        400,
        "bad_action",
    );
    assert_error(
        &e.call(
            "POST",
            &path,
            HRSS,
            Some(json!({"action":"request_extension","reason":"x","days":3})),
        )
        .await,
        422,
        "caller_not_informed",
    );
    let fb = json!({"action":"feedback","contact":"电话联系","verification":"属实","result":"已支付","caller_informed":true});
    assert_error(
        &e.call("POST", &path, HRSS, Some(fb)).await,
        422,
        "feedback_missing_field",
    );
    // Extensions: two requests at most (W9).
    for (n, days) in [(1, 5), (2, 3)] {
        let r = e.call("POST", &path, HRSS, Some(json!({"action":"request_extension","reason":"调查中","days":days,"caller_informed":true}))).await;
        assert_eq!(r.0, 200, "request {n}: {:?}", r.1);
        let r = e
            .call(
                "POST",
                &path,
                REVIEWER,
                Some(json!({"action":"approve_extension"})),
            )
            .await;
        assert_eq!(r.0, 200, "approve {n}: {:?}", r.1);
    }
    let r = e
        .call("GET", &format!("/api/tickets/{id}"), AGENT, None)
        .await;
    // Oct 27 + 5 working days = Nov 3; + 3 = Nov 6.
    assert_eq!(r.1["due"]["feedback"], "2026-11-06T23:59:59+08:00");
    assert_error(&e.call("POST", &path, HRSS, Some(json!({"action":"request_extension","reason":"再延","days":1,"caller_informed":true}))).await, 409, "extension_limit");
    let fb = json!({"action":"feedback","contact":"电话联系","verification":"属实","legal_basis":"《保障农民工工资支付条例》","result":"已足额支付","caller_informed":true});
    assert_eq!(e.call("POST", &path, HRSS, Some(fb)).await.0, 200);
    assert_eq!(
        e.call(
            "POST",
            &path,
            REVIEWER,
            Some(json!({"action":"review_pass"}))
        )
        .await
        .0,
        200
    );
    let r = e
        .call(
            "POST",
            &path,
            AGENT,
            Some(json!({"action":"callback","method":"sms","consent":true})),
        )
        .await;
    // Thu Oct 8 + 5 working days: Oct 9, Sat Oct 10 (worked), 12, 13, 14.
    assert_eq!(
        r.1["due"]["rating"], "2026-10-14T23:59:59+08:00",
        "{:?}",
        r.1
    );
    // Nobody answers the SMS: the sweep records "not rated" and closes it (W14).
    e.set_now("2026-10-15T00:00:01+08:00");
    let s = e.call("POST", "/api/sweep", SUPERVISOR, None).await;
    assert_eq!(s.0, 200, "{:?}", s.1);
    let r = e
        .call("GET", &format!("/api/tickets/{id}"), AGENT, None)
        .await;
    assert_eq!(r.1["state"], "closed");
    assert_eq!(r.1["rating"], "not_rated");
    assert_eq!(
        e.call("POST", &path, AGENT, Some(json!({"action":"archive"})))
            .await
            .0,
        200
    );
    assert_error(
        &e.call("POST", &path, SUPERVISOR, Some(json!({"action":"remind"})))
            .await,
        409,
        "archived",
    );
    // The history says who, in which role, when and what.
    let r = e
        .call("GET", &format!("/api/tickets/{id}"), SUPERVISOR, None)
        .await;
    let h = r.1["history"].as_array().expect("history");
    assert_eq!(h[0]["event"], "created");
    assert_eq!(h[0]["actor"]["user"], "agent-1001");
    assert!(h.iter().any(|e| e["event"] == "signed"
        && e["actor"]["role"] == "unit"
        && e["actor"]["unit"] == "hrss"));
    assert_eq!(
        h.last().map(|e| e["event"].clone()),
        Some(json!("archived"))
    );
    assert_error(
        &e.call("GET", "/api/tickets/20260930-999999", AGENT, None)
            .await,
        404,
        "not_found",
    );
}

/// Issue 12's smaller probes: each gets a clear 4xx with a code, never a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_get_a_clear_refusal() {
    let e = start().await;
    e.set_now("2026-09-30T10:02:00+08:00");
    let r = e.call("POST", "/api/tickets", AGENT, Some(example())).await;
    assert_eq!(r.0, 201, "{:?}", r.1);
    let id = r.1["id"].as_str().expect("id").to_string();
    // A list cursor that is empty or names no ticket is a bad query (it was a 500).
    for q in ["after=", "after=nonsense", "after=20260930-999999"] {
        let r = e
            .call("GET", &format!("/api/tickets?{q}"), SUPERVISOR, None)
            .await;
        assert_error(&r, 400, "bad_query");
    }
    // Bodies that do not say they are JSON: 415, on both ticket routes.
    let body = serde_json::to_vec(&example()).expect("json");
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let r = e.send("POST", "/api/tickets", AGENT, ct, &body).await;
        assert_error(&r, 415, "not_json");
        let r = e
            .send(
                "POST",
                &format!("/api/tickets/{id}/actions"),
                AGENT,
                ct,
                br#"{"action":"accept"}"#,
            )
            .await;
        assert_error(&r, 415, "not_json");
    }
    // Field limits: a 10,001-character note, a 201-character caller name.
    let r = e
        .call(
            "POST",
            &format!("/api/tickets/{id}/actions"),
            SUPERVISOR,
            Some(json!({"action":"remind","note":"催".repeat(10_001)})),
        )
        .await;
    assert_error(&r, 422, "field_too_long");
    assert!(r.1["message"].as_str().is_some_and(|m| m.contains("note")));
    let mut big = example();
    big["caller"]["name"] = json!("名".repeat(201));
    assert_error(
        &e.call("POST", "/api/tickets", AGENT, Some(big)).await,
        422,
        "field_too_long",
    );
    // Nothing was stored by the refusals: the ticket is still at version 1.
    let r = e
        .call("GET", &format!("/api/tickets/{id}"), SUPERVISOR, None)
        .await;
    assert_eq!(r.1["version"], 1, "{:?}", r.1);
    // A `received_at` a little in the future (a fast clock) is read as now, so a response
    // can never come "before" the request (C13); further ahead is refused.
    let mut soon = example();
    soon["received_at"] = json!("2026-09-30T10:04:00+08:00");
    let r = e.call("POST", "/api/tickets", AGENT, Some(soon)).await;
    assert_eq!(r.0, 201, "{:?}", r.1);
    assert_eq!(r.1["received_at"], "2026-09-30T10:02:00+08:00", "{:?}", r.1);
    let mut later = example();
    later["received_at"] = json!("2026-09-30T11:00:00+08:00");
    assert_error(
        &e.call("POST", "/api/tickets", AGENT, Some(later)).await,
        422,
        "received_at_in_future",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_catalogue_and_reports() {
    let e = start().await;
    e.set_now("2026-02-13T17:50:00+08:00");
    for (i, (t, d, ch)) in [
        ("consultation", "public_service", "phone"),
        ("help", "public_service", "web"),
        ("complaint", "market_supervision", "app"),
    ]
    .iter()
    .enumerate()
    {
        let body = json!({"channel":ch,"caller":{"phone":format!("1370000000{i}")},"content":format!("第{i}件诉求"),"urgency":"non_urgent","type":t,"domain":d,"area":"东城区"});
        assert_eq!(
            e.call("POST", "/api/tickets", AGENT, Some(body)).await.0,
            201
        );
    }
    // C13: the web request is accepted two minutes after it came in; the app one never is.
    e.set_now("2026-02-13T17:52:00+08:00");
    let accepted = e
        .call(
            "POST",
            "/api/tickets/20260213-000002/actions",
            AGENT,
            Some(json!({"action":"accept"})),
        )
        .await;
    assert_eq!(accepted.0, 200, "{:?}", accepted.1);
    let r = e
        .call(
            "POST",
            "/api/tickets/20260213-000001/actions",
            AGENT,
            Some(json!({"action":"dispatch","lead":"hrss"})),
        )
        .await;
    // Friday 17:50 before Spring Festival: Sat Feb 14 is worked; Feb 15–23 are off.
    assert_eq!(r.1["due"]["sign_off"], "2026-02-14T23:59:59+08:00");
    assert_eq!(r.1["due"]["feedback"], "2026-02-24T23:59:59+08:00");
    let l = e.call("GET", "/api/tickets?limit=2", AGENT, None).await;
    assert_eq!(l.0, 200, "{:?}", l.1);
    assert_eq!(l.1["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(l.1["items"][0]["caller_phone"], "137******02");
    let next = l.1["next"].as_str().expect("next page").to_string();
    let l2 = e
        .call(
            "GET",
            &format!("/api/tickets?limit=2&after={next}"),
            AGENT,
            None,
        )
        .await;
    assert_eq!(l2.1["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(l2.1["next"], Value::Null);
    let l = e
        .call(
            "GET",
            "/api/tickets?type=complaint&channel=app",
            AGENT,
            None,
        )
        .await;
    assert_eq!(l.1["items"][0]["id"], "20260213-000003");
    let l = e
        .call(
            "GET",
            "/api/tickets?state=dispatched&unit=hrss",
            AGENT,
            None,
        )
        .await;
    assert_eq!(l.1["items"][0]["id"], "20260213-000001");
    e.set_now("2026-02-15T08:00:00+08:00");
    let l = e
        .call("GET", "/api/tickets?overdue=true", AGENT, None)
        .await;
    // The dispatched one missed sign-off (Feb 14), the others missed dispatch (24 h).
    assert_eq!(l.1["items"].as_array().map(Vec::len), Some(3));
    let l = e.call("GET", "/api/tickets?from=2026-02-13T17:50:00%2B08:00&to=2026-02-13T17:50:01%2B08:00&domain=market_supervision", AGENT, None).await;
    assert_eq!(l.1["items"].as_array().map(Vec::len), Some(1), "{:?}", l.1);
    assert_error(
        &e.call("GET", "/api/tickets?colour=red", AGENT, None).await,
        400,
        "bad_query",
    );
    let c = e
        .call(
            "GET",
            "/api/dispatch/categories?q=%E5%81%9C%E6%B0%B4",
            AGENT,
            None,
        )
        .await; // 停水
    assert_eq!(c.1["categories"][0]["id"], "water_supply");
    assert_eq!(c.1["categories"][0]["basic_livelihood"], true);
    let u = e.call("GET", "/api/dispatch/units", HRSS, None).await;
    assert!(u.1["units"].as_array().is_some_and(|u| u.len() >= 14));
    let r = e
        .call(
            "GET",
            "/api/reports?from=2026-02-01T00:00:00%2B08:00",
            SUPERVISOR,
            None,
        )
        .await;
    assert_eq!(r.0, 200, "{:?}", r.1);
    assert_eq!(r.1["total"], 3);
    assert_eq!(r.1["by_area"], json!([["东城区", 3]]));
    assert_eq!(r.1["overdue"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        r.1["internet_response"],
        json!({"received": 2, "within_3_min": 1, "late": 1, "waiting": 0, "rate": 0.5})
    );
    assert_error(
        &e.call("GET", "/api/reports", HRSS, None).await,
        403,
        "wrong_role",
    );
    assert_error(
        &e.call(
            "POST",
            "/api/tickets",
            AGENT,
            Some(json!({"channel":"fax"})),
        )
        .await,
        400,
        "bad_request",
    );
    let mut future = example();
    future["received_at"] = json!("2026-03-01T00:00:00+08:00");
    assert_error(
        &e.call("POST", "/api/tickets", AGENT, Some(future)).await,
        422,
        "received_at_in_future",
    );
}

/// Child half of the HTTP crash test: serves the ticket API on 127.0.0.1:0 over the SQLite
/// file in `HOTLINE_API_CRASH_DIR`, prints its address, and runs until killed.
#[test]
fn api_crash_child() {
    let Some(dir) = std::env::var_os("HOTLINE_API_CRASH_DIR") else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async move {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let api = TicketApi::open(&TicketApiConfig::new(Path::new(&dir), &root.join("config")))
            .expect("api opens");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        println!("listening {}", listener.local_addr().expect("addr"));
        let _ = axum::serve(listener, router(api)).await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_the_api_during_a_burst_and_every_acknowledged_transition_is_there() {
    use hotline::shell::ticket_store::{Durability, SqliteStore};
    use hotline::workflow::store::TicketStore;
    use std::io::BufRead;

    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = std::process::Command::new(std::env::current_exe().expect("exe"))
        .args([
            "--exact",
            "api_crash_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("HOTLINE_API_CRASH_DIR", dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = std::io::BufReader::new(stdout).lines();
    let addr: SocketAddr = loop {
        let line = lines.next().expect("child output").expect("line");
        // The harness prints `test api_crash_child ... ` on the same line first.
        if let Some(a) = line.split("listening ").nth(1) {
            break a.parse().expect("addr");
        }
    };
    let e = Arc::new(Engine {
        addr,
        now: Arc::new(AtomicI64::new(0)),
        api: None,
        _dir: tempfile::tempdir().expect("tempdir"),
    });
    let acked = Arc::new(std::sync::Mutex::new(Vec::<(String, u64)>::new()));
    let mut tasks = Vec::new();
    for lane in 0..8u64 {
        let (e, acked) = (e.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            for n in 0u64.. {
                // A different caller each time, so no request is held back as a repeat (W6).
                let phone = format!("136{:08}", lane * 1_000_000 + n);
                let body = json!({"channel":"app","caller":{"phone":phone},"content":"路灯损坏","urgency":"non_urgent","type":"help","domain":"public_service"});
                let Some((201, v)) = try_call(&e, "POST", "/api/tickets", body).await else { return };
                let id = v["id"].as_str().unwrap_or_default().to_string();
                acked.lock().expect("lock").push((id.clone(), 1));
                let body = json!({"action":"dispatch","lead":"urban","version":1});
                let Some((200, v)) = try_call(&e, "POST", &format!("/api/tickets/{id}/actions"), body).await else { return };
                acked.lock().expect("lock").push((id, v["version"].as_u64().unwrap_or(0)));
            }
        }));
    }
    // Kill after 300 acknowledgments (or if every writer stopped, which the assert below reports).
    while acked.lock().expect("lock").len() < 300 && tasks.iter().any(|t| !t.is_finished()) {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    for t in tasks {
        let _ = t.await;
    }
    let acked = acked.lock().expect("lock").clone();
    assert!(
        acked.len() >= 300,
        "writers stopped early after {} acknowledgments",
        acked.len()
    );
    let wf = hotline::shell::workflow_files::load_workflow(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("config/calendar"),
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("config/dispatch.toml"),
        Default::default(),
    )
    .expect("workflow");
    let mut s =
        SqliteStore::open(&dir.path().join("tickets.sqlite"), Durability::Full).expect("reopen");
    assert!(s.integrity_ok().expect("integrity"));
    for (id, v) in &acked {
        let id = hotline::workflow::TicketId(id.clone());
        let t = wf
            .load(&mut s, &id)
            .unwrap_or_else(|e| panic!("{id} acknowledged but lost: {e}"));
        assert!(
            t.version >= *v,
            "{id}: acknowledged v{v}, stored v{}",
            t.version
        );
        assert_eq!(s.events(&id).expect("events").len() as u64, t.version);
    }
}

/// Like `Engine::call` but returns `None` when the server went away mid-request.
async fn try_call(e: &Engine, method: &str, path: &str, body: Value) -> Option<(u16, Value)> {
    let mut s = tokio::net::TcpStream::connect(e.addr).await.ok()?;
    let body = body.to_string();
    let req = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\nAuthorization: Bearer demo-agent-1002\r\n\r\n{body}", body.len());
    s.write_all(req.as_bytes()).await.ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.ok()?;
    let text = String::from_utf8_lossy(&buf);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status: u16 = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, serde_json::from_str(body).ok()?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_finds_its_ticket_and_the_ticket_names_its_call() {
    let e = start().await;
    e.set_now("2026-04-07T09:00:00+08:00");
    // A client may not link a ticket to a call, nor name its recording: that is evidence
    // only the engine sets (issue 12 item 9).
    let body = json!({"channel":"phone","call_id":"call-42","caller":{"phone":"13700009999"},"content":"来电诉求","urgency":"non_urgent","type":"help","domain":"public_service"});
    assert_error(
        &e.call("POST", "/api/tickets", AGENT, Some(body)).await,
        403,
        "engine_only",
    );
    let forged = json!({"channel":"phone","recording":{"path":"../../../../etc/shadow","sha256":"0".repeat(64)},"caller":{"phone":"13700009999"},"content":"来电诉求","urgency":"non_urgent","type":"help","domain":"public_service"});
    assert_error(
        &e.call("POST", "/api/tickets", SUPERVISOR, Some(forged))
            .await,
        403,
        "engine_only",
    );
    // The engine opens the call's draft when an agent answers it.
    let draft = hotline::workflow::model::CallDraft {
        number: None,
        call_id: "call-42".into(),
        received_at: DateTime::parse_from_rfc3339("2026-04-07T08:59:30+08:00").expect("time"),
        caller_phone: Some("13700009999".into()),
        queue: Some("general".into()),
        menu_path: vec!["main:0".into()],
    };
    let at = DateTime::parse_from_rfc3339("2026-04-07T09:00:00+08:00").expect("time");
    let opened = e
        .api
        .as_ref()
        .expect("in-process API")
        .worker()
        .call(move |s, wf| wf.open_draft(s, &draft, &hotline::workflow::model::Actor::system(), at))
        .await
        .expect("draft");
    let c = e
        .call("GET", &format!("/api/tickets/{}", opened.id), AGENT, None)
        .await;
    assert_eq!(c.0, 200, "{:?}", c.1);
    assert_eq!(c.1["call_id"], "call-42");
    // Nor may a person attach a recording to it.
    assert_error(
        &e.call(
            "POST",
            &format!("/api/tickets/{}/actions", opened.id),
            SUPERVISOR,
            Some(json!({"action":"attach_recording","recording":{"path":"recordings/x.wav","sha256":"0".repeat(64)}})),
        )
        .await,
        403,
        "engine_only",
    );
    let l = e
        .call("GET", "/api/tickets?call_id=call-42", AGENT, None)
        .await;
    assert_eq!(l.1["items"].as_array().map(Vec::len), Some(1), "{:?}", l.1);
    assert_eq!(l.1["items"][0]["id"], c.1["id"]);
    assert_eq!(
        e.call("GET", "/api/tickets?call_id=call-43", AGENT, None)
            .await
            .1["items"],
        json!([])
    );
    // The desktop's history: the same caller's other tickets, found without sending the number.
    let again = json!({"channel":"web","caller":{"phone":"+86 137-0000-9999"},"content":"路灯不亮","urgency":"non_urgent","type":"help","domain":"public_service"});
    let other = e.call("POST", "/api/tickets", AGENT, Some(again)).await;
    assert_eq!(other.0, 201, "{:?}", other.1);
    let stranger = json!({"channel":"web","caller":{"phone":"13900000000"},"content":"噪音扰民","urgency":"non_urgent","type":"complaint","domain":"environmental_protection"});
    assert_eq!(
        e.call("POST", "/api/tickets", AGENT, Some(stranger))
            .await
            .0,
        201
    );
    let path = format!(
        "/api/tickets?same_caller_as={}",
        c.1["id"].as_str().unwrap()
    );
    let same = e.call("GET", &path, AGENT, None).await;
    let ids: Vec<&Value> = same.1["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["id"])
        .collect();
    assert_eq!(ids, vec![&other.1["id"], &c.1["id"]], "{:?}", same.1);
    // Supervised tickets only: none yet, then the one a supervisor put under supervision.
    let sup = e
        .call("GET", "/api/tickets?supervised=true", SUPERVISOR, None)
        .await;
    assert_eq!(sup.1["items"], json!([]));
    let act = json!({"action":"supervise","reason":"repeated_unresolved"});
    let path = format!("/api/tickets/{}/actions", c.1["id"].as_str().unwrap());
    assert_eq!(e.call("POST", &path, SUPERVISOR, Some(act)).await.0, 200);
    let sup = e
        .call("GET", "/api/tickets?supervised=true", SUPERVISOR, None)
        .await;
    assert_eq!(
        sup.1["items"].as_array().map(Vec::len),
        Some(1),
        "{:?}",
        sup.1
    );
    assert_eq!(sup.1["items"][0]["id"], c.1["id"]);
}

/// C16 (issue 11 item 17): the caller's whole number and name go to those who handle the
/// ticket; another agent who merely opens it sees them masked, in the history too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_who_does_not_handle_a_ticket_sees_the_caller_masked() {
    let e = start().await;
    e.set_now("2026-09-30T10:02:00+08:00");
    let r = e.call("POST", "/api/tickets", AGENT, Some(example())).await;
    assert_eq!(r.0, 201, "{:?}", r.1);
    let id = r.1["id"].as_str().expect("id").to_string();
    assert_eq!(
        r.1["caller"]["phone"], "13800138000",
        "the agent who registered it"
    );
    let path = format!("/api/tickets/{id}/actions");
    let r = e
        .call(
            "POST",
            &path,
            AGENT,
            Some(json!({"action":"dispatch","category":"wage_arrears"})),
        )
        .await;
    assert_eq!(r.0, 200, "{:?}", r.1);
    let show = format!("/api/tickets/{id}");
    let other = e.call("GET", &show, Some("demo-agent-1002"), None).await;
    assert_eq!(other.0, 200, "{:?}", other.1);
    // (It may remind the unit: oversight needs no contact with the citizen.)
    assert_eq!(other.1["actions"], json!(["remind"]));
    let text = other.1.to_string();
    assert!(!text.contains("13800138000"), "whole number leaked: {text}");
    assert!(!text.contains("张三"), "whole name leaked: {text}");
    assert_eq!(other.1["caller"]["phone"], "138******00");
    // The unit that handles it, the reviewer and the supervisor see it whole.
    for who in [HRSS, REVIEWER, SUPERVISOR, AGENT] {
        let r = e.call("GET", &show, who, None).await;
        assert_eq!(r.1["caller"]["phone"], "13800138000", "{who:?}");
    }
}

/// C16 (issue 12 item 11): every read that shows a citizen whole is audited, a supervisor
/// lists them, and a token that reads more than a desk needs is stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_of_citizens_data_are_audited_and_bounded() {
    let e = start_with_reads(3).await;
    e.set_now("2026-09-30T10:02:00+08:00");
    let r = e.call("POST", "/api/tickets", AGENT, Some(example())).await;
    assert_eq!(r.0, 201, "{:?}", r.1);
    let id = r.1["id"].as_str().expect("id").to_string();
    let r = e
        .call(
            "POST",
            &format!("/api/tickets/{id}/actions"),
            AGENT,
            Some(json!({"action":"dispatch","category":"wage_arrears"})),
        )
        .await;
    assert_eq!(r.0, 200, "{:?}", r.1);
    let show = format!("/api/tickets/{id}");
    // A masked read (an agent who does not handle it) is neither audited nor counted.
    let r = e.call("GET", &show, Some("demo-agent-1002"), None).await;
    assert_eq!(r.0, 200);
    for _ in 0..3 {
        let r = e.call("GET", &show, AGENT, None).await;
        assert_eq!(r.1["caller"]["phone"], "13800138000");
    }
    let r = e.call("GET", &show, AGENT, None).await;
    assert_error(&r, 429, "too_many_reads");
    // The next minute the desk reads again.
    e.set_now("2026-09-30T10:03:00+08:00");
    assert_eq!(e.call("GET", &show, AGENT, None).await.0, 200);
    // The audit: four whole reads by agent 1001, none by 1002; supervisors only.
    let r = e
        .call(
            "GET",
            &format!("/api/audit/reads?ticket={id}"),
            SUPERVISOR,
            None,
        )
        .await;
    assert_eq!(r.0, 200, "{:?}", r.1);
    let rows = r.1.as_array().expect("rows");
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(
        rows.iter()
            .all(|x| x["user"] == "agent-1001" && x["role"] == "agent"),
        "{rows:?}"
    );
    assert!(rows
        .iter()
        .all(|x| x["what"] == "caller" && x["ticket"] == id.as_str()));
    assert_eq!(rows[0]["at"], "2026-09-30T10:03:00+08:00");
    assert_error(
        &e.call("GET", "/api/audit/reads", AGENT, None).await,
        403,
        "wrong_role",
    );
}
