//! Issue 12, items 1 and 2, against the real engine over loopback: RTP from a foreign port
//! cannot hijack a call (nothing relayed to it, nothing recorded or taken as a key from it),
//! and callers who vanish after INVITE+ACK are ended (BYE, a record) so new calls are
//! answered again. The SIP side is a small raw UDP client here: the test needs to control
//! exactly which socket sends what.

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use std::collections::HashSet;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use common::{wait_for, Engine};

/// A raw SIP/UDP caller.
struct Sip {
    socket: UdpSocket,
    engine: SocketAddr,
}

/// What the engine answered to one INVITE.
struct Answered {
    call_id: String,
    to_tag: String,
    /// The engine's RTP address from its SDP.
    rtp: SocketAddr,
}

impl Sip {
    fn new(engine: SocketAddr) -> Sip {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("sip socket");
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("timeout");
        Sip { socket, engine }
    }

    fn local(&self) -> SocketAddr {
        self.socket.local_addr().expect("addr")
    }

    fn send(&self, text: &str) {
        self.socket
            .send_to(text.as_bytes(), self.engine)
            .expect("send");
    }

    fn invite(&self, call_id: &str, rtp_port: u16) {
        let local = self.local();
        let sdp = format!("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {rtp_port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n");
        self.send(&format!(
            "INVITE sip:12345@{e} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-{call_id};rport\r\nFrom: <sip:13812345678@127.0.0.1>;tag=f-{call_id}\r\nTo: <sip:12345@{e}>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:13812345678@{local}>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
            sdp.len(),
            e = self.engine,
        ));
    }

    fn ack(&self, a: &Answered) {
        let local = self.local();
        self.send(&format!(
            "ACK sip:hotline@{e} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-ack-{c};rport\r\nFrom: <sip:13812345678@127.0.0.1>;tag=f-{c}\r\nTo: <sip:12345@{e}>;tag={t}\r\nCall-ID: {c}\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
            e = self.engine,
            c = a.call_id,
            t = a.to_tag,
        ));
    }

    fn bye(&self, a: &Answered) {
        let local = self.local();
        self.send(&format!(
            "BYE sip:hotline@{e} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-bye-{c};rport\r\nFrom: <sip:13812345678@127.0.0.1>;tag=f-{c}\r\nTo: <sip:12345@{e}>;tag={t}\r\nCall-ID: {c}\r\nCSeq: 2 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
            e = self.engine,
            c = a.call_id,
            t = a.to_tag,
        ));
    }

    /// Reads one datagram (or `None` after the socket's 100 ms timeout).
    fn recv(&self) -> Option<String> {
        let mut buf = [0u8; 8192];
        let (n, _) = self.socket.recv_from(&mut buf).ok()?;
        Some(String::from_utf8_lossy(&buf[..n]).into_owned())
    }

    /// Answers a request from the engine (a BYE) with 200; returns its Call-ID.
    fn answer_request(&self, msg: &str) -> Option<String> {
        if msg.starts_with("SIP/2.0") {
            return None;
        }
        let keep: Vec<&str> = msg
            .lines()
            .filter(|l| {
                let l = l.to_ascii_lowercase();
                ["via:", "from:", "to:", "call-id:", "cseq:"]
                    .iter()
                    .any(|h| l.starts_with(h))
            })
            .collect();
        self.send(&format!(
            "SIP/2.0 200 OK\r\n{}\r\nContent-Length: 0\r\n\r\n",
            keep.join("\r\n")
        ));
        header(msg, "Call-ID")
    }
}

