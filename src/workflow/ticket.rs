//! The ticket (诉求工单) as derived from its event log: one state enum with the data each
//! state needs inside its variant, plus the few facts that span the whole life (returns made,
//! extensions asked, supervision, reminders sent). Built only by replaying events.

use std::collections::BTreeSet;

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use super::action::Refusal;
use super::action::{
    CallbackMethod, DirectMethod, EmergencyService, FinalAnswerCase, Rating, RefuseReason,
    SupervisionReason,
};
use super::calendar::Due;
use super::event::{DeadlineKind, Event, EventKind, Feedback};
use super::model::{Intake, Recording, TicketId, UnitId};

/// The assignment of a dispatched ticket (W5) and its running deadlines.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Work {
    pub category: Option<String>,
    pub lead: UnitId,
    pub assisting: Vec<UnitId>,
    pub dispatched_at: DateTime<FixedOffset>,
    /// W8: the unit may return it until then.
    pub return_due: Due,
    /// W10: none for urgent requests, which follow the linked hotline.
    pub feedback_due: Option<Due>,
    /// 下派: the units that handed it on to `lead`, the first (dispatched) unit first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub handed_from: Vec<UnitId>,
}

/// A pending extension request (W9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExtensionRequest {
    pub reason: String,
    pub days: u32,
}

/// How a ticket ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Closure {
    Refused {
        reason: RefuseReason,
    },
    Direct {
        method: DirectMethod,
    },
    Linked {
        service: EmergencyService,
    },
    Repeat {
        earlier: TicketId,
    },
    Rated {
        rating: Rating,
    },
    /// W15: an unsatisfied rating that the check did not confirm (误评).
    UnsatisfiedNotConfirmed,
    /// W13: the caller did not consent to a callback.
    NoCallbackConsent,
    FinalAnswer {
        case: FinalAnswerCase,
    },
}

/// Where a ticket is in its life. Each variant holds exactly what that step needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TicketState {
    /// Opened by an answered call; the agent is filling it in (content, classification).
    Draft { dispatch_due: Due },
    /// Received, not yet accepted (W1).
    Received { dispatch_due: Due },
    /// Accepted (or a return accepted): waiting for direct handling or dispatch.
    Accepted { dispatch_due: Due },
    /// Linked to an emergency or utility hotline (C12), waiting for its result.
    Linked { service: EmergencyService },
    /// Dispatched, waiting for the lead unit to sign (W7).
    Dispatched { work: Work, sign_due: Due },
    /// Signed and being handled by the lead unit.
    Handling {
        work: Work,
        pending_extension: Option<ExtensionRequest>,
    },
    /// Returned by the unit (W8), waiting for the hotline's decision.
    Returned {
        work: Work,
        reason: String,
        suggestion: String,
        /// W8: the hotline's decision is due; the unit's feedback clock stands still.
        decision_due: Option<Due>,
        returned_at: DateTime<FixedOffset>,
    },
    /// The reply is waiting for review (W12).
    UnderReview { work: Work, feedback: Feedback },
    /// The unit asks for a final answer / no further acceptance (W17).
    FinalAnswerPending {
        work: Work,
        case: FinalAnswerCase,
        explanation: String,
    },
    /// Review passed; waiting for the callback (W13).
    AwaitingCallback {
        work: Work,
        feedback: Feedback,
        /// W13: when the callback is due (none in logs from before it was kept).
        callback_due: Option<Due>,
    },
    /// An SMS/web callback was sent; waiting for the rating (W14).
    AwaitingRating {
        work: Work,
        feedback: Feedback,
        method: CallbackMethod,
        rating_due: Due,
    },
    /// Rated unsatisfied; the hotline checks the rating (W15).
    CheckingRating {
        work: Work,
        feedback: Feedback,
        reason: String,
    },
    /// Finished (W3, W15, W17, …); `staged` is a staged closing still followed up.
    Closed {
        closure: Closure,
        closed_at: DateTime<FixedOffset>,
        staged_follow_up: Option<String>,
    },
    /// Archived (W18): frozen.
    Archived {
        closure: Closure,
        closed_at: DateTime<FixedOffset>,
    },
}

