//! An agent whose phone is a browser over SIP over WebSocket (RFC 7118): its Contact names an
//! `.invalid` host that no resolver could reach, so everything to it must go down the
//! connection it registered on, as a reliable transport, with Via WS/WSS.

use std::time::Duration;

use super::*;

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

#[test]
fn the_acds_invite_the_hold_answer_and_the_bye_go_down_the_agents_websocket() {
    let mut sim = Sim::new();
    let phone = register_browser(&mut sim);
    sim.answered();
    let call = sim.call_id();
    sim.engine.handle_digit(call, '1', sim.now);
    sim.drain();
    let invite = agents::last_request_to(&sim, phone, "INVITE");
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
    let ok = Response::for_request(&invite, 200, "OK")
        .with_to_tag("web1")
        .with_body(
            crate::sip::message::MediaType::new("application", "sdp"),
            SDP.replace("6000", "7000"),
        );
    sim.engine
        .handle_message(Message::Response(ok), phone, sim.now);
    sim.drain();
    agents::last_request_to(&sim, phone, "ACK");
    assert_eq!(sim.engine.live_calls()[0].state, CallState::Talking);
    // The browser holds the caller (its own re-INVITE over the WebSocket): the 200 goes back
    // down the same socket, and the caller hears the hold music.
    let hold = SDP
        .replace("6000", "7000")
        .replace("a=rtpmap:101", "a=sendonly\r\na=rtpmap:101");
    let reinvite = format!(
        "INVITE sip:hotline@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/WSS k3l2.invalid;branch=z9hG4bK-wsh\r\nFrom: <sip:1001@127.0.0.1>;tag=web1\r\nTo: <sip:hotline@127.0.0.1>;tag={}\r\nCall-ID: {}\r\nCSeq: 2 INVITE\r\nContact: <sip:r8s1@k3l2.invalid;transport=ws>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{hold}",
        invite.headers.from.tag().unwrap_or_default(),
        invite.headers.call_id,
        hold.len()
    );
    sim.send_from(phone, &reinvite);
    let ok = sim
        .to_others
        .iter()
        .rev()
        .find_map(|(to, m)| match m {
            Message::Response(r) if r.headers.cseq.seq == 2 && r.status == 200 => Some(*to),
            _ => None,
        })
        .expect("200 to the hold re-INVITE");
    assert_eq!(ok, phone, "answered down the WebSocket");
    assert!(sim.media.iter().any(|m| matches!(
        m,
        MediaCommand::Hold {
            prompt: Some(_),
            ..
        }
    )));
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
