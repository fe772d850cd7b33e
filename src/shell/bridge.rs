//! A connected call on a media task, the I/O half: the decisions (what is relayed to whom,
//! transcoding, RFC 4733 pass-through, which 20 ms slot each frame takes, what counts as
//! lost) are made by the sans-IO [`Bridge`] core (`media::bridge`, `media::recorder`); this
//! file opens and writes the recording file and adds the core's counters to `/metrics`.
//!
//! "Lost frames" are counted in [`RecordingCounters`]: a frame of one channel *filled* with
//! silence between two frames of that side's audio (lost, or later than the 500 ms playout
//! delay), and a frame *dropped* because its side ran more than 2 s ahead of real time.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

use crate::media::bridge::{Bridge, BridgeStats, LegMedia};
use crate::media::recorder::RecorderStats;
use crate::media::rtp::RtpSender;
use crate::shell::recording::RecordingFile;

pub use crate::media::recorder::Side;

/// Recording frame counts over every bridged call, for `/metrics` and load runs: the proof
/// that recordings lose nothing under load (rule C9).
#[derive(Debug, Default)]
pub struct RecordingCounters {
    /// 20 ms stereo frames written to recordings.
    pub frames: AtomicU64,
    /// Channel frames filled with silence between two frames of that side's audio. Silence
    /// before a side's first frame, after its last, or while it sends RFC 4733 events is not
    /// counted (nothing was lost then).
    pub filled: AtomicU64,
    /// Channel frames received but never written: the side was more than 2 s ahead of the
    /// recording's 20 ms slots (or a stall of the media task skipped their slots).
    pub dropped: AtomicU64,
    /// Packets the bridges received but did not relay, by why: behind the highest sequence
    /// number (duplicates, reordered past later audio), an RFC 4733 event towards a phone that
    /// did not negotiate telephone-event, and datagrams that were not audio of the leg's codecs.
    pub stale: AtomicU64,
    pub events_dropped: AtomicU64,
    pub ignored: AtomicU64,
    /// RFC 4733 key presses passed through to the agent and to the caller (packets).
    pub events_to_agents: AtomicU64,
    pub events_to_callers: AtomicU64,
}

/// The agent's leg on a media task.
pub struct AgentSide {
    pub socket: Arc<UdpSocket>,
    pub remote: SocketAddr,
    pub media: LegMedia,
    /// The agent's outgoing stream until the bridge takes it.
    pub sender: Option<RtpSender>,
    pub receiver: JoinHandle<()>,
}

/// A bridged call: the core, and the file its blocks go to.
pub struct Bridged {
    pub core: Bridge,
    pub recording: Option<RecordingFile>,
    /// The recording's path relative to the data dir (the call record names it).
    pub recording_name: String,
    pub recording_path: PathBuf,
    counters: Arc<RecordingCounters>,
    /// The core's counters already added to `counters`.
    reported: RecorderStats,
    reported_relay: BridgeStats,
    /// When the recording was last handed to the OS.
    flushed_at: Option<Instant>,
    /// Blocks not yet written because the disk is full, oldest first (at most
    /// [`MAX_BACKLOG`]); written as soon as there is room again.
    backlog: std::collections::VecDeque<[i16; 320]>,
    /// The disk was full at the last write (logged once, until a write succeeds).
    stalled: bool,
}

/// The most 20 ms blocks a recording keeps in memory while the disk is full (60 s, 1.3 MB);
/// older ones are dropped (counted in `dropped`) so a long outage cannot exhaust memory.
pub const MAX_BACKLOG: usize = 3000;

