//! The conformance report's rules measured on tickets (C12, C13, C15 and W1–W19): what each
//! ticket's walked log (`deadlines::walk`) says, gathered over the period.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::conformance::{Inputs, RuleResult, Status};
use super::deadlines::{DeadlineRule, TicketFindings, TicketHistory};

type Findings<'a> = [(&'a TicketHistory, TicketFindings)];

fn in_period(i: &Inputs<'_>, at: chrono::DateTime<chrono::Utc>) -> bool {
    at >= i.from && at < i.to
}

/// A deadline rule: every deadline that fell due in the period (and before now), met in time
/// or not, overall and per unit.
fn deadline_rule(
    i: &Inputs<'_>,
    findings: &Findings<'_>,
    mut r: RuleResult,
    rule: DeadlineRule,
) -> RuleResult {
    let (mut due, mut on_time) = (0u64, 0u64);
    let mut by_unit: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (_, f) in findings {
        for d in f.deadlines.iter().filter(|d| d.rule == rule) {
            if !in_period(i, d.due) || d.due > i.now {
                continue;
            }
            due += 1;
            let ok = d.on_time();
            if ok {
                on_time += 1;
            } else {
                r_ticket(&mut r, &d.ticket);
            }
            if let Some(u) = &d.unit {
                let e = by_unit.entry(u.clone()).or_default();
                e.0 += 1;
                e.1 += u64::from(ok);
            }
        }
    }
    let units: Vec<Value> = by_unit
        .iter()
        .map(|(u, (n, ok))| json!({"unit": u, "due": n, "on_time": ok, "rate": *ok as f64 / *n as f64}))
        .collect();
    let measured = json!({
        "due": due,
        "on_time": on_time,
        "late_or_missed": due - on_time,
        "rate": (due > 0).then(|| on_time as f64 / due as f64),
        "by_unit": units,
    });
    judge(&mut r, due, measured, "deadline fell due");
    r
}

fn r_ticket(r: &mut RuleResult, id: &str) {
    r.breaches += 1;
    if r.tickets.len() < super::conformance::MAX_LINKS && !r.tickets.iter().any(|t| t == id) {
        r.tickets.push(id.to_string());
    }
}

fn judge(r: &mut RuleResult, applicable: u64, measured: Value, what: &str) {
    r.measured = measured;
    if applicable == 0 {
        r.status = Status::NotMeasurable;
        r.reason = Some(format!("no {what} in the period"));
    } else {
        r.status = if r.breaches == 0 {
            Status::Pass
        } else {
            Status::Fail
        };
    }
}

