//! The HTTP API (JSON) and pages: health, live calls, call records. Holds no business rules:
//! it asks the engine and renders what it answers.

pub mod agents;
pub mod analytics_api;
pub mod areas_api;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod board_people;
pub mod call_view;
pub mod calls;
pub mod conformance_api;
pub mod export_api;
pub mod extract;
pub mod internet_watch;
pub mod kb;
pub mod live;
pub mod metrics;
pub mod openapi;
pub mod parties;
pub mod public;
pub mod public_follow;
pub mod public_form;
pub mod read_guard;
pub mod staffing_api;
pub mod stats_api;
pub mod surge_api;
pub mod ticket_views;
pub mod tickets;
pub mod web;
pub mod web_items;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::shell::engine::EngineHandle;
use crate::shell::records::RecentCalls;

/// What the HTTP handlers can reach: the engine's query channel, the finished calls and the
/// media tasks' packet counters.
#[derive(Clone)]
pub struct ApiState {
    pub engine: EngineHandle,
    pub recent: RecentCalls,
    /// Where older call records are read: the data folder's day files, or the shared store.
    pub records: crate::shell::record_files::RecordsAt,
    pub media: std::sync::Arc<crate::shell::media::MediaCounters>,
    /// Bearer tokens → users and roles.
    pub users: crate::shell::shared::Shared<auth::Users>,
    /// The wallboard and desks, refreshed while a page watches.
    pub live: live::Feed,
    /// The ticket store's commit latency and transition counters.
    pub tickets: std::sync::Arc<crate::shell::metrics::TicketMetrics>,
    /// C13: unanswered internet requests, counted by the ticket store every few seconds.
    pub internet: live::InternetWatch,
    /// C12: the last day's linkages to emergency hotlines, read by the ticket store.
    pub linkage: internet_watch::LinkageWatch,
    /// Connection limits and their counters; the live streams take their places here.
    pub net: std::sync::Arc<crate::shell::conn_limit::NetLimits>,
    /// The outside numbers a call may be transferred to (`[transfer.numbers]`) and the
    /// units with a phone, empty when no gateway is configured: the desk offers only what
    /// can work.
    pub call_in: std::sync::Arc<live::CallIn>,
    /// `SIGHUP` reloads applied and refused.
    pub reloads: std::sync::Arc<crate::shell::reload::ReloadCounters>,
    /// The knowledge base's counters (issue 16); `None` where it is not started.
    pub kb: Option<std::sync::Arc<crate::shell::kb_service::KbMetrics>>,
    /// The early warnings' counters and newest warnings (issue 17); `None` where not started.
    pub warnings: Option<std::sync::Arc<crate::shell::warnings::WarningsHub>>,
    /// Two engines behind Kamailio (issue 19): this engine's role and its leadership
    /// store's health; `None` for a single engine.
    pub cluster: Option<tokio::sync::watch::Receiver<crate::shell::leadership::ClusterStatus>>,
    /// The shared call store's writer (issue 19); `None` without `[storage] url`.
    pub shared_calls: Option<std::sync::Arc<crate::shell::store::pg_calls::SharedCallsStats>>,
}

/// An API error: a status, a machine-readable code and a sentence for people; every route
/// answers errors as `{"code": ..., "message": ...}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"code": "unauthorized", "message": "send `Authorization: Bearer <token>` with a configured token"}))]
pub struct ApiError {
    #[serde(skip)]
    #[schema(ignore)]
    pub status: StatusCode,
    /// Stable, machine-readable (`snake_case`): what went wrong.
    pub code: String,
    /// A sentence for people: what went wrong and how to fix it.
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
        .route("/metrics", get(metrics::metrics))
        .route("/api/stats", get(stats))
        .route("/api/openapi.json", get(openapi::openapi_json))
        .with_state(state.clone())
        .merge(calls::router(state.clone()))
        .merge(agents::router(state.clone()))
        .merge(surge_api::router(state.clone()))
        .merge(parties::router(state.clone()))
        .merge(live::router(state))
        .merge(web::router())
}

/// Liveness: answers while the HTTP server runs. Clustered (issue 19), also this engine's
/// role and whether its leadership store answers.
#[utoipa::path(get, path = "/api/health", tag = "operations",
    responses((status = 200, description = "Up; `cluster` only when clustered", body = Object, example = json!({"status": "ok", "cluster": {"node": "hotline-1", "role": "active", "store": "ok", "store_latency_ms": 0.8, "failovers": 0}}))))]
async fn health(State(state): State<ApiState>) -> Json<serde_json::Value> {
    let Some(c) = state.cluster.as_ref().map(|c| c.borrow().clone()) else {
        return Json(serde_json::json!({"status": "ok"}));
    };
    Json(serde_json::json!({
        "status": "ok",
        "cluster": {
            "node": c.node,
            "role": c.role.as_str(),
            "store": if c.store_ok { "ok" } else { "unreachable" },
            "store_latency_ms": c.store_latency_s.map(|s| s * 1000.0),
            "failovers": c.failovers,
        }
    }))
}

/// The live calls, caller numbers masked (a supervisor's or a wallboard's token).
#[utoipa::path(get, path = "/api/calls", tag = "calls", security(("bearer" = [])),
    responses((status = 200, description = "Live calls, oldest first", body = Vec<crate::call::record::LiveCall>), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Needs a supervisor or wallboard token", body = ApiError), (status = 503, description = "The engine is shutting down", body = ApiError)))]
async fn live_calls(
    State(state): State<ApiState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    live::may_watch_wallboard(&agents::caller(&state, &headers)?)?;
    let calls = state.engine.live_calls().await?;
    Ok(Json(calls).into_response())
}

/// Query of `GET /api/stats`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatsParams {
    /// One service number's figures (an integrated number, e.g. `12315`): `today`,
    /// `last_24h`, `series`, `by_number` and the connection-rate alarm are then that number's.
    number: Option<String>,
}

/// The two KPIs (today and rolling 24 h, overall, per queue and per number dialled) with the
/// counts behind them, waiting calls, agents by state, the alarms and a 24 h series: the
/// wallboard's document.
#[utoipa::path(get, path = "/api/stats", tag = "operations", params(StatsParams), security(("bearer" = [])),
    responses((status = 200, description = "KPIs overall, per queue and per number, live queues, agents, alarms", body = crate::stats::wallboard::Wallboard), (status = 400, description = "`number` is not a dialable number", body = ApiError), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Needs a supervisor or wallboard token", body = ApiError), (status = 503, description = "The engine is shutting down", body = ApiError)))]
async fn stats(
    State(state): State<ApiState>,
    headers: HeaderMap,
    crate::cti::extract::ApiQuery(p): crate::cti::extract::ApiQuery<StatsParams>,
) -> Result<Response, ApiError> {
    live::may_watch_wallboard(&agents::caller(&state, &headers)?)?;
    // As `sip.service_numbers` spells numbers; a number with no call yet answers zeros.
    if let Some(n) = &p.number {
        if n.is_empty()
            || n.len() > 32
            || !n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+')
        {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_number",
                "`number` must be a service number (1 to 32 digits, letters or '+'), e.g. 12315",
            ));
        }
    }
    let board = live::board(
        &state.engine,
        &state.internet,
        &state.linkage,
        &state.tickets.storage,
        p.number,
    )
    .await?;
    Ok(Json(board).into_response())
}
