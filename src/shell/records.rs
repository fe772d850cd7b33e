//! Finished call records, appended as JSON lines to `DATA/calls/YYYY-MM-DD.jsonl` (one file
//! per UTC day) and kept in memory for `/api/calls/recent`. Each record is written and
//! flushed to the OS before the next is taken, and `sync_all`ed on shutdown, so SIGTERM
//! loses none.

use crate::stats::kpi::KpiEvent;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::call::record::CallRecord;

/// How many finished calls `/api/calls/recent` can show.
pub const RECENT_CAPACITY: usize = 1000;

/// Records kept in memory while their file cannot be written (no file descriptor left, a
/// full disk), written before the next one; past this many the oldest are dropped.
pub const UNWRITTEN_CAPACITY: usize = 10_000;

/// Appends call records to the day's file and remembers the latest ones.
pub struct CallRecordLog {
    dir: PathBuf,
    open: Option<(String, File)>,
    recent: Arc<Mutex<VecDeque<CallRecord>>>,
    /// Records whose write failed, oldest first: retried before the next one and at sync.
    unwritten: VecDeque<CallRecord>,
}

/// A cheap handle to read the latest records from the HTTP side.
#[derive(Clone)]
pub struct RecentCalls(Arc<Mutex<VecDeque<CallRecord>>>);

impl RecentCalls {
    /// Newest first, at most `limit`.
    pub fn latest(&self, limit: usize) -> Vec<CallRecord> {
        self.latest_where(limit, |_| true)
    }

    /// The newest `limit` records that `keep` accepts, newest first.
    pub fn latest_where(
        &self,
        limit: usize,
        keep: impl Fn(&CallRecord) -> bool,
    ) -> Vec<CallRecord> {
        let q = match self.0.lock() {
            Ok(q) => q,
            Err(poisoned) => poisoned.into_inner(),
        };
        q.iter()
            .rev()
            .filter(|r| keep(r))
            .take(limit)
            .cloned()
            .collect()
    }
}

impl CallRecordLog {
    /// Opens `data_dir/calls`, creating it, and loads the newest records from the latest files
    /// so `/api/calls/recent` survives a restart.
    pub fn open(data_dir: &Path) -> std::io::Result<Self> {
        let dir = data_dir.join("calls");
        crate::shell::private_fs::create_dir_all(&dir)?;
        let mut recent = VecDeque::with_capacity(RECENT_CAPACITY);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
            .collect();
        files.sort();
        for file in files.iter().rev().take(2).rev() {
            let reader = BufReader::new(File::open(file)?);
            for (n, line) in reader.lines().enumerate() {
                let line = line?;
                match serde_json::from_str::<CallRecord>(&line) {
                    Ok(r) => {
                        if recent.len() == RECENT_CAPACITY {
                            recent.pop_front();
                        }
                        recent.push_back(r);
                    }
                    // A torn last line after a crash: skip it, keep the rest.
                    Err(e) => {
                        tracing::warn!(file = %file.display(), line = n + 1, error = %e, "skipping unreadable call record")
                    }
                }
            }
        }
        Ok(Self {
            dir,
            open: None,
            recent: Arc::new(Mutex::new(recent)),
            unwritten: VecDeque::new(),
        })
    }

    /// The handle the HTTP API reads from.
    pub fn recent(&self) -> RecentCalls {
        RecentCalls(self.recent.clone())
    }

    /// Appends one record to the in-memory list and its day's file. When the file cannot be
    /// written (EMFILE, a full disk) the record is kept and written before the next one, or
    /// at [`Self::sync`]: a fault delays a record, it does not lose it.
    pub fn append(&mut self, record: &CallRecord) -> std::io::Result<()> {
        {
            let mut q = match self.recent.lock() {
                Ok(q) => q,
                Err(poisoned) => poisoned.into_inner(),
            };
            if q.len() == RECENT_CAPACITY {
                q.pop_front();
            }
            q.push_back(record.clone());
        }
        if self.unwritten.len() == UNWRITTEN_CAPACITY {
            self.unwritten.pop_front();
            tracing::error!("call records unwritable for too long: the oldest one is dropped");
        }
        self.unwritten.push_back(record.clone());
        self.write_unwritten()
    }

