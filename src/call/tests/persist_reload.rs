//! Restart and reload with the simulated phone and a fake clock: a restored engine rings the
//! agent's phone without a new REGISTER; a reload during a bridged call keeps the call.

use std::time::Duration;

use super::agents::{connect_agent, last_request_to, register_agent};
use super::*;
use crate::acd::model::{AgentState, NotReadyReason, StateRequest};
use crate::call::persist::{SavedAgent, SavedRegistration, SavedState};

fn agent_state(sim: &Sim, id: &str) -> AgentState<crate::call::session::CallId> {
    sim.engine
        .acd_snapshot(sim.now)
        .agents
        .into_iter()
        .find(|a| a.id.as_str() == id)
        .map(|a| a.state)
        .unwrap_or_else(|| panic!("agent {id} unknown"))
}

#[test]
fn a_restarted_engine_rings_the_restored_phone_and_keeps_agent_states() {
    let mut before = Sim::new();
    let phone = register_agent(&mut before);
    before
        .engine
        .set_agent_state(
            "1002",
            StateRequest::NotReady(NotReadyReason::Meal),
            before.now,
        )
        .unwrap();
    assert!(before.engine.take_saved_state_dirty());
    assert!(!before.engine.take_saved_state_dirty(), "taken once");
    before.advance(Duration::from_secs(100));
    let saved = before.engine.saved_state(before.now);
    assert_eq!(saved.registrations.len(), 1);
    let text = serde_json::to_string(&saved).unwrap();
    let saved: SavedState = serde_json::from_str(&text).unwrap();

    // A new process, 100 s of wall time later (its clock base is the same wall instant).
    let mut after = Sim::new();
    after.advance(Duration::from_secs(200));
    let restored = after.engine.restore(&saved, after.now);
    after.drain();
    assert_eq!(restored.registrations, 1, "{restored:?}");
    assert!(after.engine.is_registered("1001", after.now));
    assert_eq!(agent_state(&after, "1001"), AgentState::Ready);
    assert_eq!(
        agent_state(&after, "1002"),
        AgentState::NotReady {
            reason: NotReadyReason::Meal
        }
    );
    // The binding keeps its expiry: 600 s from the REGISTER, 100 s of which passed before
    // the save and 100 s more since.
    after.advance(Duration::from_secs(399));
    assert!(after.engine.is_registered("1001", after.now));
    // A caller who presses 1 rings the phone at once, with no REGISTER in between.
    let invite = connect_agent(&mut after, phone);
    assert_eq!(invite.uri.to_string(), "sip:1001@127.0.0.1:5080");
    after.advance(Duration::from_secs(2));
    assert!(
        !after.engine.is_registered("1001", after.now),
        "then it lapses as it would have"
    );
}

#[test]
fn lapsed_registrations_are_dropped_and_states_come_back_as_documented() {
    let mut sim = Sim::new();
    let wall = chrono::Utc
        .with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
        .single()
        .unwrap();
    let reg = |user: &str, secs: i64| SavedRegistration {
        user: user.into(),
        contact: format!("<sip:{user}@127.0.0.1:5080;transport=udp>"),
        source: "127.0.0.1:5080".parse().unwrap(),
        transport: "UDP".into(),
        call_id: "x".into(),
        cseq: 2,
        user_agent: None,
        path: Vec::new(),
        expires_at: wall + chrono::Duration::seconds(secs),
    };
    let agent = |id: &str, state: &str, reason: Option<&str>| SavedAgent {
        id: id.into(),
        state: state.into(),
        reason: reason.map(str::to_string),
    };
    let saved = SavedState {
        version: 1,
        saved_at: wall,
        registrations: vec![reg("1001", -5), reg("nobody", 300), reg("1001", 0)],
        agents: vec![
            agent("1001", "talking", None),
            agent("1002", "wrap_up", None),
            agent("1003", "reserved", None),
            agent("1004", "not_ready", Some("training")),
            agent("ghost", "ready", None),
        ],
        callbacks: Vec::new(),
    };
    let done = sim.engine.restore(&saved, sim.now);
    assert_eq!(done.registrations, 0);
    assert_eq!(done.dropped_registrations, 3);
    assert!(!sim.engine.is_registered("1001", sim.now));
    assert_eq!(
        agent_state(&sim, "1001"),
        AgentState::NotReady {
            reason: NotReadyReason::Paperwork
        }
    );
    assert_eq!(agent_state(&sim, "1002"), AgentState::Ready);
    assert_eq!(agent_state(&sim, "1003"), AgentState::Ready);
    assert_eq!(
        agent_state(&sim, "1004"),
        AgentState::NotReady {
            reason: NotReadyReason::Training
        }
    );
}

