//! What each peer of a call hears, by tone: the citizen (SIPp signalling, the test's own RTP
//! endpoint sending 400 Hz), agent 1001 (baresip, 600 Hz, dumping what it decodes) and the
//! gateway behind a transfer to 110 (SIPp + endpoint, 800 Hz). Each must hear the others'
//! tones and not its own, and the call's stereo recording must hold the citizen on the left
//! and the agent (then 110) on the right. Levels are compared with each other, never with
//! absolute figures, so a loaded machine only shortens what is measured.

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::Duration;

use common::tone_calls::{
    agent_1001, citizen_calls, gateway_phone, phone_heard, recording, talking, AGENT_HZ,
    CITIZEN_HZ, UNIT_HZ,
};
use common::tones::{
    alaw_decode, alaw_encode, assert_hears, assert_hears_at, check_hears, dominant_tones,
    engine_rtp_from_sipp_log, sipp_logged, tone_levels, ulaw_decode, ulaw_encode, Law,
};
use common::{http_request, Engine};

#[test]
fn citizen_and_agent_each_hear_the_other_and_the_recording_keeps_them_apart() {
    let engine = Engine::start("");
    let dir = tempfile::tempdir().expect("temp dir");
    let phone = agent_1001(&engine, dir.path());
    let (citizen, caller) = citizen_calls(&engine, dir.path(), 18_000, Law::Pcmu);
    let call = talking(&engine, dir.path());
    assert_eq!(call["agent"], "1001", "{call}");
    // From half a second after the answer (the queue's music is gone), 5 s of conversation.
    std::thread::sleep(Duration::from_millis(500));
    let from = citizen.mark();
    let agent_from = phone.mark();
    std::thread::sleep(Duration::from_secs(5));
    let heard = citizen.heard_since(from);
    // Read while the call is up (baresip's dump is still being written).
    let (agent_live, agent_rate) = phone.heard_since(agent_from);
    caller.join().expect("sipp thread").assert_ok();
    assert!(
        heard.len() >= 8000 * 2,
        "the citizen heard {} samples in 5 s; endpoint (in, out) {:?}; log:\n{}",
        heard.len(),
        citizen.counts(),
        engine.log()
    );
    assert_hears("the citizen", &heard, &[AGENT_HZ], &[CITIZEN_HZ]);
    assert!(
        agent_live.len() as u64 >= u64::from(agent_rate) * 2,
        "baresip's live dump grew by {} samples in 5 s",
        agent_live.len()
    );
    assert_hears_at(
        "agent 1001 (live)",
        &agent_live,
        agent_rate,
        &[CITIZEN_HZ],
        &[AGENT_HZ],
    );
    let (agent, rate) = phone_heard(&phone, dir.path());
    assert_hears_at("agent 1001", &agent, rate, &[CITIZEN_HZ], &[AGENT_HZ]);
    let (left, right) = recording(&engine);
    assert_hears(
        "the recording's left (citizen) channel",
        &left,
        &[CITIZEN_HZ],
        &[AGENT_HZ],
    );
    assert_hears(
        "the recording's right (agent) channel",
        &right,
        &[AGENT_HZ],
        &[CITIZEN_HZ],
    );
}

