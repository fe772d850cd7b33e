//! Parsers for typed header values and URIs. Each takes one unfolded value and returns the
//! typed form or a short static description of what is wrong (it becomes the 400 reason).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::scan::{digits, is_token, is_unreserved, valid_escaped, Cur};
use crate::sip::message::{
    Auth, CSeq, Contact, Host, MediaType, Method, NameAddr, Param, Params, SipScheme, SipUri,
    Transport, Uri, Via,
};

pub(crate) type Res<T> = Result<T, &'static str>;

fn is_user_char(c: u8) -> bool {
    is_unreserved(c) || b"&=+$,;?/".contains(&c)
}

fn is_password_char(c: u8) -> bool {
    is_unreserved(c) || b"&=+$,".contains(&c)
}

fn is_param_char(c: u8) -> bool {
    is_unreserved(c) || b"[]/:&+$".contains(&c)
}

fn is_hnv_char(c: u8) -> bool {
    is_unreserved(c) || b"[]/?:+$".contains(&c)
}

fn is_host_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'.' || c == b'_'
}

/// Parses a host (name, IPv4, `[IPv6]`) from the whole of `s`.
pub(crate) fn parse_host(s: &str) -> Res<Host> {
    if let Some(inner) = s.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or("unterminated IPv6 reference")?;
        return inner
            .parse::<Ipv6Addr>()
            .map(Host::Ipv6)
            .map_err(|_| "bad IPv6 address");
    }
    if s.is_empty() || !s.bytes().all(is_host_char) {
        return Err("bad host");
    }
    if s.bytes().all(|c| c.is_ascii_digit() || c == b'.') {
        return s
            .parse::<Ipv4Addr>()
            .map(Host::Ipv4)
            .map_err(|_| "bad IPv4 address");
    }
    Ok(Host::Domain(s.to_owned()))
}

fn parse_port(s: &str) -> Res<u16> {
    digits(s, u64::from(u16::MAX))
        .and_then(|p| u16::try_from(p).ok())
        .ok_or("bad port")
}

/// Any absolute URI: typed for sip/sips, raw for other schemes.
pub(crate) fn parse_uri(s: &str) -> Res<Uri> {
    let colon = s.find(':').ok_or("URI without a scheme")?;
    let (scheme, rest) = (&s[..colon], &s[colon + 1..]);
    let sb = scheme.as_bytes();
    if sb.is_empty()
        || !sb[0].is_ascii_alphabetic()
        || !sb
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(c))
    {
        return Err("bad URI scheme");
    }
    if scheme.eq_ignore_ascii_case("sip") {
        parse_sip_uri(SipScheme::Sip, rest).map(Uri::Sip)
    } else if scheme.eq_ignore_ascii_case("sips") {
        parse_sip_uri(SipScheme::Sips, rest).map(Uri::Sip)
    } else if rest.is_empty()
        || rest
            .bytes()
            .any(|c| c <= b' ' || c == 0x7f || b"<>\"".contains(&c))
    {
        Err("bad URI")
    } else {
        Ok(Uri::Other(s.to_owned()))
    }
}

