//! `GET /metrics`: the engine in Prometheus text format (0.0.4) for operators' dashboards and
//! alerts. It asks the engine task for its snapshots (calls, queues and agents, KPIs), reads
//! the media and ticket instruments, and renders; it counts nothing itself. Caller numbers
//! never appear here: the labels are methods, classes, queues, states, outcomes, actions
//! and codes.
//!
//! Every family is listed in `docs/METRICS.md`.

pub mod cluster;
pub mod kb;
pub mod media;
pub mod net;
pub mod text;
pub mod warnings;

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::acd::model::AgentStateKind;
use crate::call::record::CallState;
use crate::cti::{ApiError, ApiState};
use text::{Kind, Writer};

/// The content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Everything one scrape shows, gathered first so rendering is a plain function.
#[derive(Debug, Clone)]
pub struct Scrape {
    pub engine: crate::call::engine::EngineSnapshot,
    pub acd: crate::acd::core::Snapshot<crate::call::session::CallId>,
    pub kpis: crate::stats::kpi::KpiSnapshot,
    pub media: MediaValues,
    pub tickets: TicketValues,
    pub net: net::NetValues,
    /// `SIGHUP` reloads: (applied, refused).
    pub reloads: (u64, u64),
    /// C13: the internet requests, as the ticket store last counted them.
    pub web: crate::workflow::store::InternetFigures,
    /// C12: the linkage timing per service, at the KPIs' time.
    pub linkage: crate::stats::linkage::LinkageFigures,
    /// The knowledge base (issue 16), when started.
    pub kb: Option<kb::KbValues>,
    /// The early warnings (issue 17), when started.
    pub warnings: Option<warnings::WarningValues>,
    /// Two engines behind Kamailio (issue 19), when clustered.
    pub cluster: Option<crate::shell::leadership::ClusterStatus>,
    /// The shared call store's writes: (committed, dropped, retried batches), with
    /// `[storage] url`.
    pub shared_calls: Option<(u64, u64, u64)>,
}

/// The media tasks' packet counters, read once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MediaValues {
    pub sent: u64,
    pub received: u64,
    pub late: u64,
    pub skipped: u64,
    pub to_agents: u64,
    pub to_callers: u64,
    pub lost: u64,
    pub send_errors: u64,
    pub recording_frames: u64,
    pub recording_filled: u64,
    pub recording_dropped: u64,
    /// Packets not relayed: stale, events towards a phone without telephone-event, not audio.
    pub not_relayed: [u64; 3],
    /// RFC 4733 packets passed through: to agents, to callers.
    pub events_relayed: [u64; 2],
    /// Packets refused by a leg's source latch (from a foreign address).
    pub refused_foreign_source: u64,
    /// Caller legs that went silent for `rtp.media_timeout`.
    pub inactive_legs: u64,
    /// Browser agent legs: opened, failed, datagrams refused, datagrams sent.
    pub webrtc: [u64; 4],
    /// Conference mixers: underruns, frames dropped on overflow, clipped samples.
    pub mixer: [u64; 3],
    /// Media ticks' lateness; the most commands waiting at a tick.
    pub tick_late: crate::shell::metrics::HistogramSnapshot,
    pub queued_at_tick_max: u64,
    /// Kernel receipt → media task: every relayed packet, and those that ended an underrun.
    pub packet_delay: crate::shell::metrics::HistogramSnapshot,
    pub underrun_delay: crate::shell::metrics::HistogramSnapshot,
    pub underrun_gap: crate::shell::metrics::HistogramSnapshot,
}

