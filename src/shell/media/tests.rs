//! The media task running a conference over loopback, without the SIP engine: a caller, an
//! agent and a third party (a unit) as three UDP "phones" sending different tones; the
//! engine's media commands (`Open`, `OpenAgent`, `Bridge`, `OpenParty`, `Mix`,
//! `CloseParty`, `Close`) go in as the call room would send them.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use std::collections::HashMap;

use super::{Command, MediaCounters, MediaEvent, MediaHandle, MediaSettings, Worker};
use crate::call::engine::MediaCommand;
use crate::call::session::CallId;
use crate::media::codec::Codec;
use crate::media::dtmf::tone::goertzel_amplitude;
use crate::media::mixer::PartyId;
use crate::media::pacer::{Pacer, PacerConfig};
use crate::media::rtp::{RtpHeader, RtpPacket};
use crate::shell::assets::Prompts;
use crate::shell::media_ports::ReservedPorts;

pub(super) const LOCAL: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// A free even port for the engine's side of a leg (bound and released: a small race with
/// other tests, acceptable on loopback).
pub(super) fn free_port() -> u16 {
    loop {
        let s = std::net::UdpSocket::bind((LOCAL, 0)).unwrap();
        let port = s.local_addr().unwrap().port();
        if port % 2 == 0 {
            return port;
        }
    }
}

/// A media task with the settings these tests share (relatching after 2 s, no media
/// timeout), prompts from the empty folder `dir`, and the receiver of its events.
pub(super) fn media_task(
    dir: &std::path::Path,
) -> (MediaHandle, mpsc::UnboundedReceiver<MediaEvent>) {
    let prompts = Arc::new(Prompts::load_dir(dir).expect("prompts"));
    let (tx, rx) = mpsc::unbounded_channel();
    let media = MediaHandle::start(
        1,
        LOCAL.into(),
        dir.to_path_buf(),
        prompts,
        tx,
        MediaSettings {
            relatch_after: Duration::from_secs(2),
            media_timeout: None,
            conference_queue: Duration::from_millis(200),
            conference_prime: Duration::from_millis(40),
            webrtc_connect_timeout: Duration::from_secs(10),
        },
    )
    .expect("media tasks");
    (media, rx)
}

/// One phone: sends `frames` 20 ms packets of its tone to `to`, collecting what it gets.
pub(super) async fn phone(
    socket: UdpSocket,
    to: SocketAddr,
    codec: Codec,
    freq: f32,
    frames: u16,
) -> Vec<(u8, Vec<u8>)> {
    let mut got = Vec::new();
    let mut buf = [0u8; 2048];
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    for seq in 0..frames + 15 {
        tick.tick().await;
        if seq < frames {
            let pcm: Vec<i16> = (0..160)
                .map(|i| {
                    let t = f32::from(seq) * 0.02 + i as f32 / 8000.0;
                    (4000.0 * (std::f32::consts::TAU * freq * t).sin()) as i16
                })
                .collect();
            let mut payload = [0u8; 160];
            codec.encode(&pcm, &mut payload);
            let mut p = Vec::new();
            RtpHeader {
                marker: seq == 0,
                payload_type: codec.payload_type(),
                sequence: seq,
                timestamp: u32::from(seq) * 160,
                ssrc: freq as u32,
            }
            .append_packet(&payload, &mut p);
            socket.send_to(&p, to).await.unwrap();
        }
        while let Ok((n, _)) = socket.try_recv_from(&mut buf) {
            if let Ok(p) = RtpPacket::parse(&buf[..n]) {
                got.push((p.header.payload_type, p.payload.to_vec()));
            }
        }
    }
    got
}

/// The amplitude of `freq` in the last 20 audio frames a phone got while the others talked
/// (the comfort silence after they stopped is left out: how much of it arrives before the
/// phone stops listening depends on the media thread's phase).
pub(super) fn amplitude(got: &[(u8, Vec<u8>)], freq: f32) -> f32 {
    let audio: Vec<&(u8, Vec<u8>)> = got
        .iter()
        .filter(|(pt, payload)| {
            Codec::from_payload_type(*pt).is_some_and(|c| payload[..] != c.silence_frame()[..])
        })
        .collect();
    assert!(audio.len() >= 40, "only {} audio packets", audio.len());
    let mut pcm = Vec::new();
    for (pt, payload) in &audio[audio.len() - 20..] {
        let mut f = vec![0i16; payload.len()];
        Codec::from_payload_type(*pt)
            .unwrap()
            .decode(payload, &mut f);
        pcm.extend(f);
    }
    goertzel_amplitude(&pcm, freq)
}

