//! Which actions a user could take on a ticket now: the ticket desk offers these and no others,
//! so a unit looking at a dispatched ticket sees "sign" and "return", not the twenty actions its
//! role might take some day. The answer comes from [`Rules::decide`] itself, tried with empty
//! input, so it can never disagree with the rules; the rules still have the last word when the
//! real action arrives with its input.

use chrono::{DateTime, FixedOffset};

use crate::workflow::action::{
    Action, CallbackMethod, DirectMethod, EmergencyService, FinalAnswerCase, Rating, RefuseReason,
    SupervisionReason,
};
use crate::workflow::decide::Rules;
use crate::workflow::model::{Actor, Recording, TicketId, UnitId};
use crate::workflow::{Refusal, Ticket};

/// The wire name of every kind of action, in the order the API offers them: a page that
/// acts on tickets must have a form for each that a person can be offered.
pub fn action_names() -> Vec<&'static str> {
    probes().iter().map(Action::name).collect()
}

/// One action of every kind, with no input beyond what its type requires.
pub(crate) fn probes() -> Vec<Action> {
    vec![
        Action::Complete {
            content: None,
            caller_name: None,
            area: None,
            location: None,
            area_code: None,
            urgency: None,
            request_type: None,
            domain: None,
            category: None,
        },
        Action::Accept { note: None },
        Action::Refuse {
            reason: RefuseReason::Unlawful,
            explanation: None,
        },
        Action::Classify {
            urgency: None,
            request_type: None,
            domain: None,
            category: None,
            area_code: None,
        },
        Action::DirectClose {
            method: DirectMethod::KnowledgeBase,
            answer: None,
            knowledge: None,
        },
        Action::LinkEmergency {
            service: EmergencyService::Police,
            reference: None,
        },
        Action::RecordLinkedResult { result: None },
        Action::LinkRepeat {
            earlier: TicketId(String::new()),
            note: None,
        },
        Action::ClearRepeat { reason: None },
        Action::Dispatch {
            category: None,
            lead: None,
            assisting: None,
        },
        Action::Sign,
        Action::UtilityTransferred {
            unit: UnitId::new("water"),
        },
        Action::HandOn {
            unit: None,
            reason: None,
        },
        Action::Return {
            reason: None,
            suggestion: None,
        },
        Action::AcceptReturn { note: None },
        Action::RejectReturn { reason: None },
        Action::RequestExtension {
            reason: None,
            days: 0,
            caller_informed: false,
        },
        Action::ApproveExtension { days: None },
        Action::RejectExtension { reason: None },
        Action::AssistReply { text: None },
        Action::Feedback {
            contact: None,
            verification: None,
            legal_basis: None,
            result: None,
            attachments: Vec::new(),
            caller_informed: false,
            staged_follow_up: None,
            cites: Vec::new(),
        },
        Action::ReviewPass { callback_by: None },
        Action::SetCallbackBy { callback_by: None },
        Action::ReviewSendBack {
            failed: Vec::new(),
            reason: None,
        },
        Action::Callback {
            method: CallbackMethod::Phone,
            consent: true,
            contacted: None,
            solved: None,
            rating: None,
            reason: None,
            evidence: Default::default(),
        },
        Action::CallbackMissed {
            method: CallbackMethod::Robot,
            why: crate::workflow::action::CallbackMiss::NotReached,
            evidence: Default::default(),
        },
        Action::RecordRating {
            rating: Rating::Satisfied,
            solved: None,
            reason: None,
        },
        Action::CheckUnsatisfied {
            confirmed: true,
            note: None,
        },
        Action::Remind { note: None },
        Action::Supervise {
            reason: SupervisionReason::LateFeedback,
            note: None,
        },
        Action::CloseSupervision {
            reason: SupervisionReason::LateFeedback,
            note: None,
        },
        Action::EmergencyTransferred {
            service: super::action::EmergencyService::Police,
        },
        Action::RequestFinalAnswer {
            case: FinalAnswerCase::OutsideScope,
            explanation: None,
        },
        Action::ApproveFinalAnswer,
        Action::RejectFinalAnswer { reason: None },
        Action::FollowUp { note: None },
        Action::AttachRecording {
            recording: Recording {
                path: String::new(),
                sha256: String::new(),
            },
        },
        Action::PartyJoined {
            call: String::new(),
            party: crate::workflow::party::CallParty::Agent {
                agent: String::new(),
            },
            joined_at: DateTime::UNIX_EPOCH.fixed_offset(),
        },
        Action::PartyLeft {
            call: String::new(),
            party: crate::workflow::party::CallParty::Agent {
                agent: String::new(),
            },
            joined_at: DateTime::UNIX_EPOCH.fixed_offset(),
            left_at: DateTime::UNIX_EPOCH.fixed_offset(),
        },
        Action::Archive,
    ]
}

