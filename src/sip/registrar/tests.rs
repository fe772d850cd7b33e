//! Fake-clock tests of bindings: expiry, `Expires: 0`, `Contact: *`, 423, clamping,
//! multiple contacts, Call-ID/CSeq ordering, events, the NAT flow. The digest is computed
//! here independently of `digest.rs` (straight from the RFC 2617 formula).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use md5::Md5;
use sha2::{Digest, Sha256};

use super::*;
use crate::sip::message::{Auth, Contact, Message};
use crate::sip::parse::parse_datagram;

pub(super) const REALM: &str = "hotline";

/// The one real clock reading of a test; every other instant is `t0 + Duration`.
pub(super) fn t0() -> Instant {
    crate::shell::clock::now()
}

pub(super) fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub(super) fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)))
}

pub(super) fn registrar(cfg: RegistrarConfig, t0: Instant) -> Registrar<u8> {
    let store = MemoryCredentials::new()
        .with_password("1001", REALM, "demo-1001")
        .with_password("1002", REALM, "demo-1002");
    match Registrar::new(cfg, Box::new(store), [42; 32], t0) {
        Ok(r) => r,
        Err(e) => panic!("config: {e}"),
    }
}

pub(super) fn parse(text: &str) -> Request {
    match parse_datagram(text.as_bytes()) {
        Ok(Message::Request(r)) => r,
        other => panic!("test request does not parse: {other:?}\n{text}"),
    }
}

pub(super) fn hex_md5(s: &str) -> String {
    hex::encode(Md5::digest(s.as_bytes()))
}

