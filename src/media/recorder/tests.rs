//! The recorder with a fake clock: slot `k` of the test is `t0 + k·20 ms (+1 ms)`.

use super::*;

/// A frame whose every sample is `v` (so a block shows which frame filled it).
fn frame(v: i16) -> [i16; FRAME_SAMPLES] {
    [v; FRAME_SAMPLES]
}

fn at(t0: Instant, slot: u64) -> Instant {
    t0 + SLOT * slot as u32 + Duration::from_millis(1)
}

fn drain(r: &mut StereoRecorder) -> Vec<[i16; BLOCK_SAMPLES]> {
    std::iter::from_fn(|| r.poll_block()).collect()
}

/// The caller's (left) value of each block.
fn left(blocks: &[[i16; BLOCK_SAMPLES]]) -> Vec<i16> {
    blocks.iter().map(|b| b[0]).collect()
}

/// The agent's (right) value of each block.
fn right(blocks: &[[i16; BLOCK_SAMPLES]]) -> Vec<i16> {
    blocks.iter().map(|b| b[1]).collect()
}

/// Feeds `side` one frame per slot from slot 0, frame `i` valued `i + 1` with RTP timestamp
/// `base + 160·i`, skipping the indices in `lost`; runs the timer at every slot.
fn stream(r: &mut StereoRecorder, t0: Instant, side: Side, base: u32, n: u16, lost: &[u16]) {
    let mut follows = false;
    for i in 0..n {
        let now = at(t0, u64::from(i));
        r.handle_timeout(now);
        if lost.contains(&i) {
            follows = false;
            continue;
        }
        let ts = base.wrapping_add(u32::from(i) * 160);
        r.handle_frame(side, ts, follows, &frame(i as i16 + 1), now);
        follows = true;
    }
}

#[test]
fn a_lost_packet_is_exactly_one_silent_slot_and_the_channel_does_not_shift() {
    let t0 = crate::media::t0();
    let mut r = StereoRecorder::new(t0);
    // The RTP timestamps wrap during the stream: placement must not care.
    stream(&mut r, t0, Side::Caller, u32::MAX - 480, 10, &[4]);
    r.flush();
    let blocks = drain(&mut r);
    let l = left(&blocks);
    assert_eq!(
        l[..PRIME as usize],
        [0; PRIME as usize],
        "500 ms playout delay"
    );
    assert_eq!(&l[PRIME as usize..], &[1, 2, 3, 4, 0, 6, 7, 8, 9, 10]);
    assert_eq!(right(&blocks), vec![0; blocks.len()]);
    assert_eq!(
        r.stats(),
        RecorderStats {
            written: blocks.len() as u64,
            filled: 1,
            dropped: 0
        }
    );
}

#[test]
fn a_reordered_packet_lands_in_its_own_slot() {
    let t0 = crate::media::t0();
    let mut r = StereoRecorder::new(t0);
    // Frames 0, 1, 3, 2, 4: 3 jumps ahead (timestamp decides), 2 comes late but in time.
    let order = [(0u32, false), (1, true), (3, false), (2, false), (4, true)];
    for (slot, (i, follows)) in order.into_iter().enumerate() {
        let now = at(t0, slot as u64);
        r.handle_timeout(now);
        r.handle_frame(
            Side::Agent,
            1000 + i * 160,
            follows,
            &frame(i as i16 + 1),
            now,
        );
    }
    // A duplicate of frame 1 changes nothing.
    r.handle_frame(Side::Agent, 1160, false, &frame(99), at(t0, 5));
    r.flush();
    let blocks = drain(&mut r);
    assert_eq!(&right(&blocks)[PRIME as usize..], &[1, 2, 3, 4, 5]);
    assert_eq!(r.stats().filled, 0);
}

#[test]
fn frames_that_follow_take_the_next_slot_whatever_their_timestamp() {
    let t0 = crate::media::t0();
    let mut r = StereoRecorder::new(t0);
    // A phone whose timestamps step by 240 per 20 ms frame (a broken clock): in sequence,
    // the frames still play back to back.
    for i in 0..5u32 {
        let now = at(t0, u64::from(i));
        r.handle_timeout(now);
        r.handle_frame(Side::Caller, i * 240, i > 0, &frame(i as i16 + 1), now);
    }
    r.flush();
    assert_eq!(&left(&drain(&mut r))[PRIME as usize..], &[1, 2, 3, 4, 5]);
}

