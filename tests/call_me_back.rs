//! Issue 15, "call me back" instead of waiting (C8), against real peers: a SIPp caller waits
//! in `general` with nobody at work, hears the offer, presses 1 and 1 (RFC 4733) and hangs
//! up; when baresip agent 1001 becomes ready, the engine rings 1001 first and only then calls
//! the SIPp citizen back through the trunk, and bridges the two. The KPIs count the offer,
//! the kept place and the callback reached, apart from the inbound rates.

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::baresip::{start_baresip_audio, PhoneAudio};
use common::pages::start_page;
use common::{http_request, root, sipp, wait_for, Engine};

fn free_port() -> SocketAddr {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free port")
}

/// The caller: dials 12345, presses 0 (a person), then 1 (take the offer) and 1 (confirm
/// the number read back), each with its own RFC 4733 timestamp, and hangs up during the farewell.
fn caller_scenario(dir: &Path) -> PathBuf {
    let mut steps = String::new();
    for (i, (pause, key)) in [(1500u64, 0u8), (3000, 1), (2000, 1)].iter().enumerate() {
        let pcap = dir.join(format!("key{i}.pcap"));
        common::pcap::key_press(&pcap, *key, 40_000 + 16_000 * i as u32, 100 + 20 * i as u16);
        steps.push_str(&format!(
            "  <pause milliseconds=\"{pause}\"/>\n  <nop><action><exec play_pcap_audio=\"{}\"/></action></nop>\n",
            pcap.display()
        ));
    }
    let template = std::fs::read_to_string(root().join("tests/sipp/uac_call_me_back.xml"))
        .expect("caller template");
    let xml = template.replace("<!-- KEYS -->", &steps);
    let path = dir.join("caller.xml");
    std::fs::write(&path, xml).expect("scenario");
    path
}

