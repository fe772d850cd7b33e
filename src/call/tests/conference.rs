//! Consult, conference, hand-over and leave with a simulated agent phone and a simulated
//! gateway (the handling unit's phone and 110 behind it).

use super::agents::{connect_agent, last_request_to, register_agent, register_phone};
use super::*;
use crate::call::parties::{ConferenceError, PartyTarget};
use crate::call::record::{MonitorMode, PartyKind, PartyRole, PartyState};
use crate::media::mixer::PartyId;

pub(super) fn gateway(sim: &mut Sim) -> Peer {
    let gateway = Peer {
        addr: "127.0.0.1:5090".parse::<SocketAddr>().unwrap(),
        link: Link::Udp,
    };
    sim.engine.cfg.transfer_gateway = Some(gateway.addr);
    gateway
}

/// `peer` (the gateway, a phone) answers its last INVITE with SDP on `port`.
pub(super) fn answers(
    sim: &mut Sim,
    gw: Peer,
    port: u16,
    tag: &str,
) -> crate::sip::message::Request {
    let out = last_request_to(sim, gw, "INVITE");
    let mut ok = Response::for_request(&out, 200, "OK").with_to_tag(tag);
    ok.headers.contact = Some(crate::sip::message::Contact::List(vec![
        crate::sip::message::NameAddr::new(out.uri.clone()),
    ]));
    let ok = ok.with_body(
        crate::sip::message::MediaType::new("application", "sdp"),
        SDP.replace("6000", &port.to_string()),
    );
    sim.engine
        .handle_message(Message::Response(ok), gw, sim.now);
    sim.drain();
    out
}

/// A talking call (agent 1001 answered) on which the water unit, brought in with `role`,
/// answered from the gateway with SDP on `port`.
struct UnitOnCall {
    sim: Sim,
    gw: Peer,
    phone: Peer,
    /// Our INVITE to the agent's phone and to the unit's.
    agent_invite: crate::sip::message::Request,
    unit_invite: crate::sip::message::Request,
    call: crate::call::session::CallId,
}

fn unit_on_call(role: PartyRole, port: u16, tag: &str) -> UnitOnCall {
    let mut sim = Sim::new();
    let gw = gateway(&mut sim);
    let phone = register_agent(&mut sim);
    let agent_invite = connect_agent(&mut sim, phone);
    let call = sim.call_id();
    sim.engine
        .add_party(call, PartyTarget::Unit("water".into()), role, sim.now)
        .expect("the unit is called");
    sim.drain();
    let unit_invite = answers(&mut sim, gw, port, tag);
    UnitOnCall {
        sim,
        gw,
        phone,
        agent_invite,
        unit_invite,
        call,
    }
}

/// The last `Mix` sent, as (listener, speakers) with sorted speakers.
pub(super) fn last_mix(sim: &Sim) -> Vec<(u8, Vec<u8>)> {
    let hears = sim
        .media
        .iter()
        .rev()
        .find_map(|m| match m {
            MediaCommand::Mix { hears, .. } => Some(hears.clone()),
            _ => None,
        })
        .expect("a Mix");
    let mut v: Vec<(u8, Vec<u8>)> = hears
        .into_iter()
        .map(|(l, s)| {
            let mut s: Vec<u8> = s.into_iter().map(|p| p.0).collect();
            s.sort();
            (l.0, s)
        })
        .collect();
    v.sort();
    v
}

/// A request from the gateway inside the dialog of `invite` (the unit hangs up).
fn from_gateway(sim: &mut Sim, gw: Peer, invite: &crate::sip::message::Request, tag: &str) {
    let text = format!(
        "BYE sip:hotline@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK-gwbye;rport\r\nFrom: <sip:96116@127.0.0.1>;tag={tag}\r\nTo: <sip:hotline@127.0.0.1>;tag={}\r\nCall-ID: {}\r\nCSeq: 1 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        invite.headers.from.tag().unwrap_or_default(),
        invite.headers.call_id,
    );
    sim.send_from(gw, &text);
}

