//! Calls whose caller vanished are ended: no RTP for `rtp.media_timeout` (hold excepted), an
//! RFC 4028 session timer not refreshed, too long in the menus (then a person) or in a queue.
//! Without these, INVITE+ACK with no media afterwards kept calls (and their ports) forever:
//! the hotline answered 503 to everyone until a restart.

use std::time::Instant;

use crate::call::engine::CallEngine;
use crate::call::media_session;
use crate::call::record::CallOutcome;
use crate::call::screen::reason_phrase;
use crate::call::session::{CallId, Phase};
use crate::sip::dialog::session_timer::{self, Negotiation, SessionTimer};
use crate::sip::message::{Contact, MediaType, Method, Request, Response, TransactionKey};

impl CallEngine {
    /// The media shell saw no RTP from the caller for the configured time.
    pub fn handle_media_inactive(&mut self, id: CallId, now: Instant) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        if call.media.is_some_and(|m| m.on_hold) {
            tracing::debug!(call = %call.id, "no RTP while the caller holds the call: kept");
            return;
        }
        if matches!(
            call.phase,
            Phase::Ringing { .. } | Phase::Answered { .. } | Phase::Ending { .. }
        ) {
            return; // not answered yet, or the lost-ACK timer and the BYE already see to it
        }
        tracing::info!(call = %call.id, state = call.state().as_str(), "no RTP from the caller: ending the call");
        self.end_dead(id, CallOutcome::MediaTimeout, now);
        self.flush_transactions(now);
    }

    /// Ends a call whose caller is gone (or waited too long): both legs get a BYE, the ACD
    /// hears of it at once (a waiting call is not offered to anyone meanwhile) and the record
    /// says `outcome`.
    pub(crate) fn end_dead(&mut self, id: CallId, outcome: CallOutcome, now: Instant) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        let answered_before = call.answered_queue.is_some();
        let acd = match call.phase {
            Phase::Queued { .. } => Some(false),
            Phase::Talking => Some(true),
            _ => None,
        };
        self.end_agent_leg(id, now);
        let result = match acd {
            // Waiting again after a transfer: a person had answered, so no abandon.
            Some(false) if answered_before => self.acd.handle_call_withdrawn(&id, now),
            Some(false) => self.acd.handle_caller_hung_up(&id, now),
            Some(true) => self.acd.handle_call_ended(&id, now),
            None => Ok(()),
        };
        if let Err(e) = result {
            tracing::debug!(error = %e, "ACD: dead call");
        }
        self.send_bye(id, outcome, now);
        self.drain_acd(now);
    }

    /// A call's limits at `now`: its session timer, its time in the menus or the queue. True
    /// when one of them acted (the call's other timers wait for the next wake-up).
    pub(crate) fn limits_reached(&mut self, id: CallId, now: Instant) -> bool {
        let Some(call) = self.calls.get(&id) else {
            return false;
        };
        if matches!(call.phase, Phase::Ending { .. }) {
            return false;
        }
        if call.session_timer.is_some_and(|t| now >= t.deadline()) {
            tracing::info!(call = %call.id, "session timer expired without a refresh: ending the call");
            self.end_dead(id, CallOutcome::SessionExpired, now);
            return true;
        }
        match &call.phase {
            Phase::Ivr { until, nav, .. } if now >= *until => {
                // A person is reachable from everywhere: after the menus' limit, one is asked.
                tracing::info!(call = %call.id, "too long in the menus: routing to a person");
                // The desk shows the way the caller came, ending in this step.
                let mut path = nav.path().to_vec();
                let menu = nav.current_menu().map_or("main", |m| m.id()).to_string();
                path.push(format!("{menu}:max_in_ivr"));
                if let Some(c) = self.calls.get_mut(&id) {
                    c.menu_path = path;
                }
                self.enqueue(id, "general".to_string(), now);
                true
            }
            Phase::Queued { until, queue, .. } if now >= *until => {
                tracing::warn!(call = %call.id, %queue, "queue wait limit reached: ending the call");
                self.end_dead(id, CallOutcome::QueueTimeout, now);
                true
            }
            _ => false,
        }
    }

    /// A re-INVITE or UPDATE inside the caller's dialog: a session refresh (RFC 4028) and/or
    /// a hold. Our side of the session stays as it is; the caller's direction is noted, so a
    /// held call is not taken for a vanished one.
    pub(crate) fn handle_refresh(
        &mut self,
        id: CallId,
        req: Request,
        key: TransactionKey,
        now: Instant,
    ) {
        let negotiation = session_timer::negotiate(&req, self.cfg.session_expires, self.cfg.min_se);
        if let Negotiation::TooSmall { .. } = negotiation {
            let mut resp = Response::for_request(&req, 422, reason_phrase(422));
            session_timer::apply(&mut resp, negotiation);
            self.respond(&key, resp, now);
            return;
        }
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if !req.body.is_empty() {
            if let (Ok(m), Some(current)) =
                (media_session::read_answer(&req.body), call.media.as_mut())
            {
                current.on_hold = m.on_hold;
            }
        }
        call.session_timer = match negotiation {
            Negotiation::Use { interval } => Some(SessionTimer::new(interval, now)),
            // §10: a refresh without Session-Expires turns the timer off.
            _ => None,
        };
        let sdp =
            (req.method == Method::Invite || !req.body.is_empty()).then(|| call.local_sdp.clone());
        let peer = call.peer;
        let mut resp = Response::for_request(&req, 200, "OK");
        resp.headers.contact = Some(Contact::List(vec![self.contact_for(peer)]));
        session_timer::apply(&mut resp, negotiation);
        let resp = match sdp {
            Some(sdp) => resp.with_body(MediaType::new("application", "sdp"), sdp),
            None => resp,
        };
        self.respond(&key, resp, now);
        self.rearm(id);
    }
}
