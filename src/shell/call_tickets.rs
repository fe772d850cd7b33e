//! Links calls and tickets: an agent's answer opens the call's draft ticket (so the agent
//! fills it in while talking and can read its id to the caller), and the finished recording
//! is attached to it with its hash. The store work runs on the ticket thread, beside the
//! engine task, so a slow disk never holds up SIP.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::call::record::ConnectedCall;
use crate::cti::tickets::TicketApi;
use crate::workflow::action::EmergencyService;
use crate::workflow::model::{china, Actor, CallDraft, Recording};
use crate::workflow::store::{ListQuery, TicketStore};
use crate::workflow::ticket::TicketState;
use crate::workflow::{Action, TicketId};

/// A draft was opened: the engine puts its id on the live call and the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketLink {
    /// The call's public name.
    pub call: String,
    pub ticket: TicketId,
}

/// Opens drafts and attaches recordings; tells the engine task which ticket a call got.
pub struct CallTickets {
    api: TicketApi,
    links_tx: mpsc::UnboundedSender<TicketLink>,
    links_rx: mpsc::UnboundedReceiver<TicketLink>,
    jobs: JoinSet<()>,
}

impl std::fmt::Debug for CallTickets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallTickets")
            .field("jobs", &self.jobs.len())
            .finish()
    }
}

/// The number as the ticket stores it: none for anonymous or withheld callers.
fn caller_phone(number: &str) -> Option<String> {
    let n = number.trim();
    let withheld = n.is_empty()
        || n.eq_ignore_ascii_case("anonymous")
        || n.eq_ignore_ascii_case("unknown")
        || n.eq_ignore_ascii_case("restricted");
    (!withheld).then(|| n.to_string())
}

impl CallTickets {
    /// Works through `api`'s store.
    pub fn new(api: TicketApi) -> Self {
        let (links_tx, links_rx) = mpsc::unbounded_channel();
        Self {
            api,
            links_tx,
            links_rx,
            jobs: JoinSet::new(),
        }
    }

    /// An agent answered: queue the draft now (ahead of anything later for this call).
    pub fn call_answered(&mut self, c: ConnectedCall) {
        let draft = CallDraft {
            call_id: c.live.id.clone(),
            received_at: c.live.started_at.with_timezone(&china()),
            caller_phone: caller_phone(&c.caller_number),
            queue: c.live.queue.clone(),
            menu_path: c.live.menu_path.clone(),
        };
        let at = self.api.now();
        // `open_draft` hands back a draft already open for the call; only a new one (whose
        // first event is this one) is a transition.
        let opened = self.api.worker().submit(move |s, wf| {
            wf.open_draft(s, &draft, &Actor::system(), at)
                .map(|t| (t.history.first().is_some_and(|e| e.at == at), t.id))
        });
        let metrics = self.api.worker().metrics().clone();
        let links = self.links_tx.clone();
        let call = c.live.id;
        self.reap();
        self.jobs.spawn(async move {
            match opened.await {
                Ok((new, ticket)) => {
                    if new {
                        metrics.committed("open_draft");
                    }
                    tracing::info!(call = crate::call::ids::id_of_name(&call), %ticket, "draft ticket opened for the answered call");
                    let _ = links.send(TicketLink { call, ticket });
                }
                Err(e) => {
                    metrics.refused(crate::shell::metrics::error_code(&e));
                    tracing::error!(call = crate::call::ids::id_of_name(&call), error = %e, "could not open the call's draft ticket")
                }
            }
        });
    }

