//! Kept places across a restart: saved in `state.json` with the registrations and agent
//! states (`call::persist`), queued again in their order a moment after start.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::KeptCallback;
use crate::call::engine::CallEngine;
use crate::call::session::CallId;

/// A kept place as `state.json` keeps it across a restart.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedCallback {
    /// The call id the place is kept under (the ACD's key; the callback's call takes it).
    pub call: u64,
    /// The whole number to call (the data folder is owner-only, like the call journal).
    pub number: String,
    pub queue: String,
    pub origin: String,
    pub requested_at: DateTime<Utc>,
    /// When the caller first asked for a person: the place in the line.
    pub queued_at: DateTime<Utc>,
    pub menu_path: Vec<String>,
    pub tries: u32,
}

/// How soon after a restart the kept places go back into the line: once the engine task
/// runs (what the restore itself puts out is not sent).
const RESTORE_DELAY: Duration = Duration::from_secs(1);

impl CallEngine {
    /// The kept places, for `state.json`.
    pub(crate) fn saved_callbacks(&self, now: Instant) -> Vec<SavedCallback> {
        let mut out: Vec<SavedCallback> = self
            .kept
            .by_call
            .iter()
            .map(|(id, k)| SavedCallback {
                call: id.0,
                number: k.number.clone(),
                queue: k.queue.clone(),
                origin: k.origin.clone(),
                requested_at: k.requested_at,
                queued_at: self.wall(now)
                    - chrono::Duration::from_std(now.saturating_duration_since(k.t0))
                        .unwrap_or_default(),
                menu_path: k.menu_path.clone(),
                tries: k.tries,
            })
            .collect();
        out.sort_by_key(|c| c.queued_at);
        out
    }

    /// Puts saved places back, in their order, a moment after the start (see
    /// [`RESTORE_DELAY`]). Places of unknown queues are dropped with a warning.
    pub(crate) fn restore_callbacks(&mut self, saved: &[SavedCallback], now: Instant) -> usize {
        let wall = self.wall(now);
        let mut done = 0;
        for s in saved {
            let id = CallId(s.call);
            if !self.acd.has_voice_queue(&s.queue) || self.kept.by_call.contains_key(&id) {
                tracing::warn!(origin = %s.origin, queue = %s.queue, "saved callback dropped: its queue is gone");
                continue;
            }
            let ago = |t: DateTime<Utc>| (wall - t).to_std().unwrap_or_default();
            let back = |d: Duration| now.checked_sub(d).unwrap_or(now);
            self.kept.by_call.insert(
                id,
                KeptCallback {
                    number: s.number.clone(),
                    queue: s.queue.clone(),
                    origin: s.origin.clone(),
                    requested_at: s.requested_at,
                    requested_mono: back(ago(s.requested_at)),
                    t0: back(ago(s.queued_at)),
                    menu_path: s.menu_path.clone(),
                    tries: s.tries,
                },
            );
            self.kept.retries.insert((now + RESTORE_DELAY, id));
            done += 1;
        }
        done
    }
}
