//! Runs the early-warning rules (`analytics::warnings`) and keeps what they raise: every
//! `risk_interval` the requests received or changed lately are checked for risk words; every
//! `scan_interval` the hot-spot, high-frequency and seasonal rules run over the periods they
//! name. New warnings are committed to the `warnings` table (SQLite's file or PostgreSQL,
//! `store::pg_activity`; one row per key, so nothing is raised twice, across restarts and
//! engines too), counted for `/metrics` and pushed to the wallboard.
//! Decides nothing itself.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, TimeZone};
use rusqlite::params;
use tokio::sync::watch;

use crate::analytics::trends::{china, RequestRow};
use crate::analytics::warnings::{self, Warning, WarningRules, RULES};
use crate::cti::tickets::TicketApi;
use crate::shell::store::{RowPick, Store, StoreAt};
use crate::workflow::store::{IndexRow, StoreError, TicketStore};
use crate::workflow::ticket::Ticket;

/// At most this many requests are read for one scan or one trend (the answer says when it
/// was cut).
pub const MAX_ROWS: usize = 500_000;

/// The newest warnings the wallboard shows.
pub const ON_BOARD: usize = 20;

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Counters for `/metrics`, and the newest warnings for the wallboard.
#[derive(Debug)]
pub struct WarningsHub {
    raised: [AtomicU64; 4],
    pub scans: AtomicU64,
    pub scan_failures: AtomicU64,
    /// Milliseconds the last scan took (reading and deciding).
    pub last_scan_ms: AtomicU64,
    board: watch::Sender<Arc<Vec<Warning>>>,
}

impl Default for WarningsHub {
    fn default() -> Self {
        Self {
            raised: Default::default(),
            scans: AtomicU64::new(0),
            scan_failures: AtomicU64::new(0),
            last_scan_ms: AtomicU64::new(0),
            board: watch::channel(Arc::new(Vec::new())).0,
        }
    }
}

impl WarningsHub {
    /// Warnings raised since start, per rule (`RULES` order).
    pub fn raised(&self) -> Vec<(&'static str, u64)> {
        RULES
            .iter()
            .zip(&self.raised)
            .map(|(r, n)| (*r, n.load(Ordering::Relaxed)))
            .collect()
    }

    /// The newest warnings, newest first (the wallboard's list).
    pub fn newest(&self) -> Arc<Vec<Warning>> {
        self.board.borrow().clone()
    }

