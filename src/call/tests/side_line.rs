//! The agent's softphone consults and transfers on its own (RFC 5589 attended transfer): agent
//! 1001's simulated phone holds the citizen, dials 1002 or the water unit itself, and sends
//! REFER with Replaces; the engine answers as the desk's consult and hand-over would.

use super::agent_state;
use super::agents::{connect_agent, last_request_to, register_agent, register_phone};
use super::conference::{answers, gateway, last_mix};
use super::*;
use crate::acd::model::{AgentStateKind, StateRequest};
use crate::sip::message::Request;

/// Agent 1001's phone at 127.0.0.1:5080.
const PHONE_PORT: u16 = 5080;

/// What the phone received (responses and requests), in order.
fn to_phone(sim: &Sim, phone: Peer) -> Vec<&Message> {
    sim.to_others
        .iter()
        .filter(|(to, _)| *to == phone)
        .map(|(_, m)| m)
        .collect()
}

fn responses_to_phone(sim: &Sim, phone: Peer, call_id: &str) -> Vec<(u16, String)> {
    to_phone(sim, phone)
        .into_iter()
        .filter_map(|m| match m {
            Message::Response(r) if r.headers.call_id == call_id => {
                Some((r.status, r.headers.cseq.method.as_str().to_string()))
            }
            _ => None,
        })
        .collect()
}

fn last_response_to_phone(sim: &Sim, phone: Peer, call_id: &str) -> Response {
    to_phone(sim, phone)
        .into_iter()
        .rev()
        .find_map(|m| match m {
            Message::Response(r) if r.headers.call_id == call_id => Some(r.clone()),
            _ => None,
        })
        .expect("a response to the phone")
}

/// The phone's own INVITE to `number` (Call-ID `consult-1`), answering a 401 with MD5 digest.
fn phone_dials(sim: &mut Sim, phone: Peer, number: &str) {
    phone_dials_as(sim, phone, number, "consult-1");
}

fn phone_dials_as(sim: &mut Sim, phone: Peer, number: &str, call_id: &str) {
    let invite = |cseq: u32, auth: &str| {
        let sdp = SDP.replace("6000", "7010");
        format!("INVITE sip:{number}@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{PHONE_PORT};branch=z9hG4bK-{call_id}-{number}-{cseq};rport\r\nFrom: <sip:1001@127.0.0.1>;tag=c1\r\nTo: <sip:{number}@127.0.0.1>\r\nCall-ID: {call_id}\r\nCSeq: {cseq} INVITE\r\nContact: <sip:1001@127.0.0.1:{PHONE_PORT}>\r\n{auth}User-Agent: test-phone\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}", sdp.len())
    };
    sim.send_from(phone, &invite(1, ""));
    let challenge = last_response_to_phone(sim, phone, call_id);
    assert_eq!(challenge.status, 401, "the phone's INVITE is challenged");
    let uri = format!("sip:{number}@127.0.0.1:5060");
    let auth = md5_authorization(&challenge, ("1001", "demo-1001"), "INVITE", &uri, "beef");
    sim.send_from(phone, &invite(2, &auth));
}

/// A request from the phone in its consultation dialog (`consult-1`).
fn on_side_line(sim: &mut Sim, phone: Peer, method: &str, cseq: u32, extra: &str) {
    let tag = to_phone(sim, phone)
        .into_iter()
        .find_map(|m| match m {
            Message::Response(r) if r.headers.call_id == "consult-1" && r.status == 180 => {
                r.headers.to.tag().map(str::to_string)
            }
            _ => None,
        })
        .expect("the side line's tag");
    let cseq_method = if method == "ACK" { 2 } else { cseq };
    sim.send_from(phone, &format!("{method} sip:hotline@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{PHONE_PORT};branch=z9hG4bK-side{cseq}{method};rport\r\nFrom: <sip:1001@127.0.0.1>;tag=c1\r\nTo: <sip:1002@127.0.0.1>;tag={tag}\r\nCall-ID: consult-1\r\nCSeq: {cseq_method} {method}\r\nMax-Forwards: 70\r\n{extra}Content-Length: 0\r\n\r\n"));
}

