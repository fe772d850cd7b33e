//! Issue 18, the signaling: SIP over WebSocket (RFC 7118) on the HTTP listener. A small WS
//! phone (`sip_ws/phone.rs`, as a browser's JsSIP speaks) against the real engine over
//! loopback: the handshake's subprotocol and Origin checks, digest registration (a wrong
//! password refused), the scanner guard, an oversized frame, the registration going with
//! the socket, and a call: a SIPp citizen presses 1, the INVITE (a WebRTC offer) reaches the
//! agent down its WebSocket, the agent answers with plain RTP, which a browser leg must not
//! take: the engine's ACK and BYE come back down the same socket and the citizen waits again.
//! (A browser answering for real: `tests/webrtc_call_jssip.rs`.) Every wait is bounded; the
//! engine is stopped by PID.

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

mod common;
#[path = "sip_ws/phone.rs"]
mod phone;

use std::time::Duration;

use common::{http_request, sipp, wait_for, Engine};
use phone::{connect, header, status_of};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn registered(engine: &Engine, id: &str) -> bool {
    let (status, body) = http_request(
        engine.http,
        "GET",
        "/api/agents",
        Some("demo-supervisor"),
        None,
    );
    assert_eq!(status, 200, "{body}");
    let list: serde_json::Value = serde_json::from_str(&body).expect("json");
    list.as_array()
        .and_then(|a| a.iter().find(|x| x["id"] == id))
        .is_some_and(|a| a["registered"] == true)
}

/// The value of one `/metrics` sample, `family{labels}` written exactly.
fn metric(engine: &Engine, series: &str) -> f64 {
    let (_, body) = engine.get("/metrics");
    body.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("{series} in /metrics:\n{body}"))
}

#[test]
fn the_handshake_needs_the_sip_subprotocol_and_an_accepted_origin() {
    let engine = Engine::start("[http]\nws_origins = [\"https://desk.example.gov.cn\"]\n");
    let own = format!("http://{}", engine.http);
    let rt = runtime();
    rt.block_on(async {
        // No subprotocol, another one: 400 with the reason.
        assert_eq!(connect(engine.http, None, None).await.err(), Some(400));
        assert_eq!(
            connect(engine.http, Some(&own), Some("chat")).await.err(),
            Some(400)
        );
        // A page of another origin (another port of the same host too), a sandboxed page.
        for origin in ["http://evil.example", "http://127.0.0.1:1", "null"] {
            assert_eq!(
                connect(engine.http, Some(origin), Some("sip")).await.err(),
                Some(403),
                "{origin}"
            );
        }
        // The pages' own origin, a configured one, and a client that is no browser page.
        for origin in [
            Some(own.as_str()),
            Some("https://desk.example.gov.cn"),
            None,
        ] {
            let p = connect(engine.http, origin, Some("chat, sip")).await;
            assert!(p.is_ok(), "{origin:?}");
        }
    });
    // A plain GET is told what /ws is.
    let (status, body) = engine.get("/ws");
    assert_eq!(status, 426, "{body}");
    assert!(body.contains("RFC 7118"), "{body}");
    assert_eq!(
        metric(
            &engine,
            "hotline_sip_ws_handshakes_refused_total{reason=\"subprotocol\"}"
        ),
        2.0
    );
    assert_eq!(
        metric(
            &engine,
            "hotline_sip_ws_handshakes_refused_total{reason=\"origin\"}"
        ),
        3.0
    );
}

