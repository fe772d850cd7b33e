//! The offer while a caller waits (`Phase::Queued`'s `offer`): when it is due, the dialog
//! (`ivr::callback_offer`) driven by keys, prompt ends and its timer, and the caller let go
//! with the place kept once they took it.

use std::time::{Duration, Instant};

use crate::call::engine::{CallEngine, MediaCommand, Output};
use crate::call::record::CallOutcome;
use crate::call::session::{CallId, Phase};
use crate::ivr::callback_offer::{CallbackOffer, OfferAction};
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
            number: self.kpi_number(id),
            outcome: Kpi::CallbackOffered,
            at,
        }));
        self.drive_offer(id);
    }

    /// Carries out what the offer's dialog decided.
    fn drive_offer(&mut self, id: CallId) {
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
        self.drive_offer(id);
        true
    }

    /// A key while the offer runs; whether it was the offer's.
    pub(crate) fn offer_digit(&mut self, id: CallId, digit: char, now: Instant) -> bool {
        let Some(dialog) = self.calls.get_mut(&id).and_then(|c| c.offer_dialog_mut()) else {
            return false;
        };
        dialog.handle_digit(digit, now);
        self.drive_offer(id);
        true
    }

    /// The offer's key timer; whether the offer had one due.
    pub(crate) fn offer_timeout(&mut self, id: CallId, now: Instant) -> bool {
        let Some(dialog) = self.calls.get_mut(&id).and_then(|c| c.offer_dialog_mut()) else {
            return false;
        };
        if dialog.poll_timeout().is_none_or(|t| t > now) {
            return false;
        }
        dialog.handle_timeout(now);
        self.drive_offer(id);
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
}

impl crate::call::session::Call {
    /// The offer is over for this call.
    fn phase_offer_done(&mut self) {
        if let Phase::Queued { offer, .. } = &mut self.phase {
            *offer = QueueOffer::Done;
        }
    }

    /// The offer's dialog while it runs.
    fn offer_dialog(&self) -> Option<&CallbackOffer> {
        match &self.phase {
            Phase::Queued {
                offer: QueueOffer::Running { dialog, .. },
                ..
            } => Some(dialog),
            _ => None,
        }
    }

    fn offer_dialog_mut(&mut self) -> Option<&mut CallbackOffer> {
        match &mut self.phase {
            Phase::Queued {
                offer: QueueOffer::Running { dialog, .. },
                ..
            } => Some(dialog),
            _ => None,
        }
    }

    /// The offer's key timer, if it runs.
    pub(crate) fn offer_deadline(&self) -> Option<Instant> {
        self.offer_dialog().and_then(|d| d.poll_timeout())
    }

    /// The number to call back if the caller hangs up now (see
    /// [`CallbackOffer::taken_on_hang_up`]).
    pub(crate) fn offer_taken_on_hang_up(&self) -> Option<String> {
        self.offer_dialog()
            .and_then(|d| d.taken_on_hang_up())
            .map(str::to_string)
    }

    /// Whether the offer's dialog is speaking with the caller (no position notice then).
    pub(crate) fn offer_running(&self) -> bool {
        self.offer_dialog().is_some()
    }
}
