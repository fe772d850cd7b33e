//! A browser agent leg on the media task over loopback: a plain RTP caller (400 Hz) bridged
//! to a WebRTC agent (600 Hz) played by a str0m peer in the test (full ICE, DTLS client,
//! as a browser). Both hear each other, keys pass, and the recording has both channels.

use std::net::SocketAddr;
use std::time::Duration;

use str0m::change::SdpOffer;
use str0m::media::Pt;
use str0m::net::{Protocol, Receive};
use str0m::rtp::{RtpWrite, SeqNo};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::tests::{amplitude, free_port, media_task, phone, LOCAL};
use super::{MediaEvent, MediaHandle};
use crate::call::engine::MediaCommand;
use crate::call::session::CallId;
use crate::media::codec::Codec;
use crate::media::dtmf::tone::goertzel_amplitude;
use crate::media::webrtc::WebRtcLeg;
use crate::shell::clock;

/// What the browser got: (payload type, payload) of each RTP packet, and whether it
/// connected.
pub(super) struct BrowserRun {
    pub(super) got: Vec<(u8, Vec<u8>)>,
    pub(super) connected: bool,
}

/// Answers `offer` on `socket` and runs for `frames` × 20 ms after connecting (bounded by
/// 5 s overall), sending a 600 Hz PCMU tone and, at frame 20, key 7 as an RFC 4733 event;
/// with `close`, it then closes its session (DTLS close_notify) as a browser hanging up does.
pub(super) async fn browser(
    offer: String,
    socket: UdpSocket,
    answer_tx: tokio::sync::oneshot::Sender<String>,
    frames: u64,
    close: bool,
) -> BrowserRun {
    let local = socket.local_addr().expect("browser addr");
    let mut config = Rtc::builder()
        .set_rtp_mode(true)
        .clear_codecs()
        .enable_pcmu(true, false);
    config.codec_config().add_config(
        Pt::from(101),
        None,
        str0m::format::Codec::Tele,
        str0m::media::Frequency::EIGHT_KHZ,
        None,
        str0m::format::FormatParams {
            telephone_event_max: Some(15),
            ..Default::default()
        },
    );
    let mut rtc = config.build(clock::now());
    rtc.add_local_candidate(Candidate::host(local, "udp").expect("candidate"));
    let offer = SdpOffer::from_sdp_string(&offer).expect("offer parses");
    let answer = rtc.sdp_api().accept_offer(offer).expect("answer");
    let _ = answer_tx.send(answer.to_sdp_string());
    let mut run = BrowserRun {
        got: Vec::new(),
        connected: false,
    };
    let deadline = clock::now() + Duration::from_secs(5);
    let mut mid = None;
    let mut sent = 0u64;
    let mut next_frame = None;
    let mut buf = vec![0u8; 2048];
    while clock::now() < deadline && sent < frames + 15 {
        let timeout = loop {
            match rtc.poll_output() {
                Ok(Output::Timeout(t)) => break t,
                Ok(Output::Transmit(t)) => {
                    let _ = socket.send_to(&t.contents, t.destination).await;
                }
                Ok(Output::Event(Event::Connected)) => {
                    run.connected = true;
                    next_frame = Some(clock::now());
                }
                Ok(Output::Event(Event::MediaAdded(m))) => mid = Some(m.mid),
                Ok(Output::Event(Event::RtpPacket(p))) => {
                    run.got.push((*p.header.payload_type, p.payload.to_vec()))
                }
                Ok(Output::Event(_)) => {}
                Err(e) => panic!("browser: {e}"),
            }
        };
        let wake = next_frame.map_or(timeout, |f: std::time::Instant| f.min(timeout));
        tokio::select! {
            r = socket.recv_from(&mut buf) => {
                let (n, source) = r.expect("browser recv");
                let contents = buf[..n].try_into().expect("datagram");
                let input = Input::Receive(clock::now(), Receive { proto: Protocol::Udp, source, destination: local, contents });
                rtc.handle_input(input).expect("browser input");
            }
            _ = clock::sleep_until(Some(wake)) => {}
        }
        let now = clock::now();
        if let (Some(f), Some(mid)) = (next_frame.as_mut(), mid) {
            if *f <= now {
                *f += Duration::from_millis(20);
                let (pt, payload) = if sent == 20 {
                    // Key 7, end bit, 800 samples (RFC 4733).
                    (101, vec![7, 0x80 | 10, 0x03, 0x20])
                } else {
                    (0, tone_frame(600.0, sent))
                };
                if sent < frames {
                    let mut api = rtc.direct_api();
                    if let Some(tx) = api.stream_tx_by_mid(mid, None) {
                        tx.write_rtp(RtpWrite::new(
                            Pt::from(pt),
                            SeqNo::from(sent),
                            (sent * 160) as u32,
                            now,
                            payload,
                        ));
                    }
                }
                sent += 1;
            }
        }
        rtc.handle_input(Input::Timeout(now))
            .expect("browser timeout");
    }
    if close {
        rtc.close().expect("close");
        while let Ok(out) = rtc.poll_output() {
            match out {
                Output::Transmit(t) => {
                    let _ = socket.send_to(&t.contents, t.destination).await;
                }
                Output::Timeout(_) if !rtc.is_alive() => break,
                Output::Timeout(t) => {
                    clock::sleep_until(Some(t)).await;
                    rtc.handle_input(Input::Timeout(clock::now()))
                        .expect("browser timeout");
                }
                Output::Event(_) => {}
            }
        }
    }
    run
}

