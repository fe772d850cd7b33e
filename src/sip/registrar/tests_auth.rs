//! Fake-clock tests of the digest exchange (MD5 and SHA-256, computed in the test from the
//! RFC 2617 formula), stale nonces, nonce-count replay, wrong passwords and unknown users,
//! blocking and unblocking, scanners, and hostile input.

use proptest::prelude::*;

use super::tests::{addr, events, parse, registrar, secs, t0, Phone, REALM};
use super::*;

#[test]
fn challenge_offers_sha256_then_md5_with_qop_auth() {
    let t0 = t0();
    let mut reg = registrar(RegistrarConfig::default(), t0);
    let mut p = Phone::new("1001", "demo-1001", "203.0.113.9:40000");
    let req = p.request("Contact: <sip:1001@10.0.0.1>\r\n");
    let resp = reg.handle_register(&req, p.flow(), t0);
    assert_eq!(resp.status, 401);
    let ch = &resp.headers.www_authenticate;
    assert_eq!(ch.len(), 2);
    assert_eq!(ch[0].param("algorithm"), Some("SHA-256"));
    assert_eq!(ch[1].param("algorithm"), Some("MD5"));
    for c in ch {
        assert_eq!(c.scheme, "Digest");
        assert_eq!(c.param("realm"), Some(REALM));
        assert_eq!(c.param("qop"), Some("auth"));
        assert_eq!(c.param("stale"), None);
        assert!(c.raw.starts_with("Digest realm=\"hotline\", nonce=\""));
    }
    // One nonce for both: the client may answer either.
    assert_eq!(ch[0].param("nonce"), ch[1].param("nonce"));
    // The challenge survives the encoder and parser.
    let wire = resp.to_bytes();
    let text = String::from_utf8_lossy(&wire);
    assert!(
        text.contains("WWW-Authenticate: Digest realm=\"hotline\""),
        "{text}"
    );
    assert!(!reg.is_registered("1001", t0));
}

#[test]
fn full_exchange_with_sha256_and_with_md5() {
    for alg_index in [0usize, 1] {
        let t0 = t0();
        let mut reg = registrar(RegistrarConfig::default(), t0);
        let mut p = Phone::new("1001", "demo-1001", "203.0.113.9:40000");
        let req = p.request("Contact: <sip:1001@10.0.0.1>\r\n");
        let resp = reg.handle_register(&req, p.flow(), t0);
        let ch = resp.headers.www_authenticate[alg_index].clone();
        let nonce = ch.param("nonce").unwrap_or_default().to_owned();
        let alg = ch.param("algorithm").unwrap_or_default().to_owned();
        // Compute the response by hand for this exact request.
        let nc = "00000001";
        let cnonce = "0a4f113b";
        let response = p.digest(&alg, &nonce, nc, cnonce, "sip:127.0.0.1");
        let expected_len = if alg == "SHA-256" { 64 } else { 32 };
        assert_eq!(response.len(), expected_len);
        p.cseq += 1;
        let req = parse(&format!(
            "REGISTER sip:127.0.0.1 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bKabc{alg_index};rport\r\n\
             From: <sip:1001@127.0.0.1>;tag=x\r\nTo: <sip:1001@127.0.0.1>\r\n\
             Call-ID: {cid}\r\nCSeq: {cseq} REGISTER\r\n\
             Contact: <sip:1001@10.0.0.1>\r\n\
             Authorization: Digest username=\"1001\",realm=\"hotline\",nonce=\"{nonce}\",uri=\"sip:127.0.0.1\",response=\"{response}\",algorithm={alg},cnonce=\"{cnonce}\",qop=auth,nc={nc}\r\n\
             Content-Length: 0\r\n\r\n",
            cid = p.call_id,
            cseq = p.cseq
        ));
        let resp = reg.handle_register(&req, p.flow(), t0 + secs(1));
        assert_eq!(resp.status, 200, "{alg}: {}", resp.reason);
        assert!(reg.is_registered("1001", t0 + secs(1)));
        let _ = events(&mut reg);
    }
}

