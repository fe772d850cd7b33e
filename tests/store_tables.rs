//! The audits, agent activity and warnings on both backends (issue 19: one suite, two
//! backends): each body runs against a SQLite file and against a throwaway PostgreSQL
//! (`on_both!`), writing through the same functions the engine uses, inside a group batch as
//! the ticket thread does, and reading back after the store is reopened (on PostgreSQL: by a
//! fresh session with an empty data folder, as the other engine would).

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use common::store_backend::Backend;
use hotline::analytics::warnings::{Warning, WarningKind};
use hotline::call::record::MonitorMode;
use hotline::shell::monitor_audit::{self, Monitoring, MonitoringQuery};
use hotline::shell::read_audit::{self, AuditQuery};
use hotline::shell::store::{Store, StoreAt};
use hotline::shell::ticket_store::Durability;
use hotline::shell::{agent_activity, export_audit, warnings};
use hotline::stats::activity::{ActivityKind, AgentActivity};
use hotline::workflow::model::{china, Actor, Role};

/// The store reopened; on PostgreSQL with a new, empty data folder (nothing local is read).
fn reopen(b: &Backend) -> Store {
    let at = b.at();
    let fresh = tempfile::tempdir().expect("tempdir");
    let at = match at.postgres {
        Some(url) => StoreAt {
            data_dir: fresh.path().join("data"),
            postgres: Some(url),
        },
        None => at,
    };
    let s = at.open(Durability::Full).expect("reopen");
    assert!(
        at.postgres.is_none() || !at.sqlite_path().exists(),
        "PostgreSQL's store wrote a local file"
    );
    s
}

fn secs(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + s, 0).expect("time")
}

fn china_secs(s: i64) -> DateTime<FixedOffset> {
    secs(s).with_timezone(&china())
}

fn read_audit_body(b: &mut Backend) {
    let mut s = b.open();
    let agent = Actor::new("agent-1001", Role::Agent);
    let boss = Actor::new("demo-supervisor", Role::Supervisor);
    s.batch(|s| {
        read_audit::record(s, &agent, "20270115-000001", "caller", china_secs(0))?;
        read_audit::record(s, &boss, "20270115-000002", "caller", china_secs(10))?;
        read_audit::record(s, &agent, "20270115-000002", "caller", china_secs(20))
    })
    .expect("batch")
    .expect("recorded");
    drop(s);
    let mut s = reopen(b);
    let all = read_audit::list(
        &mut s,
        &AuditQuery {
            limit: 10,
            ..Default::default()
        },
    )
    .expect("list");
    let seen: Vec<(&str, &str)> = all
        .iter()
        .map(|r| (r.user.as_str(), r.ticket.as_str()))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("agent-1001", "20270115-000002"),
            ("demo-supervisor", "20270115-000002"),
            ("agent-1001", "20270115-000001"),
        ],
        "newest first"
    );
    assert_eq!(all[0].role, "agent");
    assert_eq!(all[0].at, china_secs(20).to_rfc3339());
    let mine = read_audit::list(
        &mut s,
        &AuditQuery {
            user: Some("agent-1001".into()),
            ticket: Some("20270115-000001".into()),
            limit: 10,
        },
    )
    .expect("list");
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].what, "caller");
}
on_both!(read_audit_body: the_read_audit_is_kept_and_filtered, the_read_audit_is_kept_and_filtered_on_postgres);

