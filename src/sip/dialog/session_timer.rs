//! RFC 4028 session timers on the answering side: what to answer to an INVITE's
//! `Session-Expires`/`Min-SE`/`Supported: timer`, and when an unrefreshed session is over.
//! A dialog whose caller vanished without a BYE then ends on its own. We never refresh
//! ourselves: we ask the caller (`refresher=uac`) to do it with a re-INVITE or UPDATE, and
//! when the caller insists that we refresh (`refresher=uas`) or does not support timers, no
//! timer is used (RFC 4028 §9 lets the UAS decline then). Sans-IO: `now` is handed in.

use std::time::{Duration, Instant};

use crate::sip::message::{Request, Response};

/// The option tag.
pub const TIMER: &str = "timer";

/// What to do with a request's session-timer headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Negotiation {
    /// No timer for this session.
    None,
    /// The caller asked for less than our `Min-SE`: answer 422 with this `Min-SE`.
    TooSmall { min_se: Duration },
    /// Use a timer of `interval`, refreshed by the caller.
    Use { interval: Duration },
}

fn supports_timer(req: &Request) -> bool {
    req.headers
        .supported
        .iter()
        .chain(req.headers.require.iter())
        .any(|t| t.eq_ignore_ascii_case(TIMER))
}

/// `Session-Expires: 1800;refresher=uac` → (1800 s, Some("uac")).
fn session_expires(req: &Request) -> Option<(Duration, Option<String>)> {
    let value = req.headers.get("Session-Expires")?;
    let mut parts = value.split(';');
    let secs: u64 = parts.next()?.trim().parse().ok()?;
    let refresher = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("refresher")
            .then(|| v.trim().to_ascii_lowercase())
    });
    Some((Duration::from_secs(secs), refresher))
}

fn min_se_of(req: &Request) -> Option<Duration> {
    let v = req.headers.get("Min-SE")?;
    let secs: u64 = v.split(';').next()?.trim().parse().ok()?;
    Some(Duration::from_secs(secs))
}

/// Decides about a (re-)INVITE or UPDATE: `ours` is the interval we would like, `min_se` the
/// shortest we accept.
pub fn negotiate(req: &Request, ours: Duration, min_se: Duration) -> Negotiation {
    let asked = session_expires(req);
    if let Some((se, _)) = &asked {
        if *se < min_se {
            return Negotiation::TooSmall { min_se };
        }
    }
    if !supports_timer(req) {
        // The caller could not refresh; we would have to, and we do not.
        return Negotiation::None;
    }
    if let Some((_, Some(refresher))) = &asked {
        if refresher == "uas" {
            return Negotiation::None;
        }
    }
    let floor = min_se_of(req).unwrap_or(Duration::ZERO).max(min_se);
    let interval = asked.map_or(ours, |(se, _)| se.min(ours)).max(floor);
    Negotiation::Use { interval }
}

/// Adds the headers of a negotiation to our 2xx (or the 422).
pub fn apply(resp: &mut Response, negotiation: Negotiation) {
    match negotiation {
        Negotiation::None => {}
        Negotiation::TooSmall { min_se } => {
            resp.headers.push("Min-SE", &min_se.as_secs().to_string());
        }
        Negotiation::Use { interval } => {
            resp.headers.push(
                "Session-Expires",
                &format!("{};refresher=uac", interval.as_secs()),
            );
            if !resp.headers.require.iter().any(|t| t == TIMER) {
                resp.headers.require.push(TIMER.to_string());
            }
        }
    }
}

/// A running session timer: the caller refreshes, we end the session when it does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimer {
    interval: Duration,
    refreshed_at: Instant,
}

impl SessionTimer {
    /// Starts (or restarts, on a refresh) at `now`.
    pub fn new(interval: Duration, now: Instant) -> Self {
        Self {
            interval,
            refreshed_at: now,
        }
    }

    /// A refresh was accepted at `now` with this (possibly new) interval.
    pub fn refresh(&mut self, interval: Duration, now: Instant) {
        *self = Self::new(interval, now);
    }