/// Whether a refusal of the empty probe still leaves the action open: only its input was
/// missing or wrong (and the user will give it).
fn open_with_input(r: &Refusal) -> bool {
    r.is_invalid_input() || matches!(r, Refusal::BadEarlier { .. })
}

impl Rules<'_> {
    /// The actions (by their API names, in the desk's order) `actor` could take on `t` at
    /// `at`: those the state and the role allow, even if the action still needs its input.
    pub fn available_actions(
        &self,
        t: &Ticket,
        actor: &Actor,
        at: DateTime<FixedOffset>,
    ) -> Vec<&'static str> {
        probes()
            .iter()
            .filter(|a| match self.decide(t, actor, a, at) {
                Ok(_) => true,
                // The probe names one reason; any open supervision can be closed.
                Err(Refusal::NotSupervised { .. }) => !t.supervision.is_empty(),
                Err(r) => open_with_input(&r),
            })
            .map(Action::name)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of action, numbered by an exhaustive match: a new kind fails to compile
    /// here until it is numbered, and then fails the test until it has its probe.
    fn ordinal(a: &Action) -> usize {
        match a {
            Action::Accept { .. } => 0,
            Action::Refuse { .. } => 1,
            Action::Complete { .. } => 2,
            Action::Classify { .. } => 3,
            Action::DirectClose { .. } => 4,
            Action::LinkEmergency { .. } => 5,
            Action::RecordLinkedResult { .. } => 6,
            Action::LinkRepeat { .. } => 7,
            Action::ClearRepeat { .. } => 8,
            Action::Dispatch { .. } => 9,
            Action::Sign => 10,
            Action::Return { .. } => 11,
            Action::AcceptReturn { .. } => 12,
            Action::RejectReturn { .. } => 13,
            Action::RequestExtension { .. } => 14,
            Action::ApproveExtension { .. } => 15,
            Action::RejectExtension { .. } => 16,
            Action::AssistReply { .. } => 17,
            Action::Feedback { .. } => 18,
            Action::ReviewPass { .. } => 19,
            Action::ReviewSendBack { .. } => 20,
            Action::Callback { .. } => 21,
            Action::RecordRating { .. } => 22,
            Action::CheckUnsatisfied { .. } => 23,
            Action::Remind { .. } => 24,
            Action::Supervise { .. } => 25,
            Action::RequestFinalAnswer { .. } => 26,
            Action::ApproveFinalAnswer => 27,
            Action::RejectFinalAnswer { .. } => 28,
            Action::FollowUp { .. } => 29,
            Action::AttachRecording { .. } => 30,
            Action::Archive => 31,
            Action::CloseSupervision { .. } => 32,
            Action::EmergencyTransferred { .. } => 33,
            Action::PartyJoined { .. } => 34,
            Action::PartyLeft { .. } => 35,
            Action::CallbackMissed { .. } => 36,
            Action::SetCallbackBy { .. } => 37,
            Action::HandOn { .. } => 38,
            Action::UtilityTransferred { .. } => 39,
        }
    }

    #[test]
    fn every_kind_of_action_is_probed_once() {
        let mut seen: Vec<usize> = probes().iter().map(ordinal).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..40).collect::<Vec<_>>());
    }
}
