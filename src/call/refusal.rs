//! Calls the hotline turns away before answering for lack of room (no RTP port, media that
//! cannot be opened): the caller gets 503, and the call still leaves a record and a KPI
//! event, since the citizen asked for the hotline and got nobody (`docs/KPI.md`).

use std::time::Instant;

use crate::call::engine::{CallEngine, Output};
use crate::call::record::{CallOutcome, CallRecord, CallState, LiveCall};
use crate::masked::Masked;
use crate::sip::message::{Request, Response, TransactionKey};

impl CallEngine {
    /// A call refused with 503 before answering because the hotline had no room for it: a
    /// record (`no_capacity`) and a KPI event, since the citizen got nobody (issue 11 item 7,
    /// `docs/KPI.md`).
    pub(crate) fn refuse_for_capacity(
        &mut self,
        req: &Request,
        key: &TransactionKey,
        called: String,
        now: Instant,
    ) {
        let mut resp = Response::for_request(req, 503, "Service Unavailable");
        resp.headers.push("Retry-After", "5");
        self.counters.calls_rejected += 1;
        self.respond(key, resp, now);
        let id = self.new_call_id();
        let at = self.wall(now);
        let caller = caller_of(req);
        let record = CallRecord {
            call: LiveCall {
                callback_offered: false,
                id: crate::call::ids::call_name(at, id),
                caller: caller.masked(),
                called_name: self.menus.number_name(&called).map(str::to_string),
                called,
                state: CallState::Ended,
                menu_path: Vec::new(),
                queue: None,
                started_at: at,
                answered_at: None,
                queued_at: None,
                offered_to: None,
                agent: None,
                connected_at: None,
                wait_s: None,
                recording: None,
                transfers: Vec::new(),
                ticket: None,
                answered_queue: None,
                on_hold: false,
                parties: Vec::new(),
                direction: Default::default(),
                outbound: None,
            },
            ended_at: at,
            outcome: CallOutcome::NoCapacity,
            sip_call_id: req.headers.call_id.clone(),
            recording_sha256: None,
            over_15s: None,
            agent_media_failure: None,
        };
        tracing::warn!(call = %id, caller = %caller, "refused for lack of capacity: counted as not connected");
        self.counters.call_ended(CallOutcome::NoCapacity);
        self.out.push_back(Output::Kpi(crate::stats::kpi::KpiEvent {
            queue: None,
            number: Some(record.call.called.clone()),
            outcome: crate::stats::kpi::Outcome::Refused,
            at,
        }));
        self.out.push_back(Output::Record(Box::new(record)));
    }
}

/// The caller's number as the INVITE's From names it (`anonymous` when it names none).
pub(crate) fn caller_of(req: &Request) -> Masked {
    Masked::new(
        req.headers
            .from
            .uri
            .as_sip()
            .and_then(|u| u.user.clone())
            .unwrap_or_else(|| "anonymous".into()),
    )
}
