//! The ticket side of the conformance report: each ticket's event log walked once, every
//! deadline it carried (W4 dispatch, W7 sign-off, W10 feedback, W13 callback) with when it
//! fell due and when (if) it was met, and the facts the other W rules check.

use chrono::{DateTime, FixedOffset, Utc};

use crate::workflow::event::{Event, EventKind};
use crate::workflow::model::Channel;

/// One ticket as the report sees it: its index facts and its whole event log.
#[derive(Debug, Clone)]
pub struct TicketHistory {
    pub id: String,
    pub channel: Channel,
    pub received_at: DateTime<FixedOffset>,
    /// C13: the hotline's first response.
    pub responded_at: Option<DateTime<FixedOffset>>,
    /// The call that brought it (C9/W18: its recording belongs in the archive).
    pub call_id: Option<String>,
    pub events: Vec<Event>,
}

/// Which rule a deadline belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DeadlineRule {
    /// W4: dispatched (or answered directly, refused, linked as a repeat) in time.
    Dispatch,
    /// W7: the lead unit signed (or returned it) in time.
    SignOff,
    /// W10: the lead unit's feedback in time.
    Feedback,
    /// W13: the callback after a passed review in time.
    Callback,
}

/// One deadline of one ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct Deadline {
    pub rule: DeadlineRule,
    pub ticket: String,
    /// The unit whose deadline it was (sign-off, feedback).
    pub unit: Option<String>,
    pub due: DateTime<Utc>,
    /// When it was met; `None` while not (yet).
    pub met_at: Option<DateTime<Utc>>,
}

impl Deadline {
    /// Met at or before its due time.
    pub fn on_time(&self) -> bool {
        self.met_at.is_some_and(|m| m <= self.due)
    }
}

/// Everything one walk over a ticket's log finds.
#[derive(Debug, Clone, Default)]
pub struct TicketFindings {
    pub deadlines: Vec<Deadline>,
    /// W1: refusals (at), and whether each carried an explanation.
    pub refusals: Vec<(DateTime<Utc>, bool)>,
    /// W6: dispatched again after being linked as a repeat (at of the dispatch).
    pub dispatched_as_repeat: Vec<DateTime<Utc>>,
    /// W8: returns (at, late: after the return deadline, again: after a rejected return by
    /// the same unit).
    pub returns: Vec<(DateTime<Utc>, bool, bool)>,
    /// W9: extensions approved.
    pub extensions: u32,
    /// W11: feedbacks (at, complete: contact, verification, legal basis and result given).
    pub feedbacks: Vec<(DateTime<Utc>, bool)>,
    /// W12: callbacks (at) made without a passed review of the latest feedback.
    pub unreviewed_callbacks: Vec<DateTime<Utc>>,
    /// W14: ratings (at, wire name, an unsatisfied one without its reason).
    pub ratings: Vec<(DateTime<Utc>, String, bool)>,
    /// W15: unsatisfied-and-unsolved ratings (at) and whether a check followed.
    pub unsolved: Vec<(DateTime<Utc>, bool)>,
    /// W18: archived (at) and whether the archive is complete (a call's recording attached).
    pub archived: Option<(DateTime<Utc>, bool)>,
    /// C12: linkages to emergency services (at, seconds after receipt when known).
    pub linkages: Vec<(DateTime<Utc>, Option<i64>)>,
    /// W2: still a draft (the call's agent never completed the request).
    pub draft: bool,
}

fn utc(t: DateTime<FixedOffset>) -> DateTime<Utc> {
    t.with_timezone(&Utc)
}

/// A deadline being tracked while walking the log.
struct Open {
    unit: Option<String>,
    due: DateTime<Utc>,
}

