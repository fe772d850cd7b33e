//! Issue 18, a browser phone as an extra party: agent 1001 (baresip, 600 Hz) takes a SIPp
//! citizen's call (400 Hz), then consults agent 1002, whose phone is the agent desk's own
//! web phone in headless Chromium (JsSIP, WebRTC, a fake microphone playing 1000 Hz). The
//! consultation's leg is WebRTC (DTLS-SRTP) in the engine's mixer: the page hears agent 1001
//! and 1001 hears the page, the held citizen hears neither. 1001 hands the call over: the
//! page hears the citizen and the citizen hears the page. The page hangs up, SIPp gets the
//! BYE; the record names 1002 and the transfer, and the recording has the browser's tone on
//! the right channel (with 1001's) and the citizen's on the left. And the supervisor's phone
//! as a browser (JsSIP in Chromium, 9001, 1000 Hz) listens to such a call, hearing both
//! sides unheard, then barges in and is heard by both and recorded.

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::Duration;

use common::pages::start_page;
use common::tone_calls::{
    agent_1001, assert_record_transferred, assert_took_over, call_until, citizen_calls,
    citizen_calls_until_bye, recording, registered_and_ready, talking, window, AGENT_HZ,
    CITIZEN_HZ,
};
use common::tones::{assert_hears, assert_hears_at, Law};
use common::{http_request, Engine};

/// The browser's fake microphone.
const BROWSER_HZ: f64 = 1000.0;

/// The loudest frequency in a page's `PEAK<n> <hz> <db>` line.
fn peak_hz(line: &str) -> f64 {
    line.split_whitespace()
        .nth(1)
        .and_then(|h| h.parse().ok())
        .unwrap_or_else(|| panic!("{line}"))
}

