//! The agent's softphone dials from a call (RFC 5589's attended transfer, a phone's own
//! three-way call): with the citizen on the line (usually on hold), agent 1001's phone calls
//! 1002, the water unit or 110 itself. That INVITE is the call's *side line*: the engine rings
//! the target as a consultation party of the citizen's call (`call::parties`), answers the
//! phone when the target answers, and mixes the two. A REFER whose `Replaces` names one of
//! the agent's two dialogs, sent on the other (`call::transfer`), hands the citizen over to
//! the consulted party with the desk's own hand-over, and both of the agent's dialogs end.
//! The phone is authenticated like its REGISTER (digest), and it can dial only from a call it
//! is talking on, only the targets the desk could add.

use std::time::Instant;

use crate::call::engine::{CallEngine, MediaCommand, Peer};
use crate::call::media_session::{self, Negotiated};
use crate::call::parties::{ConferenceError, PartyTarget};
use crate::call::record::PartyRole;
use crate::call::session::{CallId, Phase};
use crate::media::mixer::PartyId;
use crate::sip::dialog::answer::{AnswerEvent, AnswerRetransmitter};
use crate::sip::dialog::{Dialog, ViaSpec};
use crate::sip::message::{Contact, MediaType, Method, Request, Response, TransactionKey};

/// The agent phone's second dialog on a call: its INVITE to a consulted party.
#[derive(Debug, Clone)]
pub struct SideLine {
    /// Its media party in the call's mixer.
    pub party: PartyId,
    /// The consultation party it rings (`call::parties`).
    pub consult: PartyId,
    pub invite: Request,
    /// The INVITE's server transaction (for the 180, the 200 or a refusal).
    pub key: TransactionKey,
    pub peer: Peer,
    pub local_tag: String,
    /// Our RTP port on this dialog, our SDP answer, and what it agreed.
    pub port: u16,
    pub local_sdp: Vec<u8>,
    pub media: Negotiated,
    pub state: SideState,
    pub dialog: Dialog,
}

/// Where a side line stands.
#[derive(Debug, Clone)]
pub enum SideState {
    /// The consulted party rings; the phone has our 180.
    Ringing,
    /// Our 200 went out; it goes out again until the ACK (RFC 3261 §13.3.1.4).
    Answered {
        retx: AnswerRetransmitter,
        ok: Vec<u8>,
    },
    /// ACKed: its media is mixed with the consulted party's.
    Talking,
}

impl SideLine {
    /// When its 200 must go out again, if it is waiting for the ACK.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.state {
            SideState::Answered { retx, .. } => retx.poll_timeout(),
            _ => None,
        }
    }
}

/// Why an agent's phone may not dial from its call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SideLineError {
    #[error("agent {0} has no citizen on the line: a phone dials colleagues, units and outside services only from a call it is talking on")]
    NoCall(String),
    #[error("agent {0} is already consulting from this phone: finish that first")]
    Busy(String),
    #[error("{0:?} is not an agent, a queue, a unit with a phone or a configured outside number")]
    UnknownTarget(String),
    #[error("the INVITE carries no SDP offer (offer in the INVITE, answer in our 200)")]
    NoOffer,
    #[error("no free RTP port")]
    NoPort,
    #[error(transparent)]
    Conference(#[from] ConferenceError),
}

impl SideLineError {
    /// The SIP status a phone gets for it.
    fn status(&self) -> (u16, &'static str) {
        match self {
            SideLineError::NoCall(_) => (403, "Forbidden"),
            SideLineError::Busy(_) => (486, "Busy Here"),
            SideLineError::UnknownTarget(_) => (404, "Not Found"),
            SideLineError::NoOffer => (488, "Not Acceptable Here"),
            SideLineError::NoPort => (503, "Service Unavailable"),
            SideLineError::Conference(e) => match e {
                ConferenceError::TooManyParties { .. } | ConferenceError::ConsultInProgress(_) => {
                    (486, "Busy Here")
                }
                ConferenceError::AgentUnavailable { .. } => (480, "Temporarily Unavailable"),
                ConferenceError::UnitUnreachable(_) | ConferenceError::External(_) => {
                    (404, "Not Found")
                }
                ConferenceError::NotSent => (503, "Service Unavailable"),
                _ => (403, "Forbidden"),
            },
        }
    }
}

impl CallEngine {
    /// A call's side line, if it has one.
    fn side_line_mut(&mut self, id: CallId) -> Option<&mut SideLine> {
        self.calls.get_mut(&id)?.conference.side_line.as_mut()
    }

