//! Blind transfer (rule C11, 专席协作): the agent hands the caller to another queue, from its
//! softphone (REFER, RFC 3515) or from the desktop (`POST /api/calls/{id}/transfer`). The
//! agent's leg ends and goes to wrap-up; the caller hears the transfer prompt and hold music
//! and waits in the new queue with a fresh 15-second clock; the recording goes on.
//! Transfers to external numbers (110, 119, 120, 122, utilities) need a gateway leg and are
//! not built yet: they are refused with a reason.

use std::time::Instant;

use crate::call::engine::{CallEngine, MediaCommand, Output};
use crate::call::parties::PartyTarget;
use crate::call::session::{CallId, Phase};
use crate::media::mixer::PartyId;
use crate::sip::message::{MediaType, Method, Request, Response, TransactionKey};

/// Why a transfer was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
    #[error("no live call {0}")]
    UnknownCall(String),
    #[error("call {0} is not talking to an agent")]
    NotTalking(String),
    #[error("unknown queue {0:?}")]
    UnknownQueue(String),
    #[error("{0:?} is not an outside number this hotline may dial: configure [transfer] gateway and numbers")]
    External(String),
    #[error("call {0} has other parties on the line: drop them, hand over or leave instead")]
    PartiesOnCall(String),
}

impl CallEngine {
    /// Puts the caller on hold (`on`: they hear the hold music, the agent stays on the line)
    /// or takes them off it, from the agent's desk; a phone's own hold re-INVITE does the
    /// same. Only a call talking to an agent can be held.
    pub fn hold(&mut self, id: CallId, on: bool, now: Instant) -> Result<(), TransferError> {
        let wall = self.wall(now);
        let call = self
            .calls
            .get_mut(&id)
            .ok_or_else(|| TransferError::UnknownCall(id.to_string()))?;
        if !matches!(call.phase, Phase::Talking) {
            return Err(TransferError::NotTalking(call.name.clone()));
        }
        if call.on_hold == on {
            return Ok(());
        }
        call.on_hold = on;
        tracing::info!(call = %call.id, on_hold = on, "hold from the desk");
        if let Some(agent) = call.agent.clone() {
            let activity = crate::stats::activity::AgentActivity {
                agent,
                at: wall,
                kind: crate::stats::activity::ActivityKind::Hold { on },
                call: Some(call.name.clone()),
                queue: call.queue.clone(),
            };
            self.out
                .push_back(Output::AgentActivity(Box::new(activity)));
        }
        let prompt = on.then(|| self.menus.queue_audio().hold().as_str().to_string());
        self.out
            .push_back(Output::Media(MediaCommand::Hold { call: id, prompt }));
        self.remix(id);
        Ok(())
    }

    /// The internal id of a live call by its public name.
    pub fn call_by_name(&self, name: &str) -> Option<CallId> {
        self.calls.values().find(|c| c.name == name).map(|c| c.id)
    }

    /// The agent serving a live call, if any (the API lets only that agent transfer it).
    pub fn agent_of_call(&self, id: CallId) -> Option<String> {
        self.calls.get(&id).and_then(|c| c.agent.clone())
    }

    /// Moves a talking call to `target` (a queue name).
    pub fn transfer(
        &mut self,
        id: CallId,
        target: &str,
        now: Instant,
    ) -> Result<(), TransferError> {
        let result = self.transfer_inner(id, target, now);
        self.flush_transactions(now);
        result
    }

