//! Round trips (proptest), stream framing, builders and the Via/transaction helpers.

use bytes::Bytes;
use hotline::sip::message::{
    response_destination, stamp_received, CSeq, Contact, Headers, Host, MediaType, Message, Method,
    NameAddr, Param, Params, Request, Response, ResponseTarget, SipScheme, SipUri, TransactionKey,
    Transport, Uri, Via,
};
use hotline::sip::parse::{parse_datagram, Framed, ParseErrorKind, StreamFramer};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

const INVITE: &[u8] = b"INVITE sip:12345@hotline.example.gov.cn SIP/2.0\r\n\
Via: SIP/2.0/TCP 198.51.100.7:5060;branch=z9hG4bK776asdhds;rport\r\n\
Max-Forwards: 70\r\n\
To: <sip:12345@hotline.example.gov.cn>\r\n\
From: \"Caller\" <sip:13800138000@carrier.example.net>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@198.51.100.7\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:13800138000@198.51.100.7:5060;transport=tcp>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 4\r\n\
\r\n\
v=0\n";

fn invite() -> Request {
    match parse_datagram(INVITE) {
        Ok(Message::Request(r)) => r,
        other => panic!("{other:?}"),
    }
}

#[test]
fn framer_handles_every_split_point() {
    let expected = parse_datagram(INVITE).expect("valid");
    for cut in 0..INVITE.len() {
        let mut f = StreamFramer::new(4096);
        f.push(&INVITE[..cut]);
        assert_eq!(f.pull(), Framed::Incomplete, "cut at {cut}");
        f.push(&INVITE[cut..]);
        assert_eq!(
            f.pull(),
            Framed::Message(Box::new(expected.clone())),
            "cut at {cut}"
        );
        assert_eq!(f.pull(), Framed::Incomplete);
        assert_eq!(f.buffered(), 0);
    }
}

#[test]
fn framer_splits_two_messages_in_one_read_and_reports_keepalives() {
    let mut wire = b"\r\n\r\n".to_vec();
    wire.extend_from_slice(INVITE);
    wire.extend_from_slice(INVITE);
    wire.extend_from_slice(b"\r\n");
    let mut f = StreamFramer::new(4096);
    f.push(&wire);
    assert_eq!(f.pull(), Framed::Ping);
    assert!(matches!(f.pull(), Framed::Message(_)));
    assert!(matches!(f.pull(), Framed::Message(_)));
    assert_eq!(f.pull(), Framed::Pong);
    assert_eq!(f.pull(), Framed::Incomplete);
}

