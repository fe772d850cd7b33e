//! What people ask the workflow to do ([`Action`], one variant per W-rule step) and why it
//! can say no ([`Refusal`], one variant per reason, each with a stable machine code).

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::model::{Domain, Recording, RequestType, TicketId, UnitId, Urgency};
use super::party::CallParty;

/// Legal-channel and inadmissible cases for refusing a request (W1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefuseReason {
    Litigation,
    Arbitration,
    DisciplineInspection,
    AdministrativeReview,
    InformationDisclosure,
    PetitionFiled,
    Unlawful,
    AgainstPublicOrder,
    SecretsOrPrivacy,
    /// Not one of W1's cases: the call carried no request (silent, harassing, misdialled).
    /// Only a call's draft can be closed this way; a registered request has content.
    NoRequest,
}

/// How a request was answered without dispatch (W3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DirectMethod {
    KnowledgeBase,
    ThreeWayTransfer,
    SpecialSeat,
}

/// A knowledge item's version a ticket cites (issue 16): kept as cited, whatever the item
/// becomes later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeRef {
    pub item: u64,
    pub version: u32,
}

/// Emergency and utility hotlines an urgent request is linked to (C12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EmergencyService {
    #[serde(rename = "110")]
    Police,
    #[serde(rename = "119")]
    Fire,
    #[serde(rename = "120")]
    Ambulance,
    #[serde(rename = "122")]
    Traffic,
    Water,
    Power,
    Gas,
    Heating,
}

/// A file attached to a reply (W11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Attachment {
    pub name: String,
    #[serde(default)]
    pub sha256: Option<String>,
}

/// The review criteria of W12, named when a reply is sent back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewCriterion {
    /// 要素完整: unit, time, facts.
    Complete,
    /// 准确清晰, in line with the rules.
    Accurate,
    /// 具体可行的解决方案或合理解释.
    ConcreteSolution,
    /// 针对性: answers the caller's concern.
    AnswersConcern,
}

/// How the callback is made (W13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallbackMethod {
    Phone,
    Sms,
    Web,
    Robot,
}

impl CallbackMethod {
    /// SMS and web callbacks are answered later; unanswered after 5 working days = not rated.
    pub fn is_asynchronous(self) -> bool {
        matches!(self, CallbackMethod::Sms | CallbackMethod::Web)
    }
}

/// What the engine's callback leaves on the ticket besides the answers (W13: the callback
/// and its recording are kept with the ticket).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallbackEvidence {
    /// The call that reached the citizen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<String>,
    /// That call's recording (the robot and the citizen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<Recording>,
    /// The citizen's spoken reason for 不满意.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_recording: Option<Recording>,
    /// Every try, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tries: Vec<CallbackTry>,
}

impl CallbackEvidence {
    pub fn is_empty(&self) -> bool {
        *self == CallbackEvidence::default()
    }
}

/// One try of the engine's callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallbackTry {
    pub at: DateTime<FixedOffset>,
    /// `answered`, `busy`, `no_answer`, `rejected` or `unreachable`.
    pub outcome: String,
}

/// Why the engine's callback brought no rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallbackMiss {
    /// Busy, no answer or unreachable at every try.
    NotReached,
    /// The number refused the call for good (no such number, refused).
    Unreachable,
    /// The number is on the do-not-call list: never dialled.
    DoNotCall,
    /// The citizen answered but did not answer the questions.
    NoInput,
    /// The citizen hung up before rating.
    HungUp,
    /// The citizen asked for a person (the agent may record the rating).
    ToPerson,
}

/// The four ratings of W14.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    Satisfied,
    BasicallySatisfied,
    /// 差评: its reason is recorded.
    Unsatisfied,
    /// 未评: declined, or no answer to an SMS/web callback within 5 working days.
    NotRated,
}

/// Why a ticket is under supervision (W16).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SupervisionReason {
    LateDispatch,
    LateSignOff,
    LateFeedback,
    ReplyNotMatchingFacts,
    PassedBackAndForth,
    RefusedWithinDuty,
    RepeatedUnresolved,
    /// W8: the hotline did not decide on a return in time.
    LateReturnDecision,
    /// W13: the callback was not made in time.
    LateCallback,
}

/// The cases in which a unit may give a final answer and ask for no further acceptance (W17).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FinalAnswerCase {
    OutsideScope,
    AgainstRulesRepeated,
    FalseReport,
    Harassment,
    RepeatWithoutNewFacts,
    WithdrawnByCaller,
}

