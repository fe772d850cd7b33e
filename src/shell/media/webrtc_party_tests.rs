//! A browser as one more party of a mixing call, over loopback: a plain RTP caller (400 Hz)
//! and agent (1000 Hz) bridged, then a WebRTC party (600 Hz, a str0m peer as the browser:
//! full ICE, DTLS client) joins the mixer. Everyone hears the two others, the recording's
//! right channel has the browser, and the browser closing its session with no BYE is
//! reported as that party's failure, not the call's.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::UdpSocket;

use super::tests::{amplitude, free_port, media_task, phone, LOCAL};
use super::webrtc_tests::browser;
use super::MediaEvent;
use crate::call::engine::MediaCommand;
use crate::call::output::WebRtcHandoff;
use crate::call::session::CallId;
use crate::media::codec::Codec;
use crate::media::dtmf::tone::goertzel_amplitude;
use crate::media::mixer::PartyId;
use crate::media::webrtc::WebRtcLeg;
use crate::shell::clock;

#[tokio::test]
async fn a_browser_party_is_mixed_both_ways_recorded_and_its_close_drops_only_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (media, mut rx) = media_task(dir.path());
    let call = CallId(21);
    let caller_socket = UdpSocket::bind((LOCAL, 0)).await.expect("caller");
    let agent_socket = UdpSocket::bind((LOCAL, 0)).await.expect("agent");
    let (caller_port, agent_port, party_port) = (free_port(), free_port(), free_port());
    media.send(MediaCommand::Open {
        call,
        port: caller_port,
        remote: Some(caller_socket.local_addr().expect("caller addr")),
        codec: Codec::Pcmu,
        telephone_event: Some(101),
    });
    media.send(MediaCommand::OpenAgent {
        call,
        port: agent_port,
        remote: agent_socket.local_addr().expect("agent addr"),
        codec: Codec::Pcma,
        telephone_event: None,
    });
    media.send(MediaCommand::Bridge {
        call,
        recording: "party.wav".into(),
    });

    // The call room's part for party 2: the offer (its socket bound at once), the answer.
    let party = PartyId(2);
    let leg_addr = SocketAddr::from((LOCAL, party_port));
    let (mut leg, offer) = WebRtcLeg::offer(leg_addr, clock::now()).expect("offer");
    media
        .reserved
        .reserve_leg(call, party_port)
        .expect("the leg's port");
    let browser_socket = UdpSocket::bind((LOCAL, 0)).await.expect("browser");
    let (answer_tx, answer_rx) = tokio::sync::oneshot::channel();
    let browser_run = tokio::spawn(browser(offer, browser_socket, answer_tx, 80, true));
    let answer = answer_rx.await.expect("answer");
    leg.accept_answer(&answer, clock::now())
        .expect("answer accepted");
    media.send(MediaCommand::OpenWebRtcParty {
        call,
        party,
        port: party_port,
        leg: WebRtcHandoff::new(leg),
    });
    let everyone = [PartyId::CALLER, PartyId::AGENT, party];
    media.send(MediaCommand::Mix {
        call,
        hears: everyone
            .iter()
            .map(|&l| (l, everyone.iter().copied().filter(|&s| s != l).collect()))
            .collect(),
    });

    let to = |port: u16| SocketAddr::from((LOCAL, port));
    let (caller_got, agent_got) = tokio::join!(
        phone(caller_socket, to(caller_port), Codec::Pcmu, 400.0, 80),
        phone(agent_socket, to(agent_port), Codec::Pcma, 1000.0, 80),
    );
    let run = browser_run.await.expect("browser task");
    assert!(run.connected, "ICE + DTLS did not complete");
    let browser_got: Vec<(u8, Vec<u8>)> =
        run.got.iter().filter(|(pt, _)| *pt == 0).cloned().collect();
    for (who, got, hears, own) in [
        ("the browser", &browser_got, [400.0, 1000.0], 600.0),
        ("the caller", &caller_got, [600.0, 1000.0], 400.0),
        ("the agent", &agent_got, [400.0, 600.0], 1000.0),
    ] {
        for f in hears {
            let a = amplitude(got, f);
            assert!(a > 1000.0, "{who} does not hear {f} Hz: {a}");
        }
        let a = amplitude(got, own);
        assert!(a < 300.0, "{who} hears its own {own} Hz: {a}");
    }

    // The browser closed its session and no BYE came: after the grace, that party's leg is
    // reported failed (the engine drops the party), never the call's agent leg.
    let failed = tokio::time::timeout(Duration::from_secs(6), async {
        loop {
            match rx.recv().await.expect("media events") {
                MediaEvent::PartyLegFailed {
                    call: c,
                    party: p,
                    reason,
                } if c == call => break (p, reason),
                MediaEvent::AgentLegFailed { reason, .. } => {
                    panic!("the agent's leg reported failed: {reason}")
                }
                _ => {}
            }
        }
    })
    .await
    .expect("the party's failure in time");
    assert_eq!(failed.0, party);
    assert!(failed.1.contains("no BYE"), "{}", failed.1);

    media.send(MediaCommand::CloseParty { call, party });
    media.send(MediaCommand::Close { call });
    let name = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Some(MediaEvent::RecordingClosed { name, .. }) = rx.recv().await {
                break name;
            }
        }
    })
    .await
    .expect("the recording closes");
    assert_eq!(name, "party.wav");
    let mut wav = hound::WavReader::open(dir.path().join("party.wav")).expect("wav");
    let samples: Vec<i16> = wav.samples::<i16>().map(|s| s.expect("sample")).collect();
    let right: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();
    let left: Vec<i16> = samples.iter().step_by(2).copied().collect();
    // The second second of the conference: everyone talking.
    let talk = |v: &[i16]| v[8000..16000].to_vec();
    let (l, r) = (talk(&left), talk(&right));
    assert!(
        goertzel_amplitude(&l, 400.0) > 1000.0,
        "caller channel lacks 400 Hz"
    );
    assert!(
        goertzel_amplitude(&r, 600.0) > 500.0,
        "the browser is not recorded"
    );
    assert!(
        goertzel_amplitude(&r, 1000.0) > 500.0,
        "the agent is not recorded"
    );
    assert!(
        goertzel_amplitude(&l, 600.0) < 300.0,
        "the browser leaks into the caller channel"
    );
}
