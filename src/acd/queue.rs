//! The waiting lines: calls in arrival order per queue, each with the instant it asked for a
//! person (t₀ of the 15-second clock). A call waits in at most one queue.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::Instant;

/// Why a queue operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    #[error("unknown queue {0:?}")]
    UnknownQueue(String),
    #[error("the call is already waiting in queue {0:?}")]
    AlreadyQueued(String),
}

/// One call waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting<C> {
    pub call: C,
    /// When it asked for a person.
    pub since: Instant,
}

/// All queues' waiting lines. `C` is the call id type.
#[derive(Debug)]
pub struct WaitingLines<C> {
    lines: HashMap<String, VecDeque<Waiting<C>>>,
    index: HashMap<C, String>,
}

impl<C: Clone + Eq + Hash> WaitingLines<C> {
    /// Creates empty lines for the named queues; other names are refused later.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(queues: I) -> Self {
        Self {
            lines: queues
                .into_iter()
                .map(|q| (q.into(), VecDeque::new()))
                .collect(),
            index: HashMap::new(),
        }
    }

    /// Whether a queue of that name exists.
    pub fn has_queue(&self, queue: &str) -> bool {
        self.lines.contains_key(queue)
    }

    /// Puts a call at the back of a queue.
    pub fn enqueue(&mut self, queue: &str, call: C, now: Instant) -> Result<(), QueueError> {
        if let Some(q) = self.index.get(&call) {
            return Err(QueueError::AlreadyQueued(q.clone()));
        }
        let line = self
            .lines
            .get_mut(queue)
            .ok_or_else(|| QueueError::UnknownQueue(queue.to_string()))?;
        line.push_back(Waiting {
            call: call.clone(),
            since: now,
        });
        self.index.insert(call, queue.to_string());
        Ok(())
    }

    /// Takes a call out of whatever queue it waits in; returns how it waited.
    pub fn remove(&mut self, call: &C) -> Option<(String, Waiting<C>)> {
        let queue = self.index.remove(call)?;
        let line = self.lines.get_mut(&queue)?;
        let pos = line.iter().position(|w| &w.call == call)?;
        let w = line.remove(pos)?;
        Some((queue, w))
    }

    /// 1-based position of a call in its queue (1 = next to be served).
    pub fn position(&self, call: &C) -> Option<usize> {
        let queue = self.index.get(call)?;
        self.lines
            .get(queue)?
            .iter()
            .position(|w| &w.call == call)
            .map(|p| p + 1)
    }

    /// The queue a call waits in.
    pub fn queue_of(&self, call: &C) -> Option<&str> {
        self.index.get(call).map(String::as_str)
    }

    /// Calls waiting in a queue, oldest first.
    pub fn waiting(&self, queue: &str) -> impl Iterator<Item = &Waiting<C>> {
        self.lines.get(queue).into_iter().flatten()
    }

    /// How many calls wait in all queues.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether no call waits anywhere.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[allow(clippy::disallowed_methods)] // a fixed origin; every step after it is explicit
    fn t0() -> Instant {
        Instant::now()
    }

    #[test]
    fn fifo_positions_and_removal() {
        let t0 = t0();
        let mut q = WaitingLines::new(["general", "dialect"]);
        q.enqueue("general", 1, t0).unwrap();
        q.enqueue("general", 2, t0 + Duration::from_secs(1))
            .unwrap();
        q.enqueue("dialect", 3, t0).unwrap();
        assert_eq!(q.position(&2), Some(2));
        assert_eq!(q.position(&3), Some(1));
        let (queue, w) = q.remove(&1).unwrap();
        assert_eq!(queue, "general");
        assert_eq!(w.since, t0);
        assert_eq!(q.position(&2), Some(1));
        assert_eq!(q.len(), 2);
        assert_eq!(q.remove(&1), None);
    }

    #[test]
    fn refuses_unknown_queue_and_double_enqueue() {
        let t0 = t0();
        let mut q = WaitingLines::new(["general"]);
        assert_eq!(
            q.enqueue("nope", 1, t0),
            Err(QueueError::UnknownQueue("nope".into()))
        );
        q.enqueue("general", 1, t0).unwrap();
        assert_eq!(
            q.enqueue("general", 1, t0),
            Err(QueueError::AlreadyQueued("general".into()))
        );
    }
}
