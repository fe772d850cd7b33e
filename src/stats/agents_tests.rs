//! A scripted day, counted by hand (the sums are in the comments).

use super::*;
use crate::stats::kpi::Outcome;
use chrono::{FixedOffset, TimeZone};
use std::time::Duration;

fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap()
}

/// 2026-11-22, China time.
fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    china()
        .with_ymd_and_hms(2026, 11, 22, h, m, s)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn day_before(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    at(h, m, s) - chrono::Duration::days(1)
}

fn state(
    agent: &str,
    t: DateTime<Utc>,
    s: &str,
    reason: Option<&str>,
    queue: Option<&str>,
) -> AgentActivity {
    AgentActivity {
        agent: agent.into(),
        at: t,
        kind: ActivityKind::State {
            state: s.into(),
            reason: reason.map(str::to_string),
        },
        call: None,
        queue: queue.map(str::to_string),
    }
}

fn hold(agent: &str, t: DateTime<Utc>, on: bool) -> AgentActivity {
    AgentActivity {
        agent: agent.into(),
        at: t,
        kind: ActivityKind::Hold { on },
        call: None,
        queue: Some("general".into()),
    }
}

fn scripted_day() -> Vec<AgentActivity> {
    let mut v = vec![
        // Each agent's last fact before midnight (what `between` reads first).
        state("1001", day_before(23, 0, 0), "ready", None, None),
        state(
            "1002",
            day_before(23, 59, 0),
            "talking",
            None,
            Some("general"),
        ),
        // 1002 finishes the night's call and takes one enterprise call.
        state("1002", at(0, 1, 0), "wrap_up", None, None),
        state("1002", at(0, 2, 0), "ready", None, None),
        state("1002", at(0, 30, 0), "reserved", None, Some("enterprise")),
        state("1002", at(0, 30, 5), "talking", None, Some("enterprise")),
        state("1002", at(0, 40, 5), "wrap_up", None, None),
        state("1002", at(0, 41, 5), "not_ready", Some("break"), None),
        state("1002", at(1, 0, 0), "logged_out", None, None),
        // 1001: one call with 30 s of hold, one ring unanswered, a meal, a web item.
        state("1001", at(8, 0, 0), "reserved", None, Some("general")),
        state("1001", at(8, 0, 10), "talking", None, Some("general")),
        hold("1001", at(8, 1, 0), true),
        hold("1001", at(8, 1, 30), false),
        state("1001", at(8, 3, 10), "wrap_up", None, None),
        state("1001", at(8, 3, 40), "ready", None, None),
        state("1001", at(9, 0, 0), "reserved", None, Some("general")),
        state("1001", at(9, 0, 20), "not_ready", Some("no_answer"), None),
        state("1001", at(9, 5, 0), "ready", None, None),
        state("1001", at(10, 0, 0), "not_ready", Some("meal"), None),
        state("1001", at(11, 0, 0), "ready", None, None),
        AgentActivity {
            agent: "1001".into(),
            at: at(12, 0, 0),
            kind: ActivityKind::WebItem {
                item: "20261122-000007".into(),
            },
            call: None,
            queue: Some("web".into()),
        },
        state("1001", at(17, 0, 0), "logged_out", None, None),
    ];
    v.sort_by_key(|a| a.at);
    v
}

fn calls() -> Vec<KpiEvent> {
    let e = |q: &str, outcome, t| KpiEvent {
        queue: Some(q.into()),
        number: None,
        outcome,
        at: t,
    };
    let secs = Duration::from_secs;
    vec![
        // The night call of 1002 was answered the day before: not this day's.
        e(
            "general",
            Outcome::Answered { wait: secs(3) },
            day_before(23, 59, 0),
        ),
        e(
            "enterprise",
            Outcome::Answered { wait: secs(5) },
            at(0, 30, 5),
        ),
        e(
            "general",
            Outcome::Answered { wait: secs(10) },
            at(8, 0, 10),
        ),
        // The call 1001 let ring: its caller gave up after 40 s.
        e(
            "general",
            Outcome::Abandoned { wait: secs(40) },
            at(9, 0, 40),
        ),
    ]
}

