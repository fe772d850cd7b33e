//! The knowledge base's SQLite store and its full-text index (`kb::Search`), in
//! `<data_dir>/kb.sqlite` beside the tickets' file: WAL, `synchronous=FULL`, migrations from
//! `migrations/kb/` tracked by `PRAGMA user_version`. Every change is one transaction: the
//! events appended, new versions kept, the indexes rewritten. Makes no decision: the
//! `kb` core decides, this stores and searches.
//!
//! Search: SQLite FTS5 over text segmented into words by jieba (`jieba-rs`): the store cuts
//! title, question forms and answer in jieba's search mode (long words and the words inside
//! them), joins the words with spaces, and FTS5's `unicode61` tokenizer indexes them. A query
//! is cut the same way, stop words dropped, each word widened by its synonym group, and the
//! words ORed; FTS5 ranks by BM25 (title 4×, question forms 3×, answer 1×). See docs/KB.md
//! for the measured comparison with tantivy that chose it.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use jieba_rs::Jieba;
use rusqlite::{params, Connection, OptionalExtension};

use crate::kb::search::{is_search_word, snippet};
use crate::kb::{
    Hit, Item, ItemContent, ItemId, KbEvent, Search, SearchError, SearchQuery, Synonyms,
};

const MIGRATIONS: &[&str] = &[include_str!("migrations/kb/0001_kb.sql")];

/// Characters of a snippet.
const SNIPPET_CHARS: usize = 80;

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum KbStoreError {
    #[error("knowledge store {path}: {message}")]
    Open { path: PathBuf, message: String },
    #[error("knowledge store: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("knowledge store: a stored record does not parse: {0}")]
    Corrupt(String),
}

impl From<KbStoreError> for SearchError {
    fn from(e: KbStoreError) -> Self {
        SearchError(e.to_string())
    }
}

/// Cuts Chinese text into words for the index and for queries.
pub struct Segmenter {
    jieba: Jieba,
    synonyms: Synonyms,
}

impl std::fmt::Debug for Segmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segmenter")
            .field("synonyms", &self.synonyms)
            .finish()
    }
}

impl Segmenter {
    /// jieba's dictionary plus every synonym as a word of its own.
    pub fn new(synonyms: Synonyms) -> Self {
        let mut jieba = Jieba::new();
        for w in synonyms.words() {
            if !jieba.has_word(w) {
                jieba.add_word(w, None, None);
            }
        }
        Self { jieba, synonyms }
    }

    /// The text as space-separated words (search mode: long words and the words inside).
    pub fn index_text(&self, text: &str) -> String {
        let lower = text.to_lowercase();
        let mut out = String::with_capacity(lower.len() * 2);
        for t in self.jieba.cut_for_search(&lower, false) {
            let w = t.word.trim();
            if w.chars().any(char::is_alphanumeric) {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(w);
            }
        }
        out
    }

    /// The words a query searches for, synonyms included; single characters only when the
    /// query has nothing longer (they match too much to rank by).
    pub fn query_words(&self, text: &str) -> Vec<String> {
        let lower = text.to_lowercase();
        let cut: Vec<String> = self
            .jieba
            .cut_for_search(&lower, false)
            .into_iter()
            .map(|t| t.word.trim().to_string())
            .filter(|w| is_search_word(w))
            .collect();
        let long = cut.iter().any(|w| w.chars().count() > 1);
        let mut out: Vec<String> = Vec::new();
        for w in cut.iter().filter(|w| !long || w.chars().count() > 1) {
            for s in self.synonyms.expand(w) {
                if !out.contains(&s) {
                    out.push(s);
                }
            }
        }
        out
    }
}

/// An FTS5 query ORing the words, each a quoted phrase.
fn match_expr(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" OR ")
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

/// The SQLite knowledge store.
pub struct KbStore {
    conn: Connection,
    seg: Segmenter,
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
        Ok(Self {
            conn,
            seg: Segmenter::new(synonyms),
        })
    }

    /// The segmenter (for the bench and tests).
    pub fn segmenter(&self) -> &Segmenter {
        &self.seg
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
        Self::reindex(&tx, &self.seg, &item)?;
        tx.commit()?;
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
        Self::reindex(&tx, &self.seg, &next)?;
        tx.commit()?;
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
    fn reindex(
        tx: &rusqlite::Transaction<'_>,
        seg: &Segmenter,
        item: &Item,
    ) -> Result<(), KbStoreError> {
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
        put_served(tx, seg, item.id, item.served_content())
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
            Self::reindex(&tx, &self.seg, &it)?;
            ids.push(id);
        }
        tx.commit()?;
        Ok(ids)
    }

    /// Indexes a served version directly, without an item history: the bench's 100,000
    /// items. Not used by the engine.
    pub fn bulk_index(
        &mut self,
        items: impl IntoIterator<Item = (ItemId, u32, ItemContent)>,
    ) -> Result<(), KbStoreError> {
        let tx = self.conn.transaction()?;
        for (id, v, c) in items {
            put_served(&tx, &self.seg, id, Some((v, &c)))?;
        }
        tx.commit()?;
        Ok(())
    }
}

