//! `GET /api/stats/agents` and `/api/stats/queues`: per-agent and per-queue figures for a day
//! or a range of days (China time), as JSON or CSV, for supervisors. Reads the agents'
//! activity and ticket tallies from the ticket store, the calls from their record files, and
//! hands them to `stats::agents`, which decides every figure.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::cti::extract::ApiQuery;
use crate::cti::tickets::{who, TicketApi};
use crate::cti::ApiError;
use crate::stats::agents::{AgentStats, PeriodStats, QueueStats};
use crate::workflow::model::Role;

/// The longest range one request may ask for.
pub const MAX_DAYS: i64 = 366;

/// What the statistics routes reach: the ticket store, the call records, the KPI grace.
#[derive(Clone)]
pub struct StatsApi {
    pub tickets: TicketApi,
    /// Where call records are read: `data_dir/calls/*.jsonl`, or the shared store.
    pub records: crate::shell::record_files::RecordsAt,
    /// `[kpi]`: the grace of the rates and the staffing parameters.
    pub kpi: crate::config::KpiConfig,
}

/// The statistics routes, the conformance report and data sharing.
pub fn router(api: StatsApi) -> Router {
    Router::new()
        .route("/api/stats/agents", get(agents))
        .route("/api/stats/queues", get(queues))
        .route("/api/stats/numbers", get(numbers))
        .route(
            "/api/stats/staffing",
            get(crate::cti::staffing_api::staffing),
        )
        .route(
            "/api/conformance",
            get(crate::cti::conformance_api::conformance),
        )
        .route(
            "/api/export/tickets",
            get(crate::cti::export_api::export_tickets),
        )
        .route("/api/audit/exports", get(crate::cti::export_api::exports))
        .with_state(api)
}

/// Query string of the statistics routes.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct RangeParams {
    /// First day, `YYYY-MM-DD` China time (default today).
    from: Option<NaiveDate>,
    /// Last day, included (default `from`).
    to: Option<NaiveDate>,
    /// `json` (default) or `csv`.
    format: Option<String>,
    /// Only this queue: its row in `/api/stats/queues`; in `/api/stats/agents` the agents who
    /// served it in the period (their figures whole: an agent's ready time is not any one
    /// queue's).
    queue: Option<String>,
}

/// The longest queue name a filter may carry.
const MAX_QUEUE_NAME: usize = 64;

/// Checks the `queue` filter: absent, or a name of 1 to [`MAX_QUEUE_NAME`] characters. A
/// queue no longer configured is still a valid filter (its past figures remain).
fn queue_filter(queue: Option<String>) -> Result<Option<String>, ApiError> {
    match queue {
        Some(q) if q.is_empty() || q.chars().count() > MAX_QUEUE_NAME => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_queue",
            format!("`queue` must be a queue's name, 1 to {MAX_QUEUE_NAME} characters"),
        )),
        q => Ok(q),
    }
}

/// The period a request covers, as instants: `[from 00:00, to + 1 day 00:00)` China time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Range {
    pub from_day: NaiveDate,
    pub to_day: NaiveDate,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// The day's first instant, China time; `None` for a day at the calendar's edge, whose
/// midnight (or the next one) is not an instant.
fn midnight(day: NaiveDate) -> Option<DateTime<Utc>> {
    let china = crate::workflow::model::china();
    day.and_hms_opt(0, 0, 0)
        .and_then(|d| china.from_local_datetime(&d).single())
        .map(|d| d.with_timezone(&Utc))
}

/// Checks a `from`/`to` pair of days (defaults: today) and turns it into instants.
pub(crate) fn range(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    now: DateTime<FixedOffset>,
) -> Result<Range, ApiError> {
    let today = now
        .with_timezone(&crate::workflow::model::china())
        .date_naive();
    let from_day = from.unwrap_or(today);
    let to_day = to.unwrap_or(from_day);
    let days = (to_day - from_day).num_days() + 1;
    if days < 1 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_range",
            format!(
                "`to` ({to_day}) is before `from` ({from_day}); give the first day then the last"
            ),
        ));
    }
    if days > MAX_DAYS {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_range",
            format!("{days} days asked; at most {MAX_DAYS} per request"),
        ));
    }
    let (Some(from), Some(to)) = (midnight(from_day), to_day.succ_opt().and_then(midnight)) else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_range",
            format!("{from_day} to {to_day} is outside the calendar the figures are kept in"),
        ));
    };
    Ok(Range {
        from_day,
        to_day,
        from,
        to,
    })
}

