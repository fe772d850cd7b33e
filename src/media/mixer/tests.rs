//! The mixer with a fake clock and hand-made packets: tick `k` is `t0 + k·20 ms (+1 ms)`;
//! each party's packet for tick `k` arrives just before it.

use std::collections::HashMap;
use std::time::Duration;

use super::*;
use crate::media::dtmf::tone::goertzel_amplitude;
use crate::media::rtp::RtpHeader;

pub(super) const A: f32 = 4000.0;

pub(super) fn at(t0: Instant, k: u64) -> Instant {
    t0 + Duration::from_millis(20 * k + 1)
}

pub(super) fn media(codec: Codec, te: Option<u8>) -> LegMedia {
    LegMedia {
        codec,
        telephone_event: te,
    }
}

/// Our sender towards party `id`: SSRC 0x5000 + id.
pub(super) fn sender(id: u8, codec: Codec, te: Option<u8>) -> RtpSender {
    RtpSender::with_initial(codec, te, 0x5000 + u32::from(id), 1000, 0)
}

pub(super) fn packet(
    pt: u8,
    seq: u16,
    ts: u32,
    ssrc: u32,
    marker: bool,
    payload: &[u8],
) -> Vec<u8> {
    let mut out = Vec::new();
    RtpHeader {
        marker,
        payload_type: pt,
        sequence: seq,
        timestamp: ts,
        ssrc,
    }
    .append_packet(payload, &mut out);
    out
}

pub(super) fn event(code: u8, end: bool, duration: u16) -> [u8; 4] {
    TelephoneEvent {
        event: code,
        end,
        volume: 10,
        duration,
    }
    .to_bytes()
}

/// A phone: its codec, its stream's sequence, and the tone it speaks.
pub(super) struct Phone {
    pub(super) codec: Codec,
    pub(super) seq: u16,
    pub(super) ts: u32,
    pub(super) freq: f32,
    pub(super) amp: f32,
    pub(super) n: u64,
}

impl Phone {
    /// The next 20 ms of its tone as an RTP packet.
    pub(super) fn next(&mut self, id: u8) -> Vec<u8> {
        let pcm: Vec<i16> = (0..FRAME_SAMPLES as u64)
            .map(|i| {
                let t = (self.n + i) as f32 / 8000.0;
                (self.amp * (2.0 * std::f32::consts::PI * self.freq * t).sin()) as i16
            })
            .collect();
        self.n += FRAME_SAMPLES as u64;
        let mut payload = vec![0u8; FRAME_SAMPLES];
        self.codec.encode(&pcm, &mut payload);
        let p = packet(
            self.codec.payload_type(),
            self.seq,
            self.ts,
            0xA000 + u32::from(id),
            false,
            &payload,
        );
        self.seq = self.seq.wrapping_add(1);
        self.ts = self.ts.wrapping_add(FRAME_SAMPLES as u32);
        p
    }
}

/// A mixer with phones, and what each phone received.
pub(super) struct Conf {
    t0: Instant,
    pub(super) m: Mixer,
    phones: Vec<(PartyId, Phone)>,
    pub(super) got: HashMap<PartyId, Vec<(RtpHeader, Vec<u8>)>>,
    pub(super) k: u64,
}

impl Conf {
    pub(super) fn new() -> Conf {
        let t0 = crate::media::t0();
        Conf {
            t0,
            m: Mixer::new(t0),
            phones: Vec::new(),
            got: HashMap::new(),
            k: 0,
        }
    }

    pub(super) fn join(&mut self, id: u8, codec: Codec, freq: f32, te: Option<u8>) {
        let sender = sender(id, codec, te);
        self.m
            .add_party(PartyId(id), media(codec, te), Some(sender), self.now())
            .unwrap();
        let phone = Phone {
            codec,
            seq: 100,
            ts: 0,
            freq,
            amp: A,
            n: 0,
        };
        self.phones.push((PartyId(id), phone));
    }

    pub(super) fn now(&self) -> Instant {
        at(self.t0, self.k)
    }

    pub(super) fn drain(&mut self) {
        while let Some((to, bytes)) = self.m.poll_transmit() {
            let p = RtpPacket::parse(bytes).unwrap();
            self.got
                .entry(to)
                .or_default()
                .push((p.header, p.payload.to_vec()));
        }
    }

    /// `n` ticks, every phone (except `mute`) sending one packet before each.
    pub(super) fn run(&mut self, n: u64, mute: &[PartyId]) {
        for _ in 0..n {
            let now = self.now();
            for (id, phone) in &mut self.phones {
                if !mute.contains(id) {
                    let p = phone.next(id.0);
                    self.m.handle_packet(*id, &p, now);
                }
            }
            self.m.handle_timeout(now);
            self.drain();
            self.k += 1;
        }
    }

