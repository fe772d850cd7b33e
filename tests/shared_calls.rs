//! The call journal and records in PostgreSQL (issue 19), on a real server: what one engine
//! writes, the engine taking over closes as `lost_in_failover` (once, in one transaction),
//! and the figures rebuilt from the shared records count each call as `docs/KPI.md` says.

mod common;

use std::time::Duration;

use common::postgres::Postgres;
use hotline::call::record::{CallOutcome, CallRecord, JournalEntry};
use hotline::shell::store::pg_calls::{take_over, SharedCalls};
use hotline::stats::kpi::Outcome;
use serde_json::json;

/// A live call of engine A at `state`: in the menu, waiting, or talking to 1001.
fn entry(id: &str, state: &str) -> JournalEntry {
    let queued = state != "ivr";
    let talking = state == "talking";
    serde_json::from_value(json!({
        "id": id,
        "caller": "138****5678",
        "called": "12345",
        "state": state,
        "menu_path": [],
        "queue": queued.then_some("general"),
        "started_at": "2026-12-07T10:00:00Z",
        "answered_at": "2026-12-07T10:00:00Z",
        "queued_at": queued.then_some("2026-12-07T10:00:10Z"),
        "agent": talking.then_some("1001"),
        "connected_at": talking.then_some("2026-12-07T10:00:14Z"),
        "wait_s": talking.then_some(4.0),
        "answered_queue": talking.then_some("general"),
        "transfers": [],
        "sip_call_id": format!("sip-{id}"),
        "caller_number": talking.then_some("13812345678"),
    }))
    .expect("journal entry")
}

fn finished(e: &JournalEntry) -> CallRecord {
    let mut v = serde_json::to_value(e).expect("json");
    v["state"] = json!("ended");
    v["ended_at"] = json!("2026-12-07T10:02:00Z");
    v["outcome"] = json!("answered");
    serde_json::from_value(v).expect("record")
}

#[test]
fn a_takeover_closes_the_dead_engines_live_calls_once_and_reads_every_record() {
    let pg = Postgres::start();
    let url = pg.create_database("hotline");
    // The ticket store's migrations create the tables (as an engine's start does).
    drop(hotline::shell::store::PgStore::open(&url).expect("migrate"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        // Engine A: one call answered and finished, three live (talking, waiting, in the menu).
        let (a, writer) =
            SharedCalls::spawn(&url, "hotline-a", Duration::from_secs(2)).expect("writer");
        let done = entry("c-done", "talking");
        a.journal(&done);
        a.finished(&finished(&done));
        for (id, state) in [
            ("c-talk", "talking"),
            ("c-wait", "queued"),
            ("c-menu", "ivr"),
        ] {
            a.journal(&entry(id, state));
        }
        let stats = a.stats();
        drop(a);
        tokio::time::timeout(Duration::from_secs(10), writer)
            .await
            .expect("the writer commits and ends")
            .expect("writer");
        assert_eq!(stats.written.load(std::sync::atomic::Ordering::Relaxed), 5);
        assert_eq!(stats.dropped.load(std::sync::atomic::Ordering::Relaxed), 0);

        // Engine B takes over.
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(conn);
        let t = take_over(&client).await.expect("take over");
        let mut lost: Vec<_> = t
            .lost
            .iter()
            .map(|l| {
                (
                    l.record.call.id.as_str(),
                    l.node.as_str(),
                    l.caller_number.as_deref(),
                )
            })
            .collect();
        lost.sort();
        assert_eq!(
            lost,
            vec![
                ("c-menu", "hotline-a", None),
                ("c-talk", "hotline-a", Some("13812345678")),
                ("c-wait", "hotline-a", None),
            ]
        );
        assert!(t
            .lost
            .iter()
            .all(|l| l.record.outcome == CallOutcome::LostInFailover));
        assert_eq!(t.records.len(), 4, "{:?}", t.records);
        assert_eq!(pg.sql("hotline", "select count(*) from call_journal"), "0");

        // The figures: the finished call and the one talking at the death are answered (with
        // their waits), the waiting one an abandon, the one in the menu not counted, and
        // only the finished call has a talk time.
        let events: Vec<_> = t
            .records
            .iter()
            .flat_map(hotline::shell::records::kpi_events)
            .collect();
        let answered = events
            .iter()
            .filter(|e| matches!(e.outcome, Outcome::Answered { .. }))
            .count();
        let abandoned = events
            .iter()
            .filter(|e| matches!(e.outcome, Outcome::Abandoned { .. }))
            .count();
        let handled = events
            .iter()
            .filter(|e| matches!(e.outcome, Outcome::Handled { .. }))
            .count();
        assert_eq!((answered, abandoned, handled), (2, 1, 1), "{events:?}");

        // A second takeover (the engines swap again) finds nothing left to close.
        let again = take_over(&client).await.expect("take over again");
        assert!(again.lost.is_empty());
        assert_eq!(again.records.len(), 4);

        // Engine A was alive after all (cut from the database, not dead): its real record
        // of the waiting call replaces the guess.
        let (a, writer) =
            SharedCalls::spawn(&url, "hotline-a", Duration::from_secs(2)).expect("writer");
        let mut real = finished(&entry("c-wait", "queued"));
        real.outcome = CallOutcome::AbandonedInQueue;
        a.finished(&real);
        drop(a);
        writer.await.expect("writer");
        assert_eq!(
            pg.sql(
                "hotline",
                "select record->>'outcome' from call_records where call_id = 'c-wait'"
            ),
            "abandoned_in_queue"
        );
    });
}