#[test]
fn wrong_password_and_unknown_user_get_the_same_403_after_the_challenge() {
    let t0 = t0();
    let mut reg = registrar(RegistrarConfig::default(), t0);
    let mut wrong = Phone::new("1001", "guess", "198.51.100.5:5060");
    let r1 = wrong.register(&mut reg, "Contact: <sip:1001@10.0.0.1>\r\n", t0);
    let mut ghost = Phone::new("9999", "guess", "198.51.100.6:5060");
    let r2 = ghost.register(&mut reg, "Contact: <sip:9999@10.0.0.1>\r\n", t0);
    assert_eq!((r1.status, r2.status), (403, 403));
    assert_eq!(r1.reason, r2.reason);
    assert!(r1.headers.www_authenticate.is_empty() && r2.headers.www_authenticate.is_empty());
    assert_eq!(reg.counters().auth_failures, 2);
    let ev = events(&mut reg);
    assert!(matches!(&ev[0], RegistrarEvent::AuthFailed { username, .. } if username == "1001"));
    assert!(matches!(&ev[1], RegistrarEvent::AuthFailed { username, .. } if username == "9999"));
    assert!(!reg.is_registered("1001", t0));
}

#[test]
fn username_must_be_the_aor() {
    let t0 = t0();
    let mut reg = registrar(RegistrarConfig::default(), t0);
    // 1002 knows its own password and tries to register as 1001.
    let mut p = Phone::new("1001", "demo-1002", "203.0.113.9:40000");
    p.auth_user = "1002".to_owned();
    let resp = p.register(&mut reg, "Contact: <sip:1001@10.0.0.66>\r\n", t0);
    assert_eq!(resp.status, 403);
    assert!(!reg.is_registered("1001", t0));
}

#[test]
fn stale_nonce_gets_stale_true_and_the_phone_recovers() {
    let t0 = t0();
    let mut reg = registrar(RegistrarConfig::default(), t0);
    let mut p = Phone::new("1001", "demo-1001", "203.0.113.9:40000");
    let c = "Contact: <sip:1001@10.0.0.1>\r\n";
    assert_eq!(p.register(&mut reg, c, t0).status, 200);
    // Within the lifetime the phone may reuse the nonce (preemptive credentials).
    let req = p.request(c);
    assert_eq!(
        reg.handle_register(&req, p.flow(), t0 + secs(299)).status,
        200
    );
    // After it, a correct digest over the old nonce earns stale=true, not 403.
    let req = p.request(c);
    let resp = reg.handle_register(&req, p.flow(), t0 + secs(300));
    assert_eq!(resp.status, 401);
    assert!(resp
        .headers
        .www_authenticate
        .iter()
        .all(|a| a.param("stale") == Some("true")));
    assert_eq!(reg.counters().stale, 1);
    assert_eq!(reg.counters().auth_failures, 0);
    p.take_challenge(&resp);
    let req = p.request(c);
    assert_eq!(
        reg.handle_register(&req, p.flow(), t0 + secs(300)).status,
        200
    );

    // A wrong password over a stale nonce is still a plain 403 (stale only for a good digest).
    let mut wrong = Phone::new("1001", "nope", "198.51.100.5:5060");
    wrong.nonce = p.nonce.clone();
    let req = wrong.request(c);
    assert_eq!(
        reg.handle_register(&req, wrong.flow(), t0 + secs(900))
            .status,
        403
    );
}

#[test]
fn replayed_nonce_count_is_not_accepted() {
    let t0 = t0();
    let mut reg = registrar(RegistrarConfig::default(), t0);
    let mut p = Phone::new("1001", "demo-1001", "203.0.113.9:40000");
    let c = "Contact: <sip:1001@10.0.0.1>\r\n";
    let req = p.request(c);
    let resp = reg.handle_register(&req, p.flow(), t0);
    p.take_challenge(&resp);
    let captured = p.request(c);
    assert_eq!(reg.handle_register(&captured, p.flow(), t0).status, 200);
    // An attacker replays the captured request (the transaction layer would absorb a
    // retransmission with the same branch; this one comes later, from elsewhere).
    let attacker = Flow {
        addr: addr("198.51.100.77:5060"),
        link: 0,
    };
    let resp = reg.handle_register(&captured, attacker, t0 + secs(10));
    assert_eq!(resp.status, 401);
    assert_eq!(reg.counters().replays, 1);
    assert_eq!(reg.contacts("1001", t0 + secs(10))[0].flow.addr, p.source);
    // Lower nc is refused too; the next higher nc works.
    p.nc = 0;
    let req = p.request(c); // nc = 1 again
    assert_eq!(
        reg.handle_register(&req, p.flow(), t0 + secs(11)).status,
        401
    );
    p.nc = 5;
    let req = p.request(c); // nc = 6
    assert_eq!(
        reg.handle_register(&req, p.flow(), t0 + secs(12)).status,
        200
    );
}

