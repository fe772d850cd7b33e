//! `GET /api/surge` and `POST /api/surge` (issue 15, C8): whether surge mode is on, who turned
//! it on and since when, and the places kept for callbacks; a supervisor turns it on or off
//! from the wallboard. While it is on the engine offers callbacks sooner, plays the surge
//! notice before the menu, and every desk that is not taking calls shows the call to stand by.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::call::call_me_back::SurgeView;
use crate::cti::agents::caller;
use crate::cti::extract::ApiJson;
use crate::cti::{ApiError, ApiState};
use crate::workflow::model::Role;

/// The surge routes.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/api/surge", get(read).post(set))
        .with_state(state)
}

/// The body of `POST /api/surge`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurgeBody {
    /// `true`: surge mode on; `false`: off.
    pub on: bool,
}

fn supervisor(state: &ApiState, headers: &HeaderMap) -> Result<String, ApiError> {
    let actor = caller(state, headers)?;
    if actor.role != Role::Supervisor {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "wrong_role",
            "only a supervisor may see or switch surge mode",
        ));
    }
    Ok(actor.user)
}

/// Surge mode now.
#[utoipa::path(get, path = "/api/surge", tag = "agents", security(("bearer" = [])),
    responses((status = 200, description = "Surge mode and the callbacks kept", body = SurgeView), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Needs a supervisor token", body = ApiError), (status = 503, description = "The engine is shutting down", body = ApiError)))]
pub(crate) async fn read(
    State(state): State<ApiState>,
    headers: HeaderMap,
) -> Result<Json<SurgeView>, ApiError> {
    supervisor(&state, &headers)?;
    Ok(Json(state.engine.surge(None).await?))
}

/// Turns surge mode on or off (idempotent: turning on what is on keeps its start).
#[utoipa::path(post, path = "/api/surge", tag = "agents", request_body = SurgeBody, security(("bearer" = [])),
    responses((status = 200, description = "Surge mode after the change", body = SurgeView), (status = 400, description = "Malformed JSON", body = ApiError), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Needs a supervisor token", body = ApiError), (status = 422, description = "Not `{\"on\": true|false}`", body = ApiError), (status = 503, description = "The engine is shutting down", body = ApiError)))]
pub(crate) async fn set(
    State(state): State<ApiState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SurgeBody>,
) -> Result<Json<SurgeView>, ApiError> {
    let user = supervisor(&state, &headers)?;
    tracing::info!(%user, on = body.on, "surge mode switched from the API");
    Ok(Json(state.engine.surge(Some((body.on, user))).await?))
}