/// Supervisors only: the figures name agents.
pub(crate) fn supervisor(api: &TicketApi, headers: &HeaderMap, what: &str) -> Result<(), ApiError> {
    let actor = who(api, headers)?;
    if actor.role != Role::Supervisor {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "wrong_role",
            format!("only a supervisor may read {what}"),
        ));
    }
    Ok(())
}

fn csv_wanted(format: Option<&str>) -> Result<bool, ApiError> {
    match format {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(other) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_format",
            format!("format `{other}` is not offered; use `json` or `csv`"),
        )),
    }
}

pub(crate) fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "stats_unavailable",
        format!("could not read the data behind the statistics: {e}"),
    )
}

/// Reads what the period needs and computes both tables.
async fn period(api: &StatsApi, r: Range) -> Result<PeriodStats, ApiError> {
    let (from, to) = (r.from, r.to);
    let (activity, tickets) =
        crate::shell::period_tickets::read(api.tickets.worker().store_at(), move |s| {
            Ok((
                crate::shell::agent_activity::between(s, from, to)?,
                crate::shell::agent_activity::ticket_tally(s, from, to)?,
            ))
        })
        .await
        .map_err(internal)?;
    let records = api.records.clone();
    let calls = tokio::task::spawn_blocking(move || records.kpi_outcomes_between(from, to))
        .await
        .map_err(internal)?
        .map_err(internal)?;
    let now = api.tickets.now().with_timezone(&Utc);
    Ok(crate::stats::agents::compute(
        &crate::stats::agents::Period {
            from,
            to,
            now,
            grace: api.kpi.grace,
            activity: &activity,
            calls: &calls,
            tickets: &tickets,
        },
    ))
}

fn csv(body: String, name: &str, r: &Range) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{name}-{}-{}.csv\"",
                    r.from_day, r.to_day
                ),
            ),
        ],
        body,
    )
        .into_response()
}

/// Per-agent figures for a period.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AgentsReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub agents: Vec<AgentStats>,
}

/// Per-queue figures for a period.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueuesReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub queues: Vec<QueueStats>,
}

/// Per agent, for a day or a range of days (China time): rings offered, answered,
/// ring-no-answer, talk/hold/wrap-up totals and means, not-ready time by reason, occupancy,
/// web items, tickets created and closed (definitions: `docs/KPI.md`). Supervisors only.
#[utoipa::path(get, path = "/api/stats/agents", tag = "operations", params(RangeParams), security(("bearer" = [])),
    responses((status = 200, description = "One row per agent (JSON, or CSV with `format=csv`)", body = AgentsReport), (status = 400, description = "Bad range or format", body = ApiError), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Needs a supervisor token", body = ApiError)))]
pub(crate) async fn agents(
    State(api): State<StatsApi>,
    headers: HeaderMap,
    ApiQuery(p): ApiQuery<RangeParams>,
) -> Result<Response, ApiError> {
    supervisor(&api.tickets, &headers, "agent statistics")?;
    let csv_out = csv_wanted(p.format.as_deref())?;
    let queue = queue_filter(p.queue)?;
    let r = range(p.from, p.to, api.tickets.now())?;
    let mut stats = period(&api, r).await?;
    if let Some(q) = &queue {
        stats.agents.retain(|a| a.queues.contains(q));
    }
    if csv_out {
        return Ok(csv(
            crate::stats::agents::agents_csv(&stats.agents),
            "agents",
            &r,
        ));
    }
    Ok(Json(AgentsReport {
        from: r.from_day,
        to: r.to_day,
        agents: stats.agents,
    })
    .into_response())
}

/// Per queue, for a day or a range of days: the callers (offered, answered, within 15 s,
/// abandoned, rates, waits) and the agents' side (rings, ring-no-answer, talk, hold, wrap-up,
/// web items). Supervisors only.
#[utoipa::path(get, path = "/api/stats/queues", tag = "operations", params(RangeParams), security(("bearer" = [])),
    responses((status = 200, description = "One row per queue (JSON, or CSV with `format=csv`)", body = QueuesReport), (status = 400, description = "Bad range or format", body = ApiError), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Needs a supervisor token", body = ApiError)))]
pub(crate) async fn queues(
    State(api): State<StatsApi>,
    headers: HeaderMap,
    ApiQuery(p): ApiQuery<RangeParams>,
) -> Result<Response, ApiError> {
    supervisor(&api.tickets, &headers, "queue statistics")?;
    let csv_out = csv_wanted(p.format.as_deref())?;
    let queue = queue_filter(p.queue)?;
    let r = range(p.from, p.to, api.tickets.now())?;
    let mut stats = period(&api, r).await?;
    if let Some(q) = &queue {
        stats.queues.retain(|x| &x.queue == q);
    }
    if csv_out {
        return Ok(csv(
            crate::stats::agents::queues_csv(&stats.queues),
            "queues",
            &r,
        ));
    }
    Ok(Json(QueuesReport {
        from: r.from_day,
        to: r.to_day,
        queues: stats.queues,
    })
    .into_response())
}

/// Query of `GET /api/stats/numbers`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct NumberRangeParams {
    /// First day, `YYYY-MM-DD` China time (default today).
    from: Option<NaiveDate>,
    /// Last day, included (default `from`).
    to: Option<NaiveDate>,
    /// `json` (default) or `csv`.
    format: Option<String>,
    /// Only this service number's row (e.g. `12315`).
    number: Option<String>,
}

/// Per service number dialled.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NumbersReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub numbers: Vec<crate::stats::numbers::NumberStats>,
}

