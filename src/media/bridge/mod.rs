//! A connected call's media, sans-IO: the caller's and the agent's RTP in, the relayed packets
//! for the other side and the stereo recording's 20 ms blocks out. Owns every forwarding
//! decision (what is audio, an event, stale; which frame follows which; what each phone is
//! sent and stamped with); the shell owns the sockets, the timer and the file, and the call
//! room decides *who* is bridged, held or transferred.
//!
//! **Audio** of any packet length (10, 20, 30 ms…) is cut into 20 ms frames; each goes to the
//! recorder and, when the other side is attached, is re-encoded in that side's codec
//! (PCMU↔PCMA transcoding when they differ) and stamped by that side's own [`RtpSender`], so
//! each phone sees one continuous stream from us (the caller's is the same SSRC and sequence
//! as the prompts it heard before). A packet whose sequence number is behind the highest seen
//! (a duplicate, or reordered past a later one) is not relayed — the later audio went out
//! already — but may still fill its own slot in the recording.
//!
//! **RFC 4733 telephone-events** pass through both ways, re-stamped on the destination's
//! sender with the destination's telephone-event payload type, and are dropped towards a side
//! that did not negotiate telephone-event. The call room still hears about every key the
//! caller presses (for its own use) and asks for it to be sent on ([`Bridge::send_digit`]);
//! a key that already went through as an event is not regenerated, so the agent's phone never
//! sees it twice, while keys the caller sent as tones or SIP INFO are regenerated.
//!
//! **Hold and transfer**: [`Bridge::detach_caller`] hands the caller's sender back (the pacer
//! plays hold music with it) and [`Bridge::detach_agent`] drops the agent's leg (a transfer);
//! either way both sides that still send are recorded, and the recording goes on.
//!
//! **Why the bridge owns the [`StereoRecorder`]** rather than handing frames up: the frames
//! exist only here (cut from packets, with their RTP time and continuity), the recorder must
//! also hear of telephone-events to tell a key press from lost audio, and a transferred call
//! keeps one recording across two agent legs. Owning it keeps all of that in one place with
//! one `now`; the shell just drains blocks into the file.

use std::time::Instant;

use crate::media::codec::{Codec, FRAME_SAMPLES};
use crate::media::dtmf::{Digit, PassedKeys, TelephoneEvent};
use crate::media::recorder::{RecorderStats, Side, StereoRecorder, BLOCK_SAMPLES};
use crate::media::rtp::{RtpPacket, RtpSender};

#[cfg(test)]
mod tests;

/// Payloads longer than this are not G.711 audio of a sane packet time (100 ms).
const MAX_PAYLOAD: usize = 5 * FRAME_SAMPLES;

/// The longest gap (in 20 ms frames, 10 s) in a side's audio that moves the other side's
/// stream on by as much; a larger timestamp jump is not believed (a phone that restarted its
/// clock), and the audio after it simply follows.
const MAX_RELAYED_GAP: i64 = 500;

/// What a leg negotiated in SDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegMedia {
    /// The audio codec we send in (we accept either G.711 from the phone).
    pub codec: Codec,
    /// The telephone-event payload type, if the phone accepts RFC 4733 events.
    pub telephone_event: Option<u8>,
}

/// Counters of one bridge (the shell adds them to `/metrics`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BridgeStats {
    /// Packets relayed to the agent and to the caller.
    pub to_agent: u64,
    pub to_caller: u64,
    /// Of those, RFC 4733 telephone-event packets (keys pressed), to each side.
    pub events_to_agent: u64,
    pub events_to_caller: u64,
    /// Packets behind the highest sequence number seen (duplicates, reordered): not relayed.
    pub stale: u64,
    /// Telephone-event packets not relayed: the other side did not negotiate telephone-event
    /// (or is not attached).
    pub events_dropped: u64,
    /// Datagrams that were not RTP, or carried a payload type the leg did not negotiate.
    pub ignored: u64,
}

/// What we know of the stream arriving on one leg.
#[derive(Debug, Default)]
struct Inbound {
    ssrc: Option<u32>,
    highest_seq: Option<u16>,
    /// The last accepted packet was audio: the next in sequence continues it.
    audio_last: bool,
    /// Decoded samples not yet making a whole 20 ms frame.
    acc: Vec<i16>,
    /// The RTP timestamp of `acc[0]` (of the next frame).
    acc_ts: u32,
}

