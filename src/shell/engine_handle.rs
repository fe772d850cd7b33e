//! What the rest of the shell (the HTTP API, signals) may ask the engine task, and the
//! cheap handle it asks through (`shell::engine` runs the task).

use tokio::sync::{mpsc, oneshot};

use crate::call::record::LiveCall;

/// A request to the engine task from elsewhere in the shell (the HTTP API, signals).
#[derive(Debug)]
pub enum EngineCommand {
    /// Answer with a snapshot of the live calls.
    LiveCalls(oneshot::Sender<Vec<LiveCall>>),
    /// Answer with the core's counters and gauges.
    Snapshot(oneshot::Sender<crate::call::engine::EngineSnapshot>),
    /// Answer with the queues and agents.
    Acd(oneshot::Sender<crate::acd::core::Snapshot<crate::call::session::CallId>>),
    /// Change an agent's state.
    AgentState {
        agent: String,
        request: crate::acd::model::StateRequest,
        reply: oneshot::Sender<Result<(), crate::acd::core::AcdError>>,
    },
    /// Blind-transfer a live call (by its public name) to a queue, if `agent` (when given)
    /// is the one serving it.
    Transfer {
        call: String,
        target: String,
        agent: Option<String>,
        reply: oneshot::Sender<Result<(), crate::call::transfer::TransferError>>,
    },
    /// Hold or resume a call from the desk; `agent`, when given, must be the one serving it.
    Hold {
        call: String,
        on: bool,
        agent: Option<String>,
        reply: oneshot::Sender<Result<(), crate::call::transfer::TransferError>>,
    },
    /// Consult, conference, drop, hand over or leave, from the desk (`call::parties`);
    /// `agent`, when given, must be the one serving the call.
    Party {
        call: String,
        agent: Option<String>,
        action: crate::call::parties::PartyAction,
        reply: oneshot::Sender<Result<Option<u8>, crate::call::parties::ConferenceError>>,
    },
    /// Answer with the KPIs now.
    Stats(oneshot::Sender<crate::stats::kpi::KpiSnapshot>),
    /// Answer with one service number's KPIs now (integrated numbers).
    StatsFor {
        number: String,
        reply: oneshot::Sender<crate::stats::kpi::KpiSnapshot>,
    },
    /// Answer with a live call's caller number and agent (the desk's caller history).
    CallerOf {
        call: String,
        reply: oneshot::Sender<Option<crate::call::engine::CallerOf>>,
    },
    /// Answer with an agent's phone credentials (the desk's own phone).
    PhoneCredentials {
        agent: String,
        reply: oneshot::Sender<Option<crate::call::browser_leg::PhoneCredentials>>,
    },
    /// End an agent's wrap-up early.
    WrapUpDone {
        agent: String,
        reply: oneshot::Sender<Result<(), crate::acd::core::AcdError>>,
    },
    /// A web work item (an internet request) for the ACD.
    WebItem(WebItemCommand),
    /// Surge mode (C8): `set` turns it on or off (with who asked); answers the mode now
    /// and the places kept for callbacks.
    Surge {
        set: Option<(bool, String)>,
        reply: oneshot::Sender<crate::call::call_me_back::SurgeView>,
    },
    /// Swap in reloaded (validated) menus and agents/queues (`SIGHUP`).
    Reload {
        menus: std::sync::Arc<crate::ivr::model::MenuTree>,
        acd: Box<crate::acd::config::AcdConfig>,
        /// The units' phone numbers of the reloaded `dispatch.toml`.
        unit_numbers: std::collections::BTreeMap<String, String>,
        /// `sip.service_numbers` of the reloaded configuration (integrated numbers).
        service_numbers: Vec<String>,
        reply: oneshot::Sender<crate::acd::core::Reconfigured>,
    },
}

/// What the shell tells the ACD about internet requests (C13).
#[derive(Debug)]
pub enum WebItemCommand {
    /// A registered request waits for an agent; its 3 minutes run from `received_at`.
    Queued {
        id: String,
        request_type: String,
        content: String,
        received_at: chrono::DateTime<chrono::FixedOffset>,
    },
    /// The agent accepts (or declines) the item offered on their desk.
    Answer {
        id: String,
        agent: String,
        accept: bool,
        reply: oneshot::Sender<Result<(), crate::acd::core::AcdError>>,
    },
    /// The item's ticket changed (handled on a page, by its agent, or closed).
    TicketChanged {
        id: String,
        stage: crate::call::web_items::TicketStage,
    },
}

/// The engine task is gone (shut down).
#[derive(Debug, thiserror::Error)]
#[error("the engine has stopped")]
pub struct EngineGone;

/// A cheap, cloneable handle to ask the engine task things.
#[derive(Clone, Debug)]
pub struct EngineHandle {
    tx: mpsc::Sender<EngineCommand>,
}

impl EngineHandle {
    /// Wraps the engine task's command channel.
    pub fn new(tx: mpsc::Sender<EngineCommand>) -> Self {
        Self { tx }
    }

    /// The live calls, as the engine sees them now.
    pub async fn live_calls(&self) -> Result<Vec<LiveCall>, EngineGone> {
        self.ask(EngineCommand::LiveCalls).await
    }

    /// The core's counters and gauges, for `/metrics`.
    pub async fn snapshot(&self) -> Result<crate::call::engine::EngineSnapshot, EngineGone> {
        self.ask(EngineCommand::Snapshot).await
    }

