//! The SIP side of a call's extra parties (`call::parties`): whom their INVITE goes to, their
//! answers, failures and in-dialog requests. The legs are built and ACKed by the same code as
//! the agent's leg (`agent_leg`).

use std::time::Instant;

use crate::call::agent_leg::{LegState, LegTarget, Party};
use crate::call::engine::{CallEngine, Link, Peer};
use crate::call::media_session;
use crate::call::parties::{ConferenceError, PartyTarget};
use crate::call::record::PartyKind;
use crate::call::session::CallId;
use crate::media::mixer::PartyId;
use crate::sip::dialog::Dialog;
use crate::sip::message::{
    Host, MediaType, Method, Request, Response, SipUri, TransactionKey, Uri,
};

impl CallEngine {
    /// Where and as whom the INVITE for `target` goes, and who the party is.
    pub(crate) fn party_leg_target(
        &mut self,
        id: CallId,
        target: &PartyTarget,
        now: Instant,
    ) -> Result<(LegTarget, PartyKind), ConferenceError> {
        match target {
            PartyTarget::External(name) => {
                let number = self
                    .external_number(name)
                    .map(str::to_string)
                    .ok_or_else(|| ConferenceError::External(name.clone()))?;
                // The emergency service sees the citizen's number, as in a blind transfer.
                let caller = self
                    .calls
                    .get(&id)
                    .map(|c| c.caller.expose().to_string())
                    .filter(|c| !c.is_empty())
                    .unwrap_or_else(|| "anonymous".into());
                let leg = self
                    .gateway_target(
                        &number,
                        Party::External {
                            target: name.clone(),
                        },
                        caller,
                    )
                    .ok_or_else(|| ConferenceError::External(name.clone()))?;
                Ok((
                    leg,
                    PartyKind::External {
                        target: name.clone(),
                    },
                ))
            }
            PartyTarget::Unit(unit) => {
                let number = self
                    .cfg
                    .unit_numbers
                    .get(unit)
                    .cloned()
                    .ok_or_else(|| ConferenceError::UnitUnreachable(unit.clone()))?;
                // The unit sees the hotline calling (its service number).
                let from = self
                    .cfg
                    .service_numbers
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "hotline".into());
                let leg = self
                    .gateway_target(&number, Party::Unit { unit: unit.clone() }, from)
                    .ok_or_else(|| ConferenceError::UnitUnreachable(unit.clone()))?;
                Ok((leg, PartyKind::Unit { unit: unit.clone() }))
            }
            PartyTarget::Supervisor { user, mode } => {
                let leg = self.supervisor_phone_target(id, user, *mode, now)?;
                Ok((
                    leg,
                    PartyKind::Supervisor {
                        user: user.clone(),
                        mode: *mode,
                    },
                ))
            }
            PartyTarget::Agent(_) | PartyTarget::Queue(_) => {
                let agent = self.engage_agent(id, target, now)?;
                let agent_id = crate::acd::model::AgentId::from(agent.as_str());
                match self.agent_phone_target(id, &agent_id, now) {
                    Some(leg) => Ok((leg, PartyKind::Agent { agent })),
                    None => {
                        self.assist_over(&agent, false, now);
                        Err(ConferenceError::AgentUnavailable {
                            agent,
                            reason: "their phone is not registered".into(),
                        })
                    }
                }
            }
        }
    }

    /// `sip:<number>@<gateway>` from `from_user`, if a gateway is configured.
    pub(crate) fn gateway_target(
        &self,
        number: &str,
        party: Party,
        from_user: String,
    ) -> Option<LegTarget> {
        let gateway = self.cfg.transfer_gateway?;
        let uri = Uri::Sip(
            SipUri::new(match gateway.ip() {
                std::net::IpAddr::V4(a) => Host::Ipv4(a),
                std::net::IpAddr::V6(a) => Host::Ipv6(a),
            })
            .with_user(number)
            .with_port(gateway.port()),
        );
        Some(LegTarget {
            party,
            uri,
            to_user: number.to_string(),
            peer: Peer {
                addr: gateway,
                link: Link::Udp,
            },
            from_user,
            from_display: None,
            route: Vec::new(),
        })
    }

    /// The registered phone of an agent: rung for a call the ACD offers them, or to bring
    /// them onto one. It shows who is calling, masked like everywhere outside the ticket.
    pub(crate) fn agent_phone_target(
        &self,
        id: CallId,
        agent: &crate::acd::model::AgentId,
        now: Instant,
    ) -> Option<LegTarget> {
        let user = self.user_by_agent.get(agent)?.clone();
        let binding = self.registrar.contacts(&user, now).into_iter().next()?;
        let call = self.calls.get(&id)?;
        Some(LegTarget {
            party: Party::Agent(agent.clone()),
            uri: binding.contact.uri.clone(),
            to_user: user,
            peer: Peer {
                addr: binding.flow.addr,
                link: binding.flow.link,
            },
            from_user: "hotline".into(),
            from_display: Some(call.caller.masked()),
            route: binding.path.clone(),
        })
    }

    /// Whether an INVITE client transaction is a party leg's.
    pub(crate) fn is_party_invite(&self, key: &TransactionKey) -> bool {
        self.party_invites.contains_key(key)
    }

    /// A response to a party leg's INVITE.
    pub(crate) fn handle_party_response(
        &mut self,
        key: &TransactionKey,
        resp: Response,
        now: Instant,
    ) {
        let Some(&(id, pid)) = self.party_invites.get(key) else {
            return;
        };
        if resp.status < 200 {
            return;
        }
        if !resp.is_success() {
            self.party_failed(id, pid, &format!("{} {}", resp.status, resp.reason), now);
            return;
        }
        let Some(leg) = self
            .calls
            .get(&id)
            .and_then(|c| c.conference.party(pid))
            .map(|p| p.leg.clone())
        else {
            return;
        };
        let mut acked = leg.clone();
        if leg.state == LegState::Talking {
            // A retransmitted 2xx: our ACK was lost.
            self.send_ack(&mut acked, now);
            return;
        }
        acked.dialog = Some(Dialog::from_uac_2xx(&leg.invite, &resp));
        match self.browser_party_answer(id, pid, &resp.body, now) {
            // A browser's leg: its media is the WebRTC leg's, handed over on answer.
            Some(Ok(())) => {}
            Some(Err(why)) => {
                // Refused like a party that never answered: ACK, BYE, the others go on.
                self.send_ack(&mut acked, now);
                self.send_leg_bye(&mut acked, now);
                self.forget_leg(&acked);
                self.party_failed(id, pid, &why, now);
                return;
            }
            None => acked.media = media_session::read_answer(&resp.body).ok(),
        }
        self.send_ack(&mut acked, now);
        if let Some(p) = self
            .calls
            .get_mut(&id)
            .and_then(|c| c.conference.parties.iter_mut().find(|p| p.id == pid))
        {
            p.leg.dialog = acked.dialog;
            p.leg.media = acked.media;
        }
        self.party_answered(id, pid, now);
    }

    /// A party leg's INVITE got no final answer (Timer B) or could not be sent.
    pub(crate) fn party_invite_failed(&mut self, key: &TransactionKey, now: Instant) {
        if let Some(&(id, pid)) = self.party_invites.get(key) {
            self.party_failed(id, pid, "no answer", now);
        }
    }

    /// A request inside a party's dialog: BYE takes them off the call; a re-INVITE is
    /// answered on the same port (their hold is their business: the others go on).
    pub(crate) fn handle_party_in_dialog(
        &mut self,
        id: CallId,
        pid: PartyId,
        req: Request,
        key: TransactionKey,
        now: Instant,
    ) {
        match req.method {
            Method::Bye => {
                self.respond_status(&key, &req, 200, now);
                tracing::info!(call = %id, party = pid.0, "party hung up");
                self.party_hung_up(id, pid, now);
            }
            Method::Invite => {
                // A browser's offer is its WebRTC session's: its leg on the media shell
                // answers it.
                if self.browser_party_reoffer(id, pid, &req, &key, now) {
                    return;
                }
                let Some(port) = self
                    .calls
                    .get(&id)
                    .and_then(|c| c.conference.party(pid))
                    .map(|p| p.leg.port)
                else {
                    self.respond_status(&key, &req, 481, now);
                    return;
                };
                let session = rand::Rng::gen(&mut self.rng);
                match media_session::answer(&req.body, self.cfg.rtp_address, port, session) {
                    Ok((sdp, _)) => {
                        let resp = Response::for_request(&req, 200, "OK")
                            .with_body(MediaType::new("application", "sdp"), sdp);
                        self.respond(&key, resp, now);
                    }
                    Err(e) => {
                        let mut resp = Response::for_request(&req, 488, "Not Acceptable Here");
                        resp.headers
                            .push("Warning", &format!("304 hotline \"{e}\""));
                        self.respond(&key, resp, now);
                    }
                }
            }
            _ => self.respond_status(&key, &req, 200, now),
        }
    }
}

