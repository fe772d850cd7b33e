//! The supervisors' report page (`/reports`, issue 17) in Chromium against the running engine:
//! every rule with its verdict (a registered request: W2 met; no call yet: C2 not measurable;
//! the menus' rule met as enforced), the page passes axe-core, the agents' CSV downloads with
//! the token, and the page prints without its form (`tests/browser/reports.mjs`).

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::Duration;

use common::pages::start_page;
use common::{http_request, Engine};

#[test]
fn the_report_page_shows_every_rule_with_its_verdict_and_prints() {
    let engine = Engine::start("");
    // One registered request (W2 holds for it).
    let body = serde_json::json!({
        "channel": "web", "caller": {"phone": "13812345678"}, "content": "咨询公积金提取",
        "urgency": "non_urgent", "type": "consultation", "domain": "public_service"
    });
    let (status, text) = http_request(
        engine.http,
        "POST",
        "/api/tickets",
        Some("demo-agent-1001"),
        Some(&body.to_string()),
    );
    assert_eq!(status, 201, "{text}");
    let tmp = tempfile::tempdir().expect("temp dir");
    let base = format!("http://{}", engine.http);
    let page = start_page("reports", &base, "demo-supervisor", tmp.path(), &[]);
    let rules = page.expect("RULES", Duration::from_secs(60), &engine);
    assert_eq!(
        rules, "RULES 35 W2=pass C4=pass C2=not_measurable",
        "{rules}"
    );
    // The staffing need of the day beside the agents logged in (no history here: one row
    // saying so), with what it rests on.
    let staffing = page.expect("STAFFING", Duration::from_secs(5), &engine);
    assert!(
        staffing.contains("Erlang") && staffing.contains("15"),
        "{staffing}"
    );
    let summary = page.expect("SUMMARY", Duration::from_secs(5), &engine);
    assert!(summary.contains("符合"), "{summary}");
    page.expect("A11Y reports", Duration::from_secs(30), &engine);
    let csv = page.expect("CSV", Duration::from_secs(10), &engine);
    assert!(csv.starts_with("CSV agent,offered,answered,"), "{csv}");
    page.expect("PRINT ok", Duration::from_secs(10), &engine);
}
