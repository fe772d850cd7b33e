//! Blind transfer (rule C11, 专席协作): the agent hands the caller to another queue, from its
//! softphone (REFER, RFC 3515) or from the desktop (`POST /api/calls/{id}/transfer`). The
//! agent's leg ends and goes to wrap-up; the caller hears the transfer prompt and hold music
//! and waits in the new queue with a fresh 15-second clock; the recording goes on.
//! Transfers to external numbers (110, 119, 120, 122, utilities) need a gateway leg and are
//! not built yet: they are refused with a reason.

use std::time::Instant;

use crate::call::engine::{CallEngine, MediaCommand, Output};
use crate::call::session::{CallId, Phase};
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
        if mixing {
            // The mixer keeps the call: the agent's party closes and the caller goes to the
            // pacer (prompts, hold music) until the next leg answers.
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

    /// REFER from the agent's phone: `Refer-To: <sip:dialect@…>` names the queue. Accepted
    /// with 202, the result reported in a NOTIFY (RFC 3515 §2.4.5), then the agent is let go.
    pub(crate) fn handle_refer(
        &mut self,
        id: CallId,
        req: Request,
        key: TransactionKey,
        now: Instant,
    ) {
        let target = req.headers.get("Refer-To").and_then(|v| {
            let v = v.trim().trim_start_matches('<');
            let user = v.split_once(':')?.1.split(['@', '>', ';']).next()?;
            Some(user.to_string())
        });
        let Some(target) = target else {
            self.respond_status(&key, &req, 400, now);
            return;
        };
        let leg = self.calls.get(&id).and_then(|c| c.agent_leg.clone());
        let allowed = self.acd.has_queue(&target) || self.external_number(&target).is_some();
        if !allowed || leg.is_none() {
            let mut resp = Response::for_request(&req, 403, "Forbidden");
            resp.headers.push(
                "Warning",
                &format!("399 hotline \"transfer target {target:?} is not a queue or a configured outside number\""),
            );
            self.respond(&key, resp, now);
            return;
        }
        self.respond_status(&key, &req, 202, now);
        if let Some(mut leg) = leg {
            self.notify_refer_done(&mut leg, now);
            if let Some(call) = self.calls.get_mut(&id) {
                call.agent_leg = Some(leg);
            }
        }
        if let Err(e) = self.transfer_inner(id, &target, now) {
            tracing::info!(error = %e, "REFER transfer failed");
        }
    }

    /// The NOTIFY that closes a REFER's implicit subscription: "200 OK", terminated.
    fn notify_refer_done(&mut self, leg: &mut crate::call::agent_leg::AgentLeg, now: Instant) {
        let host = self.local_host();
        let transport = if leg.peer.reliable() {
            crate::sip::message::Transport::Tcp
        } else {
            crate::sip::message::Transport::Udp
        };
        let branch = self.token();
        let port = self.cfg.sip_addr.port();
        let Some(dialog) = leg.dialog.as_mut() else {
            return;
        };
        let mut notify = dialog.request(
            Method::Notify,
            crate::sip::dialog::ViaSpec {
                transport: &transport,
                host: &host,
                port,
                branch_suffix: &branch,
            },
        );
        notify.headers.push("Event", "refer");
        notify
            .headers
            .push("Subscription-State", "terminated;reason=noresource");
        let notify = notify.with_body(MediaType::new("message", "sipfrag"), "SIP/2.0 200 OK\r\n");
        let Some(key) = notify.client_transaction_key() else {
            return;
        };
        self.txn_peers.insert(key.clone(), leg.peer);
        if let Err(e) = self.txns.start_client(
            key,
            notify,
            crate::call::engine::transport(leg.peer.reliable()),
            now,
        ) {
            tracing::debug!(error = %e, "NOTIFY not sent");
        }
    }
}