fn compute_day() -> PeriodStats {
    let activity = scripted_day();
    let calls = calls();
    let tickets = vec![TicketTally {
        agent: "1001".into(),
        created: 3,
        closed: 1,
    }];
    compute(&Period {
        from: at(0, 0, 0),
        to: at(0, 0, 0) + chrono::Duration::days(1),
        now: at(0, 0, 0) + chrono::Duration::days(2),
        grace: Duration::ZERO,
        activity: &activity,
        calls: &calls,
        tickets: &tickets,
    })
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
fn a_scripted_day_per_agent_matches_hand_counts() {
    let s = compute_day();
    let a = &s.agents[0];
    assert_eq!(a.agent, "1001");
    let h = &a.handling;
    assert_eq!((h.offered, h.answered, h.ring_no_answer), (2, 1, 1));
    // Talk 08:00:10 → 08:03:10; hold 08:01:00 → 08:01:30; wrap-up 08:03:10 → 08:03:40.
    assert!(close(h.talk_s, 180.0) && h.avg_talk_s == Some(180.0));
    assert!(close(h.hold_s, 30.0) && h.avg_hold_s == Some(30.0));
    assert!(close(h.wrap_up_s, 30.0) && h.avg_wrap_up_s == Some(30.0));
    assert_eq!(h.web_items, 1);
    // Ready 00:00→08:00 (28800) + 08:03:40→09:00 (3380) + 09:05→10:00 (3300)
    // + 11:00→17:00 (21600).
    assert!(close(a.ready_s, 57_080.0), "{}", a.ready_s);
    assert!(close(a.ringing_s, 30.0));
    // No answer 09:00:20 → 09:05 (280); meal one hour.
    assert!(close(a.not_ready_s, 3_880.0));
    assert!(close(a.not_ready_by_reason["no_answer"], 280.0));
    assert!(close(a.not_ready_by_reason["meal"], 3_600.0));
    // Logged in from midnight to 17:00.
    assert!(close(a.logged_in_s, 17.0 * 3600.0));
    // (30 + 180 + 30) ÷ (240 + 57080)
    assert!(close(a.occupancy.unwrap(), 240.0 / 57_320.0));
    assert_eq!((a.tickets_created, a.tickets_closed), (3, 1));

    let b = &s.agents[1];
    assert_eq!(b.agent, "1002");
    let h = &b.handling;
    // Only the enterprise ring and answer happened today; the night talk's last minute counts.
    assert_eq!((h.offered, h.answered, h.ring_no_answer), (1, 1, 0));
    assert!(close(h.talk_s, 660.0) && h.talks == 2);
    assert!(close(h.avg_talk_s.unwrap(), 330.0));
    assert!(close(h.wrap_up_s, 120.0) && h.wrap_ups == 2);
    assert!(close(h.hold_s, 0.0));
    assert!(close(b.ready_s, 1_680.0));
    assert!(close(b.not_ready_by_reason["break"], 1_135.0));
    assert!(close(b.logged_in_s, 3_600.0));
    assert!(close(b.occupancy.unwrap(), 785.0 / 2_465.0));
    assert_eq!((b.tickets_created, b.tickets_closed), (0, 0));
}

#[test]
fn a_scripted_day_per_queue_matches_hand_counts() {
    let s = compute_day();
    let names: Vec<&str> = s.queues.iter().map(|q| q.queue.as_str()).collect();
    assert_eq!(names, ["enterprise", "general", "web"]);
    let general = &s.queues[1];
    assert_eq!(general.calls.offered, 2);
    assert_eq!(general.calls.answered, 1);
    assert_eq!(general.calls.abandoned, 1);
    assert_eq!(general.calls.connection_rate, Some(0.5));
    let h = &general.handling;
    assert_eq!((h.offered, h.answered, h.ring_no_answer), (2, 1, 1));
    // 1001's 180 s and the last minute of 1002's night call.
    assert!(close(h.talk_s, 240.0) && h.talks == 2);
    assert!(close(h.hold_s, 30.0));
    // 1001's 30 s and 1002's first wrap-up (60 s), which follows a general call.
    assert!(close(h.wrap_up_s, 90.0) && h.wrap_ups == 2);
    let ent = &s.queues[0];
    assert_eq!((ent.calls.answered, ent.calls.answered_within_15s), (1, 1));
    assert!(close(ent.handling.talk_s, 600.0));
    assert!(close(ent.handling.wrap_up_s, 60.0));
    assert_eq!(s.queues[2].handling.web_items, 1);
}

#[test]
fn a_period_that_includes_now_stops_at_now() {
    let activity = vec![state("1001", at(8, 0, 0), "ready", None, None)];
    let s = compute(&Period {
        from: at(0, 0, 0),
        to: at(0, 0, 0) + chrono::Duration::days(1),
        now: at(9, 30, 0),
        grace: Duration::ZERO,
        activity: &activity,
        calls: &[],
        tickets: &[],
    });
    assert!(close(s.agents[0].ready_s, 5_400.0));
    assert_eq!(s.agents[0].occupancy, Some(0.0));
}

#[test]
fn csv_has_one_row_per_agent_and_neutralises_formulas() {
    let s = compute_day();
    let csv = agents_csv(&s.agents);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[1].starts_with("1001,2,1,1,180.0,180.0,30.0,30.0,30.0,30.0,61200.0,57080.0,3880.0,meal=3600.0;no_answer=280.0,"));
    // … web items, tickets created and closed, talks, wrap-ups, ringing, assisting, queues.
    assert!(
        lines[1].ends_with(",1,3,1,1,1,30.0,0.0,general;web"),
        "{}",
        lines[1]
    );
    assert_eq!(csv_field("=cmd()"), "'=cmd()");
    assert_eq!(csv_field("a,b"), "\"a,b\"");
    let q = queues_csv(&s.queues);
    assert!(q
        .lines()
        .nth(2)
        .unwrap()
        .starts_with("general,2,1,1,1,0,0.5000,0.5000,"));
}

