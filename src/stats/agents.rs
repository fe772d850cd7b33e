//! Per-agent and per-queue statistics over a period (`GET /api/stats/agents`,
//! `/api/stats/queues`), from the agents' activity facts, the calls' KPI outcomes and the
//! tickets each agent wrote. Definitions in `docs/KPI.md` ("Agent and queue statistics").
//!
//! Time in a state is the part of each interval between two facts that falls inside the
//! period (and before `now`): an agent already talking at midnight counts only the minutes
//! after it. Reads no clock: the period and `now` are arguments.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::activity::{ActivityKind, AgentActivity};
use super::kpi::{KpiEvent, Rates};

/// Tickets an agent created and closed in the period (from the ticket event logs).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TicketTally {
    pub agent: String,
    /// `created` events, and call drafts `completed`, by the agent.
    pub created: u64,
    /// Tickets the agent's own action closed: answered directly (直接办结), refused,
    /// an emergency link's result, linked as a repeat, a callback the citizen declined.
    pub closed: u64,
}

/// Time totals (seconds) and counts one agent or one queue gathers.
#[derive(Debug, Clone, PartialEq, Default, Serialize, utoipa::ToSchema)]
pub struct Handling {
    /// Rings of an agent's phone for a call (entries into `reserved`).
    pub offered: u64,
    /// Rings answered (entries into `talking`).
    pub answered: u64,
    /// Rings that ran out without an answer (`reserved` → `not_ready`/`no_answer`).
    pub ring_no_answer: u64,
    /// Seconds talking (hold included), and the number of talks it is spread over.
    pub talk_s: f64,
    pub talks: u64,
    /// `talk_s / talks`.
    pub avg_talk_s: Option<f64>,
    /// Seconds the caller was on hold, and the mean per talk.
    pub hold_s: f64,
    pub avg_hold_s: Option<f64>,
    /// Seconds in wrap-up, over `wrap_ups` wrap-ups.
    pub wrap_up_s: f64,
    pub wrap_ups: u64,
    pub avg_wrap_up_s: Option<f64>,
    /// Web items (internet requests) accepted from a web queue.
    pub web_items: u64,
}

impl Handling {
    fn finish(&mut self) {
        let avg = |s: f64, n: u64| (n > 0).then(|| s / n as f64);
        self.avg_talk_s = avg(self.talk_s, self.talks);
        self.avg_hold_s = avg(self.hold_s, self.talks);
        self.avg_wrap_up_s = avg(self.wrap_up_s, self.wrap_ups);
    }
}

/// One agent's figures for the period.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AgentStats {
    pub agent: String,
    #[serde(flatten)]
    pub handling: Handling,
    /// Seconds logged in (any state but `logged_out`).
    pub logged_in_s: f64,
    pub ready_s: f64,
    /// Seconds rung (`reserved`) and assisting another agent's call.
    pub ringing_s: f64,
    pub assisting_s: f64,
    /// Seconds not ready, in total and by reason (`break`, `meal`, `no_answer`, …).
    pub not_ready_s: f64,
    pub not_ready_by_reason: BTreeMap<String, f64>,
    /// (ringing + talking + assisting + wrap-up) ÷ (that + ready): the share of available
    /// time spent on calls; `null` with no available time.
    pub occupancy: Option<f64>,
    pub tickets_created: u64,
    pub tickets_closed: u64,
    /// The queues whose calls or web items the agent rang for, talked on, wrapped up or took
    /// in the period (what a queue filter selects agents by), sorted.
    pub queues: Vec<String>,
}

/// One queue's figures for the period.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QueueStats {
    pub queue: String,
    /// Callers who asked for a person in this queue, as the KPIs count them (`docs/KPI.md`).
    pub calls: Rates,
    /// The agents' side: rings, answers, ring-no-answer, talk, hold and wrap-up of this
    /// queue's calls, web items taken from it.
    #[serde(flatten)]
    pub handling: Handling,
}

