//! The stereo call recording, sans-IO: both sides' 20 ms frames in, one interleaved stereo
//! block (caller left, agent right) per 20 ms slot out. Owns the playout decisions — which
//! slot a frame belongs to, what is silence, what counts as lost — and nothing else: the
//! shell writes the blocks to a file and runs the 20 ms timer.
//!
//! **Slots.** Slot `k` covers `[start + k·20 ms, start + (k+1)·20 ms)` and is written once
//! its end has passed ([`StereoRecorder::poll_timeout`]). A late timer costs nothing: the next
//! [`StereoRecorder::handle_timeout`] writes every missed slot (at most [`MAX_CATCH_UP`]; a
//! longer stall skips the oldest slots, counting their audio as dropped).
//!
//! **Which slot a frame takes.** A side's first frame is placed [`PRIME`] slots after the slot
//! it arrived in: a 500 ms playout delay, so arrival jitter (the network, the phone, and on a
//! busy machine the scheduling of this process) never inserts silence. Nobody listens live,
//! so the delay costs 16 KiB of memory per call. After that, a frame that *follows* the
//! previous one (same stream, next sequence number, no marker) takes the next slot — a side
//! whose RTP clock drifts a little from ours keeps its audio contiguous. After a loss, a
//! marker (silence suppression), an RFC 4733 event or a new SSRC the RTP timestamp decides
//! (relative to the side's last frame), so a lost packet becomes exactly one slot of silence
//! instead of shifting the rest of the channel earlier; a packet that arrives late but before
//! its slot was written (reordering) still lands in its own slot. An implausible timestamp
//! (a new SSRC starts anywhere) re-anchors the side by arrival time, as for a first frame.
//!
//! **Counters** ([`RecorderStats`], on `/metrics`): *filled* is a slot of one channel left
//! silent between two frames of that side's audio (its frame was lost or came too late);
//! silence before a side's first frame, after its last, and while it sends RFC 4733
//! telephone-events instead of audio ([`StereoRecorder::handle_event`]) is not loss.
//! *Dropped* is a frame received but never written: its side ran more than [`MAX_QUEUED`]
//! slots ahead of real time (a side sending faster than real time must not make the file
//! drift or grow the memory without bound), or its slot was skipped after a stall.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::media::codec::FRAME_SAMPLES;

#[cfg(test)]
mod tests;

/// Samples in one stereo block: 160 per channel, interleaved left, right.
pub const BLOCK_SAMPLES: usize = 2 * FRAME_SAMPLES;

/// One slot's length.
pub const SLOT: Duration = Duration::from_millis(20);
const SLOT_NANOS: u128 = 20_000_000;

/// Playout delay in slots (500 ms) before a side's first frame is written.
pub const PRIME: u64 = 25;

/// How far (in slots, 2 s) a side's frames may run ahead of the slot being collected now;
/// beyond, they are dropped.
pub const MAX_QUEUED: u64 = 100;

/// Slots written at most by one late [`StereoRecorder::handle_timeout`] (5 s); a longer stall
/// skips the oldest due slots. Bounds the burst of blocks and the memory held per call.
pub const MAX_CATCH_UP: u64 = 250;

/// The longest silence (in slots, 60 s) an RTP timestamp jump is believed to stand for after
/// a gap; a larger jump is a new stream and the side is re-anchored by arrival time.
const MAX_GAP: i64 = 3_000;

/// Slots kept quiet after the end of an RFC 4733 event: the end packet is sent three times
/// 20 ms apart (RFC 4733 §2.5.1.4), and phones resume audio only after the last copy.
const EVENT_TAIL: u64 = 2;

/// RTP timestamp units per slot (8 kHz).
const TS_PER_SLOT: i64 = FRAME_SAMPLES as i64;

/// One side of a call. In the recording the caller is the left channel, the agent the right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Caller,
    Agent,
}

impl Side {
    /// The other side (where relayed audio goes).
    pub fn other(self) -> Side {
        match self {
            Side::Caller => Side::Agent,
            Side::Agent => Side::Caller,
        }
    }

    fn channel(self) -> usize {
        match self {
            Side::Caller => 0,
            Side::Agent => 1,
        }
    }
}

/// What one recording wrote and lost (see the module doc).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecorderStats {
    /// Stereo blocks produced.
    pub written: u64,
    /// Channel slots left silent between two frames of that side's audio.
    pub filled: u64,
    /// Frames received but never written.
    pub dropped: u64,
}

