//! Calls whose caller vanished (issue 12, item 2), on a fake clock: no RTP, no session
//! refresh, too long in the menus or the queue; and an agent leg without a port.

use std::time::Duration;

use super::agents::{connect_agent, register_agent};
use super::*;

/// The BYE we sent the caller, answered with a 200: the call is over.
pub(super) fn answer_bye(sim: &mut Sim) -> crate::sip::message::Request {
    let bye = sim
        .sent
        .iter()
        .rev()
        .find_map(|m| match m {
            Message::Request(r) if r.method.as_str() == "BYE" => Some(r.clone()),
            _ => None,
        })
        .expect("a BYE to the caller");
    let resp = Response::for_request(&bye, 200, "OK");
    sim.engine
        .handle_message(Message::Response(resp), sim.caller, sim.now);
    sim.drain();
    bye
}

fn has_bye(sim: &Sim) -> bool {
    sim.sent
        .iter()
        .any(|m| matches!(m, Message::Request(r) if r.method.as_str() == "BYE"))
}

#[test]
fn a_caller_without_rtp_is_ended_with_a_bye_and_the_media_timeout_outcome() {
    let mut sim = Sim::new();
    sim.answered();
    let call = sim.call_id();
    sim.engine.handle_digit(call, '0', sim.now);
    sim.drain();
    assert_eq!(sim.engine.live_calls()[0].state, CallState::Queued);
    sim.engine.handle_media_inactive(call, sim.now);
    sim.drain();
    assert_eq!(sim.engine.live_calls()[0].state, CallState::Ending);
    assert!(sim.media.contains(&MediaCommand::Close { call }));
    // The ACD forgot it at once: it waits for nobody.
    let acd = sim.engine.acd_snapshot(sim.now);
    assert!(acd.queues.iter().all(|q| q.waiting.is_empty()));
    let bye = answer_bye(&mut sim);
    assert_eq!(bye.headers.call_id, "call-1");
    assert_eq!(sim.records.len(), 1);
    assert_eq!(sim.records[0].outcome, CallOutcome::MediaTimeout);
    assert!(sim.engine.is_idle());
    // A waiting caller who vanished is an abandon for the KPIs.
    let kpi = crate::shell::records::kpi_outcome(&sim.records[0]).expect("a KPI event");
    assert!(matches!(
        kpi.outcome,
        crate::stats::kpi::Outcome::Abandoned { .. }
    ));
}

#[test]
fn a_caller_on_hold_may_be_silent() {
    let mut sim = Sim::new();
    sim.answered();
    let call = sim.call_id();
    let hold = SDP.replace("t=0 0\r\n", "t=0 0\r\na=sendonly\r\n");
    sim.in_dialog(
        "INVITE",
        2,
        "hold1",
        "Content-Type: application/sdp\r\n",
        &hold,
    );
    assert_eq!(sim.statuses().last(), Some(&200));
    sim.engine.handle_media_inactive(call, sim.now);
    sim.drain();
    assert!(!has_bye(&sim), "held, not vanished");
    // Off hold again, silence means gone.
    sim.in_dialog(
        "INVITE",
        3,
        "unhold1",
        "Content-Type: application/sdp\r\n",
        SDP,
    );
    sim.engine.handle_media_inactive(call, sim.now);
    sim.drain();
    assert!(has_bye(&sim));
}

#[test]
fn a_talking_caller_without_rtp_ends_both_legs_and_counts_as_handled() {
    let mut sim = Sim::new();
    let phone = register_agent(&mut sim);
    connect_agent(&mut sim, phone);
    let call = sim.call_id();
    assert_eq!(sim.engine.live_calls()[0].state, CallState::Talking);
    sim.engine.handle_media_inactive(call, sim.now);
    sim.drain();
    assert!(sim
        .to_others
        .iter()
        .any(|(to, m)| *to == phone
            && matches!(m, Message::Request(r) if r.method.as_str() == "BYE")));
    answer_bye(&mut sim);
    assert_eq!(sim.records[0].outcome, CallOutcome::MediaTimeout);
    assert!(crate::shell::records::handled(&sim.records[0]).is_some());
    let acd = sim.engine.acd_snapshot(sim.now);
    let agent = acd.agents.iter().find(|a| a.id.as_str() == "1001").unwrap();
    assert_eq!(
        agent.state.kind(),
        crate::acd::model::AgentStateKind::WrapUp,
        "the agent goes to wrap-up, as after any end"
    );
}

