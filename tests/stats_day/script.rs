//! The scripted days: what three agents did in two queues on 2026-11-23 (day A) and
//! 2026-11-24 (day B), China time, written into a data dir through the store's own writers
//! (`agent_activity::insert`, `CallRecordLog::append`, the workflow over `SqliteStore`), so the
//! statistics read exactly what production writes.
//!
//! The story (every instant China time; the expected figures are in `stats_day.rs`):
//! - 1001 (general and enterprise): G1 with 45 s of hold; lets G2 ring out (no answer); a
//!   break; E1 across 11:00 with two holds; a meal, then logs out and back in; a web item;
//!   completes G1's ticket, registers and directly closes a web request. Day B: G6, a break.
//! - 1002: takes G2 after 1001's ring-out (30 s wait); G3's caller gives up while 1002's phone
//!   rings; a break (G4's caller gives up meanwhile, never rung); a meal; E2, whose request
//!   it refuses (a court case); a web item; completes and directly closes G2's ticket; G5
//!   from 23:50 across midnight with a hold across it too, wrap-up and log-out on day B.
//! - 1003 (enterprise): lets E3 ring out (its caller then gives up); E4; a break. Day B: E5
//!   with a hold, a web item, a meal; completes and directly closes E5's ticket.

use std::path::Path;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use hotline::call::record::{CallOutcome, CallRecord, CallState, LiveCall};
use hotline::shell::records::CallRecordLog;
use hotline::shell::store::Store;
use hotline::shell::ticket_store::{Durability, SqliteStore};
use hotline::stats::activity::{ActivityKind, AgentActivity};
use hotline::workflow::action::Action;
use hotline::workflow::model::{Actor, CallDraft, Intake, Role, TicketId};
use hotline::workflow::policy::Policy;

#[derive(Debug, Clone, Copy)]
pub enum Day {
    A,
    B,
}

pub fn date(d: Day) -> NaiveDate {
    match d {
        Day::A => NaiveDate::from_ymd_opt(2026, 11, 23),
        Day::B => NaiveDate::from_ymd_opt(2026, 11, 24),
    }
    .expect("a date")
}

fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("+08:00")
}

/// `hms` on day `d`, China time.
pub fn at(d: Day, hms: &str) -> DateTime<Utc> {
    let t = NaiveTime::parse_from_str(hms, "%H:%M:%S").expect("HH:MM:SS");
    china()
        .from_local_datetime(&date(d).and_time(t))
        .single()
        .expect("one instant")
        .with_timezone(&Utc)
}

/// (day, time, agent, what, reason or item, queue): `what` is a state, `hold_on`,
/// `hold_off` or `web_item`, as the engine stores them.
type Fact = (
    Day,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
);

const G: Option<&str> = Some("general");
const E: Option<&str> = Some("enterprise");
const W: Option<&str> = Some("web");