#[test]
fn silence_before_and_after_a_side_speaks_is_not_counted_as_filled() {
    let t0 = crate::media::t0();
    let mut r = StereoRecorder::new(t0);
    // Nothing for 10 slots, then the agent speaks for 10 and stops; the timer goes on.
    for i in 0..=60u64 {
        let now = at(t0, i);
        r.handle_timeout(now);
        if (10..20).contains(&i) {
            r.handle_frame(Side::Agent, i as u32 * 160, i > 10, &frame(7), now);
        }
    }
    let blocks = drain(&mut r);
    assert_eq!(blocks.len(), 60);
    let rr = right(&blocks);
    assert_eq!(rr.iter().filter(|v| **v == 7).count(), 10);
    assert_eq!(rr[10 + PRIME as usize], 7);
    assert_eq!(
        r.stats(),
        RecorderStats {
            written: 60,
            filled: 0,
            dropped: 0
        }
    );
}

#[test]
fn a_side_running_ahead_drops_frames_and_hangup_flushes_the_rest() {
    let t0 = crate::media::t0();
    let mut r = StereoRecorder::new(t0);
    // A burst of 130 frames with no slot in between: the first takes slot PRIME, and the
    // side may run at most MAX_QUEUED slots ahead of now.
    for i in 0..130u32 {
        r.handle_frame(Side::Agent, i * 160, i > 0, &frame(1), t0);
    }
    let kept = MAX_QUEUED - PRIME;
    assert_eq!(r.stats().dropped, 130 - kept);
    assert_eq!(r.poll_block(), None, "nothing is due yet");
    r.flush();
    let blocks = drain(&mut r);
    assert_eq!(blocks.len() as u64, MAX_QUEUED);
    assert_eq!(
        right(&blocks).iter().filter(|v| **v == 1).count() as u64,
        kept
    );
    assert_eq!(r.stats().written, MAX_QUEUED);
    // Time goes on after the flush: slots are written from where the flush stopped.
    r.handle_timeout(at(t0, MAX_QUEUED + 1));
    assert_eq!(drain(&mut r).len(), 1);
}

#[test]
fn hangup_flushes_both_channels_and_nothing_more() {
    let t0 = crate::media::t0();
    let mut r = StereoRecorder::new(t0);
    stream(&mut r, t0, Side::Caller, 0, 5, &[]);
    stream(&mut r, t0, Side::Agent, 0, 3, &[]);
    let before = drain(&mut r).len();
    r.flush();
    let blocks = drain(&mut r);
    assert_eq!(before + blocks.len(), PRIME as usize + 5);
    assert_eq!(&left(&blocks)[blocks.len() - 5..], &[1, 2, 3, 4, 5]);
    assert_eq!(&right(&blocks)[blocks.len() - 5..], &[1, 2, 3, 0, 0]);
    assert_eq!(r.stats().filled, 0);
    r.flush();
    assert_eq!(r.poll_block(), None, "a second flush has nothing left");
}

#[test]
fn a_late_timer_catches_up_and_a_stall_is_bounded() {
    let t0 = crate::media::t0();
    let mut r = StereoRecorder::new(t0);
    assert_eq!(r.poll_timeout(), Some(t0 + SLOT));
    r.handle_timeout(t0 + SLOT / 2);
    assert_eq!(r.poll_block(), None);
    // 200 ms late: ten slots at once.
    r.handle_timeout(t0 + SLOT * 10);
    assert_eq!(drain(&mut r).len(), 10);
    assert_eq!(r.poll_timeout(), Some(t0 + SLOT * 11));
    // A frame queued for slot 35, then a 20 s stall: only MAX_CATCH_UP slots are written,
    // and the frame was in a skipped slot.
    r.handle_frame(Side::Caller, 0, false, &frame(1), at(t0, 10));
    r.handle_timeout(t0 + SLOT * 1010);
    assert_eq!(drain(&mut r).len() as u64, MAX_CATCH_UP);
    assert_eq!(
        r.stats(),
        RecorderStats {
            written: 10 + MAX_CATCH_UP,
            filled: 0,
            dropped: 1
        }
    );
    assert_eq!(r.poll_timeout(), Some(t0 + SLOT * 1011));
}

#[test]
fn frames_delayed_past_their_slot_are_written_late_rather_than_lost() {
    let t0 = crate::media::t0();
    let mut r = StereoRecorder::new(t0);
    stream(&mut r, t0, Side::Caller, 0, 3, &[]);
    // The side stalls 1 s (longer than the playout delay), then its frames come in a burst.
    r.handle_timeout(at(t0, 53));
    for i in 3..8u32 {
        r.handle_frame(
            Side::Caller,
            i * 160,
            true,
            &frame(i as i16 + 1),
            at(t0, 53),
        );
    }
    r.flush();
    let l = left(&drain(&mut r));
    assert_eq!(&l[PRIME as usize..PRIME as usize + 3], &[1, 2, 3]);
    assert_eq!(&l[53..], &[4, 5, 6, 7, 8]);
    assert_eq!(r.stats().dropped, 0);
    assert_eq!(r.stats().filled, 53 - (PRIME + 3));
}

