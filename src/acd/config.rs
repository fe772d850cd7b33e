//! The ACD's configuration: `config/agents.toml` (who answers, with which skills, which
//! digest credentials and how many web items at once) and `config/queues.toml` (one queue
//! per service, its channel, skill, ring or offer timeout, wrap-up, priority and expansion
//! steps, and the `[web]` section: the 3-minute response deadline and how web requests are
//! routed to web queues).
//!
//! Parsing takes the files' text (reading them is the `config` room's job: this room does no
//! I/O). Unknown keys are refused and every problem is reported as `file:line: what is wrong`.
//! Plain passwords are hashed into digest HA1 values here and dropped; they are never logged.

pub mod phones;
mod validate;
mod web;

use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::acd::model::{AgentId, Skill, SkillKind, SkillNeed};
use crate::config::{line_of, ConfigError};

pub use web::{
    WebConfig, WebRoute, DEFAULT_ALARM_AFTER, DEFAULT_OFFER_TIMEOUT, DEFAULT_RESPONSE_DEADLINE,
    DEFAULT_WEB_CAPACITY, DEFAULT_WEB_QUEUE, WEB_REQUEST_TYPES,
};

/// The digest realm when `agents.toml` names none.
pub const DEFAULT_REALM: &str = "hotline";
/// Rule C2: a person answers within 15 s of the caller asking for one.
pub const DEFAULT_ANSWER_DEADLINE: Duration = Duration::from_secs(15);
/// How long a phone rings before the ACD gives up on that agent.
pub const DEFAULT_RING_TIMEOUT: Duration = Duration::from_secs(8);
/// Default wrap-up after each call.
pub const DEFAULT_WRAP_UP: Duration = Duration::from_secs(30);
/// The least time the last expansion step must leave before the deadline, so that a
/// widened call can still ring a phone and be picked up in time.
pub const MIN_RING_WINDOW: Duration = Duration::from_secs(4);

/// The digest algorithms and the HA1 formula are the registrar's: one definition for both
/// the config that stores HA1 values and the code that checks responses against them.
pub use crate::sip::registrar::{ha1, Algorithm as DigestAlgorithm};

/// Digest credentials of one agent's phone: HA1 values only.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// HA1 for `algorithm=MD5`, lowercase hex.
    pub ha1_md5: Option<String>,
    /// HA1 for `algorithm=SHA-256`, lowercase hex.
    pub ha1_sha256: Option<String>,
}

impl Credentials {
    /// The HA1 to check a response against, if this agent has one for that algorithm.
    pub fn ha1(&self, algo: DigestAlgorithm) -> Option<&str> {
        match algo {
            DigestAlgorithm::Md5 => self.ha1_md5.as_deref(),
            DigestAlgorithm::Sha256 => self.ha1_sha256.as_deref(),
        }
    }
}

impl fmt::Debug for Credentials {
    // Even a hash is a secret worth keeping out of logs (it allows offline guessing).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credentials(..)")
    }
}

/// One agent, validated.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    pub id: AgentId,
    pub name: String,
    /// The user part the softphone registers with (defaults to the id).
    pub sip_user: String,
    pub credentials: Credentials,
    pub skills: Vec<Skill>,
    /// Whether the credentials are the shipped `demo-<id>` ones (refused off loopback).
    pub demo_password: bool,
    /// How many web items the agent may hold at once (accepted plus offered); 0 = never
    /// offered web items.
    pub web_capacity: u8,
}

/// How an expansion step widens who may take a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Widen {
    /// The queue's own skill, down to this level.
    Level { min_level: u8 },
    /// Agents holding another skill (e.g. `general`) at this level or above.
    Skill { need: SkillNeed, min_level: u8 },
    /// Every ready agent, whatever their skills.
    Everyone,
}

/// After `after` of waiting (from t₀), the call may also go to the agents `widen` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpansionStep {
    pub after: Duration,
    pub widen: Widen,
}

