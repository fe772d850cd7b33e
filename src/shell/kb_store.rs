//! The knowledge base's store and its full-text index (`kb::Search`), on one of two backends
//! (issue 19): `<data_dir>/kb.sqlite` beside the tickets' file (WAL, `synchronous=FULL`,
//! migrations from `migrations/kb/` tracked by `PRAGMA user_version`), or the PostgreSQL
//! database of `[storage] url` (`store::pg_kb`, migrations with the tickets'). Every change is
//! one transaction: the events appended, new versions kept, the indexes rewritten. Makes no
//! decision: the `kb` core decides, this stores and searches.
//!
//! Search: `kb_served` holds each item's served version; the in-memory tantivy index
//! (`shell::kb_index`) is rebuilt from it at open and updated after every commit. On
//! PostgreSQL another engine may change items too: [`KbStore::sync`], called before each
//! search, reads one counter (`kb_meta.generation`) and, only when it moved, re-indexes the
//! items changed since. Why per search and not at failover: both engines answer the API
//! (the standby's pages and the portal search too), and a search already costs more than
//! one indexed single-row read, so every search is as fresh as the last commit.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rusqlite::{params, Connection, OptionalExtension};

use crate::kb::{
    Hit, Item, ItemContent, ItemId, KbEvent, Search, SearchError, SearchQuery, Synonyms,
};
use crate::shell::kb_index::KbIndex;
use crate::shell::kb_rows::{
    build, extend, item_row, new_item, put_served, reindex, served_row, write_event,
};
use crate::shell::store::{PgStore, StoreAt};
use crate::workflow::store::StoreError;

const MIGRATIONS: &[&str] = &[
    include_str!("migrations/kb/0001_kb.sql"),
    include_str!("migrations/kb/0002_usage.sql"),
];

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum KbStoreError {
    #[error("knowledge store {path}: {message}")]
    Open { path: PathBuf, message: String },
    #[error("knowledge store: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("knowledge store: a stored record does not parse: {0}")]
    Corrupt(String),
    #[error("knowledge store: {0}")]
    Index(#[from] SearchError),
    #[error("knowledge store: {0}")]
    Postgres(#[from] StoreError),
}

impl From<KbStoreError> for SearchError {
    fn from(e: KbStoreError) -> Self {
        SearchError(e.to_string())
    }
}

/// One row of the item list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ItemSummary {
    pub id: ItemId,
    pub title: String,
    pub unit: String,
    pub category: String,
    pub area: String,
    pub state: String,
    /// The latest version.
    pub version: u32,
    /// The version served while in force, if any.
    pub served: Option<u32>,
    pub updated_at: String,
}

/// An item as the knowledge page lists it among the most used.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct UsedItem {
    pub id: ItemId,
    pub title: String,
    pub unit: String,
    pub state: String,
    /// The version served now, if any.
    pub served: Option<u32>,
    /// Tickets whose W3 direct answer cites it.
    pub answers: u64,
    /// Tickets whose unit's W11 reply cites it.
    pub replies: u64,
    /// Times a search listed it.
    pub shown: u64,
}

/// A search that found nothing: a gap to write.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Gap {
    /// The words, as kept (numbers masked).
    pub query: String,
    /// How often staff and citizens asked it.
    pub staff: u64,
    pub public: u64,
    pub first_at: String,
    pub last_at: String,
}

/// Whether a gap was kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GapKept {
    /// Counted on a gap already kept, or kept as a new one.
    Counted { new: bool },
    /// A new gap, not kept: the store holds its limit of distinct gaps.
    Full,
}

/// The knowledge store: its database and the search index built from it.
pub struct KbStore {
    db: Db,
    index: KbIndex,
}

/// Which database holds the items.
enum Db {
    Sqlite(Connection),
    /// `seen`: the generation the index is up to date with.
    Postgres {
        pg: Box<PgStore>,
        seen: i64,
    },
}

impl std::fmt::Debug for KbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KbStore").finish()
    }
}

fn corrupt(e: impl std::fmt::Display) -> KbStoreError {
    KbStoreError::Corrupt(e.to_string())
}

fn parse<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, KbStoreError> {
    serde_json::from_str(json).map_err(corrupt)
}

/// A failure inside a PostgreSQL transaction (the transaction's error type).
fn in_tx(e: KbStoreError) -> StoreError {
    match e {
        KbStoreError::Postgres(e) => e,
        other => StoreError::Backend(other.to_string()),
    }
}

