//! Who makes a ticket's W13 callback (issue 15): the robot or a person. The reviewer may say
//! so when the review passes, and a reviewer or supervisor may change it while the ticket
//! awaits its callback; where nobody chose, the configuration's `[callback] by` decides. The
//! choice lives in the event log (who chose what, and when) and is read back from it, so it
//! survives restarts with the log. No automatic rule (age, complaint, an earlier 不满意)
//! chooses for people: the choice is theirs.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::action::{Action, Refusal};
use super::decide::Rules;
use super::event::EventKind;
use super::model::Actor;
use super::ticket::{Ticket, TicketState};

/// Who calls the citizen back for one ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallbackMaker {
    /// The callback robot (回访机器人) calls and asks.
    Robot,
    /// The engine calls and puts the citizen through to an agent, who asks.
    Agent,
}

impl Rules<'_> {
    /// `review_pass` (with its optional choice) and `set_callback_by`.
    pub(super) fn callback_by(
        &self,
        t: &Ticket,
        actor: &Actor,
        action: &Action,
        at: DateTime<FixedOffset>,
    ) -> Result<Vec<EventKind>, Refusal> {
        self.decider(actor, action)?;
        let not_allowed = || Refusal::NotAllowed {
            action: action.name(),
            state: t.state.name(),
        };
        match (action, &t.state) {
            (Action::ReviewPass { callback_by }, TicketState::UnderReview { .. }) => {
                Ok(vec![EventKind::ReviewPassed {
                    callback_due: Some(
                        self.calendar
                            .add_working_days(at, self.policy.callback_days),
                    ),
                    callback_by: *callback_by,
                }])
            }
            (Action::SetCallbackBy { callback_by }, TicketState::AwaitingCallback { .. }) => {
                let callback_by = callback_by.ok_or(Refusal::MissingField {
                    field: "callback_by",
                    why: "W13: `robot` or `agent` makes the callback",
                })?;
                Ok(vec![EventKind::CallbackBySet { callback_by }])
            }
            _ => Err(not_allowed()),
        }
    }
}

impl Ticket {
    /// Who was chosen to make the callback of the latest passed review: the last
    /// `callback_by_set` after it, else the review's own choice; `None` when nobody chose
    /// (the configuration decides) or no review passed yet.
    pub fn callback_by(&self) -> Option<CallbackMaker> {
        for e in self.history.iter().rev() {
            match &e.kind {
                EventKind::CallbackBySet { callback_by } => return Some(*callback_by),
                EventKind::ReviewPassed { callback_by, .. } => return *callback_by,
                _ => {}
            }
        }
        None
    }
}

#[cfg(test)]
#[path = "callback_by_tests.rs"]
mod tests;
