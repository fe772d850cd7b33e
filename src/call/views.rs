//! What the engine shows the shell without changing a call: the live calls for the API and
//! the wallboard, the caller behind a desk's call, the counters for `/metrics`, the ACD's
//! queues and agents, a phone's registration; and the one write the desk makes on a live
//! call, linking its ticket.

use std::time::Instant;

use crate::call::engine::{CallEngine, CallerOf, EngineCounters, EngineSnapshot};
use crate::call::record::LiveCall;
use crate::call::session::{Call, CallId};

impl CallEngine {
    /// The live calls for `/api/calls`.
    pub fn live_calls(&self) -> Vec<LiveCall> {
        let mut v: Vec<LiveCall> = self.calls.values().map(Call::live).collect();
        v.sort_by_key(|c| c.started_at);
        v
    }

    /// The whole caller number of the live call named `call` and the agent it is offered to
    /// or connected with: the desk's history of earlier tickets from the same number (W6)
    /// is looked up with it, and the number itself never leaves the server.
    pub fn caller_of(&self, call: &str) -> Option<CallerOf> {
        let c = self.calls.values().find(|c| c.name == call)?;
        Some(CallerOf {
            number: c.caller.expose().to_string(),
            agent: c.agent.clone().or_else(|| c.offered_to()),
        })
    }

    /// The shell opened `ticket` for the call named `call`: the live view and the record
    /// carry it. False when the call already ended (the shell then adds it to the record).
    pub fn link_ticket(&mut self, call: &str, ticket: String) -> bool {
        let Some((&id, c)) = self.calls.iter_mut().find(|(_, c)| c.name == call) else {
            return false;
        };
        c.ticket = Some(ticket);
        // Journalled: after a crash the call's record names its ticket (no draft to reopen).
        self.journal(id);
        true
    }

    /// Counters and gauges for `/metrics`.
    pub fn snapshot(&self) -> EngineSnapshot {
        let mut by_state = std::collections::BTreeMap::new();
        for c in self.calls.values() {
            *by_state.entry(c.state()).or_insert(0) += 1;
        }
        EngineSnapshot {
            counters: EngineCounters {
                refused_blocked: self.registrar.counters().refused_blocked,
                refused_scanner: self.registrar.counters().refused_scanner,
                ..self.counters
            },
            calls_by_state: by_state.into_iter().collect(),
            transactions: self.txns.counts().total(),
            callbacks_waiting: self.kept.len(),
            surge: self.surge.is_some(),
        }
    }

    /// Queues and agents as the wallboard and `/api/agents` show them.
    pub fn acd_snapshot(&self, now: Instant) -> crate::acd::core::Snapshot<CallId> {
        self.acd.snapshot(now)
    }

    /// Whether an agent's phone has a live registration.
    pub fn is_registered(&self, user: &str, now: Instant) -> bool {
        self.registrar.is_registered(user, now)
    }
}