impl KbStore {
    /// Opens (creating if needed) the file, sets WAL and full durability, migrates.
    pub fn open(path: &Path, synonyms: Synonyms) -> Result<Self, KbStoreError> {
        let open_err = |message: String| KbStoreError::Open {
            path: path.to_path_buf(),
            message,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::shell::private_fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        }
        crate::shell::private_fs::options()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|_| crate::shell::private_fs::restrict(path))
            .map_err(|e| open_err(e.to_string()))?;
        let mut conn = Connection::open(path).map_err(|e| open_err(e.to_string()))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let have: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if have > MIGRATIONS.len() {
            return Err(open_err(format!(
                "schema version {have} is newer than this engine knows ({})",
                MIGRATIONS.len()
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(have) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i + 1)?;
            tx.commit()?;
        }
        let mut store = Self {
            db: Db::Sqlite(conn),
            index: KbIndex::new(synonyms)?,
        };
        store.rebuild_index()?;
        Ok(store)
    }

    /// Opens the knowledge tables of the PostgreSQL database at `url` (migrating it).
    pub fn open_postgres(url: &str, synonyms: Synonyms) -> Result<Self, KbStoreError> {
        let mut pg = Box::new(PgStore::open(url)?);
        let seen = pg.kb_generation()?;
        let mut store = Self {
            db: Db::Postgres { pg, seen },
            index: KbIndex::new(synonyms)?,
        };
        store.rebuild_index()?;
        Ok(store)
    }

    /// Opens the store where the tickets are: PostgreSQL when `at` names it, else
    /// `<data_dir>/kb.sqlite`.
    pub fn open_at(at: &StoreAt, synonyms: Synonyms) -> Result<Self, KbStoreError> {
        match &at.postgres {
            Some(url) => Self::open_postgres(url, synonyms),
            None => Self::open(&at.data_dir.join("kb.sqlite"), synonyms),
        }
    }

    /// Indexes every served version again (the index is kept in memory).
    fn rebuild_index(&mut self) -> Result<(), KbStoreError> {
        let rows: Vec<(ItemId, u32, String)> = match &mut self.db {
            Db::Postgres { pg, .. } => pg.kb_served_all()?,
            Db::Sqlite(conn) => {
                let mut st = conn.prepare("SELECT item, version, content FROM kb_served")?;
                let rows = st.query_map([], |r| {
                    Ok((r.get::<_, i64>(0)? as ItemId, r.get(1)?, r.get(2)?))
                })?;
                rows.collect::<Result<_, _>>()?
            }
        };
        let rows = rows
            .into_iter()
            .map(|(id, v, json)| Ok((id, v, parse::<ItemContent>(&json)?)))
            .collect::<Result<Vec<_>, KbStoreError>>()?;
        self.index
            .apply(rows.iter().map(|(id, v, c)| (*id, Some((*v, c)))))?;
        Ok(())
    }

    /// Brings the search index up to date with changes another engine committed (PostgreSQL;
    /// nothing to do on SQLite, where this engine is the only writer).
    pub fn sync(&mut self) -> Result<(), KbStoreError> {
        let Db::Postgres { pg, seen } = &mut self.db else {
            return Ok(());
        };
        let now = pg.kb_generation()?;
        if now == *seen {
            return Ok(());
        }
        let changed = pg
            .kb_changed_since(*seen)?
            .into_iter()
            .map(|(id, served)| {
                Ok((
                    id,
                    served
                        .map(|(v, json)| Ok::<_, KbStoreError>((v, parse::<ItemContent>(&json)?)))
                        .transpose()?,
                ))
            })
            .collect::<Result<Vec<_>, KbStoreError>>()?;
        self.index.apply(
            changed
                .iter()
                .map(|(id, served)| (*id, served.as_ref().map(|(v, c)| (*v, c)))),
        )?;
        tracing::debug!(
            items = changed.len(),
            generation = now,
            "knowledge index caught up"
        );
        *seen = now;
        Ok(())
    }

    /// After this engine's own change at `generation`: the index needs no catching up when
    /// nothing else changed since it was last up to date.
    fn own_change(&mut self, generation: i64) {
        if let Db::Postgres { seen, .. } = &mut self.db {
            if generation == *seen + 1 {
                *seen = generation;
            }
        }
    }

    /// Whether no item was ever stored (the demo set is loaded then).
    pub fn is_empty(&mut self) -> Result<bool, KbStoreError> {
        let n: i64 = match &mut self.db {
            Db::Sqlite(conn) => {
                conn.query_row("SELECT count(*) FROM kb_items", [], |r| r.get(0))?
            }
            Db::Postgres { pg, .. } => pg.kb_item_count()?,
        };
        Ok(n == 0)
    }

    /// An item rebuilt from its events.
    pub fn get(&mut self, id: ItemId) -> Result<Option<Item>, KbStoreError> {
        let events: Vec<String> = match &mut self.db {
            Db::Postgres { pg, .. } => pg.kb_events(id)?,
            Db::Sqlite(conn) => {
                let mut st = conn
                    .prepare_cached("SELECT event FROM kb_events WHERE item = ?1 ORDER BY seq")?;
                let rows = st.query_map([id as i64], |r| r.get::<_, String>(0))?;
                rows.collect::<Result<_, _>>()?
            }
        };
        let events = events
            .iter()
            .map(|s| parse::<KbEvent>(s))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Item::replay(id, events))
    }

