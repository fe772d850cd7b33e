//! Instruments that the shell's threads and tasks update where things happen (the ticket
//! store thread's commits, ticket transitions after they are committed), read by `/metrics`.
//! Atomics and one small locked map; they make no decision and render nothing (that is
//! `cti::metrics`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::workflow::WorkflowError;

/// Upper bounds (seconds) of the ticket store's commit-latency buckets: an fsync on an SSD
/// takes about a millisecond, a slow disk tens; past a second something is wrong.
pub const STORE_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// A fixed-bucket latency histogram (Prometheus semantics: `le` upper bounds, cumulative
/// when read). Lock-free: one atomic per bucket.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    /// Per bucket (not cumulative); the last slot is `+Inf`.
    counts: Vec<AtomicU64>,
    sum_nanos: AtomicU64,
}

/// A histogram read at one instant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistogramSnapshot {
    /// `(le, cumulative count)` for each finite bound, in order.
    pub buckets: Vec<(f64, u64)>,
    /// Observations in all (the `+Inf` bucket).
    pub count: u64,
    /// Sum of observations, seconds.
    pub sum: f64,
}

impl Histogram {
    /// An empty histogram with these ascending upper bounds (seconds).
    pub fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_nanos: AtomicU64::new(0),
        }
    }

    /// Records one duration.
    pub fn observe(&self, d: Duration) {
        let s = d.as_secs_f64();
        let i = self
            .bounds
            .iter()
            .position(|b| s <= *b)
            .unwrap_or(self.bounds.len());
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// The cumulative buckets, count and sum now. The count is the sum of the buckets, so
    /// `_count` always equals the `+Inf` bucket even while other threads observe.
    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut total = 0;
        let mut buckets = Vec::with_capacity(self.bounds.len());
        for (i, c) in self.counts.iter().enumerate() {
            total += c.load(Ordering::Relaxed);
            if let Some(b) = self.bounds.get(i) {
                buckets.push((*b, total));
            }
        }
        HistogramSnapshot {
            buckets,
            count: total,
            sum: self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9,
        }
    }
}

/// Counters by one label value. The values come from closed sets (action names, refusal
/// codes), so the map stays small.
#[derive(Debug, Default)]
pub struct LabeledCounter {
    counts: Mutex<BTreeMap<&'static str, u64>>,
}

impl LabeledCounter {
    /// Adds one for `label`.
    pub fn inc(&self, label: &'static str) {
        self.add(label, 1);
    }

    /// Adds `n` for `label`.
    pub fn add(&self, label: &'static str, n: u64) {
        let mut m = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        *m.entry(label).or_insert(0) += n;
    }

    /// Every label seen so far with its count, sorted by label.
    pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
        let m = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        m.iter().map(|(k, v)| (*k, *v)).collect()
    }
}

/// What the ticket side counts: committed transitions by action, refused attempts by code,
/// and how long the store thread's transactions take.
#[derive(Debug)]
pub struct TicketMetrics {
    /// Transitions committed, by action (`create`, `open_draft`, the [`crate::workflow::Action`]
    /// names, `sweep` for the sweeper's timed steps).
    pub transitions: LabeledCounter,
    /// Attempts refused, by the API's error code (the workflow's refusal codes,
    /// `version_conflict`, `not_found`, `internal`).
    pub refusals: LabeledCounter,
    /// One observation per batch: BEGIN, the queued requests, COMMIT (group commit).
    pub commit_seconds: Histogram,
    /// Batches whose COMMIT failed (rolled back; nobody was told they succeeded).
    pub failed_commits: AtomicU64,
    /// Raised while the data folder is full (the ticket store and the engine's files).
    pub storage: std::sync::Arc<StorageAlarm>,
    /// Internet requests registered, by channel (issue 13).
    pub public_accepted: LabeledCounter,
    /// The public routes' refusals, by code (`rate_limited`, `challenge_required`, …).
    pub public_refused: LabeledCounter,
}

/// The `storage_full` alarm: raised while writes to the data folder fail for lack of room
/// (SQLite's `SQLITE_FULL`, `ENOSPC`/`EDQUOT` on the call records and journal), cleared by
/// the next write that succeeds there (they share one folder). Logged once per episode, and
/// at most once per [`STORAGE_LOG_EVERY`] when it comes and goes.
#[derive(Debug, Default)]
pub struct StorageAlarm {
    full: AtomicBool,
    /// Episodes so far (each time the alarm was raised).
    pub episodes: AtomicU64,
    logged_at: Mutex<Option<std::time::Instant>>,
}

/// The least time between two `storage_full` log lines.
pub const STORAGE_LOG_EVERY: Duration = Duration::from_secs(60);

