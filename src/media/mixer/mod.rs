//! An N-party conference's media, sans-IO (rule C11/C12's three-way calls, the supervisor's
//! listen, whisper and barge): each party's RTP in, and for each party the sum of the parties
//! it hears, re-encoded in its own codec and paced every 20 ms; the stereo recording keeps the
//! citizen on the left and everyone else mixed on the right. It knows parties only by number:
//! who they are and who hears whom is the call room's decision.
//!
//! **In**: each party's audio of any packet time is cut into 20 ms frames into a small
//! per-party queue ([`jitter`]: primed with 2 frames, at most 10, underruns and overflow
//! counted); packets behind the highest sequence number are stale and dropped, like the
//! bridge's. **Out**: every 20 ms tick ([`Mixer::handle_timeout`], counted from the mixer's
//! start, never from `now` differences) pops one frame per party and sends each listener
//! that has a sender the sum of the speakers it hears (in `i32`, clipped to 16 bits and
//! counted), in its own codec and on its own [`RtpSender`], so every phone sees one
//! continuous stream, with comfort silence when none of its speakers talks. RFC 4733 keys
//! go to the parties that hear their sender, re-stamped like the bridge's.
//!
//! **Recording**: the same [`StereoRecorder`] the bridge had ([`Mixer::from_bridge`]), one
//! frame per channel per tick: the caller left, the mix of every other party right, whoever
//! hears whom, so a reviewer hears everyone.

/// A party of one call's media, numbered by the call room: the citizen is always
/// [`PartyId::CALLER`], the first agent [`PartyId::AGENT`], and every later party (a unit, a
/// second agent, an interpreter, an outside service, a supervisor) a new number, never reused
/// within the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartyId(pub u8);

impl PartyId {
    /// The citizen: the recording's left channel.
    pub const CALLER: PartyId = PartyId(0);
    /// The agent who answered (the bridge's agent side).
    pub const AGENT: PartyId = PartyId(1);
}

mod jitter;
#[cfg(test)]
mod stream_tests;
#[cfg(test)]
mod tests;

use std::time::{Duration, Instant};

use thiserror::Error;

use crate::media::bridge::{Bridge, LegMedia};
use crate::media::codec::{Codec, FRAME_SAMPLES};
use crate::media::dtmf::{Digit, PassedKeys, TelephoneEvent};
use crate::media::recorder::{RecorderStats, Side, StereoRecorder, BLOCK_SAMPLES};
use crate::media::rtp::{RtpPacket, RtpSender};

use jitter::Jitter;
pub use jitter::{Frame, MAX_FRAMES, PRIME_FRAMES, PRIME_LIMITS, QUEUE_LIMITS, REPRIME_AFTER};

/// The most parties one call's mixer takes (the busiest case the hotline needs is five: the
/// citizen, the agent, a unit, an interpreter and a supervisor).
pub const MAX_PARTIES: usize = 8;

/// Payloads longer than this are not G.711 audio of a sane packet time (100 ms).
const MAX_PAYLOAD: usize = 5 * FRAME_SAMPLES;

/// Ticks produced at most by one late [`Mixer::handle_timeout`] (100 ms); a longer stall
/// skips the oldest ticks (media time moves on, counted as `skipped_ticks`).
pub const MAX_CATCH_UP: u64 = 5;

const TICK_NANOS: u128 = 20_000_000;

/// What the mixer refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum MixerError {
    #[error("a call's mixer takes at most {MAX_PARTIES} parties")]
    TooManyParties,
    #[error("party {0:?} is already in the mix")]
    DuplicateParty(PartyId),
    #[error("party {0:?} is not in the mix")]
    UnknownParty(PartyId),
}

