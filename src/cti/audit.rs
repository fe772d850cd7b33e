//! `GET /api/audit/reads`: who was shown a citizen's whole number or name, and
//! `GET /api/audit/monitoring`: who listened to, whispered on or barged into which call, for
//! supervisors (rule C16). The rows are written by the ticket routes (`shell::read_audit`)
//! and the engine's call-ticket jobs (`shell::monitor_audit`).

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, FixedOffset};
use serde::Deserialize;

use crate::cti::extract::ApiQuery;
use crate::cti::tickets::{who, TicketApi};
use crate::cti::ApiError;
use crate::shell::monitor_audit::{MonitoringQuery, MonitoringUse};
use crate::shell::read_audit::{AuditQuery, AuditedRead};
use crate::workflow::model::{Actor, Role};
use crate::workflow::Ticket;

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

/// Query string of `GET /api/audit/monitoring`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct MonitoringParams {
    /// Only this supervisor's uses.
    user: Option<String>,
    /// Only the uses on this call (its public name).
    call: Option<String>,
    /// Only uses begun at or after this time (RFC 3339).
    from: Option<DateTime<FixedOffset>>,
    /// Only uses begun before this time (RFC 3339).
    to: Option<DateTime<FixedOffset>>,
    /// How many (default 100, at most 1000), newest first.
    limit: Option<u32>,
}

/// Supervisors' listening, whispering and barging on live calls, newest first (supervisors
/// only; C16: every use is logged with who and when).
#[utoipa::path(get, path = "/api/audit/monitoring", tag = "operations", params(MonitoringParams), security(("bearer" = [])),
    responses((status = 200, description = "Monitoring uses, newest first", body = Vec<MonitoringUse>), (status = 400, description = "Bad query", body = ApiError), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Needs a supervisor token", body = ApiError)))]
pub(crate) async fn monitoring(
    State(api): State<TicketApi>,
    headers: HeaderMap,
    ApiQuery(p): ApiQuery<MonitoringParams>,
) -> Result<Json<Vec<MonitoringUse>>, ApiError> {
    let actor = who(&api, &headers)?;
    if actor.role != Role::Supervisor {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "wrong_role",
            "only a supervisor may read the audit of monitoring",
        ));
    }
    let q = MonitoringQuery {
        user: p.user,
        call: p.call,
        from: p.from,
        to: p.to,
        limit: p.limit.unwrap_or(100),
    };
    let rows = api
        .worker()
        .call(move |s, _| Ok(crate::shell::monitor_audit::list(s, &q)?))
        .await?;
    Ok(Json(rows))
}

/// A read of ticket `t` by `actor` that shows the citizen whole (`whole`) is bounded per user
/// and audited, committed before the answer leaves: `Some(429)` when the user is over the
/// limit, `None` to answer.
pub(crate) async fn caller_read(
    api: &TicketApi,
    actor: &Actor,
    t: &Ticket,
    whole: bool,
    now: DateTime<FixedOffset>,
) -> Result<Option<Response>, ApiError> {
    let caller = &t.intake.caller;
    if !whole || (caller.phone.is_none() && caller.name.is_none()) {
        return Ok(None);
    }
    if let Err(wait) = api.reads.allow(&actor.user, now.timestamp()) {
        tracing::warn!(user = %actor.user, "too many reads of citizens' data: refused");
        let mut resp = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_reads",
            format!(
                "more ticket reads with citizens' numbers than a desk needs: try again in {wait} s"
            ),
        )
        .into_response();
        if let Ok(v) = wait.to_string().parse() {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Ok(Some(resp));
    }
    let (a, id) = (actor.clone(), t.id.0.clone());
    api.worker()
        .call(move |s, _| Ok(crate::shell::read_audit::record(s, &a, &id, "caller", now)?))
        .await?;
    Ok(None)
}
