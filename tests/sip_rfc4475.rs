//! The 49 RFC 4475 torture messages, read byte-exact, against the expectation table in
//! `../shared/testdata/rfc4475/README.md`.

use hotline::sip::message::{Message, Method, TransactionKey, Transport, Uri};
use hotline::sip::parse::{parse_datagram, Framed, StreamFramer};

fn load(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../shared/testdata/rfc4475/{name}.dat",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Parses.
    Accept,
    /// Rejected with this status, and an addressable error response exists.
    Reply(u16),
    /// Rejected with this status, but the request cannot be answered (mandatory headers
    /// missing or unreadable).
    Unanswerable(u16),
    /// A bad response: dropped, never answered.
    Drop,
}

use Expect::*;

const TABLE: [(&str, Expect); 49] = [
    ("wsinv", Accept),
    ("intmeth", Accept),
    ("esc01", Accept),
    ("escnull", Accept),
    ("esc02", Accept),
    ("lwsdisp", Accept),
    ("longreq", Accept),
    ("dblreq", Accept),
    ("semiuri", Accept),
    ("transports", Accept),
    ("mpart01", Accept),
    ("unreason", Accept),
    ("noreason", Accept),
    ("badinv01", Reply(400)),
    ("clerr", Reply(400)),
    ("ncl", Reply(400)),
    ("scalar02", Unanswerable(400)),
    ("scalarlg", Drop),
    ("quotbal", Reply(400)),
    ("ltgtruri", Reply(400)),
    ("lwsruri", Reply(400)),
    ("lwsstart", Reply(400)),
    ("trws", Reply(400)),
    ("escruri", Reply(400)),
    // "fine to ignore Date if unused": we keep Date raw and never read it.
    ("baddate", Accept),
    ("regbadct", Reply(400)),
    ("badaspec", Reply(400)),
    ("baddn", Reply(400)),
    ("badvers", Reply(505)),
    ("mismatch01", Reply(400)),
    ("mismatch02", Reply(501)),
    ("bigcode", Drop),
    ("badbranch", Accept),
    ("insuf", Unanswerable(400)),
    ("unkscm", Accept),
    ("novelsc", Accept),
    ("unksm2", Accept),
    ("bext01", Accept),
    ("invut", Accept),
    ("regaut01", Accept),
    ("multi01", Reply(400)),
    ("mcl01", Reply(400)),
    ("bcast", Accept),
    ("zeromf", Accept),
    ("cparam01", Accept),
    ("cparam02", Accept),
    ("regescrt", Accept),
    ("sdp01", Accept),
    ("inv2543", Accept),
];

