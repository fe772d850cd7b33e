//! The whole engine on the PostgreSQL store (issue 19): `hotline serve` with `[storage] url`
//! takes tickets over HTTP into PostgreSQL (not into `data_dir/tickets.sqlite`); it is killed
//! with SIGKILL while four clients are creating tickets, and an engine started again on the
//! same database (a fresh data folder: nothing of the first machine's disk) has every ticket
//! the API acknowledged before the kill. The audits are there too: what one engine audited
//! (a whole read, an export), the other lists.

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::Duration;

use common::postgres::Postgres;
use common::proc::{project, Proc};
use common::ticket_writers::{request, TicketWriters};
use common::{http_request, wait_for};

/// A throwaway PostgreSQL server with a `hotline` database, and a project folder whose
/// `[storage] url` names it (the server, the folder and the port lease live as long as
/// the test holds them).
fn project_on_postgres() -> (
    Postgres,
    tempfile::TempDir,
    std::path::PathBuf,
    common::ports::PortBlock,
) {
    let pg = Postgres::start();
    let url = pg.create_database("hotline");
    let dir = tempfile::tempdir().expect("tmp");
    let ports = common::ports::lease();
    let config = project(dir.path(), ports.first);
    let mut text = std::fs::read_to_string(&config).expect("config");
    text.push_str(&format!("[storage]\nurl = \"{url}\"\n"));
    std::fs::write(&config, text).expect("config");
    (pg, dir, config, ports)
}

