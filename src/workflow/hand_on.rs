//! 下派 (二次派单): a unit that signed a ticket hands it on to one of its sub-units (a district
//! bureau to a street office), which signs and replies in its place. The hotline keeps seeing
//! the whole chain (the events, `Work::handed_from`), and the deadlines keep running from the
//! first unit's receipt (W7 signing, W8 return window, W10 feedback): handing on never buys
//! time. Also where a request's area code is checked against the area tree. Pure.

use super::action::{need, Action, Refusal};
use super::calendar::Due;
use super::decide::Rules;
use super::event::EventKind;
use super::model::{Actor, Intake, Role, UnitId};
use super::ticket::{Ticket, TicketState, Work};

impl Rules<'_> {
    /// Decides a hand-on: the acting unit leads the ticket and has signed it, `unit` is below
    /// it in the units' tree, and a reason is given.
    pub(super) fn hand_on(
        &self,
        t: &Ticket,
        actor: &Actor,
        action: &Action,
    ) -> Result<Vec<EventKind>, Refusal> {
        let Action::HandOn { unit, reason } = action else {
            return Err(Refusal::NotAllowed {
                action: action.name(),
                state: t.state.name(),
            });
        };
        let Role::Unit(from) = &actor.role else {
            return Err(Refusal::WrongRole {
                action: action.name(),
                role: actor.role.name(),
            });
        };
        let work = match &t.state {
            TicketState::Handling {
                work,
                pending_extension: None,
            } if &work.lead == from => work,
            // Before signing, or while an extension waits: not yet (or not now).
            TicketState::Dispatched { work, .. } | TicketState::Handling { work, .. }
                if &work.lead == from =>
            {
                return Err(Refusal::NotAllowed {
                    action: action.name(),
                    state: t.state.name(),
                })
            }
            _ => return Err(Refusal::NotYourTicket { unit: from.clone() }),
        };
        if self.catalogue.sub_units(from).next().is_none() {
            return Err(Refusal::NoSubUnit { unit: from.clone() });
        }
        let to = unit.clone().ok_or(Refusal::MissingField {
            field: "unit",
            why: "下派: the sub-unit the ticket is handed on to",
        })?;
        if self.catalogue.unit(&to).is_none() {
            return Err(Refusal::UnknownUnit { unit: to });
        }
        if !self.catalogue.is_sub_unit(&to, from) {
            return Err(Refusal::NotSubUnit {
                unit: to,
                of: from.clone(),
            });
        }
        if work.assisting.contains(&to) {
            return Err(Refusal::LeadAlsoAssisting { unit: to });
        }
        let reason = need(reason, "reason", "下派: why the sub-unit handles it")?;
        Ok(vec![EventKind::HandedOn {
            from: from.clone(),
            to,
            reason,
            sign_due: first_sign_due(t),
        }])
    }

    /// The engine transferred the call to a utility's hotline: recorded on any ticket not
    /// finished, naming the unit and the number dialled.
    pub(super) fn utility_transferred(
        &self,
        t: &Ticket,
        actor: &Actor,
        unit: &UnitId,
        at: chrono::DateTime<chrono::FixedOffset>,
    ) -> Result<Vec<EventKind>, Refusal> {
        if actor.role != Role::System {
            return Err(Refusal::EngineOnly {
                field: "utility_transferred",
            });
        }
        if t.state.is_finished() {
            return Err(Refusal::NotAllowed {
                action: "utility_transferred",
                state: t.state.name(),
            });
        }
        let Some(u) = self.catalogue.unit(unit) else {
            return Err(Refusal::UnknownUnit { unit: unit.clone() });
        };
        if u.kind != super::catalogue::UnitKind::Utility {
            return Err(Refusal::NotUtility { unit: unit.clone() });
        }
        Ok(vec![EventKind::HandedToUtility {
            unit: unit.clone(),
            number: u.phone.clone(),
            after_secs: Some((at - t.intake.received_at).num_seconds().max(0)),
        }])
    }

    /// Checks a request's area code against the tree and names `area` after the area's
    /// district (what trends and the knowledge base group by; the city's own name for the
    /// city). Words given as `area` are kept as `location` when that is empty.
    pub(super) fn place(&self, intake: &mut Intake) -> Result<(), Refusal> {
        intake.area_code = intake
            .area_code
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string);
        let Some(code) = &intake.area_code else {
            return Ok(());
        };
        let tree = self.catalogue.areas();
        let Some(area) = tree.get(code) else {
            return Err(Refusal::UnknownArea { code: code.clone() });
        };
        let name = tree.district_of(code).unwrap_or(area).name.clone();
        let words = intake
            .area
            .take()
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty() && *a != name);
        if intake.location.is_none() {
            intake.location = words;
        }
        intake.area = Some(name);
        Ok(())
    }
}

/// W7 counted from the first unit's receipt: the sign-off due of the ticket's last dispatch.
fn first_sign_due(t: &Ticket) -> Due {
    t.history
        .iter()
        .rev()
        .find_map(|e| match &e.kind {
            EventKind::Dispatched { sign_due, .. } => Some(sign_due.clone()),
            _ => None,
        })
        .unwrap_or_else(|| Due::exact(t.created_at))
}

/// The ticket after a hand-on: the sub-unit leads it and must sign; every deadline stays.
pub(super) fn handed_on(mut work: Work, from: &UnitId, to: &UnitId, sign_due: &Due) -> TicketState {
    work.handed_from.push(from.clone());
    work.lead = to.clone();
    TicketState::Dispatched {
        work,
        sign_due: sign_due.clone(),
    }
}

impl Ticket {
    /// An area picked from the tree, with the name people read (its district's).
    pub(super) fn place(&mut self, area_code: &Option<String>, area: &Option<String>) {
        if area_code.is_some() {
            self.intake.area_code = area_code.clone();
        }
        if area.is_some() {
            self.intake.area = area.clone();
        }
    }

    /// Units that may see the ticket now: lead, assisting, and those that handed it on (only
    /// the lead acts).
    pub fn units(&self) -> Vec<&UnitId> {
        match self.state.work() {
            Some(w) => std::iter::once(&w.lead)
                .chain(&w.assisting)
                .chain(&w.handed_from)
                .collect(),
            None => Vec::new(),
        }
    }

    /// Units that may see the ticket: the current assignment, or, once finished, the units
    /// of its last dispatch (so a unit keeps seeing what it handled, e.g. to follow it up).
    pub fn visible_units(&self) -> Vec<&UnitId> {
        if self.state.work().is_some() {
            return self.units();
        }
        if !self.state.is_finished() {
            return Vec::new();
        }
        // The last dispatch's units, and every unit it was handed on to since.
        let Some(last) = self
            .history
            .iter()
            .rposition(|e| matches!(e.kind, EventKind::Dispatched { .. }))
        else {
            return Vec::new();
        };
        self.history[last..]
            .iter()
            .flat_map(|e| match &e.kind {
                EventKind::Dispatched {
                    lead, assisting, ..
                } => std::iter::once(lead).chain(assisting).collect(),
                EventKind::HandedOn { to, .. } => vec![to],
                _ => Vec::new(),
            })
            .collect()
    }
}

#[cfg(test)]
#[path = "area_tests.rs"]
mod area_tests;
