//! What a citizen sees of their own request: its state in plain words, the dates, the unit's
//! public name, the reply once the hotline's review passed, the hotline's direct answer, the
//! rating and the files. Built field by field from the ticket, never by filtering a staff
//! view, so nothing internal (staff names, notes, review reasons, the caller's data, other
//! tickets) can slip through.

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use super::submit::Lang;
use crate::workflow::action::{CallbackMethod, Rating};
use crate::workflow::event::EventKind;
use crate::workflow::model::{UnitId, INTERNET_RESPONSE_SECS};
use crate::workflow::ticket::{Ticket, TicketState};

/// The citizen's view (`GET /api/public/requests/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CitizenView {
    pub id: String,
    /// `received`, `accepted`, `with_unit`, `replied`, `awaiting_rating` or `closed`.
    pub state: &'static str,
    pub state_text: String,
    pub received_at: String,
    /// C13: the hotline responds by then (3 minutes after receipt).
    pub respond_by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub responded_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<Rating>,
    pub can_rate: bool,
    pub files: Vec<FileView>,
    pub timeline: Vec<TimelineEntry>,
}

/// A file the citizen attached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FileView {
    pub name: String,
    pub size: u64,
}

/// One step of the request's life, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TimelineEntry {
    pub at: String,
    pub text: String,
}

fn time(t: DateTime<FixedOffset>) -> String {
    crate::china_time::text(&t.with_timezone(&chrono::Utc))
}

/// The public state of a ticket.
pub fn public_state(t: &Ticket) -> &'static str {
    use TicketState as S;
    match &t.state {
        S::Draft { .. } | S::Received { .. } => "received",
        S::Accepted { .. } | S::Linked { .. } => "accepted",
        S::Dispatched { .. }
        | S::Handling { .. }
        | S::Returned { .. }
        | S::UnderReview { .. }
        | S::FinalAnswerPending { .. } => "with_unit",
        S::AwaitingCallback { .. } | S::CheckingRating { .. } => "replied",
        S::AwaitingRating { .. } => "awaiting_rating",
        S::Closed { .. } | S::Archived { .. } => "closed",
    }
}

/// Whether the citizen may rate now (a web callback waits for the rating).
pub fn can_rate(t: &Ticket) -> bool {
    matches!(
        t.state,
        TicketState::AwaitingRating {
            method: CallbackMethod::Web,
            ..
        }
    )
}

/// The view of `t` in `lang`; `unit_name` gives a unit's public name.
pub fn citizen_view(
    t: &Ticket,
    lang: Lang,
    unit_name: &dyn Fn(&UnitId) -> Option<String>,
) -> CitizenView {
    let name =
        |u: &UnitId| unit_name(u).unwrap_or_else(|| lang.pick("办理单位", "the unit").into());
    let unit = t
        .state
        .work()
        .map(|w| name(&w.lead))
        .or_else(|| t.visible_units().first().map(|u| name(u)));
    let state = public_state(t);
    let l = |zh: &str, en: &str| match lang {
        Lang::Zh => zh.to_string(),
        Lang::En => en.to_string(),
    };
    let state_text = match state {
        "received" => l("已收到，等待受理", "Received, waiting to be taken up"),
        "accepted" => l(
            "已受理，热线正在处理",
            "Accepted: the hotline is handling it",
        ),
        "with_unit" => match (&unit, lang) {
            (Some(u), Lang::Zh) => format!("正由{u}办理"),
            (Some(u), Lang::En) => format!("Being handled by {u}"),
            (None, _) => l("正由办理单位办理", "Being handled by the unit"),
        },
        "replied" => l("已答复", "Answered"),
        "awaiting_rating" => l("已答复，请您评价", "Answered: please rate the answer"),
        _ => l("已办结", "Closed"),
    };
    let mut reply = None;
    let mut pending_reply = None;
    let mut answer = None;
    let mut timeline = Vec::new();
    for e in &t.history {
        let text = match &e.kind {
            EventKind::Created { .. } => Some(l("已收到您的诉求", "We received your request")),
            EventKind::Accepted { .. } => {
                Some(l("热线已受理", "The hotline accepted your request"))
            }
            EventKind::DirectlyClosed { answer: a, .. } => {
                answer = Some(a.clone());
                Some(l("热线已直接答复", "The hotline answered your request"))
            }
            EventKind::Refused { explanation, .. } => {
                answer = Some(explanation.clone());
                Some(l(
                    "热线不予受理，并说明了原因",
                    "The hotline could not take this up and said why",
                ))
            }
            EventKind::LinkedEmergency { .. } => Some(l(
                "已转有关紧急服务处理",
                "Passed to the emergency service concerned",
            )),
            EventKind::Dispatched { lead, .. } => Some(match lang {
                Lang::Zh => format!("已转交{}办理", name(lead)),
                Lang::En => format!("Passed to {}", name(lead)),
            }),
            EventKind::FeedbackGiven { feedback } => {
                pending_reply = Some(feedback.result.clone());
                None
            }
            EventKind::ReviewPassed { .. } => {
                reply = pending_reply.take();
                Some(l("办理单位已答复", "The unit replied"))
            }
            EventKind::CallbackMade { method, .. } => Some(if *method == CallbackMethod::Web {
                l("请您对答复进行评价", "Please rate the answer")
            } else {
                l("热线已回访", "The hotline followed up with you")
            }),
            EventKind::Rated { .. } => Some(l("已评价", "Rated")),
            EventKind::FilesAttached { files } => Some(match lang {
                Lang::Zh => format!("收到您上传的 {} 个文件", files.len()),
                Lang::En => format!("Received {} file(s) from you", files.len()),
            }),
            _ => None,
        };
        if let Some(text) = text {
            timeline.push(TimelineEntry {
                at: time(e.at),
                text,
            });
        }
    }
    let received = t.intake.received_at;
    CitizenView {
        id: t.id.0.clone(),
        state,
        state_text,
        received_at: time(received),
        respond_by: time(received + chrono::Duration::seconds(INTERNET_RESPONSE_SECS)),
        responded_at: t.first_response_at().map(time),
        unit,
        reply,
        answer,
        rating: t.rating,
        can_rate: can_rate(t),
        files: t
            .files
            .iter()
            .map(|f| FileView {
                name: f.name.clone(),
                size: f.size,
            })
            .collect(),
        timeline,
    }
}
