//! Checks a new request must pass before anything acts on it (RFC 3261 §8.2.1–8.2.3 and the
//! RFC 4475 application-layer cases): the URI scheme, required extensions, the body's type and
//! what the caller accepts. Each failure maps to the status the RFC names.

use crate::call::engine::reason_phrase;
use crate::sip::message::{MediaType, Method, Request, Response};

/// Option tags we support (none yet: we answer plain RFC 3261 calls).
const SUPPORTED: &[&str] = &[];

/// The response refusing `req` (with `Unsupported` or `Accept` where the RFC asks for them),
/// or `None` if it may go on.
pub fn screen_request(req: &Request) -> Option<Response> {
    let status = refusal(req)?;
    let mut resp = Response::for_request(req, status, reason_phrase(status));
    match status {
        420 => {
            let tags: Vec<&str> = unsupported_tags(req).collect();
            resp.headers.push("Unsupported", &tags.join(", "));
        }
        415 => resp.headers.accept = Some(vec![MediaType::new("application", "sdp")]),
        _ => {}
    }
    Some(resp)
}

fn refusal(req: &Request) -> Option<u16> {
    if req.method == Method::Ack || req.method == Method::Cancel {
        return None;
    }
    // §8.2.2.1: we only route sip: and sips: Request-URIs (RFC 4475 §3.3.2, §3.3.3).
    if req.uri.as_sip().is_none() {
        return Some(416);
    }
    // §8.2.2.3: Require (and Proxy-Require, which an endpoint sees only by mistake).
    if unsupported_tags(req).next().is_some() {
        return Some(420);
    }
    if req.method == Method::Invite {
        // §8.2.3: a body we cannot read.
        if let Some(ct) = &req.headers.content_type {
            if !req.body.is_empty() && !ct.is("application", "sdp") {
                return Some(415);
            }
        }
        // RFC 4475 §3.3.15: the caller accepts no SDP, but our answer is SDP.
        if let Some(accept) = &req.headers.accept {
            if !accept.iter().any(|a| a.accepts("application", "sdp")) {
                return Some(406);
            }
        }
    }
    None
}

/// The option tags a request requires that we do not support (for `Unsupported`).
fn unsupported_tags(req: &Request) -> impl Iterator<Item = &str> {
    req.headers
        .require
        .iter()
        .chain(req.headers.proxy_require.iter())
        .map(String::as_str)
        .filter(|t| !SUPPORTED.iter().any(|s| s.eq_ignore_ascii_case(t)))
}
