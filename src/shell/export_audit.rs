//! The data-sharing audit: one row per ticket export (who, when, which days, which fields,
//! which format), written before the export's first line leaves (SQLite's file or PostgreSQL,
//! `store::pg_audits`); supervisors list it at `GET /api/audit/exports`.

use chrono::{DateTime, FixedOffset};
use rusqlite::params;
use serde::Serialize;

use crate::shell::store::Store;
use crate::shell::ticket_store::SqliteStore;
use crate::workflow::store::StoreError;

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// One export.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ExportRecord {
    pub user: String,
    /// RFC 3339, China time.
    pub at: String,
    pub from: String,
    pub to: String,
    pub fields: Vec<String>,
    /// `jsonl` or `csv`.
    pub format: String,
}

/// Records an export (inside the worker's transaction).
pub fn record(
    store: &mut Store,
    user: &str,
    at: DateTime<FixedOffset>,
    from: &str,
    to: &str,
    fields: &[String],
    format: &str,
) -> Result<(), StoreError> {
    let store = match store {
        Store::Sqlite(s) => s,
        Store::Postgres { pg } => {
            return pg.export_record(user, at.timestamp(), (from, to), &fields.join(","), format)
        }
    };
    store
        .connection()
        .prepare_cached(
            "INSERT INTO export_audit (user, at, from_day, to_day, fields, format) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .and_then(|mut s| {
            s.execute(params![
                user,
                at.timestamp(),
                from,
                to,
                fields.join(","),
                format
            ])
        })
        .map_err(backend)?;
    Ok(())
}

/// The newest exports, at most `limit` (≤ 1000), optionally of one user.
pub fn list(
    store: &mut Store,
    user: Option<&str>,
    limit: u32,
) -> Result<Vec<ExportRecord>, StoreError> {
    match store {
        Store::Sqlite(s) => list_sqlite(s, user, limit),
        Store::Postgres { pg } => pg.export_list(user, limit),
    }
}

fn list_sqlite(
    store: &mut SqliteStore,
    user: Option<&str>,
    limit: u32,
) -> Result<Vec<ExportRecord>, StoreError> {
    let china = crate::workflow::model::china();
    let mut stmt = store
        .connection()
        .prepare_cached(
            "SELECT user, at, from_day, to_day, fields, format FROM export_audit \
             WHERE (?1 IS NULL OR user = ?1) ORDER BY at DESC, id DESC LIMIT ?2",
        )
        .map_err(backend)?;
    let rows = stmt
        .query_map(params![user, limit.min(1000)], |r| {
            let at: i64 = r.get(1)?;
            let fields: String = r.get(4)?;
            Ok(ExportRecord {
                user: r.get(0)?,
                at: DateTime::from_timestamp(at, 0)
                    .map(|d| d.with_timezone(&china).to_rfc3339())
                    .unwrap_or_default(),
                from: r.get(2)?,
                to: r.get(3)?,
                fields: fields.split(',').map(str::to_string).collect(),
                format: r.get(5)?,
            })
        })
        .map_err(backend)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(backend)
}
