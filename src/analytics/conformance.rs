//! The conformance report (`GET /api/conformance`): rule by rule of `../shared/STANDARD.md`
//! (C1–C16, W1–W19), the value measured over a period, the target, pass / fail /
//! not measurable (with why), and the ids of the calls or tickets that broke it. Fed the
//! period's calls, agent activity and ticket histories by the shell; reads nothing itself.
//! Definitions per rule: `docs/CONFORMANCE.md`.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};

pub use super::conformance_callbacks::{CallbackFact, CallbackStep, CALLBACK_LIMIT};
use super::deadlines::{walk, TicketFindings, TicketHistory};
use crate::stats::activity::{ActivityKind, AgentActivity};
use crate::stats::kpi::{Outcome, ANSWER_TARGET, CONNECTION_TARGET};

/// At most this many ids are listed per rule (the count says how many there were).
pub const MAX_LINKS: usize = 200;

/// The verdict on one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    /// No figure to hold the period against (the rule is a capability, enforced by the
    /// configuration, or nothing happened that it applies to): `reason` says which.
    NotMeasurable,
}

/// One rule's line of the report.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RuleResult {
    /// `C1` … `C16`, `W1` … `W19`.
    pub rule: &'static str,
    pub title: &'static str,
    pub target: &'static str,
    pub status: Status,
    /// The figures measured over the period (rule-specific fields).
    #[schema(value_type = Object)]
    pub measured: Value,
    /// Why it is not measurable, or how it is checked when it is enforced rather than measured.
    pub reason: Option<String>,
    /// How many calls or tickets broke it.
    pub breaches: u64,
    /// The calls that broke it (their public names), at most [`MAX_LINKS`].
    pub calls: Vec<String>,
    /// The tickets that broke it, at most [`MAX_LINKS`].
    pub tickets: Vec<String>,
}

impl RuleResult {
    pub(super) fn new(rule: &'static str, title: &'static str, target: &'static str) -> Self {
        RuleResult {
            rule,
            title,
            target,
            status: Status::NotMeasurable,
            measured: json!({}),
            reason: None,
            breaches: 0,
            calls: Vec::new(),
            tickets: Vec::new(),
        }
    }

    fn unmeasurable(mut self, reason: &str) -> Self {
        self.status = Status::NotMeasurable;
        self.reason = Some(reason.to_string());
        self
    }

    /// Enforced by the configuration (the engine refuses to start otherwise).
    fn enforced(mut self, how: &str) -> Self {
        self.status = Status::Pass;
        self.reason = Some(format!("enforced: {how}"));
        self
    }

    /// Pass when nothing broke it, fail otherwise; not measurable when `applicable` is 0.
    fn judged(mut self, applicable: u64, measured: Value, what: &str) -> Self {
        self.measured = measured;
        if applicable == 0 {
            self.status = Status::NotMeasurable;
            self.reason = Some(format!("no {what} in the period"));
        } else {
            self.status = if self.breaches == 0 {
                Status::Pass
            } else {
                Status::Fail
            };
        }
        self
    }

    pub(super) fn call(&mut self, id: &str) {
        self.breaches += 1;
        if self.calls.len() < MAX_LINKS {
            self.calls.push(id.to_string());
        }
    }
}

/// One finished call as the report needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct CallFact {
    /// The call's public name.
    pub id: String,
    /// What it means to C2/C3 (`None`: it never asked for a person).
    pub outcome: Option<Outcome>,
    /// The outcome's instant (the answer, the abandon), else the call's end.
    pub at: DateTime<Utc>,
    /// A person answered it (C9: then it must be recorded).
    pub answered: bool,
    /// Its recording was closed and hashed.
    pub recorded: bool,
}

/// What the report is computed from.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub now: DateTime<Utc>,
    /// `kpi.grace`: short abandons left out of C3, as the live KPI does.
    pub grace: Duration,
    pub calls: &'a [CallFact],
    /// Facts in time order: each agent's last state fact before `from`, then the period's.
    pub activity: &'a [AgentActivity],
    /// Tickets with any event that may bear on the period (received up to months before).
    pub tickets: &'a [TicketHistory],
    /// "Call me back" steps of the period and of the day after it (C8 follows the places
    /// kept in the period to their outcome).
    pub callbacks: &'a [CallbackFact],
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Conformance {
    #[serde(serialize_with = "crate::china_time::serialize")]
    pub from: DateTime<Utc>,
    #[serde(serialize_with = "crate::china_time::serialize")]
    pub to: DateTime<Utc>,
    pub rules: Vec<RuleResult>,
    pub passed: u64,
    pub failed: u64,
    pub not_measurable: u64,
}