/// A request from the phone in the citizen's call's dialog (our INVITE `invite` to it).
fn on_call_leg(
    sim: &mut Sim,
    phone: Peer,
    invite: &Request,
    method: &str,
    cseq: u32,
    extra: &str,
    body: &str,
) {
    let ct = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/sdp\r\n"
    };
    sim.send_from(phone, &format!("{method} sip:hotline@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{PHONE_PORT};branch=z9hG4bK-leg{cseq};rport\r\nFrom: <sip:1001@127.0.0.1>;tag=phone1\r\nTo: <sip:hotline@127.0.0.1>;tag={}\r\nCall-ID: {}\r\nCSeq: {cseq} {method}\r\nContact: <sip:1001@127.0.0.1:{PHONE_PORT}>\r\nMax-Forwards: 70\r\n{extra}{ct}Content-Length: {}\r\n\r\n{body}", invite.headers.from.tag().unwrap_or_default(), invite.headers.call_id, body.len()));
}

/// A talking call to 1001 with 1002 registered (at 5082) and ready.
fn talking_with_1002_ready() -> (Sim, Peer, Peer, Request) {
    let mut sim = Sim::new();
    let phone = register_agent(&mut sim);
    let invite = connect_agent(&mut sim, phone);
    let phone2 = register_phone(&mut sim, "1002", "demo-1002", 5082);
    sim.engine
        .set_agent_state("1002", StateRequest::Ready, sim.now)
        .expect("ready");
    sim.drain();
    (sim, phone, phone2, invite)
}

#[test]
fn the_phone_holds_consults_1002_and_transfers_with_replaces() {
    let (mut sim, phone, phone2, invite) = talking_with_1002_ready();
    let call = sim.call_id();
    // The phone holds the citizen: music for them, as the desk's hold.
    let hold = SDP.replace("a=rtpmap:101", "a=sendonly\r\na=rtpmap:101");
    on_call_leg(&mut sim, phone, &invite, "INVITE", 2, "", &hold);
    assert!(sim.engine.live_calls()[0].on_hold);
    // It dials 1002 itself: challenged, then 180 while 1002's phone rings.
    phone_dials(&mut sim, phone, "1002");
    assert_eq!(
        responses_to_phone(&sim, phone, "consult-1"),
        vec![(401, "INVITE".into()), (180, "INVITE".into())]
    );
    assert_eq!(agent_state(&sim, "1002"), AgentStateKind::Assisting);
    let invite2 = answers(&mut sim, phone2, 7800, "ph2");
    assert_eq!(invite2.uri.to_string(), "sip:1002@127.0.0.1:5082");
    // 1002 answered: the phone's consultation is answered with our SDP.
    let ok = last_response_to_phone(&sim, phone, "consult-1");
    assert_eq!(ok.status, 200);
    let port = sdp_port(&String::from_utf8_lossy(&ok.body));
    on_side_line(&mut sim, phone, "ACK", 2, "");
    assert!(sim.media.iter().any(|m| matches!(
        m,
        MediaCommand::OpenParty { port: p, remote, .. } if *p == port && remote.port() == 7010
    )));
    // The side line (party 3) and 1002 (party 2) hear each other; the held caller nobody.
    assert_eq!(
        last_mix(&sim),
        vec![(0, vec![]), (1, vec![]), (2, vec![3]), (3, vec![2])]
    );
    // REFER on the citizen's leg, Replaces naming the consultation.
    let ours = ok.headers.to.tag().expect("our tag").to_string();
    let refer_to = format!(
        "Refer-To: <sip:1002@127.0.0.1:5060?Replaces=consult-1%3Bto-tag%3D{ours}%3Bfrom-tag%3Dc1>\r\nReferred-By: <sip:1001@127.0.0.1>\r\n"
    );
    on_call_leg(&mut sim, phone, &invite, "REFER", 3, &refer_to, "");
    assert!(to_phone(&sim, phone)
        .iter()
        .any(|m| matches!(m, Message::Response(r) if r.status == 202 && r.headers.cseq.seq == 3)));
    let notify = last_request_to(&sim, phone, "NOTIFY");
    assert_eq!(notify.headers.call_id, invite.headers.call_id);
    assert_eq!(String::from_utf8_lossy(&notify.body), "SIP/2.0 200 OK\r\n");
    // Both of the phone's dialogs are hung up; the citizen talks to 1002.
    let byes: Vec<String> = to_phone(&sim, phone)
        .iter()
        .filter_map(|m| match m {
            Message::Request(r) if r.method.as_str() == "BYE" => Some(r.headers.call_id.clone()),
            _ => None,
        })
        .collect();
    assert!(byes.contains(&invite.headers.call_id), "{byes:?}");
    assert!(byes.contains(&"consult-1".to_string()), "{byes:?}");
    assert_eq!(last_mix(&sim), vec![(0, vec![2]), (2, vec![0])]);
    let live = &sim.engine.live_calls()[0];
    assert_eq!(live.agent.as_deref(), Some("1002"));
    assert!(!live.on_hold);
    assert_eq!(live.transfers, vec!["1001 → 1002"]);
    assert_eq!(agent_state(&sim, "1002"), AgentStateKind::Talking);
    assert_ne!(agent_state(&sim, "1001"), AgentStateKind::Talking);
    assert_eq!(sim.engine.agent_of_call(call).as_deref(), Some("1002"));
    // The phone's own BYEs crossing ours are answered, not errors.
    on_side_line(&mut sim, phone, "BYE", 3, "");
    assert_eq!(last_response_to_phone(&sim, phone, "consult-1").status, 481);
}

