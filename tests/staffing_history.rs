//! The staffing plan over real history (issue 17, 44190 6.1.1.1): four past Wednesdays of
//! calls and agents, written through the production writers (`CallRecordLog::append`,
//! `agent_activity::insert`), the engine started on them with libfaketime at Wednesday
//! 2026-12-02 12:05 China time, and `GET /api/stats/staffing` compared interval by interval
//! with figures computed by hand below (the Erlang C arithmetic is in the comments); then the
//! report page in Chromium at 1920×1080 shows the same intervals, "logged in" beside
//! "needed", and the shortfall marked (`tests/browser/staffing.mjs`).
//!
//! The shape, on each of the Wednesdays 11-04, 11-11, 11-18 and 11-25 (weeks 4 … 1 back):
//! - 09:00–09:15, quiet: 3 callers (09:02:00 and 09:08:00 answered after 5 s; 09:14:50
//!   answered after 20 s, at 09:15:10 — still a 09:00 arrival);
//! - 09:30–09:45: 1 caller who gives up after 40 s (volume, no handle time), and 1 who asks
//!   at 09:30:30 and keeps a "call me back" place at 09:31:00 (volume: they asked for a
//!   person); 2003 calls them back, the citizen answers at 09:40:00 and they talk 150 s;
//! - 10:00–10:15, the peak: 30, 28, 32, 30 callers (weeks 1 … 4), evenly spread, each
//!   answered after 5 s by one of eleven agents in turn;
//! - every answered call (and that callback) talks 150 s and is wrapped up in 30 s;
//! - nothing at 11:00.
//!
//! Beside them: Tuesday 12-01 10:00, one call talking 287 s, wrapped up in 167 s (inside the
//! four weeks: in the handle time, not in Wednesday's volume); Wednesday 10-28 (five weeks
//! back: in neither) and today 08:30 (not history) with long calls that would show if counted.
//!
//! Today: 1001–1004 log in at 08:00; 1002 logs out at 09:07:30; 1005 logs in at 10:05; 1004
//! logs out at 11:00.

// A real engine on loopback, read in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use common::pages::start_page;
use common::Engine;
use hotline::call::record::{
    CallOutcome, CallRecord, CallState, Direction, LiveCall, OutboundInfo,
};
use hotline::outbound::dialler::Purpose;
use hotline::shell::records::CallRecordLog;
use hotline::shell::store::Store;
use hotline::shell::ticket_store::{Durability, SqliteStore};
use hotline::stats::activity::{ActivityKind, AgentActivity};
use serde_json::Value;

/// libfaketime, as Debian's `faketime` package installs it.
const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// The callers of the peak on the Wednesdays 1, 2, 3 and 4 weeks back.
const PEAK: [u32; 4] = [30, 28, 32, 30];

fn at(day: NaiveDate, hms: &str) -> DateTime<Utc> {
    let t = NaiveTime::parse_from_str(hms, "%H:%M:%S").expect("HH:MM:SS");
    FixedOffset::east_opt(8 * 3600)
        .expect("+08:00")
        .from_local_datetime(&day.and_time(t))
        .single()
        .expect("one instant")
        .with_timezone(&Utc)
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 2).expect("a date")
}

fn state(agent: &str, when: DateTime<Utc>, state: &str) -> AgentActivity {
    AgentActivity {
        agent: agent.to_string(),
        at: when,
        kind: ActivityKind::State {
            state: state.to_string(),
            reason: None,
        },
        call: None,
        queue: None,
    }
}

/// A caller queued at `queued`, answered after `wait` s by `agent` (who was rung 2 s after
/// the caller asked), talking `talk` s then wrapping up `wrap` s; `None` for `agent`: the
/// caller gave up after `wait` s.
struct Script {
    records: Vec<CallRecord>,
    facts: Vec<AgentActivity>,
}

