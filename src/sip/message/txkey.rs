//! Transaction matching keys (RFC 3261 §17.1.3, §17.2.3) and the Via bookkeeping of
//! §18.2.1/§18.2.2 and RFC 3581 (`received`, `rport`, where a response goes).

use std::net::{IpAddr, SocketAddr};

use super::{Host, Method, Request, Response, Uri, Via};

/// What identifies the transaction a message belongs to. The transaction layer keys its
/// tables by this; two messages of one transaction give equal keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TransactionKey {
    /// A request whose top Via branch has the `z9hG4bK` cookie (§17.2.3).
    Server {
        /// The branch, as written.
        branch: String,
        /// sent-by host, domain names lower-cased.
        host: Host,
        /// sent-by port as written.
        port: Option<u16>,
        /// The method, with ACK mapped to INVITE (an ACK to a non-2xx matches its INVITE).
        method: Method,
    },
    /// RFC 2543 fallback for a request without the cookie (RFC 4475 `badbranch`,
    /// `inv2543`). The To tag is left out: an ACK carries the tag of our response, the
    /// INVITE did not, so the transaction layer compares To tags itself for ACK.
    Rfc2543 {
        /// The Request-URI, encoded.
        request_uri: String,
        /// From tag.
        from_tag: Option<String>,
        /// Call-ID.
        call_id: String,
        /// CSeq number.
        seq: u32,
        /// Method, ACK mapped to INVITE.
        method: Method,
        /// The whole top Via, encoded.
        top_via: String,
    },
    /// A client transaction: our branch plus the CSeq method (§17.1.3).
    Client {
        /// The branch we put in the top Via.
        branch: String,
        /// CSeq method (CANCEL is its own transaction).
        method: Method,
    },
}

fn matching_method(m: &Method) -> Method {
    match m {
        Method::Ack => Method::Invite,
        other => other.clone(),
    }
}

fn lower_host(h: &Host) -> Host {
    match h {
        Host::Domain(d) => Host::Domain(d.to_ascii_lowercase()),
        other => other.clone(),
    }
}

impl Request {
    /// The key of the server transaction this request creates or belongs to. `None` only
    /// for a built request without a Via (a parsed one always has one).
    pub fn server_transaction_key(&self) -> Option<TransactionKey> {
        let via = self.headers.via.first()?;
        if via.has_rfc3261_branch() {
            Some(TransactionKey::Server {
                branch: via.branch().unwrap_or_default().to_owned(),
                host: lower_host(&via.host),
                port: via.port,
                method: matching_method(&self.method),
            })
        } else {
            let mut v = Vec::new();
            via.encode(&mut v);
            Some(TransactionKey::Rfc2543 {
                request_uri: self.uri.to_string(),
                from_tag: self.headers.from.tag().map(str::to_owned),
                call_id: self.headers.call_id.clone(),
                seq: self.headers.cseq.seq,
                method: matching_method(&self.method),
                top_via: String::from_utf8_lossy(&v).into_owned(),
            })
        }
    }

    /// The key of the client transaction that sends this request (we always put a
    /// cookie branch in our own Via).
    pub fn client_transaction_key(&self) -> Option<TransactionKey> {
        let via = self.headers.via.first()?;
        Some(TransactionKey::Client {
            branch: via.branch()?.to_owned(),
            method: self.headers.cseq.method.clone(),
        })
    }
}

impl Response {
    /// The key of the client transaction this response belongs to (top Via branch + CSeq
    /// method). `None` when the top Via has no branch: no transaction of ours sent it.
    pub fn client_transaction_key(&self) -> Option<TransactionKey> {
        let via = self.headers.via.first()?;
        Some(TransactionKey::Client {
            branch: via.branch()?.to_owned(),
            method: self.headers.cseq.method.clone(),
        })
    }
}

/// Records where a request really came from in its top Via (§18.2.1): `received=` when the
/// sent-by host is not the source address, and both `received=` and `rport=` when the
/// client asked with `;rport` (RFC 3581 §4).
pub fn stamp_received(req: &mut Request, source: SocketAddr) {
    let Some(via) = req.headers.via.first_mut() else {
        return;
    };
    let wants_rport = via.params.contains("rport");
    if wants_rport {
        via.params.set("rport", Some(&source.port().to_string()));
    }
    if wants_rport || via.host.ip() != Some(source.ip()) {
        via.params.set("received", Some(&source.ip().to_string()));
    }
}

/// Where a response must be sent (§18.2.2 with RFC 3581).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseTarget {
    /// Reliable transport: over the connection the request came on (if it is still open;
    /// otherwise to `fallback`).
    SameConnection {
        /// Where to open a new connection if the old one is gone.
        fallback: SocketAddr,
    },
    /// A literal address.
    Addr(SocketAddr),
    /// A name to resolve (RFC 3263 §5) and a port.
    Name {
        /// The host name.
        host: String,
        /// The port.
        port: u16,
    },
}

/// Computes the destination for a response from its top Via. `None` when there is no Via,
/// or it points at a broadcast/unspecified address (RFC 4475 `bcast`: never send there).
pub fn response_destination(via: &Via) -> Option<ResponseTarget> {
    let default_port = via.port_or_default();
    let usable = |ip: IpAddr| match ip {
        IpAddr::V4(a) => !(a.is_broadcast() || a.is_unspecified()),
        IpAddr::V6(a) => !a.is_unspecified(),
    };
    if let Some(maddr) = via.maddr() {
        let port = default_port;
        return match maddr.parse::<IpAddr>() {
            Ok(ip) if usable(ip) => Some(ResponseTarget::Addr(SocketAddr::new(ip, port))),
            Ok(_) => None,
            Err(_) => Some(ResponseTarget::Name {
                host: maddr.to_owned(),
                port,
            }),
        };
    }
    let port = via.rport().flatten().unwrap_or(default_port);
    let ip = via.received().or_else(|| via.host.ip());
    let target = match ip {
        Some(ip) if usable(ip) => ResponseTarget::Addr(SocketAddr::new(ip, port)),
        Some(_) => return None,
        None => match &via.host {
            Host::Domain(d) => ResponseTarget::Name {
                host: d.clone(),
                port,
            },
            _ => return None,
        },
    };
    if via.transport.is_stream() {
        if let ResponseTarget::Addr(fallback) = target {
            return Some(ResponseTarget::SameConnection { fallback });
        }
    }
    Some(target)
}

impl Uri {
    /// Whether the engine can route to this URI itself (sip/sips); others get 416.
    pub fn is_sip(&self) -> bool {
        matches!(self, Uri::Sip(_))
    }
}

impl Via {
    /// Whether responses to this hop go over a stream (the connection) rather than UDP.
    pub fn is_reliable(&self) -> bool {
        self.transport.is_stream()
    }
}
