//! The one thread that owns the ticket store (SQLite or PostgreSQL, `shell::store`): async callers send it closures, it runs
//! every queued one in one transaction (group commit) and answers each after the commit, with
//! the commit's error when there was one. It raises and clears the `storage_full` alarm.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::shell::store::{Store, StoreAt};
use crate::workflow::store::StoreError;
use crate::workflow::{Workflow, WorkflowError};

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

type Reply = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// A job's reply, and whether the job itself failed for lack of room.
type Job = Box<dyn FnOnce(&mut Store, &Workflow) -> (Reply, bool) + Send>;

/// The thread that owns the SQLite connection (one writer). Async callers send it closures;
/// it runs every queued closure in one transaction and answers each after the commit.
#[derive(Clone)]
pub struct TicketWorker {
    tx: mpsc::Sender<Job>,
    workflow: crate::shell::shared::Shared<Workflow>,
    metrics: Arc<crate::shell::metrics::TicketMetrics>,
    /// Where the store is, for readers beside the thread (reports).
    at: Arc<StoreAt>,
}

impl std::fmt::Debug for TicketWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketWorker").finish()
    }
}

/// Most requests committed together in one transaction.
const MAX_GROUP: usize = 256;

impl TicketWorker {
    /// Starts the worker thread over an opened store (found again at `at` by readers). It
    /// stops when every handle is dropped.
    pub fn start_at(
        store: impl Into<Store>,
        at: StoreAt,
        workflow: Workflow,
    ) -> Result<Self, StoreError> {
        let mut store = store.into();
        let (tx, mut rx) = mpsc::channel::<Job>(4096);
        let workflow = crate::shell::shared::Shared::new(workflow);
        let wf = workflow.clone();
        let metrics = Arc::new(crate::shell::metrics::TicketMetrics::default());
        let m = metrics.clone();
        std::thread::Builder::new()
            .name("ticket-store".into())
            .spawn(move || {
                while let Some(first) = rx.blocking_recv() {
                    let mut jobs = vec![first];
                    while jobs.len() < MAX_GROUP {
                        match rx.try_recv() {
                            Ok(j) => jobs.push(j),
                            Err(_) => break,
                        }
                    }
                    let began = crate::shell::clock::now();
                    // One batch runs under one workflow version; a reload applies to the next.
                    let wf = wf.load();
                    let (replies, result) = store
                        .batch_all(|s| jobs.into_iter().map(|j| j(s, &wf)).collect::<Vec<_>>());
                    m.commit_seconds
                        .observe(crate::shell::clock::now().saturating_duration_since(began));
                    let full = matches!(result, Err(StoreError::Full))
                        || replies.iter().any(|(_, full)| *full);
                    if full {
                        m.storage.written(true, "ticket store");
                    } else if let Ok(true) = result {
                        // Only a committed write proves there is room again (reads pass).
                        m.storage.written(false, "ticket store");
                    }
                    match result {
                        Ok(_) => replies.into_iter().for_each(|(r, _)| r(Ok(()))),
                        Err(e) => {
                            m.failed_commits
                                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            // The batch was rolled back: every caller is told why.
                            if e != StoreError::Full {
                                tracing::error!(error = %e, "ticket store commit failed");
                            }
                            replies.into_iter().for_each(|(r, _)| r(Err(e.clone())));
                        }
                    }
                }
                tracing::info!("ticket store worker stopped");
            })
            .map_err(backend)?;
        Ok(Self {
            tx,
            workflow,
            metrics,
            at: Arc::new(at),
        })
    }

    /// Starts the worker over a SQLite store (its readers open the same file).
    pub fn start(
        store: crate::shell::ticket_store::SqliteStore,
        workflow: Workflow,
    ) -> Result<Self, StoreError> {
        let dir = store.path().parent().unwrap_or(std::path::Path::new("."));
        let at = StoreAt::sqlite(dir);
        Self::start_at(store, at, workflow)
    }

    /// Where the store is: readers beside the thread open it there (`period_tickets::read`).
    pub fn store_at(&self) -> StoreAt {
        (*self.at).clone()
    }

    /// Commit latency and transition counters, for `/metrics` and for the callers that
    /// count what they committed.
    pub fn metrics(&self) -> &Arc<crate::shell::metrics::TicketMetrics> {
        &self.metrics
    }

    /// The workflow configuration (catalogue, calendar, policy) the worker runs now.
    pub fn workflow(&self) -> Arc<Workflow> {
        self.workflow.load()
    }

    /// Replaces the catalogue and calendar (a reload) for every later job.
    pub fn set_workflow(&self, workflow: Workflow) {
        self.workflow.store(Arc::new(workflow));
    }

    /// Runs `f` on the store thread; the answer comes after its transaction committed.
    pub async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store, &Workflow) -> Result<R, WorkflowError> + Send + 'static,
    ) -> Result<R, WorkflowError> {
        let (job, rx) = job(f);
        self.tx.send(job).await.map_err(|_| stopped())?;
        committed(rx).await
    }

    /// Queues `f` now, without waiting for room: jobs submitted one after the other run in
    /// that order (a call's draft before its recording). The future answers after the commit.
    pub fn submit<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store, &Workflow) -> Result<R, WorkflowError> + Send + 'static,
    ) -> impl std::future::Future<Output = Result<R, WorkflowError>> + Send + 'static {
        let (job, rx) = job(f);
        let queued = self.tx.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => {
                WorkflowError::Store(StoreError::Backend("ticket store queue is full".into()))
            }
            mpsc::error::TrySendError::Closed(_) => stopped(),
        });
        async move {
            queued?;
            committed(rx).await
        }
    }
}

type Answer<R> = oneshot::Receiver<Result<R, WorkflowError>>;

fn job<R: Send + 'static>(
    f: impl FnOnce(&mut Store, &Workflow) -> Result<R, WorkflowError> + Send + 'static,
) -> (Job, Answer<R>) {
    let (tx, rx) = oneshot::channel();
    let job: Job = Box::new(move |store, wf| {
        let r = f(store, wf);
        let full = matches!(r, Err(WorkflowError::Store(StoreError::Full)));
        let reply: Reply = Box::new(move |commit: Result<(), StoreError>| {
            let _ = tx.send(commit.map_err(WorkflowError::from).and(r));
        });
        (reply, full)
    });
    (job, rx)
}

fn stopped() -> WorkflowError {
    WorkflowError::Store(StoreError::Backend("ticket store stopped".into()))
}

async fn committed<R>(rx: Answer<R>) -> Result<R, WorkflowError> {
    rx.await.map_err(|_| {
        WorkflowError::Store(StoreError::Backend(
            "ticket store commit failed; nothing was saved".into(),
        ))
    })?
}