#[test]
fn framer_garbage_is_invalid_and_fatal() {
    let mut f = StreamFramer::new(4096);
    f.push(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    match f.pull() {
        Framed::Invalid { error, fatal } => {
            assert!(fatal);
            assert!(error.response().is_none(), "nothing to address");
        }
        other => panic!("{other:?}"),
    }
    // A closed-for-business framer never yields anything again.
    f.push(INVITE);
    assert_eq!(f.pull(), Framed::Incomplete);
}

#[test]
fn framer_requires_content_length() {
    let no_cl = String::from_utf8_lossy(INVITE).replace("Content-Length: 4\r\n", "");
    let mut f = StreamFramer::new(4096);
    f.push(no_cl.as_bytes());
    match f.pull() {
        Framed::Invalid { error, fatal } => {
            assert!(fatal);
            assert!(matches!(error.kind, ParseErrorKind::ContentLength { .. }));
            assert_eq!(error.response().map(|r| r.status), Some(400));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn framer_skips_a_bad_message_it_can_still_measure() {
    let bad = String::from_utf8_lossy(INVITE).replace("CSeq: 314159 INVITE", "CSeq: 314159 BYE");
    let mut f = StreamFramer::new(4096);
    f.push(bad.as_bytes());
    f.push(INVITE);
    match f.pull() {
        Framed::Invalid { error, fatal } => {
            assert!(!fatal);
            assert_eq!(error.response().map(|r| r.status), Some(400));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(f.pull(), Framed::Message(_)));
}

#[test]
fn framer_refuses_oversized_requests_with_513() {
    let mut f = StreamFramer::new(200);
    f.push(INVITE);
    match f.pull() {
        Framed::Invalid { error, fatal } => {
            assert!(fatal);
            let r = error.response().expect("addressable");
            assert_eq!(r.status, 513);
            assert_eq!(r.headers.call_id, "a84b4c76e66710@198.51.100.7");
        }
        other => panic!("{other:?}"),
    }
    // Endless header bytes are cut off too.
    let mut f = StreamFramer::new(100);
    f.push(&[b'a'; 150]);
    assert!(matches!(f.pull(), Framed::Invalid { fatal: true, .. }));
}

#[test]
fn response_for_request_copies_identity_and_adds_tag() {
    let req = invite();
    let resp = Response::for_request(&req, 180, "Ringing").with_to_tag("as83kd");
    assert_eq!(resp.headers.via, req.headers.via);
    assert_eq!(resp.headers.from, req.headers.from);
    assert_eq!(resp.headers.call_id, req.headers.call_id);
    assert_eq!(resp.headers.cseq, req.headers.cseq);
    assert_eq!(resp.headers.to.tag(), Some("as83kd"));
    let wire = resp.to_bytes();
    assert!(wire.starts_with(b"SIP/2.0 180 Ringing\r\n"));
    assert!(wire.ends_with(b"Content-Length: 0\r\n\r\n"));
    assert_eq!(parse_datagram(&wire), Ok(Message::Response(resp.clone())));
    // Our request's key equals the key of its response on the client side.
    assert_eq!(req.client_transaction_key(), resp.client_transaction_key());
}

#[test]
fn transaction_keys_match_ack_and_separate_cancel() {
    let req = invite();
    let resp = Response::for_request(&req, 486, "Busy Here").with_to_tag("x");
    let ack = req.ack_for_failure(&resp);
    let cancel = req.cancel();
    assert_eq!(ack.server_transaction_key(), req.server_transaction_key());
    assert_ne!(
        cancel.server_transaction_key(),
        req.server_transaction_key()
    );
    assert!(matches!(
        req.server_transaction_key(),
        Some(TransactionKey::Server {
            method: Method::Invite,
            ..
        })
    ));
    let parsed_cancel = parse_datagram(&cancel.to_bytes()).expect("valid CANCEL");
    assert_eq!(parsed_cancel, Message::Request(cancel));
}

#[test]
fn received_and_rport_are_stamped_and_used() {
    let mut req = invite();
    let src = SocketAddr::from(([203, 0, 113, 9], 40123));
    stamp_received(&mut req, src);
    let via = &req.headers.via[0];
    assert_eq!(via.received(), Some(IpAddr::from([203, 0, 113, 9])));
    assert_eq!(via.rport(), Some(Some(40123)));
    assert_eq!(
        response_destination(via),
        Some(ResponseTarget::SameConnection { fallback: src })
    );
    // UDP, no rport: received address, sent-by port.
    let mut udp = Via::new(
        Transport::Udp,
        Host::Domain("pc33.example.com".into()),
        Some(5070),
        "z9hG4bKx",
    );
    udp.params.set("received", Some("192.0.2.1"));
    assert_eq!(
        response_destination(&udp),
        Some(ResponseTarget::Addr(SocketAddr::from((
            [192, 0, 2, 1],
            5070
        ))))
    );
    // Same address as sent-by and no rport: nothing added.
    let mut req = invite();
    req.headers.via[0].params.remove("rport");
    stamp_received(&mut req, SocketAddr::from(([198, 51, 100, 7], 5060)));
    assert!(req.headers.via[0].received().is_none());
    // Never answer to a broadcast address (RFC 4475 bcast).
    let bcast = Via::new(
        Transport::Udp,
        Host::Ipv4(Ipv4Addr::BROADCAST),
        None,
        "z9hG4bKy",
    );
    assert_eq!(response_destination(&bcast), None);
}

#[test]
fn built_requests_round_trip() {
    let from = NameAddr::new(Uri::Sip(
        SipUri::new(Host::Domain("hotline.example".into())).with_user("ivr"),
    ));
    let to = NameAddr::new(Uri::Sip(
        SipUri::new(Host::Ipv4(Ipv4Addr::new(10, 0, 0, 5)))
            .with_user("agent7")
            .with_port(5062),
    ));
    let mut bye = Request::new(Method::Bye, to.uri.clone(), from, to, "abc@hotline", 2);
    bye.headers.via.push(Via::new(
        Transport::Udp,
        Host::Ipv4(Ipv4Addr::new(10, 0, 0, 1)),
        Some(5060),
        "z9hG4bKbye1",
    ));
    bye.headers.push("Reason", "Q.850;cause=16");
    let wire = bye.to_bytes();
    assert!(wire.starts_with(b"BYE sip:agent7@10.0.0.5:5062 SIP/2.0\r\n"));
    assert_eq!(parse_datagram(&wire), Ok(Message::Request(bye.clone())));
    assert_eq!(bye.headers.get("reason"), Some("Q.850;cause=16"));
}

// ---- property tests ----

fn token() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9][a-zA-Z0-9.!%*_+`'~-]{0,8}"
}

fn host() -> impl Strategy<Value = Host> {
    prop_oneof![
        "[a-z]{1,8}(\\.[a-z]{2,3}){0,2}".prop_map(Host::Domain),
        any::<[u8; 4]>().prop_map(|b| Host::Ipv4(Ipv4Addr::from(b))),
        any::<[u16; 8]>().prop_map(|s| Host::Ipv6(s.into())),
    ]
}

fn params(max: usize) -> impl Strategy<Value = Params> {
    prop::collection::vec(
        ("[a-z]{1,6}", prop::option::of("[a-zA-Z0-9.]{1,6}")),
        0..max,
    )
    .prop_map(|v| {
        let mut p = Params::new();
        for (name, value) in v {
            if !p.contains(&name)
                && name != "tag"
                && name != "expires"
                && name != "branch"
                && name != "received"
                && name != "rport"
                && name != "ttl"
                && name != "maddr"
            {
                p.0.push(Param { name, value });
            }
        }
        p
    })
}

fn sip_uri() -> impl Strategy<Value = Uri> {
    (
        any::<bool>(),
        prop::option::of("[a-z0-9]{1,6}(%4[0-9A-F])?[a-z0-9+]{0,4}"),
        host(),
        prop::option::of(any::<u16>()),
        params(3),
    )
        .prop_map(|(secure, user, host, port, params)| {
            Uri::Sip(SipUri {
                scheme: if secure {
                    SipScheme::Sips
                } else {
                    SipScheme::Sip
                },
                user,
                password: None,
                host,
                port,
                params,
                headers: Vec::new(),
            })
        })
}

fn uri() -> impl Strategy<Value = Uri> {
    prop_oneof![4 => sip_uri(), 1 => "tel:\\+?[0-9]{3,12}".prop_map(Uri::Other)]
}

fn name_addr() -> impl Strategy<Value = NameAddr> {
    (
        prop::option::of("[ -~\t\u{1}\u{7f}é中]{0,12}"),
        uri(),
        params(2),
        prop::option::of("[a-zA-Z0-9]{1,10}"),
    )
        .prop_map(|(display, uri, mut params, tag)| {
            if let Some(t) = tag {
                params.set("tag", Some(&t));
            }
            NameAddr {
                display,
                uri,
                params,
            }
        })
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::Invite),
        Just(Method::Ack),
        Just(Method::Bye),
        Just(Method::Cancel),
        Just(Method::Options),
        Just(Method::Register),
        Just(Method::Prack),
        token().prop_map(|t| Method::from_token(&t)),
    ]
}

fn via() -> impl Strategy<Value = Via> {
    (
        prop_oneof![
            Just(Transport::Udp),
            Just(Transport::Tcp),
            Just(Transport::Tls),
            Just(Transport::Ws)
        ],
        host(),
        prop::option::of(any::<u16>()),
        "z9hG4bK[a-zA-Z0-9]{1,10}",
        any::<bool>(),
        prop::option::of(any::<[u8; 4]>()),
    )
        .prop_map(|(t, h, port, branch, rport, received)| {
            let mut v = Via::new(t, h, port, &branch);
            if rport {
                v.params.set("rport", None);
            }
            if let Some(r) = received {
                v.params
                    .set("received", Some(&Ipv4Addr::from(r).to_string()));
            }
            v
        })
}

prop_compose! {
    fn headers_parts()(
        vias in prop::collection::vec(via(), 1..4),
        from in name_addr(),
        to in name_addr(),
        call_id in "[a-zA-Z0-9.]{1,16}(@[a-z0-9.]{1,10})?",
        seq in any::<u32>(),
        max_forwards in prop::option::of(any::<u8>()),
        contact in prop::option::of(prop_oneof![
            1 => Just(Contact::Star),
            4 => prop::collection::vec(name_addr(), 1..3).prop_map(Contact::List),
        ]),
        expires in prop::option::of(any::<u32>()),
        route in prop::collection::vec(name_addr(), 0..3),
        supported in prop::collection::vec(token(), 0..3),
        allow in prop::option::of(prop::collection::vec(method(), 0..4)),
        other in prop::collection::vec(("X-[A-Za-z]{1,8}", "([!-~]([ -~é]{0,16}[!-~])?)?"), 0..4),
        body in prop::collection::vec(any::<u8>(), 0..64),
    ) -> (Headers, Vec<u8>) {
        let mut h = Headers::new(from, to, call_id, CSeq { seq, method: Method::Invite });
        h.via = vias;
        h.max_forwards = max_forwards;
        h.contact = contact;
        h.expires = expires;
        h.route = route;
        h.supported = supported;
        h.allow = allow;
        for (n, v) in &other {
            h.push(n, v);
        }
        if !body.is_empty() {
            h.content_type = Some(MediaType::new("application", "octet-stream"));
        }
        (h, body)
    }
}

proptest! {
    #[test]
    fn request_round_trips(m in method(), ruri in uri(), parts in headers_parts()) {
        let (mut headers, body) = parts;
        headers.cseq.method = m.clone();
        let req = Request { method: m, uri: ruri, headers, body: Bytes::from(body) };
        let msg = Message::Request(req);
        let wire = msg.to_bytes();
        prop_assert_eq!(parse_datagram(&wire), Ok(msg.clone()));
        let mut f = StreamFramer::new(1 << 16);
        f.push(&wire);
        prop_assert_eq!(f.pull(), Framed::Message(Box::new(msg)));
    }

    #[test]
    fn response_round_trips(status in 100u16..700, reason in "[ -~é中]{0,20}", parts in headers_parts()) {
        let (headers, body) = parts;
        let resp = Response { status, reason, headers, body: Bytes::from(body) };
        let msg = Message::Response(resp);
        prop_assert_eq!(parse_datagram(&msg.to_bytes()), Ok(msg));
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_datagram(&data).map_err(|e| e.response());
        let mut f = StreamFramer::new(1024);
        f.push(&data);
        for _ in 0..8 { let _ = f.pull(); }
    }

    #[test]
    fn mutated_invites_never_panic(pos in 0usize..INVITE.len(), byte in any::<u8>(), cut in 0usize..INVITE.len()) {
        let mut data = INVITE.to_vec();
        data[pos] = byte;
        data.truncate(cut.max(pos + 1));
        if let Err(e) = parse_datagram(&data) {
            if let Some(r) = e.response() {
                prop_assert!(parse_datagram(&r.to_bytes()).is_ok());
            }
        }
    }
}
