//! What the public may do (issue 13): a citizen registers an internet request and, with its
//! query code, attaches files to it and rates a web callback — nothing else; a platform's
//! connector registers requests on its channels. Neither ever responds for the hotline, so
//! C13's first response stays the hotline's (`Role::is_hotline` is false for both).

use chrono::{DateTime, FixedOffset};

use super::action::{Action, CallbackMethod, Refusal};
use super::decide::Rules;
use super::event::{CitizenFile, EventKind};
use super::model::{Actor, Channel, Intake, Role, UNCLASSIFIED_DOMAIN};
use super::ticket::{Ticket, TicketState};

/// Most files a citizen may attach to one request.
pub const MAX_CITIZEN_FILES: usize = 5;
/// Files are taken this long after receipt.
pub const FILES_WITHIN_HOURS: i64 = 24;

/// Whether a citizen or connector acts.
pub fn is_public(role: &Role) -> bool {
    matches!(role, Role::Citizen | Role::Channel)
}

/// The public may rate a web callback (a citizen) and do nothing else, in any state: checked
/// before the state, so the refusal is always the role's.
pub(super) fn public_gate(actor: &Actor, action: &Action) -> Result<(), Refusal> {
    let rates = actor.role == Role::Citizen && matches!(action, Action::RecordRating { .. });
    if is_public(&actor.role) && !rates {
        return Err(Refusal::WrongRole {
            action: action.name(),
            role: actor.role.name(),
        });
    }
    Ok(())
}

impl Rules<'_> {
    /// W2 for the public: an internet request with its query code's hash, unclassified until
    /// the agent who accepts it classifies it (the citizen cannot know the catalogue's domains).
    pub(super) fn create_online(
        &self,
        intake: &Intake,
        actor: &Actor,
    ) -> Result<EventKind, Refusal> {
        let wrong = || Refusal::WrongRole {
            action: "create",
            role: actor.role.name(),
        };
        let internet = intake.channel.is_internet() || intake.channel == Channel::Mailbox;
        if !is_public(&actor.role) || !internet || intake.online.is_none() {
            return Err(wrong());
        }
        if actor.role == Role::Citizen && intake.channel != Channel::Web {
            return Err(wrong());
        }
        if intake.call_id.is_some() {
            return Err(Refusal::EngineOnly { field: "call_id" });
        }
        if intake.recording.is_some() {
            return Err(Refusal::EngineOnly { field: "recording" });
        }
        if intake.domain.0 != UNCLASSIFIED_DOMAIN || intake.category.is_some() {
            return Err(wrong());
        }
        let mut check = intake.clone();
        // Checked as registered but for the domain, which the agent gives when classifying.
        check.domain = super::model::Domain(
            self.catalogue
                .domains()
                .next()
                .unwrap_or(super::model::STANDARD_DOMAINS[0])
                .to_string(),
        );
        self.check_registered(&check)?;
        let mut intake = intake.clone();
        self.place(&mut intake)?;
        Ok(EventKind::Created {
            dispatch_due: self.dispatch_due(&intake, intake.received_at),
            intake,
        })
    }

    /// A citizen's rating: only of a web callback that waits for it (W13/W14).
    pub(super) fn citizen_may_rate(&self, t: &Ticket, action: &Action) -> Result<(), Refusal> {
        match &t.state {
            TicketState::AwaitingRating {
                method: CallbackMethod::Web,
                ..
            } => Ok(()),
            TicketState::AwaitingRating { .. } => Err(Refusal::WrongRole {
                action: action.name(),
                role: Role::Citizen.name(),
            }),
            s => Err(Refusal::NotAllowed {
                action: action.name(),
                state: s.name(),
            }),
        }
    }

    /// The citizen attaches files: while the request is open, within 24 h of receipt, at most
    /// [`MAX_CITIZEN_FILES`] in all.
    pub fn attach_files(
        &self,
        t: &Ticket,
        actor: &Actor,
        files: &[CitizenFile],
        at: DateTime<FixedOffset>,
    ) -> Result<EventKind, Refusal> {
        if !matches!(actor.role, Role::Citizen | Role::System) {
            return Err(Refusal::WrongRole {
                action: "attach_files",
                role: actor.role.name(),
            });
        }
        let late = at > t.intake.received_at + chrono::Duration::hours(FILES_WITHIN_HOURS);
        if t.intake.online.is_none() || t.state.is_finished() || late {
            return Err(Refusal::NotAllowed {
                action: "attach_files",
                state: t.state.name(),
            });
        }
        if files.is_empty() {
            return Err(Refusal::MissingField {
                field: "files",
                why: "nothing to attach",
            });
        }
        if t.files.len() + files.len() > MAX_CITIZEN_FILES {
            return Err(Refusal::TooManyAttachments {
                max: MAX_CITIZEN_FILES,
            });
        }
        Ok(EventKind::FilesAttached {
            files: files.to_vec(),
        })
    }
}

#[cfg(test)]
#[path = "citizen_tests.rs"]
pub(crate) mod tests;