fn tone_frame(hz: f32, frame: u64) -> Vec<u8> {
    let pcm: Vec<i16> = (0..160)
        .map(|i| {
            let t = frame as f32 * 0.02 + i as f32 / 8000.0;
            (4000.0 * (std::f32::consts::TAU * hz * t).sin()) as i16
        })
        .collect();
    let mut out = vec![0u8; 160];
    Codec::Pcmu.encode(&pcm, &mut out);
    out
}

#[tokio::test]
async fn a_caller_is_bridged_to_a_browser_agent_over_dtls_srtp_and_recorded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (media, mut rx) = media_task(dir.path());
    let call = CallId(11);
    let caller_socket = UdpSocket::bind((LOCAL, 0)).await.expect("caller");
    let caller = caller_socket.local_addr().expect("caller addr");
    let (caller_port, agent_port) = (free_port(), free_port());
    media.send(MediaCommand::Open {
        call,
        port: caller_port,
        remote: Some(caller),
        codec: Codec::Pcmu,
        telephone_event: Some(101),
    });

    // The call room's part: the offer for the INVITE (its socket bound at once, as the engine
    // task does for `ReserveLeg`), the answer from the 200 OK.
    let leg_addr = SocketAddr::from((LOCAL, agent_port));
    let (mut leg, offer) = WebRtcLeg::offer(leg_addr, clock::now()).expect("offer");
    media
        .reserved
        .reserve_leg(call, agent_port)
        .expect("the leg's port");
    let browser_socket = UdpSocket::bind((LOCAL, 0)).await.expect("browser");
    let (answer_tx, answer_rx) = tokio::sync::oneshot::channel();
    let browser_run = tokio::spawn(browser(offer, browser_socket, answer_tx, 80, false));
    let answer = answer_rx.await.expect("answer");
    let inner = leg
        .accept_answer(&answer, clock::now())
        .expect("answer accepted");
    assert_eq!(inner.codec, Codec::Pcmu);
    // The browser's first ICE checks go out before the leg opens (its 200 OK is still on its
    // way): they wait in the reserved socket.
    tokio::time::sleep(Duration::from_millis(150)).await;
    media.send(MediaCommand::OpenWebRtcAgent {
        call,
        port: agent_port,
        leg: crate::call::output::WebRtcHandoff::new(leg),
    });
    media.send(MediaCommand::Bridge {
        call,
        recording: "browser.wav".into(),
    });

    let caller_got = phone(
        caller_socket,
        SocketAddr::from((LOCAL, caller_port)),
        Codec::Pcmu,
        400.0,
        80,
    )
    .await;
    let browser = browser_run.await.expect("browser task");
    assert!(browser.connected, "ICE + DTLS did not complete");
    let audio: Vec<(u8, Vec<u8>)> = browser
        .got
        .iter()
        .filter(|(pt, _)| *pt == 0)
        .cloned()
        .collect();
    let heard = amplitude(&audio, 400.0);
    assert!(
        heard > 1500.0,
        "the browser does not hear the caller's 400 Hz: {heard}"
    );
    let heard = amplitude(&caller_got, 600.0);
    assert!(
        heard > 1500.0,
        "the caller does not hear the browser's 600 Hz: {heard}"
    );
    // The browser's key reached the caller as an RFC 4733 event (the bridge passes it on).
    assert!(
        caller_got
            .iter()
            .any(|(pt, p)| *pt == 101 && p.first() == Some(&7)),
        "key 7 did not reach the caller"
    );
    assert_eq!(
        media
            .counters
            .webrtc
            .failed
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );

    media.send(MediaCommand::Close { call });
    let closed = loop {
        let ev = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("an event in time")
            .expect("media events");
        if let MediaEvent::RecordingClosed { .. } = ev {
            break ev;
        }
    };
    let MediaEvent::RecordingClosed { name, .. } = closed else {
        unreachable!()
    };
    assert_eq!(name, "browser.wav");
    let mut wav = hound::WavReader::open(dir.path().join("browser.wav")).expect("wav");
    let samples: Vec<i16> = wav.samples::<i16>().map(|s| s.expect("sample")).collect();
    let (left, right): (Vec<i16>, Vec<i16>) = (
        samples.iter().step_by(2).copied().collect(),
        samples.iter().skip(1).step_by(2).copied().collect(),
    );
    let mid = |v: &[i16]| v[v.len() / 4..v.len() * 3 / 4].to_vec();
    let (l, r) = (mid(&left), mid(&right));
    assert!(
        goertzel_amplitude(&l, 400.0) > 1000.0,
        "caller channel lacks 400 Hz"
    );
    assert!(
        goertzel_amplitude(&r, 600.0) > 1000.0,
        "agent channel lacks 600 Hz"
    );
    assert!(
        goertzel_amplitude(&l, 600.0) < 300.0,
        "agent leaks into the caller channel"
    );
}