/// Which kind of work a queue takes: calls from the IVR, or web items (internet requests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueChannel {
    #[default]
    Voice,
    Web,
}

impl QueueChannel {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            QueueChannel::Voice => "voice",
            QueueChannel::Web => "web",
        }
    }
}

/// One queue, validated.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    pub name: String,
    /// Voice queues take only calls, web queues only web items.
    pub channel: QueueChannel,
    /// The skill an agent needs to take this queue's calls from the start.
    pub need: SkillNeed,
    /// The level needed from the start.
    pub min_level: u8,
    /// Added to each call's own priority; higher goes first when an agent can serve both.
    pub priority: u8,
    pub ring_timeout: Duration,
    pub wrap_up: Duration,
    /// Web queues: how long an item's offer waits on an agent's desk before it goes to the
    /// next agent.
    pub offer_timeout: Duration,
    /// In increasing `after` order, each before the deadline (the answer deadline for
    /// voice queues, the web response deadline for web queues).
    pub expand: Vec<ExpansionStep>,
}

/// The whole ACD configuration, validated.
#[derive(Debug, Clone)]
pub struct AcdConfig {
    /// The digest realm the HA1 values were computed for.
    pub realm: String,
    /// The 15-second clock (rule C2).
    pub answer_deadline: Duration,
    pub agents: Vec<AgentConfig>,
    pub queues: Vec<QueueConfig>,
    /// The internet channel: response deadline, alarm and routing rules.
    pub web: WebConfig,
    /// Supervisors' phones (listen, whisper, barge).
    pub supervisors: Vec<phones::SupervisorPhone>,
}

impl AcdConfig {
    /// Parses and validates both files' text; the paths only name the files in errors.
    pub fn parse(
        agents_text: &str,
        agents_path: &Path,
        queues_text: &str,
        queues_path: &Path,
    ) -> Result<AcdConfig, Vec<ConfigError>> {
        let agents: AgentsFile = from_toml(agents_text, agents_path)?;
        let queues: QueuesFile = from_toml(queues_text, queues_path)?;
        let agents_src = validate::Source {
            text: agents_text,
            path: agents_path,
        };
        let queues_src = validate::Source {
            text: queues_text,
            path: queues_path,
        };
        validate::build(agents, agents_src, queues, queues_src)
    }

    /// Whether any agent still has the shipped demo password (fine on loopback only).
    pub fn uses_demo_credentials(&self) -> bool {
        self.agents.iter().any(|a| a.demo_password)
            || self.supervisors.iter().any(|s| s.demo_password)
    }

    /// The voice queue names, for the IVR loader's check of its targets (a menu key or a
    /// transfer must never send a caller to a web queue).
    pub fn queue_names(&self) -> Vec<String> {
        self.queues
            .iter()
            .filter(|q| q.channel == QueueChannel::Voice)
            .map(|q| q.name.clone())
            .collect()
    }

    /// The web queue names (the targets of `[web]` routing).
    pub fn web_queue_names(&self) -> Vec<String> {
        self.queues
            .iter()
            .filter(|q| q.channel == QueueChannel::Web)
            .map(|q| q.name.clone())
            .collect()
    }

    /// The queues of the enterprise service seat (涉企服务专席, mandatory by rule C6): those
    /// whose agents need the enterprise skill.
    pub fn enterprise_queues(&self) -> Vec<String> {
        self.queues
            .iter()
            .filter(|q| {
                q.need.kind == crate::acd::model::SkillKind::Enterprise
                    && q.channel == QueueChannel::Voice
            })
            .map(|q| q.name.clone())
            .collect()
    }

    /// A supervisor's phone by their user (`config/users.toml`).
    pub fn supervisor_phone(&self, user: &str) -> Option<&phones::SupervisorPhone> {
        self.supervisors.iter().find(|s| s.user == user)
    }