impl Script {
    fn call(
        &mut self,
        queued: DateTime<Utc>,
        wait: i64,
        agent: Option<&str>,
        talk: i64,
        wrap: i64,
    ) {
        let s = chrono::Duration::seconds;
        let id = format!("call-{}-{}", queued.timestamp(), self.records.len());
        let connected = agent.map(|_| queued + s(wait));
        let ended = connected.map_or(queued + s(wait), |c| c + s(talk));
        if let Some(a) = agent {
            self.facts.push(state(a, queued + s(2), "reserved"));
            self.facts.push(state(a, queued + s(wait), "talking"));
            self.facts.push(state(a, ended, "wrap_up"));
            self.facts.push(state(a, ended + s(wrap), "ready"));
        }
        let started = queued - s(20);
        self.records.push(CallRecord {
            call: LiveCall {
                callback_offered: false,
                id: id.clone(),
                caller: "138****0000".into(),
                called: "12345".into(),
                called_name: None,
                state: CallState::Ended,
                menu_path: vec!["main:1".into()],
                queue: Some("general".into()),
                started_at: started,
                answered_at: Some(started),
                queued_at: Some(queued),
                offered_to: agent.map(str::to_string),
                agent: agent.map(str::to_string),
                connected_at: connected,
                wait_s: connected.map(|_| wait as f64),
                recording: None,
                transfers: Vec::new(),
                ticket: None,
                answered_queue: connected.map(|_| "general".into()),
                on_hold: false,
                parties: Vec::new(),
                direction: Default::default(),
                outbound: None,
            },
            ended_at: ended,
            outcome: if agent.is_some() {
                CallOutcome::Answered
            } else {
                CallOutcome::AbandonedInQueue
            },
            sip_call_id: format!("{id}@sipp"),
            recording_sha256: None,
            over_15s: None,
            agent_media_failure: None,
        });
    }

    /// A caller who asked at `queued` and kept a callback place at `kept`; `agent` is rung
    /// 5 s before the citizen answers at `answered`; they talk `talk` s, wrap-up `wrap` s.
    fn kept_callback(
        &mut self,
        queued: DateTime<Utc>,
        kept: DateTime<Utc>,
        agent: &str,
        answered: DateTime<Utc>,
        talk: i64,
        wrap: i64,
    ) {
        let s = chrono::Duration::seconds;
        self.call(queued, (kept - queued).num_seconds(), None, 0, 0);
        let Some(inbound) = self.records.last_mut() else {
            return;
        };
        inbound.outcome = CallOutcome::CallbackRequested;
        inbound.call.callback_offered = true;
        let origin = inbound.call.id.clone();
        let ended = answered + s(talk);
        self.facts.push(state(agent, answered - s(5), "reserved"));
        self.facts.push(state(agent, answered, "talking"));
        self.facts.push(state(agent, ended, "wrap_up"));
        self.facts.push(state(agent, ended + s(wrap), "ready"));
        let mut call = inbound.call.clone();
        call.id = format!("{origin}-cb");
        call.callback_offered = false;
        call.direction = Direction::Outbound;
        call.started_at = answered - s(5);
        call.answered_at = Some(answered);
        call.queued_at = Some(queued);
        call.agent = Some(agent.to_string());
        call.connected_at = Some(answered);
        call.outbound = Some(OutboundInfo {
            purpose: Purpose::CallMeBack,
            reference: origin,
            try_no: 1,
            outcome: Some(hotline::outbound::rules::Outcome::Answered),
            robot: None,
            reason: None,
            requested_at: Some(kept),
            last_try: false,
        });
        self.records.push(CallRecord {
            sip_call_id: format!("{}@trunk", call.id),
            call,
            ended_at: ended,
            outcome: CallOutcome::Answered,
            recording_sha256: None,
            over_15s: None,
            agent_media_failure: None,
        });
    }

    fn shift(&mut self, agent: &str, from: DateTime<Utc>, to: Option<DateTime<Utc>>) {
        self.facts.push(state(agent, from, "ready"));
        if let Some(to) = to {
            self.facts.push(state(agent, to, "logged_out"));
        }
    }
}