/// A man in the middle: the answer's fingerprint is not the certificate the peer presents.
/// The media task refuses the leg (the engine hears `Failed`), counts it on `/metrics`, and
/// a stranger's garbage on the leg's port is refused and counted, not fatal.
#[tokio::test]
async fn a_browser_leg_with_a_forged_fingerprint_is_refused_and_counted() {
    let call = CallId(12);
    let Offered {
        _dir,
        _caller,
        media,
        mut rx,
        agent_port,
        mut leg,
        answer_rx,
        browser_run,
    } = caller_and_offer(call, 50, false).await;
    let leg_addr = SocketAddr::from((LOCAL, agent_port));
    let answer = answer_rx.await.expect("answer");
    let at = answer.find("a=fingerprint:sha-256 ").expect("fingerprint") + 22;
    let mut forged = answer.into_bytes();
    forged[at] = if forged[at] == b'0' { b'1' } else { b'0' };
    let forged = String::from_utf8(forged).expect("ascii");
    leg.accept_answer(&forged, clock::now())
        .expect("answer accepted");
    media.open_webrtc_agent(call, agent_port, Box::new(leg));
    media.send(MediaCommand::Bridge {
        call,
        recording: "forged.wav".into(),
    });
    let failed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match rx.recv().await {
                Some(MediaEvent::AgentLegFailed { call: c, reason }) if c == call => {
                    assert!(reason.contains("DTLS"), "{reason}");
                    return true;
                }
                Some(_) => continue,
                None => return false,
            }
        }
    })
    .await
    .expect("the leg was not refused within 5 s");
    assert!(failed);
    browser_run.abort();
    let c = &media.counters.webrtc;
    use std::sync::atomic::Ordering::Relaxed;
    assert_eq!(c.failed.load(Relaxed), 1);
    // A stranger's garbage on the leg's port: refused and counted, the task goes on.
    let stranger = UdpSocket::bind((LOCAL, 0)).await.expect("stranger");
    for _ in 0..5 {
        stranger.send_to(&[0xff; 40], leg_addr).await.expect("send");
    }
    for _ in 0..100 {
        if c.refused_datagrams.load(Relaxed) >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        c.refused_datagrams.load(Relaxed) >= 5,
        "garbage not counted"
    );
    media.send(MediaCommand::Close { call });
}

