//! `GET /api/audit/reads`: who was shown a citizen's whole number or name, for supervisors
//! (rule C16). The rows are written by the ticket routes (`shell::read_audit`).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;

use crate::cti::extract::ApiQuery;
use crate::cti::tickets::{who, TicketApi};
use crate::cti::ApiError;
use crate::shell::read_audit::{AuditQuery, AuditedRead};
use crate::workflow::model::Role;

/// Query string of `GET /api/audit/reads`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditParams {
    /// Only this user's reads.
    user: Option<String>,
    /// Only the reads of this ticket.
    ticket: Option<String>,
    /// How many (default 100, at most 1000), newest first.
    limit: Option<u32>,
}

/// The audited reads of citizens' data, newest first (supervisors only).
#[utoipa::path(get, path = "/api/audit/reads", tag = "operations", params(AuditParams), security(("bearer" = [])),
    responses((status = 200, description = "Audited reads, newest first", body = Vec<AuditedRead>), (status = 400, description = "Bad query", body = ApiError), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Needs a supervisor token", body = ApiError)))]
pub(crate) async fn reads(
    State(api): State<TicketApi>,
    headers: HeaderMap,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> Result<Json<Vec<AuditedRead>>, ApiError> {
    let actor = who(&api, &headers)?;
    if actor.role != Role::Supervisor {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "wrong_role",
            "only a supervisor may read the audit of reads",
        ));
    }
    let q = AuditQuery {
        user: p.user,
        ticket: p.ticket,
        limit: p.limit.unwrap_or(100),
    };
    let rows = api
        .worker()
        .call(move |s, _| Ok(crate::shell::read_audit::list(s, &q)?))
        .await?;
    Ok(Json(rows))
}