#[test]
fn a_reload_during_a_bridged_call_keeps_it_and_applies_the_new_agents_and_menus() {
    let mut sim = Sim::new();
    let phone = register_agent(&mut sim);
    let invite = connect_agent(&mut sim, phone);
    let agents = format!(
        "{}\n[[agent]]\nid = \"1099\"\nname = \"New\"\npassword = \"secret-1099\"\nskills = [{{ skill = \"general\", level = 3 }}]\n",
        include_str!("../../../config/agents.toml")
    );
    let acd = crate::acd::config::AcdConfig::parse(
        &agents,
        std::path::Path::new("agents.toml"),
        include_str!("../../../config/queues.toml"),
        std::path::Path::new("queues.toml"),
    )
    .unwrap();
    let creds = crate::sip::registrar::MemoryCredentials::new();
    let media_before = sim.media.len();
    let report = sim
        .engine
        .handle_reload(shipped_tree(), &acd, Box::new(creds), sim.now);
    sim.drain();
    assert!(report.retired.is_empty() && report.removed.is_empty());
    assert_eq!(
        sim.media.len(),
        media_before,
        "nothing touched the call's media"
    );
    let live = &sim.engine.live_calls()[0];
    assert_eq!(live.state, CallState::Talking);
    assert_eq!(live.agent.as_deref(), Some("1001"));
    assert!(matches!(
        agent_state(&sim, "1001"),
        AgentState::Talking { .. }
    ));
    assert_eq!(agent_state(&sim, "1099"), AgentState::LoggedOut);
    assert!(sim.engine.is_registered("1001", sim.now), "bindings stay");
    // The call ends normally afterwards.
    sim.in_dialog("BYE", 2, "bye1", "", "");
    let bye = last_request_to(&sim, phone, "BYE");
    assert_eq!(bye.headers.call_id, invite.headers.call_id);
    assert_eq!(
        sim.records.last().map(|r| r.outcome),
        Some(CallOutcome::Answered)
    );
    assert!(matches!(
        agent_state(&sim, "1001"),
        AgentState::WrapUp { .. }
    ));
}