/// What a channel holds for one slot. Nearly every slot holds audio, so the frame is inline:
/// boxing it would cost an allocation per frame to save nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// Nothing arrived (yet).
    Empty,
    /// The side sent an RFC 4733 event for this slot instead of audio: silence, not loss.
    Quiet,
    Audio([i16; FRAME_SAMPLES]),
}

/// One side's frames waiting for their slot.
#[derive(Debug, Default)]
struct Channel {
    /// `slots[i]` is slot `next + i` of the recorder.
    slots: VecDeque<Slot>,
    /// The slot and RTP timestamp of the side's last placed frame (or first event): the
    /// reference for timestamp-decided placement. `None` before the first frame and after
    /// [`StereoRecorder::new_stream`].
    anchor: Option<(u64, u32)>,
    /// The slot of the side's last placed frame: a new stream starts after it.
    last: Option<u64>,
    /// Whether any audio of this side was written (silence before it is not loss).
    started: bool,
    /// Silent slots since this side's last written audio; counted as filled only when more
    /// audio of this side follows them.
    gap: u64,
}

impl Channel {
    fn slot_mut(&mut self, index: usize) -> &mut Slot {
        if self.slots.len() <= index {
            self.slots.resize(index + 1, Slot::Empty);
        }
        &mut self.slots[index]
    }
}

/// Slots between two RTP timestamps, rounded to the nearest (negative: `to` is older).
fn slots_between(from: u32, to: u32) -> i64 {
    let d = i64::from(to.wrapping_sub(from) as i32);
    (d + TS_PER_SLOT / 2).div_euclid(TS_PER_SLOT)
}

/// One call's recording in the making. See the module doc.
#[derive(Debug)]
pub struct StereoRecorder {
    start: Instant,
    /// The next slot to write.
    next: u64,
    channels: [Channel; 2],
    blocks: VecDeque<[i16; BLOCK_SAMPLES]>,
    stats: RecorderStats,
}

impl StereoRecorder {
    /// A recording whose slot 0 begins at `now`.
    pub fn new(now: Instant) -> Self {
        StereoRecorder {
            start: now,
            next: 0,
            channels: Default::default(),
            blocks: VecDeque::new(),
            stats: RecorderStats::default(),
        }
    }

    /// The slot being collected at `now` (every slot before it is due for writing).
    fn current_slot(&self, now: Instant) -> u64 {
        (now.saturating_duration_since(self.start).as_nanos() / SLOT_NANOS) as u64
    }

    /// One 20 ms frame of `side`'s audio. `rtp_timestamp` is the media time of its first
    /// sample; `follows_previous` says it continues that side's previous frame without a
    /// gap (same SSRC, next sequence number, no marker), so it takes the next slot whatever
    /// its timestamp says.
    pub fn handle_frame(
        &mut self,
        side: Side,
        rtp_timestamp: u32,
        follows_previous: bool,
        pcm: &[i16; FRAME_SAMPLES],
        now: Instant,
    ) {
        let current = self.current_slot(now);
        let next = self.next;
        let ch = &mut self.channels[side.channel()];
        let by_arrival = (current + PRIME).max(ch.last.map_or(0, |l| l + 1));
        let slot = match ch.anchor {
            None => by_arrival,
            Some((last, _)) if follows_previous => last + 1,
            Some((last, last_ts)) => {
                let d = slots_between(last_ts, rtp_timestamp);
                if d <= 0 {
                    // Older than the last frame placed: reordered, or a duplicate. It may
                    // still fill its own slot if that was not written yet.
                    let s = last as i64 + d;
                    if s >= next as i64 {
                        let at = ch.slot_mut((s as u64 - next) as usize);
                        if !matches!(at, Slot::Audio(_)) {
                            *at = Slot::Audio(*pcm);
                        }
                    }
                    return;
                }
                let s = last + d as u64;
                if d <= MAX_GAP && s < current + MAX_QUEUED {
                    s
                } else {
                    by_arrival
                }
            }
        };
        // Its slot was written already (the side stalled longer than the playout delay):
        // the side goes on from the first open slot.
        let slot = slot.max(next);
        if slot >= current + MAX_QUEUED || slot - next >= MAX_CATCH_UP + MAX_QUEUED {
            self.stats.dropped += 1;
            return;
        }
        *ch.slot_mut((slot - next) as usize) = Slot::Audio(*pcm);
        ch.anchor = Some((slot, rtp_timestamp));
        ch.last = Some(slot);
    }

