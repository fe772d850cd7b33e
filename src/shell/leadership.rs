//! The leadership task of a clustered engine (issue 19): owns the dedicated PostgreSQL
//! session that holds the advisory lock, runs what `cluster::Leadership` asks (try the lock,
//! check the session, drop it), tells the engine task its role, and keeps the state that
//! survives a failover (phones' registrations with their Path, agents' states) in the table
//! `hotline_cluster_state`, written only over the lock holder's own session.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio_postgres::{Client, NoTls};

use crate::call::persist::SavedState;
use crate::cluster::{Action, Answer, LeaderEvent, Leadership, LeadershipConfig, Role};
use crate::config::ClusterConfig;

/// Why the leadership task could not start.
#[derive(Debug, thiserror::Error)]
pub enum LeadershipError {
    /// The URL does not parse as a PostgreSQL connection string.
    #[error("storage.url: {0}")]
    Url(#[source] tokio_postgres::Error),
    /// Nothing to connect to.
    #[error("cluster.enabled needs storage.url")]
    NoUrl,
}

/// A role the engine task must take, with what the new active engine puts back.
#[derive(Debug)]
pub struct RoleChange {
    pub role: Role,
    /// The registrations and agent states the last active engine saved (promotion only).
    pub restore: Option<Box<SavedState>>,
    /// The calls the dead engine left (closed `lost_in_failover`) and the records the rolling
    /// figures are rebuilt from (promotion only; `None` when they could not be read).
    pub calls: Option<Box<crate::shell::store::pg_calls::TakeOver>>,
}

/// The engine task's end of the leadership task.
#[derive(Debug)]
pub struct ClusterLink {
    pub roles: mpsc::Receiver<RoleChange>,
    /// The active engine's registrations and agent states to keep (the newest wins).
    pub saves: mpsc::Sender<Box<SavedState>>,
}

/// What `/api/health` and `/metrics` show.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterStatus {
    pub node: String,
    pub role: Role,
    pub store_ok: bool,
    /// The last answer's time, in seconds.
    pub store_latency_s: Option<f64>,
    pub failovers: u64,
    pub step_downs: u64,
    /// State saves refused because this session no longer held the lock.
    pub fenced_saves: u64,
}

/// Whether this engine does the hotline's own periodic writes (the ticket and knowledge
/// sweeps, the early warnings, the callbacks): always on one engine; on two, only while
/// active, so that the standby never doubles them in the shared store.
#[derive(Debug, Clone, Default)]
pub struct Duty(Option<watch::Receiver<ClusterStatus>>);

impl Duty {
    /// On duty while `status` says active (`None`: one engine, always on duty).
    pub fn new(status: Option<watch::Receiver<ClusterStatus>>) -> Self {
        Duty(status)
    }

    /// Whether to do the periodic work now.
    pub fn on(&self) -> bool {
        self.0
            .as_ref()
            .is_none_or(|s| s.borrow().role == Role::Active)
    }

