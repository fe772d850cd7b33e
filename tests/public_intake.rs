//! The internet channel's hand-over to the engine (issue 13), over a ticket service in this
//! process with its clock pinned: what the engine's web queue receives after each commit, and
//! the 24-hour and five-file limits on a citizen's files.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::public::*;
use serde_json::json;

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
