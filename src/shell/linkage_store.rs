//! C12's linkage figures in SQLite: the `emergency_links` table, one row per
//! `linked_emergency` event, written in the same transaction as the event, read by time for
//! the statistics (`GET /api/stats`). An index of the log, like the `tickets` rows.

use chrono::{DateTime, FixedOffset};
use rusqlite::{params, Connection};

use crate::shell::ticket_store::backend;
use crate::workflow::event::Event;
use crate::workflow::model::TicketId;
use crate::workflow::store::{linkages_in, EmergencyLinkage, StoreError};

/// Indexes the linkages among `events` (just appended to ticket `id`).
pub(crate) fn put(conn: &Connection, id: &TicketId, events: &[Event]) -> Result<(), StoreError> {
    for (seq, l) in linkages_in(id, events) {
        let service = crate::shell::ticket_store::wire(&l.service);
        conn.prepare_cached(
            "INSERT OR REPLACE INTO emergency_links (ticket_id, seq, at_ts, service, after_secs) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .and_then(|mut s| {
            s.execute(params![
                id.0,
                seq as i64,
                l.at.timestamp(),
                service,
                l.after_secs
            ])
        })
        .map_err(backend)?;
    }
    Ok(())
}

/// The linkages made in `[from, to)`, oldest first.
pub(crate) fn between(
    conn: &Connection,
    from: DateTime<FixedOffset>,
    to: DateTime<FixedOffset>,
) -> Result<Vec<EmergencyLinkage>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT ticket_id, at_ts, service, after_secs FROM emergency_links \
             WHERE at_ts >= ?1 AND at_ts < ?2 ORDER BY at_ts, ticket_id, seq",
        )
        .map_err(backend)?;
    let rows = stmt
        .query_map(params![from.timestamp(), to.timestamp()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<i64>>(3)?,
            ))
        })
        .map_err(backend)?;
    let mut out = Vec::new();
    for row in rows {
        let (ticket, ts, service, after_secs) = row.map_err(backend)?;
        // A service this version does not know (a row from a newer one) is left out.
        let Ok(service) = serde_json::from_value(serde_json::Value::String(service)) else {
            continue;
        };
        let Some(at) = DateTime::from_timestamp(ts, 0) else {
            continue;
        };
        out.push(EmergencyLinkage {
            ticket: TicketId(ticket),
            service,
            at: at.with_timezone(from.offset()),
            after_secs,
        });
    }
    Ok(out)
}
