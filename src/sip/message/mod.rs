//! SIP messages (RFC 3261 §7): typed requests and responses, their builders and the
//! encoder. Owns the in-memory shape of a message; it must not keep state between
//! messages or know about transactions (only how to compute their keys).
//!
//! Headers the engine acts on are typed fields of [`Headers`]; every other header is kept in
//! order, raw, in [`Headers::other`]. Content-Length is not stored: the encoder writes the
//! body's real length, so an encoded message is always correctly framed.

mod encode;
mod header;
mod txkey;
mod uri;

pub use header::{
    Auth, CSeq, Contact, MediaType, NameAddr, RawHeader, Transport, Via, BRANCH_COOKIE,
};
pub use txkey::{response_destination, stamp_received, ResponseTarget, TransactionKey};
pub use uri::{percent_decode, Host, Param, Params, SipScheme, SipUri, Uri};

use bytes::Bytes;

/// A SIP method. Methods are case-sensitive tokens: `RE%47IST%45R` is an extension, not
/// REGISTER (RFC 4475 §3.1.1.5).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    /// INVITE
    Invite,
    /// ACK
    Ack,
    /// BYE
    Bye,
    /// CANCEL
    Cancel,
    /// OPTIONS
    Options,
    /// REGISTER
    Register,
    /// INFO (RFC 6086)
    Info,
    /// REFER (RFC 3515)
    Refer,
    /// NOTIFY (RFC 6665)
    Notify,
    /// SUBSCRIBE (RFC 6665)
    Subscribe,
    /// UPDATE (RFC 3311)
    Update,
    /// PRACK (RFC 3262)
    Prack,
    /// MESSAGE (RFC 3428)
    Message,
    /// PUBLISH (RFC 3903)
    Publish,
    /// Any other token; the application answers 501 (or 405).
    Extension(String),
}

impl Method {
    const KNOWN: [(&'static str, Method); 14] = [
        ("INVITE", Method::Invite),
        ("ACK", Method::Ack),
        ("BYE", Method::Bye),
        ("CANCEL", Method::Cancel),
        ("OPTIONS", Method::Options),
        ("REGISTER", Method::Register),
        ("INFO", Method::Info),
        ("REFER", Method::Refer),
        ("NOTIFY", Method::Notify),
        ("SUBSCRIBE", Method::Subscribe),
        ("UPDATE", Method::Update),
        ("PRACK", Method::Prack),
        ("MESSAGE", Method::Message),
        ("PUBLISH", Method::Publish),
    ];

    /// Maps a token (case-sensitively) to a method; the caller has checked it is a token.
    pub fn from_token(t: &str) -> Method {
        for (name, m) in Self::KNOWN {
            if name == t {
                return m;
            }
        }
        Method::Extension(t.to_owned())
    }

    /// The wire token.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Options => "OPTIONS",
            Method::Register => "REGISTER",
            Method::Info => "INFO",
            Method::Refer => "REFER",
            Method::Notify => "NOTIFY",
            Method::Subscribe => "SUBSCRIBE",
            Method::Update => "UPDATE",
            Method::Prack => "PRACK",
            Method::Message => "MESSAGE",
            Method::Publish => "PUBLISH",
            Method::Extension(s) => s,
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The headers of a message. The five that identify a transaction and dialog are mandatory
/// fields (a parsed message always has them); lists are empty when absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headers {
    /// Via entries, top first, from every Via line and comma-separated value.
    pub via: Vec<Via>,
    /// From.
    pub from: NameAddr,
    /// To.
    pub to: NameAddr,
    /// Call-ID, as written.
    pub call_id: String,
    /// CSeq.
    pub cseq: CSeq,
    /// Max-Forwards (0–255); absent in RFC 2543 requests and in responses.
    pub max_forwards: Option<u8>,
    /// Contact (`*` or a list).
    pub contact: Option<Contact>,
    /// Content-Type.
    pub content_type: Option<MediaType>,
    /// Expires (delta-seconds).
    pub expires: Option<u32>,
    /// Route set, in order, from every Route line.
    pub route: Vec<NameAddr>,
    /// Record-Route, in order.
    pub record_route: Vec<NameAddr>,
    /// Require option tags.
    pub require: Vec<String>,
    /// Proxy-Require option tags.
    pub proxy_require: Vec<String>,
    /// Supported option tags.
    pub supported: Vec<String>,
    /// Allow (present-but-empty differs from absent).
    pub allow: Option<Vec<Method>>,
    /// Accept (present-but-empty means "no body accepted").
    pub accept: Option<Vec<MediaType>>,
    /// Authorization lines.
    pub authorization: Vec<Auth>,
    /// Proxy-Authorization lines.
    pub proxy_authorization: Vec<Auth>,
    /// WWW-Authenticate lines.
    pub www_authenticate: Vec<Auth>,
    /// Proxy-Authenticate lines.
    pub proxy_authenticate: Vec<Auth>,
    /// Every other header, in order, raw.
    pub other: Vec<RawHeader>,
}

impl Headers {
    /// The mandatory part; everything else starts empty.
    pub fn new(from: NameAddr, to: NameAddr, call_id: String, cseq: CSeq) -> Self {
        Headers {
            via: Vec::new(),
            from,
            to,
            call_id,
            cseq,
            max_forwards: None,
            contact: None,
            content_type: None,
            expires: None,
            route: Vec::new(),
            record_route: Vec::new(),
            require: Vec::new(),
            proxy_require: Vec::new(),
            supported: Vec::new(),
            allow: None,
            accept: None,
            authorization: Vec::new(),
            proxy_authorization: Vec::new(),
            www_authenticate: Vec::new(),
            proxy_authenticate: Vec::new(),
            other: Vec::new(),
        }
    }

