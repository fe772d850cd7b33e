//! An agent at a real softphone (baresip, headless, auto-answer, a sine tone as its voice)
//! and a citizen played by SIPp: the agent registers (a wrong password is refused), goes
//! ready over the API, the caller presses 1, the enterprise agent's phone rings and answers,
//! the caller hangs up, the agent goes to wrap-up.

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::Duration;

use common::baresip::{start_baresip, start_baresip_with};
use common::{http_request, sipp, wait_for, Engine};

fn agents(engine: &Engine, token: &str) -> serde_json::Value {
    let (status, body) = http_request(engine.http, "GET", "/api/agents", Some(token), None);
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("json")
}

fn agent<'a>(list: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    list.as_array()
        .and_then(|a| a.iter().find(|x| x["id"] == id))
        .unwrap_or_else(|| panic!("agent {id} in {list}"))
}

/// Waits for agent `id`'s phone to register, then makes the agent ready.
fn registered_and_ready(engine: &Engine, id: &str) {
    wait_for(Duration::from_secs(15), || {
        (agent(&agents(engine, "demo-supervisor"), id)["registered"] == true).then_some(())
    })
    .unwrap_or_else(|| panic!("{id} registers; log:\n{}", engine.log()));
    let (status, body) = http_request(
        engine.http,
        "POST",
        &format!("/api/agents/{id}/state"),
        Some("demo-supervisor"),
        Some(r#"{"state":"ready"}"#),
    );
    assert_eq!(status, 204, "{body}");
}

/// The value of one sample (`family{labels}`) of a `/metrics` page.
fn sample(metrics: &str, family: &str) -> u64 {
    metrics
        .lines()
        .find(|l| l.starts_with(family))
        .and_then(|l| l.split_whitespace().last()?.parse().ok())
        .unwrap_or_else(|| panic!("{family} in /metrics:\n{metrics}"))
}

#[test]
fn an_agent_registers_goes_ready_and_answers_a_citizen_who_pressed_1() {
    let engine = Engine::start("");
    // No token: 401. Calls and KPIs are for the hotline's supervisors (and screens): an
    // agent or a handling unit gets 403, a wallboard sees live figures but no call records.
    let (status, _) = http_request(engine.http, "GET", "/api/agents", None, None);
    assert_eq!(status, 401);
    for (path, token, expected) in [
        ("/api/stats", None, 401),
        ("/api/calls", None, 401),
        ("/api/calls/recent", None, 401),
        ("/api/stats", Some("demo-agent-1001"), 403),
        ("/api/calls", Some("demo-unit-water"), 403),
        ("/api/calls/recent", Some("demo-wallboard"), 403),
        ("/api/stats", Some("demo-wallboard"), 200),
        ("/api/calls", Some("demo-wallboard"), 200),
        ("/api/calls/recent", Some("demo-reviewer"), 200),
        ("/api/agents", Some("demo-unit-water"), 403),
        ("/api/agents", Some("demo-wallboard"), 200),
    ] {
        let (status, body) = http_request(engine.http, "GET", path, token, None);
        assert_eq!(status, expected, "{path} with {token:?}: {body}");
    }
    let list = agents(&engine, "demo-supervisor");
    assert_eq!(list.as_array().map(Vec::len), Some(6));
    assert_eq!(agent(&list, "1001")["registered"], false);

    let dir = tempfile::tempdir().expect("temp dir");
    let phone = start_baresip(dir.path(), engine.sip);
    wait_for(Duration::from_secs(15), || {
        let list = agents(&engine, "demo-supervisor");
        (agent(&list, "1001")["registered"] == true).then_some(())
    })
    .unwrap_or_else(|| panic!("1001 never registered; log:\n{}", engine.log()));
    // The wrong password is refused: 1002 stays unregistered.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        agent(&agents(&engine, "demo-supervisor"), "1002")["registered"],
        false
    );
    assert!(
        engine
            .log()
            .contains("authentication failed: 127.0.0.1 as \"1002\""),
        "the refusal is logged"
    );

    // Only the agent itself (or a supervisor) may change its state.
    let ready = r#"{"state":"ready"}"#;
    let (status, _) = http_request(
        engine.http,
        "POST",
        "/api/agents/1001/state",
        Some("demo-agent-1002"),
        Some(ready),
    );
    assert_eq!(status, 403);
    let (status, body) = http_request(
        engine.http,
        "POST",
        "/api/agents/1001/state",
        Some("demo-agent-1001"),
        Some(ready),
    );
    assert_eq!(status, 204, "{body}");
    assert_eq!(
        agent(&agents(&engine, "demo-agent-1001"), "1001")["state"],
        "ready"
    );

    // A citizen presses 1 (enterprise service), talks, presses 5 for the agent, hangs up.
    let target = engine.sip;
    let caller = std::thread::spawn(move || {
        sipp(
            target,
            "uac_ivr_enterprise_keys.xml",
            &["-m", "1", "-d", "6000"],
            Duration::from_secs(40),
        )
    });
    let talking = engine
        .call_where(Duration::from_secs(15), |c| c["state"] == "talking")
        .unwrap_or_else(|| {
            panic!(
                "the agent never answered; engine log:\n{}\nbaresip:\n{}",
                engine.log(),
                std::fs::read_to_string(dir.path().join("baresip.log")).unwrap_or_default()
            )
        });
    assert_eq!(talking["agent"], "1001");
    assert_eq!(talking["queue"], "enterprise");
    // The agent presses 7 on the phone (say, to dial through a caller's own menu): it goes
    // to the caller as an RFC 4733 event (counted on /metrics below).
    phone.command("sndcode", "7");
    assert!(
        talking["wait_s"].as_f64().is_some_and(|w| w < 15.0),
        "{talking}"
    );
    assert_eq!(
        agent(&agents(&engine, "demo-supervisor"), "1001")["state"],
        "talking"
    );
    // The answer opened a draft ticket: the live call names it, and it names the call.
    let call_id = talking["id"].as_str().expect("call id").to_string();
    let ticket = engine
        .call_where(Duration::from_secs(5), |c| c["ticket"].is_string())
        .and_then(|c| c["ticket"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("no draft ticket on the call; log:\n{}", engine.log()));
    let (status, body) = http_request(
        engine.http,
        "GET",
        &format!("/api/tickets/{ticket}"),
        Some("demo-agent-1001"),
        None,
    );
    assert_eq!(status, 200, "{body}");
    let draft: serde_json::Value = serde_json::from_str(&body).expect("ticket json");
    assert_eq!(draft["state"], "draft", "{draft}");
    assert_eq!(draft["call_id"], call_id.as_str(), "{draft}");
    assert_eq!(draft["channel"], "phone", "{draft}");
    // The agent fills it in while talking.
    let complete = r#"{"action":"complete","content":"企业开办咨询：营业执照办理流程","urgency":"non_urgent","type":"consultation","domain":"market_supervision"}"#;
    let (status, body) = http_request(
        engine.http,
        "POST",
        &format!("/api/tickets/{ticket}/actions"),
        Some("demo-agent-1001"),
        Some(complete),
    );
    assert_eq!(status, 200, "{body}");

    let run = caller.join().expect("sipp thread");
    run.assert_ok();
    // The 5 the caller pressed during the conversation reached the agent's phone as an
    // RFC 4733 event, once (passed through, not also regenerated).
    let phone = std::fs::read_to_string(dir.path().join("baresip.log")).unwrap_or_default();
    assert_eq!(
        phone.matches("received event: '5'").count(),
        1,
        "baresip:\n{phone}\nengine:\n{}",
        engine.log()
    );
    // The caller hung up: the agent wraps up, and the record says who answered.
    let state = wait_for(Duration::from_secs(5), || {
        let s = agent(&agents(&engine, "demo-supervisor"), "1001")["state"].clone();
        (s == "wrap_up").then_some(s)
    });
    assert!(state.is_some(), "agent in wrap-up after the call");
    // The record is written once the recording is closed and hashed.
    let record = &engine
        .latest_record(Duration::from_secs(5))
        .expect("a call record");
    assert_eq!(record["outcome"], "answered");
    assert_eq!(record["agent"], "1001");
    assert!(record["recording"]
        .as_str()
        .is_some_and(|r| r.starts_with("recordings/")));
    // Both directions: the record names the ticket, the ticket carries the hashed recording.
    assert_eq!(record["ticket"], ticket.as_str(), "{record}");
    let recorded = wait_for(Duration::from_secs(5), || {
        let (_, body) = http_request(
            engine.http,
            "GET",
            &format!("/api/tickets?call_id={call_id}"),
            Some("demo-supervisor"),
            None,
        );
        let page: serde_json::Value = serde_json::from_str(&body).ok()?;
        let id = page["items"][0]["id"].as_str()?.to_string();
        let (_, body) = http_request(
            engine.http,
            "GET",
            &format!("/api/tickets/{id}"),
            Some("demo-supervisor"),
            None,
        );
        let t: serde_json::Value = serde_json::from_str(&body).ok()?;
        t["recording"]["sha256"].is_string().then_some(t)
    })
    .expect("the recording reaches the ticket");
    assert_eq!(recorded["id"], ticket.as_str());
    assert_eq!(recorded["state"], "received", "{recorded}");
    assert_eq!(
        recorded["recording"]["sha256"], record["recording_sha256"],
        "{recorded}"
    );
    // The recording: stereo, caller left and agent right, both with signal (the caller's
    // SIPp plays speech, the agent's baresip a 440 Hz tone), so RTP came in both ways.
    let path = engine
        .data_dir
        .path()
        .join(record["recording"].as_str().expect("recording path"));
    let mut wav = hound::WavReader::open(&path).expect("a readable WAV");
    assert_eq!(wav.spec().channels, 2);
    assert_eq!(wav.spec().sample_rate, 8000);
    let samples: Vec<i16> = wav.samples::<i16>().map_while(Result::ok).collect();
    let energy = |ch: usize| {
        let n = samples.len() / 2;
        let sum: f64 = (0..n).map(|i| f64::from(samples[2 * i + ch]).powi(2)).sum();
        (sum / n.max(1) as f64).sqrt()
    };
    let (left, right) = (energy(0), energy(1));
    assert!(left > 100.0, "caller channel has signal: rms {left:.0}");
    assert!(right > 100.0, "agent channel has signal: rms {right:.0}");
    // Citizens' data is the engine's user's only (C16): folders 0700, files 0600.
    {
        use std::os::unix::fs::PermissionsExt;
        let data = engine.data_dir.path();
        let mode = |p: &std::path::Path| {
            std::fs::metadata(p)
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode(data), 0o700, "the data folder");
        assert_eq!(mode(&path), 0o600, "the recording");
        assert_eq!(
            mode(path.parent().expect("day folder")),
            0o700,
            "its folder"
        );
        // (`project/` and `engine.log` are the test harness's, not the engine's.)
        for entry in std::fs::read_dir(data).expect("data folder").flatten() {
            let p = entry.path();
            if entry.file_name() == "project" || entry.file_name() == "engine.log" {
                continue;
            }
            let want = if p.is_dir() { 0o700 } else { 0o600 };
            assert_eq!(mode(&p), want, "{}", p.display());
        }
        for entry in std::fs::read_dir(data.join("calls"))
            .expect("calls")
            .flatten()
        {
            assert_eq!(mode(&entry.path()), 0o600, "{}", entry.path().display());
        }
    }
    // Audio went out both ways too: the engine relayed packets to each side.
    let (_, metrics) = engine.get("/metrics");
    for family in [
        r#"hotline_rtp_packets_relayed_total{direction="to_agent"}"#,
        r#"hotline_rtp_packets_relayed_total{direction="to_caller"}"#,
    ] {
        let n = sample(&metrics, family);
        assert!(n > 50, "{family} = {n}");
    }
    // Keys went through both ways as events: the caller's 5 and the agent's 7.
    for family in [
        r#"hotline_rtp_events_relayed_total{direction="to_agent"}"#,
        r#"hotline_rtp_events_relayed_total{direction="to_caller"}"#,
    ] {
        let n = sample(&metrics, family);
        assert!(n >= 1, "{family} = {n}");
    }
    // The KPIs count the call by hand: answered within 15 s, overall and for its queue.
    let (_, body) = engine.get("/api/stats");
    let stats: serde_json::Value = serde_json::from_str(&body).expect("stats json");
    for r in [&stats["today"], &stats["last_24h"]] {
        assert_eq!(r["offered"], 1, "{stats}");
        assert_eq!(r["answered"], 1, "{stats}");
        assert_eq!(r["answered_within_15s"], 1, "{stats}");
        assert_eq!(r["answer_rate_15s"], 1.0, "{stats}");
        assert_eq!(r["connection_rate"], 1.0, "{stats}");
        assert!(
            r["avg_handle_s"].as_f64().is_some_and(|s| s > 1.0),
            "{stats}"
        );
    }
    let enterprise = stats["queues"]
        .as_array()
        .and_then(|q| q.iter().find(|q| q["name"] == "enterprise"))
        .expect("the enterprise queue");
    assert_eq!(enterprise["today"]["answered_within_15s"], 1, "{stats}");
    let (status, _) = http_request(
        engine.http,
        "POST",
        "/api/agents/1001/wrap-up-done",
        Some("demo-agent-1001"),
        None,
    );
    assert_eq!(status, 204);
    assert_eq!(
        agent(&agents(&engine, "demo-supervisor"), "1001")["state"],
        "ready"
    );
}

#[test]
fn the_agent_transfers_a_caller_to_another_queue_from_the_desktop() {
    let engine = Engine::start("");
    let dir = tempfile::tempdir().expect("temp dir");
    let _phone = start_baresip(dir.path(), engine.sip);
    registered_and_ready(&engine, "1001");
    let target = engine.sip;
    let caller = std::thread::spawn(move || {
        sipp(
            target,
            "uac_ivr_enterprise.xml",
            &["-m", "1", "-d", "6000"],
            Duration::from_secs(40),
        )
    });
    let call = engine
        .call_where(Duration::from_secs(15), |c| c["state"] == "talking")
        .expect("the agent answers");
    let id = call["id"].as_str().expect("call id").to_string();
    let path = format!("/api/calls/{id}/transfer");
    // Another agent may not transfer 1001's call; 1001 may.
    let body = r#"{"queue":"dialect"}"#;
    let (status, _) = http_request(
        engine.http,
        "POST",
        &path,
        Some("demo-agent-1002"),
        Some(body),
    );
    assert_eq!(status, 409);
    let (status, reply) = http_request(
        engine.http,
        "POST",
        &path,
        Some("demo-agent-1001"),
        Some(body),
    );
    assert_eq!(status, 204, "{reply}");
    let (_, body) = engine.get("/api/calls");
    let calls: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(calls[0]["queue"], "dialect");
    assert_eq!(calls[0]["transfers"][0], "1001 → queue dialect");
    assert_eq!(
        agent(&agents(&engine, "demo-supervisor"), "1001")["state"],
        "wrap_up"
    );
    let run = caller.join().expect("sipp thread");
    run.assert_ok();
    // The record is written once the recording is closed and hashed.
    let record = engine
        .latest_record(Duration::from_secs(5))
        .expect("a call record");
    assert_eq!(record["outcome"], "abandoned_in_queue");
    assert_eq!(record["transfers"][0], "1001 → queue dialect");
    assert!(record["recording_sha256"].is_string(), "{record}");
}

#[test]
fn the_agent_transfers_an_urgent_caller_to_110_through_the_gateway() {
    let gateway = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free port for the gateway");
    let engine = Engine::start(&format!(
        "[transfer]\ngateway = \"{gateway}\"\n[transfer.numbers]\n\"110\" = \"110\"\n"
    ));
    let dir = tempfile::tempdir().expect("temp dir");
    let _phone = start_baresip(dir.path(), engine.sip);
    registered_and_ready(&engine, "1001");
    let target = engine.sip;
    let caller = std::thread::spawn(move || {
        sipp(
            target,
            "uac_ivr_enterprise.xml",
            &["-m", "1", "-d", "8000"],
            Duration::from_secs(40),
        )
    });
    let call = engine
        .call_where(Duration::from_secs(15), |c| c["state"] == "talking")
        .expect("the agent answers");
    let id = call["id"].as_str().expect("call id").to_string();
    // With a gateway, the desk offers the configured outside number beside the queues.
    let (_, desk) = http_request(
        engine.http,
        "GET",
        "/api/desk",
        Some("demo-agent-1001"),
        None,
    );
    let desk: serde_json::Value = serde_json::from_str(&desk).expect("desk json");
    assert_eq!(
        desk["transfer_to"],
        serde_json::json!([
            "general",
            "enterprise",
            "dialect",
            "foreign",
            "sign",
            "high_frequency",
            "market",
            "hrss",
            "110"
        ]),
        "{desk}"
    );
    let port = gateway.port().to_string();
    let gw = std::thread::spawn(move || {
        sipp(
            target,
            "uas_gateway.xml",
            &["-m", "1", "-p", &port],
            Duration::from_secs(40),
        )
    });
    std::thread::sleep(Duration::from_millis(500));
    let path = format!("/api/calls/{id}/transfer");
    // A number that is not configured is refused with a reason.
    let (status, reply) = http_request(
        engine.http,
        "POST",
        &path,
        Some("demo-agent-1001"),
        Some(r#"{"queue":"999"}"#),
    );
    assert_eq!(status, 422, "{reply}");
    // The agent is told what to do; the configuration hint is the administrator's (log).
    assert!(
        reply.contains("choose one of the desk's transfer targets"),
        "{reply}"
    );
    assert!(!reply.contains("[transfer]"), "{reply}");
    let (status, reply) = http_request(
        engine.http,
        "POST",
        &path,
        Some("demo-agent-1001"),
        Some(r#"{"queue":"110"}"#),
    );
    assert_eq!(status, 204, "{reply}");
    engine
        .call_where(Duration::from_secs(5), |c| {
            c["state"] == "talking" && c["transfers"][0] == "1001 → 110"
        })
        .unwrap_or_else(|| panic!("110 answers; log:\n{}", engine.log()));
    caller.join().expect("sipp thread").assert_ok();
    gw.join().expect("gateway thread").assert_ok();
    let record = engine
        .latest_record(Duration::from_secs(5))
        .expect("a call record");
    assert_eq!(record["outcome"], "answered", "{record}");
    assert_eq!(record["transfers"][0], "1001 → 110");
    // C12: the transfer made the call's ticket urgent and linked to 110 in the same step,
    // with the time from the call's start to the linkage.
    let ticket = record["ticket"]
        .as_str()
        .expect("the call's ticket")
        .to_string();
    let t = wait_for(Duration::from_secs(10), || {
        let (_, body) = http_request(
            engine.http,
            "GET",
            &format!("/api/tickets/{ticket}"),
            Some("demo-supervisor"),
            None,
        );
        let t: serde_json::Value = serde_json::from_str(&body).ok()?;
        (t["urgency"] == "urgent").then_some(t)
    })
    .unwrap_or_else(|| panic!("the ticket never became urgent; log:\n{}", engine.log()));
    assert_eq!(t["state"], "linked", "{t}");
    let linked = t["history"]
        .as_array()
        .and_then(|h| {
            h.iter()
                .find(|e| e["event"] == "emergency_transferred" || e["event"] == "linked_emergency")
        })
        .cloned()
        .unwrap_or_else(|| panic!("no linkage event: {t}"));
    assert_eq!(linked["actor"]["role"], "system", "{linked}");
    assert!(record["recording_sha256"].is_string(), "{record}");
}

#[test]
fn an_agent_who_does_not_answer_is_skipped_and_the_next_agent_answers() {
    let engine = Engine::start("");
    let dir = tempfile::tempdir().expect("temp dir");
    let sip = engine.sip;
    // 1001 (enterprise 5) lets it ring; 1002 (general) answers.
    let _phones = start_baresip_with(
        dir.path(),
        &format!(
            "<sip:1001@{sip};transport=udp>;auth_pass=demo-1001;regint=600;answermode=manual\n\
             <sip:1002@{sip};transport=udp>;auth_pass=demo-1002;regint=600;answermode=auto\n"
        ),
    );
    for id in ["1001", "1002"] {
        registered_and_ready(&engine, id);
    }
    // The caller (SIPp's first call is from 13812341) wrote in before, on the web.
    let (status, body) = http_request(
        engine.http,
        "POST",
        "/api/tickets",
        Some("demo-agent-1002"),
        Some(
            r#"{"channel":"web","caller":{"phone":"13812341"},"content":"企业开办咨询","urgency":"non_urgent","type":"consultation","domain":"market_supervision"}"#,
        ),
    );
    assert_eq!(status, 201, "{body}");
    let earlier: serde_json::Value = serde_json::from_str(&body).expect("json");
    let earlier = earlier["id"].as_str().expect("id").to_string();
    let caller = std::thread::spawn(move || {
        sipp(
            sip,
            "uac_ivr_enterprise.xml",
            &["-m", "1", "-d", "16000"],
            Duration::from_secs(40),
        )
    });
    // 1001 rings first (the enterprise specialist), for the queue's 8 s ring timeout.
    let ringing = engine
        .call_where(Duration::from_secs(10), |c| c["state"] == "ringing")
        .expect("an agent's phone rings");
    assert_eq!(ringing["offered_to"], "1001", "{ringing}");
    assert_eq!(
        agent(&agents(&engine, "demo-supervisor"), "1001")["state"],
        "reserved"
    );
    // While it rings, 1001's desk shows the call (masked) and the caller's earlier tickets.
    let (status, body) = http_request(
        engine.http,
        "GET",
        "/api/desk",
        Some("demo-agent-1001"),
        None,
    );
    assert_eq!(status, 200, "{body}");
    let desk: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(desk["call"]["id"], ringing["id"], "{desk}");
    assert_eq!(desk["call"]["caller"], "13****41", "{desk}");
    let history = |token: &str| {
        let path = format!(
            "/api/tickets?same_caller_as_call={}",
            ringing["id"].as_str().expect("call id")
        );
        http_request(engine.http, "GET", &path, Some(token), None)
    };
    let (status, body) = history("demo-agent-1001");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&earlier), "{body}");
    assert!(
        !body.contains("13812341"),
        "the number stays on the server: {body}"
    );
    // Another agent, or a handling unit, may not look up this caller.
    let (status, body) = history("demo-agent-1002");
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("not_your_call"), "{body}");
    assert_eq!(history("demo-unit-water").0, 403);
    let talking = engine
        .call_where(Duration::from_secs(20), |c| c["state"] == "talking")
        .unwrap_or_else(|| panic!("the next agent answers; log:\n{}", engine.log()));
    assert_eq!(talking["agent"], "1002", "{talking}");
    let list = agents(&engine, "demo-supervisor");
    assert_eq!(agent(&list, "1001")["state"], "not_ready");
    assert_eq!(agent(&list, "1001")["reason"], "no_answer");
    caller.join().expect("sipp thread").assert_ok();
    let record = engine
        .latest_record(Duration::from_secs(5))
        .expect("a call record");
    assert_eq!(record["agent"], "1002", "{record}");
    assert_eq!(record["outcome"], "answered");
}

#[test]
fn a_caller_who_gives_up_waiting_is_counted_as_abandoned() {
    let engine = Engine::start("");
    // Nobody is ready: the caller presses 1, waits 7 s (past the 5 s grace) and hangs up.
    sipp(
        engine.sip,
        "uac_ivr_enterprise.xml",
        &["-m", "1", "-d", "7000"],
        Duration::from_secs(40),
    )
    .assert_ok();
    let record = engine
        .latest_record(Duration::from_secs(5))
        .expect("a call record");
    assert_eq!(record["outcome"], "abandoned_in_queue", "{record}");
    let (status, body) = engine.get("/api/stats");
    assert_eq!(status, 200);
    let stats: serde_json::Value = serde_json::from_str(&body).expect("json");
    for period in ["today", "last_24h"] {
        let r = &stats[period];
        assert_eq!(r["abandoned"], 1, "{stats}");
        assert_eq!(r["answered"], 0, "{stats}");
        assert_eq!(r["counted"], 1, "{stats}");
        assert_eq!(r["connection_rate"], 0.0, "{stats}");
    }
}
