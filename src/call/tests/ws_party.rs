//! A browser phone (SIP over WebSocket, WebRTC media) as an extra party: the consulted
//! agent who is conferenced in and takes the call over, and the supervisor who listens in.
//! Its leg is offered WebRTC like a browser agent's and opens as one more party of the mix.

use super::agents::{connect_agent, last_request_to, register_agent};
use super::conference::last_mix;
use super::ws_agent::{answer_with, browser_answer};
use super::*;
use crate::call::parties::PartyTarget;
use crate::call::record::{MonitorMode, PartyRole, PartyState};
use crate::media::mixer::PartyId;
use crate::sip::message::{Method, Request};

/// A browser phone on WebSocket connection `id`, registering as `user` with digest.
pub(super) fn register_ws(sim: &mut Sim, user: &str, password: &str, id: u64) -> Peer {
    let phone = Peer {
        addr: format!("127.0.0.1:{}", 41000 + id).parse().unwrap(),
        link: Link::Ws { id, secure: true },
    };
    let reg = |cseq: u32, auth: &str| {
        format!("REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WSS b{id}.invalid;branch=z9hG4bK-wsp{id}{cseq}\r\nFrom: <sip:{user}@127.0.0.1>;tag=w{id}\r\nTo: <sip:{user}@127.0.0.1>\r\nCall-ID: reg-ws-{id}\r\nCSeq: {cseq} REGISTER\r\nContact: <sip:p{id}@b{id}.invalid;transport=ws>;expires=600\r\nExpires: 600\r\n{auth}User-Agent: JsSIP 3.13.8\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
    };
    sim.send_from(phone, &reg(1, ""));
    let Some((_, Message::Response(challenge))) = sim.to_others.last().cloned() else {
        panic!("expected a challenge");
    };
    let auth = md5_authorization(
        &challenge,
        (user, password),
        "REGISTER",
        "sip:127.0.0.1",
        "c0ffee",
    );
    sim.send_from(phone, &reg(2, &auth));
    match &sim.to_others.last().expect("an answer").1 {
        Message::Response(r) => assert_eq!(r.status, 200, "{r:?}"),
        other => panic!("expected 200, got {other:?}"),
    }
    phone
}

/// The browser answers the party INVITE it was sent with its WebRTC answer: the leg opens
/// as media party `party` (its offer was WebRTC, its socket bound before the INVITE).
pub(super) fn browser_answers(sim: &mut Sim, browser: Peer, party: u8) -> Request {
    let invite = last_request_to(sim, browser, "INVITE");
    let offer = String::from_utf8(invite.body.to_vec()).expect("utf-8 SDP");
    assert!(offer.contains("a=fingerprint:"), "a WebRTC offer: {offer}");
    assert!(offer.contains("UDP/TLS/RTP/SAVPF"), "{offer}");
    let call = sim.call_id();
    // The leg's socket is bound with the offer, before the browser's first ICE checks.
    let port = sim
        .media
        .iter()
        .rev()
        .find_map(|m| match m {
            MediaCommand::ReserveLeg { call: c, port } if *c == call => Some(*port),
            _ => None,
        })
        .expect("ReserveLeg");
    assert!(
        offer.contains(&format!(" {port} typ host")),
        "its candidate is that port: {offer}"
    );
    let answer = browser_answer(&offer, sim.now);
    answer_with(sim, browser, &invite, answer);
    last_request_to(sim, browser, "ACK");
    let opened = sim.media.iter().find_map(|m| match m {
        MediaCommand::OpenWebRtcParty {
            call: c,
            party: p,
            port: q,
            leg,
        } if *c == call && p.0 == party => Some((*q, leg.clone())),
        _ => None,
    });
    let (q, leg) = opened.expect("the browser's leg opens as a party of the mix");
    assert_eq!(q, port);
    let leg = leg.take().expect("the leg, once");
    assert!(leg.media().is_some(), "answered before the hand-over");
    assert!(
        !sim.media
            .iter()
            .any(|m| matches!(m, MediaCommand::OpenParty { party: p, .. } if p.0 == party)),
        "no plain RTP leg for a browser"
    );
    invite
}

/// A request from the browser inside the dialog of our `invite` (its to-tag `web1`).
fn in_browser_dialog(invite: &Request, method: &str, cseq: u32, body: &str) -> String {
    let ct = if body.is_empty() {
        String::new()
    } else {
        "Content-Type: application/sdp\r\n".into()
    };
    format!(
        "{method} sip:hotline@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/WSS b.invalid;branch=z9hG4bK-in{cseq}{method}\r\nFrom: <sip:x@127.0.0.1>;tag=web1\r\nTo: <sip:hotline@127.0.0.1>;tag={}\r\nCall-ID: {}\r\nCSeq: {cseq} {method}\r\nContact: <sip:p@b.invalid;transport=ws>\r\nMax-Forwards: 70\r\n{ct}Content-Length: {}\r\n\r\n{body}",
        invite.headers.from.tag().unwrap_or_default(),
        invite.headers.call_id,
        body.len()
    )
}

/// The final answer sent to `to` for a request with this CSeq and method.
fn final_status(sim: &Sim, to: Peer, cseq: u32, method: Method) -> Option<u16> {
    sim.to_others.iter().rev().find_map(|(t, m)| match m {
        Message::Response(r)
            if *t == to
                && r.headers.cseq.seq == cseq
                && r.headers.cseq.method == method
                && r.status >= 200 =>
        {
            Some(r.status)
        }
        _ => None,
    })
}

#[test]
fn a_browser_agent_is_consulted_conferenced_and_takes_the_call_over() {
    let mut sim = Sim::new();
    let phone = register_agent(&mut sim);
    connect_agent(&mut sim, phone);
    let call = sim.call_id();
    let browser = register_ws(&mut sim, "1002", "demo-1002", 8);
    sim.engine
        .set_agent_state("1002", crate::acd::model::StateRequest::Ready, sim.now)
        .expect("ready");
    sim.drain();
    let party = sim
        .engine
        .add_party(
            call,
            PartyTarget::Agent("1002".into()),
            PartyRole::Consult,
            sim.now,
        )
        .expect("the browser agent is consulted");
    sim.drain();
    assert_eq!(
        agent_state(&sim, "1002"),
        crate::acd::model::AgentStateKind::Assisting
    );
    let invite = browser_answers(&mut sim, browser, party);
    assert_eq!(invite.uri.to_string(), "sip:p8@b8.invalid;transport=ws");
    // The consultation: the caller held, the agent and the browser hear each other.
    assert!(sim.engine.live_calls()[0].on_hold);
    assert_eq!(
        last_mix(&sim),
        vec![(0, vec![]), (1, vec![party]), (party, vec![1])]
    );
    // The browser holds its own side (a WebRTC re-offer in its party dialog): its leg on
    // the media shell answers, and the caller's hold is not touched.
    sim.send_from(
        browser,
        &in_browser_dialog(&invite, "INVITE", 2, "v=0 party hold"),
    );
    assert!(sim.media.contains(&MediaCommand::WebRtcReoffer {
        call,
        party: PartyId(party),
        offer: "v=0 party hold".into()
    }));
    sim.engine
        .handle_webrtc_reanswer(call, PartyId(party), Ok(("v=0 held".into(), true)), sim.now);
    sim.drain();
    assert_eq!(final_status(&sim, browser, 2, Method::Invite), Some(200));
    // Merged: everyone hears everyone, the caller off hold.
    sim.engine.join_party(call, party, sim.now).expect("merge");
    sim.drain();
    assert!(!sim.engine.live_calls()[0].on_hold);
    assert_eq!(
        last_mix(&sim),
        vec![
            (0, vec![1, party]),
            (1, vec![0, party]),
            (party, vec![0, 1])
        ]
    );
    // The transfer completes: the browser agent takes the call over, 1001 leaves.
    sim.engine
        .hand_over(call, party, sim.now)
        .expect("hand over");
    sim.drain();
    last_request_to(&sim, phone, "BYE");
    let live = &sim.engine.live_calls()[0];
    assert_eq!(live.agent.as_deref(), Some("1002"));
    assert_eq!(live.transfers, vec!["1001 → 1002"]);
    assert!(sim.media.contains(&MediaCommand::CloseParty {
        call,
        party: PartyId::AGENT
    }));
    assert_eq!(
        last_mix(&sim),
        vec![(0, vec![party]), (party, vec![0])],
        "the caller and the browser agent"
    );
    // Now the call's agent: its hold re-offer goes to its leg (the same media party) and
    // holds the caller.
    sim.send_from(
        browser,
        &in_browser_dialog(&invite, "INVITE", 3, "v=0 agent hold"),
    );
    sim.engine
        .handle_webrtc_reanswer(call, PartyId(party), Ok(("v=0 held".into(), true)), sim.now);
    sim.drain();
    assert_eq!(final_status(&sim, browser, 3, Method::Invite), Some(200));
    assert!(sim.engine.live_calls()[0].on_hold);
    // The browser hangs up: the call ends, 1002 goes to wrap-up.
    sim.send_from(browser, &in_browser_dialog(&invite, "BYE", 4, ""));
    assert_eq!(final_status(&sim, browser, 4, Method::Bye), Some(200));
    super::liveness::answer_bye(&mut sim);
    assert!(sim.engine.live_calls().is_empty());
    let record = sim.records.last().expect("the call's record");
    assert_eq!(record.call.agent.as_deref(), Some("1002"));
    assert_eq!(record.call.transfers, vec!["1001 → 1002"]);
    assert_eq!(record.agent_media_failure, None);
    assert_eq!(
        agent_state(&sim, "1002"),
        crate::acd::model::AgentStateKind::WrapUp
    );
    assert!(sim.engine.browser.parties.is_empty());
}

#[test]
fn a_browser_supervisor_listens_in_and_a_failed_leg_takes_only_them_off() {
    let mut sim = Sim::new();
    let phone = register_agent(&mut sim);
    connect_agent(&mut sim, phone);
    let call = sim.call_id();
    let desk = register_ws(&mut sim, "9001", "demo-supervisor", 9);
    let party = sim
        .engine
        .monitor(call, "supervisor", MonitorMode::Listen, sim.now)
        .expect("the supervisor's browser rings");
    sim.drain();
    browser_answers(&mut sim, desk, party);
    assert_eq!(
        last_mix(&sim),
        vec![(0, vec![1]), (1, vec![0]), (party, vec![0, 1])],
        "hears both, heard by nobody"
    );
    sim.engine
        .monitor(call, "supervisor", MonitorMode::Whisper, sim.now)
        .expect("whisper");
    sim.drain();
    assert_eq!(
        last_mix(&sim),
        vec![(0, vec![1]), (1, vec![0, party]), (party, vec![0, 1])]
    );
    // The media shell says the browser's leg failed (ICE lost): the supervisor is hung up
    // down the WebSocket, the call goes on between the caller and the agent.
    sim.engine
        .handle_party_leg_failed(call, PartyId(party), "ICE consent lost", sim.now);
    sim.drain();
    last_request_to(&sim, desk, "BYE");
    assert_eq!(last_mix(&sim), vec![(0, vec![1]), (1, vec![0])]);
    let live = &sim.engine.live_calls()[0];
    assert_eq!(live.state, CallState::Talking);
    assert_eq!(live.parties.len(), 1);
    assert_eq!(live.parties[0].state, PartyState::Left);
    assert_eq!(sim.engine.counters.webrtc_legs_failed, 1);
    // Already gone: nothing more.
    sim.engine
        .handle_party_leg_failed(call, PartyId(party), "again", sim.now);
    assert_eq!(sim.engine.live_calls()[0].state, CallState::Talking);
}

#[test]
fn an_unusable_browser_party_answer_is_hung_up_and_the_consultation_ends() {
    let mut sim = Sim::new();
    let phone = register_agent(&mut sim);
    connect_agent(&mut sim, phone);
    let call = sim.call_id();
    let browser = register_ws(&mut sim, "1002", "demo-1002", 8);
    sim.engine
        .set_agent_state("1002", crate::acd::model::StateRequest::Ready, sim.now)
        .expect("ready");
    sim.drain();
    let party = sim
        .engine
        .add_party(
            call,
            PartyTarget::Agent("1002".into()),
            PartyRole::Consult,
            sim.now,
        )
        .expect("consulted");
    sim.drain();
    assert!(sim.engine.live_calls()[0].on_hold);
    let invite = last_request_to(&sim, browser, "INVITE");
    // A plain RTP answer (no fingerprint): the leg cannot carry the call.
    answer_with(&mut sim, browser, &invite, SDP.to_string());
    last_request_to(&sim, browser, "ACK");
    let bye = last_request_to(&sim, browser, "BYE");
    assert_eq!(bye.headers.call_id, invite.headers.call_id);
    assert!(!sim.media.iter().any(|m| matches!(
        m,
        MediaCommand::OpenWebRtcParty { .. } | MediaCommand::OpenParty { .. }
    )));
    let live = &sim.engine.live_calls()[0];
    assert!(!live.on_hold, "the consultation's caller comes off hold");
    assert_eq!(live.parties.len(), 1);
    assert_eq!(live.parties[0].id, party);
    assert_eq!(live.parties[0].state, PartyState::Left);
    assert_eq!(sim.engine.counters.webrtc_answers_refused, 1);
    assert_eq!(
        agent_state(&sim, "1002"),
        crate::acd::model::AgentStateKind::Ready,
        "1002 is free again"
    );
    assert!(sim.engine.browser.parties.is_empty());
}

/// A call already in the mixer (a supervisor listened, then left: the call stays mixed) is
/// transferred to a queue whose next agent is a browser: its WebRTC leg joins the mixer as
/// the call's new agent party (before, it was hung up).
#[test]
fn a_browser_agent_answering_a_transferred_mixing_call_joins_the_mixer() {
    let mut sim = Sim::new();
    let phone = register_agent(&mut sim);
    connect_agent(&mut sim, phone);
    let call = sim.call_id();
    let desk = super::agents::register_phone(&mut sim, "9001", "demo-supervisor", 5081);
    let sup = sim
        .engine
        .monitor(call, "supervisor", MonitorMode::Listen, sim.now)
        .expect("the supervisor listens");
    sim.drain();
    super::conference::answers(&mut sim, desk, 7600, "sup1");
    sim.engine.drop_party(call, sup, sim.now).expect("stop");
    sim.drain();
    let browser = register_ws(&mut sim, "1002", "demo-1002", 8);
    sim.engine
        .set_agent_state("1002", crate::acd::model::StateRequest::Ready, sim.now)
        .expect("ready");
    sim.drain();
    sim.engine
        .transfer(call, "general", sim.now)
        .expect("transferred");
    sim.drain();
    last_request_to(&sim, phone, "BYE");
    let invite = last_request_to(&sim, browser, "INVITE");
    let offer = String::from_utf8(invite.body.to_vec()).expect("utf-8 SDP");
    assert!(offer.contains("a=fingerprint:"), "{offer}");
    let answer = browser_answer(&offer, sim.now);
    answer_with(&mut sim, browser, &invite, answer);
    let live = &sim.engine.live_calls()[0];
    assert_eq!(live.agent.as_deref(), Some("1002"));
    assert_eq!(live.state, CallState::Talking);
    let agent_party = sim.media.iter().rev().find_map(|m| match m {
        MediaCommand::OpenWebRtcParty { call: c, party, .. } if *c == call => Some(party.0),
        _ => None,
    });
    let agent_party = agent_party.expect("the browser's leg joins the mixer");
    assert!(agent_party > sup, "a new party number: {agent_party}");
    assert!(
        !sim.media
            .iter()
            .any(|m| matches!(m, MediaCommand::OpenWebRtcAgent { .. })),
        "not a two-party leg"
    );
    assert_eq!(
        last_mix(&sim),
        vec![(0, vec![agent_party]), (agent_party, vec![0])]
    );
    // The browser leg failing ends the call like an agent's (it carries the call now).
    sim.engine
        .handle_party_leg_failed(call, PartyId(agent_party), "DTLS refused", sim.now);
    sim.drain();
    last_request_to(&sim, browser, "BYE");
    super::liveness::answer_bye(&mut sim);
    let record = sim.records.last().expect("the record");
    assert_eq!(record.agent_media_failure.as_deref(), Some("DTLS refused"));
}
