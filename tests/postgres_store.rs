//! The whole engine on the PostgreSQL store (issue 19): `hotline serve` with `[storage] url`
//! takes tickets over HTTP into PostgreSQL (not into `data_dir/tickets.sqlite`); it is killed
//! with SIGKILL while four clients are creating tickets, and an engine started again on the
//! same database (a fresh data folder: nothing of the first machine's disk) has every ticket
//! the API acknowledged before the kill.

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::Duration;

use common::postgres::Postgres;
use common::proc::{project, Proc};
use common::ticket_writers::{request, TicketWriters};
use common::{http_request, wait_for};

fn with_store(config: &std::path::Path, url: &str) {
    let mut text = std::fs::read_to_string(config).expect("config");
    text.push_str(&format!("[storage]\nurl = \"{url}\"\n"));
    std::fs::write(config, text).expect("config");
}

#[test]
fn tickets_acknowledged_before_a_kill_9_are_in_postgres_for_the_next_engine() {
    let pg = Postgres::start();
    let url = pg.create_database("hotline");
    let dir = tempfile::tempdir().expect("tmp");
    let ports = common::ports::lease();
    let config = project(dir.path(), ports.first);
    with_store(&config, &url);
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

    // Not in the first engine's SQLite file: in PostgreSQL.
    let local = rusqlite::Connection::open(dir.path().join("data1/tickets.sqlite")).expect("open");
    let in_sqlite: i64 = local
        .query_row("SELECT COUNT(*) FROM tickets", [], |r| r.get(0))
        .expect("count");
    assert_eq!(in_sqlite, 0, "tickets went to SQLite");
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