impl MediaValues {
    /// Reads the shared counters.
    pub fn read(m: &crate::shell::media::MediaCounters) -> Self {
        Self {
            sent: m.sent.load(Ordering::Relaxed),
            received: m.received.load(Ordering::Relaxed),
            late: m.late.load(Ordering::Relaxed),
            skipped: m.skipped.load(Ordering::Relaxed),
            to_agents: m.to_agents.load(Ordering::Relaxed),
            to_callers: m.to_callers.load(Ordering::Relaxed),
            lost: m.lost.load(Ordering::Relaxed),
            send_errors: m.send_errors.load(Ordering::Relaxed),
            recording_frames: m.recording.frames.load(Ordering::Relaxed),
            recording_filled: m.recording.filled.load(Ordering::Relaxed),
            recording_dropped: m.recording.dropped.load(Ordering::Relaxed),
            not_relayed: [
                m.recording.stale.load(Ordering::Relaxed),
                m.recording.events_dropped.load(Ordering::Relaxed),
                m.recording.ignored.load(Ordering::Relaxed),
            ],
            events_relayed: [
                m.recording.events_to_agents.load(Ordering::Relaxed),
                m.recording.events_to_callers.load(Ordering::Relaxed),
            ],
            refused_foreign_source: m.refused_foreign_source.load(Ordering::Relaxed),
            inactive_legs: m.inactive_legs.load(Ordering::Relaxed),
            webrtc: [
                m.webrtc.legs.load(Ordering::Relaxed),
                m.webrtc.failed.load(Ordering::Relaxed),
                m.webrtc.refused_datagrams.load(Ordering::Relaxed),
                m.webrtc.datagrams_sent.load(Ordering::Relaxed),
            ],
            mixer: [
                m.recording.mixer_underruns.load(Ordering::Relaxed),
                m.recording.mixer_dropped_overflow.load(Ordering::Relaxed),
                m.recording.mixer_clipped_samples.load(Ordering::Relaxed),
            ],
            tick_late: m.timing.tick_late.snapshot(),
            queued_at_tick_max: m.timing.queued_at_tick_max.load(Ordering::Relaxed),
            packet_delay: m.timing.packet_delay.snapshot(),
            underrun_delay: m.timing.underrun_delay.snapshot(),
            underrun_gap: m.timing.underrun_gap.snapshot(),
        }
    }
}

/// The ticket side's counters and commit latency, read once.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketValues {
    pub transitions: Vec<(&'static str, u64)>,
    pub refusals: Vec<(&'static str, u64)>,
    pub commit_seconds: crate::shell::metrics::HistogramSnapshot,
    pub failed_commits: u64,
    /// Whether the data folder is full now, and how many times it has been since start.
    pub storage_full: bool,
    pub storage_full_episodes: u64,
    pub public_accepted: Vec<(&'static str, u64)>,
    pub public_refused: Vec<(&'static str, u64)>,
}

impl TicketValues {
    /// Reads the ticket worker's instruments.
    pub fn read(m: &crate::shell::metrics::TicketMetrics) -> Self {
        Self {
            transitions: m.transitions.snapshot(),
            refusals: m.refusals.snapshot(),
            commit_seconds: m.commit_seconds.snapshot(),
            failed_commits: m.failed_commits.load(Ordering::Relaxed),
            storage_full: m.storage.is_full(),
            storage_full_episodes: m.storage.episodes.load(Ordering::Relaxed),
            public_accepted: m.public_accepted.snapshot(),
            public_refused: m.public_refused.snapshot(),
        }
    }
}

/// `GET /metrics`.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus text exposition format 0.0.4; the families are listed in docs/METRICS.md", content_type = "text/plain", body = String),
        (status = 503, description = "The engine is shutting down", body = ApiError),
    )
)]
pub async fn metrics(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let kpis = state.engine.stats().await?;
    let linkage = crate::stats::linkage::LinkageFigures::at(&state.linkage.borrow(), kpis.at);
    let scrape = Scrape {
        engine: state.engine.snapshot().await?,
        acd: state.engine.acd().await?,
        kpis,
        media: MediaValues::read(&state.media),
        tickets: TicketValues::read(&state.tickets),
        net: net::NetValues::read(&state.net),
        reloads: (
            state.reloads.ok.load(Ordering::Relaxed),
            state.reloads.refused.load(Ordering::Relaxed),
        ),
        web: *state.internet.borrow(),
        linkage,
        kb: state.kb.as_deref().map(kb::KbValues::read),
        warnings: state.warnings.as_deref().map(warnings::WarningValues::read),
        cluster: state.cluster.as_ref().map(|c| c.borrow().clone()),
        shared_calls: state.shared_calls.as_deref().map(|c| {
            (
                c.written.load(Ordering::Relaxed),
                c.dropped.load(Ordering::Relaxed),
                c.retries.load(Ordering::Relaxed),
            )
        }),
    };
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], render(&scrape)).into_response())
}

