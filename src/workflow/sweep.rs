//! The sweep (W14, W16): a pure function of a ticket and the time. Before a deadline it
//! reminds (催办, default half a working day ahead); after it, it marks the ticket overdue and
//! opens supervision (督办); an SMS/web callback unanswered by its due time is recorded as
//! "not rated". Each deadline is acted on once: the events themselves remember it.

use chrono::{DateTime, FixedOffset};

use super::action::{Rating, SupervisionReason};
use super::calendar::Due;
use super::decide::Rules;
use super::event::{DeadlineKind, EventKind};
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
        DeadlineKind::Dispatch => {
            let window = due.at - t.intake.received_at;
            let before = chrono::Duration::from_std(before).unwrap_or(chrono::Duration::zero());
            Some(due.at - before.min(window / 2))
        }
        DeadlineKind::SignOff | DeadlineKind::Feedback => {
            Some(rules.calendar.before_in_working_time(due.at, before))
        }
        // The caller's answer is not chased; it simply lapses.
        DeadlineKind::Rating => None,
    }
}

fn supervision_reason(kind: DeadlineKind) -> Option<SupervisionReason> {
    match kind {
        DeadlineKind::Dispatch => Some(SupervisionReason::LateDispatch),
        DeadlineKind::SignOff => Some(SupervisionReason::LateSignOff),
        DeadlineKind::Feedback => Some(SupervisionReason::LateFeedback),
        DeadlineKind::Rating => None,
    }
}

/// What the sweep records for `t` at `at` (empty when nothing is due).
pub fn sweep(t: &Ticket, at: DateTime<FixedOffset>, rules: &Rules<'_>) -> Vec<EventKind> {
    let mut out = Vec::new();
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
            out.push(EventKind::Overdue {
                deadline: kind,
                due: due.at,
            });
            if let Some(reason) = supervision_reason(kind) {
                if !t.supervision.contains(&reason) && !out.iter().any(|e| matches!(e, EventKind::SupervisionOpened { reason: r, .. } if *r == reason)) {
                    out.push(EventKind::SupervisionOpened {
                        reason,
                        note: Some(format!("{kind:?} deadline {} passed", due.at.to_rfc3339())),
                    });
                }
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