fn header(msg: &str, name: &str) -> Option<String> {
    msg.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

fn status(msg: &str) -> Option<u16> {
    msg.strip_prefix("SIP/2.0 ")?.get(..3)?.parse().ok()
}

/// Parses a 200 to an INVITE.
fn answered(msg: &str) -> Option<Answered> {
    if status(msg)? != 200 || !header(msg, "CSeq")?.ends_with("INVITE") {
        return None;
    }
    let to = header(msg, "To")?;
    let to_tag = to.split(";tag=").nth(1)?.split(';').next()?.to_string();
    let port: u16 = msg
        .lines()
        .find_map(|l| l.strip_prefix("m=audio "))?
        .split(' ')
        .next()?
        .parse()
        .ok()?;
    let ip = msg
        .lines()
        .find_map(|l| l.strip_prefix("c=IN IP4 "))?
        .trim()
        .parse()
        .ok()?;
    Some(Answered {
        call_id: header(msg, "Call-ID")?,
        to_tag,
        rtp: SocketAddr::new(ip, port),
    })
}

/// One RTP packet: PT, sequence, timestamp, SSRC, payload.
fn rtp(pt: u8, marker: bool, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, pt | if marker { 0x80 } else { 0 }];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// 20 ms of a loud 1 kHz tone in μ-law.
fn tone() -> Vec<u8> {
    (0..160)
        .map(|i| {
            let x = (f64::from(i) * 2.0 * std::f64::consts::PI * 1000.0 / 8000.0).sin();
            hotline::media::codec::Codec::Pcmu.encode_sample((x * 20000.0) as i16)
        })
        .collect()
}

/// `family{labels} value` from a `/metrics` page (0 when absent).
fn sample(metrics: &str, family: &str) -> u64 {
    metrics
        .lines()
        .find(|l| l.starts_with(family))
        .and_then(|l| l.split_whitespace().last()?.parse().ok())
        .unwrap_or(0)
}

/// Sends an INVITE and ACKs its 200, within `limit`.
fn call(sip: &Sip, call_id: &str, rtp_port: u16, limit: Duration) -> Option<Answered> {
    sip.invite(call_id, rtp_port);
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if let Some(a) = sip.recv().as_deref().and_then(answered) {
            if a.call_id == call_id {
                sip.ack(&a);
                return Some(a);
            }
        }
    }
    None
}

