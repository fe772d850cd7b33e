//! What the ticket API answers, as types: one ticket with its due times and history, a list
//! row, a page. Typed so that the JSON and its OpenAPI schema come from the same code. Holds
//! no rule: it copies from the workflow's [`Ticket`] and the store's [`IndexRow`].

use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use utoipa::ToSchema;

use crate::masked::Masked;
use crate::workflow::action::{Rating, SupervisionReason};
use crate::workflow::calendar::Due;
use crate::workflow::model::{Caller, Channel, Domain, Recording, RequestType, UnitId, Urgency};
use crate::workflow::store::{IndexRow, Page};
use crate::workflow::ticket::TicketState;
use crate::workflow::{Ticket, TicketId};

/// Due times of a ticket as RFC 3339, and the warnings that came with them.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct DueView {
    /// Dispatch due (received, accepted or draft tickets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dispatch: Option<String>,
    /// Sign-off due (dispatched tickets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_off: Option<String>,
    /// Until when the unit may return the ticket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_window: Option<String>,
    /// Feedback due.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feedback: Option<String>,
    /// Rating (callback) due.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<String>,
    /// The hotline's decision on a return (W8); the unit's feedback clock stands still.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_decision: Option<String>,
    /// The callback after a passed review (W13).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback: Option<String>,
    /// E.g. a deadline computed past the end of the loaded calendar.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The units a dispatched ticket went to.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentView {
    pub lead: UnitId,
    pub assisting: Vec<UnitId>,
    /// RFC 3339.
    pub dispatched_at: String,
    /// 下派: the units that handed it on to `lead`, the dispatched unit first (the whole
    /// chain; the `handed_on` events say when and why).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub handed_from: Vec<UnitId>,
}

/// A suspected repeat (W6): the earlier ticket and the similarity score.
#[derive(Debug, Serialize, ToSchema)]
pub struct RepeatView {
    pub id: TicketId,
    pub score: f64,
}

/// One ticket (`GET /api/tickets/{id}`, and the answer of create and of every action).
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketView {
    pub id: TicketId,
    /// Pass back as `version` in an action to refuse a stale overwrite (409).
    pub version: u64,
    /// The state's name (`draft`, `received`, `dispatched`, …; `docs/WORKFLOW.md`).
    pub state: &'static str,
    pub channel: Channel,
    /// RFC 3339.
    pub received_at: String,
    /// Whole, as registered (W2): only people allowed to see the ticket get it.
    pub caller: Caller,
    /// The district's name of `area_code` (or free text from before the area tree).
    pub area: Option<String>,
    pub location: Option<String>,
    /// The area of the area tree (`GET /api/areas`); dispatch by area follows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area_code: Option<String>,
    /// `area_code`'s path for people: `city › district › street › community`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area_path: Option<String>,
    pub content: String,
    pub urgency: Urgency,
    #[serde(rename = "type")]
    pub request_type: RequestType,
    pub domain: Domain,
    pub category: Option<String>,
    /// The call that opened it, if any.
    pub call_id: Option<String>,
    /// The service number that call dialled (`12345`, or an integrated number: `12315`).
    pub number: Option<String>,
    pub recording: Option<Recording>,
    pub assignment: Option<AssignmentView>,
    pub due: DueView,
    pub overdue: bool,
    /// Open supervision reasons (W16).
    pub supervision: Vec<SupervisionReason>,
    pub repeat_of: Option<RepeatView>,
    /// Units that returned it (W8).
    pub returned_by: Vec<UnitId>,
    pub extension_requests: u32,
    pub rating: Option<Rating>,
    /// W13: who was chosen to make the callback of the latest passed review (`review_pass`,
    /// `set_callback_by`; the history says who chose and when); `null`: nobody chose, the
    /// configuration's `[callback] by` decides.
    pub callback_by: Option<crate::workflow::callback_by::CallbackMaker>,
    /// W3: who else was on the ticket's call (a handling unit, another agent, an outside
    /// service), when they joined and left (`left_at` `null`: still on the line).
    pub participation: Vec<crate::workflow::party::Participation>,
    /// The state with its data (deadlines, closure), as the workflow keeps it.
    #[schema(value_type = Object)]
    pub detail: TicketState,
    /// Every event so far, oldest first (`seq`, `at`, `actor`, `event` and its fields).
    #[schema(value_type = Vec<Object>)]
    pub history: Vec<crate::workflow::Event>,
    /// The actions the requesting user could take now (their input still to be given): the
    /// ticket desk offers these. The rules still check each action when it is sent.
    pub actions: Vec<&'static str>,
}

