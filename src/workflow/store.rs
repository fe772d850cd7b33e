//! The `TicketStore` trait: what the workflow needs from a database, so SQLite today and
//! PostgreSQL later sit behind the same seam. The store persists events and an index row per
//! ticket (for listing, sweeping and reports); it never decides anything.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

use super::action::{EmergencyService, Rating};
use super::event::Event;
use super::model::{Channel, RequestType, TicketId, UnitId, Urgency};
use super::repeat::RepeatCandidate;

/// A store failure. `Conflict` is the optimistic-concurrency refusal (HTTP 409).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("ticket {id} changed: expected version {expected}, it is at {actual}")]
    Conflict {
        id: TicketId,
        expected: u64,
        actual: u64,
    },
    #[error("ticket {id} already exists")]
    Duplicate { id: TicketId },
    #[error("ticket {id} not found")]
    NotFound { id: TicketId },
    #[error("store: {0}")]
    Backend(String),
    /// The disk (or the database's size limit) is full: nothing was written; retry later.
    #[error("store: the disk is full")]
    Full,
}

/// The columns a ticket is found by. Derived from the ticket by the workflow on every write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexRow {
    pub id: TicketId,
    pub version: u64,
    pub state: String,
    pub lead_unit: Option<UnitId>,
    /// Lead and assisting units: who may see the ticket.
    pub units: Vec<UnitId>,
    pub channel: Channel,
    pub request_type: RequestType,
    pub domain: String,
    pub urgency: Urgency,
    pub area: Option<String>,
    pub received_at: DateTime<FixedOffset>,
    /// Normalised caller number (W6); never shown.
    pub phone_key: Option<String>,
    /// First 200 characters of the content (W6 matching, list previews).
    pub content: String,
    /// The earliest running deadline (overdue = it passed).
    pub next_due: Option<DateTime<FixedOffset>>,
    /// When the sweep next has something to do.
    pub wake_at: Option<DateTime<FixedOffset>>,
    pub closed_at: Option<DateTime<FixedOffset>>,
    pub rating: Option<Rating>,
    pub repeat_of: Option<TicketId>,
    /// Refused or linked as a repeat: not an "earlier request" for W6.
    pub repeat_excluded: bool,
    pub supervised: bool,
    /// The call that brought the request (C9): the call → ticket direction of the link.
    #[serde(default)]
    pub call_id: Option<String>,
    /// The hotline's first response (C13), see `Ticket::first_response_at`.
    #[serde(default)]
    pub responded_at: Option<DateTime<FixedOffset>>,
    /// A connector's request: `channel:external_id` (issue 13's idempotency).
    #[serde(default)]
    pub external_key: Option<String>,
    /// The service number dialled (a phone request from a call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

/// Filters for listing (all optional) and the page wanted. Pages are newest received first
/// (then by id, descending); `after` continues after a given ticket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListQuery {
    pub state: Option<String>,
    pub unit: Option<UnitId>,
    pub request_type: Option<RequestType>,
    pub domain: Option<String>,
    pub channel: Option<Channel>,
    /// The ticket(s) opened for a call.
    pub call_id: Option<String>,
    /// The ticket a connector handed in under this `channel:external_id`.
    #[serde(default)]
    pub external_key: Option<String>,
    /// Tickets from one caller (the normalised number, W6): the desktop's history.
    #[serde(default)]
    pub phone_key: Option<String>,
    /// Only tickets of calls to this service number (an integrated number, `12315`).
    #[serde(default)]
    pub number: Option<String>,
    /// Only tickets under supervision (W16), for the supervisor's desk.
    #[serde(default)]
    pub supervised: Option<bool>,
    /// Only tickets whose earliest running deadline passed before this instant.
    pub overdue_at: Option<DateTime<FixedOffset>>,
    pub received_from: Option<DateTime<FixedOffset>>,
    pub received_to: Option<DateTime<FixedOffset>>,
    /// Continue after this id (exclusive), from the previous page's `next`.
    pub after: Option<TicketId>,
    pub limit: u32,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    pub items: Vec<IndexRow>,
    /// Pass as `after` for the next page; `None` on the last one.
    pub next: Option<TicketId>,
}

