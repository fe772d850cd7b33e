//! "Keep your place and be called back" (issue 15, C8). A caller waiting in a queue whose
//! forecast wait (`Acd::forecast_wait`) passes `[callback_offer] offer_above` (lower in surge
//! mode) hears the offer once (`ivr::callback_offer`). Taking it, the caller hears a farewell
//! and we hang up; the ACD keeps the call's place (`Acd::handle_call_kept`). At its turn the
//! ACD offers the call as any other: the agent's phone rings first, showing "回电" and the
//! masked number; once the agent answered, the engine dials the citizen through the trunk
//! and bridges the two when the citizen answers. Not reached (busy, no answer, refused), the
//! agent is released and the place is queued again after `[outbound] retry_gap`, up to
//! `[outbound] max_attempts` tries, then given up. Every step is counted in the KPIs as its
//! own kind (`docs/KPI.md`).
//!
//! The kept places live in memory: a restart loses them (the inbound call's record says the
//! callback was requested, so the loss is visible in the records).

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::call::agent_leg::{AgentLeg, LegState, Party};
use crate::call::engine::{CallEngine, MediaCommand, Output};
use crate::call::record::{CallOutcome, OutboundInfo};
use crate::call::session::{CallId, Phase};
use crate::ivr::callback_offer::{CallbackOffer, OfferAction};
use crate::outbound::dialler::Purpose;
use crate::outbound::rules::Outcome;
use crate::stats::kpi::{KpiEvent, Outcome as Kpi};

/// Where a waiting caller stands with the offer.
#[derive(Debug, Default)]
pub enum QueueOffer {
    /// Not offered yet (the forecast was short, or the call is not one we can call back).
    #[default]
    NotYet,
    /// The dialog runs; `play` is our media token and the dialog's play id of what plays;
    /// `accepted` the number once the caller took it (the farewell plays).
    Running {
        dialog: Box<CallbackOffer>,
        play: Option<(u64, u64)>,
        accepted: Option<String>,
    },
    /// Offered and declined (or over): the caller waits on the line, never asked again.
    Done,
}

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

/// Surge mode (C8): the offer comes sooner and a notice plays before the menu.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Surge {
    #[serde(serialize_with = "crate::china_time::serialize")]
    pub since: DateTime<Utc>,
    /// A supervisor's id, or `forecast` when the rule turned it on.
    pub by: String,
}