#[derive(Debug, Default)]
struct AgentAcc {
    handling: Handling,
    by_state: BTreeMap<String, f64>,
    not_ready: BTreeMap<String, f64>,
    served: std::collections::BTreeSet<String>,
}

/// Where an agent stands while walking its facts.
#[derive(Debug, Clone)]
struct Cursor {
    state: String,
    reason: Option<String>,
    queue: Option<String>,
    since: DateTime<Utc>,
    hold_since: Option<DateTime<Utc>>,
}

/// Seconds of `[a, b)` inside `[from, to)`.
fn overlap(a: DateTime<Utc>, b: DateTime<Utc>, from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    let start = a.max(from);
    let end = b.min(to);
    if end <= start {
        0.0
    } else {
        (end - start).num_milliseconds() as f64 / 1000.0
    }
}

/// States spent on a call (for its queue).
fn busy(state: &str) -> bool {
    matches!(state, "reserved" | "talking" | "assisting" | "wrap_up")
}

/// Everything the period's figures are computed from.
#[derive(Debug, Clone, Copy)]
pub struct Period<'a> {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Time beyond `now` is not counted (a period that includes the present).
    pub now: DateTime<Utc>,
    /// Abandons shorter than this are left out of the rates (`kpi.abandon_grace`).
    pub grace: std::time::Duration,
    /// Facts in time order: each agent's last state fact before `from`, then `[from, to)`.
    pub activity: &'a [AgentActivity],
    /// The calls' outcomes whose instant falls in the period.
    pub calls: &'a [KpiEvent],
    pub tickets: &'a [TicketTally],
}

/// Both tables for one period.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PeriodStats {
    pub agents: Vec<AgentStats>,
    pub queues: Vec<QueueStats>,
}

fn queue_acc<'m>(
    m: &'m mut BTreeMap<String, Handling>,
    q: &Option<String>,
) -> Option<&'m mut Handling> {
    q.as_ref().map(|q| m.entry(q.clone()).or_default())
}

