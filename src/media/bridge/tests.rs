//! The bridge with a fake clock and hand-made packets: slot `k` is `t0 + k·20 ms (+1 ms)`.

use super::*;
use crate::media::rtp::RtpHeader;
use std::time::Duration;

const CALLER_SSRC: u32 = 0xCA11;
const AGENT_SSRC: u32 = 0xA6E7;
/// Our senders' SSRCs towards each phone.
const TO_CALLER: u32 = 0x70CA;
const TO_AGENT: u32 = 0x70A6;

fn at(t0: Instant, slot: u64) -> Instant {
    t0 + Duration::from_millis(20 * slot + 1)
}

/// The caller speaks PCMA with telephone-event 101; the agent PCMU with `agent_te`.
fn bridge(t0: Instant, agent_te: Option<u8>) -> Bridge {
    let caller = LegMedia {
        codec: Codec::Pcma,
        telephone_event: Some(101),
    };
    let agent = LegMedia {
        codec: Codec::Pcmu,
        telephone_event: agent_te,
    };
    Bridge::new(
        caller,
        RtpSender::with_initial(Codec::Pcma, Some(101), TO_CALLER, 100, 50_000),
        agent,
        RtpSender::with_initial(Codec::Pcmu, agent_te, TO_AGENT, 200, 90_000),
        t0,
    )
}

