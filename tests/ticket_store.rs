//! The ticket store on both backends (issue 19: one suite, two backends): each body runs
//! against a SQLite file in a temp folder and against a throwaway PostgreSQL (`on_both!`):
//! durability settings, reopening, optimistic concurrency, filters equal to the in-memory
//! store's, reports, group commit, and a kill -9 during a burst of transitions (the test
//! re-runs itself as a child process and kills it). SQLite's migrations from older files are
//! tested on SQLite alone.

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use chrono::{DateTime, Duration, FixedOffset};
use common::store_backend::{assert_durable, Backend};
use hotline::shell::ticket_store::{Durability, SqliteStore, TicketWorker};
use hotline::shell::workflow_files::load_workflow;
use hotline::workflow::memory::MemoryStore;
use hotline::workflow::model::{
    Actor, Caller, Channel, Domain, Intake, RequestType, Role, UnitId, Urgency,
};
use hotline::workflow::store::{ListQuery, StoreError, TicketStore};
use hotline::workflow::{Action, Policy, TicketId, Workflow, WorkflowError};

fn workflow() -> Workflow {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    load_workflow(
        &root.join("config/calendar"),
        &root.join("config/dispatch.toml"),
        Policy::default(),
    )
    .expect("config loads")
}

fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).expect("time")
}

fn intake(i: usize, at: DateTime<FixedOffset>) -> Intake {
    let types = [
        RequestType::Consultation,
        RequestType::Help,
        RequestType::Complaint,
    ];
    let domains = ["public_service", "social_management", "market_supervision"];
    Intake {
        // Phone requests to 12345 and to an integrated number (issue 21).
        number: (i % 2 == 0).then(|| if i % 4 == 0 { "12345" } else { "12315" }.to_string()),
        channel: if i % 2 == 0 {
            Channel::Phone
        } else {
            Channel::Web
        },
        received_at: at,
        caller: Caller {
            name: Some("王五".into()),
            phone: Some(format!("139{:08}", i)),
        },
        area: Some(["东城区", "西城区"][i % 2].into()),
        location: None,
        area_code: None,
        content: format!("第{i}号诉求：小区设施问题需要处理"),
        urgency: Urgency::NonUrgent,
        request_type: types[i % 3],
        domain: Domain(domains[i % 3].into()),
        category: None,
        call_id: None,
        recording: None,
        callback_consent: None,
        online: None,
    }
}

fn agent() -> Actor {
    Actor::new("agent-1001", Role::Agent)
}

fn unit(u: &str) -> Actor {
    Actor::new(format!("unit-{u}"), Role::Unit(UnitId::new(u)))
}

fn dispatch(lead: &str) -> Action {
    Action::Dispatch {
        category: None,
        lead: Some(UnitId::new(lead)),
        assisting: None,
    }
}

on_both!(survives_reopen: opens_in_wal_with_full_sync_and_survives_reopen, commits_synchronously_on_postgres_and_survives_reopen);

fn survives_reopen(b: &mut Backend) {
    let wf = workflow();
    let at = t("2026-09-30T10:00:00+08:00");
    let id;
    let before;
    {
        let mut s = b.open();
        assert_durable(&mut s);
        let tk = wf
            .create(&mut s, intake(1, at), &agent(), at)
            .expect("create");
        id = tk.id.clone();
        assert_eq!(id.0, "20260930-000001");
        wf.act(
            &mut s,
            &id,
            Some(1),
            &agent(),
            &dispatch("housing"),
            at + Duration::hours(1),
        )
        .expect("dispatch");
        before = wf
            .act(
                &mut s,
                &id,
                Some(2),
                &unit("housing"),
                &Action::Sign,
                at + Duration::hours(2),
            )
            .expect("sign");
    }
    let mut s = b.open();
    assert_durable(&mut s);
    let after = wf.load(&mut s, &id).expect("load");
    assert_eq!(after, before);
    assert_eq!(after.version, 3);
    assert_eq!(after.state.name(), "handling");
    // The day's sequence continues after a reopen.
    let next = wf
        .create(&mut s, intake(2, at), &agent(), at)
        .expect("create");
    assert_eq!(next.id.0, "20260930-000002");
}