/// Every step of W1–W18 a person (or the sweep) can take on a ticket. Fields that a rule
/// requires are `Option` here so that their absence is a typed [`Refusal`], not a parse error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// W1: accept (and keep the classification).
    Accept {
        #[serde(default)]
        note: Option<String>,
    },
    /// W1: refuse with an explanation told to the caller.
    Refuse {
        reason: RefuseReason,
        #[serde(default)]
        explanation: Option<String>,
    },
    /// W2: the agent completes the draft an answered call opened: content and classification.
    Complete {
        #[serde(default)]
        content: Option<String>,
        #[serde(default)]
        caller_name: Option<String>,
        #[serde(default)]
        area: Option<String>,
        #[serde(default)]
        location: Option<String>,
        /// An area code of the area tree (dispatch by area follows it).
        #[serde(default)]
        area_code: Option<String>,
        #[serde(default)]
        urgency: Option<Urgency>,
        #[serde(default, rename = "type")]
        request_type: Option<RequestType>,
        #[serde(default)]
        domain: Option<Domain>,
        #[serde(default)]
        category: Option<String>,
    },
    /// W1: correct the classification before dispatch.
    Classify {
        #[serde(default)]
        urgency: Option<Urgency>,
        #[serde(default, rename = "type")]
        request_type: Option<RequestType>,
        #[serde(default)]
        domain: Option<Domain>,
        #[serde(default)]
        category: Option<String>,
        /// An area code of the area tree, set or corrected before dispatch.
        #[serde(default)]
        area_code: Option<String>,
    },
    /// W3: answered directly; closing it ends the request.
    DirectClose {
        method: DirectMethod,
        #[serde(default)]
        answer: Option<String>,
        /// With `knowledge_base`: the item and version the answer cites (issue 16).
        #[serde(default)]
        knowledge: Option<KnowledgeRef>,
    },
    /// C12: linked to 110/119/120/122 or a utility hotline.
    LinkEmergency {
        service: EmergencyService,
        #[serde(default)]
        reference: Option<String>,
    },
    /// C12: what the linked hotline did; closes the ticket.
    RecordLinkedResult {
        #[serde(default)]
        result: Option<String>,
    },
    /// W6: the same facts as an earlier request: linked to it, not dispatched.
    LinkRepeat {
        earlier: TicketId,
        #[serde(default)]
        note: Option<String>,
    },
    /// W6: a suspected repeat carries new facts after all; dispatch becomes possible.
    ClearRepeat {
        #[serde(default)]
        reason: Option<String>,
    },
    /// W4/W5: dispatch to a lead unit (and assisting units); both default from the category.
    Dispatch {
        #[serde(default)]
        category: Option<String>,
        #[serde(default)]
        lead: Option<UnitId>,
        #[serde(default)]
        assisting: Option<Vec<UnitId>>,
    },
    /// W7: the lead unit signs for it.
    Sign,
    /// 下派 (二次派单): the lead unit that signed hands the ticket on to one of its sub-units,
    /// which signs and replies in its place; the deadlines keep running from the first
    /// unit's receipt (W7/W10).
    HandOn {
        #[serde(default)]
        unit: Option<UnitId>,
        #[serde(default)]
        reason: Option<String>,
    },
    /// W8: the lead unit returns it, with a reason and a reassignment suggestion.
    Return {
        #[serde(default)]
        reason: Option<String>,
        #[serde(default)]
        suggestion: Option<String>,
    },
    /// W8: the hotline accepts the return; the ticket waits for a new dispatch.
    AcceptReturn {
        #[serde(default)]
        note: Option<String>,
    },
    /// W8: the return is not justified; the unit keeps it and may not return it again.
    RejectReturn {
        #[serde(default)]
        reason: Option<String>,
    },
    /// W9: ask for more working days, after telling the caller why.
    RequestExtension {
        #[serde(default)]
        reason: Option<String>,
        days: u32,
        #[serde(default)]
        caller_informed: bool,
    },
    /// W9: grant the extension (optionally fewer days than asked).
    ApproveExtension {
        #[serde(default)]
        days: Option<u32>,
    },
    /// W9: refuse the extension; the deadline stays.
    RejectExtension {
        #[serde(default)]
        reason: Option<String>,
    },
    /// W5: an assisting unit's contribution to the lead unit's reply.
    AssistReply {
        #[serde(default)]
        text: Option<String>,
    },
    /// W10/W11: the reply, with its required parts; `staged_follow_up` makes it a staged
    /// closing (阶段性办结, W17) that the unit keeps following.
    Feedback {
        #[serde(default)]
        contact: Option<String>,
        #[serde(default)]
        verification: Option<String>,
        #[serde(default)]
        legal_basis: Option<String>,
        #[serde(default)]
        result: Option<String>,
        #[serde(default)]
        attachments: Vec<Attachment>,
        #[serde(default)]
        caller_informed: bool,
        #[serde(default)]
        staged_follow_up: Option<String>,
        /// Knowledge items (versions) the reply rests on, besides `legal_basis` (issue 16).
        #[serde(default)]
        cites: Vec<KnowledgeRef>,
    },
    /// W12: the reply passes review; the reviewer may say who makes the W13 callback
    /// (absent: the configuration's `[callback] by`).
    ReviewPass {
        #[serde(default)]
        callback_by: Option<super::callback_by::CallbackMaker>,
    },
    /// W13: a reviewer or supervisor changes who makes the callback while the ticket awaits it.
    SetCallbackBy {
        #[serde(default)]
        callback_by: Option<super::callback_by::CallbackMaker>,
    },
    /// W12: the reply fails review and goes back for a new one.
    ReviewSendBack {
        #[serde(default)]
        failed: Vec<ReviewCriterion>,
        #[serde(default)]
        reason: Option<String>,
    },
    /// W13/W14: the callback; SMS and web callbacks may leave `rating` empty and wait.
    Callback {
        method: CallbackMethod,
        consent: bool,
        #[serde(default)]
        contacted: Option<bool>,
        #[serde(default)]
        solved: Option<bool>,
        #[serde(default)]
        rating: Option<Rating>,
        #[serde(default)]
        reason: Option<String>,
        /// The engine's own callback (the robot): its call, recordings and tries.
        #[serde(default, skip_serializing_if = "CallbackEvidence::is_empty")]
        evidence: CallbackEvidence,
    },
    /// W13/W14: the engine's callback reached nobody, or no rating (busy, no answer after the
    /// last try, the number on the do-not-call list, the citizen silent or gone): the ticket
    /// waits for a rating by other means, 未评 after `rating_days` (engine only).
    CallbackMissed {
        method: CallbackMethod,
        why: CallbackMiss,
        #[serde(default, skip_serializing_if = "CallbackEvidence::is_empty")]
        evidence: CallbackEvidence,
    },
    /// W14: the answer to an SMS or web callback.
    RecordRating {
        rating: Rating,
        #[serde(default)]
        solved: Option<bool>,
        #[serde(default)]
        reason: Option<String>,
    },
    /// W15: check an unsatisfied rating; confirmed → handled again by the unit.
    CheckUnsatisfied {
        confirmed: bool,
        #[serde(default)]
        note: Option<String>,
    },
    /// W16: a manual reminder (催办).
    Remind {
        #[serde(default)]
        note: Option<String>,
    },
    /// W16: put it under supervision (督办).
    Supervise {
        reason: SupervisionReason,
        #[serde(default)]
        note: Option<String>,
    },
    /// W16: a supervisor closes a supervision, saying what was done about it.
    CloseSupervision {
        reason: SupervisionReason,
        #[serde(default)]
        note: Option<String>,
    },
    /// C12: the engine transferred the call to an emergency or utility hotline: the call's
    /// ticket is urgent and linked in this one step (engine only).
    EmergencyTransferred { service: EmergencyService },
    /// GB/T 44190 6.3.2: the engine transferred the call to a utility unit's own hotline
    /// (`[transfer.numbers]`, the unit's `phone`): the ticket records the hand-over; the
    /// utility then works the ticket like any unit (engine only).
    UtilityTransferred { unit: UnitId },
    /// W17: the unit gives a final answer and asks for no further acceptance.
    RequestFinalAnswer {
        case: FinalAnswerCase,
        #[serde(default)]
        explanation: Option<String>,
    },
    /// W17: the hotline agrees; closes it and marks the facts as not to be accepted again.
    ApproveFinalAnswer,
    /// W17: the hotline disagrees; the unit keeps handling it.
    RejectFinalAnswer {
        #[serde(default)]
        reason: Option<String>,
    },
    /// W17: continued follow-up on a staged closing.
    FollowUp {
        #[serde(default)]
        note: Option<String>,
    },
    /// C9: attach the call recording (needed before archiving a phone ticket).
    AttachRecording { recording: Recording },
    /// W3: a unit, another agent or an outside service joined the ticket's call (engine only).
    PartyJoined {
        call: String,
        party: CallParty,
        joined_at: DateTime<FixedOffset>,
    },
    /// W3: that party left the call (engine only).
    PartyLeft {
        call: String,
        party: CallParty,
        joined_at: DateTime<FixedOffset>,
        left_at: DateTime<FixedOffset>,
    },
    /// W18: archive a closed ticket; nothing changes afterwards.
    Archive,
}

