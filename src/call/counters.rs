//! What the signaling core counts for the operators (`/metrics`): SIP messages in and out by
//! method and response class, parse errors, and how calls ended. Plain integers bumped where
//! the event happens, copied out whole by [`crate::call::engine::CallEngine::snapshot`]; the
//! core never renders them (that is `cti::metrics`).

use crate::call::record::CallOutcome;
use crate::sip::message::Method;

/// The method labels, in order: every method the parser names, then `other` for extensions.
pub const METHODS: [&str; 15] = [
    "INVITE",
    "ACK",
    "BYE",
    "CANCEL",
    "OPTIONS",
    "REGISTER",
    "INFO",
    "REFER",
    "NOTIFY",
    "SUBSCRIBE",
    "UPDATE",
    "PRACK",
    "MESSAGE",
    "PUBLISH",
    "other",
];

/// The response class labels, in order (index = first digit − 1).
pub const CLASSES: [&str; 6] = ["1xx", "2xx", "3xx", "4xx", "5xx", "6xx"];

/// SIP messages of one direction, by request method and by response class. Fixed arrays so
/// the counters stay `Copy` and a scanner flooding invented methods cannot grow them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SipTraffic {
    /// Requests, indexed like [`METHODS`].
    pub requests: [u64; METHODS.len()],
    /// Responses, indexed like [`CLASSES`].
    pub responses: [u64; CLASSES.len()],
}

impl SipTraffic {
    /// Counts a request by its method (extensions as `other`).
    pub fn request(&mut self, method: &Method) {
        self.request_token(method.as_str());
    }

    fn request_token(&mut self, token: &str) {
        let i = METHODS[..METHODS.len() - 1]
            .iter()
            .position(|m| *m == token)
            .unwrap_or(METHODS.len() - 1);
        self.requests[i] += 1;
    }

    /// Counts a response by its class; a status outside 100–699 is not counted (the parser
    /// refuses those, so none reach here).
    pub fn response(&mut self, status: u16) {
        if let Some(n) = (status / 100)
            .checked_sub(1)
            .and_then(|i| self.responses.get_mut(usize::from(i)))
        {
            *n += 1;
        }
    }

    /// Counts a message the core is about to send, from its start line: everything the
    /// engine sends goes through one `transmit`, as bytes already serialized.
    pub fn sent(&mut self, data: &[u8]) {
        let line = data.split(|b| *b == b' ').next().unwrap_or_default();
        if line == b"SIP/2.0" {
            let status = data
                .get(8..11)
                .and_then(|d| std::str::from_utf8(d).ok())
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            self.response(status);
        } else {
            self.request_token(std::str::from_utf8(line).unwrap_or("other"));
        }
    }

    /// `(method, count)` for every method label.
    pub fn by_method(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        METHODS.iter().copied().zip(self.requests.iter().copied())
    }

    /// `(class, count)` for every response class.
    pub fn by_class(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        CLASSES.iter().copied().zip(self.responses.iter().copied())
    }
}

/// Counters of the whole core since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineCounters {
    pub requests: u64,
    pub responses: u64,
    pub parse_errors: u64,
    pub dropped_unaddressable: u64,
    pub calls_offered: u64,
    pub calls_rejected: u64,
    /// INVITEs refused 503 because their source had too many calls in set-up.
    pub refused_setup_limit: u64,
    /// Requests refused because their source was blocked (registration, agents' requests).
    pub refused_blocked: u64,
    /// Requests refused for a scanner's User-Agent.
    pub refused_scanner: u64,
    /// Requests answered 503 because this engine is the standby (issue 19).
    pub refused_standby: u64,
    /// SIP messages received (after parsing), by method and class.
    pub received: SipTraffic,
    /// SIP messages sent, by method and class (retransmissions included).
    pub sent: SipTraffic,
    /// Agent legs not rung for want of an RTP port (the agent stays ready).
    pub agent_leg_no_port: u64,
    /// Browser agents' 2xx answers refused (no DTLS fingerprint, no common codec, not SDP):
    /// the leg was hung up and the call rung on.
    pub webrtc_answers_refused: u64,
    /// Browser agents' legs that failed once running (DTLS refused, ICE lost): the call ended.
    pub webrtc_legs_failed: u64,
    /// Finished calls, indexed like [`CallOutcome::ALL`].
    pub outcomes: [u64; CallOutcome::ALL.len()],
    /// Outbound tries ended at the trunk's digest authentication.
    pub outbound_auth_failures: OutboundAuthFailures,
    /// "Call me back" (C8): offers made, places kept, callbacks that reached the citizen,
    /// callbacks given up after their last try.
    pub callback_offers: u64,
    pub callbacks_kept: u64,
    pub callbacks_reached: u64,
    pub callbacks_given_up: u64,
    /// Callback turns put off because every trunk line was busy.
    pub callbacks_trunk_full: u64,
}

/// Outbound tries the trunk's authentication ended, by why (`call::outbound_auth`): an
/// operator tells a wrong password from a missing one or a trunk we cannot answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboundAuthFailures {
    /// Our credentials were refused (a second challenge, not stale, or a 403 to them).
    pub rejected: u64,
    /// A challenge came and `[trunk]` has no credentials.
    pub no_credentials: u64,
    /// No challenge we can answer (another realm, an unknown algorithm, only auth-int).
    pub unusable: u64,
}

impl EngineCounters {
    /// Counts a finished call.
    pub fn call_ended(&mut self, outcome: CallOutcome) {
        if let Some(i) = CallOutcome::ALL.iter().position(|o| *o == outcome) {
            self.outcomes[i] += 1;
        }
    }

    /// `(outcome, count)` for every outcome.
    pub fn by_outcome(&self) -> impl Iterator<Item = (CallOutcome, u64)> + '_ {
        CallOutcome::ALL
            .iter()
            .copied()
            .zip(self.outcomes.iter().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_lines_are_counted_by_method_and_class() {
        let mut t = SipTraffic::default();
        t.sent(b"INVITE sip:1@x SIP/2.0\r\n");
        t.sent(b"SIP/2.0 180 Ringing\r\n");
        t.sent(b"SIP/2.0 200 OK\r\n");
        t.sent(b"FOO sip:1@x SIP/2.0\r\n");
        t.request(&Method::Bye);
        t.request(&Method::Extension("X".into()));
        t.response(487);
        t.response(42);
        let m: Vec<_> = t.by_method().filter(|(_, n)| *n > 0).collect();
        assert_eq!(m, vec![("INVITE", 1), ("BYE", 1), ("other", 2)]);
        let c: Vec<_> = t.by_class().filter(|(_, n)| *n > 0).collect();
        assert_eq!(c, vec![("1xx", 1), ("2xx", 1), ("4xx", 1)]);
    }

    #[test]
    fn every_outcome_has_a_slot() {
        let mut c = EngineCounters::default();
        for o in CallOutcome::ALL {
            c.call_ended(o);
        }
        assert!(c.by_outcome().all(|(_, n)| n == 1));
        for o in CallOutcome::ALL {
            // The metric label is the name the call records use.
            assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
        }
    }
}