#[test]
fn the_agent_conferences_the_water_unit_in_and_leaves_it_with_the_caller() {
    let mut sim = Sim::new();
    let gw = gateway(&mut sim);
    let phone = register_agent(&mut sim);
    let agent_invite = connect_agent(&mut sim, phone);
    let call = sim.call_id();
    let party = sim
        .engine
        .add_party(
            call,
            PartyTarget::Unit("water".into()),
            PartyRole::Conference,
            sim.now,
        )
        .expect("the unit is called");
    assert_eq!(party, 2);
    sim.drain();
    let live = &sim.engine.live_calls()[0];
    assert_eq!(live.parties.len(), 1);
    assert_eq!(live.parties[0].state, PartyState::Ringing);
    assert!(
        !sim.media
            .iter()
            .any(|m| matches!(m, MediaCommand::Hold { .. })),
        "a conference does not hold the caller"
    );
    let out = answers(&mut sim, gw, 7200, "unit1");
    // The unit sees the hotline's number, at its own phone number behind the gateway.
    assert_eq!(out.uri.to_string(), "sip:96116@127.0.0.1:5090");
    assert_eq!(out.headers.from.uri.to_string(), "sip:12345@127.0.0.1:5060");
    last_request_to(&sim, gw, "ACK");
    assert!(sim.media.iter().any(|m| matches!(
        m,
        MediaCommand::OpenParty { party: PartyId(2), remote, .. } if remote.port() == 7200
    )));
    assert_eq!(
        last_mix(&sim),
        vec![(0, vec![1, 2]), (1, vec![0, 2]), (2, vec![0, 1])]
    );
    let joined = sim.parties.last().expect("a party event");
    assert_eq!(
        joined.party,
        PartyKind::Unit {
            unit: "water".into()
        }
    );
    assert!(joined.left_at.is_none());
    // The agent leaves: the caller and the unit go on, the agent's phone gets a BYE.
    sim.advance(Duration::from_secs(30));
    sim.engine.leave(call, sim.now).expect("leave");
    sim.drain();
    let bye = last_request_to(&sim, phone, "BYE");
    assert_eq!(bye.headers.call_id, agent_invite.headers.call_id);
    assert!(sim.media.iter().any(|m| matches!(
        m,
        MediaCommand::CloseParty {
            party: PartyId(1),
            ..
        }
    )));
    assert_eq!(last_mix(&sim), vec![(0, vec![2]), (2, vec![0])]);
    let live = &sim.engine.live_calls()[0];
    assert_eq!(live.state, CallState::Talking);
    assert_eq!(live.agent, None);
    assert_eq!(live.transfers, vec!["1001 → unit water"]);
    assert!(
        !sim.sent
            .iter()
            .any(|m| matches!(m, Message::Request(r) if r.method.as_str() == "BYE")),
        "the caller stays"
    );
    // The caller hangs up: the unit's leg gets a BYE, the record has the timeline.
    sim.advance(Duration::from_secs(30));
    sim.in_dialog("BYE", 2, "bye1", "", "");
    let bye = last_request_to(&sim, gw, "BYE");
    assert_eq!(bye.headers.call_id, out.headers.call_id);
    let r = sim.records.last().expect("a record");
    assert_eq!(r.outcome, CallOutcome::Answered);
    let spans = &r.call.parties;
    assert_eq!(spans.len(), 2, "the unit and the agent: {spans:?}");
    let unit = spans.iter().find(|s| s.id == 2).expect("the unit's span");
    assert_eq!(unit.state, PartyState::Left);
    assert!(unit.joined_at.is_some() && unit.left_at.is_some());
    let agent = spans
        .iter()
        .find(|s| {
            s.party
                == PartyKind::Agent {
                    agent: "1001".into(),
                }
        })
        .expect("the agent's span");
    assert_eq!(agent.id, 1);
    assert!(agent.left_at < unit.left_at, "the agent left first");
    // The ticket hears of the unit's part: joined, then left with both times.
    let left = sim.parties.last().expect("a party event");
    assert_eq!(
        left.party,
        PartyKind::Unit {
            unit: "water".into()
        }
    );
    assert!(left.left_at.is_some());
}

