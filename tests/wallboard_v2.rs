//! Wallboard v2 in Chromium (issue 17): 50 agents set up through the API and 30 SIPp callers
//! waiting in the enterprise queue fit one 1920×1080 screen without scrolling, and the same
//! board in large-text mode on a 3840×2160 TV; the agents table sorts and filters by queue, a
//! supervisor changes an agent's state from it, the chart has its legend and readable axis
//! labels, two web requests and a risk-word warning show too, and when the engine goes away
//! the board greys out and says since when.
//! Screenshots land in `target/browser-shots/wallboard-*.png`.

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use std::fmt::Write as _;
use std::time::Duration;

use common::pages::{start_page, submit_request};
use common::{http_request, root, sipp, wait_for, Engine};

/// 50 agents: the first 12 staff the enterprise queue, the others the general queue and one
/// of the special ones. None has
/// a registered phone, so no call is offered and all 30 callers wait.
fn agents_toml() -> String {
    let mut s = String::from("realm = \"hotline\"\nweb_capacity = 2\n");
    for i in 1..=50 {
        let skills = if i <= 12 {
            "{ skill = \"enterprise\", level = 4 }, { skill = \"general\", level = 3 }"
        } else {
            [
                "{ skill = \"general\", level = 3 }, { skill = \"dialect\", dialect = \"cantonese\", level = 4 }",
                "{ skill = \"general\", level = 3 }, { skill = \"foreign\", language = \"en\", level = 4 }",
                "{ skill = \"general\", level = 3 }, { skill = \"sign\", level = 4 }",
                "{ skill = \"general\", level = 3 }, { skill = \"high_frequency\", topic = \"housing\", level = 4 }",
                // The integrated numbers' queues (12315 market, 12333 hrss).
                "{ skill = \"general\", level = 3 }, { skill = \"high_frequency\", topic = \"market\", level = 4 }",
                "{ skill = \"general\", level = 3 }, { skill = \"high_frequency\", topic = \"social-security\", level = 4 }",
            ][i as usize % 6]
        };
        let _ = write!(
            s,
            "\n[[agent]]\nid = \"{}\"\nname = \"Agent {i:02}\"\npassword = \"demo-{}\"\nskills = [{skills}]\n",
            2000 + i,
            2000 + i
        );
    }
    s
}

fn set_state(engine: &Engine, id: u32, body: &str) {
    let (status, text) = http_request(
        engine.http,
        "POST",
        &format!("/api/agents/{id}/state"),
        Some("demo-supervisor"),
        Some(body),
    );
    assert!(
        status == 200 || status == 204,
        "{id} {body}: {status} {text}"
    );
}

