//! Call records and the call journal in the shared PostgreSQL store (issue 19). On one
//! machine they are files (`shell::records`, `shell::journal`); with `[storage] url` they are
//! also rows, so that the engine taking over from a dead one can close that engine's live
//! calls (outcome `lost_in_failover`) and show the same 24 h figures.
//!
//! The engine task never waits on the database: [`SharedCalls`] hands each milestone and
//! record to a writer task over a bounded channel, and the writer commits them in batches
//! (one transaction per batch), keeping a failed batch and trying again once reconnected.
//! The local files stay the engine's own durable copy; a milestone not yet committed when the
//! engine dies is the one a takeover cannot see (at most one batch, a few milliseconds).
//! Makes no decision: which calls were lost and how they count is `journal::closed` and
//! `records::kpi_events`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio_postgres::{Client, NoTls};

use crate::call::record::{CallOutcome, CallRecord, JournalEntry};

/// How many writes wait for the writer before the engine drops new ones (with a count and a
/// log line: the local files still have them).
pub const QUEUE: usize = 8192;

/// The most writes one transaction carries.
const BATCH: usize = 512;

/// How long the writer waits before it tries a lost connection again.
const RETRY: Duration = Duration::from_secs(1);

/// How far back a new active engine reads records to rebuild the rolling figures (the
/// 24 h window, and the day before for calls answered before it and ended inside it).
const KPI_HISTORY: &str = "2 days";

const UPSERT_JOURNAL: &str = "INSERT INTO call_journal (call_id, node, written_at, entry) \
    VALUES ($1, $2, now(), $3::text::jsonb) ON CONFLICT (call_id) DO UPDATE SET \
    node = EXCLUDED.node, written_at = EXCLUDED.written_at, entry = EXCLUDED.entry";

/// A record replaces one written before for the same call (the engine that really had the
/// call knows better than a takeover that guessed it lost).
const UPSERT_RECORD: &str = "INSERT INTO call_records (call_id, node, ended_at, record) \
    VALUES ($1, $2, $3, $4::text::jsonb) ON CONFLICT (call_id) DO UPDATE SET \
    node = EXCLUDED.node, ended_at = EXCLUDED.ended_at, record = EXCLUDED.record";

const DELETE_JOURNAL: &str = "DELETE FROM call_journal WHERE call_id = $1";

/// One write for the shared store.
#[derive(Debug, Clone)]
enum CallWrite {
    /// A live call's latest milestone.
    Journal(Box<JournalEntry>),
    /// A finished call: its record in, its journal row out.
    Finished(Box<CallRecord>),
}

/// Counts for `/metrics`.
#[derive(Debug, Default)]
pub struct SharedCallsStats {
    /// Writes committed.
    pub written: AtomicU64,
    /// Writes dropped because the writer was too far behind (the local files have them).
    pub dropped: AtomicU64,
    /// Batches that failed and were tried again.
    pub retries: AtomicU64,
}

/// The engine task's end of the writer.
#[derive(Debug, Clone)]
pub struct SharedCalls {
    tx: mpsc::Sender<CallWrite>,
    stats: Arc<SharedCallsStats>,
}

impl SharedCalls {
    /// Starts the writer on `url` as `node`. It connects in the background (and again after
    /// any failure); writes wait in the channel meanwhile.
    pub fn spawn(
        url: &str,
        node: &str,
        timeout: Duration,
    ) -> Result<(Self, tokio::task::JoinHandle<()>), tokio_postgres::Error> {
        let mut pg: tokio_postgres::Config = url.parse()?;
        pg.connect_timeout(timeout)
            .keepalives(true)
            .application_name(format!("hotline-{node}-calls"));
        let (tx, rx) = mpsc::channel(QUEUE);
        let stats = Arc::new(SharedCallsStats::default());
        let writer = Writer {
            pg,
            node: node.to_string(),
            timeout,
            stats: stats.clone(),
        };
        let task = tokio::spawn(writer.run(rx));
        Ok((SharedCalls { tx, stats }, task))
    }

    /// The counters the writer keeps.
    pub fn stats(&self) -> Arc<SharedCallsStats> {
        self.stats.clone()
    }

    /// A live call's milestone (the shared copy of `call-journal.jsonl`'s line).
    pub fn journal(&self, entry: &JournalEntry) {
        self.send(CallWrite::Journal(Box::new(entry.clone())));
    }

    /// A finished call's record.
    pub fn finished(&self, record: &CallRecord) {
        self.send(CallWrite::Finished(Box::new(record.clone())));
    }

    fn send(&self, write: CallWrite) {
        if self.tx.try_send(write).is_err() {
            let n = self.stats.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n == 1 || n.is_power_of_two() {
                tracing::error!(
                    dropped = n,
                    "shared call store: the writer is behind; this write is only in the local files"
                );
            }
        }
    }
}

