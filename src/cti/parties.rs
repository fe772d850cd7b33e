//! A call's other parties over HTTP, for the desk (rules C11, C12, W3's 三方转接): consult or
//! conference someone in (`POST /api/calls/{id}/parties`), merge a consultation into the
//! conference (`…/parties/{party}/join`), hand the call over to a party (`…/handover`), drop
//! one (`DELETE …/parties/{party}`), or leave the others with the caller
//! (`POST /api/calls/{id}/leave`). Only the agent on the call or a supervisor may; the call
//! room decides what is possible and says why not.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::call::parties::{ConferenceError, PartyAction, PartyTarget};
use crate::call::record::{MonitorMode, PartyRole};
use crate::cti::agents::call_handler;
use crate::cti::extract::ApiJson;
use crate::cti::{ApiError, ApiState};

/// The party routes.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/api/calls/{id}/parties", post(add))
        .route("/api/calls/{id}/parties/{party}", delete(drop_party))
        .route("/api/calls/{id}/parties/{party}/join", post(join))
        .route("/api/calls/{id}/parties/{party}/handover", post(hand_over))
        .route("/api/calls/{id}/leave", post(leave))
        .route("/api/calls/{id}/monitor", post(monitor))
        .with_state(state)
}

/// How the new party is on the call.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AddMode {
    /// The caller hears hold music while the agent and the party talk.
    Consult,
    /// Everyone hears everyone once the party answers.
    Conference,
}

/// The body of `POST /api/calls/{id}/parties`: exactly one of `agent`, `queue`, `unit`,
/// `number`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddPartyBody {
    /// An agent by id (their registered phone rings); they must be ready.
    pub agent: Option<String>,
    /// The best ready agent of this queue (a special seat: `sign_language`, `foreign`, …).
    pub queue: Option<String>,
    /// A handling unit of `config/dispatch.toml` with a `phone`, through the gateway.
    pub unit: Option<String>,
    /// An outside service of `[transfer.numbers]` (`110`, `119`, `120`, `122`, `water`, …);
    /// 110/119/120/122 and utilities link the call's ticket at once (C12).
    pub number: Option<String>,
    pub mode: AddMode,
}

/// The answer of `POST /api/calls/{id}/parties`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AddedParty {
    /// The party's number on the call (the `{party}` of the other routes; `parties[].id` in
    /// the live call).
    pub party: u8,
}

fn refused(e: ConferenceError) -> ApiError {
    use ConferenceError as E;
    let (status, code) = match &e {
        E::UnknownCall(_) => (StatusCode::NOT_FOUND, "unknown_call"),
        E::UnknownParty { .. } => (StatusCode::NOT_FOUND, "unknown_party"),
        E::NotTalking(_) => (StatusCode::CONFLICT, "not_your_call"),
        E::TooManyParties { .. } => (StatusCode::CONFLICT, "too_many_parties"),
        E::ConsultInProgress(_) => (StatusCode::CONFLICT, "consult_in_progress"),
        E::NotAnswered { .. } => (StatusCode::CONFLICT, "not_answered"),
        E::Supervisor { .. } => (StatusCode::CONFLICT, "supervisor"),
        E::NobodyToLeaveTo(_) => (StatusCode::CONFLICT, "nobody_to_leave_to"),
        E::AgentUnavailable { .. } => (StatusCode::CONFLICT, "agent_unavailable"),
        E::UnitUnreachable(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unit_has_no_phone"),
        E::External(_) => (StatusCode::UNPROCESSABLE_ENTITY, "not_an_allowed_number"),
        E::NotSent => (StatusCode::SERVICE_UNAVAILABLE, "not_sent"),
        E::NoSupervisorPhone(_) => (StatusCode::CONFLICT, "no_supervisor_phone"),
        E::NotASupervisor { .. } => (StatusCode::CONFLICT, "not_a_supervisor"),
    };
    ApiError::new(status, code, e.to_string())
}

async fn act(
    state: &ApiState,
    headers: &HeaderMap,
    call: String,
    action: PartyAction,
) -> Result<Option<u8>, ApiError> {
    let agent = call_handler(state, headers, "steer")?;
    state
        .engine
        .party(call, agent, action)
        .await?
        .map_err(refused)
}

/// Calls someone onto the call, as a consultation or straight into a conference.
#[utoipa::path(post, path = "/api/calls/{id}/parties", tag = "calls", security(("bearer" = [])),
    params(("id" = String, Path, description = "The call's id (as in `/api/calls`)")), request_body = AddPartyBody,
    responses((status = 201, description = "Their phone is ringing", body = AddedParty), (status = 400, description = "Malformed JSON", body = ApiError), (status = 401, description = "No or unknown token", body = ApiError),
        (status = 403, description = "Not an agent or supervisor", body = ApiError),
        (status = 404, description = "Unknown call", body = ApiError),
        (status = 409, description = "Not the agent on this call (`not_your_call`), already five on it (`too_many_parties`), a consultation going (`consult_in_progress`), the agent not ready (`agent_unavailable`)", body = ApiError),
        (status = 422, description = "Not exactly one target (`one_target`), a unit without a phone (`unit_has_no_phone`), a number not configured (`not_an_allowed_number`)", body = ApiError), (status = 503, description = "The engine is shutting down, or the INVITE could not be sent", body = ApiError)))]