#[test]
fn a_browser_agent_is_consulted_and_takes_the_call_over_with_mixed_audio() {
    // One Chromium page with live media, phones and an engine at a time on this machine.
    let _turn = common::ports::turn("page-with-media");
    let engine = Engine::start("");
    let base = format!("http://{}", engine.http);
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir1 = tmp.path().join("1001");
    std::fs::create_dir_all(&dir1).expect("dir");
    let phone1 = agent_1001(&engine, &dir1);
    let done = tmp.path().join("done");
    let wav = tmp.path().join("browser-1000hz.wav");
    common::tones::microphone_wav(&wav, BROWSER_HZ);
    let page = start_page(
        "desk_party",
        &base,
        "demo-agent-1002",
        tmp.path(),
        &[
            done.to_str().expect("utf-8 path"),
            wav.to_str().expect("utf-8 path"),
        ],
    );
    page.expect("REGISTERED", Duration::from_secs(60), &engine);

    // The citizen reaches 1001 (the only ready agent); then 1002 comes ready.
    let (citizen, caller) = citizen_calls_until_bye(&engine, tmp.path(), Law::Pcmu);
    let call = talking(&engine, &dir1);
    let id = call["id"].as_str().expect("call id").to_string();
    assert_eq!(call["agent"], "1001");
    registered_and_ready(&engine, "1002", || "the desk page's phone".into());

    // 1001 consults 1002: the browser rings with a WebRTC offer and answers.
    let (status, body) = http_request(
        engine.http,
        "POST",
        &format!("/api/calls/{id}/parties"),
        Some("demo-agent-1001"),
        Some(r#"{"agent":"1002","mode":"consult"}"#),
    );
    assert_eq!(status, 201, "{body}");
    let consulted: serde_json::Value = serde_json::from_str(&body).expect("json");
    let consulted = consulted["party"].as_u64().expect("party");
    let ringing = page.expect("RINGING", Duration::from_secs(30), &engine);
    assert!(ringing.contains("****"), "the caller is masked: {ringing}");
    page.expect("ANSWERED", Duration::from_secs(30), &engine);
    call_until(&engine, &id, "1002 answers the consultation", |c| {
        c["on_hold"] == true
            && c["parties"].as_array().is_some_and(|p| {
                p.iter()
                    .any(|p| p["id"] == consulted && p["state"] == "talking")
            })
    });
    // The consultation: 1001 and the browser hear each other, the citizen neither.
    let agent_mark = phone1.mark();
    let heard = window(&citizen, 3);
    let (a1, r1) = phone1.heard_since(agent_mark);
    assert_hears_at(
        "agent 1001 (consulting the browser)",
        &a1,
        r1,
        &[BROWSER_HZ],
        &[CITIZEN_HZ],
    );
    assert_hears(
        "the held citizen",
        &heard,
        &[],
        &[AGENT_HZ, BROWSER_HZ, CITIZEN_HZ],
    );
    std::fs::write(done.with_extension("peak1"), "measure").expect("tell the page");
    let peak = page.expect("PEAK1", Duration::from_secs(20), &engine);
    eprintln!("the browser while consulted: {peak}");
    assert!(
        (peak_hz(&peak) - AGENT_HZ).abs() < 15.0,
        "the browser hears agent 1001: {peak}"
    );

    // 1001 completes the transfer: the browser agent has the citizen.
    let (status, body) = http_request(
        engine.http,
        "POST",
        &format!("/api/calls/{id}/parties/{consulted}/handover"),
        Some("demo-agent-1001"),
        Some("{}"),
    );
    assert_eq!(status, 204, "{body}");
    call_until(&engine, &id, "1002 has the call", |c| {
        c["agent"] == "1002" && c["on_hold"] == false
    });
    assert_took_over(&engine, "1001", "1002");
    let heard = window(&citizen, 3);
    assert_hears(
        "the citizen (with the browser agent)",
        &heard,
        &[BROWSER_HZ],
        &[CITIZEN_HZ, AGENT_HZ],
    );
    std::fs::write(done.with_extension("peak2"), "measure").expect("tell the page");
    let peak = page.expect("PEAK2", Duration::from_secs(20), &engine);
    eprintln!("the browser with the citizen: {peak}");
    assert!(
        (peak_hz(&peak) - CITIZEN_HZ).abs() < 15.0,
        "the browser hears the citizen: {peak}"
    );

    // The browser hangs up: the call ends, SIPp gets the BYE.
    std::fs::write(done.with_extension("hangup"), "hangup").expect("tell the page");
    page.expect("ENDED", Duration::from_secs(20), &engine);
    caller.join().expect("sipp thread").assert_ok();
    let record = assert_record_transferred(&engine, "1001", "1002");
    assert!(
        record["agent_media_failure"].is_null(),
        "no media failure: {record}"
    );
    let (left, right) = recording(&engine);
    assert_hears(
        "the recording's left (citizen) channel",
        &left,
        &[CITIZEN_HZ],
        &[BROWSER_HZ],
    );
    assert_hears(
        "the recording's right (agents) channel",
        &right,
        &[AGENT_HZ, BROWSER_HZ],
        &[CITIZEN_HZ],
    );
}

/// The levels in a page's `LEVELS<n> <hz>:<db> …` line, by tone.
fn levels(line: &str) -> Vec<(f64, f64)> {
    line.split_whitespace()
        .skip(1)
        .filter_map(|t| {
            let (hz, db) = t.split_once(':')?;
            Some((hz.parse().ok()?, db.parse().ok()?))
        })
        .collect()
}

/// Whether the page heard each of `yes` at least 20 dB over each of `no`.
fn assert_page_hears(who: &str, line: &str, yes: &[f64], no: &[f64]) {
    let l = levels(line);
    let db = |hz: f64| {
        l.iter()
            .find(|(t, _)| (*t - hz).abs() < 1.0)
            .map(|(_, d)| *d)
            .unwrap_or_else(|| panic!("{who}: no level for {hz} Hz in {line}"))
    };
    for &y in yes {
        assert!(db(y) > -60.0, "{who} does not hear {y} Hz: {line}");
        for &n in no {
            assert!(
                db(y) > db(n) + 20.0,
                "{who}: {n} Hz is not 20 dB under {y} Hz: {line}"
            );
        }
    }
}

#[test]
fn a_supervisors_browser_phone_listens_then_barges_in_with_mixed_audio() {
    let _turn = common::ports::turn("page-with-media");
    let engine = Engine::start("");
    let base = format!("http://{}", engine.http);
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir1 = tmp.path().join("1001");
    std::fs::create_dir_all(&dir1).expect("dir");
    let phone1 = agent_1001(&engine, &dir1);
    let done = tmp.path().join("done");
    let wav = tmp.path().join("supervisor-1000hz.wav");
    common::tones::microphone_wav(&wav, BROWSER_HZ);
    let page = start_page(
        "jssip_party",
        &base,
        "-",
        tmp.path(),
        &[
            "9001",
            "demo-supervisor",
            done.to_str().expect("utf-8 path"),
            wav.to_str().expect("utf-8 path"),
        ],
    );
    page.expect("REGISTERED", Duration::from_secs(60), &engine);
    let (citizen, caller) = citizen_calls(&engine, tmp.path(), 30_000, Law::Pcmu);
    let call = talking(&engine, &dir1);
    let id = call["id"].as_str().expect("call id").to_string();
    let monitor = |mode: &str| {
        let (status, body) = http_request(
            engine.http,
            "POST",
            &format!("/api/calls/{id}/monitor"),
            Some("demo-supervisor"),
            Some(&format!(r#"{{"mode":"{mode}"}}"#)),
        );
        assert_eq!(status, 201, "{mode}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
        v["party"].as_u64().expect("party")
    };
    let party = monitor("listen");
    page.expect("RINGING", Duration::from_secs(20), &engine);
    page.expect("CONFIRMED", Duration::from_secs(20), &engine);
    page.expect("CONNECTED", Duration::from_secs(20), &engine);
    call_until(&engine, &id, "the supervisor answers", |c| {
        c["parties"].as_array().is_some_and(|p| {
            p.iter()
                .any(|p| p["id"] == party && p["state"] == "talking")
        })
    });
    // Listen: the browser hears both sides; neither hears it.
    std::fs::write(done.with_extension("levels1"), "400 600 1000").expect("tell the page");
    let agent_mark = phone1.mark();
    let heard = window(&citizen, 2);
    let (a1, r1) = phone1.heard_since(agent_mark);
    let line = page.expect("LEVELS1", Duration::from_secs(20), &engine);
    eprintln!("the supervisor listening: {line}");
    assert_page_hears(
        "the listening supervisor",
        &line,
        &[CITIZEN_HZ, AGENT_HZ],
        &[BROWSER_HZ],
    );
    assert_hears(
        "the citizen (listened to)",
        &heard,
        &[AGENT_HZ],
        &[BROWSER_HZ],
    );
    assert_hears_at(
        "agent 1001 (listened to)",
        &a1,
        r1,
        &[CITIZEN_HZ],
        &[BROWSER_HZ],
    );
    // Barge: the same leg, now heard by both.
    assert_eq!(monitor("barge"), party);
    let agent_mark = phone1.mark();
    let heard = window(&citizen, 3);
    let (a1, r1) = phone1.heard_since(agent_mark);
    assert_hears(
        "the citizen (barged into)",
        &heard,
        &[AGENT_HZ, BROWSER_HZ],
        &[CITIZEN_HZ],
    );
    assert_hears_at(
        "agent 1001 (barged into)",
        &a1,
        r1,
        &[CITIZEN_HZ, BROWSER_HZ],
        &[AGENT_HZ],
    );
    std::fs::write(done.with_extension("levels2"), "400 600 1000").expect("tell the page");
    let line = page.expect("LEVELS2", Duration::from_secs(20), &engine);
    eprintln!("the supervisor barging: {line}");
    assert_page_hears(
        "the barging supervisor",
        &line,
        &[CITIZEN_HZ, AGENT_HZ],
        &[BROWSER_HZ],
    );
    // The supervisor is dropped: the browser gets the BYE, the call goes on.
    let (status, body) = http_request(
        engine.http,
        "DELETE",
        &format!("/api/calls/{id}/parties/{party}"),
        Some("demo-supervisor"),
        None,
    );
    assert_eq!(status, 204, "{body}");
    page.expect("ENDED", Duration::from_secs(20), &engine);
    caller.join().expect("sipp thread").assert_ok();
    let (left, right) = recording(&engine);
    assert_hears(
        "the recording's left (citizen) channel",
        &left,
        &[CITIZEN_HZ],
        &[BROWSER_HZ],
    );
    assert_hears(
        "the recording's right channel (agent and barging supervisor)",
        &right,
        &[AGENT_HZ, BROWSER_HZ],
        &[CITIZEN_HZ],
    );
}