impl Bridged {
    /// Starts a bridge, opening the recording file (a failure is logged; the call goes on).
    pub fn new(
        core: Bridge,
        recording_name: String,
        recording_path: PathBuf,
        counters: Arc<RecordingCounters>,
    ) -> Bridged {
        let recording = match RecordingFile::create(&recording_path) {
            Ok(r) => Some(r),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                // Call names are unique by construction; if one ever repeats, the earlier
                // call's audio is kept and this call goes unrecorded, loudly.
                tracing::error!(file = %recording_path.display(), "recording file already exists: not overwritten, this call is not recorded");
                None
            }
            Err(e) => {
                tracing::error!(file = %recording_path.display(), error = %e, "cannot create recording");
                None
            }
        };
        Bridged {
            core,
            recording,
            recording_name,
            recording_path,
            counters,
            reported: RecorderStats::default(),
            reported_relay: BridgeStats::default(),
            flushed_at: None,
            backlog: std::collections::VecDeque::new(),
            stalled: false,
        }
    }

    /// The 20 ms timer fired: every slot due by `now` is written (a late timer catches up).
    pub fn tick(&mut self, now: Instant) {
        self.core.handle_timeout(now);
        self.write_blocks();
        let due = self.flushed_at.is_none_or(|t| {
            now.saturating_duration_since(t) >= crate::shell::recording::FLUSH_EVERY
        });
        if due {
            self.flushed_at = Some(now);
            self.write_backlog();
            if let Some(rec) = self.recording.as_mut().filter(|_| !self.stalled) {
                if let Err(e) = rec.flush() {
                    self.stalled = crate::shell::metrics::is_disk_full(&e);
                    tracing::error!(file = %self.recording_path.display(), error = %e, "recording flush failed");
                }
            }
        }
    }

    /// At hangup: the frames still waiting for their slot are written, so the last words of
    /// the call are kept.
    pub fn flush(&mut self) {
        self.core.flush();
        self.write_blocks();
        // Once more even if the disk was full at the last try: it may have room now.
        self.write_backlog();
    }

    /// Writes the blocks waiting, oldest first. A full disk keeps them (the tick tries
    /// again); any other error ends the recording.
    fn write_backlog(&mut self) {
        let Some(rec) = self.recording.as_mut() else {
            self.backlog.clear();
            return;
        };
        while let Some(block) = self.backlog.front() {
            match rec.write_block(block) {
                Ok(()) => {
                    self.backlog.pop_front();
                    self.counters.frames.fetch_add(1, Ordering::Relaxed);
                    if self.stalled {
                        self.stalled = false;
                        tracing::warn!(file = %self.recording_path.display(), "recording resumed: the disk has room again");
                    }
                }
                Err(e) if crate::shell::metrics::is_disk_full(&e) => {
                    if !self.stalled {
                        self.stalled = true;
                        tracing::error!(file = %self.recording_path.display(), "disk full: the recording is kept in memory (up to 60 s) until there is room");
                    }
                    return;
                }
                Err(e) => {
                    tracing::error!(file = %self.recording_path.display(), error = %e, "recording write failed");
                    self.recording = None;
                    self.backlog.clear();
                    return;
                }
            }
        }
    }

    /// Drains the core's blocks into the file and its counters into `/metrics`. Called after
    /// every input (a packet can drop a frame; a tick writes blocks).
    pub fn write_blocks(&mut self) {
        while let Some(block) = self.core.poll_block() {
            if self.recording.is_none() {
                continue;
            }
            if self.backlog.len() == MAX_BACKLOG {
                self.backlog.pop_front();
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            }
            self.backlog.push_back(block);
        }
        if !self.stalled {
            self.write_backlog();
        }
        let st = self.core.recorder_stats();
        let c = &self.counters;
        c.filled
            .fetch_add(st.filled - self.reported.filled, Ordering::Relaxed);
        c.dropped
            .fetch_add(st.dropped - self.reported.dropped, Ordering::Relaxed);
        self.reported = st;
        let b = self.core.stats();
        let was = self.reported_relay;
        c.stale.fetch_add(b.stale - was.stale, Ordering::Relaxed);
        c.events_dropped
            .fetch_add(b.events_dropped - was.events_dropped, Ordering::Relaxed);
        c.ignored
            .fetch_add(b.ignored - was.ignored, Ordering::Relaxed);
        c.events_to_agents
            .fetch_add(b.events_to_agent - was.events_to_agent, Ordering::Relaxed);
        c.events_to_callers
            .fetch_add(b.events_to_caller - was.events_to_caller, Ordering::Relaxed);
        self.reported_relay = b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::codec::Codec;
    use crate::media::recorder::{MAX_QUEUED, PRIME};
    use crate::media::rtp::RtpHeader;

    fn bridged(dir: &std::path::Path) -> (Bridged, Arc<RecordingCounters>, Instant) {
        let t0 = crate::media::t0();
        let counters = Arc::new(RecordingCounters::default());
        let media = LegMedia {
            codec: Codec::Pcma,
            telephone_event: None,
        };
        let sender = || RtpSender::new(Codec::Pcma, None, &mut rand::thread_rng());
        let core = Bridge::new(media, sender(), media, sender(), t0);
        let b = Bridged::new(core, "r.wav".into(), dir.join("r.wav"), counters.clone());
        (b, counters, t0)
    }

    /// 20 ms of A-law audio from the agent with sequence number `seq`.
    fn agent_audio(b: &mut Bridged, seq: u16, now: Instant) {
        let mut p = Vec::new();
        RtpHeader {
            marker: false,
            payload_type: 8,
            sequence: seq,
            timestamp: u32::from(seq) * 160,
            ssrc: 7,
        }
        .append_packet(&[0x80; 160], &mut p);
        b.core.handle_packet(Side::Agent, &p, now);
        while b.core.poll_transmit().is_some() {}
        b.write_blocks();
    }

    fn load(c: &RecordingCounters) -> (u64, u64, u64) {
        (
            c.frames.load(Ordering::Relaxed),
            c.filled.load(Ordering::Relaxed),
            c.dropped.load(Ordering::Relaxed),
        )
    }

    fn slot(t0: Instant, k: u64) -> Instant {
        t0 + std::time::Duration::from_millis(20 * k + 1)
    }

    #[test]
    fn silence_inside_a_stream_is_counted_as_filled_but_not_before_or_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let (mut b, counters, t0) = bridged(dir.path());
        // Two slots before the agent speaks: not filled (nothing was sent yet). Then 10
        // frames, one lost (seq 5), then the agent stops; the timer runs on.
        for k in 0..60u64 {
            b.tick(slot(t0, k));
            if (2..12).contains(&k) && k != 7 {
                agent_audio(&mut b, (k - 2) as u16, slot(t0, k));
            }
        }
        assert_eq!(load(&counters), (59, 1, 0));
        // A duplicate of the last packet and a datagram that is not RTP: counted, not relayed.
        agent_audio(&mut b, 9, slot(t0, 60));
        b.core.handle_packet(Side::Agent, b"not rtp", slot(t0, 60));
        b.write_blocks();
        assert_eq!(counters.stale.load(Ordering::Relaxed), 1);
        assert_eq!(counters.ignored.load(Ordering::Relaxed), 1);
        let sha = b.recording.take().unwrap().finish().unwrap();
        assert_eq!(sha.len(), 64);
    }

    #[test]
    fn a_side_running_ahead_drops_frames_and_hangup_flushes_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let (mut b, counters, t0) = bridged(dir.path());
        // A burst with no slot in between.
        let burst = MAX_QUEUED + 20;
        for seq in 0..burst as u16 {
            agent_audio(&mut b, seq, t0);
        }
        let kept = MAX_QUEUED - PRIME;
        assert_eq!(load(&counters), (0, 0, burst - kept));
        b.flush();
        assert_eq!(load(&counters), (MAX_QUEUED, 0, burst - kept));
        let path = b.recording_path.clone();
        b.recording.take().unwrap().finish().unwrap();
        assert_eq!(
            hound::WavReader::open(&path).unwrap().duration(),
            MAX_QUEUED as u32 * 160
        );
    }
}
