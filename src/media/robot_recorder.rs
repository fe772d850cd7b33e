//! The recording of a callback robot's call (issue 15): the citizen on the left, the robot's
//! prompts on the right, like a bridged call's stereo file, so the archive keeps what the
//! citizen heard and answered. It also cuts the citizen's *reason* (after 不满意) out of the
//! same audio: from the robot's `StartRecording` until `#`, `0`, a hang-up, `silence` without
//! voice or `max`, the citizen's frames are kept apart, trailing silence cut, and handed to
//! the shell as a mono take to attach to the ticket.
//!
//! Sans-IO: RTP packets (the citizen's, and the robot's paced ones) and the time in, stereo
//! blocks and finished takes out.

use std::time::{Duration, Instant};

use crate::media::codec::{Codec, FRAME_SAMPLES, SAMPLE_RATE};
use crate::media::recorder::{RecorderStats, Side, StereoRecorder, BLOCK_SAMPLES};
use crate::media::rtp::RtpPacket;

/// A frame whose RMS is above this is voice (about −36 dBFS): line noise and comfort noise
/// stay below, speech at any normal level is well above.
pub const VOICE_RMS: f64 = 500.0;

/// Voice kept after the last voiced frame when the take is trimmed (the end of a word).
pub const TAIL: Duration = Duration::from_millis(200);

/// A finished reason take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonTake {
    /// 8 kHz mono linear PCM, trailing silence cut.
    pub pcm: Vec<i16>,
    /// How long `pcm` plays (zero when the citizen said nothing).
    pub duration: Duration,
}

#[derive(Debug)]
struct Reason {
    started: Instant,
    max: Duration,
    silence: Duration,
    pcm: Vec<i16>,
    /// Samples up to the end of the last voiced frame.
    voiced_end: usize,
    /// When voice was last heard (the start, before any).
    last_voice: Instant,
}

/// The most payload bytes one packet may carry (120 ms of G.711).
const MAX_PAYLOAD: usize = 960;

/// One stream's continuity, to place its frames in the recording without gaps.
#[derive(Debug, Default, Clone)]
struct Continuity {
    ssrc: Option<u32>,
    seq: Option<u16>,
    /// Decoded samples not yet a whole 20 ms frame, and the media time of the first.
    acc: Vec<i16>,
    acc_ts: u32,
    /// A frame of this stream was placed: the next in sequence follows it.
    placed: bool,
}

impl Continuity {
    /// Whether this packet continues the previous one; `None` for a stale one.
    fn follows(&mut self, ssrc: u32, seq: u16, marker: bool) -> Option<(bool, bool)> {
        let new_stream = self.ssrc != Some(ssrc);
        if new_stream {
            self.ssrc = Some(ssrc);
            self.seq = None;
            self.acc.clear();
            self.placed = false;
        }
        let in_sequence = match self.seq {
            None => false,
            Some(prev) => {
                let d = seq.wrapping_sub(prev);
                if d == 0 || d >= 0x8000 {
                    return None;
                }
                d == 1
            }
        };
        self.seq = Some(seq);
        Some((new_stream, in_sequence && !marker))
    }
}

/// See the module doc.
#[derive(Debug)]
pub struct RobotRecorder {
    recorder: StereoRecorder,
    telephone_event: Option<u8>,
    caller: Continuity,
    robot: Continuity,
    reason: Option<Reason>,
    done: Option<ReasonTake>,
}

impl RobotRecorder {
    /// A recording whose first slot begins at `now`; `telephone_event` is the citizen's
    /// RFC 4733 payload type (their keys are quiet in the file, not noise).
    pub fn new(telephone_event: Option<u8>, now: Instant) -> RobotRecorder {
        RobotRecorder {
            recorder: StereoRecorder::new(now),
            telephone_event,
            caller: Continuity::default(),
            robot: Continuity::default(),
            reason: None,
            done: None,
        }
    }