#[test]
fn tickets_acknowledged_before_a_kill_9_are_in_postgres_for_the_next_engine() {
    let (pg, dir, config, _ports) = project_on_postgres();
    let mut first = Proc::start(&config, &dir.path().join("data1"), dir.path().join("1.log"));

    let writers = TicketWriters::start(first.http, 4);
    let enough = wait_for(Duration::from_secs(60), || {
        (writers.acknowledged() >= 60).then_some(())
    });
    first.kill_9();
    let acked = writers.join();
    assert!(
        enough.is_some(),
        "60 tickets in 60 s; log:\n{}",
        first.log()
    );

    // Not in a SQLite file of the first engine (there is none): in PostgreSQL.
    assert!(
        !dir.path().join("data1/tickets.sqlite").exists(),
        "the engine on PostgreSQL opened a local ticket file"
    );
    let in_pg: usize = pg
        .sql("hotline", "select count(*) from tickets")
        .parse()
        .expect("count");
    assert!(
        in_pg >= acked.len(),
        "{in_pg} stored, {} acknowledged",
        acked.len()
    );

    let second = Proc::start(&config, &dir.path().join("data2"), dir.path().join("2.log"));
    for id in &acked {
        let (status, body) = http_request(
            second.http,
            "GET",
            &format!("/api/tickets/{id}"),
            Some("demo-supervisor"),
            None,
        );
        assert_eq!(
            status, 200,
            "{id} acknowledged before the kill, lost: {body}"
        );
    }
    // The day's numbering goes on after the last stored ticket, on the other engine.
    let (status, body) = http_request(
        second.http,
        "POST",
        "/api/tickets",
        Some("demo-agent-1001"),
        Some(&request(99_999)),
    );
    assert_eq!(status, 201, "{body}");
    let id: serde_json::Value = serde_json::from_str(&body).expect("json");
    let id = id["id"].as_str().expect("id").to_string();
    assert!(!acked.contains(&id), "{id} issued twice");
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[test]
fn the_audits_one_engine_wrote_are_listed_by_the_next_from_postgres() {
    let (pg, dir, config, _ports) = project_on_postgres();
    let first = Proc::start(&config, &dir.path().join("data1"), dir.path().join("1.log"));
    let (status, body) = http_request(
        first.http,
        "POST",
        "/api/tickets",
        Some("demo-agent-1001"),
        Some(&request(7)),
    );
    assert_eq!(status, 201, "{body}");
    let id = json(&body)["id"].as_str().expect("id").to_string();
    // The registering agent sees the caller whole: an audited read.
    let (status, body) = http_request(
        first.http,
        "GET",
        &format!("/api/tickets/{id}"),
        Some("demo-agent-1001"),
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["caller"]["phone"], "13900000007", "{body}");
    let (status, body) = http_request(
        first.http,
        "GET",
        "/api/export/tickets?format=csv",
        Some("demo-data-sharing"),
        None,
    );
    assert_eq!(status, 200, "{body}");
    drop(first);
    assert!(
        !dir.path().join("data1/tickets.sqlite").exists(),
        "the engine on PostgreSQL opened a local ticket file"
    );
    let rows = |table: &str| -> usize {
        pg.sql("hotline", &format!("select count(*) from {table}"))
            .parse()
            .expect("count")
    };
    assert_eq!((rows("read_audit"), rows("export_audit")), (1, 1));

    // Another engine, its own empty data folder, the same database.
    let second = Proc::start(&config, &dir.path().join("data2"), dir.path().join("2.log"));
    let (status, body) = http_request(
        second.http,
        "GET",
        &format!("/api/audit/reads?ticket={id}"),
        Some("demo-supervisor"),
        None,
    );
    assert_eq!(status, 200, "{body}");
    let reads = json(&body);
    let reads = reads.as_array().expect("rows");
    assert_eq!(reads.len(), 1, "{reads:?}");
    assert_eq!(
        (&reads[0]["user"], &reads[0]["what"]),
        (
            &serde_json::json!("agent-1001"),
            &serde_json::json!("caller")
        )
    );
    let (status, body) = http_request(
        second.http,
        "GET",
        "/api/audit/exports",
        Some("demo-supervisor"),
        None,
    );
    assert_eq!(status, 200, "{body}");
    let exports = json(&body);
    let exports = exports.as_array().expect("rows");
    assert_eq!(exports.len(), 1, "{exports:?}");
    assert_eq!(exports[0]["format"], "csv");
    // Monitoring and the warnings are read from PostgreSQL too (nothing kept yet: empty).
    let (status, body) = http_request(
        second.http,
        "GET",
        "/api/audit/monitoring",
        Some("demo-supervisor"),
        None,
    );
    assert_eq!(
        (status, json(&body)),
        (200, serde_json::json!([])),
        "{body}"
    );
    let (status, body) = http_request(
        second.http,
        "GET",
        "/api/analytics/warnings",
        Some("demo-supervisor"),
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["warnings"], serde_json::json!([]), "{body}");
}

/// Percent-encodes a query value.
fn q(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn two_engines_on_postgres_share_the_knowledge_base_and_its_search() {
    let (pg, dir, config, _ports) = project_on_postgres();
    let mut text = std::fs::read_to_string(&config).expect("config");
    text.push_str("[kb]\ndemo_set = \"kb-demo.jsonl\"\n");
    std::fs::write(&config, text).expect("config");
    // Both running at once; each would load the demo set into an empty store.
    let first = Proc::start(&config, &dir.path().join("data1"), dir.path().join("1.log"));
    let second = Proc::start(&config, &dir.path().join("data2"), dir.path().join("2.log"));
    let demo = include_str!("../config/kb-demo.jsonl").lines().count();
    let items: usize = pg
        .sql("hotline", "select count(*) from kb_items")
        .parse()
        .expect("count");
    assert_eq!(items, demo, "the demo set loaded once into PostgreSQL");
    assert!(!dir.path().join("data1/kb.sqlite").exists());
    assert!(!dir.path().join("data2/kb.sqlite").exists());

    let search = |engine: &Proc| -> Vec<u64> {
        let (status, body) = http_request(
            engine.http,
            "GET",
            &format!("/api/kb/search?q={}", q("停水通知在哪看")),
            Some("demo-agent-1001"),
            None,
        );
        assert_eq!(status, 200, "{body}");
        json(&body)["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|h| h["id"].as_u64().expect("id"))
            .collect()
    };
    let found = search(&second);
    let top = *found
        .first()
        .expect("the demo item found on the second engine");
    assert_eq!(search(&first).first(), Some(&top));
    // Withdrawn on the first engine: the second's next search no longer finds it.
    let (status, body) = http_request(
        first.http,
        "POST",
        &format!("/api/kb/items/{top}/withdraw"),
        Some("demo-kb-editor"),
        Some(r#"{"reason":"政策废止"}"#),
    );
    assert_eq!(status, 200, "{body}");
    assert!(!search(&second).contains(&top), "withdrawn, still served");
    let (status, body) = http_request(
        second.http,
        "GET",
        &format!("/api/kb/items/{top}"),
        Some("demo-kb-editor"),
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["state"], "withdrawn", "{body}");
}
