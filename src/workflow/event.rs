//! The append-only event log: who did what, in which role, when and why. A ticket's state is
//! derived from it ([`super::ticket::Ticket::replay`]); deadlines computed at decision time are
//! recorded in the events, so replaying never needs the calendar and never changes a due time.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::action::{
    Attachment, CallbackMethod, DirectMethod, EmergencyService, FinalAnswerCase, Rating,
    RefuseReason, ReviewCriterion, SupervisionReason,
};
use super::calendar::Due;
use super::model::{Actor, Domain, Intake, Recording, RequestType, TicketId, UnitId, Urgency};
use super::party::{CallParty, Participation};

/// One entry of a ticket's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// 1-based position in the ticket's log; equals the ticket version after it.
    pub seq: u64,
    pub at: DateTime<FixedOffset>,
    pub actor: Actor,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// The deadlines a ticket can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// W4: 24 h, or immediately for basic livelihood.
    Dispatch,
    /// W7: 1 working day after dispatch.
    SignOff,
    /// W10: 2/10/15 working days by type, moved by extensions.
    Feedback,
    /// W14: SMS/web callback unanswered after 5 working days → not rated.
    Rating,
    /// W8: the hotline's decision on a unit's return (the unit's clock stands still meanwhile).
    ReturnDecision,
    /// W13: the callback after a passed review.
    Callback,
}

/// The reply of a handling unit (W11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    pub unit: UnitId,
    pub contact: String,
    pub verification: String,
    pub legal_basis: String,
    pub result: String,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    #[serde(default)]
    pub staged_follow_up: Option<String>,
    /// Knowledge items (versions) the reply cites (issue 16).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cites: Vec<super::action::KnowledgeRef>,
}

/// A file a citizen attached to their internet request (issue 13), accepted by its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CitizenFile {
    pub name: String,
    pub sha256: String,
    pub size: u64,
    /// `image/jpeg`, `image/png`, `image/webp` or `application/pdf`, from the bytes.
    #[serde(rename = "type")]
    pub media_type: String,
}

