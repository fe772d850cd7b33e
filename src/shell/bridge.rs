//! A connected call on a media task: the caller's and the agent's audio relayed both ways
//! (transcoded PCMU↔PCMA when their codecs differ, re-stamped by each leg's own RTP sender so
//! every phone sees one continuous stream), and both sides written to the stereo recording
//! every 20 ms — a missing frame is silence, so the channels never drift apart.
//!
//! "Lost frames" are counted here ([`RecordingCounters`], on `/metrics`): a frame of one
//! channel *filled* with silence between two frames of that side's audio (its next frame was
//! not there when the 20 ms slot was written: a late or lost packet, or a stalled task), and
//! a frame *dropped* because its side ran more than [`MAX_QUEUED`] frames ahead of the slots.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

use crate::media::codec::{Codec, FRAME_SAMPLES};
use crate::media::rtp::RtpSender;
use crate::shell::recording::RecordingFile;

/// One side of a bridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Caller,
    Agent,
}

/// Frames older than this many 20 ms slots (2 s) are dropped from the recording queues (a
/// side that sends faster than real time must not make the file drift).
pub const MAX_QUEUED: usize = 100;

/// Frames a side must have queued before its channel starts: a 500 ms playout delay, the same
/// on both channels so they stay aligned. Packets arrive with jitter around the 20 ms slots
/// (the network, the phone, and on a busy machine the scheduling of the sender and of this
/// process: after a stall the missed slots are written in a burst, possibly before the
/// receive tasks have read the audio of those slots); a channel written from a short queue
/// would insert silence at every late packet. Nobody listens to a recording live, so the
/// delay costs nothing but 16 KiB per call (written out at hangup).
pub const PRIME: usize = 25;

/// Recording frame counts over every bridged call, for `/metrics` and load runs: the proof
/// that recordings lose nothing under load (rule C9).
#[derive(Debug, Default)]
pub struct RecordingCounters {
    /// 20 ms stereo frames written to recordings.
    pub frames: AtomicU64,
    /// Channel frames filled with silence between two frames of that side's audio. Silence
    /// before a side's first frame or after its last is not counted (nothing was sent then).
    pub filled: AtomicU64,
    /// Channel frames received but never written: the side was more than [`MAX_QUEUED`]
    /// frames ahead of the recording's 20 ms slots.
    pub dropped: AtomicU64,
}

/// One side's audio on its way to the recording.
#[derive(Default)]
struct Channel {
    /// Whole 20 ms frames waiting for their slot.
    queue: VecDeque<[i16; FRAME_SAMPLES]>,
    /// Decoded samples not yet making a whole 20 ms frame.
    acc: Vec<i16>,
    /// Whether this side's channel has started ([`PRIME`] frames were queued once).
    started: bool,
    /// Slots filled with silence since this side's last written frame; counted as filled
    /// only when another frame of this side follows them.
    gap: u64,
}

impl Channel {
    /// The frame for this slot, or `None` (silence).
    fn take(&mut self, counters: &RecordingCounters) -> Option<[i16; FRAME_SAMPLES]> {
        if !self.started && self.queue.len() < PRIME {
            return None;
        }
        match self.queue.pop_front() {
            Some(frame) => {
                if self.gap > 0 {
                    counters.filled.fetch_add(self.gap, Ordering::Relaxed);
                    self.gap = 0;
                }
                self.started = true;
                Some(frame)
            }
            None => {
                if self.started {
                    self.gap += 1;
                }
                None
            }
        }
    }
}

