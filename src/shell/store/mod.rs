//! One store interface, two backends (issue 19): the tickets (their events, index rows, unit
//! visibility, emergency linkages), the read, monitoring and export audits, agent activity
//! and the early warnings live in SQLite under `data_dir` on one machine, or all in the
//! PostgreSQL server of `[storage] url` that two engines share (nothing of them stays in
//! `data_dir/tickets.sqlite` then, so a second engine sees every row). The ticket thread
//! (`shell::ticket_worker`) owns a [`Store`]; the workflow core sees only [`TicketStore`];
//! the audit, activity and warning modules take a [`Store`] and send each backend its SQL
//! (PostgreSQL's in `pg_audits.rs` and `pg_activity.rs`). The knowledge base is the other
//! store on the same two backends (`shell::kb_store` over `kb.sqlite` or `pg_kb.rs`, its own
//! session, since it runs beside the ticket thread). `docs/DEPLOY.md` ("what lives where")
//! lists what still stays per machine (files: attachments' bytes, recordings, the portal
//! key). The call records and the call journal are shared through `pg_calls` (a writer task
//! beside the engine, and the takeover's reads). Makes no business decision.

mod pg_activity;
mod pg_audits;
pub mod pg_calls;
mod pg_kb;
mod pg_reads;
pub mod pg_tickets;
pub mod postgres;

use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, NaiveDate};

pub use postgres::PgStore;

use crate::shell::ticket_store::{Durability, SqliteStore};
use crate::workflow::event::Event;
use crate::workflow::repeat::RepeatCandidate;
use crate::workflow::store::{
    EmergencyLinkage, IndexRow, InternetBacklog, InternetResponse, ListQuery, Page, Report,
    StoreError, TicketStore,
};
use crate::workflow::TicketId;

/// Where the store is: always a data folder (SQLite files), and a PostgreSQL URL when the
/// tickets are shared.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreAt {
    pub data_dir: PathBuf,
    pub postgres: Option<String>,
}

impl std::fmt::Debug for StoreAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: only whether there is one.
        f.debug_struct("StoreAt")
            .field("data_dir", &self.data_dir)
            .field("postgres", &self.postgres.is_some())
            .finish()
    }
}

impl StoreAt {
    /// SQLite only, under `data_dir`.
    pub fn sqlite(data_dir: &Path) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
            postgres: None,
        }
    }

    /// The ticket database file (the whole store on SQLite; unused on PostgreSQL).
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("tickets.sqlite")
    }

    /// Opens (creating and migrating) the store the ticket thread writes.
    pub fn open(&self, durability: Durability) -> Result<Store, StoreError> {
        Ok(match &self.postgres {
            None => Store::Sqlite(SqliteStore::open(&self.sqlite_path(), durability)?),
            Some(url) => Store::Postgres {
                pg: Box::new(PgStore::open(url)?),
            },
        })
    }

    /// A reader beside the ticket thread, for reports over long periods.
    pub fn open_reader(&self) -> Result<Store, StoreError> {
        Ok(match &self.postgres {
            None => Store::Sqlite(SqliteStore::open_reader(&self.data_dir)?),
            Some(url) => Store::Postgres {
                pg: Box::new(PgStore::open_unmigrated(url)?),
            },
        })
    }
}

macro_rules! both {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            Store::Sqlite($s) => $e,
            Store::Postgres { pg: $s, .. } => $e,
        }
    };
}

/// The ticket store on one backend or the other.
#[derive(Debug)]
pub enum Store {
    Sqlite(SqliteStore),
    /// Every durable table in PostgreSQL.
    Postgres {
        pg: Box<PgStore>,
    },
}

impl From<SqliteStore> for Store {
    fn from(s: SqliteStore) -> Self {
        Store::Sqlite(s)
    }
}

impl Store {
    /// A store over an open PostgreSQL session (tests and benches).
    pub fn postgres_only(pg: PgStore) -> Result<Self, StoreError> {
        Ok(Store::Postgres { pg: Box::new(pg) })
    }
}

/// Which tickets a period's analysis reads ([`Store::index_rows`]).
#[derive(Debug, Clone)]
pub enum RowPick {
    /// Received in `[from, to)` (unix seconds), oldest first.
    Received(i64, i64),
    /// Registered from this id on, by id.
    RegisteredFrom(String),
}

/// Per agent user: tickets created and closed (see `agent_activity::ticket_tally`).
pub type TallyRow = (Option<String>, i64, i64);

impl Store {
    /// The SQLite store, when that is the backend (tests that cap its file).
    pub fn sqlite(&mut self) -> Option<&mut SqliteStore> {
        match self {
            Store::Sqlite(s) => Some(s),
            Store::Postgres { .. } => None,
        }
    }