fn rule(id: &'static str, title: &'static str, target: &'static str) -> RuleResult {
    RuleResult {
        rule: id,
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

fn note(mut r: RuleResult, status: Status, reason: &str, measured: Value) -> RuleResult {
    r.status = status;
    r.reason = Some(reason.to_string());
    r.measured = measured;
    r
}

/// Counts `(ticket, at, broke)` facts that fall in the period into a rule.
fn facts<'a>(
    i: &Inputs<'_>,
    mut r: RuleResult,
    items: impl Iterator<Item = (&'a str, chrono::DateTime<chrono::Utc>, bool)>,
    what: &str,
) -> RuleResult {
    let mut n = 0u64;
    for (id, at, broke) in items {
        if in_period(i, at) {
            n += 1;
            if broke {
                r_ticket(&mut r, id);
            }
        }
    }
    let measured = json!({ "counted": n, "broken": r.breaches });
    judge(&mut r, n, measured, what);
    r
}

/// C12–C16 and W1–W19.
pub fn ticket_rules(i: &Inputs<'_>, findings: &Findings<'_>) -> Vec<RuleResult> {
    let mut out = Vec::new();

    // C12: linkages and how long after receipt.
    let mut secs: Vec<i64> = findings
        .iter()
        .flat_map(|(_, f)| f.linkages.iter())
        .filter(|(at, _)| in_period(i, *at))
        .filter_map(|(_, s)| *s)
        .collect();
    secs.sort_unstable();
    let linkages = findings
        .iter()
        .flat_map(|(_, f)| f.linkages.iter())
        .filter(|(at, _)| in_period(i, *at))
        .count();
    out.push(note(
        rule("C12", "urgent requests linked immediately to 110/119/120/122 and utilities", "immediately"),
        Status::NotMeasurable,
        "the standard says \"immediately\" without a number: the linkages' delays are shown for judgement",
        json!({
            "linkages": linkages,
            "max_after_s": secs.last(),
            "median_after_s": (!secs.is_empty()).then(|| secs[secs.len() / 2]),
        }),
    ));

    // C13: internet requests responded to within 3 minutes.
    let mut c13 = rule("C13", "internet channel response time", "≤ 3 min");
    let mut resp = crate::workflow::store::InternetResponse::default();
    let now = i.now.with_timezone(&crate::workflow::model::china());
    for (t, _) in findings {
        let received = t.received_at.with_timezone(&chrono::Utc);
        if t.channel.is_internet() && in_period(i, received) {
            let before = resp.late;
            resp.count(t.received_at, t.responded_at, now);
            if resp.late > before {
                r_ticket(&mut c13, &t.id);
            }
        }
    }
    let decided = resp.within_3_min + resp.late;
    let measured = serde_json::to_value(resp).unwrap_or_default();
    judge(&mut c13, decided, measured, "internet request decided");
    out.push(c13);

    out.push(
        rule(
            "C14",
            "one number: unified access, queueing, routing, recording, callback",
            "—",
        )
        .with_reason("the engine as a whole; C2, C3, C9 and W13 carry its figures"),
    );
    let mut by_channel: BTreeMap<String, u64> = BTreeMap::new();
    for (t, _) in findings {
        if in_period(i, t.received_at.with_timezone(&chrono::Utc)) {
            *by_channel
                .entry(crate::analytics::wire_name(&t.channel))
                .or_default() += 1;
        }
    }
    out.push(note(
        rule("C15", "one intake for every channel", "—"),
        Status::NotMeasurable,
        "a capability without a figure; the period's requests by channel are shown",
        json!({ "by_channel": by_channel }),
    ));
    out.push(
        rule("C16", "information security and privacy", "masking, access control")
            .with_reason("enforced by types (Masked<T>) and roles; reads of whole numbers and monitoring are audited (/api/audit/*)"),
    );

    // W1: every refusal explained.
    out.push(facts(
        i,
        rule(
            "W1",
            "accept everything; refuse only with an explanation",
            "refusal reason recorded",
        ),
        findings.iter().flat_map(|(t, f)| {
            f.refusals
                .iter()
                .map(move |(at, ok)| (t.id.as_str(), *at, !ok))
        }),
        "refusal",
    ));
    // W2: every request received in the period registered (no call draft left uncompleted).
    out.push(facts(
        i,
        rule(
            "W2",
            "caller information and content recorded",
            "every request registered with its required fields",
        ),
        findings.iter().map(|(t, f)| {
            (
                t.id.as_str(),
                t.received_at.with_timezone(&chrono::Utc),
                f.draft,
            )
        }),
        "request received",
    ));
    out.push(
        rule("W3", "direct handling closes the request", "closed at once").with_reason(
            "enforced: `directly_close` ends the request in the workflow (docs/WORKFLOW.md)",
        ),
    );
    out.push(deadline_rule(
        i,
        findings,
        rule(
            "W4",
            "dispatch to a handling unit",
            "within 24 h; basic livelihood immediately",
        ),
        DeadlineRule::Dispatch,
    ));
    out.push(
        rule(
            "W5",
            "dispatch catalogue: lead and assisting units",
            "catalogue in config",
        )
        .with_reason("enforced: dispatch names only units of config/dispatch.toml"),
    );
    out.push(pass_if_none(
        facts(
            i,
            rule(
                "W6",
                "a repeat is not dispatched again",
                "linked to the earlier request",
            ),
            findings.iter().flat_map(|(t, f)| {
                f.dispatched_as_repeat
                    .iter()
                    .map(move |at| (t.id.as_str(), *at, true))
            }),
            "repeat dispatched",
        ),
        "repeat dispatched again",
    ));
    out.push(deadline_rule(
        i,
        findings,
        rule(
            "W7",
            "the handling unit signs for it",
            "within 1 working day",
        ),
        DeadlineRule::SignOff,
    ));
    out.push(facts(
        i,
        rule(
            "W8",
            "returns in time, never again after an unjustified one",
            "within 2 working days",
        ),
        findings.iter().flat_map(|(t, f)| {
            f.returns
                .iter()
                .map(move |(at, late, again)| (t.id.as_str(), *at, *late || *again))
        }),
        "return",
    ));
    let mut w9 = rule("W9", "extensions", "at most 2 per request");
    let mut with_ext = 0u64;
    for (t, f) in findings {
        if f.extensions > 0 && in_period(i, t.received_at.with_timezone(&chrono::Utc)) {
            with_ext += 1;
            if f.extensions > 2 {
                r_ticket(&mut w9, &t.id);
            }
        }
    }
    let measured = json!({ "requests_extended": with_ext, "over_2": w9.breaches });
    judge(&mut w9, with_ext, measured, "extended request");
    out.push(w9);
    out.push(deadline_rule(
        i,
        findings,
        rule(
            "W10",
            "feedback deadline",
            "2 / 10 / 15 working days by type",
        ),
        DeadlineRule::Feedback,
    ));
    out.push(facts(
        i,
        rule(
            "W11",
            "feedback contains contact, verification, legal basis, result",
            "required fields",
        ),
        findings.iter().flat_map(|(t, f)| {
            f.feedbacks
                .iter()
                .map(move |(at, ok)| (t.id.as_str(), *at, !ok))
        }),
        "feedback",
    ));
    out.push(pass_if_none(
        facts(
            i,
            rule(
                "W12",
                "review of the reply before the callback",
                "every reply reviewed",
            ),
            findings.iter().flat_map(|(t, f)| {
                f.unreviewed_callbacks
                    .iter()
                    .map(move |at| (t.id.as_str(), *at, true))
            }),
            "unreviewed callback",
        ),
        "callback without review",
    ));
    out.push(deadline_rule(
        i,
        findings,
        rule(
            "W13",
            "callback of every dispatched request",
            "after each passed review, in time",
        ),
        DeadlineRule::Callback,
    ));
    let mut w14 = facts(
        i,
        rule(
            "W14",
            "rating recorded; an unsatisfied one with its reason",
            "four ratings; reason of a bad one",
        ),
        findings.iter().flat_map(|(t, f)| {
            f.ratings
                .iter()
                .map(move |(at, _, bad)| (t.id.as_str(), *at, *bad))
        }),
        "rating",
    );
    let mut ratings: BTreeMap<String, u64> = BTreeMap::new();
    for (_, f) in findings {
        for (at, name, _) in &f.ratings {
            if in_period(i, *at) {
                *ratings.entry(name.clone()).or_default() += 1;
            }
        }
    }
    if let Value::Object(m) = &mut w14.measured {
        m.insert("by_rating".into(), json!(ratings));
    }
    out.push(w14);
    out.push(facts(
        i,
        rule(
            "W15",
            "an unsatisfied, unsolved request is checked",
            "checked, handled again if confirmed",
        ),
        findings.iter().flat_map(|(t, f)| {
            f.unsolved
                .iter()
                .map(move |(at, checked)| (t.id.as_str(), *at, !checked))
        }),
        "unsatisfied and unsolved rating",
    ));
    let (mut overdue, mut supervised) = (0u64, 0u64);
    for (t, _) in findings {
        for e in &t.events {
            if in_period(i, e.at.with_timezone(&chrono::Utc)) {
                match e.kind {
                    crate::workflow::event::EventKind::Overdue { .. } => overdue += 1,
                    crate::workflow::event::EventKind::SupervisionOpened { .. } => supervised += 1,
                    _ => {}
                }
            }
        }
    }
    out.push(note(
        rule("W16", "reminders and supervision", "—"),
        Status::NotMeasurable,
        "no figure: the sweep reminds and supervises by policy; the period's counts are shown",
        json!({ "overdue": overdue, "supervisions_opened": supervised }),
    ));
    out.push(
        rule("W17", "final answer, staged closing", "—")
            .with_reason("a supervisor's decision without a figure (approved in the workflow)"),
    );
    out.push(facts(
        i,
        rule(
            "W18",
            "archive complete after closing",
            "the call's recording with the request",
        ),
        findings
            .iter()
            .filter_map(|(t, f)| f.archived.map(|(at, ok)| (t.id.as_str(), at, !ok))),
        "archived request",
    ));
    out.push(
        rule("W19", "data: every stage captured; analysis and early warning", "reports, alarms")
            .with_reason("every stage is an event in the ticket log; trends and warnings are another part of issue 17"),
    );
    out
}

/// A "must never happen" rule: pass when nothing happened, not "not measurable".
fn pass_if_none(mut r: RuleResult, what: &str) -> RuleResult {
    if r.breaches == 0 {
        r.status = Status::Pass;
        r.reason = Some(format!("no {what} in the period"));
    }
    r
}

impl RuleResult {
    /// Not measurable with why, or a pass when the reason says it is enforced.
    fn with_reason(mut self, reason: &str) -> Self {
        self.status = if reason.starts_with("enforced") {
            Status::Pass
        } else {
            Status::NotMeasurable
        };
        self.reason = Some(reason.to_string());
        self
    }
}