impl Action {
    /// The action's wire name, for messages and the history.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Accept { .. } => "accept",
            Action::Refuse { .. } => "refuse",
            Action::Complete { .. } => "complete",
            Action::Classify { .. } => "classify",
            Action::DirectClose { .. } => "direct_close",
            Action::LinkEmergency { .. } => "link_emergency",
            Action::RecordLinkedResult { .. } => "record_linked_result",
            Action::LinkRepeat { .. } => "link_repeat",
            Action::ClearRepeat { .. } => "clear_repeat",
            Action::Dispatch { .. } => "dispatch",
            Action::Sign => "sign",
            Action::HandOn { .. } => "hand_on",
            Action::Return { .. } => "return",
            Action::AcceptReturn { .. } => "accept_return",
            Action::RejectReturn { .. } => "reject_return",
            Action::RequestExtension { .. } => "request_extension",
            Action::ApproveExtension { .. } => "approve_extension",
            Action::RejectExtension { .. } => "reject_extension",
            Action::AssistReply { .. } => "assist_reply",
            Action::Feedback { .. } => "feedback",
            Action::ReviewPass { .. } => "review_pass",
            Action::SetCallbackBy { .. } => "set_callback_by",
            Action::ReviewSendBack { .. } => "review_send_back",
            Action::Callback { .. } => "callback",
            Action::CallbackMissed { .. } => "callback_missed",
            Action::RecordRating { .. } => "record_rating",
            Action::CheckUnsatisfied { .. } => "check_unsatisfied",
            Action::Remind { .. } => "remind",
            Action::Supervise { .. } => "supervise",
            Action::CloseSupervision { .. } => "close_supervision",
            Action::EmergencyTransferred { .. } => "emergency_transferred",
            Action::UtilityTransferred { .. } => "utility_transferred",
            Action::RequestFinalAnswer { .. } => "request_final_answer",
            Action::ApproveFinalAnswer => "approve_final_answer",
            Action::RejectFinalAnswer { .. } => "reject_final_answer",
            Action::FollowUp { .. } => "follow_up",
            Action::AttachRecording { .. } => "attach_recording",
            Action::PartyJoined { .. } => "party_joined",
            Action::PartyLeft { .. } => "party_left",
            Action::Archive => "archive",
        }
    }
}