    fn transfer_inner(
        &mut self,
        id: CallId,
        target: &str,
        now: Instant,
    ) -> Result<(), TransferError> {
        let call = self
            .calls
            .get(&id)
            .ok_or_else(|| TransferError::UnknownCall(id.to_string()))?;
        if !matches!(call.phase, Phase::Talking) {
            return Err(TransferError::NotTalking(call.name.clone()));
        }
        let external = !self.acd.has_queue(target);
        if external && self.external_number(target).is_none() {
            return Err(if self.looks_external(target) {
                TransferError::External(target.to_string())
            } else {
                TransferError::UnknownQueue(target.to_string())
            });
        }
        if !call.conference.parties.is_empty() {
            return Err(TransferError::PartiesOnCall(call.name.clone()));
        }
        let mixing = call.conference.mixing;
        let agent_party = call.conference.agent_party;
        let agent = call.agent.clone().unwrap_or_default();
        tracing::info!(call = %call.id, %agent, %target, external, "blind transfer");
        self.end_agent_leg(id, now);
        if let Err(e) = self.acd.handle_call_ended(&id, now) {
            tracing::debug!(error = %e, "ACD: transferred call end");
        }
        self.release_agent_media(id, mixing, agent_party);
        if let Some(call) = self.calls.get_mut(&id) {
            call.transfers.push(if external {
                format!("{agent} → {target}")
            } else {
                format!("{agent} → queue {target}")
            });
            // `wait` stays: the caller's wait for a person ended at the first answer (one
            // offer per citizen call, docs/KPI.md).
            call.agent = None;
            call.on_hold = false;
        }
        if external {
            if let Some(call) = self.calls.get(&id) {
                self.out.push_back(Output::EmergencyTransfer {
                    call: call.name.clone(),
                    target: target.to_string(),
                });
            }
            self.dial_external(id, target, now)?;
        } else {
            self.enqueue(id, target.to_string(), now);
        }
        self.drain_acd(now);
        Ok(())
    }

    /// The agent's media leaves a call whose caller waits for the next leg: in the mixer the
    /// agent's party closes and the caller goes to the pacer (prompts, hold music); a bridged
    /// call is unbridged.
    pub(crate) fn release_agent_media(&mut self, id: CallId, mixing: bool, agent_party: PartyId) {
        if mixing {
            let hold = self.menus.queue_audio().hold().as_str().to_string();
            self.out.push_back(Output::Media(MediaCommand::CloseParty {
                call: id,
                party: agent_party,
            }));
            self.out.push_back(Output::Media(MediaCommand::Hold {
                call: id,
                prompt: Some(hold),
            }));
        } else {
            self.out
                .push_back(Output::Media(MediaCommand::Unbridge { call: id }));
        }
    }

    /// REFER from the agent's phone on its call's dialog. With `Replaces` naming the phone's
    /// side line (RFC 5589 §7, attended transfer) the consulted party takes the call over;
    /// without it, `Refer-To: <sip:dialect@…>` names a queue or an outside number (blind
    /// transfer). Accepted with 202, the result reported in a NOTIFY (RFC 3515 §2.4.5), then
    /// the agent is let go.
    pub(crate) fn handle_refer(
        &mut self,
        id: CallId,
        req: Request,
        key: TransactionKey,
        now: Instant,
    ) {
        let Some(refer_to) = req.headers.get("Refer-To").and_then(ReferTo::parse) else {
            self.respond_status(&key, &req, 400, now);
            return;
        };
        if let Some(replaces) = &refer_to.replaces {
            self.refer_replaces(id, &req, &key, replaces, ReferredOn::CallLeg, now);
            return;
        }
        let target = refer_to.user;
        let agent = self.calls.get(&id).and_then(|c| c.agent.clone());
        let Some(agent) = agent.filter(|_| self.talking_call(id).is_ok()) else {
            let resp = refer_refused(&req, "the call is not talking to this phone's agent");
            self.respond(&key, resp, now);
            return;
        };
        if self.acd.has_queue(&target) || self.external_number(&target).is_some() {
            self.respond_status(&key, &req, 202, now);
            self.notify_refer_result(id, ReferredOn::CallLeg, 200, now);
            if let Err(e) = self.transfer_inner(id, &target, now) {
                tracing::info!(error = %e, "REFER transfer failed");
            }
            return;
        }
        // A colleague or a unit: rung first, handed the call when they answer.
        let started = match self.dialled_target(&target, &agent) {
            Some(t @ (PartyTarget::Agent(_) | PartyTarget::Unit(_))) => {
                self.start_blind_transfer(id, t, now).map_err(|e| e.to_string())
            }
            _ => Err(format!(
                "transfer target {target:?} is not an agent, a queue, a unit with a phone or a configured outside number"
            )),
        };
        match started {
            Ok(()) => self.respond_status(&key, &req, 202, now),
            Err(why) => {
                let resp = refer_refused(&req, &why);
                self.respond(&key, resp, now);
            }
        }
    }

