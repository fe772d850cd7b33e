//! The citizen's internet channel (issue 13) against the real engine over loopback: per-address
//! throttling and the challenge, identical answers for a wrong code and an unknown id, files
//! judged by their bytes, the exact keys of the citizen's view, the channel connector's
//! rights and idempotency, HTML answers to form posts, and a rating that closes a ticket.

mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use common::Engine;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const AGENT: &str = "demo-agent-1001";
const REVIEWER: &str = "demo-reviewer";
const HRSS: &str = "demo-unit-hrss";
const CHANNEL: &str = "demo-channel-app";

/// A valid 1×1 JPEG.
const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0xFF, 0xDB, 0x00, 0x43, 0x00, 0x08, 0x06, 0x06, 0x07, 0x06, 0x05, 0x08,
    0x07, 0x07, 0x07, 0x09, 0x09, 0x08, 0x0A, 0x0C, 0x14, 0x0D, 0x0C, 0x0B, 0x0B, 0x0C, 0x19, 0x12,
    0x13, 0x0F, 0x14, 0x1D, 0x1A, 0x1F, 0x1E, 0x1D, 0x1A, 0x1C, 0x1C, 0x20, 0x24, 0x2E, 0x27, 0x20,
    0x22, 0x2C, 0x23, 0x1C, 0x1C, 0x28, 0x37, 0x29, 0x2C, 0x30, 0x31, 0x34, 0x34, 0x34, 0x1F, 0x27,
    0x39, 0x3D, 0x38, 0x32, 0x3C, 0x2E, 0x33, 0x34, 0x32, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x01,
    0x00, 0x01, 0x01, 0x01, 0x11, 0x00, 0xFF, 0xC4, 0x00, 0x14, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0xFF, 0xC4, 0x00,
    0x14, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00, 0xD2, 0xCF, 0x20,
    0xFF, 0xD9,
];

/// A 1×1 PNG header (signature and IHDR), enough for the content check.
fn png() -> Vec<u8> {
    let mut p = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
    p.extend_from_slice(b"IHDR");
    p.extend_from_slice(&[
        0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xDE,
    ]);
    p.extend_from_slice(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82]);
    p
}

struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// One HTTP/1.1 request from `from` (a loopback address the socket is bound to first).
async fn send(
    to: SocketAddr,
    from: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let sock = tokio::net::TcpSocket::new_v4().expect("socket");
    sock.bind(format!("{from}:0").parse().expect("from"))
        .expect("bind");
    let mut s = tokio::time::timeout(Duration::from_secs(5), sock.connect(to))
        .await
        .expect("connect in time")
        .expect("connect");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let _ = s.write_all(body).await;
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    let text = String::from_utf8_lossy(&buf).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Answer {
        status,
        head: head.to_ascii_lowercase(),
        body: body.to_string(),
    }
}

async fn json_call(
    e: &Engine,
    from: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut h = vec![("Content-Type", "application/json")];
    if let Some(a) = &auth {
        h.push(("Authorization", a.as_str()));
    }
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    send(e.http, from, method, path, &h, body.as_bytes()).await
}

fn request() -> Value {
    json!({"content": "小区路灯坏了一个月，晚上看不见路", "type": "help", "area": "东城区",
           "name": "张三", "phone": "13800138000", "callback_consent": true})
}

