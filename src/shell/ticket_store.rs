//! The SQLite ticket store ([`TicketStore`] for the workflow core) and the one thread that
//! owns it. SQLite in WAL mode under the data dir; schema migrations from
//! `src/shell/migrations/*.sql` (applied in order, tracked by `PRAGMA user_version`).
//!
//! Crash safety: every transition is one transaction (events appended + index row updated
//! together), committed before the caller is answered. In WAL mode a commit is a single
//! append to the `-wal` file; after a kill -9 SQLite replays only committed frames, so a
//! transition is either all there or not at all. `synchronous=FULL` (the default here) also
//! fsyncs the WAL at every commit, so an acknowledged transition survives a power cut, not
//! only a process crash; `NORMAL` survives a process crash but may lose the last commits on
//! power loss — offered for test rigs, not for production.
//!
//! Throughput: the worker thread (`shell::ticket_worker`) drains every queued request into
//! one transaction (group commit; each request in its own SAVEPOINT so one failure does not
//! undo the others) and answers them all after the single fsync. A full disk
//! (`SQLITE_FULL`, which rolls the whole transaction back) is `StoreError::Full`. Makes no business decision: it runs the
//! workflow core's create/act/sweep and stores what they return.

use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, NaiveDate};
use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::workflow::event::Event;
use crate::workflow::repeat::RepeatCandidate;
use crate::workflow::store::{
    EmergencyLinkage, IndexRow, InternetBacklog, ListQuery, Page, Report, StoreError, TicketStore,
};
use crate::workflow::TicketId;

pub use crate::shell::ticket_worker::TicketWorker;

/// Migrations, in order. The index is the schema version they bring the file to.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_tickets.sql"),
    include_str!("migrations/0002_internet_response.sql"),
    include_str!("migrations/0003_read_audit.sql"),
    include_str!("migrations/0004_external_key.sql"),
    include_str!("migrations/0005_monitoring_audit.sql"),
    include_str!("migrations/0006_emergency_links.sql"),
    include_str!("migrations/0007_agent_activity.sql"),
    include_str!("migrations/0008_export_audit.sql"),
    include_str!("migrations/0009_warnings.sql"),
];

/// How hard a commit waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous=FULL`: fsync at every commit; survives power loss. The default.
    Full,
    /// `synchronous=NORMAL`: survives a process crash, may lose the last commits on power loss.
    Normal,
}

/// A backend error; a full disk (SQLite's `SQLITE_FULL`, an `ENOSPC`) is its own variant so
/// the API answers 507 `storage_full` and the engine retries.
pub(crate) fn backend<E: std::fmt::Display + 'static>(e: E) -> StoreError {
    let any = &e as &dyn std::any::Any;
    let full = match any.downcast_ref::<rusqlite::Error>() {
        Some(rusqlite::Error::SqliteFailure(f, _)) => f.code == rusqlite::ErrorCode::DiskFull,
        _ => any
            .downcast_ref::<std::io::Error>()
            .is_some_and(crate::shell::metrics::is_disk_full),
    };
    if full {
        StoreError::Full
    } else {
        StoreError::Backend(e.to_string())
    }
}

