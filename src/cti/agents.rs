//! Agents over HTTP: `GET /api/agents` (everyone's state, for desktops and the wallboard) and
//! `POST /api/agents/{id}/state` (`{"state":"ready"}`, `{"state":"not_ready","reason":"break"}`,
//! `{"state":"logged_out"}`). An agent may change only its own state (its token's user is
//! `agent-<id>`), a supervisor anyone's; no token is `401`. The ACD decides what is allowed.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::acd::core::AcdError;
use crate::acd::model::{NotReadyReason, StateRequest};
use crate::cti::extract::ApiJson;
use crate::cti::{ApiError, ApiState};
use crate::workflow::model::{Actor, Role};

/// The agent routes.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/api/agents", get(list))
        .route("/api/agents/{id}/state", post(set_state))
        .route("/api/agents/{id}/wrap-up-done", post(wrap_up_done))
        .route("/api/calls/{id}/transfer", post(transfer))
        .route("/api/calls/{id}/hold", post(hold))
        .with_state(state)
}

/// One agent as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgentView {
    pub id: String,
    pub name: String,
    /// `logged_out`, `ready`, `not_ready`, `reserved` (ringing), `talking`, `assisting` (on a
    /// colleague's call: consult, conference, interpreter), `wrap_up`.
    pub state: &'static str,
    /// Why not ready, when not ready.
    pub reason: Option<&'static str>,
    /// Seconds in the current state.
    pub in_state_s: f64,
    /// In wrap-up: seconds left before the agent is ready again by itself.
    pub wrap_up_left_s: Option<f64>,
    /// Whether the agent's phone has a live registration.
    pub registered: bool,
}

/// The body of `POST /api/agents/{id}/state`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StateBody {
    /// `ready`, `not_ready` or `logged_out`.
    #[schema(example = "not_ready")]
    pub state: String,
    /// With `not_ready` (optional): `break`, `meal`, `meeting`, `training`, `paperwork`, …
    #[serde(default)]
    pub reason: Option<String>,
}

pub(crate) fn caller(state: &ApiState, headers: &HeaderMap) -> Result<Actor, ApiError> {
    crate::cti::auth::bearer(&state.users.load(), headers)
}

/// The agent id an agent's token speaks for: user `agent-1001` is agent `1001`.
pub(crate) fn own_agent(actor: &Actor) -> Option<&str> {
    match actor.role {
        Role::Agent => Some(actor.user.strip_prefix("agent-").unwrap_or(&actor.user)),
        _ => None,
    }
}

/// The caller, if it may act for `agent`: the agent itself or a supervisor (else 401/403).
fn authorize(state: &ApiState, headers: &HeaderMap, agent: &str) -> Result<Actor, ApiError> {
    let actor = caller(state, headers)?;
    if matches!(actor.role, Role::Supervisor) || own_agent(&actor) == Some(agent) {
        Ok(actor)
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("{} may not act for agent {agent}", actor.user),
        ))
    }
}

/// Every agent's state, for desktops and the wallboard.
#[utoipa::path(get, path = "/api/agents", operation_id = "list_agents", tag = "agents", security(("bearer" = [])),
    responses((status = 200, description = "Every agent", body = Vec<AgentView>), (status = 401, description = "No or unknown token", body = ApiError), (status = 503, description = "The engine is shutting down", body = ApiError)))]
async fn list(
    State(state): State<ApiState>,
    headers: HeaderMap,
) -> Result<Json<Vec<AgentView>>, ApiError> {
    // The hotline's own staff and screens; a handling unit has no business with who is on
    // the phones.
    if let Role::Unit(_) = caller(&state, &headers)?.role {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the agents' list is for the hotline's staff",
        ));
    }
    let snap = state.engine.acd().await?;
    Ok(Json(snap.agents.iter().map(AgentView::of).collect()))
}

