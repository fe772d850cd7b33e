//! The knowledge base where the standard uses it (issue 16), in a real browser (Debian's
//! Chromium, headless, `tests/browser/kb.mjs`) at 1920×1080 against the engine with the demo
//! set: the agent's desk recommends items while the agent types a call's request and answers
//! the call's ticket with one (the ticket keeps the cited version after the item is edited);
//! a handling unit cites an item in its reply and the reviewer sees the cited version and opens
//! it; the supervisors' knowledge page lists the search that found nothing, the item used, an
//! item near expiry and a withdrawn one; the editor works the review queue there.
//! Screenshots land in `target/browser-shots/kb-*.png`.

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::Duration;

use common::baresip::start_baresip;
use common::pages::{shots_dir, start_page};
use common::{http_request, sipp, wait_for, Engine};
use serde_json::{json, Value};

fn api(e: &Engine, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
    let body = body.map(|b| b.to_string());
    let (status, text) = http_request(e.http, method, path, Some(token), body.as_deref());
    assert!(status < 300, "{method} {path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// The event of a ticket's history that names `field`.
fn cited(t: &Value, field: &str) -> Value {
    t["history"]
        .as_array()
        .and_then(|h| h.iter().rev().find(|e| !e[field].is_null()))
        .map(|e| e[field].clone())
        .unwrap_or_else(|| panic!("no {field} in {t}"))
}

#[test]
fn the_desk_recommends_and_answers_with_an_item_a_unit_cites_one_and_the_page_lists_a_gap() {
    let engine = Engine::start("[kb]\ndemo_set = \"kb-demo.jsonl\"\n");
    let base = format!("http://{}", engine.http);
    let tmp = tempfile::tempdir().expect("temp dir");
    let phone_dir = tmp.path().join("phone");
    std::fs::create_dir_all(&phone_dir).expect("phone dir");
    let _phone = start_baresip(&phone_dir, engine.sip);
    wait_for(Duration::from_secs(15), || {
        let agents = api(&engine, "GET", "/api/agents", "demo-supervisor", None);
        agents
            .as_array()?
            .iter()
            .find(|a| a["id"] == "1001" && a["registered"] == true)
            .cloned()
    })
    .unwrap_or_else(|| panic!("1001 never registered; log:\n{}", engine.log()));

    // A citizen presses 1 (enterprise) and hangs up 14 s after the answer; the ticket stays
    // on the desk to be finished.
    let target = engine.sip;
    let caller = std::thread::spawn(move || {
        sipp(
            target,
            "uac_ivr_enterprise.xml",
            &["-m", "1", "-d", "14000"],
            Duration::from_secs(90),
        )
    });
    let desk = start_page("kb", &base, "demo-agent-1001", tmp.path(), &["desk"]);
    let panel = desk.expect("PANEL", Duration::from_secs(60), &engine);
    assert!(panel.contains("企业服务"), "{panel}");
    desk.expect("GAP", Duration::from_secs(15), &engine);
    let hit = desk.expect("HIT", Duration::from_secs(20), &engine);
    assert!(hit.starts_with("HIT 1 1 "), "{hit}");
    desk.expect("A11Y kb-desk", Duration::from_secs(20), &engine);
    let saved = desk.expect("SAVED", Duration::from_secs(20), &engine);
    let ticket = saved.trim_start_matches("SAVED ").trim().to_string();
    caller.join().expect("sipp thread").assert_ok();

    // The call's ticket was answered directly from item 1, version 1.
    let t = api(
        &engine,
        "GET",
        &format!("/api/tickets/{ticket}"),
        "demo-supervisor",
        None,
    );
    assert_eq!(t["state"], "closed", "{t}");
    assert_eq!(
        cited(&t, "knowledge"),
        json!({"item": 1, "version": 1}),
        "{t}"
    );
    assert!(
        t["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["method"] == "knowledge_base"
                || e["answer"].as_str().is_some_and(|a| a.contains("停水"))),
        "{t}"
    );

    // The water company edits item 1 (version 2), the editor approves it: the ticket keeps 1.
    let mut v2 = api(
        &engine,
        "GET",
        "/api/kb/items/1/versions/1",
        "demo-unit-water",
        None,
    );
    v2["answer"] = json!("计划停水会提前24小时在供水集团网站、微信公众号和小区公告栏发布通知（2027年起同时短信通知）。");
    api(
        &engine,
        "PUT",
        "/api/kb/items/1",
        "demo-unit-water",
        Some(v2),
    );
    api(
        &engine,
        "POST",
        "/api/kb/items/1/submit",
        "demo-unit-water",
        None,
    );
    let item = api(
        &engine,
        "POST",
        "/api/kb/items/1/approve",
        "demo-kb-editor",
        None,
    );
    assert_eq!(item["served"], 2, "{item}");
    let t = api(
        &engine,
        "GET",
        &format!("/api/tickets/{ticket}"),
        "demo-supervisor",
        None,
    );
    assert_eq!(
        cited(&t, "knowledge"),
        json!({"item": 1, "version": 1}),
        "{t}"
    );

    // A request dispatched to the water company: its reply cites item 1 (now version 2).
    let created = api(
        &engine,
        "POST",
        "/api/tickets",
        "demo-agent-1002",
        Some(
            json!({"channel":"web","caller":{"phone":"13900001111"},"content":"小区停水两天没有任何通知",
            "urgency":"non_urgent","type":"complaint","domain":"public_service","category":"water_supply"}),
        ),
    );
    let id = created["id"].as_str().expect("id").to_string();
    api(
        &engine,
        "POST",
        &format!("/api/tickets/{id}/actions"),
        "demo-agent-1002",
        Some(json!({"action":"dispatch","category":"water_supply"})),
    );
    let unit = start_page("kb", &base, "demo-unit-water", tmp.path(), &["reply", &id]);
    let replied = unit.expect("REPLIED", Duration::from_secs(40), &engine);
    assert_eq!(replied, "REPLIED 1 2");
    let t = api(
        &engine,
        "GET",
        &format!("/api/tickets/{id}"),
        "demo-reviewer",
        None,
    );
    assert_eq!(t["state"], "under_review", "{t}");
    assert_eq!(
        cited(&t, "feedback")["cites"],
        json!([{"item": 1, "version": 2}]),
        "{t}"
    );

    // The reviewer sees the cited item with its version and opens that version.
    let review = start_page("kb", &base, "demo-reviewer", tmp.path(), &["review", &id]);
    let seen = review.expect("CITED", Duration::from_secs(40), &engine);
    assert!(seen.starts_with("CITED 1 2 计划停水通知在哪里查"), "{seen}");
    let version = review.expect("VERSION", Duration::from_secs(20), &engine);
    assert!(version.contains("第 2 版"), "{version}");

    // An item expiring in 3 days, a withdrawn one (its source repealed), and two items the
    // water company hands in for review.
    let today = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("+08:00"))
        .date_naive();
    let soon = json!({
        "title": "老旧小区加装电梯补贴申请", "questions": ["加装电梯有没有补贴"],
        "answer": "符合条件的老旧小区加装电梯按每台15万元给予补贴，向所在区住建部门申请。",
        "source": {"name": "既有住宅加装电梯实施办法", "issuer": "市住房和城乡建设局"},
        "unit": "housing", "category": "property_management", "area": "全市",
        "effective": (today - chrono::Days::new(30)).to_string(),
        "expires": (today + chrono::Days::new(3)).to_string(),
    });
    let (status, text) = http_request(
        engine.http,
        "POST",
        "/api/kb/import?format=jsonl&approve=true",
        Some("demo-kb-editor"),
        Some(&soon.to_string()),
    );
    assert_eq!(status, 201, "{text}");
    api(
        &engine,
        "POST",
        "/api/kb/items/10/withdraw",
        "demo-kb-editor",
        Some(json!({"reason": "线路调整办法已废止"})),
    );
    api(&engine, "POST", "/api/kb/sweep", "demo-supervisor", None);
    let draft = |title: &str| {
        let mut c = api(
            &engine,
            "GET",
            "/api/kb/items/43/versions/1",
            "demo-unit-water",
            None,
        );
        c["title"] = json!(title);
        let it = api(&engine, "POST", "/api/kb/items", "demo-unit-water", Some(c));
        let id = it["id"].as_u64().expect("id");
        api(
            &engine,
            "POST",
            &format!("/api/kb/items/{id}/submit"),
            "demo-unit-water",
            None,
        );
        id
    };
    let back = draft("二次供水水箱清洗周期");
    let approve = draft("水表冻裂的报修和赔偿");

    // The supervisors' page lists the agent's search that found nothing, the item used, the
    // item near expiry and the withdrawn one.
    let page = start_page(
        "kb",
        &base,
        "demo-supervisor",
        tmp.path(),
        &["page", "无人机航拍报备"],
    );
    page.expect("GAPS", Duration::from_secs(40), &engine);
    let used = page.expect("USED", Duration::from_secs(10), &engine);
    assert_eq!(used, "USED 计划停水通知在哪里查");
    let expiring = page.expect("EXPIRING", Duration::from_secs(10), &engine);
    assert!(
        expiring.contains("老旧小区加装电梯补贴申请/市住房和城乡建设局/"),
        "{expiring}"
    );
    let withdrawn = page.expect("WITHDRAWN", Duration::from_secs(10), &engine);
    assert!(
        withdrawn.contains("公交线路调整和站点查询 依据废止：线路调整办法已废止"),
        "{withdrawn}"
    );
    page.expect("A11Y kb-page", Duration::from_secs(20), &engine);
    page.expect("DONE", Duration::from_secs(20), &engine);

    // The editor's review queue: one sent back with a reason, the other approved.
    let (b, a) = (back.to_string(), approve.to_string());
    let queue = start_page(
        "kb",
        &base,
        "demo-kb-editor",
        tmp.path(),
        &["queue", &b, &a],
    );
    let listed = queue.expect("QUEUE", Duration::from_secs(40), &engine);
    assert!(listed.contains(&b) && listed.contains(&a), "{listed}");
    queue.expect("SENT_BACK", Duration::from_secs(20), &engine);
    queue.expect("APPROVED", Duration::from_secs(20), &engine);
    queue.expect("EMPTY", Duration::from_secs(20), &engine);
    let state = |id: u64| {
        api(
            &engine,
            "GET",
            &format!("/api/kb/items/{id}"),
            "demo-kb-editor",
            None,
        )
    };
    assert_eq!(state(back)["state"], "sent_back");
    assert_eq!(state(back)["reason"], "请补充文号并核对有效期");
    assert_eq!(state(approve)["state"], "approved");

    for shot in [
        "kb-desk-recommended",
        "kb-desk-answered",
        "kb-reply-cites",
        "kb-review-cited",
        "kb-version",
        "kb-page",
        "kb-page-en",
        "kb-queue",
    ] {
        let p = shots_dir().join(format!("{shot}.png"));
        assert!(
            std::fs::metadata(&p).is_ok_and(|m| m.len() > 1000),
            "{} written",
            p.display()
        );
    }
}

/// Self-service before a request (issue 16): on the citizen's request page the public answers
/// that match what they write show under the field, in both languages and in elderly mode;
/// the search while writing is not kept as a gap.
#[test]
fn the_request_page_offers_public_answers_while_the_citizen_writes() {
    let engine = Engine::start("[kb]\ndemo_set = \"kb-demo.jsonl\"\n");
    let base = format!("http://{}", engine.http);
    let tmp = tempfile::tempdir().expect("temp dir");
    let page = start_page("request", &base, "-", tmp.path(), &["selfhelp"]);
    let zh = page.expect("KB zh", Duration::from_secs(60), &engine);
    assert!(zh.contains("计划停水通知在哪里查"), "{zh}");
    page.expect("KB en", Duration::from_secs(60), &engine);
    let stats = api(&engine, "GET", "/api/kb/stats", "demo-supervisor", None);
    assert!(
        !stats.to_string().contains("停水了"),
        "a search while writing was kept: {stats}"
    );
}
