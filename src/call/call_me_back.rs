//! "Keep your place and be called back" (issue 15, C8). A caller waiting in a queue whose
//! forecast wait (`Acd::forecast_wait`) passes `[callback_offer] offer_above` (lower in surge
//! mode) hears the offer once (`offer`, over `ivr::callback_offer`). Taking it, the caller
//! hears a farewell and we hang up; the ACD keeps the call's place (`Acd::handle_call_kept`).
//! At its turn the ACD offers the call as any other: the agent's phone rings first, showing
//! "回电" and the masked number; once the agent answered, the engine dials the citizen through
//! the trunk and bridges the two when the citizen answers. Not reached (busy, no answer,
//! refused), the agent is released and the place is queued again after `[callback_offer]
//! retry_gap`, up to `[outbound] max_attempts` tries, then given up. Every step is counted in
//! the KPIs as its own kind (`docs/KPI.md`).
//!
//! Kept places are saved in `state.json` and queued again after a restart (`saved`); surge
//! mode (`surge`) lowers the offer's threshold and plays a notice before the menu.

mod offer;
mod saved;
mod surge;

pub use offer::QueueOffer;
pub use saved::SavedCallback;
pub use surge::{Surge, SurgeView};

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::call::agent_leg::{AgentLeg, LegState, Party};
use crate::call::engine::{CallEngine, MediaCommand, Output};
use crate::call::record::{CallOutcome, OutboundInfo};
use crate::call::session::{CallId, Phase};
use crate::outbound::dialler::Purpose;
use crate::outbound::rules::Outcome;
use crate::stats::kpi::{KpiEvent, Outcome as Kpi};

/// `[callback_offer]` as the engine uses it.
#[derive(Debug, Clone, PartialEq)]
pub struct CallMeBackConfig {
    /// Off: never offered.
    pub enabled: bool,
    /// Offered when the forecast wait passes this…
    pub offer_above: Duration,
    /// … or this in surge mode.
    pub surge_offer_above: Duration,
    /// The handle time the forecast assumes until a queue has its own.
    pub assumed_handle_time: Duration,
    /// Surge mode turns itself on past this forecast (zero: never by itself).
    pub surge_above: Duration,
    /// Tries per callback, and the gap after a failed one (`[outbound]`).
    pub max_attempts: u32,
    pub retry_gap: Duration,
    /// When the hotline may call (`[outbound]` window, do-not-call list).
    pub rules: crate::outbound::rules::OutboundRules,
}

/// One kept place.
#[derive(Debug, Clone)]
pub struct KeptCallback {
    /// The number to call (whole: never logged unmasked).
    pub number: String,
    pub queue: String,
    /// The inbound call's public name.
    pub origin: String,
    pub requested_at: DateTime<Utc>,
    pub requested_mono: Instant,
    /// t₀ of the original wait: the place in the line.
    pub t0: Instant,
    pub menu_path: Vec<String>,
    /// Tries made so far.
    pub tries: u32,
}

/// Every kept place, and the retries waiting for their time.
#[derive(Debug, Default)]
pub struct KeptCallbacks {
    pub(crate) by_call: HashMap<CallId, KeptCallback>,
    retries: BTreeSet<(Instant, CallId)>,
}

impl KeptCallbacks {
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.retries.first().map(|(t, _)| *t)
    }

    /// Places kept now (in the queue or waiting for a retry).
    pub fn len(&self) -> usize {
        self.by_call.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_call.is_empty()
    }
}

