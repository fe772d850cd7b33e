//! The PostgreSQL connection of the ticket store (issue 19): one session, owned by the ticket
//! thread, over `tokio-postgres` driven by a current-thread runtime of its own (the store
//! interface is synchronous, like the workflow core that calls it). Migrations from
//! `src/shell/migrations/postgres/*.sql`, tracked in `hotline_schema` and serialised between
//! engines by an advisory lock.
//!
//! Durability: the session runs with `synchronous_commit = on`, so a `COMMIT` returns after
//! the commit record is flushed on the primary (and on the synchronous standbys the server
//! names in `synchronous_standby_names`); the worker answers its callers only after it.
//! Group commit as on SQLite: a batch is one transaction, each write in a `SAVEPOINT`.

use std::collections::HashMap;
use std::future::Future;

use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls, Row, Statement};

use crate::workflow::store::StoreError;

/// Migrations, in order; the index is the schema version they bring the database to.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/postgres/0001_tickets.sql"),
    include_str!("../migrations/postgres/0002_calls.sql"),
    include_str!("../migrations/postgres/0003_audits.sql"),
    include_str!("../migrations/postgres/0004_agent_activity.sql"),
    include_str!("../migrations/postgres/0005_warnings.sql"),
    include_str!("../migrations/postgres/0006_kb.sql"),
];

/// The advisory-lock key migrations hold ("hotline" + 0x01): two engines starting together
/// migrate one after the other. Leadership uses a different key.
const MIGRATION_LOCK: i64 = 0x686f_746c_696e_6501;

/// Prepared statements kept per session; the listing's filters make a few hundred at most.
const MAX_STATEMENTS: usize = 512;

/// A parameter list.
pub(crate) type Params<'a> = [&'a (dyn ToSql + Sync)];

/// A PostgreSQL error as a store error: a full disk (`53100`) is [`StoreError::Full`], so the
/// API answers 507 and the engine retries, as with SQLite.
pub(crate) fn pg_err(e: tokio_postgres::Error) -> StoreError {
    match e.as_db_error() {
        Some(db) if db.code() == &SqlState::DISK_FULL => StoreError::Full,
        Some(db) => StoreError::Backend(format!("postgres {}: {}", db.code().code(), db.message())),
        None => StoreError::Backend(format!("postgres: {e}")),
    }
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Runs `f` to completion on `rt`. From inside another runtime (an async test, the serve
/// start-up) a runtime may not block its own thread, so `f` runs on a scoped thread then.
fn block<F>(rt: &tokio::runtime::Runtime, f: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|s| match s.spawn(|| rt.block_on(f)).join() {
            Ok(out) => out,
            Err(panic) => std::panic::resume_unwind(panic),
        })
    } else {
        rt.block_on(f)
    }
}

async fn connect(url: &str) -> Result<Client, StoreError> {
    let mut config: tokio_postgres::Config = url
        .parse()
        .map_err(|e| backend(format!("storage.url: {e}")))?;
    if config.get_password().is_none() {
        // As libpq does: the password out of the configuration file.
        if let Some(p) = std::env::var_os("PGPASSWORD") {
            config.password(p.into_encoded_bytes());
        }
    }
    let (client, connection) = config.connect(NoTls).await.map_err(pg_err)?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "ticket store: PostgreSQL session ended");
        }
    });
    // Explicit, whatever the server's default: an acknowledged write is flushed.
    client
        .batch_execute("SET synchronous_commit = on; SET application_name = 'hotline'")
        .await
        .map_err(pg_err)?;
    Ok(client)
}

/// The session's own runtime. Dropped in the background: a store may be dropped inside an
/// async context (a test, a failed start), where blocking to shut a runtime down panics.
struct OwnRuntime(Option<tokio::runtime::Runtime>);