impl TicketState {
    /// The state's wire name.
    pub fn name(&self) -> &'static str {
        match self {
            TicketState::Draft { .. } => "draft",
            TicketState::Received { .. } => "received",
            TicketState::Accepted { .. } => "accepted",
            TicketState::Linked { .. } => "linked",
            TicketState::Dispatched { .. } => "dispatched",
            TicketState::Handling { .. } => "handling",
            TicketState::Returned { .. } => "returned",
            TicketState::UnderReview { .. } => "under_review",
            TicketState::FinalAnswerPending { .. } => "final_answer_pending",
            TicketState::AwaitingCallback { .. } => "awaiting_callback",
            TicketState::AwaitingRating { .. } => "awaiting_rating",
            TicketState::CheckingRating { .. } => "checking_rating",
            TicketState::Closed { .. } => "closed",
            TicketState::Archived { .. } => "archived",
        }
    }

    /// The current assignment, if dispatched and not finished.
    pub fn work(&self) -> Option<&Work> {
        match self {
            TicketState::Dispatched { work, .. }
            | TicketState::Handling { work, .. }
            | TicketState::Returned { work, .. }
            | TicketState::UnderReview { work, .. }
            | TicketState::FinalAnswerPending { work, .. }
            | TicketState::AwaitingCallback { work, .. }
            | TicketState::AwaitingRating { work, .. }
            | TicketState::CheckingRating { work, .. } => Some(work),
            _ => None,
        }
    }

    /// Whether the ticket is finished (closed or archived).
    pub fn is_finished(&self) -> bool {
        matches!(
            self,
            TicketState::Closed { .. } | TicketState::Archived { .. }
        )
    }

    /// The deadlines that are running now, with their kind.
    pub fn running_deadlines(&self) -> Vec<(DeadlineKind, &Due)> {
        let mut out = Vec::new();
        match self {
            TicketState::Draft { dispatch_due }
            | TicketState::Received { dispatch_due }
            | TicketState::Accepted { dispatch_due } => {
                out.push((DeadlineKind::Dispatch, dispatch_due))
            }
            TicketState::Dispatched { work, sign_due } => {
                out.push((DeadlineKind::SignOff, sign_due));
                if let Some(d) = &work.feedback_due {
                    out.push((DeadlineKind::Feedback, d));
                }
            }
            TicketState::Handling { work, .. } => {
                if let Some(d) = &work.feedback_due {
                    out.push((DeadlineKind::Feedback, d));
                }
            }
            // The returning unit's clock stands still; the hotline's decision is due.
            TicketState::Returned {
                decision_due: Some(d),
                ..
            } => out.push((DeadlineKind::ReturnDecision, d)),
            TicketState::AwaitingCallback {
                callback_due: Some(d),
                ..
            } => out.push((DeadlineKind::Callback, d)),
            TicketState::AwaitingRating { rating_due, .. } => {
                out.push((DeadlineKind::Rating, rating_due))
            }
            _ => {}
        }
        out
    }
}

/// A corrupt or out-of-order log: an event that does not fit the state it is applied to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("ticket log is empty")]
    Empty,
    #[error("event {seq} (`{event}`) does not fit state `{state}`")]
    DoesNotFit {
        seq: u64,
        event: String,
        state: &'static str,
    },
    #[error("event {seq} is out of order (expected {expected})")]
    OutOfOrder { seq: u64, expected: u64 },
}

