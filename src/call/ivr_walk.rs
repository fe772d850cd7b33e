//! A call's walk before a person: the IVR menus (prompts, keys, timeouts, driven by the
//! [`Navigator`]), then the queue with hold audio; and keys pressed while talking, passed on to
//! the agent's phone.

use std::time::Instant;

use crate::call::engine::{CallEngine, MediaCommand, Output};
use crate::call::session::{CallId, Phase};
use crate::ivr::navigator::{NavAction, Navigator};
use crate::ivr::numbers::NumberRoute;

impl CallEngine {
    /// Starts the main menu for an answered call.
    /// Where it starts follows the number dialled (`[numbers.<digits>]`): the entry menu, a
    /// branch, or straight to a queue, after the number's notice.
    pub(crate) fn start_ivr(&mut self, id: CallId, now: Instant) {
        let called = self.calls.get(&id).map(|c| c.called.clone());
        let entry = called
            .as_deref()
            .and_then(|n| self.menus.number(n))
            .cloned();
        let nav = match entry {
            Some(e) => match e.route() {
                NumberRoute::Queue(queue) => {
                    let lead: Vec<String> = e
                        .notice()
                        .map(|p| p.file().as_str().to_string())
                        .into_iter()
                        .collect();
                    tracing::info!(call = %id, %queue, number = ?called, "integrated number: straight to its queue");
                    self.enqueue_after(id, queue.clone(), lead, now);
                    return;
                }
                NumberRoute::Menu(menu) => Navigator::starting(&self.menus, *menu, e.notice(), now),
            },
            None => Navigator::new(&self.menus, now),
        };
        let until = now + self.cfg.max_in_ivr;
        if let Some(call) = self.calls.get_mut(&id) {
            call.phase = Phase::Ivr {
                nav: Box::new(nav),
                play: None,
                until,
            };
        }
        self.drive_navigator(id, now);
    }

    /// Carries out what the navigator decided.
    pub(crate) fn drive_navigator(&mut self, id: CallId, now: Instant) {
        loop {
            let Some(call) = self.calls.get_mut(&id) else {
                return;
            };
            let Phase::Ivr { nav, play, .. } = &mut call.phase else {
                break;
            };
            let Some(action) = nav.poll_action() else {
                break;
            };
            match action {
                NavAction::Play {
                    id: play_id,
                    prompts,
                    ..
                } => {
                    let token = self.next_token;
                    self.next_token += 1;
                    *play = Some((token, play_id));
                    let prompts: Vec<String> =
                        prompts.iter().map(|p| p.as_str().to_string()).collect();
                    let prompts = self.with_surge_notice(prompts);
                    self.out.push_back(Output::Media(MediaCommand::Play {
                        call: id,
                        token,
                        prompts,
                        loop_last: false,
                    }));
                }
                NavAction::StopPlayback => {
                    *play = None;
                    self.out
                        .push_back(Output::Media(MediaCommand::Stop { call: id }));
                }
                NavAction::RouteToQueue {
                    queue,
                    path,
                    reason,
                } => {
                    call.menu_path = path;
                    tracing::info!(call = %call.id, %queue, ?reason, path = %call.menu_path.join(" "), "call queued");
                    self.enqueue(id, queue, now);
                    break;
                }
            }
        }
        if let Some(call) = self.calls.get_mut(&id) {
            if let Phase::Ivr { nav, .. } = &call.phase {
                call.menu_path = nav.path().to_vec();
            }
        }
        self.rearm(id);
    }

    pub(crate) fn enqueue(&mut self, id: CallId, queue: String, now: Instant) {
        self.enqueue_after(id, queue, Vec::new(), now);
    }

    /// Puts the call in `queue`; the caller hears `lead` (an integrated number's notice)
    /// before the transfer prompt and the hold music.
    pub(crate) fn enqueue_after(
        &mut self,
        id: CallId,
        queue: String,
        lead: Vec<String>,
        now: Instant,
    ) {
        let queue = if self.acd.has_queue(&queue) {
            queue
        } else {
            tracing::warn!(%queue, "IVR routed to an unknown queue; using general");
            "general".to_string()
        };
        let wall = self.wall(now);
        let interval = self.cfg.queue_notice_interval;
        let audio = self.menus.queue_audio();
        let mut prompts = lead;
        prompts.push(audio.transfer().as_str().to_string());
        prompts.push(audio.hold().as_str().to_string());
        if let Some(call) = self.calls.get_mut(&id) {
            call.queue = Some(queue.clone());
            call.queued_at = Some(wall);
            // The citizen's first request for a person: a transfer does not restart it.
            call.queued_mono.get_or_insert(now);
            call.phase = Phase::Queued {
                queue: queue.clone(),
                next_notice: now + interval,
                until: now + self.cfg.max_in_queue,
                offer: Default::default(),
            };
        }
        self.journal(id);
        self.play_loop(id, prompts);
        // t₀ of the 15-second clock: the caller asked for a person now.
        if let Err(e) = self.acd.handle_call_queued(id, &queue, now, 0, now) {
            tracing::warn!(error = %e, "the ACD refused a call");
        }
        self.rearm(id);
        self.drain_acd(now);
        self.offer_callback_if_due(id, now);
    }

    /// The number an inbound call dialled, for its KPI events (`None` for the hotline's own
    /// outbound calls).
    pub(crate) fn kpi_number(&self, id: CallId) -> Option<String> {
        match self.calls.get(&id) {
            Some(c) => c.outbound.is_none().then(|| c.called.clone()),
            None => self
                .finishing
                .as_ref()
                .filter(|(f, _)| *f == id)
                .map(|(_, n)| n.clone()),
        }
    }

    pub(crate) fn play_loop(&mut self, id: CallId, prompts: Vec<String>) {
        let token = self.next_token;
        self.next_token += 1;
        self.out.push_back(Output::Media(MediaCommand::Play {
            call: id,
            token,
            prompts,
            loop_last: true,
        }));
    }

    /// The media shell finished a play list.
    pub fn handle_play_finished(&mut self, id: CallId, token: u64, now: Instant) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if let Phase::Ivr { nav, play, .. } = &mut call.phase {
            if let Some((t, play_id)) = *play {
                if t == token {
                    *play = None;
                    nav.handle_prompt_finished(play_id, now);
                    self.drive_navigator(id, now);
                }
            }
        } else if matches!(call.phase, Phase::Robot { .. }) {
            self.robot_play_finished(id, token, now);
        } else if matches!(call.phase, Phase::Queued { .. }) {
            self.offer_play_finished(id, token, now);
        }
        self.flush_transactions(now);
    }

    /// A key press (RFC 4733, in-band tone or SIP INFO).
    pub fn handle_digit(&mut self, id: CallId, digit: char, now: Instant) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        match &mut call.phase {
            Phase::Ivr { nav, .. } => {
                tracing::debug!(call = %call.id, %digit, "digit");
                nav.handle_digit(digit, now);
                self.drive_navigator(id, now);
            }
            // Talking: the caller answers the agent's questions with keys (an ID number, a
            // menu of the agent's system); the agent's phone gets them.
            Phase::Talking => {
                self.out
                    .push_back(Output::Media(MediaCommand::SendDigit { call: id, digit }));
                self.browser_key(id, digit, now);
            }
            Phase::Robot { .. } => self.robot_digit(id, digit, now),
            Phase::Queued { .. } => {
                self.offer_digit(id, digit, now);
            }
            _ => {}
        }
        self.flush_transactions(now);
    }
}
