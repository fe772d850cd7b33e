//! Who else was on a ticket's call (W3 三方转接): a handling unit, another agent or an outside
//! service the agent brought onto the citizen's call. The engine records each joining and
//! leaving as events on the call's ticket; the participation list is derived from them, and a
//! direct closing by `three_way_transfer` must cite a unit's participation.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::action::{Action, DirectMethod, Refusal};
use super::decide::Rules;
use super::event::{Event, EventKind};
use super::model::{Actor, Role, UnitId};
use super::ticket::Ticket;

/// A party of a call beyond the citizen and the answering agent, as the ticket names it.
/// (Supervisors listening in are not parties of the request: they go to the audit log.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CallParty {
    /// A handling unit of the dispatch catalogue, dialled at its `phone`.
    Unit { unit: UnitId },
    /// Another agent (consulted, conferenced in, or an interpreter's seat).
    Agent { agent: String },
    /// An outside service of `[transfer.numbers]` (`"110"`, `water`, …).
    External { target: String },
}

/// One party's time on the call: from `joined_at` until `left_at` (`null`: still on the line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Participation {
    #[serde(flatten)]
    pub party: CallParty,
    /// The call's public name.
    pub call: String,
    pub joined_at: DateTime<FixedOffset>,
    pub left_at: Option<DateTime<FixedOffset>>,
}

/// The parties of a ticket's call(s), in the order they joined, from its events. A leaving
/// closes the matching joining; a leaving whose joining was never recorded (the ticket opened
/// while the party was on the line) still counts, with both times.
pub fn participation(history: &[Event]) -> Vec<Participation> {
    let mut out: Vec<Participation> = Vec::new();
    for e in history {
        match &e.kind {
            EventKind::PartyJoined {
                call,
                party,
                joined_at,
            } => out.push(Participation {
                party: party.clone(),
                call: call.clone(),
                joined_at: *joined_at,
                left_at: None,
            }),
            EventKind::PartyLeft {
                call,
                party,
                joined_at,
                left_at,
            } => {
                let open = out.iter_mut().find(|p| {
                    p.left_at.is_none()
                        && &p.party == party
                        && &p.call == call
                        && p.joined_at == *joined_at
                });
                match open {
                    Some(p) => p.left_at = Some(*left_at),
                    None => out.push(Participation {
                        party: party.clone(),
                        call: call.clone(),
                        joined_at: *joined_at,
                        left_at: Some(*left_at),
                    }),
                }
            }
            _ => {}
        }
    }
    out
}

impl Rules<'_> {
    /// The engine's record of a party joining or leaving the ticket's call: a fact, allowed
    /// in any state but archived (checked before), never a person's step.
    pub(super) fn call_party(
        &self,
        actor: &Actor,
        action: &Action,
    ) -> Result<Vec<EventKind>, Refusal> {
        if actor.role != Role::System {
            return Err(Refusal::EngineOnly { field: "party" });
        }
        Ok(match action {
            Action::PartyJoined {
                call,
                party,
                joined_at,
            } => vec![EventKind::PartyJoined {
                call: call.clone(),
                party: party.clone(),
                joined_at: *joined_at,
            }],
            Action::PartyLeft {
                call,
                party,
                joined_at,
                left_at,
            } => vec![EventKind::PartyLeft {
                call: call.clone(),
                party: party.clone(),
                joined_at: *joined_at,
                left_at: *left_at,
            }],
            _ => Vec::new(),
        })
    }

    /// W3: what a direct closing by `method` cites. A three-way transfer is one only when a
    /// handling unit took part in the ticket's call: its participations (the unit may still
    /// be on the line), or a refusal.
    pub(super) fn direct_citation(
        &self,
        t: &Ticket,
        method: DirectMethod,
    ) -> Result<Vec<Participation>, Refusal> {
        if method != DirectMethod::ThreeWayTransfer {
            return Ok(Vec::new());
        }
        let units: Vec<Participation> = participation(&t.history)
            .into_iter()
            .filter(|p| matches!(p.party, CallParty::Unit { .. }))
            .collect();
        if units.is_empty() {
            return Err(Refusal::NoUnitOnCall);
        }
        Ok(units)
    }
}

#[cfg(test)]
#[path = "party_tests.rs"]
mod tests;