/// Where relayed audio goes: the receiving leg's RTP sender and how to put a packet on the wire.
type Outlet<'a, 'f> = (&'a mut RtpSender, &'a mut (dyn FnMut(&[u8]) + 'f));

/// The agent's leg on a media task.
pub struct AgentSide {
    pub socket: Arc<UdpSocket>,
    pub remote: SocketAddr,
    pub sender: RtpSender,
    pub codec: Codec,
    pub receiver: JoinHandle<()>,
}

/// A bridged call's relay and recording state.
pub struct Bridged {
    /// The caller's outgoing stream, taken over from the pacer (same SSRC and sequence);
    /// `None` while the caller is on hold and the pacer plays them hold music again.
    pub caller_sender: Option<RtpSender>,
    pub recording: Option<RecordingFile>,
    /// The recording's path relative to the data dir (the call record names it).
    pub recording_name: String,
    pub recording_path: PathBuf,
    /// The caller (left channel).
    left: Channel,
    /// The agent (right channel).
    right: Channel,
    buf: Vec<u8>,
    counters: Arc<RecordingCounters>,
}

impl Bridged {
    /// Starts a bridge, opening the recording file (a failure is logged; the call goes on).
    pub fn new(
        caller_sender: RtpSender,
        recording_name: String,
        recording_path: PathBuf,
        counters: Arc<RecordingCounters>,
    ) -> Bridged {
        let recording = match RecordingFile::create(&recording_path) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::error!(file = %recording_path.display(), error = %e, "cannot create recording");
                None
            }
        };
        Bridged {
            caller_sender: Some(caller_sender),
            recording,
            recording_name,
            recording_path,
            left: Channel::default(),
            right: Channel::default(),
            buf: Vec::with_capacity(12 + FRAME_SAMPLES),
            counters,
        }
    }

    /// Audio from one side in `codec` (any packet length: 10, 20, 30 ms…) is cut into
    /// 20 ms frames; each is queued for the recording and, when there is an `out`,
    /// re-encoded in `out_codec` and stamped by its sender into one packet for the other side.
    /// `out`: the other side's sender and how to send to it, or `None` to record only.
    fn relay(
        channel: &mut Channel,
        counters: &RecordingCounters,
        buf: &mut Vec<u8>,
        payload: &[u8],
        codec: Codec,
        out_codec: Codec,
        mut out: Option<Outlet<'_, '_>>,
    ) {
        if payload.len() > 8 * FRAME_SAMPLES {
            return; // not G.711 audio of a sane packet time
        }
        let acc = &mut channel.acc;
        let start = acc.len();
        acc.resize(start + payload.len(), 0);
        codec.decode(payload, &mut acc[start..]);
        while acc.len() >= FRAME_SAMPLES {
            let mut pcm = [0i16; FRAME_SAMPLES];
            pcm.copy_from_slice(&acc[..FRAME_SAMPLES]);
            acc.drain(..FRAME_SAMPLES);
            if channel.queue.len() >= MAX_QUEUED {
                channel.queue.pop_front();
                counters.dropped.fetch_add(1, Ordering::Relaxed);
            }
            channel.queue.push_back(pcm);
            if let Some((sender, send)) = out.as_mut() {
                let mut encoded = [0u8; FRAME_SAMPLES];
                out_codec.encode(&pcm, &mut encoded);
                buf.clear();
                if sender.frame(Some(&encoded), buf) {
                    send(buf);
                }
            }
        }
    }

    /// Audio from the caller (left channel) → packets for the agent.
    pub fn from_caller(
        &mut self,
        payload: &[u8],
        caller_codec: Codec,
        agent: &mut AgentSide,
        send: &mut dyn FnMut(&[u8]),
    ) {
        Self::relay(
            &mut self.left,
            &self.counters,
            &mut self.buf,
            payload,
            caller_codec,
            agent.codec,
            Some((&mut agent.sender, send)),
        );
    }

    /// Audio from the agent (right channel) → packets for the caller.
    pub fn from_agent(
        &mut self,
        payload: &[u8],
        agent_codec: Codec,
        caller_codec: Codec,
        send: &mut dyn FnMut(&[u8]),
    ) {
        // On hold the caller hears hold music from the pacer; the agent's audio is still
        // recorded but not relayed.
        let out = self.caller_sender.as_mut().map(|s| (s, send));
        Self::relay(
            &mut self.right,
            &self.counters,
            &mut self.buf,
            payload,
            agent_codec,
            caller_codec,
            out,
        );
    }

    /// One 20 ms slot of the recording: a frame from each side, silence where none came.
    pub fn tick(&mut self) {
        let silence = [0i16; FRAME_SAMPLES];
        let left = self.left.take(&self.counters);
        let right = self.right.take(&self.counters);
        if let Some(rec) = self.recording.as_mut() {
            match rec.write_frame(
                left.as_ref().map_or(&silence[..], |f| &f[..]),
                right.as_ref().map_or(&silence[..], |f| &f[..]),
            ) {
                Ok(()) => {
                    self.counters.frames.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    tracing::error!(file = %self.recording_path.display(), error = %e, "recording write failed");
                    self.recording = None;
                }
            }
        }
    }

    /// At hangup: the frames still waiting for their slot (at most [`MAX_QUEUED`] per side)
    /// are written, so the last words of the call are kept.
    pub fn flush(&mut self) {
        self.left.started = true;
        self.right.started = true;
        for _ in 0..MAX_QUEUED {
            if self.left.queue.is_empty() && self.right.queue.is_empty() {
                break;
            }
            self.tick();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame of 20 ms A-law audio with a non-zero level.
    fn frame() -> Vec<u8> {
        vec![0x80; FRAME_SAMPLES]
    }

    fn bridged(dir: &std::path::Path) -> (Bridged, Arc<RecordingCounters>) {
        let counters = Arc::new(RecordingCounters::default());
        let sender = RtpSender::new(Codec::Pcma, None, &mut rand::thread_rng());
        let path = dir.join("r.wav");
        let b = Bridged::new(sender, "r.wav".into(), path, counters.clone());
        (b, counters)
    }

    fn agent_audio(b: &mut Bridged, payload: &[u8]) {
        b.from_agent(payload, Codec::Pcma, Codec::Pcma, &mut |_| {});
    }

    fn load(c: &RecordingCounters) -> (u64, u64, u64) {
        (
            c.frames.load(Ordering::Relaxed),
            c.filled.load(Ordering::Relaxed),
            c.dropped.load(Ordering::Relaxed),
        )
    }

    #[test]
    fn silence_inside_a_stream_is_counted_as_filled_but_not_before_or_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let (mut b, counters) = bridged(dir.path());
        // Two slots before the agent speaks: not filled (nothing was sent yet).
        b.tick();
        b.tick();
        // The channel starts once PRIME frames are queued: a late packet within them is
        // absorbed.
        for _ in 0..PRIME {
            agent_audio(&mut b, &frame());
            b.tick();
        }
        for _ in 1..PRIME {
            b.tick(); // nothing arrives, but the queue still holds a frame for the slot
        }
        // The queue runs dry: one slot of silence inside the stream, then the agent goes on.
        b.tick();
        agent_audio(&mut b, &frame());
        b.tick();
        // The agent stops: trailing silence is not filled.
        b.tick();
        b.tick();
        assert_eq!(load(&counters), (2 * PRIME as u64 + 5, 1, 0));
        let sha = b.recording.take().unwrap().finish().unwrap();
        assert_eq!(sha.len(), 64);
    }

    #[test]
    fn a_side_running_ahead_drops_frames_and_hangup_flushes_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let (mut b, counters) = bridged(dir.path());
        // A burst of 30 ms packets with no slot in between: 2 packets make 3 frames.
        let packets = (MAX_QUEUED + 9) * 2 / 3;
        for _ in 0..packets {
            agent_audio(&mut b, &[0x80; FRAME_SAMPLES * 3 / 2]);
        }
        let decoded = (packets * 3 / 2) as u64;
        let kept = MAX_QUEUED as u64;
        assert_eq!(load(&counters), (0, 0, decoded - kept));
        b.flush();
        assert_eq!(load(&counters), (kept, 0, decoded - kept));
        let path = b.recording_path.clone();
        b.recording.take().unwrap().finish().unwrap();
        assert_eq!(
            hound::WavReader::open(&path).unwrap().duration(),
            kept as u32 * 160
        );
    }
}