/// A browser hanging up closes its DTLS session over UDP, and its BYE comes over the
/// WebSocket through the call room, often after the close: the media task waits for that
/// BYE (which closes the call) and reports the leg failed only when none came within 2 s.
#[tokio::test]
async fn a_browser_that_closes_its_session_has_time_for_its_bye_before_the_leg_fails() {
    let call = CallId(13);
    let Offered {
        _dir,
        _caller,
        media,
        mut rx,
        agent_port,
        mut leg,
        answer_rx,
        browser_run,
    } = caller_and_offer(call, 10, true).await;
    let answer = answer_rx.await.expect("answer");
    leg.accept_answer(&answer, clock::now())
        .expect("answer accepted");
    media.open_webrtc_agent(call, agent_port, Box::new(leg));
    media.send(MediaCommand::Bridge {
        call,
        recording: "closing.wav".into(),
    });
    let run = tokio::time::timeout(Duration::from_secs(10), browser_run)
        .await
        .expect("the browser ran")
        .expect("browser task");
    assert!(run.connected);
    let closed = clock::now();
    let failure = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match rx.recv().await {
                Some(MediaEvent::AgentLegFailed { call: c, reason }) if c == call => {
                    return Some(reason)
                }
                Some(_) => continue,
                None => return None,
            }
        }
    })
    .await
    .expect("no report within 5 s of the close")
    .expect("media task alive");
    assert!(
        clock::now().duration_since(closed) >= Duration::from_millis(1900),
        "reported {:?} after the close: no time for the BYE",
        clock::now().duration_since(closed)
    );
    assert!(failure.contains("no BYE"), "{failure}");
}

/// What the two refusal tests share: a media task, a plain RTP caller on a call, and a
/// browser leg offered to a str0m browser whose answer is on its way.
struct Offered {
    _dir: tempfile::TempDir,
    _caller: UdpSocket,
    media: MediaHandle,
    rx: mpsc::UnboundedReceiver<MediaEvent>,
    agent_port: u16,
    leg: WebRtcLeg,
    answer_rx: tokio::sync::oneshot::Receiver<String>,
    browser_run: tokio::task::JoinHandle<BrowserRun>,
}

/// Starts [`Offered`] for `call`; the browser runs `frames` frames (then closes, with
/// `close`).
async fn caller_and_offer(call: CallId, frames: u64, close: bool) -> Offered {
    let dir = tempfile::tempdir().expect("tempdir");
    let (media, rx) = media_task(dir.path());
    let caller = UdpSocket::bind((LOCAL, 0)).await.expect("caller");
    let (caller_port, agent_port) = (free_port(), free_port());
    media.send(MediaCommand::Open {
        call,
        port: caller_port,
        remote: Some(caller.local_addr().expect("caller addr")),
        codec: Codec::Pcmu,
        telephone_event: None,
    });
    let leg_addr = SocketAddr::from((LOCAL, agent_port));
    let (leg, offer) = WebRtcLeg::offer(leg_addr, clock::now()).expect("offer");
    let browser_socket = UdpSocket::bind((LOCAL, 0)).await.expect("browser");
    let (answer_tx, answer_rx) = tokio::sync::oneshot::channel();
    let browser_run = tokio::spawn(browser(offer, browser_socket, answer_tx, frames, close));
    Offered {
        _dir: dir,
        _caller: caller,
        media,
        rx,
        agent_port,
        leg,
        answer_rx,
        browser_run,
    }
}
