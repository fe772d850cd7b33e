//! One outgoing RTP stream: SSRC, sequence numbers and timestamps, talkspurt markers, and
//! RFC 4733 events. Media time comes from frame counts only — the pacer calls [`RtpSender::frame`]
//! once per 20 ms slot — so a late timer never shows up as timestamp jitter.

use rand::Rng;

use super::packet::RtpHeader;
use crate::media::codec::{Codec, FRAME_SAMPLES};
use crate::media::dtmf::{Digit, TelephoneEvent};

/// RTP timestamp units per 20 ms frame at 8 kHz.
pub const TIMESTAMP_STEP: u32 = FRAME_SAMPLES as u32;

/// How many times the end packet of an event is sent (RFC 4733 §2.5.1.4).
const END_REPEATS: u8 = 3;

/// An RFC 4733 event being sent, replacing audio in the frame slots it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct OutEvent {
    code: u8,
    volume: u8,
    /// The RTP timestamp of the event's first slot; every packet of the event carries it.
    timestamp: u32,
    /// Frame slot (in this sender's count) where the event started.
    start_frame: u64,
    /// Length of the tone in frames.
    frames: u16,
    /// End packets sent so far.
    ends_sent: u8,
}

/// An RFC 4733 event received on another leg and passed through on this stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RelayedEvent {
    /// The event's RTP timestamp on the leg it came from (the key of all its packets).
    source_timestamp: u32,
    /// The timestamp it carries on this stream.
    timestamp: u32,
    /// Frame slot (in this sender's count) where it started here.
    start_frame: u64,
}

/// The per-stream RTP state of one outgoing stream.
#[derive(Debug, Clone)]
pub struct RtpSender {
    codec: Codec,
    event_payload_type: Option<u8>,
    ssrc: u32,
    sequence: u16,
    initial_timestamp: u32,
    /// Frame slots elapsed since the stream began (sent or not).
    frame: u64,
    /// Set at start and after any slot without a packet: the next audio packet gets the marker.
    talkspurt_start: bool,
    event: Option<OutEvent>,
    relayed: Option<RelayedEvent>,
}

impl RtpSender {
    /// A new stream with a random SSRC, initial sequence number and timestamp (RFC 3550 §5.1:
    /// random starts make known-plaintext attacks and stream confusion harder).
    /// `event_payload_type` is the negotiated telephone-event type (e.g. 101), if any.
    pub fn new<R: Rng + ?Sized>(codec: Codec, event_payload_type: Option<u8>, rng: &mut R) -> Self {
        Self::with_initial(codec, event_payload_type, rng.gen(), rng.gen(), rng.gen())
    }

    /// A stream with chosen initial values (tests, or resuming an SSRC after a re-INVITE).
    pub fn with_initial(
        codec: Codec,
        event_payload_type: Option<u8>,
        ssrc: u32,
        sequence: u16,
        timestamp: u32,
    ) -> Self {
        RtpSender {
            codec,
            event_payload_type,
            ssrc,
            sequence,
            initial_timestamp: timestamp,
            frame: 0,
            talkspurt_start: true,
            event: None,
            relayed: None,
        }
    }

    /// This stream's SSRC (for RTCP and logs).
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// The codec the payloads are in.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// The sequence number the next packet will carry.
    pub fn next_sequence(&self) -> u16 {
        self.sequence
    }

    /// The RTP timestamp of the next frame slot.
    pub fn next_timestamp(&self) -> u32 {
        self.timestamp_of(self.frame)
    }

    /// Frame slots elapsed (sent or not).
    pub fn frames_elapsed(&self) -> u64 {
        self.frame
    }

    fn timestamp_of(&self, frame: u64) -> u32 {
        // Wraps every ~6 days at 8 kHz, which RTP timestamps are defined to do.
        self.initial_timestamp
            .wrapping_add((frame as u32).wrapping_mul(TIMESTAMP_STEP))
    }

    /// Starts sending `digit` as RFC 4733 events for `frames` × 20 ms (at least 1) from the
    /// next slot on. Returns `false` (and does nothing) when no telephone-event type was
    /// negotiated or another event is still being sent.
    pub fn start_event(&mut self, digit: Digit, frames: u16, volume: u8) -> bool {
        if self.event_payload_type.is_none() || self.event.is_some() {
            return false;
        }
        self.event = Some(OutEvent {
            code: digit.event_code(),
            volume: volume.min(63),
            timestamp: self.timestamp_of(self.frame),
            start_frame: self.frame,
            frames: frames.max(1),
            ends_sent: 0,
        });
        true
    }

    /// Whether an event is still being sent (its slots carry no audio).
    pub fn sending_event(&self) -> bool {
        self.event.is_some()
    }

