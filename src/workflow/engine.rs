//! The workflow over a store: create a ticket (with W6 repeat detection), act on it, sweep.
//! Each operation loads, decides with [`Rules`], and hands the new events to the store in one
//! write; the caller is answered only after that write returned. The time is an argument.

use chrono::{DateTime, FixedOffset};

use super::action::{Action, Refusal};
use super::calendar::WorkCalendar;
use super::catalogue::DispatchCatalogue;
use super::decide::{check_earlier, Rules};
use super::event::{Event, EventKind};
use super::model::{china, Actor, CallDraft, Intake, Role, TicketId};
use super::policy::Policy;
use super::repeat::{find_repeat, normalize_phone};
use super::store::{IndexRow, ListQuery, StoreError, TicketStore};
use super::sweep::{late_events, next_wake, sweep};
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
            call_id: t.intake.call_id.clone(),
            number: t.intake.number.clone(),
            responded_at: t.first_response_at(),
            external_key: t.intake.online.as_ref().and_then(|o| {
                let ext = o.external_id.as_ref()?;
                Some(crate::workflow::model::external_key(t.intake.channel, ext))
            }),
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
        super::limits::check_sizes(&intake)?;
        let first = self.rules().create(&intake, actor)?;
        let mut kinds = vec![first];
        kinds.extend(self.suspect_repeat(store, &intake, None)?);
        self.insert_new(store, kinds, actor, at)
    }

    /// A citizen's files (issue 13), decided by [`Rules::attach_files`] and stored.
    pub fn attach_files<S: TicketStore + ?Sized>(
        &self,
        store: &mut S,
        id: &TicketId,
        actor: &Actor,
        files: &[super::event::CitizenFile],
        at: DateTime<FixedOffset>,
    ) -> Result<Ticket, WorkflowError> {
        let t = self.load(store, id)?;
        let kind = self.rules().attach_files(&t, actor, files, at)?;
        self.commit(store, t, vec![(actor.clone(), kind)], at)
    }

    /// The ticket a connector handed in under `key` (`channel:external_id`), if any.
    pub fn find_external<S: TicketStore + ?Sized>(
        &self,
        store: &mut S,
        key: &str,
    ) -> Result<Option<Ticket>, WorkflowError> {
        let page = store.list(&ListQuery {
            external_key: Some(key.to_string()),
            limit: 1,
            ..ListQuery::default()
        })?;
        match page.items.first() {
            Some(row) => Ok(Some(self.load(store, &row.id)?)),
            None => Ok(None),
        }
    }

    /// Opens the draft ticket of a call an agent answered, or returns the one already open
    /// for that call (the shell may ask twice, e.g. after a restart).
    pub fn open_draft<S: TicketStore + ?Sized>(
        &self,
        store: &mut S,
        call: &CallDraft,
        actor: &Actor,
        at: DateTime<FixedOffset>,
    ) -> Result<Ticket, WorkflowError> {
        let existing = store.list(&ListQuery {
            call_id: Some(call.call_id.clone()),
            limit: 1,
            ..ListQuery::default()
        })?;
        if let Some(row) = existing.items.first() {
            return self.load(store, &row.id);
        }
        let first = self.rules().draft(call, actor)?;
        self.insert_new(store, vec![first], actor, at)
    }

    /// W6: the earlier request from the same number with the same facts, if any.
    fn suspect_repeat<S: TicketStore + ?Sized>(
        &self,
        store: &mut S,
        intake: &Intake,
        own: Option<&TicketId>,
    ) -> Result<Option<EventKind>, WorkflowError> {
        let Some(key) = intake.caller.phone.as_deref().and_then(normalize_phone) else {
            return Ok(None);
        };
        let since = intake.received_at
            - chrono::Duration::days(i64::from(self.policy.repeat_lookback_days));
        let mut candidates = store.repeat_candidates(&key, since)?;
        candidates.retain(|c| Some(&c.id) != own);
        let matches = |c: &&super::repeat::RepeatCandidate| {
            find_repeat(
                &intake.content,
                intake.received_at,
                std::slice::from_ref(*c),
                &self.policy,
            )
            .is_some()
        };
        let matching: Vec<_> = candidates.iter().filter(matches).cloned().collect();
        // W17: facts that got a final answer (no further acceptance) win over any later
        // request with the same facts, so they are never accepted again by the back door.
        let mut finals = Vec::new();
        for c in &matching {
            if self.load(store, &c.id)?.no_further_acceptance {
                finals.push(c.clone());
            }
        }
        let final_answer = !finals.is_empty();
        let pool = if final_answer { finals } else { matching };
        let Some(m) = find_repeat(&intake.content, intake.received_at, &pool, &self.policy) else {
            return Ok(None);
        };
        Ok(Some(EventKind::RepeatSuspected {
            earlier: m.earlier,
            score: m.score,
            final_answer,
        }))
    }

    /// Gives a new ticket its id and stores its first events.
    fn insert_new<S: TicketStore + ?Sized>(
        &self,
        store: &mut S,
        kinds: Vec<EventKind>,
        actor: &Actor,
        at: DateTime<FixedOffset>,
    ) -> Result<Ticket, WorkflowError> {
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

    /// Applies an action. With `expected_version`, a ticket another person changed meanwhile
    /// is a `Conflict` (HTTP 409) rather than a silent overwrite; the engine's own steps since
    /// that version (recording attached, reminders) are not a conflict.
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
            if changed_by_a_person_since(&t, v) {
                return Err(StoreError::Conflict {
                    id: id.clone(),
                    expected: v,
                    actual: t.version,
                }
                .into());
            }
        }
        super::limits::check_sizes(action)?;
        if t.version >= super::limits::MAX_EVENTS_PER_TICKET {
            return Err(Refusal::TicketFull {
                max: super::limits::MAX_EVENTS_PER_TICKET,
            }
            .into());
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
        let mut kinds = self.rules().decide(&t, actor, action, at)?;
        if let Some(EventKind::Completed { content, .. }) = kinds.first() {
            // A completed draft is checked for a repeat as a new request is (W6).
            let mut intake = t.intake.clone();
            intake.content = content.clone();
            kinds.extend(self.suspect_repeat(store, &intake, Some(&t.id))?);
        }
        // W16: an action after a deadline is recorded as late now, in the same write, not
        // only by the next sweep (which the action would otherwise have escaped).
        let late = late_events(&t, at);
        let mut all: Vec<(Actor, EventKind)> =
            late.into_iter().map(|k| (Actor::system(), k)).collect();
        all.extend(kinds.into_iter().map(|k| (actor.clone(), k)));
        self.commit(store, t, all, at)
    }

    fn commit<S: TicketStore + ?Sized>(
        &self,
        store: &mut S,
        mut t: Ticket,
        kinds: Vec<(Actor, EventKind)>,
        at: DateTime<FixedOffset>,
    ) -> Result<Ticket, WorkflowError> {
        let base = t.version;
        let mut events = Vec::with_capacity(kinds.len());
        for (i, (actor, kind)) in kinds.into_iter().enumerate() {
            let e = Event {
                seq: base + i as u64 + 1,
                at,
                actor,
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
            let kinds = kinds.into_iter().map(|k| (Actor::system(), k)).collect();
            match self.commit(store, t, kinds, at) {
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

/// Whether anybody but the engine changed the ticket after the version a reader saw. The
/// engine's own steps (a recording attached at hang-up, the sweep's reminders and
/// supervision) are not an edit the reader could have overwritten, so they never make a
/// person's action stale; another person's action does. A version from the future is stale
/// too (the reader saw a ticket that does not exist).
fn changed_by_a_person_since(t: &Ticket, seen: u64) -> bool {
    if seen > t.version {
        return true;
    }
    t.history
        .iter()
        .filter(|e| e.seq > seen)
        .any(|e| e.actor.role != Role::System)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::workflow::action::{CallbackMethod, Rating};
    use crate::workflow::calendar::YearCalendar;
    use crate::workflow::memory::MemoryStore;
    use crate::workflow::model::{Caller, Channel, Domain, RequestType, UnitId, Urgency};

    fn wf() -> Workflow {
        Workflow {
            policy: Policy::default(),
            calendar: WorkCalendar::new([YearCalendar::from_toml_str(include_str!(
                "../../config/calendar/2026.toml"
            ))
            .unwrap()]),
            catalogue: DispatchCatalogue::from_toml_str(include_str!("../../config/dispatch.toml"))
                .unwrap(),
        }
    }

    fn t0() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-09-30T17:50:00+08:00").unwrap()
    }

    fn intake() -> Intake {
        Intake {
            number: None,
            channel: Channel::Web,
            received_at: t0(),
            caller: Caller {
                name: None,
                phone: Some("13800138000".into()),
            },
            area: None,
            location: None,
            area_code: None,
            content: "工地拖欠工资".into(),
            urgency: Urgency::NonUrgent,
            request_type: RequestType::Complaint,
            domain: Domain("social_management".into()),
            category: None,
            call_id: None,
            recording: None,
            callback_consent: None,
            online: None,
        }
    }

    fn actors() -> Vec<Actor> {
        vec![
            Actor::new("a", Role::Agent),
            Actor::new("r", Role::Reviewer),
            Actor::new("s", Role::Supervisor),
            Actor::new("h", Role::Unit(UnitId::new("hrss"))),
            Actor::new("x", Role::Unit(UnitId::new("market"))),
        ]
    }

    fn actions() -> Vec<Action> {
        let s = |v: &str| Some(v.to_string());
        vec![
            Action::Accept { note: None },
            Action::Dispatch {
                category: s("wage_arrears"),
                lead: None,
                assisting: None,
            },
            Action::Sign,
            Action::Return {
                reason: s("不属于"),
                suggestion: s("改派"),
            },
            Action::AcceptReturn { note: None },
            Action::RejectReturn {
                reason: s("理由不足"),
            },
            Action::RequestExtension {
                reason: s("调查"),
                days: 3,
                caller_informed: true,
            },
            Action::ApproveExtension { days: None },
            Action::RejectExtension {
                reason: s("不需要"),
            },
            Action::Feedback {
                contact: s("c"),
                verification: s("v"),
                legal_basis: s("l"),
                result: s("r"),
                attachments: vec![],
                caller_informed: true,
                staged_follow_up: None,
                cites: Vec::new(),
            },
            Action::ReviewPass { callback_by: None },
            Action::ReviewSendBack {
                failed: vec![crate::workflow::action::ReviewCriterion::Complete],
                reason: s("补充"),
            },
            Action::Callback {
                method: CallbackMethod::Sms,
                consent: true,
                contacted: None,
                solved: None,
                rating: None,
                reason: None,
                evidence: Default::default(),
            },
            Action::Callback {
                method: CallbackMethod::Phone,
                consent: true,
                contacted: Some(true),
                solved: Some(false),
                rating: Some(Rating::Unsatisfied),
                reason: s("没解决"),
                evidence: Default::default(),
            },
            Action::RecordRating {
                rating: Rating::Satisfied,
                solved: Some(true),
                reason: None,
            },
            Action::CheckUnsatisfied {
                confirmed: true,
                note: None,
            },
            Action::Remind { note: None },
            Action::Archive,
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Whatever sequence of actions people try, the stored log replays to exactly the
        /// ticket they were answered with, versions count events, refusals write nothing, and
        /// the sweep never fails on a reachable state.
        #[test]
        fn any_sequence_replays_to_the_answered_ticket(steps in proptest::collection::vec((0usize..5, 0usize..18, 0i64..72), 1..60)) {
            let wf = wf();
            let mut store = MemoryStore::new();
            let mut t = wf.create(&mut store, intake(), &actors()[0], t0()).unwrap();
            let mut at = t0();
            for (who, what, hours) in steps {
                at += chrono::Duration::hours(hours);
                let before = store.events(&t.id).unwrap().len();
                match wf.act(&mut store, &t.id, Some(t.version), &actors()[who], &actions()[what], at) {
                    Ok(next) => {
                        prop_assert!(next.version > t.version);
                        t = next;
                    }
                    Err(WorkflowError::Refused(_)) => prop_assert_eq!(store.events(&t.id).unwrap().len(), before),
                    Err(e) => prop_assert!(false, "unexpected {e}"),
                }
                wf.sweep(&mut store, at, 10).unwrap();
                t = wf.load(&mut store, &t.id).unwrap();
                let replayed = Ticket::replay(t.id.clone(), store.events(&t.id).unwrap()).unwrap();
                prop_assert_eq!(&replayed, &t);
                prop_assert_eq!(t.version as usize, t.history.len());
                prop_assert!(t.extension_requests <= 2);
                prop_assert!(t.returned_by.len() <= 1, "hrss returned twice");
            }
        }
    }

    #[test]
    fn a_stale_version_is_refused_before_deciding() {
        let wf = wf();
        let mut store = MemoryStore::new();
        let a = Actor::new("a", Role::Agent);
        let t = wf.create(&mut store, intake(), &a, t0()).unwrap();
        wf.act(
            &mut store,
            &t.id,
            Some(1),
            &a,
            &Action::Accept { note: None },
            t0(),
        )
        .unwrap();
        let e = wf
            .act(
                &mut store,
                &t.id,
                Some(1),
                &a,
                &Action::Remind { note: None },
                t0(),
            )
            .unwrap_err();
        assert!(
            matches!(
                e,
                WorkflowError::Store(StoreError::Conflict {
                    expected: 1,
                    actual: 2,
                    ..
                })
            ),
            "{e:?}"
        );
    }

    #[test]
    fn the_engines_own_steps_never_make_a_persons_save_stale() {
        let wf = wf();
        let mut store = MemoryStore::new();
        let a = Actor::new("a", Role::Agent);
        let t = wf.create(&mut store, intake(), &a, t0()).unwrap();
        // Dispatched: the sweep will remind the unit before its sign-off deadline.
        let t = wf
            .act(
                &mut store,
                &t.id,
                Some(t.version),
                &a,
                &Action::Dispatch {
                    category: Some("wage_arrears".into()),
                    lead: None,
                    assisting: None,
                },
                t0(),
            )
            .unwrap();
        let seen = t.version;
        let w = next_wake(&t, &wf.rules()).unwrap();
        assert_eq!(wf.sweep(&mut store, w, 10).unwrap().events.len(), 1);
        // The supervisor saw the ticket before the reminder: their action still goes through.
        let s = Actor::new("s", Role::Supervisor);
        let after = wf
            .act(
                &mut store,
                &t.id,
                Some(seen),
                &s,
                &Action::Remind { note: None },
                w,
            )
            .unwrap();
        assert_eq!(after.version, seen + 2);
        // A version nobody could have seen is stale.
        let e = wf
            .act(
                &mut store,
                &t.id,
                Some(after.version + 1),
                &s,
                &Action::Remind { note: None },
                w,
            )
            .unwrap_err();
        assert!(
            matches!(e, WorkflowError::Store(StoreError::Conflict { .. })),
            "{e:?}"
        );
    }

    #[test]
    fn next_wake_is_the_reminder_then_the_deadline() {
        let wf = wf();
        let mut store = MemoryStore::new();
        let a = Actor::new("a", Role::Agent);
        let t = wf.create(&mut store, intake(), &a, t0()).unwrap();
        let t = wf
            .act(
                &mut store,
                &t.id,
                None,
                &a,
                &Action::Dispatch {
                    category: Some("wage_arrears".into()),
                    lead: None,
                    assisting: None,
                },
                t0(),
            )
            .unwrap();
        // Sign-off due end of Thu Oct 8 → reminder Oct 8 12:00.
        let w = next_wake(&t, &wf.rules()).unwrap();
        assert_eq!(
            w,
            DateTime::parse_from_rfc3339("2026-10-08T12:00:00+08:00").unwrap()
        );
        let o = wf.sweep(&mut store, w, 10).unwrap();
        assert_eq!(o.events, vec![(t.id.clone(), "reminded".to_string())]);
        let t = wf.load(&mut store, &t.id).unwrap();
        assert_eq!(
            next_wake(&t, &wf.rules()).unwrap(),
            DateTime::parse_from_rfc3339("2026-10-09T00:00:00+08:00").unwrap()
        );
    }
}
