//! Registrar hot paths with 2,000 agents registered: an authenticated SHA-256 refresh (the
//! steady state), a challenge for a REGISTER without credentials (what a scanner flood
//! costs), and the refusal of a blocked source.

use std::net::SocketAddr;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use hotline::shell::clock::now;
use hotline::sip::message::{Auth, Message, Request};
use hotline::sip::parse::parse_datagram;
use hotline::sip::registrar::{
    expected_response, ha1, Algorithm, Flow, MemoryCredentials, Registrar, RegistrarConfig,
};

const AGENTS: u32 = 2_000;

fn request(user: u32, cseq: u32, port: u16) -> Request {
    let text = format!(
        "REGISTER sip:127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 10.0.0.1:{port};branch=z9hG4bK{user}x{cseq};rport\r\n\
         From: <sip:{user}@127.0.0.1>;tag=f{user}\r\nTo: <sip:{user}@127.0.0.1>\r\n\
         Call-ID: c{user}\r\nCSeq: {cseq} REGISTER\r\n\
         Contact: <sip:{user}@10.0.0.1:{port}>\r\nExpires: 600\r\n\
         User-Agent: bench\r\nContent-Length: 0\r\n\r\n"
    );
    match parse_datagram(text.as_bytes()) {
        Ok(Message::Request(r)) => r,
        other => panic!("bench request: {other:?}"),
    }
}

fn authorize(req: &mut Request, user: u32, nonce: &str, nc: u32) {
    let user = user.to_string();
    let h = ha1(&user, "hotline", &format!("pw{user}"), Algorithm::Sha256);
    let nc = format!("{nc:08x}");
    let resp = expected_response(
        Algorithm::Sha256,
        &h,
        nonce,
        &nc,
        "cn",
        "auth",
        "REGISTER",
        "sip:127.0.0.1",
    );
    let params: Vec<(String, String)> = [
        ("username", user.as_str()),
        ("realm", "hotline"),
        ("nonce", nonce),
        ("uri", "sip:127.0.0.1"),
        ("response", resp.as_str()),
        ("algorithm", "SHA-256"),
        ("qop", "auth"),
        ("nc", nc.as_str()),
        ("cnonce", "cn"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    req.headers.authorization = vec![Auth {
        scheme: "Digest".to_owned(),
        params,
        raw: String::new(),
    }];
}

fn bench(c: &mut Criterion) {
    let t0 = now();
    let mut store = MemoryCredentials::new();
    for u in 0..AGENTS {
        store = store.with_password(&u.to_string(), "hotline", &format!("pw{u}"));
    }
    let cfg = RegistrarConfig {
        nonce_lifetime: Duration::from_secs(3_600),
        ..RegistrarConfig::default()
    };
    let mut reg: Registrar<u8> =
        Registrar::new(cfg, Box::new(store), [1; 32], t0).expect("registrar");
    let flow = |u: u32| Flow {
        addr: SocketAddr::from(([10, 0, (u >> 8) as u8, u as u8], 5060)),
        link: 0u8,
    };
    let mut nonces = Vec::new();
    for u in 0..AGENTS {
        let r = request(u, 1, 5060);
        let ch = reg.handle_register(&r, flow(u), t0);
        let nonce = ch.headers.www_authenticate[0]
            .param("nonce")
            .unwrap_or_default()
            .to_owned();
        let mut r = request(u, 2, 5060);
        authorize(&mut r, u, &nonce, 1);
        assert_eq!(reg.handle_register(&r, flow(u), t0).status, 200);
        nonces.push(nonce);
    }
    while reg.poll_event().is_some() {}

    let mut i: u32 = 0;
    let at = t0 + Duration::from_secs(10);
    c.bench_function("registrar_refresh_sha256_2000_agents", |b| {
        b.iter_batched(
            || {
                i += 1;
                let u = i % AGENTS;
                let seq = 2 + i / AGENTS + 1;
                let mut r = request(u, seq, 5060);
                authorize(&mut r, u, &nonces[u as usize], seq);
                (u, r)
            },
            |(u, r)| {
                let resp = reg.handle_register(&r, flow(u), at);
                while reg.poll_event().is_some() {}
                resp.status
            },
            BatchSize::SmallInput,
        )
    });

    // The measured path really is the 200 path.
    let mut r = request(7, 1_000_000, 5060);
    authorize(&mut r, 7, &nonces[7], 1_000_000);
    assert_eq!(reg.handle_register(&r, flow(7), at).status, 200);

    let bare = request(4_242, 1, 5070);
    let stranger = Flow {
        addr: SocketAddr::from(([192, 0, 2, 1], 5060)),
        link: 0u8,
    };
    c.bench_function("registrar_challenge_no_credentials", |b| {
        b.iter(|| reg.handle_register(&bare, stranger, at).status)
    });

    let blocked = Flow {
        addr: SocketAddr::from(([198, 51, 100, 1], 5060)),
        link: 0u8,
    };
    let mut scanner = request(1, 1, 5080);
    scanner.headers.set("User-Agent", "friendly-scanner");
    let _ = reg.handle_register(&scanner, blocked, at);
    c.bench_function("registrar_refuse_blocked_source", |b| {
        b.iter(|| reg.handle_register(&bare, blocked, at).status)
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