/// A value's wire name (its serde string), as the index stores it.
pub(crate) fn wire<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// The SQLite implementation of [`TicketStore`].
pub struct SqliteStore {
    pub(super) conn: Connection,
    pub(super) path: PathBuf,
    pub(super) in_batch: bool,
    /// SQLite rolled the whole batch back by itself (it does on `SQLITE_FULL`): why. Later
    /// writes of the batch are refused with it rather than run outside any transaction.
    pub(super) batch_lost: Option<StoreError>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

impl SqliteStore {
    /// The connection, for tables beside the tickets' (the read audit) that live in the same
    /// file and the same transactions.
    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Opens (creating if needed) the database file, sets WAL and durability, migrates.
    pub fn open(path: &Path, durability: Durability) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::shell::private_fs::create_dir_all(dir)
                .map_err(|e| backend(format!("{}: {e}", dir.display())))?;
        }
        // Created (or closed) to the engine's user before SQLite opens it: its WAL and shared
        // memory files take the database file's permissions.
        crate::shell::private_fs::options()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|_| crate::shell::private_fs::restrict(path))
            .map_err(|e| backend(format!("{}: {e}", path.display())))?;
        let conn =
            Connection::open(path).map_err(|e| backend(format!("{}: {e}", path.display())))?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(backend)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(backend(format!(
                "{}: WAL mode refused ({mode})",
                path.display()
            )));
        }
        let sync = match durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        conn.execute_batch(&format!(
            "PRAGMA synchronous={sync}; PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON;"
        ))
        .map_err(backend)?;
        let mut store = Self {
            conn,
            path: path.to_path_buf(),
            in_batch: false,
            batch_lost: None,
        };
        store.migrate()?;
        Ok(store)
    }

    pub(crate) fn migrate(&mut self) -> Result<(), StoreError> {
        let current: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(backend)?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
            let tx = self.conn.transaction().map_err(backend)?;
            tx.execute_batch(sql)
                .map_err(|e| backend(format!("migration {}: {e}", i + 1)))?;
            tx.execute_batch(&format!("PRAGMA user_version={}", i + 1))
                .map_err(backend)?;
            tx.commit().map_err(backend)?;
        }
        Ok(())
    }

    /// The file this store writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Current `journal_mode` and `synchronous` (for tests and the health page).
    pub fn pragmas(&self) -> Result<(String, i64), StoreError> {
        let mode = self
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .map_err(backend)?;
        let sync = self
            .conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .map_err(backend)?;
        Ok((mode, sync))
    }

    /// Caps the database at its size now plus `pages` (`PRAGMA max_page_count`), so a write
    /// that needs more room fails as on a full disk (`StoreError::Full`): fault injection for
    /// tests and drills. Returns the cap.
    pub fn cap_pages(&mut self, pages: u64) -> Result<u64, StoreError> {
        let now: u64 = self
            .conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .map_err(backend)?;
        let cap = now.saturating_add(pages);
        self.conn
            .query_row(&format!("PRAGMA max_page_count = {cap}"), [], |r| {
                r.get::<_, u64>(0)
            })
            .map_err(backend)
    }

    /// `PRAGMA integrity_check` == "ok".
    pub fn integrity_ok(&self) -> Result<bool, StoreError> {
        let s: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(backend)?;
        Ok(s == "ok")
    }

    /// Runs `f` with every write inside one transaction, committed once at the end (group
    /// commit). Individual writes inside use savepoints.
    pub fn batch<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> Result<R, StoreError> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(backend)?;
        self.in_batch = true;
        self.batch_lost = None;
        let r = f(self);
        self.in_batch = false;
        if let Some(e) = self.batch_lost.take() {
            return Err(e);
        }
        match self.conn.execute_batch("COMMIT") {
            Ok(()) => Ok(r),
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(backend(e))
            }
        }
    }

    /// Opens the group transaction; answers the change count to pass to [`Self::end_batch`].
    pub(crate) fn begin_batch(&mut self) -> Result<u64, StoreError> {
        let before = self.conn.total_changes();
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(backend)?;
        self.in_batch = true;
        self.batch_lost = None;
        Ok(before)
    }

    /// Commits the group transaction; answers whether anything was written since `before`.
    /// When SQLite already rolled it back by itself, every caller is told why.
    pub(crate) fn end_batch(&mut self, before: u64) -> Result<bool, StoreError> {
        self.in_batch = false;
        if let Some(e) = self.batch_lost.take() {
            return Err(e);
        }
        let wrote = self.conn.total_changes() > before;
        match self.conn.execute_batch("COMMIT") {
            Ok(()) => Ok(wrote),
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(backend(e))
            }
        }
    }

    /// One atomic write: a savepoint inside a batch, else its own durable transaction.
    fn write<R>(
        &mut self,
        f: impl FnOnce(&Connection) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let (begin, commit, rollback) = if self.in_batch {
            ("SAVEPOINT w", "RELEASE w", "ROLLBACK TO w; RELEASE w")
        } else {
            ("BEGIN IMMEDIATE", "COMMIT", "ROLLBACK")
        };
        if let Some(e) = self.batch_lost.as_ref().filter(|_| self.in_batch) {
            return Err(e.clone());
        }
        self.conn.execute_batch(begin).map_err(backend)?;
        let result = match f(&self.conn) {
            Ok(r) => match self.conn.execute_batch(commit) {
                Ok(()) => Ok(r),
                Err(e) => {
                    let _ = self.conn.execute_batch(rollback);
                    Err(backend(e))
                }
            },
            Err(e) => {
                let _ = self.conn.execute_batch(rollback);
                Err(e)
            }
        };
        if let Err(e) = &result {
            if self.in_batch && self.conn.is_autocommit() {
                // The error rolled back the whole batch, not only this write.
                self.batch_lost = Some(e.clone());
            }
        }
        result
    }
}