    /// Sends a command and waits for its answer.
    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> EngineCommand,
    ) -> Result<T, EngineGone> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(make(tx)).await.map_err(|_| EngineGone)?;
        rx.await.map_err(|_| EngineGone)
    }

    /// Queues and agents now.
    pub async fn acd(
        &self,
    ) -> Result<crate::acd::core::Snapshot<crate::call::session::CallId>, EngineGone> {
        self.ask(EngineCommand::Acd).await
    }

    /// Asks the ACD to change an agent's state.
    pub async fn set_agent_state(
        &self,
        agent: String,
        request: crate::acd::model::StateRequest,
    ) -> Result<Result<(), crate::acd::core::AcdError>, EngineGone> {
        self.ask(|reply| EngineCommand::AgentState {
            agent,
            request,
            reply,
        })
        .await
    }

    /// Blind-transfers a call to a queue; `agent`, when given, must be the one serving it.
    pub async fn transfer(
        &self,
        call: String,
        target: String,
        agent: Option<String>,
    ) -> Result<Result<(), crate::call::transfer::TransferError>, EngineGone> {
        self.ask(|reply| EngineCommand::Transfer {
            call,
            target,
            agent,
            reply,
        })
        .await
    }

    /// Puts a call's caller on hold (`on`) or takes them off it.
    pub async fn hold(
        &self,
        call: String,
        on: bool,
        agent: Option<String>,
    ) -> Result<Result<(), crate::call::transfer::TransferError>, EngineGone> {
        self.ask(|reply| EngineCommand::Hold {
            call,
            on,
            agent,
            reply,
        })
        .await
    }

    /// Acts on a call's parties; `agent`, when given, must be the one serving it.
    pub async fn party(
        &self,
        call: String,
        agent: Option<String>,
        action: crate::call::parties::PartyAction,
    ) -> Result<Result<Option<u8>, crate::call::parties::ConferenceError>, EngineGone> {
        self.ask(|reply| EngineCommand::Party {
            call,
            agent,
            action,
            reply,
        })
        .await
    }

    /// The two KPIs and their series.
    pub async fn stats(&self) -> Result<crate::stats::kpi::KpiSnapshot, EngineGone> {
        self.ask(EngineCommand::Stats).await
    }

    /// One service number's two KPIs and their series.
    pub async fn stats_for(
        &self,
        number: String,
    ) -> Result<crate::stats::kpi::KpiSnapshot, EngineGone> {
        self.ask(|reply| EngineCommand::StatsFor { number, reply })
            .await
    }

    /// A live call's whole caller number and its agent, or `None` when it has ended.
    pub async fn caller_of(
        &self,
        call: String,
    ) -> Result<Option<crate::call::engine::CallerOf>, EngineGone> {
        self.ask(|reply| EngineCommand::CallerOf { call, reply })
            .await
    }

    /// Agent `agent`'s phone credentials, for the desk's own phone.
    pub async fn phone_credentials(
        &self,
        agent: String,
    ) -> Result<Option<crate::call::browser_leg::PhoneCredentials>, EngineGone> {
        self.ask(|reply| EngineCommand::PhoneCredentials { agent, reply })
            .await
    }

    /// Applies reloaded menus and agents/queues; live calls stay up.
    pub async fn reload(
        &self,
        menus: std::sync::Arc<crate::ivr::model::MenuTree>,
        acd: crate::acd::config::AcdConfig,
        unit_numbers: std::collections::BTreeMap<String, String>,
        service_numbers: Vec<String>,
    ) -> Result<crate::acd::core::Reconfigured, EngineGone> {
        self.ask(|reply| EngineCommand::Reload {
            menus,
            acd: Box::new(acd),
            unit_numbers,
            service_numbers,
            reply,
        })
        .await
    }

    /// Hands the engine a web item command without waiting; the command comes back when
    /// the engine's queue is full (or it stopped), for the caller to wait with.
    pub fn try_web_item(&self, cmd: WebItemCommand) -> Option<WebItemCommand> {
        match self.tx.try_send(EngineCommand::WebItem(cmd)) {
            Ok(()) => None,
            Err(e) => match e.into_inner() {
                EngineCommand::WebItem(cmd) => Some(cmd),
                _ => None,
            },
        }
    }

    /// Like [`EngineHandle::web_item`], waiting for room in the engine's queue.
    pub async fn web_item_wait(&self, cmd: WebItemCommand) -> Result<(), EngineGone> {
        self.tx
            .send(EngineCommand::WebItem(cmd))
            .await
            .map_err(|_| EngineGone)
    }

    /// The agent's answer to the web item on their desk.
    pub async fn answer_web_item(
        &self,
        id: String,
        agent: String,
        accept: bool,
    ) -> Result<Result<(), crate::acd::core::AcdError>, EngineGone> {
        self.ask(|reply| {
            EngineCommand::WebItem(WebItemCommand::Answer {
                id,
                agent,
                accept,
                reply,
            })
        })
        .await
    }

    /// Surge mode now; with `set`, after turning it on or off.
    pub async fn surge(
        &self,
        set: Option<(bool, String)>,
    ) -> Result<crate::call::call_me_back::SurgeView, EngineGone> {
        self.ask(|reply| EngineCommand::Surge { set, reply }).await
    }

    /// Ends an agent's wrap-up (the ticket form was saved).
    pub async fn wrap_up_done(
        &self,
        agent: String,
    ) -> Result<Result<(), crate::acd::core::AcdError>, EngineGone> {
        self.ask(|reply| EngineCommand::WrapUpDone { agent, reply })
            .await
    }
}