fn in_period(i: &Inputs<'_>, at: DateTime<Utc>) -> bool {
    at >= i.from && at < i.to
}

fn ratio(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

/// C1: stretches of the period (up to now) when no agent was logged in.
fn c1(i: &Inputs<'_>) -> RuleResult {
    let mut r = RuleResult::new(
        "C1",
        "phone channel staffed by people 7×24",
        "an agent logged in at every moment",
    );
    let end = i.to.min(i.now);
    let states: Vec<&AgentActivity> = i
        .activity
        .iter()
        .filter(|a| matches!(a.kind, ActivityKind::State { .. }))
        .collect();
    if states.is_empty() || end <= i.from {
        return r.unmeasurable("no agent activity recorded for the period (kept since issue 17)");
    }
    let mut logged: BTreeMap<&str, bool> = BTreeMap::new();
    let mut gap_since: Option<DateTime<Utc>> = Some(i.from);
    let mut gaps: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    let mut close = |since: DateTime<Utc>, until: DateTime<Utc>| {
        let (a, b) = (since.max(i.from), until.min(end));
        if b > a {
            gaps.push((a, b));
        }
    };
    for a in states {
        if let ActivityKind::State { state, .. } = &a.kind {
            logged.insert(&a.agent, state != "logged_out");
        }
        let anyone = logged.values().any(|v| *v);
        match (anyone, gap_since) {
            (true, Some(since)) => {
                close(since, a.at);
                gap_since = None;
            }
            (false, None) => gap_since = Some(a.at),
            _ => {}
        }
    }
    if let Some(since) = gap_since {
        close(since, end);
    }
    let unstaffed_s: f64 = gaps
        .iter()
        .map(|(a, b)| (*b - *a).num_milliseconds() as f64 / 1000.0)
        .sum();
    r.breaches = gaps.len() as u64;
    r.status = if gaps.is_empty() {
        Status::Pass
    } else {
        Status::Fail
    };
    let china = crate::workflow::model::china();
    r.measured = json!({
        "unstaffed_s": unstaffed_s,
        "unstaffed": gaps.iter().take(MAX_LINKS).map(|(a, b)| json!({
            "from": a.with_timezone(&china).to_rfc3339(),
            "to": b.with_timezone(&china).to_rfc3339(),
        })).collect::<Vec<_>>(),
    });
    r
}

/// C2: callers answered within 15 s; the longest wait; the callers who waited longer.
fn c2(i: &Inputs<'_>) -> RuleResult {
    let mut r = RuleResult::new(
        "C2",
        "wait before a person answers, once the caller asked for one",
        "≤ 15 s for every caller",
    );
    let (mut asked, mut within, mut answered) = (0u64, 0u64, 0u64);
    let mut longest = Duration::ZERO;
    for c in i.calls.iter().filter(|c| in_period(i, c.at)) {
        let wait = match c.outcome {
            Some(Outcome::Answered { wait }) => {
                answered += 1;
                if wait <= ANSWER_TARGET {
                    within += 1;
                }
                wait
            }
            Some(Outcome::Abandoned { wait }) => wait,
            _ => continue,
        };
        asked += 1;
        longest = longest.max(wait);
        if wait > ANSWER_TARGET {
            r.call(&c.id);
        }
    }
    let measured = json!({
        "asked_for_a_person": asked,
        "answered": answered,
        "answered_within_15s": within,
        "answer_rate_15s": ratio(within, asked),
        "longest_wait_s": (asked > 0).then_some(longest.as_secs_f64()),
        "waited_over_15s": r.breaches,
    });
    r.judged(asked, measured, "caller asked for a person")
}

/// C3: the worst connection rate over any continuous 24 h (whole minutes) inside the period.
fn c3(i: &Inputs<'_>) -> RuleResult {
    let mut r = RuleResult::new(
        "C3",
        "call connection rate over any continuous 24 h",
        "≥ 95 % in every 24 h window",
    );
    let minute = |t: DateTime<Utc>| t.timestamp().div_euclid(60);
    let (m0, m1) = (minute(i.from), minute(i.to).max(minute(i.from) + 1));
    let n = (m1 - m0) as usize;
    // Per minute: (counted, connected).
    let mut per = vec![(0u64, 0u64); n];
    let mut counted = 0u64;
    for c in i.calls.iter().filter(|c| in_period(i, c.at)) {
        let connected = match c.outcome {
            Some(Outcome::Answered { .. }) => true,
            Some(Outcome::Abandoned { wait }) if wait >= i.grace => false,
            Some(Outcome::Refused) => false,
            _ => continue,
        };
        let k = (minute(c.at) - m0) as usize;
        per[k].0 += 1;
        per[k].1 += u64::from(connected);
        counted += 1;
    }
    if counted == 0 {
        return r.judged(0, json!({ "counted": 0 }), "counted call");
    }
    let mut prefix = vec![(0u64, 0u64); n + 1];
    for k in 0..n {
        prefix[k + 1] = (prefix[k].0 + per[k].0, prefix[k].1 + per[k].1);
    }
    let window = n.min(24 * 60);
    // The worst window with at least one counted call (ties: the earliest).
    let mut worst: Option<(f64, usize, u64, u64)> = None;
    for s in 0..=(n - window) {
        let c = prefix[s + window].0 - prefix[s].0;
        if c == 0 {
            continue;
        }
        let ok = prefix[s + window].1 - prefix[s].1;
        let rate = ok as f64 / c as f64;
        if worst.is_none_or(|w| rate < w.0) {
            worst = Some((rate, s, c, ok));
        }
    }
    let Some((rate, s, c, ok)) = worst else {
        return r.judged(0, json!({ "counted": 0 }), "counted call");
    };
    let start = i.from + chrono::Duration::minutes(s as i64);
    let stop = start + chrono::Duration::minutes(window as i64);
    for call in i.calls.iter().filter(|x| x.at >= start && x.at < stop) {
        let lost = match call.outcome {
            Some(Outcome::Abandoned { wait }) => wait >= i.grace,
            Some(Outcome::Refused) => true,
            _ => false,
        };
        if lost {
            r.call(&call.id);
        }
    }
    let china = crate::workflow::model::china();
    let overall = prefix[n].1 as f64 / prefix[n].0 as f64;
    r.measured = json!({
        "worst_24h_rate": rate,
        "worst_window": {
            "from": start.with_timezone(&china).to_rfc3339(),
            "to": stop.with_timezone(&china).to_rfc3339(),
            "counted": c,
            "connected": ok,
        },
        "window_minutes": window,
        "period_rate": overall,
        "counted": counted,
    });
    if window < 24 * 60 {
        r.reason = Some("the period is shorter than 24 h: the whole period is the window".into());
    }
    r.status = if rate >= CONNECTION_TARGET {
        Status::Pass
    } else {
        Status::Fail
    };
    r
}

/// C9: every answered call recorded.
fn c9(i: &Inputs<'_>) -> RuleResult {
    let mut r = RuleResult::new(
        "C9",
        "recording of every call",
        "every answered call recorded",
    );
    let answered: Vec<&CallFact> = i
        .calls
        .iter()
        .filter(|c| c.answered && in_period(i, c.at))
        .collect();
    for c in &answered {
        if !c.recorded {
            r.call(&c.id);
        }
    }
    let n = answered.len() as u64;
    let measured = json!({ "answered": n, "recorded": n - r.breaches });
    r.judged(n, measured, "answered call")
}

/// Builds the report.
pub fn report(i: &Inputs<'_>) -> Conformance {
    let findings: Vec<(&TicketHistory, TicketFindings)> =
        i.tickets.iter().map(|t| (t, walk(t))).collect();
    let mut rules = vec![
        c1(i),
        c2(i),
        c3(i),
        RuleResult::new("C4", "IVR for first triage", "≤ 2 menu levels, no advertising")
            .enforced("the menu loader refuses deeper menus and advertising (docs/IVR.md); the engine does not start otherwise"),
        RuleResult::new("C5", "self-service always offers a person", "a human option on every menu level")
            .enforced("the menu loader refuses a level without a way to a person"),
        RuleResult::new("C6", "special seats", "an enterprise service seat")
            .enforced("the ACD configuration is refused without an enterprise queue and skill"),
        RuleResult::new("C7", "voice navigation may schedule queues", "—")
            .unmeasurable("a capability without a figure (IVR → queue mapping)"),
        super::conformance_callbacks::c8(i),
        c9(i),
        RuleResult::new("C10", "agent assist (optional)", "—")
            .unmeasurable("optional, no figure"),
        RuleResult::new("C11", "three-way transfer and special-seat collaboration", "—")
            .unmeasurable("a capability without a figure"),
    ];
    rules.extend(super::conformance_tickets::ticket_rules(i, &findings));
    let count = |s: Status| rules.iter().filter(|r| r.status == s).count() as u64;
    Conformance {
        from: i.from,
        to: i.to,
        passed: count(Status::Pass),
        failed: count(Status::Fail),
        not_measurable: count(Status::NotMeasurable),
        rules,
    }
}

#[cfg(test)]
#[path = "conformance_tests.rs"]
mod tests;
