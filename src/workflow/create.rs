//! W2: a new request's checks and its first event, from the hotline's side (an agent, a
//! supervisor, the engine; a citizen's or a channel's request goes through
//! `workflow::citizen`), and W4's dispatch deadline it starts. Pure, like the rest of the
//! rules.

use chrono::{DateTime, FixedOffset};

use super::action::Refusal;
use super::calendar::Due;
use super::decide::{check_recording, chrono_dur, Rules};
use super::event::EventKind;
use super::model::{Actor, Intake, Role, Urgency};

impl Rules<'_> {
    /// W4: when dispatch is due — immediately for urgent or basic-livelihood requests,
    /// else within 24 h — counted from `from` (receipt, or the accepted return).
    pub fn dispatch_due(&self, intake: &Intake, from: DateTime<FixedOffset>) -> Due {
        let immediate = intake.urgency == Urgency::Urgent
            || intake
                .category
                .as_deref()
                .and_then(|c| self.catalogue.category(c))
                .is_some_and(|c| c.basic_livelihood);
        let within = if immediate {
            self.policy.immediate_dispatch_within
        } else {
            self.policy.dispatch_within
        };
        Due::exact(from + chrono_dur(within))
    }

    /// W2: checks a new request and decides its first event.
    pub fn create(&self, intake: &Intake, actor: &Actor) -> Result<EventKind, Refusal> {
        if super::citizen::is_public(&actor.role) {
            return self.create_online(intake, actor);
        }
        if !matches!(actor.role, Role::Agent | Role::Supervisor | Role::System) {
            return Err(Refusal::WrongRole {
                action: "create",
                role: actor.role.name(),
            });
        }
        // A call's link and its recording are evidence: only the engine sets them (the call it
        // answered, the file it wrote), never a client.
        if actor.role != Role::System {
            if intake.call_id.is_some() {
                return Err(Refusal::EngineOnly { field: "call_id" });
            }
            if intake.recording.is_some() {
                return Err(Refusal::EngineOnly { field: "recording" });
            }
        }
        if let Some(r) = &intake.recording {
            check_recording(r)?;
        }
        let mut intake = intake.clone();
        self.place(&mut intake)?;
        self.check_registered(&intake)?;
        Ok(EventKind::Created {
            dispatch_due: self.dispatch_due(&intake, intake.received_at),
            intake,
        })
    }
}
