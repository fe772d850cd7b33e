//! The engine as a hot standby (issue 19): configuration, menus and prompts are loaded, but
//! every new SIP request is answered 503, OPTIONS included, so Kamailio's dispatcher marks
//! this engine down and sends calls and registrations to the active one. Requests inside a
//! dialog this engine still has (an engine that stepped down with calls on) go on, so those
//! calls end normally. Which role the engine has is decided by `cluster`, not here.

use std::time::Instant;

use crate::call::engine::{CallEngine, Peer};
use crate::sip::message::{Method, Request, Response};

impl CallEngine {
    /// Becomes the standby (`true`) or the active engine (`false`). A standby places no
    /// outbound calls and takes no new requests; live calls are left to end.
    /// A new standby also lets go of the web items waiting or offered on it: the active
    /// engine serves them from the shared store.
    pub fn set_standby(&mut self, standby: bool, now: Instant) {
        if self.standby != standby {
            tracing::info!(standby, calls = self.calls.len(), "engine role changed");
            if standby {
                let items = self.acd.handle_standby(now);
                if items > 0 {
                    tracing::info!(items, "web items left to the active engine");
                }
                self.drain_acd(now);
            }
        }
        self.standby = standby;
        self.flush_transactions(now);
    }

    /// Whether this engine is the standby.
    pub fn is_standby(&self) -> bool {
        self.standby
    }

    /// A standby's answer to a request, sent without a transaction (a retransmission gets
    /// the same answer again): `true` when it was refused. ACKs are dropped; requests in one
    /// of this engine's own dialogs pass.
    pub(crate) fn refuse_as_standby(&mut self, req: &Request, from: Peer) -> bool {
        if !self.standby {
            return false;
        }
        let in_our_dialog = req.headers.to.tag().is_some() && self.dialog_call(req).is_some();
        if in_our_dialog {
            return false;
        }
        self.counters.refused_standby += 1;
        if req.method == Method::Ack {
            return true;
        }
        let mut resp = Response::for_request(req, 503, "Standby");
        resp.headers.push("Retry-After", "5");
        self.transmit(from, resp.to_bytes());
        true
    }
}
