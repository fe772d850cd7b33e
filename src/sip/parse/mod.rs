//! Bytes → [`Message`]: the datagram parser, the TCP [`StreamFramer`], and typed
//! [`ParseError`]s that know which error response (if any) to send. Keeps no state between
//! messages (the framer only holds unread bytes).
//!
//! Why our own parser rather than `rsip`: on the 49 RFC 4475 torture messages `rsip` 0.4
//! gets 28 right (it rejects valid ones such as `wsinv`, `esc01`, `intmeth`, `semiuri`, and
//! accepts invalid ones such as `clerr`, `ncl`, `mcl01`, `mismatch01`, `multi01`), it
//! does not separate `Incomplete` from `Invalid` on streams, and it gives no error
//! responses.

mod framer;
mod head;
mod reply;
mod scan;
mod values;

pub use framer::{Framed, StreamFramer};
pub use head::expand_compact;
pub(crate) use scan::is_token;
pub(crate) use values::{parse_auth, parse_name_addr, parse_name_addr_list};

use bytes::Bytes;

use crate::sip::message::{Message, Request, Response};
use head::{parse_head, StartLine};

/// What is wrong with a message. The `Display` text becomes the reason phrase of the 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    /// Nothing but whitespace (e.g. a CRLF keep-alive sent over UDP).
    #[error("empty message")]
    Empty,
    /// The message is not UTF-8 outside its body.
    #[error("header section is not UTF-8")]
    NotUtf8,
    /// The start line is malformed.
    #[error("bad start line: {detail}")]
    StartLine {
        /// What is wrong.
        detail: &'static str,
    },
    /// A well-formed SIP version other than 2.0 (→ 505).
    #[error("SIP version {version} not supported")]
    Version {
        /// The version as received (printable characters only).
        version: String,
    },
    /// A status code that is not three digits 100–699.
    #[error("bad status code")]
    StatusCode,
    /// The Request-URI is malformed.
    #[error("bad Request-URI: {detail}")]
    RequestUri {
        /// What is wrong.
        detail: &'static str,
    },
    /// A header value does not parse.
    #[error("bad {name} header: {detail}")]
    Header {
        /// Canonical header name (empty for a line that is not a header at all).
        name: String,
        /// What is wrong.
        detail: &'static str,
    },
    /// A mandatory header is missing.
    #[error("missing {name} header")]
    Missing {
        /// Header name.
        name: &'static str,
    },
    /// A single-valued header appears more than once.
    #[error("more than one {name} header")]
    Duplicate {
        /// Header name.
        name: &'static str,
    },
    /// The CSeq method differs from the request method.
    #[error("CSeq method {cseq} does not match request method {request}")]
    CSeqMismatch {
        /// Method in the request line.
        request: String,
        /// Method in CSeq.
        cseq: String,
        /// The request method is not one we know (the answer is then 501).
        unknown_method: bool,
    },
    /// Content-Length is negative, malformed, repeated, missing on a stream, or larger than
    /// what was received.
    #[error("{detail}")]
    ContentLength {
        /// What is wrong.
        detail: &'static str,
    },
    /// The header section is not closed by an empty line.
    #[error("header section not terminated by an empty line")]
    Unterminated,
    /// The message exceeds the configured size (→ 513).
    #[error("message larger than {limit} bytes")]
    TooLarge {
        /// The configured limit.
        limit: usize,
    },
}

/// A message that could not be parsed, with what is needed to answer it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct ParseError {
    /// What is wrong.
    pub kind: ParseErrorKind,
    request: bool,
    reply: Option<Box<reply::ReplyContext>>,
}

impl ParseError {
    pub(crate) fn new(kind: ParseErrorKind, head: &[u8]) -> Self {
        let text = String::from_utf8_lossy(head);
        let first = text.lines().next().unwrap_or("");
        let request = head::looks_like_request(first);
        let reply = if request {
            reply::ReplyContext::scan(&text).map(Box::new)
        } else {
            None
        };
        ParseError {
            kind,
            request,
            reply,
        }
    }

    /// Whether the bytes looked like a request (so a drop counts as a rejected request).
    pub fn is_request(&self) -> bool {
        self.request
    }