impl CallEngine {
    /// The ACD picks (a queue) or checks (a named agent) who is brought onto the call; they
    /// are `assisting` from now until [`CallEngine::assist_over`], never offered anything
    /// else meanwhile.
    fn engage_agent(
        &mut self,
        id: CallId,
        target: &PartyTarget,
        now: Instant,
    ) -> Result<String, ConferenceError> {
        use crate::acd::AssistTarget;
        let (name, t) = match target {
            PartyTarget::Agent(a) => (a.clone(), AssistTarget::Agent(a)),
            PartyTarget::Queue(q) => (format!("of queue {q}"), AssistTarget::Queue(q)),
            _ => return Err(ConferenceError::NotSent),
        };
        let result = self.acd.handle_assist_requested(&id, t, now);
        self.drain_acd(now);
        result
            .map(|a| a.to_string())
            .map_err(|e| ConferenceError::AgentUnavailable {
                agent: name,
                reason: e.to_string(),
            })
    }

    /// An assisting agent's part ended (dropped, hung up, never answered, the call over).
    pub(crate) fn assist_over(&mut self, agent: &str, answered: bool, now: Instant) {
        if let Err(e) = self.acd.handle_assist_ended(agent, answered, now) {
            tracing::debug!(error = %e, %agent, "ACD: assist ended");
        }
    }

    /// A consult transfer completes: the assisting agent takes the call over in the ACD.
    pub(crate) fn take_over(
        &mut self,
        id: CallId,
        agent: &str,
        now: Instant,
    ) -> Result<(), crate::acd::core::AcdError> {
        self.acd.handle_call_taken_over(&id, agent, now)
    }
}
