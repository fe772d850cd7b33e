//! Ticket store benchmarks against real SQLite files (WAL, synchronous=FULL) and, when
//! `HOTLINE_BENCH_PG` names an empty PostgreSQL database (`postgres://user@host:port/db`), the
//! same benchmarks against it (synchronous_commit=on), named `…_postgres`:
//! - `durable_transitions`: transitions/s through the store thread, 64 concurrent callers
//!   (group commit) and 1 caller (one fsync per transition). Target ≥ 2,000/s.
//! - `list_page_1m`: one filtered page (50 rows) over 1,000,000 tickets. Target ≤ 50 ms.
//!   The 1M-ticket file is built once under `target/bench-data/` and reused.
//! - `decide`: the pure core alone (no store), for scale.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hotline::shell::store::{PgStore, Store, StoreAt};
use hotline::shell::ticket_store::{Durability, SqliteStore, TicketWorker};
use hotline::shell::workflow_files::load_workflow;
use hotline::workflow::event::{Event, EventKind};
use hotline::workflow::memory::MemoryStore;
use hotline::workflow::model::{
    Actor, Caller, Channel, Domain, Intake, RequestType, Role, UnitId, Urgency,
};
use hotline::workflow::store::{ListQuery, TicketStore};
use hotline::workflow::{Action, Policy, Ticket, TicketId, Workflow};

/// `cargo bench` passes `--bench`; `cargo test --all-targets` (CI) runs each benchmark once
/// without it, on small data so CI stays fast.
fn full_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn workflow() -> Workflow {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    load_workflow(
        &root.join("config/calendar"),
        &root.join("config/dispatch.toml"),
        Policy::default(),
    )
    .expect("config")
}

fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).expect("time")
}

const UNITS: [&str; 8] = [
    "water",
    "power",
    "housing",
    "urban",
    "market",
    "environment",
    "hrss",
    "health",
];
const DOMAINS: [&str; 5] = [
    "economic_regulation",
    "market_supervision",
    "social_management",
    "public_service",
    "environmental_protection",
];
const TYPES: [RequestType; 5] = [
    RequestType::Consultation,
    RequestType::Help,
    RequestType::Suggestion,
    RequestType::Complaint,
    RequestType::Other,
];
const CHANNELS: [Channel; 4] = [Channel::Phone, Channel::Web, Channel::App, Channel::Sms];

