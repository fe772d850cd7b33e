//! Reads the call records kept on disk (`DATA/calls/YYYY-MM-DD.jsonl`, one file per UTC day
//! of the call's end) over a time range, for `/api/calls/recent?from=&to=` and the CSV export.
//! The newest calls are also in memory (`records::RecentCalls`); older ones are only here, or,
//! with `[storage] url`, in the shared store, where every engine's records are ([`RecordsAt`]).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::call::record::CallRecord;
use crate::stats::kpi::KpiEvent;

/// Where the reports read finished calls from: this engine's day files, or, with
/// `[storage] url`, the shared store (both engines' records: a report on the engine that took
/// over includes the calls the other one served). Blocking: run it off the async threads
/// (`spawn_blocking`), inside the runtime.
#[derive(Clone)]
pub struct RecordsAt {
    pub data_dir: PathBuf,
    pub postgres: Option<String>,
}

impl std::fmt::Debug for RecordsAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: only whether there is one.
        f.debug_struct("RecordsAt")
            .field("data_dir", &self.data_dir)
            .field("postgres", &self.postgres.is_some())
            .finish()
    }
}

impl RecordsAt {
    /// [`for_each_between`] on this source.
    pub fn for_each_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        each: impl FnMut(CallRecord) -> bool,
    ) -> std::io::Result<()> {
        match &self.postgres {
            None => for_each_between(&self.data_dir, from, to, each),
            Some(url) => crate::shell::store::pg_calls::for_each_between(url, from, to, each)
                .map_err(std::io::Error::other),
        }
    }

    /// Every record of the days `from` to `to`, and of the day after (as
    /// `records::records_between` reads the day files: a call answered in the period may end
    /// after it).
    pub fn records_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> std::io::Result<Vec<CallRecord>> {
        match &self.postgres {
            None => crate::shell::records::records_between(&self.data_dir, from, to),
            Some(_) => {
                let start = from
                    .date_naive()
                    .and_hms_opt(0, 0, 0)
                    .map_or(from, |d| d.and_utc());
                let mut out = Vec::new();
                self.for_each_between(start, to + chrono::Duration::days(2), |r| {
                    out.push(r);
                    true
                })?;
                Ok(out)
            }
        }
    }

    /// The KPI outcomes whose instant falls in `[from, to)`, oldest first.
    pub fn kpi_outcomes_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> std::io::Result<Vec<KpiEvent>> {
        let mut out: Vec<KpiEvent> = self
            .records_between(from, to)?
            .iter()
            .flat_map(crate::shell::records::kpi_events)
            .filter(|e| e.at >= from && e.at < to)
            .collect();
        out.sort_by_key(|e| e.at);
        Ok(out)
    }
}

/// Calls `each` with every readable record that ended in `[from, to)`, oldest day first and
/// in file order within a day, until it returns `false`. Unreadable lines (a torn last line
/// after a crash) are skipped, as at start-up.
pub fn for_each_between(
    data_dir: &Path,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    mut each: impl FnMut(CallRecord) -> bool,
) -> std::io::Result<()> {
    let dir = data_dir.join("calls");
    let mut day = from.date_naive();
    let last = to.date_naive();
    while day <= last {
        let path = dir.join(format!("{}.jsonl", day.format("%Y-%m-%d")));
        match File::open(&path) {
            Ok(f) => {
                for line in BufReader::new(f).lines() {
                    let Ok(r) = serde_json::from_str::<CallRecord>(&line?) else {
                        continue;
                    };
                    if r.ended_at >= from && r.ended_at < to && !each(r) {
                        return Ok(());
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let Some(next) = day.succ_opt() else { break };
        day = next;
    }
    Ok(())
}

/// The header of the CSV export: what `cdr_csv` users find in a call detail record.
pub const CSV_HEADER: &str = "id,started_at,answered_at,ended_at,outcome,caller,called,menu_path,queue,answered_queue,agent,wait_s,connected_at,over_15s,transfers,ticket,recording,recording_sha256,sip_call_id\r\n";

/// One record as a CSV line (RFC 4180 quoting; a field that a spreadsheet would run as a
/// formula is prefixed with `'`).
pub fn csv_line(r: &CallRecord) -> String {
    let c = &r.call;
    let t = |d: Option<DateTime<Utc>>| d.map(|d| d.to_rfc3339()).unwrap_or_default();
    let fields = [
        c.id.clone(),
        c.started_at.to_rfc3339(),
        t(c.answered_at),
        r.ended_at.to_rfc3339(),
        r.outcome.as_str().to_string(),
        c.caller.clone(),
        c.called.clone(),
        c.menu_path.join(" "),
        c.queue.clone().unwrap_or_default(),
        c.answered_queue.clone().unwrap_or_default(),
        c.agent.clone().unwrap_or_default(),
        c.wait_s.map(|w| format!("{w:.1}")).unwrap_or_default(),
        t(c.connected_at),
        r.over_15s
            .map(|b| {
                serde_json::to_value(b)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            })
            .unwrap_or_default(),
        c.transfers.join("; "),
        c.ticket.clone().unwrap_or_default(),
        c.recording.clone().unwrap_or_default(),
        r.recording_sha256.clone().unwrap_or_default(),
        r.sip_call_id.clone(),
    ];
    let mut line = fields.map(|f| csv_field(&f)).join(",");
    line.push_str("\r\n");
    line
}

fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(csv_field("-1+1"), "'-1+1");
    }
}