#[test]
fn forged_or_foreign_nonce_gets_a_fresh_challenge() {
    let t0 = t0();
    let mut reg = registrar(RegistrarConfig::default(), t0);
    let mut p = Phone::new("1001", "demo-1001", "203.0.113.9:40000");
    p.nonce = Some((
        "00000000000000000000000000000001123456789abcdef0123456789abcdef0".into(),
        "MD5".into(),
    ));
    let resp = p.register(&mut reg, "Contact: <sip:1001@10.0.0.1>\r\n", t0);
    // First answer: 401 without stale; then the helper answers it properly.
    assert_eq!(resp.status, 200);
    assert_eq!(reg.counters().challenges, 1);
    assert_eq!(reg.counters().stale, 0);
    assert_eq!(reg.counters().auth_failures, 0);
}

#[test]
fn malformed_credentials_are_400() {
    let t0 = t0();
    let mut reg = registrar(RegistrarConfig::default(), t0);
    let mut p = Phone::new("1001", "demo-1001", "203.0.113.9:40000");
    let req = p.request("");
    let resp = reg.handle_register(&req, p.flow(), t0);
    let nonce = resp.headers.www_authenticate[0]
        .param("nonce")
        .unwrap_or_default()
        .to_owned();
    let cases = [
        // no qop: RFC 2069 style, no nonce-count to protect against replay
        format!("Digest username=\"1001\", realm=\"hotline\", nonce=\"{nonce}\", uri=\"sip:127.0.0.1\", response=\"00\""),
        // uri not the Request-URI
        format!("Digest username=\"1001\", realm=\"hotline\", nonce=\"{nonce}\", uri=\"sip:evil\", response=\"00\", qop=auth, nc=00000001, cnonce=\"x\""),
        // bad nc
        format!("Digest username=\"1001\", realm=\"hotline\", nonce=\"{nonce}\", uri=\"sip:127.0.0.1\", response=\"00\", qop=auth, nc=1, cnonce=\"x\""),
        // missing response
        format!("Digest username=\"1001\", realm=\"hotline\", nonce=\"{nonce}\", uri=\"sip:127.0.0.1\", qop=auth, nc=00000001, cnonce=\"x\""),
    ];
    for (i, a) in cases.iter().enumerate() {
        let req = p.request(&format!("Authorization: {a}\r\n"));
        let resp = reg.handle_register(&req, p.flow(), t0);
        assert_eq!(resp.status, 400, "case {i}: {}", resp.reason);
    }
    // Another realm or an unknown algorithm is not for us: challenge.
    for a in [
        format!("Digest username=\"1001\", realm=\"other\", nonce=\"{nonce}\", uri=\"sip:127.0.0.1\", response=\"00\""),
        format!("Digest username=\"1001\", realm=\"hotline\", nonce=\"{nonce}\", uri=\"sip:127.0.0.1\", response=\"00\", algorithm=SHA-512-256, qop=auth, nc=00000001, cnonce=\"x\""),
        "Basic MTAwMTpkZW1vLTEwMDE=".to_owned(),
    ] {
        let req = p.request(&format!("Authorization: {a}\r\n"));
        assert_eq!(reg.handle_register(&req, p.flow(), t0).status, 401);
    }
    assert_eq!(reg.counters().auth_failures, 0);
}