pub(super) fn hex_sha256(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// A softphone: builds REGISTERs, answers challenges with its own digest code.
pub(super) struct Phone {
    pub user: String,
    pub auth_user: String,
    pub password: String,
    pub call_id: String,
    pub cseq: u32,
    pub source: SocketAddr,
    pub user_agent: String,
    /// The challenge in use: (nonce, algorithm token).
    pub nonce: Option<(String, String)>,
    pub nc: u32,
}

impl Phone {
    pub(super) fn new(user: &str, password: &str, source: &str) -> Phone {
        Phone {
            user: user.to_owned(),
            auth_user: user.to_owned(),
            password: password.to_owned(),
            call_id: format!("call-{user}-{}", source.replace([':', '.'], "-")),
            cseq: 0,
            source: addr(source),
            user_agent: "TestPhone/1.0".to_owned(),
            nonce: None,
            nc: 0,
        }
    }

    pub(super) fn flow(&self) -> Flow<u8> {
        Flow {
            addr: self.source,
            link: 0,
        }
    }

    /// The default Contact of this phone.
    pub(super) fn contact(&self) -> String {
        format!("<sip:{}@192.168.1.20:5062;transport=udp>", self.user)
    }

    /// The digest `response` per RFC 2617 §3.2.2.1, written out by hand.
    pub(super) fn digest(
        &self,
        alg: &str,
        nonce: &str,
        nc: &str,
        cnonce: &str,
        uri: &str,
    ) -> String {
        let h = |s: &str| {
            if alg.eq_ignore_ascii_case("SHA-256") {
                hex_sha256(s)
            } else {
                hex_md5(s)
            }
        };
        let ha1 = h(&format!("{}:{REALM}:{}", self.auth_user, self.password));
        let ha2 = h(&format!("REGISTER:{uri}"));
        h(&format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"))
    }

    /// The next REGISTER with `extra` header lines (each ending in CRLF); credentials are
    /// added when a challenge is known (nc incremented).
    pub(super) fn request(&mut self, extra: &str) -> Request {
        self.cseq += 1;
        let uri = "sip:127.0.0.1";
        let auth = match self.nonce.clone() {
            Some((nonce, alg)) => {
                self.nc += 1;
                let nc = format!("{:08x}", self.nc);
                let cnonce = format!("c{}", self.cseq);
                let resp = self.digest(&alg, &nonce, &nc, &cnonce, uri);
                format!(
                    "Authorization: Digest username=\"{}\", realm=\"{REALM}\", nonce=\"{nonce}\", uri=\"{uri}\", response=\"{resp}\", algorithm={alg}, qop=auth, nc={nc}, cnonce=\"{cnonce}\"\r\n",
                    self.auth_user
                )
            }
            None => String::new(),
        };
        parse(&format!(
            "REGISTER {uri} SIP/2.0\r\n\
             Via: SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bK-{cseq}-{n};rport\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:{user}@127.0.0.1>;tag=ft{cseq}\r\n\
             To: <sip:{user}@127.0.0.1>\r\n\
             Call-ID: {cid}\r\n\
             CSeq: {cseq} REGISTER\r\n\
             User-Agent: {ua}\r\n\
             {auth}{extra}Content-Length: 0\r\n\r\n",
            cseq = self.cseq,
            cid = self.call_id,
            n = self.call_id.len(),
            user = self.user,
            ua = self.user_agent,
        ))
    }

    /// Takes the first challenge of a 401 (the client's choice per RFC 8760).
    pub(super) fn take_challenge(&mut self, resp: &Response) -> Option<Auth> {
        let ch = resp.headers.www_authenticate.first()?.clone();
        let nonce = ch.param("nonce")?.to_owned();
        let alg = ch.param("algorithm").unwrap_or("MD5").to_owned();
        self.nonce = Some((nonce, alg));
        self.nc = 0;
        Some(ch)
    }

    /// REGISTER with `extra`, answering one 401 if it comes.
    pub(super) fn register(
        &mut self,
        reg: &mut Registrar<u8>,
        extra: &str,
        now: Instant,
    ) -> Response {
        let req = self.request(extra);
        let resp = reg.handle_register(&req, self.flow(), now);
        if resp.status != 401 {
            return resp;
        }
        self.take_challenge(&resp);
        let req = self.request(extra);
        reg.handle_register(&req, self.flow(), now)
    }
}

pub(super) fn events(reg: &mut Registrar<u8>) -> Vec<RegistrarEvent> {
    std::iter::from_fn(|| reg.poll_event()).collect()
}

fn contact_expires(resp: &Response) -> Vec<(String, Option<u32>)> {
    match &resp.headers.contact {
        Some(Contact::List(l)) => l.iter().map(|c| (c.uri.to_string(), c.expires())).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn register_lists_bindings_and_expires_on_the_fake_clock() {
    let t0 = t0();
    let mut reg = registrar(RegistrarConfig::default(), t0);
    let mut p = Phone::new("1001", "demo-1001", "203.0.113.9:40000");
    let c = p.contact();
    let resp = p.register(&mut reg, &format!("Contact: {c}\r\nExpires: 120\r\n"), t0);
    assert_eq!(resp.status, 200, "{resp:?}");
    assert!(resp.headers.to.tag().is_some());
    assert_eq!(
        contact_expires(&resp),
        vec![(
            "sip:1001@192.168.1.20:5062;transport=udp".to_owned(),
            Some(120)
        )]
    );
    let ev = events(&mut reg);
    assert!(
        matches!(&ev[..], [RegistrarEvent::BindingAdded { user, live: 1, source, .. }]
        if user == "1001" && *source == addr("203.0.113.9:40000"))
    );
    assert!(reg.is_registered("1001", t0));
    assert_eq!(reg.registered_users(t0), vec!["1001".to_owned()]);

    // NAT: the binding remembers where the REGISTER came from, not the private Contact.
    let b = reg.contacts("1001", t0);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].flow.addr, addr("203.0.113.9:40000"));
    assert_eq!(b[0].user_agent.as_deref(), Some("TestPhone/1.0"));

    assert_eq!(reg.poll_timeout(), Some(t0 + secs(120)));
    reg.handle_timeout(t0 + secs(119));
    assert!(events(&mut reg).is_empty());
    assert!(reg.is_registered("1001", t0 + secs(119)));
    // Lookups never return a lapsed binding, even before the timeout is handled.
    assert!(reg.contacts("1001", t0 + secs(120)).is_empty());
    reg.handle_timeout(t0 + secs(120));
    let ev = events(&mut reg);
    assert!(
        matches!(&ev[..], [RegistrarEvent::BindingExpired { user, live: 0, .. }] if user == "1001")
    );
    assert!(!reg.is_registered("1001", t0 + secs(120)));
    assert_eq!(reg.poll_timeout().filter(|t| *t <= t0 + secs(120)), None);
}

#[test]
fn refresh_then_expires_zero_removes() {
    let t0 = t0();
    let mut reg = registrar(RegistrarConfig::default(), t0);
    let mut p = Phone::new("1001", "demo-1001", "203.0.113.9:40000");
    let c = p.contact();
    assert_eq!(
        p.register(&mut reg, &format!("Contact: {c}\r\nExpires: 300\r\n"), t0)
            .status,
        200
    );
    let _ = events(&mut reg);
    let t1 = t0 + secs(100);
    let resp = p.register(&mut reg, &format!("Contact: {c}\r\nExpires: 300\r\n"), t1);
    assert_eq!(resp.status, 200);
    assert_eq!(contact_expires(&resp)[0].1, Some(300));
    assert!(matches!(
        &events(&mut reg)[..],
        [RegistrarEvent::BindingRefreshed { live: 1, .. }]
    ));
    assert!(reg.is_registered("1001", t1 + secs(299)));
    assert!(!reg.is_registered("1001", t1 + secs(300)));
    // 50 s later the 200 of a query reports the time left, rounded up.
    let resp = p.register(&mut reg, "", t1 + secs(50) + Duration::from_millis(500));
    assert_eq!(contact_expires(&resp)[0].1, Some(250));

    let resp = p.register(
        &mut reg,
        &format!("Contact: {c}\r\nExpires: 0\r\n"),
        t1 + secs(60),
    );
    assert_eq!(resp.status, 200);
    assert_eq!(resp.headers.contact, None);
    assert!(matches!(
        &events(&mut reg)[..],
        [RegistrarEvent::BindingRemoved { live: 0, .. }]
    ));
    assert!(!reg.is_registered("1001", t1 + secs(60)));
    // Only the nonce-count memory of the first nonce is left to time out.
    assert_eq!(reg.poll_timeout(), Some(t0 + secs(300)));
}

#[test]
fn contact_param_expires_wins_over_header_and_is_clamped() {
    let t0 = t0();
    let mut reg = registrar(RegistrarConfig::default(), t0);
    let mut p = Phone::new("1001", "demo-1001", "203.0.113.9:40000");
    let resp = p.register(
        &mut reg,
        "Contact: <sip:1001@10.0.0.1:5060>;expires=200, <sip:1001@10.0.0.2:5060>\r\nContact: <sip:1001@10.0.0.3:5060>;expires=99999\r\nExpires: 400\r\n",
        t0,
    );
    assert_eq!(resp.status, 200);
    let mut got = contact_expires(&resp);
    got.sort();
    assert_eq!(
        got,
        vec![
            ("sip:1001@10.0.0.1:5060".to_owned(), Some(200)),
            ("sip:1001@10.0.0.2:5060".to_owned(), Some(400)),
            ("sip:1001@10.0.0.3:5060".to_owned(), Some(3600)),
        ]
    );
    // No Expires anywhere: the default.
    let mut p2 = Phone::new("1002", "demo-1002", "203.0.113.10:40000");
    let resp = p2.register(&mut reg, "Contact: <sip:1002@10.0.0.9>\r\n", t0);
    assert_eq!(resp.status, 200, "{}", resp.reason);
    assert_eq!(
        contact_expires(&resp),
        vec![("sip:1002@10.0.0.9".to_owned(), Some(600))]
    );
}

#[test]
fn too_brief_gets_423_with_min_expires() {
    let t0 = t0();
    let mut reg = registrar(RegistrarConfig::default(), t0);
    let mut p = Phone::new("1001", "demo-1001", "203.0.113.9:40000");
    let c = p.contact();
    let resp = p.register(&mut reg, &format!("Contact: {c}\r\nExpires: 30\r\n"), t0);
    assert_eq!(resp.status, 423);
    assert_eq!(resp.headers.get("Min-Expires"), Some("60"));
    assert!(!reg.is_registered("1001", t0));
    // The phone retries with the minimum and is accepted.
    let resp = p.register(&mut reg, &format!("Contact: {c}\r\nExpires: 60\r\n"), t0);
    assert_eq!(resp.status, 200);
}

#[test]
fn star_with_expires_zero_removes_all_and_star_otherwise_is_400() {
    let t0 = t0();
    let mut reg = registrar(RegistrarConfig::default(), t0);
    let mut p = Phone::new("1001", "demo-1001", "203.0.113.9:40000");
    let resp = p.register(
        &mut reg,
        "Contact: <sip:1001@10.0.0.1>, <sip:1001@10.0.0.2>\r\nExpires: 600\r\n",
        t0,
    );
    assert_eq!(resp.status, 200);
    assert_eq!(reg.contacts("1001", t0).len(), 2);
    let _ = events(&mut reg);
    let resp = p.register(&mut reg, "Contact: *\r\n", t0 + secs(1));
    assert_eq!(resp.status, 400);
    let resp = p.register(&mut reg, "Contact: *\r\nExpires: 5\r\n", t0 + secs(1));
    assert_eq!(resp.status, 400);
    assert_eq!(reg.contacts("1001", t0 + secs(1)).len(), 2);
    let resp = p.register(&mut reg, "Contact: *\r\nExpires: 0\r\n", t0 + secs(2));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.headers.contact, None);
    let ev = events(&mut reg);
    assert_eq!(ev.len(), 2);
    assert!(ev
        .iter()
        .all(|e| matches!(e, RegistrarEvent::BindingRemoved { .. })));
    assert!(matches!(
        ev[1],
        RegistrarEvent::BindingRemoved { live: 0, .. }
    ));
    assert!(!reg.is_registered("1001", t0 + secs(2)));
}

#[test]
fn same_call_id_needs_a_higher_cseq_other_call_id_replaces() {
    let t0 = t0();
    let mut reg = registrar(RegistrarConfig::default(), t0);
    let mut p = Phone::new("1001", "demo-1001", "203.0.113.9:40000");
    let c = p.contact();
    assert_eq!(
        p.register(&mut reg, &format!("Contact: {c}\r\n"), t0)
            .status,
        200
    );
    let stored = reg.contacts("1001", t0)[0].cseq;
    // An old, delayed REGISTER of the same Call-ID (lower CSeq) must not undo the newer one.
    p.cseq = stored - 1;
    let req = p.request(&format!("Contact: {c}\r\nExpires: 0\r\n"));
    let resp = reg.handle_register(&req, p.flow(), t0 + secs(1));
    assert_eq!(resp.status, 500, "{}", resp.reason);
    assert!(reg.is_registered("1001", t0 + secs(1)));
    // Equal CSeq too.
    p.cseq = stored - 1;
    let req = p.request(&format!("Contact: {c}\r\nExpires: 0\r\n"));
    assert_eq!(
        reg.handle_register(&req, p.flow(), t0 + secs(1)).status,
        500
    );
    // A phone that rebooted (new Call-ID, CSeq from 1) takes the binding over.
    let mut rebooted = Phone::new("1001", "demo-1001", "203.0.113.9:40001");
    rebooted.call_id = "after-reboot".to_owned();
    let resp = rebooted.register(&mut reg, &format!("Contact: {c}\r\n"), t0 + secs(2));
    assert_eq!(resp.status, 200);
    let b = reg.contacts("1001", t0 + secs(2));
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].call_id, "after-reboot");
    assert_eq!(b[0].flow.addr, addr("203.0.113.9:40001"));
}