fn packet(pt: u8, seq: u16, ts: u32, ssrc: u32, marker: bool, payload: &[u8]) -> Vec<u8> {
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

/// 20 ms of `codec` audio at a constant level `v`.
fn audio(codec: Codec, v: i16) -> Vec<u8> {
    let mut out = vec![0u8; FRAME_SAMPLES];
    codec.encode(&[v; FRAME_SAMPLES], &mut out);
    out
}

fn event(code: u8, end: bool, duration: u16) -> [u8; 4] {
    TelephoneEvent {
        event: code,
        end,
        volume: 10,
        duration,
    }
    .to_bytes()
}

/// Every packet to send, parsed: (destination, header, payload).
fn sent(b: &mut Bridge) -> Vec<(Side, RtpHeader, Vec<u8>)> {
    let mut v = Vec::new();
    while let Some((side, bytes)) = b.poll_transmit() {
        let p = RtpPacket::parse(bytes).unwrap();
        v.push((side, p.header, p.payload.to_vec()));
    }
    v
}

fn blocks(b: &mut Bridge) -> Vec<[i16; BLOCK_SAMPLES]> {
    std::iter::from_fn(|| b.poll_block()).collect()
}

#[test]
fn audio_is_transcoded_and_restamped_both_ways() {
    let t0 = crate::media::t0();
    let mut b = bridge(t0, Some(96));
    let level = 1000;
    b.handle_packet(
        Side::Caller,
        &packet(8, 7, 1234, CALLER_SSRC, true, &audio(Codec::Pcma, level)),
        t0,
    );
    let out = sent(&mut b);
    assert_eq!(out.len(), 1);
    let (to, h, payload) = &out[0];
    assert_eq!(*to, Side::Agent);
    assert_eq!(
        (h.payload_type, h.ssrc, h.sequence, h.timestamp),
        (0, TO_AGENT, 200, 90_000)
    );
    let decoded = Codec::Pcmu.decode_sample(payload[0]);
    assert!(
        (decoded - level).abs() < 40,
        "PCMA {level} became PCMU {decoded}"
    );
    b.handle_packet(
        Side::Agent,
        &packet(0, 1, 5, AGENT_SSRC, true, &audio(Codec::Pcmu, -level)),
        t0,
    );
    let out = sent(&mut b);
    let (to, h, payload) = &out[0];
    assert_eq!(*to, Side::Caller);
    assert_eq!((h.payload_type, h.ssrc, h.sequence), (8, TO_CALLER, 100));
    assert!((Codec::Pcma.decode_sample(payload[0]) + level).abs() < 40);
    assert_eq!(
        b.stats(),
        BridgeStats {
            to_agent: 1,
            to_caller: 1,
            ..BridgeStats::default()
        }
    );
}

#[test]
fn packets_of_30_ms_are_relayed_and_recorded_as_20_ms_frames() {
    let t0 = crate::media::t0();
    let mut b = bridge(t0, None);
    let long = vec![Codec::Pcma.encode_sample(500); 240];
    for i in 0..4u16 {
        let ts = u32::from(i) * 240;
        b.handle_packet(
            Side::Caller,
            &packet(8, i, ts, CALLER_SSRC, i == 0, &long),
            at(t0, u64::from(i)),
        );
    }
    let out = sent(&mut b);
    assert_eq!(out.len(), 6, "4 × 30 ms = 6 × 20 ms");
    let stamps: Vec<u32> = out.iter().map(|(_, h, _)| h.timestamp - 90_000).collect();
    assert_eq!(stamps, vec![0, 160, 320, 480, 640, 800]);
    assert!(out
        .iter()
        .all(|(_, h, p)| p.len() == 160 && h.payload_type == 0));
    b.flush();
    let left: Vec<i16> = blocks(&mut b).iter().map(|x| x[0]).collect();
    assert_eq!(left.iter().filter(|v| **v != 0).count(), 6);
    assert_eq!(b.recorder_stats().filled, 0);
}

#[test]
fn a_lost_packet_is_one_silent_slot_in_the_recording() {
    let t0 = crate::media::t0();
    let mut b = bridge(t0, None);
    for i in 0..8u16 {
        let now = at(t0, u64::from(i));
        b.handle_timeout(now);
        if i == 3 {
            continue; // lost on the way
        }
        let p = packet(
            0,
            i,
            u32::from(i) * 160,
            AGENT_SSRC,
            false,
            &audio(Codec::Pcmu, 800 + i as i16),
        );
        b.handle_packet(Side::Agent, &p, now);
    }
    b.flush();
    let right: Vec<i16> = blocks(&mut b).iter().map(|x| x[1]).collect();
    let heard: Vec<bool> = right[25..].iter().map(|v| *v != 0).collect();
    assert_eq!(heard, [true, true, true, false, true, true, true, true]);
    assert_eq!(b.recorder_stats().filled, 1);
    assert_eq!(sent(&mut b).len(), 7);
}

#[test]
fn stale_and_duplicate_packets_are_not_relayed_but_fill_their_slot() {
    let t0 = crate::media::t0();
    let mut b = bridge(t0, None);
    let send = |b: &mut Bridge, seq: u16, slot: u64| {
        let p = packet(
            8,
            seq,
            u32::from(seq) * 160,
            CALLER_SSRC,
            false,
            &audio(Codec::Pcma, 700),
        );
        b.handle_packet(Side::Caller, &p, at(t0, slot));
    };
    // 0, 1, 3, 2 (reordered), 3 again (duplicate), 4.
    for (slot, seq) in [0u16, 1, 3, 2, 3, 4].into_iter().enumerate() {
        b.handle_timeout(at(t0, slot as u64));
        send(&mut b, seq, slot as u64);
    }
    let relayed: Vec<u32> = sent(&mut b)
        .iter()
        .map(|(_, h, _)| h.sequence.into())
        .collect();
    assert_eq!(
        relayed.len(),
        4,
        "0, 1, 3 and 4 go out; the late 2 and the copy of 3 do not"
    );
    assert_eq!(b.stats().stale, 2);
    b.flush();
    let left: Vec<i16> = blocks(&mut b).iter().map(|x| x[0]).collect();
    assert_eq!(left[25..].iter().filter(|v| **v != 0).count(), 5);
    assert_eq!(
        b.recorder_stats().filled,
        0,
        "the late 2 still made its slot"
    );
}

#[test]
fn telephone_events_pass_both_ways_with_each_sides_payload_type() {
    let t0 = crate::media::t0();
    let mut b = bridge(t0, Some(96));
    // Caller → agent: 101 becomes 96, on our agent stream's SSRC and timestamps.
    for (i, (d, end)) in [(160u16, false), (320, true), (320, true)]
        .into_iter()
        .enumerate()
    {
        let p = packet(
            101,
            10 + i as u16,
            4000,
            CALLER_SSRC,
            i == 0,
            &event(5, end, d),
        );
        b.handle_packet(Side::Caller, &p, at(t0, i as u64));
    }
    let out = sent(&mut b);
    assert_eq!(out.len(), 3);
    for (i, (to, h, payload)) in out.iter().enumerate() {
        assert_eq!(*to, Side::Agent);
        assert_eq!(
            (h.payload_type, h.ssrc, h.timestamp),
            (96, TO_AGENT, 90_000)
        );
        assert_eq!(h.sequence, 200 + i as u16);
        assert_eq!(h.marker, i == 0);
        assert_eq!(TelephoneEvent::parse(payload).unwrap().event, 5);
    }
    // Agent → caller: 96 becomes 101.
    let p = packet(96, 1, 777, AGENT_SSRC, true, &event(9, true, 800));
    b.handle_packet(Side::Agent, &p, at(t0, 3));
    let out = sent(&mut b);
    assert_eq!(out.len(), 1);
    let (to, h, payload) = &out[0];
    assert_eq!(*to, Side::Caller);
    assert_eq!((h.payload_type, h.ssrc, h.marker), (101, TO_CALLER, true));
    assert_eq!(TelephoneEvent::parse(payload).unwrap().event, 9);
    assert_eq!(b.stats().events_dropped, 0);
    assert_eq!(
        (b.stats().events_to_agent, b.stats().events_to_caller),
        (3, 1)
    );
}

#[test]
fn events_are_dropped_towards_a_side_without_telephone_event() {
    let t0 = crate::media::t0();
    let mut b = bridge(t0, None);
    let p = packet(101, 1, 4000, CALLER_SSRC, true, &event(5, false, 160));
    b.handle_packet(Side::Caller, &p, t0);
    assert!(sent(&mut b).is_empty());
    assert_eq!(b.stats().events_dropped, 1);
    // Without telephone-event on the agent's leg, payload type 96 from the agent is nothing
    // we negotiated.
    let p = packet(96, 1, 1, AGENT_SSRC, true, &event(5, false, 160));
    b.handle_packet(Side::Agent, &p, t0);
    assert!(sent(&mut b).is_empty());
    assert_eq!(b.stats().ignored, 1);
}

#[test]
fn a_key_passed_through_as_an_event_is_not_regenerated() {
    let t0 = crate::media::t0();
    let mut b = bridge(t0, Some(96));
    for (i, (d, end)) in [(160u16, false), (800, true)].into_iter().enumerate() {
        let p = packet(101, i as u16, 4000, CALLER_SSRC, i == 0, &event(5, end, d));
        b.handle_packet(Side::Caller, &p, at(t0, i as u64));
    }
    assert_eq!(sent(&mut b).len(), 2);
    // The engine heard '5' from the receive task and asks for it to be sent on: it went
    // through already.
    assert!(!b.send_digit(Digit::D5, at(t0, 3)));
    // A key the caller sent as a tone (or SIP INFO) is regenerated on the next frame.
    assert!(b.send_digit(Digit::D7, at(t0, 4)));
    let p = packet(8, 2, 5000, CALLER_SSRC, false, &audio(Codec::Pcma, 100));
    b.handle_packet(Side::Caller, &p, at(t0, 5));
    let out = sent(&mut b);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].1.payload_type, 96);
    assert_eq!(TelephoneEvent::parse(&out[0].2).unwrap().event, 7);
}