#[test]
fn logged_in_agents_per_quarter_hour() {
    let activity = scripted_day();
    let v = logged_in_by_interval(
        &activity,
        at(0, 0, 0),
        chrono::Duration::minutes(15),
        96,
        at(16, 0, 0),
    );
    // 00:00–00:15: both agents; 00:45–01:00: both; 01:00–01:15: 1001 only.
    assert_eq!(v[0], Some(2.0));
    assert_eq!(v[3], Some(2.0));
    assert_eq!(v[4], Some(1.0));
    // 15:45–16:00 has begun and ended before now; 16:00 has not begun.
    assert_eq!(v[63], Some(1.0));
    assert_eq!(v[64], None);
    // At 01:05 the 01:00 interval is under way: 1001 was logged in for all of its 5 minutes
    // so far, so 1.0 (not 300 s ÷ 900 s = 0.33, which would read as a shortfall).
    let v = logged_in_by_interval(
        &activity,
        at(0, 0, 0),
        chrono::Duration::minutes(15),
        96,
        at(1, 5, 0),
    );
    assert_eq!(v[4], Some(1.0));
    assert_eq!(v[5], None);
}

#[test]
fn a_hold_across_midnight_counts_its_part_of_the_day() {
    // What `between` reads: the last state fact and the last hold fact before midnight.
    let activity = vec![
        state(
            "1003",
            day_before(23, 50, 0),
            "talking",
            None,
            Some("general"),
        ),
        hold("1003", day_before(23, 58, 0), true),
        hold("1003", at(0, 2, 0), false),
        state("1003", at(0, 5, 0), "wrap_up", None, None),
        // A stray hold fact outside a talk changes nothing.
        hold("1003", at(0, 6, 0), true),
        state("1003", at(0, 7, 0), "ready", None, None),
    ];
    let s = compute(&Period {
        from: at(0, 0, 0),
        to: at(0, 0, 0) + chrono::Duration::days(1),
        now: at(1, 0, 0),
        grace: Duration::ZERO,
        activity: &activity,
        calls: &[],
        tickets: &[],
    });
    let h = &s.agents[0].handling;
    assert!(close(h.hold_s, 120.0), "{}", h.hold_s);
    assert!(close(h.talk_s, 300.0));
    assert!(close(s.queues[0].handling.hold_s, 120.0));
}