/// One row of `GET /api/tickets`: no history, the caller's number masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListItem {
    pub id: TicketId,
    pub version: u64,
    pub state: String,
    pub lead_unit: Option<UnitId>,
    pub units: Vec<UnitId>,
    pub channel: Channel,
    #[serde(rename = "type")]
    pub request_type: RequestType,
    pub domain: String,
    pub urgency: Urgency,
    pub area: Option<String>,
    /// RFC 3339.
    pub received_at: String,
    /// Masked, e.g. `138******00`.
    pub caller_phone: Option<String>,
    /// The first 60 characters.
    pub content: String,
    /// The nearest deadline, RFC 3339.
    pub next_due: Option<String>,
    pub overdue: bool,
    pub rating: Option<Rating>,
    pub repeat_of: Option<TicketId>,
    pub supervised: bool,
    pub call_id: Option<String>,
    /// The service number the ticket's call dialled.
    pub number: Option<String>,
}

/// A page of `GET /api/tickets`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketPage {
    pub items: Vec<ListItem>,
    /// Pass as `after` for the next page; `null` on the last one.
    pub next: Option<TicketId>,
}

/// The answer of `POST /api/sweep`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SweepView {
    /// Events the sweep logged (reminders, overdue marks, timed ratings, archiving).
    pub events: usize,
}

fn due_view(t: &Ticket) -> DueView {
    let mut v = DueView::default();
    let put = |slot: &mut Option<String>, d: &Due, warnings: &mut Vec<String>| {
        *slot = Some(d.at.to_rfc3339());
        if let Some(w) = &d.warning {
            if !warnings.contains(w) {
                warnings.push(w.clone());
            }
        }
    };
    let mut w = Vec::new();
    match &t.state {
        TicketState::Draft { dispatch_due }
        | TicketState::Received { dispatch_due }
        | TicketState::Accepted { dispatch_due } => put(&mut v.dispatch, dispatch_due, &mut w),
        TicketState::Dispatched { sign_due, .. } => put(&mut v.sign_off, sign_due, &mut w),
        TicketState::AwaitingRating { rating_due, .. } => put(&mut v.rating, rating_due, &mut w),
        TicketState::Returned {
            decision_due: Some(d),
            ..
        } => put(&mut v.return_decision, d, &mut w),
        TicketState::AwaitingCallback {
            callback_due: Some(d),
            ..
        } => put(&mut v.callback, d, &mut w),
        _ => {}
    }
    if let Some(work) = t.state.work() {
        if matches!(
            t.state,
            TicketState::Dispatched { .. } | TicketState::Handling { .. }
        ) {
            put(&mut v.return_window, &work.return_due, &mut w);
        }
        if let Some(f) = &work.feedback_due {
            if matches!(
                t.state,
                TicketState::Dispatched { .. } | TicketState::Handling { .. }
            ) {
                put(&mut v.feedback, f, &mut w);
            }
        }
    }
    v.warnings = w;
    v
}

impl TicketView {
    /// The view of `t` at `at` (for `overdue`), with the `actions` its reader could take now.
    /// The ticket as `reader` may see it (rule C16): the caller's whole number and name go
    /// only to those who handle the ticket — an agent who acted on it or could work on the
    /// request now (`actions` beyond mere oversight such as a reminder), its units,
    /// reviewers and supervisors; any other agent sees them masked, in the history too.
    pub fn for_reader(
        t: &Ticket,
        at: DateTime<FixedOffset>,
        actions: Vec<&'static str>,
        reader: &crate::workflow::model::Actor,
    ) -> Self {
        // Oversight needs no contact with the citizen.
        const OVERSIGHT: [&str; 4] = ["remind", "supervise", "close_supervision", "archive"];
        let handles = !matches!(reader.role, crate::workflow::Role::Agent)
            || actions.iter().any(|a| !OVERSIGHT.contains(a))
            || t.history.iter().any(|e| e.actor.user == reader.user);
        let mut view = Self::new(t, at, actions);
        if !handles {
            view.caller = masked_caller(&view.caller);
            for e in &mut view.history {
                if let crate::workflow::event::EventKind::Created { intake, .. }
                | crate::workflow::event::EventKind::Drafted { intake, .. } = &mut e.kind
                {
                    intake.caller = masked_caller(&intake.caller);
                }
                if let crate::workflow::event::EventKind::Completed {
                    caller_name: Some(name),
                    ..
                } = &mut e.kind
                {
                    *name = Masked::new(name.as_str()).masked();
                }
            }
        }
        view
    }