fn intake(i: usize, at: DateTime<FixedOffset>) -> Intake {
    Intake {
        number: None,
        channel: CHANNELS[i % 4],
        received_at: at,
        caller: Caller {
            name: None,
            phone: Some(format!("13{:09}", i)),
        },
        area: Some(format!("区{}", i % 16)),
        location: None,
        area_code: None,
        content: format!("诉求{i}：小区公共设施损坏需要维修处理"),
        urgency: Urgency::NonUrgent,
        request_type: TYPES[i % 5],
        domain: Domain(DOMAINS[i % 5].into()),
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

/// The PostgreSQL database to bench against, if any.
fn postgres_url() -> Option<String> {
    std::env::var("HOTLINE_BENCH_PG")
        .ok()
        .filter(|u| !u.is_empty())
}

fn durable_transitions(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = SqliteStore::open(&dir.path().join("bench.sqlite"), Durability::Full)
        .expect("open")
        .into();
    durable_transitions_on(c, sqlite, "sqlite_full");
    if let Some(url) = postgres_url() {
        let at = StoreAt {
            data_dir: dir.path().join("pg-local"),
            postgres: Some(url),
        };
        durable_transitions_on(c, at.open(Durability::Full).expect("open"), "postgres");
    }
}

fn durable_transitions_on(c: &mut Criterion, mut store: Store, backend: &str) {
    let wf = workflow();
    // After the list bench's ~405 days (2025-06-01 to 2026-07-10): one PostgreSQL database
    // can hold both benches' tickets without two sharing an id.
    let t0 = t("2027-06-01T09:00:00+08:00");
    let n_tickets = if full_run() { 4096 } else { 256 };
    let ids: Vec<TicketId> = store
        .batch(|s| {
            (0..n_tickets)
                .map(|i| {
                    wf.create(s, intake(i, t0), &agent(), t0)
                        .expect("create")
                        .id
                })
                .collect()
        })
        .expect("seed");
    let at = StoreAt::sqlite(Path::new("unused"));
    let worker = TicketWorker::start_at(store, at, wf).expect("worker");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut g = c.benchmark_group("durable_transitions");
    g.throughput(Throughput::Elements(1));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(8));
    for callers in [64usize, 1] {
        let mut next = 0usize;
        g.bench_function(format!("{callers}_callers_{backend}"), |b| {
            b.iter_custom(|iters| {
                let start = hotline::shell::clock::now();
                rt.block_on(async {
                    let mut tasks = Vec::new();
                    let per = (iters as usize).div_ceil(callers);
                    for k in 0..callers {
                        let w = worker.clone();
                        let mine: Vec<TicketId> = (0..per)
                            .map(|j| ids[(next + k * per + j) % ids.len()].clone())
                            .collect();
                        tasks.push(tokio::spawn(async move {
                            for id in mine {
                                w.call(move |s, wf| {
                                    wf.act(
                                        s,
                                        &id,
                                        None,
                                        &agent(),
                                        &Action::Remind { note: None },
                                        t("2026-06-01T10:00:00+08:00"),
                                    )
                                })
                                .await
                                .expect("transition");
                            }
                        }));
                    }
                    for task in tasks {
                        task.await.expect("join");
                    }
                });
                next += iters as usize;
                start.elapsed()
            })
        });
    }
    g.finish();
}

/// Builds (once) a file with 1,000,000 tickets: 1/3 received, 1/3 dispatched, 1/3 handling,
/// spread over 8 units, 5 types, 5 domains, 4 channels and ~400 days.
fn million(path: &Path, wf: &Workflow, chunks: usize) {
    if path.exists() {
        return;
    }
    // Each process builds its own file and renames it into place: nextest lists a bench
    // binary twice at once (`--list` and `--list --ignored`), and a shared name let one
    // builder delete the other's half-built file.
    let tmp = path.with_extension(format!("building-{}", std::process::id()));
    let mut s: Store = SqliteStore::open(&tmp, Durability::Normal)
        .expect("open")
        .into();
    fill(&mut s, wf, chunks);
    drop(s);
    std::fs::rename(&tmp, path).expect("rename");
}

/// Writes `chunks` × 10,000 tickets through the store interface, 10,000 per transaction.
fn fill(s: &mut Store, wf: &Workflow, chunks: usize) {
    let t0 = t("2025-06-01T08:00:00+08:00");
    let started = hotline::shell::clock::now();
    for chunk in 0..chunks {
        s.batch(|s| {
            for i in chunk * 10_000..(chunk + 1) * 10_000 {
                // Spread over the same ~405 days whatever the size.
                let at = t0 + chrono::Duration::seconds(i as i64 * 35 * 100 / chunks as i64);
                let date = at.date_naive();
                let id = TicketId::new(date, (i % 100_000) as u32 + 1);
                let mut events = vec![Event {
                    seq: 1,
                    at,
                    actor: agent(),
                    kind: EventKind::Created {
                        intake: intake(i, at),
                        dispatch_due: wf.rules().dispatch_due(&intake(i, at), at),
                    },
                }];
                if i % 3 != 0 {
                    let unit = UnitId::new(UNITS[i % 8]);
                    let rules = wf.rules();
                    events.push(Event {
                        seq: 2,
                        at,
                        actor: agent(),
                        kind: EventKind::Dispatched {
                            category: None,
                            lead: unit.clone(),
                            assisting: vec![],
                            sign_due: rules.calendar.add_working_days(at, 1),
                            return_due: rules.calendar.add_working_days(at, 2),
                            feedback_due: Some(rules.calendar.add_working_days(at, 10)),
                        },
                    });
                    if i % 3 == 2 {
                        events.push(Event {
                            seq: 3,
                            at,
                            actor: Actor::new("u", Role::Unit(unit.clone())),
                            kind: EventKind::Signed { unit },
                        });
                    }
                }
                let tk = Ticket::replay(id, events.clone()).expect("replay");
                s.insert(&events, &wf.index_row(&tk)).expect("insert");
            }
        })
        .expect("batch");
    }
    eprintln!(
        "built {} tickets in {:?}",
        chunks * 10_000,
        started.elapsed()
    );
}

fn list_page_1m(c: &mut Criterion) {
    let wf = workflow();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&dir).expect("bench dir");
    // HOTLINE_BENCH_CHUNKS (×10,000 tickets) sizes a quicker run on a busy machine.
    let chunks = match std::env::var("HOTLINE_BENCH_CHUNKS")
        .ok()
        .and_then(|c| c.parse().ok())
    {
        Some(c) => c,
        None if full_run() => 100,
        None => 2,
    };
    let path = dir.join(format!("tickets-{}k.sqlite", chunks * 10));
    million(&path, &wf, chunks);
    let sqlite = SqliteStore::open(&path, Durability::Full).expect("open");
    list_page_on(c, sqlite.into(), "sqlite");
    if let Some(url) = postgres_url() {
        let mut pg = Store::postgres_only(PgStore::open(&url).expect("open")).expect("store");
        // The tickets of this bench are received before 2027 (the durable bench's after).
        let before_2027 = Some(t("2027-01-01T00:00:00+08:00"));
        let have = pg
            .report(None, before_2027, now_list())
            .expect("count")
            .total;
        if have == 0 {
            fill(&mut pg, &wf, chunks);
        } else {
            assert_eq!(
                have,
                chunks as u64 * 10_000,
                "HOTLINE_BENCH_PG holds another size of the list bench's tickets: use an empty database"
            );
        }
        list_page_on(c, pg, "postgres");
    }
}

