//! The supervisors' view of the knowledge base over HTTP against the real engine (issue 16):
//! `GET /api/kb/stats` and `/metrics` count the items tickets cite (a W3 direct answer, a
//! unit's W11 reply) and the items searches list, keep the searches that found nothing with
//! their words (numbers masked) and how often, up to `[kb] gaps_kept` (the rest counted as
//! not kept), list the items near expiry and the withdrawn ones; only supervisors and the
//! knowledge editor see it.

// The test dates items from today (the engine runs on the real clock).
#![allow(clippy::disallowed_methods)]

mod common;

use common::{http_request, Engine};
use serde_json::{json, Value};

const EDITOR: &str = "demo-kb-editor";
const AGENT: &str = "demo-agent-1001";
const WATER: &str = "demo-unit-water";

fn call(
    e: &Engine,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let body = body.map(|b| b.to_string());
    let (status, text) = http_request(e.http, method, path, token, body.as_deref());
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn q(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn hits(e: &Engine, path: &str, token: Option<&str>) -> usize {
    let r = call(e, "GET", path, token, None);
    assert_eq!(r.0, 200, "{path}: {:?}", r.1);
    r.1["items"].as_array().map_or(0, Vec::len)
}

#[test]
fn the_knowledge_page_counts_citations_gaps_items_near_expiry_and_withdrawn_ones() {
    let e = Engine::start("[kb]\ndemo_set = \"kb-demo.jsonl\"\ngaps_kept = 2\n");
    // Searches that find nothing: kept with their words, a phone number masked, staff and
    // citizens counted apart; the page's own searches (record=false) are not kept.
    let gap = "我想养羊驼13912345678";
    assert_eq!(
        hits(&e, &format!("/api/kb/search?q={}", q(gap)), Some(AGENT)),
        0
    );
    assert_eq!(
        hits(&e, &format!("/api/public/kb/search?q={}", q(gap)), None),
        0
    );
    assert_eq!(
        hits(&e, &format!("/api/kb/search?q={}", q(gap)), Some(WATER)),
        0
    );
    assert_eq!(
        hits(
            &e,
            &format!("/api/kb/search?q={}&record=false", q("羊驼")),
            Some(AGENT)
        ),
        0
    );
    assert_eq!(
        hits(&e, &format!("/api/kb/search?q={}", q("鸵鸟")), Some(AGENT)),
        0
    );
    // A third distinct gap: the store keeps 2 (`gaps_kept`), this one is counted as not kept.
    assert_eq!(
        hits(
            &e,
            &format!("/api/kb/search?q={}", q("无人机航拍报备")),
            Some(AGENT)
        ),
        0
    );
    // A search that finds items lists them (counted as shown); the page's own searches
    // (record=false, as the agent types) are not counted.
    assert!(
        hits(
            &e,
            &format!("/api/kb/search?q={}", q("停水通知")),
            Some(AGENT)
        ) > 0
    );
    assert!(
        hits(
            &e,
            &format!("/api/kb/search?q={}&record=false", q("住房公积金提取")),
            Some(AGENT)
        ) > 0
    );

    // Item 1 (停水通知, water, version 1) is cited by an agent's direct answer and by the
    // water company's reply on another ticket.
    let ticket = |content: &str| {
        let t = call(
            &e,
            "POST",
            "/api/tickets",
            Some(AGENT),
            Some(json!({"channel":"phone","caller":{"phone":"13800138000"},
            "content":content,"urgency":"non_urgent","type":"consultation","domain":"public_service","category":"water_supply"})),
        );
        assert_eq!(t.0, 201, "{:?}", t.1);
        format!("/api/tickets/{}/actions", t.1["id"].as_str().unwrap())
    };
    let a = ticket("咨询停水通知在哪里看");
    let r = call(
        &e,
        "POST",
        &a,
        Some(AGENT),
        Some(
            json!({"action":"direct_close","method":"knowledge_base","answer":"停水通知见供水集团网站","knowledge":{"item":1,"version":1}}),
        ),
    );
    assert_eq!(r.0, 200, "{:?}", r.1);
    let b = ticket("小区停水两天没有通知");
    for (token, body) in [
        (AGENT, json!({"action":"dispatch"})),
        (WATER, json!({"action":"sign"})),
        (
            WATER,
            json!({"action":"feedback","contact":"已电话联系市民","verification":"现场核实为管道抢修",
            "legal_basis":"《城市供水条例》","result":"已恢复供水","caller_informed":true,
            "cites":[{"item":1,"version":1},{"item":43,"version":1}]}),
        ),
    ] {
        let r = call(&e, "POST", &b, Some(token), Some(body));
        assert_eq!(r.0, 200, "{:?}", r.1);
    }

    // An item expiring in 3 days is near expiry (the window is 10 working days); item 2 is
    // withdrawn because its source was repealed.
    let today = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive();
    let soon = today + chrono::Days::new(3);
    let line = json!({
        "title": "老旧小区加装电梯补贴申请", "questions": ["加装电梯有没有补贴"],
        "answer": "符合条件的老旧小区加装电梯按每台15万元给予补贴，向所在区住建部门申请。",
        "source": {"name": "既有住宅加装电梯实施办法", "issuer": "市住房和城乡建设局"},
        "unit": "housing", "category": "property_management", "area": "全市",
        "effective": (today - chrono::Days::new(30)).to_string(), "expires": soon.to_string(),
    });
    let r = call(
        &e,
        "POST",
        "/api/kb/import?format=jsonl&approve=true",
        Some(EDITOR),
        Some(Value::String(String::new())),
    );
    assert_eq!(r.0, 422, "an empty import names nothing: {:?}", r.1);
    let (status, text) = http_request(
        e.http,
        "POST",
        "/api/kb/import?format=jsonl&approve=true",
        Some(EDITOR),
        Some(&line.to_string()),
    );
    assert_eq!(status, 201, "{text}");
    let created: Value = serde_json::from_str(&text).unwrap();
    let soon_id = created["created"][0].as_u64().unwrap();
    let r = call(
        &e,
        "POST",
        "/api/kb/items/2/withdraw",
        Some(EDITOR),
        Some(json!({"reason":"《供水水压管理办法》已废止"})),
    );
    assert_eq!(r.0, 200, "{:?}", r.1);
    let r = call(&e, "POST", "/api/kb/sweep", Some(EDITOR), None);
    assert_eq!(r.0, 200, "{:?}", r.1);

    // Agents and units do not see the page's figures.
    for token in [AGENT, WATER, "demo-reviewer"] {
        assert_eq!(
            call(&e, "GET", "/api/kb/stats", Some(token), None).0,
            403,
            "{token}"
        );
    }
    let s = call(&e, "GET", "/api/kb/stats", Some("demo-supervisor"), None);
    assert_eq!(s.0, 200, "{:?}", s.1);
    let s = s.1;
    let used = &s["most_used"][0];
    assert_eq!(
        (
            used["id"].as_u64(),
            used["answers"].as_u64(),
            used["replies"].as_u64()
        ),
        (Some(1), Some(1), Some(1)),
        "{s}"
    );
    assert!(used["shown"].as_u64().unwrap() >= 1, "{s}");
    assert_eq!(s["most_used"][1]["id"], 43, "{s}");
    let listed: Vec<u64> = s["most_used"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["id"].as_u64())
        .collect();
    assert!(
        !listed.contains(&16) && !listed.contains(&17),
        "only listed by record=false: {s}"
    );
    assert_eq!(
        (s["cited_answers"].as_u64(), s["cited_replies"].as_u64()),
        (Some(1), Some(2))
    );
    let gaps: Vec<(String, u64, u64)> = s["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["query"].as_str().unwrap().to_string(),
                g["staff"].as_u64().unwrap(),
                g["public"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        gaps,
        [
            ("我想养羊驼***".to_string(), 2, 1),
            ("鸵鸟".to_string(), 1, 0)
        ],
        "{s}"
    );
    assert_eq!(
        (s["gaps_kept"].as_u64(), s["gaps_not_kept"].as_u64()),
        (Some(2), Some(1))
    );
    let near = &s["near_expiry"];
    assert_eq!(near.as_array().map(Vec::len), Some(1), "{s}");
    assert_eq!(near[0]["id"].as_u64(), Some(soon_id));
    assert_eq!(near[0]["expires"], soon.to_string());
    assert!(near[0]["working_days_left"].as_u64().unwrap() <= 3, "{s}");
    let w = &s["withdrawn"][0];
    assert_eq!(
        (w["id"].as_u64(), w["reason"]["kind"].as_str()),
        (Some(2), Some("repealed")),
        "{s}"
    );
    assert_eq!(w["reason"]["note"], "《供水水压管理办法》已废止");
    // The editor sees the same.
    assert_eq!(
        call(&e, "GET", "/api/kb/stats?limit=1", Some(EDITOR), None).1["gaps"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    // The same counts in /metrics.
    let (_, m) = e.get("/metrics");
    for line in [
        "hotline_kb_citations_total{kind=\"answer\"} 1",
        "hotline_kb_citations_total{kind=\"reply\"} 2",
        "hotline_kb_item_citations{item=\"1\"} 2",
        "hotline_kb_item_citations{item=\"43\"} 1",
        "hotline_kb_gaps 2",
        "hotline_kb_gaps_not_kept_total 1",
        "hotline_kb_items_near_expiry 1",
        "hotline_kb_items{state=\"withdrawn\"} 1",
    ] {
        assert!(m.lines().any(|l| l == line), "{line} in\n{m}");
    }
}
