//! The start line and header section: line splitting, unfolding, header-name dispatch and
//! the message-level checks (mandatory headers, single-valued headers, CSeq method).

use std::borrow::Cow;

use super::scan::is_token;
use super::values::{
    parse_accept, parse_auth, parse_contact, parse_cseq, parse_media_type, parse_name_addr,
    parse_name_addr_list, parse_number, parse_tokens, parse_uri, parse_via_list,
};
use super::ParseErrorKind as K;
use crate::sip::message::{
    CSeq, Contact, Headers, MediaType, Method, NameAddr, RawHeader, Uri, Via,
};

/// The parsed start line.
pub(crate) enum StartLine {
    Request { method: Method, uri: Uri },
    Response { status: u16, reason: String },
}

/// A parsed header section, before the body is attached.
pub(crate) struct Head {
    pub(crate) start: StartLine,
    pub(crate) headers: Headers,
    pub(crate) content_length: Option<usize>,
}

/// Splits the header section into logical lines (line folding undone). The first line is
/// the start line.
pub(crate) struct Lines<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(s: &'a str) -> Self {
        Lines { s, pos: 0 }
    }

    fn physical(&mut self) -> Option<&'a str> {
        if self.pos >= self.s.len() {
            return None;
        }
        let rest = &self.s[self.pos..];
        let (line, adv) = match rest.find('\n') {
            Some(i) => (&rest[..i], i + 1),
            None => (rest, rest.len()),
        };
        self.pos += adv;
        Some(line.strip_suffix('\r').unwrap_or(line))
    }

    fn next_is_continuation(&self) -> bool {
        self.s
            .as_bytes()
            .get(self.pos)
            .is_some_and(|c| *c == b' ' || *c == b'\t')
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = Cow<'a, str>;

    fn next(&mut self) -> Option<Cow<'a, str>> {
        let first = self.physical()?;
        if !self.next_is_continuation() {
            return Some(Cow::Borrowed(first));
        }
        let mut joined = first.trim_end_matches([' ', '\t']).to_owned();
        while self.next_is_continuation() {
            let cont = self.physical().unwrap_or("");
            joined.push(' ');
            joined.push_str(cont.trim_matches([' ', '\t']));
        }
        Some(Cow::Owned(joined))
    }
}

/// Splits `Name : value` into the name and the trimmed value.
pub(crate) fn split_header(line: &str) -> Option<(&str, &str)> {
    let colon = line.find(':')?;
    let name = line[..colon].trim_end_matches([' ', '\t']);
    if name.is_empty() || !name.bytes().all(is_token) {
        return None;
    }
    Some((name, line[colon + 1..].trim_matches([' ', '\t'])))
}

