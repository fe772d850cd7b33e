//! Fuzz the receive path of a call's media as the shell drives it (`shell/media.rs`
//! `receive()` and the bridge worker): source latch → RTP parse → receive statistics → RFC 4733
//! event receiver / G.711 decode → in-band tone detector, and, once bridged, the caller ↔ agent
//! bridge with its stereo recorder, hold, transfer and regenerated keys. The clock is fake: a
//! fixed base plus the offsets the input chooses.
//!
//! Input: two bytes of set-up (codecs, telephone-event types, latch), then records
//! `[op, dt, …]` (see `step`). Invariants: nothing panics; parsed packets are consistent with
//! their bytes; digits come only from what was sent (event codes 0–15 at their timestamps,
//! tones within the samples fed) and are valid keys; every counter only grows; accepted plus
//! refused is what arrived; every packet the bridge sends parses, carries the destination's
//! SSRC, next sequence number and a negotiated payload type, with audio timestamps moving
//! forward; bounded output per step (no unbounded growth from any input).
#![no_main]

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use hotline::media::codec::FRAME_SAMPLES;
use hotline::media::dtmf::{EventReceiver, TelephoneEvent, ToneDetector, ToneDetectorConfig};
use hotline::media::recorder::{MAX_CATCH_UP, MAX_QUEUED};
use hotline::media::rtp::{LatchConfig, LatchDecision, RtpHeader, SourceLatch, HEADER_LEN};
use hotline::media::{
    Bridge, BridgeStats, Codec, DetectedDigit, Digit, DigitTime, LegMedia, ReceiveStats,
    RecorderStats, RtpPacket, RtpSender, Side,
};
use libfuzzer_sys::fuzz_target;

/// Input bound: ~1000 packets is a long enough call for any state the cores keep.
const MAX_INPUT: usize = 64 * 1024;
const MAX_STEPS: usize = 1024;
/// Simulated time per input: longer than every timer of the path (300 ms event end, 2 s
/// relatch, 5 s recorder catch-up, 10 s inactivity), short enough that writing the recording's
/// 50 blocks a second does not dominate the run.
const MAX_CALL: Duration = Duration::from_secs(90);
/// The shell's receive buffer for decoded samples.
const PCM_BUF: usize = 1024;
/// What one handle_packet may make the bridge send: at most 5 frames of audio (100 ms
/// payloads) plus a partial frame carried over, or one event.
const MAX_SENT_PER_PACKET: usize = 6;

fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

fn sources() -> [SocketAddr; 4] {
    [
        "198.51.100.7:7078".parse().unwrap(), // the SDP's address
        "203.0.113.9:40000".parse().unwrap(), // the same phone behind NAT
        "203.0.113.66:5004".parse().unwrap(), // someone else
        "[2001:db8::7]:7078".parse().unwrap(),
    ]
}

/// A leg's telephone-event payload type; SDP never maps one type to two encodings, so the
/// last choice is the other G.711 type (an odd but legal offer).
fn te_choice(sel: u16, codec: Codec) -> Option<u8> {
    match sel & 3 {
        0 => None,
        1 => Some(101),
        2 => Some(96),
        _ => Some(8 - codec.payload_type()),
    }
}

/// Reads input bytes in order; missing bytes are zero, so any input is a valid program.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (a, b) = self.0.split_at(n.min(self.0.len()));
        self.0 = b;
        a
    }
}

/// One leg's receive state, as `receive()` keeps it.
struct RxLeg {
    latch: SourceLatch,
    stats: ReceiveStats,
    events: EventReceiver,
    tones: ToneDetector,
    events_seen: bool,
    media: LegMedia,
    arrived: u64,
    accepted: u64,
    /// (RTP timestamp, event code) of every key event fed to the receiver.
    fed_events: HashSet<(u32, u8)>,
    samples_fed: u64,
    /// A synthesised stream: next sequence, timestamp, SSRC.
    seq: u16,
    ts: u32,
    ssrc: u32,
}