async fn submit(e: &Engine, from: &str, body: Value) -> Answer {
    json_call(e, from, "POST", "/api/public/requests", None, Some(body)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_is_throttled_and_challenged_while_another_is_served() {
    let e = Engine::start("");
    let mut created = 0;
    let mut codes = BTreeSet::new();
    for _ in 0..200 {
        let r = submit(&e, "127.0.0.1", request()).await;
        match r.status {
            201 => created += 1,
            429 => {
                codes.insert(r.json()["code"].as_str().unwrap_or("").to_string());
            }
            s => panic!("unexpected {s}: {}", r.body),
        }
    }
    assert_eq!(
        created, 3,
        "the shipped limits let 3 through before a challenge"
    );
    assert!(codes.contains("challenge_required"), "{codes:?}");
    assert!(codes.contains("rate_limited"), "{codes:?}");
    let r = submit(&e, "127.0.0.1", request()).await;
    assert!(r.head.contains("retry-after:"), "{}", r.head);
    // Another address is untouched.
    let r = submit(&e, "127.0.0.2", request()).await;
    assert_eq!(r.status, 201, "{}", r.body);

    // A third address: answered wrong, the challenge is refused; answered right, it passes.
    for _ in 0..3 {
        assert_eq!(submit(&e, "127.0.0.3", request()).await.status, 201);
    }
    let r = submit(&e, "127.0.0.3", request()).await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (429, json!("challenge_required"))
    );
    assert!(
        r.json()["message"].as_str().unwrap_or("").contains("算术"),
        "Chinese by default"
    );
    let q = r.json()["challenge"].clone();
    let mut wrong = request();
    wrong["challenge"] = json!({"id": q["id"], "answer": "1000"});
    let r = submit(&e, "127.0.0.3", wrong).await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (429, json!("challenge_failed"))
    );
    let q = r.json()["challenge"].clone();
    let text = q["question"].as_str().expect("question");
    let nums: Vec<u32> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|s| s.parse().ok())
        .collect();
    let mut right = request();
    right["challenge"] = json!({"id": q["id"], "answer": (nums[0] + nums[1]).to_string()});
    let r = submit(&e, "127.0.0.3", right.clone()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    // Spent: the same answer again is refused.
    let r = submit(&e, "127.0.0.3", right).await;
    assert_eq!(r.json()["code"], "challenge_failed");

    let (_, metrics) = e.get("/metrics");
    assert!(
        metrics.contains("hotline_public_refused_total{code=\"rate_limited\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("hotline_public_requests_total{channel=\"web\"} 8"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_files_and_the_citizens_view() {
    let e = Engine::start("");
    let r = submit(&e, "127.0.0.1", request()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(
        r.head.contains("location: /api/public/requests/"),
        "{}",
        r.head
    );
    let rc = r.json();
    let (id, code) = (
        rc["id"].as_str().unwrap().to_string(),
        rc["query_code"].as_str().unwrap().to_string(),
    );
    assert_eq!(code.len(), 8);
    assert!(code
        .bytes()
        .all(|b| b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ".contains(&b)));
    let received =
        chrono::DateTime::parse_from_rfc3339(rc["received_at"].as_str().unwrap()).unwrap();
    let respond_by =
        chrono::DateTime::parse_from_rfc3339(rc["respond_by"].as_str().unwrap()).unwrap();
    assert_eq!((respond_by - received).num_seconds(), 180);
    assert!(rc["received_at"].as_str().unwrap().ends_with("+08:00"));

    // A wrong code and an unknown id answer byte for byte the same.
    let wrong = send(
        e.http,
        "127.0.0.1",
        "GET",
        &format!("/api/public/requests/{id}?code=22222222"),
        &[],
        b"",
    )
    .await;
    let unknown = send(
        e.http,
        "127.0.0.1",
        "GET",
        &format!("/api/public/requests/20200101-000001?code={code}"),
        &[],
        b"",
    )
    .await;
    assert_eq!((wrong.status, &wrong.body), (404, &unknown.body));
    assert_eq!(wrong.json()["code"], "not_found");

    // Files: judged by their bytes, not their name or header.
    let up = |name: &str, _ct: &str| {
        format!(
            "/api/public/requests/{id}/files?code={}&name={name}",
            code.to_lowercase()
        )
    };
    let r = send(
        e.http,
        "127.0.0.1",
        "POST",
        &up("photo.jpg", "image/jpeg"),
        &[("Content-Type", "image/jpeg")],
        b"this is text, named photo.jpg",
    )
    .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (415, json!("unsupported_file_type")),
        "{}",
        r.body
    );
    let r = send(
        e.http,
        "127.0.0.1",
        "POST",
        &up("x.jpg", ""),
        &[("Content-Type", "image/jpeg")],
        &png(),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (415, json!("unsupported_file_type")),
        "a PNG labelled JPEG"
    );
    let big = vec![0xFFu8; 10 * 1024 * 1024 + 1];
    let r = send(
        e.http,
        "127.0.0.1",
        "POST",
        &up("big.jpg", ""),
        &[("Content-Type", "image/jpeg")],
        &big,
    )
    .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (413, json!("file_too_large"))
    );
    let r = send(
        e.http,
        "127.0.0.1",
        "POST",
        &up("wrong", ""),
        &[("Content-Type", "image/jpeg")],
        b"x",
    )
    .await;
    assert_eq!(r.status, 415);
    let r = send(
        e.http,
        "127.0.0.1",
        "POST",
        &format!("/api/public/requests/{id}/files?code=22222222"),
        &[("Content-Type", "image/jpeg")],
        JPEG,
    )
    .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (404, json!("not_found"))
    );
    let r = send(
        e.http,
        "127.0.0.1",
        "POST",
        &up("路灯.jpg", ""),
        &[("Content-Type", "image/jpeg")],
        JPEG,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["type"], "image/jpeg");
    let sha = r.json()["sha256"].as_str().unwrap().to_string();
    let r = send(
        e.http,
        "127.0.0.1",
        "POST",
        &up("map.png", ""),
        &[("Content-Type", "image/png")],
        &png(),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["type"].clone()),
        (201, json!("image/png")),
        "{}",
        r.body
    );

    // The agent sees the files on the ticket, and may download them.
    let r = json_call(
        &e,
        "127.0.0.1",
        "GET",
        &format!("/api/tickets/{id}"),
        Some(AGENT),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains(&sha), "{}", r.body);
    assert_eq!(r.json()["channel"], "web");
    let r = json_call(
        &e,
        "127.0.0.1",
        "GET",
        &format!("/api/tickets/{id}/attachments/{sha}"),
        Some(AGENT),
        None,
    )
    .await;
    assert_eq!(r.status, 200);

    // The agent accepts (C13's response), then the citizen looks.
    let r = json_call(
        &e,
        "127.0.0.1",
        "POST",
        &format!("/api/tickets/{id}/actions"),
        Some(AGENT),
        Some(json!({"action": "accept"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = send(
        e.http,
        "127.0.0.1",
        "GET",
        &format!("/api/public/requests/{id}?code={code}&lang=en"),
        &[],
        b"",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    let keys: BTreeSet<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "id",
            "state",
            "state_text",
            "received_at",
            "respond_by",
            "responded_at",
            "can_rate",
            "files",
            "timeline"
        ]),
        "{v}"
    );
    assert_eq!(v["state"], "accepted");
    assert_eq!(v["can_rate"], false);
    assert_eq!(v["files"].as_array().unwrap().len(), 2);
    let entry_keys: BTreeSet<&str> = v["timeline"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(entry_keys, BTreeSet::from(["at", "text"]));
    for secret in [
        "agent-1001",
        "13800138000",
        "张三",
        "citizen",
        "hmac",
        "note",
        &sha,
    ] {
        assert!(!r.body.contains(secret), "{secret} leaked: {}", r.body);
    }
    // The no-JavaScript status page renders the same view as HTML.
    let r = send(
        e.http,
        "127.0.0.1",
        "GET",
        &format!("/request/status?id={id}&code={code}"),
        &[],
        b"",
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.head.contains("content-type: text/html"), "{}", r.head);
    assert!(
        r.body.contains("<html lang=\"zh-CN\">") && r.body.contains("class=\"timeline\""),
        "{}",
        r.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connector_registers_once_per_external_id_and_can_do_nothing_else() {
    let e = Engine::start("");
    let mut body = request();
    body["external_id"] = json!("wx-20261206-1");
    let first = json_call(
        &e,
        "127.0.0.1",
        "POST",
        "/api/channels/app/requests",
        Some(CHANNEL),
        Some(body.clone()),
    )
    .await;
    assert_eq!(first.status, 201, "{}", first.body);
    let again = json_call(
        &e,
        "127.0.0.1",
        "POST",
        "/api/channels/app/requests",
        Some(CHANNEL),
        Some(body.clone()),
    )
    .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(
        first.json(),
        again.json(),
        "the first receipt, query code included"
    );
    let id = first.json()["id"].as_str().unwrap().to_string();
    let r = json_call(
        &e,
        "127.0.0.1",
        "GET",
        "/api/tickets?channel=app",
        Some(AGENT),
        None,
    )
    .await;
    assert_eq!(
        r.json()["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        r.body
    );
    let r = json_call(
        &e,
        "127.0.0.1",
        "GET",
        &format!("/api/tickets/{id}"),
        Some(AGENT),
        None,
    )
    .await;
    assert_eq!(r.json()["channel"], "app");
    // Its code works on the public lookup.
    let code = first.json()["query_code"].as_str().unwrap().to_string();
    let r = send(
        e.http,
        "127.0.0.1",
        "GET",
        &format!("/api/public/requests/{id}?code={code}"),
        &[],
        b"",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let r = json_call(&e, "127.0.0.1", "GET", "/api/tickets", Some(CHANNEL), None).await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (403, json!("forbidden"))
    );
    let r = json_call(
        &e,
        "127.0.0.1",
        "POST",
        &format!("/api/tickets/{id}/actions"),
        Some(CHANNEL),
        Some(json!({"action": "accept"})),
    )
    .await;
    assert_eq!(r.status, 403);
    let r = json_call(
        &e,
        "127.0.0.1",
        "POST",
        "/api/channels/app/requests",
        Some(AGENT),
        Some(request()),
    )
    .await;
    assert_eq!(r.status, 403, "an agent token cannot use the connector");
    let r = json_call(
        &e,
        "127.0.0.1",
        "POST",
        "/api/channels/mailbox/requests",
        Some(CHANNEL),
        Some(request()),
    )
    .await;
    assert_eq!(r.status, 403, "a channel not configured for this token");
    let r = json_call(
        &e,
        "127.0.0.1",
        "POST",
        "/api/channels/app/requests",
        None,
        Some(request()),
    )
    .await;
    assert_eq!(r.status, 401);
    let mut future = request();
    future["received_at"] = json!("2099-01-01T00:00:00+08:00");
    let r = json_call(
        &e,
        "127.0.0.1",
        "POST",
        "/api/channels/public_account/requests",
        Some(CHANNEL),
        Some(future),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (422, json!("received_at_in_future"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_posts_are_answered_with_pages() {
    let e = Engine::start("");
    let form = "content=%E8%B7%AF%E7%81%AF%E5%9D%8F%E4%BA%86&type=help&phone=13800138000&callback_consent=on&lang=en&elderly=1";
    let r = send(
        e.http,
        "127.0.0.1",
        "POST",
        "/api/public/requests",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        form.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.head.contains("content-type: text/html"), "{}", r.head);
    assert!(
        r.body.contains("Query code") && r.body.contains("class=\"elderly\""),
        "{}",
        r.body
    );
    assert!(r.body.contains("<html lang=\"en\">"));

    // Bodies are bounded and must be JSON or a form.
    let mut huge = request();
    huge["content"] = json!("长".repeat(30_000));
    let r = submit(&e, "127.0.0.1", huge).await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (413, json!("body_too_large"))
    );
    let r = send(
        e.http,
        "127.0.0.1",
        "POST",
        "/api/public/requests?lang=en",
        &[("Content-Type", "text/plain")],
        b"hello",
    )
    .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (415, json!("unsupported_media_type"))
    );
    assert!(
        r.json()["message"].as_str().is_some_and(|m| m.is_ascii()),
        "English on ?lang=en"
    );
    let mut long = request();
    long["content"] = json!("长".repeat(2001));
    let r = submit(&e, "127.0.0.1", long).await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (422, json!("content_too_long"))
    );

    // A refusal keeps what was typed and says why, in an alert.
    let bad = "content=&type=help&name=%3Cb%3E%E6%9D%8E%3C%2Fb%3E";
    let r = send(
        e.http,
        "127.0.0.1",
        "POST",
        "/api/public/requests",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        bad.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("role=\"alert\"") && r.body.contains("&lt;b&gt;李&lt;/b&gt;"),
        "{}",
        r.body
    );

    // Multipart, with a photo.
    let boundary = "XyZ123";
    let mut mp = Vec::new();
    for (k, v) in [
        ("content", "井盖丢了"),
        ("type", "complaint"),
        ("lang", "zh"),
    ] {
        mp.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    mp.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"井盖.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").as_bytes());
    mp.extend_from_slice(JPEG);
    mp.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let ct = format!("multipart/form-data; boundary={boundary}");
    let r = send(
        e.http,
        "127.0.0.1",
        "POST",
        "/api/public/requests",
        &[("Content-Type", &ct)],
        &mp,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(
        r.body.contains("查询码") && r.body.contains("<html lang=\"zh-CN\">"),
        "{}",
        r.body
    );
    let id = r
        .body
        .split("status?id=")
        .nth(1)
        .and_then(|s| s.split('&').next())
        .unwrap()
        .to_string();
    let t = json_call(
        &e,
        "127.0.0.1",
        "GET",
        &format!("/api/tickets/{id}"),
        Some(AGENT),
        None,
    )
    .await;
    assert!(
        t.body.contains("files_attached") && t.body.contains("image/jpeg"),
        "{}",
        t.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_rates_a_web_callback_and_the_ticket_closes() {
    let e = Engine::start("");
    let rc = submit(&e, "127.0.0.1", request()).await.json();
    let (id, code) = (
        rc["id"].as_str().unwrap().to_string(),
        rc["query_code"].as_str().unwrap().to_string(),
    );
    let rating = format!("/api/public/requests/{id}/rating?code={code}");
    let r = json_call(
        &e,
        "127.0.0.1",
        "POST",
        &rating,
        None,
        Some(json!({"rating": "satisfied"})),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (409, json!("not_allowed")),
        "nothing to rate yet"
    );
    let act = |token: &'static str, body: Value| {
        let path = format!("/api/tickets/{id}/actions");
        let e = &e;
        async move {
            let r = json_call(e, "127.0.0.1", "POST", &path, Some(token), Some(body)).await;
            assert_eq!(r.status, 200, "{}", r.body);
        }
    };
    act(AGENT, json!({"action": "accept"})).await;
    act(
        AGENT,
        json!({"action": "classify", "domain": "social_management"}),
    )
    .await;
    act(
        AGENT,
        json!({"action": "dispatch", "category": "wage_arrears"}),
    )
    .await;
    act(HRSS, json!({"action": "sign"})).await;
    act(HRSS, json!({"action": "feedback", "contact": "电话联系", "verification": "属实", "legal_basis": "条例", "result": "路灯已修复", "caller_informed": true})).await;
    act(REVIEWER, json!({"action": "review_pass"})).await;
    act(
        AGENT,
        json!({"action": "callback", "method": "web", "consent": true}),
    )
    .await;
    let r = send(
        e.http,
        "127.0.0.1",
        "GET",
        &format!("/api/public/requests/{id}?code={code}"),
        &[],
        b"",
    )
    .await;
    let v = r.json();
    assert_eq!(
        (v["state"].clone(), v["can_rate"].clone()),
        (json!("awaiting_rating"), json!(true)),
        "{v}"
    );
    assert_eq!(v["reply"], "路灯已修复");
    assert!(
        v["unit"]
            .as_str()
            .is_some_and(|u| !u.is_empty() && u != "hrss"),
        "the unit's public name: {v}"
    );
    assert!(
        !r.body.contains("电话联系") && !r.body.contains("条例"),
        "internal parts of the reply: {}",
        r.body
    );

    let r = json_call(
        &e,
        "127.0.0.1",
        "POST",
        &rating,
        None,
        Some(json!({"rating": "unsatisfied"})),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (422, json!("rating_reason_required"))
    );
    let wrong = format!("/api/public/requests/{id}/rating?code=22222222");
    let r = json_call(
        &e,
        "127.0.0.1",
        "POST",
        &wrong,
        None,
        Some(json!({"rating": "satisfied"})),
    )
    .await;
    assert_eq!(r.status, 404);
    let r = json_call(
        &e,
        "127.0.0.1",
        "POST",
        &rating,
        None,
        Some(json!({"rating": "satisfied"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.json()["state"].clone(), r.json()["rating"].clone()),
        (json!("closed"), json!("satisfied"))
    );
    let t = json_call(
        &e,
        "127.0.0.1",
        "GET",
        &format!("/api/tickets/{id}"),
        Some(AGENT),
        None,
    )
    .await;
    assert_eq!(t.json()["state"], "closed");
    assert_eq!(t.json()["rating"], "satisfied");
}

/// The routes over a ticket service in this process, with its clock pinned and its web items
/// read here (what the engine receives).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_new_request_is_handed_on_after_its_commit_and_files_stop_after_a_day() {
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::Arc;

    use chrono::TimeZone;
    use hotline::cti::public::{router, PublicApi};
    use hotline::cti::tickets::{TicketApi, TicketApiConfig};
    use hotline::workflow::model::{china, Channel, RequestType};

    let dir = tempfile::tempdir().expect("tempdir");
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-12-01T09:00:00+08:00").unwrap();
    let now = Arc::new(AtomicI64::new(t0.timestamp()));
    let n = now.clone();
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let tickets = TicketApi::open(&TicketApiConfig::new(
        dir.path(),
        &common::root().join("config"),
    ))
    .expect("api opens")
    .with_clock(move || {
        china()
            .timestamp_opt(n.load(Ordering::SeqCst), 0)
            .single()
            .expect("time")
    })
    .with_web_items(tx);
    let key = hotline::shell::portal_key::load_or_create(dir.path()).expect("key");
    let api = PublicApi::new(tickets, key, &hotline::config::PublicConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = router(api).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let r = send(
        addr,
        "127.0.0.1",
        "POST",
        "/api/public/requests",
        &[("Content-Type", "application/json")],
        request().to_string().as_bytes(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let rc = r.json();
    assert_eq!(rc["received_at"], "2026-12-01T09:00:00+08:00");
    assert_eq!(rc["respond_by"], "2026-12-01T09:03:00+08:00");
    let item = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("in time")
        .expect("an item");
    assert_eq!(item.id.0, rc["id"].as_str().unwrap());
    assert_eq!(
        (item.channel, item.request_type),
        (Channel::Web, RequestType::Help)
    );
    assert!(item.content.contains("路灯"));
    assert_eq!(item.received_at, t0);

    let (id, code) = (
        rc["id"].as_str().unwrap(),
        rc["query_code"].as_str().unwrap(),
    );
    let path = format!("/api/public/requests/{id}/files?code={code}&name=a.jpg");
    now.store(t0.timestamp() + 25 * 3600, Ordering::SeqCst);
    let r = send(
        addr,
        "127.0.0.1",
        "POST",
        &path,
        &[("Content-Type", "image/jpeg")],
        JPEG,
    )
    .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (409, json!("not_allowed")),
        "{}",
        r.body
    );
    now.store(t0.timestamp() + 3600, Ordering::SeqCst);
    for i in 0..5 {
        let r = send(
            addr,
            "127.0.0.1",
            "POST",
            &path,
            &[("Content-Type", "image/jpeg")],
            JPEG,
        )
        .await;
        assert_eq!(r.status, 201, "file {i}: {}", r.body);
    }
    let r = send(
        addr,
        "127.0.0.1",
        "POST",
        &path,
        &[("Content-Type", "image/jpeg")],
        JPEG,
    )
    .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (409, json!("too_many_files"))
    );
}
