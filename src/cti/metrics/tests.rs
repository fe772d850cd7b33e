use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};

use super::*;
use crate::acd::core::{QueueSnapshot, Snapshot, StateCounts};
use crate::call::engine::{EngineCounters, EngineSnapshot};
use crate::call::record::CallOutcome;
use crate::call::session::CallId;
use crate::shell::metrics::TicketMetrics;
use crate::sip::message::Method;
use crate::stats::kpi::{Kpis, Outcome};
use crate::workflow::store::{InternetBacklog, InternetFigures, InternetResponse};

fn scrape() -> Scrape {
    let mut counters = EngineCounters {
        calls_offered: 3,
        parse_errors: 2,
        refused_setup_limit: 4,
        ..EngineCounters::default()
    };
    counters.received.request(&Method::Invite);
    counters.received.request(&Method::Ack);
    counters.sent.sent(b"SIP/2.0 200 OK\r\n");
    counters.call_ended(CallOutcome::Answered);
    counters.call_ended(CallOutcome::AbandonedInQueue);
    let now = Utc
        .with_ymd_and_hms(2026, 11, 22, 2, 0, 0)
        .single()
        .unwrap();
    let mut kpis = Kpis::new(Duration::from_secs(5), 20);
    kpis.record(
        Some("general"),
        Outcome::Answered {
            wait: Duration::from_secs(4),
        },
        now,
    );
    kpis.record(
        Some("general"),
        Outcome::Abandoned {
            wait: Duration::from_secs(40),
        },
        now,
    );
    let queue = |name: &str, waiting: usize| QueueSnapshot {
        name: Arc::from(name),
        waiting: (0..waiting)
            .map(|i| (CallId(i as u64), Duration::from_secs(3)))
            .collect(),
        ringing: 1,
        longest_wait: (waiting > 0).then(|| Duration::from_millis(12_500)),
        agents: StateCounts {
            ready: 2,
            talking: 1,
            ..StateCounts::default()
        },
        unstaffed: false,
        kept: 0,
    };
    let tickets = TicketMetrics::default();
    tickets.committed("create");
    tickets.committed("accept");
    tickets.refused("wrong_role");
    tickets.commit_seconds.observe(Duration::from_micros(1500));
    Scrape {
        engine: EngineSnapshot {
            counters,
            calls_by_state: vec![(CallState::Queued, 2)],
            transactions: 4,
            callbacks_waiting: 1,
            surge: true,
        },
        acd: Snapshot {
            queues: vec![queue("general", 2), queue("odd \"name\"", 0)],
            agents: vec![],
            totals: StateCounts {
                ready: 3,
                assisting: 2,
                wrap_up: 1,
                ..StateCounts::default()
            },
            web_queues: vec![],
            web_alarm_after: Duration::from_secs(150),
        },
        kpis: kpis.snapshot(now),
        media: MediaValues {
            sent: 100,
            received: 90,
            late: 1,
            mixer: [5, 6, 7],
            ..MediaValues::default()
        },
        tickets: TicketValues::read(&tickets),
        net: net::NetValues {
            sip_tcp: net::ListenerValues {
                open: 2,
                refused_per_source: 7,
                ..Default::default()
            },
            sip_ws: net::ListenerValues {
                open: 1,
                ..Default::default()
            },
            ws: net::WsValues {
                refused_origin: 4,
                too_large: 5,
                ..Default::default()
            },
            streams_refused: 3,
            ..Default::default()
        },
        reloads: (2, 1),
        web: InternetFigures {
            backlog: InternetBacklog {
                unanswered: 1,
                oldest_received: None,
            },
            last_24h: InternetResponse {
                received: 4,
                within_3_min: 2,
                late: 1,
                waiting: 1,
                rate: Some(2.0 / 3.0),
            },
        },
        linkage: crate::stats::linkage::LinkageFigures {
            today: vec![],
            last_24h: vec![crate::stats::linkage::ServiceLinkage {
                service: "110".into(),
                count: 3,
                median_s: 20.0,
                max_s: 45,
            }],
        },
        kb: Some(kb::KbValues {
            staff_searches: 5,
            public_searches: 2,
            empty_searches: 1,
            public_refused: 0,
            reminders: 1,
            expired: 1,
            by_state: vec![("draft", 1), ("approved", 44)],
            cited_answers: 3,
            cited_replies: 1,
            top_items: vec![(7, 3), (1, 1)],
            gaps_kept: 2,
            gaps_not_kept: 0,
            near_expiry: 1,
        }),
        warnings: Some(super::warnings::WarningValues {
            raised: vec![("hot_spot", 2), ("risk_words", 1)],
            scans: 7,
            failures: 0,
            last_scan_s: 0.25,
        }),
        cluster: Some(crate::shell::leadership::ClusterStatus {
            node: "hotline-b".into(),
            role: crate::cluster::Role::Active,
            store_ok: true,
            store_latency_s: Some(0.002),
            failovers: 1,
            step_downs: 0,
            fenced_saves: 0,
        }),
        shared_calls: Some((120, 0, 1)),
    }
}

