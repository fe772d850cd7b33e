//! The knowledge base's SQLite store and its full-text index (`kb::Search`), in
//! `<data_dir>/kb.sqlite` beside the tickets' file: WAL, `synchronous=FULL`, migrations from
//! `migrations/kb/` tracked by `PRAGMA user_version`. Every change is one transaction: the
//! events appended, new versions kept, the indexes rewritten. Makes no decision: the
//! `kb` core decides, this stores and searches.
//!
//! Search: `kb_served` holds each item's served version; the in-memory tantivy index
//! (`shell::kb_index`) is rebuilt from it at open and updated after every commit.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rusqlite::{params, Connection, OptionalExtension};

use crate::kb::{
    Hit, Item, ItemContent, ItemId, KbEvent, Search, SearchError, SearchQuery, Synonyms,
};
use crate::shell::kb_index::KbIndex;

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

/// The SQLite knowledge store.
pub struct KbStore {
    conn: Connection,
    index: KbIndex,
}

impl std::fmt::Debug for KbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KbStore").finish()
    }
}

fn corrupt(e: impl std::fmt::Display) -> KbStoreError {
    KbStoreError::Corrupt(e.to_string())
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
            conn,
            index: KbIndex::new(synonyms)?,
        };
        store.rebuild_index()?;
        Ok(store)
    }

    /// Indexes every served version again (the index is kept in memory).
    fn rebuild_index(&mut self) -> Result<(), KbStoreError> {
        let mut st = self
            .conn
            .prepare("SELECT item, version, content FROM kb_served")?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)? as ItemId,
                    r.get::<_, u32>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?
            .map(|r| {
                let (id, v, json) = r?;
                let c: ItemContent = serde_json::from_str(&json).map_err(corrupt)?;
                Ok((id, v, c))
            })
            .collect::<Result<Vec<_>, KbStoreError>>()?;
        self.index
            .apply(rows.iter().map(|(id, v, c)| (*id, Some((*v, c)))))?;
        Ok(())
    }

    /// Whether no item was ever stored (the demo set is loaded then).
    pub fn is_empty(&self) -> Result<bool, KbStoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM kb_items", [], |r| r.get(0))?;
        Ok(n == 0)
    }

    /// An item rebuilt from its events.
    pub fn get(&self, id: ItemId) -> Result<Option<Item>, KbStoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT event FROM kb_events WHERE item = ?1 ORDER BY seq")?;
        let events = st
            .query_map([id as i64], |r| r.get::<_, String>(0))?
            .map(|r| {
                r.map_err(KbStoreError::from)
                    .and_then(|s| serde_json::from_str::<KbEvent>(&s).map_err(corrupt))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Item::replay(id, events))
    }

    /// One version's content (what a ticket cites).
    pub fn version(&self, id: ItemId, version: u32) -> Result<Option<ItemContent>, KbStoreError> {
        self.conn
            .query_row(
                "SELECT content FROM kb_versions WHERE item = ?1 AND version = ?2",
                params![id as i64, version],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .map(|s| serde_json::from_str(&s).map_err(corrupt))
            .transpose()
    }

    /// Stores a new item's events; returns the item with its new id.
    pub fn create(&mut self, events: Vec<KbEvent>) -> Result<Item, KbStoreError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO kb_items (unit, category, area, title, state, version, updated_at)
             VALUES ('', '', '', '', 'draft', 0, '')",
            [],
        )?;
        let id = tx.last_insert_rowid() as ItemId;
        let empty = Item {
            id,
            versions: Vec::new(),
            served: None,
            state: crate::kb::ItemState::Draft,
            reminded_for: None,
            history: Vec::new(),
        };
        let mut item = empty;
        let mut first = true;
        for e in events {
            if first {
                first = false;
                item = Item::replay(id, [e.clone()])
                    .ok_or_else(|| corrupt("the first event of an item must be `created`"))?;
                item.history.clear();
                item.history.push(e.clone());
                Self::write_event(&tx, &item, &e, 0)?;
            } else {
                let seq = item.history.len();
                item.apply(e.clone());
                Self::write_event(&tx, &item, &e, seq)?;
            }
        }
        Self::reindex(&tx, &item)?;
        tx.commit()?;
        self.index.apply([(item.id, item.served_content())])?;
        Ok(item)
    }

    /// Appends events to a stored item (already decided legal on `item`); `item` is updated.
    pub fn append(&mut self, item: &mut Item, events: Vec<KbEvent>) -> Result<(), KbStoreError> {
        let tx = self.conn.transaction()?;
        let mut next = item.clone();
        for e in events {
            let seq = next.history.len();
            next.apply(e.clone());
            Self::write_event(&tx, &next, &e, seq)?;
        }
        Self::reindex(&tx, &next)?;
        tx.commit()?;
        self.index.apply([(next.id, next.served_content())])?;
        *item = next;
        Ok(())
    }

    fn write_event(
        tx: &rusqlite::Transaction<'_>,
        item: &Item,
        e: &KbEvent,
        seq: usize,
    ) -> Result<(), KbStoreError> {
        let json = serde_json::to_string(e).map_err(corrupt)?;
        let kind = serde_json::to_value(&e.kind)
            .ok()
            .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_string))
            .unwrap_or_default();
        tx.execute(
            "INSERT INTO kb_events (item, seq, at, by, kind, event) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![item.id as i64, seq as i64, e.at.to_rfc3339(), e.by, kind, json],
        )?;
        use crate::kb::KbEventKind as K;
        if let K::Created { content } | K::Edited { content, .. } = &e.kind {
            tx.execute(
                "INSERT INTO kb_versions (item, version, content, written_at, written_by)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    item.id as i64,
                    item.version(),
                    serde_json::to_string(content).map_err(corrupt)?,
                    e.at.to_rfc3339(),
                    e.by
                ],
            )?;
        }
        Ok(())
    }

    /// Rewrites the item's index rows and its full-text entry from its state.
    fn reindex(tx: &rusqlite::Transaction<'_>, item: &Item) -> Result<(), KbStoreError> {
        let latest = item
            .latest()
            .ok_or_else(|| corrupt("an item without a version"))?;
        let updated = item
            .history
            .last()
            .map(|e| e.at.to_rfc3339())
            .unwrap_or_default();
        tx.execute(
            "UPDATE kb_items SET unit = ?2, category = ?3, area = ?4, title = ?5, state = ?6,
             version = ?7, served = ?8, updated_at = ?9 WHERE id = ?1",
            params![
                item.id as i64,
                latest.unit.0,
                latest.category,
                latest.area,
                latest.title,
                item.state.name(),
                item.version(),
                item.served_content().map(|(v, _)| v),
                updated
            ],
        )?;
        put_served(tx, item.id, item.served_content())
    }

    /// The item list, newest change first, filtered by state and unit.
    pub fn list(
        &self,
        state: Option<&str>,
        unit: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ItemSummary>, KbStoreError> {
        let mut st = self.conn.prepare_cached(
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
    pub fn count_by_state(&self) -> Result<Vec<(String, u64)>, KbStoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT state, count(*) FROM kb_items GROUP BY state")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Served items with an expiry date up to `until`: what the sweep looks at.
    pub fn expiring(&self, until: NaiveDate) -> Result<Vec<Item>, KbStoreError> {
        let ids: Vec<i64> = {
            let mut st = self.conn.prepare_cached(
                "SELECT item FROM kb_served WHERE expires IS NOT NULL AND expires <= ?1",
            )?;
            let rows = st.query_map([until.to_string()], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(it) = self.get(id as ItemId)? {
                out.push(it);
            }
        }
        Ok(out)
    }

    /// Every item's latest version (for export), optionally of one unit.
    pub fn latest_versions(&self, unit: Option<&str>) -> Result<Vec<ItemContent>, KbStoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT v.content FROM kb_items i JOIN kb_versions v ON v.item = i.id AND v.version = i.version
             WHERE ?1 IS NULL OR i.unit = ?1 ORDER BY i.id",
        )?;
        let rows = st.query_map(params![unit], |r| r.get::<_, String>(0))?;
        rows.map(|r| {
            r.map_err(KbStoreError::from)
                .and_then(|s| serde_json::from_str(&s).map_err(corrupt))
        })
        .collect()
    }

    /// Stores many new items in one transaction (an import, the demo set).
    pub fn create_many(&mut self, items: Vec<Vec<KbEvent>>) -> Result<Vec<ItemId>, KbStoreError> {
        let tx = self.conn.transaction()?;
        let mut ids = Vec::with_capacity(items.len());
        let mut done = Vec::with_capacity(items.len());
        for events in items {
            tx.execute(
                "INSERT INTO kb_items (unit, category, area, title, state, version, updated_at)
                 VALUES ('', '', '', '', 'draft', 0, '')",
                [],
            )?;
            let id = tx.last_insert_rowid() as ItemId;
            let mut item: Option<Item> = None;
            for (seq, e) in events.into_iter().enumerate() {
                match item.as_mut() {
                    None => item = Item::replay(id, [e.clone()]),
                    Some(it) => it.apply(e.clone()),
                }
                let it = item
                    .as_ref()
                    .ok_or_else(|| corrupt("the first event of an item must be `created`"))?;
                Self::write_event(&tx, it, &e, seq)?;
            }
            let it = item.ok_or_else(|| corrupt("an item without events"))?;
            Self::reindex(&tx, &it)?;
            ids.push(id);
            done.push(it);
        }
        tx.commit()?;
        self.index
            .apply(done.iter().map(|it| (it.id, it.served_content())))?;
        Ok(ids)
    }

    /// Indexes a served version directly, without an item history: the bench's 100,000
    /// items. Not used by the engine.
    pub fn bulk_index(
        &mut self,
        items: impl IntoIterator<Item = (ItemId, u32, ItemContent)>,
    ) -> Result<(), KbStoreError> {
        let items: Vec<_> = items.into_iter().collect();
        let tx = self.conn.transaction()?;
        for (id, v, c) in &items {
            put_served(&tx, *id, Some((*v, c)))?;
        }
        tx.commit()?;
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
        let tx = self.conn.transaction()?;
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
    pub fn citation_totals(&self) -> Result<(u64, u64), KbStoreError> {
        Ok(self.conn.query_row(
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
        let tx = self.conn.transaction()?;
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
        let (staff, public) = (i64::from(!public), i64::from(public));
        let tx = self.conn.transaction()?;
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
    pub fn gap_count(&self) -> Result<u64, KbStoreError> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM kb_gaps", [], |r| r.get::<_, i64>(0))?
            as u64)
    }

    /// The gaps asked most often, then most recently.
    pub fn gaps(&self, limit: usize) -> Result<Vec<Gap>, KbStoreError> {
        let mut st = self.conn.prepare_cached(
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
    pub fn most_used(&self, limit: usize) -> Result<Vec<UsedItem>, KbStoreError> {
        let mut st = self.conn.prepare_cached(
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

fn put_served(
    conn: &Connection,
    id: ItemId,
    served: Option<(u32, &ItemContent)>,
) -> Result<(), KbStoreError> {
    conn.execute("DELETE FROM kb_served WHERE item = ?1", [id as i64])?;
    let Some((v, c)) = served else {
        return Ok(());
    };
    conn.execute(
        "INSERT INTO kb_served (item, version, unit, category, area, effective, expires, public,
         content) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            id as i64,
            v,
            c.unit.0,
            c.category,
            c.area,
            c.effective.to_string(),
            c.expires.map(|d| d.to_string()),
            c.public,
            serde_json::to_string(c).map_err(corrupt)?
        ],
    )?;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kb::lifecycle::{decide, Command};
    use crate::workflow::model::{china, Actor, Role};
    use chrono::TimeZone;

    #[test]
    fn a_reopened_store_has_every_version_the_history_and_a_rebuilt_index() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kb.sqlite");
        let cat = crate::workflow::catalogue::DispatchCatalogue::from_toml_str(include_str!(
            "../../config/dispatch.toml"
        ))
        .unwrap();
        let line = include_str!("../../config/kb-demo.jsonl")
            .lines()
            .next()
            .unwrap();
        let c: ItemContent = serde_json::from_str(line).unwrap();
        let ed = Actor::new("ed", Role::KbEditor);
        let at = china().with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
        let id = {
            let mut s = KbStore::open(&path, Synonyms::default()).unwrap();
            let ev = decide(None, &ed, Command::Write(Box::new(c.clone())), at, &cat).unwrap();
            let mut it = s.create(ev).unwrap();
            for cmd in [
                Command::Submit,
                Command::Approve,
                Command::Write(Box::new(c.clone())),
            ] {
                let ev = decide(Some(&it), &ed, cmd, at, &cat).unwrap();
                s.append(&mut it, ev).unwrap();
            }
            it.id
        };
        let s = KbStore::open(&path, Synonyms::default()).unwrap();
        let it = s.get(id).unwrap().unwrap();
        assert_eq!((it.version(), it.served, it.history.len()), (2, Some(1), 4));
        assert_eq!(s.version(id, 1).unwrap(), Some(c));
        let hits = s
            .search(&SearchQuery {
                text: "停水通知".into(),
                area: None,
                category: None,
                unit: None,
                public_only: false,
                include_not_in_force: false,
                today: at.date_naive(),
                limit: 5,
            })
            .unwrap();
        assert_eq!(hits.first().map(|h| (h.id, h.version)), Some((id, 1)));
    }

    #[test]
    fn gaps_citations_and_listings_survive_a_reopen_and_gaps_stop_at_their_limit() {
        use crate::kb::usage::CiteKind;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kb.sqlite");
        {
            let mut s = KbStore::open(&path, Synonyms::default()).unwrap();
            let at = "2026-03-02T09:00:00+08:00";
            assert_eq!(
                s.record_gap("电动车 上牌", false, at, 2).unwrap(),
                GapKept::Counted { new: true }
            );
            assert_eq!(
                s.record_gap("电动车 上牌", true, "2026-03-02T10:00:00+08:00", 2)
                    .unwrap(),
                GapKept::Counted { new: false }
            );
            s.record_gap("宠物 狂犬疫苗", true, at, 2).unwrap();
            assert_eq!(s.record_gap("第三个", true, at, 2).unwrap(), GapKept::Full);
            // A known gap is still counted when the store is full.
            s.record_gap("宠物 狂犬疫苗", true, at, 2).unwrap();
            let cite = [(7, 1, CiteKind::Answer), (8, 2, CiteKind::Reply)];
            assert_eq!(s.record_citations("20260302-000001", &cite, at).unwrap(), 2);
            // The same action retried counts once.
            assert_eq!(s.record_citations("20260302-000001", &cite, at).unwrap(), 0);
            s.record_citations("20260302-000002", &[(7, 1, CiteKind::Answer)], at)
                .unwrap();
            s.add_shown(&[(7, 3), (8, 1)]).unwrap();
            s.add_shown(&[(8, 1)]).unwrap();
        }
        let s = KbStore::open(&path, Synonyms::default()).unwrap();
        let gaps = s.gaps(10).unwrap();
        let got: Vec<_> = gaps
            .iter()
            .map(|g| (g.query.as_str(), g.staff, g.public))
            .collect();
        // As often asked: the one asked last first.
        assert_eq!(got, [("电动车 上牌", 1, 1), ("宠物 狂犬疫苗", 0, 2)]);
        assert_eq!(gaps[0].last_at, "2026-03-02T10:00:00+08:00");
        assert_eq!(gaps[0].first_at, "2026-03-02T09:00:00+08:00");
        assert_eq!(s.gap_count().unwrap(), 2);
        assert_eq!(s.citation_totals().unwrap(), (2, 1));
        // Items 7 and 8 do not exist in this store: most_used lists stored items only.
        assert!(s.most_used(10).unwrap().is_empty());
    }
}
