//! An agent whose phone is a browser (its binding is a SIP-over-WebSocket link): its leg
//! carries WebRTC media (ICE-lite, DTLS-SRTP, `media::webrtc`), never plain RTP.
//!
//! The call room builds the [`WebRtcLeg`] itself when it rings such an agent: the leg is a
//! sans-IO core (it takes `now`, does no IO; its certificate and ICE credentials are random
//! like our tags), so the INVITE carrying its offer goes out in the same step as for a SIP
//! phone, and the ACD's ring state needs no extra round trip to the shell. The only IO is
//! the leg's UDP socket, which the shell binds at once (`MediaCommand::ReserveLeg`) so the
//! browser's first ICE checks, which may come before its 200 OK, wait in the socket. The
//! 200 OK's answer is accepted here; an answer that cannot carry the call (no fingerprint,
//! no common codec, not SDP) gets the leg refused: ACK, BYE, and the agent is treated as
//! one whose phone could not take the call (not ready), the caller back in the queue. Once
//! the call connects the leg goes to the media shell (`MediaCommand::OpenWebRtcAgent`),
//! which runs it from then on; if it fails there (DTLS, ICE) the shell says why and the
//! agent's leg ends with that reason in the call record.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;

use crate::acd::core::RingFailure;
use crate::call::agent_leg::LegStartError;
use crate::call::engine::Link;
use crate::call::engine::{CallEngine, MediaCommand, Output, Peer};
use crate::call::output::WebRtcHandoff;
use crate::call::session::CallId;
use crate::media::mixer::PartyId;
use crate::media::webrtc::WebRtcLeg;
use crate::sip::dialog::ViaSpec;
use crate::sip::message::{MediaType, Method, Request, Response, TransactionKey};

/// The call room's browser legs: offered (or answered) and not yet handed to the shell, and
/// why a leg the shell ran failed, for the call record.
#[derive(Debug, Default)]
pub(crate) struct BrowserLegs {
    pub(crate) pending: HashMap<CallId, (u16, WebRtcLeg)>,
    /// The same for extra parties whose phone is a browser (`call::browser_party`).
    pub(crate) parties: HashMap<(CallId, PartyId), (u16, WebRtcLeg)>,
    failures: HashMap<CallId, String>,
    /// A browser's re-INVITE waiting for the media shell's answer, by the media party whose
    /// leg it is for (the agent's or a conference party's).
    pub(crate) reoffers: HashMap<(CallId, PartyId), (TransactionKey, Request)>,
}

impl BrowserLegs {
    /// Why the call's browser leg failed, taken for its record.
    pub(crate) fn take_failure(&mut self, id: CallId) -> Option<String> {
        self.pending.remove(&id);
        self.parties.retain(|(c, _), _| *c != id);
        self.reoffers.retain(|(c, _), _| *c != id);
        self.failures.remove(&id)
    }
}

/// What the agent desk's own phone needs to register as its agent (`GET /api/desk/phone`).
/// The MD5 HA1, not the password (the config keeps none): a browser SIP client computes the
/// digest response from it, and it is handed only to the agent's own token.
#[derive(Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct PhoneCredentials {
    pub sip_user: String,
    pub realm: String,
    /// H(sip_user:realm:password), MD5, lowercase hex.
    pub ha1: String,
}

impl std::fmt::Debug for PhoneCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneCredentials")
            .field("sip_user", &self.sip_user)
            .finish_non_exhaustive()
    }
}

/// Whether a phone reached at `peer` is a browser (SIP over WebSocket, RFC 7118).
pub(crate) fn is_browser(peer: Peer) -> bool {
    matches!(peer.link, Link::Ws { .. })
}

impl CallEngine {
    /// Agent `agent`'s phone credentials as configured now; `None` for an unknown agent or
    /// one with only a SHA-256 HA1 (browser clients digest with MD5).
    pub fn phone_credentials(&self, agent: &str) -> Option<PhoneCredentials> {
        let a = self
            .acd_files
            .agents
            .iter()
            .find(|a| a.id.as_str() == agent)?;
        Some(PhoneCredentials {
            sip_user: a.sip_user.clone(),
            realm: self.acd_files.realm.clone(),
            ha1: a.credentials.ha1_md5.clone()?,
        })
    }

