//! The 20 ms pacer: one timer for thousands of outgoing RTP streams, as one media task runs it.
//!
//! Each stream's frame `n` is due at `start + n·20 ms`, computed from the frame count, so
//! timer jitter never accumulates into drift. A task that wakes late still sends every due
//! frame, in order and with the timestamps it would have had (counted as `late`); one that is
//! hopelessly behind (more than `skip_after`) drops the backlog, keeps media time moving, and
//! counts the dropped frames as `skipped` — a burst of stale audio helps no one.
//!
//! Packets are written into one reused buffer: steady state allocates nothing per packet.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::media::rtp::RtpSender;

/// The packetisation interval.
pub const FRAME: Duration = Duration::from_millis(20);
const FRAME_NANOS: u128 = 20_000_000;

/// Where a stream's audio comes from, one 20 ms payload at a time (the per-call `Player`).
pub trait FrameSource {
    /// What the source reports upwards (e.g. "prompt finished").
    type Event;

    /// The payload for the next slot (already in the stream's codec), or `None` to send
    /// nothing in this slot.
    fn next_frame(&mut self) -> Option<&[u8]>;

    /// Drops `frames` slots the pacer could not send in time, keeping the audio in step with
    /// media time.
    fn skip_frames(&mut self, frames: u64) {
        for _ in 0..frames {
            let _ = self.next_frame();
        }
    }

    /// Events raised while producing frames; drained after every frame.
    fn poll_event(&mut self) -> Option<Self::Event>;
}

/// The shell's name for a stream (one per call leg that receives audio from us).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamId(pub u64);

/// When a frame counts as late, and when the backlog is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacerConfig {
    /// A frame sent more than this after its due instant counts as late (tokio timers have
    /// 1 ms resolution, so a millisecond or two is normal).
    pub late_after: Duration,
    /// A stream more than this behind skips to its latest due frame.
    pub skip_after: Duration,
}

impl Default for PacerConfig {
    fn default() -> Self {
        PacerConfig {
            late_after: Duration::from_millis(10),
            skip_after: Duration::from_millis(200),
        }
    }
}

/// Counters for the media task's health (exported as metrics by the shell).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PacerStats {
    /// Packets written.
    pub sent: u64,
    /// Packets written more than `late_after` after their due instant.
    pub late: u64,
    /// Frame slots dropped because the task was more than `skip_after` behind.
    pub skipped: u64,
}

/// Adding a stream under an id that is already paced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum PacerError {
    /// The shell must remove the old stream first.
    #[error("stream {0:?} is already paced")]
    DuplicateStream(StreamId),
}

/// One packet to send: the shell sends `packet` on `stream`'s socket to its remote address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit<'a> {
    /// Which stream it belongs to.
    pub stream: StreamId,
    /// The whole RTP packet.
    pub packet: &'a [u8],
}

#[derive(Debug)]
struct Stream<S> {
    sender: RtpSender,
    source: S,
    start: Instant,
    /// Index of the next frame to send.
    next: u64,
    /// Distinguishes this stream's heap entries from those of an earlier stream with the same id.
    generation: u64,
}

impl<S> Stream<S> {
    fn due(&self, frame: u64) -> Instant {
        self.start + Duration::from_nanos(frame.saturating_mul(FRAME_NANOS as u64))
    }
}

/// Paces many streams from one timer. See the module doc.
#[derive(Debug)]
pub struct Pacer<S: FrameSource> {
    config: PacerConfig,
    streams: HashMap<StreamId, Stream<S>>,
    /// (due, stream, generation), earliest first; entries of removed streams are dropped lazily.
    timers: BinaryHeap<Reverse<(Instant, StreamId, u64)>>,
    next_generation: u64,
    buf: Vec<u8>,
    out: Vec<(StreamId, usize, usize)>,
    cursor: usize,
    events: VecDeque<(StreamId, S::Event)>,
    stats: PacerStats,
}