impl AgentView {
    /// The view of one agent of the ACD's snapshot.
    pub fn of<C>(a: &crate::acd::core::AgentSnapshot<C>) -> AgentView {
        AgentView {
            id: a.id.as_str().to_string(),
            name: a.name.clone(),
            state: a.state.kind().as_str(),
            reason: match &a.state {
                crate::acd::model::AgentState::NotReady { reason, .. } => Some(reason.as_str()),
                _ => None,
            },
            in_state_s: (a.in_state.as_secs_f64() * 10.0).round() / 10.0,
            wrap_up_left_s: a
                .wrap_up_left
                .map(|d| (d.as_secs_f64() * 10.0).round() / 10.0),
            registered: a.registered,
        }
    }
}

fn parse_request(body: &StateBody) -> Result<StateRequest, ApiError> {
    let bad =
        |message: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_state", message);
    match body.state.as_str() {
        "ready" => Ok(StateRequest::Ready),
        "logged_out" => Ok(StateRequest::LoggedOut),
        "not_ready" => {
            let reason = match body.reason.as_deref() {
                None => NotReadyReason::Unspecified,
                Some(r) => NotReadyReason::parse(r)
                    .ok_or_else(|| bad(format!("unknown not-ready reason {r:?}")))?,
            };
            Ok(StateRequest::NotReady(reason))
        }
        other => Err(bad(format!(
            "unknown state {other:?}: use ready, not_ready (with an optional reason) or logged_out"
        ))),
    }
}

fn acd_error(e: AcdError) -> ApiError {
    let (status, code) = match &e {
        AcdError::UnknownAgent(_) => (StatusCode::NOT_FOUND, "unknown_agent"),
        AcdError::AgentOnCall { .. } => (StatusCode::CONFLICT, "agent_on_call"),
        AcdError::NotInWrapUp { .. } => (StatusCode::CONFLICT, "not_in_wrap_up"),
        _ => (StatusCode::CONFLICT, "refused"),
    };
    ApiError::new(status, code, e.to_string())
}

/// Ready, not ready (with a reason) or logged out.
#[utoipa::path(post, path = "/api/agents/{id}/state", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Agent id, e.g. `1001`")), request_body = StateBody,
    responses((status = 204, description = "Changed"), (status = 400, description = "Malformed JSON", body = ApiError), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Not this agent and not a supervisor", body = ApiError),
        (status = 404, description = "Unknown agent", body = ApiError),
        (status = 409, description = "Not possible now (e.g. on a call)", body = ApiError),
        (status = 422, description = "Unknown state or reason", body = ApiError), (status = 503, description = "The engine is shutting down", body = ApiError)))]
async fn set_state(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<StateBody>,
) -> Result<StatusCode, ApiError> {
    authorize(&state, &headers, &id)?;
    let request = parse_request(&body)?;
    state
        .engine
        .set_agent_state(id, request)
        .await?
        .map_err(acd_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends the agent's wrap-up early (the ticket form was saved).
#[utoipa::path(post, path = "/api/agents/{id}/wrap-up-done", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Agent id")),
    responses((status = 204, description = "Wrap-up ended"), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Not this agent and not a supervisor", body = ApiError),
        (status = 404, description = "Unknown agent", body = ApiError),
        (status = 409, description = "Not in wrap-up", body = ApiError), (status = 503, description = "The engine is shutting down", body = ApiError)))]
async fn wrap_up_done(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    authorize(&state, &headers, &id)?;
    state.engine.wrap_up_done(id).await?.map_err(acd_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The body of `POST /api/calls/{id}/transfer`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    /// The queue to hand the caller to.
    pub queue: String,
}

/// Blind transfer by the agent on the call (or a supervisor) to another queue.
#[utoipa::path(post, path = "/api/calls/{id}/transfer", tag = "calls", security(("bearer" = [])),
    params(("id" = String, Path, description = "The call's id (as in `/api/calls`)")), request_body = TransferBody,
    responses((status = 204, description = "Transferred"), (status = 400, description = "Malformed JSON", body = ApiError), (status = 401, description = "No or unknown token", body = ApiError),
        (status = 403, description = "Not an agent or supervisor", body = ApiError),
        (status = 404, description = "Unknown call", body = ApiError),
        (status = 409, description = "Not the agent on this call (`not_your_call`), or others are on the line (`parties_on_call`)", body = ApiError),
        (status = 422, description = "Unknown queue", body = ApiError),
        (status = 501, description = "External numbers need a gateway", body = ApiError), (status = 503, description = "The engine is shutting down", body = ApiError)))]
