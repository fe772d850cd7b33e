//! The citizen's internet channel (issue 13) against the real engine over loopback: per-address
//! throttling and the challenge, identical answers for a wrong code and an unknown id, files
//! judged by their bytes, the exact keys of the citizen's view, the channel connector's
//! rights and idempotency, HTML answers to form posts, and a rating that closes a ticket.

mod common;

use std::collections::BTreeSet;

use common::public::*;
use common::Engine;
use serde_json::{json, Value};

const AGENT: &str = "demo-agent-1001";
const REVIEWER: &str = "demo-reviewer";
const HRSS: &str = "demo-unit-hrss";
const CHANNEL: &str = "demo-channel-app";

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
        r.body.contains("<html lang=\"zh-CN\"")
            && r.body.contains("class=\"timeline\"")
            && r.body.contains("data-state=\"accepted\""),
        "{}",
        r.body
    );
    // Without a number and code: the lookup page as it is; a refused lookup reads the same
    // for a wrong code as for an unknown number (but for the number typed in).
    let page =
        |path: String| async move { send(e.http, "127.0.0.1", "GET", &path, &[], b"").await };
    let empty = page("/request/status?lang=en".into()).await;
    assert_eq!(empty.status, 200);
    assert!(
        empty.body.contains("data-testid=\"lookup-form\"") && !empty.body.contains("data-code=")
    );
    let wrong = page(format!("/request/status?id={id}&code=22222222")).await;
    let unknown = page("/request/status?id=19990101-000001&code=22222222".into()).await;
    assert_eq!((wrong.status, unknown.status), (404, 404));
    assert!(
        wrong.body.contains("data-code=\"not_found\""),
        "{}",
        wrong.body
    );
    assert_eq!(
        wrong.body.replace(&id, "ID"),
        unknown.body.replace("19990101-000001", "ID")
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
    assert!(r.body.contains("<html lang=\"en\""));

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
    let r = send(
        e.http,
        "127.0.0.1",
        "POST",
        "/api/public/requests",
        &[("Content-Type", "application/json")],
        b"{\"content\": ",
    )
    .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (400, json!("bad_request"))
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
        r.body.contains("查询码") && r.body.contains("<html lang=\"zh-CN\""),
        "{}",
        r.body
    );
    let id = r
        .body
        .split("data-testid=\"ticket-id\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
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
    // The page's form post: a refusal shows the view and the rating form again.
    let form = |body: &'static str| {
        let path = format!("/api/public/requests/{id}/rating");
        let body = format!("{body}&code={code}&lang=en&elderly=1");
        async move {
            let ct = [("Content-Type", "application/x-www-form-urlencoded")];
            send(e.http, "127.0.0.1", "POST", &path, &ct, body.as_bytes()).await
        }
    };
    let r = form("rating=unsatisfied&reason=").await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("data-code=\"rating_reason_required\"")
            && r.body.contains("data-testid=\"rating-form\"")
            && r.body.contains("class=\"elderly\""),
        "{}",
        r.body
    );
    let r = form("rating=satisfied").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("data-state=\"closed\"") && !r.body.contains("rating-form"),
        "{}",
        r.body
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
