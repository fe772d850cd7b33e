//! Two legs in memory on a fake clock: the engine's [`WebRtcLeg`] against a browser-like
//! str0m peer (full ICE, the DTLS client, what Chrome does), datagrams passed by hand.

use super::*;
use std::time::Duration;
use str0m::change::SdpOffer;

const ENGINE: &str = "127.0.0.1:40000";
const BROWSER: &str = "127.0.0.1:50000";
const STEP: Duration = Duration::from_millis(5);

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("test address")
}

/// The browser: full ICE, RTP mode so the test sees packets, the codecs it is given.
struct Browser {
    rtc: Rtc,
    mid: Option<Mid>,
    connected: bool,
    got: Vec<RtcPacket>,
    timeout: Instant,
    error: Option<RtcError>,
}

#[derive(Clone, Copy)]
enum Offers {
    G711,
    OpusOnly,
}

impl Browser {
    fn answer(offer: &str, offers: Offers, now: Instant) -> (Browser, String) {
        let mut cfg = Rtc::builder().set_rtp_mode(true).clear_codecs();
        cfg = match offers {
            Offers::G711 => cfg.enable_pcmu(true, false).enable_pcma(true, false),
            Offers::OpusOnly => cfg.enable_opus(true, false),
        };
        let (pt, rate) = match offers {
            Offers::G711 => (PT_EVENT_8K, Frequency::EIGHT_KHZ),
            Offers::OpusOnly => (PT_EVENT_48K, Frequency::FORTY_EIGHT_KHZ),
        };
        cfg.codec_config().add_config(
            Pt::from(pt),
            None,
            RtcCodec::Tele,
            rate,
            None,
            FormatParams {
                telephone_event_max: Some(15),
                ..Default::default()
            },
        );
        let mut rtc = cfg.build(now);
        let cand = Candidate::host(addr(BROWSER), "udp").expect("candidate");
        rtc.add_local_candidate(cand);
        let offer = SdpOffer::from_sdp_string(offer).expect("our offer parses");
        let answer = rtc.sdp_api().accept_offer(offer).expect("browser accepts");
        let b = Browser {
            rtc,
            mid: None,
            connected: false,
            got: Vec::new(),
            timeout: now,
            error: None,
        };
        (b, answer.to_sdp_string())
    }

    fn drain(&mut self, wire: &mut Vec<Vec<u8>>) {
        loop {
            match self.rtc.poll_output() {
                Ok(Output::Timeout(t)) => {
                    self.timeout = t;
                    break;
                }
                Ok(Output::Transmit(t)) => wire.push(t.contents.to_vec()),
                Ok(Output::Event(Event::Connected)) => self.connected = true,
                Ok(Output::Event(Event::MediaAdded(m))) => self.mid = Some(m.mid),
                Ok(Output::Event(Event::RtpPacket(p))) => self.got.push(p),
                Ok(Output::Event(_)) => {}
                Err(e) => {
                    self.error = Some(e);
                    break;
                }
            }
        }
    }

    fn write(&mut self, pt: u8, seq: u64, time: u32, payload: Vec<u8>, now: Instant) {
        let mid = self.mid.expect("media added");
        let mut api = self.rtc.direct_api();
        let tx = api
            .stream_tx_by_mid(mid, None)
            .expect("browser send stream");
        tx.write_rtp(RtpWrite::new(
            Pt::from(pt),
            SeqNo::from(seq),
            time,
            now,
            payload,
        ));
        let _ = self.rtc.handle_input(Input::Timeout(now));
    }
}

/// The engine leg, the browser, the datagrams between them, and what the engine gave out.
struct Pair {
    engine: WebRtcLeg,
    browser: Browser,
    now: Instant,
    to_browser: Vec<Vec<u8>>,
    to_engine: Vec<Vec<u8>>,
    /// Every datagram the engine sent, to look for plaintext.
    engine_sent: Vec<Vec<u8>>,
    bridge: Vec<Vec<u8>>,
    engine_connected: bool,
    engine_failed: Option<WebRtcError>,
}

