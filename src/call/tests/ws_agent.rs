//! An agent whose phone is a browser over SIP over WebSocket (RFC 7118): its Contact names an
//! `.invalid` host that no resolver could reach, so everything to it must go down the
//! connection it registered on, as a reliable transport, with Via WS/WSS.

use std::time::{Duration, Instant};

use str0m::change::SdpOffer;
use str0m::{Candidate, Rtc};

use super::liveness::answer_bye;
use super::*;
use crate::call::record::CallOutcome;

/// What a browser answers to the engine's WebRTC offer (str0m as the browser: full ICE,
/// PCMU and PCMA, its own certificate).
pub(super) fn browser_answer(offer: &str, now: Instant) -> String {
    let mut rtc = Rtc::builder()
        .clear_codecs()
        .enable_pcmu(true, false)
        .enable_pcma(true, false)
        .build(now);
    let cand = Candidate::host("127.0.0.1:50000".parse().unwrap(), "udp").expect("candidate");
    rtc.add_local_candidate(cand);
    let offer = SdpOffer::from_sdp_string(offer).expect("the engine's offer parses");
    let answer = rtc
        .sdp_api()
        .accept_offer(offer)
        .expect("the browser accepts it");
    answer.to_sdp_string()
}

/// The agent's phone answers `invite` with `sdp`.
pub(super) fn answer_with(
    sim: &mut Sim,
    phone: Peer,
    invite: &crate::sip::message::Request,
    sdp: String,
) {
    let ok = Response::for_request(invite, 200, "OK")
        .with_to_tag("web1")
        .with_body(
            crate::sip::message::MediaType::new("application", "sdp"),
            sdp,
        );
    sim.engine
        .handle_message(Message::Response(ok), phone, sim.now);
    sim.drain();
}

