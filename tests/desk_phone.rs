//! Issue 18, the agent desk's own phone (`web/phone.js` with the vendored JsSIP 3.13.8) in
//! headless Chromium at 1366×768 with a fake microphone playing a 600 Hz WAV: agent 1001 signs
//! in to `/desk` with its token only (the page fetches its SIP credentials from
//! `/api/desk/phone`, an MD5 HA1 shown nowhere), the phone registers over `/ws`, the agent
//! clicks ready; a SIPp citizen (400 Hz) presses 1; the desk rings and the test clicks
//! answer; the level meter moves; the page's received audio carries 400 Hz; a key the citizen
//! presses shows on the desk, the keypad's 7 reaches the citizen (RFC 4733); hold, resume, mute and unmute work; the hang-up button ends the
//! call and SIPp gets the BYE; the recording has 400 Hz left and 600 Hz right; the page's
//! WebSocket is cut and the desk says so, reconnects and registers again by itself. The
//! credentials route is refused to other tokens.

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::Duration;

use common::pages::start_page;
use common::tone_calls::{citizen_calls_until_bye, recording, window, AGENT_HZ, CITIZEN_HZ};
use common::tones::{assert_hears, Law};
use common::{http_request, Engine};

/// One Chromium page with live media, phones and an engine per test: on a 2-core machine
/// these tests take turns (across test processes too), or their pages and media time out
/// waiting for each other's CPU.
fn one_at_a_time() -> common::ports::Turn {
    common::ports::turn("page-with-media")
}