on_both!(stale_version: a_stale_version_is_a_conflict_and_writes_nothing, a_stale_version_is_a_conflict_and_writes_nothing_on_postgres);

fn stale_version(b: &mut Backend) {
    let mut s = b.open();
    let wf = workflow();
    let at = t("2026-03-02T09:00:00+08:00");
    let tk = wf
        .create(&mut s, intake(1, at), &agent(), at)
        .expect("create");
    wf.act(&mut s, &tk.id, Some(1), &agent(), &dispatch("water"), at)
        .expect("dispatch");
    let err = wf
        .act(
            &mut s,
            &tk.id,
            Some(1),
            &agent(),
            &Action::Remind { note: None },
            at,
        )
        .unwrap_err();
    assert_eq!(
        err,
        WorkflowError::Store(StoreError::Conflict {
            id: tk.id.clone(),
            expected: 1,
            actual: 2
        })
    );
    // The store refuses a stale append itself too (two writers racing past the check).
    let events = s.events(&tk.id).expect("events");
    let row = wf.index_row(&wf.load(&mut s, &tk.id).expect("load"));
    let err = s.append(&tk.id, 1, &events[1..], &row).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                expected: 1,
                actual: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(s.events(&tk.id).expect("events").len(), 2);
}

#[test]
fn a_store_from_before_the_response_column_learns_it_from_the_event_logs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.sqlite");
    let wf = workflow();
    let at = t("2026-03-02T09:00:00+08:00");
    {
        let mut s = SqliteStore::open(&path, Durability::Normal).expect("open");
        // A web request dispatched after 2 minutes, one answered after 10, one never.
        for (i, answered) in [(1, Some(2)), (3, Some(10)), (5, None)] {
            let tk = wf
                .create(&mut s, intake(i, at), &agent(), at)
                .expect("create");
            if let Some(m) = answered {
                let when = at + Duration::minutes(m);
                wf.act(&mut s, &tk.id, None, &agent(), &dispatch("water"), when)
                    .expect("dispatch");
            }
        }
    }
    // Turn the file back into a version-1 store, as an older engine left it.
    {
        let conn = rusqlite::Connection::open(&path).expect("raw open");
        conn.execute_batch("DROP INDEX tickets_external; ALTER TABLE tickets DROP COLUMN external_key; ALTER TABLE tickets DROP COLUMN responded_ts; PRAGMA user_version=1;")
            .expect("downgrade");
    }
    let mut s = SqliteStore::open(&path, Durability::Normal).expect("reopen migrates");
    let r = s
        .report(None, None, at + Duration::hours(1))
        .expect("report");
    let ir = r.internet_response;
    assert_eq!(
        (ir.received, ir.within_3_min, ir.late, ir.waiting),
        (3, 1, 2, 0)
    );
    // The wallboard's live count: the one never answered, from when it came in; none yet
    // within its first 3 minutes.
    let b = s
        .internet_backlog(at + Duration::hours(1))
        .expect("backlog");
    assert_eq!((b.unanswered, b.oldest_received), (1, Some(at)));
    let b = s
        .internet_backlog(at + Duration::minutes(3))
        .expect("backlog");
    assert_eq!(b.unanswered, 0);
}

on_both!(filters_and_pages: filters_and_pages_match_the_in_memory_store, filters_and_pages_match_the_in_memory_store_on_postgres);