/// Counts for a period (W19 reports).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Report {
    pub from: Option<DateTime<FixedOffset>>,
    pub to: Option<DateTime<FixedOffset>>,
    pub total: u64,
    pub by_state: Vec<(String, u64)>,
    pub by_type: Vec<(String, u64)>,
    pub by_domain: Vec<(String, u64)>,
    pub by_channel: Vec<(String, u64)>,
    pub by_area: Vec<(String, u64)>,
    /// The four ratings of W14.
    pub ratings: Vec<(String, u64)>,
    /// Tickets whose deadline passed at the report's `now`.
    pub overdue: Vec<TicketId>,
    /// (repeat, earlier) pairs.
    pub repeats: Vec<(TicketId, TicketId)>,
    /// C13: how fast internet requests were responded to.
    #[serde(default)]
    pub internet_response: InternetResponse,
}

/// C13 for a period's internet requests (website, app, mini-program, public account): each is
/// responded to within 3 minutes, late, or still waiting (not responded, 3 minutes not yet
/// over at the report's `now`). One not responded after 3 minutes is late.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InternetResponse {
    pub received: u64,
    pub within_3_min: u64,
    pub late: u64,
    pub waiting: u64,
    /// `within_3_min / (within_3_min + late)`; `None` while nothing is decided.
    pub rate: Option<f64>,
}

impl InternetResponse {
    /// Counts one request received at `received` and responded to at `responded` (if yet).
    pub fn count(
        &mut self,
        received: DateTime<FixedOffset>,
        responded: Option<DateTime<FixedOffset>>,
        now: DateTime<FixedOffset>,
    ) {
        // Whole seconds, as the index stores them, so every store counts alike.
        let limit = crate::workflow::model::INTERNET_RESPONSE_SECS;
        let after = |t: DateTime<FixedOffset>| t.timestamp() - received.timestamp();
        self.received += 1;
        match responded {
            Some(r) if after(r) <= limit => self.within_3_min += 1,
            Some(_) => self.late += 1,
            None if after(now) > limit => self.late += 1,
            None => self.waiting += 1,
        }
        let decided = self.within_3_min + self.late;
        self.rate = (decided > 0).then(|| self.within_3_min as f64 / decided as f64);
    }
}

/// Persistence for tickets. Every write is atomic and durable before it returns.
pub trait TicketStore {
    /// Allocates the next id of a registration day (gaps after a failed create are allowed).
    fn next_id(&mut self, date: NaiveDate) -> Result<TicketId, StoreError>;
    /// Stores a new ticket's first events and index row.
    fn insert(&mut self, events: &[Event], row: &IndexRow) -> Result<(), StoreError>;
    /// The whole log of a ticket, in order (empty when unknown).
    fn events(&mut self, id: &TicketId) -> Result<Vec<Event>, StoreError>;
    /// Appends events if the ticket is still at `expected_version`, else `Conflict`.
    fn append(
        &mut self,
        id: &TicketId,
        expected_version: u64,
        events: &[Event],
        row: &IndexRow,
    ) -> Result<(), StoreError>;
    /// A filtered page of index rows.
    fn list(&mut self, query: &ListQuery) -> Result<Page, StoreError>;
    /// Tickets whose wake-up time has come, oldest first.
    fn due_for_sweep(
        &mut self,
        at: DateTime<FixedOffset>,
        limit: u32,
    ) -> Result<Vec<TicketId>, StoreError>;
    /// Earlier requests from the same normalised number received since `since`.
    fn repeat_candidates(
        &mut self,
        phone_key: &str,
        since: DateTime<FixedOffset>,
    ) -> Result<Vec<RepeatCandidate>, StoreError>;
    /// Counts for tickets received in `[from, to)`; overdue measured at `now`.
    fn report(
        &mut self,
        from: Option<DateTime<FixedOffset>>,
        to: Option<DateTime<FixedOffset>>,
        now: DateTime<FixedOffset>,
    ) -> Result<Report, StoreError>;
    /// C13 now: the open internet requests nobody at the hotline has responded to within
    /// 3 minutes, for the wallboard's alarm.
    fn internet_backlog(
        &mut self,
        now: DateTime<FixedOffset>,
    ) -> Result<InternetBacklog, StoreError>;
    /// C13 over the internet requests received in `[from, to)`, measured at `now`: the
    /// wallboard's rolling 24 h figure, without the rest of a report.
    fn internet_response(
        &mut self,
        from: DateTime<FixedOffset>,
        to: DateTime<FixedOffset>,
        now: DateTime<FixedOffset>,
    ) -> Result<InternetResponse, StoreError>;
    /// C12: the linkages to emergency and utility hotlines made in `[from, to)`, oldest
    /// first, for the statistics (`GET /api/stats`).
    fn emergency_linkages(
        &mut self,
        from: DateTime<FixedOffset>,
        to: DateTime<FixedOffset>,
    ) -> Result<Vec<EmergencyLinkage>, StoreError>;
}