/// One leg: what it negotiated, its outgoing sender (when attached), its incoming stream.
#[derive(Debug)]
struct Leg {
    media: LegMedia,
    sender: Option<RtpSender>,
    inbound: Inbound,
}

impl Leg {
    fn new(media: LegMedia, sender: Option<RtpSender>) -> Leg {
        Leg {
            media,
            sender,
            inbound: Inbound::default(),
        }
    }
}

/// What a bridge hands over when its call becomes a conference
/// ([`Mixer::from_bridge`](crate::media::mixer::Mixer::from_bridge)): both legs' senders
/// (same SSRC and sequence), the recording in progress and the caller's passed-through keys.
#[derive(Debug)]
pub struct BridgeParts {
    pub caller: LegMedia,
    /// `None` while the caller is on hold (the pacer has it).
    pub caller_sender: Option<RtpSender>,
    /// `None` between two agents (a transfer).
    pub agent: Option<(LegMedia, Option<RtpSender>)>,
    pub recorder: StereoRecorder,
    pub passed_keys: PassedKeys,
}

/// One bridged call. See the module doc.
#[derive(Debug)]
pub struct Bridge {
    caller: Leg,
    /// `None` between two agents (a transfer).
    agent: Option<Leg>,
    recorder: StereoRecorder,
    /// Keys of the caller that went through as events.
    passed_keys: PassedKeys,
    buf: Vec<u8>,
    out: Vec<(Side, usize, usize)>,
    cursor: usize,
    stats: BridgeStats,
}

impl Bridge {
    /// Connects the caller (whose sender comes from the pacer: same SSRC and sequence) and
    /// the agent; the recording's first slot begins at `now`.
    pub fn new(
        caller: LegMedia,
        caller_sender: RtpSender,
        agent: LegMedia,
        agent_sender: RtpSender,
        now: Instant,
    ) -> Bridge {
        Bridge::with_recorder(
            caller,
            caller_sender,
            agent,
            agent_sender,
            StereoRecorder::new(now),
        )
    }

    /// A bridge that goes on with a recording already under way (a callback robot's call
    /// handed to a person: one file for the whole call).
    pub fn with_recorder(
        caller: LegMedia,
        caller_sender: RtpSender,
        agent: LegMedia,
        agent_sender: RtpSender,
        recorder: StereoRecorder,
    ) -> Bridge {
        Bridge {
            caller: Leg::new(caller, Some(caller_sender)),
            agent: Some(Leg::new(agent, Some(agent_sender))),
            recorder,
            passed_keys: PassedKeys::default(),
            buf: Vec::with_capacity(512),
            out: Vec::new(),
            cursor: 0,
            stats: BridgeStats::default(),
        }
    }

    fn leg_mut(&mut self, side: Side) -> Option<&mut Leg> {
        match side {
            Side::Caller => Some(&mut self.caller),
            Side::Agent => self.agent.as_mut(),
        }
    }

    /// One datagram received on `side`'s RTP socket.
    pub fn handle_packet(&mut self, side: Side, packet: &[u8], now: Instant) {
        if self.cursor >= self.out.len() {
            self.buf.clear();
            self.out.clear();
            self.cursor = 0;
        }
        let Ok(p) = RtpPacket::parse(packet) else {
            self.stats.ignored += 1;
            return;
        };
        let h = p.header;
        let Some(leg) = self.leg_mut(side) else {
            return; // between two agents: nobody is on that leg
        };
        let inb = &mut leg.inbound;
        let new_stream = inb.ssrc != Some(h.ssrc);
        if new_stream {
            inb.ssrc = Some(h.ssrc);
            inb.highest_seq = None;
            inb.audio_last = false;
        }
        let in_sequence = match inb.highest_seq {
            None => false,
            Some(prev) => {
                let delta = h.sequence.wrapping_sub(prev);
                if delta == 0 || delta >= 0x8000 {
                    let codec = Codec::from_payload_type(h.payload_type);
                    self.stale(side, codec, h.timestamp, p.payload, now);
                    return;
                }
                delta == 1
            }
        };
        inb.highest_seq = Some(h.sequence);
        let media = leg.media;
        if new_stream {
            self.recorder.new_stream(side);
        }
        if Some(h.payload_type) == media.telephone_event {
            self.event(side, h.timestamp, p.payload, now);
        } else if let Some(codec) = Codec::from_payload_type(h.payload_type) {
            let follows = in_sequence && !h.marker;
            self.audio(side, codec, h.timestamp, follows, p.payload, now);
        } else {
            // Comfort noise and anything else unnegotiated: not audio we can relay.
            self.stats.ignored += 1;
            if let Some(leg) = self.leg_mut(side) {
                leg.inbound.audio_last = false;
            }
        }
    }

