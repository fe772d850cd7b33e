//! Transfers and conferences started from the agent's own softphone (issue 14: "REFER with
//! Replaces, RFC 3891/5589"), with real peers: the citizen is SIPp with a 400 Hz endpoint,
//! agent 1001 is Linphone (its daemon, driven like a person at its buttons), agent 1002 is
//! baresip (700 Hz), the water unit's phone is SIPp behind the gateway (800 Hz). Linphone has
//! no sound card here, so what is checked is what the citizen, 1002 and the unit hear.
//! Debian's baresip 1.0 has no attended transfer; its blind one (REFER to 110) is checked too.

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::Duration;

use common::linphone::{start_linphone, Linphone};
use common::tone_calls::{
    agent_phone, assert_record_transferred, assert_took_over, call_until, citizen_calls,
    gateway_phone, registered_and_ready, talking, window, CITIZEN_HZ, UNIT_HZ,
};
use common::tones::{assert_hears, assert_hears_at, engine_rtp_from_sipp_log, Law};
use common::{wait_for, Engine};

const AGENT2_HZ: f64 = 700.0;

/// Linphone as agent 1001, registered and made ready.
fn linphone_1001(engine: &Engine, dir: &std::path::Path) -> Linphone {
    let phone = start_linphone(dir, engine.sip, "1001");
    registered_and_ready(engine, "1001", || phone.log_tail());
    phone
}

#[test]
fn linphone_consults_agent_1002_and_transfers_the_citizen_with_replaces() {
    let engine = Engine::start("");
    let dir = tempfile::tempdir().expect("temp dir");
    let dir2 = tempfile::tempdir().expect("temp dir");
    let phone = linphone_1001(&engine, dir.path());
    let (citizen, caller) = citizen_calls(&engine, dir.path(), 30_000, Law::Pcmu);
    let call = talking(&engine, dir.path());
    let id = call["id"].as_str().expect("call id").to_string();
    phone.wait_call(1, "LinphoneCallStreamsRunning", Duration::from_secs(10));
    let phone2 = agent_phone(&engine, dir2.path(), "1002", AGENT2_HZ);
    // The agent presses "call" on the phone for 1002: the phone holds the citizen itself.
    phone.ok(&format!("call sip:1002@{}", engine.sip));
    phone.wait_call(2, "LinphoneCallStreamsRunning", Duration::from_secs(20));
    call_until(&engine, &id, "1002 answers the phone's consultation", |c| {
        c["on_hold"] == true
            && c["parties"].as_array().is_some_and(|p| {
                p.iter().any(|p| {
                    p["party"]["agent"] == "1002"
                        && p["role"] == "consult"
                        && p["state"] == "talking"
                })
            })
    });
    let mark2 = phone2.mark();
    let heard = window(&citizen, 3);
    let (a2, r2) = phone2.heard_since(mark2);
    assert_hears("the held citizen", &heard, &[], &[AGENT2_HZ, CITIZEN_HZ]);
    assert_hears_at(
        "agent 1002 (consulted)",
        &a2,
        r2,
        &[],
        &[CITIZEN_HZ, AGENT2_HZ],
    );
    // Transfer: REFER on the citizen's call, Replaces naming the consultation.
    phone.ok("call-transfer 1 2");
    call_until(&engine, &id, "1002 has the call", |c| {
        c["agent"] == "1002" && c["on_hold"] == false
    });
    let mark2 = phone2.mark();
    let heard = window(&citizen, 3);
    let (a2, r2) = phone2.heard_since(mark2);
    assert_hears(
        "the citizen (with 1002)",
        &heard,
        &[AGENT2_HZ],
        &[CITIZEN_HZ],
    );
    assert_hears_at(
        "agent 1002 (with the citizen)",
        &a2,
        r2,
        &[CITIZEN_HZ],
        &[AGENT2_HZ],
    );
    // Both of Linphone's calls are over.
    wait_for(Duration::from_secs(10), || {
        let states = (phone.call_state(1), phone.call_state(2));
        (!states.0.contains("StreamsRunning") && !states.1.contains("StreamsRunning")).then_some(())
    })
    .unwrap_or_else(|| panic!("Linphone's calls end; log:\n{}", phone.log_tail()));
    assert_took_over(&engine, "1001", "1002");
    caller.join().expect("sipp thread").assert_ok();
    assert_record_transferred(&engine, "1001", "1002");
}