/// Why an action was refused. Each variant has a stable [`Refusal::code`] for the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("`{action}` is not possible while the ticket is {state}")]
    NotAllowed {
        action: &'static str,
        state: &'static str,
    },
    #[error("the ticket is archived (W18): nothing can change any more")]
    Archived,
    #[error("the role {role} may not `{action}`")]
    WrongRole { action: &'static str, role: String },
    #[error("unit `{unit}` is not the unit this ticket is assigned to (`{assigned}`)")]
    WrongUnit { unit: UnitId, assigned: UnitId },
    #[error("unit `{unit}` is not handling this ticket")]
    NotYourTicket { unit: UnitId },
    #[error("`{field}` is required: {why}")]
    MissingField {
        field: &'static str,
        why: &'static str,
    },
    #[error("the feedback lacks `{field}` (W11: contact with the caller, verification, legal basis and result are required)")]
    FeedbackMissingField { field: &'static str },
    #[error("unit `{unit}` already returned this ticket once; a second return is refused (W8)")]
    SecondReturn { unit: UnitId },
    #[error("the return window closed at {due} (W8: within 2 working days)")]
    ReturnWindowClosed { due: String },
    #[error("{max} extensions were already requested; no more are allowed (W9)")]
    ExtensionLimit { max: u32 },
    #[error("an extension request is already waiting for a decision")]
    ExtensionPending,
    #[error("no extension request is waiting for a decision")]
    NoPendingExtension,
    #[error("extension of {days} working days is outside 1..={max}")]
    ExtensionDays { days: u32, max: u32 },
    #[error("the caller must be told first ({why})")]
    CallerNotInformed { why: &'static str },
    #[error("only urgent requests are linked to emergency hotlines (C12)")]
    NotUrgent,
    #[error("unknown unit `{unit}` (not in the dispatch catalogue)")]
    UnknownUnit { unit: UnitId },
    #[error("unknown category `{category}` (not in the dispatch catalogue)")]
    UnknownCategory { category: String },
    #[error("unknown domain `{domain}`")]
    UnknownDomain { domain: String },
    #[error("no lead unit: give `lead` or a `category` from the catalogue")]
    NoLeadUnit,
    #[error("unit `{unit}` is both lead and assisting")]
    LeadAlsoAssisting { unit: UnitId },
    #[error("this repeats ticket {earlier} (W6): link it, or clear the suspicion with a reason")]
    RepeatNotDispatched { earlier: TicketId },
    #[error("no repeat suspicion to clear")]
    NoRepeatSuspected,
    #[error("ticket {id} cannot be linked as the earlier request: {why}")]
    BadEarlier { id: TicketId, why: &'static str },
    #[error("a rating is required for a {method} callback")]
    RatingRequired { method: &'static str },
    #[error("an unsatisfied rating needs its reason (W14)")]
    RatingReasonRequired,
    #[error(
        "cannot archive: {missing} is missing (W18: original material including the recording)"
    )]
    ArchiveIncomplete { missing: &'static str },
    #[error("the ticket is not a staged closing; there is nothing to follow up")]
    NotStaged,
    #[error("`unclassified` is only for drafts: give the request's type (W2)")]
    Unclassified,
    #[error("a reply names at most {max} attachments (bundle more into one archive)")]
    TooManyAttachments { max: usize },
    #[error("`{field}` is set by the engine only (the call it answered, the file it recorded), never by a client")]
    EngineOnly { field: &'static str },
    #[error("`{field}` is longer than {max} characters")]
    FieldTooLong { field: String, max: usize },
    #[error("the ticket is not under supervision for {reason:?}")]
    NotSupervised { reason: SupervisionReason },
    #[error("ticket {earlier} got a final answer with no further acceptance (W17): only a supervisor may clear this, with a reason")]
    FinalAnswerRepeat { earlier: TicketId },
    #[error("the ticket has {max} events, the most one may carry: open a new ticket linked to it")]
    TicketFull { max: u64 },
    #[error("unknown area `{code}` (not in the area tree, config/areas.toml): search `GET /api/areas?q=` for its code")]
    UnknownArea { code: String },
    #[error("unit `{unit}` is not a sub-unit of `{of}`: a ticket is handed on only down the units' tree (`parent` in the dispatch catalogue)")]
    NotSubUnit { unit: UnitId, of: UnitId },
    #[error("unit `{unit}` has no sub-units to hand a ticket on to")]
    NoSubUnit { unit: UnitId },
    #[error("unit `{unit}` is not a utility (`kind = \"utility\"` in the dispatch catalogue)")]
    NotUtility { unit: UnitId },
    #[error("`three_way_transfer` closes a request only when a handling unit took part in its call (W3), and no unit joined this ticket's call: bring the unit onto the call first, or close it with another method")]
    NoUnitOnCall,
}

/// The most files one reply may name: a reply is a few documents and photos, and the number
/// bounds what a reviewer must open and what the archive must copy.
pub const MAX_FEEDBACK_ATTACHMENTS: usize = 20;

impl Refusal {
    /// Stable machine-readable code (`snake_case`), the API's `code` field.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NotAllowed { .. } => "not_allowed_in_state",
            Refusal::Archived => "archived",
            Refusal::WrongRole { .. } => "wrong_role",
            Refusal::WrongUnit { .. } => "wrong_unit",
            Refusal::NotYourTicket { .. } => "not_your_ticket",
            Refusal::MissingField { .. } => "missing_field",
            Refusal::FeedbackMissingField { .. } => "feedback_missing_field",
            Refusal::SecondReturn { .. } => "second_return",
            Refusal::ReturnWindowClosed { .. } => "return_window_closed",
            Refusal::ExtensionLimit { .. } => "extension_limit",
            Refusal::ExtensionPending => "extension_pending",
            Refusal::NoPendingExtension => "no_pending_extension",
            Refusal::ExtensionDays { .. } => "extension_days",
            Refusal::CallerNotInformed { .. } => "caller_not_informed",
            Refusal::NotUrgent => "not_urgent",
            Refusal::UnknownUnit { .. } => "unknown_unit",
            Refusal::UnknownCategory { .. } => "unknown_category",
            Refusal::UnknownDomain { .. } => "unknown_domain",
            Refusal::NoLeadUnit => "no_lead_unit",
            Refusal::LeadAlsoAssisting { .. } => "lead_also_assisting",
            Refusal::RepeatNotDispatched { .. } => "repeat_not_dispatched",
            Refusal::NoRepeatSuspected => "no_repeat_suspected",
            Refusal::BadEarlier { .. } => "bad_earlier",
            Refusal::RatingRequired { .. } => "rating_required",
            Refusal::RatingReasonRequired => "rating_reason_required",
            Refusal::ArchiveIncomplete { .. } => "archive_incomplete",
            Refusal::NotStaged => "not_staged",
            Refusal::Unclassified => "unclassified",
            Refusal::TooManyAttachments { .. } => "too_many_attachments",
            Refusal::EngineOnly { .. } => "engine_only",
            Refusal::FieldTooLong { .. } => "field_too_long",
            Refusal::TicketFull { .. } => "ticket_full",
            Refusal::NotSupervised { .. } => "not_supervised",
            Refusal::FinalAnswerRepeat { .. } => "final_answer_repeat",
            Refusal::NoUnitOnCall => "no_unit_on_call",
            Refusal::UnknownArea { .. } => "unknown_area",
            Refusal::NotSubUnit { .. } => "not_sub_unit",
            Refusal::NoSubUnit { .. } => "no_sub_unit",
            Refusal::NotUtility { .. } => "not_utility",
        }
    }

    /// Whether the refusal is about *who* acts (HTTP 403) rather than *what* (409/422).
    pub fn is_forbidden(&self) -> bool {
        matches!(
            self,
            Refusal::WrongRole { .. }
                | Refusal::WrongUnit { .. }
                | Refusal::NotYourTicket { .. }
                | Refusal::EngineOnly { .. }
                | Refusal::FinalAnswerRepeat { .. }
        )
    }

    /// Whether the request itself is malformed or incomplete (HTTP 422) rather than a
    /// conflict with the ticket's state (HTTP 409).
    pub fn is_invalid_input(&self) -> bool {
        matches!(
            self,
            Refusal::MissingField { .. }
                | Refusal::FeedbackMissingField { .. }
                | Refusal::ExtensionDays { .. }
                | Refusal::CallerNotInformed { .. }
                | Refusal::UnknownUnit { .. }
                | Refusal::UnknownCategory { .. }
                | Refusal::UnknownDomain { .. }
                | Refusal::NoLeadUnit
                | Refusal::LeadAlsoAssisting { .. }
                | Refusal::RatingRequired { .. }
                | Refusal::RatingReasonRequired
                | Refusal::Unclassified
                | Refusal::TooManyAttachments { .. }
                | Refusal::FieldTooLong { .. }
                | Refusal::NoUnitOnCall
                | Refusal::UnknownArea { .. }
                | Refusal::NotSubUnit { .. }
                | Refusal::NotUtility { .. }
        )
    }

    /// Whether the request names something that does not exist in the configuration
    /// (an area code): HTTP 400, like a malformed value.
    pub fn is_bad_request(&self) -> bool {
        matches!(self, Refusal::UnknownArea { .. })
    }
}

/// A required, non-blank text field, or the refusal that names it.
pub(crate) fn need(
    v: &Option<String>,
    field: &'static str,
    why: &'static str,
) -> Result<String, Refusal> {
    match v.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => Ok(s.to_string()),
        _ => Err(Refusal::MissingField { field, why }),
    }
}

/// A required W11 feedback part, or the refusal that names it.
pub(crate) fn feedback_field(v: &Option<String>, field: &'static str) -> Result<String, Refusal> {
    match v.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => Ok(s.to_string()),
        _ => Err(Refusal::FeedbackMissingField { field }),
    }
}