/// Counters of one mixer (the shell adds them to `/metrics`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MixerStats {
    /// 20 ms frames received from all parties (per party: [`Mixer::party_stats`]).
    pub frames_in: u64,
    /// Mixed audio packets sent to the parties.
    pub frames_out: u64,
    /// Frames dropped because a party's queue was full (it sent faster than real time).
    pub dropped_overflow: u64,
    /// Ticks a streaming party had no frame for.
    pub underruns: u64,
    /// Mixed samples saturated at the 16-bit range.
    pub clipped_samples: u64,
    /// Packets behind the highest sequence number seen (duplicates, reordered): not mixed.
    pub stale: u64,
    /// Datagrams that were not RTP, unnegotiated payload types, oversize payloads.
    pub ignored: u64,
    /// RFC 4733 packets relayed, and not relayed (the listener negotiated no telephone-event).
    pub events_relayed: u64,
    pub events_dropped: u64,
    /// Of `events_relayed`, those to the caller.
    pub events_to_caller: u64,
    /// Ticks skipped after the timer stalled longer than [`MAX_CATCH_UP`] ticks.
    pub skipped_ticks: u64,
}

/// One party's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PartyStats {
    pub frames_in: u64,
    pub underruns: u64,
    pub dropped_overflow: u64,
    /// Frames waiting in its queue now.
    pub queued: usize,
}

/// What we know of the stream arriving from one party.
#[derive(Debug, Default)]
struct Inbound {
    ssrc: Option<u32>,
    highest_seq: Option<u16>,
    /// The last accepted packet was audio: the next in sequence continues it.
    audio_last: bool,
    /// Decoded samples not yet making a whole 20 ms frame.
    acc: Vec<i16>,
}

#[derive(Debug)]
struct Party {
    id: PartyId,
    media: LegMedia,
    sender: Option<RtpSender>,
    inbound: Inbound,
    jitter: Jitter,
    /// Whom it hears, as the call room said.
    hears: Vec<PartyId>,
    /// The same as a bit mask over `Mixer::parties` indices (rebuilt when parties change).
    mask: u8,
    /// Its frame at the current tick.
    frame: Option<Frame>,
    stats: PartyStats,
}

/// One call's conference. See the module doc.
#[derive(Debug)]
pub struct Mixer {
    /// Tick `k` is due at `start + k·20 ms`.
    start: Instant,
    next_tick: u64,
    parties: Vec<Party>,
    /// Every party hears every other and nobody itself: the mix is the total minus oneself.
    all_hear_all: bool,
    recorder: StereoRecorder,
    /// Each party's queue limit in frames.
    max_queue: usize,
    /// Frames a party queues before it is played out.
    prime: usize,
    /// Whether each recording channel (caller, others) had a frame here yet.
    recording: [bool; 2],
    passed_keys: PassedKeys,
    buf: Vec<u8>,
    out: Vec<(PartyId, usize, usize)>,
    cursor: usize,
    stats: MixerStats,
}

fn clip(sum: &[i32; FRAME_SAMPLES], pcm: &mut Frame) -> u64 {
    let mut clipped = 0;
    for (o, &s) in pcm.iter_mut().zip(sum) {
        let c = s.clamp(i32::from(i16::MIN), i32::from(i16::MAX));
        clipped += u64::from(c != s);
        *o = c as i16;
    }
    clipped
}

fn add(sum: &mut [i32; FRAME_SAMPLES], frame: &Frame) {
    for (s, &v) in sum.iter_mut().zip(frame) {
        *s += i32::from(v);
    }
}

impl Mixer {
    /// An empty conference with a new recording whose first slot begins at `now`.
    pub fn new(now: Instant) -> Mixer {
        Mixer::with_recorder(StereoRecorder::new(now), PassedKeys::default(), now)
    }

    fn with_recorder(recorder: StereoRecorder, passed_keys: PassedKeys, now: Instant) -> Mixer {
        Mixer {
            start: now,
            next_tick: 0,
            parties: Vec::with_capacity(MAX_PARTIES),
            all_hear_all: false,
            recorder,
            max_queue: MAX_FRAMES,
            prime: PRIME_FRAMES,
            recording: [false; 2],
            passed_keys,
            buf: Vec::with_capacity(4096),
            out: Vec::new(),
            cursor: 0,
            stats: MixerStats::default(),
        }
    }