#[test]
fn the_phone_cancels_its_consultation_and_1002_stops_ringing() {
    let (mut sim, phone, phone2, invite) = talking_with_1002_ready();
    let hold = SDP.replace("a=rtpmap:101", "a=sendonly\r\na=rtpmap:101");
    on_call_leg(&mut sim, phone, &invite, "INVITE", 2, "", &hold);
    phone_dials(&mut sim, phone, "1002");
    last_request_to(&sim, phone2, "INVITE");
    sim.send_from(phone, &format!("CANCEL sip:1002@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{PHONE_PORT};branch=z9hG4bK-consult-1-1002-2;rport\r\nFrom: <sip:1001@127.0.0.1>;tag=c1\r\nTo: <sip:1002@127.0.0.1>\r\nCall-ID: consult-1\r\nCSeq: 2 CANCEL\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"));
    let statuses: Vec<u16> = responses_to_phone(&sim, phone, "consult-1")
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert!(statuses.ends_with(&[200, 487]), "{statuses:?}");
    last_request_to(&sim, phone2, "CANCEL");
    let live = &sim.engine.live_calls()[0];
    assert_eq!(live.agent.as_deref(), Some("1001"));
    assert!(live.on_hold, "the phone's own hold stays until it resumes");
    assert_ne!(agent_state(&sim, "1002"), AgentStateKind::Assisting);
    // The phone resumes the citizen.
    on_call_leg(&mut sim, phone, &invite, "INVITE", 3, "", SDP);
    assert!(!sim.engine.live_calls()[0].on_hold);
}

#[test]
fn the_consulted_unit_hangs_up_and_the_phones_line_is_hung_up() {
    let (mut sim, phone, _phone2, invite) = talking_with_1002_ready();
    let gw = gateway(&mut sim);
    on_call_leg(
        &mut sim,
        phone,
        &invite,
        "INVITE",
        2,
        "",
        &SDP.replace("a=rtpmap:101", "a=sendonly\r\na=rtpmap:101"),
    );
    // The water unit dialled by its phone number.
    phone_dials(&mut sim, phone, "96116");
    let unit_invite = answers(&mut sim, gw, 7200, "unit1");
    assert_eq!(unit_invite.uri.to_string(), "sip:96116@127.0.0.1:5090");
    assert_eq!(last_response_to_phone(&sim, phone, "consult-1").status, 200);
    on_side_line(&mut sim, phone, "ACK", 2, "");
    let text = format!(
        "BYE sip:hotline@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK-gwbye;rport\r\nFrom: <sip:96116@127.0.0.1>;tag=unit1\r\nTo: <sip:hotline@127.0.0.1>;tag={}\r\nCall-ID: {}\r\nCSeq: 1 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        unit_invite.headers.from.tag().unwrap_or_default(),
        unit_invite.headers.call_id,
    );
    sim.send_from(gw, &text);
    let bye = last_request_to(&sim, phone, "BYE");
    assert_eq!(bye.headers.call_id, "consult-1");
    let live = &sim.engine.live_calls()[0];
    assert_eq!(live.agent.as_deref(), Some("1001"));
    assert_eq!(live.parties.len(), 1);
    // A second consultation may start now.
    phone_dials_as(&mut sim, phone, "110", "consult-2");
    assert_eq!(last_response_to_phone(&sim, phone, "consult-2").status, 180);
}

