//! Typed header values: Via, name-addr (From/To/Contact/Route), CSeq, media types and
//! authentication credentials. Validation happens in `sip::parse`; these types only hold
//! values and write them back to the wire.

use super::uri::{Host, Params, Uri};
use super::Method;

/// The transport named in a Via's sent-protocol.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP
    Udp,
    /// TCP
    Tcp,
    /// TLS over TCP
    Tls,
    /// SCTP
    Sctp,
    /// WebSocket (RFC 7118)
    Ws,
    /// Secure WebSocket (RFC 7118)
    Wss,
    /// Any other token, kept as written (RFC 4475 `transports` carries `UNKNOWN`).
    Other(String),
}

impl Transport {
    /// Maps a token case-insensitively.
    pub fn from_token(t: &str) -> Transport {
        const KNOWN: [(&str, Transport); 6] = [
            ("UDP", Transport::Udp),
            ("TCP", Transport::Tcp),
            ("TLS", Transport::Tls),
            ("SCTP", Transport::Sctp),
            ("WS", Transport::Ws),
            ("WSS", Transport::Wss),
        ];
        for (name, tr) in KNOWN {
            if t.eq_ignore_ascii_case(name) {
                return tr;
            }
        }
        Transport::Other(t.to_owned())
    }

    /// The canonical token.
    pub fn as_str(&self) -> &str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
            Transport::Sctp => "SCTP",
            Transport::Ws => "WS",
            Transport::Wss => "WSS",
            Transport::Other(s) => s,
        }
    }

    /// Whether messages on it are framed by Content-Length (stream transports).
    pub fn is_stream(&self) -> bool {
        matches!(
            self,
            Transport::Tcp | Transport::Tls | Transport::Sctp | Transport::Ws | Transport::Wss
        )
    }
}

/// The RFC 3261 branch magic cookie: a branch starting with it is globally unique.
pub const BRANCH_COOKIE: &str = "z9hG4bK";

/// One Via entry (RFC 3261 §20.42); `SIP/2.0` is implied (anything else is rejected).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Via {
    /// Transport of this hop.
    pub transport: Transport,
    /// sent-by host.
    pub host: Host,
    /// sent-by port, if written.
    pub port: Option<u16>,
    /// branch, received, rport, maddr, ttl and extensions, validated at parse time.
    pub params: Params,
}

impl Via {
    /// A Via for a request we send, with a branch (give it the `z9hG4bK` prefix).
    pub fn new(transport: Transport, host: Host, port: Option<u16>, branch: &str) -> Self {
        let mut params = Params::new();
        params.set("branch", Some(branch));
        Via {
            transport,
            host,
            port,
            params,
        }
    }

    /// The branch parameter (transaction id).
    pub fn branch(&self) -> Option<&str> {
        self.params.value("branch")
    }

    /// Whether the branch carries the RFC 3261 magic cookie (else RFC 2543 matching).
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch()
            .is_some_and(|b| b.len() > BRANCH_COOKIE.len() && b.starts_with(BRANCH_COOKIE))
    }

    /// `received=` (validated as an IP address at parse time).
    pub fn received(&self) -> Option<std::net::IpAddr> {
        self.params.value("received").and_then(|v| v.parse().ok())
    }

    /// `None`: no rport; `Some(None)`: `;rport` asked for; `Some(Some(p))`: filled in.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.params
            .get("rport")
            .map(|v| v.and_then(|p| p.parse().ok()))
    }

    /// `maddr=`.
    pub fn maddr(&self) -> Option<&str> {
        self.params.value("maddr")
    }

    /// `ttl=` (0–255, validated at parse time).
    pub fn ttl(&self) -> Option<u8> {
        self.params.value("ttl").and_then(|v| v.parse().ok())
    }

    /// The sent-by port, or the transport default (5060, 5061 for TLS).
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(match self.transport {
            Transport::Tls | Transport::Wss => 5061,
            _ => 5060,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"SIP/2.0/");
        out.extend_from_slice(self.transport.as_str().as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.host.to_string().as_bytes());
        if let Some(p) = self.port {
            out.push(b':');
            out.extend_from_slice(p.to_string().as_bytes());
        }
        self.params.encode(out);
    }
}

