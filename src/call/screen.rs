//! Checks a new request must pass before anything acts on it (RFC 3261 §8.2.1–8.2.3 and the
//! RFC 4475 application-layer cases): the URI scheme, required extensions, the body's type and
//! what the caller accepts, each mapped to the status the RFC names; and the small pieces
//! every answer uses (reason phrases, `Allow`, the INVITE a CANCEL targets).

use crate::sip::message::{MediaType, Method, Request, Response, TransactionKey};

/// Option tags we support: RFC 4028 session timers.
const SUPPORTED: &[&str] = &[crate::sip::dialog::session_timer::TIMER];

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

/// The INVITE server transaction a CANCEL targets: the same key with method INVITE (§9.2).
pub(crate) fn invite_key_of(cancel_key: &TransactionKey) -> TransactionKey {
    match cancel_key.clone() {
        TransactionKey::Server {
            branch, host, port, ..
        } => TransactionKey::Server {
            branch,
            host,
            port,
            method: Method::Invite,
        },
        TransactionKey::Rfc2543 {
            request_uri,
            from_tag,
            call_id,
            seq,
            top_via,
            ..
        } => TransactionKey::Rfc2543 {
            request_uri,
            from_tag,
            call_id,
            seq,
            method: Method::Invite,
            top_via,
        },
        other => other,
    }
}

pub(crate) fn allow_list() -> Vec<Method> {
    vec![
        Method::Invite,
        Method::Register,
        Method::Ack,
        Method::Bye,
        Method::Cancel,
        Method::Options,
        Method::Info,
        Method::Refer,
        Method::Update,
    ]
}

/// The standard reason phrase of the statuses we send.
pub(crate) fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        422 => "Session Interval Too Small",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        _ => "",
    }
}

/// Whether a request belongs to a citizen's call (to a service number, or inside a dialog
/// we have) or is registration and agents' business: a blocked source loses only the
/// latter, because citizens' calls share the carrier's address.
pub(crate) fn traffic_of(
    req: &Request,
    service_numbers: &[String],
    in_our_dialog: bool,
) -> crate::sip::registrar::Traffic {
    let to_service = req
        .uri
        .as_sip()
        .and_then(|u| u.user_decoded())
        .is_some_and(|u| service_numbers.iter().any(|n| n.as_bytes() == u.as_slice()));
    if to_service || in_our_dialog {
        crate::sip::registrar::Traffic::Call
    } else {
        crate::sip::registrar::Traffic::Agent
    }
}