    /// REFER from the agent's phone on its side line: only an attended transfer (`Replaces`
    /// naming the call's own leg) means anything there.
    pub(crate) fn handle_refer_on_side_line(
        &mut self,
        id: CallId,
        req: Request,
        key: TransactionKey,
        now: Instant,
    ) {
        match req.headers.get("Refer-To").and_then(ReferTo::parse) {
            Some(ReferTo {
                replaces: Some(replaces),
                ..
            }) => self.refer_replaces(id, &req, &key, &replaces, ReferredOn::SideLine, now),
            Some(_) => {
                let mut resp = Response::for_request(&req, 403, "Forbidden");
                resp.headers.push(
                    "Warning",
                    "399 hotline \"transfer the citizen from the citizen's call, not from the consultation\"",
                );
                self.respond(&key, resp, now);
            }
            None => self.respond_status(&key, &req, 400, now),
        }
    }

    /// The attended transfer: the REFER on one of the agent's two dialogs names the other in
    /// `Replaces`; the citizen is handed over to the consulted party, and both dialogs end.
    fn refer_replaces(
        &mut self,
        id: CallId,
        req: &Request,
        key: &TransactionKey,
        replaces: &Replaces,
        on: ReferredOn,
        now: Instant,
    ) {
        let consult = self.calls.get(&id).and_then(|c| {
            let line = c.conference.side_line.as_ref()?;
            // The other dialog's Call-ID and both its tags (ours and the phone's).
            let (other, tags) = match on {
                ReferredOn::CallLeg => (
                    &line.invite.headers.call_id,
                    [
                        Some(line.local_tag.as_str()),
                        line.invite.headers.from.tag(),
                    ],
                ),
                ReferredOn::SideLine => {
                    let leg = c.agent_leg.as_ref()?;
                    let d = leg.dialog.as_ref()?;
                    (
                        &leg.invite.headers.call_id,
                        [Some(d.local_tag.as_str()), d.remote_tag.as_deref()],
                    )
                }
            };
            let talking = c
                .conference
                .party(line.consult)
                .is_some_and(|p| p.leg.state == crate::call::agent_leg::LegState::Talking);
            (replaces.names(other, tags)).then_some((line.consult, talking))
        });
        let refuse = |why: &str| refer_refused(req, why);
        match consult {
            None => {
                let resp = refuse("Replaces names no consultation of this call");
                self.respond(key, resp, now);
            }
            Some((_, false)) => {
                let resp = refuse("the consulted party has not answered yet");
                self.respond(key, resp, now);
            }
            Some((party, true)) => {
                self.respond_status(key, req, 202, now);
                self.notify_refer_result(id, on, 200, now);
                tracing::info!(call = %id, party = party.0, "attended transfer from the agent's phone");
                if let Err(e) = self.hand_over(id, party.0, now) {
                    tracing::info!(error = %e, "attended transfer failed");
                }
            }
        }
    }

    /// The NOTIFY that closes a REFER's implicit subscription with the outcome (`200 OK`,
    /// or why the target did not answer), terminated.
    pub(crate) fn notify_refer_result(
        &mut self,
        id: CallId,
        on: ReferredOn,
        status: u16,
        now: Instant,
    ) {
        let frag = format!(
            "SIP/2.0 {status} {}\r\n",
            crate::call::screen::reason_phrase(status)
        );
        let add = move |notify: Request| {
            let mut notify = notify.with_body(MediaType::new("message", "sipfrag"), frag.clone());
            notify.headers.push("Event", "refer");
            notify
                .headers
                .push("Subscription-State", "terminated;reason=noresource");
            notify
        };
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        match on {
            ReferredOn::CallLeg => {
                let Some(mut leg) = call.agent_leg.take() else {
                    return;
                };
                let peer = leg.peer;
                if let Some(dialog) = leg.dialog.as_mut() {
                    self.send_in_dialog(dialog, peer, Method::Notify, Some(&add), now);
                }
                if let Some(call) = self.calls.get_mut(&id) {
                    call.agent_leg = Some(leg);
                }
            }
            ReferredOn::SideLine => {
                let Some(mut line) = call.conference.side_line.take() else {
                    return;
                };
                let peer = line.peer;
                self.send_in_dialog(&mut line.dialog, peer, Method::Notify, Some(&add), now);
                if let Some(call) = self.calls.get_mut(&id) {
                    call.conference.side_line = Some(line);
                }
            }
        }
    }
}