    /// A live two-party call becomes a conference: the caller's and agent's senders go on
    /// (same SSRC, sequence and timestamps) and so does the recording; caller and agent hear
    /// each other, as before.
    pub fn from_bridge(bridge: Bridge, now: Instant) -> Mixer {
        let parts = bridge.into_parts();
        let mut m = Mixer::with_recorder(parts.recorder, parts.passed_keys, now);
        m.push_party(PartyId::CALLER, parts.caller, parts.caller_sender);
        if let Some((media, sender)) = parts.agent {
            m.push_party(PartyId::AGENT, media, sender);
            m.parties[0].hears = vec![PartyId::AGENT];
            m.parties[1].hears = vec![PartyId::CALLER];
        }
        m.rebuild();
        m
    }

    fn push_party(&mut self, id: PartyId, media: LegMedia, sender: Option<RtpSender>) {
        self.parties.push(Party {
            id,
            media,
            sender,
            inbound: Inbound::default(),
            jitter: Jitter::new(self.max_queue, self.prime),
            hears: Vec::new(),
            mask: 0,
            frame: None,
            stats: PartyStats::default(),
        });
        self.parties.sort_by_key(|p| p.id);
    }

    /// A party joins, hearing and heard by nobody until [`Mixer::set_hears`] (its queue
    /// primes from its first packet; `now` is not needed for that yet).
    pub fn add_party(
        &mut self,
        id: PartyId,
        media: LegMedia,
        sender: Option<RtpSender>,
        _now: Instant,
    ) -> Result<(), MixerError> {
        if self.index(id).is_some() {
            return Err(MixerError::DuplicateParty(id));
        }
        if self.parties.len() >= MAX_PARTIES {
            return Err(MixerError::TooManyParties);
        }
        self.push_party(id, media, sender);
        self.rebuild();
        Ok(())
    }

    /// Each party's queue limit from now on, in 20 ms frames (clamped to [`QUEUE_LIMITS`];
    /// default [`MAX_FRAMES`]); frames beyond it are dropped and counted.
    pub fn set_max_queue(&mut self, frames: usize) {
        self.max_queue = frames;
        for p in &mut self.parties {
            let dropped = p.jitter.set_max(frames) as u64;
            p.stats.dropped_overflow += dropped;
            self.stats.dropped_overflow += dropped;
        }
    }

    /// Frames each party queues before it is played out, from its next priming on
    /// (clamped to [`PRIME_LIMITS`]; default [`PRIME_FRAMES`]): a deeper prime absorbs a
    /// longer pause in a party's stream, at the cost of that much delay for everyone.
    pub fn set_prime(&mut self, frames: usize) {
        self.prime = frames.clamp(*PRIME_LIMITS.start(), *PRIME_LIMITS.end());
        for p in &mut self.parties {
            p.jitter.set_prime(frames);
        }
    }

    /// A party leaves; its sender is handed back (`None` if it had none or is unknown).
    pub fn remove_party(&mut self, id: PartyId) -> Option<RtpSender> {
        let i = self.index(id)?;
        let p = self.parties.remove(i);
        self.rebuild();
        p.sender
    }

    /// The party's sender leaves the mixer (the caller on hold: the pacer plays to it).
    pub fn detach_sender(&mut self, id: PartyId) -> Option<RtpSender> {
        let i = self.index(id)?;
        self.parties[i].sender.take()
    }

    /// The party's sender comes back (same SSRC and sequence); refused for an unknown party.
    pub fn attach_sender(&mut self, id: PartyId, sender: RtpSender) -> Result<(), MixerError> {
        let i = self.index(id).ok_or(MixerError::UnknownParty(id))?;
        self.parties[i].sender = Some(sender);
        Ok(())
    }

    /// Whether the party is here and has its sender.
    pub fn sender_attached(&self, id: PartyId) -> bool {
        self.index(id)
            .is_some_and(|i| self.parties[i].sender.is_some())
    }

