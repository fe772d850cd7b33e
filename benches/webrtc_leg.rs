//! A browser agent leg's cost (`media::webrtc`, str0m on OpenSSL) next to a plain RTP leg:
//!
//! - `handshake`: one engine leg (ICE-lite offer) and one browser-like str0m peer (full ICE,
//!   answer) from nothing to both connected — certificates, SDP both ways, STUN, DTLS,
//!   SRTP keys — with datagrams passed in memory on a fake clock: the CPU of **both ends**.
//! - `protect_pcmu`: one 20 ms PCMU packet from the bridge → one SRTP datagram out
//!   (`send_rtp` + drain), what every packet towards a browser costs.
//! - `unprotect_pcmu`: one SRTP datagram from the browser → the bridge's plain RTP packet
//!   (`handle_datagram` + drain); each iteration gets a fresh datagram (SRTP refuses replays).
//! - `protect_opus`: the same as `protect_pcmu` when the browser answered Opus only: G.711
//!   decode, libopus encode at 8 kHz (complexity 5, the default of `[rtp] opus_complexity`),
//!   SRTP; `protect_opus_c0` / `_c10` at complexity 0 and 10, the setting's two ends.
//! - `plain_rtp_leg`: what a SIP phone's leg does per packet instead: parse the received
//!   packet, re-stamp it on the leg's `RtpSender`.
//!
//! Packets are one template re-stamped in place. The fake clock stands still while packets
//! are measured: moving it 20 ms per packet with nobody answering ICE consent checks would
//! end the session (as it should) in the middle of the bench.

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use hotline::media::codec::Codec;
use hotline::media::rtp::{RtpHeader, RtpPacket, RtpSender};
use hotline::media::webrtc::{LegOutput, WebRtcLeg};
use str0m::change::SdpOffer;
use str0m::media::{Mid, Pt};
use str0m::net::{Protocol, Receive};
use str0m::rtp::{RtpWrite, SeqNo};
use str0m::{Candidate, Event, Input, Output, Rtc};

const STEP: Duration = Duration::from_millis(5);

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("bench address")
}

/// An engine leg and a browser, connected, with the fake clock where they are.
struct Pair {
    engine: WebRtcLeg,
    browser: Rtc,
    browser_timeout: Instant,
    mid: Option<Mid>,
    now: Instant,
    to_browser: Vec<Vec<u8>>,
    to_engine: Vec<Vec<u8>>,
    engine_up: bool,
    browser_up: bool,
}

impl Pair {
    /// `opus`: the browser answers Opus only and the leg encodes at that complexity;
    /// `None`: PCMU.
    fn connect(t0: Instant, opus: Option<u8>) -> Pair {
        let opus_only = opus.is_some();
        let (mut engine, offer) = WebRtcLeg::offer(addr("127.0.0.1:40000"), t0).expect("offer");
        if let Some(c) = opus {
            engine.set_opus_complexity(c);
        }
        let cfg = Rtc::builder().set_rtp_mode(true).clear_codecs();
        let cfg = if opus_only {
            cfg.enable_opus(true, false)
        } else {
            cfg.enable_pcmu(true, false)
        };
        let mut browser = cfg.build(t0);
        let cand = Candidate::host(addr("127.0.0.1:50000"), "udp").expect("candidate");
        browser.add_local_candidate(cand);
        let offer = SdpOffer::from_sdp_string(&offer).expect("offer parses");
        let answer = browser.sdp_api().accept_offer(offer).expect("answer");
        let mut pair = Pair {
            engine,
            browser,
            browser_timeout: t0,
            mid: None,
            now: t0,
            to_browser: Vec::new(),
            to_engine: Vec::new(),
            engine_up: false,
            browser_up: false,
        };
        pair.engine
            .accept_answer(&answer.to_sdp_string(), t0)
            .expect("answer accepted");
        for _ in 0..400 {
            pair.step();
            if pair.engine_up && pair.browser_up && pair.mid.is_some() {
                return pair;
            }
        }
        panic!("no handshake");
    }

    fn step(&mut self) {
        self.now += STEP;
        let now = self.now;
        for d in std::mem::take(&mut self.to_engine) {
            self.engine
                .handle_datagram(addr("127.0.0.1:50000"), &d, now);
        }
        if self.engine.poll_timeout().is_some_and(|t| t <= now) {
            self.engine.handle_timeout(now);
        }
        self.drain_engine();
        for d in std::mem::take(&mut self.to_browser) {
            self.browser_receive(&d);
        }
        if self.browser_timeout <= now {
            let _ = self.browser.handle_input(Input::Timeout(now));
        }
        self.drain_browser();
    }

    fn browser_receive(&mut self, d: &[u8]) {
        let input = Input::Receive(
            self.now,
            Receive {
                proto: Protocol::Udp,
                source: addr("127.0.0.1:40000"),
                destination: addr("127.0.0.1:50000"),
                contents: d.try_into().expect("datagram"),
            },
        );
        let _ = self.browser.handle_input(input);
    }