/// What happened. One variant per fact; decided by [`super::decide`], applied by the ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    Created {
        intake: Intake,
        dispatch_due: Due,
    },
    /// An agent answered a call: the ticket exists, unclassified, until `Completed`.
    Drafted {
        intake: Intake,
        dispatch_due: Due,
        /// How the call got to the agent (IVR path, queue).
        #[serde(default)]
        via: Option<String>,
    },
    /// The agent filled in the draft: from here on it is a registered request (W2).
    Completed {
        content: String,
        caller_name: Option<String>,
        area: Option<String>,
        location: Option<String>,
        urgency: Urgency,
        #[serde(rename = "type")]
        request_type: RequestType,
        domain: Domain,
        category: Option<String>,
        dispatch_due: Due,
        /// The area picked from the area tree.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        area_code: Option<String>,
    },
    RepeatSuspected {
        earlier: TicketId,
        score: f64,
        /// W17: the earlier request got a final answer (no further acceptance): only a
        /// supervisor may clear this, with a reason.
        #[serde(default)]
        final_answer: bool,
    },
    Accepted {
        note: Option<String>,
    },
    Refused {
        reason: RefuseReason,
        explanation: String,
    },
    Classified {
        urgency: Urgency,
        #[serde(rename = "type")]
        request_type: RequestType,
        domain: Domain,
        category: Option<String>,
        dispatch_due: Due,
        /// The area set or corrected, and its district's name (the intake's `area`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        area_code: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        area: Option<String>,
    },
    DirectlyClosed {
        method: DirectMethod,
        answer: String,
        /// W3: a `three_way_transfer` cites the handling unit's part in the call (`left_at`
        /// `null`: the unit was still on the line when the ticket was closed).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        participation: Vec<Participation>,
        /// Issue 16: the knowledge item and version a `knowledge_base` answer cites, kept as
        /// cited after the item changes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        knowledge: Option<super::action::KnowledgeRef>,
    },
    LinkedEmergency {
        service: EmergencyService,
        reference: Option<String>,
        /// C12: the call was transferred out, so the request is urgent by that fact.
        #[serde(default)]
        marked_urgent: bool,
        /// C12: seconds from the request's receipt (the call's start) to the linkage.
        #[serde(default)]
        after_secs: Option<i64>,
    },
    LinkedResult {
        result: String,
    },
    LinkedAsRepeat {
        earlier: TicketId,
        note: Option<String>,
    },
    RepeatCleared {
        reason: String,
    },
    Dispatched {
        category: Option<String>,
        lead: UnitId,
        assisting: Vec<UnitId>,
        sign_due: Due,
        return_due: Due,
        feedback_due: Option<Due>,
    },
    Signed {
        unit: UnitId,
    },
    /// GB/T 44190 6.3.2: the call was transferred to the utility's own hotline (`number`),
    /// `after_secs` from the request's receipt; the ticket's state does not change.
    HandedToUtility {
        unit: UnitId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        number: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after_secs: Option<i64>,
    },
    /// 下派: the lead unit handed the ticket on to its sub-unit `to`, which must sign by
    /// `sign_due` — the first unit's, as the deadlines run from the first receipt.
    HandedOn {
        from: UnitId,
        to: UnitId,
        reason: String,
        sign_due: Due,
    },
    Returned {
        unit: UnitId,
        reason: String,
        suggestion: String,
        /// W8: when the hotline must have decided on the return.
        #[serde(default)]
        decision_due: Option<Due>,
    },
    ReturnAccepted {
        note: Option<String>,
        dispatch_due: Due,
    },
    ReturnRejected {
        reason: String,
        /// The unit's feedback due, moved by the working days its clock stood still.
        #[serde(default)]
        feedback_due: Option<Due>,
    },
    ExtensionRequested {
        unit: UnitId,
        reason: String,
        days: u32,
    },
    ExtensionApproved {
        days: u32,
        feedback_due: Due,
    },
    ExtensionRejected {
        reason: String,
    },
    AssistReplied {
        unit: UnitId,
        text: String,
    },
    FeedbackGiven {
        feedback: Feedback,
    },
    ReviewPassed {
        /// W13: when the callback is due.
        #[serde(default)]
        callback_due: Option<Due>,
        /// W13: who the reviewer chose to make the callback (none: the configuration's).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        callback_by: Option<super::callback_by::CallbackMaker>,
    },
    /// W13: who makes the awaited callback was changed (by the event's actor).
    CallbackBySet {
        callback_by: super::callback_by::CallbackMaker,
    },
    ReviewSentBack {
        failed: Vec<ReviewCriterion>,
        reason: String,
    },
    CallbackMade {
        method: CallbackMethod,
        consent: bool,
        contacted: Option<bool>,
        solved: Option<bool>,
        /// Set when an SMS/web callback waits for its answer.
        rating_due: Option<Due>,
        /// The engine's callback: its call, recordings and tries.
        #[serde(
            default,
            skip_serializing_if = "super::action::CallbackEvidence::is_empty"
        )]
        evidence: super::action::CallbackEvidence,
    },
    /// The engine's callback brought no rating: one is awaited by other means until
    /// `rating_due` (W14: then 未评).
    CallbackMissed {
        method: CallbackMethod,
        why: super::action::CallbackMiss,
        rating_due: Due,
        #[serde(
            default,
            skip_serializing_if = "super::action::CallbackEvidence::is_empty"
        )]
        evidence: super::action::CallbackEvidence,
    },
    Rated {
        rating: Rating,
        solved: Option<bool>,
        reason: Option<String>,
    },
    UnsatisfiedChecked {
        confirmed: bool,
        note: Option<String>,
        /// New feedback deadline when the unit handles it again.
        feedback_due: Option<Due>,
    },
    Reminded {
        deadline: Option<DeadlineKind>,
        due: Option<DateTime<FixedOffset>>,
        note: Option<String>,
    },
    Overdue {
        deadline: DeadlineKind,
        due: DateTime<FixedOffset>,
    },
    SupervisionOpened {
        reason: SupervisionReason,
        note: Option<String>,
        /// The unit that caused it; none when the hotline itself is late.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit: Option<UnitId>,
    },
    /// W16: a supervisor closed a supervision, with what was done.
    SupervisionClosed {
        reason: SupervisionReason,
        note: String,
    },
    FinalAnswerRequested {
        unit: UnitId,
        case: FinalAnswerCase,
        explanation: String,
    },
    FinalAnswerApproved,
    FinalAnswerRejected {
        reason: String,
    },
    FollowedUp {
        note: String,
    },
    /// The citizen attached files to their request; the bytes are in the attachment store.
    FilesAttached {
        files: Vec<CitizenFile>,
    },
    RecordingAttached {
        recording: Recording,
    },
    /// W3: the engine saw a unit, another agent or an outside service join the ticket's call.
    PartyJoined {
        call: String,
        party: CallParty,
        joined_at: DateTime<FixedOffset>,
    },
    /// W3: that party left the call.
    PartyLeft {
        call: String,
        party: CallParty,
        joined_at: DateTime<FixedOffset>,
        left_at: DateTime<FixedOffset>,
    },
    Archived,
}

impl EventKind {
    /// The wire name, for scenario output and logs.
    pub fn name(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.get("event").and_then(|e| e.as_str().map(str::to_string)))
            .unwrap_or_else(|| "unknown".into())
    }
}