#[test]
fn a_consultation_with_110_holds_the_caller_links_the_ticket_and_is_dropped() {
    let mut sim = Sim::new();
    let gw = gateway(&mut sim);
    let phone = register_agent(&mut sim);
    connect_agent(&mut sim, phone);
    let call = sim.call_id();
    sim.engine
        .add_party(
            call,
            PartyTarget::External("110".into()),
            PartyRole::Consult,
            sim.now,
        )
        .expect("110 is called");
    sim.drain();
    // C12 in the same action: linked at once, and the caller hears hold music meanwhile.
    assert_eq!(sim.emergency.len(), 1);
    assert_eq!(sim.emergency[0].1, "110");
    assert!(sim.media.iter().any(|m| matches!(
        m,
        MediaCommand::Hold {
            prompt: Some(_),
            ..
        }
    )));
    assert!(sim.engine.live_calls()[0].on_hold);
    assert_eq!(
        sim.engine.add_party(
            call,
            PartyTarget::Unit("water".into()),
            PartyRole::Consult,
            sim.now
        ),
        Err(ConferenceError::ConsultInProgress(
            sim.engine.live_calls()[0].id.clone()
        ))
    );
    let out = answers(&mut sim, gw, 7300, "police");
    assert_eq!(out.uri.to_string(), "sip:110@127.0.0.1:5090");
    // The agent and 110 hear each other; the held caller hears nobody and is heard by nobody.
    assert_eq!(
        last_mix(&sim),
        vec![(0, vec![]), (1, vec![2]), (2, vec![1])]
    );
    sim.engine.drop_party(call, 2, sim.now).expect("drop");
    sim.drain();
    let bye = last_request_to(&sim, gw, "BYE");
    assert_eq!(bye.headers.call_id, out.headers.call_id);
    assert!(sim.media.iter().any(|m| matches!(
        m,
        MediaCommand::CloseParty {
            party: PartyId(2),
            ..
        }
    )));
    assert!(matches!(
        sim.media
            .iter()
            .rev()
            .find(|m| matches!(m, MediaCommand::Hold { .. })),
        Some(MediaCommand::Hold { prompt: None, .. })
    ));
    assert!(!sim.engine.live_calls()[0].on_hold);
    assert_eq!(last_mix(&sim), vec![(0, vec![1]), (1, vec![0])]);
    assert_eq!(
        sim.engine.drop_party(call, 2, sim.now),
        Err(ConferenceError::UnknownParty {
            call: sim.engine.live_calls()[0].id.clone(),
            party: 2
        })
    );
}

#[test]
fn a_consultation_merges_into_a_conference_and_the_unit_hanging_up_leaves_the_others() {
    let UnitOnCall {
        mut sim,
        gw,
        unit_invite: out,
        call,
        ..
    } = unit_on_call(PartyRole::Consult, 7400, "unit2");
    sim.engine.join_party(call, 2, sim.now).expect("merge");
    sim.drain();
    assert!(!sim.engine.live_calls()[0].on_hold);
    assert_eq!(
        last_mix(&sim),
        vec![(0, vec![1, 2]), (1, vec![0, 2]), (2, vec![0, 1])]
    );
    assert_eq!(
        sim.engine.live_calls()[0].parties[0].role,
        PartyRole::Conference
    );
    from_gateway(&mut sim, gw, &out, "unit2");
    assert!(sim
        .to_others
        .iter()
        .any(|(to, m)| *to == gw && matches!(m, Message::Response(r) if r.status == 200)));
    assert_eq!(last_mix(&sim), vec![(0, vec![1]), (1, vec![0])]);
    assert_eq!(
        sim.engine.live_calls()[0].parties[0].state,
        PartyState::Left
    );
    assert_eq!(
        sim.engine.leave(call, sim.now),
        Err(ConferenceError::NobodyToLeaveTo(
            sim.engine.live_calls()[0].id.clone()
        ))
    );
    // The caller hangs up: the record names the unit and the agent, each with their times.
    sim.in_dialog("BYE", 2, "bye1", "", "");
    let r = sim.records.last().expect("a record");
    let who: Vec<(u8, PartyState)> = r.call.parties.iter().map(|s| (s.id, s.state)).collect();
    assert_eq!(who, vec![(2, PartyState::Left), (1, PartyState::Left)]);
    assert_eq!(
        r.call.parties[1].party,
        PartyKind::Agent {
            agent: "1001".into()
        }
    );
}

