//! [`TicketStore`] on PostgreSQL: the same tables, queries and answers as the SQLite store
//! (`shell::ticket_store`), in PostgreSQL's dialect (`$n` parameters, booleans, `ON CONFLICT`
//! naming its table). `tests/ticket_store.rs` runs one suite against both.

use chrono::{DateTime, FixedOffset, NaiveDate};
use tokio_postgres::types::ToSql;

use super::postgres::{pg_err, PgStore};
use crate::shell::ticket_store::wire;
use crate::workflow::event::Event;
use crate::workflow::repeat::RepeatCandidate;
use crate::workflow::store::{
    linkages_in, EmergencyLinkage, IndexRow, InternetBacklog, InternetResponse, ListQuery, Page,
    Report, StoreError, TicketStore,
};
use crate::workflow::TicketId;

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn col<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a tokio_postgres::Row,
    i: usize,
) -> Result<T, StoreError> {
    row.try_get(i).map_err(pg_err)
}

fn parse_rows(rows: &[tokio_postgres::Row]) -> Result<Vec<IndexRow>, StoreError> {
    rows.iter()
        .map(|r| serde_json::from_str(&col::<String>(r, 0)?).map_err(backend))
        .collect()
}

fn put_events(s: &mut PgStore, events: &[Event], id: &TicketId) -> Result<(), StoreError> {
    for e in events {
        let body = serde_json::to_string(e).map_err(backend)?;
        s.execute(
            "INSERT INTO events (ticket_id, seq, at, at_ts, body) VALUES ($1, $2, $3, $4, $5)",
            &[
                &id.0,
                &(e.seq as i64),
                &e.at.to_rfc3339(),
                &e.at.timestamp(),
                &body,
            ],
        )?;
    }
    for (seq, l) in linkages_in(id, events) {
        s.execute(
            "INSERT INTO emergency_links (ticket_id, seq, at_ts, service, after_secs) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (ticket_id, seq) DO UPDATE SET \
             at_ts = EXCLUDED.at_ts, service = EXCLUDED.service, after_secs = EXCLUDED.after_secs",
            &[
                &id.0,
                &(seq as i64),
                &l.at.timestamp(),
                &wire(&l.service),
                &l.after_secs,
            ],
        )?;
    }
    Ok(())
}

fn put_row(s: &mut PgStore, row: &IndexRow, new: bool) -> Result<(), StoreError> {
    let json = serde_json::to_string(row).map_err(backend)?;
    let ts = |d: &Option<DateTime<FixedOffset>>| d.map(|d| d.timestamp());
    let sql = if new {
        "INSERT INTO tickets (id, version, state, lead_unit, channel, request_type, domain, urgency, area, received_ts, phone_key, next_due_ts, wake_ts, closed_ts, rating, repeat_of, repeat_excluded, supervised, row_json, call_id, responded_ts, external_key, number) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)"
    } else {
        "UPDATE tickets SET version = $2, state = $3, lead_unit = $4, channel = $5, request_type = $6, domain = $7, urgency = $8, area = $9, received_ts = $10, phone_key = $11, next_due_ts = $12, wake_ts = $13, closed_ts = $14, rating = $15, repeat_of = $16, repeat_excluded = $17, supervised = $18, row_json = $19, call_id = $20, responded_ts = $21, external_key = $22, number = $23 WHERE id = $1"
    };
    s.execute(
        sql,
        &[
            &row.id.0,
            &(row.version as i64),
            &row.state,
            &row.lead_unit.as_ref().map(|u| u.0.clone()),
            &wire(&row.channel),
            &wire(&row.request_type),
            &row.domain,
            &wire(&row.urgency),
            &row.area,
            &row.received_at.timestamp(),
            &row.phone_key,
            &ts(&row.next_due),
            &ts(&row.wake_at),
            &ts(&row.closed_at),
            &row.rating.as_ref().map(wire),
            &row.repeat_of.as_ref().map(|r| r.0.clone()),
            &row.repeat_excluded,
            &row.supervised,
            &json,
            &row.call_id,
            &ts(&row.responded_at),
            &row.external_key,
            &row.number,
        ],
    )?;
    // Unit visibility changes only on dispatch and hand-on; rewrite it only when it differs.
    let mut current: Vec<String> = s
        .query(
            "SELECT unit FROM ticket_units WHERE ticket_id = $1 ORDER BY unit",
            &[&row.id.0],
        )?
        .iter()
        .map(|r| col(r, 0))
        .collect::<Result<_, _>>()?;
    let mut wanted: Vec<String> = row.units.iter().map(|u| u.0.clone()).collect();
    wanted.sort();
    wanted.dedup();
    current.sort();
    if current != wanted {
        s.execute(
            "DELETE FROM ticket_units WHERE ticket_id = $1",
            &[&row.id.0],
        )?;
        for u in &wanted {
            s.execute(
                "INSERT INTO ticket_units (unit, ticket_id, received_ts) VALUES ($1, $2, $3)",
                &[u, &row.id.0, &row.received_at.timestamp()],
            )?;
        }
    }
    Ok(())
}