fn put_events(conn: &Connection, events: &[Event], id: &TicketId) -> Result<(), StoreError> {
    let mut stmt = conn
        .prepare_cached("INSERT INTO events (ticket_id, seq, at, body) VALUES (?1, ?2, ?3, ?4)")
        .map_err(backend)?;
    for e in events {
        let body = serde_json::to_string(e).map_err(backend)?;
        stmt.execute(params![id.0, e.seq as i64, e.at.to_rfc3339(), body])
            .map_err(backend)?;
    }
    crate::shell::linkage_store::put(conn, id, events)
}

fn put_row(conn: &Connection, row: &IndexRow, new: bool) -> Result<(), StoreError> {
    let json = serde_json::to_string(row).map_err(backend)?;
    let ts = |d: &Option<DateTime<FixedOffset>>| d.map(|d| d.timestamp());
    let sql = if new {
        "INSERT INTO tickets (id, version, state, lead_unit, channel, request_type, domain, urgency, area, received_ts, phone_key, next_due_ts, wake_ts, closed_ts, rating, repeat_of, repeat_excluded, supervised, row_json, call_id, responded_ts, external_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)"
    } else {
        "UPDATE tickets SET version = ?2, state = ?3, lead_unit = ?4, channel = ?5, request_type = ?6, domain = ?7, urgency = ?8, area = ?9, received_ts = ?10, phone_key = ?11, next_due_ts = ?12, wake_ts = ?13, closed_ts = ?14, rating = ?15, repeat_of = ?16, repeat_excluded = ?17, supervised = ?18, row_json = ?19, call_id = ?20, responded_ts = ?21, external_key = ?22 WHERE id = ?1"
    };
    conn.prepare_cached(sql)
        .map_err(backend)?
        .execute(params![
            row.id.0,
            row.version as i64,
            row.state,
            row.lead_unit.as_ref().map(|u| u.0.clone()),
            wire(&row.channel),
            wire(&row.request_type),
            row.domain,
            wire(&row.urgency),
            row.area,
            row.received_at.timestamp(),
            row.phone_key,
            ts(&row.next_due),
            ts(&row.wake_at),
            ts(&row.closed_at),
            row.rating.as_ref().map(wire),
            row.repeat_of.as_ref().map(|r| r.0.clone()),
            row.repeat_excluded,
            row.supervised,
            json,
            row.call_id,
            ts(&row.responded_at),
            row.external_key
        ])
        .map_err(backend)?;
    // Unit visibility changes only on dispatch and hand-on; rewrite it only when it differs.
    let mut current: Vec<String> = conn
        .prepare_cached("SELECT unit FROM ticket_units WHERE ticket_id = ?1 ORDER BY unit")
        .map_err(backend)?
        .query_map(params![row.id.0], |r| r.get(0))
        .map_err(backend)?
        .collect::<Result<_, _>>()
        .map_err(backend)?;
    let mut wanted: Vec<String> = row.units.iter().map(|u| u.0.clone()).collect();
    wanted.sort();
    wanted.dedup();
    current.sort();
    if current != wanted {
        conn.prepare_cached("DELETE FROM ticket_units WHERE ticket_id = ?1")
            .map_err(backend)?
            .execute(params![row.id.0])
            .map_err(backend)?;
        let mut ins = conn
            .prepare_cached(
                "INSERT INTO ticket_units (unit, ticket_id, received_ts) VALUES (?1, ?2, ?3)",
            )
            .map_err(backend)?;
        for u in &wanted {
            ins.execute(params![u, row.id.0, row.received_at.timestamp()])
                .map_err(backend)?;
        }
    }
    Ok(())
}

fn parse_rows(rows: Vec<String>) -> Result<Vec<IndexRow>, StoreError> {
    rows.iter()
        .map(|j| serde_json::from_str(j).map_err(backend))
        .collect()
}

impl TicketStore for SqliteStore {
    fn next_id(&mut self, date: NaiveDate) -> Result<TicketId, StoreError> {
        let day = date.format("%Y%m%d").to_string();
        let n: i64 = self.write(|c| {
            c.prepare_cached(
                "INSERT INTO ticket_seq (day, last) VALUES (?1, 1) ON CONFLICT(day) DO UPDATE SET last = last + 1 RETURNING last",
            )
            .map_err(backend)?
            .query_row(params![day], |r| r.get(0))
            .map_err(backend)
        })?;
        Ok(TicketId::new(date, n as u32))
    }