fn filters_and_pages(b: &mut Backend) {
    let mut sql = b.open();
    let mut mem = MemoryStore::new();
    let wf = workflow();
    let t0 = t("2026-10-12T09:00:00+08:00");
    let units = ["housing", "urban", "market"];
    for i in 0..60 {
        let at = t0 + Duration::minutes(37 * i as i64);
        for store in [
            &mut sql as &mut dyn TicketStore,
            &mut mem as &mut dyn TicketStore,
        ] {
            let tk = wf
                .create(store, intake(i, at), &agent(), at)
                .expect("create");
            if i % 4 != 0 {
                // 0 to 4 minutes after receipt: C13's 3 minutes are met by some, not all.
                let answered = at + Duration::minutes((i % 5) as i64);
                wf.act(
                    store,
                    &tk.id,
                    None,
                    &agent(),
                    &dispatch(units[i % 3]),
                    answered,
                )
                .expect("dispatch");
            }
            if i % 4 == 1 {
                wf.act(store, &tk.id, None, &unit(units[i % 3]), &Action::Sign, at)
                    .expect("sign");
            }
        }
    }
    let now = t("2026-10-14T09:00:00+08:00");
    let queries = vec![
        ListQuery {
            limit: 7,
            ..Default::default()
        },
        ListQuery {
            state: Some("dispatched".into()),
            limit: 5,
            ..Default::default()
        },
        ListQuery {
            unit: Some(UnitId::new("urban")),
            limit: 4,
            ..Default::default()
        },
        ListQuery {
            unit: Some(UnitId::new("urban")),
            state: Some("handling".into()),
            limit: 50,
            ..Default::default()
        },
        ListQuery {
            request_type: Some(RequestType::Complaint),
            channel: Some(Channel::Web),
            limit: 3,
            ..Default::default()
        },
        ListQuery {
            domain: Some("public_service".into()),
            limit: 100,
            ..Default::default()
        },
        ListQuery {
            overdue_at: Some(now),
            limit: 10,
            ..Default::default()
        },
        ListQuery {
            received_from: Some(t0 + Duration::hours(5)),
            received_to: Some(t0 + Duration::hours(20)),
            limit: 6,
            ..Default::default()
        },
        ListQuery {
            number: Some("12315".into()),
            limit: 4,
            ..Default::default()
        },
    ];
    // The number filter finds what it should (15 of the 60), not just the same in both.
    let by_number = ListQuery {
        number: Some("12315".into()),
        limit: 100,
        ..Default::default()
    };
    let found = sql.list(&by_number).expect("sql list");
    assert_eq!(found.items.len(), 15);
    assert!(found
        .items
        .iter()
        .all(|r| r.number.as_deref() == Some("12315")));
    for q in queries {
        let mut q1 = q.clone();
        let mut q2 = q.clone();
        let mut pages = 0;
        loop {
            let a = sql.list(&q1).expect("sql list");
            let b = mem.list(&q2).expect("mem list");
            assert_eq!(a, b, "query {q:?}");
            pages += 1;
            match a.next {
                Some(n) => {
                    q1.after = Some(n.clone());
                    q2.after = Some(n);
                }
                None => break,
            }
        }
        assert!(pages >= 1);
    }
    assert_eq!(
        sql.internet_backlog(now).expect("backlog"),
        mem.internet_backlog(now).expect("backlog")
    );
    // The wallboard's rolling 24 h C13 figure: the same in both stores, and the report's own.
    let window = |s: &mut dyn TicketStore| {
        s.internet_response(t0 + Duration::hours(5), t0 + Duration::hours(20), now)
            .expect("internet response")
    };
    let w1 = window(&mut sql);
    assert_eq!(w1, window(&mut mem));
    let whole = sql
        .internet_response(t0, now + Duration::days(400), now)
        .expect("internet response");
    assert_eq!(
        whole,
        sql.report(Some(t0), None, now)
            .expect("report")
            .internet_response
    );
    assert!(whole.received > w1.received && w1.received > 0);
    let r1 = sql.report(Some(t0), None, now).expect("report");
    let r2 = mem.report(Some(t0), None, now).expect("report");
    assert_eq!(r1, r2);
    assert_eq!(r1.total, 60);
    assert!(!r1.overdue.is_empty());
    // C13, counted by hand: web requests are the odd ones; never answered (i % 4 == 0 never
    // holds for them) or answered i % 5 minutes after receipt.
    let web: Vec<usize> = (0..60).filter(|i| i % 2 == 1).collect();
    let within = web.iter().filter(|&&i| i % 5 <= 3).count() as u64;
    let ir = r1.internet_response;
    assert_eq!(ir.received, 30);
    assert_eq!(
        (ir.within_3_min, ir.late, ir.waiting),
        (within, 30 - within, 0)
    );
    assert_eq!(ir.rate, Some(within as f64 / 30.0));
    // Sweep picks the same due tickets.
    assert_eq!(
        sql.due_for_sweep(now, 1000).expect("due"),
        mem.due_for_sweep(now, 1000).expect("due")
    );
}