#[test]
fn the_phone_route_gives_an_agent_only_its_own_credentials() {
    let engine = Engine::start("");
    let (status, body) = http_request(
        engine.http,
        "GET",
        "/api/desk/phone",
        Some("demo-agent-1001"),
        None,
    );
    assert_eq!(status, 200, "{body}");
    let creds: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(creds["sip_user"], "1001");
    assert_eq!(creds["realm"], "hotline");
    let ha1: String = {
        use md5::Digest;
        md5::Md5::digest(b"1001:hotline:demo-1001")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    assert_eq!(creds["ha1"], ha1.as_str());
    assert!(creds.get("password").is_none(), "{body}");
    let (status, _) = http_request(
        engine.http,
        "GET",
        "/api/desk/phone",
        Some("demo-supervisor"),
        None,
    );
    assert_eq!(status, 403, "only an agent's token");
    let (status, _) = http_request(engine.http, "GET", "/api/desk/phone", None, None);
    assert_eq!(status, 401);
}

#[test]
fn the_desk_phone_rings_answers_hears_holds_and_hangs_up_in_chromium() {
    let _turn = one_at_a_time();
    let engine = Engine::start("");
    let base = format!("http://{}", engine.http);
    let tmp = tempfile::tempdir().expect("temp dir");
    let done = tmp.path().join("done");
    let wav = tmp.path().join("agent-600hz.wav");
    common::tones::microphone_wav(&wav, AGENT_HZ);
    let page = start_page(
        "desk_phone",
        &base,
        "demo-agent-1001",
        tmp.path(),
        &[
            done.to_str().expect("utf-8 path"),
            wav.to_str().expect("utf-8 path"),
        ],
    );
    page.expect("REGISTERED", Duration::from_secs(60), &engine);
    page.expect("SECRET_HIDDEN", Duration::from_secs(10), &engine);
    page.expect("READY", Duration::from_secs(10), &engine);
    common::wait_for(Duration::from_secs(10), || {
        let (_, body) = engine.get("/api/agents");
        let list: serde_json::Value = serde_json::from_str(&body).ok()?;
        let a = list.as_array()?.iter().find(|a| a["id"] == "1001")?.clone();
        (a["state"] == "ready" && a["registered"] == true).then_some(())
    })
    .unwrap_or_else(|| panic!("1001 ready and registered: {}", engine.get("/api/agents").1));

    let (citizen, caller) = citizen_calls_until_bye(&engine, tmp.path(), Law::Pcmu);
    let ringing = page.expect("RINGING", Duration::from_secs(30), &engine);
    assert!(
        ringing.contains("****"),
        "the caller's number is masked: {ringing}"
    );
    page.expect("ANSWERED", Duration::from_secs(30), &engine);
    let level = page.expect("LEVEL", Duration::from_secs(15), &engine);
    let peak = page.expect("PEAK", Duration::from_secs(30), &engine);
    eprintln!("desk: {level}; {peak}");
    let hz: f64 = peak
        .split_whitespace()
        .nth(1)
        .and_then(|h| h.parse().ok())
        .unwrap_or_else(|| panic!("{peak}"));
    assert!(
        (hz - CITIZEN_HZ).abs() < 15.0,
        "the desk's received audio: {peak}"
    );
    let heard = window(&citizen, 2);
    assert_hears("the citizen", &heard, &[AGENT_HZ], &[CITIZEN_HZ]);
    citizen.press('5');
    let keys = page.expect("KEYS", Duration::from_secs(20), &engine);
    assert_eq!(keys, "KEYS 5");
    page.expect("PRESSED", Duration::from_secs(10), &engine);
    common::wait_for(Duration::from_secs(5), || {
        citizen.keys_heard().contains('7').then_some(())
    })
    .unwrap_or_else(|| panic!("the keypad's 7 reached the citizen; log:\n{}", engine.log()));
    page.expect("HELD", Duration::from_secs(20), &engine);
    page.expect("RESUMED", Duration::from_secs(20), &engine);
    page.expect("MUTED", Duration::from_secs(10), &engine);
    page.expect("UNMUTED", Duration::from_secs(10), &engine);
    std::fs::write(done.with_extension("hangup"), "hangup").expect("tell the page");
    page.expect("ENDED", Duration::from_secs(20), &engine);
    caller.join().expect("sipp thread").assert_ok();
    // The page's WebSocket is cut: the engine forgets the binding with the socket, and the
    // phone reconnects and registers again on its own.
    let dropped = page.expect("DROPPED", Duration::from_secs(20), &engine);
    assert!(dropped.contains("重连"), "{dropped}");
    page.expect("REREGISTERED", Duration::from_secs(40), &engine);
    common::wait_for(Duration::from_secs(5), || {
        let (_, body) = engine.get("/api/agents");
        let list: serde_json::Value = serde_json::from_str(&body).ok()?;
        let a = list.as_array()?.iter().find(|a| a["id"] == "1001")?.clone();
        (a["registered"] == true).then_some(())
    })
    .unwrap_or_else(|| panic!("1001 registered again: {}", engine.get("/api/agents").1));
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
fn the_desk_says_plainly_when_the_microphone_is_refused() {
    let _turn = one_at_a_time();
    let engine = Engine::start("");
    let base = format!("http://{}", engine.http);
    let tmp = tempfile::tempdir().expect("temp dir");
    let wav = tmp.path().join("agent-600hz.wav");
    common::tones::microphone_wav(&wav, AGENT_HZ);
    let page = start_page(
        "desk_phone",
        &base,
        "demo-agent-1001",
        tmp.path(),
        &["-", wav.to_str().expect("utf-8 path"), "denied"],
    );
    let denied = page.expect("MIC_DENIED", Duration::from_secs(60), &engine);
    assert!(denied.contains("允许本网站使用麦克风"), "{denied}");
    page.expect("REGISTERED", Duration::from_secs(30), &engine);
}

/// The browser's network blocks UDP: the answered call's WebRTC leg never connects; after
/// `rtp.webrtc_connect_timeout` the engine ends the call (SIPp gets the BYE) with the reason
/// in its record, counts it, and the desk says the network blocks the media.
#[test]
fn media_the_network_blocks_ends_the_call_with_a_reason_and_the_desk_says_so() {
    let _turn = one_at_a_time();
    let engine = Engine::start("[rtp]\nwebrtc_connect_timeout = \"3s\"\n");
    let base = format!("http://{}", engine.http);
    let tmp = tempfile::tempdir().expect("temp dir");
    let wav = tmp.path().join("agent-600hz.wav");
    common::tones::microphone_wav(&wav, AGENT_HZ);
    let page = start_page(
        "desk_phone",
        &base,
        "demo-agent-1001",
        tmp.path(),
        &["-", wav.to_str().expect("utf-8 path"), "blocked"],
    );
    page.expect("REGISTERED", Duration::from_secs(60), &engine);
    common::wait_for(Duration::from_secs(10), || {
        let (_, body) = engine.get("/api/agents");
        let list: serde_json::Value = serde_json::from_str(&body).ok()?;
        let a = list.as_array()?.iter().find(|a| a["id"] == "1001")?.clone();
        (a["state"] == "ready").then_some(())
    })
    .unwrap_or_else(|| panic!("1001 ready: {}", engine.get("/api/agents").1));
    let (_citizen, caller) = citizen_calls_until_bye(&engine, tmp.path(), Law::Pcmu);
    page.expect("ANSWERED", Duration::from_secs(30), &engine);
    let blocked = page.expect("BLOCKED", Duration::from_secs(30), &engine);
    assert!(blocked.contains("网络阻断"), "{blocked}");
    caller.join().expect("sipp thread").assert_ok();
    let record = engine
        .latest_record(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("a record; log:\n{}", engine.log()));
    let reason = record["agent_media_failure"].as_str().unwrap_or_default();
    assert!(reason.contains("did not connect within 3s"), "{record}");
    let (_, metrics) = engine.get("/metrics");
    assert!(
        metrics
            .lines()
            .any(|l| l == "hotline_webrtc_agent_legs_failed_total 1"),
        "{metrics}"
    );
}