#[test]
fn a_passed_key_expires_so_a_later_press_is_not_swallowed() {
    let t0 = crate::media::t0();
    let mut b = bridge(t0, Some(96));
    let p = packet(101, 1, 4000, CALLER_SSRC, true, &event(5, true, 800));
    b.handle_packet(Side::Caller, &p, t0);
    let _ = sent(&mut b);
    // Three seconds later the engine asks for a '5' (a SIP INFO press): regenerated.
    assert!(b.send_digit(Digit::D5, at(t0, 150)));
}

#[test]
fn on_hold_the_agent_is_recorded_but_not_relayed_and_resume_continues_the_stream() {
    let t0 = crate::media::t0();
    let mut b = bridge(t0, None);
    let agent_says = |b: &mut Bridge, seq: u16| {
        let p = packet(
            0,
            seq,
            u32::from(seq) * 160,
            AGENT_SSRC,
            false,
            &audio(Codec::Pcmu, 900),
        );
        b.handle_packet(Side::Agent, &p, at(t0, u64::from(seq)));
    };
    agent_says(&mut b, 0);
    let first = sent(&mut b);
    assert_eq!(first[0].1.sequence, 100);
    let sender = b.detach_caller().expect("the caller's sender");
    assert!(!b.caller_attached());
    assert!(b.detach_caller().is_none(), "already on hold");
    for seq in 1..4 {
        agent_says(&mut b, seq);
    }
    assert!(
        sent(&mut b).is_empty(),
        "the pacer plays hold music to the caller"
    );
    // The pacer sent hold music with the sender meanwhile; it comes back as it is.
    b.attach_caller(sender);
    agent_says(&mut b, 4);
    let out = sent(&mut b);
    assert_eq!(
        (out[0].0, out[0].1.ssrc, out[0].1.sequence),
        (Side::Caller, TO_CALLER, 101)
    );
    b.flush();
    let right: Vec<i16> = blocks(&mut b).iter().map(|x| x[1]).collect();
    assert_eq!(
        right.iter().filter(|v| **v != 0).count(),
        5,
        "held audio is recorded"
    );
}