on_both!(group_commit: the_worker_group_commits_concurrent_requests, the_worker_group_commits_concurrent_requests_on_postgres);

fn group_commit(b: &mut Backend) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(group_commit_async(b));
}

async fn group_commit_async(backend: &Backend) {
    let worker = TicketWorker::start_at(backend.open(), backend.at(), workflow()).expect("worker");
    let at = t("2026-05-11T09:00:00+08:00");
    let mut tasks = Vec::new();
    for i in 0..50 {
        let w = worker.clone();
        tasks.push(tokio::spawn(async move {
            let tk = w
                .call(move |s, wf| wf.create(s, intake(i, at), &agent(), at))
                .await?;
            let id = tk.id.clone();
            w.call(move |s, wf| wf.act(s, &id, Some(1), &agent(), &dispatch("health"), at))
                .await
        }));
    }
    for task in tasks {
        let tk = task.await.expect("join").expect("act");
        assert_eq!(tk.version, 2);
    }
    // Two callers with the same version: exactly one wins.
    let id = TicketId("20260511-000001".into());
    let (a, b) = tokio::join!(
        worker.call({
            let id = id.clone();
            move |s, wf| wf.act(s, &id, Some(2), &unit("health"), &Action::Sign, at)
        }),
        worker.call({
            let id = id.clone();
            move |s, wf| {
                wf.act(
                    s,
                    &id,
                    Some(2),
                    &agent(),
                    &Action::Remind { note: None },
                    at,
                )
            }
        }),
    );
    assert!(a.is_ok() != b.is_ok(), "{a:?} {b:?}");
    drop(worker);
    let mut s = backend.open();
    assert_eq!(
        s.list(&ListQuery {
            limit: 500,
            ..Default::default()
        })
        .expect("list")
        .items
        .len(),
        50
    );
}

/// The child half of the crash test: writes transitions forever through the worker and prints
/// `ack <id> <version>` only after each was committed.
#[test]
fn crash_child() {
    let Some(at) = Backend::from_env() else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async move {
        let store = at.open(Durability::Full).expect("open");
        let worker = TicketWorker::start_at(store, at, workflow()).expect("worker");
        let mut tasks = Vec::new();
        for lane in 0..8usize {
            let w = worker.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0.. {
                    let at =
                        t("2026-06-01T09:00:00+08:00") + Duration::seconds((i * 8 + lane) as i64);
                    let n = i * 8 + lane;
                    let Ok(tk) = w
                        .call(move |s, wf| wf.create(s, intake(n, at), &agent(), at))
                        .await
                    else {
                        return;
                    };
                    println!("ack {} 1", tk.id);
                    let id = tk.id.clone();
                    let Ok(tk) = w
                        .call(move |s, wf| {
                            wf.act(s, &id, Some(1), &agent(), &dispatch("urban"), at)
                        })
                        .await
                    else {
                        return;
                    };
                    println!("ack {} {}", tk.id, tk.version);
                    let id = tk.id.clone();
                    let Ok(tk) = w
                        .call(move |s, wf| {
                            wf.act(s, &id, Some(2), &unit("urban"), &Action::Sign, at)
                        })
                        .await
                    else {
                        return;
                    };
                    println!("ack {} {}", tk.id, tk.version);
                }
            }));
        }
        for task in tasks {
            let _ = task.await;
        }
    });
}

on_both!(kill_9_burst: kill_9_during_a_burst_loses_no_acknowledged_transition, kill_9_during_a_burst_loses_no_acknowledged_transition_on_postgres);

