//! The ACD's vocabulary: agent ids, skills and levels, agent states and the reasons an agent
//! is not ready. Plain data shared by the config, the routing core and its callers; no logic
//! beyond naming and parsing.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use serde::Deserialize;

/// An agent's id (e.g. `1001`), cheap to clone into every output.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(from = "String")]
pub struct AgentId(Arc<str>);

impl AgentId {
    /// Wraps an id as configured.
    pub fn new(id: &str) -> Self {
        Self(Arc::from(id))
    }

    /// The id as text, for SIP users, URLs and logs.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for AgentId {
    fn from(s: String) -> Self {
        Self(Arc::from(s))
    }
}

impl From<&str> for AgentId {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

impl fmt::Display for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.0)
    }
}

/// The six kinds of seat the standard knows (rule C6); `enterprise` is mandatory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkillKind {
    /// 涉企服务专席: businesses' questions.
    Enterprise,
    /// 手语: sign language (video).
    Sign,
    /// 方言: a local dialect, named.
    Dialect,
    /// 外语: a foreign language, named.
    Foreign,
    /// 高频诉求: a high-frequency topic, named.
    HighFrequency,
    /// Everything else.
    General,
}

impl SkillKind {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SkillKind::Enterprise => "enterprise",
            SkillKind::Sign => "sign",
            SkillKind::Dialect => "dialect",
            SkillKind::Foreign => "foreign",
            SkillKind::HighFrequency => "high_frequency",
            SkillKind::General => "general",
        }
    }

    /// The key that names the variant (`dialect`, `language`, `topic`), for kinds that have one.
    pub fn variant_key(self) -> Option<&'static str> {
        match self {
            SkillKind::Dialect => Some("dialect"),
            SkillKind::Foreign => Some("language"),
            SkillKind::HighFrequency => Some("topic"),
            _ => None,
        }
    }
}

impl fmt::Display for SkillKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a queue (or an expansion step) asks for: a kind and, optionally, one variant of it
/// (`dialect` = any dialect; `dialect:cantonese` = that one).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SkillNeed {
    pub kind: SkillKind,
    pub variant: Option<String>,
}

impl SkillNeed {
    /// The routing key: `kind` or `kind:variant`.
    pub fn key(&self) -> String {
        match &self.variant {
            Some(v) => format!("{}:{v}", self.kind),
            None => self.kind.as_str().to_string(),
        }
    }
}

impl fmt::Display for SkillNeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// One skill an agent holds, with a proficiency 1 (beginner) to 5 (expert).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skill {
    pub kind: SkillKind,
    /// Dialect name, language or topic for the kinds that have one.
    pub variant: Option<String>,
    pub level: u8,
}

impl Skill {
    /// Whether this skill satisfies a need at any level.
    pub fn meets(&self, need: &SkillNeed) -> bool {
        self.kind == need.kind && (need.variant.is_none() || need.variant == self.variant)
    }
}

/// Why an agent is not taking calls. Some are chosen by the agent; the ACD sets the last
/// four itself when a ring fails, so a supervisor sees why someone dropped out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotReadyReason {
    /// The default when an agent logs in or gives no reason.
    Unspecified,
    Break,
    Meal,
    Meeting,
    Training,
    /// Filling in a ticket or other back-office work outside wrap-up.
    Paperwork,
    /// Rang for the whole ring timeout without answering.
    NoAnswer,
    /// The phone answered 486 Busy Here / 600 Busy Everywhere.
    Busy,
    /// The agent rejected the call (603 Decline).
    Declined,
    /// The phone could not be reached (408/480/503 or a transport error).
    Unreachable,
}

