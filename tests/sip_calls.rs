//! The engine against real SIPp callers on loopback: answer, paced RTP, DTMF through the menu
//! into a queue, a lost ACK, CANCEL, malformed input, a wrong number, TCP, and shutdown.

// Real peers run in real time: these tests measure it with the wall clock.
#![allow(clippy::disallowed_methods)]

mod common;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use common::{sipp, wait_for, Engine};

/// What arrived on a listening RTP socket.
struct RtpCapture {
    packets: Vec<(Instant, Vec<u8>)>,
}

impl RtpCapture {
    /// Listens on `socket` for `window`, keeping every datagram with its arrival time.
    fn listen(socket: &UdpSocket, window: Duration) -> RtpCapture {
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let end = Instant::now() + window;
        let mut packets = Vec::new();
        let mut buf = [0u8; 2048];
        while Instant::now() < end {
            if let Ok((n, _)) = socket.recv_from(&mut buf) {
                packets.push((Instant::now(), buf[..n].to_vec()));
            }
        }
        RtpCapture { packets }
    }
}

fn seq(p: &[u8]) -> u16 {
    u16::from_be_bytes([p[2], p[3]])
}
fn ts(p: &[u8]) -> u32 {
    u32::from_be_bytes([p[4], p[5], p[6], p[7]])
}
fn ssrc(p: &[u8]) -> u32 {
    u32::from_be_bytes([p[8], p[9], p[10], p[11]])
}

#[test]
fn a_call_is_answered_and_hears_the_menu_at_50_packets_a_second() {
    // SIPp only listens (it sends no RTP), so it stands for the carrier's trunk, whose SDP
    // address is trusted; other callers are sent media only once their own RTP arrives
    // (tests/sip_abuse.rs).
    let engine = Engine::start("[sip]\ntrunks = [\"127.0.0.1\"]\n");
    let rtp = UdpSocket::bind("127.0.0.1:0").expect("rtp socket");
    let port = rtp.local_addr().expect("addr").port().to_string();
    let target = engine.sip;
    let caller = std::thread::spawn(move || {
        sipp(
            target,
            "uac_listen.xml",
            &["-m", "1", "-d", "5000", "-key", "rtp_port", &port],
            Duration::from_secs(20),
        )
    });
    // Skip the first second (call set-up), then measure three seconds.
    let _warmup = RtpCapture::listen(&rtp, Duration::from_millis(1000));
    let cap = RtpCapture::listen(&rtp, Duration::from_secs(3));
    let run = caller.join().expect("sipp thread");
    run.assert_ok();

    let n = cap.packets.len();
    assert!(
        (140..=160).contains(&n),
        "expected ~150 RTP packets in 3 s, got {n}"
    );
    let first = &cap.packets[0].1;
    assert_eq!(first[0] >> 6, 2, "RTP version 2");
    let pt = first[1] & 0x7f;
    assert_eq!(pt, 0, "the caller preferred PCMU (pt 0)");
    for w in cap.packets.windows(2) {
        let (a, b) = (&w[0].1, &w[1].1);
        assert_eq!(ssrc(a), ssrc(b), "one SSRC per stream");
        assert_eq!(
            seq(b),
            seq(a).wrapping_add(1),
            "sequence numbers step by one"
        );
        assert_eq!(
            ts(b),
            ts(a).wrapping_add(160),
            "timestamps step by 160 (20 ms)"
        );
        assert_eq!(b.len(), 12 + 160, "20 ms of G.711 per packet");
    }
    // Paced, not bursted: the mean spacing is 20 ms and no gap is huge.
    let span = cap.packets[n - 1].0 - cap.packets[0].0;
    let mean = span / (n as u32 - 1);
    assert!(
        (Duration::from_millis(18)..=Duration::from_millis(22)).contains(&mean),
        "mean spacing {mean:?}"
    );
}