    fn insert(&mut self, events: &[Event], row: &IndexRow) -> Result<(), StoreError> {
        self.write(|c| {
            let exists: Option<i64> = c
                .prepare_cached("SELECT version FROM tickets WHERE id = ?1")
                .map_err(backend)?
                .query_row(params![row.id.0], |r| r.get(0))
                .optional()
                .map_err(backend)?;
            if exists.is_some() {
                return Err(StoreError::Duplicate { id: row.id.clone() });
            }
            put_events(c, events, &row.id)?;
            put_row(c, row, true)
        })
    }

    fn events(&mut self, id: &TicketId) -> Result<Vec<Event>, StoreError> {
        let bodies: Vec<String> = self
            .conn
            .prepare_cached("SELECT body FROM events WHERE ticket_id = ?1 ORDER BY seq")
            .map_err(backend)?
            .query_map(params![id.0], |r| r.get(0))
            .map_err(backend)?
            .collect::<Result<_, _>>()
            .map_err(backend)?;
        bodies
            .iter()
            .map(|b| serde_json::from_str(b).map_err(backend))
            .collect()
    }

    fn append(
        &mut self,
        id: &TicketId,
        expected_version: u64,
        events: &[Event],
        row: &IndexRow,
    ) -> Result<(), StoreError> {
        self.write(|c| {
            let actual: Option<i64> = c
                .prepare_cached("SELECT version FROM tickets WHERE id = ?1")
                .map_err(backend)?
                .query_row(params![id.0], |r| r.get(0))
                .optional()
                .map_err(backend)?;
            let actual = actual.ok_or_else(|| StoreError::NotFound { id: id.clone() })? as u64;
            if actual != expected_version {
                return Err(StoreError::Conflict {
                    id: id.clone(),
                    expected: expected_version,
                    actual,
                });
            }
            put_events(c, events, id)?;
            put_row(c, row, false)
        })
    }