    /// A packet from the citizen.
    pub fn handle_caller_packet(&mut self, packet: &[u8], now: Instant) {
        let frames = self.audio(Side::Caller, packet, now);
        if let Some(r) = self.reason.as_mut() {
            for frame in frames.chunks_exact(FRAME_SAMPLES) {
                r.pcm.extend_from_slice(frame);
                if rms(frame) > VOICE_RMS {
                    r.voiced_end = r.pcm.len();
                    r.last_voice = now;
                }
            }
        }
        self.check_reason(now);
    }

    /// A packet the robot sent (a prompt's frame, paced).
    pub fn handle_robot_packet(&mut self, packet: &[u8], now: Instant) {
        self.audio(Side::Agent, packet, now);
    }

    /// Decodes an audio packet into `side`'s channel in 20 ms frames (a phone may send 10,
    /// 30 or 60 ms per packet: the rest waits for the next packet); the whole frames placed.
    fn audio(&mut self, side: Side, packet: &[u8], now: Instant) -> Vec<i16> {
        let Ok(p) = RtpPacket::parse(packet) else {
            return Vec::new();
        };
        let h = p.header;
        let cont = match side {
            Side::Caller => &mut self.caller,
            Side::Agent => &mut self.robot,
        };
        let Some((new_stream, follows)) = cont.follows(h.ssrc, h.sequence, h.marker) else {
            return Vec::new();
        };
        if new_stream {
            self.recorder.new_stream(side);
        }
        if side == Side::Caller && Some(h.payload_type) == self.telephone_event {
            let duration = p
                .payload
                .get(2..4)
                .map_or(0, |d| u16::from_be_bytes([d[0], d[1]]));
            self.recorder.handle_event(side, h.timestamp, duration, now);
            cont.acc.clear();
            return Vec::new();
        }
        let Some(codec) = Codec::from_payload_type(h.payload_type) else {
            return Vec::new();
        };
        if p.payload.is_empty() || p.payload.len() > MAX_PAYLOAD {
            return Vec::new();
        }
        if !follows {
            // A partial frame left before a gap would splice two moments together.
            cont.acc.clear();
            cont.acc_ts = h.timestamp;
        }
        let start = cont.acc.len();
        cont.acc.resize(start + p.payload.len(), 0);
        codec.decode(p.payload, &mut cont.acc[start..]);
        let whole = cont.acc.len() / FRAME_SAMPLES * FRAME_SAMPLES;
        let frames: Vec<i16> = cont.acc.drain(..whole).collect();
        let mut frame_follows = follows && cont.placed;
        for frame in frames.chunks_exact(FRAME_SAMPLES) {
            let mut pcm = [0i16; FRAME_SAMPLES];
            pcm.copy_from_slice(frame);
            self.recorder
                .handle_frame(side, cont.acc_ts, frame_follows, &pcm, now);
            cont.acc_ts = cont.acc_ts.wrapping_add(FRAME_SAMPLES as u32);
            frame_follows = true;
            cont.placed = true;
        }
        frames
    }

    /// Starts keeping the citizen's audio apart as a reason, until [`Self::stop_reason`],
    /// `silence` without voice (after voice, or from the start if none comes) or `max`.
    pub fn start_reason(&mut self, max: Duration, silence: Duration, now: Instant) {
        self.done = None;
        self.reason = Some(Reason {
            started: now,
            max,
            silence,
            pcm: Vec::with_capacity(SAMPLE_RATE as usize * 10),
            voiced_end: 0,
            last_voice: now,
        });
    }

    /// Ends the reason now (`#`, `0`, a hang-up); its take follows from `poll_reason`.
    pub fn stop_reason(&mut self) {
        if let Some(r) = self.reason.take() {
            self.done = Some(take(r));
        }
    }

    fn check_reason(&mut self, now: Instant) {
        let over = self.reason.as_ref().is_some_and(|r| {
            now.saturating_duration_since(r.started) >= r.max
                || now.saturating_duration_since(r.last_voice) >= r.silence
        });
        if over {
            self.stop_reason();
        }
    }

    /// A reason is being kept.
    pub fn is_taking_reason(&self) -> bool {
        self.reason.is_some()
    }