pub(crate) async fn add(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<AddPartyBody>,
) -> Result<(StatusCode, Json<AddedParty>), ApiError> {
    let targets = [
        body.agent.map(PartyTarget::Agent),
        body.queue.map(PartyTarget::Queue),
        body.unit.map(PartyTarget::Unit),
        body.number.map(PartyTarget::External),
    ];
    let mut given = targets.into_iter().flatten();
    let (Some(target), None) = (given.next(), given.next()) else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "one_target",
            "name exactly one of `agent`, `queue`, `unit` or `number`",
        ));
    };
    let role = match body.mode {
        AddMode::Consult => PartyRole::Consult,
        AddMode::Conference => PartyRole::Conference,
    };
    let party = act(&state, &headers, id, PartyAction::Add { target, role })
        .await?
        .unwrap_or_default();
    Ok((StatusCode::CREATED, Json(AddedParty { party })))
}

/// Takes a party off the call (ringing: cancelled; talking: hung up). Dropping a
/// consultation takes the caller off hold.
#[utoipa::path(delete, path = "/api/calls/{id}/parties/{party}", tag = "calls", security(("bearer" = [])),
    params(("id" = String, Path, description = "The call's id"), ("party" = u8, Path, description = "The party's number")),
    responses((status = 204, description = "Dropped"), (status = 401, description = "No or unknown token", body = ApiError),
        (status = 403, description = "Not an agent or supervisor", body = ApiError),
        (status = 404, description = "Unknown call or party", body = ApiError),
        (status = 409, description = "Not the agent on this call", body = ApiError), (status = 503, description = "The engine is shutting down", body = ApiError)))]
pub(crate) async fn drop_party(
    State(state): State<ApiState>,
    Path((id, party)): Path<(String, u8)>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    act(&state, &headers, id, PartyAction::Drop(party)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Merges a consultation into a conference: the caller comes off hold and everyone hears
/// everyone.
#[utoipa::path(post, path = "/api/calls/{id}/parties/{party}/join", tag = "calls", security(("bearer" = [])),
    params(("id" = String, Path, description = "The call's id"), ("party" = u8, Path, description = "The party's number")),
    responses((status = 204, description = "In the conference"), (status = 401, description = "No or unknown token", body = ApiError),
        (status = 403, description = "Not an agent or supervisor", body = ApiError),
        (status = 404, description = "Unknown call or party", body = ApiError),
        (status = 409, description = "Not the agent on this call, or a supervisor's leg", body = ApiError), (status = 503, description = "The engine is shutting down", body = ApiError)))]
