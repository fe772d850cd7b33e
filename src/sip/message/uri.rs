//! SIP and other URIs as they appear in the Request-URI and in name-addr headers.
//!
//! URI components keep their escaped wire form (`%41` stays `%41`) so that re-encoding is
//! byte-exact; [`SipUri::user_decoded`] and friends give the decoded value where the
//! application compares or displays it (RFC 3261 §19.1.4 says escaped and unescaped forms
//! are equal).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A host as it appears in a URI or a Via sent-by: typed IP addresses so the transport can
/// use them directly, names kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// A DNS name (case kept as written; compare with [`Host::eq_ignore_case`]).
    Domain(String),
    /// A dotted-quad IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 reference (`[...]` on the wire).
    Ipv6(Ipv6Addr),
}

impl Host {
    /// The address when the host is a literal IP, so no DNS lookup is needed.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Host::Domain(_) => None,
            Host::Ipv4(a) => Some(IpAddr::V4(*a)),
            Host::Ipv6(a) => Some(IpAddr::V6(*a)),
        }
    }

    /// Host comparison as RFC 3261 §19.1.4 wants it (names are case-insensitive).
    pub fn eq_ignore_case(&self, other: &Host) -> bool {
        match (self, other) {
            (Host::Domain(a), Host::Domain(b)) => a.eq_ignore_ascii_case(b),
            _ => self == other,
        }
    }
}

impl From<IpAddr> for Host {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(a) => Host::Ipv4(a),
            IpAddr::V6(a) => Host::Ipv6(a),
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(d) => f.write_str(d),
            Host::Ipv4(a) => write!(f, "{a}"),
            Host::Ipv6(a) => write!(f, "[{a}]"),
        }
    }
}

/// One `;name[=value]` parameter, value kept as on the wire (quotes included for quoted
/// header parameters) so re-encoding does not change it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Param {
    /// Parameter name as written; lookups ignore case.
    pub name: String,
    /// `None` for a flag parameter such as `;lr` or `;rport`.
    pub value: Option<String>,
}

/// An ordered parameter list with case-insensitive lookup (URI params, Via params,
/// header params).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Params(pub Vec<Param>);

impl Params {
    /// An empty list.
    pub fn new() -> Self {
        Params(Vec::new())
    }

    /// `Some(None)` for a flag, `Some(Some(v))` for a valued parameter, `None` if absent.
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        self.0
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.value.as_deref())
    }

    /// The value of a valued parameter (a flag or an absent one gives `None`).
    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).flatten()
    }

    /// Whether the parameter is present, with or without a value.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Sets (replacing in place) or appends a parameter.
    pub fn set(&mut self, name: &str, value: Option<&str>) {
        let value = value.map(str::to_owned);
        if let Some(p) = self
            .0
            .iter_mut()
            .find(|p| p.name.eq_ignore_ascii_case(name))
        {
            p.value = value;
        } else {
            self.0.push(Param {
                name: name.to_owned(),
                value,
            });
        }
    }

    /// Removes every parameter of that name.
    pub fn remove(&mut self, name: &str) {
        self.0.retain(|p| !p.name.eq_ignore_ascii_case(name));
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Iterates in wire order.
    pub fn iter(&self) -> impl Iterator<Item = &Param> {
        self.0.iter()
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        for p in &self.0 {
            out.push(b';');
            out.extend_from_slice(p.name.as_bytes());
            if let Some(v) = &p.value {
                out.push(b'=');
                out.extend_from_slice(v.as_bytes());
            }
        }
    }
}

/// `sip:` or `sips:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SipScheme {
    /// `sip:`
    Sip,
    /// `sips:` (TLS end to end).
    Sips,
}

/// A parsed `sip:`/`sips:` URI (RFC 3261 §19.1). Components keep their escapes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SipUri {
    /// `sip` or `sips`.
    pub scheme: SipScheme,
    /// User part, escaped form as on the wire (`None` when there is no `@`).
    pub user: Option<String>,
    /// Password after `user:`, escaped form (deprecated by RFC 3261 but legal).
    pub password: Option<String>,
    /// Host name or address.
    pub host: Host,
    /// Explicit port, if any.
    pub port: Option<u16>,
    /// `;name=value` URI parameters (escaped form).
    pub params: Params,
    /// `?name=value&…` URI headers (escaped form), in order.
    pub headers: Vec<(String, String)>,
}

impl SipUri {
    /// A `sip:` URI with only a host, for building requests.
    pub fn new(host: Host) -> Self {
        SipUri {
            scheme: SipScheme::Sip,
            user: None,
            password: None,
            host,
            port: None,
            params: Params::new(),
            headers: Vec::new(),
        }
    }

    /// The same URI with a user part (give it already escaped if it needs escapes).
    pub fn with_user(mut self, user: &str) -> Self {
        self.user = Some(user.to_owned());
        self
    }

    /// The same URI with a port.
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// The user part with `%HH` escapes decoded; bytes, because `%00` or `%FF` are legal.
    pub fn user_decoded(&self) -> Option<Vec<u8>> {
        self.user.as_deref().map(percent_decode)
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(match self.scheme {
            SipScheme::Sip => b"sip:",
            SipScheme::Sips => b"sips:",
        });
        if let Some(u) = &self.user {
            out.extend_from_slice(u.as_bytes());
            if let Some(p) = &self.password {
                out.push(b':');
                out.extend_from_slice(p.as_bytes());
            }
            out.push(b'@');
        }
        out.extend_from_slice(self.host.to_string().as_bytes());
        if let Some(port) = self.port {
            out.push(b':');
            out.extend_from_slice(port.to_string().as_bytes());
        }
        self.params.encode(out);
        for (i, (n, v)) in self.headers.iter().enumerate() {
            out.push(if i == 0 { b'?' } else { b'&' });
            out.extend_from_slice(n.as_bytes());
            out.push(b'=');
            out.extend_from_slice(v.as_bytes());
        }
    }
}

/// A URI: typed for `sip`/`sips`, raw text for anything else (`tel:`, `http:`, unknown —
/// the application answers 416 to a Request-URI it cannot route).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Uri {
    /// `sip:` or `sips:`.
    Sip(SipUri),
    /// Any other absolute URI, kept exactly as received (scheme included).
    Other(String),
}

impl Uri {
    /// The SIP URI, if this is one.
    pub fn as_sip(&self) -> Option<&SipUri> {
        match self {
            Uri::Sip(u) => Some(u),
            Uri::Other(_) => None,
        }
    }

    /// The scheme as written for `Other`, `sip`/`sips` otherwise.
    pub fn scheme(&self) -> &str {
        match self {
            Uri::Sip(u) => match u.scheme {
                SipScheme::Sip => "sip",
                SipScheme::Sips => "sips",
            },
            Uri::Other(s) => s.split(':').next().unwrap_or(""),
        }
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Uri::Sip(u) => u.encode(out),
            Uri::Other(s) => out.extend_from_slice(s.as_bytes()),
        }
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut v = Vec::new();
        self.encode(&mut v);
        f.write_str(&String::from_utf8_lossy(&v))
    }
}

/// Decodes `%HH` escapes; a `%` not followed by two hex digits is kept literally.
pub fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex_val(b[i + 1]), hex_val(b[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}