impl RxLeg {
    fn new(media: LegMedia, expected: Option<SocketAddr>, inactivity: Option<Duration>) -> Self {
        RxLeg {
            latch: SourceLatch::new(
                LatchConfig {
                    relatch_after: Duration::from_secs(2),
                    inactivity,
                },
                expected,
                base(),
            ),
            stats: ReceiveStats::new(),
            events: EventReceiver::new(Duration::from_millis(300)),
            tones: ToneDetector::new(ToneDetectorConfig::default()),
            events_seen: false,
            media,
            arrived: 0,
            accepted: 0,
            fed_events: HashSet::new(),
            samples_fed: 0,
            seq: 1000,
            ts: 8000,
            ssrc: 0x1111,
        }
    }

    fn counters(&self) -> [u64; 7] {
        let s = &self.stats;
        [
            s.packets,
            s.payload_bytes,
            s.reordered_or_duplicate,
            s.lost,
            s.ssrc_changes,
            s.source_changes,
            self.latch.refused(),
        ]
    }
}

/// What each destination's sender must put on the next packet.
#[derive(Clone, Copy)]
struct Expect {
    ssrc: u32,
    seq: u16,
    last_audio_ts: Option<u32>,
    media: LegMedia,
}

struct Sim {
    now: Instant,
    legs: [RxLeg; 2],
    bridge: Option<Bridge>,
    /// The caller's sender while on hold (the pacer has it).
    held: Option<RtpSender>,
    agent_attached: bool,
    expect: [Expect; 2],
    next_ssrc: u32,
    bridge_stats: BridgeStats,
    recorder_stats: RecorderStats,
}

fn idx(side: Side) -> usize {
    match side {
        Side::Caller => 0,
        Side::Agent => 1,
    }
}

fn check_parse(buf: &[u8], p: &RtpPacket<'_>) {
    let off = p.payload.as_ptr() as usize - buf.as_ptr() as usize;
    let cc = usize::from(buf[0] & 0x0F);
    assert!(off >= HEADER_LEN + 4 * cc && off + p.payload.len() <= buf.len());
    assert_eq!(p.padded, buf[0] & 0x20 != 0);
    if !p.padded {
        assert_eq!(off + p.payload.len(), buf.len());
    }
    if let Some(x) = p.extension {
        assert_eq!(x.data.len() % 4, 0);
    }
    let mut h = [0u8; HEADER_LEN];
    p.header.write(&mut h);
    assert_eq!(
        h[1..],
        buf[1..HEADER_LEN],
        "header fields re-encode to their bytes"
    );
}

fn check_codec(codec: Codec, payload: &[u8]) {
    for &b in payload {
        let s = codec.decode_sample(b);
        assert_eq!(
            codec.decode_sample(codec.encode_sample(s)),
            s,
            "G.711 {b:#04x}"
        );
    }
}

impl Sim {
    fn new(setup: u16) -> Sim {
        let now = base();
        let codec = |bit: u16| {
            if setup & bit != 0 {
                Codec::Pcma
            } else {
                Codec::Pcmu
            }
        };
        let caller = LegMedia {
            codec: codec(1),
            telephone_event: te_choice(setup >> 1, codec(1)),
        };
        let agent = LegMedia {
            codec: codec(8),
            telephone_event: te_choice(setup >> 4, codec(8)),
        };
        let expected = (setup & 0x40 != 0).then(|| sources()[0]);
        let mut legs = [
            RxLeg::new(caller, expected, Some(Duration::from_secs(10))),
            RxLeg::new(agent, None, None),
        ];
        legs[1].ssrc = 0x2222;
        let mk = |media: LegMedia, ssrc: u32, seq: u16| Expect {
            ssrc,
            seq,
            last_audio_ts: None,
            media,
        };
        Sim {
            now,
            legs,
            bridge: None,
            held: None,
            agent_attached: true,
            expect: [mk(caller, 0xCA11, 65_500), mk(agent, 0xA6E0, 7)],
            next_ssrc: 0xA6E1,
            bridge_stats: BridgeStats::default(),
            recorder_stats: RecorderStats::default(),
        }
    }

    fn sender(&self, side: Side) -> RtpSender {
        let e = &self.expect[idx(side)];
        RtpSender::with_initial(
            e.media.codec,
            e.media.telephone_event,
            e.ssrc,
            e.seq,
            0xFFFF_0000,
        )
    }