#[test]
fn a_caller_takes_the_callback_and_is_called_back_once_agent_1001_is_ready() {
    let dir = tempfile::tempdir().expect("dir");
    let trunk = free_port();
    let engine = Engine::start(&format!(
        "[trunk]\naddress = \"{trunk}\"\n\n[outbound]\nwindow_start = \"00:00:00\"\nwindow_end = \"23:59:59\"\nring_timeout = \"10s\"\n\n[callback_offer]\noffer_above = \"60s\"\nsurge_above = \"0s\"\nretry_gap = \"2s\"\n"
    ));
    let sip = engine.sip;
    let phone = start_baresip_audio(
        dir.path(),
        &format!("<sip:1001@{sip};transport=udp>;auth_pass=demo-1001;regint=600;answermode=auto\n"),
        PhoneAudio {
            record_heard: true,
            ..PhoneAudio::default()
        },
    );
    wait_for(Duration::from_secs(15), || {
        let (_, body) = engine.get("/api/agents");
        let list: serde_json::Value = serde_json::from_str(&body).ok()?;
        list.as_array()?
            .iter()
            .any(|a| a["id"] == "1001" && a["registered"] == true)
            .then_some(())
    })
    .unwrap_or_else(|| panic!("1001 registers; log:\n{}", engine.log()));

    // The citizen behind the trunk: answers the callback, waits for the BYE.
    let citizen = {
        let scenario = root().join("tests/sipp/uas_citizen_answers.xml");
        std::thread::spawn(move || {
            sipp(
                "127.0.0.1:9".parse().expect("addr"),
                scenario.to_str().expect("path"),
                &[
                    "-m",
                    "1",
                    "-p",
                    &trunk.port().to_string(),
                    "-mi",
                    "127.0.0.1",
                ],
                Duration::from_secs(90),
            )
        })
    };

    // Nobody is at work: the wait has no end in sight, so the offer comes.
    let scenario = caller_scenario(dir.path());
    let run = sipp(
        sip,
        scenario.to_str().expect("path"),
        &["-s", "12345", "-m", "1", "-mi", "127.0.0.1"],
        Duration::from_secs(60),
    );
    run.assert_ok();
    let kept = engine
        .latest_record(Duration::from_secs(10))
        .expect("the caller's record");
    assert_eq!(kept["outcome"], "callback_requested", "{kept}");
    assert_eq!(kept["callback_offered"], true, "{kept}");
    assert_eq!(kept["queue"], "general", "{kept}");

    // 1001 becomes ready: rung first, then the citizen is called and bridged.
    let (status, body) = http_request(
        engine.http,
        "POST",
        "/api/agents/1001/state",
        Some("demo-supervisor"),
        Some(r#"{"state":"ready"}"#),
    );
    assert!(status == 200 || status == 204, "{status} {body}");
    let talking = engine
        .call_where(Duration::from_secs(20), |c| {
            c["state"] == "talking" && c["direction"] == "outbound"
        })
        .unwrap_or_else(|| panic!("the callback is bridged; log:\n{}", engine.log()));
    assert_eq!(talking["agent"], "1001", "{talking}");
    assert_eq!(talking["outbound"]["purpose"], "call_me_back", "{talking}");
    assert_eq!(talking["outbound"]["reference"], kept["id"], "{talking}");
    let log = engine.log();
    let rung = log.find("a kept callback's turn: ringing the agent first");
    let dialled = log.find("the agent is on the line: calling the citizen back");
    assert!(
        rung.is_some() && dialled.is_some() && rung < dialled,
        "the agent is rung before the citizen is dialled; log:\n{log}"
    );

    // The KPIs count it apart: one offer, one kept place, one callback reached.
    let (_, stats) = http_request(
        engine.http,
        "GET",
        "/api/stats",
        Some("demo-supervisor"),
        None,
    );
    let stats: serde_json::Value = serde_json::from_str(&stats).expect("stats");
    let cb = &stats["today"]["callbacks"];
    assert_eq!(cb["offered"], 1, "{stats}");
    assert_eq!(cb["kept"], 1, "{stats}");
    assert_eq!(cb["reached"], 1, "{stats}");
    assert!(
        cb["avg_time_to_callback_s"]
            .as_f64()
            .is_some_and(|s| s > 0.0),
        "{stats}"
    );
    assert_eq!(
        stats["today"]["counted"], 0,
        "a kept place is neither answered nor abandoned: {stats}"
    );
    let (_, metrics) = engine.get("/metrics");
    for line in [
        "hotline_callbacks_total{event=\"offered\"} 1",
        "hotline_callbacks_total{event=\"kept\"} 1",
        "hotline_callbacks_total{event=\"reached\"} 1",
        "hotline_callbacks_waiting 0",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
    }

    // The agent talks a few seconds and hangs up (the citizen gets the BYE).
    std::thread::sleep(Duration::from_secs(3));
    phone.command("hangup", "");
    let citizen = citizen.join().expect("citizen thread");
    citizen.assert_ok();
    // While the citizen's phone rang (4 s), the agent heard the callback notice, not silence.
    let heard = phone.heard();
    let (pcm, rate) = heard.first().cloned().expect("1001 recorded its call");
    let rms = |from_s: f64, to_s: f64| {
        let at = |s: f64| ((s * f64::from(rate)) as usize).min(pcm.len());
        let part = &pcm[at(from_s)..at(to_s)];
        (part.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / part.len().max(1) as f64).sqrt()
    };
    let (whisper, talk) = (rms(0.5, 3.0), rms(4.5, 7.0));
    eprintln!(
        "RMS whisper {whisper:.0}, after the answer {talk:.0}, {} s heard",
        pcm.len() as f64 / f64::from(rate)
    );
    assert!(
        whisper > 300.0,
        "the agent hears the whisper before the citizen answers (rms {whisper:.0})"
    );
    assert!(
        talk > 300.0,
        "then the citizen's voice, bridged (rms {talk:.0})"
    );

    // The bridged callback ends as an answered call.
    let hex = talking["id"]
        .as_str()
        .and_then(|id| id.rsplit('-').next())
        .unwrap_or_default()
        .to_string();
    wait_for(Duration::from_secs(10), || {
        engine
            .log()
            .lines()
            .any(|l| l.contains("call ended") && l.contains(&hex) && l.contains("outcome=answered"))
            .then_some(())
    })
    .unwrap_or_else(|| panic!("the callback ends as answered; log:\n{}", engine.log()));

    // The conformance report's C8 follows the kept place to the callback that reached the
    // citizen (tied by the callback record's `outbound.reference`): met, nothing listed.
    let c8 = wait_for(Duration::from_secs(10), || {
        let (_, body) = engine.get("/api/conformance");
        let report: serde_json::Value = serde_json::from_str(&body).ok()?;
        let c8 = report["rules"]
            .as_array()?
            .iter()
            .find(|r| r["rule"] == "C8")?
            .clone();
        (c8["measured"]["reached"] == 1).then_some(c8)
    })
    .unwrap_or_else(|| panic!("C8 counts the callback reached; log:\n{}", engine.log()));
    assert_eq!(c8["status"], "pass", "{c8}");
    assert_eq!(c8["measured"]["offered"], 1, "{c8}");
    assert_eq!(c8["measured"]["kept"], 1, "{c8}");
    assert_eq!(c8["measured"]["tries"], 1, "{c8}");
    assert_eq!(c8["calls"], serde_json::json!([]), "{c8}");
    assert!(
        c8["measured"]["avg_time_to_callback_s"]
            .as_f64()
            .is_some_and(|s| s > 0.0),
        "{c8}"
    );
}

#[test]
fn surge_mode_is_a_supervisors_switch_shown_on_the_wallboard_and_on_standby_desks() {
    let trunk = free_port();
    let engine = Engine::start(&format!("[trunk]\naddress = \"{trunk}\"\n"));
    let call = |method: &str, token: &str, body: Option<&str>| {
        let (status, text) = http_request(engine.http, method, "/api/surge", Some(token), body);
        (
            status,
            serde_json::from_str::<serde_json::Value>(&text).unwrap_or_default(),
        )
    };
    let (status, _) = call("GET", "demo-agent-1001", None);
    assert_eq!(status, 403, "an agent does not switch surge mode");
    let (status, _) = call("POST", "demo-agent-1001", Some(r#"{"on":true}"#));
    assert_eq!(status, 403);
    let (status, view) = call("GET", "demo-supervisor", None);
    assert_eq!(status, 200, "{view}");
    assert!(view["surge"].is_null(), "{view}");
    assert_eq!(
        view["callback_offer"], true,
        "a trunk and the shipped prompts: {view}"
    );
    assert_eq!(view["callbacks_kept"], 0);
    for bad in [r#"{"on":"yes"}"#, r#"{"on":true,"x":1}"#, "{", "{}"] {
        let (status, reply) = call("POST", "demo-supervisor", Some(bad));
        assert!((400..500).contains(&status), "{bad}: {status} {reply}");
    }
    let (status, view) = call("POST", "demo-supervisor", Some(r#"{"on":true}"#));
    assert_eq!(status, 200, "{view}");
    let since = view["surge"]["since"].clone();
    assert!(since.is_string(), "{view}");
    assert!(
        view["surge"]["by"]
            .as_str()
            .is_some_and(|by| !by.is_empty()),
        "{view}"
    );
    // Turning on what is on keeps its start.
    let (_, again) = call("POST", "demo-supervisor", Some(r#"{"on":true}"#));
    assert_eq!(again["surge"]["since"], since);
    let (_, board) = http_request(
        engine.http,
        "GET",
        "/api/wallboard",
        Some("demo-supervisor"),
        None,
    );
    let board: serde_json::Value = serde_json::from_str(&board).expect("wallboard");
    assert_eq!(board["surge"]["surge"]["since"], since, "{board}");
    // Agent 1001 is logged out: its desk asks it to stand by.
    let (_, desk) = http_request(
        engine.http,
        "GET",
        "/api/desk",
        Some("demo-agent-1001"),
        None,
    );
    let desk: serde_json::Value = serde_json::from_str(&desk).expect("desk");
    assert_eq!(desk["surge"]["since"], since, "{desk}");
    let (_, metrics) = engine.get("/metrics");
    assert!(
        metrics.lines().any(|l| l == "hotline_surge_mode 1"),
        "{metrics}"
    );
    let (_, off) = call("POST", "demo-supervisor", Some(r#"{"on":false}"#));
    assert!(off["surge"].is_null(), "{off}");
    assert!(
        engine.log().contains("surge mode on") && engine.log().contains("surge mode off"),
        "both switches are logged"
    );
}

#[test]
fn a_standby_agents_desk_asks_them_to_get_ready_while_surge_mode_is_on() {
    let engine = Engine::start("");
    let (status, body) = http_request(
        engine.http,
        "POST",
        "/api/surge",
        Some("demo-supervisor"),
        Some(r#"{"on":true}"#),
    );
    assert_eq!(status, 200, "{body}");
    let tmp = tempfile::tempdir().expect("temp dir");
    let base = format!("http://{}", engine.http);
    let page = start_page("desk", &base, "demo-agent-1001", tmp.path(), &["surge"]);
    let banner = page.expect("SURGE", Duration::from_secs(60), &engine);
    assert!(banner.contains("role=alert"), "{banner}");
    assert!(
        banner.contains("来电激增"),
        "in the desk's language: {banner}"
    );
    // The time it came on, in China time as every page shows times (not the browser's zone).
    let (_, view) = http_request(
        engine.http,
        "GET",
        "/api/surge",
        Some("demo-supervisor"),
        None,
    );
    let view: serde_json::Value = serde_json::from_str(&view).expect("surge");
    let since = view["surge"]["since"].as_str().expect("since");
    let hhmmss = since.get(11..19).expect("an RFC 3339 time");
    assert!(banner.contains(hhmmss), "{hhmmss} (China time) in {banner}");
    page.expect("A11Y", Duration::from_secs(30), &engine);
    page.expect("SURGE_GONE", Duration::from_secs(30), &engine);
}