    fn count(&self, w: &Warning) {
        if let Some(i) = RULES.iter().position(|r| *r == w.kind.rule()) {
            self.raised[i].fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The analyses' view of a stored ticket.
pub fn row_of(t: &Ticket, lead_unit: Option<&str>) -> RequestRow {
    RequestRow {
        id: t.id.to_string(),
        received_at: t.intake.received_at,
        request_type: crate::analytics::wire_name(&t.intake.request_type),
        domain: t.intake.domain.0.clone(),
        category: t.intake.category.clone(),
        area: t.intake.area.clone(),
        channel: crate::analytics::wire_name(&t.intake.channel),
        unit: lead_unit.map(str::to_string),
        content: t.intake.content.clone(),
    }
}

/// The requests received in `[from, to)`, at most `limit`, each replayed from its events
/// (the category and the completed words live there); and whether `limit` cut them.
pub fn rows_between(
    store: &mut Store,
    from: DateTime<FixedOffset>,
    to: DateTime<FixedOffset>,
    limit: usize,
) -> Result<(Vec<(RequestRow, u64)>, bool), StoreError> {
    rows_where(store, Pick::Received(from, to), limit, &|_| true)
}

/// Which tickets a read takes.
#[derive(Debug, Clone)]
enum Pick {
    /// Received in `[from, to)`.
    Received(DateTime<FixedOffset>, DateTime<FixedOffset>),
    /// Registered from this id on (`YYYYMMDD-`: that China day's first), whenever received:
    /// a forwarded request registered today with an old receipt time is still new.
    RegisteredFrom(String),
}

/// As [`rows_between`], replaying only the tickets `want` picks (by id and version); the
/// others come back with an empty row.
fn rows_where(
    store: &mut Store,
    pick: Pick,
    limit: usize,
    want: &dyn Fn(&IndexRow) -> bool,
) -> Result<(Vec<(RequestRow, u64)>, bool), StoreError> {
    let rows = store.index_rows(
        &match pick {
            Pick::Received(from, to) => RowPick::Received(from.timestamp(), to.timestamp()),
            Pick::RegisteredFrom(id) => RowPick::RegisteredFrom(id),
        },
        limit as i64 + 1,
    )?;
    let cut = rows.len() > limit;
    let mut out = Vec::with_capacity(rows.len().min(limit));
    for json in rows.iter().take(limit) {
        let Ok(row) = serde_json::from_str::<IndexRow>(json) else {
            tracing::warn!("skipping an unreadable ticket index row in the analyses");
            continue;
        };
        if !want(&row) {
            out.push((
                RequestRow {
                    id: row.id.to_string(),
                    received_at: row.received_at,
                    request_type: String::new(),
                    domain: String::new(),
                    category: None,
                    area: None,
                    channel: String::new(),
                    unit: None,
                    content: String::new(),
                },
                row.version,
            ));
            continue;
        }
        let events = store.events(&row.id)?;
        match Ticket::replay(row.id.clone(), events) {
            Ok(t) => out.push((
                row_of(&t, row.lead_unit.as_ref().map(|u| u.0.as_str())),
                row.version,
            )),
            Err(e) => tracing::warn!(ticket = %row.id, error = %e, "ticket does not replay"),
        }
    }
    Ok((out, cut))
}

/// When the store's first request arrived.
pub fn data_since(store: &mut Store) -> Result<Option<DateTime<FixedOffset>>, StoreError> {
    let ts = store.first_received()?;
    Ok(ts.and_then(|t| china().timestamp_opt(t, 0).single()))
}

/// Keeps new warnings, all or none (a savepoint inside the worker's transaction); answers
/// those that were new.
pub fn keep(store: &mut Store, new: Vec<Warning>) -> Result<Vec<Warning>, StoreError> {
    let store = match store {
        Store::Sqlite(s) => s,
        Store::Postgres { pg } => {
            let rows = new
                .iter()
                .map(|w| {
                    let body = serde_json::to_string(w).map_err(backend)?;
                    Ok((w.key.clone(), w.kind.rule(), w.raised_at.timestamp(), body))
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            let fresh = pg.warnings_keep(&rows)?;
            return Ok(new
                .into_iter()
                .zip(fresh)
                .filter_map(|(w, f)| f.then_some(w))
                .collect());
        }
    };
    store
        .connection()
        .execute_batch("SAVEPOINT keep_warnings")
        .map_err(backend)?;
    match insert_new(store.connection(), new) {
        Ok(kept) => {
            store
                .connection()
                .execute_batch("RELEASE keep_warnings")
                .map_err(backend)?;
            Ok(kept)
        }
        Err(e) => {
            let _ = store
                .connection()
                .execute_batch("ROLLBACK TO keep_warnings; RELEASE keep_warnings");
            Err(e)
        }
    }
}

fn insert_new(conn: &rusqlite::Connection, new: Vec<Warning>) -> Result<Vec<Warning>, StoreError> {
    let mut kept = Vec::new();
    for w in new {
        let body = serde_json::to_string(&w).map_err(backend)?;
        let n = conn
            .prepare_cached(
                "INSERT OR IGNORE INTO warnings (key, rule, raised_ts, body) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| s.execute(params![w.key, w.kind.rule(), w.raised_at.timestamp(), body]))
            .map_err(backend)?;
        if n == 1 {
            kept.push(w);
        }
    }
    Ok(kept)
}

/// The warnings raised in `[from, to)`, newest first, at most `limit`, optionally of one rule.
pub fn list(
    store: &mut Store,
    from: DateTime<FixedOffset>,
    to: DateTime<FixedOffset>,
    rule: Option<&str>,
    limit: usize,
) -> Result<Vec<Warning>, StoreError> {
    let (from, to, limit) = (from.timestamp(), to.timestamp(), limit as i64);
    let bodies: Vec<String> = match store {
        Store::Postgres { pg } => pg.warnings_list(from, to, rule, limit)?,
        Store::Sqlite(s) => s
            .connection()
            .prepare_cached(
                "SELECT body FROM warnings WHERE raised_ts >= ?1 AND raised_ts < ?2 \
                 AND (?3 IS NULL OR rule = ?3) ORDER BY raised_ts DESC, key LIMIT ?4",
            )
            .map_err(backend)?
            .query_map(params![from, to, rule, limit], |r| r.get(0))
            .map_err(backend)?
            .collect::<Result<_, _>>()
            .map_err(backend)?,
    };
    Ok(bodies
        .iter()
        .filter_map(|b| serde_json::from_str(b).ok())
        .collect())
}

/// The keys of the warnings raised since `since`.
fn known_keys(store: &mut Store, since: DateTime<FixedOffset>) -> Result<Vec<String>, StoreError> {
    match store {
        Store::Postgres { pg } => pg.warnings_keys(since.timestamp()),
        Store::Sqlite(s) => s
            .connection()
            .prepare_cached("SELECT key FROM warnings WHERE raised_ts >= ?1")
            .map_err(backend)?
            .query_map(params![since.timestamp()], |r| r.get(0))
            .map_err(backend)?
            .collect::<Result<_, _>>()
            .map_err(backend),
    }
}

/// The task: risk words every `risk_interval`, the other rules every `scan_interval`, on
/// `duty` (the standby of two engines leaves them to the active one).
pub fn spawn(
    tickets: TicketApi,
    rules: WarningRules,
    hub: Arc<WarningsHub>,
    duty: crate::shell::leadership::Duty,
) -> tokio::task::JoinHandle<()> {
    let at = tickets.worker().store_at();
    tokio::spawn(async move {
        let mut risk = tokio::time::interval(rules.risk_interval);
        let mut scan = tokio::time::interval(rules.scan_interval);
        risk.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        scan.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // (ticket id → version) already checked for risk words.
        let mut seen: HashMap<String, u64> = HashMap::new();
        refresh_board(&tickets, &hub).await;
        loop {
            tokio::select! {
                _ = risk.tick() => {
                    if !duty.on() {
                        continue;
                    }
                    let now = tickets.now();
                    match risk_pass(&at, &rules, now, &mut seen).await {
                        Ok(new) if !new.is_empty() => commit(&tickets, &hub, new).await,
                        Ok(_) => {}
                        Err(e) => {
                            hub.scan_failures.fetch_add(1, Ordering::Relaxed);
                            tracing::warn!(error = %e, "risk-word check failed");
                        }
                    }
                }
                _ = scan.tick() => {
                    if !duty.on() {
                        continue;
                    }
                    let began = crate::shell::clock::now();
                    let now = tickets.now();
                    match scan_pass(&at, &rules, now).await {
                        Ok(new) => {
                            hub.scans.fetch_add(1, Ordering::Relaxed);
                            if !new.is_empty() {
                                commit(&tickets, &hub, new).await;
                            }
                        }
                        Err(e) => {
                            hub.scan_failures.fetch_add(1, Ordering::Relaxed);
                            tracing::warn!(error = %e, "warning scan failed");
                        }
                    }
                    let took = crate::shell::clock::now().saturating_duration_since(began);
                    hub.last_scan_ms.store(took.as_millis() as u64, Ordering::Relaxed);
                }
            }
        }
    })
}

async fn risk_pass(
    at: &StoreAt,
    rules: &WarningRules,
    now: DateTime<FixedOffset>,
    seen: &mut HashMap<String, u64>,
) -> Result<Vec<Warning>, StoreError> {
    let since =
        now - chrono::Duration::from_std(rules.risk_lookback).unwrap_or(chrono::Duration::hours(1));
    let first_id = format!("{}-", since.with_timezone(&china()).format("%Y%m%d"));
    let known = seen.clone();
    let (rows, _) = crate::shell::period_tickets::read(at.clone(), move |s| {
        rows_where(s, Pick::RegisteredFrom(first_id), MAX_ROWS, &|r| {
            known.get(&r.id.0) != Some(&r.version)
        })
    })
    .await?;
    let mut new = Vec::new();
    let mut keep: HashMap<String, u64> = HashMap::with_capacity(rows.len());
    for (row, version) in rows {
        if seen.get(&row.id) != Some(&version) {
            if let Some(w) = warnings::risk_check(rules, &row, now) {
                new.push(w);
            }
        }
        keep.insert(row.id, version);
    }
    *seen = keep;
    Ok(new)
}

async fn scan_pass(
    at: &StoreAt,
    rules: &WarningRules,
    now: DateTime<FixedOffset>,
) -> Result<Vec<Warning>, StoreError> {
    let ranges = warnings::needed_ranges(rules, now);
    let rules = rules.clone();
    crate::shell::period_tickets::read(at.clone(), move |s| {
        let since = data_since(s)?;
        let mut rows = Vec::new();
        for (from, to) in ranges {
            rows.extend(
                rows_between(s, from, to, MAX_ROWS)?
                    .0
                    .into_iter()
                    .map(|(r, _)| r),
            );
        }
        rows.sort_by(|a, b| a.id.cmp(&b.id));
        rows.dedup_by(|a, b| a.id == b.id);
        let cool = now
            - chrono::Duration::from_std(rules.high_frequency_cooldown)
                .unwrap_or(chrono::Duration::days(1));
        let known: std::collections::HashSet<String> =
            known_keys(s, now - chrono::Duration::days(400))?
                .into_iter()
                .collect();
        let recent = list(
            s,
            cool,
            now + chrono::Duration::minutes(1),
            Some("high_frequency"),
            10_000,
        )?;
        let known_fn = |k: &str| known.contains(k);
        Ok(warnings::scan(
            &rules,
            &warnings::ScanInput {
                now,
                data_since: since,
                rows: &rows,
                known: &known_fn,
                recent_high_frequency: &recent,
            },
        ))
    })
    .await
}

/// Commits new warnings through the ticket store's writer, then counts and shows them.
async fn commit(tickets: &TicketApi, hub: &WarningsHub, new: Vec<Warning>) {
    match tickets
        .worker()
        .call(move |s, _| keep(s, new).map_err(Into::into))
        .await
    {
        Ok(kept) => {
            for w in &kept {
                hub.count(w);
                tracing::warn!(key = %w.key, rule = w.kind.rule(), requests = w.requests.len(), "warning raised");
            }
            if !kept.is_empty() {
                refresh_board(tickets, hub).await;
            }
        }
        Err(e) => {
            hub.scan_failures.fetch_add(1, Ordering::Relaxed);
            tracing::error!(error = %e, "warnings could not be kept");
        }
    }
}

/// Reloads the wallboard's newest warnings (the last 24 h) from the store.
async fn refresh_board(tickets: &TicketApi, hub: &WarningsHub) {
    let now = tickets.now();
    match tickets
        .worker()
        .call(move |s, _| {
            list(
                s,
                now - chrono::Duration::days(1),
                now + chrono::Duration::minutes(1),
                None,
                ON_BOARD,
            )
            .map_err(Into::into)
        })
        .await
    {
        Ok(list) => {
            hub.board.send_replace(Arc::new(list));
        }
        Err(e) => tracing::warn!(error = %e, "the wallboard's warnings could not be read"),
    }
}