/// Surge mode and the callbacks waiting, for the wallboard, the desks and the API.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SurgeView {
    /// `null`: surge mode is off.
    pub surge: Option<Surge>,
    /// Places kept for callers who chose to be called back (queued or between tries).
    pub callbacks_kept: usize,
    /// Whether waiting callers can be offered a callback at all (enabled, a trunk, the
    /// menus' prompts).
    pub callback_offer: bool,
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
    /// The offer threshold now (surge mode lowers it).
    fn offer_threshold(&self) -> Duration {
        let c = &self.cfg.call_me_back;
        if self.surge.is_some() {
            c.surge_offer_above
        } else {
            c.offer_above
        }
    }

    /// Surge mode's rule: a forecast past `surge_above` (or none: nobody at work) turns it on.
    fn surge_by_forecast(&mut self, wait: Option<Duration>, now: Instant) {
        let above = self.cfg.call_me_back.surge_above;
        if above.is_zero() || self.surge.is_some() || wait.is_some_and(|w| w <= above) {
            return;
        }
        tracing::warn!(wait_s = ?wait.map(|w| w.as_secs()), "surge mode on: a forecast wait passed callback_offer.surge_above");
        self.surge = Some(Surge {
            since: self.wall(now),
            by: "forecast".into(),
        });
        self.state_dirty = true;
    }

    /// A supervisor turns surge mode on or off (`by`: their id).
    pub fn set_surge(&mut self, on: bool, by: &str, now: Instant) {
        match (on, self.surge.is_some()) {
            (true, false) => {
                tracing::warn!(%by, "surge mode on");
                self.surge = Some(Surge {
                    since: self.wall(now),
                    by: by.to_string(),
                });
            }
            (false, true) => {
                tracing::info!(%by, "surge mode off");
                self.surge = None;
            }
            _ => {}
        }
        self.state_dirty = true;
    }

    /// Surge mode now, for the wallboard and the desks.
    pub fn surge(&self) -> Option<&Surge> {
        self.surge.as_ref()
    }

    /// Surge mode and the callbacks waiting.
    pub fn surge_view(&self) -> SurgeView {
        SurgeView {
            surge: self.surge.clone(),
            callbacks_kept: self.kept.len(),
            callback_offer: self.cfg.call_me_back.enabled
                && self.cfg.trunk.is_some()
                && self.menus.queue_audio().callback().is_some(),
        }
    }

    /// The surge notice goes before the entry menu's greeting while surge mode is on.
    pub(crate) fn with_surge_notice(&self, prompts: Vec<String>) -> Vec<String> {
        let Some(notice) = self.menus.queue_audio().surge_notice() else {
            return prompts;
        };
        let greeting = self
            .menus
            .menu(self.menus.entry())
            .prompts
            .first()
            .filter(|p| p.purpose == crate::ivr::Purpose::Greeting)
            .map(|p| p.file.as_str());
        if self.surge.is_none()
            || greeting.is_none()
            || prompts.first().map(String::as_str) != greeting
        {
            return prompts;
        }
        let mut out = Vec::with_capacity(prompts.len() + 1);
        out.push(notice.as_str().to_string());
        out.extend(prompts);
        out
    }

    /// Offers the callback to a waiting caller when it is due: enabled, a trunk to call
    /// through, the menus' prompts, a number we may call, nobody ringing for the call yet,
    /// and a forecast past the threshold that ends inside the calling window.
    pub(crate) fn offer_callback_if_due(&mut self, id: CallId, now: Instant) {
        if !self.cfg.call_me_back.enabled || self.cfg.trunk.is_none() {
            return;
        }
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        let Phase::Queued { offer, .. } = &call.phase else {
            return;
        };
        if !matches!(offer, QueueOffer::NotYet)
            || call.agent_leg.is_some()
            || call.outbound.is_some()
            || call.answered_queue.is_some()
        {
            return;
        }
        let number = call.caller.expose().to_string();
        let rules = &self.cfg.call_me_back.rules;
        if !crate::outbound::rules::is_phone_number(&number) || rules.is_do_not_call(&number) {
            return;
        }
        let assumed = self.cfg.call_me_back.assumed_handle_time;
        let Some(forecast) = self.acd.forecast_wait(&id, assumed, now) else {
            return;
        };
        self.surge_by_forecast(forecast.wait, now);
        let threshold = self.offer_threshold();
        if forecast.wait.is_some_and(|w| w <= threshold) {
            return;
        }
        // The callback must come while the hotline may call: by the forecast, or now when
        // nobody is at work to forecast from.
        let turn = self.wall(now)
            + chrono::Duration::from_std(forecast.wait.unwrap_or_default()).unwrap_or_default();
        if self.cfg.call_me_back.rules.next_allowed(turn) != Some(turn) {
            return;
        }
        let Some(dialog) = CallbackOffer::start(self.menus.queue_audio(), &number) else {
            return;
        };
        let queue = self.calls.get(&id).and_then(|c| c.queue.clone());
        tracing::info!(call = %id, queue = ?queue, position = forecast.position, wait_s = ?forecast.wait.map(|w| w.as_secs()), rate_per_min = forecast.rate_per_min, working = forecast.working, "offering a callback");
        self.counters.callback_offers += 1;
        if let Some(call) = self.calls.get_mut(&id) {
            call.callback_offered = true;
            if let Phase::Queued { offer, .. } = &mut call.phase {
                *offer = QueueOffer::Running {
                    dialog: Box::new(dialog),
                    play: None,
                    accepted: None,
                };
            }
        }
        let at = self.wall(now);
        self.out.push_back(Output::Kpi(KpiEvent {
            queue,
            outcome: Kpi::CallbackOffered,
            at,
        }));
        self.drive_offer(id, now);
    }

    /// Carries out what the offer's dialog decided.
    fn drive_offer(&mut self, id: CallId, _now: Instant) {
        loop {
            let Some(call) = self.calls.get_mut(&id) else {
                return;
            };
            let Phase::Queued {
                offer:
                    QueueOffer::Running {
                        dialog,
                        play,
                        accepted,
                    },
                ..
            } = &mut call.phase
            else {
                break;
            };
            let Some(action) = dialog.poll_action() else {
                break;
            };
            match action {
                OfferAction::Play { play: p, prompts } => {
                    let token = self.next_token;
                    self.next_token += 1;
                    *play = Some((token, p));
                    self.out.push_back(Output::Media(MediaCommand::Play {
                        call: id,
                        token,
                        prompts: prompts.iter().map(|p| p.as_str().to_string()).collect(),
                        loop_last: false,
                    }));
                }
                OfferAction::Accepted { number } => {
                    tracing::info!(call = %id, number = %crate::masked::Masked::new(number.clone()), "the caller takes the callback");
                    *accepted = Some(number);
                }
                OfferAction::Declined => {
                    tracing::info!(call = %id, "the caller keeps waiting");
                    call.phase_offer_done();
                    let hold = self.menus.queue_audio().hold().as_str().to_string();
                    self.play_loop(id, vec![hold]);
                }
            }
        }
        self.rearm(id);
    }

    /// A play list of the offer ended: hold music goes on under the key timer, or after the
    /// farewell the caller is let go. Whether the token was the offer's.
    pub(crate) fn offer_play_finished(&mut self, id: CallId, token: u64, now: Instant) -> bool {
        let Some(call) = self.calls.get_mut(&id) else {
            return false;
        };
        let Phase::Queued {
            offer:
                QueueOffer::Running {
                    dialog,
                    play,
                    accepted,
                },
            ..
        } = &mut call.phase
        else {
            return false;
        };
        let Some((t, p)) = *play else {
            return false;
        };
        if t != token {
            return false;
        }
        *play = None;
        dialog.handle_prompt_finished(p, now);
        if !dialog.is_active() {
            if let Some(number) = accepted.take() {
                call.phase_offer_done();
                self.keep_and_let_go(id, number, now);
                return true;
            }
        }
        let hold = self.menus.queue_audio().hold().as_str().to_string();
        self.play_loop(id, vec![hold]);
        self.drive_offer(id, now);
        true
    }

    /// A key while the offer runs; whether it was the offer's.
    pub(crate) fn offer_digit(&mut self, id: CallId, digit: char, now: Instant) -> bool {
        let Some(call) = self.calls.get_mut(&id) else {
            return false;
        };
        let Phase::Queued {
            offer: QueueOffer::Running { dialog, .. },
            ..
        } = &mut call.phase
        else {
            return false;
        };
        dialog.handle_digit(digit, now);
        self.drive_offer(id, now);
        true
    }

    /// The offer's key timer; whether the offer had one due.
    pub(crate) fn offer_timeout(&mut self, id: CallId, now: Instant) -> bool {
        let Some(call) = self.calls.get_mut(&id) else {
            return false;
        };
        let Phase::Queued {
            offer: QueueOffer::Running { dialog, .. },
            ..
        } = &mut call.phase
        else {
            return false;
        };
        if dialog.poll_timeout().is_none_or(|t| t > now) {
            return false;
        }
        dialog.handle_timeout(now);
        self.drive_offer(id, now);
        true
    }

    /// The caller hung up after taking the offer (during the farewell, or while their own
    /// number was read back after pressing 1): the place is kept all the same. Whether it was
    /// such a caller.
    pub(crate) fn offer_taken_and_gone(&mut self, id: CallId, now: Instant) -> bool {
        let Some(call) = self.calls.get_mut(&id) else {
            return false;
        };
        let Some(number) = call.offer_taken_on_hang_up() else {
            return false;
        };
        if call.agent_leg.is_some() {
            return false; // an agent is being rung for them: an ordinary abandon
        }
        call.phase_offer_done();
        self.keep(id, number, now);
        self.finish(id, CallOutcome::CallbackRequested, now);
        true
    }

    /// The farewell ended: keep the place and hang up (unless an agent is being rung for
    /// the call meanwhile: then the caller simply stays on the line for them).
    fn keep_and_let_go(&mut self, id: CallId, number: String, now: Instant) {
        if self.calls.get(&id).is_some_and(|c| c.agent_leg.is_some()) {
            tracing::info!(call = %id, "an agent is already being rung: the caller stays on the line");
            return;
        }
        self.keep(id, number, now);
        self.send_bye(id, CallOutcome::CallbackRequested, now);
    }

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
        let (invite, _, from_tag) = self.new_invite(&target, port, &name);
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

