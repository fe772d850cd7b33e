//! The call journal (`DATA/call-journal.jsonl`): one JSON line per live call's milestone
//! (started, answered, queued, answered by a person), written as the core emits them, so a
//! crash (kill -9, power cut) leaves a trace of every live call. A call's finished record in
//! `DATA/calls/YYYY-MM-DD.jsonl` supersedes its entries.
//!
//! Durability: each line goes to the OS at once (one `write`, nothing buffered in the
//! process), so a killed process loses none; an fsync off the engine task follows at most
//! every [`SYNC_EVERY`] for a power cut. Once it has grown past [`COMPACT_OVER`] it is
//! rewritten, at the next call's end, with only the live calls' latest entries (an atomic
//! rename), so a hotline that always has a call up does not grow it without end; it is emptied
//! at a clean stop and at every start once reconciled.
//!
//! At start-up, before the engine takes calls, [`recover`] turns every journalled call with no
//! finished record into one with outcome `interrupted`, its repaired recording hashed.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::call::record::{CallOutcome, CallRecord, JournalEntry};

/// The longest a journal line waits for its fsync (a power cut may lose this much).
pub const SYNC_EVERY: Duration = Duration::from_millis(100);

/// Past this size the journal is rewritten with only the live calls' entries.
pub const COMPACT_OVER: u64 = 1024 * 1024;

/// The journal's file name in the data folder (beside `calls/`, so that nothing reading the
/// day files of records there mistakes it for one).
const FILE: &str = "call-journal.jsonl";

/// The journal the engine task appends to.
pub struct CallJournal {
    path: PathBuf,
    file: File,
    /// Calls journalled and not yet finished, with their latest entry.
    live: HashMap<String, JournalEntry>,
    /// Written since the last fsync began.
    dirty: bool,
    last_sync: Option<Instant>,
    syncing: Option<tokio::task::JoinHandle<()>>,
}

fn path_in(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

impl CallJournal {
    /// Opens (creating) `DATA/call-journal.jsonl` for appending.
    pub fn open(data_dir: &Path) -> std::io::Result<Self> {
        let path = path_in(data_dir);
        if let Some(dir) = path.parent() {
            crate::shell::private_fs::create_dir_all(dir)?;
        }
        let mut file = crate::shell::private_fs::options()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)?;
        crate::shell::records::end_torn_line(&mut file)?;
        Ok(Self {
            path,
            file,
            live: HashMap::new(),
            dirty: false,
            last_sync: None,
            syncing: None,
        })
    }

    /// Appends one milestone (one `write` of a whole line).
    pub fn append(&mut self, entry: &JournalEntry) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.live.insert(entry.call.id.clone(), entry.clone());
        self.dirty = true;
        Ok(())
    }

    /// When the next fsync is due, if one is.
    pub fn sync_due(&self) -> Option<Instant> {
        if !self.dirty {
            return None;
        }
        if self.syncing.as_ref().is_some_and(|s| !s.is_finished()) {
            return Some(crate::shell::clock::now() + Duration::from_millis(10));
        }
        Some(
            self.last_sync
                .map_or_else(crate::shell::clock::now, |l| l + SYNC_EVERY),
        )
    }

    /// Starts an fsync off the engine task when one is due (one at a time).
    pub fn sync_if_due(&mut self) {
        let now = crate::shell::clock::now();
        if self.sync_due().is_none_or(|due| now < due)
            || self.syncing.as_ref().is_some_and(|s| !s.is_finished())
        {
            return;
        }
        let file = match self.file.try_clone() {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(error = %e, "cannot sync the call journal");
                return;
            }
        };
        self.dirty = false;
        self.last_sync = Some(now);
        self.syncing = Some(tokio::task::spawn_blocking(move || {
            if let Err(e) = file.sync_data() {
                tracing::error!(error = %e, "cannot sync the call journal");
            }
        }));
    }

    /// The call's finished record is written: its entries are superseded. When the file is
    /// large it is rewritten with the live calls' entries only (after `records` is synced, so
    /// no call is left without either).
    pub fn finished(&mut self, call: &str, records: &mut crate::shell::records::CallRecordLog) {
        if self.live.remove(call).is_none() {
            return;
        }
        let big = self.file.metadata().map(|m| m.len() > COMPACT_OVER);
        if let Ok(true) = big {
            if let Err(e) = records.sync().and_then(|()| self.compact()) {
                tracing::warn!(error = %e, "cannot compact the call journal");
            }
        }
    }

    /// Replaces the file by one with the live calls' latest entries (written, synced, then
    /// renamed over the old one, so a crash meanwhile leaves one or the other whole).
    fn compact(&mut self) -> std::io::Result<()> {
        if self.live.is_empty() {
            return self.empty();
        }
        let mut text = Vec::new();
        for entry in self.live.values() {
            serde_json::to_writer(&mut text, entry).map_err(std::io::Error::other)?;
            text.push(b'\n');
        }
        let tmp = self.path.with_extension("jsonl.tmp");
        let mut f = crate::shell::private_fs::options()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(&text)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            File::open(dir)?.sync_all()?;
        }
        self.file = crate::shell::private_fs::options()
            .create(true)
            .read(true)
            .append(true)
            .open(&self.path)?;
        self.dirty = false;
        Ok(())
    }

    /// Empties the file (every call in it has its record).
    fn empty(&mut self) -> std::io::Result<()> {
        self.file.set_len(0)?;
        self.file.sync_all()?;
        self.dirty = false;
        Ok(())
    }

    /// At shutdown: every call ended and has its record, so the journal is emptied.
    pub async fn close(mut self, records: &mut crate::shell::records::CallRecordLog) {
        if let Some(s) = self.syncing.take() {
            let _ = s.await;
        }
        let result = if self.live.is_empty() {
            records.sync().and_then(|()| self.empty())
        } else {
            self.file.sync_data()
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, file = %self.path.display(), "cannot close the call journal");
        }
    }
}