    /// One packet sent by a sender, to `to`: the destination's stream, continuous.
    fn sent(&mut self, to: Side, bytes: &[u8]) {
        let p = RtpPacket::parse(bytes).expect("what we send parses");
        let e = &mut self.expect[idx(to)];
        assert_eq!(p.header.ssrc, e.ssrc, "destination's SSRC");
        assert_eq!(p.header.sequence, e.seq, "next sequence number to {to:?}");
        e.seq = e.seq.wrapping_add(1);
        let pt = p.header.payload_type;
        if Some(pt) == e.media.telephone_event {
            assert!(TelephoneEvent::parse(p.payload).is_ok());
        } else {
            assert_eq!(
                pt,
                e.media.codec.payload_type(),
                "a negotiated payload type"
            );
            assert_eq!(p.payload.len(), FRAME_SAMPLES);
            if let Some(last) = e.last_audio_ts {
                assert!(
                    p.header.timestamp.wrapping_sub(last) as i32 > 0,
                    "audio time moves on"
                );
            }
            e.last_audio_ts = Some(p.header.timestamp);
        }
    }

    fn drain_bridge(&mut self, bound: usize) {
        let Some(b) = self.bridge.as_mut() else {
            return;
        };
        let mut sent = Vec::new();
        while let Some((side, bytes)) = b.poll_transmit() {
            sent.push((side, bytes.to_vec()));
            assert!(sent.len() <= bound, "bridge output per step is bounded");
        }
        let mut blocks = 0usize;
        while b.poll_block().is_some() {
            blocks += 1;
        }
        assert!(
            blocks as u64 <= MAX_CATCH_UP + MAX_QUEUED,
            "recording burst is bounded"
        );
        let (bs, rs) = (b.stats(), b.recorder_stats());
        for (side, bytes) in sent {
            self.sent(side, &bytes);
        }
        let old = self.bridge_stats;
        for (a, b) in [
            (old.to_agent, bs.to_agent),
            (old.to_caller, bs.to_caller),
            (old.events_to_agent, bs.events_to_agent),
            (old.events_to_caller, bs.events_to_caller),
            (old.stale, bs.stale),
            (old.events_dropped, bs.events_dropped),
            (old.ignored, bs.ignored),
        ] {
            assert!(b >= a, "bridge counters only grow");
        }
        let o = self.recorder_stats;
        assert!(rs.written >= o.written && rs.filled >= o.filled && rs.dropped >= o.dropped);
        self.bridge_stats = bs;
        self.recorder_stats = rs;
    }

    fn timers(&mut self) {
        let now = self.now;
        for leg in &mut self.legs {
            if leg.events.poll_timeout().is_some_and(|t| t <= now) {
                leg.events.handle_timeout(now);
            }
            if leg.latch.poll_timeout().is_some_and(|t| t <= now) {
                leg.latch.handle_timeout(now);
            }
        }
        if let Some(b) = self.bridge.as_mut() {
            b.handle_timeout(now);
        }
        self.drain_bridge(0);
        self.digits();
    }

    fn digits(&mut self) {
        for leg in &mut self.legs {
            while let Some(d) = leg.events.poll_digit() {
                check_digit(&d);
                let DigitTime::RtpTimestamp(ts) = d.at else {
                    panic!("an event's digit is timed by its RTP timestamp");
                };
                assert!(
                    leg.fed_events.contains(&(ts, d.digit.event_code())),
                    "digit {} at {ts} was never sent",
                    d.digit
                );
            }
            while let Some(d) = leg.tones.poll_digit() {
                check_digit(&d);
                let DigitTime::Sample(at) = d.at else {
                    panic!("a tone's digit is timed by its sample index");
                };
                assert!(at + u64::from(d.duration_samples) <= leg.samples_fed);
            }
        }
    }

