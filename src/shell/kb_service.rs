//! The knowledge base as the API and the engine use it: the store (SQLite, or PostgreSQL
//! beside the tickets) behind a mutex, run on tokio's blocking pool; the catalogue and working-day calendar of the ticket workflow
//! (so a `SIGHUP` reload of `dispatch.toml` applies here too); counters for `/metrics`; the
//! sweep task; the demo set on first start. Decides nothing: the `kb` core does.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, FixedOffset};

use crate::kb::lifecycle::{decide, sweep, Command};
use crate::kb::transfer::{self, ImportError};
use crate::kb::usage::{self, CiteKind};
use crate::kb::{Hit, Item, ItemContent, ItemId, KbError, KbEvent, Search, SearchQuery, Synonyms};
use crate::shell::kb_store::{Gap, GapKept, ItemSummary, KbStore, KbStoreError, UsedItem};
use crate::shell::ticket_worker::TicketWorker;
use crate::workflow::model::{china, Actor, Role};

/// Why a knowledge-base request failed.
#[derive(Debug, thiserror::Error)]
pub enum KbServiceError {
    #[error(transparent)]
    Refused(#[from] KbError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Store(#[from] KbStoreError),
    #[error("the knowledge store task failed")]
    Gone,
}

/// What `/metrics` shows of the knowledge base.
#[derive(Debug, Default)]
pub struct KbMetrics {
    /// Staff searches.
    pub staff_searches: AtomicU64,
    /// Public (citizens') searches.
    pub public_searches: AtomicU64,
    /// Searches that found nothing (gaps to write), staff and public.
    pub empty_searches: AtomicU64,
    /// Public searches refused by the throttle.
    pub public_refused: AtomicU64,
    /// Reminders sent ahead of expiry, and items withdrawn by the sweep.
    pub reminders: AtomicU64,
    pub expired: AtomicU64,
    /// Items by state, refreshed after every change.
    pub by_state: Mutex<Vec<(String, u64)>>,
    /// Citations kept: W3 direct answers, W11 replies (one per ticket, item and version).
    pub cited_answers: AtomicU64,
    pub cited_replies: AtomicU64,
    /// The most cited items (id, citations), refreshed after every citation.
    pub top_items: Mutex<Vec<(ItemId, u64)>>,
    /// Distinct searches that found nothing, kept for the knowledge page.
    pub gaps_kept: AtomicU64,
    /// New gaps not kept because `[kb] gaps_kept` distinct ones already are.
    pub gaps_not_kept: AtomicU64,
    /// Served items expiring within the reminder window, as of the last sweep.
    pub near_expiry: AtomicU64,
}

impl KbMetrics {
    /// Items by state, every state named (0 when none).
    pub fn states(&self) -> Vec<(&'static str, u64)> {
        let have = self.by_state.lock().unwrap_or_else(|e| e.into_inner());
        crate::kb::ItemState::NAMES
            .iter()
            .map(|n| (*n, have.iter().find(|(s, _)| s == n).map_or(0, |(_, c)| *c)))
            .collect()
    }
}

/// The knowledge base service (cheap to clone).
#[derive(Clone)]
pub struct KbService {
    store: Arc<Mutex<KbStore>>,
    worker: TicketWorker,
    remind_working_days: u32,
    /// Most hits a search returns.
    pub max_results: usize,
    /// Most distinct gaps kept.
    gaps_limit: usize,
    /// Times items were listed by searches, not yet written to the store.
    shown: Arc<Mutex<HashMap<ItemId, u64>>>,
    pub metrics: Arc<KbMetrics>,
}

/// Listings are written to the store once this many are pending (or at the next sweep, or
/// when the knowledge page asks): a search does not wait for a disk write.
const SHOWN_FLUSH_AT: u64 = 500;

/// What the supervisors' knowledge page shows (`GET /api/kb/stats`).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct KbStats {
    /// Most cited items (then most listed by searches).
    pub most_used: Vec<UsedItem>,
    /// Searches that found nothing, asked most first.
    pub gaps: Vec<Gap>,
    /// Distinct gaps kept, and new ones not kept since the engine started (the store was at
    /// `[kb] gaps_kept`).
    pub gaps_kept: u64,
    pub gaps_not_kept: u64,
    /// Served items expiring within `remind_working_days` working days, soonest first.
    pub near_expiry: Vec<ExpiringItem>,
    pub remind_working_days: u32,
    /// Withdrawn items, latest first, with why.
    pub withdrawn: Vec<WithdrawnItem>,
    /// Items waiting for the editor's review.
    pub in_review: u64,
    /// Citations kept: W3 direct answers, W11 replies.
    pub cited_answers: u64,
    pub cited_replies: u64,
}

