//! The mixer's streams as the network delivers them, with the fake clock of `tests`:
//! duplicated, reordered, foreign and late packets, pauses and the prime that absorbs them,
//! silence suppression, 30 ms packets, and a timer that stalls.

use super::tests::*;
use super::*;

/// One party (PCMU) streaming to a second that hears it.
fn duo() -> Conf {
    let mut c = Conf::new();
    c.join(0, Codec::Pcmu, 400.0, None);
    c.join(1, Codec::Pcmu, 600.0, None);
    c.m.set_matrix(&all_hear_all(&[0, 1]));
    c
}

fn send(c: &mut Conf, seq: u16, marker: bool) {
    let p = packet(
        0,
        seq,
        u32::from(seq) * 160,
        9,
        marker,
        &level(Codec::Pcmu, 1000),
    );
    let now = c.now();
    c.m.handle_packet(PartyId(0), &p, now);
}

fn tick(c: &mut Conf) {
    let now = c.now();
    c.m.handle_timeout(now);
    c.drain();
    c.k += 1;
}

#[test]
fn duplicated_reordered_and_foreign_packets_are_counted_not_mixed() {
    let mut c = duo();
    for seq in 0..5 {
        send(&mut c, seq, false);
        tick(&mut c);
    }
    send(&mut c, 4, false); // a duplicate
    send(&mut c, 6, false);
    send(&mut c, 5, false); // reordered past 6
    let now = c.now();
    c.m.handle_packet(PartyId(0), b"not rtp at all", now);
    c.m.handle_packet(PartyId(0), &packet(13, 7, 0, 9, false, &[0; 1]), now); // CN
    c.m.handle_packet(PartyId(0), &packet(0, 8, 0, 9, false, &[0xFF; 1000]), now);
    let st = c.m.stats();
    assert_eq!((st.stale, st.ignored, st.frames_in), (2, 3, 6));
    assert_eq!(c.m.party_stats(PartyId(0)).unwrap().frames_in, 6);
}

#[test]
fn a_late_packet_is_an_underrun_and_a_burst_past_the_cap_drops_the_oldest() {
    let mut c = duo();
    for seq in 0..10 {
        send(&mut c, seq, false);
        tick(&mut c);
    }
    // Packets 10 and 11 come late, together with 12, no marker: the stream went on.
    tick(&mut c);
    tick(&mut c);
    for seq in 10..13 {
        send(&mut c, seq, false);
    }
    tick(&mut c);
    assert_eq!(c.m.stats().underruns, 1);
    assert_eq!(c.m.party_stats(PartyId(0)).unwrap().underruns, 1);
    // A burst of 15 at once: the queue keeps the newest 10.
    let queued = c.m.party_stats(PartyId(0)).unwrap().queued;
    for seq in 13..28 {
        send(&mut c, seq, false);
    }
    let ps = c.m.party_stats(PartyId(0)).unwrap();
    assert_eq!(ps.queued, MAX_FRAMES);
    assert_eq!(ps.dropped_overflow as usize, queued + 15 - MAX_FRAMES);
    assert_eq!(c.m.stats().dropped_overflow, ps.dropped_overflow);
}

/// A stream that pauses for two ticks and then catches up (a sender stalled 40 ms beyond its
/// 20 ms spacing): underruns for the default prime, absorbed by a prime one frame deeper.
fn underruns_after_a_pause(prime: Option<usize>) -> u64 {
    let mut c = duo();
    if let Some(p) = prime {
        c.m.set_prime(p);
    }
    for seq in 0..10 {
        send(&mut c, seq, false);
        tick(&mut c);
    }
    tick(&mut c);
    tick(&mut c);
    for seq in 10..13 {
        send(&mut c, seq, false);
    }
    for seq in 13..20 {
        tick(&mut c);
        send(&mut c, seq, false);
    }
    c.m.stats().underruns
}

