//! What an agent did, as timestamped facts: every state change (with its not-ready reason and
//! its call's queue), hold on and off, and web items taken. The call room emits them; the
//! shell keeps them durably (the `agent_activity` table) so per-agent statistics for any day
//! can be computed later by [`super::agents`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One fact about one agent at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentActivity {
    pub agent: String,
    pub at: DateTime<Utc>,
    pub kind: ActivityKind,
    /// The call's public name, when the fact is about a call.
    pub call: Option<String>,
    /// The call's (or the web item's) queue, when known.
    pub queue: Option<String>,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ActivityKind {
    /// The agent entered `state` (an `AgentStateKind` spelling: `ready`, `not_ready`,
    /// `reserved`, `talking`, `assisting`, `wrap_up`, `logged_out`); `reason` for not-ready.
    State {
        state: String,
        reason: Option<String>,
    },
    /// The agent put the caller on hold (`on`) or took them off it.
    Hold { on: bool },
    /// The agent accepted a web item (an internet request) from a web queue.
    WebItem { item: String },
}

impl ActivityKind {
    /// The stored spelling: the state's name, `hold_on`, `hold_off` or `web_item`.
    pub fn code(&self) -> &str {
        match self {
            ActivityKind::State { state, .. } => state,
            ActivityKind::Hold { on: true } => "hold_on",
            ActivityKind::Hold { on: false } => "hold_off",
            ActivityKind::WebItem { .. } => "web_item",
        }
    }

    /// Back from the stored spelling and detail (a reason or an item id).
    pub fn from_code(code: &str, detail: Option<String>) -> ActivityKind {
        match code {
            "hold_on" => ActivityKind::Hold { on: true },
            "hold_off" => ActivityKind::Hold { on: false },
            "web_item" => ActivityKind::WebItem {
                item: detail.unwrap_or_default(),
            },
            state => ActivityKind::State {
                state: state.to_string(),
                reason: detail,
            },
        }
    }

    /// The stored detail: a not-ready reason or a web item's id.
    pub fn detail(&self) -> Option<&str> {
        match self {
            ActivityKind::State { reason, .. } => reason.as_deref(),
            ActivityKind::Hold { .. } => None,
            ActivityKind::WebItem { item } => Some(item),
        }
    }
}
