//! Keeps what agents did (`stats::activity`) durably in the ticket database's
//! `agent_activity` table (SQLite's file or PostgreSQL, `store::pg_activity`), and reads it (with the ticket events agents wrote) back for the
//! statistics. The engine task hands each fact to [`ActivityLog`]; its own task writes
//! whatever has queued up in one store job, so a busy minute costs a few commits, not one per
//! state change, and the call tickets' jobs never wait behind it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::params;
use tokio::sync::mpsc;

use crate::shell::store::Store;
use crate::shell::ticket_worker::TicketWorker;
use crate::stats::activity::{ActivityKind, AgentActivity};
use crate::stats::agents::TicketTally;
use crate::workflow::store::StoreError;
use crate::workflow::WorkflowError;

/// Most facts written in one store job.
const BATCH: usize = 512;

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// The engine's side: queue a fact; a task writes them.
#[derive(Debug)]
pub struct ActivityLog {
    tx: mpsc::UnboundedSender<AgentActivity>,
    writer: tokio::task::JoinHandle<()>,
}

impl ActivityLog {
    /// Starts the writer task over the ticket store's worker.
    pub fn start(worker: TicketWorker) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let writer = tokio::spawn(write_batches(worker, rx));
        ActivityLog { tx, writer }
    }

    /// Queues one fact (never blocks the engine).
    pub fn push(&self, a: AgentActivity) {
        let _ = self.tx.send(a);
    }

    /// At shutdown: writes what is queued (the last logouts), waiting at most `within`.
    pub async fn finish(self, within: Duration) {
        drop(self.tx);
        let mut writer = self.writer;
        if tokio::time::timeout(within, &mut writer).await.is_err() {
            writer.abort();
            tracing::warn!("agent activity still queued at shutdown (is the disk full?)");
        }
    }
}

/// Drains the queue in batches; a full disk is retried (bounded backoff) until it commits,
/// any other failure is logged and the batch dropped.
async fn write_batches(worker: TicketWorker, mut rx: mpsc::UnboundedReceiver<AgentActivity>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(a) => batch.push(a),
                Err(_) => break,
            }
        }
        let mut wait = crate::shell::call_tickets::RETRY_FIRST;
        loop {
            let rows = batch.clone();
            match worker.submit(move |s, _| Ok(insert(s, &rows)?)).await {
                Ok(()) => break,
                Err(WorkflowError::Store(StoreError::Full)) => {
                    tracing::warn!(
                        facts = batch.len(),
                        "data folder full: agent activity waits"
                    );
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
                Err(e) => {
                    tracing::error!(error = %e, facts = batch.len(), "could not keep agent activity");
                    break;
                }
            }
        }
    }
}

/// Inserts facts (inside the worker's transaction).
pub fn insert(store: &mut Store, rows: &[AgentActivity]) -> Result<(), StoreError> {
    let conn = match store {
        Store::Sqlite(s) => s.connection(),
        Store::Postgres { pg } => {
            let rows: Vec<_> = rows
                .iter()
                .map(|a| {
                    (
                        a.agent.clone(),
                        a.at.timestamp_millis(),
                        a.kind.code().to_string(),
                        a.kind.detail().map(str::to_string),
                        a.call.clone(),
                        a.queue.clone(),
                    )
                })
                .collect();
            return pg.activity_insert(&rows);
        }
    };
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO agent_activity (agent, at_ms, kind, detail, call, queue) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(backend)?;
    for a in rows {
        stmt.execute(params![
            a.agent,
            a.at.timestamp_millis(),
            a.kind.code(),
            a.kind.detail(),
            a.call,
            a.queue
        ])
        .map_err(backend)?;
    }
    Ok(())
}

