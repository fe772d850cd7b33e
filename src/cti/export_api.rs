//! Data sharing: `GET /api/export/tickets?from=&to=&fields=&format=` for a data-sharing
//! consumer (`role = "data_sharing"` in `users.toml`, with its fields and the field classes it
//! sees whole), streamed as JSON lines or CSV, every export audited before its first line;
//! `GET /api/audit/exports` lists the audit for supervisors. The masking is decided by
//! `analytics::export`.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;

use crate::analytics::export::{ExportError, ExportPolicy};
use crate::cti::extract::ApiQuery;
use crate::cti::stats_api::{range, supervisor, StatsApi};
use crate::cti::ApiError;
use crate::shell::export_audit::ExportRecord;
use crate::workflow::model::Role;
use crate::workflow::store::{ListQuery, TicketStore};
use crate::workflow::Ticket;

/// Tickets read per store call while streaming.
const PAGE: u32 = 200;

/// Query string of `GET /api/export/tickets`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportParams {
    /// First day of receipt, `YYYY-MM-DD` China time (default today).
    from: Option<NaiveDate>,
    /// Last day, included (default `from`).
    to: Option<NaiveDate>,
    /// Comma-separated fields (default: all the consumer's fields), each one of the
    /// consumer's `export_fields`.
    fields: Option<String>,
    /// `jsonl` (default) or `csv`.
    format: Option<String>,
}

fn refused(e: &ExportError) -> ApiError {
    match e {
        ExportError::NotAllowed(_) => {
            ApiError::new(StatusCode::FORBIDDEN, "field_not_allowed", e.to_string())
        }
        _ => ApiError::new(StatusCode::BAD_REQUEST, "bad_fields", e.to_string()),
    }
}

/// The tickets received in the period (newest first), each a line with the chosen fields,
/// masked by class as the consumer's configuration says (`docs/EXPORT.md`). For
/// data-sharing tokens only; every export is audited (`GET /api/audit/exports`).
#[utoipa::path(get, path = "/api/export/tickets", tag = "tickets", params(ExportParams), security(("bearer" = [])),
    responses((status = 200, description = "JSON lines (`application/x-ndjson`) or CSV (`text/csv`), streamed", content_type = "application/x-ndjson"), (status = 400, description = "Bad range, field or format", body = ApiError), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Not a data-sharing token, or a field outside its configuration", body = ApiError)))]
pub(crate) async fn export_tickets(
    State(api): State<StatsApi>,
    headers: HeaderMap,
    ApiQuery(p): ApiQuery<ExportParams>,
) -> Result<Response, ApiError> {
    // Counted in /metrics: `hotline_ticket_transitions_total{action="export_tickets"}` for
    // each export, `hotline_ticket_refusals_total{code}` for each refusal.
    let metrics = api.tickets.worker().metrics().clone();
    let result = export(api, headers, p).await;
    match &result {
        Ok(_) => metrics.committed("export_tickets"),
        Err(e) => metrics.refused(refusal_code(&e.code)),
    }
    result
}

/// The refusal codes of this route, as `/metrics` labels.
fn refusal_code(code: &str) -> &'static str {
    match code {
        "unauthorized" => "unauthorized",
        "wrong_role" => "wrong_role",
        "field_not_allowed" => "field_not_allowed",
        "bad_fields" => "bad_fields",
        "bad_format" => "bad_format",
        "bad_range" => "bad_range",
        "storage_full" => "storage_full",
        _ => "export_failed",
    }
}