/// Computes the per-agent and per-queue figures.
pub fn compute(p: &Period<'_>) -> PeriodStats {
    let end = p.to.min(p.now);
    let mut agents: BTreeMap<String, AgentAcc> = BTreeMap::new();
    let mut queues: BTreeMap<String, Handling> = BTreeMap::new();
    let mut cursors: BTreeMap<String, Cursor> = BTreeMap::new();

    // Closes the interval an agent spent in its current state, up to `at`.
    let close = |acc: &mut AgentAcc,
                 queues: &mut BTreeMap<String, Handling>,
                 c: &Cursor,
                 at: DateTime<Utc>| {
        let secs = overlap(c.since, at, p.from, end);
        *acc.by_state.entry(c.state.clone()).or_default() += secs;
        if let (true, Some(q)) = (secs > 0.0 && busy(&c.state), &c.queue) {
            acc.served.insert(q.clone());
        }
        match c.state.as_str() {
            "not_ready" => {
                let reason = c.reason.clone().unwrap_or_else(|| "unspecified".into());
                *acc.not_ready.entry(reason).or_default() += secs;
            }
            "talking" => {
                acc.handling.talk_s += secs;
                if let Some(q) = queue_acc(queues, &c.queue) {
                    q.talk_s += secs;
                }
            }
            "wrap_up" => {
                acc.handling.wrap_up_s += secs;
                if let Some(q) = queue_acc(queues, &c.queue) {
                    q.wrap_up_s += secs;
                }
            }
            _ => {}
        }
        if let Some(h) = c.hold_since {
            let secs = overlap(h, at, p.from, end);
            acc.handling.hold_s += secs;
            if let Some(q) = queue_acc(queues, &c.queue) {
                q.hold_s += secs;
            }
        }
    };

    for a in p.activity {
        let acc = agents.entry(a.agent.clone()).or_default();
        let in_period = a.at >= p.from && a.at < end;
        match &a.kind {
            ActivityKind::State { state, reason } => {
                let prev = cursors.remove(&a.agent);
                if let Some(c) = &prev {
                    close(acc, &mut queues, c, a.at);
                }
                // A wrap-up belongs to the queue of the talk before it (its call may be gone).
                let queue = match (state.as_str(), &prev) {
                    ("wrap_up", Some(c)) if a.queue.is_none() => c.queue.clone(),
                    _ => a.queue.clone(),
                };
                if in_period {
                    let prev_state = prev.as_ref().map(|c| c.state.as_str());
                    let mut q = queue_acc(&mut queues, &queue);
                    let mut bump = |f: fn(&mut Handling)| {
                        f(&mut acc.handling);
                        if let Some(q) = q.as_deref_mut() {
                            f(q);
                        }
                    };
                    match state.as_str() {
                        "reserved" => bump(|h| h.offered += 1),
                        "talking" => bump(|h| {
                            h.answered += 1;
                            h.talks += 1
                        }),
                        "wrap_up" => bump(|h| h.wrap_ups += 1),
                        "not_ready"
                            if prev_state == Some("reserved")
                                && reason.as_deref() == Some("no_answer") =>
                        {
                            // The ring's queue is the one the cursor carried.
                            acc.handling.ring_no_answer += 1;
                            if let Some(q) =
                                queue_acc(&mut queues, &prev.as_ref().and_then(|c| c.queue.clone()))
                            {
                                q.ring_no_answer += 1;
                            }
                        }
                        _ => {}
                    }
                } else if state == "talking" && a.at < p.from {
                    // Already talking when the period began: that talk is counted here too.
                    acc.handling.talks += 1;
                    if let Some(q) = queue_acc(&mut queues, &queue) {
                        q.talks += 1;
                    }
                } else if state == "wrap_up" && a.at < p.from {
                    acc.handling.wrap_ups += 1;
                    if let Some(q) = queue_acc(&mut queues, &queue) {
                        q.wrap_ups += 1;
                    }
                }
                // Served: a state on one of the queue's calls entered in the period (one
                // carried in from before is counted when its time in the period is closed).
                if let (true, Some(q), true) = (in_period, &queue, busy(state)) {
                    acc.served.insert(q.clone());
                }
                // Hold lasts while the agent talks (a hung-up or transferred call ends it).
                let hold_since = match (state.as_str(), &prev) {
                    ("talking", Some(c)) => c.hold_since,
                    _ => None,
                };
                cursors.insert(
                    a.agent.clone(),
                    Cursor {
                        state: state.clone(),
                        reason: reason.clone(),
                        queue,
                        since: a.at,
                        hold_since,
                    },
                );
            }
            ActivityKind::Hold { on } => {
                if let Some(c) = cursors.get_mut(&a.agent) {
                    match (on, c.hold_since) {
                        (true, None) if c.state == "talking" => c.hold_since = Some(a.at),
                        (false, Some(h)) => {
                            let secs = overlap(h, a.at, p.from, end);
                            acc.handling.hold_s += secs;
                            if let Some(q) = queue_acc(&mut queues, &c.queue) {
                                q.hold_s += secs;
                            }
                            c.hold_since = None;
                        }
                        _ => {}
                    }
                }
            }
            ActivityKind::WebItem { .. } => {
                if in_period {
                    acc.handling.web_items += 1;
                    if let Some(q) = &a.queue {
                        acc.served.insert(q.clone());
                    }
                    if let Some(q) = queue_acc(&mut queues, &a.queue) {
                        q.web_items += 1;
                    }
                }
            }
        }
    }
    for (agent, c) in &cursors {
        if let Some(acc) = agents.get_mut(agent) {
            close(acc, &mut queues, c, end);
        }
    }

    for t in p.tickets {
        agents.entry(t.agent.clone()).or_default();
    }
    let tallies: BTreeMap<&str, &TicketTally> =
        p.tickets.iter().map(|t| (t.agent.as_str(), t)).collect();
    let agents = agents
        .into_iter()
        .map(|(agent, mut acc)| {
            acc.handling.finish();
            let s = |k: &str| acc.by_state.get(k).copied().unwrap_or(0.0);
            let busy = s("reserved") + s("talking") + s("assisting") + s("wrap_up");
            let available = busy + s("ready");
            let tally = tallies.get(agent.as_str());
            AgentStats {
                logged_in_s: acc
                    .by_state
                    .iter()
                    .filter(|(k, _)| k.as_str() != "logged_out")
                    .map(|(_, v)| v)
                    .sum(),
                ready_s: s("ready"),
                ringing_s: s("reserved"),
                assisting_s: s("assisting"),
                not_ready_s: s("not_ready"),
                not_ready_by_reason: acc.not_ready,
                occupancy: (available > 0.0).then(|| busy / available),
                tickets_created: tally.map_or(0, |t| t.created),
                tickets_closed: tally.map_or(0, |t| t.closed),
                queues: acc.served.into_iter().collect(),
                handling: acc.handling,
                agent,
            }
        })
        .collect();

    let mut calls: BTreeMap<String, Vec<KpiEvent>> = BTreeMap::new();
    for e in p.calls {
        if let Some(q) = &e.queue {
            if e.at >= p.from && e.at < p.to {
                calls.entry(q.clone()).or_default().push(e.clone());
            }
        }
    }
    let names: std::collections::BTreeSet<String> =
        queues.keys().chain(calls.keys()).cloned().collect();
    let queues = names
        .into_iter()
        .map(|q| {
            let mut handling = queues.remove(&q).unwrap_or_default();
            handling.finish();
            let events = calls.remove(&q).unwrap_or_default();
            QueueStats {
                calls: super::kpi::tally(&events, p.grace),
                handling,
                queue: q,
            }
        })
        .collect();
    PeriodStats { agents, queues }
}