    /// Whether an INVITE outside any dialog is an agent's phone dialling (its From user is an
    /// agent's SIP user and it does not call a service number).
    pub(crate) fn is_agent_dialling(&self, req: &Request, called: &str) -> bool {
        if self.cfg.service_numbers.iter().any(|n| n == called) {
            return false;
        }
        req.headers
            .from
            .uri
            .as_sip()
            .and_then(|u| u.user_decoded())
            .and_then(|u| String::from_utf8(u).ok())
            .is_some_and(|u| self.agent_by_user.contains_key(&u))
    }

    /// An agent's phone dials `called` from its call: challenged, then rung as a
    /// consultation of the citizen's call; the phone hears 180 until the party answers.
    pub(crate) fn side_line_invite(
        &mut self,
        req: Request,
        key: TransactionKey,
        from: Peer,
        called: &str,
        now: Instant,
    ) {
        if !self.accepting {
            let mut resp = Response::for_request(&req, 503, "Service Unavailable");
            resp.headers.push("Retry-After", "30");
            self.respond(&key, resp, now);
            return;
        }
        let user = match self
            .registrar
            .authenticate_request(&req, from.addr.ip(), now)
        {
            Ok(user) => user,
            Err(resp) => {
                self.respond(&key, *resp, now);
                self.drain_registrar(now);
                return;
            }
        };
        match self.open_side_line(&req, &key, from, &user, called, now) {
            Ok(id) => {
                tracing::info!(call = %id, %user, %called, "the agent's phone dials from its call");
            }
            Err(e) => {
                tracing::info!(%user, %called, error = %e, "the agent's phone may not dial");
                let (status, reason) = e.status();
                let mut resp = Response::for_request(&req, status, reason);
                resp.headers
                    .push("Warning", &format!("399 hotline \"{e}\""));
                self.respond(&key, resp, now);
            }
        }
    }

    fn open_side_line(
        &mut self,
        req: &Request,
        key: &TransactionKey,
        from: Peer,
        user: &str,
        called: &str,
        now: Instant,
    ) -> Result<CallId, SideLineError> {
        let agent = self
            .agent_by_user
            .get(user)
            .map(ToString::to_string)
            .ok_or_else(|| SideLineError::NoCall(user.to_string()))?;
        let id = self
            .calls
            .values()
            .find(|c| {
                c.agent.as_deref() == Some(agent.as_str()) && matches!(c.phase, Phase::Talking)
            })
            .map(|c| c.id)
            .ok_or_else(|| SideLineError::NoCall(agent.clone()))?;
        self.talking_call(id)?;
        if self
            .calls
            .get(&id)
            .is_some_and(|c| c.conference.side_line.is_some())
        {
            return Err(SideLineError::Busy(agent));
        }
        let target = self
            .dialled_target(called, &agent)
            .ok_or_else(|| SideLineError::UnknownTarget(called.to_string()))?;
        if req.body.is_empty() {
            return Err(SideLineError::NoOffer);
        }
        let port = self
            .ports
            .allocate(crate::call::ports::PortUse::Agent, &mut self.rng)
            .ok_or(SideLineError::NoPort)?;
        let session = self.token_u32();
        let (local_sdp, media) =
            match media_session::answer(&req.body, self.cfg.rtp_address, port, session) {
                Ok(x) => x,
                Err(e) => {
                    self.ports.release(port);
                    tracing::info!(error = %e, "the phone's offer has no codec of ours");
                    return Err(SideLineError::NoOffer);
                }
            };
        let consult = match self.add_party_inner(id, target, PartyRole::Consult, None, now) {
            Ok(p) => PartyId(p),
            Err(e) => {
                self.ports.release(port);
                return Err(e.into());
            }
        };
        let local_tag = self.token();
        let Some(call) = self.calls.get_mut(&id) else {
            self.ports.release(port);
            return Err(SideLineError::NoCall(agent));
        };
        let party = PartyId(call.conference.next);
        call.conference.next = call.conference.next.saturating_add(1);
        let line = SideLine {
            party,
            consult,
            invite: req.clone(),
            key: key.clone(),
            peer: from,
            local_tag: local_tag.clone(),
            port,
            local_sdp,
            media,
            state: SideState::Ringing,
            dialog: Dialog::from_invite(req, &local_tag),
        };
        call.conference.side_line = Some(line);
        self.by_dialog
            .insert((req.headers.call_id.clone(), local_tag.clone()), id);
        let mut ringing = Response::for_request(req, 180, "Ringing");
        ringing.headers.to.set_tag(&local_tag);
        ringing.headers.contact = Some(Contact::List(vec![self.contact_for(from)]));
        self.respond(key, ringing, now);
        Ok(id)
    }

