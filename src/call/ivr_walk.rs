//! A call's walk before a person: the IVR menus (prompts, keys, timeouts, driven by the
//! [`Navigator`]), then the queue with hold audio; and keys pressed while talking, passed on to
//! the agent's phone.

use std::time::Instant;

use crate::call::engine::{CallEngine, MediaCommand, Output};
use crate::call::session::{CallId, Phase};
use crate::ivr::navigator::{NavAction, Navigator};

impl CallEngine {
    /// Starts the main menu for an answered call.
    pub(crate) fn start_ivr(&mut self, id: CallId, now: Instant) {
        let nav = Navigator::new(&self.menus, now);
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
        let queue = if self.acd.has_queue(&queue) {
            queue
        } else {
            tracing::warn!(%queue, "IVR routed to an unknown queue; using general");
            "general".to_string()
        };
        let wall = self.wall(now);
        let interval = self.cfg.queue_notice_interval;
        let audio = self.menus.queue_audio();
        let prompts = vec![
            audio.transfer().as_str().to_string(),
            audio.hold().as_str().to_string(),
        ];
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
            Phase::Talking => self
                .out
                .push_back(Output::Media(MediaCommand::SendDigit { call: id, digit })),
            Phase::Robot { .. } => self.robot_digit(id, digit, now),
            Phase::Queued { .. } => {
                self.offer_digit(id, digit, now);
            }
            _ => {}
        }
        self.flush_transactions(now);
    }
}