async fn export(api: StatsApi, headers: HeaderMap, p: ExportParams) -> Result<Response, ApiError> {
    let users = api.tickets.users().load();
    let actor = crate::cti::auth::any_bearer(&users, &headers)?;
    let policy: ExportPolicy =
        match (&actor.role, users.export_policy(&actor.user)) {
            (Role::DataSharing, Some(p)) => p.clone(),
            _ => return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "wrong_role",
                "only a data-sharing consumer (role data_sharing in users.toml) may export tickets",
            )),
        };
    let fields = policy
        .choose(p.fields.as_deref())
        .map_err(|e| refused(&e))?;
    let csv = match p.format.as_deref() {
        None | Some("jsonl") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_format",
                format!("format `{other}` is not offered; use `jsonl` or `csv`"),
            ))
        }
    };
    let now = api.tickets.now();
    let r = range(p.from, p.to, now)?;
    // Audited (committed) before anything leaves.
    {
        let (user, fields, format) = (
            actor.user.clone(),
            fields.clone(),
            if csv { "csv" } else { "jsonl" },
        );
        let (from_day, to_day) = (r.from_day.to_string(), r.to_day.to_string());
        api.tickets
            .worker()
            .call(move |s, _| {
                Ok(crate::shell::export_audit::record(
                    s, &user, now, &from_day, &to_day, &fields, format,
                )?)
            })
            .await?;
    }
    tracing::info!(user = %actor.user, from = %r.from_day, to = %r.to_day, fields = %fields.join(","), csv, "tickets exported");
    let china = crate::workflow::model::china();
    let (from, to) = (r.from.with_timezone(&china), r.to.with_timezone(&china));
    let worker = api.tickets.worker().clone();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    let head = csv.then(|| crate::analytics::export::csv_header(&fields));
    tokio::spawn(async move {
        if let Some(h) = head {
            if tx.send(Ok(Bytes::from(h))).await.is_err() {
                return;
            }
        }
        let mut after = None;
        loop {
            let q = ListQuery {
                received_from: Some(from),
                received_to: Some(to),
                after: after.take(),
                limit: PAGE,
                ..ListQuery::default()
            };
            let (fields, policy) = (fields.clone(), policy.clone());
            let page = worker
                .call(move |s, _| {
                    let page = s.list(&q)?;
                    let mut chunk = String::new();
                    for row in &page.items {
                        let events = s.events(&row.id)?;
                        let Ok(t) = Ticket::replay(row.id.clone(), events) else {
                            tracing::warn!(ticket = %row.id, "export skips a ticket whose log does not replay");
                            continue;
                        };
                        let line = crate::analytics::export::row(&t, row, &fields, &policy);
                        chunk.push_str(&if csv {
                            crate::analytics::export::csv_line(&line)
                        } else {
                            crate::analytics::export::json_line(&line)
                        });
                    }
                    Ok((chunk, page.next))
                })
                .await;
            match page {
                Ok((chunk, next)) => {
                    if !chunk.is_empty() && tx.send(Ok(Bytes::from(chunk))).await.is_err() {
                        return; // the consumer went away
                    }
                    match next {
                        Some(n) => after = Some(n),
                        None => return,
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "ticket export failed midway");
                    let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                    return;
                }
            }
        }
    });
    let (kind, ext) = if csv {
        ("text/csv; charset=utf-8", "csv")
    } else {
        ("application/x-ndjson", "jsonl")
    };
    Ok((
        [
            (header::CONTENT_TYPE, kind.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"tickets-{}-{}.{ext}\"",
                    r.from_day, r.to_day
                ),
            ),
        ],
        Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx)),
    )
        .into_response())
}

/// Query string of `GET /api/audit/exports`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportAuditParams {
    /// Only this consumer's exports.
    user: Option<String>,
    /// How many (default 100, at most 1000), newest first.
    limit: Option<u32>,
}

/// Every ticket export, newest first: who, when, which days, which fields, which format
/// (supervisors only).
#[utoipa::path(get, path = "/api/audit/exports", tag = "operations", params(ExportAuditParams), security(("bearer" = [])),
    responses((status = 200, description = "Exports, newest first", body = Vec<ExportRecord>), (status = 400, description = "Bad query", body = ApiError), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Needs a supervisor token", body = ApiError)))]
pub(crate) async fn exports(
    State(api): State<StatsApi>,
    headers: HeaderMap,
    ApiQuery(p): ApiQuery<ExportAuditParams>,
) -> Result<Json<Vec<ExportRecord>>, ApiError> {
    supervisor(&api.tickets, &headers, "the audit of exports")?;
    let limit = p.limit.unwrap_or(100);
    let rows = api
        .tickets
        .worker()
        .call(move |s, _| {
            Ok(crate::shell::export_audit::list(
                s,
                p.user.as_deref(),
                limit,
            )?)
        })
        .await?;
    Ok(Json(rows))
}