    /// The status code the sender deserves: 505 for a bad version, 513 for an oversized
    /// message, 501 for an unknown method whose CSeq disagrees, 400 otherwise.
    pub fn status(&self) -> u16 {
        match &self.kind {
            ParseErrorKind::Version { .. } => 505,
            ParseErrorKind::TooLarge { .. } => 513,
            ParseErrorKind::CSeqMismatch {
                unknown_method: true,
                ..
            } => 501,
            _ => 400,
        }
    }

    /// The error response to send (RFC 3261 §8.2.6: Via, From, To, Call-ID and CSeq copied,
    /// a To tag added), or `None` for a response, for junk, or when the request was not
    /// addressable (no usable Via, From, To, Call-ID or CSeq).
    pub fn response(&self) -> Option<Response> {
        let ctx = self.reply.as_deref()?;
        ctx.build(self.status(), &self.reason_phrase())
    }

    /// The reason phrase for the error response: the standard phrase plus what is wrong.
    pub fn reason_phrase(&self) -> String {
        let base = match self.status() {
            505 => "Version Not Supported",
            513 => "Message Too Large",
            501 => "Not Implemented",
            _ => "Bad Request",
        };
        let detail: String = self
            .kind
            .to_string()
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        format!("{base} ({detail})")
    }
}

/// Offset of the first byte after leading CRLFs (RFC 3261 §7.5: ignore them).
fn skip_leading_crlf(buf: &[u8]) -> usize {
    let mut i = 0;
    while i < buf.len() && (buf[i] == b'\r' || buf[i] == b'\n') {
        i += 1;
    }
    i
}

/// Finds the empty line ending the header section: returns (end of head, start of body).
pub(crate) fn find_head_end(buf: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while let Some(off) = buf[i..].iter().position(|c| *c == b'\n') {
        let nl = i + off;
        match buf.get(nl + 1) {
            Some(b'\n') => return Some((nl + 1, nl + 2)),
            Some(b'\r') if buf.get(nl + 2) == Some(&b'\n') => return Some((nl + 1, nl + 3)),
            _ => {}
        }
        i = nl + 1;
    }
    None
}

pub(crate) fn build(head: head::Head, body: &[u8]) -> Message {
    let body = Bytes::copy_from_slice(body);
    match head.start {
        StartLine::Request { method, uri } => Message::Request(Request {
            method,
            uri,
            headers: head.headers,
            body,
        }),
        StartLine::Response { status, reason } => Message::Response(Response {
            status,
            reason,
            headers: head.headers,
            body,
        }),
    }
}

/// Parses one UDP datagram. Trailing bytes after Content-Length are ignored (RFC 4475
/// `dblreq`); without Content-Length the rest of the datagram is the body (§18.3,
/// `inv2543`); a Content-Length larger than the datagram is an error (`clerr`).
pub fn parse_datagram(buf: &[u8]) -> Result<Message, ParseError> {
    let buf = &buf[skip_leading_crlf(buf)..];
    if buf.iter().all(|c| c.is_ascii_whitespace()) {
        return Err(ParseError::new(ParseErrorKind::Empty, &[]));
    }
    let (head_end, body_start, terminated) = match find_head_end(buf) {
        Some((h, b)) => (h, b, true),
        None => (buf.len(), buf.len(), false),
    };
    let head_bytes = &buf[..head_end];
    let fail = |kind| Err(ParseError::new(kind, head_bytes));
    let Ok(text) = std::str::from_utf8(head_bytes) else {
        return fail(ParseErrorKind::NotUtf8);
    };
    let head = match parse_head(text) {
        Ok(h) => h,
        Err(kind) => return fail(kind),
    };
    if !terminated {
        return fail(ParseErrorKind::Unterminated);
    }
    let avail = &buf[body_start..];
    let body = match head.content_length {
        Some(n) if n > avail.len() => {
            return fail(ParseErrorKind::ContentLength {
                detail: "Content-Length larger than the message",
            })
        }
        Some(n) => &avail[..n],
        None => avail,
    };
    Ok(build(head, body))
}