#[test]
fn failed_update_changes_nothing_and_binding_count_is_capped() {
    let t0 = t0();
    let cfg = RegistrarConfig {
        max_bindings_per_user: 2,
        ..RegistrarConfig::default()
    };
    let mut reg = registrar(cfg, t0);
    let mut p = Phone::new("1001", "demo-1001", "203.0.113.9:40000");
    assert_eq!(
        p.register(&mut reg, "Contact: <sip:1001@10.0.0.1>\r\n", t0)
            .status,
        200
    );
    let _ = events(&mut reg);
    let resp = p.register(
        &mut reg,
        "Contact: <sip:1001@10.0.0.2>, <sip:1001@10.0.0.3>\r\n",
        t0 + secs(1),
    );
    assert_eq!(resp.status, 403);
    assert!(events(&mut reg).is_empty());
    assert_eq!(reg.contacts("1001", t0 + secs(1)).len(), 1);
}

#[test]
fn uri_equivalence_follows_rfc3261_19_1_4() {
    let u = |s: &str| {
        parse(&format!(
            "OPTIONS sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <{s}>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        ))
        .headers
        .to
        .uri
    };
    assert!(uri_equivalent(
        &u("sip:1001@EXAMPLE.com"),
        &u("sip:1001@example.com")
    ));
    assert!(uri_equivalent(&u("sip:%31001@h"), &u("sip:1001@h")));
    assert!(!uri_equivalent(&u("sip:1001@h"), &u("sip:1001@h:5060")));
    assert!(!uri_equivalent(
        &u("sip:1001@h"),
        &u("sip:1001@h;transport=tcp")
    ));
    assert!(uri_equivalent(&u("sip:1001@h;foo=1"), &u("sip:1001@h")));
    assert!(!uri_equivalent(
        &u("sip:1001@h;foo=1"),
        &u("sip:1001@h;foo=2")
    ));
    assert!(!uri_equivalent(&u("sip:1001@h"), &u("sips:1001@h")));
    assert!(!uri_equivalent(&u("sip:Alice@h"), &u("sip:alice@h")));
}

#[test]
fn contacts_sorted_by_q_and_link_close_removes() {
    let t0 = t0();
    let mut reg = registrar(RegistrarConfig::default(), t0);
    let mut p = Phone::new("1001", "demo-1001", "203.0.113.9:40000");
    let resp = p.register(
        &mut reg,
        "Contact: <sip:1001@10.0.0.1>;q=0.2, <sip:1001@10.0.0.2>;q=0.9\r\n",
        t0,
    );
    assert_eq!(resp.status, 200);
    let b = reg.contacts("1001", t0);
    assert_eq!(b[0].uri().to_string(), "sip:1001@10.0.0.2");
    assert_eq!(b[0].q_millis(), 900);
    let _ = events(&mut reg);
    reg.handle_link_closed(&0, t0 + secs(1));
    let ev = events(&mut reg);
    assert_eq!(ev.len(), 2);
    assert!(!reg.is_registered("1001", t0 + secs(1)));
    assert_eq!(reg.poll_timeout(), Some(t0 + secs(300)));
}

#[test]
fn missing_aor_user_and_non_sip_contact_are_refused() {
    let t0 = t0();
    let mut reg = registrar(RegistrarConfig::default(), t0);
    let req = parse(
        "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n",
    );
    let resp = reg.handle_register(
        &req,
        Flow {
            addr: addr("198.51.100.1:5060"),
            link: 0,
        },
        t0,
    );
    assert_eq!(resp.status, 404);
    let mut p = Phone::new("1001", "demo-1001", "203.0.113.9:40000");
    let resp = p.register(&mut reg, "Contact: <tel:+861012345>\r\n", t0);
    assert_eq!(resp.status, 400);
    let bad = RegistrarConfig {
        min_expires: 100,
        default_expires: 50,
        ..RegistrarConfig::default()
    };
    assert!(matches!(
        Registrar::<u8>::new(bad, Box::new(MemoryCredentials::new()), [0; 32], t0),
        Err(ConfigError::Expires { .. })
    ));
}