#[test]
fn between_two_agents_the_caller_is_still_recorded() {
    let t0 = crate::media::t0();
    let mut b = bridge(t0, None);
    b.detach_agent();
    let caller_says = |b: &mut Bridge, seq: u16| {
        let p = packet(
            8,
            seq,
            u32::from(seq) * 160,
            CALLER_SSRC,
            false,
            &audio(Codec::Pcma, 600),
        );
        b.handle_packet(Side::Caller, &p, at(t0, u64::from(seq)));
    };
    caller_says(&mut b, 0);
    assert!(sent(&mut b).is_empty());
    // An agent packet arriving late on the closed leg is ignored.
    let p = packet(0, 1, 1, AGENT_SSRC, false, &audio(Codec::Pcmu, 1));
    b.handle_packet(Side::Agent, &p, t0);
    let next = LegMedia {
        codec: Codec::Pcma,
        telephone_event: None,
    };
    b.attach_agent(
        next,
        RtpSender::with_initial(Codec::Pcma, None, 0xB0B, 1, 1),
    );
    caller_says(&mut b, 1);
    let out = sent(&mut b);
    assert_eq!(
        (out[0].0, out[0].1.ssrc, out[0].1.payload_type),
        (Side::Agent, 0xB0B, 8)
    );
    b.flush();
    let left: Vec<i16> = blocks(&mut b).iter().map(|x| x[0]).collect();
    assert_eq!(left.iter().filter(|v| **v != 0).count(), 2);
}

#[test]
fn a_key_press_is_not_counted_as_lost_audio() {
    let t0 = crate::media::t0();
    let mut b = bridge(t0, Some(96));
    let mut seq = 0u16;
    let mut slot = 0u64;
    let mut step = |b: &mut Bridge, pt: u8, ts: u32, payload: &[u8]| {
        let now = at(t0, slot);
        b.handle_timeout(now);
        b.handle_packet(
            Side::Caller,
            &packet(pt, seq, ts, CALLER_SSRC, false, payload),
            now,
        );
        seq += 1;
        slot += 1;
    };
    for i in 0..5u32 {
        step(&mut b, 8, i * 160, &audio(Codec::Pcma, 500));
    }
    for d in [160u16, 320, 480, 480, 480] {
        step(&mut b, 101, 5 * 160, &event(1, d == 480, d));
    }
    for i in 0..5u32 {
        step(&mut b, 8, (10 + i) * 160, &audio(Codec::Pcma, 500));
    }
    b.flush();
    let _ = blocks(&mut b);
    assert_eq!(b.recorder_stats().filled, 0);
}

#[test]
fn a_gap_in_one_side_moves_the_other_sides_stream_on_by_as_much() {
    let t0 = crate::media::t0();
    let mut b = bridge(t0, Some(96));
    let frame = audio(Codec::Pcma, 500);
    let caller = |seq: u16, ts: u32, marker: bool| packet(8, seq, ts, CALLER_SSRC, marker, &frame);
    b.handle_packet(Side::Caller, &caller(1, 8000, false), at(t0, 0));
    b.handle_packet(Side::Caller, &caller(2, 8160, false), at(t0, 1));
    // Packets 3 and 4 are lost.
    b.handle_packet(Side::Caller, &caller(5, 8640, false), at(t0, 4));
    // Silence suppressed for 1 s, then a new talkspurt (marker, next sequence number).
    b.handle_packet(
        Side::Caller,
        &caller(6, 8640 + 160 + 8000, true),
        at(t0, 55),
    );
    let out = sent(&mut b);
    let stamps: Vec<(u16, u32, bool)> = out
        .iter()
        .map(|(_, h, _)| (h.sequence, h.timestamp, h.marker))
        .collect();
    assert_eq!(
        stamps,
        vec![
            (200, 90_000, true),
            (201, 90_160, false),
            // Two frames of time skipped, sequence continuous, a new talkspurt.
            (202, 90_640, true),
            // 50 frames of suppressed silence.
            (203, 90_800 + 8000, true),
        ]
    );
    // An implausible jump (a phone that restarted its clock) is not relayed as a gap.
    b.handle_packet(Side::Caller, &caller(7, 4_000_000_000, true), at(t0, 56));
    let (_, h, _) = &sent(&mut b)[0];
    assert_eq!(h.timestamp, 90_800 + 8000 + 160);
}