    /// One datagram from `source` on `side`'s port, as `receive()` handles it.
    fn packet(&mut self, side: Side, source: SocketAddr, bytes: &[u8]) {
        let now = self.now;
        let before = self.legs[idx(side)].counters();
        let leg = &mut self.legs[idx(side)];
        let Ok(packet) = RtpPacket::parse(bytes) else {
            return;
        };
        check_parse(bytes, &packet);
        leg.arrived += 1;
        match leg.latch.handle_packet(source, packet.header.ssrc, now) {
            LatchDecision::Refuse(_) => {
                assert_eq!(leg.latch.refused() + leg.accepted, leg.arrived);
                assert!(leg.counters().iter().zip(before).all(|(a, b)| *a >= b));
                return;
            }
            LatchDecision::Accept { send_to, .. } => {
                assert_eq!(send_to, source);
                assert_eq!(leg.latch.source(), Some(source));
                leg.accepted += 1;
            }
        }
        let _ = leg.stats.handle_packet(source, &packet, now);
        assert_eq!(leg.stats.packets, leg.accepted);
        assert_eq!(leg.latch.refused() + leg.accepted, leg.arrived);
        assert!(
            leg.counters().iter().zip(before).all(|(a, b)| *a >= b),
            "counters only grow"
        );
        let pt = packet.header.payload_type;
        if let Some(b) = self.bridge.as_mut() {
            b.handle_packet(side, bytes, now);
            self.drain_bridge(MAX_SENT_PER_PACKET);
        }
        let leg = &mut self.legs[idx(side)];
        if side == Side::Caller {
            if Some(pt) == leg.media.telephone_event {
                leg.events_seen = true;
                if let Ok(ev) = TelephoneEvent::parse(packet.payload) {
                    if ev.event <= 15 {
                        leg.fed_events.insert((packet.header.timestamp, ev.event));
                    }
                }
                let _ = leg
                    .events
                    .handle_packet(packet.header.timestamp, packet.payload, now);
            } else if !leg.events_seen
                && pt == leg.media.codec.payload_type()
                && packet.payload.len() <= PCM_BUF
            {
                let mut pcm = [0i16; PCM_BUF];
                let out = &mut pcm[..packet.payload.len()];
                leg.media.codec.decode(packet.payload, out);
                check_codec(leg.media.codec, packet.payload);
                leg.samples_fed += out.len() as u64;
                leg.tones.handle_samples(out);
            }
        }
        self.digits();
    }

    /// A packet whose header follows the leg's synthesised stream (so the fuzzer reaches
    /// in-sequence audio and event trains without guessing sequence numbers).
    fn synth(&mut self, side: Side, flags: u8, payload: &[u8]) -> Vec<u8> {
        let leg = &mut self.legs[idx(side)];
        let te = leg.media.telephone_event.unwrap_or(101);
        let payload_type = [0, 8, te, 13][usize::from(flags & 3)];
        if flags & 8 != 0 {
            leg.ssrc = leg.ssrc.rotate_left(7) ^ 0x5A5A;
        }
        leg.seq = match (flags >> 4) & 3 {
            0 => leg.seq.wrapping_add(1),
            1 => leg.seq,
            2 => leg.seq.wrapping_add(3),
            _ => leg.seq.wrapping_sub(1),
        };
        leg.ts = match flags >> 6 {
            0 => leg.ts.wrapping_add(payload.len() as u32),
            1 => leg.ts,
            2 => leg.ts.wrapping_add(8000),
            _ => leg.ts ^ 0x8000_0000,
        };
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
        RtpHeader {
            marker: flags & 4 != 0,
            payload_type,
            sequence: leg.seq,
            timestamp: leg.ts,
            ssrc: leg.ssrc,
        }
        .append_packet(payload, &mut out);
        out
    }

    fn toggle_hold(&mut self) {
        let Some(b) = self.bridge.as_mut() else {
            return;
        };
        if let Some(s) = self.held.take() {
            b.attach_caller(s);
        } else {
            let Some(mut s) = b.detach_caller() else {
                panic!("the caller's sender is in the bridge while not held");
            };
            // The pacer plays one frame of hold music with it.
            let mut out = Vec::new();
            let silence = *s.codec().silence_frame();
            if s.frame(Some(&silence), &mut out) {
                self.sent(Side::Caller, &out);
            }
            self.held = Some(s);
        }
        assert_eq!(b_attached(&self.bridge), self.held.is_none());
    }

