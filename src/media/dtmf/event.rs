//! RFC 4733 telephone-event: the payload format and a receiver that turns the redundant packet
//! train of each key press into exactly one digit.
//!
//! A sender repeats every event in many packets with the same RTP timestamp (growing duration),
//! sends the end packet three times, and may lose any of them. So the receiver keys each press
//! by its RTP timestamp, reports it once when the end arrives (or when updates stop for
//! `end_timeout`, in case every end packet was lost), and remembers recent timestamps so late
//! retransmissions are not reported again.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::{DetectedDigit, Digit, DigitTime, DtmfError};

/// One RFC 4733 §2.3 event block: event code, end bit, volume (−dBm0), duration (samples).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code (0–15 are the DTMF keys).
    pub event: u8,
    /// E bit: this is (a copy of) the last packet of the event.
    pub end: bool,
    /// Power level as −dBm0, 0–63.
    pub volume: u8,
    /// Duration so far in RTP timestamp units (8 kHz samples).
    pub duration: u16,
}

/// Bytes in one event block.
pub const EVENT_LEN: usize = 4;

impl TelephoneEvent {
    /// Parses the first event block of a payload (we never stack several).
    pub fn parse(payload: &[u8]) -> Result<Self, DtmfError> {
        match payload {
            [event, flags, d0, d1, ..] => Ok(TelephoneEvent {
                event: *event,
                end: flags & 0x80 != 0,
                volume: flags & 0x3F,
                duration: u16::from_be_bytes([*d0, *d1]),
            }),
            _ => Err(DtmfError::ShortPayload { len: payload.len() }),
        }
    }

    /// The 4-byte payload.
    pub fn to_bytes(self) -> [u8; EVENT_LEN] {
        let d = self.duration.to_be_bytes();
        [
            self.event,
            (u8::from(self.end) << 7) | (self.volume & 0x3F),
            d[0],
            d[1],
        ]
    }
}

/// How many finished events are remembered to drop their retransmissions.
const REMEMBERED: usize = 8;

/// The receiver's state: waiting, or inside one event (keyed by its RTP timestamp).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RxState {
    Idle,
    InEvent {
        timestamp: u32,
        digit: Digit,
        duration: u16,
        last_update: Instant,
    },
}

/// Per-call RFC 4733 receiver: feed every telephone-event packet, drain `poll_digit`.
#[derive(Debug)]
pub struct EventReceiver {
    state: RxState,
    end_timeout: Duration,
    finished: VecDeque<u32>,
    out: VecDeque<DetectedDigit>,
}

impl Default for EventReceiver {
    fn default() -> Self {
        Self::new(Duration::from_millis(300))
    }
}

impl EventReceiver {
    /// `end_timeout`: how long without an update before an event whose end packets were all
    /// lost is reported anyway (senders update every 50 ms or faster, so 300 ms is generous).
    pub fn new(end_timeout: Duration) -> Self {
        EventReceiver {
            state: RxState::Idle,
            end_timeout,
            finished: VecDeque::with_capacity(REMEMBERED),
            out: VecDeque::new(),
        }
    }

    /// One received telephone-event packet: its RTP timestamp and payload.
    /// Non-key events (e.g. 16 flash, fax tones) are ignored; a short payload is an error.
    pub fn handle_packet(
        &mut self,
        rtp_timestamp: u32,
        payload: &[u8],
        now: Instant,
    ) -> Result<(), DtmfError> {
        let ev = TelephoneEvent::parse(payload)?;
        let Some(digit) = Digit::from_event(ev.event) else {
            return Ok(());
        };
        if self.finished.contains(&rtp_timestamp) {
            return Ok(()); // redundant end packet or late retransmission
        }
        if let RxState::InEvent { timestamp, .. } = self.state {
            if timestamp != rtp_timestamp {
                // A new press began before the old one ended: the old end packets were lost.
                self.finish();
            }
        }
        let duration = match self.state {
            RxState::InEvent { duration, .. } => duration.max(ev.duration),
            RxState::Idle => ev.duration,
        };
        self.state = RxState::InEvent {
            timestamp: rtp_timestamp,
            digit,
            duration,
            last_update: now,
        };
        if ev.end {
            self.finish();
        }
        Ok(())
    }

