//! Links calls and tickets: an agent's answer opens the call's draft ticket (so the agent
//! fills it in while talking and can read its id to the caller), and the finished recording
//! is attached to it with its hash. The store work runs on the ticket thread, beside the
//! engine task, so a slow disk never holds up SIP.

use std::time::Duration;

use tokio::sync::mpsc;

use crate::call::record::{ConnectedCall, PartyEvent, PartyKind};
use crate::cti::tickets::TicketApi;
use crate::workflow::action::EmergencyService;
use crate::workflow::model::{china, Actor, CallDraft, Recording};
use crate::workflow::party::CallParty;
use crate::workflow::store::{ListQuery, StoreError, TicketStore};
use crate::workflow::ticket::TicketState;
use crate::workflow::{Action, TicketId, WorkflowError};

/// A draft was opened: the engine puts its id on the live call and the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketLink {
    /// The call's public name.
    pub call: String,
    pub ticket: TicketId,
}

/// Opens drafts and attaches recordings; tells the engine task which ticket a call got.
///
/// The jobs run one after the other on one task, in the order they were asked for (a call's
/// draft before its recording). A job refused for lack of room (`storage_full`) is retried
/// with a bounded backoff until it commits, holding the ones after it (issue 12 item 8): a
/// call answered while the disk is full gets its draft once there is room again.
pub struct CallTickets {
    api: TicketApi,
    jobs_tx: mpsc::UnboundedSender<Job>,
    links_rx: mpsc::UnboundedReceiver<TicketLink>,
    runner: tokio::task::JoinHandle<()>,
    /// Agents' state changes, holds and web items, kept for the statistics.
    activity: crate::shell::agent_activity::ActivityLog,
}

impl std::fmt::Debug for CallTickets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallTickets").finish()
    }
}

/// First wait before a job refused with `storage_full` is tried again; it doubles up to
/// [`RETRY_MAX`].
pub const RETRY_FIRST: Duration = Duration::from_millis(100);
/// Longest wait between two tries of a job refused with `storage_full`.
pub const RETRY_MAX: Duration = Duration::from_secs(5);

/// One piece of store work for a call.
enum Job {
    /// Open the call's draft (the agent answered at `at`).
    Draft {
        draft: CallDraft,
        at: chrono::DateTime<chrono::FixedOffset>,
    },
    /// Attach the closed, hashed recording to the call's tickets.
    Attach {
        call: String,
        recording: Recording,
        at: chrono::DateTime<chrono::FixedOffset>,
    },
    /// C12: the call went to an outside service: its open ticket becomes urgent and linked.
    Emergency {
        call: String,
        service: EmergencyService,
        at: chrono::DateTime<chrono::FixedOffset>,
    },
    /// W3: a unit, another agent or an outside service joined or left the call: recorded on
    /// the call's tickets (`PartyJoined` / `PartyLeft`).
    Party {
        call: String,
        action: Action,
        at: chrono::DateTime<chrono::FixedOffset>,
    },
    /// C16: a supervisor joined or left the call: the monitoring audit.
    Monitoring(crate::shell::monitor_audit::Monitoring),
    /// GB/T 44190 6.3.2: the call went to a utility's own hotline: the hand-over goes on
    /// the call's open tickets.
    Utility {
        call: String,
        unit: crate::workflow::model::UnitId,
        at: chrono::DateTime<chrono::FixedOffset>,
    },
}

impl Job {
    fn call(&self) -> &str {
        match self {
            Job::Draft { draft, .. } => &draft.call_id,
            Job::Attach { call, .. }
            | Job::Emergency { call, .. }
            | Job::Party { call, .. }
            | Job::Utility { call, .. } => call,
            Job::Monitoring(m) => &m.call,
        }
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
        let (jobs_tx, jobs_rx) = mpsc::unbounded_channel();
        let runner = tokio::spawn(run_jobs(api.clone(), jobs_rx, links_tx));
        let activity = crate::shell::agent_activity::ActivityLog::start(api.worker().clone());
        Self {
            activity,
            api,
            jobs_tx,
            links_rx,
            runner,
        }
    }

    /// An agent answered: queue the draft now (ahead of anything later for this call).
    pub fn call_answered(&mut self, c: ConnectedCall) {
        let draft = CallDraft {
            call_id: c.live.id.clone(),
            number: (c.live.direction == crate::call::record::Direction::Inbound)
                .then(|| c.live.called.clone()),
            received_at: c.live.started_at.with_timezone(&china()),
            caller_phone: caller_phone(&c.caller_number),
            queue: c.live.queue.clone(),
            menu_path: c.live.menu_path.clone(),
        };
        let at = self.api.now();
        let _ = self.jobs_tx.send(Job::Draft { draft, at });
    }

    /// The call's recording is closed and hashed: attach it to the call's tickets (C9).
    pub fn call_recorded(&mut self, call: String, recording: Recording) {
        let at = self.api.now();
        let _ = self.jobs_tx.send(Job::Attach {
            call,
            recording,
            at,
        });
    }