impl<S: FrameSource> Pacer<S> {
    /// An empty pacer.
    pub fn new(config: PacerConfig) -> Self {
        Pacer {
            config,
            streams: HashMap::new(),
            timers: BinaryHeap::new(),
            next_generation: 0,
            buf: Vec::new(),
            out: Vec::new(),
            cursor: 0,
            events: VecDeque::new(),
            stats: PacerStats::default(),
        }
    }

    /// Starts pacing a stream; its first frame is due at `start`.
    pub fn add(
        &mut self,
        id: StreamId,
        sender: RtpSender,
        source: S,
        start: Instant,
    ) -> Result<(), PacerError> {
        if self.streams.contains_key(&id) {
            return Err(PacerError::DuplicateStream(id));
        }
        let generation = self.next_generation;
        self.next_generation += 1;
        self.streams.insert(
            id,
            Stream {
                sender,
                source,
                start,
                next: 0,
                generation,
            },
        );
        self.timers.push(Reverse((start, id, generation)));
        Ok(())
    }

    /// Stops pacing a stream (call ended, or its media moved); gives back its state.
    pub fn remove(&mut self, id: StreamId) -> Option<(RtpSender, S)> {
        self.streams.remove(&id).map(|s| (s.sender, s.source))
    }

    /// The stream's audio source, to queue or stop prompts.
    pub fn source_mut(&mut self, id: StreamId) -> Option<&mut S> {
        self.streams.get_mut(&id).map(|s| &mut s.source)
    }

    /// The stream's RTP state, to send RFC 4733 digits.
    pub fn sender_mut(&mut self, id: StreamId) -> Option<&mut RtpSender> {
        self.streams.get_mut(&id).map(|s| &mut s.sender)
    }

    /// Number of streams paced.
    pub fn len(&self) -> usize {
        self.streams.len()
    }

