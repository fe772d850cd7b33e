//! Calls the hotline places (issue 15) with a simulated trunk: answered and put through to a
//! queue, busy, not answered (our CANCEL after the ring timeout), no response at all; never
//! counted in the inbound KPIs.

use super::agents::{last_request_to, register_agent};
use super::*;
use crate::call::outbound::{OutboundCall, OutboundError};
use crate::outbound::dialler::Purpose;
use crate::outbound::rules::Outcome;

fn trunk(sim: &mut Sim) -> Peer {
    let trunk = Peer {
        addr: "127.0.0.1:5099".parse::<SocketAddr>().unwrap(),
        link: Link::Udp,
    };
    sim.engine.cfg.trunk = Some(trunk.addr);
    trunk
}

fn callback(attempt: u64) -> OutboundCall {
    OutboundCall {
        attempt,
        try_no: 1,
        number: "13812345678".into(),
        purpose: Purpose::AgentCallback,
        reference: "20261207-000042".into(),
        queue: "general".into(),
        robot: None,
    }
}

/// The trunk answers our INVITE with `status` (and SDP on port 7300 for a 2xx).
fn trunk_answers(sim: &mut Sim, trunk: Peer, status: u16) {
    let invite = last_request_to(sim, trunk, "INVITE");
    let mut resp = Response::for_request(&invite, status, "x").with_to_tag("citizen1");
    if status < 300 {
        resp.headers.contact = Some(crate::sip::message::Contact::List(vec![
            crate::sip::message::NameAddr::new(invite.uri.clone()),
        ]));
        resp = resp.with_body(
            crate::sip::message::MediaType::new("application", "sdp"),
            SDP.replace("6000", "7300"),
        );
    }
    sim.engine
        .handle_message(Message::Response(resp), trunk, sim.now);
    sim.drain();
}

#[test]
fn an_answered_callback_is_put_through_to_an_agent_and_recorded_as_outbound() {
    let mut sim = Sim::new();
    let trunk = trunk(&mut sim);
    let phone = register_agent(&mut sim);
    let name = sim
        .engine
        .place_outbound(callback(7), sim.now)
        .expect("placed");
    sim.drain();
    let invite = last_request_to(&sim, trunk, "INVITE");
    assert_eq!(invite.uri.to_string(), "sip:13812345678@127.0.0.1:5099");
    assert_eq!(
        invite.headers.from.uri.to_string(),
        "sip:12345@127.0.0.1:5060"
    );
    let live = &sim.engine.live_calls()[0];
    assert_eq!(live.id, name);
    assert_eq!(live.state, CallState::Dialling);
    assert_eq!(live.direction, crate::call::record::Direction::Outbound);
    assert_eq!(live.ticket.as_deref(), Some("20261207-000042"));
    trunk_answers(&mut sim, trunk, 200);
    last_request_to(&sim, trunk, "ACK");
    assert_eq!(sim.outbound, vec![(7, Outcome::Answered)]);
    assert!(sim.media.iter().any(|m| matches!(
        m,
        MediaCommand::Open { remote: Some(r), .. } if r.port() == 7300
    )));
    // Put through to the general queue: agent 1001's phone rings and answers.
    let ring = last_request_to(&sim, phone, "INVITE");
    let ok = Response::for_request(&ring, 200, "OK")
        .with_to_tag("phone1")
        .with_body(
            crate::sip::message::MediaType::new("application", "sdp"),
            SDP.replace("6000", "7000"),
        );
    sim.engine
        .handle_message(Message::Response(ok), phone, sim.now);
    sim.drain();
    assert_eq!(sim.engine.live_calls()[0].state, CallState::Talking);
    assert!(
        sim.connected.is_empty(),
        "no new draft ticket for a callback"
    );
    // The citizen hangs up.
    let bye = format!("BYE sip:hotline@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-cbye;rport\r\nFrom: <sip:13812345678@127.0.0.1>;tag=citizen1\r\nTo: <sip:12345@127.0.0.1>;tag={}\r\nCall-ID: {}\r\nCSeq: 2 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n", invite.headers.from.tag().unwrap_or_default(), invite.headers.call_id);
    sim.send_from(trunk, &bye);
    let r = sim.records.last().expect("a record");
    assert_eq!(r.outcome, CallOutcome::Answered);
    assert_eq!(r.call.direction, crate::call::record::Direction::Outbound);
    let info = r.call.outbound.as_ref().expect("outbound info");
    assert_eq!(info.outcome, Some(Outcome::Answered));
    assert_eq!(info.purpose, Purpose::AgentCallback);
    assert!(sim.kpis.is_empty(), "{:?}", sim.kpis);
    assert!(crate::shell::records::kpi_outcome(r).is_none());
    assert!(crate::shell::records::handled(r).is_none());
}

