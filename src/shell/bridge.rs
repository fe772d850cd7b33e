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

use crate::media::bridge::{Bridge, BridgeStats, LegMedia};
use crate::media::mixer::{Mixer, MixerStats};
use crate::media::recorder::{RecorderStats, BLOCK_SAMPLES};
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
    /// Conference mixers (`media::mixer`): ticks a streaming party had no frame, frames
    /// dropped because a party ran more than 200 ms ahead, mixed samples clipped.
    pub mixer_underruns: AtomicU64,
    pub mixer_dropped_overflow: AtomicU64,
    pub mixer_clipped_samples: AtomicU64,
}

/// A sans-IO core that owns a call's recording: the two-party [`Bridge`] or the conference
/// [`Mixer`]. [`Bridged`] writes either one's blocks and reports its counters.
pub trait RecordedCore {
    /// The core's own counters.
    type Stats: Copy + Default;
    fn handle_timeout(&mut self, now: Instant);
    fn poll_block(&mut self) -> Option<[i16; BLOCK_SAMPLES]>;
    fn flush(&mut self);
    fn recorder_stats(&self) -> RecorderStats;
    fn stats(&self) -> Self::Stats;
    /// Adds the counters' growth since `was` to `/metrics`.
    fn report(now: &Self::Stats, was: &Self::Stats, c: &RecordingCounters);
}

impl RecordedCore for Bridge {
    type Stats = BridgeStats;
    fn handle_timeout(&mut self, now: Instant) {
        Bridge::handle_timeout(self, now);
    }
    fn poll_block(&mut self) -> Option<[i16; BLOCK_SAMPLES]> {
        Bridge::poll_block(self)
    }
    fn flush(&mut self) {
        Bridge::flush(self);
    }
    fn recorder_stats(&self) -> RecorderStats {
        Bridge::recorder_stats(self)
    }
    fn stats(&self) -> BridgeStats {
        Bridge::stats(self)
    }
    fn report(b: &BridgeStats, was: &BridgeStats, c: &RecordingCounters) {
        c.stale.fetch_add(b.stale - was.stale, Ordering::Relaxed);
        c.events_dropped
            .fetch_add(b.events_dropped - was.events_dropped, Ordering::Relaxed);
        c.ignored
            .fetch_add(b.ignored - was.ignored, Ordering::Relaxed);
        c.events_to_agents
            .fetch_add(b.events_to_agent - was.events_to_agent, Ordering::Relaxed);
        c.events_to_callers
            .fetch_add(b.events_to_caller - was.events_to_caller, Ordering::Relaxed);
    }
}

impl RecordedCore for Mixer {
    type Stats = MixerStats;
    fn handle_timeout(&mut self, now: Instant) {
        Mixer::handle_timeout(self, now);
    }
    fn poll_block(&mut self) -> Option<[i16; BLOCK_SAMPLES]> {
        Mixer::poll_block(self)
    }
    fn flush(&mut self) {
        Mixer::flush(self);
    }
    fn recorder_stats(&self) -> RecorderStats {
        Mixer::recorder_stats(self)
    }
    fn stats(&self) -> MixerStats {
        Mixer::stats(self)
    }
    fn report(m: &MixerStats, was: &MixerStats, c: &RecordingCounters) {
        let add = |counter: &AtomicU64, now: u64, was: u64| {
            counter.fetch_add(now - was, Ordering::Relaxed);
        };
        add(&c.stale, m.stale, was.stale);
        add(&c.events_dropped, m.events_dropped, was.events_dropped);
        add(&c.ignored, m.ignored, was.ignored);
        add(
            &c.events_to_agents,
            m.events_relayed - m.events_to_caller,
            was.events_relayed - was.events_to_caller,
        );
        add(
            &c.events_to_callers,
            m.events_to_caller,
            was.events_to_caller,
        );
        add(&c.mixer_underruns, m.underruns, was.underruns);
        add(
            &c.mixer_dropped_overflow,
            m.dropped_overflow,
            was.dropped_overflow,
        );
        add(
            &c.mixer_clipped_samples,
            m.clipped_samples,
            was.clipped_samples,
        );
    }
}

/// The agent's leg on a media task.
pub struct AgentSide {
    pub socket: Arc<crate::shell::media::rtp_io::RtpSocket>,
    pub remote: SocketAddr,
    pub media: LegMedia,
    /// The agent's outgoing stream until the bridge takes it.
    pub sender: Option<RtpSender>,
    /// Its place in the media task's poller (dropped: no longer received).
    pub receiver: crate::shell::media::rtp_io::LegHandle,
}