fn version_of(s: &mut PgStore, id: &TicketId) -> Result<Option<i64>, StoreError> {
    // FOR UPDATE: a second engine writing the same ticket waits here, then sees the new version.
    s.query_opt(
        "SELECT version FROM tickets WHERE id = $1 FOR UPDATE",
        &[&id.0],
    )?
    .map(|r| col(&r, 0))
    .transpose()
}

/// The internet channels (C13) as an SQL list of their stored names.
fn internet_channels() -> String {
    crate::shell::ticket_store::internet_channels()
}

fn timestamp(ts: i64, like: DateTime<FixedOffset>) -> Result<DateTime<FixedOffset>, StoreError> {
    DateTime::from_timestamp(ts, 0)
        .map(|d| d.with_timezone(like.offset()))
        .ok_or_else(|| backend(format!("timestamp out of range: {ts}")))
}

fn internet_response(
    s: &mut PgStore,
    lo: i64,
    hi: i64,
    now: DateTime<FixedOffset>,
) -> Result<InternetResponse, StoreError> {
    let rows = s.query(
        &format!(
            "SELECT received_ts, responded_ts FROM tickets WHERE received_ts >= $1 AND received_ts < $2 AND channel IN ({})",
            internet_channels()
        ),
        &[&lo, &hi],
    )?;
    let mut out = InternetResponse::default();
    for r in &rows {
        let received: i64 = col(r, 0)?;
        let responded: Option<i64> = col(r, 1)?;
        out.count(
            timestamp(received, now)?,
            responded.map(|t| timestamp(t, now)).transpose()?,
            now,
        );
    }
    Ok(out)
}

impl TicketStore for PgStore {
    fn next_id(&mut self, date: NaiveDate) -> Result<TicketId, StoreError> {
        let day = date.format("%Y%m%d").to_string();
        let n: i64 = self.write(|s| {
            col(
                &s.query_one(
                    "INSERT INTO ticket_seq (day, last) VALUES ($1, 1) ON CONFLICT (day) DO UPDATE SET last = ticket_seq.last + 1 RETURNING last",
                    &[&day],
                )?,
                0,
            )
        })?;
        Ok(TicketId::new(date, n as u32))
    }

    fn insert(&mut self, events: &[Event], row: &IndexRow) -> Result<(), StoreError> {
        self.write(|s| {
            if version_of(s, &row.id)?.is_some() {
                return Err(StoreError::Duplicate { id: row.id.clone() });
            }
            put_events(s, events, &row.id)?;
            put_row(s, row, true)
        })
    }

    fn events(&mut self, id: &TicketId) -> Result<Vec<Event>, StoreError> {
        self.query(
            "SELECT body FROM events WHERE ticket_id = $1 ORDER BY seq",
            &[&id.0],
        )?
        .iter()
        .map(|r| serde_json::from_str(&col::<String>(r, 0)?).map_err(backend))
        .collect()
    }

    fn append(
        &mut self,
        id: &TicketId,
        expected_version: u64,
        events: &[Event],
        row: &IndexRow,
    ) -> Result<(), StoreError> {
        self.write(|s| {
            let actual =
                version_of(s, id)?.ok_or_else(|| StoreError::NotFound { id: id.clone() })? as u64;
            if actual != expected_version {
                return Err(StoreError::Conflict {
                    id: id.clone(),
                    expected: expected_version,
                    actual,
                });
            }
            put_events(s, events, id)?;
            put_row(s, row, false)
        })
    }

