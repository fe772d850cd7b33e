//! Abuse of the SIP side against the real engine over loopback (issue 12, items 4–6): a
//! blocked address still reaches the service number, an INVITE naming someone else's RTP
//! address reflects nothing and is released at Timer H, media goes only to where the
//! caller's own RTP comes from, and calls in set-up are limited per source.
//!
//! A tiny SIP client over a UDP socket, so the tests see every byte; every wait is bounded.

// Real peers run in real time: these tests measure it with the wall clock.
#![allow(clippy::disallowed_methods)]

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use common::{http_request, wait_for, Engine};
use hotline::sip::registrar::{expected_response, ha1, Algorithm};

/// One caller's (or attacker's) SIP socket.
struct Uac {
    sock: UdpSocket,
    engine: SocketAddr,
}

/// A response as the tests need it.
#[derive(Debug, Clone)]
struct Resp {
    status: u16,
    call_id: String,
    text: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.text.lines().find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with(&prefix)
                .then(|| l[prefix.len()..].trim())
        })
    }

    fn to_tag(&self) -> Option<String> {
        let to = self.header("To")?;
        let tag = to.split(";tag=").nth(1)?;
        Some(tag.split(';').next()?.trim().to_string())
    }

    /// The engine's RTP port from the SDP of a 200.
    fn rtp_port(&self) -> Option<u16> {
        self.text
            .lines()
            .find_map(|l| l.strip_prefix("m=audio "))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|p| p.parse().ok())
    }
}