/// A ticket: its intake, its current state and its whole history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ticket {
    pub id: TicketId,
    /// Number of events applied; the optimistic-concurrency version.
    pub version: u64,
    pub intake: Intake,
    pub created_at: DateTime<FixedOffset>,
    pub state: TicketState,
    /// W6: an earlier ticket with the same facts, until linked or cleared.
    pub repeat_of: Option<(TicketId, f64)>,
    pub repeat_cleared: bool,
    /// W8: units that have returned this ticket (each may return it once).
    pub returned_by: Vec<UnitId>,
    /// W9: extension requests so far.
    pub extension_requests: u32,
    /// W15: times handled again after a confirmed bad rating.
    pub rehandled: u32,
    /// W16: open supervision reasons.
    pub supervision: BTreeSet<SupervisionReason>,
    /// Deadlines already reminded / marked overdue, so the sweep acts once per deadline.
    pub reminded: BTreeSet<(DeadlineKind, DateTime<FixedOffset>)>,
    pub overdue: BTreeSet<(DeadlineKind, DateTime<FixedOffset>)>,
    /// W14: the final rating, for reports.
    pub rating: Option<Rating>,
    /// W17: the facts were answered finally; repeats are not accepted again.
    pub no_further_acceptance: bool,
    /// W17: the suspected earlier request got a final answer; only a supervisor may clear it.
    pub repeat_final: bool,
    /// Files the citizen attached to an internet request (issue 13).
    pub files: Vec<super::event::CitizenFile>,
    pub history: Vec<Event>,
}

impl Ticket {
    /// When the hotline first acted on the request after it was registered (C13's response):
    /// the first later event by an agent, reviewer or supervisor. Units, the sweep and the
    /// engine (a recording attached) do not respond to the citizen.
    pub fn first_response_at(&self) -> Option<DateTime<FixedOffset>> {
        self.history
            .iter()
            .skip(1)
            .find(|e| e.actor.role.is_hotline())
            .map(|e| e.at)
    }

    /// Rebuilds a ticket from its log (which must start with `Created` or `Drafted`).
    pub fn replay(
        id: TicketId,
        events: impl IntoIterator<Item = Event>,
    ) -> Result<Self, ReplayError> {
        let mut it = events.into_iter();
        let first = it.next().ok_or(ReplayError::Empty)?;
        let (intake, state) = match &first.kind {
            EventKind::Created {
                intake,
                dispatch_due,
            } => (
                intake,
                TicketState::Received {
                    dispatch_due: dispatch_due.clone(),
                },
            ),
            EventKind::Drafted {
                intake,
                dispatch_due,
                ..
            } => (
                intake,
                TicketState::Draft {
                    dispatch_due: dispatch_due.clone(),
                },
            ),
            _ => {
                return Err(ReplayError::DoesNotFit {
                    seq: first.seq,
                    event: first.kind.name(),
                    state: "none",
                })
            }
        };
        if first.seq != 1 {
            return Err(ReplayError::OutOfOrder {
                seq: first.seq,
                expected: 1,
            });
        }
        let mut t = Ticket {
            id,
            version: 1,
            intake: intake.clone(),
            created_at: first.at,
            state,
            repeat_of: None,
            repeat_cleared: false,
            returned_by: Vec::new(),
            extension_requests: 0,
            rehandled: 0,
            supervision: BTreeSet::new(),
            reminded: BTreeSet::new(),
            overdue: BTreeSet::new(),
            rating: None,
            no_further_acceptance: false,
            repeat_final: false,
            files: Vec::new(),
            history: vec![first],
        };
        for e in it {
            t.apply(e)?;
        }
        Ok(t)
    }

