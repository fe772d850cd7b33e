//! Calls between real peers that each speak a tone (tests/common/tones.rs): the citizen
//! (SIPp + endpoint), agent 1001 (baresip), a phone behind the gateway (SIPp + endpoint).

use std::path::Path;
use std::thread::JoinHandle;
use std::time::Duration;

use super::baresip::{start_baresip_audio, Baresip, PhoneAudio};
use super::tones::{engine_rtp_from_sipp_log, read_stereo_wav, Law, ToneEndpoint};
use super::{http_request, sipp, wait_for, Engine, SippRun};

pub const CITIZEN_HZ: f64 = 400.0;
pub const AGENT_HZ: f64 = 600.0;
pub const UNIT_HZ: f64 = 800.0;

/// Agent 1001's phone (auto-answer) sending `AGENT_HZ` and keeping what it hears, registered
/// and made ready.
pub fn agent_1001(engine: &Engine, dir: &Path) -> Baresip {
    agent_phone(engine, dir, "1001", AGENT_HZ)
}

/// Agent `agent`'s phone (password `demo-<agent>`, auto-answer) sending `hz` and keeping
/// what it hears, registered and made ready. One baresip per phone: each has one voice.
pub fn agent_phone(engine: &Engine, dir: &Path, agent: &str, hz: f64) -> Baresip {
    let phone = start_baresip_audio(
        dir,
        &format!(
            "<sip:{agent}@{};transport=udp>;auth_pass=demo-{agent};regint=600;answermode=auto\n",
            engine.sip
        ),
        PhoneAudio {
            tone_hz: hz,
            record_heard: true,
        },
    );
    registered_and_ready(engine, agent, || {
        std::fs::read_to_string(dir.join("baresip.log")).unwrap_or_default()
    });
    phone
}

/// Waits until agent `agent`'s phone is registered, then makes the agent ready (as a
/// supervisor); `phone_log` says what the phone did when it never registers.
pub fn registered_and_ready(engine: &Engine, agent: &str, phone_log: impl Fn() -> String) {
    wait_for(Duration::from_secs(20), || {
        let (_, body) = engine.get("/api/agents");
        let list: serde_json::Value = serde_json::from_str(&body).ok()?;
        let a = list.as_array()?.iter().find(|a| a["id"] == agent)?.clone();
        (a["registered"] == true).then_some(())
    })
    .unwrap_or_else(|| {
        panic!(
            "{agent} registers; the phone:\n{}\nlog:\n{}",
            phone_log(),
            engine.log()
        )
    });
    let (status, body) = http_request(
        engine.http,
        "POST",
        &format!("/api/agents/{agent}/state"),
        Some("demo-supervisor"),
        Some(r#"{"state":"ready"}"#),
    );
    assert_eq!(status, 204, "{body}");
}

/// The citizen: a 400 Hz endpoint speaking `law`, and SIPp calling the hotline with it as its audio and
/// staying `hold_ms` after the answer; returns once the engine's RTP address is known and the
/// citizen has pressed 1 for the enterprise queue.
pub fn citizen_calls(
    engine: &Engine,
    dir: &Path,
    hold_ms: u32,
    law: Law,
) -> (ToneEndpoint, JoinHandle<SippRun>) {
    citizen_calls_in(engine, dir, hold_ms, law, "uac_ivr_enterprise_tone.xml")
}

/// The same citizen, who never hangs up: SIPp succeeds only once the engine's BYE came
/// (the agent hung up).
pub fn citizen_calls_until_bye(
    engine: &Engine,
    dir: &Path,
    law: Law,
) -> (ToneEndpoint, JoinHandle<SippRun>) {
    citizen_calls_in(engine, dir, 0, law, "uac_ivr_tone_wait_bye.xml")
}

fn citizen_calls_in(
    engine: &Engine,
    dir: &Path,
    hold_ms: u32,
    law: Law,
    scenario: &'static str,
) -> (ToneEndpoint, JoinHandle<SippRun>) {
    let citizen = ToneEndpoint::start(CITIZEN_HZ, law, Duration::from_secs(90));
    let log = dir.join("citizen-sipp.log");
    let mut args: Vec<String> = ["-m", "1", "-d", &hold_ms.to_string()]
        .map(String::from)
        .to_vec();
    args.extend(citizen.sipp_args(&log));
    let target = engine.sip;
    let caller = std::thread::spawn(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        sipp(target, scenario, &args, Duration::from_secs(90))
    });
    let rtp = engine_rtp_from_sipp_log(&log, Duration::from_secs(40))
        .unwrap_or_else(|| panic!("SIPp logs the engine's SDP; log:\n{}", engine.log()));
    citizen.aim(rtp);
    // The menu is playing once its prompt arrives: then press 1.
    wait_for(Duration::from_secs(10), || {
        (citizen.counts().0 >= 10).then_some(())
    })
    .unwrap_or_else(|| {
        panic!(
            "the menu's prompt reaches the citizen; log:\n{}",
            engine.log()
        )
    });
    citizen.press('1');
    (citizen, caller)
}

