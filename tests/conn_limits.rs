//! Issue 12 item 3: idle and half-sent TCP connections (SIP and HTTP) and idle live streams
//! must not exhaust the engine. A few hundred connections from several loopback addresses
//! against low configured caps: the excess is closed at once, the rest after the (short)
//! header or idle timeout, calls and ordinary requests are still served, and the log stays
//! small. Every loop is bounded; the engine is stopped by PID.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Duration;

use common::{sipp, wait_for, Engine};

/// Opens `n` TCP connections from `source` to `to` (in order, so the engine accepts them
/// in order), sending `first` on each when it is not empty; non-blocking afterwards.
fn connect_many(source: &str, to: SocketAddr, n: usize, first: &[u8]) -> Vec<TcpStream> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let ip: IpAddr = source.parse().expect("ip");
    rt.block_on(async {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let sock = tokio::net::TcpSocket::new_v4().expect("socket");
            sock.bind(SocketAddr::new(ip, 0)).expect("bind source");
            let s = tokio::time::timeout(Duration::from_secs(5), sock.connect(to))
                .await
                .expect("connect in time")
                .expect("connect");
            let s = s.into_std().expect("std stream");
            s.set_nonblocking(true).expect("nonblocking");
            if !first.is_empty() {
                let _ = (&s).write(first);
            }
            out.push(s);
        }
        out
    })
}

/// How many of the connections the engine still holds open (a read would block), reading
/// away whatever they were sent.
fn still_open(conns: &[TcpStream]) -> usize {
    let mut buf = [0u8; 4096];
    conns
        .iter()
        .filter(|c| loop {
            match (&**c).read(&mut buf) {
                Ok(0) => break false,
                Ok(_) => continue,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break true,
                Err(_) => break false,
            }
        })
        .count()
}

/// Waits (bounded) until exactly `want` of `conns` are open; returns the last count.
fn settle(conns: &[TcpStream], want: usize, limit: Duration) -> usize {
    let mut last = still_open(conns);
    let _ = wait_for(limit, || {
        last = still_open(conns);
        (last == want).then_some(())
    });
    last
}