fn write(data_dir: &Path) {
    let mut sc = Script {
        records: Vec::new(),
        facts: Vec::new(),
    };
    let history_agents: Vec<String> = (2001..=2011).map(|n| n.to_string()).collect();
    for (back, &peak) in PEAK.iter().enumerate() {
        let day = today() - chrono::Duration::weeks(back as i64 + 1);
        for a in &history_agents {
            sc.shift(a, at(day, "08:00:00"), Some(at(day, "12:00:00")));
        }
        // The quiet quarter hour.
        sc.call(at(day, "09:02:00"), 5, Some("2001"), 150, 30);
        sc.call(at(day, "09:08:00"), 5, Some("2001"), 150, 30);
        sc.call(at(day, "09:14:50"), 20, Some("2002"), 150, 30);
        // One caller who gives up.
        sc.call(at(day, "09:30:00"), 40, None, 0, 0);
        // One who keeps a place and is called back.
        sc.kept_callback(
            at(day, "09:30:30"),
            at(day, "09:31:00"),
            "2003",
            at(day, "09:40:00"),
            150,
            30,
        );
        // The peak: every 900 ÷ n seconds (whole), agent after agent (each is free again
        // 5 + 150 + 30 s after its caller asked, long before its next turn).
        let gap = 900 / i64::from(peak);
        for k in 0..i64::from(peak) {
            let agent = &history_agents[(k % 11) as usize];
            let queued = at(day, "10:00:00") + chrono::Duration::seconds(k * gap);
            sc.call(queued, 5, Some(agent), 150, 30);
        }
    }
    // Tuesday 12-01: in the four weeks (handle time), not a Wednesday (volume).
    let tuesday = today() - chrono::Duration::days(1);
    sc.shift(
        "2001",
        at(tuesday, "09:55:00"),
        Some(at(tuesday, "11:00:00")),
    );
    sc.call(at(tuesday, "10:00:00"), 5, Some("2001"), 287, 167);
    // Five weeks back: in neither.
    let old = today() - chrono::Duration::weeks(5);
    sc.shift("2001", at(old, "09:55:00"), Some(at(old, "11:00:00")));
    sc.call(at(old, "10:00:00"), 5, Some("2001"), 900, 300);
    // Today.
    let t = |hms| at(today(), hms);
    sc.shift("1001", t("08:00:00"), None);
    sc.shift("1002", t("08:00:00"), Some(t("09:07:30")));
    sc.shift("1003", t("08:00:00"), None);
    sc.shift("1004", t("08:00:00"), Some(t("11:00:00")));
    sc.shift("1005", t("10:05:00"), None);
    sc.call(t("08:30:00"), 5, Some("1001"), 600, 100);

    sc.facts.sort_by_key(|f| f.at);
    let mut store = Store::from(
        SqliteStore::open(&data_dir.join("tickets.sqlite"), Durability::Full)
            .expect("ticket store"),
    );
    hotline::shell::agent_activity::insert(&mut store, &sc.facts).expect("agent activity");
    let mut log = CallRecordLog::open(data_dir).expect("call records");
    sc.records.sort_by_key(|r| r.ended_at);
    for r in &sc.records {
        log.append(r).expect("a record");
    }
    log.sync().expect("sync records");
}

fn close(v: &Value, expected: f64, what: &str) {
    let got = v
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: not a number: {v}"));
    assert!(
        (got - expected).abs() < 1e-6,
        "{what}: {got}, by hand {expected}"
    );
}

