//! The rules about the hotline's own oversight, beside [`super::decide`]: who records
//! callbacks (W13), closing a supervision (W16), the returning unit's stopped clock (W8) and
//! the engine's emergency transfer (C12).

use chrono::{DateTime, FixedOffset};

use super::action::{need, Action, EmergencyService, Rating, Refusal, SupervisionReason};
use super::calendar::Due;
use super::decide::Rules;
use super::event::EventKind;
use super::model::{Actor, Role, Urgency};
use super::ticket::{Ticket, TicketState};

impl Rules<'_> {
    /// W13: the hotline's agents, reviewers (README: "`demo-reviewer` reviews and records
    /// callbacks") and supervisors record callbacks and ratings; so may the engine's robot.
    pub(super) fn callback_maker(&self, actor: &Actor, action: &Action) -> Result<(), Refusal> {
        if matches!(
            actor.role,
            Role::Agent | Role::Reviewer | Role::Supervisor | Role::System
        ) {
            Ok(())
        } else {
            Err(Refusal::WrongRole {
                action: action.name(),
                role: actor.role.name(),
            })
        }
    }

    /// W8: a rejected return gives the unit back the time it had left when it returned the
    /// ticket: its clock stood still while the hotline decided.
    pub(super) fn resumed_feedback_due(
        &self,
        t: &Ticket,
        at: DateTime<FixedOffset>,
    ) -> Option<Due> {
        let TicketState::Returned {
            work, returned_at, ..
        } = &t.state
        else {
            return None;
        };
        let old = work.feedback_due.as_ref()?;
        if t.intake.urgency == Urgency::Urgent {
            let left = (old.at - *returned_at).max(chrono::Duration::zero());
            return Some(Due::exact(at + left));
        }
        let left = self.calendar.working_days_between(*returned_at, old.at);
        let mut due = self.calendar.add_working_days(at, left);
        due.warning = due.warning.or(old.warning.clone());
        // Never earlier than the due the unit was told.
        Some(if due.at < old.at { old.clone() } else { due })
    }

    /// W16: a supervisor closes a supervision, saying what was done.
    pub(super) fn close_supervision(
        &self,
        t: &Ticket,
        actor: &Actor,
        reason: SupervisionReason,
        note: &Option<String>,
    ) -> Result<Vec<EventKind>, Refusal> {
        if actor.role != Role::Supervisor {
            return Err(Refusal::WrongRole {
                action: "close_supervision",
                role: actor.role.name(),
            });
        }
        if !t.supervision.contains(&reason) {
            return Err(Refusal::NotSupervised { reason });
        }
        let note = need(note, "note", "W16: what was done about it")?;
        Ok(vec![EventKind::SupervisionClosed { reason, note }])
    }

    /// C12: the engine transferred the call out; its ticket (a draft, or a request already
    /// registered) becomes urgent and linked in one step, with the time it took.
    pub(super) fn emergency_transferred(
        &self,
        t: &Ticket,
        actor: &Actor,
        service: EmergencyService,
        at: DateTime<FixedOffset>,
    ) -> Result<Vec<EventKind>, Refusal> {
        if actor.role != Role::System {
            return Err(Refusal::EngineOnly {
                field: "emergency_transferred",
            });
        }
        if !matches!(
            t.state,
            TicketState::Draft { .. } | TicketState::Received { .. } | TicketState::Accepted { .. }
        ) {
            return Err(Refusal::NotAllowed {
                action: "emergency_transferred",
                state: t.state.name(),
            });
        }
        Ok(vec![EventKind::LinkedEmergency {
            service,
            reference: None,
            marked_urgent: true,
            after_secs: Some((at - t.intake.received_at).num_seconds().max(0)),
        }])
    }

    /// W14: a rating, with the reason an unsatisfied one needs.
    pub(super) fn rated(
        &self,
        rating: Rating,
        solved: Option<bool>,
        reason: &Option<String>,
    ) -> Result<EventKind, Refusal> {
        let reason = reason
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        if rating == Rating::Unsatisfied && reason.is_none() {
            return Err(Refusal::RatingReasonRequired);
        }
        Ok(EventKind::Rated {
            rating,
            solved,
            reason,
        })
    }
}