#[tokio::test]
async fn a_bridged_call_becomes_a_three_way_conference_over_loopback() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (media, mut rx) = media_task(dir.path());
    let call = CallId(7);
    let phones: Vec<UdpSocket> = phone_sockets().await;
    let addr = |i: usize| phones[i].local_addr().unwrap();
    let ports = [free_port(), free_port(), free_port()];
    let (caller, agent, unit) = (addr(0), addr(1), addr(2));
    media.send(MediaCommand::Open {
        call,
        port: ports[0],
        remote: Some(caller),
        codec: Codec::Pcma,
        telephone_event: None,
    });
    media.send(MediaCommand::OpenAgent {
        call,
        port: ports[1],
        remote: agent,
        codec: Codec::Pcmu,
        telephone_event: None,
    });
    media.send(MediaCommand::Bridge {
        call,
        recording: "conference.wav".into(),
    });
    media.send(MediaCommand::OpenParty {
        call,
        party: PartyId(2),
        port: ports[2],
        remote: unit,
        codec: Codec::Pcma,
        telephone_event: None,
    });
    let everyone = [PartyId(0), PartyId(1), PartyId(2)];
    media.send(MediaCommand::Mix {
        call,
        hears: everyone
            .iter()
            .map(|&l| (l, everyone.iter().copied().filter(|&s| s != l).collect()))
            .collect(),
    });
    let to = |i: usize| SocketAddr::from((LOCAL, ports[i]));
    let mut it = phones.into_iter();
    let (p0, p1, p2) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
    let (g0, g1, g2) = tokio::join!(
        phone(p0, to(0), Codec::Pcma, 400.0, 60),
        phone(p1, to(1), Codec::Pcmu, 600.0, 60),
        phone(p2, to(2), Codec::Pcma, 800.0, 60),
    );
    for (got, yes, no) in [
        (&g0, [600.0, 800.0], 400.0),
        (&g1, [400.0, 800.0], 600.0),
        (&g2, [400.0, 600.0], 800.0),
    ] {
        for f in yes {
            let a = amplitude(got, f);
            assert!(a > 1500.0, "{f} Hz missing: {a}");
        }
        let a = amplitude(got, no);
        assert!(a < 300.0, "own {no} Hz heard: {a}");
    }
    media.send(MediaCommand::CloseParty {
        call,
        party: PartyId(2),
    });
    media.send(MediaCommand::Close { call });
    let closed = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    let MediaEvent::RecordingClosed { name, sha256 } = closed else {
        panic!("{closed:?}");
    };
    assert_eq!(name, "conference.wav");
    assert_eq!(sha256.map(|s| s.len()), Some(64));
    let wav = hound::WavReader::open(dir.path().join("conference.wav")).unwrap();
    assert!(wav.duration() > 50 * 160, "{}", wav.duration());
}

async fn phone_sockets() -> Vec<UdpSocket> {
    let mut v = Vec::new();
    for _ in 0..3 {
        v.push(UdpSocket::bind((LOCAL, 0)).await.unwrap());
    }
    v
}

/// One 20 ms A-law packet of a 1 kHz-ish tone (the content does not matter here).
fn alaw_packet(ssrc: u32, seq: u16) -> Vec<u8> {
    let pcm: Vec<i16> = (0..160)
        .map(|i| if i % 8 < 4 { 3000 } else { -3000 })
        .collect();
    let mut payload = [0u8; 160];
    Codec::Pcma.encode(&pcm, &mut payload);
    let mut p = Vec::new();
    RtpHeader {
        marker: seq == 0,
        payload_type: Codec::Pcma.payload_type(),
        sequence: seq,
        timestamp: u32::from(seq) * 160,
        ssrc,
    }
    .append_packet(&payload, &mut p);
    p
}