impl Uac {
    fn bind(ip: &str, engine: &Engine) -> Uac {
        let sock = UdpSocket::bind(format!("{ip}:0")).expect("bind a SIP socket");
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        Uac {
            sock,
            engine: engine.sip,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.sock.local_addr().expect("addr")
    }

    fn send(&self, text: &str) {
        self.sock
            .send_to(text.as_bytes(), self.engine)
            .expect("send SIP");
    }

    /// Responses arriving within `window`.
    fn collect(&self, window: Duration) -> Vec<Resp> {
        let end = Instant::now() + window;
        let mut out = Vec::new();
        let mut buf = [0u8; 8192];
        while Instant::now() < end {
            if let Ok((n, _)) = self.sock.recv_from(&mut buf) {
                let text = String::from_utf8_lossy(&buf[..n]).to_string();
                let Some(status) = text
                    .strip_prefix("SIP/2.0 ")
                    .and_then(|r| r.get(..3))
                    .and_then(|s| s.parse().ok())
                else {
                    continue; // a request (a BYE at Timer H): not what these tests read
                };
                let mut r = Resp {
                    status,
                    call_id: String::new(),
                    text,
                };
                r.call_id = r.header("Call-ID").unwrap_or_default().to_string();
                out.push(r);
            }
        }
        out
    }

    /// The first response with `status` for `call_id`, waiting up to 5 s.
    fn expect(&self, call_id: &str, status: u16) -> Resp {
        let end = Instant::now() + Duration::from_secs(5);
        let mut seen = Vec::new();
        while Instant::now() < end {
            for r in self.collect(Duration::from_millis(100)) {
                if r.call_id == call_id && r.status == status {
                    return r;
                }
                seen.push(r.status);
            }
        }
        panic!("no {status} for {call_id}; saw {seen:?}");
    }

    /// An INVITE to 12345 whose SDP names `rtp` as where the caller wants audio.
    fn invite(&self, call_id: &str, rtp: SocketAddr) {
        let me = self.addr();
        let sdp = format!(
            "v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n",
            ip = rtp.ip(),
            port = rtp.port()
        );
        self.send(&format!(
            "INVITE sip:12345@{e} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK-{call_id};rport\r\nFrom: <sip:13800138000@{me}>;tag=t-{call_id}\r\nTo: <sip:12345@{e}>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:13800138000@{me}>\r\nMax-Forwards: 70\r\nUser-Agent: abuse-test\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
            sdp.len(),
            e = self.engine,
        ));
    }

    /// ACK (`cseq` 1) or BYE (`cseq` 2) inside the dialog the 200 `ok` opened.
    fn in_dialog(&self, method: &str, ok: &Resp, cseq: u32) {
        let me = self.addr();
        let tag = ok.to_tag().expect("To tag");
        let call_id = &ok.call_id;
        self.send(&format!(
            "{method} sip:hotline@{e} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK-{method}-{call_id};rport\r\nFrom: <sip:13800138000@{me}>;tag=t-{call_id}\r\nTo: <sip:12345@{e}>;tag={tag}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} {method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
            e = self.engine,
        ));
    }

    /// A REGISTER for agent 1001; with `password`, answering the 401 `challenge`.
    fn register(&self, n: u32, cseq: u32, challenge: Option<(&Resp, &str)>) {
        let me = self.addr();
        let uri = format!("sip:{}", self.engine.ip());
        let auth = match challenge {
            None => String::new(),
            Some((r, password)) => {
                let www = r.header("WWW-Authenticate").expect("a challenge");
                let nonce = www
                    .split("nonce=\"")
                    .nth(1)
                    .and_then(|s| s.split('"').next())
                    .expect("nonce");
                let (alg, name) = if www.contains("SHA-256") {
                    (Algorithm::Sha256, "SHA-256")
                } else {
                    (Algorithm::Md5, "MD5")
                };
                let h = ha1("1001", "hotline", password, alg);
                let resp = expected_response(
                    alg, &h, nonce, "00000001", "c0ffee", "auth", "REGISTER", &uri,
                );
                format!("Authorization: Digest username=\"1001\", realm=\"hotline\", nonce=\"{nonce}\", uri=\"{uri}\", response=\"{resp}\", algorithm={name}, qop=auth, nc=00000001, cnonce=\"c0ffee\"\r\n")
            }
        };
        self.send(&format!(
            "REGISTER {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK-reg{n}-{cseq};rport\r\nFrom: <sip:1001@{ip}>;tag=r{n}\r\nTo: <sip:1001@{ip}>\r\nCall-ID: reg-{n}\r\nCSeq: {cseq} REGISTER\r\nContact: <sip:1001@{me}>\r\n{auth}Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
            ip = self.engine.ip(),
        ));
    }
}

/// RTP datagrams arriving at `sock` within `window`, with their source.
fn rtp_received(sock: &UdpSocket, window: Duration) -> Vec<SocketAddr> {
    sock.set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let end = Instant::now() + window;
    let mut from = Vec::new();
    let mut buf = [0u8; 2048];
    while Instant::now() < end {
        if let Ok((_, a)) = sock.recv_from(&mut buf) {
            from.push(a);
        }
    }
    from
}

/// One RTP packet (PCMU silence) from `sock` to `to`.
fn send_rtp(sock: &UdpSocket, to: SocketAddr, seq: u16) {
    let mut p = vec![0x80, 0x00];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    p.extend_from_slice(&0x1234_5678u32.to_be_bytes());
    p.extend(std::iter::repeat_n(0xffu8, 160));
    sock.send_to(&p, to).expect("send RTP");
}

fn metric(engine: &Engine, line_start: &str) -> Option<f64> {
    let (_, body) = http_request(engine.http, "GET", "/metrics", None, None);
    body.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn a_scanner_datagram_and_failed_registers_do_not_block_calls_from_that_address() {
    let engine = Engine::start("");
    let uac = Uac::bind("127.0.0.1", &engine);
    let me = uac.addr();
    let e = engine.sip;
    // One forged-looking datagram with a scanner's User-Agent: refused, nothing more.
    uac.send(&format!("OPTIONS sip:100@{e} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK-scan;rport\r\nFrom: <sip:100@{me}>;tag=s\r\nTo: <sip:100@{e}>\r\nCall-ID: scan-1\r\nCSeq: 1 OPTIONS\r\nUser-Agent: friendly-scanner\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"));
    uac.expect("scan-1", 403);
    // Five REGISTERs with a wrong password: the address is blocked for registration.
    for n in 0..5 {
        uac.register(n, 1, None);
        let challenge = uac.expect(&format!("reg-{n}"), 401);
        uac.register(n, 2, Some((&challenge, "guess")));
        uac.expect(&format!("reg-{n}"), 403);
    }
    uac.register(9, 1, None);
    let refused = uac.expect("reg-9", 403);
    assert!(
        refused.header("WWW-Authenticate").is_none(),
        "blocked: 403 without a challenge"
    );
    // A citizen's call from the same address is answered, ACKed and hung up normally.
    let rtp = UdpSocket::bind("127.0.0.1:0").expect("rtp");
    uac.invite("call-after-block", rtp.local_addr().expect("addr"));
    let ok = uac.expect("call-after-block", 200);
    uac.in_dialog("ACK", &ok, 1);
    std::thread::sleep(Duration::from_millis(300));
    uac.in_dialog("BYE", &ok, 2);
    uac.expect("call-after-block", 200);
    assert_eq!(
        metric(&engine, "hotline_sip_refused_total{reason=\"scanner\"}"),
        Some(1.0)
    );
    assert!(
        metric(
            &engine,
            "hotline_sip_refused_total{reason=\"blocked_source\"}"
        ) >= Some(1.0)
    );
}

#[test]
fn an_unacked_invite_naming_another_address_sends_it_nothing_and_ends_at_timer_h() {
    // T1 = 100 ms: Timer H (64·T1) is 6.4 s.
    let engine = Engine::start("[sip]\nt1 = \"100ms\"\n");
    let uac = Uac::bind("127.0.0.1", &engine);
    let victim = UdpSocket::bind("127.0.0.1:0").expect("victim socket");
    uac.invite("reflect-1", victim.local_addr().expect("addr"));
    uac.expect("reflect-1", 200);
    // Never ACKed. The whole time until Timer H, the named address hears nothing.
    let got = rtp_received(&victim, Duration::from_millis(7000));
    assert!(
        got.is_empty(),
        "{} datagrams reflected at the victim",
        got.len()
    );
    let record = engine
        .latest_record(Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no record after Timer H; log:\n{}", engine.log()));
    assert_eq!(record["outcome"], "failed", "{record}");
    let live = wait_for(Duration::from_secs(2), || {
        let (_, body) = engine.get("/api/calls");
        (body.trim() == "[]").then_some(())
    });
    assert!(live.is_some(), "the call and its port are released");
    assert_eq!(
        metric(&engine, "hotline_rtp_packets_sent_total"),
        Some(0.0),
        "no RTP left the engine at all"
    );
}

#[test]
fn media_goes_only_to_where_the_callers_own_rtp_comes_from() {
    let engine = Engine::start("");
    let uac = Uac::bind("127.0.0.1", &engine);
    let victim = UdpSocket::bind("127.0.0.1:0").expect("victim socket");
    let phone_rtp = UdpSocket::bind("127.0.0.1:0").expect("phone rtp");
    uac.invite("latch-1", victim.local_addr().expect("addr"));
    let ok = uac.expect("latch-1", 200);
    let engine_rtp = SocketAddr::new(engine.sip.ip(), ok.rtp_port().expect("m=audio port"));
    uac.in_dialog("ACK", &ok, 1);
    // ACKed, but the caller has sent no RTP yet: nothing goes anywhere.
    assert!(rtp_received(&victim, Duration::from_millis(800)).is_empty());
    // Its first packet comes from another port than the SDP named: the menu goes there.
    send_rtp(&phone_rtp, engine_rtp, 1);
    let heard = rtp_received(&phone_rtp, Duration::from_millis(1000));
    assert!(
        heard.len() >= 25,
        "the caller hears the menu: {} packets",
        heard.len()
    );
    assert!(heard.iter().all(|a| *a == engine_rtp));
    assert!(
        rtp_received(&victim, Duration::from_millis(300)).is_empty(),
        "the SDP's address never got anything"
    );
    uac.in_dialog("BYE", &ok, 2);
    uac.expect("latch-1", 200);
}

#[test]
fn unacked_invites_from_one_source_are_limited_and_others_are_answered() {
    let engine = Engine::start("[sip]\nmax_setup_per_source = 5\ntrunks = [\"127.0.0.3\"]\n");
    let flood = Uac::bind("127.0.0.1", &engine);
    let sink = UdpSocket::bind("127.0.0.1:0").expect("sink");
    let sink_addr = sink.local_addr().expect("addr");
    for n in 0..12 {
        flood.invite(&format!("flood-{n}"), sink_addr);
    }
    let responses = flood.collect(Duration::from_millis(1500));
    let final_of = |n: u32| {
        responses
            .iter()
            .find(|r| r.call_id == format!("flood-{n}") && r.status >= 200)
            .map(|r| r.status)
    };
    let finals: Vec<Option<u16>> = (0..12).map(final_of).collect();
    assert_eq!(
        finals.iter().filter(|s| **s == Some(200)).count(),
        5,
        "{finals:?}"
    );
    assert_eq!(
        finals.iter().filter(|s| **s == Some(503)).count(),
        7,
        "{finals:?}"
    );
    let busy = responses.iter().find(|r| r.status == 503).expect("a 503");
    assert!(busy.header("Retry-After").is_some());
    // Another address is answered while the flood's calls are still in set-up.
    let citizen = Uac::bind("127.0.0.2", &engine);
    citizen.invite("citizen-1", sink_addr);
    let ok = citizen.expect("citizen-1", 200);
    citizen.in_dialog("ACK", &ok, 1);
    // The trunk is not held to the limit.
    let trunk = Uac::bind("127.0.0.3", &engine);
    for n in 0..8 {
        trunk.invite(&format!("trunk-{n}"), sink_addr);
        trunk.expect(&format!("trunk-{n}"), 200);
    }
    assert_eq!(
        metric(&engine, "hotline_sip_refused_total{reason=\"setup_limit\"}"),
        Some(7.0)
    );
}