/// The exposition for one scrape.
pub fn render(s: &Scrape) -> String {
    let mut w = Writer::default();
    calls(&mut w, s);
    queues(&mut w, s);
    kpis(&mut w, s);
    web(&mut w, s);
    linkage(&mut w, &s.linkage);
    sip(&mut w, s);
    media::render(&mut w, &s.media);
    tickets(&mut w, &s.tickets);
    net::render(&mut w, &s.net);
    if let Some(v) = &s.kb {
        kb::render(&mut w, v);
    }
    if let Some(v) = &s.warnings {
        warnings::render(&mut w, v);
    }
    if let Some(c) = &s.cluster {
        cluster::render(&mut w, c);
    }
    if let Some(c) = s.shared_calls {
        cluster::render_shared_calls(&mut w, c);
    }
    w.family(
        "hotline_config_reloads_total",
        Kind::Counter,
        "SIGHUP reloads of agents, queues, menus, prompts, users, catalogue and calendars, by result (refused: a file had a problem; the old configuration stayed).",
    );
    w.count(&[("result", "ok")], s.reloads.0);
    w.count(&[("result", "refused")], s.reloads.1);
    w.finish()
}

fn counter(w: &mut Writer, name: &str, help: &str, value: u64) {
    w.family(name, Kind::Counter, help);
    w.count(&[], value);
}

fn calls(w: &mut Writer, s: &Scrape) {
    let c = &s.engine.counters;
    counter(
        w,
        "hotline_calls_offered_total",
        "INVITEs for new calls.",
        c.calls_offered,
    );
    counter(
        w,
        "hotline_calls_rejected_total",
        "New calls refused before answer.",
        c.calls_rejected,
    );
    w.family(
        "hotline_calls_ended_total",
        Kind::Counter,
        "Finished calls by outcome (as in the call records).",
    );
    for (outcome, n) in c.by_outcome() {
        w.count(&[("outcome", outcome.as_str())], n);
    }
    let auth = &c.outbound_auth_failures;
    w.family(
        "hotline_outbound_auth_failures_total",
        Kind::Counter,
        "Outbound tries ended at the trunk's digest authentication, by reason (rejected: our credentials refused; no_credentials: [trunk] has none; unusable: no challenge we can answer).",
    );
    w.count(&[("reason", "rejected")], auth.rejected);
    w.count(&[("reason", "no_credentials")], auth.no_credentials);
    w.count(&[("reason", "unusable")], auth.unusable);
    w.family("hotline_calls", Kind::Gauge, "Live calls by state.");
    for state in [
        CallState::Setup,
        CallState::Ivr,
        CallState::Queued,
        CallState::Ringing,
        CallState::Talking,
        CallState::Ending,
    ] {
        let n = s
            .engine
            .calls_by_state
            .iter()
            .find(|(st, _)| *st == state)
            .map_or(0, |(_, n)| *n);
        w.count(&[("state", state.as_str())], n as u64);
    }
}