/// A call the engine was serving when it died, rebuilt from the journal.
#[derive(Debug, Clone, PartialEq)]
pub struct Interrupted {
    /// Its record (outcome `interrupted`), recording hashed.
    pub record: CallRecord,
    /// The whole caller number when a person had answered (to reopen the draft).
    pub caller_number: Option<String>,
}

/// Reads the journal and the call records, and returns a record (outcome `interrupted`) for
/// every journalled call that has none. A journalled call's recording (already repaired by
/// `recording::repair_all`) is hashed; its `ended_at` is when its recording was last written,
/// or else when the journal was. Blocking: run it off the async threads.
pub fn recover(data_dir: &Path) -> std::io::Result<Vec<Interrupted>> {
    let path = path_in(data_dir);
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let journal_mtime = file.metadata()?.modified()?;
    let mut order = Vec::new();
    let mut last: HashMap<String, JournalEntry> = HashMap::new();
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<JournalEntry>(&line) {
            Ok(e) => {
                if !last.contains_key(&e.call.id) {
                    order.push(e.call.id.clone());
                }
                last.insert(e.call.id.clone(), e);
            }
            Err(e) => {
                tracing::warn!(line = n + 1, error = %e, "skipping unreadable call journal line")
            }
        }
    }
    let Some(first_day) = last
        .values()
        .map(|e| e.call.started_at.format("%Y-%m-%d").to_string())
        .min()
    else {
        return Ok(Vec::new());
    };
    let done = finished_since(&data_dir.join("calls"), &first_day)?;
    let mut out = Vec::new();
    for id in order {
        if done.contains(&id) {
            continue;
        }
        let Some(entry) = last.remove(&id) else {
            continue;
        };
        let mut ended = journal_mtime;
        let mut sha256 = None;
        if let Some(rel) = &entry.call.recording {
            let file = data_dir.join(rel);
            match crate::shell::recording::sha256_of(&file) {
                Ok(h) => {
                    sha256 = Some(h);
                    if let Ok(m) = std::fs::metadata(&file).and_then(|m| m.modified()) {
                        ended = m;
                    }
                }
                Err(e) => {
                    tracing::warn!(file = %file.display(), error = %e, "interrupted call's recording cannot be read")
                }
            }
        }
        let ended_at = DateTime::<Utc>::from(ended);
        let caller_number = entry.caller_number.clone();
        let mut record = closed(entry, CallOutcome::Interrupted, ended_at);
        record.recording_sha256 = sha256;
        out.push(Interrupted {
            record,
            caller_number,
        });
    }
    Ok(out)
}

/// The record of a journalled call an engine's death cut (`interrupted` after a crash,
/// `lost_in_failover` when the other engine took over), ended at `ended_at` (never before it
/// started). A record is of a finished call (`ended`); where it was is in its other fields
/// (queue, agent, wait), how it ended in `outcome`.
pub fn closed(entry: JournalEntry, outcome: CallOutcome, ended_at: DateTime<Utc>) -> CallRecord {
    let ended_at = ended_at.max(entry.call.started_at);
    let mut call = entry.call;
    call.state = crate::call::record::CallState::Ended;
    CallRecord {
        call,
        ended_at,
        outcome,
        sip_call_id: entry.sip_call_id,
        recording_sha256: None,
        over_15s: None,
        agent_media_failure: None,
    }
}

