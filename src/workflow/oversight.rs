//! The rules about the hotline's own oversight, beside [`super::decide`]: who records
//! callbacks (W13), closing a supervision (W16), the returning unit's stopped clock (W8) and
//! the engine's emergency transfer (C12).

use chrono::{DateTime, FixedOffset};

use super::action::{
    need, Action, CallbackEvidence, CallbackMethod, EmergencyService, Rating, Refusal,
    SupervisionReason,
};
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

    /// W13/W14: a callback made (by a person, or by the engine's robot with its evidence),
    /// or the engine's callback that brought no rating.
    pub(super) fn callback(
        &self,
        t: &Ticket,
        actor: &Actor,
        action: &Action,
        at: DateTime<FixedOffset>,
    ) -> Result<Vec<EventKind>, Refusal> {
        self.callback_maker(actor, action)?;
        if !matches!(t.state, TicketState::AwaitingCallback { .. }) {
            return Err(Refusal::NotAllowed {
                action: action.name(),
                state: t.state.name(),
            });
        }
        let engine_only = |evidence: &CallbackEvidence| {
            if actor.role != Role::System && !evidence.is_empty() {
                Err(Refusal::EngineOnly { field: "call" })
            } else {
                Ok(())
            }
        };
        match action {
            Action::CallbackMissed {
                method,
                why,
                evidence,
            } => {
                if actor.role != Role::System {
                    return Err(Refusal::EngineOnly { field: "why" });
                }
                Ok(vec![EventKind::CallbackMissed {
                    method: *method,
                    why: *why,
                    rating_due: self.calendar.add_working_days(at, self.policy.rating_days),
                    evidence: evidence.clone(),
                }])
            }
            Action::Callback {
                method,
                consent,
                contacted,
                solved,
                rating,
                reason,
                evidence,
            } => {
                engine_only(evidence)?;
                if !consent {
                    return Ok(vec![EventKind::CallbackMade {
                        method: *method,
                        consent: false,
                        contacted: None,
                        solved: None,
                        rating_due: None,
                        evidence: evidence.clone(),
                    }]);
                }
                let rating_due = match (rating, method.is_asynchronous()) {
                    (None, true) => {
                        Some(self.calendar.add_working_days(at, self.policy.rating_days))
                    }
                    (None, false) => {
                        return Err(Refusal::RatingRequired {
                            method: if *method == CallbackMethod::Phone {
                                "phone"
                            } else {
                                "robot"
                            },
                        })
                    }
                    (Some(_), _) => None,
                };
                let mut out = vec![EventKind::CallbackMade {
                    method: *method,
                    consent: true,
                    contacted: *contacted,
                    solved: *solved,
                    rating_due,
                    evidence: evidence.clone(),
                }];
                if let Some(r) = rating {
                    let spoken = evidence.reason_recording.is_some();
                    out.push(self.rated(*r, *solved, reason, spoken)?);
                }
                Ok(out)
            }
            _ => Err(Refusal::NotAllowed {
                action: action.name(),
                state: t.state.name(),
            }),
        }
    }

    /// W14: a rating, with the reason an unsatisfied one needs (`spoken`: the citizen gave it
    /// aloud to the robot, kept as a recording on the callback).
    pub(super) fn rated(
        &self,
        rating: Rating,
        solved: Option<bool>,
        reason: &Option<String>,
        spoken: bool,
    ) -> Result<EventKind, Refusal> {
        let reason = reason
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        if rating == Rating::Unsatisfied && reason.is_none() && !spoken {
            return Err(Refusal::RatingReasonRequired);
        }
        Ok(EventKind::Rated {
            rating,
            solved,
            reason,
        })
    }
}

#[cfg(test)]
#[path = "callback_tests.rs"]
mod tests;
