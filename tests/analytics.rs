//! Trends and early warnings against the real engine (issue 17, W19): requests created
//! through the API (with their receipt times over the last ten days) are counted by area per
//! day with the change against the week before; a request with a risk word reaches the
//! wallboard within seconds; ten quiet days of construction noise in one district and then
//! eight in one day raise exactly one hot spot; every warning is listed by the API, counted
//! in /metrics and never raised twice; the analytics page draws the trend and lists them.

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::{Duration, Instant};

use chrono::{FixedOffset, TimeZone, Utc};
use common::pages::start_page;
use common::{http_request, wait_for, Engine};
use serde_json::{json, Value};

fn create(engine: &Engine, body: Value) -> String {
    let (status, text) = http_request(
        engine.http,
        "POST",
        "/api/tickets",
        Some("demo-supervisor"),
        Some(&body.to_string()),
    );
    assert_eq!(status, 201, "{text}");
    let v: Value = serde_json::from_str(&text).expect("ticket json");
    v["id"].as_str().expect("id").to_string()
}

fn request(at: chrono::DateTime<FixedOffset>, area: &str, category: &str, content: &str) -> Value {
    json!({"channel": "phone", "received_at": at.to_rfc3339(), "area": area, "category": category,
        "content": content, "urgency": "non_urgent", "type": "complaint", "domain": "environmental_protection"})
}

fn get(engine: &Engine, path: &str) -> Value {
    let (status, text) = engine.get(path);
    assert_eq!(status, 200, "{path}: {text}");
    serde_json::from_str(&text).expect("json")
}

fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// Words that share no two characters in a row with each other (no high-frequency cluster).
const WORDS: [&str; 10] = [
    "夜间施工机器轰鸣吵闹",
    "凌晨打桩声音震耳",
    "工地晚上十点后仍在作业",
    "搅拌车深夜进出扰民",
    "切割钢筋噪声刺耳",
    "周末清早开始挖掘",
    "塔吊鸣笛不断",
    "渣土车整夜轰隆",
    "电钻响到后半夜",
    "泵车连续运转影响休息",
];