    /// The SDP offer for a browser agent's INVITE on `port`: a new WebRTC leg, kept until
    /// the answer, and its socket bound now. `Ok(None)` for any other phone (plain RTP).
    pub(crate) fn browser_offer(
        &mut self,
        id: CallId,
        peer: Peer,
        port: u16,
        now: Instant,
    ) -> Result<Option<Vec<u8>>, LegStartError> {
        if !is_browser(peer) {
            return Ok(None);
        }
        let local = SocketAddr::new(self.cfg.rtp_address, port);
        let (mut leg, sdp) = WebRtcLeg::offer(local, now).map_err(|e| {
            tracing::error!(call = %id, %local, error = %e, "no WebRTC offer for a browser agent");
            self.ports.release(port);
            LegStartError::NotSent
        })?;
        leg.set_opus_complexity(self.cfg.opus_complexity);
        self.browser.pending.insert(id, (port, leg));
        self.out
            .push_back(Output::Media(MediaCommand::ReserveLeg { call: id, port }));
        Ok(Some(sdp.into_bytes()))
    }

    /// The browser's 2xx answer to the call's pending offer. `None`: the call's agent leg is
    /// not a browser's. `Some(Err)`: refused (the leg is dropped; the caller must ACK, BYE
    /// and treat the agent as unable to take the call).
    pub(crate) fn browser_answer(
        &mut self,
        id: CallId,
        body: &[u8],
        now: Instant,
    ) -> Option<Result<(), String>> {
        let (_, leg) = self.browser.pending.get_mut(&id)?;
        let answered = std::str::from_utf8(body)
            .map_err(|_| "the answer is not UTF-8".to_string())
            .and_then(|sdp| leg.accept_answer(sdp, now).map_err(|e| e.to_string()));
        Some(match answered {
            Ok(media) => {
                tracing::info!(call = %id, codec = ?media.codec, events = ?media.telephone_event, "browser agent's WebRTC answer accepted");
                Ok(())
            }
            Err(why) => {
                self.browser.pending.remove(&id);
                self.counters.webrtc_answers_refused += 1;
                tracing::warn!(call = %id, %why, "browser agent's answer refused: hanging up its leg");
                Err(why)
            }
        })
    }

    /// A browser leg that was offered and will not be answered (cancelled, refused, timed
    /// out): forgotten (its reserved socket goes with the port's next use or the call).
    pub(crate) fn drop_browser_offer(&mut self, id: CallId) {
        self.browser.pending.remove(&id);
    }

    /// The answered browser leg handed to the media shell, when the call's agent leg is one.
    pub(crate) fn open_browser_leg(&mut self, id: CallId) -> Option<MediaCommand> {
        let (port, leg) = self.browser.pending.remove(&id)?;
        leg.media()?;
        Some(MediaCommand::OpenWebRtcAgent {
            call: id,
            port,
            leg: WebRtcHandoff::new(leg),
        })
    }

    /// The answer of a browser's 2xx was refused: ACK it, hang up, and ring on.
    pub(crate) fn refuse_browser_answer(
        &mut self,
        id: CallId,
        mut leg: crate::call::agent_leg::AgentLeg,
        now: Instant,
    ) {
        self.send_ack(&mut leg, now);
        self.send_leg_bye(&mut leg, now);
        self.ports.release(leg.port);
        self.by_agent_invite.remove(&leg.key);
        if let Some(tag) = leg.invite.headers.from.tag() {
            self.by_dialog
                .remove(&(leg.invite.headers.call_id.clone(), tag.to_string()));
        }
        if let Some(call) = self.calls.get_mut(&id) {
            call.agent_leg = None;
        }
        self.ring_failed_for(id, RingFailure::Unreachable, now);
        self.drain_acd(now);
    }

    /// A key the caller pressed while talking, for a browser agent: besides the RFC 4733
    /// event in its media (which browsers play but never hand to the page), a SIP INFO
    /// (`application/dtmf-relay`) in its dialog, which JsSIP and the desk show (`newDTMF`).
    pub(crate) fn browser_key(&mut self, id: CallId, digit: char, now: Instant) {
        let Some(mut leg) = self
            .calls
            .get(&id)
            .and_then(|c| c.agent_leg.clone())
            .filter(|l| is_browser(l.peer) && l.dialog.is_some())
        else {
            return;
        };
        let host = self.local_host();
        let transport = Self::via_transport(leg.peer);
        let branch = self.token();
        let port = self.cfg.sip_addr.port();
        let Some(dialog) = leg.dialog.as_mut() else {
            return;
        };
        let info = dialog
            .request(
                Method::Info,
                ViaSpec {
                    transport: &transport,
                    host: &host,
                    port,
                    branch_suffix: &branch,
                },
            )
            .with_body(
                MediaType::new("application", "dtmf-relay"),
                format!("Signal={digit}\r\nDuration=160\r\n"),
            );
        // The dialog's CSeq moved on: keep it for the next request (BYE, INFO).
        if let Some(l) = self.calls.get_mut(&id).and_then(|c| c.agent_leg.as_mut()) {
            l.dialog = leg.dialog.clone();
        }
        let Some(key) = info.client_transaction_key() else {
            return;
        };
        self.txn_peers.insert(key.clone(), leg.peer);
        if let Err(e) = self.txns.start_client(
            key,
            info,
            crate::call::engine::transport(leg.peer.reliable()),
            now,
        ) {
            tracing::debug!(error = %e, "INFO to the browser agent not sent");
        }
    }

