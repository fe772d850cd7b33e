//! The sweep (W14, W16): a pure function of a ticket and the time. Before a deadline it
//! reminds (催办, default half a working day ahead); after it, it marks the ticket overdue and
//! opens supervision (督办); an SMS/web callback unanswered by its due time is recorded as
//! "not rated". Each deadline is acted on once: the events themselves remember it.

use chrono::{DateTime, FixedOffset};

use super::action::{Rating, SupervisionReason};
use super::calendar::Due;
use super::decide::Rules;
use super::event::{DeadlineKind, EventKind};
use super::model::{UnitId, Urgency};
use super::ticket::Ticket;

fn remind_at(
    t: &Ticket,
    kind: DeadlineKind,
    due: &Due,
    rules: &Rules<'_>,
) -> Option<DateTime<FixedOffset>> {
    let before = rules.policy.remind_before;
    match kind {
        // Clock hours: never earlier than halfway through the window.
        DeadlineKind::Dispatch => Some(clock_remind(due, t.intake.received_at, before)),
        // An urgent request's feedback is due in clock hours from dispatch (C12).
        DeadlineKind::Feedback if t.intake.urgency == Urgency::Urgent => {
            let from = t
                .state
                .work()
                .map_or(t.intake.received_at, |w| w.dispatched_at);
            Some(clock_remind(due, from, before))
        }
        DeadlineKind::SignOff
        | DeadlineKind::Feedback
        | DeadlineKind::ReturnDecision
        | DeadlineKind::Callback => Some(rules.calendar.before_in_working_time(due.at, before)),
        // The caller's answer is not chased; it simply lapses.
        DeadlineKind::Rating => None,
    }
}

fn clock_remind(
    due: &Due,
    from: DateTime<FixedOffset>,
    before: std::time::Duration,
) -> DateTime<FixedOffset> {
    let window = due.at - from;
    let before = chrono::Duration::from_std(before).unwrap_or(chrono::Duration::zero());
    due.at - before.min(window / 2)
}

fn supervision_reason(kind: DeadlineKind) -> Option<SupervisionReason> {
    match kind {
        DeadlineKind::Dispatch => Some(SupervisionReason::LateDispatch),
        DeadlineKind::SignOff => Some(SupervisionReason::LateSignOff),
        DeadlineKind::Feedback => Some(SupervisionReason::LateFeedback),
        DeadlineKind::ReturnDecision => Some(SupervisionReason::LateReturnDecision),
        DeadlineKind::Callback => Some(SupervisionReason::LateCallback),
        DeadlineKind::Rating => None,
    }
}

/// Who is late (W16): the lead unit for its own deadlines; nobody (the hotline) otherwise.
fn late_unit(t: &Ticket, kind: DeadlineKind) -> Option<UnitId> {
    match kind {
        DeadlineKind::SignOff | DeadlineKind::Feedback => t.state.work().map(|w| w.lead.clone()),
        _ => None,
    }
}

/// The overdue marks and supervision for the deadlines (other than the caller's rating)
/// that have passed at `at` and are not marked yet. The sweep records them, and so does any
/// action taken after the deadline, in the same write: lateness never waits for a sweep.
pub fn late_events(t: &Ticket, at: DateTime<FixedOffset>) -> Vec<EventKind> {
    let mut out = Vec::new();
    for (kind, due) in t.state.running_deadlines() {
        if kind == DeadlineKind::Rating || at <= due.at || t.overdue.contains(&(kind, due.at)) {
            continue;
        }
        out.push(EventKind::Overdue {
            deadline: kind,
            due: due.at,
        });
        if let Some(reason) = supervision_reason(kind) {
            let open = t.supervision.contains(&reason)
                || out.iter().any(
                    |e| matches!(e, EventKind::SupervisionOpened { reason: r, .. } if *r == reason),
                );
            if !open {
                out.push(EventKind::SupervisionOpened {
                    reason,
                    note: Some(format!("{kind:?} deadline {} passed", due.at.to_rfc3339())),
                    unit: late_unit(t, kind),
                });
            }
        }
    }
    out
}

/// What the sweep records for `t` at `at` (empty when nothing is due).
pub fn sweep(t: &Ticket, at: DateTime<FixedOffset>, rules: &Rules<'_>) -> Vec<EventKind> {
    let mut out = late_events(t, at);
    for (kind, due) in t.state.running_deadlines() {
        let key = (kind, due.at);
        if at > due.at {
            if t.overdue.contains(&key) {
                continue;
            }
            if kind == DeadlineKind::Rating {
                out.push(EventKind::Overdue {
                    deadline: kind,
                    due: due.at,
                });
                out.push(EventKind::Rated {
                    rating: Rating::NotRated,
                    solved: None,
                    reason: Some(format!(
                        "no answer within {} working days (W14)",
                        rules.policy.rating_days
                    )),
                });
                // A closing event ends the state; later deadlines of it no longer apply.
                return out;
            }
        } else if let Some(r) = remind_at(t, kind, due, rules) {
            if at >= r && !t.reminded.contains(&key) {
                out.push(EventKind::Reminded {
                    deadline: Some(kind),
                    due: Some(due.at),
                    note: None,
                });
            }
        }
    }
    out
}

/// When the sweep next has something to do for `t` (the shell's wake-up time; the store
/// indexes it so a sweep touches only due tickets).
pub fn next_wake(t: &Ticket, rules: &Rules<'_>) -> Option<DateTime<FixedOffset>> {
    let mut best: Option<DateTime<FixedOffset>> = None;
    let mut consider = |d: DateTime<FixedOffset>| {
        best = Some(best.map_or(d, |b| b.min(d)));
    };
    for (kind, due) in t.state.running_deadlines() {
        let key = (kind, due.at);
        if t.overdue.contains(&key) {
            continue;
        }
        consider(due.at + chrono::Duration::seconds(1));
        if !t.reminded.contains(&key) {
            if let Some(r) = remind_at(t, kind, due, rules) {
                consider(r);
            }
        }
    }
    best
}