    /// The last `frames` audio frames party `id` received, decoded.
    pub(super) fn heard(&self, id: u8, frames: usize) -> Vec<i16> {
        let got = &self.got[&PartyId(id)];
        let audio: Vec<&(RtpHeader, Vec<u8>)> = got
            .iter()
            .filter(|(h, _)| Codec::from_payload_type(h.payload_type).is_some())
            .collect();
        let mut pcm = Vec::new();
        for (h, p) in &audio[audio.len() - frames..] {
            let codec = Codec::from_payload_type(h.payload_type).unwrap();
            let mut f = vec![0i16; p.len()];
            codec.decode(p, &mut f);
            pcm.extend(f);
        }
        pcm
    }

    pub(super) fn amp(&self, id: u8, freq: f32) -> f32 {
        goertzel_amplitude(&self.heard(id, 20), freq)
    }
}

/// Asserts party `id` hears exactly the tones `yes` and none of `no`.
pub(super) fn hears(c: &Conf, id: u8, yes: &[f32], no: &[f32]) {
    for &f in yes {
        let a = c.amp(id, f);
        assert!(a > 0.7 * A, "party {id} should hear {f} Hz, amplitude {a}");
    }
    for &f in no {
        let a = c.amp(id, f);
        assert!(
            a < 0.05 * A,
            "party {id} should not hear {f} Hz, amplitude {a}"
        );
    }
}

pub(super) fn all_hear_all(ids: &[u8]) -> Vec<(PartyId, Vec<PartyId>)> {
    ids.iter()
        .map(|&l| {
            let others = ids.iter().filter(|&&s| s != l).map(|&s| PartyId(s));
            (PartyId(l), others.collect())
        })
        .collect()
}

/// Caller PCMA 400 Hz, agent PCMU 600 Hz, a unit PCMA 800 Hz.
pub(super) fn three() -> Conf {
    let mut c = Conf::new();
    c.join(0, Codec::Pcma, 400.0, Some(101));
    c.join(1, Codec::Pcmu, 600.0, Some(96));
    c.join(2, Codec::Pcma, 800.0, None);
    c
}

#[test]
fn each_of_three_parties_hears_the_two_others_and_not_itself() {
    let mut c = three();
    c.m.set_matrix(&all_hear_all(&[0, 1, 2]));
    assert!(c.m.all_hear_all, "the fast path is taken");
    c.run(60, &[]);
    hears(&c, 0, &[600.0, 800.0], &[400.0]);
    hears(&c, 1, &[400.0, 800.0], &[600.0]);
    hears(&c, 2, &[400.0, 600.0], &[800.0]);
    // Each in its own codec (PCMU and PCMA mixed together, transcoded), one stream each.
    for (id, pt) in [(0u8, 8u8), (1, 0), (2, 8)] {
        let got = &c.got[&PartyId(id)];
        assert_eq!(got.len(), 60, "one packet per tick to party {id}");
        assert!(got.iter().all(|(h, _)| h.payload_type == pt));
        assert!(got.iter().all(|(h, _)| h.ssrc == 0x5000 + u32::from(id)));
        for w in got.windows(2) {
            assert_eq!(w[1].0.sequence, w[0].0.sequence.wrapping_add(1));
            assert_eq!(w[1].0.timestamp, w[0].0.timestamp.wrapping_add(160));
        }
    }
    // The general path gives the same result as the fast path.
    let mut slow = three();
    slow.m.set_matrix(&all_hear_all(&[0, 1, 2]));
    slow.m.all_hear_all = false;
    slow.run(60, &[]);
    assert_eq!(slow.heard(1, 40), c.heard(1, 40));
}

#[test]
fn whisper_the_supervisor_is_heard_by_the_agent_only() {
    let mut c = three();
    // 2 is the supervisor: it hears both, and only the agent hears it.
    c.m.set_matrix(&[
        (PartyId(0), vec![PartyId(1)]),
        (PartyId(1), vec![PartyId(0), PartyId(2)]),
        (PartyId(2), vec![PartyId(0), PartyId(1)]),
    ]);
    assert!(!c.m.all_hear_all);
    c.run(60, &[]);
    hears(&c, 0, &[600.0], &[400.0, 800.0]);
    hears(&c, 1, &[400.0, 800.0], &[600.0]);
    hears(&c, 2, &[400.0, 600.0], &[800.0]);
}

