//! A call is answered only once its media can be heard: the shell binds the caller's RTP
//! port when the INVITE is taken (`MediaCommand::Reserve`) and says so; a call whose port
//! cannot be opened (no file descriptor left, the port taken) is refused with 503 before
//! any answer and recorded `no_capacity`, never answered into silence.

use std::time::{Duration, Instant};

use crate::call::engine::{CallEngine, Output};
use crate::call::record::CallOutcome;
use crate::call::session::{CallId, Phase};
use crate::sip::message::Response;

/// How long past its answer time a call waits for the media shell to hold its RTP port
/// before it is refused (the shell answers at once; this only bounds a lost reply).
pub const MEDIA_WAIT: Duration = Duration::from_secs(2);

impl CallEngine {
    /// The media shell holds the call's RTP port: the call may be answered (now, or when
    /// the answer delay is over).
    pub fn handle_media_ready(&mut self, id: CallId, now: Instant) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if let Phase::Ringing {
            answer_at,
            media_ready,
        } = &mut call.phase
        {
            *media_ready = true;
            if now >= *answer_at {
                self.answer(id, now);
            }
        }
        self.rearm(id);
        self.flush_transactions(now);
    }

    /// The media shell could not open the call's RTP port: the call cannot be heard. Before
    /// the answer it is refused with 503 (`no_capacity`, counted against the rates like any
    /// call refused for lack of room); after it, ended with a BYE.
    pub fn handle_media_failed(&mut self, id: CallId, now: Instant) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        if matches!(call.phase, Phase::Ringing { .. }) {
            let number = Some(call.called.clone());
            tracing::warn!(call = %id, "the call's RTP port cannot be opened: refusing it with 503 before answering");
            let mut resp = Response::for_request(&call.invite, 503, "Service Unavailable");
            resp.headers.to.set_tag(&call.local_tag);
            resp.headers.push("Retry-After", "5");
            let key = call.invite_key.clone();
            self.respond(&key, resp, now);
            self.counters.calls_rejected += 1;
            let at = self.wall(now);
            self.out.push_back(Output::Kpi(crate::stats::kpi::KpiEvent {
                queue: None,
                number,
                outcome: crate::stats::kpi::Outcome::Refused,
                at,
            }));
            self.finish(id, CallOutcome::NoCapacity, now);
        } else {
            tracing::warn!(call = %id, "media failed: ending the call");
            self.end_call_by_engine(id, now);
        }
        self.flush_transactions(now);
    }
}
