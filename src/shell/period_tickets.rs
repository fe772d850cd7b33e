//! Reads the tickets a report over a period needs, with their whole event logs, for the
//! conformance report (`analytics::conformance`), which decides everything from them; and the
//! read-only connection the reports read through, beside the ticket thread.

use chrono::{DateTime, Utc};
use rusqlite::params;

use crate::analytics::deadlines::TicketHistory;
use crate::shell::ticket_store::SqliteStore;
use crate::workflow::store::{IndexRow, StoreError, TicketStore};

/// How far before the period tickets are read: a deadline that falls due in the period may
/// belong to a request received this long before (15 working days of feedback, extended
/// twice, a return or two).
pub const LOOKBACK_DAYS: i64 = 120;

/// At most this many tickets are read for one report (the report says when it was cut).
pub const MAX_TICKETS: usize = 200_000;

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl SqliteStore {
    /// A read-only connection to the running store (`data_dir/tickets.sqlite`), for reports
    /// over long periods: WAL lets it read beside the ticket thread, so a month's conformance
    /// report never holds up ticket writes.
    pub fn open_reader(data_dir: &std::path::Path) -> Result<Self, StoreError> {
        use rusqlite::OpenFlags;
        let path = data_dir.join("tickets.sqlite");
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = rusqlite::Connection::open_with_flags(&path, flags)
            .map_err(|e| StoreError::Backend(format!("{}: {e}", path.display())))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(backend)?;
        Ok(Self {
            conn,
            path,
            in_batch: false,
            batch_lost: None,
        })
    }
}

/// Runs `read` on a read-only connection to the store, off the async threads.
pub async fn read<R: Send + 'static>(
    data_dir: std::path::PathBuf,
    read: impl FnOnce(&mut SqliteStore) -> Result<R, StoreError> + Send + 'static,
) -> Result<R, StoreError> {
    tokio::task::spawn_blocking(move || read(&mut SqliteStore::open_reader(&data_dir)?))
        .await
        .map_err(|e| StoreError::Backend(e.to_string()))?
}

/// The tickets received from [`LOOKBACK_DAYS`] before `from` until `to`, oldest first, each
/// with its event log; and whether [`MAX_TICKETS`] cut the list.
pub fn histories(
    store: &mut SqliteStore,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(Vec<TicketHistory>, bool), StoreError> {
    let since = (from - chrono::Duration::days(LOOKBACK_DAYS)).timestamp();
    let rows: Vec<String> = store
        .connection()
        .prepare_cached(
            "SELECT row_json FROM tickets WHERE received_ts >= ?1 AND received_ts < ?2 \
             ORDER BY received_ts, id LIMIT ?3",
        )
        .map_err(backend)?
        .query_map(
            params![since, to.timestamp(), MAX_TICKETS as i64 + 1],
            |r| r.get(0),
        )
        .map_err(backend)?
        .collect::<Result<_, _>>()
        .map_err(backend)?;
    let cut = rows.len() > MAX_TICKETS;
    let mut out = Vec::with_capacity(rows.len().min(MAX_TICKETS));
    for json in rows.iter().take(MAX_TICKETS) {
        let Ok(row) = serde_json::from_str::<IndexRow>(json) else {
            tracing::warn!("skipping an unreadable ticket index row in the report");
            continue;
        };
        let events = store.events(&row.id)?;
        out.push(TicketHistory {
            id: row.id.to_string(),
            channel: row.channel,
            received_at: row.received_at,
            responded_at: row.responded_at,
            call_id: row.call_id,
            events,
        });
    }
    Ok((out, cut))
}