#[test]
fn the_menus_lead_to_a_person_after_max_in_ivr() {
    let mut sim = Sim::new();
    // A short limit, well before the menu's own no-input routing.
    sim.engine.cfg.max_in_ivr = Duration::from_secs(3);
    sim.answered();
    sim.advance(Duration::from_millis(2900));
    assert_eq!(sim.engine.live_calls()[0].state, CallState::Ivr);
    sim.advance(Duration::from_millis(200));
    let live = &sim.engine.live_calls()[0];
    assert_eq!(live.state, CallState::Queued);
    assert_eq!(live.queue.as_deref(), Some("general"));
    assert!(!has_bye(&sim));
}

#[test]
fn the_queue_wait_is_bounded_and_counts_against_the_connection_rate() {
    let mut sim = Sim::new();
    sim.answered();
    let call = sim.call_id();
    sim.engine.handle_digit(call, '0', sim.now);
    sim.drain();
    sim.advance(Duration::from_secs(599));
    assert!(!has_bye(&sim));
    sim.advance(Duration::from_secs(2));
    assert!(has_bye(&sim), "ended after ivr.max_in_queue");
    answer_bye(&mut sim);
    assert_eq!(sim.records[0].outcome, CallOutcome::QueueTimeout);
    let kpi = crate::shell::records::kpi_outcome(&sim.records[0]).expect("a KPI event");
    assert!(matches!(
        kpi.outcome,
        crate::stats::kpi::Outcome::Abandoned { .. }
    ));
}

fn invite_with(sim: &mut Sim, extra: &str) {
    sim.send(&format!(
        "INVITE sip:12345@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-inv1;rport\r\nFrom: <sip:13812345678@127.0.0.1>;tag=caller1\r\nTo: <sip:12345@127.0.0.1>\r\nCall-ID: call-1\r\nCSeq: 1 INVITE\r\nContact: <sip:13812345678@127.0.0.1:5070>\r\nMax-Forwards: 70\r\n{extra}Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{SDP}",
        SDP.len()
    ));
}

#[test]
fn rfc_4028_the_caller_refreshes_or_the_call_ends_before_expiry() {
    let mut sim = Sim::new();
    invite_with(&mut sim, "Supported: timer\r\nSession-Expires: 120\r\n");
    let ok = sim.responses().last().copied().cloned().unwrap();
    assert_eq!(ok.status, 200);
    assert_eq!(ok.headers.get("Session-Expires"), Some("120;refresher=uac"));
    assert!(ok.headers.require.iter().any(|t| t == "timer"));
    sim.ack();
    // A refresh (UPDATE without SDP) at 60 s restarts the interval.
    sim.advance(Duration::from_secs(60));
    sim.in_dialog(
        "UPDATE",
        2,
        "upd1",
        "Supported: timer\r\nSession-Expires: 120;refresher=uac\r\n",
        "",
    );
    let r = sim.responses().last().copied().cloned().unwrap();
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert_eq!(r.headers.get("Session-Expires"), Some("120;refresher=uac"));
    // 120 s after the refresh, less the margin (min(32 s, 120/3)): 88 s later.
    sim.advance(Duration::from_secs(87));
    assert!(!has_bye(&sim));
    sim.advance(Duration::from_secs(2));
    assert!(has_bye(&sim), "no refresh: BYE before the session expires");
    answer_bye(&mut sim);
    assert_eq!(sim.records[0].outcome, CallOutcome::SessionExpired);
}