    /// Until the cluster's status changes (never for one engine, or once the leadership
    /// task is gone).
    pub async fn changed(&mut self) {
        match self.0.as_mut() {
            Some(s) => {
                if s.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
            None => std::future::pending().await,
        }
    }
}

struct Session {
    client: Arc<Client>,
    conn: tokio::task::JoinHandle<()>,
    lost: oneshot::Receiver<()>,
}

impl Drop for Session {
    fn drop(&mut self) {
        // Closing the socket is what makes the server release the lock.
        self.conn.abort();
    }
}

type Pending = Pin<Box<dyn Future<Output = (Answer, Option<Session>)> + Send>>;

const CREATE: &str = "CREATE TABLE IF NOT EXISTS hotline_cluster_state (\
    lock_key bigint PRIMARY KEY, node text NOT NULL, saved_at timestamptz NOT NULL, \
    state text NOT NULL)";

/// Written only while this session holds the advisory lock `$1` (a fence against an engine
/// that stepped down but still has a save in flight).
const SAVE: &str = "INSERT INTO hotline_cluster_state (lock_key, node, saved_at, state) \
    SELECT $1, $2, now(), $3 WHERE EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' \
    AND granted AND pid = pg_backend_pid() AND objsubid = 1 \
    AND ((classid::bigint << 32) | objid::bigint) = $1) \
    ON CONFLICT (lock_key) DO UPDATE SET node = EXCLUDED.node, saved_at = EXCLUDED.saved_at, \
    state = EXCLUDED.state";

/// Starts the leadership task when `[cluster] enabled`, with `core` made the standby until
/// it is told otherwise; `(None, None)` for a single engine.
pub fn start(
    cfg: &ClusterConfig,
    url: Option<&str>,
    core: &mut crate::call::engine::CallEngine,
    shutdown: watch::Receiver<bool>,
) -> Result<(Option<ClusterLink>, Option<watch::Receiver<ClusterStatus>>), LeadershipError> {
    if !cfg.enabled {
        return Ok((None, None));
    }
    core.set_standby(true, crate::shell::clock::now());
    let (link, status, _task) = spawn(cfg, url, shutdown)?;
    Ok((Some(link), Some(status)))
}

/// Starts the task on the shared store `url` (`[storage] url`); the engine starts as the
/// standby and waits for its first [`RoleChange`].
pub fn spawn(
    cfg: &ClusterConfig,
    url: Option<&str>,
    shutdown: watch::Receiver<bool>,
) -> Result<
    (
        ClusterLink,
        watch::Receiver<ClusterStatus>,
        tokio::task::JoinHandle<()>,
    ),
    LeadershipError,
> {
    let url = url.ok_or(LeadershipError::NoUrl)?;
    let mut pg: tokio_postgres::Config = url.parse().map_err(LeadershipError::Url)?;
    pg.connect_timeout(cfg.store_timeout)
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(5))
        .application_name(format!("hotline-{}", cfg.node));
    let (roles_tx, roles) = mpsc::channel(8);
    let (saves, saves_rx) = mpsc::channel(4);
    let status = ClusterStatus {
        node: cfg.node.clone(),
        role: Role::Standby,
        store_ok: false,
        store_latency_s: None,
        failovers: 0,
        step_downs: 0,
        fenced_saves: 0,
    };
    let (status_tx, status_rx) = watch::channel(status);
    let task = Task {
        pg,
        key: cfg.lock_key,
        node: cfg.node.clone(),
        timeout: cfg.store_timeout,
        core: Leadership::new(
            LeadershipConfig {
                retry_every: cfg.retry_every,
                store_timeout: cfg.store_timeout,
            },
            crate::shell::clock::now(),
        ),
        roles_tx,
        saves_rx,
        status_tx,
        fenced: Arc::new(std::sync::atomic::AtomicU64::new(0)),
    };
    let handle = tokio::spawn(task.run(shutdown));
    Ok((ClusterLink { roles, saves }, status_rx, handle))
}

struct Task {
    pg: tokio_postgres::Config,
    key: i64,
    node: String,
    timeout: Duration,
    core: Leadership,
    roles_tx: mpsc::Sender<RoleChange>,
    saves_rx: mpsc::Receiver<Box<SavedState>>,
    status_tx: watch::Sender<ClusterStatus>,
    fenced: Arc<std::sync::atomic::AtomicU64>,
}

async fn pending(p: &mut Option<Pending>) -> (Answer, Option<Session>) {
    match p {
        Some(f) => f.await,
        None => std::future::pending().await,
    }
}

async fn lost(s: &mut Option<Session>) {
    match s {
        Some(s) => {
            let _ = (&mut s.lost).await;
        }
        None => std::future::pending().await,
    }
}

