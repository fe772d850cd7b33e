//! The HTTP API (JSON) and pages: health, live calls, call records. Holds no business rules:
//! it asks the engine and renders what it answers.

pub mod agents;
pub mod auth;
pub mod tickets;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::shell::engine::EngineHandle;
use crate::shell::records::RecentCalls;

/// What the HTTP handlers can reach: the engine's query channel, the finished calls and the
/// media tasks' packet counters.
#[derive(Clone)]
pub struct ApiState {
    pub engine: EngineHandle,
    pub recent: RecentCalls,
    pub media: std::sync::Arc<crate::shell::media::MediaCounters>,
    /// Bearer tokens → users and roles.
    pub users: std::sync::Arc<auth::Users>,
}

/// An API error: a status, a machine-readable code and a sentence for people; every route
/// answers errors as `{"code": ..., "message": ...}`.
#[derive(Debug, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    pub code: String,
    pub message: String,
}

impl ApiError {
    /// An error with its status, code and sentence.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
        }
    }
}

impl From<crate::shell::engine::EngineGone> for ApiError {
    fn from(_: crate::shell::engine::EngineGone) -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "engine_stopped",
            "the engine is shutting down",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self)).into_response()
    }
}

/// The engine's own routes; other routers (tickets, agents) are merged beside it.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/api/health", get(health))
        .route("/api/calls", get(live_calls))
        .route("/api/calls/recent", get(recent_calls))
        .route("/metrics", get(metrics))
        .route("/api/stats", get(stats))
        .with_state(state.clone())
        .merge(agents::router(state))
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

async fn live_calls(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let calls = state.engine.live_calls().await?;
    Ok(Json(calls).into_response())
}

#[derive(Deserialize)]
struct RecentQuery {
    limit: Option<usize>,
}

async fn recent_calls(
    State(state): State<ApiState>,
    Query(q): Query<RecentQuery>,
) -> Json<Vec<crate::call::record::CallRecord>> {
    let limit = q
        .limit
        .unwrap_or(100)
        .min(crate::shell::records::RECENT_CAPACITY);
    Json(state.recent.latest(limit))
}

/// The two KPIs (today and rolling 24 h) with the counts behind them and a 24 h series.
async fn stats(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let snap = state.engine.stats().await?;
    Ok(Json(snap).into_response())
}

/// Prometheus text format (version 0.0.4): SIP traffic, calls by state, waiting calls per
/// queue, RTP packets. Caller numbers never appear here.
async fn metrics(State(state): State<ApiState>) -> Result<Response, ApiError> {
    use std::fmt::Write;
    use std::sync::atomic::Ordering;
    let snap = state.engine.snapshot().await?;
    let c = snap.counters;
    let mut out = String::new();
    let mut counter = |name: &str, help: &str, value: u64| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
        );
    };
    counter(
        "hotline_sip_requests_total",
        "SIP requests received.",
        c.requests,
    );
    counter(
        "hotline_sip_responses_total",
        "SIP responses received.",
        c.responses,
    );
    counter(
        "hotline_sip_parse_errors_total",
        "Datagrams or stream frames that were not valid SIP.",
        c.parse_errors,
    );
    counter(
        "hotline_sip_dropped_total",
        "Invalid messages that could not be answered.",
        c.dropped_unaddressable,
    );
    counter(
        "hotline_calls_offered_total",
        "INVITEs for new calls.",
        c.calls_offered,
    );
    counter(
        "hotline_calls_rejected_total",
        "New calls refused before answer.",
        c.calls_rejected,
    );
    let m = &state.media;
    counter(
        "hotline_rtp_packets_sent_total",
        "RTP packets sent.",
        m.sent.load(Ordering::Relaxed),
    );
    counter(
        "hotline_rtp_packets_received_total",
        "RTP packets received.",
        m.received.load(Ordering::Relaxed),
    );
    counter(
        "hotline_rtp_packets_late_total",
        "RTP packets sent more than 10 ms after their due time.",
        m.late.load(Ordering::Relaxed),
    );
    counter(
        "hotline_rtp_frames_skipped_total",
        "RTP frames dropped because a media task fell far behind.",
        m.skipped.load(Ordering::Relaxed),
    );
    counter(
        "hotline_rtp_packets_lost_total",
        "RTP packets missing from the sequence numbers the legs received.",
        m.lost.load(Ordering::Relaxed),
    );
    counter(
        "hotline_rtp_send_errors_total",
        "Relayed RTP packets the socket refused (lost towards a phone).",
        m.send_errors.load(Ordering::Relaxed),
    );
    let r = &m.recording;
    counter(
        "hotline_recording_frames_total",
        "20 ms stereo frames written to call recordings.",
        r.frames.load(Ordering::Relaxed),
    );
    counter(
        "hotline_recording_frames_filled_total",
        "Channel frames of recordings filled with silence between two frames of that side's audio.",
        r.filled.load(Ordering::Relaxed),
    );
    counter(
        "hotline_recording_frames_dropped_total",
        "Channel frames received but never written to a recording (the side ran ahead).",
        r.dropped.load(Ordering::Relaxed),
    );
    let _ = writeln!(
        out,
        "# HELP hotline_calls Live calls by state.\n# TYPE hotline_calls gauge"
    );
    for state in ["setup", "ivr", "queued", "ringing", "talking", "ending"] {
        let n = snap
            .calls_by_state
            .iter()
            .find(|(s, _)| s.as_str() == state)
            .map_or(0, |(_, n)| *n);
        let _ = writeln!(out, "hotline_calls{{state=\"{state}\"}} {n}");
    }
    let _ = writeln!(
        out,
        "# HELP hotline_queue_waiting Calls waiting per queue.\n# TYPE hotline_queue_waiting gauge"
    );
    for (queue, n) in &snap.waiting {
        let _ = writeln!(out, "hotline_queue_waiting{{queue=\"{queue}\"}} {n}");
    }
    let _ = writeln!(out, "# HELP hotline_sip_transactions Live SIP transactions.\n# TYPE hotline_sip_transactions gauge\nhotline_sip_transactions {}", snap.transactions);
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        out,
    )
        .into_response())
}
