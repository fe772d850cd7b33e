//! The monitoring audit (rule C16: "every use is logged with who and when"): one row per time
//! a supervisor listened to, whispered on or barged into a live call — who, how, which call
//! and ticket, from when to when — in the ticket database beside the read audit (SQLite's file
//! or PostgreSQL, `store::pg_audits`), written by the call-ticket jobs as the engine reports
//! it; supervisors query it.

use chrono::{DateTime, FixedOffset, Utc};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use crate::call::record::MonitorMode;
use crate::shell::store::Store;
use crate::shell::ticket_store::SqliteStore;
use crate::workflow::store::StoreError;

/// One supervisor's time on a call.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MonitoringUse {
    pub user: String,
    /// `listen`, `whisper` or `barge`.
    pub mode: String,
    /// The call's public name.
    pub call: String,
    /// The call's ticket, when one was open.
    pub ticket: Option<String>,
    /// RFC 3339, China time.
    pub joined_at: String,
    /// RFC 3339, China time; `null` while the supervisor is still on the call.
    pub left_at: Option<String>,
}

/// Which uses to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct MonitoringQuery {
    pub user: Option<String>,
    pub call: Option<String>,
    /// Joined at or after this.
    pub from: Option<DateTime<FixedOffset>>,
    /// Joined before this.
    pub to: Option<DateTime<FixedOffset>>,
    pub limit: u32,
}

/// A supervisor joining (`left_at` none) or leaving a call, as the engine reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Monitoring {
    pub user: String,
    pub mode: MonitorMode,
    pub call: String,
    pub ticket: Option<String>,
    pub joined_at: DateTime<Utc>,
    pub left_at: Option<DateTime<Utc>>,
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn mode_name(m: MonitorMode) -> &'static str {
    match m {
        MonitorMode::Listen => "listen",
        MonitorMode::Whisper => "whisper",
        MonitorMode::Barge => "barge",
    }
}

/// Records a joining as a new row, and a leaving on the row of its joining (or as a row of
/// its own when the joining was not recorded, e.g. it happened before a restart).
pub fn record(store: &mut Store, m: &Monitoring) -> Result<(), StoreError> {
    let mode = mode_name(m.mode);
    let store = match store {
        Store::Sqlite(s) => s,
        Store::Postgres { pg } => return pg.monitoring_record(m, mode),
    };
    let conn = store.connection();
    let joined = m.joined_at.timestamp();
    if let Some(left) = m.left_at.map(|l| l.timestamp()) {
        let open: Option<i64> = conn
            .prepare_cached(
                "SELECT id FROM monitoring_audit WHERE call = ?1 AND user = ?2 AND mode = ?3 \
                 AND joined_at = ?4 AND left_at IS NULL ORDER BY id LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row(params![m.call, m.user, mode, joined], |r| r.get(0))
                    .optional()
            })
            .map_err(backend)?;
        if let Some(id) = open {
            conn.prepare_cached("UPDATE monitoring_audit SET left_at = ?1 WHERE id = ?2")
                .and_then(|mut s| s.execute(params![left, id]))
                .map_err(backend)?;
            return Ok(());
        }
    }
    conn.prepare_cached(
        "INSERT INTO monitoring_audit (user, mode, call, ticket, joined_at, left_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut s| {
        s.execute(params![
            m.user,
            mode,
            m.call,
            m.ticket,
            joined,
            m.left_at.map(|l| l.timestamp())
        ])
    })
    .map_err(backend)?;
    Ok(())
}

/// The newest uses matching `q` (at most 1000).
pub fn list(store: &mut Store, q: &MonitoringQuery) -> Result<Vec<MonitoringUse>, StoreError> {
    match store {
        Store::Sqlite(s) => list_sqlite(s, q),
        Store::Postgres { pg } => pg.monitoring_list(q),
    }
}

fn list_sqlite(
    store: &mut SqliteStore,
    q: &MonitoringQuery,
) -> Result<Vec<MonitoringUse>, StoreError> {
    let china = crate::workflow::model::china();
    let time = move |ts: i64| {
        DateTime::from_timestamp(ts, 0)
            .map(|d| d.with_timezone(&china).to_rfc3339())
            .unwrap_or_default()
    };
    let mut stmt = store
        .connection()
        .prepare_cached(
            "SELECT user, mode, call, ticket, joined_at, left_at FROM monitoring_audit \
             WHERE (?1 IS NULL OR user = ?1) AND (?2 IS NULL OR call = ?2) \
             AND (?3 IS NULL OR joined_at >= ?3) AND (?4 IS NULL OR joined_at < ?4) \
             ORDER BY joined_at DESC, id DESC LIMIT ?5",
        )
        .map_err(backend)?;
    let rows = stmt
        .query_map(
            params![
                q.user,
                q.call,
                q.from.map(|d| d.timestamp()),
                q.to.map(|d| d.timestamp()),
                i64::from(q.limit.clamp(1, 1000))
            ],
            |r| {
                Ok(MonitoringUse {
                    user: r.get(0)?,
                    mode: r.get(1)?,
                    call: r.get(2)?,
                    ticket: r.get(3)?,
                    joined_at: time(r.get(4)?),
                    left_at: r.get::<_, Option<i64>>(5)?.map(time),
                })
            },
        )
        .map_err(backend)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(backend)
}
