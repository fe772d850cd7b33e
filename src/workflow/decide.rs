//! The rules themselves: given a ticket, who acts, an action and the time, decide the events
//! (or a typed refusal). Pure: no clock, no store. Deadlines are computed here, once, from the
//! calendar, and travel inside the events.

use chrono::{DateTime, FixedOffset};

use super::action::{
    feedback_field, need, Action, Refusal, RefuseReason, SupervisionReason,
    MAX_FEEDBACK_ATTACHMENTS,
};
use super::calendar::{Due, WorkCalendar};
use super::catalogue::DispatchCatalogue;
use super::event::{EventKind, Feedback};
use super::model::{Actor, Channel, RequestType, Role, UnitId, Urgency};
use super::policy::Policy;
use super::ticket::{Ticket, TicketState};

pub use super::ticket::check_earlier;

/// Everything the rules need besides the ticket: the numbers, the calendar, the catalogue.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    pub policy: &'a Policy,
    pub calendar: &'a WorkCalendar,
    pub catalogue: &'a DispatchCatalogue,
}

pub(super) fn chrono_dur(d: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::zero())
}

impl<'a> Rules<'a> {
    pub(super) fn hotline(&self, actor: &Actor, action: &Action) -> Result<(), Refusal> {
        if matches!(actor.role, Role::Agent | Role::Supervisor) {
            Ok(())
        } else {
            Err(Refusal::WrongRole {
                action: action.name(),
                role: actor.role.name(),
            })
        }
    }

    pub(super) fn decider(&self, actor: &Actor, action: &Action) -> Result<(), Refusal> {
        if matches!(actor.role, Role::Reviewer | Role::Supervisor) {
            Ok(())
        } else {
            Err(Refusal::WrongRole {
                action: action.name(),
                role: actor.role.name(),
            })
        }
    }

    /// The acting unit, which must be this ticket's lead unit.
    fn lead_unit(&self, t: &Ticket, actor: &Actor, action: &Action) -> Result<UnitId, Refusal> {
        let Role::Unit(u) = &actor.role else {
            return Err(Refusal::WrongRole {
                action: action.name(),
                role: actor.role.name(),
            });
        };
        match t.state.work() {
            Some(w) if &w.lead == u => Ok(u.clone()),
            Some(w) if w.assisting.contains(u) => Err(Refusal::WrongUnit {
                unit: u.clone(),
                assigned: w.lead.clone(),
            }),
            _ => Err(Refusal::NotYourTicket { unit: u.clone() }),
        }
    }

    pub(super) fn feedback_due(&self, t: &Ticket, from: DateTime<FixedOffset>) -> Option<Due> {
        // W10/C12: an urgent request dispatched to a unit is answered in clock hours.
        Some(match t.intake.urgency {
            Urgency::Urgent => Due::exact(from + chrono_dur(self.policy.urgent_feedback_within)),
            Urgency::NonUrgent => self
                .calendar
                .add_working_days(from, self.policy.feedback_days(t.intake.request_type)),
        })
    }