#[test]
fn the_staffing_plan_over_four_past_wednesdays_matches_hand_figures_and_shows_on_the_page() {
    assert!(
        Path::new(LIBFAKETIME).exists(),
        "libfaketime is missing: run ./.ci/test (it installs Debian's faketime)"
    );
    let data = tempfile::tempdir().expect("data dir");
    write(data.path());
    // Wednesday 2026-12-02, 12:05 China time.
    let engine = Engine::start_in(
        data,
        "",
        &[],
        &[
            ("LD_PRELOAD", LIBFAKETIME),
            ("FAKETIME", "@2026-12-02 04:05:00"),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
            ("TZ", "UTC"),
        ],
    );
    let (status, body) = engine.get("/api/stats/staffing?day=2026-12-02");
    assert_eq!(status, 200, "{body}");
    let plan: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(plan["model"], "erlang_c");
    assert_eq!(plan["weeks"], 4);
    close(&plan["target_s"], 15.0, "target");
    close(&plan["service_level"], 0.95, "level");
    // Handle time: talks over the four weeks (Wednesdays and that Tuesday; not 10-28, not
    // today): 4 × (3 quiet + 1 callback) + (30 + 28 + 32 + 30) peak = 136 talks × 150 s =
    // 20400 s, plus Tuesday's 287 s = 20687 s over 137 = 151 s. Wrap-ups: 136 × 30 s =
    // 4080 s plus 167 s = 4247 s over 137 = 31 s. AHT = 151 + 31 = 182 s.
    close(&plan["aht_s"], 182.0, "aht");
    let iv = plan["intervals"].as_array().expect("intervals");
    assert_eq!(iv.len(), 96);
    let row = |hhmm: &str| -> &Value {
        iv.iter()
            .find(|i| i["start"] == hhmm)
            .unwrap_or_else(|| panic!("no {hhmm}"))
    };

    // 09:00, quiet: 3 callers every Wednesday (the one answered at 09:15:10 arrived at
    // 09:14:50) → 3.0. Traffic A = 3 × 182 ÷ 900 = 0.606667 E.
    // N = 2: Erlang B(2, A) = (A²/2) ÷ (1 + A + A²/2) = 0.184022 ÷ 1.790689 = 0.102766;
    //   C = 2B ÷ (2 − A(1 − B)) = 0.205532 ÷ 1.455678 = 0.141194;
    //   SL = 1 − C·e^(−(2 − A)·15/182) = 1 − 0.141194 × 0.891513 = 0.874124 < 0.95.
    // N = 3: B(3) = A·B(2) ÷ (3 + A·B(2)) = 0.062345 ÷ 3.062345 = 0.020359;
    //   C = 3B ÷ (3 − A(1 − B)) = 0.061076 ÷ 2.405684 = 0.025388;
    //   SL = 1 − 0.025388 × e^(−2.393333 × 15/182) = 1 − 0.025388 × 0.820983 = 0.979157 ≥ 0.95.
    // Needed: 3. Logged in: 1001, 1003, 1004 all of it, 1002 until 09:07:30 (450 ÷ 900) = 3.5.
    let r = row("09:00");
    close(&r["forecast_calls"], 3.0, "09:00 forecast");
    close(&r["traffic"], 3.0 * 182.0 / 900.0, "09:00 traffic");
    assert_eq!(r["agents_needed"], 3, "{r}");
    close(&r["service_level"], 0.979157, "09:00 SL (6 places)");
    close(&r["logged_in"], 3.5, "09:00 logged in");
    // 09:15: no arrival (the 20 s wait ended here, it does not move the caller).
    let r = row("09:15");
    close(&r["forecast_calls"], 0.0, "09:15 forecast");
    assert_eq!(r["agents_needed"], 0, "{r}");
    close(&r["logged_in"], 3.0, "09:15 logged in");
    // 09:30: 2 callers, the one who gave up and the one who kept a callback place (both
    // asked for a person). A = 2 × 182 ÷ 900 = 0.404444 E.
    // N = 1: C = A = 0.404444; SL = 1 − 0.404444 × e^(−0.595556 × 15/182) = 1 − 0.404444 ×
    //   0.952101 = 0.614928 < 0.95.
    // N = 2: B = (A²/2) ÷ (1 + A + A²/2) = 0.081788 ÷ 1.486232 = 0.055030;
    //   C = 2B ÷ (2 − A(1 − B)) = 0.110060 ÷ 1.617812 = 0.068030;
    //   SL = 1 − 0.068030 × e^(−1.595556 × 15/182) = 1 − 0.068030 × 0.876778 = 0.940352 < 0.95.
    // N = 3: B = A·B(2) ÷ (3 + A·B(2)) = 0.007364; C = 0.022093 ÷ 2.598534 = 0.008502;
    //   SL = 1 − 0.008502 × e^(−2.595556 × 15/182) = 1 − 0.008502 × 0.807413 = 0.993135.
    let r = row("09:30");
    close(&r["forecast_calls"], 2.0, "09:30 forecast");
    assert_eq!(r["agents_needed"], 3, "{r}");
    close(&r["service_level"], 0.993135, "09:30 SL");
    close(&r["logged_in"], 3.0, "09:30 logged in");
    // 10:00, the peak: (30 + 28 + 32 + 30) ÷ 4 = 30 callers; A = 30 × 182 ÷ 900 = 6.066667 E.
    // Erlang B by the recurrence B(k) = A·B(k−1) ÷ (k + A·B(k−1)) from B(0) = 1 gives
    // B(10) = 0.045208, B(11) = 0.024326.
    // N = 10: C = 10B ÷ (10 − A(1 − B)) = 0.452080 ÷ 4.207584 = 0.107443;
    //   SL = 1 − 0.107443 × e^(−3.933333 × 15/182) = 1 − 0.107443 × 0.723123 = 0.922305 < 0.95.
    // N = 11: C = 0.267586 ÷ (11 − 6.066667 × 0.975674) = 0.267586 ÷ 5.080910 = 0.052666;
    //   SL = 1 − 0.052666 × e^(−4.933333 × 15/182) = 1 − 0.052666 × 0.665915 = 0.964929.
    // Needed: 11. Logged in: 1001, 1003, 1004 + 1005 from 10:05 (600 ÷ 900) = 3.666667.
    let r = row("10:00");
    close(&r["forecast_calls"], 30.0, "10:00 forecast");
    close(&r["traffic"], 30.0 * 182.0 / 900.0, "10:00 traffic");
    assert_eq!(r["agents_needed"], 11, "{r}");
    close(&r["service_level"], 0.964929, "10:00 SL");
    close(&r["logged_in"], 3.0 + 600.0 / 900.0, "10:00 logged in");
    // 11:00: no caller ever; 1001, 1003, 1005 (1004 left at 11:00).
    let r = row("11:00");
    close(&r["forecast_calls"], 0.0, "11:00 forecast");
    close(&r["traffic"], 0.0, "11:00 traffic");
    assert_eq!(r["agents_needed"], 0, "{r}");
    close(&r["logged_in"], 3.0, "11:00 logged in");
    // 12:00 is under way (it is 12:05 and some seconds): the same three, all of it so far.
    close(&row("12:00")["logged_in"], 3.0, "12:00 logged in");
    // Not begun.
    assert_eq!(row("12:15")["logged_in"], Value::Null);
    // No history at all elsewhere (the Tuesday and 10-28 calls are not Wednesdays of the
    // four weeks), and today's own call is not history.
    let busy: Vec<&str> = iv
        .iter()
        .filter(|i| i["forecast_calls"].as_f64() != Some(0.0))
        .filter_map(|i| i["start"].as_str())
        .collect();
    assert_eq!(busy, ["09:00", "09:30", "10:00"]);

    // The report page at 1920×1080: the same rows, "logged in" beside "needed", the
    // shortfalls marked.
    let tmp = tempfile::tempdir().expect("temp dir");
    let base = format!("http://{}", engine.http);
    let page = start_page(
        "staffing",
        &base,
        "demo-supervisor",
        tmp.path(),
        &["2026-12-02"],
    );
    let head = page.expect("HEAD", Duration::from_secs(60), &engine);
    assert_eq!(
        head,
        "HEAD Interval|Forecast calls|Traffic (Erl)|Agents needed|Logged in|Short by"
    );
    let basis = page.expect("BASIS", Duration::from_secs(5), &engine);
    assert!(
        basis.contains("Erlang C") && basis.contains("4 weeks") && basis.contains("3m02s"),
        "{basis}"
    );
    let mut rows = Vec::new();
    loop {
        let line = page.expect("ROW", Duration::from_secs(5), &engine);
        if line == "ROW end" {
            break;
        }
        rows.push(line);
    }
    // 08:00–08:45 four, then three or so agents on: every interval with agents on shows; the
    // shortfall only where logged in < needed.
    for expected in [
        "ROW 09:00|3.0|0.61|3|3.5|",
        "ROW 09:15|0.0|0.00|0|3.0|",
        "ROW 09:30|2.0|0.40|3|3.0|",
        "ROW 10:00|30.0|6.07|11|3.7|7.3 short",
        "ROW 11:00|0.0|0.00|0|3.0|",
        "ROW 12:00|0.0|0.00|0|3.0|",
    ] {
        assert!(rows.iter().any(|r| r == expected), "{expected}\n{rows:#?}");
    }
    assert!(
        !rows.iter().any(|r| r.starts_with("ROW 12:15")),
        "{rows:#?}"
    );
    let shortfalls = rows.iter().filter(|r| r.ends_with("short")).count();
    assert_eq!(shortfalls, 1, "{rows:#?}");
    page.expect("CHART", Duration::from_secs(5), &engine);
    page.expect("A11Y staffing", Duration::from_secs(30), &engine);
    page.expect("SHOT", Duration::from_secs(10), &engine);
}