fn kill_9_burst(b: &mut Backend) {
    let exe = std::env::current_exe().expect("test binary");
    let mut child = Command::new(exe)
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .envs(b.env())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("stdout");
    let mut acked: Vec<(TicketId, u64)> = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        let mut parts = line.split_whitespace();
        if parts.next() == Some("ack") {
            let id = TicketId(parts.next().expect("id").to_string());
            let v: u64 = parts.next().expect("v").parse().expect("version");
            acked.push((id, v));
            if acked.len() == 600 {
                child.kill().expect("SIGKILL"); // kill -9 on Unix
                break;
            }
        }
    }
    let _ = child.wait();
    assert_eq!(acked.len(), 600, "child stopped early");
    let wf = workflow();
    if let Some(server) = b.server() {
        // The database server goes down hard too: what it acknowledged is on its disk.
        server.kill_9();
        server.restart();
    }
    let mut s = b.open();
    assert_durable(&mut s);
    for (id, v) in &acked {
        let tk = wf
            .load(&mut s, id)
            .unwrap_or_else(|e| panic!("{id} lost: {e}"));
        assert!(
            tk.version >= *v,
            "{id}: acknowledged version {v}, stored {}",
            tk.version
        );
    }
    // Nothing half-written: every stored ticket replays and its index row matches its log.
    let all = s
        .list(&ListQuery {
            limit: 500,
            ..Default::default()
        })
        .expect("list");
    let mut page = all;
    loop {
        for row in &page.items {
            let tk = wf.load(&mut s, &row.id).expect("replays");
            assert_eq!(tk.version, row.version, "{}", row.id);
            assert_eq!(wf.index_row(&tk).state, row.state);
        }
        match page.next.clone() {
            Some(n) => {
                page = s
                    .list(&ListQuery {
                        limit: 500,
                        after: Some(n),
                        ..Default::default()
                    })
                    .expect("list")
            }
            None => break,
        }
    }
}

// C12's linkage index: what the store indexes as it appends equals what the in-memory store
// reads off its logs, and (SQLite) a store from before the index learns it from the event
// logs when it is opened.
on_both!(emergency_linkages: emergency_linkages_are_indexed_and_back_filled_from_the_event_logs, emergency_linkages_are_indexed_on_postgres);

fn emergency_linkages(b: &mut Backend) {
    use hotline::workflow::action::EmergencyService;
    let wf = workflow();
    let at = t("2026-03-02T09:00:00+08:00");
    let mut mem = MemoryStore::new();
    {
        let mut sql = b.open();
        for (i, service, after) in [
            (1, EmergencyService::Police, 40),
            (2, EmergencyService::Water, 90),
            (3, EmergencyService::Police, 300),
        ] {
            let mut urgent = intake(i, at);
            urgent.urgency = Urgency::Urgent;
            let link = Action::LinkEmergency {
                service,
                reference: None,
            };
            let when = at + Duration::seconds(after);
            for s in [&mut sql as &mut dyn TicketStore, &mut mem] {
                let tk = wf.create(s, urgent.clone(), &agent(), at).expect("create");
                wf.act(s, &tk.id, None, &agent(), &link, when)
                    .expect("link");
            }
        }
        let (from, to) = (at, at + Duration::hours(1));
        let indexed = sql.emergency_linkages(from, to).expect("sql");
        assert_eq!(indexed, mem.emergency_linkages(from, to).expect("mem"));
        let secs: Vec<_> = indexed.iter().map(|l| l.after_secs).collect();
        assert_eq!(secs, [Some(40), Some(90), Some(300)]);
        assert_eq!(indexed[1].service, EmergencyService::Water);
        // The window is half-open, by the linkage's time.
        let late = sql
            .emergency_linkages(at + Duration::seconds(41), to)
            .expect("sql");
        assert_eq!(late.len(), 2);
    }
    // SQLite: turn the file back into a version-5 store, as an older engine left it.
    let Backend::Sqlite(_) = b else {
        return;
    };
    let path = b.at().sqlite_path();
    {
        let conn = rusqlite::Connection::open(&path).expect("raw open");
        conn.execute_batch("DROP TABLE emergency_links; PRAGMA user_version=5;")
            .expect("downgrade");
    }
    let mut s = SqliteStore::open(&path, Durability::Normal).expect("reopen migrates");
    let back = s
        .emergency_linkages(at, at + Duration::hours(1))
        .expect("back-filled");
    assert_eq!(
        back,
        mem.emergency_linkages(at, at + Duration::hours(1))
            .expect("mem")
    );
}