/// A served item near its expiry date.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ExpiringItem {
    pub id: ItemId,
    pub title: String,
    pub unit: String,
    #[serde(flatten)]
    pub expiring: usage::Expiring,
}

/// A withdrawn item and why.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct WithdrawnItem {
    pub id: ItemId,
    pub title: String,
    pub unit: String,
    /// When and by whom (`sweep` for an expiry).
    pub at: String,
    pub by: String,
    pub reason: crate::kb::model::WithdrawReason,
}

impl std::fmt::Debug for KbService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KbService").finish()
    }
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Jsonl,
    Csv,
}

impl KbService {
    /// Opens `<data_dir>/kb.sqlite`, or the PostgreSQL database the tickets are in
    /// (rebuilding the search index from it).
    pub fn open(
        data_dir: &Path,
        config: &crate::config::KbConfig,
        worker: TicketWorker,
    ) -> Result<Self, KbServiceError> {
        let synonyms = Synonyms::new(config.synonyms.clone());
        let store = match worker.store_at().postgres {
            Some(url) => KbStore::open_postgres(&url, synonyms)?,
            None => KbStore::open(&data_dir.join("kb.sqlite"), synonyms)?,
        };
        let svc = Self {
            store: Arc::new(Mutex::new(store)),
            worker,
            remind_working_days: config.remind_working_days,
            max_results: config.max_results,
            gaps_limit: config.gaps_kept,
            shown: Arc::new(Mutex::new(HashMap::new())),
            metrics: Arc::new(KbMetrics::default()),
        };
        svc.with_store(|s| {
            svc.refresh_states(s)?;
            svc.refresh_usage(s)
        })?;
        Ok(svc)
    }