    /// Whether no stream is paced.
    pub fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }

    /// Counters since creation.
    pub fn stats(&self) -> PacerStats {
        self.stats
    }

    /// The earliest due frame of any stream (may be a removed stream's, which costs one
    /// empty wake-up).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse((due, _, _))| *due)
    }

    /// Produces every frame due at or before `now`, in due order; drain with `poll_transmit`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.cursor >= self.out.len() {
            self.buf.clear();
            self.out.clear();
            self.cursor = 0;
        }
        let Pacer {
            config,
            streams,
            timers,
            buf,
            out,
            events,
            stats,
            ..
        } = self;
        while let Some(&Reverse((due, id, generation))) = timers.peek() {
            if due > now {
                break;
            }
            timers.pop();
            let Some(st) = streams.get_mut(&id) else {
                continue;
            };
            if st.generation != generation {
                continue;
            }
            let mut due = due;
            if now.duration_since(due) > config.skip_after {
                // Jump to the latest frame that is due; drop the rest of the backlog.
                let elapsed = now.duration_since(st.start).as_nanos() / FRAME_NANOS;
                let latest = elapsed as u64;
                let skip = latest.saturating_sub(st.next);
                st.source.skip_frames(skip);
                st.sender.skip(skip);
                st.next += skip;
                stats.skipped += skip;
                due = st.due(st.next);
            }
            let begin = buf.len();
            let payload = st.source.next_frame();
            if st.sender.frame(payload, buf) {
                out.push((id, begin, buf.len()));
                stats.sent += 1;
                if now.duration_since(due) > config.late_after {
                    stats.late += 1;
                }
            }
            while let Some(ev) = st.source.poll_event() {
                events.push_back((id, ev));
            }
            st.next += 1;
            timers.push(Reverse((st.due(st.next), id, generation)));
        }
    }

    /// The next packet to send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit<'_>> {
        let &(stream, begin, end) = self.out.get(self.cursor)?;
        self.cursor += 1;
        Some(Transmit {
            stream,
            packet: &self.buf[begin..end],
        })
    }

    /// The next event raised by a stream's source (e.g. a prompt finished).
    #[must_use]
    pub fn poll_event(&mut self) -> Option<(StreamId, S::Event)> {
        self.events.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::codec::Codec;
    use crate::media::rtp::RtpPacket;

    /// Emits frames whose first byte is its frame counter, and an event every 5th frame.
    #[derive(Debug)]
    struct Counter {
        n: u8,
        frame: [u8; 160],
        events: Vec<u8>,
    }

    impl Default for Counter {
        fn default() -> Self {
            Counter {
                n: 0,
                frame: [0; 160],
                events: Vec::new(),
            }
        }
    }

    impl FrameSource for Counter {
        type Event = u8;
        fn next_frame(&mut self) -> Option<&[u8]> {
            self.frame[0] = self.n;
            self.n = self.n.wrapping_add(1);
            if self.n % 5 == 0 {
                self.events.push(self.n);
            }
            Some(&self.frame)
        }
        fn poll_event(&mut self) -> Option<u8> {
            self.events.pop()
        }
    }

    fn sender(ssrc: u32) -> RtpSender {
        RtpSender::with_initial(Codec::Pcmu, None, ssrc, 100, 1000)
    }

    fn drain(p: &mut Pacer<Counter>) -> Vec<(u64, u16, u32, u8)> {
        let mut v = Vec::new();
        while let Some(t) = p.poll_transmit() {
            let pk = RtpPacket::parse(t.packet).unwrap();
            v.push((
                t.stream.0,
                pk.header.sequence,
                pk.header.timestamp,
                pk.payload[0],
            ));
        }
        v
    }

    #[test]
    fn frames_are_due_every_20_ms_from_start_without_drift() {
        let t0 = crate::media::t0();
        let mut p = Pacer::new(PacerConfig::default());
        p.add(StreamId(1), sender(1), Counter::default(), t0)
            .unwrap();
        assert_eq!(p.poll_timeout(), Some(t0));
        // Wake 3 ms late every time: due instants stay on the 20 ms grid.
        for n in 0..50u64 {
            let due = t0 + FRAME * n as u32;
            assert_eq!(p.poll_timeout(), Some(due));
            p.handle_timeout(due + Duration::from_millis(3));
            let sent = drain(&mut p);
            assert_eq!(
                sent,
                vec![(1, 100 + n as u16, 1000 + 160 * n as u32, n as u8)]
            );
        }
        assert_eq!(
            p.stats(),
            PacerStats {
                sent: 50,
                late: 0,
                skipped: 0
            }
        );
    }

    #[test]
    fn a_late_wake_sends_every_due_frame_in_order_and_counts_it() {
        let t0 = crate::media::t0();
        let mut p = Pacer::new(PacerConfig::default());
        p.add(StreamId(7), sender(7), Counter::default(), t0)
            .unwrap();
        p.handle_timeout(t0 + Duration::from_millis(90)); // frames 0..=4 are due
        let sent = drain(&mut p);
        let ts: Vec<u32> = sent.iter().map(|s| s.2).collect();
        assert_eq!(ts, vec![1000, 1160, 1320, 1480, 1640]);
        let seq: Vec<u16> = sent.iter().map(|s| s.1).collect();
        assert_eq!(seq, vec![100, 101, 102, 103, 104]);
        // Frames 0..=3 were > 10 ms late; frame 4 (due at 80 ms) was 10 ms late: on time.
        assert_eq!(p.stats().late, 4);
        assert_eq!(p.poll_timeout(), Some(t0 + Duration::from_millis(100)));
    }

    #[test]
    fn hopelessly_late_skips_ahead_keeping_media_time() {
        let t0 = crate::media::t0();
        let mut p = Pacer::new(PacerConfig::default());
        p.add(StreamId(1), sender(1), Counter::default(), t0)
            .unwrap();
        p.handle_timeout(t0);
        assert_eq!(drain(&mut p).len(), 1);
        p.handle_timeout(t0 + Duration::from_millis(1005)); // frame 50 is the latest due
        let sent = drain(&mut p);
        assert_eq!(sent.len(), 1);
        let (_, seq, ts, counter) = sent[0];
        assert_eq!(seq, 101, "sequence counts packets, not slots");
        assert_eq!(ts, 1000 + 50 * 160, "timestamp counts slots");
        assert_eq!(counter, 50, "the source skipped in step");
        assert_eq!(p.stats().skipped, 49);
        assert_eq!(p.poll_timeout(), Some(t0 + Duration::from_millis(1020)));
    }

    #[test]
    fn many_streams_share_one_timer_and_can_be_removed() {
        let t0 = crate::media::t0();
        let mut p = Pacer::new(PacerConfig::default());
        for i in 0..1000u64 {
            let start = t0 + Duration::from_micros(i * 17); // phases spread over 17 ms
            p.add(StreamId(i), sender(i as u32), Counter::default(), start)
                .unwrap();
        }
        assert_eq!(
            p.add(StreamId(3), sender(3), Counter::default(), t0),
            Err(PacerError::DuplicateStream(StreamId(3)))
        );
        p.handle_timeout(t0 + Duration::from_millis(19));
        assert_eq!(drain(&mut p).len(), 1000);
        assert!(p.remove(StreamId(3)).is_some());
        p.handle_timeout(t0 + Duration::from_millis(39));
        let sent = drain(&mut p);
        assert_eq!(sent.len(), 999);
        assert!(sent.iter().all(|s| s.0 != 3));
        // Re-adding the id later starts a fresh stream; the old timer entry is ignored.
        p.add(
            StreamId(3),
            sender(3),
            Counter::default(),
            t0 + Duration::from_millis(40),
        )
        .unwrap();
        p.handle_timeout(t0 + Duration::from_millis(40));
        let sent = drain(&mut p);
        assert_eq!(sent.iter().filter(|s| s.0 == 3).count(), 1);
        assert_eq!(p.len(), 1000);
    }

    #[test]
    fn source_events_come_out_tagged_with_their_stream() {
        let t0 = crate::media::t0();
        let mut p = Pacer::new(PacerConfig::default());
        p.add(StreamId(9), sender(9), Counter::default(), t0)
            .unwrap();
        p.handle_timeout(t0 + Duration::from_millis(80)); // 5 frames
        let _ = drain(&mut p);
        assert_eq!(p.poll_event(), Some((StreamId(9), 5)));
        assert_eq!(p.poll_event(), None);
    }

    proptest::proptest! {
        /// Whatever the wake-up pattern, every frame slot up to the last wake is either sent
        /// once or counted as skipped, timestamps follow slot numbers exactly, and sequence
        /// numbers follow packets.
        #[test]
        fn any_wake_pattern_keeps_media_time_exact(
            wakes in proptest::collection::vec(0u64..400, 1..60)
        ) {
            let t0 = crate::media::t0();
            let mut p = Pacer::new(PacerConfig::default());
            p.add(StreamId(1), sender(1), Counter::default(), t0).unwrap();
            let mut now = t0;
            let mut sent = Vec::new();
            for gap_ms in wakes {
                now += Duration::from_millis(gap_ms);
                p.handle_timeout(now);
                sent.extend(drain(&mut p));
            }
            let slots = (now - t0).as_millis() as u64 / 20 + 1;
            let st = p.stats();
            proptest::prop_assert_eq!(st.sent + st.skipped, slots);
            proptest::prop_assert_eq!(st.sent as usize, sent.len());
            let mut last_slot = None;
            for (i, &(_, seq, ts, counter)) in sent.iter().enumerate() {
                proptest::prop_assert_eq!(seq, 100 + i as u16);
                let slot = u64::from((ts - 1000) / 160);
                proptest::prop_assert_eq!(slot as u8, counter, "audio in step with time");
                proptest::prop_assert!(last_slot.is_none_or(|l| slot > l));
                last_slot = Some(slot);
            }
        }
    }

    #[test]
    fn undrained_packets_survive_the_next_tick() {
        let t0 = crate::media::t0();
        let mut p = Pacer::new(PacerConfig::default());
        p.add(StreamId(1), sender(1), Counter::default(), t0)
            .unwrap();
        p.handle_timeout(t0);
        p.handle_timeout(t0 + FRAME);
        assert_eq!(drain(&mut p).len(), 2);
    }
}