fn metric(engine: &Engine, series: &str) -> Option<f64> {
    let (_, body) = engine.get("/metrics");
    body.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

fn log_lines(engine: &Engine) -> usize {
    engine.log().lines().count()
}

fn a_udp_call_is_answered(engine: &Engine) {
    sipp(
        engine.sip,
        "uac_call.xml",
        &["-m", "1", "-d", "300"],
        Duration::from_secs(20),
    )
    .assert_ok();
}

#[test]
fn sip_tcp_connections_are_capped_timed_out_and_calls_go_on() {
    let mut engine = Engine::start(
        "[sip]\ntcp_max_connections = 100\ntcp_max_per_source = 30\ntcp_header_timeout = \"2s\"\ntcp_idle_timeout = \"4s\"\n",
    );
    let baseline = log_lines(&engine);
    let started = hotline::shell::clock::now();
    // 160 connections from four addresses: half of each send half a request, half nothing.
    let half = b"INVITE sip:12345@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999\r\n";
    let mut conns = Vec::new();
    for source in ["127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14"] {
        conns.extend(connect_many(source, engine.sip, 20, half));
        conns.extend(connect_many(source, engine.sip, 20, b""));
    }
    // 30 + 30 + 30 from the first three (10 each refused per source), 10 from the fourth
    // (30 refused: the total is reached).
    let open = settle(&conns, 100, Duration::from_millis(1500));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the test machine is too slow to see the caps before the header timeout"
    );
    assert_eq!(open, 100, "connections held beyond the caps");
    assert_eq!(
        metric(
            &engine,
            "hotline_connections_refused_total{listener=\"sip_tcp\",reason=\"per_source\"}"
        ),
        Some(30.0)
    );
    assert_eq!(
        metric(
            &engine,
            "hotline_connections_refused_total{listener=\"sip_tcp\",reason=\"total\"}"
        ),
        Some(30.0)
    );
    // Calls over UDP and ordinary HTTP requests are served meanwhile.
    a_udp_call_is_answered(&engine);
    assert_eq!(engine.get("/api/health").0, 200);
    // Neither a message completed nor a first message came: all closed by the header timeout.
    assert_eq!(settle(&conns, 0, Duration::from_secs(5)), 0);
    assert_eq!(
        metric(
            &engine,
            "hotline_connections_timed_out_total{listener=\"sip_tcp\",reason=\"header\"}"
        ),
        Some(100.0)
    );
    drop(conns);

    // Keep-alives alone do not make a phone: pinged back, but closed at the header timeout.
    let pinger = &connect_many("127.0.0.16", engine.sip, 1, b"")[0];
    let mut buf = [0u8; 4096];
    let mut pongs = 0;
    let mut closed = false;
    for _ in 0..8 {
        if (&*pinger).write_all(b"\r\n\r\n").is_err() {
            closed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
        match (&*pinger).read(&mut buf) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(n) => pongs += buf[..n].windows(2).filter(|w| w == b"\r\n").count(),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(_) => {
                closed = true;
                break;
            }
        }
    }
    assert!(pongs >= 1, "CRLF keep-alives are answered");
    assert!(
        closed,
        "a connection that only pings is closed at the header timeout"
    );

    // A phone that sends a message and keep-alives stays; one that goes quiet is closed
    // after the idle timeout, not the header timeout.
    let phone = &connect_many("127.0.0.15", engine.sip, 1, b"")[0];
    (&*phone)
        .write_all(
            b"OPTIONS sip:12345@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.15:5999;branch=z9hG4bKka1\r\nFrom: <sip:1001@127.0.0.1>;tag=a\r\nTo: <sip:12345@127.0.0.1>\r\nCall-ID: ka-1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        )
        .expect("options");
    let answered = wait_for(Duration::from_secs(3), || match (&*phone).read(&mut buf) {
        Ok(n) if n > 0 => Some(String::from_utf8_lossy(&buf[..n]).to_string()),
        _ => None,
    })
    .expect("OPTIONS answered over TCP");
    assert!(answered.starts_with("SIP/2.0 200"), "{answered}");
    std::thread::sleep(Duration::from_secs(3));
    (&*phone).write_all(b"\r\n\r\n").expect("ping");
    let pong = wait_for(Duration::from_secs(2), || match (&*phone).read(&mut buf) {
        Ok(n) if n > 0 => Some(buf[..n].to_vec()),
        _ => None,
    });
    assert_eq!(
        pong.as_deref(),
        Some(&b"\r\n"[..]),
        "CRLF keep-alive answered"
    );
    let quiet = hotline::shell::clock::now();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        still_open(std::slice::from_ref(phone)),
        1,
        "closed before the idle timeout"
    );
    assert!(
        wait_for(Duration::from_secs(4), || (still_open(
            std::slice::from_ref(phone)
        ) == 0)
            .then_some(()))
        .is_some(),
        "a quiet connection is closed after the idle timeout"
    );
    assert!(quiet.elapsed() >= Duration::from_millis(3900));
    assert_eq!(
        metric(
            &engine,
            "hotline_connections_timed_out_total{listener=\"sip_tcp\",reason=\"idle\"}"
        ),
        Some(1.0)
    );
    // 220 connections made and undone: a few lines at most (refusals at most once a second).
    let added = log_lines(&engine) - baseline;
    assert!(added < 60, "{added} log lines:\n{}", engine.log());
    assert_eq!(engine.terminate(), Some(0));
}

/// What a new connection from `source` is told before it is closed (it sends nothing: a
/// request the engine never reads would turn the close into a reset).
fn refusal(source: &str, engine: &Engine) -> String {
    let mut c = connect_many(source, engine.http, 1, b"").remove(0);
    c.set_nonblocking(false).expect("blocking");
    c.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let mut told = String::new();
    let _ = c.read_to_string(&mut told);
    told
}