#[test]
fn rtp_and_a_forged_key_from_another_port_are_refused_during_an_ivr_call() {
    let engine = Engine::start("");
    let sip = Sip::new(engine.sip);
    let caller_rtp = UdpSocket::bind("127.0.0.1:0").expect("caller rtp");
    let attacker = UdpSocket::bind("127.0.0.1:0").expect("attacker rtp");
    for s in [&caller_rtp, &attacker] {
        s.set_nonblocking(true).expect("nonblocking");
    }
    let caller_port = caller_rtp.local_addr().expect("addr").port();
    let a = call(&sip, "hijack-1", caller_port, Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no 200; log:\n{}", engine.log()));
    // Three seconds: the caller sends silence every 20 ms from the port its SDP names; the
    // attacker, from another port, sends a loud tone and RFC 4733 "0" (would route the call
    // to the general queue) and listens for anything the engine sends back.
    let silence = *hotline::media::codec::Codec::Pcmu.silence_frame();
    let tone = tone();
    let (mut to_caller, mut to_attacker) = (0u32, 0u32);
    let mut buf = [0u8; 2048];
    let start = Instant::now();
    let mut i: u16 = 0;
    while start.elapsed() < Duration::from_secs(3) {
        let ts = u32::from(i) * 160;
        let _ = caller_rtp.send_to(&rtp(0, i == 0, i, ts, 0x1111, &silence), a.rtp);
        if i > 5 {
            let _ = attacker.send_to(&rtp(0, false, i, ts, 0x2222, &tone), a.rtp);
            // Key 0, volume 10, growing duration; the last three carry the end bit.
            let event_ts = 160 * 1000;
            let phase = i % 10;
            let end = phase >= 7;
            let duration = (phase + 1) * 160;
            let mut payload = vec![0u8, 10 | if end { 0x80 } else { 0 }];
            payload.extend_from_slice(&duration.to_be_bytes());
            let _ = attacker.send_to(
                &rtp(
                    101,
                    phase == 0,
                    i,
                    event_ts + u32::from(i / 10) * 1600,
                    0x2222,
                    &payload,
                ),
                a.rtp,
            );
        }
        std::thread::sleep(Duration::from_millis(20));
        while caller_rtp.recv_from(&mut buf).is_ok() {
            to_caller += 1;
        }
        while attacker.recv_from(&mut buf).is_ok() {
            to_attacker += 1;
        }
        i += 1;
    }
    assert_eq!(
        to_attacker, 0,
        "the engine sent the attacker {to_attacker} packets"
    );
    assert!(
        to_caller > 100,
        "the caller still hears the menu: {to_caller} packets"
    );
    // The forged key did nothing: the call is still in the menu, in no queue.
    let live = engine
        .call_where(Duration::from_secs(2), |c| c["state"] == "ivr")
        .unwrap_or_else(|| panic!("the call left the menu; log:\n{}", engine.log()));
    assert!(live["queue"].is_null(), "{live}");
    assert_eq!(live["menu_path"], serde_json::json!([]), "{live}");
    let (_, metrics) = engine.get("/metrics");
    let refused = sample(
        &metrics,
        r#"hotline_rtp_refused_total{reason="foreign_source"}"#,
    );
    assert!(refused > 100, "refused {refused}:\n{metrics}");
    sip.bye(&a);
}

#[test]
fn callers_who_vanish_after_the_ack_are_ended_and_new_calls_are_answered() {
    // 40 ports: 30 for callers (10 kept for agents), so 50 dead calls fill the range. They
    // all come from one address at once: the per-source set-up limit is off here so that
    // the ports, not that limit, are what runs out.
    let ports = common::ports::lease();
    let callers = common::ports::lease();
    let engine = Engine::start(&format!(
        "[sip]\nmax_setup_per_source = 0\n[rtp]\nport_min = {}\nport_max = {}\nagent_reserve = 10\nrelatch_after = \"500ms\"\nmedia_timeout = \"2s\"\n",
        ports.first,
        ports.first + 78
    ));
    let sip = Sip::new(engine.sip);
    let n = 50;
    let mut answered_ids = HashSet::new();
    let mut refused = HashSet::new();
    for k in 0..n {
        sip.invite(&format!("dead-{k}"), callers.first + 2 * k);
    }
    // Collect the answers (ACK every 200), then the BYEs (answer each), bounded in time.
    let mut byes = HashSet::new();
    let end = Instant::now() + Duration::from_secs(20);
    while Instant::now() < end {
        let Some(msg) = sip.recv() else {
            if !answered_ids.is_empty() && byes.len() == answered_ids.len() {
                break;
            }
            continue;
        };
        if let Some(a) = answered(&msg) {
            sip.ack(&a);
            answered_ids.insert(a.call_id);
        } else if status(&msg) == Some(503) {
            // Retransmitted until acknowledged: count calls, not datagrams.
            refused.extend(header(&msg, "Call-ID"));
        } else if msg.starts_with("BYE ") {
            if let Some(id) = sip.answer_request(&msg) {
                byes.insert(id);
            }
        }
    }
    assert_eq!(
        answered_ids.len(),
        30,
        "callers get every port but the agents' reserve"
    );
    assert_eq!(
        refused.len(),
        n as usize - 30,
        "the rest are refused while the range is full"
    );
    assert_eq!(
        byes,
        answered_ids,
        "every dead call got a BYE; log:\n{}",
        engine.log()
    );
    // Every one left a record with the outcome.
    let records = wait_for(Duration::from_secs(5), || {
        let (_, body) = engine.get("/api/calls/recent?limit=100");
        let recent: serde_json::Value = serde_json::from_str(&body).ok()?;
        let timed_out = recent
            .as_array()?
            .iter()
            .filter(|r| r["outcome"] == "media_timeout")
            .count();
        (timed_out == 30).then_some(timed_out)
    });
    assert_eq!(records, Some(30), "records with media_timeout");
    let (_, metrics) = engine.get("/metrics");
    assert_eq!(
        sample(
            &metrics,
            r#"hotline_calls_ended_total{outcome="media_timeout"}"#
        ),
        30
    );
    assert_eq!(sample(&metrics, r#"hotline_calls{state="ivr"}"#), 0);
    // The hotline answers again.
    let fresh = call(&sip, "fresh-1", callers.first + 150, Duration::from_secs(5));
    assert!(
        fresh.is_some(),
        "a new call is answered; log:\n{}",
        engine.log()
    );
}

/// RFC 4733 packets for one key press: three updates, then three with the end bit.
fn key_packets(key: u8, seq0: u16, ts: u32, ssrc: u32) -> Vec<Vec<u8>> {
    (0..6u16)
        .map(|k| {
            let end = k >= 3;
            let mut payload = vec![key, 10 | if end { 0x80 } else { 0 }];
            payload.extend_from_slice(&((k.min(3) + 1) * 160).to_be_bytes());
            rtp(101, k == 0, seq0 + k, ts, ssrc, &payload)
        })
        .collect()
}

#[test]
fn a_foreign_port_gets_nothing_of_a_bridged_call_and_leaves_the_recording_clean() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let engine = Engine::start("");
    let dir = tempfile::tempdir().expect("temp dir");
    let _phone = common::baresip::start_baresip(dir.path(), engine.sip);
    wait_for(Duration::from_secs(15), || {
        let (_, body) = common::http_request(
            engine.http,
            "POST",
            "/api/agents/1001/state",
            Some("demo-supervisor"),
            Some(r#"{"state":"ready"}"#),
        );
        let (_, list) = engine.get("/api/agents");
        (list.contains(r#""state":"ready""#) && body.is_empty()).then_some(())
    })
    .unwrap_or_else(|| panic!("1001 registers and goes ready; log:\n{}", engine.log()));

    let sip = Sip::new(engine.sip);
    let caller_rtp = UdpSocket::bind("127.0.0.1:0").expect("caller rtp");
    caller_rtp.set_nonblocking(true).expect("nonblocking");
    let caller_port = caller_rtp.local_addr().expect("addr").port();
    let a = call(&sip, "bridged-1", caller_port, Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no 200; log:\n{}", engine.log()));
    // The caller: silence every 20 ms from its SDP port, and key 1 (enterprise) after 1 s.
    let stop = Arc::new(AtomicBool::new(false));
    let target = a.rtp;
    let caller = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let silence = *hotline::media::codec::Codec::Pcmu.silence_frame();
            let mut buf = [0u8; 2048];
            let mut seq: u16 = 0;
            let start = Instant::now();
            while !stop.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(30) {
                let ts = u32::from(seq) * 160;
                if seq == 50 {
                    for p in key_packets(1, seq, ts, 0x1111) {
                        let _ = caller_rtp.send_to(&p, target);
                    }
                    seq += 6;
                }
                let _ = caller_rtp.send_to(&rtp(0, seq == 0, seq, ts, 0x1111, &silence), target);
                seq = seq.wrapping_add(1);
                std::thread::sleep(Duration::from_millis(20));
                while caller_rtp.recv_from(&mut buf).is_ok() {}
            }
        })
    };
    let talking = engine.call_where(Duration::from_secs(15), |c| c["state"] == "talking");
    assert!(talking.is_some(), "bridged to 1001; log:\n{}", engine.log());
    // The attacker: two seconds of a loud tone and RFC 4733 "9" from another port.
    let attacker = UdpSocket::bind("127.0.0.1:0").expect("attacker rtp");
    attacker.set_nonblocking(true).expect("nonblocking");
    let tone = tone();
    let mut to_attacker = 0;
    let mut buf = [0u8; 2048];
    for i in 0..100u16 {
        let ts = 900_000 + u32::from(i) * 160;
        let _ = attacker.send_to(&rtp(0, false, 5000 + i, ts, 0x2222, &tone), target);
        if i % 10 == 0 {
            for p in key_packets(9, 6000 + i * 6, ts, 0x2222) {
                let _ = attacker.send_to(&p, target);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
        while attacker.recv_from(&mut buf).is_ok() {
            to_attacker += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    caller.join().expect("caller thread");
    sip.bye(&a);
    assert_eq!(
        to_attacker, 0,
        "the attacker heard {to_attacker} packets of the call"
    );
    let record = engine
        .latest_record(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("a record; log:\n{}", engine.log()));
    assert_eq!(record["outcome"], "answered", "{record}");
    // The caller's channel holds the caller's silence only: the tone never got in.
    let path = engine
        .data_dir
        .path()
        .join(record["recording"].as_str().expect("recording"));
    let mut wav = hound::WavReader::open(&path).expect("a readable WAV");
    let samples: Vec<i16> = wav.samples::<i16>().map_while(Result::ok).collect();
    let left_peak = samples.iter().step_by(2).map(|s| s.unsigned_abs()).max();
    assert!(
        left_peak.unwrap_or(0) < 100,
        "caller channel peak {left_peak:?}: the attacker's tone was recorded"
    );
    let phone = std::fs::read_to_string(dir.path().join("baresip.log")).unwrap_or_default();
    assert!(
        !phone.contains("received event: '9'"),
        "the forged key reached the agent:\n{phone}"
    );
    let (_, metrics) = engine.get("/metrics");
    let refused = sample(
        &metrics,
        r#"hotline_rtp_refused_total{reason="foreign_source"}"#,
    );
    assert!(refused >= 100, "refused {refused}");
}