    fn toggle_agent(&mut self) {
        let Some(b) = self.bridge.as_mut() else {
            return;
        };
        if self.agent_attached {
            b.detach_agent();
            self.agent_attached = false;
        } else {
            // The next agent: a new phone, a new stream towards it.
            self.expect[1] = Expect {
                ssrc: self.next_ssrc,
                seq: self.next_ssrc as u16,
                last_audio_ts: None,
                media: self.expect[1].media,
            };
            self.next_ssrc = self.next_ssrc.wrapping_add(1);
            let s = self.sender(Side::Agent);
            let media = self.expect[1].media;
            if let Some(b) = self.bridge.as_mut() {
                b.attach_agent(media, s);
            }
            self.agent_attached = true;
        }
    }

    fn toggle_bridge(&mut self) {
        match self.bridge.take() {
            Some(mut b) => {
                b.flush();
                let mut blocks = 0u64;
                while b.poll_block().is_some() {
                    blocks += 1;
                }
                assert!(blocks <= MAX_CATCH_UP + MAX_QUEUED, "flush is bounded");
                // Unbridged: the senders go back to the pacer; keep their sequence.
                if let Some(s) = self.held.take() {
                    drop(s);
                }
            }
            None => {
                let (c, a) = (self.sender(Side::Caller), self.sender(Side::Agent));
                let (cm, am) = (self.expect[0].media, self.expect[1].media);
                self.bridge = Some(Bridge::new(cm, c, am, a, self.now));
                self.agent_attached = true;
                self.bridge_stats = BridgeStats::default();
                self.recorder_stats = RecorderStats::default();
                for e in &mut self.expect {
                    e.last_audio_ts = None;
                }
            }
        }
    }

    fn step(&mut self, input: &mut Input<'_>) {
        let op = input.byte();
        let dt = input.byte();
        let ms = if dt < 250 {
            u64::from(dt) * 5
        } else {
            u64::from(dt - 249) * 6_000
        };
        self.now = (self.now + Duration::from_millis(ms)).min(base() + MAX_CALL);
        self.timers();
        let side = if op & 0x08 != 0 {
            Side::Agent
        } else {
            Side::Caller
        };
        let source = sources()[usize::from((op >> 4) & 3)];
        match op & 7 {
            0 | 1 => {
                let len = usize::from(input.byte()) + 256 * usize::from(op & 1);
                let bytes = input.bytes(len);
                self.packet(side, source, bytes);
            }
            2 | 3 => {
                let flags = input.byte();
                let len = usize::from(input.byte()) + 256 * usize::from(op & 1);
                let payload = input.bytes(len);
                let bytes = self.synth(side, flags, payload);
                self.packet(side, source, &bytes);
            }
            4 => {
                if let (Some(b), Some(d)) =
                    (self.bridge.as_mut(), Digit::from_event(input.byte() & 15))
                {
                    let _ = b.send_digit(d, self.now);
                    self.drain_bridge(0);
                }
            }
            5 => self.toggle_hold(),
            6 => self.toggle_agent(),
            _ => self.toggle_bridge(),
        }
    }
}

fn b_attached(b: &Option<Bridge>) -> bool {
    b.as_ref().is_some_and(Bridge::caller_attached)
}

fn check_digit(d: &DetectedDigit) {
    assert!("0123456789*#ABCD".contains(d.digit.as_char()));
    assert_eq!(Digit::from_char(d.digit.as_char()), Some(d.digit));
    assert_eq!(Digit::from_event(d.digit.event_code()), Some(d.digit));
}

fuzz_target!(|data: &[u8]| {
    if data.len() > MAX_INPUT {
        return;
    }
    let mut input = Input(data);
    let setup = u16::from_be_bytes([input.byte(), input.byte()]);
    let mut sim = Sim::new(setup);
    for _ in 0..MAX_STEPS {
        if input.0.is_empty() {
            break;
        }
        sim.step(&mut input);
    }
    // Hang-up: time passes, every timer fires, the recording is flushed.
    sim.now += Duration::from_secs(1);
    sim.timers();
    for leg in &mut sim.legs {
        leg.tones.flush();
    }
    sim.digits();
    if sim.bridge.is_some() {
        sim.toggle_bridge();
    }
});