impl NotReadyReason {
    /// The API and log spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            NotReadyReason::Unspecified => "unspecified",
            NotReadyReason::Break => "break",
            NotReadyReason::Meal => "meal",
            NotReadyReason::Meeting => "meeting",
            NotReadyReason::Training => "training",
            NotReadyReason::Paperwork => "paperwork",
            NotReadyReason::NoAnswer => "no_answer",
            NotReadyReason::Busy => "busy",
            NotReadyReason::Declined => "declined",
            NotReadyReason::Unreachable => "unreachable",
        }
    }

    /// Parses the API spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "unspecified" => NotReadyReason::Unspecified,
            "break" => NotReadyReason::Break,
            "meal" => NotReadyReason::Meal,
            "meeting" => NotReadyReason::Meeting,
            "training" => NotReadyReason::Training,
            "paperwork" => NotReadyReason::Paperwork,
            "no_answer" => NotReadyReason::NoAnswer,
            "busy" => NotReadyReason::Busy,
            "declined" => NotReadyReason::Declined,
            "unreachable" => NotReadyReason::Unreachable,
            _ => return None,
        })
    }
}

impl fmt::Display for NotReadyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an agent is in the working day. Whether the phone is registered is a separate fact
/// (an agent may be `Ready` with a phone that just lost its binding, and is then not rung).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentState<C> {
    LoggedOut,
    /// Waiting for a call.
    Ready,
    NotReady {
        reason: NotReadyReason,
    },
    /// Being rung for `call`; holds no other offer.
    Reserved {
        call: C,
    },
    /// In conversation on `call`.
    Talking {
        call: C,
    },
    /// On `call` as a further agent (consulted, conferenced in, or about to take a consult
    /// transfer over), while the call's own agent is `Talking` on it. Offered no call and no
    /// web item; cannot log out or go not-ready until the call room ends the assist. The
    /// ACD may have forgotten `call` meanwhile: the call room can carry a call on with the
    /// assistant after its first agent left.
    Assisting {
        call: C,
    },
    /// After `call`, finishing the ticket until `until` (or until the agent says done).
    WrapUp {
        call: C,
        until: Instant,
    },
}

impl<C> AgentState<C> {
    /// The state without its data, for counts and logs.
    pub fn kind(&self) -> AgentStateKind {
        match self {
            AgentState::LoggedOut => AgentStateKind::LoggedOut,
            AgentState::Ready => AgentStateKind::Ready,
            AgentState::NotReady { .. } => AgentStateKind::NotReady,
            AgentState::Reserved { .. } => AgentStateKind::Reserved,
            AgentState::Talking { .. } => AgentStateKind::Talking,
            AgentState::Assisting { .. } => AgentStateKind::Assisting,
            AgentState::WrapUp { .. } => AgentStateKind::WrapUp,
        }
    }

    /// The call the agent is busy with, if any.
    pub fn call(&self) -> Option<&C> {
        match self {
            AgentState::Reserved { call }
            | AgentState::Talking { call }
            | AgentState::Assisting { call }
            | AgentState::WrapUp { call, .. } => Some(call),
            _ => None,
        }
    }
}

/// [`AgentState`] without data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AgentStateKind {
    LoggedOut,
    Ready,
    NotReady,
    Reserved,
    Talking,
    /// A further agent on someone else's call (consult, conference, interpreter).
    Assisting,
    WrapUp,
}

impl AgentStateKind {
    /// Every kind, in display order.
    pub const ALL: [AgentStateKind; 7] = [
        AgentStateKind::LoggedOut,
        AgentStateKind::Ready,
        AgentStateKind::NotReady,
        AgentStateKind::Reserved,
        AgentStateKind::Talking,
        AgentStateKind::Assisting,
        AgentStateKind::WrapUp,
    ];

    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentStateKind::LoggedOut => "logged_out",
            AgentStateKind::Ready => "ready",
            AgentStateKind::NotReady => "not_ready",
            AgentStateKind::Reserved => "reserved",
            AgentStateKind::Talking => "talking",
            AgentStateKind::Assisting => "assisting",
            AgentStateKind::WrapUp => "wrap_up",
        }
    }
}

impl fmt::Display for AgentStateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an agent (or a supervisor for them) may ask for through the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateRequest {
    Ready,
    NotReady(NotReadyReason),
    LoggedOut,
}