#[test]
fn listen_the_supervisor_hears_both_and_nobody_hears_it() {
    let mut c = three();
    c.m.set_matrix(&[
        (PartyId(0), vec![PartyId(1)]),
        (PartyId(1), vec![PartyId(0)]),
        (PartyId(2), vec![PartyId(0), PartyId(1)]),
    ]);
    c.run(60, &[]);
    hears(&c, 0, &[600.0], &[400.0, 800.0]);
    hears(&c, 1, &[400.0], &[600.0, 800.0]);
    hears(&c, 2, &[400.0, 600.0], &[800.0]);
    // Nobody heard listed: a listener of nobody still gets comfort silence.
    c.m.set_hears(PartyId(2), &[]).unwrap();
    c.run(5, &[]);
    let last = c.heard(2, 2);
    assert!(last.iter().all(|s| s.abs() < 16), "silence, in its codec");
    assert_eq!(c.got[&PartyId(2)].len(), 65, "the stream never paused");
}

#[test]
fn two_full_scale_inputs_saturate_and_are_counted_never_wrap() {
    let mut c = Conf::new();
    for id in 0..3 {
        c.join(id, Codec::Pcmu, 0.0, None);
        c.phones[id as usize].1.amp = 0.0;
    }
    // 0 and 1 send a constant near full scale; 2 hears both.
    let full = {
        let mut p = vec![0u8; FRAME_SAMPLES];
        Codec::Pcmu.encode(&[30_000; FRAME_SAMPLES], &mut p);
        p
    };
    c.m.set_hears(PartyId(2), &[PartyId(0), PartyId(1)])
        .unwrap();
    for k in 0..10u16 {
        let now = c.now();
        for id in 0..2u8 {
            let p = packet(0, k, u32::from(k) * 160, u32::from(id), false, &full);
            c.m.handle_packet(PartyId(id), &p, now);
        }
        c.m.handle_timeout(now);
        c.drain();
        c.k += 1;
    }
    let heard = c.heard(2, 5);
    assert!(
        heard.iter().all(|&s| s > 30_000),
        "saturated high, not wrapped negative"
    );
    let st = c.m.stats();
    assert!(st.clipped_samples >= 5 * 160, "{st:?}");
}

#[test]
fn a_callers_key_reaches_every_listener_in_its_payload_type_or_is_counted_dropped() {
    let mut c = three();
    c.m.set_matrix(&all_hear_all(&[0, 1, 2]));
    c.run(5, &[]);
    let now = c.now();
    for (i, (d, end)) in [(160u16, false), (320, false), (320, true)]
        .iter()
        .enumerate()
    {
        let p = packet(
            101,
            200 + i as u16,
            9999,
            0xA000,
            i == 0,
            &event(5, *end, *d),
        );
        c.m.handle_packet(PartyId::CALLER, &p, now);
    }
    c.drain();
    let events = |c: &Conf, id: u8, pt: u8| {
        c.got[&PartyId(id)]
            .iter()
            .filter(|(h, _)| h.payload_type == pt)
            .count()
    };
    assert_eq!(
        events(&c, 1, 96),
        3,
        "the agent gets them as its own type 96"
    );
    assert_eq!(
        events(&c, 2, 96) + events(&c, 2, 101),
        0,
        "no telephone-event there"
    );
    let st = c.m.stats();
    assert_eq!((st.events_relayed, st.events_dropped), (3, 3));
    // The call room's request for the same key is not regenerated; another key is, to the
    // agent (the unit has no telephone-event).
    assert!(!c.m.send_digit(Digit::D5, now));
    assert!(c.m.send_digit(Digit::D7, now));
    c.run(8, &[]);
    let ev: Vec<TelephoneEvent> = c.got[&PartyId(1)]
        .iter()
        .filter(|(h, _)| h.payload_type == 96)
        .map(|(_, p)| TelephoneEvent::parse(p).unwrap())
        .collect();
    assert!(ev.iter().any(|e| e.event == 7 && e.end));
    // The agent's stream stays continuous through it all.
    let got = &c.got[&PartyId(1)];
    for w in got.windows(2) {
        assert_eq!(w[1].0.sequence, w[0].0.sequence.wrapping_add(1));
    }
}

#[test]
fn a_party_removed_mid_call_drops_out_of_every_mix() {
    let mut c = three();
    c.m.set_matrix(&all_hear_all(&[0, 1, 2]));
    c.run(30, &[]);
    let s = c.m.remove_party(PartyId(2)).unwrap();
    assert_eq!(s.ssrc(), 0x5002);
    c.phones.retain(|(id, _)| *id != PartyId(2));
    c.got.clear();
    c.run(30, &[]);
    hears(&c, 0, &[600.0], &[400.0, 800.0]);
    hears(&c, 1, &[400.0], &[600.0, 800.0]);
    assert!(!c.got.contains_key(&PartyId(2)));
    assert!(c.m.remove_party(PartyId(2)).is_none());
    assert_eq!(
        c.m.set_hears(PartyId(2), &[]),
        Err(MixerError::UnknownParty(PartyId(2)))
    );
}