fn parse_sip_uri(scheme: SipScheme, s: &str) -> Res<SipUri> {
    let (user, password, rest) = match s.find('@') {
        Some(at) => {
            let userinfo = &s[..at];
            let (u, p) = match userinfo.find(':') {
                Some(c) => (&userinfo[..c], Some(&userinfo[c + 1..])),
                None => (userinfo, None),
            };
            if !valid_escaped(u, is_user_char) {
                return Err("bad URI user part");
            }
            if let Some(p) = p {
                if !p.is_empty() && !valid_escaped(p, is_password_char) {
                    return Err("bad URI password");
                }
            }
            (Some(u.to_owned()), p.map(str::to_owned), &s[at + 1..])
        }
        None => (None, None, s),
    };
    let host_end = if rest.starts_with('[') {
        rest.find(']')
            .map(|i| i + 1)
            .ok_or("unterminated IPv6 reference")?
    } else {
        rest.find([':', ';', '?']).unwrap_or(rest.len())
    };
    let host = parse_host(&rest[..host_end])?;
    let mut cur = Cur::new(&rest[host_end..]);
    let mut port = None;
    if cur.eat(b':') {
        port = Some(parse_port(cur.take_while(|c| c.is_ascii_digit()))?);
    }
    let mut params = Params::new();
    while cur.eat(b';') {
        let name = cur.take_while(|c| is_param_char(c) || c == b'%');
        if !valid_escaped(name, is_param_char) {
            return Err("bad URI parameter");
        }
        let value = if cur.eat(b'=') {
            let v = cur.take_while(|c| is_param_char(c) || c == b'%');
            if !valid_escaped(v, is_param_char) {
                return Err("bad URI parameter value");
            }
            Some(v.to_owned())
        } else {
            None
        };
        params.0.push(Param {
            name: name.to_owned(),
            value,
        });
    }
    let mut headers = Vec::new();
    if cur.eat(b'?') {
        loop {
            let name = cur.take_while(|c| is_hnv_char(c) || c == b'%');
            if !valid_escaped(name, is_hnv_char) || !cur.eat(b'=') {
                return Err("bad URI header");
            }
            let value = cur.take_while(|c| is_hnv_char(c) || c == b'%');
            if !value.is_empty() && !valid_escaped(value, is_hnv_char) {
                return Err("bad URI header value");
            }
            headers.push((name.to_owned(), value.to_owned()));
            if !cur.eat(b'&') {
                break;
            }
        }
    }
    if !cur.at_end() {
        return Err("bad character in URI");
    }
    Ok(SipUri {
        scheme,
        user,
        password,
        host,
        port,
        params,
        headers,
    })
}

/// A generic-param value: token, host (with IPv6 brackets) or quoted-string (kept quoted).
fn gen_value<'a>(cur: &mut Cur<'a>) -> Res<&'a str> {
    if cur.peek() == Some(b'"') {
        return cur.quoted_raw().ok_or("unterminated quoted string");
    }
    let v = cur.take_while(|c| is_token(c) || c == b'[' || c == b']' || c == b':');
    if v.is_empty() {
        Err("empty parameter value")
    } else {
        Ok(v)
    }
}

/// `*( SEMI generic-param )` with LWS allowed around `;` and `=`.
fn header_params(cur: &mut Cur<'_>) -> Res<Params> {
    let mut params = Params::new();
    loop {
        let save = cur.pos;
        cur.ws();
        if !cur.eat(b';') {
            cur.pos = save;
            return Ok(params);
        }
        cur.ws();
        let name = cur.token().ok_or("empty parameter")?;
        let save = cur.pos;
        cur.ws();
        let value = if cur.eat(b'=') {
            cur.ws();
            Some(gen_value(cur)?.to_owned())
        } else {
            cur.pos = save;
            None
        };
        params.0.push(Param {
            name: name.to_owned(),
            value,
        });
    }
}

/// One name-addr or addr-spec with header params; stops before a `,` when `in_list`.
fn name_addr(cur: &mut Cur<'_>, in_list: bool) -> Res<NameAddr> {
    cur.ws();
    let mut display = None;
    let bracketed = match cur.peek() {
        Some(b'"') => {
            display = Some(cur.quoted().ok_or("bad quoted display name")?);
            cur.ws();
            if !cur.eat(b'<') {
                return Err("display name not followed by <URI>");
            }
            true
        }
        Some(b'<') => {
            cur.pos += 1;
            true
        }
        _ => {
            let save = cur.pos;
            let start = cur.pos;
            let mut end = cur.pos;
            while cur.token().is_some() {
                end = cur.pos;
                cur.ws();
            }
            if end > start && cur.eat(b'<') {
                display = Some(cur.s[start..end].to_owned());
                true
            } else {
                cur.pos = save;
                false
            }
        }
    };
    let uri = if bracketed {
        let text = cur.take_while(|c| c != b'>');
        if !cur.eat(b'>') {
            return Err("missing > after URI");
        }
        parse_uri(text)?
    } else {
        let text =
            cur.take_while(|c| !(c == b' ' || c == b'\t' || c == b';' || (in_list && c == b',')));
        let uri = parse_uri(text)?;
        // RFC 3261 §20: a URI with parameters or headers must be in angle brackets.
        if let Uri::Sip(u) = &uri {
            if !u.headers.is_empty() {
                return Err("URI with headers must be enclosed in <>");
            }
        }
        uri
    };
    let params = header_params(cur)?;
    if let Some(Some(t)) = params.get("tag") {
        if !t.bytes().all(is_token) {
            return Err("bad tag");
        }
    }
    if let Some(e) = params.get("expires") {
        if e.and_then(|e| digits(e, u64::from(u32::MAX))).is_none() {
            return Err("bad expires parameter");
        }
    }
    Ok(NameAddr {
        display,
        uri,
        params,
    })
}

