//! A callback robot's call with a simulated trunk (issue 15): the citizen answers, the robot
//! asks its questions, keys come in, the reason is taken, and the record carries what the
//! robot collected; `0` hands the citizen to a person; a hang-up settles the result.

use super::agents::{last_request_to, register_agent};
use super::*;
use crate::call::outbound::OutboundCall;
use crate::call::record::{ReasonRecording, RobotEnded, RobotRating};
use crate::call::session::CallId;
use crate::outbound::dialler::Purpose;
use crate::sip::message::Request;

fn trunk(sim: &mut Sim) -> Peer {
    let trunk = Peer {
        addr: "127.0.0.1:5099".parse::<SocketAddr>().unwrap(),
        link: Link::Udp,
    };
    sim.engine.cfg.trunk = Some(trunk.addr);
    trunk
}

/// Places a robot callback and has the citizen answer; the call's id.
fn answered(sim: &mut Sim, trunk: Peer) -> (CallId, Request) {
    let name = sim
        .engine
        .place_outbound(
            OutboundCall {
                attempt: 9,
                try_no: 1,
                number: "13812345678".into(),
                purpose: Purpose::RobotCallback,
                reference: "20261207-000042".into(),
                queue: "general".into(),
                robot: Some(crate::ivr::testutil::shipped_robot()),
            },
            sim.now,
        )
        .expect("placed");
    sim.drain();
    let invite = last_request_to(sim, trunk, "INVITE");
    let mut ok = Response::for_request(&invite, 200, "OK").with_to_tag("citizen1");
    ok.headers.contact = Some(crate::sip::message::Contact::List(vec![
        crate::sip::message::NameAddr::new(invite.uri.clone()),
    ]));
    let ok = ok.with_body(
        crate::sip::message::MediaType::new("application", "sdp"),
        SDP.replace("6000", "7300"),
    );
    sim.engine
        .handle_message(Message::Response(ok), trunk, sim.now);
    sim.drain();
    (sim.engine.call_by_name(&name).expect("live"), invite)
}

/// The prompts of the last play list, and its token.
fn last_play(sim: &Sim) -> (u64, Vec<String>) {
    sim.media
        .iter()
        .rev()
        .find_map(|m| match m {
            MediaCommand::Play { token, prompts, .. } => Some((*token, prompts.clone())),
            _ => None,
        })
        .expect("a play list")
}

fn key(sim: &mut Sim, id: CallId, digit: char) {
    sim.engine.handle_digit(id, digit, sim.now);
    sim.drain();
}

fn play_ends(sim: &mut Sim, id: CallId) {
    let (token, _) = last_play(sim);
    sim.engine.handle_play_finished(id, token, sim.now);
    sim.drain();
}

#[test]
fn the_robot_asks_records_the_reason_and_hangs_up_with_the_result_in_the_record() {
    let mut sim = Sim::new();
    let trunk = trunk(&mut sim);
    let (id, _) = answered(&mut sim, trunk);
    let recording = sim
        .media
        .iter()
        .find_map(|m| match m {
            MediaCommand::RecordRobot { recording, .. } => Some(recording.clone()),
            _ => None,
        })
        .expect("the robot's call is recorded");
    assert!(recording.ends_with(".wav"), "{recording}");
    assert_eq!(
        last_play(&sim).1,
        vec!["robot-identify.wav", "robot-consent.wav"]
    );
    // The answer is no person's: nothing is queued, no agent rings.
    assert_eq!(sim.engine.live_calls()[0].state, CallState::Ivr);
    key(&mut sim, id, '1'); // consent: go on
    assert_eq!(last_play(&sim).1, vec!["robot-contacted.wav"]);
    key(&mut sim, id, '1'); // the unit was in contact
    key(&mut sim, id, '2'); // not solved
    assert_eq!(last_play(&sim).1, vec!["robot-rating.wav"]);
    key(&mut sim, id, '3'); // 不满意
    assert_eq!(last_play(&sim).1, vec!["robot-reason.wav"]);
    play_ends(&mut sim, id);
    assert!(sim
        .media
        .iter()
        .any(|m| matches!(m, MediaCommand::StartReason { call, .. } if *call == id)));
    // The citizen speaks, then presses #.
    sim.advance(Duration::from_secs(6));
    key(&mut sim, id, '#');
    assert!(sim
        .media
        .iter()
        .any(|m| matches!(m, MediaCommand::StopReason { call } if *call == id)));
    sim.engine
        .handle_reason_taken(id, Duration::from_millis(5400), sim.now);
    sim.drain();
    assert!(sim.engine.handle_reason_saved(
        id,
        ReasonRecording {
            path: recording.replace(".wav", "-reason.wav"),
            sha256: "ab".repeat(32),
            duration_ms: 5400,
        }
    ));
    assert_eq!(last_play(&sim).1, vec!["robot-thanks.wav"]);
    play_ends(&mut sim, id);
    // The closing words leave time for 0; then the robot hangs up.
    sim.advance(Duration::from_secs(7));
    let bye = last_request_to(&sim, trunk, "BYE");
    let ok = Response::for_request(&bye, 200, "OK");
    sim.engine
        .handle_message(Message::Response(ok), trunk, sim.now);
    sim.drain();
    let r = sim.records.last().expect("a record");
    assert_eq!(r.outcome, CallOutcome::Answered);
    assert_eq!(r.call.recording.as_deref(), Some(recording.as_str()));
    let info = r.call.outbound.as_ref().expect("outbound");
    let robot = info.robot.as_ref().expect("the robot's result");
    assert_eq!(robot.ended, RobotEnded::Completed);
    assert_eq!(
        (robot.consent, robot.contacted, robot.solved, robot.rating),
        (
            Some(true),
            Some(true),
            Some(false),
            Some(RobotRating::Unsatisfied)
        )
    );
    assert_eq!(info.reason.as_ref().map(|r| r.duration_ms), Some(5400));
    assert!(sim.kpis.is_empty());
}