#[test]
fn every_torture_message_meets_its_expectation() {
    let mut failures = Vec::new();
    for (name, expect) in TABLE {
        let raw = load(name);
        let got = parse_datagram(&raw);
        let ok = match (expect, &got) {
            (Accept, Ok(m)) => {
                // Whatever parses must survive encode → parse unchanged.
                let again = parse_datagram(&m.to_bytes());
                again.as_ref() == Ok(m)
            }
            (Reply(code), Err(e)) => {
                e.is_request()
                    && e.status() == code
                    && e.response().is_some_and(|r| {
                        r.status == code
                            && r.headers.to.tag().is_some()
                            && !r.headers.via.is_empty()
                            && parse_datagram(&r.to_bytes()).is_ok()
                    })
            }
            (Unanswerable(code), Err(e)) => {
                e.is_request() && e.status() == code && e.response().is_none()
            }
            (Drop, Err(e)) => !e.is_request() && e.response().is_none(),
            _ => false,
        };
        if !ok {
            failures.push(format!("{name}: expected {expect:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn request(name: &str) -> hotline::sip::message::Request {
    match parse_datagram(&load(name)) {
        Ok(Message::Request(r)) => r,
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn wsinv_folding_and_odd_whitespace() {
    let r = request("wsinv");
    let h = &r.headers;
    assert_eq!(h.max_forwards, Some(68));
    assert_eq!(h.cseq.seq, 9);
    assert_eq!(h.cseq.method, Method::Invite);
    assert_eq!(h.via.len(), 3);
    assert_eq!(h.via[1].transport, Transport::Tcp);
    assert_eq!(h.via[1].branch(), Some("z9hG4bK9ikj8"));
    assert_eq!(h.via[2].branch(), Some("z9hG4bK30239"));
    assert_eq!(h.to.tag(), Some("1918181833n"));
    assert_eq!(h.from.tag(), Some("98asjd8"));
    assert_eq!(h.from.display.as_deref(), Some("J Rosenberg \\\""));
    assert_eq!(h.get("Subject"), Some(""));
    assert_eq!(
        h.get("newfangledheader"),
        Some("newfangled value continued newfangled value")
    );
    assert_eq!(h.route.len(), 1);
    assert_eq!(r.body.len(), 150);
}

#[test]
fn escapes_are_kept_and_decode_correctly() {
    let r = request("esc01");
    let Uri::Sip(u) = &r.uri else { panic!() };
    assert_eq!(u.user.as_deref(), Some("sips%3Auser%40example.com"));
    assert_eq!(
        u.user_decoded().as_deref(),
        Some(&b"sips:user@example.com"[..])
    );
    let r = request("escnull");
    let Uri::Sip(to) = &r.headers.to.uri else {
        panic!()
    };
    assert_eq!(to.user_decoded().as_deref(), Some(&b"null-\0-null"[..]));
    let r = request("esc02");
    assert_eq!(r.method, Method::Extension("RE%47IST%45R".into()));
    // `C%6Fntact` is not Contact.
    assert_eq!(
        r.headers.get("C%6Fntact"),
        Some("<sip:alias2@host2.example.com>")
    );
    let r = request("semiuri");
    let Uri::Sip(u) = &r.uri else { panic!() };
    assert_eq!(u.user.as_deref(), Some("user;par=u%40example.net"));
}

#[test]
fn intmeth_unknown_method_and_odd_bytes() {
    let r = request("intmeth");
    assert!(matches!(r.method, Method::Extension(_)));
    let d = r.headers.to.display.as_deref().unwrap_or("");
    assert!(d.contains('\0') && d.contains('\x07') && d.contains('\x7f'));
}

#[test]
fn dblreq_keeps_only_the_first_message() {
    let r = request("dblreq");
    assert_eq!(r.method, Method::Register);
    assert!(r.body.is_empty());
}

#[test]
fn rfc2543_requests_get_fallback_transaction_keys() {
    let r = request("inv2543");
    assert_eq!(r.body.len(), 105, "rest of the datagram is the body");
    assert!(matches!(
        r.server_transaction_key(),
        Some(TransactionKey::Rfc2543 { .. })
    ));
    let r = request("badbranch");
    assert!(matches!(
        r.server_transaction_key(),
        Some(TransactionKey::Rfc2543 { .. })
    ));
    // wsinv's top branch (`390skdjuw`) has no cookie either; transports' has.
    let r = request("wsinv");
    assert!(matches!(
        r.server_transaction_key(),
        Some(TransactionKey::Rfc2543 { .. })
    ));
    let r = request("transports");
    assert!(matches!(
        r.server_transaction_key(),
        Some(TransactionKey::Server { .. })
    ));
}

#[test]
fn unknown_schemes_are_kept_raw() {
    let r = request("unkscm");
    assert!(matches!(&r.uri, Uri::Other(s) if s.starts_with("nobodyKnowsThisScheme:")));
    let r = request("unksm2");
    assert!(matches!(&r.headers.to.uri, Uri::Other(s) if s == "isbn:2983792873"));
}

#[test]
fn responses_parse_with_odd_reason_phrases() {
    for (name, reason) in [("unreason", None), ("noreason", Some(""))] {
        match parse_datagram(&load(name)) {
            Ok(Message::Response(r)) => {
                if let Some(reason) = reason {
                    assert_eq!(r.reason, reason);
                } else {
                    assert!(!r.reason.is_ascii());
                }
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn every_accepted_message_frames_on_a_stream_when_it_has_a_length() {
    for (name, expect) in TABLE {
        if !matches!(expect, Accept) || name == "inv2543" {
            continue;
        }
        let raw = load(name);
        let Ok(m) = parse_datagram(&raw) else {
            panic!("{name}")
        };
        let wire = m.to_bytes();
        let mut f = StreamFramer::new(64 * 1024);
        f.push(&wire);
        assert_eq!(f.pull(), Framed::Message(Box::new(m)), "{name}");
        assert_eq!(f.pull(), Framed::Incomplete, "{name}");
    }
}