    /// `side`'s next frame begins a new stream (a new SSRC, another agent's phone after a
    /// transfer): its RTP timestamps say nothing about the old ones, so it is placed by
    /// arrival time, after the old stream's frames.
    pub fn new_stream(&mut self, side: Side) {
        self.channels[side.channel()].anchor = None;
    }

    /// An RFC 4733 event packet from `side` (the event began at `rtp_timestamp` and has lasted
    /// `duration` samples so far): the slots it covers, and the few after its end, are quiet —
    /// silence in the recording that is not counted as lost audio.
    pub fn handle_event(&mut self, side: Side, rtp_timestamp: u32, duration: u16, now: Instant) {
        let current = self.current_slot(now);
        let next = self.next;
        let ch = &mut self.channels[side.channel()];
        let length = (u64::from(duration)).div_ceil(FRAME_SAMPLES as u64).max(1);
        // Without a reference, the packet arrived at the end of what it covers.
        let by_arrival = (current + PRIME + 1).saturating_sub(length);
        let first = match ch.anchor {
            Some((last, last_ts)) => {
                let d = slots_between(last_ts, rtp_timestamp);
                let s = last as i64 + d;
                if (-(MAX_QUEUED as i64)..=MAX_GAP).contains(&d) && s >= 0 {
                    s as u64
                } else {
                    by_arrival
                }
            }
            None => {
                ch.anchor = Some((by_arrival, rtp_timestamp));
                by_arrival
            }
        };
        let end = (first + length + EVENT_TAIL)
            .min(current + MAX_QUEUED)
            .min(next + MAX_CATCH_UP + MAX_QUEUED);
        for s in first.max(next)..end {
            let at = ch.slot_mut((s - next) as usize);
            if matches!(at, Slot::Empty) {
                *at = Slot::Quiet;
            }
        }
    }

    /// Writes every slot due at `now` (see [`MAX_CATCH_UP`]); drain with `poll_block`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let due = self.current_slot(now);
        if due > self.next + MAX_CATCH_UP {
            let skip = due - MAX_CATCH_UP - self.next;
            for ch in &mut self.channels {
                for _ in 0..skip {
                    if let Some(Slot::Audio(_)) = ch.slots.pop_front() {
                        self.stats.dropped += 1;
                    }
                }
            }
            self.next += skip;
        }
        while self.next < due {
            self.write_slot();
        }
    }

    /// At hangup: every frame still waiting for its slot is written now, so the last words
    /// of the call are kept.
    pub fn flush(&mut self) {
        let last = self
            .channels
            .iter()
            .filter_map(|ch| ch.slots.iter().rposition(|s| matches!(s, Slot::Audio(_))))
            .max();
        if let Some(last) = last {
            for _ in 0..=last {
                self.write_slot();
            }
        }
    }

    fn write_slot(&mut self) {
        let mut block = [0i16; BLOCK_SAMPLES];
        for (c, ch) in self.channels.iter_mut().enumerate() {
            match ch.slots.pop_front().unwrap_or(Slot::Empty) {
                Slot::Audio(pcm) => {
                    self.stats.filled += ch.gap;
                    ch.gap = 0;
                    ch.started = true;
                    for (i, s) in pcm.iter().enumerate() {
                        block[2 * i + c] = *s;
                    }
                }
                Slot::Quiet => ch.gap = 0,
                Slot::Empty => {
                    if ch.started {
                        ch.gap += 1;
                    }
                }
            }
        }
        self.next += 1;
        self.stats.written += 1;
        self.blocks.push_back(block);
    }

    /// The next stereo block to append to the file (160 sample pairs: caller, agent).
    #[must_use]
    pub fn poll_block(&mut self) -> Option<[i16; BLOCK_SAMPLES]> {
        self.blocks.pop_front()
    }

    /// When the next slot is due.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let nanos = u64::try_from((u128::from(self.next) + 1) * SLOT_NANOS).unwrap_or(u64::MAX);
        Some(self.start + Duration::from_nanos(nanos))
    }

    /// Blocks written and frames lost so far.
    pub fn stats(&self) -> RecorderStats {
        self.stats
    }
}
