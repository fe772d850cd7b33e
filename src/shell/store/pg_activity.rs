//! Agent activity and the early warnings on PostgreSQL (the SQLite twins are in
//! `shell::agent_activity` and `shell::warnings`): the same rows, so the statistics and the
//! wallboard read the same on either engine, and a warning raised by one engine is never
//! raised again by the other (one row per key).

use super::postgres::{pg_err, PgStore};
use crate::workflow::store::StoreError;

/// One stored fact: agent, unix ms, kind code, detail, call, queue.
pub(crate) type ActivityRow = (
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// A warning to keep: key, rule, raised (unix seconds), body (JSON).
pub(crate) type WarningRow = (String, &'static str, i64, String);

impl PgStore {
    /// Inserts facts in one statement (one round trip for a whole batch).
    pub(crate) fn activity_insert(&mut self, rows: &[ActivityRow]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let agents: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        let at: Vec<i64> = rows.iter().map(|r| r.1).collect();
        let kinds: Vec<&str> = rows.iter().map(|r| r.2.as_str()).collect();
        let details: Vec<Option<&str>> = rows.iter().map(|r| r.3.as_deref()).collect();
        let calls: Vec<Option<&str>> = rows.iter().map(|r| r.4.as_deref()).collect();
        let queues: Vec<Option<&str>> = rows.iter().map(|r| r.5.as_deref()).collect();
        self.write(|pg| {
            pg.execute(
                "INSERT INTO agent_activity (agent, at_ms, kind, detail, call, queue) \
                 SELECT f.agent, f.at_ms, f.kind, f.detail, f.call, f.queue \
                 FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], \
                             $6::text[]) WITH ORDINALITY \
                      AS f(agent, at_ms, kind, detail, call, queue, n) \
                 ORDER BY f.n",
                &[&agents, &at, &kinds, &details, &calls, &queues],
            )
        })
        .map(|_| ())
    }

    /// As `agent_activity::between`: the period's facts and each agent's last state and hold
    /// fact before it, in time order.
    pub(crate) fn activity_between(
        &mut self,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<ActivityRow>, StoreError> {
        let rows = self.query(
            "SELECT agent, at_ms, kind, detail, call, queue FROM agent_activity \
             WHERE id IN (SELECT (SELECT b.id FROM agent_activity b \
                                  WHERE b.agent = a.agent AND b.at_ms < $1 \
                                  AND b.kind NOT IN ('hold_on', 'hold_off', 'web_item') \
                                  ORDER BY b.at_ms DESC, b.id DESC LIMIT 1) \
                          FROM (SELECT DISTINCT agent FROM agent_activity) a) \
                OR id IN (SELECT (SELECT b.id FROM agent_activity b \
                                  WHERE b.agent = a.agent AND b.at_ms < $1 \
                                  AND b.kind IN ('hold_on', 'hold_off') \
                                  ORDER BY b.at_ms DESC, b.id DESC LIMIT 1) \
                          FROM (SELECT DISTINCT agent FROM agent_activity) a) \
                OR (at_ms >= $1 AND at_ms < $2) \
             ORDER BY at_ms, id",
            &[&from_ms, &to_ms],
        )?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get(0).map_err(pg_err)?,
                    r.try_get(1).map_err(pg_err)?,
                    r.try_get(2).map_err(pg_err)?,
                    r.try_get(3).map_err(pg_err)?,
                    r.try_get(4).map_err(pg_err)?,
                    r.try_get(5).map_err(pg_err)?,
                ))
            })
            .collect()
    }

    /// Keeps the warnings whose key is new, all or none; answers which were new (by index).
    pub(crate) fn warnings_keep(&mut self, rows: &[WarningRow]) -> Result<Vec<bool>, StoreError> {
        self.write(|pg| {
            rows.iter()
                .map(|(key, rule, raised, body)| {
                    pg.execute(
                        "INSERT INTO warnings (key, rule, raised_ts, body) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING",
                        &[key, rule, raised, body],
                    )
                    .map(|n| n == 1)
                })
                .collect()
        })
    }

    /// Bodies of the warnings raised in `[from, to)`, newest first.
    pub(crate) fn warnings_list(
        &mut self,
        from: i64,
        to: i64,
        rule: Option<&str>,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        let rows = self.query(
            "SELECT body FROM warnings WHERE raised_ts >= $1 AND raised_ts < $2 \
             AND ($3::text IS NULL OR rule = $3) ORDER BY raised_ts DESC, key LIMIT $4",
            &[&from, &to, &rule, &limit],
        )?;
        rows.iter().map(|r| r.try_get(0).map_err(pg_err)).collect()
    }

    /// Keys of the warnings raised since `since`.
    pub(crate) fn warnings_keys(&mut self, since: i64) -> Result<Vec<String>, StoreError> {
        let rows = self.query("SELECT key FROM warnings WHERE raised_ts >= $1", &[&since])?;
        rows.iter().map(|r| r.try_get(0).map_err(pg_err)).collect()
    }
}