// Issue 15: who makes the callback (chosen at review, changed by a supervisor) is in the
// log the store keeps, so a reopened store reads the same choice and who made it.
on_both!(callback_choice: the_callback_choice_survives_reopening_the_store, the_callback_choice_survives_reopening_the_store_on_postgres);

fn callback_choice(b: &mut Backend) {
    use hotline::workflow::callback_by::CallbackMaker;
    let wf = workflow();
    let at = t("2026-09-30T10:00:00+08:00");
    let h = |n: i64| at + Duration::hours(n);
    let reviewer = Actor::new("reviewer-1", Role::Reviewer);
    let supervisor = Actor::new("supervisor-1", Role::Supervisor);
    let id;
    let before;
    {
        let mut s = b.open();
        id = wf
            .create(&mut s, intake(1, at), &agent(), at)
            .expect("create")
            .id;
        let steps = [
            (agent(), dispatch("housing")),
            (unit("housing"), Action::Sign),
            (
                unit("housing"),
                Action::Feedback {
                    contact: Some("电话".into()),
                    verification: Some("现场".into()),
                    legal_basis: Some("条例".into()),
                    result: Some("已处理".into()),
                    attachments: Vec::new(),
                    caller_informed: true,
                    staged_follow_up: None,
                    cites: Vec::new(),
                },
            ),
            (
                reviewer.clone(),
                Action::ReviewPass {
                    callback_by: Some(CallbackMaker::Agent),
                },
            ),
            (
                supervisor.clone(),
                Action::SetCallbackBy {
                    callback_by: Some(CallbackMaker::Robot),
                },
            ),
        ];
        let mut last = None;
        for (i, (who, action)) in steps.iter().enumerate() {
            last = Some(
                wf.act(&mut s, &id, None, who, action, h(i as i64 + 1))
                    .expect("act"),
            );
        }
        before = last.expect("acted");
        assert_eq!(before.callback_by(), Some(CallbackMaker::Robot));
    }
    let mut s = b.open();
    let after = wf.load(&mut s, &id).expect("load");
    assert_eq!(after, before);
    assert_eq!(after.state.name(), "awaiting_callback");
    assert_eq!(after.callback_by(), Some(CallbackMaker::Robot));
    let set = after.history.last().expect("history");
    assert_eq!(
        (set.actor.user.as_str(), set.at, set.kind.name()),
        ("supervisor-1", h(5), "callback_by_set".to_string())
    );
}

/// PostgreSQL's full disk (SQLSTATE 53100, raised here by a trigger as the server raises it
/// when it cannot extend a file) is `StoreError::Full`, as SQLite's is: the API answers 507
/// and the engine retries; the refused ticket left nothing behind, and writes go on after.
#[test]
fn a_full_disk_on_postgres_is_storage_full_and_leaves_nothing_half_written() {
    let mut b = Backend::postgres();
    let wf = workflow();
    let at = t("2026-03-02T09:00:00+08:00");
    let mut s = b.open();
    wf.create(&mut s, intake(1, at), &agent(), at)
        .expect("create");
    let server = b.server().expect("postgres");
    server.sql(
        "tickets",
        "create function full_disk() returns trigger language plpgsql as $$ \
         begin raise exception 'could not extend file' using errcode = 'disk_full'; end $$; \
         create trigger full_disk before insert on events for each row execute function full_disk()",
    );
    let err = wf
        .create(&mut s, intake(2, at), &agent(), at)
        .expect_err("the disk is full");
    assert_eq!(err, WorkflowError::Store(StoreError::Full));
    assert_eq!(server.sql("tickets", "select count(*) from tickets"), "1");
    server.sql("tickets", "drop trigger full_disk on events");
    let tk = wf
        .create(&mut s, intake(3, at), &agent(), at)
        .expect("room again");
    assert_eq!(tk.version, 1);
    assert_eq!(server.sql("tickets", "select count(*) from tickets"), "2");
}
