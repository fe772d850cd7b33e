//! The workflow over a store: create a ticket (with W6 repeat detection), act on it, sweep.
//! Each operation loads, decides with [`Rules`], and hands the new events to the store in one
//! write; the caller is answered only after that write returned. The time is an argument.

use chrono::{DateTime, FixedOffset};

use super::action::{Action, Refusal};
use super::calendar::WorkCalendar;
use super::catalogue::DispatchCatalogue;
use super::decide::{check_earlier, Rules};
use super::event::{Event, EventKind};
use super::model::{china, Actor, Intake, TicketId};
use super::policy::Policy;
use super::repeat::{find_repeat, normalize_phone};
use super::store::{IndexRow, StoreError, TicketStore};
use super::sweep::{next_wake, sweep};
use super::ticket::{Closure, ReplayError, Ticket, TicketState};

/// Why an operation failed: the rules said no, the ticket is unknown or moved on, or the
/// store failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WorkflowError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("ticket {0} not found")]
    NotFound(TicketId),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("ticket log is corrupt: {0}")]
    Replay(#[from] ReplayError),
}

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SweepOutcome {
    pub tickets: usize,
    pub events: Vec<(TicketId, String)>,
}

/// The configured workflow: the numbers, the calendar and the catalogue.
#[derive(Debug, Clone, Default)]
pub struct Workflow {
    pub policy: Policy,
    pub calendar: WorkCalendar,
    pub catalogue: DispatchCatalogue,
}