impl crate::call::session::Call {
    /// The offer is over for this call.
    fn phase_offer_done(&mut self) {
        if let Phase::Queued { offer, .. } = &mut self.phase {
            *offer = QueueOffer::Done;
        }
    }

    /// The offer's key timer, if it runs.
    pub(crate) fn offer_deadline(&self) -> Option<Instant> {
        match &self.phase {
            Phase::Queued {
                offer: QueueOffer::Running { dialog, .. },
                ..
            } => dialog.poll_timeout(),
            _ => None,
        }
    }

    /// The number to call back if the caller hangs up now (see
    /// [`CallbackOffer::taken_on_hang_up`]).
    pub(crate) fn offer_taken_on_hang_up(&self) -> Option<String> {
        match &self.phase {
            Phase::Queued {
                offer: QueueOffer::Running { dialog, .. },
                ..
            } => dialog.taken_on_hang_up().map(str::to_string),
            _ => None,
        }
    }

    /// Whether the offer's dialog is speaking with the caller (no position notice then).
    pub(crate) fn offer_running(&self) -> bool {
        matches!(
            self.phase,
            Phase::Queued {
                offer: QueueOffer::Running { .. },
                ..
            }
        )
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

/// A kept place as `state.json` keeps it across a restart.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedCallback {
    /// The call id the place is kept under (the ACD's key; the callback's call takes it).
    pub call: u64,
    /// The whole number to call (the data folder is owner-only, like the call journal).
    pub number: String,
    pub queue: String,
    pub origin: String,
    pub requested_at: DateTime<Utc>,
    /// When the caller first asked for a person: the place in the line.
    pub queued_at: DateTime<Utc>,
    pub menu_path: Vec<String>,
    pub tries: u32,
}

/// How soon after a restart the kept places go back into the line: once the engine task
/// runs (what the restore itself puts out is not sent).
const RESTORE_DELAY: Duration = Duration::from_secs(1);

impl CallEngine {
    /// The kept places, for `state.json`.
    pub(crate) fn saved_callbacks(&self, now: Instant) -> Vec<SavedCallback> {
        let mut out: Vec<SavedCallback> = self
            .kept
            .by_call
            .iter()
            .map(|(id, k)| SavedCallback {
                call: id.0,
                number: k.number.clone(),
                queue: k.queue.clone(),
                origin: k.origin.clone(),
                requested_at: k.requested_at,
                queued_at: self.wall(now)
                    - chrono::Duration::from_std(now.saturating_duration_since(k.t0))
                        .unwrap_or_default(),
                menu_path: k.menu_path.clone(),
                tries: k.tries,
            })
            .collect();
        out.sort_by_key(|c| c.queued_at);
        out
    }