    /// Whom a number dialled by agent `agent`'s phone names: a colleague (SIP user or agent
    /// id), a queue, a handling unit (by name or phone number), or a configured outside
    /// service (by name or number).
    pub(crate) fn dialled_target(&self, called: &str, agent: &str) -> Option<PartyTarget> {
        if let Some(a) = self.agent_by_user.get(called) {
            return (a.as_str() != agent).then(|| PartyTarget::Agent(a.to_string()));
        }
        if self.user_by_agent.keys().any(|a| a.as_str() == called) {
            return (called != agent).then(|| PartyTarget::Agent(called.to_string()));
        }
        if self.acd.has_queue(called) {
            return Some(PartyTarget::Queue(called.to_string()));
        }
        if let Some((unit, _)) = self
            .cfg
            .unit_numbers
            .iter()
            .find(|(unit, number)| *unit == called || *number == called)
        {
            return Some(PartyTarget::Unit(unit.clone()));
        }
        self.cfg
            .transfer_numbers
            .iter()
            .find(|(name, number)| *name == called || *number == called)
            .map(|(name, _)| PartyTarget::External(name.clone()))
    }

    /// The consulted party answered: the phone gets our 200 (media opens at its ACK).
    pub(crate) fn side_line_answer(&mut self, id: CallId, consult: PartyId, now: Instant) {
        let (t1, t2) = (self.cfg.timers.t1, self.cfg.timers.t2);
        let Some(peer) = self
            .calls
            .get(&id)
            .and_then(|c| c.conference.side_line.as_ref())
            .filter(|s| s.consult == consult && matches!(s.state, SideState::Ringing))
            .map(|s| s.peer)
        else {
            return;
        };
        let contact = self.contact_for(peer);
        let user_agent = self.cfg.user_agent.clone();
        let Some(line) = self.side_line_mut(id) else {
            return;
        };
        let mut resp = Response::for_request(&line.invite, 200, "OK");
        resp.headers.to.set_tag(&line.local_tag);
        resp.headers.contact = Some(Contact::List(vec![contact]));
        resp.headers.allow = Some(crate::call::screen::allow_list());
        resp.headers.record_route = line.invite.headers.record_route.clone();
        resp.headers.push("Server", &user_agent);
        let resp = resp.with_body(MediaType::new("application", "sdp"), line.local_sdp.clone());
        line.state = SideState::Answered {
            retx: AnswerRetransmitter::new(now, t1, t2, peer.reliable()),
            ok: resp.to_bytes(),
        };
        let key = line.key.clone();
        if let Err(e) = self.txns.send_response(&key, resp, now) {
            tracing::debug!(error = %e, "the side line's 200 not sent");
        }
        self.rearm(id);
    }

    /// The phone ACKed our 200 on its side line: its media joins the consultation.
    pub(crate) fn side_line_ack(&mut self, id: CallId, ack: &Request) -> bool {
        let Some(line) = self
            .side_line_mut(id)
            .filter(|s| s.invite.headers.call_id == ack.headers.call_id)
        else {
            return false;
        };
        if !matches!(line.state, SideState::Answered { .. }) {
            return true; // a retransmitted ACK
        }
        line.state = SideState::Talking;
        let open = MediaCommand::OpenParty {
            call: id,
            party: line.party,
            port: line.port,
            remote: line.media.remote,
            codec: line.media.codec,
            telephone_event: line.media.telephone_event,
        };
        self.out.push_back(crate::call::engine::Output::Media(open));
        self.remix(id);
        true
    }

    /// Retransmits the side line's 200, or gives it up when no ACK came.
    pub(crate) fn side_line_timeout(&mut self, id: CallId, now: Instant) {
        let Some(line) = self.side_line_mut(id) else {
            return;
        };
        let SideState::Answered { retx, ok } = &mut line.state else {
            return;
        };
        match retx.handle_timeout(now) {
            Some(AnswerEvent::Retransmit) => {
                let (peer, data) = (line.peer, ok.clone());
                self.transmit(peer, data);
            }
            Some(AnswerEvent::AckTimeout) => {
                tracing::info!(call = %id, "no ACK for the side line's 200: ending it");
                self.end_side_line(id, now);
            }
            None => {}
        }
    }

    /// Whether a CANCEL's INVITE is a side line's: it ends (487) with its consultation.
    pub(crate) fn side_line_cancelled(
        &mut self,
        invite_key: &TransactionKey,
        now: Instant,
    ) -> bool {
        let Some(id) =
            self.calls
                .values()
                .find(|c| {
                    c.conference.side_line.as_ref().is_some_and(|s| {
                        &s.key == invite_key && matches!(s.state, SideState::Ringing)
                    })
                })
                .map(|c| c.id)
        else {
            return false;
        };
        tracing::info!(call = %id, "the agent's phone gave up its consultation");
        self.end_side_line_with(id, 487, now);
        true
    }

