//! The HTTP API (JSON) and pages: health, live calls, call records. Holds no business rules:
//! it asks the engine and renders what it answers.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::shell::engine::EngineHandle;
use crate::shell::records::RecentCalls;

/// What the HTTP handlers can reach: the engine's query channel and the finished calls.
#[derive(Clone)]
pub struct ApiState {
    pub engine: EngineHandle,
    pub recent: RecentCalls,
}

/// An API error: a status, a machine-readable code and a sentence for people.
#[derive(Debug, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
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
        .with_state(state)
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

async fn live_calls(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let calls = state.engine.live_calls().await.map_err(|_| ApiError {
        status: StatusCode::SERVICE_UNAVAILABLE,
        code: "engine_stopped",
        message: "the engine is shutting down".into(),
    })?;
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
