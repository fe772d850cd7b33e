//! DTMF: keypad digits from RFC 4733 telephone-event packets ([`event`]) and from in-band tones
//! for gateways that send none ([`tone`]). Turns media into `Digit`s with the media time they
//! were seen; what a digit *means* is the IVR's business, not ours.

pub mod event;
pub mod passed;
pub mod tone;

use thiserror::Error;

pub use event::{EventReceiver, TelephoneEvent};
pub use passed::PassedKeys;
pub use tone::{ToneDetector, ToneDetectorConfig};

/// A keypad key. The 16 DTMF keys, including A–D (sent by some test sets and PBXs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Digit {
    /// 0
    D0,
    /// 1
    D1,
    /// 2
    D2,
    /// 3
    D3,
    /// 4
    D4,
    /// 5
    D5,
    /// 6
    D6,
    /// 7
    D7,
    /// 8
    D8,
    /// 9
    D9,
    /// `*` (星号键: "back to the previous menu" in our IVR)
    Star,
    /// `#`
    Pound,
    /// A
    A,
    /// B
    B,
    /// C
    C,
    /// D
    D,
}

const ALL: [Digit; 16] = [
    Digit::D0,
    Digit::D1,
    Digit::D2,
    Digit::D3,
    Digit::D4,
    Digit::D5,
    Digit::D6,
    Digit::D7,
    Digit::D8,
    Digit::D9,
    Digit::Star,
    Digit::Pound,
    Digit::A,
    Digit::B,
    Digit::C,
    Digit::D,
];

impl Digit {
    /// RFC 4733 §3.2 event code: 0–9, `*`=10, `#`=11, A–D=12–15; other events are not keys.
    pub fn from_event(code: u8) -> Option<Digit> {
        ALL.get(usize::from(code)).copied()
    }

    /// The RFC 4733 event code of this key.
    pub fn event_code(self) -> u8 {
        // ALL is indexed by event code, so the position is the code.
        ALL.iter().position(|d| *d == self).unwrap_or(0) as u8
    }

    /// The key as typed: `'0'`–`'9'`, `'*'`, `'#'`, `'A'`–`'D'`.
    pub fn as_char(self) -> char {
        b"0123456789*#ABCD"[usize::from(self.event_code())] as char
    }

    /// Parses a key character (case-insensitive for A–D), e.g. from a SIP INFO body or a test.
    pub fn from_char(c: char) -> Option<Digit> {
        let i = "0123456789*#ABCD".find(c.to_ascii_uppercase())?;
        ALL.get(i).copied()
    }
}

impl std::fmt::Display for Digit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.as_char())
    }
}

/// Where in the media a digit was detected: the RTP timestamp of its telephone-event, or the
/// index (in 8 kHz samples since the detector started) where its tone began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigitTime {
    /// RFC 4733: the event's RTP timestamp (its start).
    RtpTimestamp(u32),
    /// In-band: the sample index where the tone was first seen.
    Sample(u64),
}

/// One key press, reported once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetectedDigit {
    /// The key.
    pub digit: Digit,
    /// When in the media stream it started.
    pub at: DigitTime,
    /// How long it was held, in 8 kHz samples (what the sender reported / what we heard).
    pub duration_samples: u32,
}

/// A telephone-event payload that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DtmfError {
    /// RFC 4733 event payloads are 4 bytes (several events may be stacked in 4-byte blocks).
    #[error("telephone-event payload is {len} bytes, needs at least 4")]
    ShortPayload { len: usize },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_codes_and_chars_round_trip() {
        for code in 0..16u8 {
            let d = Digit::from_event(code).unwrap();
            assert_eq!(d.event_code(), code);
            assert_eq!(Digit::from_char(d.as_char()), Some(d));
        }
        assert_eq!(Digit::from_event(16), None);
        assert_eq!(Digit::from_char('*'), Some(Digit::Star));
        assert_eq!(Digit::from_char('#'), Some(Digit::Pound));
        assert_eq!(Digit::from_char('d'), Some(Digit::D));
        assert_eq!(Digit::from_char('x'), None);
        assert_eq!(Digit::D7.to_string(), "7");
    }
}