#[test]
fn the_writer_keeps_its_batch_while_the_database_is_down_and_writes_it_when_it_is_back() {
    let mut pg = Postgres::start();
    let url = pg.create_database("hotline");
    drop(hotline::shell::store::PgStore::open(&url).expect("migrate"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (a, writer) = rt.block_on(async {
        SharedCalls::spawn(&url, "hotline-a", Duration::from_secs(2)).expect("writer")
    });
    pg.kill_9();
    rt.block_on(async {
        a.journal(&entry("c-1", "ivr"));
        // Tries and fails for a while: nothing is lost meanwhile.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert!(a.stats().retries.load(std::sync::atomic::Ordering::Relaxed) >= 1);
    });
    pg.restart();
    rt.block_on(async {
        let stats = a.stats();
        drop(a);
        tokio::time::timeout(Duration::from_secs(20), writer)
            .await
            .expect("written once the database is back")
            .expect("writer");
        assert_eq!(stats.written.load(std::sync::atomic::Ordering::Relaxed), 1);
    });
    assert_eq!(pg.sql("hotline", "select call_id from call_journal"), "c-1");
}

/// The reports' reader pages through the shared records in order (over several pages),
/// keeps to the period, and stops when told.
#[test]
fn reports_read_the_shared_records_page_by_page_in_order() {
    use hotline::shell::record_files::RecordsAt;
    let pg = Postgres::start();
    let url = pg.create_database("hotline");
    drop(hotline::shell::store::PgStore::open(&url).expect("migrate"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-12-07T10:02:00Z")
        .expect("t0")
        .to_utc();
    rt.block_on(async {
        let (a, writer) =
            SharedCalls::spawn(&url, "hotline-a", Duration::from_secs(5)).expect("writer");
        // 2,500 calls, one ending every second (more than one page of the reader).
        for i in 0..2500 {
            let mut r = finished(&entry(&format!("c-{i:05}"), "talking"));
            r.ended_at = t0 + chrono::Duration::seconds(i);
            a.finished(&r);
        }
        drop(a);
        writer.await.expect("writer");
    });
    let at = RecordsAt {
        data_dir: std::path::PathBuf::from("/nonexistent"),
        postgres: Some(url),
    };
    let (from, to) = (
        t0 + chrono::Duration::seconds(100),
        t0 + chrono::Duration::seconds(2400),
    );
    let (all, first_ten) = rt.block_on(async {
        let reader = at.clone();
        let all = tokio::task::spawn_blocking(move || {
            let mut ids = Vec::new();
            reader
                .for_each_between(from, to, |r| {
                    ids.push(r.call.id);
                    true
                })
                .map(|()| ids)
        })
        .await
        .expect("join")
        .expect("read");
        let reader = at.clone();
        let first_ten = tokio::task::spawn_blocking(move || {
            let mut n = 0;
            reader
                .for_each_between(from, to, |_| {
                    n += 1;
                    n < 10
                })
                .map(|()| n)
        })
        .await
        .expect("join")
        .expect("read");
        (all, first_ten)
    });
    assert_eq!(all.len(), 2300);
    assert_eq!(all.first().map(String::as_str), Some("c-00100"));
    assert_eq!(all.last().map(String::as_str), Some("c-02399"));
    assert!(all.windows(2).all(|w| w[0] < w[1]), "oldest first");
    assert_eq!(first_ten, 10);
}