#[test]
fn repeated_failures_block_the_source_then_the_block_expires() {
    let t0 = t0();
    let mut reg = registrar(RegistrarConfig::default(), t0);
    let mut attacker = Phone::new("1001", "guess", "198.51.100.5:5060");
    for i in 0..5 {
        let resp = attacker.register(&mut reg, "", t0 + secs(i));
        assert_eq!(resp.status, 403);
    }
    let ev = events(&mut reg);
    let until = ev.iter().find_map(|e| match e {
        RegistrarEvent::SourceBlocked { until, .. } => Some(*until),
        _ => None,
    });
    assert_eq!(until, Some(t0 + secs(4) + secs(600)));
    let ip = attacker.source.ip();
    assert!(reg.is_blocked(ip, t0 + secs(5)));
    assert_eq!(reg.blocked_until(ip, t0 + secs(5)), until);
    // While blocked: 403 with no challenge, even with the right password, and for any method.
    let mut same_ip = Phone::new("1001", "demo-1001", "198.51.100.5:6000");
    let req = same_ip.request("");
    let resp = reg.handle_register(&req, same_ip.flow(), t0 + secs(5));
    assert_eq!(resp.status, 403);
    assert!(resp.headers.www_authenticate.is_empty());
    let options = parse(
        "OPTIONS sip:12345@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK9\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:12345@127.0.0.1>\r\nCall-ID: o\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
    );
    assert!(matches!(
        reg.screen(&options, addr("198.51.100.5:7000"), false, Traffic::Agent, t0 + secs(5)),
        Screening::Refuse(r) if r.status == 403 && r.headers.www_authenticate.is_empty()
    ));
    // An ACK from it is dropped, never answered.
    let ack = parse(
        "ACK sip:12345@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK9\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:12345@127.0.0.1>;tag=2\r\nCall-ID: o\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(
        reg.screen(
            &ack,
            addr("198.51.100.5:7000"),
            false,
            Traffic::Agent,
            t0 + secs(5)
        ),
        Screening::Drop
    );
    // A call to the service number from the blocked address passes: the carrier's trunk
    // shares it with every citizen.
    for req in [&options, &ack] {
        assert_eq!(
            reg.screen(
                req,
                addr("198.51.100.5:7000"),
                false,
                Traffic::Call,
                t0 + secs(5)
            ),
            Screening::Pass
        );
    }
    // Another source is unaffected.
    assert_eq!(
        reg.screen(
            &options,
            addr("198.51.100.6:7000"),
            false,
            Traffic::Agent,
            t0 + secs(5)
        ),
        Screening::Pass
    );
    let mut good = Phone::new("1001", "demo-1001", "203.0.113.9:40000");
    assert_eq!(
        good.register(&mut reg, "Contact: <sip:1001@10.0.0.1>\r\n", t0 + secs(5))
            .status,
        200
    );

    // The block ends on the fake clock.
    let end = t0 + secs(604);
    assert!(reg.poll_timeout().is_some_and(|t| t <= end));
    reg.handle_timeout(end);
    assert!(events(&mut reg)
        .iter()
        .any(|e| matches!(e, RegistrarEvent::SourceUnblocked { ip: i } if *i == ip)));
    assert!(!reg.is_blocked(ip, end));
    let mut same_ip = Phone::new("1001", "demo-1001", "198.51.100.5:6000");
    assert_eq!(
        same_ip
            .register(&mut reg, "Contact: <sip:1001@10.0.0.2>\r\n", end)
            .status,
        200
    );
}

#[test]
fn success_resets_the_failure_count() {
    let t0 = t0();
    let mut reg = registrar(RegistrarConfig::default(), t0);
    for round in 0..3u64 {
        let mut typo = Phone::new("1001", "demo-100", "203.0.113.9:40000");
        for i in 0..4 {
            assert_eq!(
                typo.register(&mut reg, "", t0 + secs(round * 10 + i))
                    .status,
                403
            );
        }
        let mut ok = Phone::new("1001", "demo-1001", "203.0.113.9:40000");
        assert_eq!(
            ok.register(&mut reg, "", t0 + secs(round * 10 + 5)).status,
            200
        );
    }
    assert!(!reg.is_blocked(addr("203.0.113.9:1").ip(), t0 + secs(30)));
}

#[test]
fn a_scanner_user_agent_over_udp_is_refused_but_blocks_only_over_tcp() {
    let t0 = t0();
    let mut reg = registrar(RegistrarConfig::default(), t0);
    let mut s = Phone::new("100", "x", "198.51.100.9:5070");
    s.user_agent = "friendly-scanner".to_owned();
    let req = s.request("");
    // Over UDP the User-Agent is all there is, and anyone can forge it with any source.
    let resp = reg.handle_register(&req, s.flow(), t0);
    assert_eq!(resp.status, 403);
    assert!(resp.headers.www_authenticate.is_empty());
    let ev = events(&mut reg);
    assert!(
        matches!(&ev[0], RegistrarEvent::ScannerRefused { user_agent, .. } if user_agent == "friendly-scanner")
    );
    assert_eq!(ev.len(), 1, "refused, not blocked: {ev:?}");
    assert!(!reg.is_blocked(s.source.ip(), t0 + secs(1)));
    assert_eq!(reg.counters().refused_scanner, 1);

    // Over TCP the handshake proved the address: refused and blocked.
    let resp = reg.handle_register_from(&req, s.flow(), true, t0);
    assert_eq!(resp.status, 403);
    let ev = events(&mut reg);
    assert!(matches!(&ev[1], RegistrarEvent::SourceBlocked { .. }));
    assert!(reg.is_blocked(s.source.ip(), t0 + secs(1)));

    // With Refuse only, the source is not blocked.
    let cfg = RegistrarConfig {
        scanners: ScannerPolicy::Refuse,
        ..RegistrarConfig::default()
    };
    let mut reg = registrar(cfg, t0);
    assert_eq!(
        reg.handle_register_from(&req, s.flow(), true, t0).status,
        403
    );
    assert!(!reg.is_blocked(s.source.ip(), t0));
}

