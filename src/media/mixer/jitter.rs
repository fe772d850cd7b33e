//! One party's small playout queue in the mixer: decoded 20 ms frames wait here between the
//! packet that brought them and the 20 ms tick that mixes them, absorbing arrival jitter.
//!
//! A party is *primed* (has its prime, by default [`PRIME_FRAMES`], queued) before it is
//! played out, so one late packet does not starve the mix at once. At most [`MAX_FRAMES`] (configurable) wait: a burst beyond that
//! drops the oldest (a phone sending faster than real time must not delay everyone it talks
//! to). An empty queue while the party is streaming is an *underrun*, counted when the next
//! packet shows the stream went on (no RTP marker); a talkspurt that ended (a marker on the
//! next packet, RFC 4733 events instead of audio, or more than [`REPRIME_AFTER`] empty ticks)
//! re-primes without counting.

use std::collections::VecDeque;

use crate::media::codec::FRAME_SAMPLES;

/// Frames queued before a party is played out by default (40 ms, `rtp.conference_prime`).
pub const PRIME_FRAMES: usize = 2;

/// The bounds of that setting (20 ms to 200 ms): at least a frame, at most what the
/// default queue holds (a deeper prime is mouth-to-ear delay for every party).
pub const PRIME_LIMITS: std::ops::RangeInclusive<usize> = 1..=10;

/// The most frames a party may have waiting by default (200 ms, `rtp.conference_queue`);
/// beyond, the oldest is dropped.
pub const MAX_FRAMES: usize = 10;

/// The bounds of that setting (40 ms to 1 s); it is never below the prime.
pub const QUEUE_LIMITS: std::ops::RangeInclusive<usize> = PRIME_FRAMES..=50;

/// Empty ticks (200 ms) after which a party counts as silent rather than starved.
pub const REPRIME_AFTER: u32 = 10;

/// One 20 ms frame of linear PCM.
pub type Frame = [i16; FRAME_SAMPLES];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for the prime's frames (start, after silence, after an underrun).
    Priming,
    Playing,
    /// The queue ran dry this many ticks ago while playing.
    Starved(u32),
}

/// See the module doc.
#[derive(Debug)]
pub(super) struct Jitter {
    frames: VecDeque<Frame>,
    state: State,
    /// The most frames kept (within [`QUEUE_LIMITS`], at least `prime`).
    max: usize,
    /// Frames queued before playing out (within [`PRIME_LIMITS`]).
    prime: usize,
}

impl Jitter {
    pub(super) fn new(max: usize, prime: usize) -> Jitter {
        let prime = prime.clamp(*PRIME_LIMITS.start(), *PRIME_LIMITS.end());
        let max = max
            .clamp(*QUEUE_LIMITS.start(), *QUEUE_LIMITS.end())
            .max(prime);
        Jitter {
            frames: VecDeque::with_capacity(max),
            state: State::Priming,
            max,
            prime,
        }
    }

    /// A new prime, for the next time the party primes (start, silence, underrun).
    pub(super) fn set_prime(&mut self, prime: usize) {
        self.prime = prime.clamp(*PRIME_LIMITS.start(), *PRIME_LIMITS.end());
        self.max = self.max.max(self.prime);
    }

    /// A new limit; frames beyond it are dropped now (returned: to count).
    pub(super) fn set_max(&mut self, max: usize) -> usize {
        self.max = max
            .clamp(*QUEUE_LIMITS.start(), *QUEUE_LIMITS.end())
            .max(self.prime);
        let excess = self.frames.len().saturating_sub(self.max);
        self.frames.drain(..excess);
        excess
    }

    /// An audio packet arrived (`marker`: it starts a talkspurt). Returns the ticks the
    /// party was starved for if the stream simply went on, i.e. underruns to count.
    pub(super) fn arrived(&mut self, marker: bool) -> u64 {
        match self.state {
            State::Starved(n) => {
                self.state = State::Priming;
                if marker {
                    0
                } else {
                    u64::from(n)
                }
            }
            _ => 0,
        }
    }

    /// Queues a frame; returns `true` when the oldest had to be dropped for it.
    pub(super) fn push(&mut self, frame: &Frame) -> bool {
        let dropped = self.frames.len() >= self.max;
        if dropped {
            self.frames.pop_front();
        }
        self.frames.push_back(*frame);
        dropped
    }

    /// The party sends RFC 4733 events instead of audio: silence, not starvation.
    pub(super) fn quiet(&mut self) {
        if matches!(self.state, State::Starved(_)) {
            self.state = State::Priming;
        }
    }

    /// The frame to mix at this tick, if the party is playing and has one.
    pub(super) fn pop(&mut self) -> Option<Frame> {
        match self.state {
            State::Priming => {
                if self.frames.len() < self.prime {
                    return None;
                }
                self.state = State::Playing;
                self.frames.pop_front()
            }
            State::Playing => {
                let f = self.frames.pop_front();
                if f.is_none() {
                    self.state = State::Starved(1);
                }
                f
            }
            State::Starved(n) => {
                // `arrived` ends starvation before any frame is queued.
                self.state = if n >= REPRIME_AFTER {
                    State::Priming
                } else {
                    State::Starved(n + 1)
                };
                None
            }
        }
    }

    /// Frames waiting.
    pub(super) fn len(&self) -> usize {
        self.frames.len()
    }
}