#[test]
fn linphone_calls_the_water_unit_and_merges_it_into_its_own_conference() {
    let gateway_sip = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free port");
    let engine = Engine::start(&format!("[transfer]\ngateway = \"{gateway_sip}\"\n"));
    let dir = tempfile::tempdir().expect("temp dir");
    let phone = linphone_1001(&engine, dir.path());
    let (unit, gateway, gw_log) =
        gateway_phone(&engine, dir.path(), gateway_sip, UNIT_HZ, Law::Pcmu);
    let (citizen, caller) = citizen_calls(&engine, dir.path(), 25_000, Law::Pcmu);
    let call = talking(&engine, dir.path());
    let id = call["id"].as_str().expect("call id").to_string();
    phone.wait_call(1, "LinphoneCallStreamsRunning", Duration::from_secs(10));
    // The agent dials the water unit's number on the phone.
    phone.ok(&format!("call sip:96116@{}", engine.sip));
    phone.wait_call(2, "LinphoneCallStreamsRunning", Duration::from_secs(20));
    unit.aim(
        engine_rtp_from_sipp_log(&gw_log, Duration::from_secs(10))
            .expect("the gateway's SIPp logs the engine's SDP"),
    );
    call_until(&engine, &id, "the unit answers the phone's call", |c| {
        c["parties"].as_array().is_some_and(|p| {
            p.iter()
                .any(|p| p["party"]["unit"] == "water" && p["state"] == "talking")
        })
    });
    // The phone merges both calls into its own conference: it resumes the citizen and mixes.
    // (Debian's daemon answers "Command failed" to `conference add` although liblinphone
    // creates the conference and adds the call: its log, not its reply, says what happened.)
    phone.command("conference add 1");
    phone.command("conference add 2");
    wait_for(Duration::from_secs(10), || {
        let log = phone.log();
        (log.contains("to Created") && log.matches("has added device").count() >= 2).then_some(())
    })
    .unwrap_or_else(|| panic!("Linphone merges both calls; log:\n{}", phone.log_tail()));
    call_until(&engine, &id, "the phone resumed the citizen", |c| {
        c["on_hold"] == false
    });
    let unit_from = unit.mark();
    let heard = window(&citizen, 4);
    let unit_heard = unit.heard_since(unit_from);
    assert_hears(
        "the citizen (phone's conference)",
        &heard,
        &[UNIT_HZ],
        &[CITIZEN_HZ],
    );
    assert_hears(
        "the unit (phone's conference)",
        &unit_heard,
        &[CITIZEN_HZ],
        &[UNIT_HZ],
    );
    caller.join().expect("sipp thread").assert_ok();
    gateway.join().expect("gateway thread").assert_ok();
    let record = engine
        .latest_record(Duration::from_secs(15))
        .expect("a call record");
    let parties = record["parties"].as_array().expect("parties in the record");
    assert!(
        parties
            .iter()
            .any(|p| p["party"]["unit"] == "water" && p["joined_at"].is_string()),
        "{record}"
    );
}

#[test]
fn baresip_blind_transfers_the_citizen_to_110_with_refer() {
    let gateway_sip = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free port");
    let engine = Engine::start(&format!(
        "[transfer]\ngateway = \"{gateway_sip}\"\n[transfer.numbers]\n\"110\" = \"110\"\n"
    ));
    let dir = tempfile::tempdir().expect("temp dir");
    let phone = common::tone_calls::agent_1001(&engine, dir.path());
    let (police, gateway, gw_log) =
        gateway_phone(&engine, dir.path(), gateway_sip, UNIT_HZ, Law::Pcmu);
    let (citizen, caller) = citizen_calls(&engine, dir.path(), 20_000, Law::Pcmu);
    let call = talking(&engine, dir.path());
    let id = call["id"].as_str().expect("call id").to_string();
    // The agent presses "transfer" on baresip and dials 110: a REFER without Replaces.
    phone.command("transfer", &format!("sip:110@{}", engine.sip));
    call_until(&engine, &id, "the citizen is with 110", |c| {
        c["agent"].is_null()
            && c["transfers"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t == "1001 → 110"))
    });
    police.aim(engine_rtp_from_sipp_log(&gw_log, Duration::from_secs(10)).expect("sdp"));
    let heard = window(&citizen, 3);
    let police_from = police.mark();
    std::thread::sleep(Duration::from_secs(2));
    let police_heard = police.heard_since(police_from);
    assert_hears("the citizen (with 110)", &heard, &[UNIT_HZ], &[CITIZEN_HZ]);
    assert_hears(
        "110 (with the citizen)",
        &police_heard,
        &[CITIZEN_HZ],
        &[UNIT_HZ],
    );
    let (_, agents) = engine.get("/api/agents");
    assert!(!agents.contains(r#""state":"talking""#), "{agents}");
    caller.join().expect("sipp thread").assert_ok();
    gateway.join().expect("gateway thread").assert_ok();
}

#[test]
fn baresip_blind_transfers_the_citizen_to_agent_1002() {
    let engine = Engine::start("");
    let dir = tempfile::tempdir().expect("temp dir");
    let dir2 = tempfile::tempdir().expect("temp dir");
    let phone = common::tone_calls::agent_1001(&engine, dir.path());
    let (citizen, caller) = citizen_calls(&engine, dir.path(), 20_000, Law::Pcmu);
    let call = talking(&engine, dir.path());
    let id = call["id"].as_str().expect("call id").to_string();
    let phone2 = agent_phone(&engine, dir2.path(), "1002", AGENT2_HZ);
    // The agent presses "transfer" on baresip and dials 1002: rung first, then handed over.
    phone.command("transfer", &format!("sip:1002@{}", engine.sip));
    call_until(&engine, &id, "1002 has the call", |c| {
        c["agent"] == "1002" && c["on_hold"] == false
    });
    let mark2 = phone2.mark();
    let heard = window(&citizen, 3);
    let (a2, r2) = phone2.heard_since(mark2);
    assert_hears(
        "the citizen (with 1002)",
        &heard,
        &[AGENT2_HZ],
        &[CITIZEN_HZ],
    );
    assert_hears_at(
        "agent 1002 (with the citizen)",
        &a2,
        r2,
        &[CITIZEN_HZ],
        &[AGENT2_HZ],
    );
    assert_took_over(&engine, "1001", "1002");
    caller.join().expect("sipp thread").assert_ok();
    assert_record_transferred(&engine, "1001", "1002");
}