#[test]
fn a_deeper_prime_absorbs_a_pause_the_default_prime_underruns_on() {
    assert_eq!(underruns_after_a_pause(None), 1);
    assert_eq!(underruns_after_a_pause(Some(PRIME_FRAMES)), 1);
    assert_eq!(underruns_after_a_pause(Some(PRIME_FRAMES + 1)), 0);
    // 0 is clamped to a prime of one frame (never a queue that plays nothing queued): both
    // empty ticks are lost.
    assert_eq!(underruns_after_a_pause(Some(0)), 2);
}

#[test]
fn silence_suppression_and_key_presses_reprime_without_counting_underruns() {
    let mut c = duo();
    for seq in 0..10 {
        send(&mut c, seq, false);
        tick(&mut c);
    }
    // A pause the phone ends with a marker (DTX): no underrun.
    for _ in 0..5 {
        tick(&mut c);
    }
    send(&mut c, 10, true);
    tick(&mut c);
    send(&mut c, 11, false);
    tick(&mut c);
    // A pause longer than REPRIME_AFTER without a marker: silence, not loss.
    for _ in 0..REPRIME_AFTER + 3 {
        tick(&mut c);
    }
    send(&mut c, 12, false);
    tick(&mut c);
    assert_eq!(c.m.stats().underruns, 0);
    // The other party got a frame every tick regardless.
    assert_eq!(c.got[&PartyId(1)].len() as u64, c.k);
}

#[test]
fn thirty_ms_packets_are_cut_into_20_ms_frames() {
    let mut c = duo();
    // 30 ms packets (240 samples): two in every three 20 ms ticks.
    let mut phone = Phone {
        codec: Codec::Pcmu,
        seq: 1,
        ts: 0,
        freq: 400.0,
        amp: A,
        n: 0,
    };
    let mut sent = 0;
    for k in 0..90u64 {
        if k % 3 != 1 {
            let a = phone.next(0);
            let b = phone.next(0);
            // One and a half 20 ms frames of the tone make a 30 ms payload.
            let (pa, pb) = (RtpPacket::parse(&a).unwrap(), RtpPacket::parse(&b).unwrap());
            let mut payload = pa.payload.to_vec();
            payload.extend_from_slice(&pb.payload[..80]);
            phone.n -= 80; // the next packet starts where this one ended
            let p = packet(0, sent, sent as u32 * 240, 9, false, &payload);
            sent += 1;
            let now = c.now();
            c.m.handle_packet(PartyId(0), &p, now);
        }
        tick(&mut c);
    }
    let st = c.m.stats();
    assert_eq!(st.frames_in, u64::from(sent) * 3 / 2);
    assert_eq!(st.underruns, 0);
    hears(&c, 1, &[400.0], &[600.0]);
}

#[test]
fn a_stalled_timer_catches_up_a_few_ticks_and_skips_the_rest_keeping_media_time() {
    let mut c = duo();
    c.run(10, &[]);
    let last = c.got[&PartyId(1)].last().unwrap().0;
    // The task stalls for 1 s: 50 ticks are due at once.
    c.k += 49;
    c.run(1, &[]);
    let st = c.m.stats();
    assert_eq!(st.skipped_ticks, 50 - MAX_CATCH_UP);
    let got = &c.got[&PartyId(1)];
    assert_eq!(got.len(), 10 + MAX_CATCH_UP as usize);
    let first = got[10].0;
    assert_eq!(
        first.sequence,
        last.sequence.wrapping_add(1),
        "no sequence jump"
    );
    assert_eq!(
        first.timestamp.wrapping_sub(last.timestamp),
        (50 - MAX_CATCH_UP as u32 + 1) * 160,
        "media time moved on over the skipped ticks"
    );
}

#[test]
fn the_queue_limit_is_configurable_within_bounds() {
    let mut c = duo();
    c.m.set_max_queue(4);
    for seq in 0..9 {
        send(&mut c, seq, false);
    }
    assert_eq!(c.m.party_stats(PartyId(0)).unwrap().queued, 4);
    assert_eq!(c.m.stats().dropped_overflow, 5);
    // Lowering it drops (and counts) what is beyond; out-of-range values are clamped.
    c.m.set_max_queue(0);
    assert_eq!(c.m.party_stats(PartyId(0)).unwrap().queued, PRIME_FRAMES);
    assert_eq!(c.m.stats().dropped_overflow, 7);
}