    /// A request from the phone inside its side line's dialog.
    pub(crate) fn side_line_request(
        &mut self,
        id: CallId,
        req: Request,
        key: TransactionKey,
        now: Instant,
    ) {
        let Some(line) = self.side_line_mut(id) else {
            self.respond_status(&key, &req, 481, now);
            return;
        };
        if line.dialog.check_remote_cseq(&req.headers.cseq).is_err() {
            self.respond_status(&key, &req, 500, now);
            return;
        }
        match req.method {
            Method::Bye => {
                self.respond_status(&key, &req, 200, now);
                tracing::info!(call = %id, "the agent's phone hung up its consultation");
                if let Some(line) = self.take_side_line(id, now) {
                    let consult = line.consult;
                    self.drop_party_inner(id, consult, now);
                }
            }
            Method::Invite | Method::Update => {
                // Hold or a session refresh: the same port, a fresh answer.
                let port = line.port;
                let session = self.token_u32();
                match media_session::answer(&req.body, self.cfg.rtp_address, port, session) {
                    Ok((sdp, _)) => {
                        let resp = Response::for_request(&req, 200, "OK")
                            .with_body(MediaType::new("application", "sdp"), sdp);
                        self.respond(&key, resp, now);
                    }
                    Err(_) if req.body.is_empty() => self.respond_status(&key, &req, 200, now),
                    Err(e) => {
                        let mut resp = Response::for_request(&req, 488, "Not Acceptable Here");
                        resp.headers
                            .push("Warning", &format!("304 hotline \"{e}\""));
                        self.respond(&key, resp, now);
                    }
                }
            }
            Method::Refer => self.handle_refer_on_side_line(id, req, key, now),
            _ => self.respond_status(&key, &req, 200, now),
        }
    }

    /// Removes a call's side line and what it holds (dialog entry, port, media), without
    /// telling the phone.
    pub(crate) fn take_side_line(&mut self, id: CallId, now: Instant) -> Option<SideLine> {
        let _ = now;
        let line = self.calls.get_mut(&id)?.conference.side_line.take()?;
        self.by_dialog
            .remove(&(line.invite.headers.call_id.clone(), line.local_tag.clone()));
        self.ports.release(line.port);
        if matches!(line.state, SideState::Talking) {
            self.out.push_back(crate::call::engine::Output::Media(
                MediaCommand::CloseParty {
                    call: id,
                    party: line.party,
                },
            ));
        }
        self.remix(id);
        Some(line)
    }

    /// Ends a call's side line from our side: a ringing one is refused (480), an answered
    /// one hung up.
    pub(crate) fn end_side_line(&mut self, id: CallId, now: Instant) {
        self.end_side_line_with(id, 480, now);
    }

    fn end_side_line_with(&mut self, id: CallId, status: u16, now: Instant) {
        let Some(mut line) = self.take_side_line(id, now) else {
            return;
        };
        match line.state {
            SideState::Ringing => {
                let reason = crate::call::screen::reason_phrase(status);
                let mut resp = Response::for_request(&line.invite, status, reason);
                resp.headers.to.set_tag(&line.local_tag);
                self.respond(&line.key, resp, now);
                if status == 487 {
                    // The phone cancelled: the consultation it rang goes too.
                    let consult = line.consult;
                    self.drop_party_inner(id, consult, now);
                }
            }
            SideState::Answered { .. } | SideState::Talking => {
                let peer = line.peer;
                self.send_in_dialog(&mut line.dialog, peer, Method::Bye, None, now);
            }
        }
    }

    /// Sends a request inside a dialog we answered (a BYE, a REFER's NOTIFY), through its own
    /// client transaction.
    pub(crate) fn send_in_dialog(
        &mut self,
        dialog: &mut Dialog,
        peer: Peer,
        method: Method,
        build: Option<&dyn Fn(Request) -> Request>,
        now: Instant,
    ) {
        let host = self.local_host();
        let transport = peer.via_transport();
        let branch = self.token();
        let port = self.cfg.sip_addr.port();
        let req = dialog.request(
            method.clone(),
            ViaSpec {
                transport: &transport,
                host: &host,
                port,
                branch_suffix: &branch,
            },
        );
        let req = match build {
            Some(f) => f(req),
            None => req,
        };
        let Some(key) = req.client_transaction_key() else {
            return;
        };
        self.txn_peers.insert(key.clone(), peer);
        if let Err(e) = self.txns.start_client(
            key,
            req,
            crate::call::engine::transport(peer.reliable()),
            now,
        ) {
            tracing::debug!(error = %e, method = method.as_str(), "in-dialog request not sent");
        }
    }
}
