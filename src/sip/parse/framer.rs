//! Message framing on stream transports (TCP/TLS, RFC 3261 §18.3): Content-Length is
//! mandatory, CRLF keep-alives (RFC 5626 §4.4.1) are reported, and "not yet" is kept
//! apart from "never".

use super::head::parse_head;
use super::{build, find_head_end, ParseError, ParseErrorKind};
use crate::sip::message::Message;

/// What the framer found at the front of its buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framed {
    /// A whole message (boxed: a message is about 1 KiB, the other variants are tiny).
    Message(Box<Message>),
    /// `CRLFCRLF` keep-alive ping: answer with a single CRLF (pong).
    Ping,
    /// A lone `CRLF`: the pong to a ping we sent.
    Pong,
    /// Not enough bytes yet: push more and pull again.
    Incomplete,
    /// A bad message. When `fatal` the stream cannot be resynchronised: send the error
    /// response (if any) and close the connection. Otherwise the bad message was skipped
    /// (its Content-Length was readable) and pulling may continue.
    Invalid {
        /// What was wrong, and the reply to send.
        error: ParseError,
        /// Whether the connection must be closed.
        fatal: bool,
    },
}

/// Accumulates stream bytes and cuts them into messages.
#[derive(Debug)]
pub struct StreamFramer {
    buf: Vec<u8>,
    max_message: usize,
    broken: bool,
}

impl StreamFramer {
    /// A framer that refuses messages larger than `max_message` bytes (head + body).
    pub fn new(max_message: usize) -> Self {
        StreamFramer {
            buf: Vec::new(),
            max_message,
            broken: false,
        }
    }

    /// Appends bytes read from the connection.
    pub fn push(&mut self, bytes: &[u8]) {
        if !self.broken {
            self.buf.extend_from_slice(bytes);
        }
    }

    /// Bytes held but not yet framed.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Takes the next frame; call until it returns `Incomplete` (or a fatal `Invalid`,
    /// after which the framer only returns that state's successor, `Incomplete`).
    #[must_use]
    pub fn pull(&mut self) -> Framed {
        if self.broken {
            return Framed::Incomplete;
        }
        match self.buf.as_slice() {
            [] => return Framed::Incomplete,
            [b'\r', b'\n', b'\r', b'\n', ..] => {
                self.buf.drain(..4);
                return Framed::Ping;
            }
            [b'\r', b'\n', b'\r'] | [b'\r'] => return Framed::Incomplete,
            [b'\r', b'\n', ..] => {
                self.buf.drain(..2);
                return Framed::Pong;
            }
            _ => {}
        }
        let Some((head_end, body_start)) = find_head_end(&self.buf) else {
            if self.buf.len() > self.max_message {
                return self.fatal(ParseErrorKind::TooLarge {
                    limit: self.max_message,
                });
            }
            return Framed::Incomplete;
        };
        let head_bytes = &self.buf[..head_end];
        let parsed = std::str::from_utf8(head_bytes)
            .map_err(|_| ParseErrorKind::NotUtf8)
            .and_then(parse_head);
        let head = match parsed {
            Ok(h) => h,
            Err(kind) => {
                // Skip the bad message if its length is still readable.
                let cl = std::str::from_utf8(head_bytes)
                    .ok()
                    .and_then(lenient_length);
                let error = ParseError::new(kind, head_bytes);
                return match cl {
                    Some(n) if body_start + n <= self.max_message => {
                        if self.buf.len() < body_start + n {
                            return Framed::Incomplete;
                        }
                        self.buf.drain(..body_start + n);
                        Framed::Invalid {
                            error,
                            fatal: false,
                        }
                    }
                    _ => {
                        self.broken = true;
                        self.buf.clear();
                        Framed::Invalid { error, fatal: true }
                    }
                };
            }
        };
        let Some(len) = head.content_length else {
            return self.fatal(ParseErrorKind::ContentLength {
                detail: "Content-Length is mandatory on stream transports",
            });
        };
        let total = body_start.saturating_add(len);
        if total > self.max_message {
            return self.fatal(ParseErrorKind::TooLarge {
                limit: self.max_message,
            });
        }
        if self.buf.len() < total {
            return Framed::Incomplete;
        }
        let msg = build(head, &self.buf[body_start..total]);
        self.buf.drain(..total);
        Framed::Message(Box::new(msg))
    }

    fn fatal(&mut self, kind: ParseErrorKind) -> Framed {
        let head_end = find_head_end(&self.buf).map_or(self.buf.len(), |(h, _)| h);
        let error = ParseError::new(kind, &self.buf[..head_end]);
        self.broken = true;
        self.buf.clear();
        Framed::Invalid { error, fatal: true }
    }
}

/// The Content-Length of a head that failed to parse, when exactly one readable one exists.
fn lenient_length(head: &str) -> Option<usize> {
    let mut found = None;
    for line in super::head::Lines::new(head).skip(1) {
        let Some((name, value)) = super::head::split_header(&line) else {
            continue;
        };
        let name = super::expand_compact(name).unwrap_or(name);
        if name.eq_ignore_ascii_case("Content-Length") {
            if found.is_some() {
                return None;
            }
            found = Some(super::values::parse_number(value, u32::MAX.into())? as usize);
        }
    }
    found
}