    /// Reports an event whose updates stopped without an end packet.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(deadline) = self.poll_timeout() {
            if now >= deadline {
                self.finish();
            }
        }
    }

    /// When an open event will be given up on.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            RxState::InEvent { last_update, .. } => Some(last_update + self.end_timeout),
            RxState::Idle => None,
        }
    }

    /// The next detected key press.
    #[must_use]
    pub fn poll_digit(&mut self) -> Option<DetectedDigit> {
        self.out.pop_front()
    }

    fn finish(&mut self) {
        if let RxState::InEvent {
            timestamp,
            digit,
            duration,
            ..
        } = self.state
        {
            self.out.push_back(DetectedDigit {
                digit,
                at: DigitTime::RtpTimestamp(timestamp),
                duration_samples: u32::from(duration),
            });
            if self.finished.len() == REMEMBERED {
                self.finished.pop_front();
            }
            self.finished.push_back(timestamp);
        }
        self.state = RxState::Idle;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(event: u8, end: bool, duration: u16) -> [u8; 4] {
        TelephoneEvent {
            event,
            end,
            volume: 10,
            duration,
        }
        .to_bytes()
    }

    fn drain(rx: &mut EventReceiver) -> Vec<(char, DigitTime, u32)> {
        std::iter::from_fn(|| rx.poll_digit())
            .map(|d| (d.digit.as_char(), d.at, d.duration_samples))
            .collect()
    }

    #[test]
    fn payload_round_trips() {
        let e = TelephoneEvent {
            event: 11,
            end: true,
            volume: 7,
            duration: 800,
        };
        assert_eq!(e.to_bytes(), [11, 0x87, 0x03, 0x20]);
        assert_eq!(TelephoneEvent::parse(&e.to_bytes()), Ok(e));
        assert_eq!(
            TelephoneEvent::parse(&[1, 2, 3]),
            Err(DtmfError::ShortPayload { len: 3 })
        );
    }

    #[test]
    fn one_digit_per_event_with_redundant_end_packets() {
        let t0 = crate::media::t0();
        let mut rx = EventReceiver::default();
        let ms = |n| t0 + Duration::from_millis(n);
        for (i, d) in [160u16, 320, 480, 640].iter().enumerate() {
            rx.handle_packet(8000, &pkt(5, false, *d), ms(20 * i as u64))
                .unwrap();
        }
        assert!(drain(&mut rx).is_empty(), "reported only once it ends");
        for i in 0..3 {
            rx.handle_packet(8000, &pkt(5, true, 800), ms(100 + 20 * i))
                .unwrap();
        }
        assert_eq!(
            drain(&mut rx),
            vec![('5', DigitTime::RtpTimestamp(8000), 800)]
        );
        assert_eq!(rx.poll_timeout(), None);
        // A retransmission arriving much later is still recognised.
        rx.handle_packet(8000, &pkt(5, false, 640), ms(500))
            .unwrap();
        assert!(drain(&mut rx).is_empty());
    }

    #[test]
    fn missing_end_packet_is_reported_after_the_timeout() {
        let t0 = crate::media::t0();
        let mut rx = EventReceiver::new(Duration::from_millis(300));
        rx.handle_packet(1600, &pkt(10, false, 160), t0).unwrap();
        rx.handle_packet(1600, &pkt(10, false, 320), t0 + Duration::from_millis(20))
            .unwrap();
        let deadline = rx.poll_timeout().unwrap();
        assert_eq!(deadline, t0 + Duration::from_millis(320));
        rx.handle_timeout(deadline - Duration::from_millis(1));
        assert!(drain(&mut rx).is_empty());
        rx.handle_timeout(deadline);
        assert_eq!(
            drain(&mut rx),
            vec![('*', DigitTime::RtpTimestamp(1600), 320)]
        );
    }

    #[test]
    fn new_event_closes_an_event_whose_end_was_lost() {
        let t0 = crate::media::t0();
        let mut rx = EventReceiver::default();
        rx.handle_packet(100, &pkt(1, false, 480), t0).unwrap();
        rx.handle_packet(2000, &pkt(11, false, 160), t0).unwrap();
        rx.handle_packet(2000, &pkt(11, true, 640), t0).unwrap();
        let got: Vec<char> = drain(&mut rx).iter().map(|d| d.0).collect();
        assert_eq!(got, vec!['1', '#']);
    }

    #[test]
    fn all_sixteen_keys_and_non_key_events() {
        let t0 = crate::media::t0();
        let mut rx = EventReceiver::default();
        for code in 0..16u8 {
            rx.handle_packet(u32::from(code) * 1000, &pkt(code, true, 800), t0)
                .unwrap();
        }
        rx.handle_packet(99_000, &pkt(16, true, 800), t0).unwrap(); // flash: not a key
        let got: String = drain(&mut rx).iter().map(|d| d.0).collect();
        assert_eq!(got, "0123456789*#ABCD");
    }

    proptest::proptest! {
        /// Any packet train, in any order, with any payloads: no panic, and exactly one digit
        /// per distinct key-event timestamp (all fit in the remembered set here).
        #[test]
        fn arbitrary_packet_trains(
            packets in proptest::collection::vec(
                (0u32..6, proptest::collection::vec(proptest::prelude::any::<u8>(), 0..8)),
                0..60,
            )
        ) {
            let t0 = crate::media::t0();
            let mut rx = EventReceiver::default();
            let mut stamps = std::collections::HashSet::new();
            for (i, (ts, payload)) in packets.iter().enumerate() {
                let now = t0 + Duration::from_millis(10 * i as u64);
                if rx.handle_packet(*ts * 800, payload, now).is_ok()
                    && payload.first().is_some_and(|e| *e < 16)
                {
                    stamps.insert(*ts);
                }
                rx.handle_timeout(now);
            }
            rx.handle_timeout(t0 + Duration::from_secs(3600));
            let n = std::iter::from_fn(|| rx.poll_digit()).count();
            proptest::prop_assert_eq!(n, stamps.len());
        }
    }

    #[test]
    fn same_digit_pressed_twice_is_two_digits() {
        let t0 = crate::media::t0();
        let mut rx = EventReceiver::default();
        rx.handle_packet(0, &pkt(9, true, 800), t0).unwrap();
        rx.handle_packet(0, &pkt(9, true, 800), t0).unwrap();
        rx.handle_packet(2400, &pkt(9, true, 800), t0).unwrap();
        assert_eq!(drain(&mut rx).len(), 2);
    }
}