impl CallEngine {
    /// The place is kept in the ACD and here.
    fn keep(&mut self, id: CallId, number: String, now: Instant) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        let (Some(queue), Some(t0)) = (call.queue.clone(), call.queued_mono) else {
            return;
        };
        if let Err(e) = self.acd.handle_call_kept(&id, now) {
            tracing::warn!(call = %id, error = %e, "the ACD did not keep the place");
            return;
        }
        let kept = KeptCallback {
            number,
            queue: queue.clone(),
            origin: call.name.clone(),
            requested_at: self.wall(now),
            requested_mono: now,
            t0,
            menu_path: call.menu_path.clone(),
            tries: 0,
        };
        self.out.push_back(Output::Kpi(KpiEvent {
            queue: Some(queue),
            number: self.kpi_number(id),
            outcome: Kpi::CallbackKept {
                wait: now.saturating_duration_since(t0),
            },
            at: kept.requested_at,
        }));
        self.kept.by_call.insert(id, kept);
        self.counters.callbacks_kept += 1;
        self.state_dirty = true;
    }

    /// The ACD offers a kept place to `agent`: a call is made for it whose agent leg rings
    /// first; the citizen is dialled once the agent answered. Whether `id` was a kept place.
    pub(crate) fn kept_turn(
        &mut self,
        id: CallId,
        agent: crate::acd::model::AgentId,
        now: Instant,
    ) -> bool {
        if self.calls.contains_key(&id) {
            return false;
        }
        let Some(kept) = self.kept.by_call.get(&id).cloned() else {
            return false;
        };
        let Some(trunk) = self.cfg.trunk else {
            self.ring_failed_for(id, crate::acd::RingFailure::NoPort, now);
            return true;
        };
        // The trunk's lines ([outbound] max_concurrent) are shared with the dialler's calls:
        // a full trunk keeps the place (the agent stays ready, skipped for a moment).
        let lines = self.calls.values().filter(|c| c.outbound.is_some()).count();
        if lines >= self.cfg.call_me_back.rules.max_concurrent {
            tracing::info!(call = %id, lines, "every trunk line is busy: the callback waits");
            self.counters.callbacks_trunk_full += 1;
            self.ring_failed_for(id, crate::acd::RingFailure::NoPort, now);
            return true;
        }
        let Some(port) = self
            .ports
            .allocate(crate::call::ports::PortUse::Caller, &mut self.rng)
        else {
            tracing::warn!(call = %id, "no RTP port for a callback: its place waits");
            self.ring_failed_for(id, crate::acd::RingFailure::NoPort, now);
            return true;
        };
        let name = crate::call::ids::call_name(self.wall(now), id);
        let caller_id = self.cfg.trunk_caller_id.clone();
        let target = crate::call::outbound::trunk_target(trunk, &kept.number, &caller_id);
        let peer = target.peer;
        // Built now, sent once the agent answered.
        let (invite, _, from_tag) = self.new_invite(&target, port, &name, None);
        let Some(key) = invite.client_transaction_key() else {
            self.ports.release(port);
            self.ring_failed_for(id, crate::acd::RingFailure::NoPort, now);
            return true;
        };
        let leg = AgentLeg {
            party: Party::External {
                target: kept.number.clone(),
            },
            invite: invite.clone(),
            key: key.clone(),
            peer,
            port,
            state: LegState::Ringing,
            dialog: None,
            media: None,
        };
        let wall = self.wall(now);
        let mut call = crate::call::session::Call::outbound(
            crate::call::outbound::NewOutbound {
                id,
                name,
                number: kept.number.clone(),
                called: caller_id,
                peer,
                local_sdp: invite.body.to_vec(),
                invite,
                key,
                local_tag: from_tag,
                port,
                ring_until: now,
                started_at: wall,
            },
            crate::call::outbound::OutboundState {
                attempt: 0,
                info: OutboundInfo {
                    purpose: Purpose::CallMeBack,
                    reference: kept.origin.clone(),
                    try_no: kept.tries + 1,
                    outcome: None,
                    robot: None,
                    reason: None,
                    requested_at: Some(kept.requested_at),
                    last_try: false,
                },
                queue: kept.queue.clone(),
                robot: None,
                leg: Some(leg),
                cancelled: false,
                heard: false,
                auth: Default::default(),
                bye_authenticated: false,
            },
        );
        call.phase = Phase::Reserving;
        call.queue = Some(kept.queue.clone());
        call.queued_mono = Some(kept.t0);
        call.menu_path = kept.menu_path.clone();
        call.first_ring_at = Some(now);
        self.calls.insert(id, call);
        self.journal(id);
        tracing::info!(call = %id, %agent, origin = %kept.origin, try_no = kept.tries + 1, "a kept callback's turn: ringing the agent first");
        self.out
            .push_back(Output::Media(MediaCommand::Reserve { call: id, port }));
        self.ring_agent_for(id, agent, now);
        true
    }

    /// The agent answered a callback's ring: their media opens and the citizen is dialled.
    pub(crate) fn callback_agent_answered(&mut self, id: CallId, now: Instant) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(leg) = call.agent_leg.as_mut() else {
            return;
        };
        leg.state = LegState::Talking;
        // The agent's media opens with the citizen's (their codec comes with the answer);
        // meanwhile the agent hears that this is a callback, then the ring-back tone.
        if let Some(m) = leg.media {
            let prompts: Vec<String> = self
                .menus
                .queue_audio()
                .callback_whisper()
                .iter()
                .map(|p| p.as_str().to_string())
                .collect();
            if !prompts.is_empty() {
                self.out.push_back(Output::Media(MediaCommand::Whisper {
                    call: id,
                    port: leg.port,
                    remote: m.remote,
                    codec: m.codec,
                    telephone_event: m.telephone_event,
                    prompts,
                }));
            }
        }
        let Some((invite, key, peer)) = call
            .outbound
            .as_ref()
            .and_then(|o| o.leg.as_ref())
            .map(|l| (l.invite.clone(), l.key.clone(), l.peer))
        else {
            return;
        };
        call.phase = Phase::Dialling {
            until: now + self.cfg.outbound_ring_timeout,
        };
        let started = self
            .txns
            .start_client(
                key.clone(),
                invite.clone(),
                crate::call::engine::transport(peer.reliable()),
                now,
            )
            .is_ok();
        if !started {
            self.callback_not_reached(id, Outcome::Unreachable { status: None }, now);
            return;
        }
        self.txn_peers.insert(key.clone(), peer);
        if let Some(tag) = invite.headers.from.tag() {
            self.by_dialog
                .insert((invite.headers.call_id.clone(), tag.to_string()), id);
        }
        self.outbound_invites.insert(key, id);
        tracing::info!(call = %id, "the agent is on the line: calling the citizen back");
        self.rearm(id);
    }

    /// The citizen answered a callback: the agent is on the line already, so the two are
    /// bridged at once (recorded like any call) and the agent's draft ticket opens.
    pub(crate) fn callback_citizen_answered(&mut self, id: CallId, now: Instant) {
        let wall = self.wall(now);
        let Some(kept) = self.kept.by_call.remove(&id) else {
            return;
        };
        self.state_dirty = true;
        self.counters.callbacks_reached += 1;
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        call.phase = Phase::Talking;
        call.connected_at = Some(wall);
        let recording = call
            .recording
            .get_or_insert_with(|| {
                format!("recordings/{}/{}.wav", wall.format("%Y/%m/%d"), call.name)
            })
            .clone();
        let agent_open = call.agent_leg.as_ref().and_then(|leg| {
            leg.media.map(|m| MediaCommand::OpenAgent {
                call: id,
                port: leg.port,
                remote: m.remote,
                codec: m.codec,
                telephone_event: m.telephone_event,
            })
        });
        let after = now.saturating_duration_since(kept.requested_mono);
        tracing::info!(call = %id, after_s = after.as_secs(), "the citizen answered the callback: bridged to the agent");
        let connected = crate::call::record::ConnectedCall {
            live: call.live(),
            caller_number: call.caller.expose().to_string(),
        };
        // A browser agent's leg is its WebRTC leg (no whisper reaches it: it hears the
        // citizen from the answer on).
        let agent_open = agent_open.or_else(|| self.open_browser_leg(id));
        // The citizen's side was opened just before (`outbound_answered`); the agent's joins.
        if let Some(open) = agent_open {
            self.out.push_back(Output::Media(open));
        }
        self.out.push_back(Output::Media(MediaCommand::Bridge {
            call: id,
            recording,
        }));
        self.out.push_back(Output::Connected(Box::new(connected)));
        self.out.push_back(Output::Kpi(KpiEvent {
            queue: Some(kept.queue),
            number: None,
            outcome: Kpi::CallbackReached { after },
            at: wall,
        }));
        self.journal(id);
        self.rearm(id);
    }

    /// A callback's try failed: the agent is let go; the place is queued again after the
    /// retry gap, or given up after the last try.
    pub(crate) fn callback_not_reached(&mut self, id: CallId, outcome: Outcome, now: Instant) {
        let cfg = &self.cfg.call_me_back;
        let (max, gap) = (cfg.max_attempts, cfg.retry_gap);
        self.state_dirty = true;
        let last = match self.kept.by_call.get_mut(&id) {
            Some(k) => {
                k.tries += 1;
                !outcome.retryable() || k.tries >= max
            }
            None => true,
        };
        if let Some(o) = self.calls.get_mut(&id).and_then(|c| c.outbound.as_mut()) {
            o.info.outcome = Some(outcome);
            o.info.last_try = last;
        }
        tracing::info!(call = %id, ?outcome, last, "the callback did not reach the citizen");
        self.end_agent_leg(id, now);
        self.finish(id, CallOutcome::NotReached, now);
        if last {
            if let Some(k) = self.kept.by_call.remove(&id) {
                self.counters.callbacks_given_up += 1;
                let at = self.wall(now);
                self.out.push_back(Output::Kpi(KpiEvent {
                    queue: Some(k.queue),
                    number: None,
                    outcome: Kpi::CallbackGivenUp,
                    at,
                }));
            }
        } else {
            self.kept.retries.insert((now + gap, id));
        }
    }

    /// Retries due: their places go back into the line, at their original t₀.
    pub(crate) fn kept_timeout(&mut self, now: Instant) {
        while let Some(&(at, id)) = self.kept.retries.first() {
            if at > now {
                break;
            }
            self.kept.retries.remove(&(at, id));
            let Some(k) = self.kept.by_call.get(&id) else {
                continue;
            };
            let queued = self
                .acd
                .handle_call_queued(id, &k.queue, k.t0, 0, now)
                .and_then(|()| self.acd.handle_call_kept(&id, now));
            if let Err(e) = queued {
                tracing::warn!(call = %id, error = %e, "a callback could not be queued again: given up");
                self.kept.by_call.remove(&id);
                self.state_dirty = true;
            }
        }
        self.drain_acd(now);
    }
}

impl CallEngine {
    /// A callback's agent ring ended without an answer: the call made for it goes (no
    /// record: nobody was dialled); its place is back in the line, offered again.
    pub(crate) fn drop_reserving(&mut self, id: CallId) {
        let reserving = self
            .calls
            .get(&id)
            .is_some_and(|c| matches!(c.phase, Phase::Reserving) && c.agent_leg.is_none());
        if !reserving {
            return;
        }
        let Some(call) = self.calls.remove(&id) else {
            return;
        };
        self.disarm(id, call.armed);
        self.ports.release(call.port);
        self.out
            .push_back(Output::Media(MediaCommand::Close { call: id }));
        tracing::debug!(call = %id, "the callback's agent did not answer: its place waits again");
    }
}