#[test]
fn keys_2_then_1_put_the_call_in_the_dialect_queue() {
    let engine = Engine::start("");
    let target = engine.sip;
    let caller = std::thread::spawn(move || {
        sipp(
            target,
            "uac_ivr_dialect.xml",
            &["-m", "1", "-d", "6000"],
            Duration::from_secs(30),
        )
    });
    let queued = engine
        .call_where(Duration::from_secs(10), |c| c["queue"] == "dialect")
        .unwrap_or_else(|| {
            panic!(
                "the call never reached queue dialect; log:\n{}",
                engine.log()
            )
        });
    assert_eq!(queued["state"], "queued");
    assert_eq!(
        queued["menu_path"],
        serde_json::json!(["main:2", "special:1"])
    );
    let caller_shown = queued["caller"].as_str().expect("caller");
    assert!(caller_shown.contains('*'), "caller masked: {caller_shown}");
    assert!(queued["started_at"].is_string() && queued["queued_at"].is_string());

    let run = caller.join().expect("sipp thread");
    run.assert_ok();
    let record = engine
        .latest_record(Duration::from_secs(5))
        .expect("a call record");
    assert_eq!(record["outcome"], "abandoned_in_queue");
    assert_eq!(record["queue"], "dialect");
    assert!(record["ended_at"].is_string());
    // Nobody was logged in: the caller gave up after a few seconds in the queue, which the
    // KPIs count as an abandon within the 5 s grace or after it, never as answered.
    let (_, body) = engine.get("/api/stats");
    let stats: serde_json::Value = serde_json::from_str(&body).expect("stats json");
    let day = &stats["last_24h"];
    assert_eq!(day["answered"], 0, "{stats}");
    assert_eq!(
        day["abandoned"].as_u64().unwrap_or(0) + day["abandoned_in_grace"].as_u64().unwrap_or(0),
        1,
        "{stats}"
    );
    // The record is on disk too, as one JSON line.
    let dir = engine.data_dir.path().join("calls");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .expect("calls dir")
        .flatten()
        .collect();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(files[0].path()).expect("record file");
    assert_eq!(text.lines().count(), 1);
    assert!(text.contains("\"outcome\":\"abandoned_in_queue\""));
    // A finished call's record says it ended; its outcome says how.
    assert_eq!(record["state"], "ended", "{record}");
    // Every time the API shows is in China time, as the tickets' are.
    for field in ["started_at", "queued_at", "ended_at"] {
        assert!(
            record[field]
                .as_str()
                .is_some_and(|t| t.ends_with("+08:00")),
            "{field}: {record}"
        );
    }
    let (_, stats) = engine.get("/api/stats");
    let stats: serde_json::Value = serde_json::from_str(&stats).expect("stats");
    assert!(
        stats["at"].as_str().is_some_and(|t| t.ends_with("+08:00")),
        "{stats}"
    );

    // Any period, read from the day files: as JSON, and as CSV for a spreadsheet.
    let enc = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339().replace('+', "%2B");
    let now = chrono::Utc::now();
    let (from, to) = (
        enc(now - chrono::Duration::hours(1)),
        enc(now + chrono::Duration::minutes(1)),
    );
    let get =
        |path: &str, token: &str| common::http_request(engine.http, "GET", path, Some(token), None);
    let (status, body) = get(
        &format!("/api/calls/recent?from={from}&to={to}"),
        "demo-supervisor",
    );
    assert_eq!(status, 200, "{body}");
    let listed: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(listed[0]["id"], record["id"], "{listed}");
    let (status, csv) = get(
        &format!("/api/calls/export?from={from}&to={to}"),
        "demo-reviewer",
    );
    assert_eq!(status, 200, "{csv}");
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("id,started_at,answered_at,ended_at,outcome,caller"),
        "{csv}"
    );
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[1].contains(",abandoned_in_queue,"), "{csv}");
    assert!(lines[1].contains('*'), "the caller stays masked: {csv}");
    // An empty period, a backwards one, an agent's token.
    let (status, csv) = get(
        &format!(
            "/api/calls/export?from={to}&to={}",
            enc(now + chrono::Duration::hours(1))
        ),
        "demo-supervisor",
    );
    assert_eq!((status, csv.lines().count()), (200, 1), "{csv}");
    let (status, body) = get(
        &format!("/api/calls/export?from={to}&to={from}"),
        "demo-supervisor",
    );
    assert_eq!(status, 400, "{body}");
    let (status, _) = get(
        &format!("/api/calls/export?from={from}&to={to}"),
        "demo-agent-1001",
    );
    assert_eq!(status, 403);
}