#[test]
fn risk_words_reach_the_wallboard_at_once_and_a_spike_is_warned_once() {
    let engine = Engine::start("[warnings]\nrisk_interval = \"300ms\"\nscan_interval = \"1s\"\n");
    let china = FixedOffset::east_opt(8 * 3600).expect("offset");
    let now = Utc::now().with_timezone(&china);
    let today = now.date_naive();
    let noon = |days_ago: i64| {
        china
            .from_local_datetime(
                &(today - chrono::Duration::days(days_ago))
                    .and_hms_opt(12, 0, 0)
                    .expect("noon"),
            )
            .single()
            .expect("time")
    };
    // Ten quiet days: one noise complaint in 朝阳区 and one in 海淀区 a day.
    for d in 1..=10 {
        create(
            &engine,
            request(
                noon(d),
                "朝阳区",
                "construction_noise",
                WORDS[(d as usize) % 10],
            ),
        );
        create(
            &engine,
            request(
                noon(d),
                "海淀区",
                "construction_noise",
                &format!("{}，第{d}次", WORDS[(d as usize + 5) % 10]),
            ),
        );
    }
    // Today: eight in 朝阳区 (a spike), received in the last hour; one in 海淀区. Just after
    // midnight (China time) "the last hour" is the time since midnight, so that every one
    // falls on today whenever the suite runs (but in a day's first 8 seconds).
    let since_midnight = (now.time() - chrono::NaiveTime::MIN).num_seconds();
    let span = (50 * 60).min(since_midnight - 5).max(8);
    for i in 0..8i64 {
        let at = now - chrono::Duration::seconds(span - i * span / 8);
        create(
            &engine,
            request(
                at,
                "朝阳区",
                "construction_noise",
                &format!("{}（{}号楼）", WORDS[i as usize], i + 1),
            ),
        );
    }
    create(
        &engine,
        request(
            now - chrono::Duration::seconds(span / 2),
            "海淀区",
            "construction_noise",
            "施工围挡倒了一半",
        ),
    );

    // A risk word at intake: on the wallboard within seconds.
    let started = Instant::now();
    let risky = create(
        &engine,
        request(
            now,
            "西城区",
            "pollution",
            "化工厂气味太重，再不处理就要找记者媒体曝光",
        ),
    );
    let flagged = wait_for(Duration::from_secs(10), || {
        let board = get(&engine, "/api/wallboard");
        board["warnings"]
            .as_array()?
            .iter()
            .find(|w| w["rule"] == "risk_words" && w["requests"][0] == risky.as_str())
            .cloned()
    })
    .unwrap_or_else(|| panic!("no risk warning on the wallboard; log:\n{}", engine.log()));
    let latency = started.elapsed();
    println!("risk word on the wallboard after {latency:?}");
    assert!(latency < Duration::from_secs(3), "{latency:?}");
    assert_eq!(flagged["groups"], json!(["public_opinion"]), "{flagged}");
    // A forwarded request registered now with a receipt three days old is new all the same.
    let forwarded = create(
        &engine,
        request(noon(3), "石景山区", "pollution", "邻居说实在受不了想轻生"),
    );
    wait_for(Duration::from_secs(10), || {
        let board = get(&engine, "/api/wallboard");
        board["warnings"]
            .as_array()?
            .iter()
            .any(|w| w["requests"][0] == forwarded.as_str())
            .then_some(())
    })
    .unwrap_or_else(|| {
        panic!(
            "the forwarded request was not flagged; log:\n{}",
            engine.log()
        )
    });

    // The hot spot: exactly one, for 朝阳区, with the eight requests behind it.
    let hot = wait_for(Duration::from_secs(15), || {
        let list = get(&engine, "/api/analytics/warnings?rule=hot_spot");
        let w = list["warnings"].as_array()?.clone();
        (!w.is_empty()).then_some(w)
    })
    .unwrap_or_else(|| panic!("no hot spot; log:\n{}", engine.log()));
    std::thread::sleep(Duration::from_secs(3)); // three more scans: nothing new
    let all = get(&engine, "/api/analytics/warnings");
    let list = all["warnings"].as_array().expect("warnings");
    let rules: Vec<&str> = list.iter().filter_map(|w| w["rule"].as_str()).collect();
    assert_eq!(
        rules.iter().filter(|r| **r == "hot_spot").count(),
        1,
        "{list:?}"
    );
    assert_eq!(
        rules.iter().filter(|r| **r == "risk_words").count(),
        2,
        "{list:?}"
    );
    assert_eq!(rules.len(), 3, "no other warning: {list:?}");
    let h = &hot[0];
    assert_eq!(h["area"], "朝阳区", "{h}");
    assert_eq!(h["category"], "construction_noise", "{h}");
    assert_eq!(h["count"], 8, "{h}");
    assert_eq!(h["requests"].as_array().map(Vec::len), Some(8), "{h}");
    assert!(h["p_value"].as_f64().is_some_and(|p| p < 0.001), "{h}");

    let (_, metrics) = engine.get("/metrics");
    assert_eq!(
        metric(&metrics, "hotline_warnings_raised_total{rule=\"hot_spot\"}"),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        metric(
            &metrics,
            "hotline_warnings_raised_total{rule=\"risk_words\"}"
        ),
        Some(2.0)
    );
    assert!(metric(&metrics, "hotline_warnings_scans_total").is_some_and(|n| n >= 2.0));

    // Trends: by area per day over the last week, against the week before.
    let from = today - chrono::Duration::days(6);
    let t = get(
        &engine,
        &format!("/api/analytics/trends?by=area&bucket=day&from={from}&to={today}"),
    );
    assert_eq!(t["buckets"].as_array().map(Vec::len), Some(7), "{t}");
    let area = |name: &str| {
        t["series"]
            .as_array()
            .and_then(|s| s.iter().find(|x| x["key"] == name))
            .cloned()
            .expect(name)
    };
    let cy = area("朝阳区");
    assert_eq!(cy["total"], 6 + 8, "{cy}");
    assert_eq!(cy["previous_total"], 4, "{cy}");
    assert_eq!(cy["change"], 2.5, "{cy}");
    assert_eq!(cy["counts"][6], 8, "{cy}");
    assert_eq!(area("西城区")["total"], 1);
    assert_eq!(t["cut"], false);
    // Only supervisors read trends.
    let (status, _) = http_request(
        engine.http,
        "GET",
        "/api/analytics/trends",
        Some("demo-agent-1001"),
        None,
    );
    assert_eq!(status, 403);
    let (status, body) = engine.get("/api/analytics/trends?bucket=hour&from=2020-01-01");
    assert_eq!(status, 400, "{body}");

    // The page: the same trend drawn, the same warnings listed (Chromium).
    let tmp = tempfile::tempdir().expect("temp dir");
    let page = start_page(
        "analytics",
        &format!("http://{}", engine.http),
        "demo-supervisor",
        tmp.path(),
        &[],
    );
    let chart = page.expect("CHART", Duration::from_secs(40), &engine);
    let series = t["series"].as_array().map(Vec::len).unwrap_or(0);
    assert!(
        chart.contains(&format!("lines={series} legend={series}")),
        "{chart}"
    );
    let listed = page.expect("WARNINGS", Duration::from_secs(10), &engine);
    assert_eq!(listed.trim(), "WARNINGS hot_spot,risk_words,risk_words");
    page.expect("A11Y", Duration::from_secs(30), &engine);
    page.expect("DONE", Duration::from_secs(20), &engine);
}