#[test]
fn after_a_reload_a_new_call_hears_the_changed_menu_and_a_call_in_the_menu_keeps_the_old_one() {
    use crate::ivr::load::{load, LoadOptions};
    use crate::ivr::testutil::{catalog, SHIPPED};
    let mut sim = Sim::new();
    sim.answered();
    let first = sim.call_id();
    let heard = |sim: &Sim, call| -> Vec<String> {
        sim.media
            .iter()
            .filter_map(|m| match m {
                MediaCommand::Play {
                    call: c, prompts, ..
                } if *c == call => Some(prompts.clone()),
                _ => None,
            })
            .flatten()
            .collect()
    };
    assert!(heard(&sim, first).contains(&"main-menu.wav".to_string()));
    // The menu prompt is replaced by another recording.
    let text = SHIPPED.replace(
        "{ file = \"main-menu.wav\", purpose = \"menu\" }",
        "{ file = \"info.wav\", purpose = \"menu\" }",
    );
    assert_ne!(text, SHIPPED);
    let files = [(std::path::PathBuf::from("menus.toml"), text)];
    let tree = load(&files, &catalog(), &LoadOptions::default()).expect("changed menu loads");
    let creds = crate::sip::registrar::MemoryCredentials::new();
    sim.engine.handle_reload(
        std::sync::Arc::new(tree.tree),
        &acd_config(),
        Box::new(creds),
        sim.now,
    );
    sim.drain();
    // The first caller, still in the menu, hears it again from the tree they entered.
    sim.advance(Duration::from_secs(1));
    let token = sim.last_play_token();
    sim.engine.handle_play_finished(first, token, sim.now);
    sim.drain();
    sim.advance(Duration::from_secs(6));
    let first_heard = heard(&sim, first);
    assert!(
        !first_heard.contains(&"info.wav".to_string()),
        "{first_heard:?}"
    );
    assert!(
        first_heard.iter().filter(|p| *p == "main-menu.wav").count() >= 2,
        "the menu was read again, from the old tree: {first_heard:?}"
    );
    // A new caller hears the new recording.
    sim.send(
        &"INVITE sip:12345@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-inv2;rport\r\nFrom: <sip:13900000000@127.0.0.1>;tag=caller2\r\nTo: <sip:12345@127.0.0.1>\r\nCall-ID: call-2\r\nCSeq: 1 INVITE\r\nContact: <sip:13900000000@127.0.0.1:5070>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: LEN\r\n\r\nSDP"
            .replace("LEN", &SDP.len().to_string())
            .replace("SDP", SDP),
    );
    let tag = sim
        .responses()
        .iter()
        .rev()
        .find(|r| r.status == 200 && r.headers.call_id == "call-2")
        .and_then(|r| r.headers.to.tag().map(str::to_string))
        .expect("the second call is answered");
    sim.send(&format!("ACK sip:12345@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-ack2;rport\r\nFrom: <sip:13900000000@127.0.0.1>;tag=caller2\r\nTo: <sip:12345@127.0.0.1>;tag={tag}\r\nCall-ID: call-2\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"));
    let second = sim
        .media
        .iter()
        .find_map(|m| match m {
            MediaCommand::Open { call, .. } if *call != first => Some(*call),
            _ => None,
        })
        .expect("the second call's media");
    let second_heard = heard(&sim, second);
    assert!(
        second_heard.contains(&"info.wav".to_string()),
        "{second_heard:?}"
    );
    assert!(
        !second_heard.contains(&"main-menu.wav".to_string()),
        "{second_heard:?}"
    );
}

#[test]
fn a_reload_swaps_in_the_units_phone_numbers() {
    let mut sim = Sim::new();
    assert_eq!(sim.engine.cfg.unit_numbers["water"], "96116");
    sim.engine
        .set_unit_numbers([("gas".to_string(), "96777".to_string())].into());
    assert_eq!(
        sim.engine.cfg.unit_numbers,
        [("gas".to_string(), "96777".to_string())].into()
    );
}

/// Statistics (issue 17): agent state changes leave as activity facts with their reason, and
/// a stop records every logged-in agent as logged out by it (the downtime counts as unstaffed).
#[test]
fn agent_states_leave_as_activity_and_a_stop_logs_everyone_out() {
    let mut sim = Sim::new();
    let _phone = super::agents::register_agent(&mut sim);
    sim.engine
        .set_agent_state(
            "1001",
            crate::acd::model::StateRequest::NotReady(crate::acd::model::NotReadyReason::Meal),
            sim.now,
        )
        .expect("not ready");
    sim.drain();
    let kinds: Vec<crate::stats::activity::ActivityKind> =
        sim.activity.iter().map(|a| a.kind.clone()).collect();
    use crate::stats::activity::ActivityKind::State;
    assert_eq!(
        kinds[kinds.len() - 2..],
        [
            State {
                state: "ready".into(),
                reason: None
            },
            State {
                state: "not_ready".into(),
                reason: Some("meal".into())
            }
        ]
    );
    let before = sim.activity.len();
    sim.engine.record_stop(sim.now);
    sim.drain();
    let stopped: Vec<_> = sim.activity[before..].to_vec();
    assert_eq!(stopped.len(), 1, "only the logged-in agent: {stopped:?}");
    assert_eq!(stopped[0].agent, "1001");
    assert_eq!(
        stopped[0].kind,
        State {
            state: "logged_out".into(),
            reason: Some("engine_stopped".into())
        }
    );
}