#[test]
fn a_lost_ack_makes_the_200_come_again() {
    let engine = Engine::start("");
    let run = sipp(
        engine.sip,
        "uac_lost_ack.xml",
        &["-m", "1"],
        Duration::from_secs(20),
    );
    run.assert_ok();
    // SIPp's final screen: `200 <----------  E-RTD1 1   N ...` where N counts the copies.
    let line = run
        .stdout
        .lines()
        .rev()
        .find(|l| l.contains("200 <----------") && l.contains("E-RTD1"))
        .expect("SIPp's message table");
    let numbers: Vec<u32> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    // [200, 1 received, N retransmissions, 0 timeouts, 0 unexpected]
    assert!(
        numbers.len() >= 3 && numbers[2] >= 2,
        "200 retransmitted twice: {line}"
    );
}

#[test]
fn cancel_before_answer_gets_487() {
    let engine = Engine::start("[sip]\nanswer_delay = \"3s\"\n");
    let run = sipp(
        engine.sip,
        "uac_cancel.xml",
        &["-m", "1"],
        Duration::from_secs(20),
    );
    run.assert_ok();
    let record = engine
        .latest_record(Duration::from_secs(5))
        .expect("a call record");
    assert_eq!(record["outcome"], "cancelled_before_answer");
}

#[test]
fn malformed_requests_get_400_and_the_engine_keeps_serving() {
    let engine = Engine::start("");
    let run = sipp(
        engine.sip,
        "uac_malformed.xml",
        &["-m", "3"],
        Duration::from_secs(20),
    );
    run.assert_ok();
    // Raw junk that cannot be addressed is dropped, never answered and never fatal.
    let junk = UdpSocket::bind("127.0.0.1:0").expect("socket");
    for bytes in [
        &b"\x00\x01\x02garbage"[..],
        b"INVITE\r\n\r\n",
        &[0xff; 3000][..],
    ] {
        junk.send_to(bytes, engine.sip).expect("send");
    }
    let (status, body) = engine.get("/api/health");
    assert_eq!((status, body.as_str()), (200, "{\"status\":\"ok\"}"));
    let again = sipp(
        engine.sip,
        "uac_malformed.xml",
        &["-m", "1"],
        Duration::from_secs(20),
    );
    assert!(again.success, "engine stopped serving:\n{}", again.stdout);
}

#[test]
fn another_number_gets_404() {
    let engine = Engine::start("");
    let run = sipp(
        engine.sip,
        "uac_wrong_number.xml",
        &["-m", "1", "-s", "999"],
        Duration::from_secs(20),
    );
    run.assert_ok();
}

#[test]
fn calls_work_over_tcp() {
    let engine = Engine::start("");
    let run = sipp(
        engine.sip,
        "uac_call.xml",
        &["-m", "3", "-l", "3", "-d", "1000", "-t", "t1"],
        Duration::from_secs(30),
    );
    run.assert_ok();
}

#[test]
fn sigterm_ends_live_calls_with_bye_and_keeps_their_records() {
    let mut engine = Engine::start("");
    let target = engine.sip;
    let caller = std::thread::spawn(move || {
        sipp(
            target,
            "uac_wait_bye.xml",
            &["-m", "2", "-l", "2"],
            Duration::from_secs(30),
        )
    });
    wait_for(Duration::from_secs(10), || {
        let (_, body) = engine.get("/api/calls");
        let calls: serde_json::Value = serde_json::from_str(&body).ok()?;
        (calls.as_array()?.len() == 2).then_some(())
    })
    .expect("two live calls");
    let records_dir = engine.data_dir.path().join("calls");
    assert_eq!(
        engine.terminate(),
        Some(0),
        "clean exit; log:\n{}",
        engine.log()
    );
    let run = caller.join().expect("sipp thread");
    assert!(
        run.success,
        "the callers got no BYE:\n{}\n{}",
        run.stdout, run.stderr
    );
    let text: String = std::fs::read_dir(&records_dir)
        .expect("records")
        .flatten()
        .map(|f| std::fs::read_to_string(f.path()).unwrap_or_default())
        .collect();
    assert_eq!(text.lines().count(), 2, "one record per call:\n{text}");
    assert!(text
        .lines()
        .all(|l| l.contains("\"outcome\":\"ended_by_engine\"")));
}

/// An OPTIONS padded with a large header, from `socket`'s address.
fn options(port: u16, engine: std::net::SocketAddr, padding: usize, cseq: &str) -> String {
    format!(
        "OPTIONS sip:12345@{engine} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-big{padding};rport\r\nFrom: <sip:probe@127.0.0.1>;tag=p\r\nTo: <sip:12345@127.0.0.1>\r\nCall-ID: big-{padding}\r\nCSeq: {cseq}\r\nMax-Forwards: 70\r\nX-Padding: {}\r\nContent-Length: 0\r\n\r\n",
        "x".repeat(padding)
    )
}