/// Walks one ticket's log.
pub fn walk(t: &TicketHistory) -> TicketFindings {
    let mut f = TicketFindings::default();
    let mut open: std::collections::BTreeMap<DeadlineRule, Open> = Default::default();
    let mut lead: Option<String> = None;
    let mut return_due: Option<DateTime<Utc>> = None;
    let mut rejected_returns: Vec<String> = Vec::new();
    let mut linked_as_repeat = false;
    let mut reviewed = false;
    let mut has_recording = false;
    let id = t.id.clone();
    let mut draft = false;
    // A new deadline of the same kind (at `at`) replaces the old one: an old one that had
    // already passed unmet stays counted as missed; one moved before it fell due (a
    // reclassification, an extension) is not counted at all.
    let set = |open: &mut std::collections::BTreeMap<DeadlineRule, Open>,
               f: &mut TicketFindings,
               rule: DeadlineRule,
               unit: Option<String>,
               due: DateTime<Utc>,
               at: DateTime<Utc>| {
        if let Some(old) = open.remove(&rule) {
            if old.due < at {
                f.deadlines.push(Deadline {
                    rule,
                    ticket: id.clone(),
                    unit: old.unit,
                    due: old.due,
                    met_at: None,
                });
            }
        }
        open.insert(rule, Open { unit, due });
    };
    let meet = |open: &mut std::collections::BTreeMap<DeadlineRule, Open>,
                f: &mut TicketFindings,
                rule: DeadlineRule,
                at: DateTime<Utc>| {
        if let Some(o) = open.remove(&rule) {
            f.deadlines.push(Deadline {
                rule,
                ticket: id.clone(),
                unit: o.unit,
                due: o.due,
                met_at: Some(at),
            });
        }
    };
    for e in &t.events {
        let at = utc(e.at);
        match &e.kind {
            EventKind::Drafted { .. } => draft = true,
            EventKind::Created { dispatch_due, .. }
            | EventKind::Completed { dispatch_due, .. }
            | EventKind::Classified { dispatch_due, .. }
            | EventKind::ReturnAccepted { dispatch_due, .. } => {
                if !matches!(e.kind, EventKind::Classified { .. }) {
                    draft = false;
                }
                if let EventKind::ReturnAccepted { .. } = e.kind {
                    // The unit is relieved of it: its sign-off and feedback stop.
                    open.remove(&DeadlineRule::SignOff);
                    open.remove(&DeadlineRule::Feedback);
                }
                set(
                    &mut open,
                    &mut f,
                    DeadlineRule::Dispatch,
                    None,
                    utc(dispatch_due.at),
                    at,
                );
            }
            EventKind::Dispatched {
                lead: unit,
                sign_due,
                return_due: rd,
                feedback_due,
                ..
            } => {
                meet(&mut open, &mut f, DeadlineRule::Dispatch, at);
                if linked_as_repeat {
                    f.dispatched_as_repeat.push(at);
                }
                lead = Some(unit.0.clone());
                return_due = Some(utc(rd.at));
                set(
                    &mut open,
                    &mut f,
                    DeadlineRule::SignOff,
                    lead.clone(),
                    utc(sign_due.at),
                    at,
                );
                if let Some(d) = feedback_due {
                    set(
                        &mut open,
                        &mut f,
                        DeadlineRule::Feedback,
                        lead.clone(),
                        utc(d.at),
                        at,
                    );
                }
            }
            EventKind::DirectlyClosed { .. } => meet(&mut open, &mut f, DeadlineRule::Dispatch, at),
            EventKind::Refused { explanation, .. } => {
                meet(&mut open, &mut f, DeadlineRule::Dispatch, at);
                f.refusals.push((at, !explanation.trim().is_empty()));
            }
            EventKind::LinkedAsRepeat { .. } => {
                linked_as_repeat = true;
                meet(&mut open, &mut f, DeadlineRule::Dispatch, at);
            }
            EventKind::RepeatCleared { .. } => linked_as_repeat = false,
            EventKind::Signed { .. } => meet(&mut open, &mut f, DeadlineRule::SignOff, at),
            EventKind::Returned { unit, .. } => {
                meet(&mut open, &mut f, DeadlineRule::SignOff, at);
                let late = return_due.is_some_and(|d| at > d);
                let again = rejected_returns.contains(&unit.0);
                f.returns.push((at, late, again));
            }
            EventKind::ReturnRejected { feedback_due, .. } => {
                if let Some(u) = &lead {
                    rejected_returns.push(u.clone());
                }
                if let Some(d) = feedback_due {
                    set(
                        &mut open,
                        &mut f,
                        DeadlineRule::Feedback,
                        lead.clone(),
                        utc(d.at),
                        at,
                    );
                }
            }
            EventKind::ExtensionApproved { feedback_due, .. } => {
                f.extensions += 1;
                set(
                    &mut open,
                    &mut f,
                    DeadlineRule::Feedback,
                    lead.clone(),
                    utc(feedback_due.at),
                    at,
                );
            }
            EventKind::FeedbackGiven { feedback } => {
                meet(&mut open, &mut f, DeadlineRule::Feedback, at);
                reviewed = false;
                let complete = [
                    &feedback.contact,
                    &feedback.verification,
                    &feedback.legal_basis,
                    &feedback.result,
                ]
                .iter()
                .all(|s| !s.trim().is_empty());
                f.feedbacks.push((at, complete));
            }
            EventKind::ReviewPassed { callback_due, .. } => {
                reviewed = true;
                if let Some(d) = callback_due {
                    set(
                        &mut open,
                        &mut f,
                        DeadlineRule::Callback,
                        None,
                        utc(d.at),
                        at,
                    );
                }
            }
            EventKind::CallbackMade { .. } => {
                meet(&mut open, &mut f, DeadlineRule::Callback, at);
                if !reviewed && !f.feedbacks.is_empty() {
                    f.unreviewed_callbacks.push(at);
                }
            }
            EventKind::Rated {
                rating,
                solved,
                reason,
            } => {
                let name = super::wire_name(rating);
                let unsatisfied = name == "unsatisfied";
                f.ratings.push((at, name, unsatisfied && reason.is_none()));
                if unsatisfied && *solved == Some(false) {
                    f.unsolved.push((at, false));
                }
            }
            EventKind::UnsatisfiedChecked { feedback_due, .. } => {
                if let Some(u) = f.unsolved.iter_mut().rev().find(|u| !u.1) {
                    u.1 = true;
                }
                if let Some(d) = feedback_due {
                    set(
                        &mut open,
                        &mut f,
                        DeadlineRule::Feedback,
                        lead.clone(),
                        utc(d.at),
                        at,
                    );
                }
            }
            EventKind::RecordingAttached { .. } => has_recording = true,
            EventKind::LinkedEmergency { after_secs, .. } => f.linkages.push((at, *after_secs)),
            EventKind::Archived => {
                f.archived = Some((at, t.call_id.is_none() || has_recording));
            }
            _ => {}
        }
    }
    // Deadlines still open: unmet so far.
    for (rule, o) in open {
        f.deadlines.push(Deadline {
            rule,
            ticket: t.id.clone(),
            unit: o.unit,
            due: o.due,
            met_at: None,
        });
    }
    f.draft = draft;
    f
}
