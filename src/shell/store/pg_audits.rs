//! The read, monitoring and export audits on PostgreSQL (the SQLite twins are in
//! `shell::{read_audit,monitor_audit,export_audit}`): the same rows and the same answers, so
//! a supervisor on either engine sees every audited use. Writes go through
//! [`PgStore::write`], inside the ticket thread's group transaction when there is one.

use chrono::DateTime;
use tokio_postgres::Row;

use super::postgres::{pg_err, PgStore};
use crate::shell::export_audit::ExportRecord;
use crate::shell::monitor_audit::{Monitoring, MonitoringQuery, MonitoringUse};
use crate::shell::read_audit::{AuditQuery, AuditedRead};
use crate::workflow::store::StoreError;

/// Unix seconds as RFC 3339 in China time (as the SQLite side answers).
pub(crate) fn china_time(ts: i64) -> String {
    DateTime::from_timestamp(ts, 0)
        .map(|d| {
            d.with_timezone(&crate::workflow::model::china())
                .to_rfc3339()
        })
        .unwrap_or_default()
}

fn get<'a, T: tokio_postgres::types::FromSql<'a>>(r: &'a Row, i: usize) -> Result<T, StoreError> {
    r.try_get(i).map_err(pg_err)
}

impl PgStore {
    pub(crate) fn read_audit_record(
        &mut self,
        at: i64,
        user: &str,
        role: &str,
        ticket: &str,
        what: &str,
    ) -> Result<(), StoreError> {
        self.write(|pg| {
            pg.execute(
                "INSERT INTO read_audit (at, usr, role, ticket, what) VALUES ($1, $2, $3, $4, $5)",
                &[&at, &user, &role, &ticket, &what],
            )
        })
        .map(|_| ())
    }

    pub(crate) fn read_audit_list(
        &mut self,
        q: &AuditQuery,
    ) -> Result<Vec<AuditedRead>, StoreError> {
        let limit = i64::from(q.limit.clamp(1, 1000));
        let rows = self.query(
            "SELECT at, usr, role, ticket, what FROM read_audit \
             WHERE ($1::text IS NULL OR usr = $1) AND ($2::text IS NULL OR ticket = $2) \
             ORDER BY at DESC, id DESC LIMIT $3",
            &[&q.user, &q.ticket, &limit],
        )?;
        rows.iter()
            .map(|r| {
                Ok(AuditedRead {
                    at: china_time(get(r, 0)?),
                    user: get(r, 1)?,
                    role: get(r, 2)?,
                    ticket: get(r, 3)?,
                    what: get(r, 4)?,
                })
            })
            .collect()
    }

    pub(crate) fn monitoring_record(
        &mut self,
        m: &Monitoring,
        mode: &str,
    ) -> Result<(), StoreError> {
        let joined = m.joined_at.timestamp();
        let left = m.left_at.map(|l| l.timestamp());
        self.write(|pg| {
            if let Some(left) = left {
                // The leaving closes the row of its joining, if that was recorded.
                let closed = pg.execute(
                    "UPDATE monitoring_audit SET left_at = $1 WHERE id = (\
                     SELECT id FROM monitoring_audit WHERE call = $2 AND usr = $3 AND mode = $4 \
                     AND joined_at = $5 AND left_at IS NULL ORDER BY id LIMIT 1)",
                    &[&left, &m.call, &m.user, &mode, &joined],
                )?;
                if closed > 0 {
                    return Ok(());
                }
            }
            pg.execute(
                "INSERT INTO monitoring_audit (usr, mode, call, ticket, joined_at, left_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[&m.user, &mode, &m.call, &m.ticket, &joined, &left],
            )
            .map(|_| ())
        })
    }

    pub(crate) fn monitoring_list(
        &mut self,
        q: &MonitoringQuery,
    ) -> Result<Vec<MonitoringUse>, StoreError> {
        let from = q.from.map(|d| d.timestamp());
        let to = q.to.map(|d| d.timestamp());
        let limit = i64::from(q.limit.clamp(1, 1000));
        let rows = self.query(
            "SELECT usr, mode, call, ticket, joined_at, left_at FROM monitoring_audit \
             WHERE ($1::text IS NULL OR usr = $1) AND ($2::text IS NULL OR call = $2) \
             AND ($3::bigint IS NULL OR joined_at >= $3) \
             AND ($4::bigint IS NULL OR joined_at < $4) \
             ORDER BY joined_at DESC, id DESC LIMIT $5",
            &[&q.user, &q.call, &from, &to, &limit],
        )?;
        rows.iter()
            .map(|r| {
                Ok(MonitoringUse {
                    user: get(r, 0)?,
                    mode: get(r, 1)?,
                    call: get(r, 2)?,
                    ticket: get(r, 3)?,
                    joined_at: china_time(get(r, 4)?),
                    left_at: get::<Option<i64>>(r, 5)?.map(china_time),
                })
            })
            .collect()
    }

    /// `days` is the period's first and last day; `fields` comma-separated.
    pub(crate) fn export_record(
        &mut self,
        user: &str,
        at: i64,
        days: (&str, &str),
        fields: &str,
        format: &str,
    ) -> Result<(), StoreError> {
        self.write(|pg| {
            pg.execute(
                "INSERT INTO export_audit (usr, at, from_day, to_day, fields, format) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[&user, &at, &days.0, &days.1, &fields, &format],
            )
        })
        .map(|_| ())
    }

    pub(crate) fn export_list(
        &mut self,
        user: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ExportRecord>, StoreError> {
        let limit = i64::from(limit.min(1000));
        let rows = self.query(
            "SELECT usr, at, from_day, to_day, fields, format FROM export_audit \
             WHERE ($1::text IS NULL OR usr = $1) ORDER BY at DESC, id DESC LIMIT $2",
            &[&user, &limit],
        )?;
        rows.iter()
            .map(|r| {
                let fields: String = get(r, 4)?;
                Ok(ExportRecord {
                    user: get(r, 0)?,
                    at: china_time(get(r, 1)?),
                    from: get(r, 2)?,
                    to: get(r, 3)?,
                    fields: fields.split(',').map(str::to_string).collect(),
                    format: get(r, 5)?,
                })
            })
            .collect()
    }
}