    /// The digest HA1 of a phone (an agent's or a supervisor's) by its SIP user.
    pub fn phone_credentials(&self, sip_user: &str) -> Option<&Credentials> {
        self.agent_by_sip_user(sip_user)
            .map(|a| &a.credentials)
            .or_else(|| {
                self.supervisors
                    .iter()
                    .find(|s| s.sip_user == sip_user)
                    .map(|s| &s.credentials)
            })
    }

    /// An agent by the SIP user its phone registers with, for the registrar.
    pub fn agent_by_sip_user(&self, user: &str) -> Option<&AgentConfig> {
        self.agents.iter().find(|a| a.sip_user == user)
    }
}

fn from_toml<T: serde::de::DeserializeOwned>(
    text: &str,
    path: &Path,
) -> Result<T, Vec<ConfigError>> {
    toml::from_str(text).map_err(|e| {
        vec![ConfigError::Invalid {
            path: path.to_path_buf(),
            line: e.span().map(|s| line_of(text, s.start)).unwrap_or(1),
            message: e.message().trim().to_string(),
        }]
    })
}

/// A plain password from the file: `Debug` never shows it.
#[derive(Deserialize)]
#[serde(transparent)]
struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentsFile {
    #[serde(default = "default_realm")]
    realm: String,
    /// Every agent's web capacity unless their `[[agent]]` says otherwise.
    #[serde(default = "default_web_capacity")]
    web_capacity: u8,
    #[serde(default)]
    agent: Vec<Spanned<RawAgent>>,
    #[serde(default)]
    supervisor: Vec<Spanned<phones::RawSupervisor>>,
}

fn default_web_capacity() -> u8 {
    DEFAULT_WEB_CAPACITY
}

fn default_realm() -> String {
    DEFAULT_REALM.to_string()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgent {
    id: String,
    name: String,
    sip_user: Option<String>,
    password: Option<Secret>,
    ha1_md5: Option<String>,
    ha1_sha256: Option<String>,
    #[serde(default)]
    skills: Vec<Spanned<RawSkill>>,
    web_capacity: Option<u8>,
}

/// A skill as written: `{ skill = "dialect", dialect = "cantonese", level = 4 }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSkill {
    skill: SkillKind,
    level: u8,
    dialect: Option<String>,
    language: Option<String>,
    topic: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QueuesFile {
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(default)]
    queue: Vec<Spanned<RawQueue>>,
    web: Option<Spanned<web::RawWeb>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawDefaults {
    #[serde(with = "humantime_serde")]
    answer_deadline: Duration,
    #[serde(with = "humantime_serde")]
    ring_timeout: Duration,
    #[serde(with = "humantime_serde")]
    wrap_up: Duration,
}

impl Default for RawDefaults {
    fn default() -> Self {
        Self {
            answer_deadline: DEFAULT_ANSWER_DEADLINE,
            ring_timeout: DEFAULT_RING_TIMEOUT,
            wrap_up: DEFAULT_WRAP_UP,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQueue {
    name: String,
    #[serde(default)]
    channel: QueueChannel,
    skill: SkillKind,
    dialect: Option<String>,
    language: Option<String>,
    topic: Option<String>,
    #[serde(default = "one")]
    min_level: u8,
    #[serde(default)]
    priority: u8,
    #[serde(default, with = "humantime_serde::option")]
    ring_timeout: Option<Duration>,
    #[serde(default, with = "humantime_serde::option")]
    wrap_up: Option<Duration>,
    #[serde(default, with = "humantime_serde::option")]
    offer_timeout: Option<Duration>,
    #[serde(default)]
    expand: Vec<Spanned<RawStep>>,
}

fn one() -> u8 {
    1
}

/// An expansion step as written; exactly one of `min_level` alone, `skill`, `everyone`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    #[serde(with = "humantime_serde")]
    after: Duration,
    min_level: Option<u8>,
    skill: Option<SkillKind>,
    dialect: Option<String>,
    language: Option<String>,
    topic: Option<String>,
    #[serde(default)]
    everyone: bool,
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_web;
