//! Issue 21 over the ticket HTTP API on 127.0.0.1:0 with the shipped config and the clock
//! pinned: the area search with paths, a ticket's area code (an unknown one is 400), the
//! dispatch suggestion by area, dispatch by area, and a district office handing a ticket on
//! to its street office, which signs and replies with its own token while the hotline sees
//! the whole chain; a call transferred to a utility's own hotline recorded on its ticket, and
//! the utility working the ticket like any unit.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, TimeZone};
use hotline::cti::tickets::{router, TicketApi, TicketApiConfig};
use hotline::workflow::model::china;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const AGENT: Option<&str> = Some("demo-agent-1001");
const SUPERVISOR: Option<&str> = Some("demo-supervisor");
const DISTRICT: Option<&str> = Some("demo-unit-dh-hub");
const STREET: Option<&str> = Some("demo-unit-dh-hubin");
const OTHER_DISTRICT: Option<&str> = Some("demo-unit-lj-hub");

struct Engine {
    addr: SocketAddr,
    now: Arc<AtomicI64>,
    api: TicketApi,
    _dir: tempfile::TempDir,
}

impl Engine {
    fn set_now(&self, s: &str) {
        let t = DateTime::parse_from_rfc3339(s).expect("time");
        self.now.store(t.timestamp(), Ordering::SeqCst);
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut s = tokio::net::TcpStream::connect(self.addr)
            .await
            .expect("connect");
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        );
        if let Some(t) = token {
            req.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(&body);
        s.write_all(req.as_bytes()).await.expect("write");
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf).await;
        let text = String::from_utf8_lossy(&buf);
        let (head, body) = text.split_once("\r\n\r\n").expect("http response");
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status");
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }

    async fn act(&self, id: &str, token: Option<&str>, action: Value) -> (u16, Value) {
        self.call(
            "POST",
            &format!("/api/tickets/{id}/actions"),
            token,
            Some(action),
        )
        .await
    }
}

async fn start() -> Engine {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let now = Arc::new(AtomicI64::new(0));
    let n = now.clone();
    let api = TicketApi::open(&TicketApiConfig::new(dir.path(), &root.join("config")))
        .expect("api opens")
        .with_clock(move || {
            china()
                .timestamp_opt(n.load(Ordering::SeqCst), 0)
                .single()
                .expect("valid time")
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let served = api.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router(served)).await;
    });
    Engine {
        addr,
        now,
        api,
        _dir: dir,
    }
}