    /// One version's content (what a ticket cites).
    pub fn version(
        &mut self,
        id: ItemId,
        version: u32,
    ) -> Result<Option<ItemContent>, KbStoreError> {
        let json = match &mut self.db {
            Db::Postgres { pg, .. } => pg.kb_version(id, version)?,
            Db::Sqlite(conn) => conn
                .query_row(
                    "SELECT content FROM kb_versions WHERE item = ?1 AND version = ?2",
                    params![id as i64, version],
                    |r| r.get::<_, String>(0),
                )
                .optional()?,
        };
        json.map(|s| parse(&s)).transpose()
    }

    /// Stores a new item's events; returns the item with its new id.
    pub fn create(&mut self, events: Vec<KbEvent>) -> Result<Item, KbStoreError> {
        let item = match &mut self.db {
            Db::Sqlite(conn) => {
                let tx = conn.transaction()?;
                let id = new_item(&tx)?;
                let (item, rows) = build(id, events)?;
                for r in &rows {
                    write_event(&tx, id, r)?;
                }
                reindex(&tx, id, &item_row(&item)?)?;
                tx.commit()?;
                item
            }
            Db::Postgres { pg, .. } => {
                let (item, generation) = pg.write(|pg| {
                    let generation = pg.kb_bump()?;
                    let id = pg.kb_new_item(generation)?;
                    let (item, rows) = build(id, events).map_err(in_tx)?;
                    for r in &rows {
                        pg.kb_write_event(id, r)?;
                    }
                    pg.kb_reindex(id, &item_row(&item).map_err(in_tx)?, generation)?;
                    Ok((item, generation))
                })?;
                self.own_change(generation);
                item
            }
        };
        self.index.apply([(item.id, item.served_content())])?;
        Ok(item)
    }

    /// Appends events to a stored item (already decided legal on `item`); `item` is updated.
    pub fn append(&mut self, item: &mut Item, events: Vec<KbEvent>) -> Result<(), KbStoreError> {
        let (next, rows) = extend(item, events)?;
        let row = item_row(&next)?;
        match &mut self.db {
            Db::Sqlite(conn) => {
                let tx = conn.transaction()?;
                for r in &rows {
                    write_event(&tx, next.id, r)?;
                }
                reindex(&tx, next.id, &row)?;
                tx.commit()?;
            }
            Db::Postgres { pg, .. } => {
                let generation = pg.write(|pg| {
                    let generation = pg.kb_bump()?;
                    for r in &rows {
                        pg.kb_write_event(next.id, r)?;
                    }
                    pg.kb_reindex(next.id, &row, generation)?;
                    Ok(generation)
                })?;
                self.own_change(generation);
            }
        }
        self.index.apply([(next.id, next.served_content())])?;
        *item = next;
        Ok(())
    }