#[test]
fn a_phone_dials_only_from_a_call_and_only_known_targets() {
    let mut sim = Sim::new();
    let phone = register_agent(&mut sim);
    // No call: refused with a reason.
    phone_dials(&mut sim, phone, "1002");
    let r = last_response_to_phone(&sim, phone, "consult-1");
    assert_eq!(r.status, 403);
    assert!(r
        .headers
        .get("Warning")
        .is_some_and(|w| w.contains("no citizen on the line")));
    let invite = connect_agent(&mut sim, phone);
    // Unknown target: 404.
    phone_dials_as(&mut sim, phone, "4711", "consult-2");
    assert_eq!(last_response_to_phone(&sim, phone, "consult-2").status, 404);
    // 1002 not ready: 480 with the ACD's reason; the citizen's call goes on.
    phone_dials_as(&mut sim, phone, "1002", "consult-3");
    let r = last_response_to_phone(&sim, phone, "consult-3");
    assert_eq!(r.status, 480, "{r:?}");
    assert_eq!(sim.engine.live_calls()[0].state, CallState::Talking);
    // Credentials that are not a proper digest are refused; the citizen's call is untouched.
    let bad = format!("INVITE sip:110@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{PHONE_PORT};branch=z9hG4bK-bad;rport\r\nFrom: <sip:1001@127.0.0.1>;tag=c9\r\nTo: <sip:110@127.0.0.1>\r\nCall-ID: consult-9\r\nCSeq: 1 INVITE\r\nAuthorization: Digest username=\"1001\", realm=\"hotline\", nonce=\"x\", uri=\"sip:110@127.0.0.1:5060\", response=\"00\", algorithm=MD5\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
    sim.send_from(phone, &bad);
    let r = last_response_to_phone(&sim, phone, "consult-9");
    assert!(matches!(r.status, 400 | 401 | 403), "{r:?}");
    // The citizen's REFER with a Replaces naming nothing is refused.
    on_call_leg(
        &mut sim,
        phone,
        &invite,
        "REFER",
        2,
        "Refer-To: <sip:1002@127.0.0.1?Replaces=nothing%3Bto-tag%3Dx%3Bfrom-tag%3Dy>\r\n",
        "",
    );
    assert!(to_phone(&sim, phone)
        .iter()
        .any(|m| matches!(m, Message::Response(r) if r.status == 403 && r.headers.cseq.seq == 2)));
    assert_eq!(sim.engine.live_calls()[0].agent.as_deref(), Some("1001"));
}

/// The phone's REFER on the citizen's call to `target`, without Replaces (its transfer key).
fn blind_refer(sim: &mut Sim, phone: Peer, invite: &Request, target: &str, cseq: u32) {
    on_call_leg(
        sim,
        phone,
        invite,
        "REFER",
        cseq,
        &format!("Refer-To: <sip:{target}@127.0.0.1:5060>\r\n"),
        "",
    );
    assert!(
        to_phone(sim, phone).iter().any(
            |m| matches!(m, Message::Response(r) if r.status == 202 && r.headers.cseq.seq == cseq)
        ),
        "the REFER is accepted"
    );
}

/// `peer` refuses our last INVITE to it with `status`.
fn refuses(sim: &mut Sim, peer: Peer, status: u16) {
    let invite = last_request_to(sim, peer, "INVITE");
    let resp = Response::for_request(&invite, status, "Busy Here").with_to_tag("no");
    sim.engine
        .handle_message(Message::Response(resp), peer, sim.now);
    sim.drain();
}

#[test]
fn the_phones_blind_transfer_to_1002_completes_when_1002_answers() {
    let (mut sim, phone, phone2, invite) = talking_with_1002_ready();
    blind_refer(&mut sim, phone, &invite, "1002", 2);
    // 1002 rings; the citizen hears hold music; the phone keeps its call meanwhile.
    last_request_to(&sim, phone2, "INVITE");
    assert!(sim.engine.live_calls()[0].on_hold);
    assert!(to_phone(&sim, phone)
        .iter()
        .all(|m| !matches!(m, Message::Request(r) if r.method.as_str() == "BYE")));
    answers(&mut sim, phone2, 7800, "ph2");
    let notify = last_request_to(&sim, phone, "NOTIFY");
    assert_eq!(String::from_utf8_lossy(&notify.body), "SIP/2.0 200 OK\r\n");
    assert_eq!(
        last_request_to(&sim, phone, "BYE").headers.call_id,
        invite.headers.call_id
    );
    let live = &sim.engine.live_calls()[0];
    assert_eq!(live.agent.as_deref(), Some("1002"));
    assert!(!live.on_hold);
    assert_eq!(live.transfers, vec!["1001 → 1002"]);
    assert_eq!(agent_state(&sim, "1002"), AgentStateKind::Talking);
}

#[test]
fn a_phone_that_hangs_up_after_its_blind_transfer_leaves_the_citizen_waiting_for_1002() {
    let (mut sim, phone, phone2, invite) = talking_with_1002_ready();
    blind_refer(&mut sim, phone, &invite, "1002", 2);
    on_call_leg(&mut sim, phone, &invite, "BYE", 3, "", "");
    let live = &sim.engine.live_calls()[0];
    assert_eq!(live.state, CallState::Talking, "the citizen is not hung up");
    assert!(sim
        .sent
        .iter()
        .all(|m| !matches!(m, Message::Request(r) if r.method.as_str() == "BYE")));
    answers(&mut sim, phone2, 7800, "ph2");
    let live = &sim.engine.live_calls()[0];
    assert_eq!(live.agent.as_deref(), Some("1002"));
    assert_eq!(live.transfers, vec!["1001 → 1002"]);
    // 1001's silent leg is closed now, and 1002 and the citizen hear each other.
    assert!(sim.media.iter().any(|m| matches!(
        m,
        MediaCommand::CloseParty {
            party: crate::media::mixer::PartyId(1),
            ..
        }
    )));
    assert_eq!(last_mix(&sim), vec![(0, vec![2]), (2, vec![0])]);
    assert_ne!(agent_state(&sim, "1001"), AgentStateKind::Talking);
}

#[test]
fn an_unanswered_blind_transfer_to_the_unit_sends_the_citizen_back_to_the_queue() {
    let (mut sim, phone, _phone2, invite) = talking_with_1002_ready();
    let gw = gateway(&mut sim);
    blind_refer(&mut sim, phone, &invite, "96116", 2);
    on_call_leg(&mut sim, phone, &invite, "BYE", 3, "", "");
    refuses(&mut sim, gw, 486);
    let live = &sim.engine.live_calls()[0];
    assert_eq!(live.queue.as_deref(), Some("enterprise"));
    assert!(
        matches!(live.state, CallState::Queued | CallState::Ringing),
        "{live:?}"
    );
    assert_eq!(live.transfers, vec!["1001 → no answer → queue enterprise"]);
    assert_ne!(agent_state(&sim, "1001"), AgentStateKind::Talking);
}

#[test]
fn a_refused_blind_transfer_is_reported_to_the_phone_which_keeps_the_citizen() {
    let (mut sim, phone, phone2, invite) = talking_with_1002_ready();
    blind_refer(&mut sim, phone, &invite, "1002", 2);
    refuses(&mut sim, phone2, 486);
    let notify = last_request_to(&sim, phone, "NOTIFY");
    assert_eq!(
        String::from_utf8_lossy(&notify.body),
        "SIP/2.0 480 Temporarily Unavailable\r\n"
    );
    let live = &sim.engine.live_calls()[0];
    assert_eq!(live.agent.as_deref(), Some("1001"));
    assert!(!live.on_hold, "the citizen is back with the agent");
    assert_eq!(agent_state(&sim, "1001"), AgentStateKind::Talking);
    // Not a target: refused with a reason, nothing rings.
    on_call_leg(
        &mut sim,
        phone,
        &invite,
        "REFER",
        3,
        "Refer-To: <sip:4711@127.0.0.1>\r\n",
        "",
    );
    assert!(to_phone(&sim, phone)
        .iter()
        .any(|m| matches!(m, Message::Response(r) if r.status == 403 && r.headers.cseq.seq == 3)));
}

/// The phone's own consultation reaches agent 1002 whose phone is a browser: the browser is
/// offered WebRTC, and its answer opens a WebRTC party that the phone's second line hears
/// (before, the phone got 488).
#[test]
fn the_phone_consults_a_browser_agent_on_its_own_line() {
    let mut sim = Sim::new();
    let phone = register_agent(&mut sim);
    let invite = connect_agent(&mut sim, phone);
    let browser = super::ws_party::register_ws(&mut sim, "1002", "demo-1002", 8);
    sim.engine
        .set_agent_state("1002", StateRequest::Ready, sim.now)
        .expect("ready");
    sim.drain();
    let hold = SDP.replace("a=rtpmap:101", "a=sendonly\r\na=rtpmap:101");
    on_call_leg(&mut sim, phone, &invite, "INVITE", 2, "", &hold);
    phone_dials(&mut sim, phone, "1002");
    assert_eq!(
        responses_to_phone(&sim, phone, "consult-1"),
        vec![(401, "INVITE".into()), (180, "INVITE".into())]
    );
    super::ws_party::browser_answers(&mut sim, browser, 2);
    assert_eq!(last_response_to_phone(&sim, phone, "consult-1").status, 200);
    on_side_line(&mut sim, phone, "ACK", 2, "");
    assert_eq!(
        last_mix(&sim),
        vec![(0, vec![]), (1, vec![]), (2, vec![3]), (3, vec![2])]
    );
    assert_eq!(agent_state(&sim, "1002"), AgentStateKind::Assisting);
}