    /// The top Via (where a response goes).
    pub fn top_via(&self) -> Option<&Via> {
        self.via.first()
    }

    /// The top Via, mutable (to stamp `received`/`rport`).
    pub fn top_via_mut(&mut self) -> Option<&mut Via> {
        self.via.first_mut()
    }

    /// Values of an untyped header by name, case-insensitively, in order. Compact names
    /// are accepted too (`s` finds Subject).
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let long = crate::sip::parse::expand_compact(name).unwrap_or(name);
        self.other
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(long))
            .map(|h| h.value.as_str())
    }

    /// The first value of an untyped header.
    pub fn get(&self, name: &str) -> Option<&str> {
        let long = crate::sip::parse::expand_compact(name).unwrap_or(name);
        self.other
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(long))
            .map(|h| h.value.as_str())
    }

    /// Appends an untyped header. The typed ones (Via, From, …) have fields: use those,
    /// or the message would not survive a parse/encode round trip.
    pub fn push(&mut self, name: &str, value: &str) {
        self.other.push(RawHeader {
            name: name.to_owned(),
            value: value.to_owned(),
        });
    }

    /// Replaces every value of an untyped header by one.
    pub fn set(&mut self, name: &str, value: &str) {
        self.remove(name);
        self.push(name, value);
    }

    /// Removes an untyped header.
    pub fn remove(&mut self, name: &str) {
        let long = crate::sip::parse::expand_compact(name).unwrap_or(name);
        self.other.retain(|h| !h.name.eq_ignore_ascii_case(long));
    }
}

/// A SIP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Method (equals the CSeq method in a parsed request).
    pub method: Method,
    /// Request-URI.
    pub uri: Uri,
    /// Headers.
    pub headers: Headers,
    /// Body (its length is the Content-Length on the wire).
    pub body: Bytes,
}

/// A SIP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code, 100–699.
    pub status: u16,
    /// Reason phrase (UTF-8, may be empty).
    pub reason: String,
    /// Headers.
    pub headers: Headers,
    /// Body.
    pub body: Bytes,
}

/// Either kind of message, as read from the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A response.
    Response(Response),
}

impl Message {
    /// The headers, whichever kind this is.
    pub fn headers(&self) -> &Headers {
        match self {
            Message::Request(r) => &r.headers,
            Message::Response(r) => &r.headers,
        }
    }