/// A browser phone on WebSocket connection 7 (WSS), registering as 1001 with digest.
fn register_browser(sim: &mut Sim) -> Peer {
    let phone = Peer {
        addr: "127.0.0.1:40123".parse().unwrap(),
        link: Link::Ws {
            id: 7,
            secure: true,
        },
    };
    let reg = |cseq: u32, auth: &str| {
        format!("REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WSS k3l2.invalid;branch=z9hG4bK-ws{cseq}\r\nFrom: <sip:1001@127.0.0.1>;tag=w1\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: reg-ws\r\nCSeq: {cseq} REGISTER\r\nContact: <sip:r8s1@k3l2.invalid;transport=ws>;expires=600\r\nExpires: 600\r\n{auth}User-Agent: JsSIP 3.10.1\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
    };
    sim.send_from(phone, &reg(1, ""));
    let (to, challenge) = sim.to_others.last().expect("a challenge").clone();
    assert_eq!(to, phone, "answered down the same WebSocket");
    let Message::Response(challenge) = challenge else {
        panic!("expected 401");
    };
    assert_eq!(challenge.status, 401);
    let auth = md5_authorization(
        &challenge,
        ("1001", "demo-1001"),
        "REGISTER",
        "sip:127.0.0.1",
        "c0ffee",
    );
    sim.send_from(phone, &reg(2, &auth));
    match &sim.to_others.last().expect("an answer").1 {
        Message::Response(r) => assert_eq!(r.status, 200, "{r:?}"),
        other => panic!("expected 200, got {other:?}"),
    }
    sim.engine
        .set_agent_state("1001", crate::acd::model::StateRequest::Ready, sim.now)
        .expect("ready");
    sim.drain();
    phone
}

/// A caller presses 1 and the ACD rings the registered browser: the phone, the call and
/// the INVITE it was sent.
fn ring_browser(
    sim: &mut Sim,
) -> (
    Peer,
    crate::call::session::CallId,
    crate::sip::message::Request,
) {
    let phone = register_browser(sim);
    sim.answered();
    let call = sim.call_id();
    sim.engine.handle_digit(call, '1', sim.now);
    sim.drain();
    let invite = agents::last_request_to(sim, phone, "INVITE");
    (phone, call, invite)
}

#[test]
fn the_acds_invite_the_hold_answer_and_the_bye_go_down_the_agents_websocket() {
    let mut sim = Sim::new();
    let (phone, _, invite) = ring_browser(&mut sim);
    assert_eq!(invite.uri.to_string(), "sip:r8s1@k3l2.invalid;transport=ws");
    assert_eq!(
        invite.headers.top_via().map(|v| v.transport.clone()),
        Some(crate::sip::message::Transport::Wss)
    );
    // Reliable: no Timer A, the INVITE goes once however long the phone rings.
    sim.advance(Duration::from_secs(4));
    let invites = sim
        .to_others
        .iter()
        .filter(|(to, m)| {
            *to == phone && matches!(m, Message::Request(r) if r.method == crate::sip::message::Method::Invite)
        })
        .count();
    assert_eq!(invites, 1);
    let offer = String::from_utf8(invite.body.to_vec()).expect("utf-8 SDP");
    let answer = browser_answer(&offer, sim.now);
    answer_with(&mut sim, phone, &invite, answer);
    agents::last_request_to(&sim, phone, "ACK");
    assert_eq!(sim.engine.live_calls()[0].state, CallState::Talking);
    // The browser holds the caller (its own re-INVITE over the WebSocket, a WebRTC offer):
    // the offer goes to the leg on the media shell; its answer comes back as the 200, down
    // the same socket, and the caller hears the hold music.
    let reinvite = |cseq: u32, branch: &str, body: &str| {
        format!(
            "INVITE sip:hotline@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/WSS k3l2.invalid;branch=z9hG4bK-{branch}\r\nFrom: <sip:1001@127.0.0.1>;tag=web1\r\nTo: <sip:hotline@127.0.0.1>;tag={}\r\nCall-ID: {}\r\nCSeq: {cseq} INVITE\r\nContact: <sip:r8s1@k3l2.invalid;transport=ws>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
            invite.headers.from.tag().unwrap_or_default(),
            invite.headers.call_id,
            body.len()
        )
    };
    let call = sim.call_id();
    sim.send_from(phone, &reinvite(2, "wsh", "v=0 browser hold offer"));
    assert!(sim.media.contains(&MediaCommand::WebRtcReoffer {
        call,
        party: crate::media::mixer::PartyId::AGENT,
        offer: "v=0 browser hold offer".into()
    }));
    let final_to = |sim: &Sim, cseq: u32| {
        sim.to_others.iter().rev().find_map(|(to, m)| match m {
            Message::Response(r)
                if r.headers.cseq.seq == cseq
                    && r.headers.cseq.method == crate::sip::message::Method::Invite
                    && r.status >= 200 =>
            {
                Some((*to, r.clone()))
            }
            _ => None,
        })
    };
    assert!(
        final_to(&sim, 2).is_none(),
        "the 200 waits for the leg's answer"
    );
    // A second offer while the first is open: 491.
    sim.send_from(phone, &reinvite(3, "wsh2", "v=0 another"));
    assert_eq!(final_to(&sim, 3).map(|(_, r)| r.status), Some(491));
    // The media shell answers (the leg saw `sendonly`).
    sim.engine.handle_webrtc_reanswer(
        call,
        crate::media::mixer::PartyId::AGENT,
        Ok(("v=0 our answer".into(), true)),
        sim.now,
    );
    sim.drain();
    let (to, ok) = final_to(&sim, 2).expect("200 to the hold re-INVITE");
    assert_eq!(to, phone, "answered down the WebSocket");
    assert_eq!(ok.status, 200);
    assert_eq!(&ok.body[..], b"v=0 our answer");
    assert!(sim.media.iter().any(|m| matches!(
        m,
        MediaCommand::Hold {
            prompt: Some(_),
            ..
        }
    )));
    assert!(sim.engine.live_calls()[0].on_hold);
    // The resume: the caller is back; an offer the leg refuses gets 488.
    sim.send_from(phone, &reinvite(4, "wsr", "v=0 resume"));
    sim.engine.handle_webrtc_reanswer(
        call,
        crate::media::mixer::PartyId::AGENT,
        Ok(("v=0 resumed".into(), false)),
        sim.now,
    );
    sim.drain();
    assert_eq!(final_to(&sim, 4).map(|(_, r)| r.status), Some(200));
    assert!(!sim.engine.live_calls()[0].on_hold);
    sim.send_from(phone, &reinvite(5, "wsx", "v=0 bad"));
    sim.engine.handle_webrtc_reanswer(
        call,
        crate::media::mixer::PartyId::AGENT,
        Err("not SDP".into()),
        sim.now,
    );
    sim.drain();
    assert_eq!(final_to(&sim, 5).map(|(_, r)| r.status), Some(488));
    // The citizen hangs up: the engine's BYE to the agent goes down the WebSocket too.
    sim.in_dialog("BYE", 2, "bye1", "", "");
    let agent_bye = agents::last_request_to(&sim, phone, "BYE");
    assert_eq!(
        agent_bye.uri.to_string(),
        "sip:r8s1@k3l2.invalid;transport=ws"
    );
}

#[test]
fn a_closed_websocket_takes_its_registration_with_it() {
    let mut sim = Sim::new();
    let phone = register_browser(&mut sim);
    assert!(sim.engine.is_registered("1001", sim.now));
    sim.engine.handle_link_closed(phone.link, sim.now);
    sim.drain();
    assert!(!sim.engine.is_registered("1001", sim.now));
}

/// The ACD rings a browser: the INVITE carries a WebRTC offer (ICE-lite, DTLS fingerprint,
/// SRTP profile, RTCP mux) on a port from the RTP range, whose socket the shell is asked to
/// bind before the INVITE leaves; the answer opens the WebRTC leg, never a plain RTP one.
#[test]
fn a_browser_agent_is_offered_webrtc_and_its_answer_opens_the_webrtc_leg() {
    let mut sim = Sim::new();
    let (phone, call, invite) = ring_browser(&mut sim);
    let offer = String::from_utf8(invite.body.to_vec()).expect("utf-8 SDP");
    for needed in [
        "UDP/TLS/RTP/SAVPF",
        "a=fingerprint:sha-256",
        "a=ice-lite",
        "a=setup:actpass",
        "a=rtcp-mux",
        "PCMU/8000",
        "opus/48000",
        "telephone-event/8000",
    ] {
        assert!(offer.contains(needed), "{needed} in the offer:\n{offer}");
    }
    let port = offer
        .lines()
        .find_map(|l| l.strip_prefix("a=candidate:"))
        .and_then(|c| c.split_whitespace().nth(5)?.parse::<u16>().ok())
        .expect("a host candidate with a port");
    assert!(
        (20000..=29998).contains(&port) && port % 2 == 0,
        "a port of the RTP range: {port}"
    );
    assert!(sim.media.contains(&MediaCommand::ReserveLeg { call, port }));
    assert!(
        !sim.media
            .iter()
            .any(|m| matches!(m, MediaCommand::OpenWebRtcAgent { .. })),
        "nothing opens before the answer"
    );
    let answer = browser_answer(&offer, sim.now);
    answer_with(&mut sim, phone, &invite, answer);
    agents::last_request_to(&sim, phone, "ACK");
    assert_eq!(sim.engine.live_calls()[0].state, CallState::Talking);
    let opened = sim
        .media
        .iter()
        .position(|m| matches!(m, MediaCommand::OpenWebRtcAgent { call: c, port: p, .. } if *c == call && *p == port))
        .expect("the WebRTC leg opens");
    let Some(MediaCommand::OpenWebRtcAgent { leg, .. }) = sim.media.get(opened) else {
        unreachable!()
    };
    let leg = leg.take().expect("the leg is handed over once");
    assert!(leg.media().is_some(), "handed over answered");
    assert!(matches!(
        sim.media.get(opened + 1),
        Some(MediaCommand::Bridge { .. })
    ));
    assert!(
        !sim.media
            .iter()
            .any(|m| matches!(m, MediaCommand::OpenAgent { .. })),
        "no plain RTP leg to a browser"
    );
    // The caller presses 5: RFC 4733 into the leg, and an INFO the page can see.
    sim.engine.handle_digit(call, '5', sim.now);
    sim.drain();
    assert!(sim
        .media
        .contains(&MediaCommand::SendDigit { call, digit: '5' }));
    let info = agents::last_request_to(&sim, phone, "INFO");
    assert_eq!(info.headers.call_id, invite.headers.call_id);
    assert!(
        String::from_utf8_lossy(&info.body).starts_with("Signal=5\r\n"),
        "{info:?}"
    );
    sim.engine.handle_digit(call, '7', sim.now);
    sim.drain();
    let second = agents::last_request_to(&sim, phone, "INFO");
    assert!(
        second.headers.cseq.seq > info.headers.cseq.seq,
        "CSeq moves on"
    );
}

/// A browser's answer the engine cannot use (no DTLS fingerprint; no common codec) gets the
/// leg ACKed and hung up; the agent is treated as unable to take the call, the caller goes
/// back to waiting, and it is counted.
#[test]
fn an_unusable_browser_answer_is_acked_hung_up_and_the_caller_waits_again() {
    for (case, tamper) in [
        (
            "no fingerprint",
            (|a: String| {
                a.lines()
                    .filter(|l| !l.starts_with("a=fingerprint:"))
                    .map(|l| format!("{l}\r\n"))
                    .collect::<String>()
            }) as fn(String) -> String,
        ),
        ("no common codec", |a: String| {
            a.lines()
                .map(|l| {
                    if l.starts_with("m=audio") {
                        let mut f: Vec<&str> = l.split(' ').take(3).collect();
                        f.push("9");
                        format!("{}\r\n", f.join(" "))
                    } else if l.starts_with("a=rtpmap:")
                        || l.starts_with("a=fmtp:")
                        || l.starts_with("a=rtcp-fb:")
                    {
                        String::new()
                    } else {
                        format!("{l}\r\n")
                    }
                })
                .collect::<String>()
                + "a=rtpmap:9 G722/8000\r\n"
        }),
    ] {
        let mut sim = Sim::new();
        let (phone, _, invite) = ring_browser(&mut sim);
        let offer = String::from_utf8(invite.body.to_vec()).expect("utf-8 SDP");
        let answer = tamper(browser_answer(&offer, sim.now));
        answer_with(&mut sim, phone, &invite, answer);
        let ack = agents::last_request_to(&sim, phone, "ACK");
        let bye = agents::last_request_to(&sim, phone, "BYE");
        assert_eq!(ack.headers.call_id, invite.headers.call_id, "{case}");
        assert_eq!(bye.headers.call_id, invite.headers.call_id, "{case}");
        assert!(
            !sim.media.iter().any(|m| matches!(
                m,
                MediaCommand::OpenWebRtcAgent { .. }
                    | MediaCommand::OpenAgent { .. }
                    | MediaCommand::Bridge { .. }
            )),
            "{case}: nothing opened"
        );
        assert_eq!(sim.engine.counters.webrtc_answers_refused, 1, "{case}");
        assert_eq!(
            sim.engine.live_calls()[0].state,
            CallState::Queued,
            "{case}"
        );
        assert_eq!(
            agent_state(&sim, "1001"),
            crate::acd::model::AgentStateKind::NotReady,
            "{case}"
        );
    }
}

/// The browser never answers: ring-no-answer CANCELs its INVITE like a SIP phone's, the offer
/// is forgotten, and a later answer crossing the CANCEL is ACKed and hung up.
#[test]
fn a_browser_that_does_not_answer_is_cancelled_like_a_phone() {
    let mut sim = Sim::new();
    let (phone, _, invite) = ring_browser(&mut sim);
    sim.advance(Duration::from_secs(40));
    let cancel = agents::last_request_to(&sim, phone, "CANCEL");
    assert_eq!(cancel.headers.call_id, invite.headers.call_id);
    assert!(
        sim.engine.browser.pending.is_empty(),
        "the offer is forgotten"
    );
    assert!(!sim
        .media
        .iter()
        .any(|m| matches!(m, MediaCommand::OpenWebRtcAgent { .. })));
}

/// The running leg fails on the media task (DTLS refused, ICE lost): the agent's leg and the
/// call end with BYEs, and the reason is in the call record.
#[test]
fn a_failed_browser_leg_ends_the_call_with_its_reason_in_the_record() {
    let mut sim = Sim::new();
    let (phone, call, invite) = ring_browser(&mut sim);
    let offer = String::from_utf8(invite.body.to_vec()).expect("utf-8 SDP");
    let answer = browser_answer(&offer, sim.now);
    answer_with(&mut sim, phone, &invite, answer);
    assert_eq!(sim.engine.live_calls()[0].state, CallState::Talking);
    sim.engine.handle_agent_media_failed(
        call,
        "ICE: the browser stopped answering connectivity checks",
        sim.now,
    );
    sim.drain();
    let bye = agents::last_request_to(&sim, phone, "BYE");
    assert_eq!(bye.headers.call_id, invite.headers.call_id);
    let caller_bye = answer_bye(&mut sim);
    assert_eq!(caller_bye.headers.call_id, "call-1");
    assert_eq!(sim.records.len(), 1);
    assert_eq!(sim.records[0].outcome, CallOutcome::Answered);
    assert_eq!(
        sim.records[0].agent_media_failure.as_deref(),
        Some("ICE: the browser stopped answering connectivity checks")
    );
    assert_eq!(sim.engine.counters.webrtc_legs_failed, 1);
}

/// A browser agent transfers the caller to another queue: its leg gets the BYE down the
/// WebSocket and leaves the bridge; a SIP phone agent answers next, in the same recording.
#[test]
fn a_browser_agent_transfers_and_a_sip_phone_agent_takes_the_call_on() {
    let mut sim = Sim::new();
    let browser = register_browser(&mut sim);
    let desk_phone = agents::register_phone(&mut sim, "1002", "demo-1002", 5082);
    sim.engine
        .set_agent_state("1002", crate::acd::model::StateRequest::Ready, sim.now)
        .expect("ready");
    sim.drain();
    sim.answered();
    let call = sim.call_id();
    sim.engine.handle_digit(call, '1', sim.now);
    sim.drain();
    let invite = agents::last_request_to(&sim, browser, "INVITE");
    let offer = String::from_utf8(invite.body.to_vec()).expect("utf-8 SDP");
    let answer = browser_answer(&offer, sim.now);
    answer_with(&mut sim, browser, &invite, answer);
    assert_eq!(sim.engine.live_calls()[0].agent.as_deref(), Some("1001"));
    let recording = sim.media.iter().find_map(|m| match m {
        MediaCommand::Bridge { recording, .. } => Some(recording.clone()),
        _ => None,
    });
    sim.engine
        .transfer(call, "general", sim.now)
        .expect("transferred");
    sim.drain();
    let bye = agents::last_request_to(&sim, browser, "BYE");
    assert_eq!(bye.headers.call_id, invite.headers.call_id);
    assert!(sim.media.contains(&MediaCommand::Unbridge { call }));
    // The SIP phone is offered plain RTP (not WebRTC) and its answer opens a plain leg.
    let second = agents::last_request_to(&sim, desk_phone, "INVITE");
    let body = String::from_utf8_lossy(&second.body).to_string();
    assert!(
        body.contains("RTP/AVP") && !body.contains("fingerprint"),
        "{body}"
    );
    let ok = Response::for_request(&second, 200, "OK")
        .with_to_tag("desk2")
        .with_body(
            crate::sip::message::MediaType::new("application", "sdp"),
            SDP.replace("6000", "7002"),
        );
    sim.engine
        .handle_message(Message::Response(ok), desk_phone, sim.now);
    sim.drain();
    let live = &sim.engine.live_calls()[0];
    assert_eq!(live.agent.as_deref(), Some("1002"));
    assert_eq!(live.transfers, vec!["1001 → queue general"]);
    assert!(sim
        .media
        .iter()
        .any(|m| matches!(m, MediaCommand::OpenAgent { call: c, .. } if *c == call)));
    let bridges: Vec<String> = sim
        .media
        .iter()
        .filter_map(|m| match m {
            MediaCommand::Bridge { recording, .. } => Some(recording.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(bridges.len(), 2);
    assert_eq!(
        Some(&bridges[1]),
        recording.as_ref(),
        "one recording for the call"
    );
}