#[test]
fn rfc_4028_too_short_an_interval_gets_422_with_min_se() {
    let mut sim = Sim::new();
    invite_with(&mut sim, "Supported: timer\r\nSession-Expires: 30\r\n");
    let r = sim.responses().last().copied().cloned().unwrap();
    assert_eq!(r.status, 422);
    assert_eq!(r.headers.get("Min-SE"), Some("90"));
    assert!(sim.engine.is_idle());
    // Require: timer is understood now (no 420).
    let mut sim = Sim::new();
    invite_with(&mut sim, "Require: timer\r\nSession-Expires: 1800\r\n");
    assert_eq!(sim.statuses().last(), Some(&200));
}

#[test]
fn no_port_for_the_agent_leg_keeps_the_agent_ready_and_the_call_waiting() {
    let mut sim = Sim::new();
    register_agent(&mut sim);
    sim.answered();
    let call = sim.call_id();
    // Someone took every port, even the agents' reserve.
    let mut taken = Vec::new();
    while let Some(p) = sim
        .engine
        .ports
        .allocate(crate::call::ports::PortUse::Agent, &mut sim.engine.rng)
    {
        taken.push(p);
    }
    sim.engine.handle_digit(call, '1', sim.now);
    sim.drain();
    assert_eq!(sim.engine.counters.agent_leg_no_port, 1);
    let live = &sim.engine.live_calls()[0];
    assert_eq!(
        live.state,
        CallState::Queued,
        "back to routing, not dropped"
    );
    let acd = sim.engine.acd_snapshot(sim.now);
    let agent = acd.agents.iter().find(|a| a.id.as_str() == "1001").unwrap();
    assert_eq!(
        agent.state.kind(),
        crate::acd::model::AgentStateKind::Ready,
        "not flipped to not_ready"
    );
    // Ports come back: after the short pause the agent is rung.
    for p in taken {
        sim.engine.ports.release(p);
    }
    sim.advance(Duration::from_secs(3));
    assert_eq!(sim.engine.live_calls()[0].state, CallState::Ringing);
}

#[test]
fn a_call_whose_rtp_port_cannot_be_opened_is_refused_503_before_any_answer_and_recorded() {
    // The shell cannot bind (EMFILE): no 200 into silence, a 503 and a record.
    let mut sim = Sim::with_delay(Duration::from_secs(1));
    sim.ports_fail = true;
    sim.invite("12345", Some(SDP));
    assert_eq!(sim.statuses(), vec![100, 180, 503]);
    assert!(sim.responses()[2].headers.get("Retry-After").is_some());
    assert_eq!(sim.records.len(), 1);
    assert_eq!(sim.records[0].outcome, CallOutcome::NoCapacity);
    assert!(sim.records[0].call.answered_at.is_none());
    assert_eq!(
        sim.kpis.last().map(|e| e.outcome),
        Some(crate::stats::kpi::Outcome::Refused),
        "counted against the rates"
    );
    assert_eq!(sim.engine.snapshot().counters.calls_rejected, 1);
    sim.advance(Duration::from_secs(5));
    // The 503 is retransmitted until the caller's ACK (Timer G); a 200 never follows.
    assert!(
        sim.statuses().iter().all(|s| *s != 200),
        "{:?}",
        sim.statuses()
    );
    assert_eq!(sim.records.len(), 1);
}

#[test]
fn the_answer_waits_for_the_media_shell_and_a_lost_reply_ends_in_503() {
    // A shell that never replies to the reservation: nothing is answered, and after
    // MEDIA_WAIT the call is refused and recorded rather than left ringing.
    let mut sim = Sim::new();
    sim.ports_silent = true;
    sim.invite("12345", Some(SDP));
    assert_eq!(sim.statuses(), vec![100]);
    sim.advance(crate::call::media_ready::MEDIA_WAIT - Duration::from_millis(10));
    assert_eq!(sim.statuses(), vec![100]);
    sim.advance(Duration::from_millis(20));
    assert_eq!(sim.statuses(), vec![100, 503]);
    assert_eq!(sim.records.len(), 1);
    assert_eq!(sim.records[0].outcome, CallOutcome::NoCapacity);
}