#[test]
fn the_agents_own_hang_up_in_a_conference_leaves_the_caller_with_the_unit() {
    let UnitOnCall {
        mut sim,
        phone,
        agent_invite,
        ..
    } = unit_on_call(PartyRole::Conference, 7500, "unit3");
    let text = format!(
        "BYE sip:hotline@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-phbye;rport\r\nFrom: <sip:1001@127.0.0.1>;tag=phone1\r\nTo: <sip:hotline@127.0.0.1>;tag={}\r\nCall-ID: {}\r\nCSeq: 2 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        agent_invite.headers.from.tag().unwrap_or_default(),
        agent_invite.headers.call_id
    );
    sim.send_from(phone, &text);
    assert_eq!(sim.engine.live_calls().len(), 1, "the call goes on");
    assert_eq!(last_mix(&sim), vec![(0, vec![2]), (2, vec![0])]);
    assert!(!sim
        .sent
        .iter()
        .any(|m| matches!(m, Message::Request(r) if r.method.as_str() == "BYE")));
}

#[test]
fn what_cannot_be_done_is_refused_with_a_reason() {
    let mut sim = Sim::new();
    let phone = register_agent(&mut sim);
    sim.answered();
    let call = sim.call_id();
    let name = sim.engine.live_calls()[0].id.clone();
    assert_eq!(
        sim.engine.add_party(
            call,
            PartyTarget::Unit("water".into()),
            PartyRole::Conference,
            sim.now
        ),
        Err(ConferenceError::NotTalking(name.clone())),
        "nobody to conference with before an agent answers"
    );
    let _ = phone;
    connect_agent_again(&mut sim);
    assert_eq!(
        sim.engine.add_party(
            call,
            PartyTarget::Unit("power".into()),
            PartyRole::Conference,
            sim.now
        ),
        Err(ConferenceError::UnitUnreachable("power".into()))
    );
    // No gateway: the water unit's number cannot be dialled.
    assert_eq!(
        sim.engine.add_party(
            call,
            PartyTarget::Unit("water".into()),
            PartyRole::Conference,
            sim.now
        ),
        Err(ConferenceError::UnitUnreachable("water".into()))
    );
    assert_eq!(
        sim.engine.add_party(
            call,
            PartyTarget::External("999".into()),
            PartyRole::Consult,
            sim.now
        ),
        Err(ConferenceError::External("999".into()))
    );
    let gw = gateway(&mut sim);
    for _ in 0..3 {
        sim.engine
            .add_party(
                call,
                PartyTarget::Unit("water".into()),
                PartyRole::Conference,
                sim.now,
            )
            .expect("up to five on a call");
    }
    assert_eq!(
        sim.engine.add_party(
            call,
            PartyTarget::Unit("water".into()),
            PartyRole::Conference,
            sim.now
        ),
        Err(ConferenceError::TooManyParties {
            call: name.clone(),
            max: 5
        })
    );
    assert_eq!(
        sim.engine.hand_over(call, 2, sim.now),
        Err(ConferenceError::NotAnswered {
            call: name,
            party: 2
        })
    );
    // The caller hangs up while the three ring: each is cancelled.
    sim.in_dialog("BYE", 2, "bye1", "", "");
    let cancels = sim
        .to_others
        .iter()
        .filter(|(to, m)| {
            *to == gw && matches!(m, Message::Request(r) if r.method.as_str() == "CANCEL")
        })
        .count();
    assert_eq!(cancels, 3);
}