fn monitoring_body(b: &mut Backend) {
    let mut s = b.open();
    let mut m = Monitoring {
        user: "demo-supervisor".into(),
        mode: MonitorMode::Listen,
        call: "20261206T120000-00000000000000aa".into(),
        ticket: Some("20261206-000001".into()),
        joined_at: secs(0),
        left_at: None,
    };
    monitor_audit::record(&mut s, &m).expect("join");
    let mut other = m.clone();
    other.user = "s2".into();
    other.mode = MonitorMode::Barge;
    other.call = "c2".into();
    other.ticket = None;
    other.joined_at = secs(100);
    monitor_audit::record(&mut s, &other).expect("join");
    m.left_at = Some(secs(30));
    monitor_audit::record(&mut s, &m).expect("leave");
    // A leaving whose joining was never recorded (before a restart): a row of its own.
    let orphan = Monitoring {
        user: "s3".into(),
        mode: MonitorMode::Whisper,
        call: "c3".into(),
        ticket: None,
        joined_at: secs(5),
        left_at: Some(secs(6)),
    };
    monitor_audit::record(&mut s, &orphan).expect("leave");
    drop(s);
    let mut s = reopen(b);
    let q = |user: Option<&str>, from: Option<i64>, to: Option<i64>, limit| MonitoringQuery {
        user: user.map(str::to_string),
        call: None,
        from: from.map(china_secs),
        to: to.map(china_secs),
        limit,
    };
    let all = monitor_audit::list(&mut s, &q(None, None, None, 10)).expect("list");
    assert_eq!(all.len(), 3, "{all:?}");
    assert_eq!(
        (all[0].user.as_str(), all[0].left_at.as_ref()),
        ("s2", None)
    );
    assert_eq!(all[0].ticket, None);
    assert_eq!(all[1].mode, "whisper");
    assert_eq!(all[2].mode, "listen");
    assert_eq!(all[2].left_at, Some(china_secs(30).to_rfc3339()));
    assert_eq!(all[2].ticket.as_deref(), Some("20261206-000001"));
    let mine = monitor_audit::list(&mut s, &q(Some("demo-supervisor"), None, None, 10));
    assert_eq!(mine.expect("list").len(), 1);
    let window = monitor_audit::list(&mut s, &q(None, Some(50), Some(101), 10)).expect("list");
    assert_eq!(window.len(), 1);
    assert_eq!(window[0].call, "c2");
    let one = monitor_audit::list(&mut s, &q(None, None, None, 1)).expect("list");
    assert_eq!((one.len(), one[0].user.as_str()), (1, "s2"));
}
on_both!(monitoring_body: a_leaving_closes_its_joining_and_survives_reopening, a_leaving_closes_its_joining_and_survives_reopening_on_postgres);

fn export_body(b: &mut Backend) {
    let mut s = b.open();
    let fields = vec!["id".to_string(), "state".into(), "content".into()];
    export_audit::record(
        &mut s,
        "demo-supervisor",
        china_secs(0),
        "2027-01-01",
        "2027-01-15",
        &fields,
        "csv",
    )
    .expect("record");
    export_audit::record(
        &mut s,
        "auditor",
        china_secs(60),
        "2027-01-10",
        "2027-01-10",
        &fields[..1],
        "jsonl",
    )
    .expect("record");
    drop(s);
    let mut s = reopen(b);
    let all = export_audit::list(&mut s, None, 10).expect("list");
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].user, "auditor");
    assert_eq!(all[0].fields, vec!["id"]);
    assert_eq!(all[1].fields, fields);
    assert_eq!(
        (
            all[1].from.as_str(),
            all[1].to.as_str(),
            all[1].format.as_str()
        ),
        ("2027-01-01", "2027-01-15", "csv")
    );
    assert_eq!(all[1].at, china_secs(0).to_rfc3339());
    let mine = export_audit::list(&mut s, Some("demo-supervisor"), 10).expect("list");
    assert_eq!(mine.len(), 1);
    assert_eq!(export_audit::list(&mut s, None, 1).expect("list").len(), 1);
}
on_both!(export_body: exports_are_audited_newest_first, exports_are_audited_newest_first_on_postgres);

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, h, m, 0)
        .single()
        .expect("time")
}

fn fact(agent: &str, t: DateTime<Utc>, kind: ActivityKind) -> AgentActivity {
    AgentActivity {
        agent: agent.into(),
        at: t,
        kind,
        call: Some("call-1".into()),
        queue: Some("general".into()),
    }
}

fn state(s: &str, reason: Option<&str>) -> ActivityKind {
    ActivityKind::State {
        state: s.into(),
        reason: reason.map(str::to_string),
    }
}