    fn drain_engine(&mut self) -> usize {
        let mut n = 0;
        while let Some(o) = self.engine.poll_output() {
            match o {
                LegOutput::Transmit { contents, .. } => self.to_browser.push(contents),
                LegOutput::Rtp(p) => n += black_box(p).len(),
                LegOutput::Connected => self.engine_up = true,
                LegOutput::Failed(e) => panic!("engine failed: {e}"),
            }
        }
        n
    }

    fn drain_browser(&mut self) {
        loop {
            match self.browser.poll_output() {
                Ok(Output::Timeout(t)) => {
                    self.browser_timeout = t;
                    break;
                }
                Ok(Output::Transmit(t)) => self.to_engine.push(t.contents.to_vec()),
                Ok(Output::Event(Event::Connected)) => self.browser_up = true,
                Ok(Output::Event(Event::MediaAdded(m))) => self.mid = Some(m.mid),
                Ok(Output::Event(_)) => {}
                Err(e) => panic!("browser: {e}"),
            }
        }
    }
}

fn pcmu_packet(seq: u16) -> Vec<u8> {
    let pcm: Vec<i16> = (0..160)
        .map(|i| ((i as f32 * 0.3).sin() * 8000.0) as i16)
        .collect();
    let mut payload = [0u8; 160];
    Codec::Pcmu.encode(&pcm, &mut payload);
    let mut p = Vec::new();
    RtpHeader {
        marker: false,
        payload_type: 0,
        sequence: seq,
        timestamp: u32::from(seq) * 160,
        ssrc: 0x1234_5678,
    }
    .append_packet(&payload, &mut p);
    p
}

/// Rewrites a packet's sequence number and timestamp in place.
fn stamp(p: &mut [u8], seq: u16) {
    p[2..4].copy_from_slice(&seq.to_be_bytes());
    p[4..8].copy_from_slice(&(u32::from(seq) * 160).to_be_bytes());
}

fn bench(c: &mut Criterion) {
    let t0 = hotline::shell::clock::now();
    let mut packet = pcmu_packet(0);
    let mut g = c.benchmark_group("webrtc_leg");

    g.sample_size(20);
    g.bench_function("handshake", |b| {
        b.iter(|| black_box(Pair::connect(t0, None).now));
    });
    g.sample_size(100);
    g.throughput(Throughput::Elements(1));

    for (name, opus) in [
        ("protect_pcmu", None),
        ("protect_opus", Some(5)),
        ("protect_opus_c0", Some(0)),
        ("protect_opus_c10", Some(10)),
    ] {
        let mut pair = Pair::connect(t0, opus);
        let mut seq: u16 = 0;
        g.bench_function(name, |b| {
            b.iter(|| {
                seq = seq.wrapping_add(1);
                stamp(&mut packet, seq);
                pair.engine.send_rtp(&packet, pair.now);
                pair.drain_engine();
                black_box(pair.to_browser.len());
                pair.to_browser.clear();
            })
        });
    }

    // Setup and routine both need the pair: the browser makes the datagram (not timed),
    // the engine takes it (timed).
    let pair = std::cell::RefCell::new(Pair::connect(t0, None));
    let mut seq: u64 = 0;
    // `--list` (cargo-nextest asks every target for its tests) runs no routine.
    let ran = std::cell::Cell::new(false);
    g.bench_function("unprotect_pcmu", |b| {
        ran.set(true);
        b.iter_batched(
            || {
                let mut pair = pair.borrow_mut();
                seq += 1;
                let (mid, now) = (pair.mid.expect("mid"), pair.now);
                let payload = pcmu_packet(0)[12..].to_vec();
                let mut api = pair.browser.direct_api();
                let tx = api.stream_tx_by_mid(mid, None).expect("browser stream");
                let time = (seq * 160) as u32;
                tx.write_rtp(RtpWrite::new(
                    Pt::from(0),
                    SeqNo::from(seq),
                    time,
                    now,
                    payload,
                ));
                let _ = pair.browser.handle_input(Input::Timeout(now));
                pair.drain_browser();
                std::mem::take(&mut pair.to_engine)
            },
            |datagrams| {
                let mut pair = pair.borrow_mut();
                let now = pair.now;
                for d in &datagrams {
                    pair.engine.handle_datagram(addr("127.0.0.1:50000"), d, now);
                }
                black_box(pair.drain_engine());
                pair.to_browser.clear();
            },
            BatchSize::SmallInput,
        )
    });
    let got = pair.borrow().engine.stats().to_bridge;
    assert!(
        got > 0 || !ran.get(),
        "the engine decrypted nothing: the bench measured no unprotect"
    );

    let mut sender = RtpSender::new(Codec::Pcmu, Some(101), &mut rand::thread_rng());
    let mut out = Vec::with_capacity(200);
    let mut seq: u16 = 0;
    g.bench_function("plain_rtp_leg", |b| {
        b.iter(|| {
            seq = seq.wrapping_add(1);
            stamp(&mut packet, seq);
            let parsed = RtpPacket::parse(&packet).expect("rtp");
            out.clear();
            sender.frame(Some(parsed.payload), &mut out);
            black_box(out.len());
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