/// The caller (already answered and in the menu) reaches agent 1001, already registered.
fn connect_agent_again(sim: &mut Sim) {
    let phone = Peer {
        addr: "127.0.0.1:5080".parse().unwrap(),
        link: Link::Udp,
    };
    let call = sim.call_id();
    sim.engine.handle_digit(call, '1', sim.now);
    sim.drain();
    let invite = last_request_to(sim, phone, "INVITE");
    let mut ok = Response::for_request(&invite, 200, "OK").with_to_tag("phone1");
    ok.headers.contact = Some(crate::sip::message::Contact::List(vec![
        crate::sip::message::NameAddr::new(invite.uri.clone()),
    ]));
    let ok = ok.with_body(
        crate::sip::message::MediaType::new("application", "sdp"),
        SDP.replace("6000", "7000"),
    );
    sim.engine
        .handle_message(Message::Response(ok), phone, sim.now);
    sim.drain();
}

#[test]
fn a_supervisor_listens_whispers_and_barges_on_one_leg() {
    let mut sim = Sim::new();
    let phone = register_agent(&mut sim);
    connect_agent(&mut sim, phone);
    let call = sim.call_id();
    let name = sim.engine.live_calls()[0].id.clone();
    assert_eq!(
        sim.engine
            .monitor(call, "supervisor", MonitorMode::Listen, sim.now),
        Err(ConferenceError::NoSupervisorPhone("supervisor".into())),
        "no registered phone yet"
    );
    let desk = register_phone(&mut sim, "9001", "demo-supervisor", 5081);
    let party = sim
        .engine
        .monitor(call, "supervisor", MonitorMode::Listen, sim.now)
        .expect("the supervisor's phone rings");
    sim.drain();
    let invite = answers(&mut sim, desk, 7600, "sup1");
    assert_eq!(invite.uri.to_string(), "sip:9001@127.0.0.1:5081");
    // Listen: hears both, heard by nobody.
    assert_eq!(
        last_mix(&sim),
        vec![(0, vec![1]), (1, vec![0]), (party, vec![0, 1])]
    );
    let joined = sim.parties.last().expect("an event for the audit");
    assert_eq!(
        joined.party,
        PartyKind::Supervisor {
            user: "supervisor".into(),
            mode: MonitorMode::Listen
        }
    );
    // Whisper on the same leg: the agent hears the supervisor, the caller does not.
    assert_eq!(
        sim.engine
            .monitor(call, "supervisor", MonitorMode::Whisper, sim.now),
        Ok(party)
    );
    sim.drain();
    assert_eq!(
        last_mix(&sim),
        vec![(0, vec![1]), (1, vec![0, party]), (party, vec![0, 1])]
    );
    // Barge: everyone hears everyone.
    sim.engine
        .monitor(call, "supervisor", MonitorMode::Barge, sim.now)
        .expect("barge");
    sim.drain();
    assert_eq!(
        last_mix(&sim),
        vec![
            (0, vec![1, party]),
            (1, vec![0, party]),
            (party, vec![0, 1])
        ]
    );
    assert_eq!(
        sim.engine.hand_over(call, party, sim.now),
        Err(ConferenceError::Supervisor {
            call: name.clone(),
            party
        })
    );
    assert_eq!(
        sim.engine.leave(call, sim.now),
        Err(ConferenceError::NobodyToLeaveTo(name)),
        "a supervisor does not carry a call"
    );
    sim.engine.drop_party(call, party, sim.now).expect("stop");
    sim.drain();
    last_request_to(&sim, desk, "BYE");
    let left = sim.parties.last().expect("the audit's leave");
    assert!(left.left_at.is_some());
    assert_eq!(last_mix(&sim), vec![(0, vec![1]), (1, vec![0])]);
}