    fn with_store<R>(&self, f: impl FnOnce(&mut KbStore) -> R) -> R {
        let mut g = self.store.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut g)
    }

    /// Runs `f` on the store off the async threads.
    async fn blocking<R: Send + 'static>(
        &self,
        f: impl FnOnce(&KbService, &mut KbStore) -> Result<R, KbServiceError> + Send + 'static,
    ) -> Result<R, KbServiceError> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut g = me.store.lock().unwrap_or_else(|e| e.into_inner());
            f(&me, &mut g)
        })
        .await
        .map_err(|_| KbServiceError::Gone)?
    }

    fn refresh_states(&self, s: &mut KbStore) -> Result<(), KbServiceError> {
        let counts = s.count_by_state()?;
        *self
            .metrics
            .by_state
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = counts;
        Ok(())
    }

    fn refresh_usage(&self, s: &mut KbStore) -> Result<(), KbServiceError> {
        let m = &self.metrics;
        let (answers, replies) = s.citation_totals()?;
        m.cited_answers.store(answers, Ordering::Relaxed);
        m.cited_replies.store(replies, Ordering::Relaxed);
        m.gaps_kept.store(s.gap_count()?, Ordering::Relaxed);
        let top = s
            .most_used(10)?
            .into_iter()
            .map(|u| (u.id, u.answers + u.replies))
            .filter(|(_, n)| *n > 0)
            .collect();
        *m.top_items.lock().unwrap_or_else(|e| e.into_inner()) = top;
        Ok(())
    }

    /// Writes the pending listing counts to the store.
    fn flush_shown(&self, s: &mut KbStore) -> Result<(), KbServiceError> {
        let pending: Vec<(ItemId, u64)> = self
            .shown
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .collect();
        if let Err(e) = s.add_shown(&pending) {
            // Put them back for the next try.
            let mut g = self.shown.lock().unwrap_or_else(|e| e.into_inner());
            for (id, n) in pending {
                *g.entry(id).or_default() += n;
            }
            return Err(e.into());
        }
        Ok(())
    }

    /// Keeps the items a ticket's committed action cites (W3 answer or W11 reply), for the
    /// knowledge page's most used items.
    pub async fn record_citations(
        &self,
        ticket: String,
        cites: Vec<(ItemId, u32, CiteKind)>,
        at: DateTime<FixedOffset>,
    ) -> Result<(), KbServiceError> {
        if cites.is_empty() {
            return Ok(());
        }
        self.blocking(move |me, s| {
            s.record_citations(&ticket, &cites, &at.to_rfc3339())?;
            me.refresh_usage(s)
        })
        .await
    }

    /// The knowledge page's figures; `limit` rows per list.
    pub async fn stats(
        &self,
        at: DateTime<FixedOffset>,
        limit: usize,
    ) -> Result<KbStats, KbServiceError> {
        self.blocking(move |me, s| {
            me.flush_shown(s)?;
            let wf = me.worker.workflow();
            let today = at.with_timezone(&china()).date_naive();
            let horizon = today + chrono::Days::new(u64::from(me.remind_working_days) * 3 + 14);
            let items = s.expiring(horizon)?;
            let near = usage::near_expiry(&items, at, &wf.calendar, me.remind_working_days);
            me.metrics
                .near_expiry
                .store(near.len() as u64, Ordering::Relaxed);
            let near_expiry = near
                .into_iter()
                .take(limit)
                .filter_map(|e| {
                    let it = items.iter().find(|it| it.id == e.id)?;
                    let (_, c) = it.served_content()?;
                    Some(ExpiringItem {
                        id: e.id,
                        title: c.title.clone(),
                        unit: c.unit.0.clone(),
                        expiring: e,
                    })
                })
                .collect();
            let mut withdrawn = Vec::new();
            for row in s.list(Some("withdrawn"), None, limit)? {
                let Some(it) = s.get(row.id)? else { continue };
                let Some(e) = it.history.iter().rev().find_map(|e| match &e.kind {
                    crate::kb::KbEventKind::Withdrawn { reason } => Some((e, reason.clone())),
                    _ => None,
                }) else {
                    continue;
                };
                withdrawn.push(WithdrawnItem {
                    id: row.id,
                    title: row.title,
                    unit: row.unit,
                    at: e.0.at.to_rfc3339(),
                    by: e.0.by.clone(),
                    reason: e.1,
                });
            }
            let in_review = s
                .count_by_state()?
                .into_iter()
                .find(|(st, _)| st == "in_review")
                .map_or(0, |(_, n)| n);
            let (cited_answers, cited_replies) = s.citation_totals()?;
            Ok(KbStats {
                most_used: s.most_used(limit)?,
                gaps: s.gaps(limit)?,
                gaps_kept: s.gap_count()?,
                gaps_not_kept: me.metrics.gaps_not_kept.load(Ordering::Relaxed),
                near_expiry,
                remind_working_days: me.remind_working_days,
                withdrawn,
                in_review,
                cited_answers,
                cited_replies,
            })
        })
        .await
    }

    /// Loads a JSON-lines file of items, approved, when the store has none yet.
    pub fn load_demo_if_empty(
        &self,
        path: &Path,
        at: DateTime<FixedOffset>,
    ) -> Result<usize, KbServiceError> {
        self.with_store(|s| {
            if !s.is_empty()? {
                return Ok(0);
            }
            let text = std::fs::read_to_string(path).map_err(|e| {
                KbServiceError::Import(ImportError {
                    line: 0,
                    code: "unreadable",
                    message: format!("{}: {e}", path.display()),
                })
            })?;
            let wf = self.worker.workflow();
            let items = transfer::parse_jsonl(&text, &wf.catalogue)?;
            let editor = Actor::new("demo-set", Role::KbEditor);
            let n = items.len();
            let events = items
                .into_iter()
                .map(|c| imported(c, &editor, true, at, &wf.catalogue))
                .collect::<Result<Vec<_>, _>>()?;
            // Checked again inside the transaction: another engine may be loading it too.
            if s.create_many_if_empty(events)?.is_none() {
                return Ok(0);
            }
            self.refresh_states(s)?;
            Ok(n)
        })
    }

    /// Decides and stores a command; `id` `None` writes a new item.
    pub async fn act(
        &self,
        actor: Actor,
        id: Option<ItemId>,
        cmd: Command,
        at: DateTime<FixedOffset>,
    ) -> Result<Item, KbServiceError> {
        self.blocking(move |me, s| {
            let wf = me.worker.workflow();
            let item = match id {
                Some(id) => Some(
                    s.get(id)?
                        .filter(|it| visible(&actor, it))
                        .ok_or(KbError::NotFound(id))?,
                ),
                None => None,
            };
            let events = decide(item.as_ref(), &actor, cmd, at, &wf.catalogue)?;
            let out = match item {
                Some(mut it) => {
                    s.append(&mut it, events)?;
                    it
                }
                None => s.create(events)?,
            };
            me.refresh_states(s)?;
            Ok(out)
        })
        .await
    }

    /// One item with its versions and history, as `actor` may see it.
    pub async fn get(&self, actor: Actor, id: ItemId) -> Result<Item, KbServiceError> {
        self.blocking(move |_, s| {
            Ok(s.get(id)?
                .filter(|it| visible(&actor, it))
                .ok_or(KbError::NotFound(id))?)
        })
        .await
    }

    /// One version of an item (what a ticket cites); any staff member may read a version
    /// that was ever served, a unit its own.
    pub async fn version(
        &self,
        actor: Actor,
        id: ItemId,
        version: u32,
    ) -> Result<ItemContent, KbServiceError> {
        self.blocking(move |_, s| {
            let it = s
                .get(id)?
                .filter(|it| visible(&actor, it))
                .ok_or(KbError::NotFound(id))?;
            Ok(it
                .get(version)
                .cloned()
                .ok_or(KbError::NoSuchVersion { item: id, version })?)
        })
        .await
    }

    /// The served version of an item right now, if it is served (a citation must name it).
    pub async fn served(
        &self,
        id: ItemId,
        at: DateTime<FixedOffset>,
    ) -> Result<Option<(u32, ItemContent)>, KbServiceError> {
        self.blocking(move |_, s| {
            let today = at.with_timezone(&china()).date_naive();
            Ok(s.get(id)?.and_then(|it| {
                it.served_content()
                    .filter(|(_, c)| c.in_force(today))
                    .map(|(v, c)| (v, c.clone()))
            }))
        })
        .await
    }

    /// The item list; a unit sees its own items.
    pub async fn list(
        &self,
        actor: Actor,
        state: Option<String>,
        unit: Option<String>,
        limit: usize,
    ) -> Result<Vec<ItemSummary>, KbServiceError> {
        let unit = match &actor.role {
            Role::Unit(u) => Some(u.0.clone()),
            _ => unit,
        };
        self.blocking(move |_, s| Ok(s.list(state.as_deref(), unit.as_deref(), limit)?))
            .await
    }

    /// A search; `public` counts it as a citizen's. With `record` (a search someone asked
    /// for, not one a page makes as the agent types), the items listed are counted, and words
    /// that found nothing are kept as a gap (numbers masked) while fewer than `[kb] gaps_kept`
    /// distinct ones are.
    pub async fn search(
        &self,
        query: SearchQuery,
        public: bool,
        record: bool,
        at: DateTime<FixedOffset>,
    ) -> Result<Vec<Hit>, KbServiceError> {
        let hits = self
            .blocking(move |me, s| {
                // Another engine's changes; without the database the index still answers.
                if let Err(e) = s.sync() {
                    tracing::warn!(error = %e, "knowledge index not caught up");
                }
                let hits = s
                    .search(&query)
                    .map_err(|e| KbServiceError::Store(KbStoreError::Index(e)))?;
                if hits.is_empty() && record {
                    if let Some(gap) = usage::gap_text(&query.text) {
                        let kept = s.record_gap(&gap, public, &at.to_rfc3339(), me.gaps_limit)?;
                        match kept {
                            GapKept::Counted { new: true } => {
                                me.metrics.gaps_kept.fetch_add(1, Ordering::Relaxed);
                            }
                            GapKept::Counted { new: false } => {}
                            GapKept::Full => {
                                me.metrics.gaps_not_kept.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                } else if record {
                    let pending = {
                        let mut g = me.shown.lock().unwrap_or_else(|e| e.into_inner());
                        for h in &hits {
                            *g.entry(h.id).or_default() += 1;
                        }
                        g.values().sum::<u64>()
                    };
                    if pending >= SHOWN_FLUSH_AT {
                        me.flush_shown(s)?;
                    }
                }
                Ok(hits)
            })
            .await?;
        let m = &self.metrics;
        if public {
            m.public_searches.fetch_add(1, Ordering::Relaxed);
        } else {
            m.staff_searches.fetch_add(1, Ordering::Relaxed);
        }
        if hits.is_empty() {
            m.empty_searches.fetch_add(1, Ordering::Relaxed);
        }
        Ok(hits)
    }

    /// Imports a whole file or nothing. A unit's items must be its own and arrive as drafts;
    /// the editor's arrive approved when `approve` is set, in review otherwise.
    pub async fn import(
        &self,
        actor: Actor,
        format: Format,
        text: String,
        approve: bool,
        at: DateTime<FixedOffset>,
    ) -> Result<Vec<ItemId>, KbServiceError> {
        if approve && !matches!(actor.role, Role::KbEditor | Role::Supervisor) {
            return Err(
                KbError::Forbidden("only the knowledge editor imports approved items").into(),
            );
        }
        self.blocking(move |me, s| {
            let wf = me.worker.workflow();
            let items = match format {
                Format::Jsonl => transfer::parse_jsonl(&text, &wf.catalogue)?,
                Format::Csv => transfer::parse_csv(&text, &wf.catalogue)?,
            };
            let header = usize::from(format == Format::Csv);
            let events = items
                .into_iter()
                .enumerate()
                .map(|(i, c)| {
                    imported(c, &actor, approve, at, &wf.catalogue).map_err(|e| {
                        KbServiceError::Import(ImportError {
                            line: i + 1 + header,
                            code: e.code(),
                            message: e.to_string(),
                        })
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let ids = s.create_many(events)?;
            me.refresh_states(s)?;
            Ok(ids)
        })
        .await
    }

    /// Every item's latest version, a unit's own only.
    pub async fn export(&self, actor: Actor, format: Format) -> Result<String, KbServiceError> {
        let unit = match &actor.role {
            Role::Unit(u) => Some(u.0.clone()),
            _ => None,
        };
        self.blocking(move |_, s| {
            let items = s.latest_versions(unit.as_deref())?;
            Ok(match format {
                Format::Jsonl => transfer::to_jsonl(&items),
                Format::Csv => transfer::to_csv(&items),
            })
        })
        .await
    }

    /// Withdraws what expired and reminds ahead of expiry; returns the events stored.
    pub async fn sweep(&self, at: DateTime<FixedOffset>) -> Result<usize, KbServiceError> {
        self.blocking(move |me, s| {
            let wf = me.worker.workflow();
            let today = at.with_timezone(&china()).date_naive();
            // N working days are at most about 3N calendar days, even across Spring Festival.
            let horizon = today + chrono::Days::new(u64::from(me.remind_working_days) * 3 + 14);
            let items = s.expiring(horizon)?;
            let near = usage::near_expiry(&items, at, &wf.calendar, me.remind_working_days);
            me.metrics
                .near_expiry
                .store(near.len() as u64, Ordering::Relaxed);
            if let Err(e) = me.flush_shown(s) {
                tracing::warn!(error = %e, "knowledge listings not written; kept for the next sweep");
            }
            let events = sweep(&items, at, &wf.calendar, me.remind_working_days);
            let n = events.len();
            for (id, e) in events {
                let Some(mut it) = items.iter().find(|it| it.id == id).cloned() else {
                    continue;
                };
                match &e.kind {
                    crate::kb::KbEventKind::Withdrawn { .. } => {
                        me.metrics.expired.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(item = id, "knowledge item expired and withdrawn");
                    }
                    crate::kb::KbEventKind::ExpiryReminded { expires, .. } => {
                        me.metrics.reminders.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(item = id, unit = %it.unit().map(|u| u.0.as_str()).unwrap_or(""), %expires, "knowledge item expires soon: owning unit reminded");
                    }
                    _ => {}
                }
                s.append(&mut it, vec![e])?;
            }
            if n > 0 {
                me.refresh_states(s)?;
            }
            Ok(n)
        })
        .await
    }
}

/// The events of an imported item: created (and submitted; and approved when asked).
fn imported(
    c: ItemContent,
    actor: &Actor,
    approve: bool,
    at: DateTime<FixedOffset>,
    catalogue: &crate::workflow::catalogue::DispatchCatalogue,
) -> Result<Vec<KbEvent>, KbError> {
    let mut events = decide(None, actor, Command::Write(Box::new(c)), at, catalogue)?;
    if approve {
        let mut item = Item::replay(0, events.clone()).ok_or(KbError::NotFound(0))?;
        for cmd in [Command::Submit, Command::Approve] {
            for e in decide(Some(&item), actor, cmd, at, catalogue)? {
                item.apply(e.clone());
                events.push(e);
            }
        }
    }
    Ok(events)
}

/// A unit sees its own items and any item that is served; hotline staff see all.
fn visible(actor: &Actor, item: &Item) -> bool {
    match &actor.role {
        Role::Unit(u) => item.unit() == Some(u) || item.served_content().is_some(),
        Role::Wallboard | Role::Channel | Role::Citizen => false,
        _ => true,
    }
}

/// Sweeps every `every` until the returned handle is aborted, when `on_duty` says so (the
/// standby of two engines leaves it to the active one).
pub fn spawn_sweeper(
    svc: KbService,
    every: std::time::Duration,
    now: impl Fn() -> DateTime<FixedOffset> + Send + 'static,
    on_duty: impl Fn() -> bool + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if !on_duty() {
                continue;
            }
            match svc.sweep(now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(events = n, "knowledge sweep"),
                Err(e) => tracing::warn!(error = %e, "knowledge sweep failed"),
            }
        }
    })
}