#[test]
fn an_exempt_trunk_is_never_blocked_by_failures_or_scanners() {
    let t0 = t0();
    let cfg = RegistrarConfig {
        block: crate::sip::registrar::BlockPolicy {
            exempt: vec!["198.51.100.0/24".parse().expect("prefix")],
            ..Default::default()
        },
        ..RegistrarConfig::default()
    };
    let mut reg = registrar(cfg, t0);
    let mut attacker = Phone::new("1001", "guess", "198.51.100.5:5060");
    for i in 0..10 {
        assert_eq!(attacker.register(&mut reg, "", t0 + secs(i)).status, 403);
    }
    attacker.user_agent = "sipvicious".to_owned();
    let req = attacker.request("");
    assert_eq!(
        reg.handle_register_from(&req, attacker.flow(), true, t0 + secs(11))
            .status,
        403
    );
    assert!(!reg.is_blocked(attacker.source.ip(), t0 + secs(12)));
    assert!(reg.is_exempt(attacker.source.ip()));
}

#[test]
fn old_stacks_are_offered_md5_only() {
    let t0 = t0();
    let mut reg = registrar(RegistrarConfig::default(), t0);
    let mut p = Phone::new("1001", "demo-1001", "127.0.0.1:5062");
    p.user_agent = "baresip v1.0.0 (x86_64/linux)".to_owned();
    let req = p.request("");
    let resp = reg.handle_register(&req, p.flow(), t0);
    assert_eq!(resp.headers.www_authenticate.len(), 1);
    assert_eq!(
        resp.headers.www_authenticate[0].param("algorithm"),
        Some("MD5")
    );
    p.take_challenge(&resp);
    assert_eq!(
        reg.handle_register(&p.request(""), p.flow(), t0).status,
        200
    );
}

#[test]
fn nonce_count_memory_is_forgotten_when_the_nonce_goes_stale() {
    let t0 = t0();
    let mut reg = registrar(RegistrarConfig::default(), t0);
    let mut p = Phone::new("1001", "demo-1001", "203.0.113.9:40000");
    assert_eq!(p.register(&mut reg, "", t0).status, 200);
    assert_eq!(reg.poll_timeout(), Some(t0 + secs(300)));
    reg.handle_timeout(t0 + secs(300));
    assert_eq!(reg.poll_timeout(), None);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Hostile Authorization values never panic and never authenticate.
    #[test]
    fn arbitrary_credentials_never_panic_or_pass(
        params in proptest::collection::vec(
            (prop_oneof![Just("username"), Just("realm"), Just("nonce"), Just("uri"),
                         Just("response"), Just("qop"), Just("nc"), Just("cnonce"),
                         Just("algorithm")],
             "[ -~&&[^\"\\\\]]{0,40}"),
            0..10),
    ) {
        let t0 = t0();
        let mut reg = registrar(RegistrarConfig::default(), t0);
        let mut p = Phone::new("1001", "demo-1001", "203.0.113.9:40000");
        let value = params
            .iter()
            .map(|(n, v)| format!("{n}=\"{v}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let text_req = p.request("");
        let mut req = text_req.clone();
        req.headers.authorization.push(crate::sip::message::Auth {
            scheme: "Digest".to_owned(),
            params: params.iter().map(|(n, v)| ((*n).to_owned(), v.clone())).collect(),
            raw: format!("Digest {value}"),
        });
        let resp = reg.handle_register(&req, p.flow(), t0);
        prop_assert!(resp.status != 200);
        prop_assert!(!reg.is_registered("1001", t0));
    }
}