    /// Writes the kept records, oldest first; stops at the first failure.
    fn write_unwritten(&mut self) -> std::io::Result<()> {
        while let Some(record) = self.unwritten.front().cloned() {
            self.write_line(&record)?;
            self.unwritten.pop_front();
        }
        Ok(())
    }

    /// Records not yet in their file.
    pub fn unwritten(&self) -> usize {
        self.unwritten.len()
    }

    fn write_line(&mut self, record: &CallRecord) -> std::io::Result<()> {
        let day = record.ended_at.format("%Y-%m-%d").to_string();
        let file = match &mut self.open {
            Some((d, f)) if *d == day => f,
            slot => {
                if let Some((_, f)) = slot.take() {
                    f.sync_all()?;
                }
                let mut f = crate::shell::private_fs::options()
                    .create(true)
                    .read(true)
                    .append(true)
                    .open(self.dir.join(format!("{day}.jsonl")))?;
                end_torn_line(&mut f)?;
                &mut slot.insert((day, f)).1
            }
        };
        let mut line = serde_json::to_vec(record).map_err(std::io::Error::other)?;
        line.push(b'\n');
        file.write_all(&line)
    }

    /// Makes everything written so far durable (shutdown, and periodically).
    pub fn sync(&mut self) -> std::io::Result<()> {
        self.write_unwritten()?;
        if let Some((_, f)) = &self.open {
            f.sync_all()?;
        }
        Ok(())
    }
}

/// The talk time of an answered call that ended (handle time for the KPIs). An
/// `interrupted` call has none: our crash cut it, its real end is unknown.
pub fn handled(r: &CallRecord) -> Option<KpiEvent> {
    if r.outcome.cut_by_engine_loss() || r.call.outbound.is_some() {
        return None;
    }
    let talk = (r.ended_at - r.call.connected_at?).to_std().ok()?;
    Some(KpiEvent {
        queue: r
            .call
            .answered_queue
            .clone()
            .or_else(|| r.call.queue.clone()),
        number: Some(r.call.called.clone()),
        outcome: crate::stats::kpi::Outcome::Handled { talk },
        at: r.ended_at,
    })
}

/// What a record means to the "call me back" counts (C8, `docs/KPI.md`): the offer made to an
/// inbound caller, the place kept when they took it, and a callback reached or given up.
pub fn callback_events(r: &CallRecord) -> Vec<KpiEvent> {
    use crate::call::record::CallOutcome;
    use crate::outbound::dialler::Purpose;
    use crate::stats::kpi::Outcome;
    let c = &r.call;
    let queue = c.queue.clone();
    // An inbound call's number; a callback's record names the hotline's caller id there.
    let number = c.outbound.is_none().then(|| c.called.clone());
    let at = |at| KpiEvent {
        queue: queue.clone(),
        number: number.clone(),
        outcome: Outcome::CallbackOffered,
        at,
    };
    let mut out = Vec::new();
    match &c.outbound {
        None => {
            if c.callback_offered {
                out.push(at(c.queued_at.unwrap_or(r.ended_at)));
            }
            if let (CallOutcome::CallbackRequested, Some(t0)) = (r.outcome, c.queued_at) {
                let wait = (r.ended_at - t0).to_std().unwrap_or_default();
                out.push(KpiEvent {
                    outcome: Outcome::CallbackKept { wait },
                    ..at(r.ended_at)
                });
            }
        }
        Some(o) if o.purpose == Purpose::CallMeBack => {
            if let (Some(connected), Some(asked)) = (c.connected_at, o.requested_at) {
                let after = (connected - asked).to_std().unwrap_or_default();
                out.push(KpiEvent {
                    outcome: Outcome::CallbackReached { after },
                    ..at(connected)
                });
            } else if o.last_try {
                out.push(KpiEvent {
                    outcome: Outcome::CallbackGivenUp,
                    ..at(r.ended_at)
                });
            }
        }
        Some(_) => {}
    }
    out
}