/// From / To: exactly one address.
pub(crate) fn parse_name_addr(s: &str) -> Res<NameAddr> {
    let mut cur = Cur::new(s);
    let na = name_addr(&mut cur, false)?;
    cur.ws();
    if cur.at_end() {
        Ok(na)
    } else {
        Err("unexpected text after address")
    }
}

/// Contact / Route / Record-Route: a comma-separated list.
pub(crate) fn parse_name_addr_list(s: &str, out: &mut Vec<NameAddr>) -> Res<()> {
    let mut cur = Cur::new(s);
    loop {
        out.push(name_addr(&mut cur, true)?);
        cur.ws();
        if cur.at_end() {
            return Ok(());
        }
        if !cur.eat(b',') {
            return Err("unexpected text after address");
        }
    }
}

/// Contact: `*` or a list; a `*` may not be mixed with addresses.
pub(crate) fn parse_contact(s: &str, existing: &mut Option<Contact>) -> Res<()> {
    if s.trim() == "*" {
        if existing.is_some() {
            return Err("Contact * mixed with addresses");
        }
        *existing = Some(Contact::Star);
        return Ok(());
    }
    match existing {
        None => {
            let mut list = Vec::with_capacity(1);
            parse_name_addr_list(s, &mut list)?;
            *existing = Some(Contact::List(list));
            Ok(())
        }
        Some(Contact::List(list)) => parse_name_addr_list(s, list),
        Some(Contact::Star) => Err("Contact * mixed with addresses"),
    }
}

fn validate_via_params(params: &Params) -> Res<()> {
    for p in params.iter() {
        let n = p.name.as_str();
        let v = p.value.as_deref();
        let ok = if n.eq_ignore_ascii_case("branch") {
            v.is_some_and(|v| v.bytes().all(is_token))
        } else if n.eq_ignore_ascii_case("received") {
            v.is_some_and(|v| {
                let v = v.trim_start_matches('[').trim_end_matches(']');
                v.parse::<std::net::IpAddr>().is_ok()
            })
        } else if n.eq_ignore_ascii_case("rport") {
            v.is_none_or(|v| parse_port(v).is_ok())
        } else if n.eq_ignore_ascii_case("ttl") {
            v.is_some_and(|v| digits(v, 255).is_some())
        } else if n.eq_ignore_ascii_case("maddr") {
            v.is_some_and(|v| parse_host(v).is_ok())
        } else {
            true
        };
        if !ok {
            return Err("bad Via parameter");
        }
    }
    Ok(())
}

fn via(cur: &mut Cur<'_>) -> Res<Via> {
    cur.ws();
    let name = cur.token().ok_or("bad sent-protocol")?;
    cur.ws();
    let slash1 = cur.eat(b'/');
    cur.ws();
    let version = cur.token().ok_or("bad sent-protocol")?;
    cur.ws();
    let slash2 = cur.eat(b'/');
    cur.ws();
    let transport = cur.token().ok_or("bad sent-protocol")?;
    if !(slash1 && slash2 && name.eq_ignore_ascii_case("SIP") && version == "2.0") {
        return Err("bad sent-protocol");
    }
    if !cur.ws() {
        return Err("missing sent-by");
    }
    let host_text = if cur.peek() == Some(b'[') {
        let start = cur.pos;
        cur.take_while(|c| c != b']');
        if !cur.eat(b']') {
            return Err("unterminated IPv6 reference");
        }
        &cur.s[start..cur.pos]
    } else {
        cur.take_while(is_host_char_ascii)
    };
    let host = parse_host(host_text)?;
    let save = cur.pos;
    cur.ws();
    let port = if cur.eat(b':') {
        cur.ws();
        Some(parse_port(cur.take_while(|c| c.is_ascii_digit()))?)
    } else {
        cur.pos = save;
        None
    };
    let params = header_params(cur)?;
    validate_via_params(&params)?;
    Ok(Via {
        transport: Transport::from_token(transport),
        host,
        port,
        params,
    })
}

fn is_host_char_ascii(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'.' || c == b'_'
}

