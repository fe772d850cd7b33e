//! `GET /api/stats/staffing`: agents needed per 15-minute interval of a day (Erlang C, see
//! `analytics::staffing`) beside the agents who were logged in. Reads the call records of the
//! past weeks and the day's agent activity, and hands the counts to the analytics room.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use chrono::{Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::analytics::staffing::{StaffingInput, StaffingInterval};
use crate::call::record::{CallOutcome, CallRecord};
use crate::cti::extract::ApiQuery;
use crate::cti::stats_api::{range, supervisor, StatsApi};
use crate::cti::ApiError;
use crate::outbound::dialler::Purpose;
use crate::stats::kpi::Outcome;

/// Query string of `GET /api/stats/staffing`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct StaffingParams {
    /// The day to plan, `YYYY-MM-DD` China time (default today).
    day: Option<NaiveDate>,
}

/// The day's staffing plan.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffingReport {
    pub day: NaiveDate,
    /// `erlang_c`: see `docs/KPI.md` for why.
    pub model: &'static str,
    /// Answer target, seconds (C2).
    pub target_s: f64,
    /// Share of callers to answer within the target (`kpi.staffing_level`).
    pub service_level: f64,
    /// Past weeks averaged (`kpi.staffing_weeks`).
    pub weeks: u32,
    /// Mean handle time used: talk (hold included) + wrap-up, seconds, over those weeks.
    pub aht_s: Option<f64>,
    pub intervals: Vec<StaffingInterval>,
}

/// When a caller asked for a person, for one who did (answered, gave up, refused, or kept
/// a place to be called back): the volume to staff for, counted in the quarter hour they
/// arrived in. The KPI event's own instant is the answer or the hang-up, which a long wait
/// moves into the next interval; and a caller who chose "call me back" is out of the KPIs'
/// rates but still needs an agent — leaving them out would plan fewer agents the week after
/// a surge, when more were needed.
fn arrival(r: &CallRecord) -> Option<chrono::DateTime<Utc>> {
    let asked = r.call.queued_at.unwrap_or(r.call.started_at);
    if r.call.outbound.is_none() && r.outcome == CallOutcome::CallbackRequested {
        return Some(asked);
    }
    let e = crate::shell::records::kpi_outcome(r)?;
    matches!(
        e.outcome,
        Outcome::Answered { .. } | Outcome::Abandoned { .. } | Outcome::Refused
    )
    .then_some(asked)
}

/// An agent's talk on a call and when it ended: answered inbound calls, and the callbacks a
/// kept place led to (the agent was on the line from the citizen's answer). Other outbound
/// calls (the robot's, ticket callbacks) are not the inbound load.
fn talk(r: &CallRecord) -> Option<(chrono::DateTime<Utc>, f64)> {
    if let Some(e) = crate::shell::records::handled(r) {
        return match e.outcome {
            Outcome::Handled { talk } => Some((e.at, talk.as_secs_f64())),
            _ => None,
        };
    }
    let o = r.call.outbound.as_ref()?;
    let connected = r.call.connected_at?;
    (o.purpose == Purpose::CallMeBack && !r.outcome.cut_by_engine_loss()).then(|| {
        (
            r.ended_at,
            (r.ended_at - connected).num_milliseconds() as f64 / 1000.0,
        )
    })
}

/// The plan for a day: volume per interval on the same weekday of the last weeks, handle
/// time over those weeks, agents logged in on the day (supervisors only).
#[utoipa::path(get, path = "/api/stats/staffing", tag = "operations", params(StaffingParams), security(("bearer" = [])),
    responses((status = 200, description = "96 intervals: forecast calls, Erlangs, agents needed (Erlang C), agents logged in", body = StaffingReport), (status = 400, description = "Bad day", body = ApiError), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Needs a supervisor token", body = ApiError)))]
pub(crate) async fn staffing(
    State(api): State<StatsApi>,
    headers: HeaderMap,
    ApiQuery(p): ApiQuery<StaffingParams>,
) -> Result<Json<StaffingReport>, ApiError> {
    supervisor(&api.tickets, &headers, "the staffing plan")?;
    let r = range(p.day, p.day, api.tickets.now())?;
    let weeks = api.kpi.staffing_weeks;
    let history_from = r.from - Duration::weeks(i64::from(weeks));
    let (day_start, day_end) = (r.from, r.to);
    let records_at = api.records.clone();
    let records =
        tokio::task::spawn_blocking(move || records_at.records_between(history_from, day_start))
            .await
            .map_err(crate::cti::stats_api::internal)?
            .map_err(crate::cti::stats_api::internal)?;
    let (history_activity, day_activity) =
        crate::shell::period_tickets::read(api.tickets.worker().store_at(), move |s| {
            Ok((
                crate::shell::agent_activity::between(s, history_from, day_start)?,
                crate::shell::agent_activity::between(s, day_start, day_end)?,
            ))
        })
        .await
        .map_err(crate::cti::stats_api::internal)?;
    let now = api.tickets.now().with_timezone(&Utc);
    let history =
        crate::analytics::staffing::history(records.iter().filter_map(arrival), day_start, weeks);
    let (talk_sum, talks) = records
        .iter()
        .filter_map(talk)
        .filter(|(at, _)| *at >= history_from && *at < day_start)
        .fold((0.0, 0u64), |(s, n), (_, t)| (s + t, n + 1));
    let past = crate::stats::agents::compute(&crate::stats::agents::Period {
        from: history_from,
        to: day_start,
        now,
        grace: api.kpi.grace,
        activity: &history_activity,
        calls: &[],
        tickets: &[],
    });
    let (wrap_sum, wraps) = past.agents.iter().fold((0.0, 0u64), |(s, n), a| {
        (s + a.handling.wrap_up_s, n + a.handling.wrap_ups)
    });
    let aht_s = (talks > 0).then(|| {
        talk_sum / talks as f64
            + if wraps > 0 {
                wrap_sum / wraps as f64
            } else {
                0.0
            }
    });
    let logged_in = crate::stats::agents::logged_in_by_interval(
        &day_activity,
        day_start,
        Duration::minutes(15),
        96,
        now,
    );
    let target_s = crate::stats::kpi::ANSWER_TARGET.as_secs_f64();
    let intervals = crate::analytics::staffing::plan(&StaffingInput {
        history,
        aht_s,
        target_s,
        level: api.kpi.staffing_level,
        max_agents: api.kpi.staffing_max_agents,
        logged_in,
    });
    Ok(Json(StaffingReport {
        day: r.from_day,
        model: "erlang_c",
        target_s,
        service_level: api.kpi.staffing_level,
        weeks,
        aht_s,
        intervals,
    }))
}