/// Agents logged in on average over each of `n` intervals of `step` from `from` (the share
/// of the interval each agent was in any state but `logged_out`); `None` for intervals not
/// begun by `now`. The interval under way is averaged over its part up to `now`: its rest
/// has not happened, and counting it as "nobody" would show a shortfall that is not there.
/// `activity` as in [`Period`].
pub fn logged_in_by_interval(
    activity: &[AgentActivity],
    from: DateTime<Utc>,
    step: chrono::Duration,
    n: usize,
    now: DateTime<Utc>,
) -> Vec<Option<f64>> {
    let mut secs = vec![0.0; n];
    let end = from + step * n as i32;
    let mut open: BTreeMap<&str, (bool, DateTime<Utc>)> = BTreeMap::new();
    let step_ms = step.num_milliseconds().max(1);
    let mut add = |logged_in: bool, a: DateTime<Utc>, b: DateTime<Utc>| {
        if !logged_in || b <= from || a >= end {
            return;
        }
        // Only the intervals the stretch touches.
        let first = ((a.max(from) - from).num_milliseconds() / step_ms) as usize;
        let last = (((b.min(end) - from).num_milliseconds() - 1) / step_ms) as usize;
        for (i, s) in secs.iter_mut().enumerate().take(last + 1).skip(first) {
            let start = from + step * i as i32;
            *s += overlap(a, b, start, (start + step).min(now));
        }
    };
    for a in activity {
        if let ActivityKind::State { state, .. } = &a.kind {
            if let Some((on, since)) = open.get(a.agent.as_str()) {
                add(*on, *since, a.at);
            }
            open.insert(&a.agent, (state != "logged_out", a.at));
        }
    }
    for (on, since) in open.values() {
        add(*on, *since, end.min(now));
    }
    secs.into_iter()
        .enumerate()
        .map(|(i, s)| {
            let start = from + step * (i as i32);
            let len = ((start + step).min(now) - start).num_milliseconds() as f64 / 1000.0;
            (start < now).then(|| s / len)
        })
        .collect()
}

fn num(v: f64) -> String {
    format!("{v:.1}")
}

fn opt(v: Option<f64>) -> String {
    v.map(num).unwrap_or_default()
}