/// What a finished call means to the KPIs: answered (with its wait) or abandoned while
/// waiting, and when; `None` for calls that never asked for a person.
pub fn kpi_outcome(r: &CallRecord) -> Option<KpiEvent> {
    use crate::call::record::CallOutcome;
    use crate::stats::kpi::Outcome;
    let c = &r.call;
    if c.outbound.is_some() {
        return None; // the hotline's own calls are not citizens' calls to it (docs/KPI.md)
    }
    let (outcome, at) = if let (Some(wait), Some(at)) = (c.wait_s, c.connected_at) {
        let wait = std::time::Duration::from_secs_f64(wait.max(0.0));
        (Outcome::Answered { wait }, at)
    } else {
        match (r.outcome, c.queued_at) {
            // A caller who vanished (no RTP, no session refresh) or waited out the queue's
            // limit did not reach a person: an abandon for the answer and connection rates.
            // So is one still waiting when the engine died: our crash cut the citizen off
            // before a person answered (C3 counts every caller; `docs/KPI.md`).
            (
                CallOutcome::AbandonedInQueue
                | CallOutcome::MediaTimeout
                | CallOutcome::SessionExpired
                | CallOutcome::QueueTimeout
                | CallOutcome::Interrupted
                | CallOutcome::LostInFailover,
                Some(t0),
            ) => {
                let wait = (r.ended_at - t0).to_std().unwrap_or_default();
                (Outcome::Abandoned { wait }, r.ended_at)
            }
            // Refused with 503 for lack of capacity: counted against the rates.
            (CallOutcome::NoCapacity, _) => (Outcome::Refused, r.ended_at),
            _ => return None,
        }
    };
    Some(KpiEvent {
        // Counted once, for the queue where a person first answered (transfers move `queue`).
        queue: c.answered_queue.clone().or_else(|| c.queue.clone()),
        number: Some(c.called.clone()),
        outcome,
        at,
    })
}

/// Everything a finished call means to the figures: its outcome, its handle time, its
/// callback counts.
pub fn kpi_events(r: &CallRecord) -> impl Iterator<Item = KpiEvent> {
    kpi_outcome(r)
        .into_iter()
        .chain(handled(r))
        .chain(callback_events(r))
}

/// Every KPI outcome in the last two days' record files (all of them, not only the recent
/// ones kept in memory), so the rolling 24 h figures survive a restart. Unreadable lines are
/// skipped, as at open.
pub fn kpi_outcomes(data_dir: &Path) -> std::io::Result<Vec<KpiEvent>> {
    let dir = data_dir.join("calls");
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    files.sort();
    let mut out = Vec::new();
    for file in files.iter().rev().take(2) {
        for line in BufReader::new(File::open(file)?).lines() {
            if let Ok(r) = serde_json::from_str::<CallRecord>(&line?) {
                out.extend(kpi_events(&r));
            }
        }
    }
    out.sort_by_key(|e| e.at);
    Ok(out)
}