/// name-addr or addr-spec with header parameters: From, To, Contact, Route, Record-Route.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NameAddr {
    /// Display name, unquoted and with quoted-pairs resolved.
    pub display: Option<String>,
    /// The address.
    pub uri: Uri,
    /// Header parameters (`tag`, `expires`, `q`, …), values as on the wire.
    pub params: Params,
}

impl NameAddr {
    /// An address with no display name and no parameters.
    pub fn new(uri: Uri) -> Self {
        NameAddr {
            display: None,
            uri,
            params: Params::new(),
        }
    }

    /// The `tag` parameter (dialog identity); `None` when absent.
    pub fn tag(&self) -> Option<&str> {
        self.params.value("tag")
    }

    /// Sets the `tag` parameter (a UAS adds its To tag).
    pub fn set_tag(&mut self, tag: &str) {
        self.params.set("tag", Some(tag));
    }

    /// A Contact's `expires` parameter (validated as a u32 at parse time).
    pub fn expires(&self) -> Option<u32> {
        self.params.value("expires").and_then(|v| v.parse().ok())
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        if let Some(d) = &self.display {
            out.push(b'"');
            for c in d.bytes() {
                match c {
                    // CR/LF can never be carried, even escaped: replacing them keeps a
                    // hostile display name from injecting header lines.
                    b'\r' | b'\n' => out.push(b' '),
                    b'"' | b'\\' | 0..=8 | 0x0b | 0x0c | 0x0e..=0x1f | 0x7f => {
                        out.push(b'\\');
                        out.push(c);
                    }
                    _ => out.push(c),
                }
            }
            out.extend_from_slice(b"\" ");
        }
        out.push(b'<');
        self.uri.encode(out);
        out.push(b'>');
        self.params.encode(out);
    }
}

/// The Contact header: `*` (REGISTER "remove all") or a list of addresses.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Contact {
    /// `Contact: *`
    Star,
    /// One or more addresses (from every Contact header line, in order).
    List(Vec<NameAddr>),
}

/// CSeq (RFC 3261 §20.16); the method must equal the request's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CSeq {
    /// Sequence number (32-bit per the RFC).
    pub seq: u32,
    /// Method of the request this belongs to.
    pub method: Method,
}

/// A media type (`Content-Type`, an `Accept` entry): `type/subtype;params`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MediaType {
    /// Top-level type (`application`, `*`).
    pub top: String,
    /// Subtype (`sdp`, `*`).
    pub sub: String,
    /// Parameters (`boundary`, `charset`, `q`).
    pub params: Params,
}

impl MediaType {
    /// A type without parameters.
    pub fn new(top: &str, sub: &str) -> Self {
        MediaType {
            top: top.to_owned(),
            sub: sub.to_owned(),
            params: Params::new(),
        }
    }

    /// Case-insensitive match against `top/sub` (no wildcard expansion).
    pub fn is(&self, top: &str, sub: &str) -> bool {
        self.top.eq_ignore_ascii_case(top) && self.sub.eq_ignore_ascii_case(sub)
    }

    /// Whether this (possibly wildcard) range accepts `top/sub`.
    pub fn accepts(&self, top: &str, sub: &str) -> bool {
        (self.top == "*" || self.top.eq_ignore_ascii_case(top))
            && (self.sub == "*" || self.sub.eq_ignore_ascii_case(sub))
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.top.as_bytes());
        out.push(b'/');
        out.extend_from_slice(self.sub.as_bytes());
        self.params.encode(out);
    }
}

/// Credentials or a challenge (Authorization, WWW-Authenticate, Proxy-*): the raw value is
/// what goes back on the wire; `params` is the Digest view (values unquoted).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Auth {
    /// Scheme token (`Digest`, or anything else — RFC 4475 `regaut01`).
    pub scheme: String,
    /// `name=value` pairs, quotes removed; empty when the value is not in that form.
    pub params: Vec<(String, String)>,
    /// The whole header value as received or built (scheme included).
    pub raw: String,
}

impl Auth {
    /// A parameter by name (case-insensitive), e.g. `realm`, `nonce`, `response`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A header the engine does not type, kept in order with its value unfolded and trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawHeader {
    /// Name as written (compact forms of known extension headers are expanded).
    pub name: String,
    /// Value as received, with line folding replaced by single spaces.
    pub value: String,
}