#[test]
fn busy_refused_and_silent_trunks_are_told_apart() {
    let mut sim = Sim::new();
    let trunk = trunk(&mut sim);
    sim.engine
        .place_outbound(callback(1), sim.now)
        .expect("placed");
    sim.drain();
    trunk_answers(&mut sim, trunk, 486);
    last_request_to(&sim, trunk, "ACK");
    sim.engine
        .place_outbound(callback(2), sim.now)
        .expect("placed");
    sim.drain();
    trunk_answers(&mut sim, trunk, 404);
    // Nobody answers the third INVITE at all: Timer B.
    sim.engine
        .place_outbound(callback(3), sim.now)
        .expect("placed");
    sim.drain();
    sim.advance(T1 * 65);
    assert_eq!(
        sim.outbound,
        vec![
            (1, Outcome::Busy),
            (2, Outcome::Rejected { status: 404 }),
            (3, Outcome::Unreachable { status: None })
        ]
    );
    assert_eq!(sim.records.len(), 3);
    assert!(sim
        .records
        .iter()
        .all(|r| r.outcome == CallOutcome::NotReached));
    assert!(sim.engine.live_calls().is_empty());
    assert!(sim.kpis.is_empty());
}

#[test]
fn a_phone_that_rings_out_is_cancelled_and_counts_as_no_answer() {
    let mut sim = Sim::new();
    let trunk = trunk(&mut sim);
    sim.engine
        .place_outbound(callback(5), sim.now)
        .expect("placed");
    sim.drain();
    let invite = last_request_to(&sim, trunk, "INVITE");
    let ringing = Response::for_request(&invite, 180, "Ringing").with_to_tag("citizen1");
    sim.engine
        .handle_message(Message::Response(ringing), trunk, sim.now);
    sim.drain();
    sim.advance(Duration::from_secs(31));
    let cancel = last_request_to(&sim, trunk, "CANCEL");
    assert_eq!(cancel.headers.call_id, invite.headers.call_id);
    trunk_answers(&mut sim, trunk, 487);
    assert_eq!(sim.outbound, vec![(5, Outcome::NoAnswer)]);
    let r = sim.records.last().expect("a record");
    assert_eq!(r.outcome, CallOutcome::NotReached);
    assert_eq!(
        r.call.outbound.as_ref().and_then(|o| o.outcome),
        Some(Outcome::NoAnswer)
    );
}

#[test]
fn without_a_trunk_or_with_a_bad_number_nothing_is_dialled() {
    let mut sim = Sim::new();
    assert_eq!(
        sim.engine.place_outbound(callback(1), sim.now),
        Err(OutboundError::NoTrunk)
    );
    trunk(&mut sim);
    let bad = OutboundCall {
        number: "138;x".into(),
        ..callback(2)
    };
    assert!(matches!(
        sim.engine.place_outbound(bad, sim.now),
        Err(OutboundError::BadNumber(_))
    ));
    sim.drain();
    assert!(sim.to_others.is_empty());
}