fn queues(w: &mut Writer, s: &Scrape) {
    w.family(
        "hotline_queue_calls_waiting",
        Kind::Gauge,
        "Calls waiting for an agent, per queue (not yet ringing one).",
    );
    for q in &s.acd.queues {
        w.count(&[("queue", &q.name)], q.waiting.len() as u64);
    }
    w.family(
        "hotline_queue_calls_ringing",
        Kind::Gauge,
        "Calls whose offered agent's phone is ringing, per queue.",
    );
    for q in &s.acd.queues {
        w.count(&[("queue", &q.name)], q.ringing as u64);
    }
    w.family(
        "hotline_queue_longest_wait_seconds",
        Kind::Gauge,
        "Longest current wait of a call not yet answered, per queue (0 when none waits); alert at 15.",
    );
    for q in &s.acd.queues {
        let wait = q.longest_wait.map_or(0.0, |d| d.as_secs_f64());
        w.sample("", &[("queue", &q.name)], wait);
    }
    w.family(
        "hotline_queue_unstaffed",
        Kind::Gauge,
        "1 when no agent holding the queue's skill is logged in.",
    );
    for q in &s.acd.queues {
        w.count(&[("queue", &q.name)], u64::from(q.unstaffed));
    }
    w.family(
        "hotline_queue_agents",
        Kind::Gauge,
        "Agents holding the queue's skill, by state (an agent counts in each of its queues).",
    );
    for q in &s.acd.queues {
        for kind in AgentStateKind::ALL {
            let n = state_count(&q.agents, kind);
            w.count(&[("queue", &q.name), ("state", kind.as_str())], n);
        }
        w.count(
            &[("queue", &q.name), ("state", "ready_no_phone")],
            u64::from(q.agents.ready_no_phone),
        );
    }
    w.family("hotline_agents", Kind::Gauge, "Agents by state.");
    for kind in AgentStateKind::ALL {
        w.count(
            &[("state", kind.as_str())],
            state_count(&s.acd.totals, kind),
        );
    }
    w.count(
        &[("state", "ready_no_phone")],
        u64::from(s.acd.totals.ready_no_phone),
    );
}

fn state_count(c: &crate::acd::core::StateCounts, kind: AgentStateKind) -> u64 {
    u64::from(match kind {
        AgentStateKind::LoggedOut => c.logged_out,
        AgentStateKind::Ready => c.ready,
        AgentStateKind::NotReady => c.not_ready,
        AgentStateKind::Reserved => c.reserved,
        AgentStateKind::Talking => c.talking,
        AgentStateKind::Assisting => c.assisting,
        AgentStateKind::WrapUp => c.wrap_up,
    })
}

fn kpis(w: &mut Writer, s: &Scrape) {
    let periods = [("today", &s.kpis.today), ("24h", &s.kpis.last_24h)];
    w.family(
        "hotline_answer_rate_15s",
        Kind::Gauge,
        "Share of counted calls answered by a person within 15 s of asking (0..1; target 0.95). Absent while no call was counted.",
    );
    for (period, r) in periods {
        if let Some(v) = r.answer_rate_15s {
            w.sample("", &[("period", period)], v);
        }
    }
    w.family(
        "hotline_connection_rate",
        Kind::Gauge,
        "Share of counted calls answered by a person (0..1; target 0.95). Absent while no call was counted.",
    );
    for (period, r) in periods {
        if let Some(v) = r.connection_rate {
            w.sample("", &[("period", period)], v);
        }
    }
    w.family(
        "hotline_kpi_calls",
        Kind::Gauge,
        "Calls behind the two rates over the period, by result (see docs/KPI.md).",
    );
    for (period, r) in periods {
        for (result, n) in [
            ("answered", r.answered),
            ("answered_within_15s", r.answered_within_15s),
            ("abandoned", r.abandoned),
            ("abandoned_in_grace", r.abandoned_in_grace),
            ("refused_no_capacity", r.refused_no_capacity),
        ] {
            w.count(&[("period", period), ("result", result)], n);
        }
    }
    // Integrated numbers: the calls behind the rates, per service number dialled.
    w.family(
        "hotline_kpi_calls_by_number",
        Kind::Gauge,
        "Calls behind the two rates over the period, by service number dialled (12345 and integrated numbers) and result.",
    );
    for n in &s.kpis.by_number {
        for (period, r) in [("today", &n.today), ("24h", &n.last_24h)] {
            for (result, count) in [
                ("offered", r.offered),
                ("answered", r.answered),
                ("answered_within_15s", r.answered_within_15s),
                ("abandoned", r.abandoned),
                ("refused_no_capacity", r.refused_no_capacity),
            ] {
                w.count(
                    &[
                        ("number", &n.number),
                        ("period", period),
                        ("result", result),
                    ],
                    count,
                );
            }
        }
    }
    w.family(
        "hotline_kpi_average_wait_seconds",
        Kind::Gauge,
        "Mean wait of answered calls over the period. Absent while none was answered.",
    );
    for (period, r) in periods {
        if let Some(v) = r.avg_wait_s {
            w.sample("", &[("period", period)], v);
        }
    }
}

