//! The ticket's vocabulary: ids, channels, classification, the caller, the intake record and
//! who acts. Plain data with serde names that the HTTP API and the event log share.

use std::fmt;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// A people-readable ticket id, `YYYYMMDD-NNNNNN` (registration date, then the day's sequence),
/// so a caller can read it out over the phone.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(transparent)]
pub struct TicketId(pub String);

impl TicketId {
    /// Builds the id from the registration date and the day's sequence number.
    pub fn new(date: chrono::NaiveDate, seq: u32) -> Self {
        Self(format!("{}-{seq:06}", date.format("%Y%m%d")))
    }
}

impl fmt::Display for TicketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A handling unit's id as written in `config/dispatch.toml` (e.g. `water`, `housing`).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(transparent)]
pub struct UnitId(pub String);

impl UnitId {
    /// Wraps a unit id.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }
}

impl fmt::Display for UnitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a request came in (C15: one intake for every channel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Phone,
    Sms,
    Web,
    App,
    MiniProgram,
    PublicAccount,
    Mailbox,
    NationalPlatform,
}

impl Channel {
    /// The internet channels of C13 (website, app, mini-program, public account): a request
    /// that comes in on one of them must be responded to within [`INTERNET_RESPONSE_SECS`].
    pub fn is_internet(self) -> bool {
        matches!(
            self,
            Channel::Web | Channel::App | Channel::MiniProgram | Channel::PublicAccount
        )
    }
}

/// C13: the longest time from an internet request's receipt to the hotline's first response.
pub const INTERNET_RESPONSE_SECS: i64 = 180;

/// Urgency (紧急类 / 非紧急类): urgent ones are linked to emergency hotlines at once (C12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Urgent,
    NonUrgent,
}

/// Request type; it sets the feedback deadline (W10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestType {
    /// 咨询
    Consultation,
    /// 求助
    Help,
    /// 意见建议
    Suggestion,
    /// 投诉举报
    Complaint,
    /// 其他
    Other,
    /// 未分类: a draft opened by an answered call, before the agent has classified it.
    /// Never accepted on a registered request; completing the draft replaces it.
    Unclassified,
}

/// Content domain (经济调节, 市场监管, …). A string because the list is extensible by config;
/// [`crate::workflow::catalogue::DispatchCatalogue`] holds the allowed values.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Domain(pub String);

/// The five domains the standard names, allowed when a catalogue lists none.
pub const STANDARD_DOMAINS: [&str; 5] = [
    "economic_regulation",
    "market_supervision",
    "social_management",
    "public_service",
    "environmental_protection",
];

/// The domain a draft carries until the agent classifies it (not a catalogue domain, so a
/// registered request can never keep it).
pub const UNCLASSIFIED_DOMAIN: &str = "unclassified";

/// What the telephony side knows when an agent answers a call: enough to open a draft
/// ticket the agent completes during the call (the call → ticket link is `call_id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallDraft {
    pub call_id: String,
    /// When the call reached the hotline: deadlines count from it.
    pub received_at: DateTime<FixedOffset>,
    /// The caller's number as received (stored whole, W2).
    #[serde(default)]
    pub caller_phone: Option<String>,
    /// The queue and the IVR path, so the agent sees how the caller got here.
    #[serde(default)]
    pub queue: Option<String>,
    #[serde(default)]
    pub menu_path: Vec<String>,
    /// The service number the citizen dialled (an integrated number: `12315`).
    #[serde(default)]
    pub number: Option<String>,
}

/// The caller as recorded on the ticket, stored whole (W2). Outside the ticket show it
/// through [`crate::masked::Masked`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Caller {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// A recording of the call that brought the request (C9), checked by its hash when archived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Recording {
    pub path: String,
    pub sha256: String,
}

