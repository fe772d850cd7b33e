//! What one call leaves behind: the live view (`/api/calls`) and the finished record
//! (JSON lines under the data dir, `/api/calls/recent`). Caller numbers are masked here:
//! records feed KPIs and screens, never the ticket itself.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a live call is in its life.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    /// INVITE received, not yet answered.
    Setup,
    /// The hotline is calling the citizen (an outbound call, not yet answered).
    Dialling,
    /// Answered, in the voice menu.
    Ivr,
    /// Asked for a person; waiting in a queue.
    Queued,
    /// An agent's phone is ringing for it.
    Ringing,
    /// Connected to an agent.
    Talking,
    /// Being torn down (BYE sent, waiting for its answer).
    Ending,
    /// Over: every finished call's record says so (its `outcome` says how).
    Ended,
}

/// How a call ended, for the connection-rate KPI and the operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// A person answered and the call ended normally.
    Answered,
    /// The caller hung up (or cancelled) before reaching a queue.
    AbandonedInIvr,
    /// The caller hung up while waiting for a person.
    AbandonedInQueue,
    /// The caller cancelled before we answered.
    CancelledBeforeAnswer,
    /// We refused it before answering (no common codec, shutting down, …).
    Rejected,
    /// The engine ended it (shutdown, media failure, lost peer).
    EndedByEngine,
    /// The peer stopped answering (no ACK, transport error).
    Failed,
    /// No RTP from the caller for `rtp.media_timeout` (not on hold): the caller vanished.
    /// While waiting for a person it counts as an abandon; after an answer, as a normal end.
    MediaTimeout,
    /// The caller's RFC 4028 session timer ran out without a refresh (counted like
    /// `media_timeout`).
    SessionExpired,
    /// The caller waited `ivr.max_in_queue` without reaching a person: ended by us, counted
    /// as not connected.
    QueueTimeout,
    /// Refused with 503 before answering for lack of capacity (no RTP port, media that
    /// could not be opened): the citizen asked for the hotline and got nobody, so it counts
    /// against the connection rate.
    NoCapacity,
    /// The engine died (kill -9, power cut) while the call was live: rebuilt at the next
    /// start from the call journal (`DATA/call-journal.jsonl`). Counted in the KPIs by how
    /// far the call had got (`docs/KPI.md`).
    Interrupted,
    /// Two engines behind Kamailio (issue 19): the active engine died while the call was
    /// live on it, and the engine that took over closed it from the shared journal. Counted
    /// like `interrupted`: by how far the call had got (`docs/KPI.md`).
    LostInFailover,
    /// A call the hotline placed that the citizen did not answer (busy, no answer, refused,
    /// the trunk failed): its `outbound.outcome` says which. Not in the inbound KPIs.
    NotReached,
    /// The caller took "keep your place and be called back" (C8) and left the line: their
    /// place in the queue is kept and the hotline calls them at their turn. Neither answered
    /// nor abandoned in the inbound rates; counted apart (`docs/KPI.md`).
    CallbackRequested,
}

/// Who started a call: a citizen calling the hotline, or the hotline calling a citizen back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    #[default]
    Inbound,
    Outbound,
}

/// What an outbound call is for and how its try went (issue 15).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OutboundInfo {
    pub purpose: crate::outbound::dialler::Purpose,
    /// The ticket (or call) it is about.
    pub reference: String,
    /// The dialler's try number (1 for the first).
    pub try_no: u32,
    /// How the try went, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<crate::outbound::rules::Outcome>,
    /// A robot callback: what the robot collected (W13/W14), once it finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub robot: Option<RobotSummary>,
    /// The citizen's spoken reason for 不满意, beside the call's recording.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<ReasonRecording>,
    /// "Call me back": when the citizen asked (their time to callback runs from it).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::china_time::serialize_opt"
    )]
    pub requested_at: Option<DateTime<Utc>>,
    /// "Call me back": this try was the last (not reached: the callback is given up).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub last_try: bool,
}

pub use crate::outbound::result::{ReasonRecording, RobotEnded, RobotRating, RobotSummary};

