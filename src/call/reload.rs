//! A configuration reload (`SIGHUP`) reaching the signaling core: new menus, queues, agents
//! and agents' credentials, applied without dropping a call. The shell has already read and
//! validated the files; this only swaps them in.
//!
//! Live calls keep what they started with: a caller in the IVR finishes the menu tree they
//! entered (the navigator holds its own copy), a waiting call keeps its queue (or moves to
//! `general` if that queue is gone, see [`crate::acd::core::Acd::reconfigure`]), a connected
//! call stays connected. Changed passwords apply to the phone's next REGISTER; existing
//! bindings stay.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use crate::acd::config::AcdConfig;
use crate::acd::core::Reconfigured;
use crate::call::engine::CallEngine;
use crate::ivr::model::MenuTree;
use crate::sip::registrar::CredentialStore;

impl CallEngine {
    /// Swaps in the handling units' phone numbers of a reloaded `dispatch.toml`; a unit
    /// already on a call stays on it.
    pub fn set_unit_numbers(&mut self, numbers: std::collections::BTreeMap<String, String>) {
        self.cfg.unit_numbers = numbers;
    }

    /// Swaps in the numbers answered (`sip.service_numbers`) of a reloaded configuration,
    /// with the menus that say where each one goes: a call already up keeps its number.
    pub fn set_service_numbers(&mut self, numbers: Vec<String>) {
        self.cfg.service_numbers = numbers;
    }

    /// Swaps in reloaded menus and ACD configuration (both already validated together) and
    /// the credentials the registrar checks REGISTERs against.
    pub fn handle_reload(
        &mut self,
        menus: Arc<MenuTree>,
        acd_config: &AcdConfig,
        credentials: Box<dyn CredentialStore + Send + Sync>,
        now: Instant,
    ) -> Reconfigured {
        self.menus = menus;
        self.cfg.queues = acd_config.queue_names();
        let report = self.acd.reconfigure(acd_config, now);
        self.acd_files = Arc::new(acd_config.clone());
        self.registrar.set_credentials(credentials);
        // Agents' SIP users: the new list, plus removed agents still finishing a call.
        let mut by_user: HashMap<String, _> = acd_config
            .agents
            .iter()
            .map(|a| (a.sip_user.clone(), a.id.clone()))
            .collect();
        for id in &report.retired {
            if let Some(user) = self.user_by_agent.get(id) {
                by_user.insert(user.clone(), id.clone());
            }
        }
        self.user_by_agent = by_user
            .iter()
            .map(|(u, a)| (a.clone(), u.clone()))
            .collect();
        self.agent_by_user = by_user;
        // Whether each agent can be rung follows the registrar (a new agent's user may have
        // no binding; an agent whose SIP user changed has none yet).
        let agents: Vec<(String, bool)> = acd_config
            .agents
            .iter()
            .map(|a| {
                (
                    a.id.as_str().to_string(),
                    self.registrar.is_registered(&a.sip_user, now),
                )
            })
            .collect();
        for (agent, registered) in agents {
            if let Err(e) = self.acd.handle_registration(&agent, registered, now) {
                tracing::warn!(%agent, error = %e, "reload: registration not applied");
            }
        }
        self.state_dirty = true;
        self.drain_acd(now);
        self.flush_transactions(now);
        report
    }
}