    /// C12: the call is transferred to an outside service (`target` as configured in
    /// `[transfer.numbers]`): its open ticket becomes urgent and linked to that service in
    /// one workflow step, with the time from the call's start; queued behind its draft.
    /// A target that names a utility unit of the dispatch catalogue (`kind = "utility"`, e.g.
    /// `water`, `telecom`) also records the hand-over to that utility on the call's tickets.
    pub fn emergency_transfer(&mut self, call: String, target: &str) {
        let at = self.api.now();
        let utility = {
            let wf = self.api.worker().workflow();
            wf.catalogue
                .unit(&crate::workflow::model::UnitId::new(target))
                .filter(|u| u.kind == crate::workflow::catalogue::UnitKind::Utility)
                .map(|u| u.id.clone())
        };
        if let Some(service) = emergency_service(target) {
            let _ = self.jobs_tx.send(Job::Emergency {
                call: call.clone(),
                service,
                at,
            });
        }
        if let Some(unit) = utility {
            let _ = self.jobs_tx.send(Job::Utility { call, unit, at });
        }
    }

    /// Someone beyond the caller and the first agent joined or left the call: a unit, another
    /// agent or an outside service goes on the call's tickets (W3), a supervisor into the
    /// monitoring audit (C16); queued behind the call's draft.
    pub fn party(&mut self, p: PartyEvent) {
        let at = self.api.now();
        let _ = self.jobs_tx.send(party_job(p, at));
    }

    /// An agent changed state, held a caller or took a web item: kept for the statistics.
    pub fn agent_activity(&mut self, a: crate::stats::activity::AgentActivity) {
        self.activity.push(a);
    }

    /// The next draft opened, for the engine task's loop.
    pub async fn next_link(&mut self) -> Option<TicketLink> {
        self.links_rx.recv().await
    }

    /// Waits (at most `within`) for the jobs still queued, at shutdown.
    pub async fn finish(self, within: Duration) {
        self.activity.finish(within).await;
        drop(self.jobs_tx);
        let mut runner = self.runner;
        if tokio::time::timeout(within, &mut runner).await.is_err() {
            runner.abort();
            tracing::warn!("ticket jobs still queued at shutdown (is the disk full?)");
        }
    }
}

/// The job a party event makes: the ticket's event for a unit, an agent or an outside
/// service; the audit's row for a supervisor.
fn party_job(p: PartyEvent, at: chrono::DateTime<chrono::FixedOffset>) -> Job {
    let party = match p.party {
        PartyKind::Unit { unit } => CallParty::Unit {
            unit: crate::workflow::UnitId(unit),
        },
        PartyKind::Agent { agent } => CallParty::Agent { agent },
        PartyKind::External { target } => CallParty::External { target },
        PartyKind::Supervisor { user, mode } => {
            return Job::Monitoring(crate::shell::monitor_audit::Monitoring {
                user,
                mode,
                call: p.call,
                ticket: p.ticket,
                joined_at: p.joined_at,
                left_at: p.left_at,
            })
        }
    };
    let china = china();
    let joined_at = p.joined_at.with_timezone(&china);
    let action = match p.left_at {
        None => Action::PartyJoined {
            call: p.call.clone(),
            party,
            joined_at,
        },
        Some(left) => Action::PartyLeft {
            call: p.call.clone(),
            party,
            joined_at,
            left_at: left.with_timezone(&china),
        },
    };
    Job::Party {
        call: p.call,
        action,
        at,
    }
}