#[test]
fn an_agent_registers_over_websocket_with_digest_and_a_wrong_password_is_refused() {
    let mut engine = Engine::start("");
    let rt = runtime();
    let still_open = rt.block_on(async {
        let mut wrong = connect(engine.http, None, Some("sip")).await.expect("ws");
        let status = wrong.register("1002", "not-the-password").await;
        assert!(matches!(status, 401 | 403), "wrong password: {status}");
        assert!(!registered(&engine, "1002"));

        let mut phone = connect(engine.http, None, Some("sip")).await.expect("ws");
        assert_eq!(phone.register("1001", "demo-1001").await, 200);
        assert!(registered(&engine, "1001"));
        assert_eq!(
            metric(&engine, "hotline_connections_open{listener=\"sip_ws\"}"),
            2.0
        );
        // RFC 7118 §5.2 / RFC 3581: the Via's `.invalid` sent-by gets `received` and `rport`
        // with the address the WebSocket really came from.
        phone
            .send(
                "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WS x9.invalid;branch=z9hG4bKo1;rport\r\n\
                 Max-Forwards: 70\r\nTo: <sip:127.0.0.1>\r\nFrom: <sip:1001@127.0.0.1>;tag=o\r\n\
                 Call-ID: o1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
                    .into(),
            )
            .await;
        let ok = phone.recv(Duration::from_secs(5)).await.expect("200");
        let via = header(&ok, "Via").expect("Via");
        assert!(
            via.starts_with("SIP/2.0/WS x9.invalid") && via.contains("received=127.0.0.1"),
            "{via}"
        );
        assert!(via.contains("rport=") && !via.contains("rport;"), "{via}");
        // An RFC 5626 keep-alive is answered.
        phone.send("\r\n\r\n".into()).await;
        assert_eq!(
            phone.recv(Duration::from_secs(5)).await.as_deref(),
            Some("\r\n")
        );
        // The registration goes with the socket (its Contact host is `.invalid`: nothing
        // else could reach it).
        phone.close().await;
        let gone = wait_for(Duration::from_secs(5), || {
            (!registered(&engine, "1001")).then_some(())
        });
        assert!(gone.is_some(), "binding removed; log:\n{}", engine.log());
        assert_eq!(
            wait_for(Duration::from_secs(5), || {
                let open = metric(&engine, "hotline_connections_open{listener=\"sip_ws\"}");
                (open == 1.0).then_some(open)
            }),
            Some(1.0)
        );
        wrong
    });
    assert!(
        engine
            .log()
            .contains("authentication failed: 127.0.0.1 as \"1002\""),
        "the refusal is logged like one over UDP"
    );
    // An open WebSocket does not hold up a graceful stop.
    assert_eq!(engine.terminate(), Some(0), "log:\n{}", engine.log());
    drop(still_open);
}

#[test]
fn a_scanner_over_websocket_is_refused_and_blocked_like_one_over_udp() {
    let engine = Engine::start("");
    let rt = runtime();
    rt.block_on(async {
        let mut scanner = connect(engine.http, None, Some("sip")).await.expect("ws");
        let status = scanner
            .register_as("1001", "demo-1001", "friendly-scanner")
            .await;
        assert_ne!(status, 200, "a scanner is never registered");
        // Its address is blocked now: the right password from it is refused too.
        let mut again = connect(engine.http, None, Some("sip")).await.expect("ws");
        let status = again.register("1001", "demo-1001").await;
        assert_ne!(status, 200, "a blocked source stays out");
    });
    assert!(!registered(&engine, "1001"));
    assert!(
        engine.log().contains("scanner refused"),
        "log:\n{}",
        engine.log()
    );
}

#[test]
fn a_frame_larger_than_max_message_bytes_is_answered_513_and_closed() {
    let engine = Engine::start("[sip]\nmax_message_bytes = 2048\n");
    let rt = runtime();
    rt.block_on(async {
        let mut phone = connect(engine.http, None, Some("sip")).await.expect("ws");
        let padding = "x".repeat(3000);
        let big = format!(
            "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WS a.invalid;branch=z9hG4bKbig\r\n\
             Max-Forwards: 70\r\nTo: <sip:127.0.0.1>\r\nFrom: <sip:x@a.invalid>;tag=1\r\n\
             Call-ID: big\r\nCSeq: 1 OPTIONS\r\nX-Padding: {padding}\r\nContent-Length: 0\r\n\r\n"
        );
        phone.send_binary(big.into_bytes()).await;
        let resp = phone.recv_frame(Duration::from_secs(5)).await;
        assert_eq!(resp.as_deref().map(status_of), Ok(513), "{resp:?}");
        let close = phone.recv_frame(Duration::from_secs(5)).await;
        assert_eq!(close, Err(Some(1009)), "closed as too big");
    });
    assert_eq!(metric(&engine, "hotline_sip_ws_too_large_total"), 1.0);
}