    /// One 20 ms slot. Appends the packet for it to `out` and returns `true`, or returns
    /// `false` when nothing is to be sent (`payload` is `None`: the source is silent).
    /// An event in progress takes the slot instead of the audio.
    pub fn frame(&mut self, payload: Option<&[u8]>, out: &mut Vec<u8>) -> bool {
        let sent = if let Some(ev) = self.event {
            self.event_packet(ev, out);
            true
        } else if let Some(p) = payload {
            let header = RtpHeader {
                marker: self.talkspurt_start,
                payload_type: self.codec.payload_type(),
                sequence: self.sequence,
                timestamp: self.timestamp_of(self.frame),
                ssrc: self.ssrc,
            };
            header.append_packet(p, out);
            self.sequence = self.sequence.wrapping_add(1);
            self.talkspurt_start = false;
            true
        } else {
            self.talkspurt_start = true;
            false
        };
        self.frame += 1;
        sent
    }

    /// Slots that passed without packets (the pacer fell hopelessly behind): the timestamp
    /// moves on, the sequence does not, and the next packet starts a new talkspurt.
    pub fn skip(&mut self, frames: u64) {
        if frames > 0 {
            self.frame += frames;
            self.talkspurt_start = true;
        }
    }

    /// Passes through one RFC 4733 packet received on another leg (`source_timestamp` is the
    /// RTP timestamp it carried there, the same for every packet of one key press), re-stamped
    /// on this stream: this SSRC and sequence, this stream's telephone-event payload type, and
    /// a timestamp on this stream's media clock, so the far phone sees one continuous stream.
    /// The event's slots count as elapsed media time (audio after it continues after it).
    /// Returns `false` (and appends nothing) when this stream negotiated no telephone-event
    /// or the payload is not an event.
    pub fn relay_event(
        &mut self,
        source_timestamp: u32,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> bool {
        self.relay(source_timestamp, payload, out, true)
    }

    /// [`RtpSender::relay_event`] for a stream paced by its own timer (the conference mixer
    /// calls [`RtpSender::frame`] every 20 ms whatever arrives): the event's slots are not
    /// added to media time, which the timer already moves on.
    pub fn relay_event_paced(
        &mut self,
        source_timestamp: u32,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> bool {
        self.relay(source_timestamp, payload, out, false)
    }

    fn relay(
        &mut self,
        source_timestamp: u32,
        payload: &[u8],
        out: &mut Vec<u8>,
        advance: bool,
    ) -> bool {
        let Some(pt) = self.event_payload_type else {
            return false;
        };
        let Ok(ev) = TelephoneEvent::parse(payload) else {
            return false;
        };
        let (relayed, first) = match self.relayed {
            Some(r) if r.source_timestamp == source_timestamp => (r, false),
            _ => {
                let r = RelayedEvent {
                    source_timestamp,
                    timestamp: self.timestamp_of(self.frame),
                    start_frame: self.frame,
                };
                self.relayed = Some(r);
                (r, true)
            }
        };
        RtpHeader {
            marker: first,
            payload_type: pt,
            sequence: self.sequence,
            timestamp: relayed.timestamp,
            ssrc: self.ssrc,
        }
        .append_packet(payload, out);
        self.sequence = self.sequence.wrapping_add(1);
        if advance {
            let covered = u64::from(ev.duration).div_ceil(u64::from(TIMESTAMP_STEP));
            self.frame = self.frame.max(relayed.start_frame + covered);
        }
        self.talkspurt_start = true;
        true
    }

    fn event_packet(&mut self, ev: OutEvent, out: &mut Vec<u8>) {
        let Some(pt) = self.event_payload_type else {
            self.event = None;
            return;
        };
        let elapsed = (self.frame - ev.start_frame + 1).min(u64::from(ev.frames));
        let end = elapsed >= u64::from(ev.frames);
        let duration = (elapsed as u32 * TIMESTAMP_STEP).min(u32::from(u16::MAX)) as u16;
        let header = RtpHeader {
            marker: self.frame == ev.start_frame,
            payload_type: pt,
            sequence: self.sequence,
            timestamp: ev.timestamp,
            ssrc: self.ssrc,
        };
        let payload = TelephoneEvent {
            event: ev.code,
            end,
            volume: ev.volume,
            duration,
        }
        .to_bytes();
        header.append_packet(&payload, out);
        self.sequence = self.sequence.wrapping_add(1);
        self.event = if end && ev.ends_sent + 1 >= END_REPEATS {
            None
        } else {
            Some(OutEvent {
                ends_sent: ev.ends_sent + u8::from(end),
                ..ev
            })
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::rtp::RtpPacket;

    fn sender() -> RtpSender {
        RtpSender::with_initial(Codec::Pcma, Some(101), 0xABCD, 65534, u32::MAX - 200)
    }

    fn send(s: &mut RtpSender, payload: Option<&[u8]>) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        s.frame(payload, &mut out).then_some(out)
    }

    #[test]
    fn random_initial_values_differ_between_streams() {
        let mut rng = rand::thread_rng();
        let a = RtpSender::new(Codec::Pcmu, None, &mut rng);
        let b = RtpSender::new(Codec::Pcmu, None, &mut rng);
        assert_ne!(
            (a.ssrc(), a.next_sequence(), a.next_timestamp()),
            (b.ssrc(), b.next_sequence(), b.next_timestamp())
        );
    }

    #[test]
    fn sequence_and_timestamp_advance_per_frame_and_wrap() {
        let mut s = sender();
        let frame = [0xD5u8; 160];
        let mut seen = Vec::new();
        for _ in 0..4 {
            let bytes = send(&mut s, Some(&frame)).unwrap();
            let p = RtpPacket::parse(&bytes).unwrap();
            assert_eq!(p.header.payload_type, 8);
            assert_eq!(p.header.ssrc, 0xABCD);
            assert_eq!(p.payload.len(), 160);
            seen.push((p.header.sequence, p.header.timestamp, p.header.marker));
        }
        let t = u32::MAX - 200;
        assert_eq!(
            seen,
            vec![
                (65534, t, true),
                (65535, t.wrapping_add(160), false),
                (0, t.wrapping_add(320), false),
                (1, t.wrapping_add(480), false),
            ]
        );
    }

    #[test]
    fn silence_gap_keeps_timestamps_moving_and_marks_the_next_talkspurt() {
        let mut s = sender();
        let frame = [0xD5u8; 160];
        let first = send(&mut s, Some(&frame)).unwrap();
        assert!(send(&mut s, None).is_none());
        s.skip(3);
        let next = send(&mut s, Some(&frame)).unwrap();
        let (a, b) = (
            RtpPacket::parse(&first).unwrap().header,
            RtpPacket::parse(&next).unwrap().header,
        );
        assert_eq!(b.sequence, a.sequence.wrapping_add(1), "no packet, no seq");
        assert_eq!(b.timestamp, a.timestamp.wrapping_add(5 * 160));
        assert!(b.marker);
    }

    #[test]
    fn rfc4733_event_train_has_one_timestamp_and_three_end_packets() {
        let mut s = sender();
        let audio = [0xD5u8; 160];
        send(&mut s, Some(&audio)).unwrap();
        let event_ts = s.next_timestamp();
        assert!(s.start_event(Digit::D7, 5, 10));
        assert!(!s.start_event(Digit::D1, 5, 10), "one event at a time");
        let mut events = Vec::new();
        while s.sending_event() {
            let bytes = send(&mut s, Some(&audio)).unwrap();
            let p = RtpPacket::parse(&bytes).unwrap();
            assert_eq!(p.header.payload_type, 101);
            assert_eq!(p.header.timestamp, event_ts);
            let e = TelephoneEvent::parse(p.payload).unwrap();
            events.push((p.header.marker, e.event, e.end, e.duration));
        }
        assert_eq!(
            events,
            vec![
                (true, 7, false, 160),
                (false, 7, false, 320),
                (false, 7, false, 480),
                (false, 7, false, 640),
                (false, 7, true, 800),
                (false, 7, true, 800),
                (false, 7, true, 800),
            ]
        );
        // Audio resumes with a timestamp that kept counting through the event.
        let p = send(&mut s, Some(&audio)).unwrap();
        let h = RtpPacket::parse(&p).unwrap().header;
        assert_eq!(h.payload_type, 8);
        assert_eq!(h.timestamp, event_ts.wrapping_add(7 * 160));
    }

    #[test]
    fn a_relayed_event_is_restamped_and_audio_goes_on_after_it() {
        let mut s = sender();
        let audio = [0xD5u8; 160];
        send(&mut s, Some(&audio)).unwrap();
        let start = s.next_timestamp();
        let mut seen = Vec::new();
        // The other leg's packets: event 5 at its timestamp 7777, durations 160..480, end x3.
        for (d, end) in [
            (160u16, false),
            (320, false),
            (480, true),
            (480, true),
            (480, true),
        ] {
            let ev = TelephoneEvent {
                event: 5,
                end,
                volume: 10,
                duration: d,
            };
            let mut out = Vec::new();
            assert!(s.relay_event(7777, &ev.to_bytes(), &mut out));
            let p = RtpPacket::parse(&out).unwrap();
            assert_eq!(TelephoneEvent::parse(p.payload).unwrap(), ev);
            seen.push((
                p.header.payload_type,
                p.header.timestamp,
                p.header.marker,
                p.header.ssrc,
            ));
            seen.dedup();
        }
        assert_eq!(
            seen,
            vec![(101, start, true, 0xABCD), (101, start, false, 0xABCD)]
        );
        let h = RtpPacket::parse(&send(&mut s, Some(&audio)).unwrap())
            .unwrap()
            .header;
        assert_eq!(
            h.timestamp,
            start.wrapping_add(3 * 160),
            "after the 60 ms event"
        );
        assert_eq!(h.sequence, 65534u16.wrapping_add(6));
        // A stream without telephone-event relays nothing.
        let mut plain = RtpSender::with_initial(Codec::Pcmu, None, 1, 1, 1);
        let mut out = Vec::new();
        assert!(!plain.relay_event(1, &[5, 0, 0, 160], &mut out));
        assert!(out.is_empty());
    }

    #[test]
    fn no_events_without_a_negotiated_payload_type() {
        let mut s = RtpSender::with_initial(Codec::Pcmu, None, 1, 1, 1);
        assert!(!s.start_event(Digit::D1, 5, 10));
    }
}