/// The agents' facts, in the order the engine would report them. A wrap-up's queue is
/// sometimes absent, as when the call was already gone when the state changed.
const FACTS: &[Fact] = &[
    // ---- day A: 1001
    (Day::A, "07:55:00", "1001", "ready", None, None),
    (Day::A, "08:00:04", "1001", "reserved", None, G),
    (Day::A, "08:00:10", "1001", "talking", None, G),
    (Day::A, "08:02:00", "1001", "hold_on", None, G),
    (Day::A, "08:02:45", "1001", "hold_off", None, G),
    (Day::A, "08:05:10", "1001", "wrap_up", None, None),
    (Day::A, "08:06:10", "1001", "ready", None, None),
    (Day::A, "08:59:55", "1001", "reserved", None, G),
    (
        Day::A,
        "09:00:15",
        "1001",
        "not_ready",
        Some("no_answer"),
        None,
    ),
    (Day::A, "09:02:15", "1001", "ready", None, None),
    (Day::A, "10:00:00", "1001", "not_ready", Some("break"), None),
    (Day::A, "10:15:00", "1001", "ready", None, None),
    (Day::A, "10:59:02", "1001", "reserved", None, E),
    (Day::A, "10:59:05", "1001", "talking", None, E),
    (Day::A, "11:01:00", "1001", "hold_on", None, E),
    (Day::A, "11:02:00", "1001", "hold_off", None, E),
    (Day::A, "11:03:00", "1001", "hold_on", None, E),
    (Day::A, "11:03:30", "1001", "hold_off", None, E),
    (Day::A, "11:04:05", "1001", "wrap_up", None, E),
    (Day::A, "11:05:35", "1001", "ready", None, None),
    (Day::A, "12:00:00", "1001", "not_ready", Some("meal"), None),
    (Day::A, "12:30:00", "1001", "logged_out", None, None),
    (Day::A, "13:30:00", "1001", "ready", None, None),
    (
        Day::A,
        "14:00:00",
        "1001",
        "web_item",
        Some("20261123-000003"),
        W,
    ),
    (Day::A, "17:00:00", "1001", "logged_out", None, None),
    // ---- day A: 1002
    (Day::A, "08:30:00", "1002", "ready", None, None),
    (Day::A, "09:00:15", "1002", "reserved", None, G),
    (Day::A, "09:00:20", "1002", "talking", None, G),
    (Day::A, "09:10:20", "1002", "wrap_up", None, G),
    (Day::A, "09:10:50", "1002", "ready", None, None),
    (Day::A, "09:30:03", "1002", "reserved", None, G),
    (Day::A, "09:30:12", "1002", "ready", None, None),
    (Day::A, "09:35:00", "1002", "not_ready", Some("break"), None),
    (Day::A, "09:45:00", "1002", "ready", None, None),
    (Day::A, "12:00:00", "1002", "not_ready", Some("meal"), None),
    (Day::A, "13:00:00", "1002", "ready", None, None),
    (Day::A, "14:00:06", "1002", "reserved", None, E),
    (Day::A, "14:00:12", "1002", "talking", None, E),
    (Day::A, "14:08:12", "1002", "wrap_up", None, None),
    (Day::A, "14:10:12", "1002", "ready", None, None),
    (
        Day::A,
        "15:00:00",
        "1002",
        "web_item",
        Some("20261123-000006"),
        W,
    ),
    (Day::A, "23:50:05", "1002", "reserved", None, G),
    (Day::A, "23:50:10", "1002", "talking", None, G),
    (Day::A, "23:58:00", "1002", "hold_on", None, G),
    // ---- day A: 1003
    (Day::A, "08:00:00", "1003", "ready", None, None),
    (Day::A, "09:20:02", "1003", "reserved", None, E),
    (
        Day::A,
        "09:20:22",
        "1003",
        "not_ready",
        Some("no_answer"),
        None,
    ),
    (Day::A, "09:21:00", "1003", "ready", None, None),
    (Day::A, "10:00:03", "1003", "reserved", None, E),
    (Day::A, "10:00:08", "1003", "talking", None, E),
    (Day::A, "10:20:08", "1003", "wrap_up", None, None),
    (Day::A, "10:23:08", "1003", "ready", None, None),
    (Day::A, "15:00:00", "1003", "not_ready", Some("break"), None),
    (Day::A, "15:20:00", "1003", "ready", None, None),
    (Day::A, "18:00:00", "1003", "logged_out", None, None),
    // ---- day B: 1002 finishes G5 (talking since 23:50:10, on hold since 23:58:00)
    (Day::B, "00:03:00", "1002", "hold_off", None, G),
    (Day::B, "00:10:10", "1002", "wrap_up", None, None),
    (Day::B, "00:11:10", "1002", "ready", None, None),
    (Day::B, "00:15:00", "1002", "logged_out", None, None),
    // ---- day B: 1001
    (Day::B, "08:00:00", "1001", "ready", None, None),
    (Day::B, "08:30:02", "1001", "reserved", None, G),
    (Day::B, "08:30:05", "1001", "talking", None, G),
    (Day::B, "08:35:05", "1001", "wrap_up", None, None),
    (Day::B, "08:35:35", "1001", "ready", None, None),
    (Day::B, "09:00:00", "1001", "not_ready", Some("break"), None),
    (Day::B, "09:10:00", "1001", "ready", None, None),
    (Day::B, "12:00:00", "1001", "logged_out", None, None),
    // ---- day B: 1003
    (Day::B, "09:00:00", "1003", "ready", None, None),
    (Day::B, "09:30:01", "1003", "reserved", None, E),
    (Day::B, "09:30:04", "1003", "talking", None, E),
    (Day::B, "09:31:00", "1003", "hold_on", None, E),
    (Day::B, "09:31:20", "1003", "hold_off", None, E),
    (Day::B, "09:40:04", "1003", "wrap_up", None, E),
    (Day::B, "09:41:04", "1003", "ready", None, None),
    (
        Day::B,
        "10:00:00",
        "1003",
        "web_item",
        Some("20261124-000003"),
        W,
    ),
    (Day::B, "11:00:00", "1003", "not_ready", Some("meal"), None),
    (Day::B, "11:30:00", "1003", "ready", None, None),
    (Day::B, "12:00:00", "1003", "logged_out", None, None),
];