#[test]
fn a_call_rings_an_agent_down_its_websocket_and_the_engines_bye_comes_back_on_it() {
    let engine = Engine::start("");
    let rt = runtime();
    let mut phone = rt.block_on(async {
        let mut phone = connect(engine.http, None, Some("sip")).await.expect("ws");
        assert_eq!(phone.register("1001", "demo-1001").await, 200);
        phone
    });
    let (status, body) = http_request(
        engine.http,
        "POST",
        "/api/agents/1001/state",
        Some("demo-supervisor"),
        Some(r#"{"state":"ready"}"#),
    );
    assert_eq!(status, 204, "{body}");
    // Where the phone says its plain RTP goes (nothing may ever be sent there).
    let rtp = std::net::UdpSocket::bind("127.0.0.1:0").expect("rtp socket");
    let rtp_port = rtp.local_addr().expect("addr").port();

    // A citizen presses 1 (enterprise), stays 6 s after the answer, hangs up.
    let target = engine.sip;
    let caller = std::thread::spawn(move || {
        sipp(
            target,
            "uac_ivr_enterprise.xml",
            &["-m", "1", "-d", "6000"],
            Duration::from_secs(40),
        )
    });
    rt.block_on(async {
        let invite = phone
            .recv(Duration::from_secs(20))
            .await
            .unwrap_or_else(|| panic!("no INVITE over the WebSocket; log:\n{}", engine.log()));
        assert!(
            invite.starts_with(&format!(
                "INVITE sip:{}@{}",
                phone.contact_user, phone.contact_host
            )),
            "to the registered .invalid Contact:\n{invite}"
        );
        let via = header(&invite, "Via").expect("Via");
        assert!(via.starts_with("SIP/2.0/WS "), "Via transport WS: {via}");
        assert!(
            invite.contains("UDP/TLS/RTP/SAVPF") && invite.contains("a=fingerprint:"),
            "a browser is offered WebRTC (DTLS-SRTP):\n{invite}"
        );
        phone
            .answer(&invite, 180, "Ringing", "agent1", rtp_port)
            .await;
        phone.answer(&invite, 200, "OK", "agent1", rtp_port).await;
        let ack = phone.recv(Duration::from_secs(5)).await.expect("ACK");
        assert!(ack.starts_with("ACK sip:"), "{ack}");
        assert_eq!(
            header(&ack, "Call-ID"),
            header(&invite, "Call-ID"),
            "the ACK is for our 200"
        );
        // A plain RTP answer (no fingerprint, no ICE) is refused: the engine hangs up.
        let bye = phone
            .recv(Duration::from_secs(5))
            .await
            .unwrap_or_else(|| panic!("no BYE over the WebSocket; log:\n{}", engine.log()));
        assert!(bye.starts_with("BYE "), "{bye}");
        assert_eq!(header(&bye, "Call-ID"), header(&invite, "Call-ID"));
        assert!(header(&bye, "Via").is_some_and(|v| v.starts_with("SIP/2.0/WS ")));
        phone.answer(&bye, 200, "OK", "agent1", rtp_port).await;
    });
    engine
        .call_where(Duration::from_secs(5), |c| c["state"] == "queued")
        .unwrap_or_else(|| panic!("the citizen waits again; log:\n{}", engine.log()));
    assert_eq!(metric(&engine, "hotline_webrtc_answers_refused_total"), 1.0);
    rtp.set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let mut buf = [0u8; 1500];
    assert!(rtp.recv(&mut buf).is_err(), "no plain RTP to a browser");
    caller.join().expect("sipp thread").assert_ok();
    assert!(metric(&engine, "hotline_sip_ws_frames_total{direction=\"sent\"}") >= 4.0);
    assert!(
        metric(
            &engine,
            "hotline_sip_ws_frames_total{direction=\"received\"}"
        ) >= 5.0
    );
}

/// A self-signed certificate for 127.0.0.1 and localhost, written as PEM files in `dir`.
fn self_signed(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, Vec<u8>) {
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
            .expect("self-signed certificate");
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).expect("write cert");
    std::fs::write(&key_path, signing_key.serialize_pem()).expect("write key");
    (cert_path, key_path, cert.der().to_vec())
}