pub(crate) async fn join(
    State(state): State<ApiState>,
    Path((id, party)): Path<(String, u8)>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    act(&state, &headers, id, PartyAction::Join(party)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Completes a transfer: the party takes the call over (another agent becomes the call's
/// agent; a unit or outside service stays with the caller) and the agent leaves for
/// wrap-up. The recording goes on.
#[utoipa::path(post, path = "/api/calls/{id}/parties/{party}/handover", tag = "calls", security(("bearer" = [])),
    params(("id" = String, Path, description = "The call's id"), ("party" = u8, Path, description = "The party's number")),
    responses((status = 204, description = "Handed over"), (status = 401, description = "No or unknown token", body = ApiError),
        (status = 403, description = "Not an agent or supervisor", body = ApiError),
        (status = 404, description = "Unknown call or party", body = ApiError),
        (status = 409, description = "Not the agent on this call, the party has not answered (`not_answered`), or is a supervisor", body = ApiError), (status = 503, description = "The engine is shutting down", body = ApiError)))]
pub(crate) async fn hand_over(
    State(state): State<ApiState>,
    Path((id, party)): Path<(String, u8)>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    act(&state, &headers, id, PartyAction::HandOver(party)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The agent leaves the call; the caller and the others go on (the first other party still
/// talking carries it, the recording continues).
#[utoipa::path(post, path = "/api/calls/{id}/leave", tag = "calls", security(("bearer" = [])),
    params(("id" = String, Path, description = "The call's id")),
    responses((status = 204, description = "Left"), (status = 401, description = "No or unknown token", body = ApiError),
        (status = 403, description = "Not an agent or supervisor", body = ApiError),
        (status = 404, description = "Unknown call", body = ApiError),
        (status = 409, description = "Not the agent on this call, or nobody else is talking on it (`nobody_to_leave_to`)", body = ApiError), (status = 503, description = "The engine is shutting down", body = ApiError)))]
pub(crate) async fn leave(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    act(&state, &headers, id, PartyAction::Leave).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The body of `POST /api/calls/{id}/monitor`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitorBody {
    /// `listen` (hears both, heard by nobody), `whisper` (heard by the agent only) or
    /// `barge` (joins: everyone hears them).
    pub mode: MonitorMode,
}

/// A supervisor listens to, whispers on or barges into a live call: their phone
/// (`[[supervisor]]` in agents.toml) rings as one more party. Asked again with another mode,
/// the same leg changes mode. Every join and leave is logged with who and when (C16).
#[utoipa::path(post, path = "/api/calls/{id}/monitor", tag = "calls", security(("bearer" = [])),
    params(("id" = String, Path, description = "The call's id (as in `/api/calls`)")), request_body = MonitorBody,
    responses((status = 201, description = "Their phone is ringing, or their mode changed", body = AddedParty), (status = 400, description = "Malformed JSON", body = ApiError), (status = 401, description = "No or unknown token", body = ApiError),
        (status = 403, description = "Not a supervisor", body = ApiError),
        (status = 404, description = "Unknown call", body = ApiError),
        (status = 409, description = "Not talking (`not_your_call`), five on the call already (`too_many_parties`), no registered phone (`no_supervisor_phone`)", body = ApiError), (status = 503, description = "The engine is shutting down, or the INVITE could not be sent", body = ApiError)))]
pub(crate) async fn monitor(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<MonitorBody>,
) -> Result<(StatusCode, Json<AddedParty>), ApiError> {
    let actor = crate::cti::agents::caller(&state, &headers)?;
    if actor.role != crate::workflow::model::Role::Supervisor {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only a supervisor listens, whispers or barges",
        ));
    }
    let action = PartyAction::Monitor {
        user: actor.user.clone(),
        mode: body.mode,
    };
    let party = state
        .engine
        .party(id, None, action)
        .await?
        .map_err(refused)?
        .unwrap_or_default();
    Ok((StatusCode::CREATED, Json(AddedParty { party })))
}