/// Every finished call whose record file covers `[from, to)` (records are filed by the UTC
/// day they ended; a day later is read too, for calls answered before midnight that ended
/// after it). Unreadable lines are skipped, as at open.
pub fn records_between(
    data_dir: &Path,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> std::io::Result<Vec<CallRecord>> {
    let dir = data_dir.join("calls");
    let mut out = Vec::new();
    let mut day = from.date_naive();
    let last = to.date_naive().succ_opt().unwrap_or(to.date_naive());
    while day <= last {
        let file = dir.join(format!("{}.jsonl", day.format("%Y-%m-%d")));
        match File::open(&file) {
            Ok(f) => {
                for line in BufReader::new(f).lines() {
                    if let Ok(r) = serde_json::from_str::<CallRecord>(&line?) {
                        out.push(r);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        match day.succ_opt() {
            Some(d) => day = d,
            None => break,
        }
    }
    Ok(out)
}

/// After a crash the file may end mid-line: start the next record on a line of its own,
/// so one torn record never corrupts the one after it.
pub(crate) fn end_torn_line(f: &mut File) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let len = f.metadata()?.len();
    if len == 0 {
        return Ok(());
    }
    f.seek(SeekFrom::Start(len - 1))?;
    let mut last = [0u8; 1];
    f.read_exact(&mut last)?;
    if last[0] != b'\n' {
        f.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::record::{CallOutcome, CallState, LiveCall};
    use chrono::TimeZone;

    fn record(id: &str, day: u32) -> CallRecord {
        let at = chrono::Utc
            .with_ymd_and_hms(2026, 11, day, 10, 0, 0)
            .single()
            .unwrap();
        CallRecord {
            call: LiveCall {
                callback_offered: false,
                id: id.into(),
                caller: "138******78".into(),
                called: "12345".into(),
                called_name: None,
                state: CallState::Queued,
                menu_path: vec!["main:2".into(), "special:1".into()],
                queue: Some("dialect".into()),
                started_at: at,
                answered_at: Some(at),
                queued_at: Some(at),
                offered_to: None,
                agent: None,
                connected_at: None,
                wait_s: None,
                recording: None,
                transfers: Vec::new(),
                ticket: None,
                answered_queue: None,
                on_hold: false,
                parties: Vec::new(),
                direction: Default::default(),
                outbound: None,
            },
            ended_at: at,
            outcome: CallOutcome::AbandonedInQueue,
            sip_call_id: "abc@host".into(),
            recording_sha256: None,
            over_15s: None,
            agent_media_failure: None,
        }
    }

    #[test]
    fn records_survive_reopen_and_torn_lines() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut log = CallRecordLog::open(dir.path()).unwrap();
            log.append(&record("a", 21)).unwrap();
            log.append(&record("b", 22)).unwrap();
            log.append(&record("c", 22)).unwrap();
            log.sync().unwrap();
        }
        // Simulate a crash mid-write: a torn line at the end of the newest file.
        let newest = dir.path().join("calls/2026-11-22.jsonl");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&newest)
            .unwrap();
        f.write_all(b"{\"id\":\"torn").unwrap();
        drop(f);
        let mut log = CallRecordLog::open(dir.path()).unwrap();
        let ids: Vec<String> = log
            .recent()
            .latest(10)
            .into_iter()
            .map(|r| r.call.id)
            .collect();
        assert_eq!(ids, vec!["c", "b", "a"]);
        // The next record after the torn one is whole and readable.
        log.append(&record("d", 22)).unwrap();
        drop(log);
        let log = CallRecordLog::open(dir.path()).unwrap();
        assert_eq!(log.recent().latest(1)[0].call.id, "d");
        // The KPIs are rebuilt from the files: four calls abandoned in the queue.
        let outcomes = kpi_outcomes(dir.path()).unwrap();
        assert_eq!(outcomes.len(), 4);
        assert!(outcomes
            .iter()
            .all(|e| matches!(e.outcome, crate::stats::kpi::Outcome::Abandoned { .. })));
        let text = std::fs::read_to_string(dir.path().join("calls/2026-11-21.jsonl")).unwrap();
        assert_eq!(text.lines().count(), 1);
        assert!(text.contains("\"menu_path\":[\"main:2\",\"special:1\"]"));
    }

    #[test]
    fn a_record_that_cannot_be_written_is_kept_and_written_later_not_lost() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = CallRecordLog::open(dir.path()).unwrap();
        // The day's file cannot be opened (as with no file descriptor left).
        let blocker = dir.path().join("calls/2026-11-23.jsonl");
        std::fs::create_dir(&blocker).unwrap();
        assert!(log.append(&record("a", 23)).is_err());
        assert!(log.append(&record("b", 23)).is_err());
        assert_eq!(log.unwritten(), 2);
        assert_eq!(log.recent().latest(1)[0].call.id, "b", "shown meanwhile");
        std::fs::remove_dir(&blocker).unwrap();
        log.sync().unwrap();
        assert_eq!(log.unwritten(), 0);
        log.append(&record("c", 23)).unwrap();
        let text = std::fs::read_to_string(&blocker).unwrap();
        let ids: Vec<&str> = text
            .lines()
            .map(|l| {
                if l.contains("\"a\"") {
                    "a"
                } else if l.contains("\"b\"") {
                    "b"
                } else {
                    "c"
                }
            })
            .collect();
        assert_eq!(ids, ["a", "b", "c"], "in order, once each");
    }
}