/// Via: one or more comma-separated entries appended to `out`.
pub(crate) fn parse_via_list(s: &str, out: &mut Vec<Via>) -> Res<()> {
    let mut cur = Cur::new(s);
    loop {
        out.push(via(&mut cur)?);
        cur.ws();
        if cur.at_end() {
            return Ok(());
        }
        if !cur.eat(b',') {
            return Err("unexpected text in Via");
        }
    }
}

/// CSeq: `number SP method`; the number must fit 32 bits.
pub(crate) fn parse_cseq(s: &str) -> Res<CSeq> {
    let mut cur = Cur::new(s);
    cur.ws();
    let num = cur.take_while(|c| c.is_ascii_digit());
    let seq = digits(num, u64::from(u32::MAX)).ok_or("bad CSeq number")?;
    if !cur.ws() {
        return Err("bad CSeq");
    }
    let method = cur.token().ok_or("bad CSeq method")?;
    cur.ws();
    if !cur.at_end() {
        return Err("bad CSeq");
    }
    Ok(CSeq {
        seq: u32::try_from(seq).map_err(|_| "bad CSeq number")?,
        method: Method::from_token(method),
    })
}

/// A decimal value bounded by `max` (Max-Forwards, Expires, Content-Length).
pub(crate) fn parse_number(s: &str, max: u64) -> Option<u64> {
    digits(s.trim_matches([' ', '\t']), max)
}

/// Comma-separated tokens (Require, Supported, Allow…); an empty value is an empty list.
pub(crate) fn parse_tokens<'a>(s: &'a str, mut f: impl FnMut(&'a str)) -> Res<()> {
    let t = s.trim_matches([' ', '\t']);
    if t.is_empty() {
        return Ok(());
    }
    for part in t.split(',') {
        let part = part.trim_matches([' ', '\t']);
        if part.is_empty() || !part.bytes().all(is_token) {
            return Err("bad token list");
        }
        f(part);
    }
    Ok(())
}

fn media_type(cur: &mut Cur<'_>) -> Res<MediaType> {
    cur.ws();
    let top = cur.token().ok_or("bad media type")?;
    cur.ws();
    if !cur.eat(b'/') {
        return Err("bad media type");
    }
    cur.ws();
    let sub = cur.token().ok_or("bad media type")?;
    let params = header_params(cur)?;
    Ok(MediaType {
        top: top.to_owned(),
        sub: sub.to_owned(),
        params,
    })
}

/// Content-Type: one media type.
pub(crate) fn parse_media_type(s: &str) -> Res<MediaType> {
    let mut cur = Cur::new(s);
    let m = media_type(&mut cur)?;
    cur.ws();
    if cur.at_end() {
        Ok(m)
    } else {
        Err("bad media type")
    }
}

/// Accept: a possibly empty list of media ranges.
pub(crate) fn parse_accept(s: &str) -> Res<Vec<MediaType>> {
    let mut cur = Cur::new(s);
    let mut out = Vec::new();
    cur.ws();
    if cur.at_end() {
        return Ok(out);
    }
    loop {
        out.push(media_type(&mut cur)?);
        cur.ws();
        if cur.at_end() {
            return Ok(out);
        }
        if !cur.eat(b',') {
            return Err("bad Accept");
        }
    }
}

/// Authorization & co: scheme plus, when the rest is `name=value` pairs, those pairs.
/// Unknown schemes with other syntax are kept raw (RFC 4475 `regaut01`).
pub(crate) fn parse_auth(s: &str) -> Res<Auth> {
    let raw = s.trim_matches([' ', '\t']);
    let mut cur = Cur::new(raw);
    let scheme = cur.token().ok_or("bad credentials")?;
    let mut params = Vec::new();
    cur.ws();
    while !cur.at_end() {
        let Some(name) = cur.token() else {
            params.clear();
            break;
        };
        cur.ws();
        if !cur.eat(b'=') {
            params.clear();
            break;
        }
        cur.ws();
        let value = if cur.peek() == Some(b'"') {
            match cur.quoted() {
                Some(v) => v,
                None => return Err("unterminated quoted string in credentials"),
            }
        } else {
            cur.take_while(|c| c != b',' && c != b' ' && c != b'\t')
                .to_owned()
        };
        params.push((name.to_owned(), value));
        cur.ws();
        if !cur.eat(b',') {
            cur.ws();
            if !cur.at_end() {
                params.clear();
            }
            break;
        }
        cur.ws();
    }
    Ok(Auth {
        scheme: scheme.to_owned(),
        params,
        raw: raw.to_owned(),
    })
}