/// A TLS client that trusts only `cert`.
fn tls_client(cert: Vec<u8>) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls_pki_types::CertificateDer::from(cert))
        .expect("trust the test certificate");
    #[allow(deprecated)] // the same provider as the engine's (see shell::tls)
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
}

async fn tls_to(
    connector: &tokio_rustls::TlsConnector,
    addr: std::net::SocketAddr,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let name = rustls_pki_types::ServerName::IpAddress(addr.ip().into());
    tokio::time::timeout(Duration::from_secs(5), connector.connect(name, tcp))
        .await
        .expect("TLS handshake in time")
        .expect("TLS handshake")
}

/// `GET path` over HTTPS; the status and body.
async fn https_get(
    connector: &tokio_rustls::TlsConnector,
    addr: std::net::SocketAddr,
    path: &str,
    token: Option<&str>,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tls_to(connector, addr).await;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

#[test]
fn with_a_certificate_the_listener_speaks_https_and_ws_is_wss() {
    let certs = tempfile::tempdir().expect("temp dir");
    let (cert, key, der) = self_signed(certs.path());
    let engine = Engine::start(&format!(
        "[http]\ntls_cert = \"{}\"\ntls_key = \"{}\"\n",
        cert.display(),
        key.display()
    ));
    let connector = tls_client(der);
    let rt = runtime();
    rt.block_on(async {
        let (status, body) = https_get(&connector, engine.http, "/api/health", None).await;
        assert_eq!((status, body.trim()), (200, r#"{"status":"ok"}"#));
        // The pages' own origin is https:// now; the same host over http:// is another one.
        let plain_origin = format!("http://{}", engine.http);
        let refused = phone::over(
            tls_to(&connector, engine.http).await,
            phone::request("wss", engine.http, Some(&plain_origin), Some("sip")),
        )
        .await;
        assert_eq!(refused.err(), Some(403));
        let own = format!("https://{}", engine.http);
        let mut phone = phone::over(
            tls_to(&connector, engine.http).await,
            phone::request("wss", engine.http, Some(&own), Some("sip")),
        )
        .await
        .expect("wss");
        assert_eq!(phone.register("1001", "demo-1001").await, 200);
        let (_, agents) = https_get(
            &connector,
            engine.http,
            "/api/agents",
            Some("demo-supervisor"),
        )
        .await;
        assert!(agents.contains(r#""id":"1001""#), "{agents}");
        let list: serde_json::Value = serde_json::from_str(&agents).expect("json");
        let a = list
            .as_array()
            .and_then(|l| l.iter().find(|a| a["id"] == "1001"))
            .expect("1001");
        assert_eq!(a["registered"], true, "{a}");
    });
    // Plain HTTP to the HTTPS port gets no page: the handshake fails and is counted.
    let (status, _) = common::http_request(engine.http, "GET", "/api/health", None, None);
    assert_ne!(status, 200);
    let metrics = rt
        .block_on(https_get(&connector, engine.http, "/metrics", None))
        .1;
    let failed = metrics
        .lines()
        .find(|l| l.starts_with("hotline_tls_handshakes_failed_total{listener=\"http\"}"))
        .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok());
    assert!(failed.is_some_and(|n| n >= 1.0), "{metrics}");
}

#[test]
fn a_certificate_that_cannot_be_read_stops_the_start_naming_the_file() {
    // A project folder like the shipped one, with a hotline.toml naming a missing cert.
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("config")).expect("mkdir");
    std::os::unix::fs::symlink(
        common::root().join("ivr-menus"),
        dir.path().join("ivr-menus"),
    )
    .expect("link menus");
    for entry in std::fs::read_dir(common::root().join("config"))
        .expect("config dir")
        .flatten()
    {
        if entry.file_name() != "hotline.toml" {
            std::os::unix::fs::symlink(
                entry.path(),
                dir.path().join("config").join(entry.file_name()),
            )
            .expect("link config");
        }
    }
    let config = dir.path().join("config/hotline.toml");
    std::fs::write(
        &config,
        "[http]\ntls_cert = \"config/no-such-cert.pem\"\ntls_key = \"config/no-such-key.pem\"\n",
    )
    .expect("write config");
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_hotline"))
        .arg("check")
        .arg("--config")
        .arg(&config)
        .output()
        .expect("run hotline check");
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(!check.status.success(), "check refuses it");
    assert!(
        stderr.contains("no-such-cert.pem") && stderr.contains("tls_cert"),
        "{stderr}"
    );
    // `serve` stops at once with the same sentence (bounded: killed after 20 s).
    let mut serve = std::process::Command::new(env!("CARGO_BIN_EXE_hotline"))
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .args([
            "--sip-listen",
            "127.0.0.1:0",
            "--http-listen",
            "127.0.0.1:0",
        ])
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start hotline");
    let status = wait_for(Duration::from_secs(20), || serve.try_wait().ok().flatten());
    if status.is_none() {
        let _ = serve.kill();
    }
    let mut stderr = String::new();
    if let Some(mut e) = serve.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
    }
    assert!(
        status.is_some_and(|s| !s.success()),
        "serve refuses to start"
    );
    assert!(stderr.contains("no-such-cert.pem"), "{stderr}");
}

/// The engine's resident memory (kB), from /proc.
fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// What an open browser phone costs the engine: 60 WebSockets that each carried a request and
/// its answer stay open (the figure is printed; `--nocapture` shows it).
#[test]
fn sixty_open_websockets_that_spoke_cost_little_memory() {
    const N: usize = 60; // under the default ws_max_per_source (64): all from 127.0.0.1
    let engine = Engine::start("");
    let rt = runtime();
    let options = |i: usize| {
        format!(
            "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WS m{i}.invalid;branch=z9hG4bKm{i}\r\n\
             Max-Forwards: 70\r\nTo: <sip:127.0.0.1>\r\nFrom: <sip:m{i}@m{i}.invalid>;tag={i}\r\n\
             Call-ID: mem-{i}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        )
    };
    // Warm up (first connection's allocations, the runtime's threads), then measure.
    let _warm = rt.block_on(async {
        let mut p = connect(engine.http, None, Some("sip")).await.expect("ws");
        p.send(options(999)).await;
        assert_eq!(
            p.recv(Duration::from_secs(5)).await.map(|m| status_of(&m)),
            Some(200)
        );
        p
    });
    std::thread::sleep(Duration::from_millis(300));
    let before = rss_kb(engine.pid());
    let phones = rt.block_on(async {
        let mut phones = Vec::with_capacity(N);
        for i in 0..N {
            let mut p = connect(engine.http, None, Some("sip")).await.expect("ws");
            p.send(options(i)).await;
            let answer = p.recv(Duration::from_secs(5)).await;
            assert_eq!(answer.as_deref().map(status_of), Some(200), "{i}");
            phones.push(p);
        }
        phones
    });
    std::thread::sleep(Duration::from_millis(300));
    let after = rss_kb(engine.pid());
    let per = after.saturating_sub(before) / N as u64;
    println!("{N} SIP WebSockets: RSS {before} kB → {after} kB, {per} kB each");
    // tungstenite's default 128 KiB read buffer made each ~133 kB.
    assert!(per < 64, "{per} kB per open SIP WebSocket");
    assert_eq!(
        metric(&engine, "hotline_connections_open{listener=\"sip_ws\"}"),
        (N + 1) as f64
    );
    drop(phones);
}

#[test]
fn websockets_have_their_caps_and_the_sip_tcp_timeouts() {
    let engine = Engine::start(
        "[sip]\nws_max_per_source = 2\ntcp_header_timeout = \"1s\"\ntcp_idle_timeout = \"2s\"\n",
    );
    let rt = runtime();
    rt.block_on(async {
        let mut quiet = connect(engine.http, None, Some("sip")).await.expect("ws 1");
        let mut spoke = connect(engine.http, None, Some("sip")).await.expect("ws 2");
        // A third from the same address: 503 before the upgrade.
        assert_eq!(
            connect(engine.http, None, Some("sip")).await.err(),
            Some(503)
        );
        spoke
            .send(
                "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WS t.invalid;branch=z9hG4bKt1\r\n\
                 Max-Forwards: 70\r\nTo: <sip:127.0.0.1>\r\nFrom: <sip:t@t.invalid>;tag=t\r\n\
                 Call-ID: t1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
                    .into(),
            )
            .await;
        assert_eq!(
            spoke
                .recv(Duration::from_secs(5))
                .await
                .map(|m| status_of(&m)),
            Some(200)
        );
        let started = std::time::Instant::now();
        // Keep-alives alone are no first message (as over TCP): answered, but the socket is
        // closed at tcp_header_timeout all the same (normal closure).
        quiet.send("\r\n\r\n".into()).await;
        assert_eq!(
            quiet.recv(Duration::from_secs(5)).await.as_deref(),
            Some("\r\n")
        );
        assert_eq!(
            quiet.recv_frame(Duration::from_secs(5)).await,
            Err(Some(1000))
        );
        // Nothing after its message for tcp_idle_timeout: closed too.
        assert_eq!(
            spoke.recv_frame(Duration::from_secs(5)).await,
            Err(Some(1000))
        );
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(1500), "{took:?}");
    });
    for (series, want) in [
        (
            "hotline_connections_refused_total{listener=\"sip_ws\",reason=\"per_source\"}",
            1.0,
        ),
        (
            "hotline_connections_timed_out_total{listener=\"sip_ws\",reason=\"header\"}",
            1.0,
        ),
        (
            "hotline_connections_timed_out_total{listener=\"sip_ws\",reason=\"idle\"}",
            1.0,
        ),
    ] {
        assert_eq!(metric(&engine, series), want, "{series}");
    }
    assert_eq!(
        wait_for(Duration::from_secs(5), || {
            let open = metric(&engine, "hotline_connections_open{listener=\"sip_ws\"}");
            (open == 0.0).then_some(open)
        }),
        Some(0.0)
    );
}

#[test]
fn guessing_passwords_over_websocket_blocks_the_source_like_over_udp() {
    let engine = Engine::start("");
    let rt = runtime();
    rt.block_on(async {
        let mut guesser = connect(engine.http, None, Some("sip")).await.expect("ws");
        // The registrar's default: 5 failures within 60 s block the address.
        for guess in 0..5 {
            let status = guesser.register("1003", &format!("guess-{guess}")).await;
            assert!(matches!(status, 401 | 403), "guess {guess}: {status}");
        }
        // Even the right password, on a new WebSocket from that address, is refused now.
        let mut again = connect(engine.http, None, Some("sip")).await.expect("ws");
        assert_ne!(again.register("1003", "demo-1003").await, 200);
    });
    assert!(!registered(&engine, "1003"));
    assert!(
        engine.log().contains("blocked"),
        "the block is logged; log:\n{}",
        engine.log()
    );
}