/// The job runner: one job at a time, in order; `storage_full` is retried until it commits.
async fn run_jobs(
    api: TicketApi,
    mut jobs: mpsc::UnboundedReceiver<Job>,
    links: mpsc::UnboundedSender<TicketLink>,
) {
    let metrics = api.worker().metrics().clone();
    while let Some(job) = jobs.recv().await {
        let call = crate::call::ids::id_of_name(job.call()).to_string();
        let mut wait = RETRY_FIRST;
        let mut tries = 0u32;
        loop {
            tries += 1;
            let result = match &job {
                Job::Draft { draft, at } => open_draft(&api, draft.clone(), *at)
                    .await
                    .map(|(new, ticket)| {
                        if new {
                            metrics.committed("open_draft");
                        }
                        tracing::info!(%call, %ticket, tries, "draft ticket opened for the answered call");
                        let _ = links.send(TicketLink {
                            call: draft.call_id.clone(),
                            ticket,
                        });
                    }),
                Job::Attach {
                    call: name,
                    recording,
                    at,
                } => attach(&api, name.clone(), recording.clone(), *at)
                    .await
                    .map(|n| {
                        metrics.transitions.add("attach_recording", n);
                        tracing::debug!(%call, tickets = n, tries, "recording attached");
                    }),
                Job::Emergency {
                    call: name,
                    service,
                    at,
                } => link_emergency(&api, name.clone(), *service, *at)
                    .await
                    .map(|n| {
                        metrics.transitions.add("emergency_transferred", n);
                        tracing::info!(%call, tickets = n, tries, "call's ticket linked to the emergency service (C12)");
                    }),
                Job::Party {
                    call: name,
                    action,
                    at,
                } => record_party(&api, name.clone(), action.clone(), *at)
                    .await
                    .map(|n| {
                        metrics.transitions.add(action.name(), n);
                        tracing::info!(%call, tickets = n, tries, "call party recorded on the ticket (W3)");
                    }),
                Job::Utility {
                    call: name,
                    unit,
                    at,
                } => act_on_call_tickets(
                    &api,
                    name.clone(),
                    Action::UtilityTransferred { unit: unit.clone() },
                    |t, _| !t.state.is_finished(),
                    *at,
                )
                .await
                .map(|n| {
                    metrics.transitions.add("utility_transferred", n);
                    tracing::info!(%call, %unit, tickets = n, tries, "call handed over to the utility's hotline (GB/T 44190 6.3.2)");
                }),
                Job::Monitoring(m) => {
                    let row = m.clone();
                    api.worker()
                        .submit(move |s, _| Ok(crate::shell::monitor_audit::record(s, &row)?))
                        .await
                        .map(|()| {
                            tracing::info!(%call, user = %m.user, mode = ?m.mode, left = m.left_at.is_some(), tries, "supervisor monitoring audited (C16)");
                        })
                }
            };
            match result {
                Ok(()) => break,
                Err(e) => {
                    metrics.refused(crate::shell::metrics::error_code(&e));
                    if !matches!(e, WorkflowError::Store(StoreError::Full)) {
                        tracing::error!(%call, error = %e, "could not open the call's draft ticket or attach its recording");
                        break;
                    }
                    if tries == 1 {
                        tracing::warn!(%call, "the data folder is full: the call's ticket work waits and is retried");
                    }
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(RETRY_MAX);
                }
            }
        }
    }
}

/// Opens the call's draft: `(whether it is new, its id)`. `open_draft` hands back a draft
/// already open for the call; only a new one (whose first event is this one) is a transition.
async fn open_draft(
    api: &TicketApi,
    draft: CallDraft,
    at: chrono::DateTime<chrono::FixedOffset>,
) -> Result<(bool, TicketId), WorkflowError> {
    api.worker()
        .submit(move |s, wf| {
            wf.open_draft(s, &draft, &Actor::system(), at)
                .map(|t| (t.history.first().is_some_and(|e| e.at == at), t.id))
        })
        .await
}

/// Applies the engine's `action` to each ticket of `call` that `wants` it: how many changed.
async fn act_on_call_tickets(
    api: &TicketApi,
    call: String,
    action: Action,
    wants: fn(&crate::workflow::Ticket, &Action) -> bool,
    at: chrono::DateTime<chrono::FixedOffset>,
) -> Result<u64, WorkflowError> {
    api.worker()
        .submit(move |s, wf| {
            let page = s.list(&ListQuery {
                call_id: Some(call),
                limit: 20,
                ..ListQuery::default()
            })?;
            let mut n = 0u64;
            for row in page.items {
                let t = wf.load(s, &row.id)?;
                if wants(&t, &action) {
                    wf.act(s, &row.id, None, &Actor::system(), &action, at)?;
                    n += 1;
                }
            }
            Ok(n)
        })
        .await
}

/// Attaches the recording to every ticket of the call that lacks it and is not archived.
async fn attach(
    api: &TicketApi,
    call: String,
    recording: Recording,
    at: chrono::DateTime<chrono::FixedOffset>,
) -> Result<u64, WorkflowError> {
    let action = Action::AttachRecording { recording };
    act_on_call_tickets(
        api,
        call,
        action,
        |t, a| match a {
            Action::AttachRecording { recording } => {
                t.intake.recording.as_ref() != Some(recording)
                    && !matches!(t.state, TicketState::Archived { .. })
            }
            _ => false,
        },
        at,
    )
    .await
}

/// Marks the call's open tickets (not yet dispatched) urgent and linked to `service`.
async fn link_emergency(
    api: &TicketApi,
    call: String,
    service: EmergencyService,
    at: chrono::DateTime<chrono::FixedOffset>,
) -> Result<u64, WorkflowError> {
    act_on_call_tickets(
        api,
        call,
        Action::EmergencyTransferred { service },
        |t, _| {
            matches!(
                t.state,
                TicketState::Draft { .. }
                    | TicketState::Received { .. }
                    | TicketState::Accepted { .. }
            )
        },
        at,
    )
    .await
}

/// Records a party's joining or leaving on every ticket of the call that is not archived.
async fn record_party(
    api: &TicketApi,
    call: String,
    action: Action,
    at: chrono::DateTime<chrono::FixedOffset>,
) -> Result<u64, WorkflowError> {
    act_on_call_tickets(
        api,
        call,
        action,
        |t, _| !matches!(t.state, TicketState::Archived { .. }),
        at,
    )
    .await
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