/// The writer's connection and its prepared statements.
struct Session {
    client: Client,
    journal: tokio_postgres::Statement,
    record: tokio_postgres::Statement,
    unjournal: tokio_postgres::Statement,
}

struct Writer {
    pg: tokio_postgres::Config,
    node: String,
    timeout: Duration,
    stats: Arc<SharedCallsStats>,
}

impl Writer {
    /// Until every sender is gone and everything received is committed (or, with no
    /// database, until the senders are gone: the files keep what could not be written).
    async fn run(self, mut rx: mpsc::Receiver<CallWrite>) {
        let mut session: Option<Session> = None;
        let mut batch: Vec<CallWrite> = Vec::new();
        let mut closed = false;
        loop {
            if batch.is_empty() {
                match rx.recv().await {
                    Some(w) => batch.push(w),
                    None => return,
                }
            }
            while batch.len() < BATCH {
                match rx.try_recv() {
                    Ok(w) => batch.push(w),
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => {
                        closed = true;
                        break;
                    }
                }
            }
            if session.as_ref().is_none_or(|s| s.client.is_closed()) {
                session = self.connect().await;
            }
            let done = match &mut session {
                Some(c) => tokio::time::timeout(self.timeout, self.commit(c, &batch))
                    .await
                    .map_err(|_| "timed out".to_string())
                    .and_then(|r| r.map_err(|e| e.to_string())),
                None => Err("not connected".into()),
            };
            match done {
                Ok(()) => {
                    self.stats
                        .written
                        .fetch_add(batch.len() as u64, Ordering::Relaxed);
                    batch.clear();
                }
                Err(e) => {
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(error = %e, writes = batch.len(), "shared call store: batch not written; trying again");
                    session = None;
                    if closed {
                        // Shutting down with the database gone: the files have these.
                        tracing::error!(
                            writes = batch.len(),
                            "shared call store: writes left unwritten at shutdown"
                        );
                        return;
                    }
                    tokio::time::sleep(RETRY).await;
                }
            }
            if closed && batch.is_empty() {
                return;
            }
        }
    }