/// Opens a live stream from 127.0.0.1 and returns it with the status line it got.
fn open_stream(engine: &Engine) -> (TcpStream, String) {
    let mut s = TcpStream::connect(engine.http).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(b"GET /api/wallboard/stream?access_token=demo-supervisor HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\r\n").expect("request");
    let mut buf = [0u8; 4096];
    let n = s.read(&mut buf).unwrap_or(0);
    let head = String::from_utf8_lossy(&buf[..n]).to_string();
    (s, head)
}

#[test]
fn http_connections_and_live_streams_are_capped_and_timed_out() {
    let mut engine = Engine::start(
        "[http]\nmax_connections = 80\nmax_per_source = 30\nheader_timeout = \"2s\"\nmax_streams = 5\n",
    );
    let baseline = log_lines(&engine);
    let started = hotline::shell::clock::now();
    // 80 from two addresses, half of them with half a request: 30 each stay, 20 refused.
    let half = b"GET /api/health HTTP/1.1\r\nHost: t\r\n";
    let mut conns = Vec::new();
    for source in ["127.0.0.21", "127.0.0.22"] {
        conns.extend(connect_many(source, engine.http, 20, half));
        conns.extend(connect_many(source, engine.http, 20, b""));
    }
    let open = settle(&conns, 60, Duration::from_millis(1500));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "machine too slow"
    );
    assert_eq!(open, 60);
    // Another address is served meanwhile; a refused connection was told why.
    assert_eq!(engine.get("/api/health").0, 200);
    let told = refusal("127.0.0.21", &engine);
    assert!(told.starts_with("HTTP/1.1 503"), "{told}");
    assert!(told.contains("too_many_connections"), "{told}");
    // 30 more from a third address: 20 fit under the total, then everyone is refused.
    conns.extend(connect_many("127.0.0.23", engine.http, 30, b""));
    assert_eq!(settle(&conns, 80, Duration::from_millis(1000)), 80);
    let told = refusal("127.0.0.1", &engine);
    assert!(told.starts_with("HTTP/1.1 503"), "{told}");
    // The header timeout closes them all (idle keep-alive or half a request alike).
    assert_eq!(settle(&conns, 0, Duration::from_secs(5)), 0);
    drop(conns);
    assert_eq!(engine.get("/api/health").0, 200);
    assert_eq!(
        metric(
            &engine,
            "hotline_connections_timed_out_total{listener=\"http\",reason=\"header\"}"
        ),
        Some(80.0)
    );
    assert_eq!(
        metric(
            &engine,
            "hotline_connections_refused_total{listener=\"http\",reason=\"per_source\"}"
        ),
        Some(21.0)
    );

    // Live streams: five fit, more get 503 too_many_streams; a closed one frees its place.
    let mut streams = Vec::new();
    for _ in 0..5 {
        let (s, head) = open_stream(&engine);
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        streams.push(s);
    }
    for _ in 0..3 {
        let (_, head) = open_stream(&engine);
        assert!(head.starts_with("HTTP/1.1 503"), "{head}");
        assert!(head.contains("too_many_streams"), "{head}");
    }
    assert_eq!(metric(&engine, "hotline_live_streams"), Some(5.0));
    assert_eq!(
        metric(&engine, "hotline_live_streams_refused_total"),
        Some(3.0)
    );
    drop(streams.pop());
    let reopened = wait_for(Duration::from_secs(3), || {
        let (s, head) = open_stream(&engine);
        head.starts_with("HTTP/1.1 200").then_some(s)
    });
    streams.push(reopened.expect("a freed place is taken again"));
    // Streams outlive the header timeout: they are answers, not idle connections.
    std::thread::sleep(Duration::from_secs(3));
    let mut buf = [0u8; 4096];
    for s in &mut streams {
        let n = s.read(&mut buf).expect("the stream still flows");
        assert!(n > 0);
    }
    // A call is answered with the streams open.
    a_udp_call_is_answered(&engine);
    let added = log_lines(&engine) - baseline;
    assert!(added < 60, "{added} log lines:\n{}", engine.log());
    // Open streams do not hold up a clean shutdown.
    assert_eq!(engine.terminate(), Some(0));
}