/// A bridged (or, with `C` = [`Mixer`], conferenced) call: the core, and the file its
/// blocks go to.
pub struct Bridged<C: RecordedCore = Bridge> {
    pub core: C,
    pub recording: Option<RecordingFile>,
    /// The recording's path relative to the data dir (the call record names it).
    pub recording_name: String,
    pub recording_path: PathBuf,
    counters: Arc<RecordingCounters>,
    /// The core's counters already added to `counters`.
    reported: RecorderStats,
    reported_relay: C::Stats,
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

impl<C: RecordedCore> Bridged<C> {
    /// Starts a bridge, opening the recording file (a failure is logged; the call goes on).
    pub fn new(
        core: C,
        recording_name: String,
        recording_path: PathBuf,
        counters: Arc<RecordingCounters>,
    ) -> Self {
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
        Self {
            core,
            recording,
            recording_name,
            recording_path,
            counters,
            reported: RecorderStats::default(),
            reported_relay: C::Stats::default(),
            flushed_at: None,
            backlog: std::collections::VecDeque::new(),
            stalled: false,
        }
    }

    /// The call's core becomes another (a bridge becomes a conference): same file, same
    /// counters, everything reported so far stays reported.
    pub fn map_core<D: RecordedCore>(mut self, f: impl FnOnce(C) -> D) -> Bridged<D> {
        self.write_blocks();
        Bridged {
            core: f(self.core),
            recording: self.recording,
            recording_name: self.recording_name,
            recording_path: self.recording_path,
            counters: self.counters,
            reported: self.reported,
            reported_relay: D::Stats::default(),
            flushed_at: self.flushed_at,
            backlog: self.backlog,
            stalled: self.stalled,
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
        C::report(&b, &self.reported_relay, c);
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

    #[test]
    fn a_bridged_call_becomes_a_mixer_with_the_same_file_and_counters() {
        use crate::media::mixer::{Mixer, PartyId};
        let dir = tempfile::tempdir().unwrap();
        let (mut b, counters, t0) = bridged(dir.path());
        for k in 0..10u64 {
            b.tick(slot(t0, k));
            agent_audio(&mut b, k as u16, slot(t0, k));
        }
        let mut m = b.map_core(|core| Mixer::from_bridge(core, slot(t0, 10)));
        let media = LegMedia {
            codec: Codec::Pcmu,
            telephone_event: None,
        };
        let unit = RtpSender::new(Codec::Pcmu, None, &mut rand::thread_rng());
        m.core
            .add_party(PartyId(2), media, Some(unit), slot(t0, 10))
            .unwrap();
        m.core
            .set_hears(PartyId::CALLER, &[PartyId::AGENT, PartyId(2)])
            .unwrap();
        // The agent goes on (one packet late: an underrun), the unit sends a burst of 15
        // (5 beyond its queue), and two full-scale parties clip in the caller's mix.
        let loud = |seq: u16, ssrc: u32| {
            let mut p = Vec::new();
            RtpHeader {
                marker: false,
                payload_type: 0,
                sequence: seq,
                timestamp: u32::from(seq) * 160,
                ssrc,
            }
            .append_packet(&[0x80; 160], &mut p);
            p
        };
        for seq in 0..15 {
            m.core
                .handle_packet(PartyId(2), &loud(seq, 9), slot(t0, 10));
        }
        for k in 10..40u64 {
            // Packets 20 and 21 come late, with 22.
            let seqs = match k {
                20 | 21 => 0..0,
                22 => 20..23,
                _ => k..k + 1,
            };
            for seq in seqs {
                m.core
                    .handle_packet(PartyId::AGENT, &loud(seq as u16, 7), slot(t0, k));
            }
            m.tick(slot(t0, k));
            while m.core.poll_transmit().is_some() {}
        }
        m.flush();
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        assert_eq!(load(&counters.mixer_dropped_overflow), 5);
        assert_eq!(load(&counters.mixer_underruns), 1);
        assert!(load(&counters.mixer_clipped_samples) > 0);
        assert_eq!(load(&counters.filled), 0);
        let (frames, _, dropped) = super::tests::load(&counters);
        assert_eq!(dropped, 0);
        let path = m.recording_path.clone();
        m.recording.take().unwrap().finish().unwrap();
        assert_eq!(
            u64::from(hound::WavReader::open(&path).unwrap().duration()),
            frames * 160,
            "one file, every block of both cores in it"
        );
    }
}