    /// Applies one more event (already decided, so it must fit).
    pub fn apply(&mut self, e: Event) -> Result<(), ReplayError> {
        if e.seq != self.version + 1 {
            return Err(ReplayError::OutOfOrder {
                seq: e.seq,
                expected: self.version + 1,
            });
        }
        let misfit = |state: &TicketState| ReplayError::DoesNotFit {
            seq: e.seq,
            event: e.kind.name(),
            state: state.name(),
        };
        let closed = |closure: Closure| TicketState::Closed {
            closure,
            closed_at: e.at,
            staged_follow_up: None,
        };
        let state = std::mem::replace(
            &mut self.state,
            TicketState::Accepted {
                dispatch_due: Due::exact(e.at),
            },
        );
        use EventKind as K;
        use TicketState as S;
        if let K::LinkedEmergency {
            marked_urgent: true,
            ..
        } = &e.kind
        {
            self.intake.urgency = super::model::Urgency::Urgent;
        }
        let next = match (state, &e.kind) {
            (
                s,
                K::RepeatSuspected {
                    earlier,
                    score,
                    final_answer,
                },
            ) => {
                self.repeat_of = Some((earlier.clone(), *score));
                self.repeat_final = *final_answer;
                s
            }
            (s, K::RepeatCleared { .. }) => {
                self.repeat_cleared = true;
                s
            }
            (S::Received { dispatch_due }, K::Accepted { .. }) => S::Accepted { dispatch_due },
            (
                S::Draft { .. },
                K::Completed {
                    content,
                    caller_name,
                    area,
                    location,
                    urgency,
                    request_type,
                    domain,
                    category,
                    dispatch_due,
                    area_code,
                },
            ) => {
                self.intake.content = content.clone();
                if area_code.is_some() {
                    self.intake.area_code = area_code.clone();
                }
                if caller_name.is_some() {
                    self.intake.caller.name = caller_name.clone();
                }
                if area.is_some() {
                    self.intake.area = area.clone();
                }
                if location.is_some() {
                    self.intake.location = location.clone();
                }
                self.classify(*urgency, *request_type, domain, category);
                S::Received {
                    dispatch_due: dispatch_due.clone(),
                }
            }
            (
                S::Draft { .. } | S::Received { .. } | S::Accepted { .. },
                K::Refused { reason, .. },
            ) => closed(Closure::Refused { reason: *reason }),
            (
                S::Received { .. },
                K::Classified {
                    urgency,
                    request_type,
                    domain,
                    category,
                    dispatch_due,
                    area_code,
                    area,
                },
            ) => {
                self.classify(*urgency, *request_type, domain, category);
                self.place(area_code, area);
                S::Received {
                    dispatch_due: dispatch_due.clone(),
                }
            }
            (
                S::Accepted { .. },
                K::Classified {
                    urgency,
                    request_type,
                    domain,
                    category,
                    dispatch_due,
                    area_code,
                    area,
                },
            ) => {
                self.classify(*urgency, *request_type, domain, category);
                self.place(area_code, area);
                S::Accepted {
                    dispatch_due: dispatch_due.clone(),
                }
            }
            (S::Received { .. } | S::Accepted { .. }, K::DirectlyClosed { method, .. }) => {
                closed(Closure::Direct { method: *method })
            }
            (S::Received { .. } | S::Accepted { .. }, K::LinkedEmergency { service, .. }) => {
                S::Linked { service: *service }
            }
            // C12: a call transferred out is linked from its draft, urgent by that fact.
            (
                S::Draft { .. },
                K::LinkedEmergency {
                    service,
                    marked_urgent: true,
                    ..
                },
            ) => S::Linked { service: *service },
            (S::Linked { service }, K::LinkedResult { .. }) => closed(Closure::Linked { service }),
            (S::Received { .. } | S::Accepted { .. }, K::LinkedAsRepeat { earlier, .. }) => {
                closed(Closure::Repeat {
                    earlier: earlier.clone(),
                })
            }
            (
                S::Received { .. } | S::Accepted { .. },
                K::Dispatched {
                    category,
                    lead,
                    assisting,
                    sign_due,
                    return_due,
                    feedback_due,
                },
            ) => S::Dispatched {
                work: Work {
                    category: category.clone(),
                    lead: lead.clone(),
                    assisting: assisting.clone(),
                    dispatched_at: e.at,
                    return_due: return_due.clone(),
                    feedback_due: feedback_due.clone(),
                    handed_from: Vec::new(),
                },
                sign_due: sign_due.clone(),
            },
            (s, K::HandedToUtility { .. }) if !s.is_finished() => s,
            (
                S::Handling { work, .. },
                K::HandedOn {
                    from, to, sign_due, ..
                },
            ) => super::hand_on::handed_on(work, from, to, sign_due),
            (S::Dispatched { work, .. }, K::Signed { .. }) => S::Handling {
                work,
                pending_extension: None,
            },
            (
                S::Dispatched { work, .. } | S::Handling { work, .. },
                K::Returned {
                    unit,
                    reason,
                    suggestion,
                    decision_due,
                },
            ) => {
                self.returned_by.push(unit.clone());
                S::Returned {
                    work,
                    reason: reason.clone(),
                    suggestion: suggestion.clone(),
                    decision_due: decision_due.clone(),
                    returned_at: e.at,
                }
            }
            (S::Returned { .. }, K::ReturnAccepted { dispatch_due, .. }) => S::Accepted {
                dispatch_due: dispatch_due.clone(),
            },
            (S::Returned { mut work, .. }, K::ReturnRejected { feedback_due, .. }) => {
                if feedback_due.is_some() {
                    work.feedback_due = feedback_due.clone();
                }
                S::Handling {
                    work,
                    pending_extension: None,
                }
            }
            (S::Handling { work, .. }, K::ExtensionRequested { reason, days, .. }) => {
                self.extension_requests += 1;
                S::Handling {
                    work,
                    pending_extension: Some(ExtensionRequest {
                        reason: reason.clone(),
                        days: *days,
                    }),
                }
            }
            (S::Handling { mut work, .. }, K::ExtensionApproved { feedback_due, .. }) => {
                work.feedback_due = Some(feedback_due.clone());
                S::Handling {
                    work,
                    pending_extension: None,
                }
            }
            (S::Handling { work, .. }, K::ExtensionRejected { .. }) => S::Handling {
                work,
                pending_extension: None,
            },
            (s @ (S::Dispatched { .. } | S::Handling { .. }), K::AssistReplied { .. }) => s,
            (S::Handling { work, .. }, K::FeedbackGiven { feedback }) => S::UnderReview {
                work,
                feedback: feedback.clone(),
            },
            (S::UnderReview { work, feedback }, K::ReviewPassed { callback_due, .. }) => {
                S::AwaitingCallback {
                    work,
                    feedback,
                    callback_due: callback_due.clone(),
                }
            }
            (s @ S::AwaitingCallback { .. }, K::CallbackBySet { .. }) => s,
            (S::UnderReview { work, .. }, K::ReviewSentBack { .. }) => S::Handling {
                work,
                pending_extension: None,
            },
            (
                S::AwaitingCallback {
                    work,
                    feedback,
                    callback_due,
                },
                K::CallbackMade {
                    consent,
                    method,
                    rating_due,
                    ..
                },
            ) => match (consent, rating_due) {
                // W14: a declined callback is "not rated" (未评) in the reports.
                (false, _) => {
                    self.rating = Some(Rating::NotRated);
                    closed(Closure::NoCallbackConsent)
                }
                (true, Some(rating_due)) => S::AwaitingRating {
                    work,
                    feedback,
                    method: *method,
                    rating_due: rating_due.clone(),
                },
                (true, None) => S::AwaitingCallback {
                    work,
                    feedback,
                    callback_due,
                },
            },
            (
                S::AwaitingCallback { work, feedback, .. },
                K::CallbackMissed {
                    method, rating_due, ..
                },
            ) => S::AwaitingRating {
                work,
                feedback,
                method: *method,
                rating_due: rating_due.clone(),
            },
            (
                S::AwaitingCallback { work, feedback, .. }
                | S::AwaitingRating { work, feedback, .. },
                K::Rated { rating, reason, .. },
            ) => {
                self.rating = Some(*rating);
                match rating {
                    Rating::Unsatisfied => S::CheckingRating {
                        work,
                        feedback,
                        reason: reason.clone().unwrap_or_default(),
                    },
                    r => TicketState::Closed {
                        closure: Closure::Rated { rating: *r },
                        closed_at: e.at,
                        staged_follow_up: feedback.staged_follow_up.clone(),
                    },
                }
            }
            (
                S::CheckingRating {
                    mut work, feedback, ..
                },
                K::UnsatisfiedChecked {
                    confirmed,
                    feedback_due,
                    ..
                },
            ) => {
                if *confirmed {
                    self.rehandled += 1;
                    if feedback_due.is_some() {
                        work.feedback_due = feedback_due.clone();
                    }
                    S::Handling {
                        work,
                        pending_extension: None,
                    }
                } else {
                    TicketState::Closed {
                        closure: Closure::UnsatisfiedNotConfirmed,
                        closed_at: e.at,
                        staged_follow_up: feedback.staged_follow_up.clone(),
                    }
                }
            }
            (s, K::Reminded { deadline, due, .. }) => {
                if let (Some(k), Some(d)) = (deadline, due) {
                    self.reminded.insert((*k, *d));
                }
                s
            }
            (s, K::Overdue { deadline, due }) => {
                self.overdue.insert((*deadline, *due));
                s
            }
            (s, K::SupervisionOpened { reason, .. }) => {
                self.supervision.insert(*reason);
                s
            }
            (s, K::SupervisionClosed { reason, .. }) => {
                self.supervision.remove(reason);
                s
            }
            (
                S::Handling { work, .. },
                K::FinalAnswerRequested {
                    case, explanation, ..
                },
            ) => S::FinalAnswerPending {
                work,
                case: *case,
                explanation: explanation.clone(),
            },
            (S::FinalAnswerPending { case, .. }, K::FinalAnswerApproved) => {
                self.no_further_acceptance = true;
                closed(Closure::FinalAnswer { case })
            }
            (S::FinalAnswerPending { work, .. }, K::FinalAnswerRejected { .. }) => S::Handling {
                work,
                pending_extension: None,
            },
            (s @ S::Closed { .. }, K::FollowedUp { .. }) => s,
            (s, K::FilesAttached { files }) => {
                self.files.extend(files.iter().cloned());
                s
            }
            (s, K::RecordingAttached { recording }) => {
                self.intake.recording = Some(recording.clone());
                s
            }
            (s, K::PartyJoined { .. } | K::PartyLeft { .. }) => s, // W3: derived from history
            (
                S::Closed {
                    closure, closed_at, ..
                },
                K::Archived,
            ) => S::Archived { closure, closed_at },
            (s, _) => {
                let err = misfit(&s);
                self.state = s;
                return Err(err);
            }
        };
        self.state = next;
        self.version = e.seq;
        self.history.push(e);
        Ok(())
    }