/// Whether an I/O error means the disk (or the quota) is full.
pub fn is_disk_full(e: &std::io::Error) -> bool {
    // std maps ENOSPC to `StorageFull` and EDQUOT to `QuotaExceeded`.
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    )
}

impl StorageAlarm {
    /// Whether the data folder is full now.
    pub fn is_full(&self) -> bool {
        self.full.load(Ordering::Relaxed)
    }

    /// A write to the data folder: `full` when it failed for lack of room, else it succeeded.
    pub fn written(&self, full: bool, what: &str) {
        if self.full.swap(full, Ordering::Relaxed) == full {
            return;
        }
        if full {
            self.episodes.fetch_add(1, Ordering::Relaxed);
        }
        let now = crate::shell::clock::now();
        let mut last = self.logged_at.lock().unwrap_or_else(|e| e.into_inner());
        if full && last.is_some_and(|t| now.saturating_duration_since(t) < STORAGE_LOG_EVERY) {
            return;
        }
        *last = Some(now);
        if full {
            tracing::error!(what, "storage_full: the data folder is full; writes are refused (the calls' drafts are retried) until space is freed");
        } else {
            tracing::warn!(what, "storage_full cleared: writes succeed again");
        }
    }

    /// A write of a call record or the journal: an error other than a full disk leaves the
    /// alarm as it is.
    pub fn files_written<T>(&self, result: &std::io::Result<T>) {
        match result {
            Ok(_) => self.written(false, "call files"),
            Err(e) if is_disk_full(e) => self.written(true, "call files"),
            Err(_) => {}
        }
    }
}

impl Default for TicketMetrics {
    fn default() -> Self {
        Self {
            transitions: LabeledCounter::default(),
            refusals: LabeledCounter::default(),
            commit_seconds: Histogram::new(&STORE_BUCKETS),
            failed_commits: AtomicU64::new(0),
            storage: Default::default(),
            public_accepted: LabeledCounter::default(),
            public_refused: LabeledCounter::default(),
        }
    }
}

impl TicketMetrics {
    /// Counts a committed transition.
    pub fn committed(&self, action: &'static str) {
        self.transitions.inc(action);
    }

    /// Counts a refused attempt by its API code.
    pub fn refused(&self, code: &'static str) {
        self.refusals.inc(code);
    }

    /// Counts the answer of one attempt at `action`: committed or refused.
    pub fn outcome<T>(&self, action: &'static str, result: &Result<T, WorkflowError>) {
        match result {
            Ok(_) => self.committed(action),
            Err(e) => self.refused(error_code(e)),
        }
    }
}

/// The API's code for a workflow error (the same `code` its HTTP answer carries).
pub fn error_code(e: &WorkflowError) -> &'static str {
    use crate::workflow::store::StoreError;
    match e {
        WorkflowError::Refused(r) => r.code(),
        WorkflowError::NotFound(_) => "not_found",
        WorkflowError::Store(StoreError::Conflict { .. }) => "version_conflict",
        WorkflowError::Store(StoreError::Full) => "storage_full",
        _ => "internal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_count_is_the_inf_bucket() {
        let h = Histogram::new(&STORE_BUCKETS);
        h.observe(Duration::from_micros(300)); // ≤ 0.5 ms
        h.observe(Duration::from_millis(1)); // ≤ 1 ms (bounds are inclusive)
        h.observe(Duration::from_millis(30)); // ≤ 50 ms
        h.observe(Duration::from_secs(10)); // +Inf only
        let s = h.snapshot();
        assert_eq!(s.count, 4);
        assert_eq!(s.buckets[0], (0.0005, 1));
        assert_eq!(s.buckets[1], (0.001, 2));
        assert_eq!(s.buckets[5], (0.025, 2));
        assert_eq!(s.buckets[6], (0.05, 3));
        assert_eq!(s.buckets.last(), Some(&(2.5, 3)));
        assert!((s.sum - 10.0313).abs() < 1e-9, "{}", s.sum);
    }

    #[test]
    fn outcomes_count_commits_and_refusals_by_code() {
        let m = TicketMetrics::default();
        m.outcome("accept", &Ok::<(), WorkflowError>(()));
        m.outcome("accept", &Ok::<(), WorkflowError>(()));
        let refused: Result<(), WorkflowError> = Err(crate::workflow::Refusal::Archived.into());
        m.outcome("accept", &refused);
        assert_eq!(m.transitions.snapshot(), vec![("accept", 2)]);
        assert_eq!(m.refusals.snapshot(), vec![("archived", 1)]);
    }
}