#[test]
fn a_new_ssrc_with_an_unrelated_timestamp_is_placed_by_arrival() {
    let t0 = crate::media::t0();
    let mut r = StereoRecorder::new(t0);
    stream(&mut r, t0, Side::Caller, 0, 3, &[]);
    // 3 slots later a new stream starts at a random timestamp.
    let now = at(t0, 6);
    r.handle_timeout(now);
    r.handle_frame(Side::Caller, 0x8000_0000, false, &frame(9), now);
    r.flush();
    let l = left(&drain(&mut r));
    assert_eq!(l[6 + PRIME as usize], 9);
    assert_eq!(r.stats().filled, 3);
}

#[test]
fn a_marker_after_silence_suppression_places_the_talkspurt_by_its_timestamp() {
    let t0 = crate::media::t0();
    let mut r = StereoRecorder::new(t0);
    stream(&mut r, t0, Side::Caller, 0, 3, &[]);
    // 1 s of suppressed silence; the talkspurt arrives a little early (jitter).
    let now = at(t0, 50);
    r.handle_timeout(now);
    r.handle_frame(Side::Caller, 53 * 160, false, &frame(9), now);
    r.flush();
    let l = left(&drain(&mut r));
    assert_eq!(l[53 + PRIME as usize], 9);
}

#[test]
fn telephone_events_are_quiet_not_lost() {
    let t0 = crate::media::t0();
    let mut r = StereoRecorder::new(t0);
    let mut slot = 0u64;
    let mut tick = |r: &mut StereoRecorder| {
        let now = at(t0, slot);
        r.handle_timeout(now);
        slot += 1;
        now
    };
    for i in 0..5u32 {
        let now = tick(&mut r);
        r.handle_frame(Side::Caller, i * 160, i > 0, &frame(1), now);
    }
    // A 100 ms key press from slot 5: five growing packets, then the end three times.
    let ev_ts = 5 * 160;
    for d in [160u16, 320, 480, 640, 800, 800, 800, 800] {
        let now = tick(&mut r);
        r.handle_event(Side::Caller, ev_ts, d, now);
    }
    // Audio resumes after the end packets, its timestamp counting on from the event's.
    for i in 0..5u32 {
        let now = tick(&mut r);
        r.handle_frame(Side::Caller, (12 + i) * 160, i > 0, &frame(2), now);
    }
    r.flush();
    let l = left(&drain(&mut r));
    let p = PRIME as usize;
    assert_eq!(&l[p..p + 5], &[1; 5]);
    assert_eq!(&l[p + 5..p + 12], &[0; 7]);
    assert_eq!(&l[p + 12..p + 17], &[2; 5]);
    assert_eq!(r.stats().filled, 0, "the key press is not lost audio");
}

#[test]
fn a_side_that_only_sends_events_records_silence_without_loss() {
    let t0 = crate::media::t0();
    let mut r = StereoRecorder::new(t0);
    for (i, d) in [160u16, 320, 320, 320].into_iter().enumerate() {
        let now = at(t0, i as u64);
        r.handle_timeout(now);
        r.handle_event(Side::Agent, 4000, d, now);
    }
    // Audio follows the event; its timestamp is placed against the event's.
    let now = at(t0, 4);
    r.handle_timeout(now);
    r.handle_frame(Side::Agent, 4000 + 3 * 160, false, &frame(5), now);
    r.flush();
    let rr = right(&drain(&mut r));
    assert_eq!(rr.iter().filter(|v| **v == 5).count(), 1);
    assert_eq!(r.stats().filled, 0);
}

#[test]
fn after_new_stream_even_a_plausible_timestamp_is_placed_by_arrival() {
    let t0 = crate::media::t0();
    let mut r = StereoRecorder::new(t0);
    stream(&mut r, t0, Side::Agent, 0, 3, &[]);
    // The next agent's phone happens to start 40 slots on in RTP time, 5 slots later.
    r.new_stream(Side::Agent);
    let now = at(t0, 8);
    r.handle_timeout(now);
    r.handle_frame(Side::Agent, 40 * 160, false, &frame(9), now);
    r.flush();
    let rr = right(&drain(&mut r));
    assert_eq!(rr.len(), 8 + PRIME as usize + 1);
    assert_eq!(rr[8 + PRIME as usize], 9);
}
