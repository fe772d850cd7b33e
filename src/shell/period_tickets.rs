//! Reads the tickets a report over a period needs, with their whole event logs, for the
//! conformance report (`analytics::conformance`), which decides everything from them; and the
//! read-only connection the reports read through, beside the ticket thread.

use chrono::{DateTime, Utc};
use rusqlite::params;

use crate::analytics::deadlines::TicketHistory;
use crate::shell::store::{RowPick, Store, StoreAt, TallyRow};
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

    pub(crate) fn index_rows(
        &mut self,
        pick: &RowPick,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        let conn = &self.conn;
        match pick {
            RowPick::Received(from, to) => conn
                .prepare_cached(
                    "SELECT row_json FROM tickets WHERE received_ts >= ?1 AND received_ts < ?2 \
                     ORDER BY received_ts, id LIMIT ?3",
                )
                .map_err(backend)?
                .query_map(params![from, to, limit], |r| r.get(0))
                .map_err(backend)?
                .collect::<Result<_, _>>(),
            RowPick::RegisteredFrom(id) => conn
                .prepare_cached("SELECT row_json FROM tickets WHERE id >= ?1 ORDER BY id LIMIT ?2")
                .map_err(backend)?
                .query_map(params![id, limit], |r| r.get(0))
                .map_err(backend)?
                .collect::<Result<_, _>>(),
        }
        .map_err(backend)
    }

    pub(crate) fn first_received(&mut self) -> Result<Option<i64>, StoreError> {
        self.conn
            .query_row("SELECT MIN(received_ts) FROM tickets", [], |r| r.get(0))
            .map_err(backend)
    }

    pub(crate) fn agent_tally(
        &mut self,
        from: i64,
        to: i64,
        lowest_id: &str,
    ) -> Result<Vec<TallyRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT json_extract(body, '$.actor.user') AS user, \
                    SUM(json_extract(body, '$.event') IN ('created', 'completed')), \
                    SUM(json_extract(body, '$.event') IN \
                          ('directly_closed', 'refused', 'linked_result', 'linked_as_repeat') \
                        OR (json_extract(body, '$.event') = 'callback_made' \
                            AND json_extract(body, '$.consent') = 0)) \
             FROM events \
             WHERE ticket_id >= ?3 \
               AND json_extract(body, '$.event') IN ('created', 'completed', 'directly_closed', \
                   'refused', 'linked_result', 'linked_as_repeat', 'callback_made') \
               AND json_extract(body, '$.actor.role') = 'agent' \
               AND CAST(strftime('%s', at) AS INTEGER) >= ?1 \
               AND CAST(strftime('%s', at) AS INTEGER) < ?2 \
             GROUP BY user ORDER BY user",
            )
            .map_err(backend)?;
        let rows = stmt
            .query_map(params![from, to, lowest_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .map_err(backend)?;
        rows.collect::<Result<_, _>>().map_err(backend)
    }
}

/// Runs `read` on a reader of the store (SQLite's read-only connection, or a PostgreSQL
/// session of its own), off the async threads.
pub async fn read<R: Send + 'static>(
    at: StoreAt,
    read: impl FnOnce(&mut Store) -> Result<R, StoreError> + Send + 'static,
) -> Result<R, StoreError> {
    tokio::task::spawn_blocking(move || read(&mut at.open_reader()?))
        .await
        .map_err(|e| StoreError::Backend(e.to_string()))?
}

/// The tickets received from [`LOOKBACK_DAYS`] before `from` until `to`, oldest first, each
/// with its event log; and whether [`MAX_TICKETS`] cut the list.
pub fn histories(
    store: &mut Store,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(Vec<TicketHistory>, bool), StoreError> {
    let since = (from - chrono::Duration::days(LOOKBACK_DAYS)).timestamp();
    let rows = store.index_rows(
        &RowPick::Received(since, to.timestamp()),
        MAX_TICKETS as i64 + 1,
    )?;
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