    /// The item list, newest change first, filtered by state and unit.
    pub fn list(
        &mut self,
        state: Option<&str>,
        unit: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ItemSummary>, KbStoreError> {
        let conn = match &mut self.db {
            Db::Postgres { pg, .. } => return Ok(pg.kb_list(state, unit, limit)?),
            Db::Sqlite(conn) => conn,
        };
        let mut st = conn.prepare_cached(
            "SELECT id, title, unit, category, area, state, version, served, updated_at
             FROM kb_items WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR unit = ?2)
             ORDER BY updated_at DESC, id DESC LIMIT ?3",
        )?;
        let rows = st.query_map(params![state, unit, limit as i64], |r| {
            Ok(ItemSummary {
                id: r.get::<_, i64>(0)? as ItemId,
                title: r.get(1)?,
                unit: r.get(2)?,
                category: r.get(3)?,
                area: r.get(4)?,
                state: r.get(5)?,
                version: r.get(6)?,
                served: r.get(7)?,
                updated_at: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Items by state, for `/metrics`.
    pub fn count_by_state(&mut self) -> Result<Vec<(String, u64)>, KbStoreError> {
        let conn = match &mut self.db {
            Db::Postgres { pg, .. } => return Ok(pg.kb_count_by_state()?),
            Db::Sqlite(conn) => conn,
        };
        let mut st = conn.prepare_cached("SELECT state, count(*) FROM kb_items GROUP BY state")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Served items with an expiry date up to `until`: what the sweep looks at.
    pub fn expiring(&mut self, until: NaiveDate) -> Result<Vec<Item>, KbStoreError> {
        let ids: Vec<ItemId> = match &mut self.db {
            Db::Postgres { pg, .. } => pg.kb_expiring(&until.to_string())?,
            Db::Sqlite(conn) => {
                let mut st = conn.prepare_cached(
                    "SELECT item FROM kb_served WHERE expires IS NOT NULL AND expires <= ?1",
                )?;
                let rows =
                    st.query_map([until.to_string()], |r| Ok(r.get::<_, i64>(0)? as ItemId))?;
                rows.collect::<Result<_, _>>()?
            }
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(it) = self.get(id)? {
                out.push(it);
            }
        }
        Ok(out)
    }

    /// Every item's latest version (for export), optionally of one unit.
    pub fn latest_versions(
        &mut self,
        unit: Option<&str>,
    ) -> Result<Vec<ItemContent>, KbStoreError> {
        let rows: Vec<String> = match &mut self.db {
            Db::Postgres { pg, .. } => pg.kb_latest_versions(unit)?,
            Db::Sqlite(conn) => {
                let mut st = conn.prepare_cached(
                    "SELECT v.content FROM kb_items i JOIN kb_versions v ON v.item = i.id AND v.version = i.version
                     WHERE ?1 IS NULL OR i.unit = ?1 ORDER BY i.id",
                )?;
                let rows = st.query_map(params![unit], |r| r.get::<_, String>(0))?;
                rows.collect::<Result<_, _>>()?
            }
        };
        rows.iter().map(|s| parse(s)).collect()
    }

    /// Stores many new items in one transaction (an import, the demo set).
    pub fn create_many(&mut self, items: Vec<Vec<KbEvent>>) -> Result<Vec<ItemId>, KbStoreError> {
        Ok(self.create_items(items, false)?.unwrap_or_default())
    }

    /// As [`Self::create_many`] when the store holds no item yet, checked inside the
    /// transaction (two engines starting on one empty database load the demo set once).
    pub fn create_many_if_empty(
        &mut self,
        items: Vec<Vec<KbEvent>>,
    ) -> Result<Option<Vec<ItemId>>, KbStoreError> {
        self.create_items(items, true)
    }

    fn create_items(
        &mut self,
        items: Vec<Vec<KbEvent>>,
        only_if_empty: bool,
    ) -> Result<Option<Vec<ItemId>>, KbStoreError> {
        let done: Vec<Item> = match &mut self.db {
            Db::Sqlite(conn) => {
                let tx =
                    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let held: i64 = tx.query_row("SELECT count(*) FROM kb_items", [], |r| r.get(0))?;
                if only_if_empty && held > 0 {
                    return Ok(None);
                }
                let mut done = Vec::with_capacity(items.len());
                for events in items {
                    let id = new_item(&tx)?;
                    let (item, rows) = build(id, events)?;
                    for r in &rows {
                        write_event(&tx, id, r)?;
                    }
                    reindex(&tx, id, &item_row(&item)?)?;
                    done.push(item);
                }
                tx.commit()?;
                done
            }
            Db::Postgres { pg, .. } => {
                let out = pg.write(|pg| {
                    let generation = pg.kb_bump()?;
                    if only_if_empty && pg.kb_item_count()? > 0 {
                        return Ok(None);
                    }
                    let mut done = Vec::with_capacity(items.len());
                    for events in items {
                        let id = pg.kb_new_item(generation)?;
                        let (item, rows) = build(id, events).map_err(in_tx)?;
                        for r in &rows {
                            pg.kb_write_event(id, r)?;
                        }
                        pg.kb_reindex(id, &item_row(&item).map_err(in_tx)?, generation)?;
                        done.push(item);
                    }
                    Ok(Some((done, generation)))
                })?;
                let Some((done, generation)) = out else {
                    return Ok(None);
                };
                self.own_change(generation);
                done
            }
        };
        self.index
            .apply(done.iter().map(|it| (it.id, it.served_content())))?;
        Ok(Some(done.iter().map(|it| it.id).collect()))
    }

    /// Indexes a served version directly, without an item history: the bench's 100,000
    /// items. Not used by the engine (on PostgreSQL, other engines do not see these).
    pub fn bulk_index(
        &mut self,
        items: impl IntoIterator<Item = (ItemId, u32, ItemContent)>,
    ) -> Result<(), KbStoreError> {
        let items: Vec<_> = items.into_iter().collect();
        let rows = items
            .iter()
            .map(|(id, v, c)| Ok((*id, served_row(Some((*v, c)))?)))
            .collect::<Result<Vec<_>, KbStoreError>>()?;
        match &mut self.db {
            Db::Sqlite(conn) => {
                let tx = conn.transaction()?;
                for (id, row) in &rows {
                    put_served(&tx, *id, row.as_ref())?;
                }
                tx.commit()?;
            }
            Db::Postgres { pg, .. } => pg.write(|pg| {
                rows.iter()
                    .try_for_each(|(id, row)| pg.kb_put_served(*id, row.as_ref()))
            })?,
        }
        self.index
            .apply(items.iter().map(|(id, v, c)| (*id, Some((*v, c)))))?;
        Ok(())
    }
}

/// Usage: citations, listings, gaps (the knowledge page and `/metrics`).
impl KbStore {
    /// Keeps a ticket's citations (a retried action counts once); returns how many are new.
    pub fn record_citations(
        &mut self,
        ticket: &str,
        cites: &[(ItemId, u32, crate::kb::usage::CiteKind)],
        at: &str,
    ) -> Result<usize, KbStoreError> {
        let conn = match &mut self.db {
            Db::Postgres { pg, .. } => {
                let named: Vec<_> = cites.iter().map(|(i, v, k)| (*i, *v, k.name())).collect();
                return Ok(pg.kb_record_citations(ticket, &named, at)?);
            }
            Db::Sqlite(conn) => conn,
        };
        let tx = conn.transaction()?;
        let mut new = 0;
        for (item, version, kind) in cites {
            new += tx.execute(
                "INSERT OR IGNORE INTO kb_citations (ticket, item, version, kind, at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![ticket, *item as i64, version, kind.name(), at],
            )?;
        }
        tx.commit()?;
        Ok(new)
    }

    /// Citations kept: (W3 answers, W11 replies).
    pub fn citation_totals(&mut self) -> Result<(u64, u64), KbStoreError> {
        let conn = match &mut self.db {
            Db::Postgres { pg, .. } => return Ok(pg.kb_citation_totals()?),
            Db::Sqlite(conn) => conn,
        };
        Ok(conn.query_row(
            "SELECT COALESCE(SUM(kind = 'answer'), 0), COALESCE(SUM(kind = 'reply'), 0)
             FROM kb_citations",
            [],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
        )?)
    }

    /// Adds to the times items were listed by a search.
    pub fn add_shown(&mut self, counts: &[(ItemId, u64)]) -> Result<(), KbStoreError> {
        if counts.is_empty() {
            return Ok(());
        }
        let conn = match &mut self.db {
            Db::Postgres { pg, .. } => return Ok(pg.kb_add_shown(counts)?),
            Db::Sqlite(conn) => conn,
        };
        let tx = conn.transaction()?;
        for (item, n) in counts {
            tx.execute(
                "INSERT INTO kb_shown (item, count) VALUES (?1, ?2)
                 ON CONFLICT(item) DO UPDATE SET count = count + excluded.count",
                params![*item as i64, *n as i64],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Counts a search that found nothing; a new gap is kept only while fewer than `keep`
    /// distinct ones are.
    pub fn record_gap(
        &mut self,
        query: &str,
        public: bool,
        at: &str,
        keep: usize,
    ) -> Result<GapKept, KbStoreError> {
        let conn = match &mut self.db {
            Db::Postgres { pg, .. } => {
                return Ok(match pg.kb_record_gap(query, public, at, keep)? {
                    Some(new) => GapKept::Counted { new },
                    None => GapKept::Full,
                })
            }
            Db::Sqlite(conn) => conn,
        };
        let (staff, public) = (i64::from(!public), i64::from(public));
        let tx = conn.transaction()?;
        let counted = tx.execute(
            "UPDATE kb_gaps SET staff = staff + ?2, public = public + ?3, last_at = ?4
             WHERE query = ?1",
            params![query, staff, public, at],
        )?;
        let out = if counted > 0 {
            GapKept::Counted { new: false }
        } else {
            let held: i64 = tx.query_row("SELECT count(*) FROM kb_gaps", [], |r| r.get(0))?;
            if held as usize >= keep {
                GapKept::Full
            } else {
                tx.execute(
                    "INSERT INTO kb_gaps (query, staff, public, first_at, last_at)
                     VALUES (?1, ?2, ?3, ?4, ?4)",
                    params![query, staff, public, at],
                )?;
                GapKept::Counted { new: true }
            }
        };
        tx.commit()?;
        Ok(out)
    }

    /// Distinct gaps kept.
    pub fn gap_count(&mut self) -> Result<u64, KbStoreError> {
        let conn = match &mut self.db {
            Db::Postgres { pg, .. } => return Ok(pg.kb_gap_count()?),
            Db::Sqlite(conn) => conn,
        };
        Ok(conn.query_row("SELECT count(*) FROM kb_gaps", [], |r| r.get::<_, i64>(0))? as u64)
    }

    /// The gaps asked most often, then most recently.
    pub fn gaps(&mut self, limit: usize) -> Result<Vec<Gap>, KbStoreError> {
        let conn = match &mut self.db {
            Db::Postgres { pg, .. } => return Ok(pg.kb_gaps(limit)?),
            Db::Sqlite(conn) => conn,
        };
        let mut st = conn.prepare_cached(
            "SELECT query, staff, public, first_at, last_at FROM kb_gaps
             ORDER BY staff + public DESC, last_at DESC LIMIT ?1",
        )?;
        let rows = st.query_map([limit as i64], |r| {
            Ok(Gap {
                query: r.get(0)?,
                staff: r.get::<_, i64>(1)? as u64,
                public: r.get::<_, i64>(2)? as u64,
                first_at: r.get(3)?,
                last_at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The items cited most (then listed most by searches).
    pub fn most_used(&mut self, limit: usize) -> Result<Vec<UsedItem>, KbStoreError> {
        let conn = match &mut self.db {
            Db::Postgres { pg, .. } => return Ok(pg.kb_most_used(limit)?),
            Db::Sqlite(conn) => conn,
        };
        let mut st = conn.prepare_cached(
            "SELECT i.id, i.title, i.unit, i.state, i.served,
                    COALESCE(c.answers, 0), COALESCE(c.replies, 0), COALESCE(s.count, 0)
             FROM kb_items i
             LEFT JOIN (SELECT item, SUM(kind = 'answer') AS answers, SUM(kind = 'reply') AS replies
                        FROM kb_citations GROUP BY item) c ON c.item = i.id
             LEFT JOIN kb_shown s ON s.item = i.id
             WHERE c.item IS NOT NULL OR s.item IS NOT NULL
             ORDER BY COALESCE(c.answers, 0) + COALESCE(c.replies, 0) DESC,
                      COALESCE(s.count, 0) DESC, i.id
             LIMIT ?1",
        )?;
        let rows = st.query_map([limit as i64], |r| {
            Ok(UsedItem {
                id: r.get::<_, i64>(0)? as ItemId,
                title: r.get(1)?,
                unit: r.get(2)?,
                state: r.get(3)?,
                served: r.get(4)?,
                answers: r.get::<_, i64>(5)? as u64,
                replies: r.get::<_, i64>(6)? as u64,
                shown: r.get::<_, i64>(7)? as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// The store searches through its index; `put` and `remove` touch the index only (the
/// store's own writes keep it in step).
impl Search for KbStore {
    fn put(&mut self, id: ItemId, version: u32, content: &ItemContent) -> Result<(), SearchError> {
        self.index.put(id, version, content)
    }

    fn remove(&mut self, id: ItemId) -> Result<(), SearchError> {
        self.index.remove(id)
    }

    fn search(&self, q: &SearchQuery) -> Result<Vec<Hit>, SearchError> {
        self.index.search(q)
    }
}