impl Pair {
    fn new(offers: Offers, tamper: impl Fn(String) -> String) -> Pair {
        let now = crate::media::t0();
        let (engine, offer) = WebRtcLeg::offer(addr(ENGINE), now).expect("offer");
        let (browser, answer) = Browser::answer(&offer, offers, now);
        let mut pair = Pair {
            engine,
            browser,
            now,
            to_browser: Vec::new(),
            to_engine: Vec::new(),
            engine_sent: Vec::new(),
            bridge: Vec::new(),
            engine_connected: false,
            engine_failed: None,
        };
        pair.engine
            .accept_answer(&tamper(answer), now)
            .expect("answer accepted");
        pair
    }

    /// Steps the fake clock `steps` × 5 ms, delivering every datagram in between.
    fn run(&mut self, steps: u32) {
        for _ in 0..steps {
            self.now += STEP;
            let now = self.now;
            for d in std::mem::take(&mut self.to_engine) {
                self.engine.handle_datagram(addr(BROWSER), &d, now);
            }
            if self.engine.poll_timeout().is_some_and(|t| t <= now) {
                self.engine.handle_timeout(now);
            }
            self.drain_engine();
            for d in std::mem::take(&mut self.to_browser) {
                let input = Input::Receive(
                    now,
                    Receive {
                        proto: Protocol::Udp,
                        source: addr(ENGINE),
                        destination: addr(BROWSER),
                        contents: d.as_slice().try_into().expect("datagram"),
                    },
                );
                if let Err(e) = self.browser.rtc.handle_input(input) {
                    self.browser.error = Some(e);
                }
            }
            if self.browser.timeout <= now {
                let _ = self.browser.rtc.handle_input(Input::Timeout(now));
            }
            self.browser.drain(&mut self.to_engine);
        }
    }

    fn drain_engine(&mut self) {
        while let Some(o) = self.engine.poll_output() {
            match o {
                LegOutput::Transmit {
                    destination,
                    contents,
                } => {
                    assert_eq!(destination, addr(BROWSER));
                    self.engine_sent.push(contents.clone());
                    self.to_browser.push(contents);
                }
                LegOutput::Rtp(p) => self.bridge.push(p),
                LegOutput::Connected => self.engine_connected = true,
                LegOutput::Failed(e) => self.engine_failed = Some(e),
            }
        }
    }

    fn handshake(&mut self) {
        for _ in 0..400 {
            self.run(1);
            if self.engine_connected && self.browser.connected {
                return;
            }
        }
        panic!(
            "no handshake: engine {:?}, browser connected {}",
            self.engine.state(),
            self.browser.connected
        );
    }

    /// The bridge hands the leg one packet.
    fn bridge_sends(&mut self, pt: u8, seq: u16, ts: u32, payload: &[u8], marker: bool) {
        let mut p = Vec::new();
        RtpHeader {
            marker,
            payload_type: pt,
            sequence: seq,
            timestamp: ts,
            ssrc: 0x1234_5678,
        }
        .append_packet(payload, &mut p);
        self.engine.send_rtp(&p, self.now);
        self.drain_engine();
    }
}

fn tone(hz: f64, frame: u32, codec: Codec) -> Vec<u8> {
    let pcm: Vec<i16> = (0..160)
        .map(|i| {
            let t = f64::from(frame * 160 + i) / 8000.0;
            (8000.0 * (2.0 * std::f64::consts::PI * hz * t).sin()) as i16
        })
        .collect();
    let mut out = vec![0u8; 160];
    codec.encode(&pcm, &mut out);
    out
}