/// The load run's finding (issue 14): after the media task stalled, the packets that arrived
/// meanwhile waited (then in a channel, now in the sockets), and a tick that ran before them
/// starved every conference party (underruns). The overdue ticks now take those packets
/// from the sockets and mix them first.
#[tokio::test]
async fn a_late_tick_mixes_the_packets_waiting_for_it_before_ticking() {
    let dir = tempfile::tempdir().unwrap();
    let (to_engine, _events) = mpsc::unbounded_channel();
    let (_tx, mut rx) = mpsc::unbounded_channel();
    let counters = Arc::new(MediaCounters::default());
    let mut worker = Worker {
        settings: MediaSettings {
            relatch_after: Duration::from_secs(2),
            media_timeout: None,
            conference_queue: Duration::from_millis(200),
            conference_prime: Duration::from_millis(40),
            webrtc_connect_timeout: Duration::from_secs(10),
        },
        data_dir: dir.path().to_path_buf(),
        prompts: Arc::new(Prompts::load_dir(dir.path()).unwrap()),
        to_engine,
        legs: super::receive::Legs::new().unwrap(),
        pacer: Pacer::new(PacerConfig::default()),
        calls: HashMap::new(),
        counters: counters.clone(),
        reserved: ReservedPorts::new(LOCAL.into()),
        whispers: HashMap::new(),
        stall_at_tick: None,
    };
    let call = CallId(7);
    let phones = phone_sockets().await;
    let addr = |i: usize| phones[i].local_addr().unwrap();
    let ports = [free_port(), free_port(), free_port()];
    let everyone = [PartyId(0), PartyId(1), PartyId(2)];
    for cmd in [
        MediaCommand::Open {
            call,
            port: ports[0],
            remote: Some(addr(0)),
            codec: Codec::Pcma,
            telephone_event: None,
        },
        MediaCommand::OpenAgent {
            call,
            port: ports[1],
            remote: addr(1),
            codec: Codec::Pcma,
            telephone_event: None,
        },
        MediaCommand::Bridge {
            call,
            recording: "late.wav".into(),
        },
        MediaCommand::OpenParty {
            call,
            party: PartyId(2),
            port: ports[2],
            remote: addr(2),
            codec: Codec::Pcma,
            telephone_event: None,
        },
        MediaCommand::Mix {
            call,
            hears: everyone
                .iter()
                .map(|&l| (l, everyone.iter().copied().filter(|&s| s != l).collect()))
                .collect(),
        },
    ] {
        worker.handle(Command::Engine(cmd));
    }
    assert_eq!(worker.legs.len(), 3, "every leg is polled by the task");
    let packets = |seqs: std::ops::Range<u16>| {
        seqs.flat_map(|seq| {
            everyone.iter().enumerate().map(move |(i, p)| {
                let to = SocketAddr::from((LOCAL, ports[i]));
                (i, to, alaw_packet(u32::from(p.0) + 1, seq))
            })
        })
        .collect::<Vec<_>>()
    };
    // Every party primed (two frames), then the task stalls for 100 ms (5 ticks) while five
    // more frames of each reach its sockets.
    for (i, to, packet) in packets(0..2) {
        phones[i].send_to(&packet, to).await.unwrap();
    }
    std::thread::sleep(Duration::from_millis(5));
    assert!(worker.receive_ready(), "drained");
    std::thread::sleep(Duration::from_millis(100));
    for (i, to, packet) in packets(2..7) {
        phones[i].send_to(&packet, to).await.unwrap();
    }
    std::thread::sleep(Duration::from_millis(5));
    worker.tick(&mut rx, crate::shell::clock::now());
    let load = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(load(&counters.recording.mixer_underruns), 0);
    assert_eq!(load(&counters.recording.mixer_dropped_overflow), 0);
    let mixer = &worker.calls[&call].mixed.as_ref().unwrap().core;
    for p in everyone {
        let st = mixer.party_stats(p).unwrap();
        assert_eq!(st.frames_in, 7, "{p:?}");
        // Five ticks caught up (at most `MAX_CATCH_UP`), two frames left for the next.
        assert_eq!(st.queued, 2, "{p:?}");
    }
}