fn request(area_code: &str) -> Value {
    json!({"channel":"phone","caller":{"name":"李四","phone":"13900007777"},
        "content":"小区门口占道经营，垃圾乱堆","urgency":"non_urgent","type":"complaint",
        "domain":"social_management","category":"city_appearance","area_code":area_code,
        "location":"湖滨新村3号楼南侧"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn areas_are_searched_by_name_and_an_unknown_code_is_refused_with_400() {
    let e = start().await;
    e.set_now("2026-06-01T09:00:00+08:00");
    let (status, body) = e
        .call("GET", "/api/areas?q=%E6%BB%A8%E6%B1%9F", AGENT, None)
        .await; // 滨江
    assert_eq!(status, 200, "{body}");
    let street = body["areas"]
        .as_array()
        .expect("areas")
        .iter()
        .find(|a| a["level"] == "street")
        .expect("a street named 滨江…")
        .clone();
    assert_eq!(street["code"], "351002001");
    assert_eq!(street["path"], "江临市 › 临江区 › 滨江街道");
    let (status, _) = e.call("GET", "/api/areas?q=x", None, None).await;
    assert_eq!(status, 401);
    let long = "%E6%BB%A8".repeat(51);
    let (status, body) = e
        .call("GET", &format!("/api/areas?q={long}"), AGENT, None)
        .await;
    assert_eq!((status, body["code"].as_str()), (400, Some("bad_request")));

    let (status, body) = e
        .call("POST", "/api/tickets", AGENT, Some(request("351003999001")))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "unknown_area");
    assert!(body["message"]
        .as_str()
        .unwrap_or("")
        .contains("351003999001"));
    let (status, body) = e
        .call("GET", "/api/dispatch/categories?area=999", AGENT, None)
        .await;
    assert_eq!((status, body["code"].as_str()), (400, Some("unknown_area")));

    let (status, t) = e
        .call("POST", "/api/tickets", AGENT, Some(request("351003001001")))
        .await;
    assert_eq!(status, 201, "{t}");
    assert_eq!(t["area_code"], "351003001001");
    assert_eq!(
        t["area"], "东湖区",
        "the district's name, for trends and people"
    );
    assert_eq!(t["area_path"], "江临市 › 东湖区 › 湖滨街道 › 湖滨新村社区");
    assert_eq!(t["location"], "湖滨新村3号楼南侧", "free text kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_district_office_hands_on_to_its_street_office_which_signs_and_replies() {
    let e = start().await;
    e.set_now("2026-06-01T09:00:00+08:00");
    // The suggestion for the area names the unit the category goes to there.
    let (status, body) = e
        .call(
            "GET",
            "/api/dispatch/categories?area=351002001001&q=%E5%8D%A0%E9%81%93", // 占道
            AGENT,
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["categories"][0]["id"], "city_appearance");
    assert_eq!(body["categories"][0]["lead"], "lj-binjiang");
    let (_, body) = e
        .call(
            "GET",
            "/api/dispatch/categories?area=351022101202",
            AGENT,
            None,
        )
        .await;
    let city = body["categories"]
        .as_array()
        .expect("categories")
        .iter()
        .find(|c| c["id"] == "city_appearance")
        .expect("city_appearance")
        .clone();
    assert_eq!(city["lead"], "urban", "云溪县 has no rule: the city's unit");

    let (status, t) = e
        .call("POST", "/api/tickets", AGENT, Some(request("351003001001")))
        .await;
    assert_eq!(status, 201, "{t}");
    let id = t["id"].as_str().expect("id").to_string();
    let (status, t) = e.act(&id, AGENT, json!({"action":"dispatch"})).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["assignment"]["lead"], "dh-hub");
    let first_feedback = t["due"]["feedback"].clone();
    let first_sign = t["due"]["sign_off"].clone();

    e.set_now("2026-06-01T10:00:00+08:00");
    let (status, t) = e.act(&id, DISTRICT, json!({"action":"sign"})).await;
    assert_eq!(status, 200, "{t}");
    assert!(
        t["actions"]
            .as_array()
            .expect("actions")
            .iter()
            .any(|a| a == "hand_on"),
        "{t}"
    );
    let (status, body) = e
        .act(
            &id,
            DISTRICT,
            json!({"action":"hand_on","unit":"lj-binjiang","reason":"属地街道处置"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("not_sub_unit")),
        "{body}"
    );
    let (status, _) = e
        .call("GET", &format!("/api/tickets/{id}"), OTHER_DISTRICT, None)
        .await;
    assert_eq!(status, 404, "another district's office does not see it");
    let (status, t) = e
        .act(
            &id,
            DISTRICT,
            json!({"action":"hand_on","unit":"dh-hubin","reason":"属地街道处置"}),
        )
        .await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["state"], "dispatched");
    assert_eq!(t["assignment"]["lead"], "dh-hubin");
    assert_eq!(t["assignment"]["handed_from"], json!(["dh-hub"]));
    assert_eq!(
        t["due"]["sign_off"], first_sign,
        "W7 from the first receipt"
    );
    assert_eq!(
        t["due"]["feedback"], first_feedback,
        "W10 from the first receipt"
    );

    // The street office logs in with its own token: the ticket is in its list.
    let (status, list) = e.call("GET", "/api/tickets", STREET, None).await;
    assert_eq!(status, 200, "{list}");
    assert!(
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|i| i["id"] == id.as_str()),
        "{list}"
    );
    // It signs and replies.
    e.set_now("2026-06-01T15:00:00+08:00");
    let (status, t) = e.act(&id, STREET, json!({"action":"sign"})).await;
    assert_eq!(status, 200, "{t}");
    let (status, body) = e.act(&id, DISTRICT, json!({"action":"feedback"})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("not_your_ticket")),
        "{body}"
    );
    let (status, t) = e
        .act(
            &id,
            STREET,
            json!({"action":"feedback","contact":"6月1日上门联系诉求人","verification":"现场核查属实",
                "legal_basis":"《城市市容和环境卫生管理条例》第十四条","result":"已清理并设置巡查点",
                "caller_informed":true}),
        )
        .await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["state"], "under_review");

    // The hotline sees the whole chain; the district office still sees what it handed on.
    let (status, t) = e
        .call("GET", &format!("/api/tickets/{id}"), SUPERVISOR, None)
        .await;
    assert_eq!(status, 200, "{t}");
    let chain: Vec<String> = t["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|ev| match ev["event"].as_str() {
            Some("dispatched") => Some(format!("dispatched:{}", ev["lead"].as_str()?)),
            Some("signed") => Some(format!("signed:{}", ev["unit"].as_str()?)),
            Some("handed_on") => Some(format!(
                "handed_on:{}->{}:{}",
                ev["from"].as_str()?,
                ev["to"].as_str()?,
                ev["reason"].as_str()?
            )),
            Some("feedback_given") => {
                Some(format!("feedback:{}", ev["feedback"]["unit"].as_str()?))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        chain,
        [
            "dispatched:dh-hub",
            "signed:dh-hub",
            "handed_on:dh-hub->dh-hubin:属地街道处置",
            "signed:dh-hubin",
            "feedback:dh-hubin"
        ]
    );
    assert_eq!(t["assignment"]["handed_from"], json!(["dh-hub"]));
    let (status, _) = e
        .call("GET", &format!("/api/tickets/{id}"), DISTRICT, None)
        .await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_transferred_to_a_utility_records_the_hand_over_and_the_utility_works_it() {
    let e = start().await;
    e.set_now("2026-06-01T10:00:00+08:00");
    let at = DateTime::parse_from_rfc3339("2026-06-01T10:00:00+08:00").expect("time");
    let open = |call: &str| {
        let draft = hotline::workflow::model::CallDraft {
            call_id: call.into(),
            received_at: DateTime::parse_from_rfc3339("2026-06-01T09:58:00+08:00").expect("time"),
            caller_phone: Some("13700003333".into()),
            queue: Some("general".into()),
            menu_path: vec![],
            number: None,
        };
        let api = e.api.clone();
        async move {
            api.worker()
                .call(move |s, wf| {
                    wf.open_draft(s, &draft, &hotline::workflow::model::Actor::system(), at)
                })
                .await
                .expect("draft")
                .id
                .0
        }
    };
    let id = open("call-telecom").await;
    let water = open("call-water").await;
    // A person may not claim the engine's transfer.
    let (status, body) = e
        .act(
            &id,
            AGENT,
            json!({"action":"utility_transferred","unit":"telecom"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("engine_only")),
        "{body}"
    );
    // What the engine task does when the call engine reports the transfer to `telecom`
    // (a `[transfer.numbers]` key that is a utility unit), and to `water` (a C12 service too).
    let mut calls = hotline::shell::call_tickets::CallTickets::new(e.api.clone());
    calls.emergency_transfer("call-telecom".into(), "telecom");
    calls.emergency_transfer("call-water".into(), "water");
    calls.emergency_transfer("call-telecom".into(), "12315"); // neither: nothing recorded
    calls.finish(std::time::Duration::from_secs(10)).await;
    let (_, t) = e
        .call("GET", &format!("/api/tickets/{id}"), AGENT, None)
        .await;
    let last = t["history"]
        .as_array()
        .expect("history")
        .last()
        .cloned()
        .expect("event");
    assert_eq!(last["event"], "handed_to_utility", "{t}");
    assert_eq!(
        (last["unit"].as_str(), last["number"].as_str()),
        (Some("telecom"), Some("10000"))
    );
    assert_eq!(last["after_secs"], 120, "09:58 → 10:00: {last}");
    assert_eq!(t["state"], "draft", "the hand-over changes no state");
    assert_eq!(t["history"].as_array().map(Vec::len), Some(2), "{t}");
    let (_, w) = e
        .call("GET", &format!("/api/tickets/{water}"), AGENT, None)
        .await;
    let events: Vec<&str> = w["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|ev| ev["event"].as_str())
        .collect();
    assert_eq!(
        events,
        ["drafted", "linked_emergency", "handed_to_utility"],
        "{w}"
    );

    // The agent completes the ticket and dispatches it: the utility signs and replies with
    // its own token, like any unit.
    let (status, t) = e
        .act(
            &id,
            AGENT,
            json!({"action":"complete","content":"家里宽带断网三天","urgency":"non_urgent",
                "type":"complaint","domain":"public_service","category":"telecom_service",
                "area_code":"351022100201"}),
        )
        .await;
    assert_eq!(status, 200, "{t}");
    let (status, t) = e.act(&id, AGENT, json!({"action":"dispatch"})).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["assignment"]["lead"], "telecom");
    let telecom = Some("demo-unit-telecom");
    let (status, t) = e.act(&id, telecom, json!({"action":"sign"})).await;
    assert_eq!(status, 200, "{t}");
    let (status, t) = e
        .act(
            &id,
            telecom,
            json!({"action":"feedback","contact":"电话联系","verification":"线路故障属实",
                "legal_basis":"《电信条例》","result":"已修复","caller_informed":true}),
        )
        .await;
    assert_eq!(
        (status, t["state"].as_str()),
        (200, Some("under_review")),
        "{t}"
    );
}

/// The citizen's area search needs no token, so it shares the public lookup limit of each
/// address: past the burst it is refused with 429 and `Retry-After`, and counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_area_search_is_bounded_by_the_lookup_limit() {
    use hotline::cti::public::{router as public_router, PublicApi};
    let e = start().await;
    e.set_now("2026-06-01T09:00:00+08:00");
    let dir = tempfile::tempdir().expect("tempdir");
    let key = hotline::shell::portal_key::load_or_create(dir.path()).expect("key");
    let config = hotline::config::PublicConfig {
        lookup_burst: 3,
        lookup_per_minute: 1,
        ..Default::default()
    };
    let api = PublicApi::new(e.api.clone(), key, &config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = public_router(api).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let public = Engine {
        addr,
        now: e.now.clone(),
        api: e.api.clone(),
        _dir: dir,
    };
    let path = "/api/public/areas?q=%E6%B9%96%E6%BB%A8"; // 湖滨
    for _ in 0..3 {
        let (status, body) = public.call("GET", path, None, None).await;
        assert_eq!(status, 200, "{body}");
        assert!(
            body["areas"].as_array().is_some_and(|a| !a.is_empty()),
            "{body}"
        );
    }
    let (status, body) = public.call("GET", path, None, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("rate_limited")),
        "{body}"
    );
    let refused = e.api.worker().metrics().public_refused.snapshot();
    assert!(
        refused
            .iter()
            .any(|(code, n)| *code == "rate_limited" && *n >= 1),
        "{refused:?}"
    );
}