    /// The call's recording is closed and hashed: attach it to the call's tickets (C9).
    pub fn call_recorded(&mut self, call: String, recording: Recording) {
        let at = self.api.now();
        let id = call.clone();
        let attached = self.api.worker().submit(move |s, wf| {
            let page = s.list(&ListQuery {
                call_id: Some(id),
                limit: 20,
                ..ListQuery::default()
            })?;
            let mut n = 0u64;
            for row in page.items {
                let t = wf.load(s, &row.id)?;
                if t.intake.recording.as_ref() == Some(&recording)
                    || matches!(t.state, TicketState::Archived { .. })
                {
                    continue;
                }
                let action = Action::AttachRecording {
                    recording: recording.clone(),
                };
                wf.act(s, &row.id, None, &Actor::system(), &action, at)?;
                n += 1;
            }
            Ok(n)
        });
        let metrics = self.api.worker().metrics().clone();
        self.reap();
        self.jobs.spawn(async move {
            match attached.await {
                Ok(n) => {
                    metrics.transitions.add("attach_recording", n);
                    tracing::debug!(call = crate::call::ids::id_of_name(&call), tickets = n, "recording attached")
                }
                Err(e) => {
                    metrics.refused(crate::shell::metrics::error_code(&e));
                    tracing::error!(call = crate::call::ids::id_of_name(&call), error = %e, "could not attach the recording to the call's ticket")
                }
            }
        });
    }

    /// C12: the call is transferred to an outside service: its open ticket becomes urgent and
    /// linked to that service in one workflow step, with the time from the call's start.
    pub fn emergency_transfer(&mut self, call: String, target: &str) {
        let Some(service) = emergency_service(target) else {
            return;
        };
        let at = self.api.now();
        let id = call.clone();
        let linked = self.api.worker().submit(move |s, wf| {
            let page = s.list(&ListQuery {
                call_id: Some(id),
                limit: 20,
                ..ListQuery::default()
            })?;
            let mut n = 0u64;
            for row in page.items {
                let t = wf.load(s, &row.id)?;
                if matches!(
                    t.state,
                    TicketState::Draft { .. }
                        | TicketState::Received { .. }
                        | TicketState::Accepted { .. }
                ) {
                    let action = Action::EmergencyTransferred { service };
                    wf.act(s, &row.id, None, &Actor::system(), &action, at)?;
                    n += 1;
                }
            }
            Ok(n)
        });
        let metrics = self.api.worker().metrics().clone();
        self.reap();
        self.jobs.spawn(async move {
            match linked.await {
                Ok(n) => {
                    metrics.transitions.add("emergency_transferred", n);
                    tracing::info!(call = crate::call::ids::id_of_name(&call), tickets = n, "call's ticket linked to the emergency service (C12)")
                }
                Err(e) => {
                    metrics.refused(crate::shell::metrics::error_code(&e));
                    tracing::error!(call = crate::call::ids::id_of_name(&call), error = %e, "could not link the transferred call's ticket")
                }
            }
        });
    }

    /// The next draft opened, for the engine task's loop.
    pub async fn next_link(&mut self) -> Option<TicketLink> {
        self.links_rx.recv().await
    }

    /// Forgets finished jobs (they only log).
    fn reap(&mut self) {
        while self.jobs.try_join_next().is_some() {}
    }

    /// Waits (at most `within`) for the jobs still running, at shutdown.
    pub async fn finish(mut self, within: Duration) {
        let all = async { while self.jobs.join_next().await.is_some() {} };
        if tokio::time::timeout(within, all).await.is_err() {
            tracing::warn!("ticket jobs still running at shutdown");
        }
    }
}

/// The C12 service a `[transfer.numbers]` name stands for (`"110"`, `water`, …).
fn emergency_service(target: &str) -> Option<EmergencyService> {
    serde_json::from_value(serde_json::json!(target)).ok()
}

#[cfg(test)]
mod tests {
    use super::{caller_phone, emergency_service};
    use crate::workflow::action::EmergencyService;

    #[test]
    fn transfer_targets_name_their_service() {
        assert_eq!(emergency_service("110"), Some(EmergencyService::Police));
        assert_eq!(emergency_service("122"), Some(EmergencyService::Traffic));
        assert_eq!(emergency_service("gas"), Some(EmergencyService::Gas));
        assert_eq!(emergency_service("12315"), None);
    }

    #[test]
    fn withheld_numbers_are_not_stored() {
        assert_eq!(caller_phone("13800138000").as_deref(), Some("13800138000"));
        assert_eq!(caller_phone(" anonymous "), None);
        assert_eq!(caller_phone(""), None);
    }
}