    /// A session with the writer's statements prepared (once per connection, not per batch).
    async fn connect(&self) -> Option<Session> {
        let open = async {
            let (client, connection) = self.pg.connect(NoTls).await?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::warn!(error = %e, "shared call store: connection ended");
                }
            });
            let journal = client.prepare(UPSERT_JOURNAL).await?;
            let record = client.prepare(UPSERT_RECORD).await?;
            let unjournal = client.prepare(DELETE_JOURNAL).await?;
            Ok::<_, tokio_postgres::Error>(Session {
                client,
                journal,
                record,
                unjournal,
            })
        };
        match tokio::time::timeout(self.timeout, open).await {
            Ok(Ok(s)) => Some(s),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "shared call store: cannot connect");
                None
            }
            Err(_) => {
                tracing::warn!("shared call store: cannot connect in time");
                None
            }
        }
    }

    async fn commit(&self, s: &mut Session, batch: &[CallWrite]) -> Result<(), WriteError> {
        let (journal, record, unjournal) =
            (s.journal.clone(), s.record.clone(), s.unjournal.clone());
        let tx = s.client.transaction().await?;
        for w in batch {
            match w {
                CallWrite::Journal(e) => {
                    let text = serde_json::to_string(e)?;
                    tx.execute(&journal, &[&e.call.id, &self.node, &text])
                        .await?;
                }
                CallWrite::Finished(r) => {
                    let text = serde_json::to_string(r)?;
                    tx.execute(&record, &[&r.call.id, &self.node, &r.ended_at, &text])
                        .await?;
                    tx.execute(&unjournal, &[&r.call.id]).await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Why a batch was not written.
#[derive(Debug, thiserror::Error)]
enum WriteError {
    #[error("{0}")]
    Pg(#[from] tokio_postgres::Error),
    #[error("cannot serialise: {0}")]
    Json(#[from] serde_json::Error),
}

/// A call the dead engine was serving, closed by the engine that took over.
#[derive(Debug, Clone, PartialEq)]
pub struct LostCall {
    /// Its record (outcome `lost_in_failover`), already in the shared store.
    pub record: CallRecord,
    /// The engine it was live on.
    pub node: String,
    /// The whole caller number when a person had answered (to open the draft ticket again).
    pub caller_number: Option<String>,
}

/// What a new active engine reads from the shared store as it takes over.
#[derive(Debug, Default)]
pub struct TakeOver {
    /// The dead engine's live calls, now closed.
    pub lost: Vec<LostCall>,
    /// Every record of the last two days (the lost ones included), oldest first.
    pub records: Vec<CallRecord>,
}

/// Why a takeover could not read or close the calls.
#[derive(Debug, thiserror::Error)]
pub enum TakeOverError {
    #[error("{0}")]
    Pg(#[from] tokio_postgres::Error),
    #[error("cannot serialise a record: {0}")]
    Json(#[from] serde_json::Error),
}

/// Closes every journalled call (all belonged to engines that are gone: the new active engine
/// has none, a standby takes no calls) as `lost_in_failover` at the database's `now()`, in one
/// transaction on the leadership session (so only the lock holder does it), then reads the
/// records of the last two days. `client` must not be used by anyone else meanwhile.
pub async fn take_over(client: &Client) -> Result<TakeOver, TakeOverError> {
    client.batch_execute("BEGIN").await?;
    let closed = close_lost(client).await;
    match closed {
        Ok(lost) => {
            client.batch_execute("COMMIT").await?;
            let records = recent_records(client).await?;
            Ok(TakeOver { lost, records })
        }
        Err(e) => {
            let _ = client.batch_execute("ROLLBACK").await;
            Err(e)
        }
    }
}

async fn close_lost(client: &Client) -> Result<Vec<LostCall>, TakeOverError> {
    let rows = client
        .query(
            "SELECT call_id, node, entry::text, now() FROM call_journal ORDER BY written_at FOR UPDATE",
            &[],
        )
        .await?;
    let insert = client
        .prepare(
            "INSERT INTO call_records (call_id, node, ended_at, record) \
             VALUES ($1, $2, $3, $4::text::jsonb) ON CONFLICT (call_id) DO NOTHING",
        )
        .await?;
    let mut lost = Vec::new();
    for row in rows {
        let id: String = row.try_get(0)?;
        let node: String = row.try_get(1)?;
        let text: String = row.try_get(2)?;
        let now: DateTime<Utc> = row.try_get(3)?;
        client.execute(DELETE_JOURNAL, &[&id]).await?;
        let entry: JournalEntry = match serde_json::from_str(&text) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(call = %id, error = %e, "cluster: a journalled call does not parse; dropped");
                continue;
            }
        };
        let caller_number = entry.caller_number.clone();
        let record = crate::shell::journal::closed(entry, CallOutcome::LostInFailover, now);
        let json = serde_json::to_string(&record)?;
        let written = client
            .execute(&insert, &[&id, &node, &record.ended_at, &json])
            .await?;
        if written == 1 {
            lost.push(LostCall {
                record,
                node,
                caller_number,
            });
        }
    }
    Ok(lost)
}

async fn recent_records(client: &Client) -> Result<Vec<CallRecord>, TakeOverError> {
    let rows = client
        .query(
            &format!(
                "SELECT record::text FROM call_records WHERE ended_at > now() - interval '{KPI_HISTORY}' ORDER BY ended_at"
            ),
            &[],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let text: String = row.try_get(0)?;
        match serde_json::from_str::<CallRecord>(&text) {
            Ok(r) => out.push(r),
            Err(e) => {
                tracing::warn!(error = %e, "cluster: a shared call record does not parse; skipped")
            }
        }
    }
    Ok(out)
}

/// How many records one page of a long read fetches.
const READ_PAGE: i64 = 2000;

/// Calls `each` with every record that ended in `[from, to)`, oldest first, until it
/// returns `false`: pages of [`READ_PAGE`] on a session of its own, so a year's export never
/// sits in memory. Blocking: from `spawn_blocking`, inside the runtime.
pub fn for_each_between(
    url: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    mut each: impl FnMut(CallRecord) -> bool,
) -> Result<(), TakeOverError> {
    let handle = tokio::runtime::Handle::current();
    let client = handle.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(error = %e, "call record reader: connection ended");
            }
        });
        Ok::<_, tokio_postgres::Error>(client)
    })?;
    let mut after: (DateTime<Utc>, String) = (from, String::new());
    loop {
        let rows = handle.block_on(client.query(
            "SELECT ended_at, call_id, record::text FROM call_records \
             WHERE ended_at >= $1 AND ended_at < $2 AND (ended_at, call_id) > ($3, $4) \
             ORDER BY ended_at, call_id LIMIT $5",
            &[&from, &to, &after.0, &after.1, &READ_PAGE],
        ))?;
        let full = rows.len() as i64 == READ_PAGE;
        for row in rows {
            let at: DateTime<Utc> = row.try_get(0)?;
            let id: String = row.try_get(1)?;
            let text: String = row.try_get(2)?;
            after = (at, id);
            match serde_json::from_str::<CallRecord>(&text) {
                Ok(r) => {
                    if !each(r) {
                        return Ok(());
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "a shared call record does not parse; skipped")
                }
            }
        }
        if !full {
            return Ok(());
        }
    }
}
