//! What a rejected request needs for its error response: the raw Via, From, To, Call-ID
//! and CSeq, re-read leniently (the strict parse may have failed on one of them, e.g. an
//! unquoted comma in a display name, RFC 4475 `baddn`).

use super::head::{split_header, Lines};
use super::scan::{is_token, Cur};
use super::values::{parse_cseq, parse_name_addr, parse_uri, parse_via_list};
use crate::sip::message::{CSeq, Headers, NameAddr, Param, Params, Response, Uri, Via};
use bytes::Bytes;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReplyContext {
    via: Vec<String>,
    from: Option<String>,
    to: Option<String>,
    call_id: Option<String>,
    cseq: Option<String>,
}

impl ReplyContext {
    pub(crate) fn scan(head: &str) -> Option<ReplyContext> {
        let mut ctx = ReplyContext {
            via: Vec::new(),
            from: None,
            to: None,
            call_id: None,
            cseq: None,
        };
        for line in Lines::new(head).skip(1) {
            let Some((name, value)) = split_header(&line) else {
                continue;
            };
            let name = super::expand_compact(name).unwrap_or(name);
            let slot = if name.eq_ignore_ascii_case("Via") {
                ctx.via.push(value.to_owned());
                continue;
            } else if name.eq_ignore_ascii_case("From") {
                &mut ctx.from
            } else if name.eq_ignore_ascii_case("To") {
                &mut ctx.to
            } else if name.eq_ignore_ascii_case("Call-ID") {
                &mut ctx.call_id
            } else if name.eq_ignore_ascii_case("CSeq") {
                &mut ctx.cseq
            } else {
                continue;
            };
            if slot.is_none() {
                *slot = Some(value.to_owned());
            }
        }
        Some(ctx)
    }

    pub(crate) fn build(&self, status: u16, reason: &str) -> Option<Response> {
        let mut via = Vec::new();
        for v in &self.via {
            lenient_via(v, &mut via)?;
        }
        if via.is_empty() {
            return None;
        }
        let from = lenient_name_addr(self.from.as_deref()?)?;
        let mut to = lenient_name_addr(self.to.as_deref()?)?;
        let call_id = self.call_id.clone().filter(|c| !c.is_empty())?;
        let cseq: CSeq = parse_cseq(self.cseq.as_deref()?).ok()?;
        if to.tag().is_none() {
            // Stateless replies need a tag that is stable across retransmissions: derive it
            // from what identifies the request (RFC 3261 §16.11 does the same for branches).
            let branch = via.first().and_then(Via::branch).unwrap_or("");
            let tag = format!(
                "{:016x}",
                fnv(&[
                    call_id.as_bytes(),
                    from.tag().unwrap_or("").as_bytes(),
                    branch.as_bytes()
                ])
            );
            to.set_tag(&tag);
        }
        let mut headers = Headers::new(from, to, call_id, cseq);
        headers.via = via;
        let resp = Response {
            status,
            reason: reason.to_owned(),
            headers,
            body: Bytes::new(),
        };
        // The lenient reading may have kept something our own parser would refuse; never
        // send a reply the peer could not parse either.
        super::parse_datagram(&resp.to_bytes()).ok()?;
        Some(resp)
    }
}

fn fnv(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.iter().chain(b"|") {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// A strict parse, else the first entry without its (broken) parameters
/// (RFC 4475 `badinv01`: `Via: SIP/2.0/UDP 192.0.2.15;;,;,,`).
fn lenient_via(v: &str, out: &mut Vec<Via>) -> Option<()> {
    let mut strict = Vec::new();
    if parse_via_list(v, &mut strict).is_ok() {
        out.append(&mut strict);
        return Some(());
    }
    let cut = v.find([';', ',']).unwrap_or(v.len());
    if parse_via_list(&v[..cut], out).is_ok() {
        return Some(());
    }
    // A foreign version (RFC 4475 `badvers`: `SIP/7.0/UDP`) still tells where to send the
    // 505; our Via type speaks 2.0 only.
    let (proto, rest) = v[..cut].split_once('/')?;
    let (_, rest) = rest.split_once('/')?;
    parse_via_list(&format!("{proto}/2.0/{rest}"), out).ok()
}

/// A strict parse, else: display name = whatever precedes `<`, the URI inside `<>`
/// (typed when it parses, raw otherwise), and whatever parameters parse after `>`.
fn lenient_name_addr(v: &str) -> Option<NameAddr> {
    if let Ok(na) = parse_name_addr(v) {
        return Some(na);
    }
    let lt = v.rfind('<')?;
    let gt = lt + v[lt..].find('>')?;
    let display = v[..lt].trim().trim_matches('"').trim();
    let inner = &v[lt + 1..gt];
    let uri = parse_uri(inner.trim()).unwrap_or_else(|_| Uri::Other(inner.trim().to_owned()));
    let mut params = Params::new();
    let mut cur = Cur::new(&v[gt + 1..]);
    loop {
        cur.ws();
        if !cur.eat(b';') {
            break;
        }
        cur.ws();
        let Some(name) = cur.token() else { break };
        cur.ws();
        let value = if cur.eat(b'=') {
            cur.ws();
            let t = cur.take_while(is_token);
            if t.is_empty() {
                break;
            }
            Some(t.to_owned())
        } else {
            None
        };
        params.0.push(Param {
            name: name.to_owned(),
            value,
        });
    }
    Some(NameAddr {
        display: (!display.is_empty()).then(|| display.to_owned()),
        uri,
        params,
    })
}