impl OwnRuntime {
    fn get(&self) -> &tokio::runtime::Runtime {
        match &self.0 {
            Some(rt) => rt,
            None => unreachable!("the runtime is only taken when the store is dropped"),
        }
    }
}

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// One PostgreSQL session and its transaction state.
pub struct PgStore {
    url: String,
    rt: OwnRuntime,
    client: Client,
    statements: HashMap<String, Statement>,
    pub(super) in_batch: bool,
    /// The session failed inside the batch (it is rolled back): why; later writes of the batch
    /// are refused with it.
    pub(super) batch_lost: Option<StoreError>,
    /// Writes that succeeded, to tell whether a batch wrote anything.
    pub(super) writes: u64,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: not shown.
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to `url`, sets `synchronous_commit = on` and migrates.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let mut store = Self::open_unmigrated(url)?;
        store.migrate()?;
        Ok(store)
    }

    /// Connects without migrating (a reader beside the ticket thread).
    pub fn open_unmigrated(url: &str) -> Result<Self, StoreError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(backend)?;
        let client = block(&rt, connect(url))?;
        Ok(Self {
            url: url.to_string(),
            rt: OwnRuntime(Some(rt)),
            client,
            statements: HashMap::new(),
            in_batch: false,
            batch_lost: None,
            writes: 0,
        })
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        self.simple("BEGIN")?;
        let r = self.migrate_in_transaction();
        match r {
            Ok(()) => self.simple("COMMIT"),
            Err(e) => {
                let _ = self.simple("ROLLBACK");
                Err(e)
            }
        }
    }

    fn migrate_in_transaction(&mut self) -> Result<(), StoreError> {
        self.query("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        self.simple("CREATE TABLE IF NOT EXISTS hotline_schema (version BIGINT NOT NULL)")?;
        let current: i64 = match self.query_opt("SELECT max(version) FROM hotline_schema", &[])? {
            Some(row) => row
                .try_get::<_, Option<i64>>(0)
                .map_err(pg_err)?
                .unwrap_or(0),
            None => 0,
        };
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
            self.simple(sql)
                .map_err(|e| backend(format!("postgres migration {}: {e}", i + 1)))?;
            let version = i as i64 + 1;
            self.execute(
                "INSERT INTO hotline_schema (version) VALUES ($1)",
                &[&version],
            )?;
        }
        Ok(())
    }

    /// The schema version (the number of migrations applied).
    pub fn schema_version(&mut self) -> Result<i64, StoreError> {
        let row = self.query_one("SELECT coalesce(max(version), 0) FROM hotline_schema", &[])?;
        row.try_get(0).map_err(pg_err)
    }

    /// The session's `synchronous_commit` (for tests and the health page).
    pub fn synchronous_commit(&mut self) -> Result<String, StoreError> {
        let row = self.query_one("SHOW synchronous_commit", &[])?;
        row.try_get(0).map_err(pg_err)
    }

    /// A new session after the old one ended (the server restarted, the network cut it):
    /// only between transactions, never inside a batch.
    fn reconnect_if_closed(&mut self) -> Result<(), StoreError> {
        if !self.client.is_closed() || self.in_batch {
            return Ok(());
        }
        tracing::warn!("ticket store: reconnecting to PostgreSQL");
        self.client = block(self.rt.get(), connect(&self.url))?;
        self.statements.clear();
        Ok(())
    }

    fn statement(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = block(self.rt.get(), self.client.prepare(sql)).map_err(pg_err)?;
        if self.statements.len() >= MAX_STATEMENTS {
            self.statements.clear();
        }
        self.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }

    /// Runs statements without parameters (`BEGIN`, a migration).
    pub(crate) fn simple(&mut self, sql: &str) -> Result<(), StoreError> {
        self.reconnect_if_closed()?;
        block(self.rt.get(), self.client.batch_execute(sql)).map_err(pg_err)
    }

    /// Rows of a query (a prepared statement, cached).
    pub(crate) fn query(&mut self, sql: &str, params: &Params<'_>) -> Result<Vec<Row>, StoreError> {
        self.reconnect_if_closed()?;
        let stmt = self.statement(sql)?;
        block(self.rt.get(), self.client.query(&stmt, params)).map_err(pg_err)
    }

    /// At most one row.
    pub(crate) fn query_opt(
        &mut self,
        sql: &str,
        params: &Params<'_>,
    ) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Exactly one row.
    pub(crate) fn query_one(&mut self, sql: &str, params: &Params<'_>) -> Result<Row, StoreError> {
        self.query_opt(sql, params)?
            .ok_or_else(|| backend(format!("postgres: no row for {sql}")))
    }

    /// Rows changed by a statement.
    pub(crate) fn execute(&mut self, sql: &str, params: &Params<'_>) -> Result<u64, StoreError> {
        self.reconnect_if_closed()?;
        let stmt = self.statement(sql)?;
        block(self.rt.get(), self.client.execute(&stmt, params)).map_err(pg_err)
    }

    /// Opens the group transaction.
    pub(crate) fn begin_batch(&mut self) -> Result<u64, StoreError> {
        self.simple("BEGIN")?;
        self.in_batch = true;
        self.batch_lost = None;
        Ok(self.writes)
    }

    /// Commits the group transaction (or rolls it back when it was lost); answers whether
    /// anything was written since `before`.
    pub(crate) fn end_batch(&mut self, before: u64) -> Result<bool, StoreError> {
        self.in_batch = false;
        if let Some(e) = self.batch_lost.take() {
            let _ = self.simple("ROLLBACK");
            return Err(e);
        }
        match self.simple("COMMIT") {
            Ok(()) => Ok(self.writes > before),
            Err(e) => {
                let _ = self.simple("ROLLBACK");
                Err(e)
            }
        }
    }

    /// One atomic write: a savepoint inside a batch, else its own transaction, committed
    /// before it returns.
    pub(crate) fn write<R>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let (begin, commit, rollback) = if self.in_batch {
            (
                "SAVEPOINT w",
                "RELEASE SAVEPOINT w",
                "ROLLBACK TO SAVEPOINT w; RELEASE SAVEPOINT w",
            )
        } else {
            ("BEGIN", "COMMIT", "ROLLBACK")
        };
        if let Some(e) = self.batch_lost.as_ref().filter(|_| self.in_batch) {
            return Err(e.clone());
        }
        self.simple(begin)?;
        let result = match f(self) {
            Ok(r) => match self.simple(commit) {
                Ok(()) => Ok(r),
                Err(e) => {
                    let _ = self.simple(rollback);
                    Err(e)
                }
            },
            Err(e) => {
                if self.simple(rollback).is_err() && self.in_batch {
                    // The savepoint could not be restored: the batch is gone with the session.
                    self.batch_lost = Some(e.clone());
                }
                Err(e)
            }
        };
        if result.is_ok() {
            self.writes += 1;
        } else if self.in_batch && self.client.is_closed() {
            if let Err(e) = &result {
                self.batch_lost = Some(e.clone());
            }
        }
        result
    }
}