/// The status codes of what comes back to `sock` within `window`.
fn statuses(sock: &std::net::UdpSocket, window: Duration) -> Vec<u16> {
    sock.set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let steps = window.as_millis() / 100;
    for _ in 0..steps {
        if let Ok(n) = sock.recv(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]);
            if let Some(code) = text
                .strip_prefix("SIP/2.0 ")
                .and_then(|r| r.get(..3))
                .and_then(|c| c.parse().ok())
            {
                out.push(code);
            }
        }
    }
    out
}

#[test]
fn at_the_file_limit_a_call_is_refused_503_and_recorded_and_accept_backs_off() {
    let mut engine = Engine::start(
        "[sip]\ntcp_max_connections = 5000\ntcp_max_per_source = 5000\ntcp_header_timeout = \"60s\"\ntcp_idle_timeout = \"120s\"\n",
    );
    let pid = engine.pid();
    let open_fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("proc fd")
        .count();
    // Leave the engine room for 30 more descriptors, then take them all with connections.
    let limit = open_fds + 30;
    let lowered = std::process::Command::new("prlimit")
        .args([
            "--pid",
            &pid.to_string(),
            &format!("--nofile={limit}:{limit}"),
        ])
        .status()
        .expect("prlimit");
    assert!(lowered.success());
    let baseline = log_lines(&engine);
    let conns = connect_many("127.0.0.31", engine.sip, 80, b"");
    std::thread::sleep(Duration::from_millis(2500));
    // A call now: its RTP port cannot be opened, so it is refused before any answer.
    let phone = std::net::UdpSocket::bind("127.0.0.32:0").expect("udp");
    let me = phone.local_addr().expect("addr");
    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.32\r\ns=-\r\nc=IN IP4 127.0.0.32\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    let invite = format!(
        "INVITE sip:12345@{sip} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK-emfile1;rport\r\nFrom: <sip:13800001111@127.0.0.32>;tag=e1\r\nTo: <sip:12345@{sip}>\r\nCall-ID: emfile-1\r\nCSeq: 1 INVITE\r\nContact: <sip:x@{me}>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len(),
        sip = engine.sip,
    );
    phone
        .send_to(invite.as_bytes(), engine.sip)
        .expect("invite");
    let got = statuses(&phone, Duration::from_secs(2));
    assert!(got.contains(&503), "{got:?}\n{}", engine.log());
    assert!(!got.contains(&200), "answered into silence: {got:?}");
    // While accept() fails the acceptor pauses and logs at most once a second.
    let log = engine.log();
    let accept_lines = log
        .lines()
        .skip(baseline)
        .filter(|l| l.contains("accept failed"))
        .count();
    assert!(
        (1..=6).contains(&accept_lines),
        "{accept_lines} accept lines:\n{log}"
    );
    let added = log_lines(&engine) - baseline;
    assert!(added < 40, "{added} log lines:\n{log}");
    // Descriptors come back: the engine serves again, and the refused call has its record.
    drop(conns);
    let recent = wait_for(Duration::from_secs(10), || {
        let (status, body) = engine.get("/api/calls/recent");
        (status == 200).then_some(body)
    })
    .expect("HTTP answers again");
    let records: serde_json::Value = serde_json::from_str(&recent).expect("json");
    assert_eq!(records[0]["outcome"], "no_capacity", "{recent}");
    assert!(records[0]["answered_at"].is_null(), "{recent}");
    assert!(
        metric(&engine, "hotline_accept_errors_total{listener=\"sip_tcp\"}").unwrap_or(0.0) >= 1.0
    );
    a_udp_call_is_answered(&engine);
    assert_eq!(engine.terminate(), Some(0));
    // On disk too (written once descriptors were free, at the latest at shutdown).
    let calls = engine.data_dir.path().join("calls");
    let on_disk: String = std::fs::read_dir(&calls)
        .expect("calls dir")
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect();
    assert!(
        on_disk
            .lines()
            .any(|l| l.contains("emfile-1") && l.contains("\"no_capacity\"")),
        "{on_disk}"
    );
}