#[test]
fn a_party_whose_media_cannot_open_is_hung_up_and_the_call_goes_on() {
    let UnitOnCall {
        mut sim,
        gw,
        unit_invite: out,
        call,
        ..
    } = unit_on_call(PartyRole::Conference, 7700, "unit4");
    sim.engine.party_media_failed(call, PartyId(2), sim.now);
    sim.drain();
    let bye = last_request_to(&sim, gw, "BYE");
    assert_eq!(bye.headers.call_id, out.headers.call_id);
    assert_eq!(last_mix(&sim), vec![(0, vec![1]), (1, vec![0])]);
    assert_eq!(sim.engine.live_calls()[0].state, CallState::Talking);
    // An unknown party (already gone) changes nothing.
    sim.engine.party_media_failed(call, PartyId(2), sim.now);
    sim.engine.party_media_failed(call, PartyId(9), sim.now);
}

#[test]
fn a_consult_transfer_to_agent_1002_hands_the_call_over_in_the_acd_too() {
    let mut sim = Sim::new();
    let phone = register_agent(&mut sim);
    connect_agent(&mut sim, phone);
    let call = sim.call_id();
    let name = sim.engine.live_calls()[0].id.clone();
    let state = agent_state;
    // 1002's phone is not registered: the ACD refuses them, nothing is dialled.
    assert!(matches!(
        sim.engine.add_party(
            call,
            PartyTarget::Agent("1002".into()),
            PartyRole::Consult,
            sim.now
        ),
        Err(ConferenceError::AgentUnavailable { .. })
    ));
    let phone2 = register_phone(&mut sim, "1002", "demo-1002", 5082);
    assert!(
        matches!(
            sim.engine.add_party(
                call,
                PartyTarget::Agent("1002".into()),
                PartyRole::Consult,
                sim.now
            ),
            Err(ConferenceError::AgentUnavailable { .. })
        ),
        "registered but not ready"
    );
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
        .expect("1002 is rung");
    sim.drain();
    assert_eq!(
        state(&sim, "1002"),
        crate::acd::model::AgentStateKind::Assisting
    );
    let invite = answers(&mut sim, phone2, 7800, "ph2");
    assert_eq!(invite.uri.to_string(), "sip:1002@127.0.0.1:5082");
    assert_eq!(
        last_mix(&sim),
        vec![(0, vec![]), (1, vec![party]), (party, vec![1])]
    );
    sim.engine
        .hand_over(call, party, sim.now)
        .expect("hand over");
    sim.drain();
    last_request_to(&sim, phone, "BYE");
    assert_eq!(last_mix(&sim), vec![(0, vec![party]), (party, vec![0])]);
    let live = &sim.engine.live_calls()[0];
    assert_eq!(live.agent.as_deref(), Some("1002"));
    assert!(!live.on_hold);
    assert_eq!(live.transfers, vec!["1001 → 1002"]);
    assert_eq!(
        state(&sim, "1002"),
        crate::acd::model::AgentStateKind::Talking
    );
    assert_ne!(
        state(&sim, "1001"),
        crate::acd::model::AgentStateKind::Talking
    );
    assert_eq!(sim.engine.agent_of_call(call).as_deref(), Some("1002"));
    // The caller hangs up: 1002's leg gets the BYE and goes to wrap-up.
    sim.in_dialog("BYE", 2, "bye1", "", "");
    let bye = last_request_to(&sim, phone2, "BYE");
    assert_eq!(bye.headers.call_id, invite.headers.call_id);
    assert_ne!(
        state(&sim, "1002"),
        crate::acd::model::AgentStateKind::Talking
    );
    let r = sim.records.last().expect("a record");
    assert_eq!(r.call.id, name);
    assert_eq!(r.call.agent.as_deref(), Some("1002"));
}
