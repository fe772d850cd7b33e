//! Issue 21's desk in a real browser (Debian's Chromium, headless, playwright-core from
//! `tests/browser/area.mjs`): agent 1001 accepts a citizen's web request, types part of a
//! street's name into the area search, picks the street from the hits (shown with their
//! paths), and the dispatch suggestion names that street's office; dispatched, the ticket
//! carries the area and went to the street office by the catalogue's rule for the street.

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::Duration;

use common::pages::{start_page, submit_request};
use common::{http_request, Engine};

#[test]
fn the_agent_picks_a_street_by_part_of_its_name_and_the_suggestion_names_its_office() {
    let engine = Engine::start("");
    let base = format!("http://{}", engine.http);
    let tmp = tempfile::tempdir().expect("temp dir");
    let id = submit_request(&engine, "我家小区门口长期有人占道摆摊，垃圾没人清理。");
    let desk = start_page("area", &base, "demo-agent-1001", tmp.path(), &[&id, "望江"]);
    desk.expect(&format!("ACCEPTED {id}"), Duration::from_secs(60), &engine);
    let before = desk.expect("BEFORE", Duration::from_secs(20), &engine);
    assert!(
        before.contains("市城市管理综合行政执法局"),
        "no area yet: the city's unit: {before}"
    );
    let hits = desk.expect("HITS", Duration::from_secs(20), &engine);
    assert!(
        hits.contains("351002002=江临市 › 临江区 › 望江街道"),
        "{hits}"
    );
    let picked = desk.expect("PICKED", Duration::from_secs(20), &engine);
    assert_eq!(picked, "PICKED 江临市 › 临江区 › 望江街道");
    let suggested = desk.expect("SUGGEST", Duration::from_secs(20), &engine);
    assert!(
        suggested.contains("市容环境") && suggested.contains("临江区望江街道办事处"),
        "{suggested}"
    );
    desk.expect(&format!("SAVED {id}"), Duration::from_secs(20), &engine);
    let (status, body) = http_request(
        engine.http,
        "GET",
        &format!("/api/tickets/{id}"),
        Some("demo-supervisor"),
        None,
    );
    assert_eq!(status, 200, "{body}");
    let t: serde_json::Value = serde_json::from_str(&body).expect("ticket json");
    assert_eq!(t["state"], "dispatched", "{t}");
    assert_eq!(t["area_code"], "351002002", "{t}");
    assert_eq!(t["area"], "临江区", "{t}");
    assert_eq!(t["area_path"], "江临市 › 临江区 › 望江街道", "{t}");
    assert_eq!(t["assignment"]["lead"], "lj-wangjiang", "{t}");
}

/// The citizen's request page: part of a community's name typed in the area field, the
/// community chosen among the hits (with their paths), sent; the ticket carries the area and
/// its district's name, and is dispatched by the catalogue's rule for that area.
#[test]
fn a_citizen_picks_a_community_on_the_request_page_and_the_ticket_carries_it() {
    let engine = Engine::start("");
    let base = format!("http://{}", engine.http);
    let tmp = tempfile::tempdir().expect("temp dir");
    let page = start_page("request", &base, "-", tmp.path(), &["area", "滨江花园"]);
    let picked = page.expect("PICKED", Duration::from_secs(60), &engine);
    assert_eq!(picked, "PICKED 江临市 › 临江区 › 滨江街道 › 滨江花园社区");
    let receipt = page.expect("RECEIPT", Duration::from_secs(30), &engine);
    let id = receipt.split_whitespace().nth(1).expect("id").to_string();
    let get = |id: &str| {
        let (status, body) = http_request(
            engine.http,
            "GET",
            &format!("/api/tickets/{id}"),
            Some("demo-supervisor"),
            None,
        );
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<serde_json::Value>(&body).expect("ticket json")
    };
    let t = get(&id);
    assert_eq!(t["area_code"], "351002001001", "{t}");
    assert_eq!(t["area"], "临江区", "{t}");
    // The hotline classifies and dispatches it: the street's rule sends it to its office.
    for action in [
        r#"{"action":"accept"}"#,
        r#"{"action":"classify","domain":"social_management","category":"city_appearance"}"#,
        r#"{"action":"dispatch"}"#,
    ] {
        let (status, body) = http_request(
            engine.http,
            "POST",
            &format!("/api/tickets/{id}/actions"),
            Some("demo-agent-1001"),
            Some(action),
        );
        assert_eq!(status, 200, "{action}: {body}");
    }
    assert_eq!(get(&id)["assignment"]["lead"], "lj-binjiang");
    // Without a token the area search answers the page; an unknown code is refused.
    let (status, body) = http_request(
        engine.http,
        "GET",
        "/api/public/areas?q=%E6%B9%96%E6%BB%A8",
        None,
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("江临市 › 东湖区 › 湖滨街道"), "{body}");
    let bad = serde_json::json!({"content":"占道","type":"help","area_code":"351002009009","callback_consent":false});
    let (status, body) = http_request(
        engine.http,
        "POST",
        "/api/public/requests",
        None,
        Some(&bad.to_string()),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("unknown_area"), "{body}");
}

/// The ticket desk's 下派 in Chromium: the district's 12345 office signs its ticket and hands
/// it on to its street office (only its own sub-units are offered); the street office, with
/// its own token, sees the chain and signs it.
#[test]
fn a_district_office_hands_a_ticket_on_to_its_street_office_on_the_ticket_desk() {
    let engine = Engine::start("");
    let base = format!("http://{}", engine.http);
    let tmp = tempfile::tempdir().expect("temp dir");
    let body = serde_json::json!({"channel":"phone","content":"小区门口占道经营","urgency":"non_urgent",
        "type":"complaint","domain":"social_management","category":"city_appearance",
        "area_code":"351003001001"});
    let (status, text) = http_request(
        engine.http,
        "POST",
        "/api/tickets",
        Some("demo-agent-1001"),
        Some(&body.to_string()),
    );
    assert_eq!(status, 201, "{text}");
    let t: serde_json::Value = serde_json::from_str(&text).expect("json");
    let id = t["id"].as_str().expect("id").to_string();
    let (status, text) = http_request(
        engine.http,
        "POST",
        &format!("/api/tickets/{id}/actions"),
        Some("demo-agent-1001"),
        Some(r#"{"action":"dispatch"}"#),
    );
    assert_eq!(status, 200, "{text}");
    let page = start_page(
        "hand_on",
        &base,
        "demo-unit-dh-hub",
        tmp.path(),
        &[&id, "demo-unit-dh-hubin"],
    );
    let subs = page.expect("SUBUNITS", Duration::from_secs(60), &engine);
    assert_eq!(
        subs, "SUBUNITS dh-guiyuan dh-hubin",
        "only its own street offices"
    );
    let handed = page.expect("HANDED", Duration::from_secs(20), &engine);
    assert_eq!(
        handed,
        "HANDED 东湖区政务服务管理局（区12345分中心） → 东湖区湖滨街道办事处"
    );
    page.expect("STREET_SIGNED", Duration::from_secs(30), &engine);
    let (_, text) = http_request(
        engine.http,
        "GET",
        &format!("/api/tickets/{id}"),
        Some("demo-supervisor"),
        None,
    );
    let t: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(t["state"], "handling", "{t}");
    assert_eq!(t["assignment"]["lead"], "dh-hubin", "{t}");
    assert_eq!(
        t["assignment"]["handed_from"],
        serde_json::json!(["dh-hub"])
    );
}