    /// §10: the side that does not refresh sends a BYE shortly before the session expires:
    /// at expiry minus the lesser of 32 s and a third of the interval.
    pub fn deadline(&self) -> Instant {
        let margin = Duration::from_secs(32).min(self.interval / 3);
        self.refreshed_at + self.interval - margin
    }

    /// The negotiated interval.
    pub fn interval(&self) -> Duration {
        self.interval
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::message::Message;
    use crate::sip::parse::parse_datagram;

    fn invite(extra: &str) -> Request {
        let text = format!(
            "INVITE sip:12345@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\r\nFrom: <sip:a@127.0.0.1>;tag=a\r\nTo: <sip:12345@127.0.0.1>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n{extra}Content-Length: 0\r\n\r\n"
        );
        match parse_datagram(text.as_bytes()) {
            Ok(Message::Request(r)) => r,
            other => panic!("{other:?}"),
        }
    }

    const OURS: Duration = Duration::from_secs(1800);
    const MIN: Duration = Duration::from_secs(90);

    #[test]
    fn negotiates_like_rfc_4028_section_9() {
        assert_eq!(negotiate(&invite(""), OURS, MIN), Negotiation::None);
        assert_eq!(
            negotiate(&invite("Supported: timer\r\n"), OURS, MIN),
            Negotiation::Use { interval: OURS }
        );
        assert_eq!(
            negotiate(
                &invite("Supported: timer\r\nSession-Expires: 600;refresher=uac\r\n"),
                OURS,
                MIN
            ),
            Negotiation::Use {
                interval: Duration::from_secs(600)
            }
        );
        assert_eq!(
            negotiate(&invite("k: timer\r\nx: 7200\r\n"), OURS, MIN),
            Negotiation::Use { interval: OURS },
            "compact forms; we shorten a long interval"
        );
        assert_eq!(
            negotiate(
                &invite("Supported: timer\r\nSession-Expires: 60\r\n"),
                OURS,
                MIN
            ),
            Negotiation::TooSmall { min_se: MIN }
        );
        assert_eq!(
            negotiate(&invite("Session-Expires: 600\r\n"), OURS, MIN),
            Negotiation::None,
            "a caller without timer support cannot refresh"
        );
        assert_eq!(
            negotiate(
                &invite("Supported: timer\r\nSession-Expires: 600;refresher=uas\r\n"),
                OURS,
                MIN
            ),
            Negotiation::None
        );
        assert_eq!(
            negotiate(
                &invite("Supported: timer\r\nSession-Expires: 100\r\nMin-SE: 300\r\n"),
                OURS,
                MIN
            ),
            Negotiation::Use {
                interval: Duration::from_secs(300)
            }
        );
    }

    #[test]
    fn the_answer_carries_session_expires_and_require() {
        let req = invite("Supported: timer\r\n");
        let mut ok = Response::for_request(&req, 200, "OK");
        apply(&mut ok, Negotiation::Use { interval: OURS });
        assert_eq!(
            ok.headers.get("Session-Expires"),
            Some("1800;refresher=uac")
        );
        assert_eq!(ok.headers.require, vec!["timer".to_string()]);
        let mut too_small = Response::for_request(&req, 422, "Session Interval Too Small");
        apply(&mut too_small, Negotiation::TooSmall { min_se: MIN });
        assert_eq!(too_small.headers.get("Min-SE"), Some("90"));
    }

    #[test]
    fn the_deadline_leaves_a_margin_and_moves_on_refresh() {
        let t0 = crate::shell::clock::now();
        let mut t = SessionTimer::new(Duration::from_secs(1800), t0);
        assert_eq!(t.deadline(), t0 + Duration::from_secs(1768));
        t.refresh(Duration::from_secs(90), t0 + Duration::from_secs(1000));
        assert_eq!(t.deadline(), t0 + Duration::from_secs(1060));
        assert_eq!(t.interval(), Duration::from_secs(90));
    }
}
