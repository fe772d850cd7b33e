//! The knowledge base over HTTP against the real engine (issue 16): a unit writes an item,
//! the editor reviews it, it is served and found from a citizen's wording (staff and public
//! search), an item whose expiry date has passed is withdrawn by the sweep, a ticket answered
//! from an item keeps the cited version after the item is edited, and bad input is refused
//! with a code (no source, expiry before effect, another unit's item, a bad import line).

mod common;

use common::{http_request, Engine};
use serde_json::{json, Value};

const WATER: &str = "demo-unit-water";
const POWER: &str = "demo-unit-power";
const EDITOR: &str = "demo-kb-editor";
const AGENT: &str = "demo-agent-1001";

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

fn item(title: &str, answer: &str, expires: Option<&str>) -> Value {
    json!({
        "title": title,
        "questions": ["小区二次供水水箱多久清洗一次", "水箱清洗找谁"],
        "answer": answer,
        "source": {"name": "二次供水设施卫生规范", "number": "GB 17051-1997", "issuer": "国家技术监督局"},
        "unit": "water",
        "category": "water_supply",
        "area": "全市",
        "effective": "2020-01-01",
        "expires": expires,
    })
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

fn ids(r: &(u16, Value)) -> Vec<u64> {
    assert_eq!(r.0, 200, "{:?}", r.1);
    r.1["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_u64().unwrap())
        .collect()
}

#[test]
fn a_unit_writes_the_editor_reviews_it_is_served_expires_and_a_ticket_keeps_its_version() {
    let mut e = Engine::start("[kb]\nsweep_interval = \"1s\"\n");
    // Refused with codes: no source, expiry before effect.
    let mut no_source = item("水箱清洗", "每半年清洗一次。", None);
    no_source["source"] = Value::Null;
    let r = call(&e, "POST", "/api/kb/items", Some(WATER), Some(no_source));
    assert_eq!(
        (r.0, r.1["code"].as_str()),
        (422, Some("missing_source")),
        "{:?}",
        r.1
    );
    let mut backwards = item("水箱清洗", "每半年清洗一次。", Some("2019-01-01"));
    backwards["effective"] = json!("2020-01-01");
    let r = call(&e, "POST", "/api/kb/items", Some(WATER), Some(backwards));
    assert_eq!(
        (r.0, r.1["code"].as_str()),
        (422, Some("expiry_before_effect"))
    );
    // Another unit may not write for water.
    let r = call(
        &e,
        "POST",
        "/api/kb/items",
        Some(POWER),
        Some(item("x", "y", None)),
    );
    assert_eq!((r.0, r.1["code"].as_str()), (403, Some("forbidden")));

    // The water unit writes, submits; the editor sends back with a reason, then approves.
    let v1 = item("二次供水水箱清洗周期", "二次供水水箱每半年至少清洗消毒一次，由物业或二次供水管理单位负责，清洗后应公示水质检测结果。", None);
    let r = call(&e, "POST", "/api/kb/items", Some(WATER), Some(v1));
    assert_eq!(r.0, 201, "{:?}", r.1);
    let id = r.1["id"].as_u64().unwrap();
    assert_eq!(r.1["state"], "draft");
    let path = format!("/api/kb/items/{id}");
    // Not served yet.
    let wording = q("楼里的水箱好久没洗了，该谁来清洗");
    assert!(!ids(&call(
        &e,
        "GET",
        &format!("/api/kb/search?q={wording}"),
        Some(AGENT),
        None
    ))
    .contains(&id));
    assert_eq!(
        call(&e, "POST", &format!("{path}/submit"), Some(WATER), None).1["state"],
        "in_review"
    );
    // A unit never approves, even its own.
    assert_eq!(
        call(&e, "POST", &format!("{path}/approve"), Some(WATER), None).0,
        403
    );
    let r = call(
        &e,
        "POST",
        &format!("{path}/send-back"),
        Some(EDITOR),
        Some(json!({"reason": "写明清洗后水质检测的公示方式"})),
    );
    assert_eq!(
        (r.0, &r.1["state"], &r.1["reason"]),
        (
            200,
            &json!("sent_back"),
            &json!("写明清洗后水质检测的公示方式")
        )
    );
    assert_eq!(
        call(&e, "POST", &format!("{path}/submit"), Some(WATER), None).0,
        200
    );
    let r = call(&e, "POST", &format!("{path}/approve"), Some(EDITOR), None);
    assert_eq!(
        (r.0, &r.1["state"], &r.1["served"]),
        (200, &json!("approved"), &json!(1))
    );
    let who: Vec<&str> = r.1["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["by"].as_str().unwrap())
        .collect();
    assert_eq!(
        who,
        [
            "unit-water",
            "unit-water",
            "kb-editor",
            "unit-water",
            "kb-editor"
        ],
        "{:?}",
        r.1["history"]
    );

    // Served: a citizen's wording finds it, staff and public, with a highlighted snippet.
    let staff = call(
        &e,
        "GET",
        &format!("/api/kb/search?q={wording}"),
        Some(AGENT),
        None,
    );
    assert_eq!(ids(&staff).first(), Some(&id), "{:?}", staff.1);
    assert_eq!(staff.1["items"][0]["version"], 1);
    assert!(
        staff.1["items"][0]["snippet"]
            .as_str()
            .unwrap()
            .contains("<mark>"),
        "{:?}",
        staff.1
    );
    let public = call(
        &e,
        "GET",
        &format!("/api/public/kb/search?q={wording}"),
        None,
        None,
    );
    assert_eq!(ids(&public).first(), Some(&id));
    // Filters: another category finds nothing of it.
    let r = call(
        &e,
        "GET",
        &format!("/api/kb/search?q={wording}&category=heating"),
        Some(AGENT),
        None,
    );
    assert!(!ids(&r).contains(&id));

    // A ticket answered from it cites version 1.
    let t = call(
        &e,
        "POST",
        "/api/tickets",
        Some(AGENT),
        Some(json!({"channel":"phone","caller":{"phone":"13800138000"},
        "content":"咨询小区水箱多久清洗一次","urgency":"non_urgent","type":"consultation","domain":"public_service","category":"water_supply"})),
    );
    assert_eq!(t.0, 201, "{:?}", t.1);
    let tid = t.1["id"].as_str().unwrap().to_string();
    let act = format!("/api/tickets/{tid}/actions");
    // A version that is not served is refused.
    let r = call(
        &e,
        "POST",
        &act,
        Some(AGENT),
        Some(
            json!({"action":"direct_close","method":"knowledge_base","answer":"按知识库答复","knowledge":{"item":id,"version":2}}),
        ),
    );
    assert_eq!(
        (r.0, r.1["code"].as_str()),
        (422, Some("knowledge_not_served")),
        "{:?}",
        r.1
    );
    let r = call(
        &e,
        "POST",
        &act,
        Some(AGENT),
        Some(
            json!({"action":"direct_close","method":"knowledge_base","answer":"水箱每半年至少清洗一次","knowledge":{"item":id,"version":1}}),
        ),
    );
    assert_eq!(r.0, 200, "{:?}", r.1);

    // The unit edits the item (version 2) and the editor approves it: the ticket keeps 1.
    let v2 = item(
        "二次供水水箱清洗周期",
        "二次供水水箱每季度清洗消毒一次（2026年起），清洗后7日内公示水质检测结果。",
        None,
    );
    let r = call(&e, "PUT", &path, Some(WATER), Some(v2));
    assert_eq!(
        r.1["versions"].as_array().map(Vec::len),
        Some(2),
        "{:?}",
        r.1
    );
    // Until v2 is approved, v1 is still what is served.
    assert_eq!(
        call(
            &e,
            "GET",
            &format!("/api/kb/search?q={wording}"),
            Some(AGENT),
            None
        )
        .1["items"][0]["version"],
        1
    );
    call(&e, "POST", &format!("{path}/submit"), Some(WATER), None);
    assert_eq!(
        call(&e, "POST", &format!("{path}/approve"), Some(EDITOR), None).1["served"],
        2
    );
    let t = call(&e, "GET", &format!("/api/tickets/{tid}"), Some(AGENT), None);
    let closed = t.1["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["event"] == "directly_closed")
        .cloned()
        .unwrap();
    assert_eq!(
        closed["knowledge"],
        json!({"item": id, "version": 1}),
        "{:?}",
        t.1["history"]
    );
    // And version 1 itself is still there to read.
    let r = call(&e, "GET", &format!("{path}/versions/1"), Some(AGENT), None);
    assert!(
        r.1["answer"].as_str().unwrap().contains("每半年"),
        "{:?}",
        r.1
    );

    // An item whose expiry date has passed: approved, then withdrawn by the sweep.
    let old = item(
        "2020年水箱清洗补贴",
        "2020年度二次供水水箱清洗费用由区财政补贴50%。",
        Some("2021-01-01"),
    );
    let oid = call(&e, "POST", "/api/kb/items", Some(WATER), Some(old)).1["id"]
        .as_u64()
        .unwrap();
    call(
        &e,
        "POST",
        &format!("/api/kb/items/{oid}/submit"),
        Some(WATER),
        None,
    );
    assert_eq!(
        call(
            &e,
            "POST",
            &format!("/api/kb/items/{oid}/approve"),
            Some(EDITOR),
            None
        )
        .0,
        200
    );
    // Not in force today: never served, even before the sweep.
    let r = call(
        &e,
        "GET",
        &format!("/api/kb/search?q={}", q("水箱清洗补贴")),
        Some(AGENT),
        None,
    );
    assert!(!ids(&r).contains(&oid));
    let mut state = Value::Null;
    for _ in 0..100 {
        state = call(
            &e,
            "GET",
            &format!("/api/kb/items/{oid}"),
            Some(EDITOR),
            None,
        )
        .1;
        if state["state"] == "withdrawn" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(
        state["reason"],
        json!({"kind": "expired", "on": "2021-01-01"}),
        "{state:?}"
    );
    assert_eq!(
        state["history"].as_array().unwrap().last().unwrap()["by"],
        "sweep"
    );
    // With `all=true` staff may still look it up; it is withdrawn, so it is not.
    let r = call(
        &e,
        "GET",
        &format!("/api/kb/search?q={}&all=true", q("水箱清洗补贴")),
        Some(AGENT),
        None,
    );
    assert!(!ids(&r).contains(&oid));

    let (_, metrics) = e.get("/metrics");
    assert!(
        metrics.contains("hotline_kb_searches_total{by=\"public\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("hotline_kb_items{state=\"withdrawn\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("hotline_kb_sweep_total{outcome=\"expired\"} 1"),
        "{metrics}"
    );
    assert_eq!(e.terminate(), Some(0));
}

#[test]
fn an_import_names_its_bad_line_and_stores_nothing_and_the_demo_set_is_loaded() {
    let mut e = Engine::start("[kb]\ndemo_set = \"kb-demo.jsonl\"\n");
    let demo = include_str!("../config/kb-demo.jsonl").lines().count();
    let list = |e: &Engine| {
        call(e, "GET", "/api/kb/items?limit=1000", Some(EDITOR), None)
            .1
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(list(&e), demo);
    // The demo set answers a citizen at once (公积金 is a synonym of 住房公积金).
    let r = call(
        &e,
        "GET",
        &format!("/api/public/kb/search?q={}", q("租房可以取公积金吗")),
        None,
        None,
    );
    assert_eq!(r.1["items"][0]["title"], "住房公积金提取条件", "{:?}", r.1);

    let good = item("水箱清洗", "每半年清洗一次。", None).to_string();
    let mut bad = item("水箱清洗", "每半年清洗一次。", None);
    bad["source"] = Value::Null;
    let text = format!("{good}\n{}\n{good}\n", bad);
    let (status, body) = http_request(
        e.http,
        "POST",
        "/api/kb/import?format=jsonl",
        Some(EDITOR),
        Some(&text),
    );
    assert_eq!(status, 422, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["code"], "missing_source");
    assert!(
        v["message"].as_str().unwrap().starts_with("line 2:"),
        "{v:?}"
    );
    let csv = "title,questions,answer,source_name,source_number,source_issuer,source_link,unit,category,area,effective,expires,public\n\
               停电查询,停电了|没电了,拨打95598,电力供应与使用条例,,国务院,,power,power_supply,全市,2020-01-01,,true\n\
               停电赔偿,电器烧了,七日内索赔,供电营业规则,,国家发改委,,power,power_supply,全市,2020-13-01,,true\n";
    let (status, body) = http_request(
        e.http,
        "POST",
        "/api/kb/import?format=csv",
        Some(EDITOR),
        Some(csv),
    );
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("line 3:"), "{body}");
    assert_eq!(list(&e), demo, "a refused import stores nothing");
    // A good CSV from the power unit: its own items, as drafts.
    let good_csv = csv.lines().take(2).collect::<Vec<_>>().join("\n");
    let (status, body) = http_request(
        e.http,
        "POST",
        "/api/kb/import?format=csv",
        Some(POWER),
        Some(&good_csv),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(list(&e), demo + 1);
    let (status, _) = http_request(
        e.http,
        "POST",
        "/api/kb/import?format=csv&approve=true",
        Some(POWER),
        Some(&good_csv),
    );
    assert_eq!(status, 403);
    // Export round trip: the CSV export has a header and one line per item.
    let (status, out) = http_request(
        e.http,
        "GET",
        "/api/kb/export?format=csv",
        Some(EDITOR),
        None,
    );
    assert_eq!(status, 200);
    assert!(out.starts_with("title,questions,answer"), "{out}");
    assert_eq!(e.terminate(), Some(0));
}

#[test]
fn the_public_search_is_throttled_per_address_and_counted() {
    let mut e = Engine::start(
        "[kb]\ndemo_set = \"kb-demo.jsonl\"\npublic_search_burst = 2\npublic_search_per_minute = 1\n",
    );
    let path = format!("/api/public/kb/search?q={}", q("停水了"));
    for _ in 0..2 {
        assert_eq!(call(&e, "GET", &path, None, None).0, 200);
    }
    let r = call(&e, "GET", &path, None, None);
    assert_eq!(
        (r.0, r.1["code"].as_str()),
        (429, Some("rate_limited")),
        "{:?}",
        r.1
    );
    // Staff search is not throttled this way.
    assert_eq!(
        call(&e, "GET", &path.replace("/public", ""), Some(AGENT), None).0,
        200
    );
    let (_, metrics) = e.get("/metrics");
    assert!(
        metrics.contains("hotline_kb_public_refused_total 1"),
        "{metrics}"
    );
    // The internal item never reaches citizens; staff see it.
    let internal = format!("/api/kb/search?q={}", q("停水派单口径"));
    let staff = call(&e, "GET", &internal, Some(AGENT), None);
    assert!(staff.1["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["unit"] == "hotline"));
    assert_eq!(e.terminate(), Some(0));
}

#[test]
fn a_units_reply_cites_a_served_item_and_the_ticket_keeps_the_citation() {
    let mut e = Engine::start("[kb]\ndemo_set = \"kb-demo.jsonl\"\n");
    // Demo item 1 (停水通知) belongs to water and is served in version 1.
    let t = call(
        &e,
        "POST",
        "/api/tickets",
        Some(AGENT),
        Some(json!({"channel":"phone","caller":{"phone":"13800138000"},
        "content":"小区停水两天了没有通知","urgency":"non_urgent","type":"complaint","domain":"public_service","category":"water_supply"})),
    );
    assert_eq!(t.0, 201, "{:?}", t.1);
    let act = format!("/api/tickets/{}/actions", t.1["id"].as_str().unwrap());
    let r = call(
        &e,
        "POST",
        &act,
        Some(AGENT),
        Some(json!({"action":"dispatch"})),
    );
    assert_eq!(r.0, 200, "{:?}", r.1);
    let r = call(
        &e,
        "POST",
        &act,
        Some(WATER),
        Some(json!({"action":"sign"})),
    );
    assert_eq!(r.0, 200, "{:?}", r.1);
    let reply = |cites: Value| {
        json!({"action":"feedback","contact":"已电话联系市民","verification":"现场核实为管道抢修",
        "legal_basis":"《城市供水条例》","result":"已恢复供水","caller_informed":true,"cites":cites})
    };
    let r = call(
        &e,
        "POST",
        &act,
        Some(WATER),
        Some(reply(json!([{"item":1,"version":9}]))),
    );
    assert_eq!(
        (r.0, r.1["code"].as_str()),
        (422, Some("knowledge_not_served")),
        "{:?}",
        r.1
    );
    let r = call(
        &e,
        "POST",
        &act,
        Some(WATER),
        Some(reply(json!([{"item":1,"version":1}]))),
    );
    assert_eq!(r.0, 200, "{:?}", r.1);
    let fed = r.1["history"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|h| h["feedback"].is_object())
        .cloned();
    let fed = fed.unwrap_or_else(|| panic!("{:?}", r.1["history"]));
    assert_eq!(
        fed["feedback"]["cites"],
        json!([{"item":1,"version":1}]),
        "{fed:?}"
    );
    assert_eq!(e.terminate(), Some(0));
}
