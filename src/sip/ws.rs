//! SIP over WebSocket (RFC 7118), the decisions without the socket: which opening handshakes
//! are accepted (the subprotocol `sip`, an Origin the pages would accept) and what one frame
//! holds (one whole SIP message, no Content-Length framing; RFC 5626 CRLF keep-alives). The
//! shell (`shell::sip_ws`) owns the connection and hands frames here.

use crate::sip::message::Message;
use crate::sip::parse::{parse_datagram, ParseError, ParseErrorKind};

/// The WebSocket subprotocol of RFC 7118 §4: a client must ask for it and we answer with it.
pub const SUBPROTOCOL: &str = "sip";

/// Why an opening handshake on `/ws` is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WsRefusal {
    /// `Sec-WebSocket-Protocol` does not name `sip` (a chat client, a scanner, a typo).
    #[error("ask for the WebSocket subprotocol `sip` (`Sec-WebSocket-Protocol: sip`, RFC 7118 §4); offered: {offered}")]
    Subprotocol {
        /// What the client offered (`none` when it sent no header).
        offered: String,
    },
    /// A browser page of another origin (a page elsewhere must not make an agent's browser
    /// register with the credentials it holds).
    #[error("origin `{origin}` may not open /ws: only the pages' own origin and `[http] ws_origins` may")]
    Origin {
        /// The `Origin` header as sent.
        origin: String,
    },
}

/// Whether the `Sec-WebSocket-Protocol` values (each a comma-separated list) offer `sip`.
pub fn check_subprotocol<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<(), WsRefusal> {
    let mut offered = Vec::new();
    for value in values {
        for token in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            if token == SUBPROTOCOL {
                return Ok(());
            }
            offered.push(token.to_string());
        }
    }
    Err(WsRefusal::Subprotocol {
        offered: if offered.is_empty() {
            "none".to_string()
        } else {
            offered.join(", ")
        },
    })
}

/// Which browser origins may open `/ws`: the page's own origin (the `Origin` names the host
/// the request was sent to) and a configured list (`[http] ws_origins`, e.g. a desk served
/// from another name). A client that sends no `Origin` is not a browser page (a softphone, a
/// test client) and passes: the registrar's digest still stands in its way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OriginPolicy {
    /// Normalised `scheme://host[:port]`, lower case, default ports left out.
    allowed: Vec<String>,
}

/// A configured origin that is not `http(s)://host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{origin}` is not an origin: write it as a browser sends it, `https://desk.example.gov.cn` or `http://10.0.0.5:8080` (no path)")]
pub struct BadOrigin {
    pub origin: String,
}

