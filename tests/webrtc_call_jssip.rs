//! Issue 18: a call to a browser agent, end to end. JsSIP (npm, pinned in
//! `tests/browser/package.json`, tests only) in Debian's headless Chromium
//! (`tests/browser/jssip_call.mjs`), whose fake microphone plays a 600 Hz WAV the test writes,
//! registers as agent 1001 over `/ws`; the agents API makes it ready; a SIPp citizen whose
//! audio is a 400 Hz endpoint presses 1; JsSIP answers with WebRTC media (ICE against the
//! engine's ICE-lite, DTLS-SRTP). Then: the page's WebAudio hears 400 Hz, the citizen hears
//! 600 Hz, a key the citizen presses reaches JsSIP as SIP INFO (`newDTMF`; the RFC 4733 event
//! goes into the media too, but a browser never hands received events to the page), a key
//! the agent presses (JsSIP's RFC 4733, RTCDTMFSender) reaches the citizen, JsSIP
//! holds and resumes (re-INVITEs answered by the WebRTC leg), JsSIP hangs up and SIPp gets
//! the BYE, and the stereo recording holds 400 Hz on the citizen's
//! channel and 600 Hz on the agent's.

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::Duration;

use common::pages::start_page;
use common::tone_calls::{
    citizen_calls_until_bye, recording, registered_and_ready, window, AGENT_HZ, CITIZEN_HZ,
};
use common::tones::{assert_hears, Law};
use common::{shipped_password, Engine};

fn metric(engine: &Engine, series: &str) -> f64 {
    let (_, body) = engine.get("/metrics");
    body.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("{series} in /metrics:\n{body}"))
}

#[test]
fn jssip_in_chromium_answers_a_citizen_with_webrtc_media_keys_and_a_recording() {
    let engine = Engine::start("");
    let base = format!("http://{}", engine.http);
    let tmp = tempfile::tempdir().expect("temp dir");
    let done = tmp.path().join("done");
    let wav = tmp.path().join("agent-600hz.wav");
    common::tones::microphone_wav(&wav, AGENT_HZ);
    let password = shipped_password("1001");
    let page = start_page(
        "jssip_call",
        &base,
        "-",
        tmp.path(),
        &[
            "1001",
            &password,
            done.to_str().expect("utf-8 path"),
            wav.to_str().expect("utf-8 path"),
        ],
    );
    page.expect("REGISTERED", Duration::from_secs(60), &engine);
    registered_and_ready(&engine, "1001", String::new);

    let (citizen, caller) = citizen_calls_until_bye(&engine, tmp.path(), Law::Pcmu);
    let ringing = page.expect("RINGING", Duration::from_secs(30), &engine);
    assert!(
        ringing.contains("****"),
        "the caller's number is masked: {ringing}"
    );
    page.expect("CONFIRMED", Duration::from_secs(30), &engine);
    let connected = page.expect("CONNECTED", Duration::from_secs(30), &engine);
    let call = engine
        .call_where(Duration::from_secs(10), |c| {
            c["state"] == "talking" && c["agent"] == "1001"
        })
        .unwrap_or_else(|| panic!("talking to 1001 ({connected}); log:\n{}", engine.log()));

    // The page hears the citizen (its WebAudio analyser on the remote stream).
    let peak = page.expect("PEAK", Duration::from_secs(30), &engine);
    let hz: f64 = peak
        .split_whitespace()
        .nth(1)
        .and_then(|h| h.parse().ok())
        .unwrap_or_else(|| panic!("{peak}"));
    eprintln!("page: {connected}; {peak}");
    assert!(
        (hz - CITIZEN_HZ).abs() < 15.0,
        "the page's loudest received frequency: {peak} (expected {CITIZEN_HZ} Hz)"
    );
    // The citizen hears the browser's microphone.
    let heard = window(&citizen, 3);
    assert!(
        heard.len() >= 8000 * 2,
        "the citizen heard {} samples in 3 s; log:\n{}",
        heard.len(),
        engine.log()
    );
    assert_hears("the citizen", &heard, &[AGENT_HZ], &[CITIZEN_HZ]);

    // A key from the citizen reaches JsSIP.
    citizen.press('5');
    let dtmf = page.expect("DTMF", Duration::from_secs(20), &engine);
    assert_eq!(dtmf, "DTMF 5");
    // And the agent's key reaches the citizen as an RFC 4733 event through the bridge.
    page.expect("SENT", Duration::from_secs(10), &engine);
    common::wait_for(Duration::from_secs(5), || {
        citizen.keys_heard().contains('7').then_some(())
    })
    .unwrap_or_else(|| {
        panic!(
            "the citizen got the agent's 7 (payload types {:?}); log:\n{}",
            citizen.payload_types(),
            engine.log()
        )
    });

    // JsSIP holds (its re-INVITE, answered by the leg on the media task): the citizen is held
    // (hears the hold music, not the agent); JsSIP resumes and the citizen hears it again.
    std::fs::write(done.with_extension("hold"), "hold").expect("tell the page");
    page.expect("HELD", Duration::from_secs(20), &engine);
    engine
        .call_where(Duration::from_secs(5), |c| {
            c["id"] == call["id"] && c["on_hold"] == true
        })
        .unwrap_or_else(|| panic!("the citizen is held; log:\n{}", engine.log()));
    let held = window(&citizen, 2);
    assert!(
        common::tones::tone_levels(&held, &[AGENT_HZ])[0]
            < common::tones::tone_levels(&heard, &[AGENT_HZ])[0] - 20.0,
        "the held citizen no longer hears the agent"
    );
    std::fs::write(done.with_extension("unhold"), "unhold").expect("tell the page");
    page.expect("RESUMED", Duration::from_secs(20), &engine);
    engine
        .call_where(Duration::from_secs(5), |c| {
            c["id"] == call["id"] && c["on_hold"] == false
        })
        .unwrap_or_else(|| panic!("the citizen is back; log:\n{}", engine.log()));
    let back = window(&citizen, 2);
    assert_hears(
        "the citizen after the resume",
        &back,
        &[AGENT_HZ],
        &[CITIZEN_HZ],
    );

    // JsSIP hangs up: SIPp (which never hangs up) gets the engine's BYE and succeeds.
    std::fs::write(done.with_extension("hangup"), "hangup").expect("tell the page");
    let ended = page.expect("ENDED", Duration::from_secs(20), &engine);
    assert!(ended.contains("Terminated"), "{ended}");
    caller.join().expect("sipp thread").assert_ok();
    // The agent goes to wrap-up, as after a call on a SIP phone.
    common::wait_for(Duration::from_secs(5), || {
        let (_, body) = engine.get("/api/agents");
        let list: serde_json::Value = serde_json::from_str(&body).ok()?;
        let a = list.as_array()?.iter().find(|a| a["id"] == "1001")?.clone();
        (a["state"] == "wrap_up").then_some(())
    })
    .unwrap_or_else(|| panic!("1001 in wrap-up: {}", engine.get("/api/agents").1));

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
    assert_eq!(metric(&engine, "hotline_webrtc_answers_refused_total"), 0.0);
    let record = engine
        .latest_record(Duration::from_secs(5))
        .expect("a record");
    assert_eq!(record["id"], call["id"], "{record}");
    assert!(record.get("agent_media_failure").is_none(), "{record}");
    let log = engine.log();
    for l in log.lines().filter(|l| {
        l.contains("WebRTC answer accepted") || l.contains("browser agent leg connected")
    }) {
        eprintln!("engine: {l}");
    }
}
