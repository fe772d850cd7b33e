//! Finished calls for the hotline's supervisors and reviewers: the records as JSON (the
//! newest from memory, any period from the day files) and as a CSV export for spreadsheets
//! and the archive (what Asterisk's `cdr_csv` users expect). Caller numbers stay masked.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, FixedOffset, Utc};
use serde::Deserialize;

use crate::call::record::CallRecord;
use crate::cti::extract::ApiQuery;
use crate::cti::{agents, ApiError, ApiState};
use crate::shell::record_files;

/// The most records one JSON answer carries.
const MAX_LIMIT: usize = 1000;
/// The longest period one query or export covers.
const MAX_DAYS: i64 = 366;

pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/api/calls/recent", get(recent_calls))
        .route("/api/calls/export", get(export_calls))
        .with_state(state)
}

/// Query string of `GET /api/calls/recent`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecentQuery {
    /// How many records (default 100, at most 1000).
    limit: Option<usize>,
    /// Only the calls whose caller waited past the 15-second maximum (C2), each with its
    /// cause in `over_15s`.
    #[serde(default)]
    over_15s: bool,
    /// Calls that ended at or after this time (RFC 3339); with `to`, read from the day files.
    from: Option<DateTime<FixedOffset>>,
    /// Calls that ended before this time (RFC 3339; default now).
    to: Option<DateTime<FixedOffset>>,
}

/// Query string of `GET /api/calls/export`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportQuery {
    /// Calls that ended at or after this time (RFC 3339).
    from: DateTime<FixedOffset>,
    /// Calls that ended before this time (RFC 3339).
    to: DateTime<FixedOffset>,
}

fn may_read_records(state: &ApiState, headers: &HeaderMap) -> Result<(), ApiError> {
    let actor = agents::caller(state, headers)?;
    if matches!(
        actor.role,
        crate::workflow::Role::Supervisor | crate::workflow::Role::Reviewer
    ) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "call records need a supervisor or reviewer token",
        ))
    }
}

/// A period no longer than [`MAX_DAYS`], `from` before `to`.
fn period(
    from: DateTime<FixedOffset>,
    to: DateTime<FixedOffset>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let (from, to) = (from.with_timezone(&Utc), to.with_timezone(&Utc));
    if from >= to {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_query",
            "`from` must be before `to`",
        ));
    }
    if to - from > chrono::Duration::days(MAX_DAYS) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_query",
            format!("a period covers at most {MAX_DAYS} days"),
        ));
    }
    Ok((from, to))
}

fn read_failed(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "reading call records failed");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "the call records could not be read",
    )
}

/// Finished calls' records, newest first: recordings, agents, tickets and outcomes, for the
/// hotline's supervisors and reviewers only. Without `from` the newest calls (kept in
/// memory); with `from` (and `to`) any period, read from the records on disk.
#[utoipa::path(get, path = "/api/calls/recent", tag = "calls", params(RecentQuery), security(("bearer" = [])),
    responses((status = 200, description = "Call records, newest first", body = Vec<crate::call::record::CallRecord>), (status = 400, description = "Bad query (a period backwards or over 366 days)", body = ApiError), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Needs a supervisor or reviewer token", body = ApiError)))]
pub(crate) async fn recent_calls(
    State(state): State<ApiState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<RecentQuery>,
) -> Result<Json<Vec<CallRecord>>, ApiError> {
    may_read_records(&state, &headers)?;
    let limit = q.limit.unwrap_or(100).clamp(1, MAX_LIMIT);
    let over = q.over_15s;
    let keep = move |r: &CallRecord| !over || r.over_15s.is_some();
    let Some(from) = q.from else {
        if q.to.is_some() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_query",
                "`to` needs `from`",
            ));
        }
        return Ok(Json(state.recent.latest_where(limit, keep)));
    };
    let to =
        q.to.unwrap_or_else(|| crate::shell::clock::wall_now().fixed_offset());
    let (from, to) = period(from, to)?;
    let records = state.records.clone();
    // The newest `limit` of the period: a bounded window slides over the files.
    let found = tokio::task::spawn_blocking(move || {
        let mut window = std::collections::VecDeque::with_capacity(limit);
        records
            .for_each_between(from, to, |r| {
                if keep(&r) {
                    if window.len() == limit {
                        window.pop_front();
                    }
                    window.push_back(r);
                }
                true
            })
            .map(|()| window)
    })
    .await
    .map_err(read_failed)?
    .map_err(read_failed)?;
    Ok(Json(found.into_iter().rev().collect()))
}

/// Every call that ended in `[from, to)` as CSV (one line per call, oldest first, caller
/// numbers masked), streamed as it is read: a year's records never sit in memory.
#[utoipa::path(get, path = "/api/calls/export", tag = "calls", params(ExportQuery), security(("bearer" = [])),
    responses((status = 200, description = "CSV, a header line then one line per call", content_type = "text/csv"), (status = 400, description = "Bad query (a period backwards or over 366 days)", body = ApiError), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Needs a supervisor or reviewer token", body = ApiError)))]
pub(crate) async fn export_calls(
    State(state): State<ApiState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    may_read_records(&state, &headers)?;
    let (from, to) = period(q.from, q.to)?;
    let records = state.records.clone();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    tokio::task::spawn_blocking(move || {
        if tx
            .blocking_send(Ok(Bytes::from_static(record_files::CSV_HEADER.as_bytes())))
            .is_err()
        {
            return;
        }
        let mut chunk = String::new();
        let result = records.for_each_between(from, to, |r| {
            chunk.push_str(&record_files::csv_line(&r));
            if chunk.len() >= 64 * 1024 {
                // The client went away: stop reading.
                return tx
                    .blocking_send(Ok(Bytes::from(std::mem::take(&mut chunk))))
                    .is_ok();
            }
            true
        });
        match result {
            Ok(()) if !chunk.is_empty() => {
                let _ = tx.blocking_send(Ok(Bytes::from(chunk)));
            }
            Ok(()) => {}
            Err(e) => {
                tracing::error!(error = %e, "call record export failed");
                let _ = tx.blocking_send(Err(e));
            }
        }
    });
    let name = format!(
        "attachment; filename=\"calls-{}-{}.csv\"",
        from.format("%Y%m%d"),
        to.format("%Y%m%d")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx)),
    )
        .into_response())
}
