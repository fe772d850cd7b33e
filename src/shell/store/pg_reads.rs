//! The period reads of the analyses and reports on PostgreSQL (the SQLite twins are in
//! `shell::period_tickets`): index rows of a period, the first receipt, per-agent tallies.

use super::postgres::{pg_err, PgStore};
use super::{RowPick, TallyRow};
use crate::workflow::store::StoreError;

impl PgStore {
    pub(super) fn index_rows(
        &mut self,
        pick: &RowPick,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        let rows = match pick {
            RowPick::Received(from, to) => self.query(
                "SELECT row_json FROM tickets WHERE received_ts >= $1 AND received_ts < $2 \
                 ORDER BY received_ts, id LIMIT $3",
                &[from, to, &limit],
            )?,
            RowPick::RegisteredFrom(id) => self.query(
                "SELECT row_json FROM tickets WHERE id >= $1 ORDER BY id LIMIT $2",
                &[id, &limit],
            )?,
        };
        rows.iter().map(|r| r.try_get(0).map_err(pg_err)).collect()
    }

    pub(super) fn first_received(&mut self) -> Result<Option<i64>, StoreError> {
        self.query_one("SELECT MIN(received_ts) FROM tickets", &[])?
            .try_get(0)
            .map_err(pg_err)
    }

    pub(super) fn agent_tally(
        &mut self,
        from: i64,
        to: i64,
        lowest_id: &str,
    ) -> Result<Vec<TallyRow>, StoreError> {
        // The same events as the SQLite query (`agent_activity::ticket_tally`); JSON `false`
        // reads as the text 'false' here, as 0 in SQLite.
        let rows = self.query(
            "SELECT e.b #>> '{actor,user}' AS usr, \
                    SUM(CASE WHEN e.b ->> 'event' IN ('created', 'completed') THEN 1 ELSE 0 END), \
                    SUM(CASE WHEN e.b ->> 'event' IN \
                          ('directly_closed', 'refused', 'linked_result', 'linked_as_repeat') \
                        OR (e.b ->> 'event' = 'callback_made' AND e.b ->> 'consent' = 'false') \
                        THEN 1 ELSE 0 END) \
             FROM (SELECT body::jsonb AS b FROM events \
                   WHERE ticket_id >= $3 AND at_ts >= $1 AND at_ts < $2) e \
             WHERE e.b ->> 'event' IN ('created', 'completed', 'directly_closed', \
                   'refused', 'linked_result', 'linked_as_repeat', 'callback_made') \
               AND e.b #>> '{actor,role}' = 'agent' \
             GROUP BY usr ORDER BY usr",
            &[&from, &to, &lowest_id],
        )?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get(0).map_err(pg_err)?,
                    r.try_get(1).map_err(pg_err)?,
                    r.try_get(2).map_err(pg_err)?,
                ))
            })
            .collect()
    }
}