    /// Writes the wire form (Content-Length from the body) to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Message::Request(r) => r.encode(out),
            Message::Response(r) => r.encode(out),
        }
    }

    /// The wire form as a new buffer.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(1024);
        self.encode(&mut v);
        v
    }
}

impl Request {
    /// A new request with the mandatory headers; Via, Route, Contact and the rest are added
    /// by the dialog and transaction layers. Max-Forwards starts at 70 (RFC 3261 §8.1.1.6).
    pub fn new(
        method: Method,
        uri: Uri,
        from: NameAddr,
        to: NameAddr,
        call_id: &str,
        seq: u32,
    ) -> Self {
        let cseq = CSeq {
            seq,
            method: method.clone(),
        };
        let mut headers = Headers::new(from, to, call_id.to_owned(), cseq);
        headers.max_forwards = Some(70);
        Request {
            method,
            uri,
            headers,
            body: Bytes::new(),
        }
    }

    /// Sets a body and its Content-Type.
    pub fn with_body(mut self, content_type: MediaType, body: impl Into<Bytes>) -> Self {
        self.headers.content_type = Some(content_type);
        self.body = body.into();
        self
    }

    /// Writes the wire form to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        encode::request(self, out);
    }

    /// The wire form as a new buffer.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(1024);
        self.encode(&mut v);
        v
    }

    /// The CANCEL for this (INVITE) request, per RFC 3261 §9.1: same Request-URI, top Via,
    /// From, To, Call-ID, CSeq number and Route; no body.
    pub fn cancel(&self) -> Request {
        let h = &self.headers;
        let mut headers = Headers::new(
            h.from.clone(),
            h.to.clone(),
            h.call_id.clone(),
            CSeq {
                seq: h.cseq.seq,
                method: Method::Cancel,
            },
        );
        headers.via = h.via.first().cloned().into_iter().collect();
        headers.route = h.route.clone();
        headers.max_forwards = Some(70);
        Request {
            method: Method::Cancel,
            uri: self.uri.clone(),
            headers,
            body: Bytes::new(),
        }
    }

    /// The ACK for a non-2xx final response to this INVITE (RFC 3261 §17.1.1.3): same
    /// Request-URI, top Via, From, Call-ID, CSeq number and Route; To from the response.
    pub fn ack_for_failure(&self, response: &Response) -> Request {
        let h = &self.headers;
        let mut headers = Headers::new(
            h.from.clone(),
            response.headers.to.clone(),
            h.call_id.clone(),
            CSeq {
                seq: h.cseq.seq,
                method: Method::Ack,
            },
        );
        headers.via = h.via.first().cloned().into_iter().collect();
        headers.route = h.route.clone();
        headers.max_forwards = Some(70);
        Request {
            method: Method::Ack,
            uri: self.uri.clone(),
            headers,
            body: Bytes::new(),
        }
    }
}

impl Response {
    /// A response to `req` per RFC 3261 §8.2.6: Via (all), From, To, Call-ID and CSeq
    /// copied; nothing else.
    pub fn for_request(req: &Request, status: u16, reason: &str) -> Self {
        let h = &req.headers;
        let mut headers = Headers::new(
            h.from.clone(),
            h.to.clone(),
            h.call_id.clone(),
            h.cseq.clone(),
        );
        headers.via = h.via.clone();
        Response {
            status,
            reason: reason.to_owned(),
            headers,
            body: Bytes::new(),
        }
    }

    /// The same response with a To tag added when the request had none (§8.2.6.2: every
    /// response but 100 carries the UAS's tag).
    pub fn with_to_tag(mut self, tag: &str) -> Self {
        if self.headers.to.tag().is_none() {
            self.headers.to.set_tag(tag);
        }
        self
    }

    /// Sets a body and its Content-Type.
    pub fn with_body(mut self, content_type: MediaType, body: impl Into<Bytes>) -> Self {
        self.headers.content_type = Some(content_type);
        self.body = body.into();
        self
    }

    /// 1xx.
    pub fn is_provisional(&self) -> bool {
        self.status < 200
    }

    /// 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Writes the wire form to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        encode::response(self, out);
    }

    /// The wire form as a new buffer.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(512);
        self.encode(&mut v);
        v
    }
}