fn put_served(
    conn: &Connection,
    seg: &Segmenter,
    id: ItemId,
    served: Option<(u32, &ItemContent)>,
) -> Result<(), KbStoreError> {
    conn.execute("DELETE FROM kb_served WHERE item = ?1", [id as i64])?;
    conn.execute("DELETE FROM kb_fts WHERE rowid = ?1", [id as i64])?;
    let Some((v, c)) = served else {
        return Ok(());
    };
    let questions = c.questions.join("\n");
    conn.execute(
        "INSERT INTO kb_served (item, version, unit, category, area, effective, expires, public,
         title, questions, answer, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            id as i64,
            v,
            c.unit.0,
            c.category,
            c.area,
            c.effective.to_string(),
            c.expires.map(|d| d.to_string()),
            c.public,
            c.title,
            questions,
            c.answer,
            c.source.as_ref().map(|s| s.name.clone()).unwrap_or_default()
        ],
    )?;
    conn.execute(
        "INSERT INTO kb_fts (rowid, title, questions, answer) VALUES (?1, ?2, ?3, ?4)",
        params![
            id as i64,
            seg.index_text(&c.title),
            seg.index_text(&questions),
            seg.index_text(&c.answer)
        ],
    )?;
    Ok(())
}

/// Items of the whole city (全市) match every area filter.
pub const CITY_WIDE: &str = "全市";

impl Search for KbStore {
    fn put(&mut self, id: ItemId, version: u32, content: &ItemContent) -> Result<(), SearchError> {
        Ok(put_served(
            &self.conn,
            &self.seg,
            id,
            Some((version, content)),
        )?)
    }

    fn remove(&mut self, id: ItemId) -> Result<(), SearchError> {
        Ok(put_served(&self.conn, &self.seg, id, None)?)
    }

    fn search(&self, q: &SearchQuery) -> Result<Vec<Hit>, SearchError> {
        let words = self.seg.query_words(&q.text);
        if words.is_empty() || q.limit == 0 {
            return Ok(Vec::new());
        }
        let today = q.today.to_string();
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT s.item, s.version, s.title, s.unit, s.category, s.area, s.questions,
                        s.answer, s.source, bm25(kb_fts, 4.0, 3.0, 1.0) AS rank
                 FROM kb_fts JOIN kb_served s ON s.item = kb_fts.rowid
                 WHERE kb_fts MATCH ?1
                   AND (?2 IS NULL OR s.area = ?2 OR s.area = ?3)
                   AND (?4 IS NULL OR s.category = ?4)
                   AND (?5 IS NULL OR s.unit = ?5)
                   AND (?6 = 0 OR s.public = 1)
                   AND (?7 = 1 OR (s.effective <= ?8 AND (s.expires IS NULL OR s.expires > ?8)))
                 ORDER BY rank LIMIT ?9",
            )
            .map_err(KbStoreError::from)?;
        let rows = st
            .query_map(
                params![
                    match_expr(&words),
                    q.area,
                    CITY_WIDE,
                    q.category,
                    q.unit,
                    q.public_only,
                    q.include_not_in_force,
                    today,
                    q.limit as i64
                ],
                |r| {
                    let questions: String = r.get(6)?;
                    let answer: String = r.get(7)?;
                    let text = if words.iter().any(|w| answer.contains(w.as_str())) {
                        answer
                    } else {
                        questions
                            .lines()
                            .find(|l| words.iter().any(|w| l.contains(w.as_str())))
                            .map(str::to_string)
                            .unwrap_or(answer)
                    };
                    Ok(Hit {
                        id: r.get::<_, i64>(0)? as ItemId,
                        version: r.get(1)?,
                        title: r.get(2)?,
                        unit: r.get(3)?,
                        category: r.get(4)?,
                        area: r.get(5)?,
                        snippet: snippet(&text, &words, SNIPPET_CHARS),
                        source: r.get(8)?,
                        // FTS5's bm25() is lower-is-better; the API's score is higher-is-better.
                        score: -r.get::<_, f64>(9)?,
                    })
                },
            )
            .map_err(KbStoreError::from)?;
        Ok(rows
            .collect::<Result<Vec<_>, _>>()
            .map_err(KbStoreError::from)?)
    }
}