impl Workflow {
    /// The rules bound to this configuration.
    pub fn rules(&self) -> Rules<'_> {
        Rules {
            policy: &self.policy,
            calendar: &self.calendar,
            catalogue: &self.catalogue,
        }
    }

    /// The index row the store keeps for `t`.
    pub fn index_row(&self, t: &Ticket) -> IndexRow {
        let work = t.state.work();
        let deadlines = t.state.running_deadlines();
        IndexRow {
            id: t.id.clone(),
            version: t.version,
            state: t.state.name().to_string(),
            lead_unit: work.map(|w| w.lead.clone()),
            units: t.visible_units().into_iter().cloned().collect(),
            channel: t.intake.channel,
            request_type: t.intake.request_type,
            domain: t.intake.domain.0.clone(),
            urgency: t.intake.urgency,
            area: t.intake.area.clone(),
            received_at: t.intake.received_at,
            phone_key: t.intake.caller.phone.as_deref().and_then(normalize_phone),
            content: t.intake.content.chars().take(200).collect(),
            next_due: deadlines.iter().map(|(_, d)| d.at).min(),
            wake_at: next_wake(t, &self.rules()),
            closed_at: match &t.state {
                TicketState::Closed { closed_at, .. } | TicketState::Archived { closed_at, .. } => {
                    Some(*closed_at)
                }
                _ => None,
            },
            rating: t.rating,
            repeat_of: match &t.state {
                TicketState::Closed {
                    closure: Closure::Repeat { earlier },
                    ..
                }
                | TicketState::Archived {
                    closure: Closure::Repeat { earlier },
                    ..
                } => Some(earlier.clone()),
                _ => t
                    .repeat_of
                    .as_ref()
                    .filter(|_| !t.repeat_cleared)
                    .map(|(e, _)| e.clone()),
            },
            repeat_excluded: matches!(
                &t.state,
                TicketState::Closed {
                    closure: Closure::Refused { .. } | Closure::Repeat { .. },
                    ..
                } | TicketState::Archived {
                    closure: Closure::Refused { .. } | Closure::Repeat { .. },
                    ..
                }
            ),
            supervised: !t.supervision.is_empty(),
        }
    }

    /// Registers a request (W2), checks it for a repeat (W6) and stores it.
    pub fn create<S: TicketStore + ?Sized>(
        &self,
        store: &mut S,
        intake: Intake,
        actor: &Actor,
        at: DateTime<FixedOffset>,
    ) -> Result<Ticket, WorkflowError> {
        let first = self.rules().create(&intake, actor)?;
        let mut kinds = vec![first];
        if let Some(key) = intake.caller.phone.as_deref().and_then(normalize_phone) {
            let since = intake.received_at
                - chrono::Duration::days(i64::from(self.policy.repeat_lookback_days));
            let candidates = store.repeat_candidates(&key, since)?;
            if let Some(m) = find_repeat(
                &intake.content,
                intake.received_at,
                &candidates,
                &self.policy,
            ) {
                kinds.push(EventKind::RepeatSuspected {
                    earlier: m.earlier,
                    score: m.score,
                });
            }
        }
        let id = store.next_id(at.with_timezone(&china()).date_naive())?;
        let events: Vec<Event> = kinds
            .into_iter()
            .enumerate()
            .map(|(i, kind)| Event {
                seq: i as u64 + 1,
                at,
                actor: actor.clone(),
                kind,
            })
            .collect();
        let t = Ticket::replay(id, events.clone())?;
        store.insert(&events, &self.index_row(&t))?;
        Ok(t)
    }

    /// Loads a ticket.
    pub fn load<S: TicketStore + ?Sized>(
        &self,
        store: &mut S,
        id: &TicketId,
    ) -> Result<Ticket, WorkflowError> {
        let events = store.events(id)?;
        if events.is_empty() {
            return Err(WorkflowError::NotFound(id.clone()));
        }
        Ok(Ticket::replay(id.clone(), events)?)
    }

    /// Applies an action. With `expected_version`, a ticket that moved on meanwhile is a
    /// `Conflict` (HTTP 409) rather than a silent overwrite.
    pub fn act<S: TicketStore + ?Sized>(
        &self,
        store: &mut S,
        id: &TicketId,
        expected_version: Option<u64>,
        actor: &Actor,
        action: &Action,
        at: DateTime<FixedOffset>,
    ) -> Result<Ticket, WorkflowError> {
        let t = self.load(store, id)?;
        if let Some(v) = expected_version {
            if v != t.version {
                return Err(StoreError::Conflict {
                    id: id.clone(),
                    expected: v,
                    actual: t.version,
                }
                .into());
            }
        }
        if let Action::LinkRepeat { earlier, .. } = action {
            let e = self.load(store, earlier).map_err(|e| match e {
                WorkflowError::NotFound(id) => Refusal::BadEarlier {
                    id,
                    why: "no such ticket",
                }
                .into(),
                other => other,
            })?;
            check_earlier(&e, &t.id)?;
        }
        let kinds = self.rules().decide(&t, actor, action, at)?;
        self.commit(store, t, actor, kinds, at)
    }

    fn commit<S: TicketStore + ?Sized>(
        &self,
        store: &mut S,
        mut t: Ticket,
        actor: &Actor,
        kinds: Vec<EventKind>,
        at: DateTime<FixedOffset>,
    ) -> Result<Ticket, WorkflowError> {
        let base = t.version;
        let mut events = Vec::with_capacity(kinds.len());
        for (i, kind) in kinds.into_iter().enumerate() {
            let e = Event {
                seq: base + i as u64 + 1,
                at,
                actor: actor.clone(),
                kind,
            };
            t.apply(e.clone())?;
            events.push(e);
        }
        store.append(&t.id, base, &events, &self.index_row(&t))?;
        Ok(t)
    }

    /// Sweeps every ticket whose wake-up time has come (at most `limit`).
    pub fn sweep<S: TicketStore + ?Sized>(
        &self,
        store: &mut S,
        at: DateTime<FixedOffset>,
        limit: u32,
    ) -> Result<SweepOutcome, WorkflowError> {
        let mut out = SweepOutcome::default();
        for id in store.due_for_sweep(at, limit)? {
            let t = self.load(store, &id)?;
            let kinds = sweep(&t, at, &self.rules());
            out.tickets += 1;
            let names: Vec<String> = kinds.iter().map(EventKind::name).collect();
            match self.commit(store, t, &Actor::system(), kinds, at) {
                Ok(_) => out
                    .events
                    .extend(names.into_iter().map(|n| (id.clone(), n))),
                // Someone acted meanwhile; the next sweep sees the new state.
                Err(WorkflowError::Store(StoreError::Conflict { .. })) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}