    /// The parties in the mix, in id order.
    pub fn parties(&self) -> impl Iterator<Item = PartyId> + '_ {
        self.parties.iter().map(|p| p.id)
    }

    /// `listener` hears the sum of `speakers` from the next tick on (itself only if listed;
    /// speakers not in the mix are remembered but silent).
    pub fn set_hears(&mut self, listener: PartyId, speakers: &[PartyId]) -> Result<(), MixerError> {
        let i = self
            .index(listener)
            .ok_or(MixerError::UnknownParty(listener))?;
        self.parties[i].hears = speakers.to_vec();
        self.rebuild();
        Ok(())
    }

    /// The whole matrix: each listed party hears its listed speakers, every other hears
    /// nobody. Listeners not in the mix are skipped.
    pub fn set_matrix(&mut self, hears: &[(PartyId, Vec<PartyId>)]) {
        for p in &mut self.parties {
            p.hears.clear();
        }
        for (listener, speakers) in hears {
            if let Some(i) = self.index(*listener) {
                self.parties[i].hears = speakers.clone();
            }
        }
        self.rebuild();
    }

    /// Whom `listener` hears.
    pub fn hears(&self, listener: PartyId) -> Option<&[PartyId]> {
        self.index(listener)
            .map(|i| self.parties[i].hears.as_slice())
    }

    fn index(&self, id: PartyId) -> Option<usize> {
        self.parties.iter().position(|p| p.id == id)
    }

    fn rebuild(&mut self) {
        let ids: Vec<PartyId> = self.parties.iter().map(|p| p.id).collect();
        let all = (1u16 << ids.len()).wrapping_sub(1) as u8;
        let mut all_hear_all = ids.len() > 1;
        for (i, p) in self.parties.iter_mut().enumerate() {
            p.mask = 0;
            for s in &p.hears {
                if let Some(j) = ids.iter().position(|id| id == s) {
                    p.mask |= 1 << j;
                }
            }
            all_hear_all &= p.mask == all & !(1 << i);
        }
        self.all_hear_all = all_hear_all;
    }

    fn begin_output(&mut self) {
        if self.cursor >= self.out.len() {
            self.buf.clear();
            self.out.clear();
            self.cursor = 0;
        }
    }

    /// One datagram received on `party`'s RTP socket (unknown parties are ignored).
    pub fn handle_packet(&mut self, party: PartyId, packet: &[u8], now: Instant) {
        self.begin_output();
        let Some(i) = self.index(party) else {
            return;
        };
        let Ok(p) = RtpPacket::parse(packet) else {
            self.stats.ignored += 1;
            return;
        };
        let h = p.header;
        let from = &mut self.parties[i];
        let inb = &mut from.inbound;
        if inb.ssrc != Some(h.ssrc) {
            inb.ssrc = Some(h.ssrc);
            inb.highest_seq = None;
            inb.audio_last = false;
        }
        let in_sequence = match inb.highest_seq {
            None => false,
            Some(prev) => {
                let delta = h.sequence.wrapping_sub(prev);
                if delta == 0 || delta >= 0x8000 {
                    self.stats.stale += 1;
                    return;
                }
                delta == 1
            }
        };
        if Some(h.payload_type) == from.media.telephone_event {
            inb.highest_seq = Some(h.sequence);
            inb.audio_last = false;
            from.jitter.quiet();
            self.event(i, h.timestamp, p.payload, now);
            return;
        }
        let Some(codec) = Codec::from_payload_type(h.payload_type) else {
            // Comfort noise and anything else unnegotiated: not audio we can mix.
            self.stats.ignored += 1;
            return;
        };
        if p.payload.len() > MAX_PAYLOAD {
            self.stats.ignored += 1;
            return;
        }
        inb.highest_seq = Some(h.sequence);
        let follows = in_sequence && !h.marker && inb.audio_last;
        inb.audio_last = true;
        if !follows {
            // A partial frame left before a gap would splice two moments together.
            inb.acc.clear();
        }
        let start = inb.acc.len();
        inb.acc.resize(start + p.payload.len(), 0);
        codec.decode(p.payload, &mut inb.acc[start..]);
        let underruns = from.jitter.arrived(h.marker);
        from.stats.underruns += underruns;
        self.stats.underruns += underruns;
        let whole = inb.acc.len() / FRAME_SAMPLES * FRAME_SAMPLES;
        for chunk in inb.acc[..whole].chunks_exact(FRAME_SAMPLES) {
            let mut f = [0i16; FRAME_SAMPLES];
            f.copy_from_slice(chunk);
            from.stats.frames_in += 1;
            self.stats.frames_in += 1;
            if from.jitter.push(&f) {
                from.stats.dropped_overflow += 1;
                self.stats.dropped_overflow += 1;
            }
        }
        inb.acc.drain(..whole);
    }

    /// An RFC 4733 packet from party `i`: to every party that hears it, re-stamped.
    fn event(&mut self, i: usize, ts: u32, payload: &[u8], now: Instant) {
        let Ok(ev) = TelephoneEvent::parse(payload) else {
            self.stats.ignored += 1;
            return;
        };
        let from = self.parties[i].id;
        let bit = 1u8 << i;
        let mut relayed = false;
        let Mixer {
            parties,
            buf,
            out,
            stats,
            ..
        } = self;
        for (j, to) in parties.iter_mut().enumerate() {
            if j == i || to.mask & bit == 0 {
                continue;
            }
            let begin = buf.len();
            let sent = to
                .sender
                .as_mut()
                .is_some_and(|s| s.relay_event_paced(ts, payload, buf));
            if sent {
                out.push((to.id, begin, buf.len()));
                stats.events_relayed += 1;
                stats.events_to_caller += u64::from(to.id == PartyId::CALLER);
                relayed = true;
            } else {
                stats.events_dropped += 1;
            }
        }
        if relayed && from == PartyId::CALLER {
            self.passed_keys.note(ev.event, ts, now);
        }
    }

    /// The call room asks for a key the caller pressed to be sent to every party that hears
    /// the caller. Returns whether it was regenerated (RFC 4733) to at least one: not when
    /// the same key just went through as the caller's own event (no doubled digit), nor to
    /// parties without telephone-event or a sender.
    pub fn send_digit(&mut self, digit: Digit, now: Instant) -> bool {
        if self.passed_keys.take(digit, now) {
            return false;
        }
        let Some(c) = self.index(PartyId::CALLER) else {
            return false;
        };
        let bit = 1u8 << c;
        let mut sent = false;
        for (j, p) in self.parties.iter_mut().enumerate() {
            if j == c || p.mask & bit == 0 {
                continue;
            }
            // 100 ms of event, as a phone would send a short press: it takes the slots of
            // the party's next mixed frames.
            if let Some(s) = p.sender.as_mut() {
                sent |= s.start_event(digit, 5, 10);
            }
        }
        sent
    }

    /// Produces every tick due by `now` (at most [`MAX_CATCH_UP`]) and the recording's due
    /// slots; drain with `poll_transmit` and `poll_block`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.begin_output();
        let elapsed = now.saturating_duration_since(self.start).as_nanos() / TICK_NANOS;
        let due = elapsed as u64 + 1; // ticks 0..due are due
        if due > self.next_tick + MAX_CATCH_UP {
            let skip = due - MAX_CATCH_UP - self.next_tick;
            for p in &mut self.parties {
                if let Some(s) = p.sender.as_mut() {
                    s.skip(skip);
                }
            }
            self.stats.skipped_ticks += skip;
            self.next_tick += skip;
        }
        while self.next_tick < due {
            self.tick(now);
            self.next_tick += 1;
        }
        self.recorder.handle_timeout(now);
    }

    fn tick(&mut self, now: Instant) {
        let mut total = [0i32; FRAME_SAMPLES];
        let mut any = 0u8;
        for (i, p) in self.parties.iter_mut().enumerate() {
            p.frame = p.jitter.pop();
            if let Some(f) = &p.frame {
                any |= 1 << i;
                if self.all_hear_all {
                    add(&mut total, f);
                }
            }
        }
        let mut pcm = [0i16; FRAME_SAMPLES];
        let mut encoded = [0u8; FRAME_SAMPLES];
        for i in 0..self.parties.len() {
            let listener = &self.parties[i];
            if listener.sender.is_none() {
                continue; // on hold: the pacer plays to it
            }
            let codec = listener.media.codec;
            let heard = listener.mask & any;
            let payload: &[u8] = if heard == 0 {
                // Comfort silence: the phone's stream stays continuous.
                codec.silence_frame()
            } else {
                let mut sum;
                if self.all_hear_all {
                    sum = total;
                    if let Some(own) = &listener.frame {
                        for (s, &v) in sum.iter_mut().zip(own) {
                            *s -= i32::from(v);
                        }
                    }
                } else {
                    sum = [0i32; FRAME_SAMPLES];
                    for (j, sp) in self.parties.iter().enumerate() {
                        if let Some(f) = sp.frame.as_ref().filter(|_| heard & (1 << j) != 0) {
                            add(&mut sum, f);
                        }
                    }
                }
                self.stats.clipped_samples += clip(&sum, &mut pcm);
                codec.encode(&pcm, &mut encoded);
                &encoded
            };
            let listener = &mut self.parties[i];
            let Some(sender) = listener.sender.as_mut() else {
                continue;
            };
            let begin = self.buf.len();
            if sender.frame(Some(payload), &mut self.buf) {
                self.out.push((listener.id, begin, self.buf.len()));
                self.stats.frames_out += 1;
            }
        }
        self.record(now);
    }

    /// The recording: the caller's frame on the left, everyone else's mixed on the right,
    /// whoever hears whom. From a side's first frame here on it gets a frame every tick
    /// (silence when nobody talks), so the recorder counts no silence as loss (lost audio
    /// shows as `underruns`); each frame takes the slot after the side's last one, so a
    /// bridge's recording goes on without a gap while the parties' queues prime.
    fn record(&mut self, now: Instant) {
        let ts = (self.next_tick as u32).wrapping_mul(FRAME_SAMPLES as u32);
        let mut caller = None;
        let mut others: Option<[i32; FRAME_SAMPLES]> = None;
        for p in &self.parties {
            match (&p.frame, p.id == PartyId::CALLER) {
                (Some(f), true) => caller = Some(*f),
                (Some(f), false) => add(others.get_or_insert([0; FRAME_SAMPLES]), f),
                (None, _) => {}
            }
        }
        let agent = others.map(|sum| {
            let mut pcm = [0i16; FRAME_SAMPLES];
            clip(&sum, &mut pcm);
            pcm
        });
        for (i, (side, frame)) in [(Side::Caller, caller), (Side::Agent, agent)]
            .into_iter()
            .enumerate()
        {
            self.recording[i] |= frame.is_some();
            if self.recording[i] {
                let pcm = frame.unwrap_or([0; FRAME_SAMPLES]);
                self.recorder.handle_frame(side, ts, true, &pcm, now);
            }
        }
    }

    /// The next packet to send, and to which party.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<(PartyId, &[u8])> {
        let &(party, begin, end) = self.out.get(self.cursor)?;
        self.cursor += 1;
        Some((party, &self.buf[begin..end]))
    }

    /// When the next tick (or the recording's next slot) is due.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let nanos = u64::try_from(u128::from(self.next_tick) * TICK_NANOS).unwrap_or(u64::MAX);
        let tick = self.start + Duration::from_nanos(nanos);
        Some(self.recorder.poll_timeout().map_or(tick, |r| r.min(tick)))
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

    /// The mixer's counters.
    pub fn stats(&self) -> MixerStats {
        self.stats
    }

    /// One party's counters (`None` if it is not in the mix).
    pub fn party_stats(&self, id: PartyId) -> Option<PartyStats> {
        self.index(id).map(|i| {
            let p = &self.parties[i];
            PartyStats {
                queued: p.jitter.len(),
                ..p.stats
            }
        })
    }
}