/// Ids of the calls with a finished record in the day files from `first_day` on.
fn finished_since(dir: &Path, first_day: &str) -> std::io::Result<HashSet<String>> {
    #[derive(serde::Deserialize)]
    struct Id {
        id: String,
    }
    let mut ids = HashSet::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ids),
        Err(e) => return Err(e),
    };
    for e in entries.flatten() {
        let p = e.path();
        let day = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        if p.extension().is_none_or(|x| x != "jsonl") || day < first_day {
            continue;
        }
        for line in BufReader::new(File::open(&p)?).lines() {
            if let Ok(r) = serde_json::from_str::<Id>(&line?) {
                ids.insert(r.id);
            }
        }
    }
    Ok(ids)
}

/// After the interrupted calls have their records: start the journal afresh.
pub fn reset(data_dir: &Path) -> std::io::Result<()> {
    let path = path_in(data_dir);
    match crate::shell::private_fs::options()
        .write(true)
        .truncate(true)
        .open(&path)
    {
        Ok(f) => f.sync_all(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Repairs the recordings a crash left, then turns every journalled call without a record
/// into an `interrupted` one (recording hashed, written to the records), and empties the
/// journal. Off the async threads: hashing long recordings takes a while. A failure (a full
/// disk) is logged and leaves the journal for the next start: the engine serves regardless.
pub async fn recover_interrupted(
    data_dir: &Path,
    records: &mut crate::shell::records::CallRecordLog,
) -> Vec<Interrupted> {
    let dir = data_dir.to_path_buf();
    let found = tokio::task::spawn_blocking(move || {
        let repaired = crate::shell::recording::repair_all(&dir.join("recordings"));
        if !repaired.is_empty() {
            tracing::warn!(files = ?repaired, "repaired recordings left by an earlier crash");
        }
        recover(&dir)
    })
    .await;
    let found = match found {
        Ok(Ok(found)) => found,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "cannot read the call journal: calls cut by a crash get no record now");
            return Vec::new();
        }
        Err(e) => {
            tracing::error!(error = %e, "recovering interrupted calls failed");
            return Vec::new();
        }
    };
    for i in &found {
        tracing::warn!(
            call = crate::call::ids::id_of_name(&i.record.call.id),
            state = %i.record.call.state.as_str(),
            recording = ?i.record.call.recording,
            "call interrupted by an earlier crash: recorded as interrupted"
        );
        if let Err(e) = records.append(&i.record) {
            // Kept in the journal: the next start tries again (records are matched by id).
            tracing::error!(error = %e, "cannot write an interrupted call's record; the journal is kept");
            return Vec::new();
        }
    }
    if let Err(e) = records.sync().and_then(|()| reset(data_dir)) {
        tracing::error!(error = %e, "cannot empty the call journal; the next start finds these calls recorded");
    }
    if !found.is_empty() {
        tracing::warn!(
            calls = found.len(),
            "calls interrupted by an earlier crash recorded"
        );
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::record::{CallState, LiveCall};
    use chrono::TimeZone;

    fn live(id: &str, state: CallState) -> LiveCall {
        let at = chrono::Utc
            .with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
            .single()
            .unwrap();
        let talking = state == CallState::Talking;
        let queued = state >= CallState::Queued;
        LiveCall {
            callback_offered: false,
            id: id.into(),
            caller: "138******78".into(),
            called: "12345".into(),
            called_name: None,
            state,
            menu_path: Vec::new(),
            queue: queued.then(|| "general".into()),
            started_at: at,
            answered_at: Some(at),
            queued_at: queued.then_some(at),
            offered_to: None,
            agent: talking.then(|| "1001".into()),
            connected_at: talking.then(|| at + chrono::Duration::seconds(4)),
            wait_s: talking.then_some(4.0),
            recording: talking.then(|| format!("recordings/2026/11/22/{id}.wav")),
            transfers: Vec::new(),
            ticket: None,
            answered_queue: talking.then(|| "general".into()),
            on_hold: false,
            parties: Vec::new(),
            direction: Default::default(),
            outbound: None,
        }
    }

    fn entry(call: LiveCall) -> JournalEntry {
        let talking = call.state == CallState::Talking;
        JournalEntry {
            call,
            sip_call_id: "sip-1".into(),
            caller_number: talking.then(|| "13812345678".into()),
        }
    }

    /// Issue 12 item 7: after a kill -9, every journalled call without a finished record gets
    /// one (`interrupted`), its recording hashed; the KPIs count an answered one as answered
    /// and one still waiting as an abandon; the journal then starts afresh.
    #[test]
    fn journalled_calls_without_a_record_become_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path();
        let mut records = crate::shell::records::CallRecordLog::open(data).unwrap();
        {
            let mut j = CallJournal::open(data).unwrap();
            for (id, states) in [
                ("done", &[CallState::Setup, CallState::Ivr][..]),
                (
                    "talking",
                    &[CallState::Setup, CallState::Queued, CallState::Talking][..],
                ),
                ("waiting", &[CallState::Setup, CallState::Queued][..]),
                ("in-ivr", &[CallState::Ivr][..]),
            ] {
                for s in states {
                    j.append(&entry(live(id, *s))).unwrap();
                }
            }
            // "done" ended normally: its record supersedes its entries.
            let mut done = CallRecord {
                call: live("done", CallState::Ivr),
                ended_at: live("done", CallState::Ivr).started_at,
                outcome: CallOutcome::AbandonedInIvr,
                sip_call_id: "x".into(),
                recording_sha256: None,
                over_15s: None,
                agent_media_failure: None,
            };
            done.call.menu_path = vec!["main:1".into()];
            records.append(&done).unwrap();
            // A torn last line, as a crash mid-write leaves it.
            j.file.write_all(b"{\"id\":\"torn").unwrap();
            // No close: the process is killed.
        }
        let wav = data.join("recordings/2026/11/22/talking.wav");
        let mut rec = crate::shell::recording::RecordingFile::create(&wav).unwrap();
        rec.write_frame(&[5; 160], &[6; 160]).unwrap();
        rec.flush().unwrap();
        std::mem::forget(rec);

        let found = recover(data).unwrap();
        let ids: Vec<&str> = found.iter().map(|i| i.record.call.id.as_str()).collect();
        assert_eq!(ids, vec!["talking", "waiting", "in-ivr"]);
        assert!(found
            .iter()
            .all(|i| i.record.outcome == CallOutcome::Interrupted));
        let talking = &found[0];
        assert_eq!(talking.record.call.state, CallState::Ended);
        assert_eq!(talking.record.call.agent.as_deref(), Some("1001"));
        assert_eq!(
            talking.record.recording_sha256.as_deref(),
            Some(crate::shell::recording::sha256_of(&wav).unwrap().as_str())
        );
        assert_eq!(talking.caller_number.as_deref(), Some("13812345678"));
        assert!(found[1].record.recording_sha256.is_none());

        // Written as records, the KPIs count them as documented (docs/KPI.md).
        for i in &found {
            records.append(&i.record).unwrap();
        }
        records.sync().unwrap();
        reset(data).unwrap();
        use crate::stats::kpi::Outcome;
        let kpis = crate::shell::records::kpi_outcomes(data).unwrap();
        let answered = kpis
            .iter()
            .filter(|e| matches!(e.outcome, Outcome::Answered { .. }))
            .count();
        let abandoned = kpis
            .iter()
            .filter(|e| matches!(e.outcome, Outcome::Abandoned { .. }))
            .count();
        let handled = kpis
            .iter()
            .filter(|e| matches!(e.outcome, Outcome::Handled { .. }))
            .count();
        assert_eq!((answered, abandoned, handled), (1, 1, 0), "{kpis:?}");
        // Reconciled once: a second start finds nothing to do.
        assert!(recover(data).unwrap().is_empty());
        let reopened = crate::shell::records::CallRecordLog::open(data).unwrap();
        assert_eq!(reopened.recent().latest(10).len(), 4);
    }

    #[tokio::test]
    async fn a_large_journal_is_rewritten_with_the_live_calls_only() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path();
        let mut records = crate::shell::records::CallRecordLog::open(data).unwrap();
        let mut j = CallJournal::open(data).unwrap();
        let mut big = entry(live("a", CallState::Ivr));
        big.call.menu_path = vec!["x".repeat(4096)];
        for _ in 0..(COMPACT_OVER / 4096 + 1) {
            j.append(&big).unwrap();
        }
        j.append(&entry(live("b", CallState::Ivr))).unwrap();
        let len = || std::fs::metadata(path_in(data)).unwrap().len();
        assert!(len() > COMPACT_OVER);
        // a ends: the journal keeps only b, the call still live.
        j.finished("a", &mut records);
        assert!(len() < 4096, "{}", len());
        let left = recover(data).unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].record.call.id, "b");
        j.append(&entry(live("b", CallState::Queued))).unwrap();
        // The newest entry of b is the one recovered (it had reached a queue).
        assert_eq!(
            recover(data).unwrap()[0].record.call.queue.as_deref(),
            Some("general")
        );
        j.finished("b", &mut records);
        // An fsync runs off the engine task once due.
        j.append(&entry(live("c", CallState::Setup))).unwrap();
        assert!(j.sync_due().is_some());
        j.sync_if_due();
        j.close(&mut records).await;
        assert!(
            len() > 0,
            "c never ended: its entry stays for the next start"
        );
    }
}
