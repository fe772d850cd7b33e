//! Issue 14's pages in Chromium against real peers: agent 1001 (baresip, auto-answer)
//! consults, joins and drops the water company from the desk, then conferences it in — a
//! handling unit whose `phone` in dispatch.toml is dialled through the `[transfer]` gateway,
//! a SIPp phone that rings for 3 s — sees it ringing then talking, and leaves the citizen
//! with it; in English, the agent consults it as an outside number of `[transfer.numbers]`
//! and completes the transfer; a supervisor on the wallboard listens to, whispers on, barges
//! into and leaves a live call with their own phone (baresip 9001, `[[supervisor]]` of
//! agents.toml), while a wall screen's token sees the call without controls; and a reload
//! of dispatch.toml changes the units the desk offers. The API confirms each step.
//! Screenshots land in `target/browser-shots/`.

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::baresip::{start_baresip_with, Baresip};
use common::pages::{shots_dir, start_page};
use common::tone_calls::citizen_calls;
use common::tones::{Law, ToneEndpoint};
use common::{http_request, sipp, wait_for, Engine};

/// One Chromium page with live media, phones and an engine per test: on a 2-core machine
/// these tests take turns (across test processes too), or their pages and media time out
/// waiting for each other's CPU.
fn one_at_a_time() -> common::ports::Turn {
    common::ports::turn("page-with-media")
}

/// A baresip phone for `user`/`password` that answers by itself, once registered.
fn phone(engine: &Engine, dir: &Path, user: &str, password: &str) -> Baresip {
    std::fs::create_dir_all(dir).expect("phone dir");
    let accounts = format!(
        "<sip:{user}@{};transport=udp>;auth_pass={password};regint=600;answermode=auto\n",
        engine.sip
    );
    let phone = start_baresip_with(dir, &accounts);
    wait_for(Duration::from_secs(15), || {
        let log = std::fs::read_to_string(dir.join("baresip.log")).ok()?;
        log.contains("200 OK").then_some(())
    })
    .unwrap_or_else(|| {
        panic!(
            "{user} never registered; baresip:\n{}\nengine:\n{}",
            std::fs::read_to_string(dir.join("baresip.log")).unwrap_or_default(),
            engine.log()
        )
    });
    phone
}

/// The live call (`/api/calls`) once `pred` holds, within `limit`; panics with the log.
fn call_where(
    engine: &Engine,
    limit: Duration,
    what: &str,
    pred: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    engine.call_where(limit, pred).unwrap_or_else(|| {
        panic!(
            "{what}; calls: {}\nlog:\n{}",
            engine.get("/api/calls").1,
            engine.log()
        )
    })
}

/// An engine whose `[transfer]` gateway is a SIPp phone of the water company (`water =
/// "96116"` in `[transfer.numbers]`) that rings 3 s and answers with an 800 Hz endpoint,
/// `calls` times; agent 1001's phone registered. Answers the engine, the agent's phone, the
/// unit's voice, the gateway's SIPp thread and its log.
fn with_water_company(
    dir: &Path,
    calls: u32,
) -> (
    Engine,
    Baresip,
    ToneEndpoint,
    std::thread::JoinHandle<common::SippRun>,
    std::path::PathBuf,
) {
    let gateway_sip = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free port for the gateway");
    let engine = Engine::start(&format!(
        "[transfer]\ngateway = \"{gateway_sip}\"\n[transfer.numbers]\n\"110\" = \"110\"\nwater = \"96116\"\n"
    ));
    let agent = phone(&engine, &dir.join("agent"), "1001", "demo-1001");
    let unit = ToneEndpoint::start(800.0, Law::Pcmu, Duration::from_secs(120));
    let gw_log = dir.join("gateway-sipp.log");
    let mut args: Vec<String> = [
        "-m".to_string(),
        calls.to_string(),
        "-p".to_string(),
        gateway_sip.port().to_string(),
    ]
    .to_vec();
    args.extend(unit.sipp_args(&gw_log));
    let target = engine.sip;
    let gateway = std::thread::spawn(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        sipp(
            target,
            "uas_unit_ringing.xml",
            &args,
            Duration::from_secs(120),
        )
    });
    (engine, agent, unit, gateway, gw_log)
}