/// Every family the issue asks for, with its type.
const FAMILIES: [(&str, Kind); 69] = [
    ("hotline_shared_calls_written_total", Kind::Counter),
    ("hotline_shared_calls_dropped_total", Kind::Counter),
    ("hotline_shared_calls_retries_total", Kind::Counter),
    ("hotline_cluster_role", Kind::Gauge),
    ("hotline_cluster_failovers_total", Kind::Counter),
    ("hotline_cluster_step_downs_total", Kind::Counter),
    ("hotline_cluster_fenced_saves_total", Kind::Counter),
    ("hotline_cluster_store_up", Kind::Gauge),
    ("hotline_cluster_store_latency_seconds", Kind::Gauge),
    ("hotline_warnings_raised_total", Kind::Counter),
    ("hotline_warnings_scans_total", Kind::Counter),
    ("hotline_warnings_scan_failures_total", Kind::Counter),
    ("hotline_warnings_last_scan_seconds", Kind::Gauge),
    ("hotline_kb_searches_total", Kind::Counter),
    ("hotline_kb_citations_total", Kind::Counter),
    ("hotline_kb_item_citations", Kind::Gauge),
    ("hotline_kb_gaps", Kind::Gauge),
    ("hotline_kb_gaps_not_kept_total", Kind::Counter),
    ("hotline_kb_items_near_expiry", Kind::Gauge),
    ("hotline_kb_empty_searches_total", Kind::Counter),
    ("hotline_kb_public_refused_total", Kind::Counter),
    ("hotline_kb_sweep_total", Kind::Counter),
    ("hotline_kb_items", Kind::Gauge),
    ("hotline_calls_offered_total", Kind::Counter),
    ("hotline_calls_rejected_total", Kind::Counter),
    ("hotline_calls_ended_total", Kind::Counter),
    ("hotline_calls", Kind::Gauge),
    ("hotline_queue_calls_waiting", Kind::Gauge),
    ("hotline_queue_calls_ringing", Kind::Gauge),
    ("hotline_queue_longest_wait_seconds", Kind::Gauge),
    ("hotline_queue_unstaffed", Kind::Gauge),
    ("hotline_queue_agents", Kind::Gauge),
    ("hotline_agents", Kind::Gauge),
    ("hotline_answer_rate_15s", Kind::Gauge),
    ("hotline_connection_rate", Kind::Gauge),
    ("hotline_kpi_calls", Kind::Gauge),
    ("hotline_kpi_average_wait_seconds", Kind::Gauge),
    ("hotline_web_response_rate_3min", Kind::Gauge),
    ("hotline_web_requests", Kind::Gauge),
    ("hotline_web_requests_unanswered", Kind::Gauge),
    ("hotline_emergency_linkage_seconds", Kind::Gauge),
    ("hotline_emergency_linkages", Kind::Gauge),
    ("hotline_sip_requests_total", Kind::Counter),
    ("hotline_sip_responses_total", Kind::Counter),
    ("hotline_sip_parse_errors_total", Kind::Counter),
    ("hotline_sip_dropped_total", Kind::Counter),
    ("hotline_sip_refused_total", Kind::Counter),
    ("hotline_sip_transactions", Kind::Gauge),
    ("hotline_callbacks_total", Kind::Counter),
    ("hotline_callbacks_waiting", Kind::Gauge),
    ("hotline_surge_mode", Kind::Gauge),
    ("hotline_rtp_packets_sent_total", Kind::Counter),
    ("hotline_rtp_packets_received_total", Kind::Counter),
    ("hotline_rtp_packets_late_total", Kind::Counter),
    ("hotline_rtp_packets_not_relayed_total", Kind::Counter),
    ("hotline_rtp_events_relayed_total", Kind::Counter),
    ("hotline_mixer_underruns_total", Kind::Counter),
    ("hotline_mixer_frames_dropped_total", Kind::Counter),
    ("hotline_mixer_clipped_samples_total", Kind::Counter),
    ("hotline_ticket_transitions_total", Kind::Counter),
    ("hotline_ticket_refusals_total", Kind::Counter),
    ("hotline_ticket_store_commit_seconds", Kind::Histogram),
    ("hotline_connections_open", Kind::Gauge),
    ("hotline_connections_refused_total", Kind::Counter),
    ("hotline_connections_timed_out_total", Kind::Counter),
    ("hotline_accept_errors_total", Kind::Counter),
    ("hotline_live_streams", Kind::Gauge),
    ("hotline_live_streams_refused_total", Kind::Counter),
    ("hotline_config_reloads_total", Kind::Counter),
];