    /// Puts saved places back, in their order, a moment after the start (see
    /// [`RESTORE_DELAY`]). Places of unknown queues are dropped with a warning.
    pub(crate) fn restore_callbacks(&mut self, saved: &[SavedCallback], now: Instant) -> usize {
        let wall = self.wall(now);
        let mut done = 0;
        for s in saved {
            let id = CallId(s.call);
            if !self.acd.has_voice_queue(&s.queue) || self.kept.by_call.contains_key(&id) {
                tracing::warn!(origin = %s.origin, queue = %s.queue, "saved callback dropped: its queue is gone");
                continue;
            }
            let ago = |t: DateTime<Utc>| (wall - t).to_std().unwrap_or_default();
            let back = |d: Duration| now.checked_sub(d).unwrap_or(now);
            self.kept.by_call.insert(
                id,
                KeptCallback {
                    number: s.number.clone(),
                    queue: s.queue.clone(),
                    origin: s.origin.clone(),
                    requested_at: s.requested_at,
                    requested_mono: back(ago(s.requested_at)),
                    t0: back(ago(s.queued_at)),
                    menu_path: s.menu_path.clone(),
                    tries: s.tries,
                },
            );
            self.kept.retries.insert((now + RESTORE_DELAY, id));
            done += 1;
        }
        done
    }
}
