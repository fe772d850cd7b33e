//! The draft an answered call opens (the telephony → ticket link): the ticket exists, with
//! its id and the call's facts, from the moment the agent answers; the agent completes it
//! (content and classification) during or after the call, or refuses it (a silent call).

use super::action::{need, Action, Refusal};
use super::decide::Rules;
use super::event::EventKind;
use super::model::{
    Actor, CallDraft, Caller, Channel, Domain, Intake, RequestType, Role, Urgency,
    UNCLASSIFIED_DOMAIN,
};
use super::ticket::{Ticket, TicketState};

impl Rules<'_> {
    /// Opens the draft of an answered call. Deadlines count from the call's arrival, as for
    /// any phone request: a draft left unfinished shows up overdue like any other ticket.
    pub fn draft(&self, call: &CallDraft, actor: &Actor) -> Result<EventKind, Refusal> {
        if !matches!(actor.role, Role::Agent | Role::Supervisor | Role::System) {
            return Err(Refusal::WrongRole {
                action: "draft",
                role: actor.role.name(),
            });
        }
        if call.call_id.trim().is_empty() {
            return Err(Refusal::MissingField {
                field: "call_id",
                why: "a draft is opened for a call",
            });
        }
        let intake = draft_intake(call);
        Ok(EventKind::Drafted {
            via: call_summary(call),
            dispatch_due: self.dispatch_due(&intake, intake.received_at),
            intake,
        })
    }

    /// W2 for a request being registered: content recorded, a real type, a known domain and
    /// category. Shared by `create` and `complete`.
    pub(super) fn check_registered(&self, intake: &Intake) -> Result<(), Refusal> {
        if intake.content.trim().is_empty() {
            return Err(Refusal::MissingField {
                field: "content",
                why: "W2: the request content is recorded",
            });
        }
        if intake.request_type == RequestType::Unclassified {
            return Err(Refusal::Unclassified);
        }
        if !self.catalogue.has_domain(&intake.domain) {
            return Err(Refusal::UnknownDomain {
                domain: intake.domain.0.clone(),
            });
        }
        if let Some(c) = &intake.category {
            if self.catalogue.category(c).is_none() {
                return Err(Refusal::UnknownCategory {
                    category: c.clone(),
                });
            }
        }
        Ok(())
    }

    /// The agent completes a draft: it becomes a received request with its dispatch deadline
    /// recomputed from the classification (urgent → immediately).
    pub(super) fn complete(
        &self,
        t: &Ticket,
        actor: &Actor,
        action: &Action,
    ) -> Result<Vec<EventKind>, Refusal> {
        let Action::Complete {
            content,
            caller_name,
            area,
            location,
            area_code,
            urgency,
            request_type,
            domain,
            category,
        } = action
        else {
            return Err(Refusal::NotAllowed {
                action: action.name(),
                state: t.state.name(),
            });
        };
        self.hotline(actor, action)?;
        if !matches!(t.state, TicketState::Draft { .. }) {
            return Err(Refusal::NotAllowed {
                action: action.name(),
                state: t.state.name(),
            });
        }
        let content = need(content, "content", "W2: the request content is recorded")?;
        let mut intake = t.intake.clone();
        intake.content = content;
        intake.urgency = urgency.ok_or(Refusal::MissingField {
            field: "urgency",
            why: "W1: every request is urgent or not",
        })?;
        intake.request_type = request_type.ok_or(Refusal::MissingField {
            field: "type",
            why: "W1: the type sets the feedback deadline",
        })?;
        intake.domain = domain.clone().ok_or(Refusal::MissingField {
            field: "domain",
            why: "W1: the content domain is classified",
        })?;
        intake.category = category.clone();
        intake.area = area.clone();
        intake.area_code = area_code.clone();
        self.place(&mut intake)?;
        self.check_registered(&intake)?;
        Ok(vec![EventKind::Completed {
            dispatch_due: self.dispatch_due(&intake, intake.received_at),
            content: intake.content,
            caller_name: caller_name.clone(),
            area: intake.area,
            area_code: intake.area_code,
            location: location.clone(),
            urgency: intake.urgency,
            request_type: intake.request_type,
            domain: intake.domain,
            category: intake.category,
        }])
    }
}

/// The intake of a draft: a phone request, not yet classified, with the call's facts.
fn draft_intake(call: &CallDraft) -> Intake {
    Intake {
        channel: Channel::Phone,
        received_at: call.received_at,
        caller: Caller {
            name: None,
            phone: call.caller_phone.clone(),
        },
        area: None,
        location: None,
        area_code: None,
        content: String::new(),
        urgency: Urgency::NonUrgent,
        request_type: RequestType::Unclassified,
        domain: Domain(UNCLASSIFIED_DOMAIN.into()),
        category: None,
        call_id: Some(call.call_id.clone()),
        recording: None,
        callback_consent: None,
        online: None,
        number: call.number.clone(),
    }
}

/// How the call reached the agent (IVR path, queue), kept in the draft's first event.
fn call_summary(call: &CallDraft) -> Option<String> {
    let mut parts = Vec::new();
    if !call.menu_path.is_empty() {
        parts.push(format!("IVR {}", call.menu_path.join(" → ")));
    }
    if let Some(n) = &call.number {
        parts.push(format!("number {n}"));
    }
    if let Some(q) = &call.queue {
        parts.push(format!("queue {q}"));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}
