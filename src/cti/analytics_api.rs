//! `GET /api/analytics/trends` (requests by type, domain, category, area, channel or unit per
//! hour, day or week, with the change against the period before) and
//! `GET /api/analytics/warnings` (the early warnings kept, W19). Supervisors only; the
//! wallboard's token may read the warnings. Reads the ticket store through a read-only
//! connection and hands the rows to `analytics`, which decides every figure.

use std::path::PathBuf;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::analytics::trends::{day_start, Bucket, Dimension, Trend, TrendLimits, TrendQuery};
use crate::analytics::warnings::Warning;
use crate::cti::extract::ApiQuery;
use crate::cti::stats_api::{internal, supervisor};
use crate::cti::tickets::{who, TicketApi};
use crate::cti::ApiError;
use crate::workflow::model::Role;

/// What the analytics routes reach.
#[derive(Clone)]
pub struct AnalyticsApi {
    pub tickets: TicketApi,
    /// The ticket store is read at `data_dir/tickets.sqlite`.
    pub data_dir: PathBuf,
    pub limits: TrendLimits,
}

/// The analytics routes.
pub fn router(api: AnalyticsApi) -> Router {
    Router::new()
        .route("/api/analytics/trends", get(trends))
        .route("/api/analytics/warnings", get(warnings))
        .with_state(api)
}

/// Query string of `GET /api/analytics/trends`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct TrendParams {
    /// `type`, `domain`, `category`, `area`, `channel` or `unit` (default `type`).
    by: Option<Dimension>,
    /// `hour`, `day` (default) or `week`.
    bucket: Option<Bucket>,
    /// First day, `YYYY-MM-DD` China time (default: 6 days before `to`).
    from: Option<NaiveDate>,
    /// Last day, included (default today).
    to: Option<NaiveDate>,
}

/// A trend and whether the rows read were cut at `analytics.max_rows`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TrendReport {
    #[serde(flatten)]
    pub trend: Trend,
    /// More requests than `analytics.max_rows` fell in the two periods: the counts are low.
    pub cut: bool,
}

fn bad(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message)
}

/// Requests counted by one dimension per hour, day or week over a period, each value with
/// its total and the change against the same-length period just before. Supervisors only.
#[utoipa::path(get, path = "/api/analytics/trends", tag = "operations", params(TrendParams), security(("bearer" = [])),
    responses((status = 200, description = "One series per value, largest first (the rest summed as `other`)", body = TrendReport), (status = 400, description = "Bad period, dimension or bucket; too many buckets", body = ApiError), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Needs a supervisor token", body = ApiError)))]
pub(crate) async fn trends(
    State(api): State<AnalyticsApi>,
    headers: HeaderMap,
    ApiQuery(p): ApiQuery<TrendParams>,
) -> Result<Response, ApiError> {
    supervisor(&api.tickets, &headers, "trends")?;
    let today = api.tickets.now().date_naive();
    let to_day = p.to.unwrap_or(today);
    let from_day = p.from.unwrap_or(to_day - chrono::Duration::days(6));
    if from_day > to_day {
        return Err(bad(
            "bad_range",
            format!("`to` ({to_day}) is before `from` ({from_day})"),
        ));
    }
    let query = TrendQuery {
        by: p.by.unwrap_or(Dimension::Type),
        bucket: p.bucket.unwrap_or(Bucket::Day),
        from: day_start(from_day),
        to: day_start(to_day + chrono::Duration::days(1)),
        max_series: api.limits.max_series,
    };
    let (from, to, _) = query
        .period(api.limits.max_buckets)
        .map_err(|e| bad("bad_range", e.to_string()))?;
    let read_from = from - (to - from);
    let max_rows = api.limits.max_rows;
    let (rows, cut) =
        crate::shell::period_tickets::read(api.tickets.worker().store_at(), move |s| {
            crate::shell::warnings::rows_between(s, read_from, to, max_rows)
        })
        .await
        .map_err(internal)?;
    let rows: Vec<_> = rows.into_iter().map(|(r, _)| r).collect();
    let trend = query
        .run(&rows, api.limits.max_buckets)
        .map_err(|e| bad("bad_range", e.to_string()))?;
    Ok(Json(TrendReport { trend, cut }).into_response())
}

/// Query string of `GET /api/analytics/warnings`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct WarningParams {
    /// First day raised, `YYYY-MM-DD` China time (default: 30 days before `to`).
    from: Option<NaiveDate>,
    /// Last day raised, included (default today).
    to: Option<NaiveDate>,
    /// Only this rule: `hot_spot`, `high_frequency`, `seasonal_due` or `risk_words`.
    rule: Option<String>,
    /// At most this many, newest first (default 200, at most 1000).
    limit: Option<usize>,
}

/// The warnings kept.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WarningList {
    pub from: DateTime<FixedOffset>,
    pub to: DateTime<FixedOffset>,
    /// Newest first.
    pub warnings: Vec<Warning>,
}

/// The early warnings raised in a period (W19), newest first, each with its rule, figures,
/// threshold and the requests behind it. A supervisor's or the wallboard's token.
#[utoipa::path(get, path = "/api/analytics/warnings", tag = "operations", params(WarningParams), security(("bearer" = [])),
    responses((status = 200, description = "The warnings, newest first", body = WarningList), (status = 400, description = "Bad period, rule or limit", body = ApiError), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Needs a supervisor or wallboard token", body = ApiError)))]
pub(crate) async fn warnings(
    State(api): State<AnalyticsApi>,
    headers: HeaderMap,
    ApiQuery(p): ApiQuery<WarningParams>,
) -> Result<Response, ApiError> {
    let actor = who(&api.tickets, &headers)?;
    if !matches!(actor.role, Role::Supervisor | Role::Wallboard) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "wrong_role",
            "only a supervisor or the wallboard may read the warnings",
        ));
    }
    if let Some(r) = p.rule.as_deref() {
        if !crate::analytics::warnings::RULES.contains(&r) {
            return Err(bad(
                "bad_rule",
                format!("rule `{r}` is unknown; use hot_spot, high_frequency, seasonal_due or risk_words"),
            ));
        }
    }
    let limit = p.limit.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        return Err(bad("bad_limit", "limit must be 1 to 1000"));
    }
    let today = api.tickets.now().date_naive();
    let to_day = p.to.unwrap_or(today);
    let from_day = p.from.unwrap_or(to_day - chrono::Duration::days(30));
    if from_day > to_day {
        return Err(bad(
            "bad_range",
            format!("`to` ({to_day}) is before `from` ({from_day})"),
        ));
    }
    let (from, to) = (
        day_start(from_day),
        day_start(to_day + chrono::Duration::days(1)),
    );
    let rule = p.rule.clone();
    let warnings = crate::shell::period_tickets::read(api.tickets.worker().store_at(), move |s| {
        crate::shell::warnings::list(s, from, to, rule.as_deref(), limit)
    })
    .await
    .map_err(internal)?;
    Ok(Json(WarningList { from, to, warnings }).into_response())
}