impl Task {
    async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let mut session: Option<Session> = None;
        let mut inflight: Option<Pending> = None;
        tracing::info!(node = %self.node, "cluster: standby, asking for the lock");
        loop {
            let wake = self.core.poll_timeout();
            tokio::select! {
                _ = crate::shell::clock::sleep_until(Some(wake)) => {
                    self.core.handle_timeout(crate::shell::clock::now());
                }
                (answer, new) = pending(&mut inflight) => {
                    inflight = None;
                    if new.is_some() {
                        session = new;
                    }
                    self.core.handle_answer(answer, crate::shell::clock::now());
                }
                () = lost(&mut session) => {
                    session = None;
                    inflight = None;
                    tracing::warn!("cluster: the leadership session closed");
                    self.core.handle_session_lost(crate::shell::clock::now());
                }
                Some(mut state) = self.saves_rx.recv() => {
                    while let Ok(newer) = self.saves_rx.try_recv() {
                        state = newer;
                    }
                    if let (Role::Active, Some(s)) = (self.core.role(), &session) {
                        self.save(s.client.clone(), state);
                    }
                }
                _ = shutdown.changed() => {
                    if *shutdown.borrow() {
                        break;
                    }
                }
            }
            while let Some(action) = self.core.poll_action() {
                match action {
                    Action::TryLock => {
                        let client = session.as_ref().map(|s| s.client.clone());
                        inflight = Some(Box::pin(try_lock(client, self.pg.clone(), self.key)));
                    }
                    Action::CheckSession => {
                        let client = session.as_ref().map(|s| s.client.clone());
                        inflight = Some(Box::pin(check(client)));
                    }
                    Action::DropSession => {
                        inflight = None;
                        session = None;
                    }
                }
            }
            while let Some(event) = self.core.poll_event() {
                let change = match event {
                    LeaderEvent::Promoted { failover } => {
                        tracing::warn!(node = %self.node, failover, "cluster: this engine is now ACTIVE");
                        let (restore, calls) = match &session {
                            Some(s) => {
                                (self.load(&s.client).await, self.take_over(&s.client).await)
                            }
                            None => (None, None),
                        };
                        RoleChange {
                            role: Role::Active,
                            restore,
                            calls,
                        }
                    }
                    LeaderEvent::Demoted(why) => {
                        tracing::error!(node = %self.node, ?why, "cluster: this engine stepped down to STANDBY");
                        RoleChange {
                            role: Role::Standby,
                            restore: None,
                            calls: None,
                        }
                    }
                };
                if self.roles_tx.send(change).await.is_err() {
                    return;
                }
            }
            self.publish();
        }
        // Dropping the session releases the lock at once for the other engine.
        drop(session);
        tracing::info!("cluster: leadership released");
    }

    fn publish(&self) {
        let stats = self.core.stats();
        let status = ClusterStatus {
            node: self.node.clone(),
            role: self.core.role(),
            store_ok: stats.store_ok,
            store_latency_s: stats.last_latency.map(|d| d.as_secs_f64()),
            failovers: stats.failovers,
            step_downs: stats.step_downs,
            fenced_saves: self.fenced.load(std::sync::atomic::Ordering::Relaxed),
        };
        self.status_tx.send_if_modified(|old| {
            let changed = *old != status;
            *old = status;
            changed
        });
    }

    /// What the last active engine saved, read by the new holder.
    async fn load(&self, client: &Client) -> Option<Box<SavedState>> {
        let read = async {
            client.batch_execute(CREATE).await?;
            client
                .query_opt(
                    "SELECT state, node FROM hotline_cluster_state WHERE lock_key = $1",
                    &[&self.key],
                )
                .await
        };
        match tokio::time::timeout(self.timeout, read).await {
            Ok(Ok(Some(row))) => {
                let text: String = row.get(0);
                let node: String = row.get(1);
                match serde_json::from_str::<SavedState>(&text) {
                    Ok(s) => {
                        tracing::info!(from = %node, registrations = s.registrations.len(), agents = s.agents.len(), "cluster: state of the last active engine read");
                        Some(Box::new(s))
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "cluster: saved state unreadable, ignored");
                        None
                    }
                }
            }
            Ok(Ok(None)) => None,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "cluster: saved state not read");
                None
            }
            Err(_) => {
                tracing::error!("cluster: saved state not read in time");
                None
            }
        }
    }

    /// Closes the calls the last active engine left live and reads the last two days'
    /// records, on the lock holder's session. Given a few store timeouts: a busy hotline's
    /// two days are some 100,000 rows.
    async fn take_over(
        &self,
        client: &Client,
    ) -> Option<Box<crate::shell::store::pg_calls::TakeOver>> {
        let read = crate::shell::store::pg_calls::take_over(client);
        match tokio::time::timeout(self.timeout * 5, read).await {
            Ok(Ok(t)) => {
                tracing::warn!(
                    lost = t.lost.len(),
                    records = t.records.len(),
                    "cluster: calls live on the last active engine closed as lost_in_failover"
                );
                Some(Box::new(t))
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "cluster: the last active engine's calls not closed");
                None
            }
            Err(_) => {
                // The session may be left inside the transaction: end it, or the state saves
                // that follow on this session would never commit.
                let _ = client.batch_execute("ROLLBACK").await;
                tracing::error!("cluster: the last active engine's calls not closed in time");
                None
            }
        }
    }

    fn save(&self, client: Arc<Client>, state: Box<SavedState>) {
        let (key, node, timeout, fenced) = (
            self.key,
            self.node.clone(),
            self.timeout,
            self.fenced.clone(),
        );
        tokio::spawn(async move {
            let text = match serde_json::to_string(&*state) {
                Ok(t) => t,
                Err(e) => {
                    tracing::error!(error = %e, "cluster: state not serialised");
                    return;
                }
            };
            let write = async {
                client.batch_execute(CREATE).await?;
                client.execute(SAVE, &[&key, &node, &text]).await
            };
            match tokio::time::timeout(timeout, write).await {
                Ok(Ok(1)) => {}
                Ok(Ok(_)) => {
                    fenced.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    tracing::warn!(
                        "cluster: state not saved: this session no longer holds the lock"
                    );
                }
                Ok(Err(e)) => tracing::error!(error = %e, "cluster: state not saved"),
                Err(_) => tracing::error!("cluster: state not saved in time"),
            }
        });
    }
}