    fn list(&mut self, q: &ListQuery) -> Result<Page, StoreError> {
        let limit = q.limit.clamp(1, 500);
        // The cursor is an id; its received time positions the page.
        let cursor = match &q.after {
            Some(a) => Some((
                self.conn
                    .prepare_cached("SELECT received_ts FROM tickets WHERE id = ?1")
                    .map_err(backend)?
                    .query_row(params![a.0], |r| r.get::<_, i64>(0))
                    .optional()
                    .map_err(backend)?
                    .ok_or_else(|| StoreError::NotFound { id: a.clone() })?,
                a.0.clone(),
            )),
            None => None,
        };
        let mut sql = String::from("SELECT t.row_json FROM ");
        let mut args: Vec<Value> = Vec::new();
        let mut wh: Vec<String> = Vec::new();
        let (ts_col, id_col) = if let Some(u) = &q.unit {
            sql.push_str("ticket_units u JOIN tickets t ON t.id = u.ticket_id");
            args.push(Value::Text(u.0.clone()));
            wh.push(format!("u.unit = ?{}", args.len()));
            ("u.received_ts", "u.ticket_id")
        } else {
            sql.push_str("tickets t");
            ("t.received_ts", "t.id")
        };
        let mut eq = |col: &str, v: String, args: &mut Vec<Value>| {
            args.push(Value::Text(v));
            wh.push(format!("{col} = ?{}", args.len()));
        };
        if let Some(s) = &q.state {
            eq("t.state", s.clone(), &mut args);
        }
        if let Some(t) = &q.request_type {
            eq("t.request_type", wire(t), &mut args);
        }
        if let Some(d) = &q.domain {
            eq("t.domain", d.clone(), &mut args);
        }
        if let Some(c) = &q.channel {
            eq("t.channel", wire(c), &mut args);
        }
        if let Some(c) = &q.call_id {
            eq("t.call_id", c.clone(), &mut args);
        }
        if let Some(k) = &q.external_key {
            eq("t.external_key", k.clone(), &mut args);
        }
        if let Some(p) = &q.phone_key {
            eq("t.phone_key", p.clone(), &mut args);
        }
        if let Some(n) = &q.number {
            // In the row's JSON, not a column of its own: no migration for a rare filter.
            eq("json_extract(t.row_json, '$.number')", n.clone(), &mut args);
        }
        if let Some(s) = q.supervised {
            args.push(Value::Integer(i64::from(s)));
            wh.push(format!("t.supervised = ?{}", args.len()));
        }
        if let Some(a) = &q.overdue_at {
            args.push(Value::Integer(a.timestamp()));
            wh.push(format!("t.next_due_ts < ?{}", args.len()));
        }
        if let Some(f) = &q.received_from {
            args.push(Value::Integer(f.timestamp()));
            wh.push(format!("{ts_col} >= ?{}", args.len()));
        }
        if let Some(t) = &q.received_to {
            args.push(Value::Integer(t.timestamp()));
            wh.push(format!("{ts_col} < ?{}", args.len()));
        }
        if let Some((ts, id)) = cursor {
            args.push(Value::Integer(ts));
            args.push(Value::Text(id));
            wh.push(format!(
                "({ts_col}, {id_col}) < (?{}, ?{})",
                args.len() - 1,
                args.len()
            ));
        }
        if !wh.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&wh.join(" AND "));
        }
        args.push(Value::Integer(i64::from(limit) + 1));
        sql.push_str(&format!(
            " ORDER BY {ts_col} DESC, {id_col} DESC LIMIT ?{}",
            args.len()
        ));
        let rows: Vec<String> = self
            .conn
            .prepare_cached(&sql)
            .map_err(backend)?
            .query_map(rusqlite::params_from_iter(args), |r| r.get(0))
            .map_err(backend)?
            .collect::<Result<_, _>>()
            .map_err(backend)?;
        let mut items = parse_rows(rows)?;
        let next = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|r| r.id.clone())
        } else {
            None
        };
        Ok(Page { items, next })
    }

    fn due_for_sweep(
        &mut self,
        at: DateTime<FixedOffset>,
        limit: u32,
    ) -> Result<Vec<TicketId>, StoreError> {
        self.conn
            .prepare_cached("SELECT id FROM tickets WHERE wake_ts IS NOT NULL AND wake_ts <= ?1 ORDER BY wake_ts LIMIT ?2")
            .map_err(backend)?
            .query_map(params![at.timestamp(), i64::from(limit)], |r| r.get::<_, String>(0).map(TicketId))
            .map_err(backend)?
            .collect::<Result<_, _>>()
            .map_err(backend)
    }

    fn repeat_candidates(
        &mut self,
        phone_key: &str,
        since: DateTime<FixedOffset>,
    ) -> Result<Vec<RepeatCandidate>, StoreError> {
        let rows: Vec<String> = self
            .conn
            .prepare_cached("SELECT row_json FROM tickets WHERE phone_key = ?1 AND received_ts >= ?2 ORDER BY received_ts DESC LIMIT 200")
            .map_err(backend)?
            .query_map(params![phone_key, since.timestamp()], |r| r.get(0))
            .map_err(backend)?
            .collect::<Result<_, _>>()
            .map_err(backend)?;
        Ok(parse_rows(rows)?
            .into_iter()
            .map(|r| RepeatCandidate {
                id: r.id,
                received_at: r.received_at,
                content: r.content,
                excluded: r.repeat_excluded,
            })
            .collect())
    }

    fn internet_backlog(
        &mut self,
        now: DateTime<FixedOffset>,
    ) -> Result<InternetBacklog, StoreError> {
        let limit = now.timestamp() - crate::workflow::model::INTERNET_RESPONSE_SECS;
        let (n, oldest): (i64, Option<i64>) = self
            .conn
            .query_row(
                &format!(
                    "SELECT COUNT(*), MIN(received_ts) FROM tickets WHERE channel IN ({}) AND responded_ts IS NULL AND closed_ts IS NULL AND received_ts < ?1",
                    internet_channels()
                ),
                params![limit],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(backend)?;
        Ok(InternetBacklog {
            unanswered: n as u64,
            oldest_received: oldest
                .and_then(|ts| DateTime::from_timestamp(ts, 0))
                .map(|d| d.with_timezone(now.offset())),
        })
    }

    fn internet_response(
        &mut self,
        from: DateTime<FixedOffset>,
        to: DateTime<FixedOffset>,
        now: DateTime<FixedOffset>,
    ) -> Result<crate::workflow::store::InternetResponse, StoreError> {
        internet_response(&self.conn, from.timestamp(), to.timestamp(), now)
    }

    fn emergency_linkages(
        &mut self,
        from: DateTime<FixedOffset>,
        to: DateTime<FixedOffset>,
    ) -> Result<Vec<EmergencyLinkage>, StoreError> {
        crate::shell::linkage_store::between(&self.conn, from, to)
    }

    fn report(
        &mut self,
        from: Option<DateTime<FixedOffset>>,
        to: Option<DateTime<FixedOffset>>,
        now: DateTime<FixedOffset>,
    ) -> Result<Report, StoreError> {
        let lo = from.map(|d| d.timestamp()).unwrap_or(i64::MIN);
        let hi = to.map(|d| d.timestamp()).unwrap_or(i64::MAX);
        let conn = &self.conn;
        let group = |col: &str| -> Result<Vec<(String, u64)>, StoreError> {
            conn.prepare(&format!(
                "SELECT {col}, COUNT(*) FROM tickets WHERE received_ts >= ?1 AND received_ts < ?2 AND {col} IS NOT NULL GROUP BY {col} ORDER BY {col}"
            ))
            .map_err(backend)?
            .query_map(params![lo, hi], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))
            .map_err(backend)?
            .collect::<Result<_, _>>()
            .map_err(backend)
        };
        let ids =
            |sql: &str, extra: Option<i64>| -> Result<Vec<(String, Option<String>)>, StoreError> {
                let mut stmt = conn.prepare(sql).map_err(backend)?;
                let map = |r: &rusqlite::Row<'_>| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
                };
                let rows = match extra {
                    Some(x) => stmt.query_map(params![lo, hi, x], map),
                    None => stmt.query_map(params![lo, hi], map),
                }
                .map_err(backend)?;
                rows.collect::<Result<_, _>>().map_err(backend)
            };
        let total: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM tickets WHERE received_ts >= ?1 AND received_ts < ?2",
                params![lo, hi],
                |r| r.get(0),
            )
            .map_err(backend)?;
        Ok(Report {
            from,
            to,
            total: total as u64,
            by_state: group("state")?,
            by_type: group("request_type")?,
            by_domain: group("domain")?,
            by_channel: group("channel")?,
            by_area: group("area")?,
            ratings: group("rating")?,
            overdue: ids("SELECT id, NULL FROM tickets WHERE received_ts >= ?1 AND received_ts < ?2 AND next_due_ts < ?3 ORDER BY id LIMIT 1000", Some(now.timestamp()))?
                .into_iter()
                .map(|(id, _)| TicketId(id))
                .collect(),
            repeats: ids("SELECT id, repeat_of FROM tickets WHERE received_ts >= ?1 AND received_ts < ?2 AND repeat_of IS NOT NULL ORDER BY id LIMIT 1000", None)?
                .into_iter()
                .filter_map(|(id, e)| e.map(|e| (TicketId(id), TicketId(e))))
                .collect(),
            internet_response: internet_response(conn, lo, hi, now)?,
        })
    }
}