/// C13 beside the two call KPIs: internet requests responded to within 3 minutes.
fn web(w: &mut Writer, s: &Scrape) {
    let r = &s.web.last_24h;
    w.family(
        "hotline_web_response_rate_3min",
        Kind::Gauge,
        "Share of internet requests (web, app, mini-program, public account) of the last 24 h responded to within 3 minutes of receipt (0..1; C13). Absent while none was decided.",
    );
    if let Some(v) = r.rate {
        w.sample("", &[("period", "24h")], v);
    }
    w.family(
        "hotline_web_requests",
        Kind::Gauge,
        "Internet requests received in the last 24 h, by result: within_3min, late (responded after 3 min or not at all), waiting (inside their 3 min).",
    );
    for (result, n) in [
        ("within_3min", r.within_3_min),
        ("late", r.late),
        ("waiting", r.waiting),
    ] {
        w.count(&[("period", "24h"), ("result", result)], n);
    }
    w.family(
        "hotline_web_requests_unanswered",
        Kind::Gauge,
        "Open internet requests past 3 minutes without a response from the hotline now (C13's alarm).",
    );
    w.count(&[], s.web.backlog.unanswered);
}

/// C12: how long after the citizen's request the linkage with an emergency or utility hotline
/// came, over the last 24 h, per service (as `GET /api/stats` → `emergency_linkage`).
fn linkage(w: &mut Writer, f: &crate::stats::linkage::LinkageFigures) {
    w.family(
        "hotline_emergency_linkage_seconds",
        Kind::Gauge,
        "Seconds from the citizen's request (the call's start) to the linkage with 110/119/120/122 or a utility hotline, over the last 24 h, per service: quantile 0.5 (median) and 1 (maximum) (C12). Absent for a service without a linkage.",
    );
    for s in &f.last_24h {
        let service = s.service.as_str();
        w.sample(
            "",
            &[("period", "24h"), ("service", service), ("quantile", "0.5")],
            s.median_s,
        );
        w.sample(
            "",
            &[("period", "24h"), ("service", service), ("quantile", "1")],
            s.max_s as f64,
        );
    }
    w.family(
        "hotline_emergency_linkages",
        Kind::Gauge,
        "Requests linked to 110/119/120/122 or a utility hotline in the last 24 h, per service (C12).",
    );
    for s in &f.last_24h {
        w.count(
            &[("period", "24h"), ("service", s.service.as_str())],
            s.count,
        );
    }
}