#[test]
fn fifty_agents_and_thirty_waiting_calls_fit_one_screen_at_1080p_and_on_a_4k_tv() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let agents = tmp.path().join("agents50.toml");
    std::fs::write(&agents, agents_toml()).expect("agents file");
    let mut engine = Engine::start(&format!(
        "[acd]\nagents = \"{}\"\nqueues = \"{}\"\n",
        agents.display(),
        root().join("config/queues.toml").display()
    ));
    // States through the API: ready (but no phone: shown as not available), not ready with
    // reasons, logged out.
    let reasons = ["break", "meal", "meeting", "training", "paperwork"];
    for i in 1..=50u32 {
        let id = 2000 + i;
        match i % 5 {
            0 | 1 => set_state(&engine, id, r#"{"state":"ready"}"#),
            2 | 3 => set_state(
                &engine,
                id,
                &format!(
                    r#"{{"state":"not_ready","reason":"{}"}}"#,
                    reasons[i as usize % 5]
                ),
            ),
            _ => {}
        }
    }
    // 30 citizens press 1 (enterprise) and wait: nobody can be offered their call.
    let target = engine.sip;
    let callers = std::thread::spawn(move || {
        sipp(
            target,
            "uac_ivr_enterprise.xml",
            &["-m", "30", "-l", "30", "-r", "15", "-d", "90000"],
            Duration::from_secs(150),
        )
    });
    let queued = wait_for(Duration::from_secs(40), || {
        let (_, body) = engine.get("/api/wallboard");
        let v: serde_json::Value = serde_json::from_str(&body).ok()?;
        let n = v["waiting_calls"].as_array()?.len();
        (n == 30).then_some(v)
    })
    .unwrap_or_else(|| panic!("30 callers never waited; log:\n{}", engine.log()));
    // The ACD's side: a ready agent without a registered phone is never available.
    let list = queued["agent_list"].as_array().expect("agent_list");
    assert_eq!(list.len(), 50);
    assert!(list.iter().all(|a| a["available"] == false), "{list:?}");
    assert_eq!(
        list.iter()
            .filter(|a| a["state"] == "ready_no_phone")
            .count(),
        20
    );
    assert_eq!(queued["agents"]["ready"], 0, "{}", queued["agents"]);
    let w = &queued["waiting_calls"][0];
    assert_eq!(w["queue"], "enterprise", "{w}");
    assert_eq!(w["menu_path"][0], "main:1", "{w}");
    assert!(w["caller"].as_str().is_some_and(|c| c.contains('*')), "{w}");

    // Two citizens' web requests wait for an agent's acceptance; one request names a risk
    // word: both show on the board.
    let web: Vec<String> = (0..2)
        .map(|i| submit_request(&engine, &format!("小区第{i}栋楼道灯坏了很久，请尽快修理")))
        .collect();
    let (status, text) = http_request(
        engine.http,
        "POST",
        "/api/tickets",
        Some("demo-supervisor"),
        Some(
            r#"{"channel":"phone","content":"楼下饭店煤气泄漏的味道很重","urgency":"urgent","type":"help","domain":"public_service"}"#,
        ),
    );
    assert_eq!(status, 201, "{text}");
    let board = wait_for(Duration::from_secs(15), || {
        let (_, body) = engine.get("/api/wallboard");
        let v: serde_json::Value = serde_json::from_str(&body).ok()?;
        let risk = v["warnings"]
            .as_array()?
            .iter()
            .any(|w| w["rule"] == "risk_words");
        (risk && v["waiting_web"].as_array()?.len() == 2).then_some(v)
    })
    .unwrap_or_else(|| {
        panic!(
            "no risk warning or web requests on the board; log:\n{}",
            engine.log()
        )
    });
    let tickets: Vec<&str> = board["waiting_web"]
        .as_array()
        .expect("waiting_web")
        .iter()
        .filter_map(|w| w["ticket"].as_str())
        .collect();
    assert!(
        web.iter().all(|t| tickets.contains(&t.as_str())),
        "{tickets:?} vs {web:?}"
    );

    let page = start_page(
        "wallboard2",
        &format!("http://{}", engine.http),
        "demo-supervisor",
        tmp.path(),
        &[],
    );
    let small = page.expect("LAYOUT 1920", Duration::from_secs(60), &engine);
    assert!(
        small.contains("agents=50 waiting=30 web=2 risk=1 risk_alarm=1"),
        "{small}"
    );
    println!("{small}");
    let sorted = page.expect("SORTED", Duration::from_secs(20), &engine);
    assert!(sorted.contains("Agent 01,Agent 02,Agent 03"), "{sorted}");
    let filtered = page.expect("FILTERED", Duration::from_secs(20), &engine);
    assert!(
        filtered.ends_with(" 12"),
        "12 agents staff enterprise: {filtered}"
    );
    let chart = page.expect("CHART", Duration::from_secs(20), &engine);
    assert!(chart.contains("legend=4"), "{chart}");
    let set = page.expect("SET", Duration::from_secs(20), &engine);
    let id = set.split_whitespace().nth(1).expect("agent id").to_string();
    let (_, agents_now) = engine.get("/api/agents");
    let now: serde_json::Value = serde_json::from_str(&agents_now).expect("agents json");
    let agent = now
        .as_array()
        .and_then(|l| l.iter().find(|a| a["id"] == id.as_str()))
        .expect("the agent");
    assert_eq!(agent["state"], "not_ready", "{agent}");
    assert_eq!(agent["reason"], "meal", "{agent}");
    let surge_on = page.expect("SURGE on", Duration::from_secs(20), &engine);
    assert!(surge_on.contains("pressed=true"), "{surge_on}");
    let after_on = page.expect("LAYOUT 1920", Duration::from_secs(20), &engine);
    assert!(
        after_on.contains("agents=50 waiting=30"),
        "the surge line keeps the board on one screen: {after_on}"
    );
    let surge_off = page.expect("SURGE off", Duration::from_secs(20), &engine);
    assert!(surge_off.contains("pressed=false"), "{surge_off}");
    let (_, view) = http_request(
        engine.http,
        "GET",
        "/api/surge",
        Some("demo-supervisor"),
        None,
    );
    assert!(view.contains("\"surge\":null"), "off again: {view}");
    assert!(
        engine.log().contains("surge mode switched from the API"),
        "the board switched it through the API"
    );
    page.expect("A11Y", Duration::from_secs(30), &engine);
    let colours = page.expect("LEVELS", Duration::from_secs(40), &engine);
    assert!(colours.contains("red="), "{colours}");
    let large = page.expect("LAYOUT 3840", Duration::from_secs(60), &engine);
    assert!(
        large.contains("agents=50 waiting=30 web=2 risk=1 risk_alarm=1"),
        "{large}"
    );
    assert!(large.contains("large=true"), "{large}");
    println!("{large}");
    page.expect("WATCHING", Duration::from_secs(20), &engine);
    // The engine goes away: the board greys and says since when.
    engine.terminate();
    let stale = page.expect("STALE", Duration::from_secs(30), &engine);
    assert!(stale.contains("grey=true"), "{stale}");
    page.expect("DONE", Duration::from_secs(20), &engine);
    let _ = callers.join();
}