    fn audio(
        &mut self,
        side: Side,
        codec: Codec,
        ts: u32,
        follows: bool,
        payload: &[u8],
        now: Instant,
    ) {
        if payload.len() > MAX_PAYLOAD {
            self.stats.ignored += 1;
            return;
        }
        let Bridge {
            caller,
            agent,
            recorder,
            buf,
            out,
            stats,
            ..
        } = self;
        let (from, mut to) = match side {
            Side::Caller => (caller, agent.as_mut()),
            Side::Agent => match agent.as_mut() {
                Some(a) => (a, Some(caller)),
                None => return,
            },
        };
        let inb = &mut from.inbound;
        let was_audio = inb.audio_last;
        let follows = follows && was_audio;
        inb.audio_last = true;
        let mut gap_frames = 0;
        if !follows {
            if was_audio {
                // Lost packets, or silence the phone suppressed before a marker: its
                // timestamps say how long the gap lasted, and the other phone's stream moves
                // on by as much, so its jitter buffer plays what follows at the right moment
                // instead of early. `acc_ts` is the first sample not yet relayed.
                let gap = ts.wrapping_sub(inb.acc_ts) as i32;
                if gap > 0 && i64::from(gap) <= MAX_RELAYED_GAP * FRAME_SAMPLES as i64 {
                    gap_frames = gap as u64 / FRAME_SAMPLES as u64;
                }
            }
            // A partial frame left before a gap would splice two moments together.
            inb.acc.clear();
            inb.acc_ts = ts;
        }
        if gap_frames > 0 {
            if let Some(sender) = to.as_deref_mut().and_then(|t| t.sender.as_mut()) {
                sender.skip(gap_frames);
            }
        }
        let start = inb.acc.len();
        inb.acc.resize(start + payload.len(), 0);
        codec.decode(payload, &mut inb.acc[start..]);
        let mut frame_follows = follows;
        let mut taken = 0;
        let mut encoded = [0u8; FRAME_SAMPLES];
        while inb.acc.len() - taken >= FRAME_SAMPLES {
            let mut pcm = [0i16; FRAME_SAMPLES];
            pcm.copy_from_slice(&inb.acc[taken..taken + FRAME_SAMPLES]);
            taken += FRAME_SAMPLES;
            recorder.handle_frame(side, inb.acc_ts, frame_follows, &pcm, now);
            inb.acc_ts = inb.acc_ts.wrapping_add(FRAME_SAMPLES as u32);
            frame_follows = true;
            let Some(to) = to.as_deref_mut() else {
                continue;
            };
            let Some(sender) = to.sender.as_mut() else {
                continue; // on hold: the pacer plays to the caller
            };
            to.media.codec.encode(&pcm, &mut encoded);
            let begin = buf.len();
            if sender.frame(Some(&encoded), buf) {
                out.push((side.other(), begin, buf.len()));
                match side {
                    Side::Caller => stats.to_agent += 1,
                    Side::Agent => stats.to_caller += 1,
                }
            }
        }
        inb.acc.drain(..taken);
    }

    fn event(&mut self, side: Side, ts: u32, payload: &[u8], now: Instant) {
        let Ok(ev) = TelephoneEvent::parse(payload) else {
            self.stats.ignored += 1;
            return;
        };
        self.recorder.handle_event(side, ts, ev.duration, now);
        if let Some(leg) = self.leg_mut(side) {
            leg.inbound.audio_last = false;
        }
        let Bridge {
            caller,
            agent,
            buf,
            out,
            stats,
            passed_keys,
            ..
        } = self;
        let to = match side {
            Side::Caller => agent.as_mut(),
            Side::Agent => Some(caller),
        };
        let begin = buf.len();
        let relayed = to
            .and_then(|l| l.sender.as_mut())
            .is_some_and(|s| s.relay_event(ts, payload, buf));
        if !relayed {
            stats.events_dropped += 1;
            return;
        }
        out.push((side.other(), begin, buf.len()));
        match side {
            Side::Caller => {
                stats.to_agent += 1;
                stats.events_to_agent += 1;
                passed_keys.note(ev.event, ts, now);
            }
            Side::Agent => {
                stats.to_caller += 1;
                stats.events_to_caller += 1;
            }
        }
    }