/// A live call, as `/api/calls` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LiveCall {
    /// Our id for the call (also the recording's and the record's name).
    pub id: String,
    /// Masked caller number, e.g. `138******78`.
    pub caller: String,
    /// The service number dialled (an integrated number: `12315`, `12333`, …).
    pub called: String,
    /// What the configuration calls that number (`12315 市场监管`), when it names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub called_name: Option<String>,
    pub state: CallState,
    /// Menu ids and keys so far, e.g. `["main:2", "special:1"]`.
    pub menu_path: Vec<String>,
    pub queue: Option<String>,
    #[serde(serialize_with = "crate::china_time::serialize")]
    pub started_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::china_time::serialize_opt")]
    pub answered_at: Option<DateTime<Utc>>,
    /// When the caller asked for a person (t₀ of the 15-second clock).
    #[serde(serialize_with = "crate::china_time::serialize_opt")]
    pub queued_at: Option<DateTime<Utc>>,
    /// The caller was offered "keep your place and be called back" while waiting.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub callback_offered: bool,
    /// The agent whose phone rings for the call now (before anyone answers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offered_to: Option<String>,
    /// The agent who answered.
    pub agent: Option<String>,
    /// When the agent answered.
    #[serde(serialize_with = "crate::china_time::serialize_opt")]
    pub connected_at: Option<DateTime<Utc>>,
    /// Seconds from asking for a person to the agent's answer.
    pub wait_s: Option<f64>,
    /// The stereo recording (caller left, agent right), relative to the data dir.
    pub recording: Option<String>,
    /// Blind transfers, in order, e.g. `1001 → queue dialect`.
    #[serde(default)]
    pub transfers: Vec<String>,
    /// The ticket opened for the call (a draft from the agent's answer): call → ticket.
    #[serde(default)]
    pub ticket: Option<String>,
    /// The queue in which a person first answered (after transfers `queue` is the last one):
    /// the call counts for this queue, once, in the KPIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_queue: Option<String>,
    /// The agent holds the caller (hold music plays to them).
    #[serde(default)]
    pub on_hold: bool,
    /// Everyone beyond the caller and the first agent, in the order they were called: who was
    /// on the line, how, and when (the reviewer's "who spoke when"; the desk's party list).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parties: Vec<PartySpan>,
    #[serde(default)]
    pub direction: Direction,
    /// For a call the hotline placed: its purpose, ticket and how the try went.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbound: Option<OutboundInfo>,
}

/// One party's time on a call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PartySpan {
    /// The party's number on the call (the API's `{party}`): 2, 3, … in calling order.
    pub id: u8,
    pub party: PartyKind,
    pub role: PartyRole,
    pub state: PartyState,
    /// When they answered (absent while ringing, or if they never did).
    #[serde(default, serialize_with = "crate::china_time::serialize_opt")]
    pub joined_at: Option<DateTime<Utc>>,
    #[serde(default, serialize_with = "crate::china_time::serialize_opt")]
    pub left_at: Option<DateTime<Utc>>,
}

/// How a party is on the call, which decides what it hears and who hears it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartyRole {
    /// The agent consults them while the caller hears hold music: they and the agent hear
    /// each other only.
    Consult,
    /// Everyone on the call hears them and they hear everyone.
    Conference,
    /// A supervisor: listen, whisper or barge.
    Monitor,
}

/// Where a party's leg is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartyState {
    Ringing,
    Talking,
    /// Hung up, dropped, or never answered.
    Left,
}

/// An agent answered: what the shell needs to open the call's draft ticket. The caller's
/// number is whole here (the ticket stores it whole, W2); everywhere else it is masked.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectedCall {
    pub live: LiveCall,
    pub caller_number: String,
}

/// Who a call's extra party is, as the record, the ticket and the audit log name them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PartyKind {
    /// Another agent (consulted, conferenced in, or taking the call over).
    Agent { agent: String },
    /// A handling unit of `config/dispatch.toml`, dialled at its `phone` through the gateway.
    Unit { unit: String },
    /// An outside service of `[transfer.numbers]` (`"110"`, `water`, …).
    External { target: String },
    /// A supervisor listening, whispering to the agent, or barged in (C16: logged).
    Supervisor { user: String, mode: MonitorMode },
}

/// How a supervisor is on a call: listen hears both sides, whisper is heard by the agent
/// only, barge joins as a party everyone hears.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MonitorMode {
    Listen,
    Whisper,
    Barge,
}

/// A party joined (`left_at` is `None`) or left a call; `call` is the call's public name and
/// `ticket` its ticket, when one was opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartyEvent {
    pub call: String,
    pub ticket: Option<String>,
    pub party: PartyKind,
    pub joined_at: DateTime<Utc>,
    pub left_at: Option<DateTime<Utc>>,
}