    fn classify(
        &mut self,
        urgency: super::model::Urgency,
        request_type: super::model::RequestType,
        domain: &super::model::Domain,
        category: &Option<String>,
    ) {
        self.intake.urgency = urgency;
        self.intake.request_type = request_type;
        self.intake.domain = domain.clone();
        self.intake.category = category.clone();
    }

    /// Whether any running deadline has passed at `at`.
    pub fn is_overdue(&self, at: DateTime<FixedOffset>) -> bool {
        self.state
            .running_deadlines()
            .iter()
            .any(|(_, d)| at > d.at)
    }

    /// The recording, if any (C9).
    pub fn recording(&self) -> Option<&Recording> {
        self.intake.recording.as_ref()
    }
}

/// Checks that a ticket named as the earlier request of a repeat may be linked (W6).
pub fn check_earlier(earlier: &Ticket, this: &TicketId) -> Result<(), Refusal> {
    if &earlier.id == this {
        return Err(Refusal::BadEarlier {
            id: earlier.id.clone(),
            why: "it is this ticket",
        });
    }
    if matches!(
        earlier.state,
        TicketState::Closed {
            closure: Closure::Repeat { .. },
            ..
        }
    ) {
        return Err(Refusal::BadEarlier {
            id: earlier.id.clone(),
            why: "it is itself a repeat; link the original",
        });
    }
    Ok(())
}