    /// Which backend holds the tickets, for logs and the health page.
    pub fn backend_name(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres { .. } => "postgres",
        }
    }

    /// Runs `f` with every write in one transaction (group commit), committed once at the
    /// end. `f`'s answer comes back even
    /// when nothing was kept, with whether anything was written and committed.
    pub(crate) fn batch_all<R>(
        &mut self,
        f: impl FnOnce(&mut Self) -> R,
    ) -> (R, Result<bool, StoreError>) {
        let marks = match self.begin_batch() {
            Ok(m) => m,
            Err(e) => {
                // Each write then commits (or fails) on its own and answers for itself; no
                // claim that anything was written (it would clear a `storage_full` alarm).
                tracing::warn!(error = %e, "ticket store: no group transaction");
                let r = f(self);
                return (r, Ok(false));
            }
        };
        let r = f(self);
        (r, self.end_batch(marks))
    }

    /// Runs `f` in one transaction, committed once (benches, bulk loads).
    pub fn batch<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> Result<R, StoreError> {
        let marks = self.begin_batch()?;
        let r = f(self);
        self.end_batch(marks).map(|_| r)
    }

    fn begin_batch(&mut self) -> Result<u64, StoreError> {
        both!(self, s => s.begin_batch())
    }

    fn end_batch(&mut self, mark: u64) -> Result<bool, StoreError> {
        both!(self, s => s.end_batch(mark))
    }

    /// Index rows (as stored JSON) of a period's tickets, at most `limit`.
    pub fn index_rows(&mut self, pick: &RowPick, limit: i64) -> Result<Vec<String>, StoreError> {
        match self {
            Store::Sqlite(s) => s.index_rows(pick, limit),
            Store::Postgres { pg, .. } => pg.index_rows(pick, limit),
        }
    }

    /// When the first request was received (unix seconds).
    pub fn first_received(&mut self) -> Result<Option<i64>, StoreError> {
        match self {
            Store::Sqlite(s) => s.first_received(),
            Store::Postgres { pg, .. } => pg.first_received(),
        }
    }

    /// Per agent user, in `[from, to)` (unix seconds), over tickets with ids from `lowest_id`.
    pub fn agent_tally(
        &mut self,
        from: i64,
        to: i64,
        lowest_id: &str,
    ) -> Result<Vec<TallyRow>, StoreError> {
        match self {
            Store::Sqlite(s) => s.agent_tally(from, to, lowest_id),
            Store::Postgres { pg, .. } => pg.agent_tally(from, to, lowest_id),
        }
    }
}

impl TicketStore for Store {
    fn next_id(&mut self, date: NaiveDate) -> Result<TicketId, StoreError> {
        both!(self, s => s.next_id(date))
    }
    fn insert(&mut self, events: &[Event], row: &IndexRow) -> Result<(), StoreError> {
        both!(self, s => s.insert(events, row))
    }
    fn events(&mut self, id: &TicketId) -> Result<Vec<Event>, StoreError> {
        both!(self, s => s.events(id))
    }
    fn append(
        &mut self,
        id: &TicketId,
        expected_version: u64,
        events: &[Event],
        row: &IndexRow,
    ) -> Result<(), StoreError> {
        both!(self, s => s.append(id, expected_version, events, row))
    }
    fn list(&mut self, query: &ListQuery) -> Result<Page, StoreError> {
        both!(self, s => s.list(query))
    }
    fn due_for_sweep(
        &mut self,
        at: DateTime<FixedOffset>,
        limit: u32,
    ) -> Result<Vec<TicketId>, StoreError> {
        both!(self, s => s.due_for_sweep(at, limit))
    }
    fn repeat_candidates(
        &mut self,
        phone_key: &str,
        since: DateTime<FixedOffset>,
    ) -> Result<Vec<RepeatCandidate>, StoreError> {
        both!(self, s => s.repeat_candidates(phone_key, since))
    }
    fn report(
        &mut self,
        from: Option<DateTime<FixedOffset>>,
        to: Option<DateTime<FixedOffset>>,
        now: DateTime<FixedOffset>,
    ) -> Result<Report, StoreError> {
        both!(self, s => s.report(from, to, now))
    }
    fn internet_backlog(
        &mut self,
        now: DateTime<FixedOffset>,
    ) -> Result<InternetBacklog, StoreError> {
        both!(self, s => s.internet_backlog(now))
    }
    fn internet_response(
        &mut self,
        from: DateTime<FixedOffset>,
        to: DateTime<FixedOffset>,
        now: DateTime<FixedOffset>,
    ) -> Result<InternetResponse, StoreError> {
        both!(self, s => s.internet_response(from, to, now))
    }
    fn emergency_linkages(
        &mut self,
        from: DateTime<FixedOffset>,
        to: DateTime<FixedOffset>,
    ) -> Result<Vec<EmergencyLinkage>, StoreError> {
        both!(self, s => s.emergency_linkages(from, to))
    }
}
