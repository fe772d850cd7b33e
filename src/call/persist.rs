//! What survives a restart: the phones' registrations and the agents' states (with their
//! reasons), so that after `SIGTERM` and a new start on the same data folder a call rings the
//! agent's phone without waiting for its next REGISTER, and a supervisor sees the same
//! ready / not-ready board.
//!
//! The engine says when this changed ([`CallEngine::take_saved_state_dirty`]) and what it is
//! ([`CallEngine::saved_state`], expiries as wall-clock time); the shell writes it to the data
//! folder and hands it back at start-up ([`CallEngine::restore`]). No file is touched here.
//!
//! An agent's state comes back as a supervisor expects it after an outage:
//! `ready` and `not_ready` (same reason) as they were; `logged_out` stays logged out;
//! `reserved` (being rung) and `wrap_up` → `ready` (the ring and the wrap-up died with the
//! process); `talking` and `assisting` → `not_ready` with reason `paperwork` (their call
//! was cut: they may need to note what happened before taking the next).

use std::net::SocketAddr;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::acd::model::{AgentState, NotReadyReason, StateRequest};
use crate::call::engine::{CallEngine, Link};
use crate::sip::message::Transport;
use crate::sip::registrar::{Binding, Flow};

/// The format version written in the file; a file of another version is ignored.
pub const SAVED_STATE_VERSION: u32 = 1;

/// Registrations and agent states, as written to `state.json` in the data folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedState {
    pub version: u32,
    pub saved_at: DateTime<Utc>,
    pub registrations: Vec<SavedRegistration>,
    pub agents: Vec<SavedAgent>,
    /// Places kept for callers who chose to be called back (`call::call_me_back`): a
    /// restart must not break the hotline's promise to call them.
    #[serde(default)]
    pub callbacks: Vec<crate::call::call_me_back::SavedCallback>,
}

/// One phone binding (UDP only: a TCP connection does not survive the process).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedRegistration {
    /// The agent's SIP user (the address-of-record).
    pub user: String,
    /// The Contact as registered.
    pub contact: String,
    /// Where the REGISTER came from: requests to the phone go there.
    pub source: SocketAddr,
    /// The REGISTER's Via transport.
    pub transport: String,
    pub call_id: String,
    pub cseq: u32,
    pub user_agent: Option<String>,
    /// The REGISTER's Path (RFC 3327), top first: the proxies requests to the phone go
    /// back through (absent in files written before it was kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path: Vec<String>,
    /// When the binding lapses unless the phone refreshes it.
    pub expires_at: DateTime<Utc>,
}

/// One agent's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedAgent {
    pub id: String,
    /// `logged_out`, `ready`, `not_ready`, `reserved`, `talking`, `assisting` or `wrap_up`.
    pub state: String,
    /// The not-ready reason (API spelling).
    pub reason: Option<String>,
}

/// What a restore put back, for the start-up log line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Restored {
    pub registrations: usize,
    /// Lapsed, unknown users or unreadable contacts.
    pub dropped_registrations: usize,
    pub agents: usize,
    /// Kept callback places queued again.
    pub callbacks: usize,
}

impl SavedAgent {
    /// The request that puts the agent back after a restart (see the module doc).
    pub fn request(&self) -> Option<StateRequest> {
        let reason = self
            .reason
            .as_deref()
            .and_then(NotReadyReason::parse)
            .unwrap_or(NotReadyReason::Unspecified);
        match self.state.as_str() {
            "ready" | "reserved" | "wrap_up" => Some(StateRequest::Ready),
            "not_ready" => Some(StateRequest::NotReady(reason)),
            "talking" | "assisting" => Some(StateRequest::NotReady(NotReadyReason::Paperwork)),
            _ => None,
        }
    }
}

impl CallEngine {
    /// Whether registrations or agent states changed since the last call (then the shell
    /// saves [`CallEngine::saved_state`]).
    pub fn take_saved_state_dirty(&mut self) -> bool {
        std::mem::take(&mut self.state_dirty)
    }