    /// The 20 ms timer: recording slots due, and the reason's limits.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.recorder.handle_timeout(now);
        self.check_reason(now);
    }

    /// A finished reason take, once.
    pub fn poll_reason(&mut self) -> Option<ReasonTake> {
        self.done.take()
    }

    pub fn poll_block(&mut self) -> Option<[i16; BLOCK_SAMPLES]> {
        self.recorder.poll_block()
    }

    /// At hangup: the frames waiting for their slot are written.
    pub fn flush(&mut self) {
        self.recorder.flush();
    }

    pub fn recorder_stats(&self) -> RecorderStats {
        self.recorder.stats()
    }

    /// A person takes the call over: the recording goes on in their bridge (a reason still
    /// being taken is dropped: the robot ended it before handing over).
    pub fn into_recorder(self) -> StereoRecorder {
        self.recorder
    }
}

/// The take, trailing silence cut (a short tail kept).
fn take(r: Reason) -> ReasonTake {
    let tail = (TAIL.as_millis() as usize) * (SAMPLE_RATE as usize) / 1000;
    let keep = if r.voiced_end == 0 {
        0
    } else {
        (r.voiced_end + tail).min(r.pcm.len())
    };
    let mut pcm = r.pcm;
    pcm.truncate(keep);
    let duration = Duration::from_micros(keep as u64 * 1_000_000 / u64::from(SAMPLE_RATE));
    ReasonTake { pcm, duration }
}