    /// A packet behind the highest sequence number: never relayed (later audio went out
    /// already); its audio may still fill its own empty slot in the recording.
    fn stale(&mut self, side: Side, codec: Option<Codec>, ts: u32, payload: &[u8], now: Instant) {
        self.stats.stale += 1;
        let Some(codec) = codec else {
            return;
        };
        for (i, chunk) in payload
            .chunks_exact(FRAME_SAMPLES)
            .take(MAX_PAYLOAD / FRAME_SAMPLES)
            .enumerate()
        {
            let mut pcm = [0i16; FRAME_SAMPLES];
            codec.decode(chunk, &mut pcm);
            let frame_ts = ts.wrapping_add((i * FRAME_SAMPLES) as u32);
            self.recorder.handle_frame(side, frame_ts, false, &pcm, now);
        }
    }

    /// The call room asks for a key the caller pressed to be sent on to the agent's phone.
    /// Returns whether it was regenerated as an RFC 4733 event: not when the same key just
    /// went through as the caller's own event (no doubled digit), nor when the agent's phone
    /// has no telephone-event or is not attached.
    pub fn send_digit(&mut self, digit: Digit, now: Instant) -> bool {
        if self.passed_keys.take(digit, now) {
            return false;
        }
        // 100 ms of event, as a phone would send a short press; it takes the slots of the
        // caller's next relayed frames.
        self.agent
            .as_mut()
            .and_then(|a| a.sender.as_mut())
            .is_some_and(|s| s.start_event(digit, 5, 10))
    }

    /// Hold: the caller's sender is handed back (the pacer plays hold music with it); the
    /// agent's audio is still recorded. `None` if already detached.
    pub fn detach_caller(&mut self) -> Option<RtpSender> {
        self.caller.sender.take()
    }

    /// Resume: the caller's sender (same SSRC and sequence) carries the agent's audio again.
    pub fn attach_caller(&mut self, sender: RtpSender) {
        self.caller.sender = Some(sender);
    }

    /// Whether the caller's sender is here (not on hold, not between agents).
    pub fn caller_attached(&self) -> bool {
        self.caller.sender.is_some()
    }

    /// The agent left (a transfer): its leg is dropped; the caller is still recorded.
    pub fn detach_agent(&mut self) {
        self.agent = None;
    }

    /// The next agent's leg joins (after a transfer): a new stream on the agent's channel.
    pub fn attach_agent(&mut self, media: LegMedia, sender: RtpSender) {
        self.agent = Some(Leg::new(media, Some(sender)));
        self.recorder.new_stream(Side::Agent);
    }

    /// The next packet to send, and to which side.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<(Side, &[u8])> {
        let &(side, begin, end) = self.out.get(self.cursor)?;
        self.cursor += 1;
        Some((side, &self.buf[begin..end]))
    }

    /// Writes the recording's due slots; drain with `poll_block`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.recorder.handle_timeout(now);
    }

    /// When the recording's next slot is due.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.recorder.poll_timeout()
    }

    /// The next stereo block for the recording file.
    #[must_use]
    pub fn poll_block(&mut self) -> Option<[i16; BLOCK_SAMPLES]> {
        self.recorder.poll_block()
    }

    /// At hangup: every frame still waiting is written (drain with `poll_block`).
    pub fn flush(&mut self) {
        self.recorder.flush();
    }

    /// The recording's counters.
    pub fn recorder_stats(&self) -> RecorderStats {
        self.recorder.stats()
    }

    /// The relay's counters.
    pub fn stats(&self) -> BridgeStats {
        self.stats
    }

    /// Takes the bridge apart, keeping the streams and the recording going elsewhere (a
    /// conference). Packets not yet drained with `poll_transmit` are dropped.
    pub fn into_parts(self) -> BridgeParts {
        BridgeParts {
            caller: self.caller.media,
            caller_sender: self.caller.sender,
            agent: self.agent.map(|a| (a.media, a.sender)),
            recorder: self.recorder,
            passed_keys: self.passed_keys,
        }
    }
}