/// A REFER's 403 with the reason in a `Warning`.
fn refer_refused(req: &Request, why: &str) -> Response {
    let mut resp = Response::for_request(req, 403, "Forbidden");
    resp.headers
        .push("Warning", &format!("399 hotline \"{why}\""));
    resp
}

/// Which of the agent's dialogs a REFER came on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReferredOn {
    /// The call's agent leg (the citizen's call, as the phone sees it).
    CallLeg,
    /// The phone's own consultation (`call::side_line`).
    SideLine,
}

/// A REFER's `Refer-To`: the target's user part and, for an attended transfer, the dialog it
/// replaces (RFC 3891, carried as an escaped URI header, RFC 5589 §7).
#[derive(Debug, Clone, PartialEq, Eq)]
struct ReferTo {
    user: String,
    replaces: Option<Replaces>,
}

/// `Replaces: call-id;to-tag=…;from-tag=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Replaces {
    call_id: String,
    to_tag: Option<String>,
    from_tag: Option<String>,
}

impl ReferTo {
    fn parse(value: &str) -> Option<ReferTo> {
        let value = value.trim();
        let uri = match (value.find('<'), value.rfind('>')) {
            (Some(a), Some(b)) if a < b => &value[a + 1..b],
            _ => value,
        };
        let (uri, headers) = uri.split_once('?').unwrap_or((uri, ""));
        let user = uri.split_once(':')?.1.split(['@', ';']).next()?;
        let replaces = headers
            .split('&')
            .filter_map(|h| h.split_once('='))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("Replaces"))
            .and_then(|(_, v)| {
                let v = String::from_utf8(crate::sip::message::percent_decode(v)).ok()?;
                Replaces::parse(&v)
            });
        Some(ReferTo {
            user: user.to_string(),
            replaces,
        })
    }
}

impl Replaces {
    /// Whether it names the dialog `call_id` whose two tags are `tags` (RFC 3891 gives them
    /// from the recipient's side; phones differ, so either order is taken).
    fn names(&self, call_id: &str, tags: [Option<&str>; 2]) -> bool {
        let known = |t: &Option<String>| {
            t.as_deref()
                .is_none_or(|t| tags.iter().flatten().any(|k| *k == t))
        };
        self.call_id == call_id && known(&self.to_tag) && known(&self.from_tag)
    }

    fn parse(value: &str) -> Option<Replaces> {
        let mut parts = value.split(';').map(str::trim);
        let call_id = parts.next().filter(|c| !c.is_empty())?.to_string();
        let mut r = Replaces {
            call_id,
            to_tag: None,
            from_tag: None,
        };
        for p in parts {
            match p.split_once('=') {
                Some((k, v)) if k.eq_ignore_ascii_case("to-tag") => r.to_tag = Some(v.into()),
                Some((k, v)) if k.eq_ignore_ascii_case("from-tag") => r.from_tag = Some(v.into()),
                _ => {}
            }
        }
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refer_to_with_an_escaped_replaces_names_the_dialog() {
        let r = ReferTo::parse(
            "\"Bob\" <sip:1002@127.0.0.1:5060;transport=udp?Replaces=abc%40host%3Bto-tag%3Dt1%3Bfrom-tag%3Df1>",
        )
        .expect("parses");
        assert_eq!(r.user, "1002");
        let rep = r.replaces.expect("replaces");
        assert_eq!(rep.call_id, "abc@host");
        assert_eq!(rep.to_tag.as_deref(), Some("t1"));
        assert_eq!(rep.from_tag.as_deref(), Some("f1"));
        let blind = ReferTo::parse("<sip:dialect@127.0.0.1>").expect("parses");
        assert_eq!(blind.user, "dialect");
        assert_eq!(blind.replaces, None);
        assert_eq!(ReferTo::parse("nonsense"), None);
        assert_eq!(
            ReferTo::parse("<sip:x@h?Replaces=>").and_then(|r| r.replaces),
            None
        );
    }
}