fn rms(frame: &[i16]) -> f64 {
    let sum: f64 = frame.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / frame.len().max(1) as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::rtp::RtpSender;

    fn tone(level: f64, k: usize) -> [i16; FRAME_SAMPLES] {
        let mut f = [0i16; FRAME_SAMPLES];
        for (i, s) in f.iter_mut().enumerate() {
            let t = (k * FRAME_SAMPLES + i) as f64 / f64::from(SAMPLE_RATE);
            *s = (level * (2.0 * std::f64::consts::PI * 440.0 * t).sin()) as i16;
        }
        f
    }

    struct Stream {
        sender: RtpSender,
    }

    impl Stream {
        fn new() -> Stream {
            Stream {
                sender: RtpSender::new(Codec::Pcmu, Some(101), &mut rand::thread_rng()),
            }
        }
        fn packet(&mut self, pcm: &[i16; FRAME_SAMPLES]) -> Vec<u8> {
            let mut payload = [0u8; FRAME_SAMPLES];
            Codec::Pcmu.encode(pcm, &mut payload);
            let mut out = Vec::new();
            self.sender.frame(Some(&payload), &mut out);
            out
        }
    }

    /// The citizen speaks for `voiced` frames then is silent; the robot plays all along.
    fn run(voiced: usize, frames: usize, silence: Duration) -> (ReasonTake, RecorderStats) {
        let t0 = crate::media::t0();
        let mut r = RobotRecorder::new(Some(101), t0);
        let (mut citizen, mut robot) = (Stream::new(), Stream::new());
        r.start_reason(Duration::from_secs(60), silence, t0);
        let mut got = None;
        for k in 0..frames {
            let now = t0 + Duration::from_millis(20 * k as u64);
            let level = if k < voiced { 8000.0 } else { 20.0 };
            r.handle_caller_packet(&citizen.packet(&tone(level, k)), now);
            r.handle_robot_packet(&robot.packet(&tone(3000.0, k)), now);
            r.handle_timeout(now);
            while r.poll_block().is_some() {}
            if let Some(t) = r.poll_reason() {
                got = Some(t);
            }
        }
        r.flush();
        (got.expect("the reason ends by silence"), r.recorder_stats())
    }

    #[test]
    fn a_reason_ends_after_its_silence_and_is_trimmed_to_the_voice() {
        // 2 s of voice, then quiet: ended 1 s into the quiet, kept 2 s + the tail.
        let (take, stats) = run(100, 200, Duration::from_secs(1));
        assert_eq!(take.duration, Duration::from_millis(2200));
        assert_eq!(take.pcm.len(), 2200 * 8);
        assert!(rms(&take.pcm[..1600]) > VOICE_RMS);
        assert_eq!(stats.dropped, 0);
    }

    #[test]
    fn a_citizen_who_says_nothing_gives_an_empty_take_after_the_silence() {
        let (take, _) = run(0, 100, Duration::from_secs(1));
        assert_eq!(take.duration, Duration::ZERO);
        assert!(take.pcm.is_empty());
    }

    #[test]
    fn the_recording_holds_the_citizen_left_and_the_robot_right() {
        let t0 = crate::media::t0();
        let mut r = RobotRecorder::new(Some(101), t0);
        let (mut citizen, mut robot) = (Stream::new(), Stream::new());
        let mut blocks = Vec::new();
        for k in 0..100 {
            let now = t0 + Duration::from_millis(20 * k as u64);
            r.handle_caller_packet(&citizen.packet(&tone(8000.0, k)), now);
            r.handle_robot_packet(&robot.packet(&tone(3000.0, k)), now);
            r.handle_timeout(now);
            while let Some(b) = r.poll_block() {
                blocks.push(b);
            }
        }
        r.flush();
        while let Some(b) = r.poll_block() {
            blocks.push(b);
        }
        // The recorder places the first frames a playout delay (`PRIME` slots) in.
        let prime = crate::media::recorder::PRIME as usize;
        assert_eq!(blocks.len(), 100 + prime);
        let blocks = &blocks[prime..];
        let left: Vec<i16> = blocks
            .iter()
            .flat_map(|b| b.iter().step_by(2).copied())
            .collect();
        let right: Vec<i16> = blocks
            .iter()
            .flat_map(|b| b.iter().skip(1).step_by(2).copied())
            .collect();
        assert!(rms(&left) > 4000.0 && rms(&left) < 7000.0, "{}", rms(&left));
        assert!(
            rms(&right) > 1500.0 && rms(&right) < 2600.0,
            "{}",
            rms(&right)
        );
        let st = r.recorder_stats();
        assert_eq!((st.filled, st.dropped), (0, 0));
    }

    #[test]
    fn thirty_millisecond_packets_are_reframed_and_kept_whole() {
        let t0 = crate::media::t0();
        let mut r = RobotRecorder::new(Some(101), t0);
        let mut citizen = RtpSender::new(Codec::Pcma, Some(101), &mut rand::thread_rng());
        r.start_reason(Duration::from_secs(60), Duration::from_secs(1), t0);
        let mut got = None;
        // 2.4 s of voice in 80 packets of 30 ms, then 1.5 s of quiet.
        for k in 0..130 {
            let now = t0 + Duration::from_millis(30 * k as u64);
            let level = if k < 80 { 8000.0 } else { 10.0 };
            let mut pcm = [0i16; 240];
            for (i, s) in pcm.iter_mut().enumerate() {
                let t = (k * 240 + i) as f64 / 8000.0;
                *s = (level * (2.0 * std::f64::consts::PI * 440.0 * t).sin()) as i16;
            }
            let mut payload = [0u8; 240];
            Codec::Pcma.encode(&pcm, &mut payload);
            let mut out = Vec::new();
            citizen.frame(Some(&payload), &mut out);
            r.handle_caller_packet(&out, now);
            r.handle_timeout(now);
            while r.poll_block().is_some() {}
            if let Some(t) = r.poll_reason() {
                got = Some(t);
            }
        }
        let take = got.expect("ended by the quiet");
        assert_eq!(take.duration, Duration::from_millis(2400 + 200));
        assert_eq!(r.recorder_stats().dropped, 0);
    }

    #[test]
    fn a_stopped_reason_is_taken_once_and_hostile_packets_are_ignored() {
        let t0 = crate::media::t0();
        let mut r = RobotRecorder::new(Some(101), t0);
        r.start_reason(Duration::from_secs(60), Duration::from_secs(4), t0);
        r.handle_caller_packet(b"not rtp", t0);
        r.handle_caller_packet(&[0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xff], t0);
        assert!(r.is_taking_reason());
        r.stop_reason();
        assert!(!r.is_taking_reason());
        assert_eq!(r.poll_reason().map(|t| t.duration), Some(Duration::ZERO));
        assert_eq!(r.poll_reason(), None);
    }
}