async fn transfer(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<TransferBody>,
) -> Result<StatusCode, ApiError> {
    use crate::call::transfer::TransferError;
    let agent = call_handler(&state, &headers, "transfer")?;
    state
        .engine
        .transfer(id, body.queue, agent)
        .await?
        .map_err(|e| {
            let (status, code) = match &e {
                TransferError::UnknownCall(_) => (StatusCode::NOT_FOUND, "unknown_call"),
                TransferError::NotTalking(_) => (StatusCode::CONFLICT, "not_your_call"),
                TransferError::UnknownQueue(_) => {
                    (StatusCode::UNPROCESSABLE_ENTITY, "unknown_queue")
                }
                TransferError::PartiesOnCall(_) => (StatusCode::CONFLICT, "parties_on_call"),
                TransferError::External(target) => {
                    // The fix is the administrator's; the agent is told what to do now.
                    tracing::warn!(%target, "outside transfer refused: configure [transfer] gateway and [transfer.numbers] in hotline.toml");
                    return ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "not_an_allowed_number",
                        format!("{target} cannot be dialled from this hotline: choose one of the desk's transfer targets, or ask the administrator to set up outside transfers"),
                    );
                }
            };
            ApiError::new(status, code, e.to_string())
        })?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who may steer a live call: the agent on it (`Some(agent)`: the engine checks it is theirs)
/// or a supervisor (`None`).
pub(crate) fn call_handler(
    state: &ApiState,
    headers: &HeaderMap,
    what: &str,
) -> Result<Option<String>, ApiError> {
    let actor = caller(state, headers)?;
    match actor.role {
        Role::Supervisor => Ok(None),
        Role::Agent => Ok(own_agent(&actor).map(str::to_string)),
        _ => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("{} may not {what} calls", actor.user),
        )),
    }
}

/// The body of `POST /api/calls/{id}/hold`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldBody {
    /// `true` puts the caller on hold (they hear the hold music), `false` takes them back.
    pub hold: bool,
}

/// Hold or resume from the desk, by the agent on the call (or a supervisor): the caller
/// hears the hold music meanwhile, and the live call shows `on_hold`.
#[utoipa::path(post, path = "/api/calls/{id}/hold", tag = "calls", security(("bearer" = [])),
    params(("id" = String, Path, description = "The call's id (as in `/api/calls`)")), request_body = HoldBody,
    responses((status = 204, description = "Held or resumed"), (status = 400, description = "Malformed JSON", body = ApiError), (status = 401, description = "No or unknown token", body = ApiError),
        (status = 403, description = "Not an agent or supervisor", body = ApiError),
        (status = 404, description = "Unknown call", body = ApiError),
        (status = 409, description = "Not the agent on this call, or not talking", body = ApiError), (status = 503, description = "The engine is shutting down", body = ApiError)))]
pub(crate) async fn hold(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<HoldBody>,
) -> Result<StatusCode, ApiError> {
    use crate::call::transfer::TransferError;
    let agent = call_handler(&state, &headers, "hold")?;
    state
        .engine
        .hold(id, body.hold, agent)
        .await?
        .map_err(|e| {
            let (status, code) = match &e {
                TransferError::UnknownCall(_) => (StatusCode::NOT_FOUND, "unknown_call"),
                _ => (StatusCode::CONFLICT, "not_your_call"),
            };
            ApiError::new(status, code, e.to_string())
        })?;
    Ok(StatusCode::NO_CONTENT)
}