/// The agents' table as CSV: every field of the JSON row, one row per agent (not-ready by
/// reason as `reason=seconds` pairs and the queues served separated by `;`). Columns added
/// later go at the end, so a spreadsheet built on the first ones keeps working.
pub fn agents_csv(rows: &[AgentStats]) -> String {
    let mut out = String::from(
        "agent,offered,answered,ring_no_answer,talk_s,avg_talk_s,hold_s,avg_hold_s,wrap_up_s,avg_wrap_up_s,logged_in_s,ready_s,not_ready_s,not_ready_by_reason,occupancy,web_items,tickets_created,tickets_closed,talks,wrap_ups,ringing_s,assisting_s,queues\n",
    );
    for r in rows {
        let h = &r.handling;
        let reasons: Vec<String> = r
            .not_ready_by_reason
            .iter()
            .map(|(k, v)| format!("{}={}", k, num(*v)))
            .collect();
        let fields = [
            csv_field(&r.agent),
            h.offered.to_string(),
            h.answered.to_string(),
            h.ring_no_answer.to_string(),
            num(h.talk_s),
            opt(h.avg_talk_s),
            num(h.hold_s),
            opt(h.avg_hold_s),
            num(h.wrap_up_s),
            opt(h.avg_wrap_up_s),
            num(r.logged_in_s),
            num(r.ready_s),
            num(r.not_ready_s),
            csv_field(&reasons.join(";")),
            ratio(r.occupancy),
            h.web_items.to_string(),
            r.tickets_created.to_string(),
            r.tickets_closed.to_string(),
            h.talks.to_string(),
            h.wrap_ups.to_string(),
            num(r.ringing_s),
            num(r.assisting_s),
            csv_field(&r.queues.join(";")),
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

fn ratio(v: Option<f64>) -> String {
    v.map(|o| format!("{o:.4}")).unwrap_or_default()
}

/// The queues' table as CSV: every field of the JSON row (`offered`… are the callers',
/// `rings`, `rings_answered`… the agents' side), one row per queue.
pub fn queues_csv(rows: &[QueueStats]) -> String {
    let mut out = String::from(
        "queue,offered,answered,answered_within_15s,abandoned,abandoned_in_grace,connection_rate,answer_rate_15s,avg_wait_s,max_wait_s,rings,ring_no_answer,talk_s,avg_talk_s,hold_s,avg_hold_s,wrap_up_s,avg_wrap_up_s,web_items,rings_answered,talks,wrap_ups,refused_no_capacity,waited_over_15s,counted,avg_handle_s,callbacks_offered,callbacks_kept,callbacks_reached,callbacks_given_up,avg_time_to_callback_s\n",
    );
    for r in rows {
        let (c, h) = (&r.calls, &r.handling);
        let fields = [
            csv_field(&r.queue),
            c.offered.to_string(),
            c.answered.to_string(),
            c.answered_within_15s.to_string(),
            c.abandoned.to_string(),
            c.abandoned_in_grace.to_string(),
            ratio(c.connection_rate),
            ratio(c.answer_rate_15s),
            opt(c.avg_wait_s),
            opt(c.max_wait_s),
            h.offered.to_string(),
            h.ring_no_answer.to_string(),
            num(h.talk_s),
            opt(h.avg_talk_s),
            num(h.hold_s),
            opt(h.avg_hold_s),
            num(h.wrap_up_s),
            opt(h.avg_wrap_up_s),
            h.web_items.to_string(),
            h.answered.to_string(),
            h.talks.to_string(),
            h.wrap_ups.to_string(),
            c.refused_no_capacity.to_string(),
            c.waited_over_15s.to_string(),
            c.counted.to_string(),
            opt(c.avg_handle_s),
            c.callbacks.offered.to_string(),
            c.callbacks.kept.to_string(),
            c.callbacks.reached.to_string(),
            c.callbacks.given_up.to_string(),
            opt(c.callbacks.avg_time_to_callback_s),
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

/// Quotes a field that holds a comma, a quote or a line break; a leading `=`, `+`, `-` or `@`
/// is prefixed with `'` so a spreadsheet does not run it as a formula.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
#[path = "agents_tests.rs"]
mod tests;