fn fact(f: &Fact) -> AgentActivity {
    let (day, hms, agent, what, detail, queue) = *f;
    let kind = match what {
        "hold_on" => ActivityKind::Hold { on: true },
        "hold_off" => ActivityKind::Hold { on: false },
        "web_item" => ActivityKind::WebItem {
            item: detail.expect("an item").to_string(),
        },
        state => ActivityKind::State {
            state: state.to_string(),
            reason: detail.map(str::to_string),
        },
    };
    AgentActivity {
        agent: agent.to_string(),
        at: at(day, hms),
        kind,
        call: None,
        queue: queue.map(str::to_string),
    }
}

/// One citizen's call: asked for a person in `queue` at `queued`, rung on `rung`, answered by
/// `agent` at `connected`, over at `ended`.
pub struct Call {
    pub id: &'static str,
    pub queue: &'static str,
    pub queued: (Day, &'static str),
    pub rung: Option<&'static str>,
    pub agent: Option<&'static str>,
    pub connected: Option<(Day, &'static str)>,
    pub ended: (Day, &'static str),
    pub outcome: CallOutcome,
}

pub const CALLS: &[Call] = &[
    Call {
        id: "call-G1",
        queue: "general",
        queued: (Day::A, "08:00:00"),
        rung: Some("1001"),
        agent: Some("1001"),
        connected: Some((Day::A, "08:00:10")),
        ended: (Day::A, "08:05:10"),
        outcome: CallOutcome::Answered,
    },
    Call {
        id: "call-G2",
        queue: "general",
        queued: (Day::A, "08:59:50"),
        rung: Some("1002"),
        agent: Some("1002"),
        connected: Some((Day::A, "09:00:20")),
        ended: (Day::A, "09:10:20"),
        outcome: CallOutcome::Answered,
    },
    Call {
        id: "call-E3",
        queue: "enterprise",
        queued: (Day::A, "09:20:00"),
        rung: Some("1003"),
        agent: None,
        connected: None,
        ended: (Day::A, "09:20:40"),
        outcome: CallOutcome::AbandonedInQueue,
    },
    Call {
        id: "call-G3",
        queue: "general",
        queued: (Day::A, "09:30:00"),
        rung: Some("1002"),
        agent: None,
        connected: None,
        ended: (Day::A, "09:30:12"),
        outcome: CallOutcome::AbandonedInQueue,
    },
    Call {
        id: "call-G4",
        queue: "general",
        queued: (Day::A, "09:40:00"),
        rung: None,
        agent: None,
        connected: None,
        ended: (Day::A, "09:40:40"),
        outcome: CallOutcome::AbandonedInQueue,
    },
    Call {
        id: "call-E4",
        queue: "enterprise",
        queued: (Day::A, "10:00:00"),
        rung: Some("1003"),
        agent: Some("1003"),
        connected: Some((Day::A, "10:00:08")),
        ended: (Day::A, "10:20:08"),
        outcome: CallOutcome::Answered,
    },
    Call {
        id: "call-E1",
        queue: "enterprise",
        queued: (Day::A, "10:59:00"),
        rung: Some("1001"),
        agent: Some("1001"),
        connected: Some((Day::A, "10:59:05")),
        ended: (Day::A, "11:04:05"),
        outcome: CallOutcome::Answered,
    },
    Call {
        id: "call-E2",
        queue: "enterprise",
        queued: (Day::A, "14:00:00"),
        rung: Some("1002"),
        agent: Some("1002"),
        connected: Some((Day::A, "14:00:12")),
        ended: (Day::A, "14:08:12"),
        outcome: CallOutcome::Answered,
    },
    Call {
        id: "call-G5",
        queue: "general",
        queued: (Day::A, "23:50:00"),
        rung: Some("1002"),
        agent: Some("1002"),
        connected: Some((Day::A, "23:50:10")),
        ended: (Day::B, "00:10:10"),
        outcome: CallOutcome::Answered,
    },
    Call {
        id: "call-G6",
        queue: "general",
        queued: (Day::B, "08:30:00"),
        rung: Some("1001"),
        agent: Some("1001"),
        connected: Some((Day::B, "08:30:05")),
        ended: (Day::B, "08:35:05"),
        outcome: CallOutcome::Answered,
    },
    Call {
        id: "call-E5",
        queue: "enterprise",
        queued: (Day::B, "09:30:00"),
        rung: Some("1003"),
        agent: Some("1003"),
        connected: Some((Day::B, "09:30:04")),
        ended: (Day::B, "09:40:04"),
        outcome: CallOutcome::Answered,
    },
];

fn record(c: &Call) -> CallRecord {
    let queued = at(c.queued.0, c.queued.1);
    // The menu took 20 s before the caller asked for a person.
    let started = queued - chrono::Duration::seconds(20);
    let connected = c.connected.map(|(d, t)| at(d, t));
    CallRecord {
        call: LiveCall {
            callback_offered: false,
            id: c.id.to_string(),
            caller: "138****0000".into(),
            called: "12345".into(),
            called_name: None,
            state: CallState::Ended,
            menu_path: vec!["main:1".into()],
            queue: Some(c.queue.to_string()),
            started_at: started,
            answered_at: Some(started),
            queued_at: Some(queued),
            offered_to: c.rung.map(str::to_string),
            agent: c.agent.map(str::to_string),
            connected_at: connected,
            wait_s: connected.map(|t| (t - queued).num_milliseconds() as f64 / 1000.0),
            recording: None,
            transfers: Vec::new(),
            ticket: None,
            answered_queue: connected.map(|_| c.queue.to_string()),
            on_hold: false,
            parties: Vec::new(),
            direction: Default::default(),
            outbound: None,
        },
        ended_at: at(c.ended.0, c.ended.1),
        outcome: c.outcome,
        sip_call_id: format!("{}@sipp", c.id),
        recording_sha256: None,
        over_15s: None,
        agent_media_failure: None,
    }
}

fn intake(json: serde_json::Value) -> Intake {
    serde_json::from_value(json).expect("an intake")
}

fn action(json: serde_json::Value) -> Action {
    serde_json::from_value(json).expect("an action")
}

fn complete() -> Action {
    action(
        serde_json::json!({"action":"complete","content":"营业执照办理咨询",
        "urgency":"non_urgent","type":"consultation","domain":"market_supervision"}),
    )
}

fn direct_close() -> Action {
    action(
        serde_json::json!({"action":"direct_close","method":"special_seat",
        "answer":"已当场答复"}),
    )
}

/// Writes the script into `data_dir` (before the engine starts on it).
pub fn write(data_dir: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut store = Store::from(
        SqliteStore::open(&data_dir.join("tickets.sqlite"), Durability::Full)
            .expect("ticket store"),
    );
    let facts: Vec<AgentActivity> = FACTS.iter().map(fact).collect();
    hotline::shell::agent_activity::insert(&mut store, &facts).expect("agent activity");

    let mut log = CallRecordLog::open(data_dir).expect("call records");
    let mut by_end: Vec<&Call> = CALLS.iter().collect();
    by_end.sort_by_key(|c| at(c.ended.0, c.ended.1));
    for c in by_end {
        log.append(&record(c)).expect("a record");
    }
    log.sync().expect("sync records");

    let wf = hotline::shell::workflow_files::load_workflow(
        &root.join("config/calendar"),
        &root.join("config/dispatch.toml"),
        Policy::default(),
    )
    .expect("workflow");
    let agent = |id: &str| Actor::new(format!("agent-{id}"), Role::Agent);
    let when = |d: Day, t: &str| at(d, t).with_timezone(&china());
    // The engine opens a call's draft (as `sweep`, the system) when the agent answers; the
    // agent completes it: one ticket created by that agent.
    let draft = |store: &mut Store, call: &str, d: Day, t: &str| -> TicketId {
        let c = CALLS
            .iter()
            .find(|c| c.id == call)
            .expect("a scripted call");
        let draft = CallDraft {
            number: None,
            call_id: call.to_string(),
            received_at: when(c.queued.0, c.queued.1),
            caller_phone: None,
            queue: Some(c.queue.to_string()),
            menu_path: vec!["main:1".into()],
        };
        wf.open_draft(store, &draft, &Actor::system(), when(d, t))
            .expect("draft")
            .id
    };
    let act = |store: &mut Store, id: &TicketId, who: &Actor, a: &Action, d, t| {
        wf.act(store, id, None, who, a, when(d, t))
            .unwrap_or_else(|e| panic!("{a:?} on {id:?}: {e}"));
    };
    let web_request = |content: &str, d: Day, t: &str| {
        intake(
            serde_json::json!({"channel":"web","received_at": when(d, t),
            "content": content, "urgency":"non_urgent","type":"help",
            "domain":"social_management"}),
        )
    };

    // Day A.
    let g1 = draft(&mut store, "call-G1", Day::A, "08:00:10");
    act(
        &mut store,
        &g1,
        &agent("1001"),
        &complete(),
        Day::A,
        "08:06:00",
    );
    let g2 = draft(&mut store, "call-G2", Day::A, "09:00:20");
    act(
        &mut store,
        &g2,
        &agent("1002"),
        &complete(),
        Day::A,
        "09:10:40",
    );
    act(
        &mut store,
        &g2,
        &agent("1002"),
        &direct_close(),
        Day::A,
        "09:10:45",
    );
    let e4 = draft(&mut store, "call-E4", Day::A, "10:00:08");
    act(
        &mut store,
        &e4,
        &agent("1003"),
        &complete(),
        Day::A,
        "10:22:00",
    );
    // A supervisor's registration counts for no agent.
    wf.create(
        &mut store,
        web_request("小区路灯不亮", Day::A, "11:00:00"),
        &Actor::new("supervisor", Role::Supervisor),
        when(Day::A, "11:00:00"),
    )
    .expect("supervisor's ticket");
    // 1001 handles the web item of 14:00: registers the request and answers it at once.
    let w1 = wf
        .create(
            &mut store,
            web_request("公积金提取需要哪些材料", Day::A, "14:00:00"),
            &agent("1001"),
            when(Day::A, "14:05:00"),
        )
        .expect("web ticket")
        .id;
    act(
        &mut store,
        &w1,
        &agent("1001"),
        &direct_close(),
        Day::A,
        "14:10:00",
    );
    // 1002 refuses E2's request (W1: the matter is before a court): a ticket closed, none
    // created.
    let e2 = draft(&mut store, "call-E2", Day::A, "14:00:12");
    let refuse = action(serde_json::json!({"action":"refuse","reason":"litigation",
        "explanation":"已进入诉讼程序，请通过法院途径解决"}));
    act(&mut store, &e2, &agent("1002"), &refuse, Day::A, "14:09:00");
    let g5 = draft(&mut store, "call-G5", Day::A, "23:50:10");
    // Day B: G5's ticket is completed after midnight, a day-B ticket.
    act(
        &mut store,
        &g5,
        &agent("1002"),
        &complete(),
        Day::B,
        "00:10:30",
    );
    let e5 = draft(&mut store, "call-E5", Day::B, "09:30:04");
    act(
        &mut store,
        &e5,
        &agent("1003"),
        &complete(),
        Day::B,
        "09:40:30",
    );
    act(
        &mut store,
        &e5,
        &agent("1003"),
        &direct_close(),
        Day::B,
        "09:40:50",
    );
}