fn activity_body(b: &mut Backend) {
    let mut s = b.open();
    let mut rows = [
        fact("1001", at(1, 0), state("ready", None)),
        fact("1001", at(2, 0), state("talking", None)),
        fact("1001", at(2, 30), ActivityKind::Hold { on: true }),
        fact("1002", at(3, 0), state("not_ready", Some("meal"))),
        fact("1001", at(5, 0), ActivityKind::Hold { on: false }),
        fact(
            "1002",
            at(6, 0),
            ActivityKind::WebItem {
                item: "20261122-000001".into(),
            },
        ),
        fact("1001", at(9, 0), state("logged_out", None)),
    ];
    rows[3].call = None;
    rows[3].queue = None;
    // In two writes of one batch, as the activity log's jobs are grouped.
    s.batch(|s| {
        agent_activity::insert(s, &rows[..3])?;
        agent_activity::insert(s, &rows[3..])
    })
    .expect("batch")
    .expect("insert");
    agent_activity::insert(&mut s, &[]).expect("nothing to insert");
    drop(s);
    let mut s = reopen(b);
    let got = agent_activity::between(&mut s, at(4, 0), at(8, 0)).expect("between");
    // 1001's talking and hold-on, 1002's meal, then the period's two facts.
    assert_eq!(got, rows[1..6].to_vec());
    // After everything: 1001's logout and hold-off, 1002's meal.
    let later = agent_activity::between(&mut s, at(10, 0), at(11, 0)).expect("between");
    assert_eq!(
        later,
        vec![rows[3].clone(), rows[4].clone(), rows[6].clone()]
    );
}
on_both!(activity_body: a_period_reads_its_facts_and_each_agents_last_state_and_hold_before_it, a_period_reads_its_facts_and_each_agents_last_state_and_hold_before_it_on_postgres);

fn warning(key: &str, at: i64) -> Warning {
    Warning {
        key: key.into(),
        raised_at: china_secs(at),
        kind: WarningKind::RiskWords {
            groups: vec!["self_harm".into()],
            words: vec!["轻生".into()],
        },
        requests: vec!["20270115-000001".into()],
    }
}

fn warnings_body(b: &mut Backend) {
    let mut s = b.open();
    let kept = warnings::keep(
        &mut s,
        vec![warning("risk_words:a", 0), warning("risk_words:b", 10)],
    )
    .expect("keep");
    assert_eq!(kept.len(), 2);
    drop(s);
    // The same key again (a rescan, a restart, the other engine): not new, not kept twice;
    // a new one beside it is.
    let mut s = reopen(b);
    let again = s
        .batch(|s| {
            warnings::keep(
                s,
                vec![warning("risk_words:a", 20), warning("risk_words:c", 30)],
            )
        })
        .expect("batch")
        .expect("keep");
    assert_eq!(again, vec![warning("risk_words:c", 30)]);
    drop(s);
    let mut s = reopen(b);
    let from = china_secs(-1);
    let to = from + chrono::Duration::hours(1);
    let all = warnings::list(&mut s, from, to, None, 10).expect("list");
    let keys: Vec<&str> = all.iter().map(|w| w.key.as_str()).collect();
    assert_eq!(
        keys,
        vec!["risk_words:c", "risk_words:b", "risk_words:a"],
        "newest first"
    );
    assert_eq!(
        all[2],
        warning("risk_words:a", 0),
        "the first raise is kept"
    );
    assert_eq!(
        warnings::list(&mut s, from, to, None, 1)
            .expect("list")
            .len(),
        1
    );
    assert!(warnings::list(&mut s, from, to, Some("hot_spot"), 10)
        .expect("list")
        .is_empty());
    assert_eq!(
        warnings::list(&mut s, from, to, Some("risk_words"), 10)
            .expect("list")
            .len(),
        3
    );
}
on_both!(warnings_body: a_warning_is_kept_once_and_survives_reopening, a_warning_is_kept_once_and_survives_reopening_on_postgres);
