//! The wire writer. Canonical output: long header names, one Via per line, name-addr form
//! with angle brackets, Content-Length computed from the body.

use super::{Auth, Headers, NameAddr, Request, Response};

pub(super) fn request(r: &Request, out: &mut Vec<u8>) {
    out.reserve(512 + r.body.len());
    out.extend_from_slice(r.method.as_str().as_bytes());
    out.push(b' ');
    r.uri.encode(out);
    out.extend_from_slice(b" SIP/2.0\r\n");
    headers(&r.headers, r.body.len(), out);
    out.extend_from_slice(&r.body);
}

pub(super) fn response(r: &Response, out: &mut Vec<u8>) {
    out.reserve(384 + r.body.len());
    out.extend_from_slice(b"SIP/2.0 ");
    push_num(out, u64::from(r.status));
    out.push(b' ');
    // A reason phrase can never carry a line break; drop any a builder let through.
    out.extend(r.reason.bytes().filter(|c| *c != b'\r' && *c != b'\n'));
    out.extend_from_slice(b"\r\n");
    headers(&r.headers, r.body.len(), out);
    out.extend_from_slice(&r.body);
}

fn push_num(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

fn name_addrs(out: &mut Vec<u8>, name: &[u8], list: &[NameAddr]) {
    if list.is_empty() {
        return;
    }
    out.extend_from_slice(name);
    for (i, na) in list.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        na.encode(out);
    }
    out.extend_from_slice(b"\r\n");
}

fn tokens<'a>(out: &mut Vec<u8>, name: &[u8], list: impl Iterator<Item = &'a str>, always: bool) {
    let mut any = false;
    for (i, t) in list.enumerate() {
        if i == 0 {
            out.extend_from_slice(name);
        } else {
            out.extend_from_slice(b", ");
        }
        out.extend_from_slice(t.as_bytes());
        any = true;
    }
    if !any && always {
        out.extend_from_slice(name);
    }
    if any || always {
        out.extend_from_slice(b"\r\n");
    }
}

fn auths(out: &mut Vec<u8>, name: &[u8], list: &[Auth]) {
    for a in list {
        out.extend_from_slice(name);
        out.extend_from_slice(sanitize(&a.raw));
        out.extend_from_slice(b"\r\n");
    }
}

/// Values the application built could hold a line break; cut there rather than let it
/// inject a header.
fn sanitize(v: &str) -> &[u8] {
    let b = v.as_bytes();
    let end = b
        .iter()
        .position(|c| *c == b'\r' || *c == b'\n')
        .unwrap_or(b.len());
    &b[..end]
}

fn headers(h: &Headers, body_len: usize, out: &mut Vec<u8>) {
    for v in &h.via {
        out.extend_from_slice(b"Via: ");
        v.encode(out);
        out.extend_from_slice(b"\r\n");
    }
    if let Some(mf) = h.max_forwards {
        out.extend_from_slice(b"Max-Forwards: ");
        push_num(out, u64::from(mf));
        out.extend_from_slice(b"\r\n");
    }
    name_addrs(out, b"Route: ", &h.route);
    name_addrs(out, b"Record-Route: ", &h.record_route);
    out.extend_from_slice(b"From: ");
    h.from.encode(out);
    out.extend_from_slice(b"\r\nTo: ");
    h.to.encode(out);
    out.extend_from_slice(b"\r\nCall-ID: ");
    out.extend_from_slice(sanitize(&h.call_id));
    out.extend_from_slice(b"\r\nCSeq: ");
    push_num(out, u64::from(h.cseq.seq));
    out.push(b' ');
    out.extend_from_slice(h.cseq.method.as_str().as_bytes());
    out.extend_from_slice(b"\r\n");
    match &h.contact {
        Some(super::Contact::Star) => out.extend_from_slice(b"Contact: *\r\n"),
        Some(super::Contact::List(l)) => name_addrs(out, b"Contact: ", l),
        None => {}
    }
    if let Some(e) = h.expires {
        out.extend_from_slice(b"Expires: ");
        push_num(out, u64::from(e));
        out.extend_from_slice(b"\r\n");
    }
    tokens(
        out,
        b"Require: ",
        h.require.iter().map(String::as_str),
        false,
    );
    tokens(
        out,
        b"Proxy-Require: ",
        h.proxy_require.iter().map(String::as_str),
        false,
    );
    tokens(
        out,
        b"Supported: ",
        h.supported.iter().map(String::as_str),
        false,
    );
    if let Some(allow) = &h.allow {
        tokens(out, b"Allow: ", allow.iter().map(|m| m.as_str()), true);
    }
    if let Some(accept) = &h.accept {
        if accept.is_empty() {
            out.extend_from_slice(b"Accept: \r\n");
        } else {
            out.extend_from_slice(b"Accept: ");
            for (i, m) in accept.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                m.encode(out);
            }
            out.extend_from_slice(b"\r\n");
        }
    }
    auths(out, b"Authorization: ", &h.authorization);
    auths(out, b"Proxy-Authorization: ", &h.proxy_authorization);
    auths(out, b"WWW-Authenticate: ", &h.www_authenticate);
    auths(out, b"Proxy-Authenticate: ", &h.proxy_authenticate);
    for o in &h.other {
        out.extend_from_slice(sanitize(&o.name));
        out.extend_from_slice(b": ");
        out.extend_from_slice(sanitize(&o.value));
        out.extend_from_slice(b"\r\n");
    }
    if let Some(ct) = &h.content_type {
        out.extend_from_slice(b"Content-Type: ");
        ct.encode(out);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Content-Length: ");
    push_num(out, body_len as u64);
    out.extend_from_slice(b"\r\n\r\n");
}