/// Party `n` of a live call (`null` when it has none).
fn party(call: &serde_json::Value, n: u64) -> serde_json::Value {
    call["parties"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["id"] == n))
        .cloned()
        .unwrap_or_default()
}

#[test]
fn the_agent_conferences_the_water_company_in_from_the_desk_and_leaves_the_citizen_with_it() {
    let _turn = one_at_a_time();
    let tmp = tempfile::tempdir().expect("temp dir");
    // The water company's phone, called twice (a consultation, then a conference).
    let (engine, _agent, _unit, gateway, gw_log) = with_water_company(tmp.path(), 2);
    let base = format!("http://{}", engine.http);
    let desk = start_page(
        "conference",
        &base,
        "demo-agent-1001",
        tmp.path(),
        &["desk"],
    );
    desk.expect("READY", Duration::from_secs(75), &engine);
    let (_voice, caller) = citizen_calls(&engine, tmp.path(), 55_000, Law::Pcma);
    let call_line = desk.expect("CALL", Duration::from_secs(60), &engine);
    assert!(call_line.contains("1001"), "{call_line}");
    desk.expect("A11Y desk-parties", Duration::from_secs(20), &engine);
    let refused = desk.expect("REFUSED", Duration::from_secs(20), &engine);
    assert!(
        refused.len() > "REFUSED 出错了: ".len(),
        "the refusal is shown in words: {refused}"
    );
    let consult = desk.expect("CONSULT", Duration::from_secs(75), &engine);
    assert!(consult.contains("办理单位 市自来水集团"), "{consult}");
    desk.expect("A11Y desk-consult", Duration::from_secs(20), &engine);
    let joined = desk.expect("JOINED", Duration::from_secs(20), &engine);
    assert!(!joined.contains("咨询"), "{joined}");
    let dropped = desk.expect("DROPPED", Duration::from_secs(20), &engine);
    assert!(dropped.contains("已离开"), "{dropped}");
    let ringing = desk.expect("RINGING", Duration::from_secs(20), &engine);
    assert!(ringing.contains("市自来水集团"), "{ringing}");
    let id = call_where(&engine, Duration::from_secs(5), "the call", |c| {
        c["state"] == "talking"
    })["id"]
        .as_str()
        .expect("call id")
        .to_string();
    let talking = desk.expect("TALKING", Duration::from_secs(75), &engine);
    assert!(talking.contains("市自来水集团"), "{talking}");
    // The engine dialled the water company's number at the gateway.
    let logged = common::tones::sipp_logged(&gw_log, "called", Duration::from_secs(5));
    assert_eq!(logged.as_deref(), Some("96116"));
    desk.expect("A11Y desk-conference", Duration::from_secs(20), &engine);
    // Party 2 (the consultation, merged, then dropped) has left; party 3 is in the conference.
    let with_unit = call_where(
        &engine,
        Duration::from_secs(5),
        "the water company on the call",
        |c| {
            let (consulted, conferenced) = (party(c, 2), party(c, 3));
            c["id"] == id.as_str()
                && c["agent"] == "1001"
                && consulted["party"]["unit"] == "water"
                && consulted["state"] == "left"
                && conferenced["party"]["unit"] == "water"
                && conferenced["role"] == "conference"
                && conferenced["state"] == "talking"
        },
    );
    assert!(party(&with_unit, 3)["joined_at"].is_string(), "{with_unit}");
    assert!(party(&with_unit, 2)["left_at"].is_string(), "{with_unit}");

    // The agent leaves: the call goes on between the citizen and the water company.
    desk.expect("LEFT", Duration::from_secs(20), &engine);
    let after = call_where(
        &engine,
        Duration::from_secs(10),
        "the call without the agent",
        |c| c["id"] == id.as_str() && c["state"] == "talking" && c["agent"].is_null(),
    );
    assert_eq!(after["transfers"][0], "1001 → unit water", "{after}");
    // The unit's participation is on the call's ticket (W3).
    let ticket = after["ticket"]
        .as_str()
        .expect("the call's ticket")
        .to_string();
    let (status, body) = engine.get(&format!("/api/tickets/{ticket}"));
    assert_eq!(status, 200, "{body}");
    let t: serde_json::Value = serde_json::from_str(&body).expect("ticket json");
    assert!(
        t["participation"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["unit"] == "water")),
        "{t}"
    );
    assert_eq!(party(&after, 3)["state"], "talking", "{after}");
    // Still on 2 s later, and the agent is in wrap-up.
    std::thread::sleep(Duration::from_secs(2));
    call_where(
        &engine,
        Duration::from_secs(1),
        "the call still going",
        |c| c["id"] == id.as_str() && c["state"] == "talking",
    );
    let (_, agents) = engine.get("/api/agents");
    assert!(
        agents.contains(r#""id":"1001","name""#)
            && agents
                .split(r#""id":"1001""#)
                .nth(1)
                .is_some_and(|a| a.split('}').next().is_some_and(|a| a.contains("wrap_up"))),
        "{agents}"
    );
    caller.join().expect("citizen thread").assert_ok();
    gateway.join().expect("gateway thread").assert_ok();
    for shot in [
        "desk-conference-ringing",
        "desk-conference-talking",
        "desk-conference-left",
    ] {
        assert!(shots_dir().join(format!("{shot}.png")).exists(), "{shot}");
    }
}

#[test]
fn a_supervisor_listens_whispers_barges_and_stops_on_the_wallboard_a_screen_only_watches() {
    let _turn = one_at_a_time();
    let engine = Engine::start("");
    let base = format!("http://{}", engine.http);
    let tmp = tempfile::tempdir().expect("temp dir");
    let _agent = phone(&engine, &tmp.path().join("agent"), "1001", "demo-1001");
    let _supervisor = phone(
        &engine,
        &tmp.path().join("supervisor"),
        "9001",
        "demo-supervisor",
    );
    let (status, body) = http_request(
        engine.http,
        "POST",
        "/api/agents/1001/state",
        Some("demo-agent-1001"),
        Some(r#"{"state":"ready"}"#),
    );
    assert_eq!(status, 204, "{body}");
    let (_voice, caller) = citizen_calls(&engine, tmp.path(), 45_000, Law::Pcma);
    let id = call_where(
        &engine,
        Duration::from_secs(40),
        "agent 1001 answers",
        |c| c["state"] == "talking" && c["agent"] == "1001",
    )["id"]
        .as_str()
        .expect("call id")
        .to_string();

    let board = start_page(
        "conference",
        &base,
        "demo-supervisor",
        tmp.path(),
        &["wallboard", "demo-wallboard"],
    );
    let listed = board.expect("LISTED", Duration::from_secs(75), &engine);
    assert!(listed.contains("*") && listed.contains("1001"), "{listed}");
    board.expect("A11Y wallboard-calls", Duration::from_secs(20), &engine);
    let supervisor = |mode: &str, state: &str| {
        let (mode, state, id) = (mode.to_string(), state.to_string(), id.clone());
        call_where(
            &engine,
            Duration::from_secs(10),
            &format!("the supervisor {mode} {state}"),
            move |c| {
                c["id"] == id.as_str()
                    && c["parties"].as_array().is_some_and(|ps| {
                        ps.iter().any(|p| {
                            p["party"]["kind"] == "supervisor"
                                && p["party"]["user"] == "supervisor"
                                && p["party"]["mode"] == mode.as_str()
                                && p["role"] == "monitor"
                                && p["state"] == state.as_str()
                        })
                    })
            },
        )
    };
    board.expect("LISTEN", Duration::from_secs(75), &engine);
    supervisor("listen", "talking");
    board.expect("WHISPER", Duration::from_secs(75), &engine);
    supervisor("whisper", "talking");
    board.expect("BARGE", Duration::from_secs(75), &engine);
    let barged = supervisor("barge", "talking");
    // Still one leg: the mode changed, the phone was not rung again.
    let legs = barged["parties"].as_array().map_or(0, |ps| ps.len());
    assert_eq!(legs, 1, "{barged}");
    board.expect("STOPPED", Duration::from_secs(75), &engine);
    let stopped = supervisor("barge", "left");
    assert!(stopped["parties"][0]["left_at"].is_string(), "{stopped}");
    let readonly = board.expect("READONLY", Duration::from_secs(75), &engine);
    assert!(readonly.contains("*"), "{readonly}");
    board.expect("A11Y wallboard-readonly", Duration::from_secs(20), &engine);
    caller.join().expect("citizen thread").assert_ok();
    for shot in [
        "wallboard-calls",
        "wallboard-listen",
        "wallboard-barge",
        "wallboard-calls-readonly",
    ] {
        assert!(shots_dir().join(format!("{shot}.png")).exists(), "{shot}");
    }
}

#[test]
fn the_agent_consults_the_water_company_in_english_and_completes_the_transfer_to_it() {
    let _turn = one_at_a_time();
    let tmp = tempfile::tempdir().expect("temp dir");
    let (engine, _agent, _unit, gateway, _) = with_water_company(tmp.path(), 1);
    let base = format!("http://{}", engine.http);
    let desk = start_page(
        "conference",
        &base,
        "demo-agent-1001",
        tmp.path(),
        &["handover"],
    );
    desk.expect("READY", Duration::from_secs(75), &engine);
    let (_voice, caller) = citizen_calls(&engine, tmp.path(), 40_000, Law::Pcma);
    desk.expect("CALL", Duration::from_secs(60), &engine);
    let consult = desk.expect("CONSULT", Duration::from_secs(75), &engine);
    assert!(consult.contains("consultation"), "{consult}");
    let id = call_where(&engine, Duration::from_secs(5), "the consultation", |c| {
        party(c, 2)["role"] == "consult" && c["on_hold"] == true
    })["id"]
        .as_str()
        .expect("call id")
        .to_string();
    desk.expect("A11Y desk-consult-en", Duration::from_secs(20), &engine);
    let handed = desk.expect("HANDED", Duration::from_secs(20), &engine);
    assert!(handed.contains("Handed over to"), "{handed}");
    // The water company has the call: the citizen off hold, the agent gone to wrap-up.
    let after = call_where(
        &engine,
        Duration::from_secs(10),
        "the call with the water company",
        |c| {
            c["id"] == id.as_str()
                && c["state"] == "talking"
                && c["agent"].is_null()
                && c["on_hold"] == false
                && party(c, 2)["state"] == "talking"
        },
    );
    assert_eq!(after["transfers"][0], "1001 → water", "{after}");
    caller.join().expect("citizen thread").assert_ok();
    gateway.join().expect("gateway thread").assert_ok();
    assert!(shots_dir().join("desk-consult-en.png").exists());
}

#[test]
fn a_reload_of_dispatch_toml_changes_the_units_the_desk_offers() {
    let engine = Engine::start(
        "[transfer]\ngateway = \"127.0.0.1:9\"\n[transfer.numbers]\n\"110\" = \"110\"\n",
    );
    let units = || {
        let (status, body) = http_request(
            engine.http,
            "GET",
            "/api/desk",
            Some("demo-agent-1001"),
            None,
        );
        assert_eq!(status, 200, "{body}");
        let desk: serde_json::Value = serde_json::from_str(&body).expect("desk json");
        assert_eq!(
            desk["call_in_numbers"],
            serde_json::json!(["110"]),
            "{desk}"
        );
        desk["call_in_units"]
            .as_array()
            .expect("call_in_units")
            .iter()
            .map(|u| {
                format!(
                    "{}={}",
                    u["id"].as_str().unwrap_or(""),
                    u["name"].as_str().unwrap_or("")
                )
            })
            .collect::<Vec<_>>()
    };
    assert!(
        units().contains(&"water=市自来水集团".to_string()),
        "{:?}",
        units()
    );
    // The water company's phone taken out of dispatch.toml, then SIGHUP: the desks follow.
    let file = engine.data_dir.path().join("project/config/dispatch.toml");
    let text = std::fs::read_to_string(&file).expect("dispatch.toml");
    std::fs::remove_file(&file).expect("unlink the shipped file");
    std::fs::write(&file, text.replace("phone = \"96116\"\n", "")).expect("write dispatch.toml");
    let status = std::process::Command::new("kill")
        .args(["-HUP", &engine.pid().to_string()])
        .status()
        .expect("kill -HUP");
    assert!(status.success());
    wait_for(Duration::from_secs(20), || {
        engine.log().contains("reloaded: ").then_some(())
    })
    .unwrap_or_else(|| panic!("no reload; log:\n{}", engine.log()));
    let after = units();
    assert!(!after.iter().any(|u| u.starts_with("water=")), "{after:?}");
    assert!(
        !after.is_empty(),
        "the other units keep their phones: {after:?}"
    );
}
