//! The knowledge base's rows as both store backends write them (`shell::kb_store` on SQLite,
//! `store::pg_kb` on PostgreSQL): an item's events, its list row and its served version,
//! derived from the `kb` core's `Item` in one place so the two backends store the same; and
//! SQLite's writes of them.

use rusqlite::{params, Connection};

use crate::kb::{Item, ItemContent, ItemId, KbEvent};
use crate::shell::kb_store::KbStoreError;

fn corrupt(e: impl std::fmt::Display) -> KbStoreError {
    KbStoreError::Corrupt(e.to_string())
}

/// One event as both backends store it: with the version it wrote (number, content JSON).
pub(crate) struct EventRow {
    pub seq: i64,
    pub at: String,
    pub by: String,
    pub kind: String,
    pub json: String,
    pub version: Option<(u32, String)>,
}

/// An item's list row, rewritten at every change, and its served version.
pub(crate) struct ItemRow {
    pub unit: String,
    pub category: String,
    pub area: String,
    pub title: String,
    pub state: &'static str,
    pub version: u32,
    pub served: Option<u32>,
    pub updated_at: String,
    pub served_row: Option<ServedRow>,
}

/// The served version's row (what the index is rebuilt from, and the sweep reads).
pub(crate) struct ServedRow {
    pub version: u32,
    pub unit: String,
    pub category: String,
    pub area: String,
    pub effective: String,
    pub expires: Option<String>,
    pub public: bool,
    pub content: String,
}

pub(crate) fn event_row(item: &Item, e: &KbEvent, seq: usize) -> Result<EventRow, KbStoreError> {
    let kind = serde_json::to_value(&e.kind)
        .ok()
        .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_string))
        .unwrap_or_default();
    use crate::kb::KbEventKind as K;
    let version = match &e.kind {
        K::Created { content } | K::Edited { content, .. } => Some((
            item.version(),
            serde_json::to_string(content).map_err(corrupt)?,
        )),
        _ => None,
    };
    Ok(EventRow {
        seq: seq as i64,
        at: e.at.to_rfc3339(),
        by: e.by.clone(),
        kind,
        json: serde_json::to_string(e).map_err(corrupt)?,
        version,
    })
}

pub(crate) fn served_row(
    served: Option<(u32, &ItemContent)>,
) -> Result<Option<ServedRow>, KbStoreError> {
    let Some((v, c)) = served else {
        return Ok(None);
    };
    Ok(Some(ServedRow {
        version: v,
        unit: c.unit.0.clone(),
        category: c.category.clone(),
        area: c.area.clone(),
        effective: c.effective.to_string(),
        expires: c.expires.map(|d| d.to_string()),
        public: c.public,
        content: serde_json::to_string(c).map_err(corrupt)?,
    }))
}

pub(crate) fn item_row(item: &Item) -> Result<ItemRow, KbStoreError> {
    let latest = item
        .latest()
        .ok_or_else(|| corrupt("an item without a version"))?;
    Ok(ItemRow {
        unit: latest.unit.0.clone(),
        category: latest.category.clone(),
        area: latest.area.clone(),
        title: latest.title.clone(),
        state: item.state.name(),
        version: item.version(),
        served: item.served_content().map(|(v, _)| v),
        updated_at: item
            .history
            .last()
            .map(|e| e.at.to_rfc3339())
            .unwrap_or_default(),
        served_row: served_row(item.served_content())?,
    })
}

/// A new item `id` from its events, with the rows to store.
pub(crate) fn build(
    id: ItemId,
    events: Vec<KbEvent>,
) -> Result<(Item, Vec<EventRow>), KbStoreError> {
    let mut item: Option<Item> = None;
    let mut rows = Vec::with_capacity(events.len());
    for (seq, e) in events.into_iter().enumerate() {
        match item.as_mut() {
            None => item = Item::replay(id, [e.clone()]),
            Some(it) => it.apply(e.clone()),
        }
        let it = item
            .as_ref()
            .ok_or_else(|| corrupt("the first event of an item must be `created`"))?;
        rows.push(event_row(it, &e, seq)?);
    }
    let item = item.ok_or_else(|| corrupt("an item without events"))?;
    Ok((item, rows))
}

/// `item` with `events` applied, with the rows to store.
pub(crate) fn extend(
    item: &Item,
    events: Vec<KbEvent>,
) -> Result<(Item, Vec<EventRow>), KbStoreError> {
    let mut next = item.clone();
    let mut rows = Vec::with_capacity(events.len());
    for e in events {
        let seq = next.history.len();
        next.apply(e.clone());
        rows.push(event_row(&next, &e, seq)?);
    }
    Ok((next, rows))
}

/// A new, empty item row (SQLite); its id.
pub(crate) fn new_item(tx: &rusqlite::Transaction<'_>) -> Result<ItemId, KbStoreError> {
    tx.execute(
        "INSERT INTO kb_items (unit, category, area, title, state, version, updated_at)
         VALUES ('', '', '', '', 'draft', 0, '')",
        [],
    )?;
    Ok(tx.last_insert_rowid() as ItemId)
}

pub(crate) fn write_event(
    tx: &rusqlite::Transaction<'_>,
    item: ItemId,
    e: &EventRow,
) -> Result<(), KbStoreError> {
    tx.execute(
        "INSERT INTO kb_events (item, seq, at, by, kind, event) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![item as i64, e.seq, e.at, e.by, e.kind, e.json],
    )?;
    if let Some((version, content)) = &e.version {
        tx.execute(
            "INSERT INTO kb_versions (item, version, content, written_at, written_by)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![item as i64, version, content, e.at, e.by],
        )?;
    }
    Ok(())
}

/// Rewrites the item's index rows and its served row from its state (SQLite).
pub(crate) fn reindex(
    tx: &rusqlite::Transaction<'_>,
    item: ItemId,
    row: &ItemRow,
) -> Result<(), KbStoreError> {
    tx.execute(
        "UPDATE kb_items SET unit = ?2, category = ?3, area = ?4, title = ?5, state = ?6,
         version = ?7, served = ?8, updated_at = ?9 WHERE id = ?1",
        params![
            item as i64,
            row.unit,
            row.category,
            row.area,
            row.title,
            row.state,
            row.version,
            row.served,
            row.updated_at
        ],
    )?;
    put_served(tx, item, row.served_row.as_ref())
}

pub(crate) fn put_served(
    conn: &Connection,
    id: ItemId,
    served: Option<&ServedRow>,
) -> Result<(), KbStoreError> {
    conn.execute("DELETE FROM kb_served WHERE item = ?1", [id as i64])?;
    let Some(s) = served else {
        return Ok(());
    };
    conn.execute(
        "INSERT INTO kb_served (item, version, unit, category, area, effective, expires, public,
         content) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            id as i64,
            s.version,
            s.unit,
            s.category,
            s.area,
            s.effective,
            s.expires,
            s.public,
            s.content
        ],
    )?;
    Ok(())
}