    fn list(&mut self, q: &ListQuery) -> Result<Page, StoreError> {
        let limit = q.limit.clamp(1, 500);
        let cursor = match &q.after {
            Some(a) => {
                let row = self
                    .query_opt("SELECT received_ts FROM tickets WHERE id = $1", &[&a.0])?
                    .ok_or_else(|| StoreError::NotFound { id: a.clone() })?;
                Some((col::<i64>(&row, 0)?, a.0.clone()))
            }
            None => None,
        };
        let mut sql = String::from("SELECT t.row_json FROM ");
        let mut args: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
        let mut wh: Vec<String> = Vec::new();
        let (ts_col, id_col) = if let Some(u) = &q.unit {
            sql.push_str("ticket_units u JOIN tickets t ON t.id = u.ticket_id");
            args.push(Box::new(u.0.clone()));
            wh.push(format!("u.unit = ${}", args.len()));
            ("u.received_ts", "u.ticket_id")
        } else {
            sql.push_str("tickets t");
            ("t.received_ts", "t.id")
        };
        let mut push = |cond: &str, v: Box<dyn ToSql + Sync + Send>| {
            args.push(v);
            wh.push(cond.replace('?', &format!("${}", args.len())));
        };
        if let Some(s) = &q.state {
            push("t.state = ?", Box::new(s.clone()));
        }
        if let Some(t) = &q.request_type {
            push("t.request_type = ?", Box::new(wire(t)));
        }
        if let Some(d) = &q.domain {
            push("t.domain = ?", Box::new(d.clone()));
        }
        if let Some(c) = &q.channel {
            push("t.channel = ?", Box::new(wire(c)));
        }
        if let Some(c) = &q.call_id {
            push("t.call_id = ?", Box::new(c.clone()));
        }
        if let Some(k) = &q.external_key {
            push("t.external_key = ?", Box::new(k.clone()));
        }
        if let Some(p) = &q.phone_key {
            push("t.phone_key = ?", Box::new(p.clone()));
        }
        if let Some(n) = &q.number {
            push("t.number = ?", Box::new(n.clone()));
        }
        if let Some(s) = q.supervised {
            push("t.supervised = ?", Box::new(s));
        }
        if let Some(a) = &q.overdue_at {
            push("t.next_due_ts < ?", Box::new(a.timestamp()));
        }
        if let Some(f) = &q.received_from {
            push(&format!("{ts_col} >= ?"), Box::new(f.timestamp()));
        }
        if let Some(t) = &q.received_to {
            push(&format!("{ts_col} < ?"), Box::new(t.timestamp()));
        }
        if let Some((ts, id)) = cursor {
            args.push(Box::new(ts));
            args.push(Box::new(id));
            wh.push(format!(
                "({ts_col}, {id_col}) < (${}, ${})",
                args.len() - 1,
                args.len()
            ));
        }
        if !wh.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&wh.join(" AND "));
        }
        args.push(Box::new(i64::from(limit) + 1));
        sql.push_str(&format!(
            " ORDER BY {ts_col} DESC, {id_col} DESC LIMIT ${}",
            args.len()
        ));
        let params: Vec<&(dyn ToSql + Sync)> = args
            .iter()
            .map(|a| a.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let rows = self.query(&sql, &params)?;
        let mut items = parse_rows(&rows)?;
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
        self.query(
            "SELECT id FROM tickets WHERE wake_ts IS NOT NULL AND wake_ts <= $1 ORDER BY wake_ts, id LIMIT $2",
            &[&at.timestamp(), &i64::from(limit)],
        )?
        .iter()
        .map(|r| col(r, 0).map(TicketId))
        .collect()
    }

    fn repeat_candidates(
        &mut self,
        phone_key: &str,
        since: DateTime<FixedOffset>,
    ) -> Result<Vec<RepeatCandidate>, StoreError> {
        let rows = self.query(
            "SELECT row_json FROM tickets WHERE phone_key = $1 AND received_ts >= $2 ORDER BY received_ts DESC LIMIT 200",
            &[&phone_key, &since.timestamp()],
        )?;
        Ok(parse_rows(&rows)?
            .into_iter()
            .map(|r| RepeatCandidate {
                id: r.id,
                received_at: r.received_at,
                content: r.content,
                excluded: r.repeat_excluded,
            })
            .collect())
    }

    fn report(
        &mut self,
        from: Option<DateTime<FixedOffset>>,
        to: Option<DateTime<FixedOffset>>,
        now: DateTime<FixedOffset>,
    ) -> Result<Report, StoreError> {
        let lo = from.map(|d| d.timestamp()).unwrap_or(i64::MIN);
        let hi = to.map(|d| d.timestamp()).unwrap_or(i64::MAX);
        let group = |s: &mut PgStore, c: &str| -> Result<Vec<(String, u64)>, StoreError> {
            s.query(
                &format!(
                    "SELECT {c}, COUNT(*) FROM tickets WHERE received_ts >= $1 AND received_ts < $2 AND {c} IS NOT NULL GROUP BY {c} ORDER BY {c}"
                ),
                &[&lo, &hi],
            )?
            .iter()
            .map(|r| Ok((col::<String>(r, 0)?, col::<i64>(r, 1)? as u64)))
            .collect()
        };
        let by_state = group(self, "state")?;
        let by_type = group(self, "request_type")?;
        let by_domain = group(self, "domain")?;
        let by_channel = group(self, "channel")?;
        let by_area = group(self, "area")?;
        let ratings = group(self, "rating")?;
        let total: i64 = col(
            &self.query_one(
                "SELECT COUNT(*) FROM tickets WHERE received_ts >= $1 AND received_ts < $2",
                &[&lo, &hi],
            )?,
            0,
        )?;
        let overdue = self
            .query(
                "SELECT id FROM tickets WHERE received_ts >= $1 AND received_ts < $2 AND next_due_ts < $3 ORDER BY id LIMIT 1000",
                &[&lo, &hi, &now.timestamp()],
            )?
            .iter()
            .map(|r| col(r, 0).map(TicketId))
            .collect::<Result<_, _>>()?;
        let repeats = self
            .query(
                "SELECT id, repeat_of FROM tickets WHERE received_ts >= $1 AND received_ts < $2 AND repeat_of IS NOT NULL ORDER BY id LIMIT 1000",
                &[&lo, &hi],
            )?
            .iter()
            .map(|r| Ok((TicketId(col(r, 0)?), TicketId(col(r, 1)?))))
            .collect::<Result<_, StoreError>>()?;
        Ok(Report {
            from,
            to,
            total: total as u64,
            by_state,
            by_type,
            by_domain,
            by_channel,
            by_area,
            ratings,
            overdue,
            repeats,
            internet_response: internet_response(self, lo, hi, now)?,
        })
    }

    fn internet_backlog(
        &mut self,
        now: DateTime<FixedOffset>,
    ) -> Result<InternetBacklog, StoreError> {
        let limit = now.timestamp() - crate::workflow::model::INTERNET_RESPONSE_SECS;
        let row = self.query_one(
            &format!(
                "SELECT COUNT(*), MIN(received_ts) FROM tickets WHERE channel IN ({}) AND responded_ts IS NULL AND closed_ts IS NULL AND received_ts < $1",
                internet_channels()
            ),
            &[&limit],
        )?;
        let n: i64 = col(&row, 0)?;
        let oldest: Option<i64> = col(&row, 1)?;
        Ok(InternetBacklog {
            unanswered: n as u64,
            oldest_received: oldest.map(|ts| timestamp(ts, now)).transpose()?,
        })
    }

    fn internet_response(
        &mut self,
        from: DateTime<FixedOffset>,
        to: DateTime<FixedOffset>,
        now: DateTime<FixedOffset>,
    ) -> Result<InternetResponse, StoreError> {
        internet_response(self, from.timestamp(), to.timestamp(), now)
    }

    fn emergency_linkages(
        &mut self,
        from: DateTime<FixedOffset>,
        to: DateTime<FixedOffset>,
    ) -> Result<Vec<EmergencyLinkage>, StoreError> {
        let rows = self.query(
            "SELECT ticket_id, at_ts, service, after_secs FROM emergency_links \
             WHERE at_ts >= $1 AND at_ts < $2 ORDER BY at_ts, ticket_id, seq",
            &[&from.timestamp(), &to.timestamp()],
        )?;
        let mut out = Vec::new();
        for r in &rows {
            let service: String = col(r, 2)?;
            // A service this version does not know (a row from a newer one) is left out.
            let Ok(service) = serde_json::from_value(serde_json::Value::String(service)) else {
                continue;
            };
            out.push(EmergencyLinkage {
                ticket: TicketId(col(r, 0)?),
                service,
                at: timestamp(col(r, 1)?, from)?,
                after_secs: col(r, 3)?,
            });
        }
        Ok(out)
    }
}