/// Everything recorded when a request is received (W2). Immutable afterwards: corrections
/// are events of their own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intake {
    pub channel: Channel,
    /// When the request reached the hotline (or the forwarding platform) — deadlines count from it.
    pub received_at: DateTime<FixedOffset>,
    #[serde(default)]
    pub caller: Caller,
    #[serde(default)]
    pub area: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    /// The area of the area tree (`config/areas.toml`) the request is about: dispatch by area
    /// follows it (网格化); `area` then carries its district's name for people and trends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area_code: Option<String>,
    pub content: String,
    pub urgency: Urgency,
    #[serde(rename = "type")]
    pub request_type: RequestType,
    pub domain: Domain,
    /// Dispatch-catalogue category, when the agent already knows it (decides W4's "immediately").
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub call_id: Option<String>,
    #[serde(default)]
    pub recording: Option<Recording>,
    /// W13: whether the citizen agreed to be called back, when they said so at intake (the web
    /// form asks); the hotline's `callback` may follow it.
    #[serde(default)]
    pub callback_consent: Option<bool>,
    /// A request from the internet channel: how its citizen follows it.
    #[serde(default)]
    pub online: Option<OnlineIntake>,
    /// The service number a phone request was made to (`12345`, or an integrated number
    /// such as `12315`); set from the call, never by a client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

/// What an internet request carries besides the request itself (issue 13).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnlineIntake {
    /// The query code's keyed hash (`crate::portal::CodeKey::hash`); never the code.
    pub query_code: String,
    /// A connector's own id for the request: the same id from the same channel is one ticket.
    #[serde(default)]
    pub external_id: Option<String>,
}

/// The store's key for a connector's request: the channel's wire name, `:`, its own id.
pub fn external_key(channel: Channel, external_id: &str) -> String {
    let wire = serde_json::to_value(channel)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    format!("{wire}:{external_id}")
}

/// Who acts, as the rules see them. A unit carries its id so "sign-off by the wrong unit"
/// is decided in the core, not in the HTTP layer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "role", content = "unit", rename_all = "snake_case")]
pub enum Role {
    /// Hotline agent (话务员): intake, direct handling, dispatch, callback.
    Agent,
    /// Handling unit (办理单位): signs, handles, returns, asks for extensions, answers.
    Unit(UnitId),
    /// Reviewer (复核): checks replies, decides returns and extensions.
    Reviewer,
    /// Supervisor (督办/管理): everything the hotline may do.
    Supervisor,
    /// The sweep: reminders, supervision, "not rated".
    System,
    /// A wallboard screen: reads the live figures, nothing else (no tickets, no actions).
    Wallboard,
    /// A citizen following their own internet request with its query code: may attach
    /// files to it and rate a web callback, nothing else.
    Citizen,
    /// A platform's connector (app, public account…): hands requests in, nothing else.
    Channel,
    /// A data-sharing consumer (another department, the statistics office): exports tickets
    /// masked as its configuration says (`GET /api/export/tickets`), nothing else.
    DataSharing,
    /// The hotline's knowledge editor (知识库管理员): reviews and publishes knowledge items.
    KbEditor,
}

impl Role {
    /// Short name for logs and the history.
    pub fn name(&self) -> String {
        match self {
            Role::Agent => "agent".into(),
            Role::Unit(u) => format!("unit:{u}"),
            Role::Reviewer => "reviewer".into(),
            Role::Supervisor => "supervisor".into(),
            Role::System => "system".into(),
            Role::Wallboard => "wallboard".into(),
            Role::Citizen => "citizen".into(),
            Role::Channel => "channel".into(),
            Role::DataSharing => "data_sharing".into(),
            Role::KbEditor => "kb_editor".into(),
        }
    }

    /// Hotline staff (热线管理机构) as opposed to a handling unit.
    pub fn is_hotline(&self) -> bool {
        matches!(self, Role::Agent | Role::Reviewer | Role::Supervisor)
    }
}

/// A person (or the system) acting in a role; recorded on every event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user: String,
    #[serde(flatten)]
    pub role: Role,
}

impl Actor {
    /// Builds an actor.
    pub fn new(user: impl Into<String>, role: Role) -> Self {
        Self {
            user: user.into(),
            role,
        }
    }

    /// The sweep's identity.
    pub fn system() -> Self {
        Self::new("sweep", Role::System)
    }
}

/// China Standard Time, the offset every date in the calendar is read in.
pub fn china() -> FixedOffset {
    #[allow(clippy::expect_used)]
    FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset")
}