fn sip(w: &mut Writer, s: &Scrape) {
    let c = &s.engine.counters;
    w.family(
        "hotline_sip_requests_total",
        Kind::Counter,
        "SIP requests by direction and method (retransmissions included).",
    );
    for (direction, t) in [("received", &c.received), ("sent", &c.sent)] {
        for (method, n) in t.by_method() {
            w.count(&[("direction", direction), ("method", method)], n);
        }
    }
    w.family(
        "hotline_sip_responses_total",
        Kind::Counter,
        "SIP responses by direction and class.",
    );
    for (direction, t) in [("received", &c.received), ("sent", &c.sent)] {
        for (class, n) in t.by_class() {
            w.count(&[("direction", direction), ("class", class)], n);
        }
    }
    counter(
        w,
        "hotline_agent_leg_no_port_total",
        "Agent legs not rung for want of an RTP port (the agent stays ready; raise rtp.agent_reserve).",
        c.agent_leg_no_port,
    );
    counter(
        w,
        "hotline_webrtc_answers_refused_total",
        "Browser agents' answers refused (no DTLS fingerprint, no common codec): leg hung up, call rung on.",
        c.webrtc_answers_refused,
    );
    counter(
        w,
        "hotline_webrtc_agent_legs_failed_total",
        "Browser legs (agents' and extra parties') that failed while running (DTLS refused, ICE lost): an agent's ended the call with the reason in its record, a party's took that party off the call.",
        c.webrtc_legs_failed,
    );
    counter(
        w,
        "hotline_sip_parse_errors_total",
        "Datagrams or stream frames that were not valid SIP.",
        c.parse_errors,
    );
    counter(
        w,
        "hotline_sip_dropped_total",
        "Invalid messages that could not be answered.",
        c.dropped_unaddressable,
    );
    w.family(
        "hotline_sip_refused_total",
        Kind::Counter,
        "Requests refused to protect the service, by reason.",
    );
    for (reason, n) in [
        ("blocked_source", c.refused_blocked),
        ("scanner", c.refused_scanner),
        ("setup_limit", c.refused_setup_limit),
        ("standby", c.refused_standby),
    ] {
        w.count(&[("reason", reason)], n);
    }
    w.family(
        "hotline_sip_transactions",
        Kind::Gauge,
        "Live SIP transactions.",
    );
    w.count(&[], s.engine.transactions as u64);
    w.family(
        "hotline_callbacks_total",
        Kind::Counter,
        "\"Call me back\" (C8): offers made, places kept, callbacks that reached the citizen, callbacks given up.",
    );
    for (event, n) in [
        ("offered", c.callback_offers),
        ("kept", c.callbacks_kept),
        ("reached", c.callbacks_reached),
        ("given_up", c.callbacks_given_up),
        ("trunk_full", c.callbacks_trunk_full),
    ] {
        w.count(&[("event", event)], n);
    }
    w.family(
        "hotline_callbacks_waiting",
        Kind::Gauge,
        "Places kept for callers who chose to be called back.",
    );
    w.count(&[], s.engine.callbacks_waiting as u64);
    w.family(
        "hotline_surge_mode",
        Kind::Gauge,
        "1 while surge mode is on (C8), else 0.",
    );
    w.count(&[], u64::from(s.engine.surge));
}

fn histogram(w: &mut Writer, name: &str, help: &str, h: &crate::shell::metrics::HistogramSnapshot) {
    w.family(name, Kind::Histogram, help);
    for (le, n) in &h.buckets {
        w.sample("_bucket", &[("le", &text::number(*le))], *n as f64);
    }
    w.sample("_bucket", &[("le", "+Inf")], h.count as f64);
    w.sample("_sum", &[], h.sum);
    w.sample("_count", &[], h.count as f64);
}

fn tickets(w: &mut Writer, t: &TicketValues) {
    w.family(
        "hotline_ticket_transitions_total",
        Kind::Counter,
        "Ticket transitions committed, by action (create, open_draft, the workflow's actions, sweep).",
    );
    for (action, n) in &t.transitions {
        w.count(&[("action", action)], *n);
    }
    w.family(
        "hotline_ticket_refusals_total",
        Kind::Counter,
        "Ticket actions refused, by the API's error code.",
    );
    for (code, n) in &t.refusals {
        w.count(&[("code", code)], *n);
    }
    histogram(
        w,
        "hotline_ticket_store_commit_seconds",
        "Time of one ticket store transaction (a batch of requests, BEGIN to COMMIT).",
        &t.commit_seconds,
    );
    counter(
        w,
        "hotline_ticket_store_failed_commits_total",
        "Ticket store transactions that failed and were rolled back.",
        t.failed_commits,
    );
    w.family(
        "hotline_storage_full",
        Kind::Gauge,
        "1 while the data folder is full (ticket store, call records, journal or recordings refuse writes).",
    );
    w.count(&[], u64::from(t.storage_full));
    counter(
        w,
        "hotline_storage_full_episodes_total",
        "Times the data folder became full since start.",
        t.storage_full_episodes,
    );
    w.family(
        "hotline_public_requests_total",
        Kind::Counter,
        "Internet requests registered (committed), by channel (web, app, mini_program, public_account, mailbox).",
    );
    for (channel, n) in &t.public_accepted {
        w.count(&[("channel", channel)], *n);
    }
    w.family(
        "hotline_public_refused_total",
        Kind::Counter,
        "Public request routes' refusals, by code (rate_limited, challenge_required, not_found, unsupported_file_type, ...).",
    );
    for (code, n) in &t.public_refused {
        w.count(&[("code", code)], *n);
    }
}

#[cfg(test)]
mod tests;