impl OriginPolicy {
    /// A policy that accepts the pages' own origin and `extra`.
    pub fn new(extra: &[String]) -> Result<Self, BadOrigin> {
        let allowed = extra
            .iter()
            .map(|o| {
                normalise(o).ok_or_else(|| BadOrigin {
                    origin: o.to_string(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { allowed })
    }

    /// Checks a handshake's `Origin` against the `Host` it was sent to. `secure`: the
    /// listener speaks TLS, so the pages' own origin is `https://`.
    pub fn check(
        &self,
        origin: Option<&str>,
        host: Option<&str>,
        secure: bool,
    ) -> Result<(), WsRefusal> {
        let Some(origin) = origin else {
            return Ok(());
        };
        let refused = || WsRefusal::Origin {
            origin: origin.chars().take(200).collect(),
        };
        let Some(normal) = normalise(origin) else {
            return Err(refused()); // `null` (a sandboxed or file page) and garbage
        };
        if self.allowed.contains(&normal) {
            return Ok(());
        }
        let scheme = if secure { "https" } else { "http" };
        let own = host.and_then(|h| normalise(&format!("{scheme}://{h}")));
        if own.as_deref() == Some(normal.as_str()) {
            return Ok(());
        }
        Err(refused())
    }
}

/// `scheme://host[:port]` in lower case without a default port, or `None` for anything
/// that is not an http(s) origin.
fn normalise(origin: &str) -> Option<String> {
    let origin = origin.trim().to_ascii_lowercase();
    let (scheme, rest) = origin.split_once("://")?;
    let default_port = match scheme {
        "http" => ":80",
        "https" => ":443",
        _ => return None,
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
    if rest.is_empty() || !rest.chars().all(valid) {
        return None;
    }
    let host = rest.strip_suffix(default_port).unwrap_or(rest);
    Some(format!("{scheme}://{host}"))
}

/// What one WebSocket data frame holds.
#[derive(Debug)]
pub enum WsFrame {
    /// One SIP message.
    Message(Box<Message>),
    /// An RFC 5626 keep-alive ping (`CRLFCRLF`): answer [`KEEPALIVE_PONG`].
    Ping,
    /// Only line ends (a pong, or an empty frame): nothing to do.
    Blank,
    /// Not a message. `fatal` when it was larger than the limit: after the engine's 513 the
    /// connection is closed (1009), since a client that sends such frames is not a phone.
    Invalid { error: Box<ParseError>, fatal: bool },
}

/// The answer to a keep-alive ping.
pub const KEEPALIVE_PONG: &[u8] = b"\r\n";

/// Reads one frame's payload (RFC 7118 §5: a frame carries exactly one message).
pub fn read_frame(bytes: &[u8], max_message: usize) -> WsFrame {
    if bytes.iter().all(|b| matches!(b, b'\r' | b'\n')) {
        return if bytes == b"\r\n\r\n" {
            WsFrame::Ping
        } else {
            WsFrame::Blank
        };
    }
    if bytes.len() > max_message {
        let error = ParseError::new(ParseErrorKind::TooLarge { limit: max_message }, bytes);
        return WsFrame::Invalid {
            error: Box::new(error),
            fatal: true,
        };
    }
    match parse_datagram(bytes) {
        Ok(msg) => WsFrame::Message(Box::new(msg)),
        Err(e) => WsFrame::Invalid {
            error: Box::new(e),
            fatal: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sip_subprotocol_is_required() {
        assert_eq!(check_subprotocol(["chat, sip"]), Ok(()));
        assert_eq!(check_subprotocol(["chat", "sip"]), Ok(()));
        assert_eq!(
            check_subprotocol(["chat"]),
            Err(WsRefusal::Subprotocol {
                offered: "chat".into()
            })
        );
        assert_eq!(
            check_subprotocol([]),
            Err(WsRefusal::Subprotocol {
                offered: "none".into()
            })
        );
        // Tokens are case-sensitive (RFC 6455 §4.1).
        assert!(check_subprotocol(["SIP"]).is_err());
    }

    #[test]
    fn same_origin_and_listed_origins_pass() {
        let p = OriginPolicy::new(&["https://Desk.Example.gov.cn/".to_string()]).unwrap();
        assert_eq!(
            p.check(Some("http://127.0.0.1:8080"), Some("127.0.0.1:8080"), false),
            Ok(())
        );
        assert_eq!(
            p.check(Some("http://localhost"), Some("localhost:80"), false),
            Ok(())
        );
        assert_eq!(
            p.check(Some("https://desk.example.gov.cn"), Some("10.0.0.5"), true),
            Ok(())
        );
        assert_eq!(p.check(None, Some("127.0.0.1:8080"), false), Ok(()));
    }

    #[test]
    fn other_origins_are_refused() {
        let p = OriginPolicy::default();
        for (origin, host, secure) in [
            ("http://127.0.0.1:9999", "127.0.0.1:8080", false),
            ("http://evil.example", "127.0.0.1:8080", false),
            // The page came over plain HTTP but the listener speaks TLS: not the same origin.
            ("http://127.0.0.1:8443", "127.0.0.1:8443", true),
            ("null", "127.0.0.1:8080", false),
            ("file://", "127.0.0.1:8080", false),
        ] {
            assert!(
                p.check(Some(origin), Some(host), secure).is_err(),
                "{origin} → {host}"
            );
        }
        assert!(p.check(Some("http://127.0.0.1:8080"), None, false).is_err());
    }

    #[test]
    fn a_configured_origin_must_be_an_origin() {
        assert!(OriginPolicy::new(&["desk.example".into()]).is_err());
        assert!(OriginPolicy::new(&["https://desk.example/phone".into()]).is_err());
        assert!(OriginPolicy::new(&["ftp://desk.example".into()]).is_err());
    }

    #[test]
    fn a_frame_is_one_message_and_oversized_ones_are_fatal() {
        let register = b"REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WS abc.invalid;branch=z9hG4bK1\r\nFrom: <sip:1001@127.0.0.1>;tag=a\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: c1\r\nCSeq: 1 REGISTER\r\nMax-Forwards: 70\r\n\r\n";
        assert!(matches!(
            read_frame(register, 16 * 1024),
            WsFrame::Message(_)
        ));
        assert!(matches!(
            read_frame(register, 64),
            WsFrame::Invalid { fatal: true, .. }
        ));
        assert!(matches!(
            read_frame(b"hello", 1024),
            WsFrame::Invalid { fatal: false, .. }
        ));
        assert!(matches!(read_frame(b"\r\n\r\n", 1024), WsFrame::Ping));
        assert!(matches!(read_frame(b"\r\n", 1024), WsFrame::Blank));
    }
}
