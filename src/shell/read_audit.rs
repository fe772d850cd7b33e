//! The read audit (rule C16): one row per API answer that showed a citizen's whole number or
//! name — who, which ticket, what, when — in the ticket database (SQLite's file or PostgreSQL,
//! `store::pg_audits`), written in the same store thread (and so committed) before the answer
//! leaves; supervisors query it.

use chrono::{DateTime, FixedOffset};
use rusqlite::params;
use serde::Serialize;

use crate::shell::store::Store;
use crate::shell::ticket_store::SqliteStore;
use crate::workflow::model::Actor;
use crate::workflow::store::StoreError;

/// One audited read.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AuditedRead {
    /// RFC 3339, China time.
    pub at: String,
    pub user: String,
    pub role: String,
    pub ticket: String,
    /// What was shown whole: `caller` (number and name).
    pub what: String,
}

/// Which reads to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub user: Option<String>,
    pub ticket: Option<String>,
    pub limit: u32,
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Records that `actor` was shown `what` of `ticket` at `at`.
pub fn record(
    store: &mut Store,
    actor: &Actor,
    ticket: &str,
    what: &str,
    at: DateTime<FixedOffset>,
) -> Result<(), StoreError> {
    let store = match store {
        Store::Sqlite(s) => s,
        Store::Postgres { pg } => {
            return pg.read_audit_record(
                at.timestamp(),
                &actor.user,
                &actor.role.name(),
                ticket,
                what,
            )
        }
    };
    store
        .connection()
        .prepare_cached(
            "INSERT INTO read_audit (at, user, role, ticket, what) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .and_then(|mut s| {
            s.execute(params![
                at.timestamp(),
                actor.user,
                &actor.role.name(),
                ticket,
                what
            ])
        })
        .map_err(backend)?;
    Ok(())
}

/// The newest audited reads matching `q` (at most 1000).
pub fn list(store: &mut Store, q: &AuditQuery) -> Result<Vec<AuditedRead>, StoreError> {
    match store {
        Store::Sqlite(s) => list_sqlite(s, q),
        Store::Postgres { pg } => pg.read_audit_list(q),
    }
}

fn list_sqlite(store: &mut SqliteStore, q: &AuditQuery) -> Result<Vec<AuditedRead>, StoreError> {
    let china = crate::workflow::model::china();
    let mut stmt = store
        .connection()
        .prepare_cached(
            "SELECT at, user, role, ticket, what FROM read_audit \
             WHERE (?1 IS NULL OR user = ?1) AND (?2 IS NULL OR ticket = ?2) \
             ORDER BY at DESC, id DESC LIMIT ?3",
        )
        .map_err(backend)?;
    let rows = stmt
        .query_map(
            params![q.user, q.ticket, i64::from(q.limit.clamp(1, 1000))],
            |r| {
                let ts: i64 = r.get(0)?;
                Ok(AuditedRead {
                    at: DateTime::from_timestamp(ts, 0)
                        .map(|d| d.with_timezone(&china).to_rfc3339())
                        .unwrap_or_default(),
                    user: r.get(1)?,
                    role: r.get(2)?,
                    ticket: r.get(3)?,
                    what: r.get(4)?,
                })
            },
        )
        .map_err(backend)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(backend)
}