    /// Registrations (UDP) and agent states at `now`, expiries in wall-clock time.
    pub fn saved_state(&self, now: Instant) -> SavedState {
        let wall = self.wall(now);
        let registrations = self
            .registrar
            .bindings(now)
            .into_iter()
            .filter(|(_, b)| b.flow.link == Link::Udp)
            .map(|(user, b)| {
                let mut contact = Vec::new();
                b.contact.encode(&mut contact);
                let left = b.expires_at.saturating_duration_since(now);
                let path = b
                    .path
                    .iter()
                    .map(|p| {
                        let mut v = Vec::new();
                        p.encode(&mut v);
                        String::from_utf8_lossy(&v).into_owned()
                    })
                    .collect();
                SavedRegistration {
                    path,
                    user,
                    contact: String::from_utf8_lossy(&contact).into_owned(),
                    source: b.flow.addr,
                    transport: b.transport.as_str().to_string(),
                    call_id: b.call_id,
                    cseq: b.cseq,
                    user_agent: b.user_agent,
                    expires_at: wall
                        + chrono::Duration::from_std(left).unwrap_or(chrono::Duration::zero()),
                }
            })
            .collect();
        let agents = self
            .acd
            .snapshot(now)
            .agents
            .into_iter()
            .map(|a| SavedAgent {
                id: a.id.as_str().to_string(),
                state: a.state.kind().as_str().to_string(),
                reason: match a.state {
                    AgentState::NotReady { reason } => Some(reason.as_str().to_string()),
                    _ => None,
                },
            })
            .collect();
        SavedState {
            version: SAVED_STATE_VERSION,
            saved_at: wall,
            registrations,
            agents,
            callbacks: self.saved_callbacks(now),
        }
    }

    /// The engine stops (after its last call): every agent not logged out is recorded as
    /// logged out by the stop (`engine_stopped`), so the statistics and C1 count the time the
    /// engine was down as time nobody could answer, until the restart puts the states back.
    pub fn record_stop(&mut self, now: Instant) {
        let at = self.wall(now);
        for a in self.acd.snapshot(now).agents {
            if a.state.kind() == crate::acd::model::AgentStateKind::LoggedOut {
                continue;
            }
            let activity = crate::stats::activity::AgentActivity {
                agent: a.id.as_str().to_string(),
                at,
                kind: crate::stats::activity::ActivityKind::State {
                    state: crate::acd::model::AgentStateKind::LoggedOut
                        .as_str()
                        .to_string(),
                    reason: Some("engine_stopped".into()),
                },
                call: None,
                queue: None,
            };
            self.out
                .push_back(crate::call::output::Output::AgentActivity(Box::new(
                    activity,
                )));
        }
    }

    /// Puts back what was saved before a restart: bindings with the time they had left
    /// (lapsed ones and unknown users dropped), then agent states (see the module doc).
    pub fn restore(&mut self, saved: &SavedState, now: Instant) -> Restored {
        let mut done = Restored::default();
        let wall = self.wall(now);
        for r in &saved.registrations {
            let left = (r.expires_at - wall).to_std().ok().filter(|d| !d.is_zero());
            let contact = crate::sip::parse::parse_name_addr(&r.contact).ok();
            let path: Option<Vec<_>> = r
                .path
                .iter()
                .map(|p| crate::sip::parse::parse_name_addr(p).ok())
                .collect();
            let (Some(left), Some(contact), Some(path), true) = (
                left,
                contact,
                path,
                self.agent_by_user.contains_key(&r.user),
            ) else {
                done.dropped_registrations += 1;
                continue;
            };
            let binding = Binding {
                contact,
                expires_at: now + left,
                flow: Flow {
                    addr: r.source,
                    link: Link::Udp,
                },
                transport: Transport::from_token(&r.transport),
                call_id: r.call_id.clone(),
                cseq: r.cseq,
                user_agent: r.user_agent.clone(),
                path,
                id: 0,
            };
            if self.registrar.restore_binding(&r.user, binding, now) {
                done.registrations += 1;
            } else {
                done.dropped_registrations += 1;
            }
        }
        self.drain_registrar(now);
        for a in &saved.agents {
            let Some(request) = a.request() else { continue };
            match self.acd.handle_agent_state(&a.id, request, now) {
                Ok(()) => done.agents += 1,
                Err(e) => {
                    tracing::warn!(agent = %a.id, error = %e, "saved agent state not restored")
                }
            }
        }
        done.callbacks = self.restore_callbacks(&saved.callbacks, now);
        self.drain_acd(now);
        self.flush_transactions(now);
        done
    }
}
