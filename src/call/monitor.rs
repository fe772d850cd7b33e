//! A supervisor on a live call (rule C16, the wallboard's listen, whisper and barge): their
//! registered phone (`[[supervisor]]` of `agents.toml`) is rung as one more party of the call.
//! Listen hears the caller and the agent and is heard by nobody; whisper is heard by the agent
//! only; barge is an ordinary party everyone hears. The supervisor can move between the three
//! without being rung again. Every join and leave leaves as [`Output::Party`] for the audit.

use std::time::Instant;

use crate::call::agent_leg::{LegTarget, Party};
use crate::call::engine::{CallEngine, Peer};
use crate::call::parties::{ConferenceError, PartyTarget};
use crate::call::record::{MonitorMode, PartyKind, PartyRole};
use crate::call::session::CallId;

impl CallEngine {
    /// Rings supervisor `user`'s phone onto call `id` in `mode`; answers their party number.
    pub fn monitor(
        &mut self,
        id: CallId,
        user: &str,
        mode: MonitorMode,
        now: Instant,
    ) -> Result<u8, ConferenceError> {
        let already = self.calls.get(&id).and_then(|c| {
            c.conference
                .parties
                .iter()
                .find(|p| matches!(&p.kind, PartyKind::Supervisor { user: u, .. } if u == user))
        });
        if let Some(p) = already {
            // The same supervisor again: a change of mode, not a second phone call.
            let party = p.id.0;
            self.set_monitor_mode(id, party, mode)?;
            return Ok(party);
        }
        let target = PartyTarget::Supervisor {
            user: user.to_string(),
            mode,
        };
        let result = self.add_party_inner(id, target, PartyRole::Monitor, Some(mode), now);
        self.flush_transactions(now);
        result
    }

    /// Moves a supervisor already on the call between listen, whisper and barge.
    pub fn set_monitor_mode(
        &mut self,
        id: CallId,
        party: u8,
        mode: MonitorMode,
    ) -> Result<(), ConferenceError> {
        let (name, p, span) = self.party_and_span(id, party)?;
        let PartyKind::Supervisor { mode: m, .. } = &mut p.kind else {
            return Err(ConferenceError::NotASupervisor { call: name, party });
        };
        *m = mode;
        p.monitor = Some(mode);
        if let Some(span) = span {
            span.party = p.kind.clone();
        }
        tracing::info!(call = %id, party, ?mode, "supervisor's mode changed");
        self.remix(id);
        Ok(())
    }

    /// The supervisor's registered phone.
    pub(crate) fn supervisor_phone_target(
        &self,
        id: CallId,
        user: &str,
        mode: MonitorMode,
        now: Instant,
    ) -> Result<LegTarget, ConferenceError> {
        let phone = self
            .acd_files
            .supervisor_phone(user)
            .ok_or_else(|| ConferenceError::NoSupervisorPhone(user.to_string()))?;
        let binding = self
            .registrar
            .contacts(&phone.sip_user, now)
            .into_iter()
            .next()
            .ok_or_else(|| ConferenceError::NoSupervisorPhone(user.to_string()))?;
        let call = self
            .calls
            .get(&id)
            .ok_or_else(|| ConferenceError::UnknownCall(id.to_string()))?;
        Ok(LegTarget {
            party: Party::Supervisor {
                user: user.to_string(),
                mode,
            },
            uri: binding.contact.uri.clone(),
            to_user: phone.sip_user.clone(),
            peer: Peer {
                addr: binding.flow.addr,
                link: binding.flow.link,
            },
            from_user: "hotline".into(),
            from_display: Some(call.caller.masked()),
            route: binding.path.clone(),
        })
    }
}