/// Connects when there is no session, then asks for the lock.
async fn try_lock(
    client: Option<Arc<Client>>,
    pg: tokio_postgres::Config,
    key: i64,
) -> (Answer, Option<Session>) {
    let (client, new) = match client {
        Some(c) => (c, None),
        None => match pg.connect(NoTls).await {
            Ok((client, connection)) => {
                let (lost_tx, lost) = oneshot::channel();
                let conn = tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::warn!(error = %e, "cluster: leadership connection ended");
                    }
                    let _ = lost_tx.send(());
                });
                let client = Arc::new(client);
                (client.clone(), Some(Session { client, conn, lost }))
            }
            Err(e) => return (Answer::Failed(e.to_string()), None),
        },
    };
    let answer = match client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
        .await
    {
        Ok(row) => {
            if row.get::<_, bool>(0) {
                Answer::Acquired
            } else {
                Answer::Busy
            }
        }
        Err(e) => Answer::Failed(e.to_string()),
    };
    (answer, new)
}

/// A round trip on the holder's session.
async fn check(client: Option<Arc<Client>>) -> (Answer, Option<Session>) {
    let Some(client) = client else {
        return (Answer::Failed("no session".into()), None);
    };
    match client.simple_query("SELECT 1").await {
        Ok(_) => (Answer::Alive, None),
        Err(e) => (Answer::Failed(e.to_string()), None),
    }
}