/// Zero crossings per second of 8 kHz samples: ≈ 2 × the tone's frequency.
fn crossings_hz(pcm: &[i16]) -> f64 {
    let n = pcm.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
    n as f64 / 2.0 / (pcm.len() as f64 / 8000.0)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn offer_is_ice_lite_dtls_srtp_with_rtcp_mux_and_our_codecs() {
    let (_, offer) = WebRtcLeg::offer(addr(ENGINE), crate::media::t0()).expect("offer");
    for needed in [
        "a=ice-lite",
        "a=setup:actpass",
        "a=fingerprint:sha-256 ",
        "a=rtcp-mux",
        "UDP/TLS/RTP/SAVPF 0 8 111 101 110",
        "a=candidate:",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:111 opus/48000/2",
        "a=rtpmap:101 telephone-event/8000",
        "a=rtpmap:110 telephone-event/48000",
        "a=candidate:",
    ] {
        assert!(offer.contains(needed), "offer lacks {needed:?}:\n{offer}");
    }
}

#[test]
fn pcmu_both_ways_over_srtp_and_never_plain() {
    let mut pair = Pair::new(Offers::G711, |a| a);
    pair.handshake();
    let media = pair.engine.media().expect("negotiated");
    assert_eq!(media.codec, Codec::Pcmu);
    assert_eq!(media.telephone_event, Some(INNER_EVENT_PT));

    // Bridge → browser: 10 frames of a 400 Hz tone, relayed as PCMU without transcoding.
    let frames: Vec<Vec<u8>> = (0..10).map(|f| tone(400.0, f, Codec::Pcmu)).collect();
    for (i, f) in frames.iter().enumerate() {
        pair.bridge_sends(0, 100 + i as u16, 160 * i as u32, f, i == 0);
        pair.run(4);
    }
    pair.run(10);
    let got: Vec<&RtcPacket> = pair
        .browser
        .got
        .iter()
        .filter(|p| *p.header.payload_type == 0)
        .collect();
    assert_eq!(got.len(), 10, "browser got every frame");
    for (p, f) in got.iter().zip(&frames) {
        assert_eq!(&p.payload[..], &f[..]);
    }
    // SRTP only: no datagram the engine sent carries a frame in clear.
    for d in &pair.engine_sent {
        for f in &frames {
            assert!(!contains(d, &f[..32]), "plaintext audio on the wire");
        }
    }

    // Browser → bridge: 600 Hz PCMU frames come out as 8 kHz RTP for the bridge.
    for i in 0..10u32 {
        let now = pair.now;
        pair.browser.write(
            0,
            500 + u64::from(i),
            160 * i,
            tone(600.0, i, Codec::Pcmu),
            now,
        );
        pair.browser.drain(&mut pair.to_engine);
        pair.run(4);
    }
    let audio: Vec<RtpPacket> = pair
        .bridge
        .iter()
        .filter_map(|p| RtpPacket::parse(p).ok())
        .filter(|p| p.header.payload_type == 0)
        .collect();
    assert_eq!(audio.len(), 10);
    assert_eq!(audio[0].payload, &tone(600.0, 0, Codec::Pcmu)[..]);
    assert_eq!(
        audio[1]
            .header
            .timestamp
            .wrapping_sub(audio[0].header.timestamp),
        160
    );
    assert_eq!(pair.engine.stats().transcoded, 0);
}

#[test]
fn keys_pass_both_ways_as_rfc4733_events() {
    let mut pair = Pair::new(Offers::G711, |a| a);
    pair.handshake();
    // Bridge → browser: key 5, end bit, 800 samples.
    let key = TelephoneEvent {
        event: 5,
        end: true,
        volume: 10,
        duration: 800,
    };
    pair.bridge_sends(INNER_EVENT_PT, 7, 1600, &key.to_bytes(), true);
    pair.run(10);
    let ev = pair
        .browser
        .got
        .iter()
        .find(|p| *p.header.payload_type == PT_EVENT_8K)
        .expect("browser got the key");
    assert_eq!(TelephoneEvent::parse(&ev.payload).expect("event"), key);

    // Browser → bridge: key 9.
    let nine = TelephoneEvent {
        event: 9,
        end: false,
        volume: 10,
        duration: 160,
    };
    let now = pair.now;
    pair.browser
        .write(PT_EVENT_8K, 900, 3200, nine.to_bytes().to_vec(), now);
    pair.browser.drain(&mut pair.to_engine);
    pair.run(4);
    let got = pair
        .bridge
        .iter()
        .filter_map(|p| RtpPacket::parse(p).ok())
        .find(|p| p.header.payload_type == INNER_EVENT_PT)
        .expect("bridge got the key");
    assert_eq!(TelephoneEvent::parse(got.payload).expect("event"), nine);
}

#[test]
fn opus_browser_is_transcoded_to_pcmu_and_back_with_keys_rescaled() {
    let mut pair = Pair::new(Offers::OpusOnly, |a| a);
    pair.handshake();
    let media = pair.engine.media().expect("negotiated");
    assert_eq!(media.codec, Codec::Pcmu, "the bridge side stays G.711");

    // Bridge → browser: 400 Hz PCMU becomes Opus on a 48 kHz clock.
    for i in 0..25u32 {
        pair.bridge_sends(0, i as u16, 160 * i, &tone(400.0, i, Codec::Pcmu), false);
        pair.run(4);
    }
    pair.run(10);
    let opus: Vec<&RtcPacket> = pair
        .browser
        .got
        .iter()
        .filter(|p| *p.header.payload_type == 111)
        .collect();
    assert_eq!(opus.len(), 25);
    assert_eq!(
        opus[1]
            .header
            .timestamp
            .wrapping_sub(opus[0].header.timestamp),
        960
    );
    let mut dec = opus::Decoder::new(8000, opus::Channels::Mono).expect("decoder");
    let mut pcm = Vec::new();
    for p in &opus {
        let mut buf = [0i16; 960];
        let n = dec
            .decode(&p.payload, &mut buf, false)
            .expect("browser decodes");
        pcm.extend_from_slice(&buf[..n]);
    }
    let hz = crossings_hz(&pcm[160 * 10..]);
    assert!(
        (350.0..450.0).contains(&hz),
        "browser hears ≈400 Hz, got {hz}"
    );

    // Browser → bridge: 600 Hz Opus becomes PCMU frames at 8 kHz times.
    let mut enc =
        opus::Encoder::new(8000, opus::Channels::Mono, opus::Application::Voip).expect("encoder");
    for i in 0..25u32 {
        let mut pcm = [0i16; 160];
        Codec::Pcmu.decode(&tone(600.0, i, Codec::Pcmu), &mut pcm);
        let mut out = vec![0u8; 1500];
        let n = enc.encode(&pcm, &mut out).expect("encode");
        out.truncate(n);
        let now = pair.now;
        pair.browser
            .write(111, 1000 + u64::from(i), 48_000 + 960 * i, out, now);
        pair.browser.drain(&mut pair.to_engine);
        pair.run(4);
    }
    let frames: Vec<RtpPacket> = pair
        .bridge
        .iter()
        .filter_map(|p| RtpPacket::parse(p).ok())
        .filter(|p| p.header.payload_type == 0)
        .collect();
    assert_eq!(frames.len(), 25);
    assert_eq!(frames[0].header.timestamp, 0);
    assert_eq!(frames[3].header.timestamp, 480);
    let mut pcm = Vec::new();
    for f in &frames[10..] {
        let mut s = [0i16; 160];
        Codec::Pcmu.decode(f.payload, &mut s);
        pcm.extend_from_slice(&s);
    }
    let hz = crossings_hz(&pcm);
    assert!(
        (550.0..650.0).contains(&hz),
        "bridge hears ≈600 Hz, got {hz}"
    );
    assert_eq!(pair.engine.stats().transcoded, 50);

    // Keys on the 48 kHz clock: durations scale by 6 each way.
    let key = TelephoneEvent {
        event: 1,
        end: true,
        volume: 10,
        duration: 800,
    };
    pair.bridge_sends(INNER_EVENT_PT, 30, 160 * 30, &key.to_bytes(), true);
    pair.run(10);
    let ev = pair
        .browser
        .got
        .iter()
        .find(|p| *p.header.payload_type == PT_EVENT_48K)
        .expect("key");
    assert_eq!(
        TelephoneEvent::parse(&ev.payload).expect("event").duration,
        4800
    );
    let now = pair.now;
    let back = TelephoneEvent {
        event: 2,
        end: true,
        volume: 10,
        duration: 4800,
    };
    pair.browser.write(
        PT_EVENT_48K,
        2000,
        48_000 + 960 * 30,
        back.to_bytes().to_vec(),
        now,
    );
    pair.browser.drain(&mut pair.to_engine);
    pair.run(4);
    let got = pair
        .bridge
        .iter()
        .filter_map(|p| RtpPacket::parse(p).ok())
        .find(|p| p.header.payload_type == INNER_EVENT_PT)
        .expect("bridge got the key");
    let e = TelephoneEvent::parse(got.payload).expect("event");
    assert_eq!((e.event, e.duration), (2, 800));
    assert_eq!(got.header.timestamp, 160 * 30);
}

#[test]
fn a_wrong_dtls_fingerprint_is_refused_before_any_media() {
    // The answer's fingerprint is not the browser's certificate's (a man in the middle).
    let mut pair = Pair::new(Offers::G711, |answer| {
        let i = answer.find("a=fingerprint:sha-256 ").expect("fingerprint") + 22;
        let mut bytes = answer.into_bytes();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        String::from_utf8(bytes).expect("ascii")
    });
    for _ in 0..400 {
        pair.run(1);
        if pair.engine_failed.is_some() {
            break;
        }
    }
    assert!(
        matches!(pair.engine_failed, Some(WebRtcError::Fingerprint(_))),
        "refused: {:?}",
        pair.engine_failed
    );
    assert!(!pair.engine_connected);
    assert_eq!(pair.engine.state(), LegState::Failed);
    assert_eq!(pair.engine.poll_timeout(), None);
    // Nothing reaches the browser from the bridge afterwards.
    let sent = pair.engine_sent.len();
    pair.bridge_sends(0, 1, 0, &tone(400.0, 0, Codec::Pcmu), false);
    pair.run(20);
    assert_eq!(pair.engine_sent.len(), sent);
    assert!(pair.browser.got.is_empty());
}

#[test]
fn answers_twice_or_garbled_are_refused_and_bad_datagrams_counted() {
    let now = crate::media::t0();
    let (mut leg, offer) = WebRtcLeg::offer(addr(ENGINE), now).expect("offer");
    assert!(matches!(
        leg.accept_answer("v=0 nonsense", now),
        Err(WebRtcError::AnswerSyntax(_))
    ));
    let (mut leg2, _) = WebRtcLeg::offer(addr(ENGINE), now).expect("offer");
    let (_, answer) = Browser::answer(&offer, Offers::G711, now);
    // `offer`'s answer does not belong to leg2's offer (other ICE credentials are fine, but
    // the fingerprint check is later); leg answered once: a second answer is refused.
    let _ = leg2.accept_answer(&answer, now);
    assert!(matches!(
        leg2.accept_answer(&answer, now),
        Err(WebRtcError::NoPendingOffer)
    ));
    // Garbage datagrams are counted, not fatal.
    let (mut leg3, offer3) = WebRtcLeg::offer(addr(ENGINE), now).expect("offer");
    let (_, answer3) = Browser::answer(&offer3, Offers::G711, now);
    leg3.accept_answer(&answer3, now).expect("answer");
    leg3.handle_datagram(addr(BROWSER), &[0xff; 40], now);
    leg3.handle_datagram(addr(BROWSER), &[], now);
    assert_eq!(leg3.stats().refused_datagrams, 2);
    assert_eq!(leg3.state(), LegState::Connecting);
}

#[test]
fn an_answer_without_a_fingerprint_never_connects() {
    let now = crate::media::t0();
    let (mut leg, offer) = WebRtcLeg::offer(addr(ENGINE), now).expect("offer");
    let (_, answer) = Browser::answer(&offer, Offers::G711, now);
    let stripped: String = answer
        .lines()
        .filter(|l| !l.starts_with("a=fingerprint:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    // Refused with the answer, or at the DTLS handshake at the latest: never connected.
    match leg.accept_answer(&stripped, now) {
        Err(WebRtcError::Answer(_) | WebRtcError::AnswerSyntax(_)) => {}
        other => panic!("an answer without a fingerprint was taken: {other:?}"),
    }
    assert_ne!(leg.state(), LegState::Connected);
}

/// The browser's own re-offer (a hold re-INVITE, then the resume): the leg answers it on the
/// same ICE and DTLS, says who holds, and audio flows again after the resume.
#[test]
fn a_browsers_hold_and_resume_reoffers_are_answered_on_the_running_leg() {
    let mut pair = Pair::new(Offers::G711, |a| a);
    pair.handshake();
    let mid = pair
        .browser
        .rtc
        .media(pair.browser.mid.expect("the browser's audio"))
        .map(|m| m.mid())
        .expect("media");
    for (direction, held) in [(Direction::SendOnly, true), (Direction::SendRecv, false)] {
        let mut change = pair.browser.rtc.sdp_api();
        change.set_direction(mid, direction);
        let (offer, pending) = change.apply().expect("a re-offer");
        let (answer, on_hold) = pair
            .engine
            .accept_offer(&offer.to_sdp_string(), pair.now)
            .expect("the leg answers the re-offer");
        assert_eq!(on_hold, held, "{direction:?}");
        assert!(answer.contains("a=fingerprint:"), "{answer}");
        pair.browser
            .rtc
            .sdp_api()
            .accept_answer(
                pending,
                SdpAnswer::from_sdp_string(&answer).expect("answer"),
            )
            .expect("the browser takes our answer");
        pair.run(20);
        assert!(pair.engine_failed.is_none(), "{:?}", pair.engine_failed);
    }
    // Resumed: the bridge's audio reaches the browser as before.
    let before = pair.browser.got.len();
    for i in 0..5u16 {
        pair.bridge_sends(
            0,
            900 + i,
            160 * u32::from(i),
            &tone(400.0, 0, Codec::Pcmu),
            i == 0,
        );
        pair.run(4);
    }
    assert_eq!(pair.browser.got.len() - before, 5, "audio after the resume");
    // A re-offer that is not SDP is refused, and the leg goes on.
    assert!(pair.engine.accept_offer("garbage", pair.now).is_err());
    assert_eq!(pair.engine.state(), LegState::Connected);
}

/// An answered leg whose browser never reaches it (its network blocks UDP) fails once the
/// connect timeout passes, instead of waiting forever (ICE-lite sends no checks itself).
#[test]
fn an_answered_leg_that_never_connects_fails_at_its_connect_timeout() {
    let now = crate::media::t0();
    let (mut leg, offer) = WebRtcLeg::offer(addr(ENGINE), now).expect("offer");
    let (_, answer) = Browser::answer(&offer, Offers::G711, now);
    leg.accept_answer(&answer, now).expect("answer accepted");
    leg.set_connect_timeout(Duration::from_secs(3), now);
    while leg.poll_output().is_some() {}
    let mut t = now;
    let mut failed = None;
    while t < now + Duration::from_secs(5) && failed.is_none() {
        let due = leg.poll_timeout().expect("a wake-up while connecting");
        assert!(
            due <= now + Duration::from_secs(3),
            "woken by the deadline at the latest"
        );
        t = due.max(t + Duration::from_millis(1));
        leg.handle_timeout(t);
        while let Some(o) = leg.poll_output() {
            if let LegOutput::Failed(e) = o {
                failed = Some((t, e));
            }
        }
    }
    let (at, e) = failed.expect("the leg failed");
    assert!(matches!(e, WebRtcError::ConnectTimeout(_)), "{e}");
    assert!(at >= now + Duration::from_secs(3) && at < now + Duration::from_millis(3100));
    assert_eq!(leg.state(), LegState::Failed);
}

#[test]
fn the_opus_encoder_runs_at_the_configured_complexity() {
    let now = crate::media::t0();
    // Unset: the default; set: that value; beyond libopus's 10: 10 (config refuses it first).
    for (set, want) in [(None, 0), (Some(5), 5), (Some(10), 10), (Some(42), 10)] {
        let (mut leg, offer) = WebRtcLeg::offer(addr(ENGINE), now).expect("offer");
        if let Some(c) = set {
            leg.set_opus_complexity(c);
        }
        let (_browser, answer) = Browser::answer(&offer, Offers::OpusOnly, now);
        leg.accept_answer(&answer, now).expect("answer accepted");
        assert_eq!(leg.opus_complexity(), Some(want), "set {set:?}");
    }
    // A G.711 browser is relayed as it is: no encoder at all.
    let (mut leg, offer) = WebRtcLeg::offer(addr(ENGINE), now).expect("offer");
    leg.set_opus_complexity(9);
    let (_browser, answer) = Browser::answer(&offer, Offers::G711, now);
    leg.accept_answer(&answer, now).expect("answer accepted");
    assert_eq!(leg.opus_complexity(), None);
}