#[test]
fn zero_hands_the_citizen_to_a_person_in_the_same_recording() {
    let mut sim = Sim::new();
    let trunk = trunk(&mut sim);
    let phone = register_agent(&mut sim);
    let (id, _) = answered(&mut sim, trunk);
    key(&mut sim, id, '1');
    key(&mut sim, id, '0'); // a new request: a person, please
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
    let robot_file = sim.media.iter().find_map(|m| match m {
        MediaCommand::RecordRobot { recording, .. } => Some(recording.clone()),
        _ => None,
    });
    let bridge_file = sim.media.iter().find_map(|m| match m {
        MediaCommand::Bridge { recording, .. } => Some(recording.clone()),
        _ => None,
    });
    assert!(robot_file.is_some());
    assert_eq!(robot_file, bridge_file, "one file for the whole call");
    let live = &sim.engine.live_calls()[0];
    assert_eq!(
        live.outbound
            .as_ref()
            .and_then(|o| o.robot.as_ref())
            .map(|r| r.ended),
        Some(RobotEnded::ToPerson)
    );
}

#[test]
fn a_citizen_who_hangs_up_mid_question_ends_the_robot_with_what_it_had() {
    let mut sim = Sim::new();
    let trunk = trunk(&mut sim);
    let (id, invite) = answered(&mut sim, trunk);
    key(&mut sim, id, '1');
    key(&mut sim, id, '1');
    let bye = format!("BYE sip:hotline@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-rbye;rport\r\nFrom: <sip:13812345678@127.0.0.1>;tag=citizen1\r\nTo: <sip:12345@127.0.0.1>;tag={}\r\nCall-ID: {}\r\nCSeq: 2 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n", invite.headers.from.tag().unwrap_or_default(), invite.headers.call_id);
    sim.send_from(trunk, &bye);
    let r = sim.records.last().expect("a record");
    let robot = r
        .call
        .outbound
        .as_ref()
        .and_then(|o| o.robot.as_ref())
        .expect("the robot's result");
    assert_eq!(robot.ended, RobotEnded::HungUp);
    assert_eq!((robot.consent, robot.contacted), (Some(true), Some(true)));
    assert_eq!(robot.rating, None);
    assert!(sim.engine.live_calls().is_empty());
}

#[test]
fn silence_at_every_try_ends_the_robot_as_no_input_and_it_hangs_up() {
    let mut sim = Sim::new();
    let trunk = trunk(&mut sim);
    let (id, _) = answered(&mut sim, trunk);
    for _ in 0..4 {
        play_ends(&mut sim, id);
        sim.advance(Duration::from_secs(7));
    }
    sim.advance(Duration::from_secs(30));
    let bye = last_request_to(&sim, trunk, "BYE");
    let ok = Response::for_request(&bye, 200, "OK");
    sim.engine
        .handle_message(Message::Response(ok), trunk, sim.now);
    sim.drain();
    let r = sim.records.last().expect("a record");
    let robot = r.call.outbound.as_ref().and_then(|o| o.robot.as_ref());
    assert_eq!(robot.map(|r| r.ended), Some(RobotEnded::NoInput));
    assert_eq!(robot.and_then(|r| r.consent), None);
}