/// C12: one request linked to an emergency or utility hotline, and how long after its
/// receipt (the call's start) that happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmergencyLinkage {
    pub ticket: TicketId,
    pub service: EmergencyService,
    pub at: DateTime<FixedOffset>,
    /// `None` for linkages recorded before the figure existed.
    pub after_secs: Option<i64>,
}

/// The linkages in a stretch of a ticket's log (what a store indexes as it appends).
pub fn linkages_in<'a>(
    id: &'a TicketId,
    events: &'a [Event],
) -> impl Iterator<Item = (u64, EmergencyLinkage)> + 'a {
    events.iter().filter_map(move |e| match &e.kind {
        super::event::EventKind::LinkedEmergency {
            service,
            after_secs,
            ..
        } => Some((
            e.seq,
            EmergencyLinkage {
                ticket: id.clone(),
                service: *service,
                at: e.at,
                after_secs: *after_secs,
            },
        )),
        _ => None,
    })
}

/// Open internet requests past C13's 3 minutes without a response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InternetBacklog {
    pub unanswered: u64,
    /// When the oldest of them came in.
    pub oldest_received: Option<DateTime<FixedOffset>>,
}

/// What the wallboard shows of C13, counted by the ticket store every few seconds: the
/// requests past 3 minutes without a response now, and the rolling 24 h response figures.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct InternetFigures {
    pub backlog: InternetBacklog,
    pub last_24h: InternetResponse,
}

/// Whether a row is an open internet request still without a response past C13's limit.
pub fn unanswered_internet(row: &IndexRow, now: DateTime<FixedOffset>) -> bool {
    row.channel.is_internet()
        && row.responded_at.is_none()
        && row.closed_at.is_none()
        && now.timestamp() - row.received_at.timestamp()
            > crate::workflow::model::INTERNET_RESPONSE_SECS
}

#[cfg(test)]
mod tests {
    use super::InternetResponse;
    use chrono::{DateTime, Duration};

    #[test]
    fn three_minutes_to_the_second_is_within_and_an_open_request_turns_late_after_them() {
        let t0 = DateTime::parse_from_rfc3339("2026-03-02T09:00:00+08:00").expect("time");
        let s = Duration::seconds;
        let mut r = InternetResponse::default();
        assert_eq!(r.rate, None);
        r.count(t0, Some(t0 + s(180)), t0 + s(600));
        r.count(t0, Some(t0 + s(181)), t0 + s(600));
        r.count(t0, None, t0 + s(180));
        assert_eq!(
            (r.received, r.within_3_min, r.late, r.waiting),
            (3, 1, 1, 1)
        );
        assert_eq!(r.rate, Some(0.5));
        r.count(t0, None, t0 + s(181));
        assert_eq!((r.late, r.waiting), (2, 1));
    }
}