/// Compact form → long name for the headers RFC 3261 and extensions define.
pub fn expand_compact(name: &str) -> Option<&'static str> {
    if name.len() != 1 {
        return None;
    }
    Some(match name.as_bytes()[0].to_ascii_lowercase() {
        b'v' => "Via",
        b'f' => "From",
        b't' => "To",
        b'i' => "Call-ID",
        b'm' => "Contact",
        b'l' => "Content-Length",
        b'c' => "Content-Type",
        b'e' => "Content-Encoding",
        b'k' => "Supported",
        b's' => "Subject",
        b'o' => "Event",
        b'u' => "Allow-Events",
        b'r' => "Refer-To",
        b'b' => "Referred-By",
        b'x' => "Session-Expires",
        b'y' => "Identity",
        b'a' => "Accept-Contact",
        b'j' => "Reject-Contact",
        b'd' => "Request-Disposition",
        b'n' => "Identity-Info",
        _ => return None,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Name {
    Via,
    From,
    To,
    CallId,
    CSeq,
    MaxForwards,
    Contact,
    ContentLength,
    ContentType,
    Expires,
    Route,
    RecordRoute,
    Require,
    ProxyRequire,
    Supported,
    Allow,
    Accept,
    Authorization,
    ProxyAuthorization,
    WwwAuthenticate,
    ProxyAuthenticate,
    Other,
}

const TYPED: [(&str, Name); 21] = [
    ("Via", Name::Via),
    ("From", Name::From),
    ("To", Name::To),
    ("Call-ID", Name::CallId),
    ("CSeq", Name::CSeq),
    ("Max-Forwards", Name::MaxForwards),
    ("Contact", Name::Contact),
    ("Content-Length", Name::ContentLength),
    ("Content-Type", Name::ContentType),
    ("Expires", Name::Expires),
    ("Route", Name::Route),
    ("Record-Route", Name::RecordRoute),
    ("Require", Name::Require),
    ("Proxy-Require", Name::ProxyRequire),
    ("Supported", Name::Supported),
    ("Allow", Name::Allow),
    ("Accept", Name::Accept),
    ("Authorization", Name::Authorization),
    ("Proxy-Authorization", Name::ProxyAuthorization),
    ("WWW-Authenticate", Name::WwwAuthenticate),
    ("Proxy-Authenticate", Name::ProxyAuthenticate),
];

fn classify(name: &str) -> (Name, &str) {
    let long = expand_compact(name).unwrap_or(name);
    for (n, k) in TYPED {
        if n.len() == long.len() && n.eq_ignore_ascii_case(long) {
            return (k, n);
        }
    }
    (Name::Other, long)
}

fn is_version(v: &str) -> bool {
    if !v.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("SIP/")) {
        return false;
    }
    let rest = &v[4..];
    match rest.split_once('.') {
        Some((a, b)) => {
            !a.is_empty()
                && !b.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

fn check_version(v: &str) -> Result<(), K> {
    if !is_version(v) {
        return Err(K::StartLine {
            detail: "malformed SIP version",
        });
    }
    if &v[4..] != "2.0" {
        return Err(K::Version {
            version: v
                .chars()
                .filter(|c| c.is_ascii_graphic())
                .take(16)
                .collect(),
        });
    }
    Ok(())
}

/// Whether a start line looks like a request (for error accounting and replies).
pub(crate) fn looks_like_request(line: &str) -> bool {
    !line
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("SIP/"))
        && line
            .split(' ')
            .next()
            .is_some_and(|m| !m.is_empty() && m.bytes().all(is_token))
}

pub(crate) fn parse_start_line(line: &str) -> Result<StartLine, K> {
    if line
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("SIP/"))
    {
        let mut parts = line.splitn(3, ' ');
        let version = parts.next().unwrap_or("");
        check_version(version)?;
        let code = parts.next().unwrap_or("");
        let reason = parts.next().ok_or(K::StartLine {
            detail: "status line without reason phrase",
        })?;
        if code.len() != 3 || !code.bytes().all(|c| c.is_ascii_digit()) {
            return Err(K::StatusCode);
        }
        let status: u16 = code.parse().map_err(|_| K::StatusCode)?;
        if !(100..700).contains(&status) {
            return Err(K::StatusCode);
        }
        if reason.bytes().any(|c| c < b' ' && c != b'\t') {
            return Err(K::StartLine {
                detail: "control character in reason phrase",
            });
        }
        return Ok(StartLine::Response {
            status,
            reason: reason.to_owned(),
        });
    }
    let mut parts = line.split(' ');
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(K::StartLine {
            detail: "request line must be Method SP Request-URI SP SIP-Version",
        });
    };
    if method.is_empty() || !method.bytes().all(is_token) {
        return Err(K::StartLine {
            detail: "bad method",
        });
    }
    check_version(version)?;
    if uri.starts_with('<') {
        return Err(K::RequestUri {
            detail: "Request-URI must not be enclosed in <>",
        });
    }
    let uri = parse_uri(uri).map_err(|detail| K::RequestUri { detail })?;
    if let Uri::Sip(u) = &uri {
        if !u.headers.is_empty() {
            return Err(K::RequestUri {
                detail: "Request-URI must not carry headers",
            });
        }
    }
    Ok(StartLine::Request {
        method: Method::from_token(method),
        uri,
    })
}

#[derive(Default)]
struct Partial {
    via: Vec<Via>,
    from: Option<NameAddr>,
    to: Option<NameAddr>,
    call_id: Option<String>,
    cseq: Option<CSeq>,
    max_forwards: Option<u8>,
    contact: Option<Contact>,
    content_length: Option<usize>,
    content_type: Option<MediaType>,
    expires: Option<u32>,
}

fn once<T>(slot: &mut Option<T>, v: T, name: &'static str) -> Result<(), K> {
    if slot.is_some() {
        return Err(K::Duplicate { name });
    }
    *slot = Some(v);
    Ok(())
}

/// Parses a whole header section (start line included, blank line excluded).
pub(crate) fn parse_head(head: &str) -> Result<Head, K> {
    let mut lines = Lines::new(head);
    let start_line = lines.next().ok_or(K::Empty)?;
    if start_line.starts_with([' ', '\t']) {
        return Err(K::StartLine {
            detail: "whitespace before start line",
        });
    }
    let start = parse_start_line(&start_line)?;
    let mut p = Partial::default();
    // Optional headers live in a Headers value built once the mandatory ones are known;
    // until then collect them in a scratch one with placeholder identity fields.
    let mut extra = Headers::new(
        NameAddr::new(Uri::Other(String::new())),
        NameAddr::new(Uri::Other(String::new())),
        String::new(),
        CSeq {
            seq: 0,
            method: Method::Ack,
        },
    );
    for line in lines {
        if line.contains('\r') {
            return Err(K::Header {
                name: String::new(),
                detail: "bare CR in header section",
            });
        }
        let (name, value) = split_header(&line).ok_or(K::Header {
            name: String::new(),
            detail: "header line without a name and colon",
        })?;
        let (kind, canonical) = classify(name);
        let bad = |detail: &'static str| K::Header {
            name: canonical.to_owned(),
            detail,
        };
        match kind {
            Name::Via => parse_via_list(value, &mut p.via).map_err(bad)?,
            Name::From => once(&mut p.from, parse_name_addr(value).map_err(bad)?, "From")?,
            Name::To => once(&mut p.to, parse_name_addr(value).map_err(bad)?, "To")?,
            Name::CallId => {
                if value.is_empty() || !value.bytes().all(|c| c.is_ascii_graphic()) {
                    return Err(bad("bad Call-ID"));
                }
                once(&mut p.call_id, value.to_owned(), "Call-ID")?
            }
            Name::CSeq => once(&mut p.cseq, parse_cseq(value).map_err(bad)?, "CSeq")?,
            Name::MaxForwards => {
                let n = parse_number(value, 255).ok_or(bad("must be 0-255"))?;
                once(&mut p.max_forwards, n as u8, "Max-Forwards")?
            }
            Name::Contact => parse_contact(value, &mut p.contact).map_err(bad)?,
            Name::ContentLength => {
                if value.starts_with('-') {
                    return Err(K::ContentLength {
                        detail: "negative Content-Length",
                    });
                }
                let n = parse_number(value, u32::MAX.into()).ok_or(K::ContentLength {
                    detail: "bad Content-Length",
                })?;
                if p.content_length.is_some() {
                    return Err(K::ContentLength {
                        detail: "more than one Content-Length",
                    });
                }
                p.content_length = Some(n as usize);
            }
            Name::ContentType => once(
                &mut p.content_type,
                parse_media_type(value).map_err(bad)?,
                "Content-Type",
            )?,
            Name::Expires => {
                let n = parse_number(value, u32::MAX.into()).ok_or(bad("bad delta-seconds"))?;
                once(&mut p.expires, n as u32, "Expires")?
            }
            Name::Route => parse_name_addr_list(value, &mut extra.route).map_err(bad)?,
            Name::RecordRoute => {
                parse_name_addr_list(value, &mut extra.record_route).map_err(bad)?
            }
            Name::Require => {
                parse_tokens(value, |t| extra.require.push(t.to_owned())).map_err(bad)?
            }
            Name::ProxyRequire => {
                parse_tokens(value, |t| extra.proxy_require.push(t.to_owned())).map_err(bad)?
            }
            Name::Supported => {
                parse_tokens(value, |t| extra.supported.push(t.to_owned())).map_err(bad)?
            }
            Name::Allow => {
                let list = extra.allow.get_or_insert_with(Vec::new);
                parse_tokens(value, |t| list.push(Method::from_token(t))).map_err(bad)?
            }
            Name::Accept => {
                let mut v = parse_accept(value).map_err(bad)?;
                extra.accept.get_or_insert_with(Vec::new).append(&mut v);
            }
            Name::Authorization => extra.authorization.push(parse_auth(value).map_err(bad)?),
            Name::ProxyAuthorization => extra
                .proxy_authorization
                .push(parse_auth(value).map_err(bad)?),
            Name::WwwAuthenticate => extra.www_authenticate.push(parse_auth(value).map_err(bad)?),
            Name::ProxyAuthenticate => extra
                .proxy_authenticate
                .push(parse_auth(value).map_err(bad)?),
            Name::Other => extra.other.push(RawHeader {
                name: canonical.to_owned(),
                value: value.to_owned(),
            }),
        }
    }
    finish(start, p, extra)
}

fn finish(start: StartLine, p: Partial, mut headers: Headers) -> Result<Head, K> {
    if p.via.is_empty() {
        return Err(K::Missing { name: "Via" });
    }
    let from = p.from.ok_or(K::Missing { name: "From" })?;
    let to = p.to.ok_or(K::Missing { name: "To" })?;
    let call_id = p.call_id.ok_or(K::Missing { name: "Call-ID" })?;
    let cseq = p.cseq.ok_or(K::Missing { name: "CSeq" })?;
    if let StartLine::Request { method, .. } = &start {
        if *method != cseq.method {
            return Err(K::CSeqMismatch {
                request: method.as_str().to_owned(),
                cseq: cseq.method.as_str().to_owned(),
                unknown_method: matches!(method, Method::Extension(_)),
            });
        }
    }
    headers.via = p.via;
    headers.from = from;
    headers.to = to;
    headers.call_id = call_id;
    headers.cseq = cseq;
    headers.max_forwards = p.max_forwards;
    headers.contact = p.contact;
    headers.content_type = p.content_type;
    headers.expires = p.expires;
    Ok(Head {
        start,
        headers,
        content_length: p.content_length,
    })
}