#[test]
fn after_a_blind_transfer_to_110_the_citizen_hears_the_gateway_and_the_recording_follows() {
    let gateway_sip = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free port for the gateway");
    let engine = Engine::start(&format!(
        "[transfer]\ngateway = \"{gateway_sip}\"\n[transfer.numbers]\n\"110\" = \"110\"\n"
    ));
    let dir = tempfile::tempdir().expect("temp dir");
    let phone = agent_1001(&engine, dir.path());
    // The gateway's phone: SIPp answers the engine's INVITE for 110, our endpoint is its audio.
    let (unit, gateway, gw_log) =
        gateway_phone(&engine, dir.path(), gateway_sip, UNIT_HZ, Law::Pcmu);
    // The citizen speaks A-law, 110 μ-law: the engine transcodes between them.
    let (citizen, caller) = citizen_calls(&engine, dir.path(), 28_000, Law::Pcma);
    let call = talking(&engine, dir.path());
    let id = call["id"].as_str().expect("call id").to_string();
    // 4 s with the agent.
    std::thread::sleep(Duration::from_millis(500));
    let agent_from = citizen.mark();
    std::thread::sleep(Duration::from_secs(4));
    let agent_to = citizen.mark();
    let (status, reply) = http_request(
        engine.http,
        "POST",
        &format!("/api/calls/{id}/transfer"),
        Some("demo-agent-1001"),
        Some(r#"{"queue":"110"}"#),
    );
    assert_eq!(status, 204, "{reply}");
    engine
        .call_where(Duration::from_secs(15), |c| {
            c["state"] == "talking" && c["transfers"][0] == "1001 → 110"
        })
        .unwrap_or_else(|| panic!("110 answers; log:\n{}", engine.log()));
    let rtp = engine_rtp_from_sipp_log(&gw_log, Duration::from_secs(10))
        .unwrap_or_else(|| panic!("the gateway's SIPp logs the engine's SDP"));
    unit.aim(rtp);
    // The engine dialled 110, presenting the citizen's own number.
    let logged = |key| sipp_logged(&gw_log, key, Duration::from_secs(1)).unwrap_or_default();
    assert_eq!(logged("called"), "110");
    assert!(
        logged("caller").starts_with("1381234"),
        "{}",
        logged("caller")
    );
    // Then 4 s with 110.
    std::thread::sleep(Duration::from_millis(700));
    let unit_from = citizen.mark();
    std::thread::sleep(Duration::from_secs(4));
    let unit_to = citizen.mark();
    let with_agent = citizen.heard_between(agent_from, agent_to);
    let with_unit = citizen.heard_between(unit_from, unit_to);
    let unit_heard = unit.heard();
    // Each side is spoken to in its own law (the prompts, the agent and 110 alike).
    let only = |pts: Vec<(u8, u64)>, pt: u8| pts.iter().all(|&(p, _)| p == pt || p == 101);
    assert!(
        only(citizen.payload_types(), 8),
        "the citizen offered A-law only: {:?}",
        citizen.payload_types()
    );
    assert!(
        only(unit.payload_types(), 0),
        "110 answered μ-law only: {:?}",
        unit.payload_types()
    );
    caller.join().expect("sipp thread").assert_ok();
    gateway.join().expect("gateway thread").assert_ok();

    assert_hears(
        "the citizen (with the agent)",
        &with_agent,
        &[AGENT_HZ],
        &[CITIZEN_HZ, UNIT_HZ],
    );
    assert_hears(
        "the citizen (with 110)",
        &with_unit,
        &[UNIT_HZ],
        &[CITIZEN_HZ, AGENT_HZ],
    );
    assert_hears("110", &unit_heard, &[CITIZEN_HZ], &[UNIT_HZ, AGENT_HZ]);
    let (agent, rate) = phone_heard(&phone, dir.path());
    assert_hears_at(
        "agent 1001",
        &agent,
        rate,
        &[CITIZEN_HZ],
        &[AGENT_HZ, UNIT_HZ],
    );
    // The recording: the citizen on the left throughout; on the right the agent, then 110.
    let (left, right) = recording(&engine);
    assert_hears(
        "the recording's left (citizen) channel",
        &left,
        &[CITIZEN_HZ],
        &[AGENT_HZ, UNIT_HZ],
    );
    assert_hears(
        "the recording's right channel",
        &right,
        &[AGENT_HZ, UNIT_HZ],
        &[CITIZEN_HZ],
    );
    let windows = dominant_tones(&right, Duration::from_secs(1), &[AGENT_HZ, UNIT_HZ]);
    let last_agent = windows.iter().rposition(|w| *w == Some(AGENT_HZ));
    let first_unit = windows.iter().position(|w| *w == Some(UNIT_HZ));
    assert!(
        matches!((last_agent, first_unit), (Some(a), Some(u)) if a < u),
        "the right channel has 600 Hz, then 800 Hz, second by second: {windows:?}"
    );
}

/// The harness itself, on made-up signals: a peer that measured wrongly would pass or fail
/// the tests above for the wrong reason.
#[test]
fn the_tone_measure_tells_tones_apart_through_g711() {
    let sine = |f: f64, seconds: usize| -> Vec<i16> {
        (0..8000 * seconds)
            .map(|i| ((i as f64) * 2.0 * std::f64::consts::PI * f / 8000.0).sin() * 8000.0)
            .map(|v| v as i16)
            .collect()
    };
    // G.711 both ways: a round trip stays within the law's step.
    for s in [
        0i16, 1, -1, 100, -100, 1000, -1000, 8000, -8000, 32767, -32768,
    ] {
        let u = ulaw_decode(ulaw_encode(s));
        let a = alaw_decode(alaw_encode(s));
        let tolerance = (i32::from(s).abs() / 16).max(16);
        assert!(
            (i32::from(u) - i32::from(s)).abs() <= tolerance,
            "μ {s} → {u}"
        );
        assert!(
            (i32::from(a) - i32::from(s)).abs() <= tolerance,
            "A {s} → {a}"
        );
    }
    let through = |pcm: &[i16], law: Law| -> Vec<i16> {
        pcm.iter()
            .map(|&s| match law {
                Law::Pcmu => ulaw_decode(ulaw_encode(s)),
                Law::Pcma => alaw_decode(alaw_encode(s)),
            })
            .collect()
    };
    let tone = through(&sine(600.0, 2), Law::Pcmu);
    let levels = tone_levels(&tone, &[400.0, 600.0, 800.0]);
    assert!(levels[1] > -1.0, "{levels:?}");
    assert!(levels[0] < -40.0 && levels[2] < -40.0, "{levels:?}");
    // A mix of two: both present, about half each; the third absent.
    let mix: Vec<i16> = sine(400.0, 2)
        .iter()
        .zip(sine(800.0, 2))
        .map(|(a, b)| a / 2 + b / 2)
        .collect();
    let mix = through(&mix, Law::Pcma);
    let levels = tone_levels(&mix, &[400.0, 600.0, 800.0]);
    assert!((levels[0] + 3.0).abs() < 1.5, "{levels:?}");
    assert!((levels[2] + 3.0).abs() < 1.5, "{levels:?}");
    assert!(levels[1] < -40.0, "{levels:?}");
    assert_hears("a mix", &mix, &[400.0, 800.0], &[600.0]);
    // Silence has no tone at all: nothing expected passes, an expected tone fails.
    assert!(tone_levels(&[0; 16000], &[400.0])[0].is_infinite());
    assert!(check_hears("a muted line", &[0; 16000], 8000, &[], &[400.0]).is_ok());
    assert!(check_hears("a muted line", &[0; 16000], 8000, &[400.0], &[]).is_err());
    // Nothing expected, something absent: judged against the whole.
    assert!(check_hears("the citizen", &tone, 8000, &[], &[400.0]).is_ok());
    assert!(check_hears("the citizen", &tone, 8000, &[], &[600.0]).is_err());
    let message = check_hears("the citizen", &tone, 8000, &[400.0], &[600.0])
        .expect_err("hearing 600 instead of 400 fails");
    // Both tones, too close to tell apart, fail as well.
    assert!(check_hears("the mix", &mix, 8000, &[400.0], &[800.0]).is_err());
    assert!(
        message.contains("the citizen heard 400 Hz at")
            && message.contains(", 600 Hz at ")
            && message.contains("expected 400 and not 600"),
        "{message}"
    );
    // Second by second: which tone leads.
    let mut two = sine(600.0, 2);
    two.extend(sine(800.0, 2));
    assert_eq!(
        dominant_tones(&two, Duration::from_secs(1), &[600.0, 800.0]),
        vec![Some(600.0), Some(600.0), Some(800.0), Some(800.0)]
    );
}