/// Per service number dialled (12345 and the integrated numbers, GB/T 44190 4.2), for a day
/// or a range of days: callers offered, answered, within 15 s, abandoned, refused, and the
/// two rates, counted as the live KPIs count them (`docs/KPI.md`). Supervisors only.
#[utoipa::path(get, path = "/api/stats/numbers", tag = "operations", params(NumberRangeParams), security(("bearer" = [])),
    responses((status = 200, description = "One row per number (JSON, or CSV with `format=csv`)", body = NumbersReport), (status = 400, description = "Bad range or format", body = ApiError), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Needs a supervisor token", body = ApiError)))]
pub(crate) async fn numbers(
    State(api): State<StatsApi>,
    headers: HeaderMap,
    ApiQuery(p): ApiQuery<NumberRangeParams>,
) -> Result<Response, ApiError> {
    supervisor(&api.tickets, &headers, "statistics by number")?;
    let csv_out = csv_wanted(p.format.as_deref())?;
    let r = range(p.from, p.to, api.tickets.now())?;
    let (from, to) = (r.from, r.to);
    let records = api.records.clone();
    let calls = tokio::task::spawn_blocking(move || records.kpi_outcomes_between(from, to))
        .await
        .map_err(internal)?
        .map_err(internal)?;
    let mut rows = crate::stats::numbers::by_number(&calls, api.kpi.grace);
    if let Some(n) = &p.number {
        rows.retain(|x| &x.number == n);
    }
    if csv_out {
        return Ok(csv(
            crate::stats::numbers::numbers_csv(&rows),
            "numbers",
            &r,
        ));
    }
    Ok(Json(NumbersReport {
        from: r.from_day,
        to: r.to_day,
        numbers: rows,
    })
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-11-25T10:00:00+08:00").unwrap()
    }

    fn day(s: &str) -> Option<NaiveDate> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn a_range_is_whole_china_days_and_defaults_to_today() {
        let r = range(None, None, now()).unwrap();
        assert_eq!(r.from.to_rfc3339(), "2026-11-24T16:00:00+00:00");
        assert_eq!(r.to.to_rfc3339(), "2026-11-25T16:00:00+00:00");
        let r = range(day("2026-11-23"), day("2026-11-24"), now()).unwrap();
        assert_eq!((r.to - r.from).num_hours(), 48);
    }

    #[test]
    fn reversed_too_long_and_calendar_edge_ranges_are_refused_with_a_reason() {
        for (from, to) in [
            (day("2026-11-24"), day("2026-11-23")),
            (day("2025-11-23"), day("2026-11-24")),
            // Midnight of the first day is before the first instant chrono can hold, and the
            // day after the last has no midnight: these were read as 1970 and as an empty
            // period, answered 200 with nothing in them.
            (Some(NaiveDate::MIN), Some(NaiveDate::MIN)),
            (Some(NaiveDate::MAX), Some(NaiveDate::MAX)),
        ] {
            let e = range(from, to, now()).unwrap_err();
            assert_eq!(
                (e.status, e.code.as_str()),
                (StatusCode::BAD_REQUEST, "bad_range")
            );
            assert!(!e.message.is_empty());
        }
        assert!(range(day("2025-11-24"), day("2026-11-24"), now()).is_ok());
    }

    #[test]
    fn a_queue_filter_is_a_name() {
        assert_eq!(queue_filter(None).unwrap(), None);
        assert_eq!(
            queue_filter(Some("general".into())).unwrap().as_deref(),
            Some("general")
        );
        for bad in [String::new(), "q".repeat(MAX_QUEUE_NAME + 1)] {
            assert_eq!(queue_filter(Some(bad)).unwrap_err().code, "bad_queue");
        }
    }
}