    /// Decides what an action does to a ticket at `at`, or why it may not.
    pub fn decide(
        &self,
        t: &Ticket,
        actor: &Actor,
        action: &Action,
        at: DateTime<FixedOffset>,
    ) -> Result<Vec<EventKind>, Refusal> {
        use Action as A;
        use EventKind as K;
        use TicketState as S;
        if matches!(t.state, S::Archived { .. }) {
            return Err(Refusal::Archived);
        }
        let not_allowed = || Refusal::NotAllowed {
            action: action.name(),
            state: t.state.name(),
        };
        super::citizen::public_gate(actor, action)?;
        let open_intake = matches!(t.state, S::Received { .. } | S::Accepted { .. });
        match action {
            A::Complete { .. } => self.complete(t, actor, action),
            A::Accept { note } => {
                self.hotline(actor, action)?;
                match t.state {
                    S::Received { .. } => Ok(vec![K::Accepted { note: note.clone() }]),
                    _ => Err(not_allowed()),
                }
            }
            A::Refuse {
                reason,
                explanation,
            } => {
                self.hotline(actor, action)?;
                // A draft may be refused too: a silent or prank call is not a request.
                let draft = matches!(t.state, S::Draft { .. });
                let allowed = if *reason == RefuseReason::NoRequest {
                    draft
                } else {
                    draft || open_intake
                };
                if !allowed {
                    return Err(not_allowed());
                }
                let explanation = need(
                    explanation,
                    "explanation",
                    "W1: a refusal is explained to the caller",
                )?;
                Ok(vec![K::Refused {
                    reason: *reason,
                    explanation,
                }])
            }
            A::Classify {
                urgency,
                request_type,
                domain,
                category,
                area_code,
            } => {
                self.hotline(actor, action)?;
                if !open_intake {
                    return Err(not_allowed());
                }
                let mut intake = t.intake.clone();
                if let Some(u) = urgency {
                    intake.urgency = *u;
                }
                if let Some(r) = request_type {
                    if *r == RequestType::Unclassified {
                        return Err(Refusal::Unclassified);
                    }
                    intake.request_type = *r;
                }
                if let Some(d) = domain {
                    if !self.catalogue.has_domain(d) {
                        return Err(Refusal::UnknownDomain {
                            domain: d.0.clone(),
                        });
                    }
                    intake.domain = d.clone();
                }
                if let Some(c) = category {
                    if self.catalogue.category(c).is_none() {
                        return Err(Refusal::UnknownCategory {
                            category: c.clone(),
                        });
                    }
                    intake.category = Some(c.clone());
                }
                // An area picked from the tree renames `area` after its district (free text
                // stays in `location`).
                let placed = area_code.is_some();
                if placed {
                    intake.area_code = area_code.clone();
                    intake.area = None;
                    self.place(&mut intake)?;
                }
                Ok(vec![K::Classified {
                    urgency: intake.urgency,
                    request_type: intake.request_type,
                    domain: intake.domain.clone(),
                    category: intake.category.clone(),
                    dispatch_due: self.dispatch_due(&intake, intake.received_at),
                    area_code: intake.area_code.clone().filter(|_| placed),
                    area: intake.area.clone().filter(|_| placed),
                }])
            }
            A::DirectClose {
                method,
                answer,
                knowledge,
            } => {
                self.hotline(actor, action)?;
                if !open_intake {
                    return Err(not_allowed());
                }
                let answer = need(answer, "answer", "W3: the answer given is recorded")?;
                let participation = self.direct_citation(t, *method)?;
                Ok(vec![K::DirectlyClosed {
                    method: *method,
                    answer,
                    participation,
                    knowledge: knowledge
                        .filter(|_| *method == super::action::DirectMethod::KnowledgeBase),
                }])
            }
            A::LinkEmergency { service, reference } => {
                self.hotline(actor, action)?;
                if !open_intake {
                    return Err(not_allowed());
                }
                if t.intake.urgency != Urgency::Urgent {
                    return Err(Refusal::NotUrgent);
                }
                Ok(vec![K::LinkedEmergency {
                    service: *service,
                    reference: reference.clone(),
                    marked_urgent: false,
                    after_secs: Some((at - t.intake.received_at).num_seconds().max(0)),
                }])
            }
            A::RecordLinkedResult { result } => {
                self.hotline(actor, action)?;
                if !matches!(t.state, S::Linked { .. }) {
                    return Err(not_allowed());
                }
                let result = need(result, "result", "C12: what the linked hotline did")?;
                Ok(vec![K::LinkedResult { result }])
            }
            A::LinkRepeat { earlier, note } => {
                self.hotline(actor, action)?;
                if !open_intake {
                    return Err(not_allowed());
                }
                if earlier == &t.id {
                    return Err(Refusal::BadEarlier {
                        id: earlier.clone(),
                        why: "it is this ticket",
                    });
                }
                Ok(vec![K::LinkedAsRepeat {
                    earlier: earlier.clone(),
                    note: note.clone(),
                }])
            }
            A::ClearRepeat { reason } => {
                self.hotline(actor, action)?;
                if !open_intake {
                    return Err(not_allowed());
                }
                if t.repeat_of.is_none() || t.repeat_cleared {
                    return Err(Refusal::NoRepeatSuspected);
                }
                // W17: the facts were answered finally; only a supervisor reopens them.
                if let (true, Some((earlier, _))) = (t.repeat_final, &t.repeat_of) {
                    if actor.role != Role::Supervisor {
                        return Err(Refusal::FinalAnswerRepeat {
                            earlier: earlier.clone(),
                        });
                    }
                }
                let reason = need(reason, "reason", "W6: what is new in this request")?;
                Ok(vec![K::RepeatCleared { reason }])
            }
            A::Dispatch {
                category,
                lead,
                assisting,
            } => {
                self.hotline(actor, action)?;
                if !open_intake {
                    return Err(not_allowed());
                }
                // An internet request comes in unclassified: the agent classifies it first.
                if t.intake.domain.0 == super::model::UNCLASSIFIED_DOMAIN {
                    return Err(Refusal::Unclassified);
                }
                if let (Some((earlier, _)), false) = (&t.repeat_of, t.repeat_cleared) {
                    return Err(Refusal::RepeatNotDispatched {
                        earlier: earlier.clone(),
                    });
                }
                let category = category.clone().or_else(|| t.intake.category.clone());
                let cat = match &category {
                    Some(c) => Some(self.catalogue.category(c).ok_or_else(|| {
                        Refusal::UnknownCategory {
                            category: c.clone(),
                        }
                    })?),
                    None => None,
                };
                // W5 by area (网格化): the category's units for the request's area, found up
                // the area tree; the agent may still name others.
                let by_area =
                    cat.and_then(|c| self.catalogue.resolve(&c.id, t.intake.area_code.as_deref()));
                let lead = lead
                    .clone()
                    .or_else(|| by_area.as_ref().map(|r| r.lead.clone()))
                    .ok_or(Refusal::NoLeadUnit)?;
                let assisting = assisting
                    .clone()
                    .or_else(|| by_area.map(|r| r.assisting))
                    .unwrap_or_default();
                for u in std::iter::once(&lead).chain(&assisting) {
                    if self.catalogue.unit(u).is_none() {
                        return Err(Refusal::UnknownUnit { unit: u.clone() });
                    }
                }
                if assisting.contains(&lead) {
                    return Err(Refusal::LeadAlsoAssisting { unit: lead });
                }
                let cal = self.calendar;
                Ok(vec![K::Dispatched {
                    category,
                    lead,
                    assisting,
                    sign_due: cal.add_working_days(at, self.policy.sign_off_days),
                    return_due: cal.add_working_days(at, self.policy.return_days),
                    feedback_due: self.feedback_due(t, at),
                }])
            }
            A::HandOn { .. } => self.hand_on(t, actor, action),
            A::UtilityTransferred { unit } => self.utility_transferred(t, actor, unit, at),
            A::Sign => {
                let unit = self.lead_unit(t, actor, action)?;
                match t.state {
                    S::Dispatched { .. } => Ok(vec![K::Signed { unit }]),
                    _ => Err(not_allowed()),
                }
            }
            A::Return { reason, suggestion } => {
                let unit = self.lead_unit(t, actor, action)?;
                let work = match &t.state {
                    S::Dispatched { work, .. } | S::Handling { work, .. } => work,
                    _ => return Err(not_allowed()),
                };
                if t.returned_by.contains(&unit) {
                    return Err(Refusal::SecondReturn { unit });
                }
                if at > work.return_due.at {
                    return Err(Refusal::ReturnWindowClosed {
                        due: work.return_due.at.to_rfc3339(),
                    });
                }
                let reason = need(reason, "reason", "W8: why it is outside the unit's remit")?;
                let suggestion = need(suggestion, "suggestion", "W8: a reassignment suggestion")?;
                Ok(vec![K::Returned {
                    unit,
                    reason,
                    suggestion,
                    decision_due: Some(
                        self.calendar
                            .add_working_days(at, self.policy.return_decision_days),
                    ),
                }])
            }
            A::AcceptReturn { note } => {
                self.decider(actor, action)?;
                if !matches!(t.state, S::Returned { .. }) {
                    return Err(not_allowed());
                }
                let mut out = vec![K::ReturnAccepted {
                    note: note.clone(),
                    dispatch_due: self.dispatch_due(&t.intake, at),
                }];
                // W16: a ticket returned by two units is being passed back and forth.
                let distinct: std::collections::BTreeSet<_> = t.returned_by.iter().collect();
                if distinct.len() >= 2
                    && !t
                        .supervision
                        .contains(&SupervisionReason::PassedBackAndForth)
                {
                    out.push(K::SupervisionOpened {
                        reason: SupervisionReason::PassedBackAndForth,
                        note: Some(format!("returned by {} units", distinct.len())),
                        unit: t.returned_by.last().cloned(),
                    });
                }
                Ok(out)
            }
            A::RejectReturn { reason } => {
                self.decider(actor, action)?;
                if !matches!(t.state, S::Returned { .. }) {
                    return Err(not_allowed());
                }
                let reason = need(reason, "reason", "W8: why the return is not justified")?;
                Ok(vec![K::ReturnRejected {
                    reason,
                    feedback_due: self.resumed_feedback_due(t, at),
                }])
            }
            A::RequestExtension {
                reason,
                days,
                caller_informed,
            } => {
                let unit = self.lead_unit(t, actor, action)?;
                let S::Handling {
                    pending_extension,
                    work,
                } = &t.state
                else {
                    return Err(not_allowed());
                };
                if pending_extension.is_some() {
                    return Err(Refusal::ExtensionPending);
                }
                if t.extension_requests >= self.policy.max_extensions {
                    return Err(Refusal::ExtensionLimit {
                        max: self.policy.max_extensions,
                    });
                }
                if work.feedback_due.is_none() {
                    return Err(not_allowed());
                }
                if *days == 0 || *days > self.policy.max_extension_days {
                    return Err(Refusal::ExtensionDays {
                        days: *days,
                        max: self.policy.max_extension_days,
                    });
                }
                let reason = need(reason, "reason", "W9: the reason for the extension")?;
                if !caller_informed {
                    return Err(Refusal::CallerNotInformed {
                        why: "W9: the reason is told to the caller before the request",
                    });
                }
                Ok(vec![K::ExtensionRequested {
                    unit,
                    reason,
                    days: *days,
                }])
            }
            A::ApproveExtension { days } => {
                self.decider(actor, action)?;
                let S::Handling {
                    pending_extension: Some(req),
                    work,
                } = &t.state
                else {
                    return Err(Refusal::NoPendingExtension);
                };
                let days = days.unwrap_or(req.days);
                if days == 0 || days > req.days {
                    return Err(Refusal::ExtensionDays {
                        days,
                        max: req.days,
                    });
                }
                let Some(old) = &work.feedback_due else {
                    return Err(not_allowed());
                };
                let mut due = self.calendar.add_working_days(old.at, days);
                due.warning = due.warning.or(old.warning.clone());
                Ok(vec![K::ExtensionApproved {
                    days,
                    feedback_due: due,
                }])
            }
            A::RejectExtension { reason } => {
                self.decider(actor, action)?;
                if !matches!(
                    t.state,
                    S::Handling {
                        pending_extension: Some(_),
                        ..
                    }
                ) {
                    return Err(Refusal::NoPendingExtension);
                }
                let reason = need(reason, "reason", "W9: why the extension is refused")?;
                Ok(vec![K::ExtensionRejected { reason }])
            }
            A::AssistReply { text } => {
                let Role::Unit(u) = &actor.role else {
                    return Err(Refusal::WrongRole {
                        action: action.name(),
                        role: actor.role.name(),
                    });
                };
                let work = match &t.state {
                    S::Dispatched { work, .. } | S::Handling { work, .. } => work,
                    _ if t.units().contains(&u) => return Err(not_allowed()),
                    _ => return Err(Refusal::NotYourTicket { unit: u.clone() }),
                };
                if !work.assisting.contains(u) {
                    return Err(if &work.lead == u {
                        Refusal::WrongUnit {
                            unit: u.clone(),
                            assigned: work.lead.clone(),
                        }
                    } else {
                        Refusal::NotYourTicket { unit: u.clone() }
                    });
                }
                let text = need(text, "text", "W5: the assisting unit's contribution")?;
                Ok(vec![K::AssistReplied {
                    unit: u.clone(),
                    text,
                }])
            }
            A::Feedback {
                contact,
                verification,
                legal_basis,
                result,
                attachments,
                caller_informed,
                staged_follow_up,
                cites,
            } => {
                let unit = self.lead_unit(t, actor, action)?;
                if !matches!(t.state, S::Handling { .. }) {
                    return Err(not_allowed());
                }
                let feedback = Feedback {
                    unit,
                    contact: feedback_field(contact, "contact")?,
                    verification: feedback_field(verification, "verification")?,
                    legal_basis: feedback_field(legal_basis, "legal_basis")?,
                    result: feedback_field(result, "result")?,
                    // Names are for people: no invisible characters that could disguise them.
                    attachments: attachments
                        .iter()
                        .map(|a| super::action::Attachment {
                            name: super::limits::visible_name(&a.name),
                            sha256: a.sha256.clone(),
                        })
                        .collect(),
                    staged_follow_up: staged_follow_up
                        .as_deref()
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                    cites: cites.clone(),
                };
                if feedback
                    .attachments
                    .iter()
                    .any(|a| a.name.trim().is_empty())
                {
                    return Err(Refusal::FeedbackMissingField {
                        field: "attachments[].name",
                    });
                }
                if feedback.attachments.len() > MAX_FEEDBACK_ATTACHMENTS {
                    return Err(Refusal::TooManyAttachments {
                        max: MAX_FEEDBACK_ATTACHMENTS,
                    });
                }
                if !caller_informed {
                    return Err(Refusal::CallerNotInformed {
                        why: "the unit tells the caller the result before replying",
                    });
                }
                Ok(vec![K::FeedbackGiven { feedback }])
            }
            A::ReviewPass { .. } | A::SetCallbackBy { .. } => {
                self.callback_by(t, actor, action, at)
            }
            A::ReviewSendBack { failed, reason } => {
                self.decider(actor, action)?;
                if !matches!(t.state, S::UnderReview { .. }) {
                    return Err(not_allowed());
                }
                if failed.is_empty() {
                    return Err(Refusal::MissingField {
                        field: "failed",
                        why: "W12: which review criteria the reply fails",
                    });
                }
                let reason = need(reason, "reason", "W12: what the new reply must fix")?;
                Ok(vec![K::ReviewSentBack {
                    failed: failed.clone(),
                    reason,
                }])
            }
            A::Callback { .. } | A::CallbackMissed { .. } => self.callback(t, actor, action, at),
            A::RecordRating {
                rating,
                solved,
                reason,
            } => {
                if actor.role == Role::Citizen {
                    self.citizen_may_rate(t, action)?;
                } else {
                    self.callback_maker(actor, action)?;
                }
                if !matches!(t.state, S::AwaitingRating { .. }) {
                    return Err(not_allowed());
                }
                Ok(vec![self.rated(*rating, *solved, reason, false)?])
            }
            A::CheckUnsatisfied { confirmed, note } => {
                self.decider(actor, action)?;
                if !matches!(t.state, S::CheckingRating { .. }) {
                    return Err(not_allowed());
                }
                Ok(vec![K::UnsatisfiedChecked {
                    confirmed: *confirmed,
                    note: note.clone(),
                    feedback_due: if *confirmed {
                        self.feedback_due(t, at)
                    } else {
                        None
                    },
                }])
            }
            A::Remind { note } => {
                if !(actor.role.is_hotline() || actor.role == Role::System) {
                    return Err(Refusal::WrongRole {
                        action: action.name(),
                        role: actor.role.name(),
                    });
                }
                if t.state.is_finished() {
                    return Err(not_allowed());
                }
                Ok(vec![K::Reminded {
                    deadline: None,
                    due: None,
                    note: note.clone(),
                }])
            }
            A::Supervise { reason, note } => {
                if !matches!(actor.role, Role::Supervisor | Role::System) {
                    return Err(Refusal::WrongRole {
                        action: action.name(),
                        role: actor.role.name(),
                    });
                }
                if t.state.is_finished() {
                    return Err(not_allowed());
                }
                Ok(vec![K::SupervisionOpened {
                    reason: *reason,
                    note: note.clone(),
                    unit: t.state.work().map(|w| w.lead.clone()),
                }])
            }
            A::CloseSupervision { reason, note } => self.close_supervision(t, actor, *reason, note),
            A::EmergencyTransferred { service } => {
                self.emergency_transferred(t, actor, *service, at)
            }
            A::RequestFinalAnswer { case, explanation } => {
                let unit = self.lead_unit(t, actor, action)?;
                if !matches!(t.state, S::Handling { .. }) {
                    return Err(not_allowed());
                }
                let explanation = need(
                    explanation,
                    "explanation",
                    "W17: the explanation given to the caller",
                )?;
                Ok(vec![K::FinalAnswerRequested {
                    unit,
                    case: *case,
                    explanation,
                }])
            }
            A::ApproveFinalAnswer => {
                self.decider(actor, action)?;
                match t.state {
                    S::FinalAnswerPending { .. } => Ok(vec![K::FinalAnswerApproved]),
                    _ => Err(not_allowed()),
                }
            }
            A::RejectFinalAnswer { reason } => {
                self.decider(actor, action)?;
                if !matches!(t.state, S::FinalAnswerPending { .. }) {
                    return Err(not_allowed());
                }
                let reason = need(reason, "reason", "W17: why the unit must keep handling it")?;
                Ok(vec![K::FinalAnswerRejected { reason }])
            }
            A::FollowUp { note } => {
                let S::Closed {
                    staged_follow_up, ..
                } = &t.state
                else {
                    return Err(not_allowed());
                };
                let allowed = actor.role.is_hotline()
                    || matches!(&actor.role, Role::Unit(u) if t.history.iter().rev().any(|e| matches!(&e.kind, K::FeedbackGiven { feedback } if &feedback.unit == u)));
                if !allowed {
                    return Err(match &actor.role {
                        Role::Unit(u) => Refusal::NotYourTicket { unit: u.clone() },
                        r => Refusal::WrongRole {
                            action: action.name(),
                            role: r.name(),
                        },
                    });
                }
                if staged_follow_up.is_none() {
                    return Err(Refusal::NotStaged);
                }
                let note = need(note, "note", "W17: what the follow-up found")?;
                Ok(vec![K::FollowedUp { note }])
            }
            A::AttachRecording { recording } => {
                // Only the engine attaches a recording, when the call ends: it wrote the file
                // and hashed it. A person could name any file as the call's evidence.
                if actor.role != Role::System {
                    return Err(Refusal::EngineOnly { field: "recording" });
                }
                check_recording(recording)?;
                Ok(vec![K::RecordingAttached {
                    recording: recording.clone(),
                }])
            }
            A::PartyJoined { .. } | A::PartyLeft { .. } => self.call_party(actor, action),
            A::Archive => {
                if !matches!(actor.role, Role::Agent | Role::Supervisor | Role::System) {
                    return Err(Refusal::WrongRole {
                        action: action.name(),
                        role: actor.role.name(),
                    });
                }
                if !matches!(t.state, S::Closed { .. }) {
                    return Err(not_allowed());
                }
                if t.intake.channel == Channel::Phone && t.intake.recording.is_none() {
                    return Err(Refusal::ArchiveIncomplete {
                        missing: "the call recording",
                    });
                }
                Ok(vec![K::Archived])
            }
        }
    }
}

/// A recording as the engine names it (C9): a path relative to the data folder under
/// `recordings/`, without `..` or any other way out, and a SHA-256 of 64 hex digits.
pub(super) fn check_recording(r: &crate::workflow::model::Recording) -> Result<(), Refusal> {
    let path_ok = r.path.starts_with("recordings/")
        && r.path.ends_with(".wav")
        && r.path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
        && !r.path.contains('\\')
        && !r.path.chars().any(char::is_control);
    if !path_ok || r.sha256.len() != 64 || !r.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Refusal::MissingField {
            field: "recording",
            why: "C9: a path under recordings/ and its SHA-256 (64 hex digits)",
        });
    }
    Ok(())
}