    /// Names the area's path from the tree (the view itself does not hold the tree).
    pub fn with_area_path(mut self, tree: &crate::workflow::areas::AreaTree) -> Self {
        self.area_path = self.area_code.as_deref().and_then(|c| tree.path_name(c));
        self
    }

    pub fn new(t: &Ticket, at: DateTime<FixedOffset>, actions: Vec<&'static str>) -> Self {
        let i = &t.intake;
        Self {
            id: t.id.clone(),
            version: t.version,
            state: t.state.name(),
            channel: i.channel,
            received_at: i.received_at.to_rfc3339(),
            caller: i.caller.clone(),
            area: i.area.clone(),
            location: i.location.clone(),
            area_code: i.area_code.clone(),
            area_path: None,
            content: i.content.clone(),
            urgency: i.urgency,
            request_type: i.request_type,
            domain: i.domain.clone(),
            category: i.category.clone(),
            call_id: i.call_id.clone(),
            number: i.number.clone(),
            recording: i.recording.clone(),
            assignment: t.state.work().map(|w| AssignmentView {
                lead: w.lead.clone(),
                assisting: w.assisting.clone(),
                dispatched_at: w.dispatched_at.to_rfc3339(),
                handed_from: w.handed_from.clone(),
            }),
            due: due_view(t),
            overdue: t.is_overdue(at),
            supervision: t.supervision.iter().copied().collect(),
            repeat_of: t
                .repeat_of
                .as_ref()
                .filter(|_| !t.repeat_cleared)
                .map(|(id, score)| RepeatView {
                    id: id.clone(),
                    score: *score,
                }),
            returned_by: t.returned_by.clone(),
            extension_requests: t.extension_requests,
            rating: t.rating,
            callback_by: t.callback_by(),
            participation: crate::workflow::party::participation(&t.history),
            detail: t.state.clone(),
            history: t.history.clone(),
            actions,
        }
    }
}

impl ListItem {
    /// The row of `r` at `at` (for `overdue`).
    pub fn new(r: &IndexRow, at: DateTime<FixedOffset>) -> Self {
        Self {
            id: r.id.clone(),
            version: r.version,
            state: r.state.clone(),
            lead_unit: r.lead_unit.clone(),
            units: r.units.clone(),
            channel: r.channel,
            request_type: r.request_type,
            domain: r.domain.clone(),
            urgency: r.urgency,
            area: r.area.clone(),
            received_at: r.received_at.to_rfc3339(),
            caller_phone: r.phone_key.as_deref().map(|p| Masked::new(p).masked()),
            content: r.content.chars().take(60).collect(),
            next_due: r.next_due.map(|d| d.to_rfc3339()),
            overdue: r.next_due.is_some_and(|d| d < at),
            rating: r.rating,
            repeat_of: r.repeat_of.clone(),
            supervised: r.supervised,
            call_id: r.call_id.clone(),
            number: r.number.clone(),
        }
    }
}

impl TicketPage {
    /// A page of rows at `at`.
    pub fn new(page: &Page, at: DateTime<FixedOffset>) -> Self {
        Self {
            items: page.items.iter().map(|r| ListItem::new(r, at)).collect(),
            next: page.next.clone(),
        }
    }
}

/// The answer of `GET /api/dispatch/categories`: matching categories and every domain.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryList {
    pub categories: Vec<crate::workflow::catalogue::Category>,
    pub domains: Vec<String>,
}

/// The answer of `GET /api/dispatch/units`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitList {
    pub units: Vec<crate::workflow::catalogue::Unit>,
}

/// A caller with number and name masked (at most half of each shows).
fn masked_caller(c: &Caller) -> Caller {
    Caller {
        name: c.name.as_deref().map(|n| Masked::new(n).masked()),
        phone: c.phone.as_deref().map(|p| Masked::new(p).masked()),
    }
}