#[test]
fn the_exposition_is_valid_and_has_every_family() {
    let text = render(&scrape());
    let p = text::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    for (name, kind) in FAMILIES {
        assert_eq!(p.families.get(name), Some(&kind), "{name}\n{text}");
    }
    // Every line is a HELP, a TYPE or a sample of a typed family (parse checked that).
    assert!(text.lines().all(|l| l.starts_with("# HELP ")
        || l.starts_with("# TYPE ")
        || l.starts_with("hotline_")));
}

#[test]
fn values_land_in_the_right_series() {
    let p = text::parse(&render(&scrape())).unwrap();
    let get = |n: &str, l: &[(&str, &str)]| p.get(n, l).unwrap_or_else(|| panic!("{n} {l:?}"));
    assert_eq!(get("hotline_calls_offered_total", &[]), 3.0);
    assert_eq!(
        get(
            "hotline_calls_ended_total",
            &[("outcome", "abandoned_in_queue")]
        ),
        1.0
    );
    assert_eq!(get("hotline_calls", &[("state", "queued")]), 2.0);
    // C13 beside the call KPIs.
    assert!((get("hotline_web_response_rate_3min", &[("period", "24h")]) - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(
        get(
            "hotline_web_requests",
            &[("period", "24h"), ("result", "late")]
        ),
        1.0
    );
    assert_eq!(get("hotline_web_requests_unanswered", &[]), 1.0);
    // C12: the linkage timing, per service.
    let police = |q: &str| {
        get(
            "hotline_emergency_linkage_seconds",
            &[("period", "24h"), ("service", "110"), ("quantile", q)],
        )
    };
    assert_eq!((police("0.5"), police("1")), (20.0, 45.0));
    assert_eq!(
        get(
            "hotline_emergency_linkages",
            &[("period", "24h"), ("service", "110")]
        ),
        3.0
    );
    assert_eq!(get("hotline_calls", &[("state", "talking")]), 0.0);
    assert_eq!(
        get("hotline_queue_calls_waiting", &[("queue", "general")]),
        2.0
    );
    assert_eq!(
        get("hotline_queue_calls_waiting", &[("queue", "odd \"name\"")]),
        0.0
    );
    assert_eq!(
        get(
            "hotline_queue_longest_wait_seconds",
            &[("queue", "general")]
        ),
        12.5
    );
    assert_eq!(
        get(
            "hotline_queue_agents",
            &[("queue", "general"), ("state", "ready")]
        ),
        2.0
    );
    assert_eq!(get("hotline_agents", &[("state", "wrap_up")]), 1.0);
    // A second agent on a call (consult, conference, interpreter) is a state of its own.
    assert_eq!(get("hotline_agents", &[("state", "assisting")]), 2.0);
    assert_eq!(
        get(
            "hotline_queue_agents",
            &[("queue", "general"), ("state", "assisting")]
        ),
        0.0
    );
    assert_eq!(get("hotline_connection_rate", &[("period", "24h")]), 0.5);
    assert_eq!(get("hotline_answer_rate_15s", &[("period", "today")]), 0.5);
    assert_eq!(
        get(
            "hotline_kpi_calls",
            &[("period", "today"), ("result", "abandoned")]
        ),
        1.0
    );
    assert_eq!(
        get(
            "hotline_sip_requests_total",
            &[("direction", "received"), ("method", "INVITE")]
        ),
        1.0
    );
    assert_eq!(
        get(
            "hotline_sip_responses_total",
            &[("direction", "sent"), ("class", "2xx")]
        ),
        1.0
    );
    assert_eq!(get("hotline_sip_parse_errors_total", &[]), 2.0);
    assert_eq!(
        get("hotline_sip_refused_total", &[("reason", "setup_limit")]),
        4.0
    );
    assert_eq!(
        get("hotline_sip_refused_total", &[("reason", "scanner")]),
        0.0
    );
    assert_eq!(get("hotline_rtp_packets_late_total", &[]), 1.0);
    assert_eq!(get("hotline_mixer_underruns_total", &[]), 5.0);
    assert_eq!(get("hotline_mixer_frames_dropped_total", &[]), 6.0);
    assert_eq!(get("hotline_mixer_clipped_samples_total", &[]), 7.0);
    assert_eq!(
        get("hotline_ticket_transitions_total", &[("action", "accept")]),
        1.0
    );
    assert_eq!(
        get("hotline_ticket_refusals_total", &[("code", "wrong_role")]),
        1.0
    );
    assert_eq!(
        get(
            "hotline_ticket_store_commit_seconds_bucket",
            &[("le", "0.001")]
        ),
        0.0
    );
    assert_eq!(
        get(
            "hotline_ticket_store_commit_seconds_bucket",
            &[("le", "0.0025")]
        ),
        1.0
    );
    assert_eq!(get("hotline_ticket_store_commit_seconds_count", &[]), 1.0);
    assert_eq!(
        get("hotline_connections_open", &[("listener", "sip_tcp")]),
        2.0
    );
    assert_eq!(
        get(
            "hotline_connections_refused_total",
            &[("listener", "sip_tcp"), ("reason", "per_source")]
        ),
        7.0
    );
    assert_eq!(
        get("hotline_connections_open", &[("listener", "sip_ws")]),
        1.0
    );
    assert_eq!(
        get(
            "hotline_sip_ws_handshakes_refused_total",
            &[("reason", "origin")]
        ),
        4.0
    );
    assert_eq!(get("hotline_sip_ws_too_large_total", &[]), 5.0);
    assert_eq!(get("hotline_live_streams_refused_total", &[]), 3.0);
    assert_eq!(
        get("hotline_config_reloads_total", &[("result", "ok")]),
        2.0
    );
    assert_eq!(
        get("hotline_config_reloads_total", &[("result", "refused")]),
        1.0
    );
}

#[test]
fn an_idle_engine_still_renders_a_valid_document() {
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap();
    let s = Scrape {
        engine: EngineSnapshot {
            counters: EngineCounters::default(),
            calls_by_state: vec![],
            transactions: 0,
            callbacks_waiting: 0,
            surge: false,
        },
        acd: Snapshot {
            queues: vec![],
            agents: vec![],
            totals: StateCounts::default(),
            web_queues: vec![],
            web_alarm_after: Duration::from_secs(150),
        },
        kpis: Kpis::new(Duration::from_secs(5), 20).snapshot(now),
        media: MediaValues::default(),
        tickets: TicketValues::read(&TicketMetrics::default()),
        net: net::NetValues::default(),
        reloads: (0, 0),
        web: InternetFigures::default(),
        linkage: Default::default(),
        kb: None,
        warnings: None,
        cluster: None,
        shared_calls: None,
    };
    let p = text::parse(&render(&s)).unwrap();
    // No rate is made up before a call was counted, nor before a web request was decided.
    assert_eq!(
        p.get("hotline_web_response_rate_3min", &[("period", "24h")]),
        None
    );
    assert_eq!(p.get("hotline_connection_rate", &[("period", "24h")]), None);
    assert_eq!(
        p.get(
            "hotline_ticket_store_commit_seconds_bucket",
            &[("le", "+Inf")]
        ),
        Some(0.0)
    );
}