fn now_list() -> DateTime<FixedOffset> {
    t("2026-07-01T09:00:00+08:00")
}

fn list_page_on(c: &mut Criterion, mut s: Store, backend: &str) {
    let now = now_list();
    let queries: Vec<(&str, ListQuery)> = vec![
        (
            "state+unit",
            ListQuery {
                state: Some("handling".into()),
                unit: Some(UnitId::new("housing")),
                limit: 50,
                ..Default::default()
            },
        ),
        (
            "type+domain+channel",
            ListQuery {
                request_type: Some(RequestType::Complaint),
                domain: Some("public_service".into()),
                channel: Some(Channel::Phone),
                limit: 50,
                ..Default::default()
            },
        ),
        (
            "overdue",
            ListQuery {
                overdue_at: Some(now),
                limit: 50,
                ..Default::default()
            },
        ),
        (
            "unit+date_range",
            ListQuery {
                unit: Some(UnitId::new("market")),
                received_from: Some(t("2025-09-01T00:00:00+08:00")),
                received_to: Some(t("2025-10-01T00:00:00+08:00")),
                limit: 50,
                ..Default::default()
            },
        ),
    ];
    // A cursor deep in the file: the newest dispatched ticket received before 2025-07-01.
    let deep = s
        .list(&ListQuery {
            state: Some("dispatched".into()),
            received_to: Some(t("2025-07-01T00:00:00+08:00")),
            limit: 1,
            ..Default::default()
        })
        .expect("cursor")
        .items[0]
        .id
        .clone();
    let mut queries = queries;
    queries.push((
        "deep_page",
        ListQuery {
            state: Some("dispatched".into()),
            after: Some(deep),
            limit: 50,
            ..Default::default()
        },
    ));
    // SQLite keeps the group's old name, so earlier figures compare.
    let group = match backend {
        "sqlite" => "list_page_1m".to_string(),
        other => format!("list_page_1m_{other}"),
    };
    let mut g = c.benchmark_group(group);
    for (name, q) in queries {
        let page = s.list(&q).expect("list");
        assert_eq!(page.items.len(), 50, "{name}: a full page");
        g.bench_function(name, |b| b.iter(|| s.list(&q).expect("list")));
    }
    g.finish();
}

fn decide(c: &mut Criterion) {
    let wf = workflow();
    let mut store = MemoryStore::new();
    let t0 = t("2026-06-01T09:00:00+08:00");
    let tk = wf
        .create(&mut store, intake(1, t0), &agent(), t0)
        .expect("create");
    let action = Action::Dispatch {
        category: None,
        lead: Some(UnitId::new("housing")),
        assisting: None,
    };
    c.bench_function("decide_dispatch", |b| {
        b.iter(|| {
            wf.rules()
                .decide(&tk, &agent(), &action, t0)
                .expect("decide")
        })
    });
}

criterion_group!(benches, decide, durable_transitions, list_page_1m);
criterion_main!(benches);