#[test]
fn five_parties_each_hear_the_four_others_and_a_ninth_is_refused() {
    let mut c = Conf::new();
    let freqs = [400.0, 600.0, 800.0, 1000.0, 1200.0];
    let codecs = [
        Codec::Pcma,
        Codec::Pcmu,
        Codec::Pcma,
        Codec::Pcmu,
        Codec::Pcma,
    ];
    for id in 0..5u8 {
        c.join(id, codecs[id as usize], freqs[id as usize], None);
        c.phones[id as usize].1.amp = A / 2.0;
    }
    c.m.set_matrix(&all_hear_all(&[0, 1, 2, 3, 4]));
    c.run(60, &[]);
    for id in 0..5u8 {
        for (j, &f) in freqs.iter().enumerate() {
            let a = c.amp(id, f);
            if j == id as usize {
                assert!(a < 0.05 * A, "party {id} hears itself: {a}");
            } else {
                assert!(a > 0.35 * A, "party {id} misses {f} Hz: {a}");
            }
        }
    }
    assert_eq!(c.m.stats().clipped_samples, 0);
    for id in 5..8u8 {
        c.join(id, Codec::Pcmu, 0.0, None);
    }
    let m = media(Codec::Pcmu, None);
    assert_eq!(
        c.m.add_party(PartyId(9), m, None, c.now()),
        Err(MixerError::TooManyParties)
    );
    assert_eq!(
        c.m.add_party(PartyId(1), m, None, c.now()),
        Err(MixerError::DuplicateParty(PartyId(1)))
    );
}

#[test]
fn a_clean_run_of_three_parties_for_1000_frames_loses_nothing() {
    let mut c = three();
    c.m.set_matrix(&all_hear_all(&[0, 1, 2]));
    c.run(1000, &[]);
    let st = c.m.stats();
    assert_eq!(st.frames_in, 3000);
    assert_eq!(st.frames_out, 3000);
    assert_eq!(
        (
            st.underruns,
            st.dropped_overflow,
            st.stale,
            st.ignored,
            st.skipped_ticks
        ),
        (0, 0, 0, 0, 0)
    );
    for id in 0..3 {
        let ps = c.m.party_stats(PartyId(id)).unwrap();
        assert_eq!((ps.frames_in, ps.underruns, ps.queued), (1000, 0, 1));
    }
    let r = c.m.recorder_stats();
    assert_eq!((r.filled, r.dropped), (0, 0));
}

/// 20 ms of `codec` audio at a constant level `v`.
pub(super) fn level(codec: Codec, v: i16) -> Vec<u8> {
    let mut out = vec![0u8; FRAME_SAMPLES];
    codec.encode(&[v; FRAME_SAMPLES], &mut out);
    out
}

