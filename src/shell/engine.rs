//! The engine task: owns the signaling cores (transactions, dialogs, calls, IVR navigators,
//! queues) with no locks around them, and is the only caller of their `poll_*` methods.

use tokio::sync::{mpsc, oneshot};

use crate::call::record::LiveCall;

/// A request to the engine task from elsewhere in the shell (the HTTP API, signals).
#[derive(Debug)]
pub enum EngineCommand {
    /// Answer with a snapshot of the live calls.
    LiveCalls(oneshot::Sender<Vec<LiveCall>>),
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
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(EngineCommand::LiveCalls(tx))
            .await
            .map_err(|_| EngineGone)?;
        rx.await.map_err(|_| EngineGone)
    }
}