#[test]
fn a_request_too_large_gets_513_over_udp() {
    let engine = Engine::start("");
    let s = UdpSocket::bind("127.0.0.1:0").expect("socket");
    s.set_read_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    let port = s.local_addr().expect("addr").port();
    s.send_to(
        options(port, engine.sip, 20_000, "1 OPTIONS").as_bytes(),
        engine.sip,
    )
    .expect("send");
    let mut buf = [0u8; 4096];
    let (n, _) = s.recv_from(&mut buf).expect("an answer");
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("SIP/2.0 513 "), "{text}");
    // …and a normal one right after is still served.
    s.send_to(
        options(port, engine.sip, 10, "2 OPTIONS").as_bytes(),
        engine.sip,
    )
    .expect("send");
    let (n, _) = s.recv_from(&mut buf).expect("an answer");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("SIP/2.0 200 "));
}

#[test]
fn a_tcp_stream_that_cannot_be_framed_gets_400_and_is_closed() {
    use std::io::{Read, Write};
    let engine = Engine::start("");
    let mut tcp = std::net::TcpStream::connect(engine.sip).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let port = tcp.local_addr().expect("addr").port();
    // A message split in two writes is framed whole (a partial message waits for more).
    let ok = options(port, engine.sip, 10, "1 OPTIONS").replace("UDP", "TCP");
    let (a, b) = ok.split_at(40);
    tcp.write_all(a.as_bytes()).expect("write");
    std::thread::sleep(Duration::from_millis(200));
    tcp.write_all(b.as_bytes()).expect("write");
    let mut buf = [0u8; 4096];
    let n = tcp.read(&mut buf).expect("answer");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("SIP/2.0 200 "));
    // A negative Content-Length cannot be resynchronised: 400, then the connection closes.
    let bad = ok
        .replace("Content-Length: 0", "Content-Length: -5")
        .replace("1 OPTIONS", "2 OPTIONS");
    tcp.write_all(bad.as_bytes()).expect("write");
    let mut all = Vec::new();
    let _ = tcp.read_to_end(&mut all);
    let text = String::from_utf8_lossy(&all);
    assert!(text.starts_with("SIP/2.0 400 "), "{text}");
}

/// Logs an operator can ship and grep (issue 11 item 20): with `--log-format json` every line
/// is one JSON object; a log file gets no colour codes; every line about a call names it by
/// the same id (the end of its public name); SIP URIs and alarms read as text, not as Rust
/// structures.
#[test]
fn logs_are_json_or_plain_text_and_name_a_call_one_way() {
    for json in [true, false] {
        let args: &[&str] = if json { &["--log-format", "json"] } else { &[] };
        let mut engine = Engine::start_with_args("", args);
        let target = engine.sip;
        sipp(
            target,
            "uac_ivr_dialect.xml",
            &["-m", "1", "-d", "3000"],
            Duration::from_secs(30),
        )
        .assert_ok();
        let record = engine
            .latest_record(Duration::from_secs(5))
            .expect("a call record");
        let name = record["id"].as_str().expect("call name").to_string();
        let id = name.rsplit_once('-').expect("name-id").1.to_string();
        assert_eq!(engine.terminate(), Some(0));
        let log = engine.log();
        assert!(
            !log.contains('\u{1b}'),
            "colour codes in a log file:\n{log}"
        );
        for bad in ["SipUri {", "Params(", "QueueUnstaffed {", "Some(\""] {
            assert!(
                !log.contains(bad),
                "a Rust structure ({bad}) in the log:\n{log}"
            );
        }
        let mut about_call = 0;
        for line in log.lines().filter(|l| !l.trim().is_empty()) {
            let call = if json {
                let v: serde_json::Value =
                    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                assert!(
                    v["level"].is_string() && v["timestamp"].is_string(),
                    "{line}"
                );
                v["call"].as_str().map(str::to_string)
            } else {
                line.split_whitespace()
                    .find_map(|w| w.strip_prefix("call="))
                    .map(str::to_string)
            };
            if let Some(call) = call {
                assert_eq!(call, id, "one id per call in every line: {line}");
                about_call += 1;
            }
        }
        assert!(about_call >= 4, "{about_call} lines about the call:\n{log}");
    }
}