/// The internet channels (C13) as an SQL list of their stored names.
pub(crate) fn internet_channels() -> String {
    use crate::workflow::model::Channel;
    let all = [
        Channel::Phone,
        Channel::Sms,
        Channel::Web,
        Channel::App,
        Channel::MiniProgram,
        Channel::PublicAccount,
        Channel::Mailbox,
        Channel::NationalPlatform,
    ];
    let names: Vec<String> = all
        .iter()
        .filter(|c| c.is_internet())
        .map(|c| format!("'{}'", wire(c)))
        .collect();
    names.join(", ")
}

/// C13 over the period's internet requests, counted in SQL (a day of a busy hotline's web
/// requests is thousands of rows; only their two times are read).
fn internet_response(
    conn: &Connection,
    lo: i64,
    hi: i64,
    now: DateTime<FixedOffset>,
) -> Result<crate::workflow::store::InternetResponse, StoreError> {
    let mut stmt = conn
        .prepare(&format!(
            "SELECT received_ts, responded_ts FROM tickets WHERE received_ts >= ?1 AND received_ts < ?2 AND channel IN ({})",
            internet_channels()
        ))
        .map_err(backend)?;
    let at = |ts: i64| {
        DateTime::from_timestamp(ts, 0)
            .map(|d| d.with_timezone(now.offset()))
            .ok_or_else(|| backend(format!("timestamp out of range: {ts}")))
    };
    let mut out = crate::workflow::store::InternetResponse::default();
    let rows = stmt
        .query_map(params![lo, hi], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?))
        })
        .map_err(backend)?;
    for row in rows {
        let (received, responded) = row.map_err(backend)?;
        out.count(at(received)?, responded.map(at).transpose()?, now);
    }
    Ok(out)
}