/// The live call once agent 1001 talks on it.
pub fn talking(engine: &Engine, dir: &Path) -> serde_json::Value {
    engine
        .call_where(Duration::from_secs(30), |c| c["state"] == "talking")
        .unwrap_or_else(|| {
            panic!(
                "the agent never answered; engine log:\n{}\nbaresip:\n{}",
                engine.log(),
                std::fs::read_to_string(dir.join("baresip.log")).unwrap_or_default()
            )
        })
}

/// The finished call's stereo recording: (left, right).
pub fn recording(engine: &Engine) -> (Vec<i16>, Vec<i16>) {
    let record = engine
        .latest_record(Duration::from_secs(15))
        .unwrap_or_else(|| panic!("a call record; log:\n{}", engine.log()));
    let path = engine.data_dir.path().join(
        record["recording"]
            .as_str()
            .unwrap_or_else(|| panic!("a recording in {record}")),
    );
    let (left, right, rate) = read_stereo_wav(&path);
    assert_eq!(rate, 8000);
    (left, right)
}

/// What the phone heard on its (only) call.
pub fn phone_heard(phone: &Baresip, dir: &Path) -> (Vec<i16>, u32) {
    let mut calls = phone.heard();
    assert_eq!(
        calls.len(),
        1,
        "one dump of received audio; baresip:\n{}",
        std::fs::read_to_string(dir.join("baresip.log")).unwrap_or_default()
    );
    calls.remove(0)
}

/// A phone behind the gateway (a unit, 110): SIPp answers the engine's INVITE at `sip`, the
/// endpoint sending `hz` is its audio; the SIPp log names the engine's RTP address.
pub fn gateway_phone(
    engine: &Engine,
    dir: &Path,
    sip: std::net::SocketAddr,
    hz: f64,
    law: Law,
) -> (ToneEndpoint, JoinHandle<SippRun>, std::path::PathBuf) {
    let unit = ToneEndpoint::start(hz, law, Duration::from_secs(90));
    let log = dir.join(format!("gateway-{}.log", sip.port()));
    let mut args: Vec<String> = ["-m", "1", "-p", &sip.port().to_string()]
        .map(String::from)
        .to_vec();
    args.extend(unit.sipp_args(&log));
    let target = engine.sip;
    let run = std::thread::spawn(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        sipp(
            target,
            "uas_gateway_tone.xml",
            &args,
            Duration::from_secs(90),
        )
    });
    (unit, run, log)
}

/// Waits for the live call `id` to satisfy `pred`.
pub fn call_until(
    engine: &Engine,
    id: &str,
    what: &str,
    pred: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    engine
        .call_where(Duration::from_secs(20), |c| c["id"] == id && pred(c))
        .unwrap_or_else(|| {
            panic!(
                "{what}: {}\nlog:\n{}",
                engine.get("/api/calls").1,
                engine.log()
            )
        })
}

/// `secs` seconds of what `who` hears, from 700 ms from now (after any switch settles).
pub fn window(who: &ToneEndpoint, secs: u64) -> Vec<i16> {
    std::thread::sleep(Duration::from_millis(700));
    let from = who.mark();
    std::thread::sleep(Duration::from_secs(secs));
    who.heard_between(from, who.mark())
}

/// After a hand-over: `to` is talking (on the call it took over) and `from` is not.
pub fn assert_took_over(engine: &Engine, from: &str, to: &str) {
    let (_, agents) = engine.get("/api/agents");
    let agents: serde_json::Value = serde_json::from_str(&agents).expect("agents");
    let state = |a: &str| {
        agents
            .as_array()
            .and_then(|l| l.iter().find(|x| x["id"] == a))
            .map(|x| x["state"].clone())
            .unwrap_or_default()
    };
    assert_eq!(state(to), "talking", "{agents}");
    assert_ne!(state(from), "talking", "{agents}");
}

/// The finished call's record names `to` as its agent and the transfer `from → to`.
pub fn assert_record_transferred(engine: &Engine, from: &str, to: &str) -> serde_json::Value {
    let record = engine
        .latest_record(Duration::from_secs(15))
        .expect("a call record");
    assert_eq!(record["agent"], to, "{record}");
    let transfer = format!("{from} → {to}");
    assert!(
        record["transfers"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| *t == transfer.as_str())),
        "{record}"
    );
    record
}