/// The facts of `[from, to)` in time order, preceded by each agent's last state fact and last
/// hold fact before `from` (the state the agent was in when the period began, and whether
/// its caller was on hold).
pub fn between(
    store: &mut Store,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<AgentActivity>, StoreError> {
    let (f, t) = (from.timestamp_millis(), to.timestamp_millis());
    let rows = match store {
        Store::Sqlite(s) => between_sqlite(s.connection(), f, t)?,
        Store::Postgres { pg } => pg.activity_between(f, t)?,
    };
    let mut out = Vec::with_capacity(rows.len());
    for (agent, at_ms, kind, detail, call, queue) in rows {
        let Some(at) = DateTime::from_timestamp_millis(at_ms) else {
            continue;
        };
        out.push(AgentActivity {
            agent,
            at,
            kind: ActivityKind::from_code(&kind, detail),
            call,
            queue,
        });
    }
    Ok(out)
}

/// One stored fact: agent, unix ms, kind code, detail, call, queue.
type Row = (
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn between_sqlite(conn: &rusqlite::Connection, f: i64, t: i64) -> Result<Vec<Row>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT agent, at_ms, kind, detail, call, queue FROM agent_activity \
             WHERE id IN (SELECT (SELECT b.id FROM agent_activity b \
                                  WHERE b.agent = a.agent AND b.at_ms < ?1 \
                                  AND b.kind NOT IN ('hold_on', 'hold_off', 'web_item') \
                                  ORDER BY b.at_ms DESC, b.id DESC LIMIT 1) \
                          FROM (SELECT DISTINCT agent FROM agent_activity) a) \
                OR id IN (SELECT (SELECT b.id FROM agent_activity b \
                                  WHERE b.agent = a.agent AND b.at_ms < ?1 \
                                  AND b.kind IN ('hold_on', 'hold_off') \
                                  ORDER BY b.at_ms DESC, b.id DESC LIMIT 1) \
                          FROM (SELECT DISTINCT agent FROM agent_activity) a) \
                OR (at_ms >= ?1 AND at_ms < ?2) \
             ORDER BY at_ms, id",
        )
        .map_err(backend)?;
    let rows = stmt
        .query_map(params![f, t], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

/// Per agent: tickets created (`created`, or a call's draft `completed`) and closed by that
/// agent in `[from, to)`, from the event logs of the tickets registered since
/// `period_tickets::LOOKBACK_DAYS` before `from`. Users `agent-1001` and `1001` both count for
/// agent `1001`. Closed: every event of the agent's that closes a ticket (`docs/KPI.md`):
/// answered directly (W3), refused (W1, a silent call's draft too), an emergency link's
/// result (C12), linked as a repeat (W6), a callback the citizen declined (W13).
pub fn ticket_tally(
    store: &mut crate::shell::store::Store,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<TicketTally>, StoreError> {
    // Ticket ids begin with their registration day (`YYYYMMDD-…`), the event log's key with
    // the ticket id: only tickets registered since the lookback are scanned, by key range.
    let lowest_id = (from - chrono::Duration::days(crate::shell::period_tickets::LOOKBACK_DAYS))
        .with_timezone(&crate::workflow::model::china())
        .format("%Y%m%d")
        .to_string();
    let rows = store.agent_tally(from.timestamp(), to.timestamp(), &lowest_id)?;
    let rows = rows.into_iter().map(|(user, created, closed)| {
        let user = user.unwrap_or_default();
        TicketTally {
            // User `agent-1001` is agent `1001` (as the agent routes read a token).
            agent: user.strip_prefix("agent-").unwrap_or(&user).to_string(),
            created: created.max(0) as u64,
            closed: closed.max(0) as u64,
        }
    });
    let mut merged: std::collections::BTreeMap<String, TicketTally> = Default::default();
    for t in rows {
        let m = merged
            .entry(t.agent.clone())
            .or_insert_with(|| TicketTally {
                agent: t.agent.clone(),
                ..TicketTally::default()
            });
        m.created += t.created;
        m.closed += t.closed;
    }
    Ok(merged.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::ticket_store::{Durability, SqliteStore};
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, h, m, 0)
            .single()
            .unwrap()
    }

    #[test]
    fn tickets_closed_counts_every_closing_action_of_the_agent() {
        use crate::workflow::action::Action;
        use crate::workflow::model::{china, Actor, CallDraft, Intake, Role};
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::open(&dir.path().join("t.sqlite"), Durability::Full).unwrap();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let wf = crate::shell::workflow_files::load_workflow(
            &root.join("config/calendar"),
            &root.join("config/dispatch.toml"),
            crate::workflow::policy::Policy::default(),
        )
        .unwrap();
        let when = |h: u32, m: u32| at(h, m).with_timezone(&china());
        let agent = |u: &str| Actor::new(u, Role::Agent);
        let intake = |content: &str, urgency: &str, h: u32| -> Intake {
            serde_json::from_value(serde_json::json!({"channel":"phone",
                "received_at": when(h, 0), "content": content, "urgency": urgency,
                "type":"help", "domain":"social_management"}))
            .unwrap()
        };
        let act = |s: &mut SqliteStore, id, who: &Actor, a: serde_json::Value, h, m| {
            let a: Action = serde_json::from_value(a).unwrap();
            wf.act(s, id, None, who, &a, when(h, m)).unwrap();
        };
        let close = serde_json::json!({"action":"direct_close","method":"special_seat",
            "answer":"已答复"});
        // 1001: registers T1 and answers it directly (W3).
        let t1 = wf
            .create(
                &mut s,
                intake("路灯不亮", "non_urgent", 1),
                &agent("agent-1001"),
                when(1, 0),
            )
            .unwrap()
            .id;
        act(&mut s, &t1, &agent("agent-1001"), close.clone(), 1, 5);
        // 1002 refuses a silent call's draft (W1): closed, not created.
        let draft = CallDraft {
            number: None,
            call_id: "call-9".into(),
            received_at: when(2, 0),
            caller_phone: None,
            queue: Some("general".into()),
            menu_path: Vec::new(),
        };
        let d = wf
            .open_draft(&mut s, &draft, &Actor::system(), when(2, 0))
            .unwrap()
            .id;
        act(
            &mut s,
            &d,
            &agent("1002"),
            serde_json::json!({"action":"refuse","reason":"no_request","explanation":"无声电话"}),
            2,
            1,
        );
        // 1001: an urgent request linked to 110, whose result closes it (C12).
        let t2 = wf
            .create(
                &mut s,
                intake("有人落水", "urgent", 3),
                &agent("agent-1001"),
                when(3, 0),
            )
            .unwrap()
            .id;
        act(
            &mut s,
            &t2,
            &agent("agent-1001"),
            serde_json::json!({"action":"link_emergency","service":"110"}),
            3,
            1,
        );
        act(
            &mut s,
            &t2,
            &agent("agent-1001"),
            serde_json::json!({"action":"record_linked_result","result":"已出警"}),
            3,
            30,
        );
        // 1002: the same facts again, linked as a repeat of T2 (W6).
        let t3 = wf
            .create(
                &mut s,
                intake("小区噪音扰民", "non_urgent", 4),
                &agent("agent-1002"),
                when(4, 0),
            )
            .unwrap()
            .id;
        act(
            &mut s,
            &t3,
            &agent("agent-1002"),
            serde_json::json!({"action":"link_repeat","earlier": t2}),
            4,
            2,
        );
        // A supervisor's direct answer is no agent's; an agent's after the period is not in it.
        let t4 = wf
            .create(
                &mut s,
                intake("噪音", "non_urgent", 5),
                &agent("agent-1001"),
                when(5, 0),
            )
            .unwrap()
            .id;
        act(
            &mut s,
            &t4,
            &Actor::new("supervisor", Role::Supervisor),
            close.clone(),
            5,
            1,
        );
        let t5 = wf
            .create(
                &mut s,
                intake("停水", "non_urgent", 6),
                &agent("agent-1001"),
                when(6, 0),
            )
            .unwrap()
            .id;
        act(&mut s, &t5, &agent("agent-1001"), close, 9, 0);
        let mut s = crate::shell::store::Store::from(s);
        let got = ticket_tally(&mut s, at(0, 0), at(8, 0)).unwrap();
        let t = |agent: &str, created, closed| TicketTally {
            agent: agent.into(),
            created,
            closed,
        };
        // 1001: created T1, T2, T4, T5; closed T1 and T2. 1002: created T3; closed the draft
        // and T3.
        assert_eq!(got, vec![t("1001", 4, 2), t("1002", 1, 2)]);
    }
}