/// A live call's milestone (started, answered by us, queued, answered by a person), written
/// to the call journal as it happens so that a crash leaves a trace of every live call. The
/// latest entry of a call is what its `interrupted` record is rebuilt from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    #[serde(flatten)]
    pub call: LiveCall,
    /// The SIP Call-ID of the caller's leg.
    pub sip_call_id: String,
    /// The whole caller number, only once a person answered: the draft ticket (which stores it
    /// whole, W2) can then be opened again after a crash. The journal lives in the private
    /// data folder beside the ticket store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_number: Option<String>,
}

/// One finished call: the live fields plus how and when it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallRecord {
    #[serde(flatten)]
    pub call: LiveCall,
    #[serde(serialize_with = "crate::china_time::serialize")]
    pub ended_at: DateTime<Utc>,
    pub outcome: CallOutcome,
    /// The SIP Call-ID of the caller's leg, to find the call in SIP traces.
    pub sip_call_id: String,
    /// SHA-256 of the finished recording (filled in by the shell when it closes the file).
    #[serde(default)]
    pub recording_sha256: Option<String>,
    /// Why the caller waited more than 15 s for a person (C2 is a maximum), when they did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub over_15s: Option<WaitBreach>,
    /// Why a browser agent's WebRTC leg failed and ended the call (DTLS, ICE), when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_media_failure: Option<String>,
}

/// Why a caller waited past the 15-second maximum (rule C2, 最长为15秒).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WaitBreach {
    /// No agent was free to ring within the 15 s: staffing.
    NoAgent,
    /// An agent was rung and did not answer; the call waited again.
    RingNoAnswer,
    /// An agent was rung in time but took past 15 s to pick up.
    RingingTooLong,
}

impl WaitBreach {
    /// Which cause, from what happened to the call: when a phone first rang for it, and
    /// whether a ring went unanswered. `None` when the wait was within the target.
    pub fn of(
        wait: std::time::Duration,
        first_ring_after: Option<std::time::Duration>,
        rings_unanswered: u32,
    ) -> Option<WaitBreach> {
        let target = crate::stats::kpi::ANSWER_TARGET;
        if wait <= target {
            return None;
        }
        Some(match first_ring_after {
            None => WaitBreach::NoAgent,
            Some(d) if d > target => WaitBreach::NoAgent,
            Some(_) if rings_unanswered > 0 => WaitBreach::RingNoAnswer,
            Some(_) => WaitBreach::RingingTooLong,
        })
    }
}

impl CallOutcome {
    /// Every outcome, in the order metrics list them.
    pub const ALL: [CallOutcome; 15] = [
        CallOutcome::Answered,
        CallOutcome::AbandonedInIvr,
        CallOutcome::AbandonedInQueue,
        CallOutcome::CancelledBeforeAnswer,
        CallOutcome::Rejected,
        CallOutcome::EndedByEngine,
        CallOutcome::Failed,
        CallOutcome::MediaTimeout,
        CallOutcome::SessionExpired,
        CallOutcome::QueueTimeout,
        CallOutcome::NoCapacity,
        CallOutcome::Interrupted,
        CallOutcome::LostInFailover,
        CallOutcome::NotReached,
        CallOutcome::CallbackRequested,
    ];

    /// Whether an engine's death cut the call (a crash, or a failover to the other engine):
    /// its real end is unknown, so it has no talk time.
    pub fn cut_by_engine_loss(self) -> bool {
        matches!(self, CallOutcome::Interrupted | CallOutcome::LostInFailover)
    }

    /// The name used in JSON and metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Answered => "answered",
            CallOutcome::AbandonedInIvr => "abandoned_in_ivr",
            CallOutcome::AbandonedInQueue => "abandoned_in_queue",
            CallOutcome::CancelledBeforeAnswer => "cancelled_before_answer",
            CallOutcome::Rejected => "rejected",
            CallOutcome::EndedByEngine => "ended_by_engine",
            CallOutcome::Failed => "failed",
            CallOutcome::MediaTimeout => "media_timeout",
            CallOutcome::SessionExpired => "session_expired",
            CallOutcome::QueueTimeout => "queue_timeout",
            CallOutcome::NoCapacity => "no_capacity",
            CallOutcome::Interrupted => "interrupted",
            CallOutcome::LostInFailover => "lost_in_failover",
            CallOutcome::NotReached => "not_reached",
            CallOutcome::CallbackRequested => "callback_requested",
        }
    }
}

impl std::fmt::Display for CallOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl CallState {
    /// The name used in JSON and metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            CallState::Setup => "setup",
            CallState::Dialling => "dialling",
            CallState::Ivr => "ivr",
            CallState::Queued => "queued",
            CallState::Ringing => "ringing",
            CallState::Talking => "talking",
            CallState::Ending => "ending",
            CallState::Ended => "ended",
        }
    }
}