#[test]
fn a_bridge_becomes_a_mixer_with_the_same_streams_and_one_continuous_recording() {
    let t0 = crate::media::t0();
    let (ca, ag) = (media(Codec::Pcma, Some(101)), media(Codec::Pcmu, None));
    let mut bridge = Bridge::new(
        ca,
        RtpSender::with_initial(Codec::Pcma, Some(101), 0x70CA, 100, 50_000),
        ag,
        RtpSender::with_initial(Codec::Pcmu, None, 0x70A6, 200, 90_000),
        t0,
    );
    let mut to = HashMap::<PartyId, Vec<RtpHeader>>::new();
    let mut blocks = Vec::new();
    let (mut cseq, mut aseq, mut useq) = (0u16, 0u16, 0u16);
    // 50 ticks bridged: caller at level 1000 (left), agent at 2000 (right).
    for k in 0..50u64 {
        let now = at(t0, k);
        let p = packet(
            8,
            cseq,
            u32::from(cseq) * 160,
            1,
            false,
            &level(Codec::Pcma, 1000),
        );
        bridge.handle_packet(Side::Caller, &p, now);
        let p = packet(
            0,
            aseq,
            u32::from(aseq) * 160,
            2,
            false,
            &level(Codec::Pcmu, 2000),
        );
        bridge.handle_packet(Side::Agent, &p, now);
        (cseq, aseq) = (cseq + 1, aseq + 1);
        bridge.handle_timeout(now);
        while let Some((side, bytes)) = bridge.poll_transmit() {
            let party = if side == Side::Caller { 0 } else { 1 };
            let h = RtpPacket::parse(bytes).unwrap().header;
            to.entry(PartyId(party)).or_default().push(h);
        }
        blocks.extend(std::iter::from_fn(|| bridge.poll_block()));
    }
    let mut m = Mixer::from_bridge(bridge, at(t0, 50));
    assert_eq!(m.hears(PartyId::CALLER), Some(&[PartyId::AGENT][..]));
    assert_eq!(m.hears(PartyId::AGENT), Some(&[PartyId::CALLER][..]));
    // A unit joins at level 500 and everyone hears everyone.
    let unit = media(Codec::Pcma, None);
    m.add_party(
        PartyId(2),
        unit,
        Some(sender(2, Codec::Pcma, None)),
        at(t0, 50),
    )
    .unwrap();
    m.set_matrix(&all_hear_all(&[0, 1, 2]));
    for k in 50..150u64 {
        let now = at(t0, k);
        for (id, seq, codec, pt, v) in [
            (0u8, &mut cseq, Codec::Pcma, 8u8, 1000i16),
            (1, &mut aseq, Codec::Pcmu, 0, 2000),
            (2, &mut useq, Codec::Pcma, 8, 500),
        ] {
            let p = packet(
                pt,
                *seq,
                u32::from(*seq) * 160,
                1 + u32::from(id),
                false,
                &level(codec, v),
            );
            m.handle_packet(PartyId(id), &p, now);
            *seq += 1;
        }
        m.handle_timeout(now);
        while let Some((party, bytes)) = m.poll_transmit() {
            let h = RtpPacket::parse(bytes).unwrap().header;
            to.entry(party).or_default().push(h);
        }
        blocks.extend(std::iter::from_fn(|| m.poll_block()));
    }
    m.flush();
    blocks.extend(std::iter::from_fn(|| m.poll_block()));
    // The caller's and agent's phones see one stream each: same SSRC, sequence +1, time on.
    for (party, ssrc) in [(PartyId::CALLER, 0x70CA), (PartyId::AGENT, 0x70A6)] {
        let hs = &to[&party];
        assert!(hs.len() > 140, "{party:?}: {}", hs.len());
        assert!(hs.iter().all(|h| h.ssrc == ssrc));
        for w in hs.windows(2) {
            assert_eq!(w[1].sequence, w[0].sequence.wrapping_add(1), "{party:?}");
            let step = w[1].timestamp.wrapping_sub(w[0].timestamp);
            assert!(
                step > 0 && step <= 3 * 160,
                "{party:?}: timestamp step {step}"
            );
        }
    }
    // The recording: caller on the left throughout; the right is the agent, then agent +
    // unit; no silent slot inside either side's audio.
    let left: Vec<i16> = blocks.iter().map(|b| b[0]).collect();
    let right: Vec<i16> = blocks.iter().map(|b| b[1]).collect();
    let first = left.iter().position(|&v| v != 0).unwrap();
    let last = left.iter().rposition(|&v| v != 0).unwrap();
    assert!(
        left[first..=last].iter().all(|&v| (900..1100).contains(&v)),
        "{left:?}"
    );
    assert!(last - first >= 140);
    let first = right.iter().position(|&v| v != 0).unwrap();
    let last = right.iter().rposition(|&v| v != 0).unwrap();
    let r = &right[first..=last];
    assert!(r.iter().all(|&v| (1800..2700).contains(&v)), "{r:?}");
    assert!(r.iter().any(|&v| v < 2200) && r.iter().any(|&v| v > 2300));
    assert_eq!(m.recorder_stats().filled, 0);
    assert_eq!(m.recorder_stats().dropped, 0);
}

#[test]
fn the_callers_hold_takes_its_sender_out_and_back_with_the_sequence_going_on() {
    let mut c = three();
    c.m.set_matrix(&all_hear_all(&[0, 1, 2]));
    c.run(10, &[]);
    let held = c.m.detach_sender(PartyId::CALLER).unwrap();
    assert!(!c.m.sender_attached(PartyId::CALLER));
    let before = c.got[&PartyId::CALLER].len();
    c.run(10, &[]);
    assert_eq!(
        c.got[&PartyId::CALLER].len(),
        before,
        "the pacer plays to the caller"
    );
    assert_eq!(c.got[&PartyId::AGENT].len(), 20, "the others go on");
    hears(&c, 1, &[400.0, 800.0], &[600.0]);
    let next = held.next_sequence();
    c.m.attach_sender(PartyId::CALLER, held).unwrap();
    c.run(10, &[]);
    let got = &c.got[&PartyId::CALLER];
    assert_eq!(got[before].0.sequence, next);
}