#[test]
fn each_csv_row_has_a_field_for_every_column() {
    let s = compute_day();
    for csv in [agents_csv(&s.agents), queues_csv(&s.queues)] {
        let mut lines = csv.lines();
        let columns = lines.next().unwrap().split(',').count();
        for line in lines {
            assert_eq!(line.split(',').count(), columns, "{line}");
        }
    }
    let q = queues_csv(&s.queues);
    let general = q.lines().nth(2).unwrap();
    // … rings answered, talks, wrap-ups, refused, waited over 15 s, counted, mean handle,
    // then "call me back": offered, kept, reached, given up, mean time to callback.
    assert!(general.ends_with(",1,2,2,0,1,2,,0,0,0,0,"), "{general}");
}

#[test]
fn the_queues_an_agent_served_include_a_talk_under_way_at_the_start() {
    let s = compute_day();
    assert_eq!(s.agents[0].queues, ["general", "web"]);
    // 1002's night call (general) ran into the day; the enterprise call was rung today.
    assert_eq!(s.agents[1].queues, ["enterprise", "general"]);
    // A day after everything: logged out, nothing served.
    let activity = scripted_day();
    let later = compute(&Period {
        from: at(0, 0, 0) + chrono::Duration::days(1),
        to: at(0, 0, 0) + chrono::Duration::days(2),
        now: at(0, 0, 0) + chrono::Duration::days(3),
        grace: Duration::ZERO,
        activity: &activity,
        calls: &[],
        tickets: &[],
    });
    assert!(later.agents.iter().all(|a| a.queues.is_empty()));
}

#[test]
fn a_ring_across_midnight_is_offered_on_the_first_day_and_answered_on_the_second() {
    // What `between` reads for the second day: the ring (the last state fact before it).
    let ring = state(
        "1004",
        day_before(23, 59, 58),
        "reserved",
        None,
        Some("general"),
    );
    let second_day = vec![
        ring.clone(),
        state("1004", at(0, 0, 3), "talking", None, Some("general")),
        state("1004", at(0, 5, 3), "wrap_up", None, None),
        state("1004", at(0, 6, 3), "ready", None, None),
    ];
    let day = |from: DateTime<Utc>, days: i64, activity: &[AgentActivity]| {
        compute(&Period {
            from,
            to: from + chrono::Duration::days(days),
            now: at(12, 0, 0),
            grace: Duration::ZERO,
            activity,
            calls: &[],
            tickets: &[],
        })
    };
    let first = day(at(0, 0, 0) - chrono::Duration::days(1), 1, &[ring]);
    let h = &first.agents[0].handling;
    assert_eq!((h.offered, h.answered, h.talks), (1, 0, 0));
    assert!(close(first.agents[0].ringing_s, 2.0));
    let second = day(at(0, 0, 0), 1, &second_day);
    let h = &second.agents[0].handling;
    assert_eq!((h.offered, h.answered, h.talks), (0, 1, 1));
    assert!(close(second.agents[0].ringing_s, 3.0) && close(h.talk_s, 300.0));
    // Over both days: one ring, answered once.
    let both = day(at(0, 0, 0) - chrono::Duration::days(1), 2, &second_day);
    let h = &both.agents[0].handling;
    assert_eq!((h.offered, h.answered, h.talks), (1, 1, 1));
    assert!(close(both.agents[0].ringing_s, 5.0));
    assert_eq!(both.agents[0].queues, ["general"]);
}
