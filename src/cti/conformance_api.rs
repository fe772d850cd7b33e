//! `GET /api/conformance?from=&to=`: the standard's rules (C1–C16, W1–W19) measured over a
//! day or a range of days, for supervisors (the management office's report). Reads the call
//! records, the agents' activity and the tickets' logs, and hands them to
//! `analytics::conformance`, which decides every figure and verdict.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::analytics::conformance::{CallFact, CallbackFact, CallbackStep, Conformance};
use crate::cti::extract::ApiQuery;
use crate::cti::stats_api::{internal, range, supervisor, StatsApi};
use crate::cti::ApiError;

/// Query string of `GET /api/conformance`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConformanceParams {
    /// First day, `YYYY-MM-DD` China time (default today).
    from: Option<NaiveDate>,
    /// Last day, included (default `from`).
    to: Option<NaiveDate>,
}

/// The report with the days it covers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConformanceReport {
    pub from_day: NaiveDate,
    pub to_day: NaiveDate,
    #[serde(flatten)]
    pub report: Conformance,
    /// More tickets than one report reads (`shell::period_tickets::MAX_TICKETS`): the ticket
    /// rules cover the oldest ones only; ask for a shorter range.
    pub tickets_cut: bool,
}

/// A finished call as the report needs it.
fn fact(r: &crate::call::record::CallRecord) -> CallFact {
    let kpi = crate::shell::records::kpi_outcome(r);
    CallFact {
        id: r.call.id.clone(),
        outcome: kpi.as_ref().map(|e| e.outcome),
        at: kpi.map_or(r.ended_at, |e| e.at),
        answered: r.call.connected_at.is_some(),
        recorded: r.call.recording.is_some() && r.recording_sha256.is_some(),
    }
}

/// A record's "call me back" steps (C8): the offer and the kept place on the inbound call, a
/// try on each callback the hotline placed for it, tied together by the inbound call's name.
/// The same reading as the KPIs' (`shell::records::callback_events`).
fn callback_facts(r: &crate::call::record::CallRecord) -> Vec<CallbackFact> {
    use crate::outbound::dialler::Purpose;
    use crate::stats::kpi::Outcome;
    let events = crate::shell::records::callback_events(r);
    match &r.call.outbound {
        None => events
            .iter()
            .filter_map(|e| {
                match e.outcome {
                    Outcome::CallbackOffered => Some(CallbackStep::Offered),
                    Outcome::CallbackKept { .. } => Some(CallbackStep::Kept),
                    _ => None,
                }
                .map(|step| CallbackFact {
                    origin: r.call.id.clone(),
                    step,
                    at: e.at,
                })
            })
            .collect(),
        Some(o) if o.purpose == Purpose::CallMeBack => {
            let reached = events.iter().find_map(|e| match e.outcome {
                Outcome::CallbackReached { after } => Some(after),
                _ => None,
            });
            vec![CallbackFact {
                origin: o.reference.clone(),
                step: CallbackStep::Tried {
                    reached,
                    last: o.last_try,
                },
                at: r.call.connected_at.unwrap_or(r.ended_at),
            }]
        }
        Some(_) => Vec::new(),
    }
}

/// Rule by rule, for a day or a range of days: the value measured, the target, pass / fail
/// / not measurable (with why) and the ids of the calls or tickets that broke it
/// (`docs/CONFORMANCE.md`). Supervisors only.
#[utoipa::path(get, path = "/api/conformance", tag = "operations", params(ConformanceParams), security(("bearer" = [])),
    responses((status = 200, description = "C1–C16 and W1–W19 over the period", body = ConformanceReport), (status = 400, description = "Bad range", body = ApiError), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Needs a supervisor token", body = ApiError)))]
pub(crate) async fn conformance(
    State(api): State<StatsApi>,
    headers: HeaderMap,
    ApiQuery(p): ApiQuery<ConformanceParams>,
) -> Result<Json<ConformanceReport>, ApiError> {
    supervisor(&api.tickets, &headers, "the conformance report")?;
    let r = range(p.from, p.to, api.tickets.now())?;
    let (from, to) = (r.from, r.to);
    let records_at = api.records.clone();
    // The records read run to the end of the day after the period's last (UTC files):
    // C8 follows the places kept in the period through the next 24 h.
    let (calls, callbacks): (Vec<CallFact>, Vec<CallbackFact>) =
        tokio::task::spawn_blocking(move || {
            records_at.records_between(from, to).map(|rs| {
                (
                    rs.iter().map(fact).collect(),
                    rs.iter().flat_map(callback_facts).collect(),
                )
            })
        })
        .await
        .map_err(internal)?
        .map_err(internal)?;
    let (activity, (tickets, tickets_cut)) =
        crate::shell::period_tickets::read(api.tickets.worker().store_at(), move |s| {
            Ok((
                crate::shell::agent_activity::between(s, from, to)?,
                crate::shell::period_tickets::histories(s, from, to)?,
            ))
        })
        .await
        .map_err(internal)?;
    let now = api.tickets.now().with_timezone(&Utc);
    let report = crate::analytics::conformance::report(&crate::analytics::conformance::Inputs {
        from,
        to,
        now,
        grace: api.kpi.grace,
        calls: &calls,
        activity: &activity,
        tickets: &tickets,
        callbacks: &callbacks,
    });
    Ok(Json(ConformanceReport {
        from_day: r.from_day,
        to_day: r.to_day,
        report,
        tickets_cut,
    }))
}