    /// A re-INVITE from a browser agent (hold, resume): its offer goes to the leg on the
    /// media shell, and the transaction waits for the answer (`handle_webrtc_reanswer`).
    /// `false` when the call's agent is not a browser.
    pub(crate) fn browser_reoffer(
        &mut self,
        id: CallId,
        req: &Request,
        key: &TransactionKey,
        now: Instant,
    ) -> bool {
        let Some(call) = self.calls.get(&id) else {
            return false;
        };
        let browser = call.agent_leg.as_ref().is_some_and(|l| is_browser(l.peer));
        let party = call.conference.agent_party;
        browser && self.webrtc_reoffer(id, party, req, key, now)
    }

    /// Hands a browser's re-offer to its leg (media party `party`) on the media shell;
    /// always `true` (the request is answered now or when the shell answers).
    pub(crate) fn webrtc_reoffer(
        &mut self,
        id: CallId,
        party: PartyId,
        req: &Request,
        key: &TransactionKey,
        now: Instant,
    ) -> bool {
        if self.browser.reoffers.contains_key(&(id, party)) {
            // RFC 3261 §14.2: one offer at a time.
            self.respond_status(key, req, 491, now);
            return true;
        }
        let Ok(offer) = std::str::from_utf8(&req.body).map(str::to_string) else {
            self.respond_status(key, req, 488, now);
            return true;
        };
        self.browser
            .reoffers
            .insert((id, party), (key.clone(), req.clone()));
        self.out
            .push_back(Output::Media(MediaCommand::WebRtcReoffer {
                call: id,
                party,
                offer,
            }));
        true
    }

    /// The media shell's answer to a browser's re-INVITE on party `party`'s leg: 200 with it
    /// (and, for the agent's leg, the caller held or back, as the browser said; a party's
    /// hold is its own business), or 488 when the leg could not take the offer.
    pub fn handle_webrtc_reanswer(
        &mut self,
        id: CallId,
        party: PartyId,
        answer: Result<(String, bool), String>,
        now: Instant,
    ) {
        let Some((key, req)) = self.browser.reoffers.remove(&(id, party)) else {
            return;
        };
        let agents = self
            .calls
            .get(&id)
            .is_some_and(|c| c.conference.agent_party == party);
        match answer {
            Ok((sdp, held)) => {
                let resp = Response::for_request(&req, 200, "OK")
                    .with_body(MediaType::new("application", "sdp"), sdp);
                self.respond(&key, resp, now);
                tracing::info!(call = %id, party = party.0, on_hold = held, "browser re-INVITE");
                if agents {
                    self.set_caller_held(id, held);
                }
            }
            Err(why) => {
                tracing::warn!(call = %id, party = party.0, %why, "browser's re-INVITE refused");
                let mut resp = Response::for_request(&req, 488, "Not Acceptable Here");
                resp.headers
                    .push("Warning", &format!("304 hotline \"{why}\""));
                self.respond(&key, resp, now);
            }
        }
        self.flush_transactions(now);
    }

    /// The media shell says a browser agent's leg failed (DTLS refused, ICE lost, its port
    /// not openable): the agent's leg ends and so does the call, the reason in its record.
    pub fn handle_agent_media_failed(&mut self, id: CallId, reason: &str, now: Instant) {
        if !self.calls.contains_key(&id) {
            return;
        }
        tracing::warn!(call = %id, %reason, "browser agent's media failed: ending its leg");
        self.counters.webrtc_legs_failed += 1;
        self.browser.failures.insert(id, reason.to_string());
        self.end_call_by_engine(id, now);
        self.flush_transactions(now);
    }
}