/// Issue 14's cause on the media thread: when the OS has not run it for a while, the tick
/// that is then overdue and the receive tasks holding the packets that arrived meanwhile
/// wake together. The tick used to mix first (a current-thread runtime polls its `block_on`
/// future before the tasks woken with it): every party's queue looked empty and the ticks
/// caught up with silence, underruns for parties that were playing, though every packet was
/// there in time. Now the phones hear the audio that waited at once.
#[tokio::test]
async fn after_a_stall_the_media_thread_mixes_the_packets_that_came_meanwhile_first() {
    let (silent_first, heard, underruns) = stalled_conference(false).await;
    assert!(heard.len() >= 5, "{} packets to the caller", heard.len());
    assert_eq!(
        silent_first, 0,
        "the caller got {silent_first} frames of silence before the audio that waited ({heard:?})"
    );
    assert_eq!(underruns, 0);
}

/// The same stall, taken by the tick itself once it fired (the OS preempted the thread
/// there): the tick still polls the sockets before it mixes, and mixes up to the instant it
/// read after the stall, so the audio that waited in the sockets is heard at once.
#[tokio::test]
async fn a_tick_that_stalled_polls_the_sockets_before_it_mixes() {
    let (silent_first, heard, underruns) = stalled_conference(true).await;
    assert!(heard.len() >= 5, "{} packets to the caller", heard.len());
    assert_eq!(
        silent_first, 0,
        "the caller got {silent_first} frames of silence before the audio that waited ({heard:?})"
    );
    assert_eq!(underruns, 0);
}

/// A three-way call on a media thread that stalls (in a command, or at a tick when
/// `at_tick`) for 100 ms while 160 ms of every phone's audio reaches its sockets. Returns
/// the caller's silent frames before the first audio after the stall, whether each frame it
/// got then was audio, and the mixer's underruns.
async fn stalled_conference(at_tick: bool) -> (usize, Vec<bool>, u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (media, _events) = media_task(dir.path());
    let call = CallId(9);
    let phones = phone_sockets().await;
    let addr = |i: usize| phones[i].local_addr().unwrap();
    let ports = [free_port(), free_port(), free_port()];
    let everyone = [PartyId(0), PartyId(1), PartyId(2)];
    for cmd in [
        MediaCommand::Open {
            call,
            port: ports[0],
            remote: Some(addr(0)),
            codec: Codec::Pcma,
            telephone_event: None,
        },
        MediaCommand::OpenAgent {
            call,
            port: ports[1],
            remote: addr(1),
            codec: Codec::Pcma,
            telephone_event: None,
        },
        MediaCommand::Bridge {
            call,
            recording: "stall.wav".into(),
        },
        MediaCommand::OpenParty {
            call,
            party: PartyId(2),
            port: ports[2],
            remote: addr(2),
            codec: Codec::Pcma,
            telephone_event: None,
        },
        MediaCommand::Mix {
            call,
            hears: everyone
                .iter()
                .map(|&l| (l, everyone.iter().copied().filter(|&s| s != l).collect()))
                .collect(),
        },
    ] {
        media.send(cmd);
    }
    let (stalled_tx, stalled) = std::sync::mpsc::channel();
    let (open, gate) = std::sync::mpsc::channel();
    if at_tick {
        media.stall_at_tick(stalled_tx, gate);
    } else {
        media.stall(stalled_tx, gate);
    }
    stalled
        .recv_timeout(Duration::from_secs(5))
        .expect("the media thread stalls");
    // While it stalls: 160 ms of audio from every phone reaches its socket, and its ticks
    // fall 100 ms behind.
    for seq in 0..8 {
        for (i, phone) in phones.iter().enumerate() {
            let to = SocketAddr::from((LOCAL, ports[i]));
            phone
                .send_to(&alaw_packet(i as u32 + 1, seq), to)
                .await
                .unwrap();
        }
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut buf = [0u8; 2048];
    while phones[0].try_recv_from(&mut buf).is_ok() {} // what was mixed before the stall
    open.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let mut heard = Vec::new();
    while let Ok((n, _)) = phones[0].try_recv_from(&mut buf) {
        let p = RtpPacket::parse(&buf[..n]).unwrap();
        heard.push(
            p.payload
                .iter()
                .any(|&b| b != Codec::Pcma.silence_frame()[0]),
        );
    }
    let silent_first = heard.iter().take_while(|&&audio| !audio).count();
    let underruns = media
        .counters
        .recording
        .mixer_underruns
        .load(std::sync::atomic::Ordering::Relaxed);
    media.send(MediaCommand::Close { call });
    (silent_first, heard, underruns)
}
