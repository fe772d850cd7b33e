//! Keys of the caller that already went through to the other phones as RFC 4733 events, so
//! the call room's request to send the same key on ("SendDigit") is not regenerated twice.
//! Shared by the two-party [`Bridge`](crate::media::bridge::Bridge) and the conference
//! [`Mixer`](crate::media::mixer::Mixer).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::Digit;

/// How long a key that went through as an event stands for the call room's request to send
/// it: the request follows the event's end within milliseconds (one round trip through the
/// engine), so 2 s leaves room for a loaded machine without swallowing a later press.
const PASSED_KEY_WINDOW: Duration = Duration::from_secs(2);

/// Keys remembered for that (a caller cannot press more in 2 s).
const PASSED_KEYS: usize = 16;

/// The caller's recently passed-through keys: (event code, source RTP timestamp, when).
#[derive(Debug, Default)]
pub struct PassedKeys {
    keys: VecDeque<(u8, u32, Instant)>,
}

impl PassedKeys {
    /// A caller's event packet (`code`, its RTP timestamp `ts`) was relayed to another phone.
    /// All packets of one press share `ts`, so a press is remembered once.
    pub fn note(&mut self, code: u8, ts: u32, now: Instant) {
        if self.keys.iter().any(|k| k.1 == ts) {
            return;
        }
        if self.keys.len() == PASSED_KEYS {
            self.keys.pop_front();
        }
        self.keys.push_back((code, ts, now));
    }

    /// Whether `digit` went through as an event within the last 2 s; if so it is consumed
    /// (one request matches one press).
    pub fn take(&mut self, digit: Digit, now: Instant) -> bool {
        self.keys
            .retain(|k| now.saturating_duration_since(k.2) <= PASSED_KEY_WINDOW);
        let code = digit.event_code();
        match self.keys.iter().position(|k| k.0 == code) {
            Some(i) => {
                self.keys.remove(i);
                true
            }
            None => false,
        }
    }
}
