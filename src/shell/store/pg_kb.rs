//! The knowledge base's tables on PostgreSQL (the SQLite twin is `shell::kb_store`, which
//! owns the search index and calls these): the same rows, so two engines serve the same
//! items. Every change of an item raises `kb_meta.generation` first (the row lock orders the
//! knowledge writers, so generations commit in order) and marks the item `changed` at it;
//! an engine catches its in-memory index up with [`PgStore::kb_changed_since`].

use tokio_postgres::Row;

use super::postgres::{pg_err, PgStore};
use crate::kb::ItemId;
use crate::shell::kb_rows::{EventRow, ItemRow, ServedRow};
use crate::shell::kb_store::{Gap, ItemSummary, UsedItem};
use crate::workflow::store::StoreError;

fn get<'a, T: tokio_postgres::types::FromSql<'a>>(r: &'a Row, i: usize) -> Result<T, StoreError> {
    r.try_get(i).map_err(pg_err)
}

fn id_of(r: &Row, i: usize) -> Result<ItemId, StoreError> {
    Ok(get::<i64>(r, i)?.max(0) as ItemId)
}

fn count(r: &Row, i: usize) -> Result<u64, StoreError> {
    Ok(get::<i64>(r, i)?.max(0) as u64)
}

/// A served version of an item changed since a generation: `None` when nothing is served.
pub(crate) type Change = (ItemId, Option<(u32, String)>);

impl PgStore {
    /// Raises the generation (inside a write: holds the knowledge writers' lock until commit).
    pub(crate) fn kb_bump(&mut self) -> Result<i64, StoreError> {
        get(
            &self.query_one(
                "UPDATE kb_meta SET generation = generation + 1 RETURNING generation",
                &[],
            )?,
            0,
        )
    }

    pub(crate) fn kb_generation(&mut self) -> Result<i64, StoreError> {
        get(&self.query_one("SELECT generation FROM kb_meta", &[])?, 0)
    }

    /// Items changed after generation `seen`, with what they serve now.
    pub(crate) fn kb_changed_since(&mut self, seen: i64) -> Result<Vec<Change>, StoreError> {
        let rows = self.query(
            "SELECT i.id, s.version, s.content FROM kb_items i \
             LEFT JOIN kb_served s ON s.item = i.id WHERE i.changed > $1",
            &[&seen],
        )?;
        rows.iter()
            .map(|r| {
                let served = match get::<Option<i64>>(r, 1)? {
                    Some(v) => Some((v as u32, get(r, 2)?)),
                    None => None,
                };
                Ok((id_of(r, 0)?, served))
            })
            .collect()
    }

    /// Every served version: (item, version, content JSON).
    pub(crate) fn kb_served_all(&mut self) -> Result<Vec<(ItemId, u32, String)>, StoreError> {
        let rows = self.query("SELECT item, version, content FROM kb_served", &[])?;
        rows.iter()
            .map(|r| Ok((id_of(r, 0)?, get::<i64>(r, 1)? as u32, get(r, 2)?)))
            .collect()
    }

    pub(crate) fn kb_item_count(&mut self) -> Result<i64, StoreError> {
        get(&self.query_one("SELECT count(*) FROM kb_items", &[])?, 0)
    }

    /// An item's events (JSON), in order.
    pub(crate) fn kb_events(&mut self, id: ItemId) -> Result<Vec<String>, StoreError> {
        let rows = self.query(
            "SELECT event FROM kb_events WHERE item = $1 ORDER BY seq",
            &[&(id as i64)],
        )?;
        rows.iter().map(|r| get(r, 0)).collect()
    }

    pub(crate) fn kb_version(
        &mut self,
        id: ItemId,
        version: u32,
    ) -> Result<Option<String>, StoreError> {
        self.query_opt(
            "SELECT content FROM kb_versions WHERE item = $1 AND version = $2",
            &[&(id as i64), &i64::from(version)],
        )?
        .map(|r| get(&r, 0))
        .transpose()
    }

    /// A new, empty item row changed at `generation` (inside a write); its id.
    pub(crate) fn kb_new_item(&mut self, generation: i64) -> Result<ItemId, StoreError> {
        let row = self.query_one(
            "INSERT INTO kb_items (unit, category, area, title, state, version, updated_at, \
             changed) VALUES ('', '', '', '', 'draft', 0, '', $1) RETURNING id",
            &[&generation],
        )?;
        id_of(&row, 0)
    }

    pub(crate) fn kb_write_event(&mut self, item: ItemId, e: &EventRow) -> Result<(), StoreError> {
        let id = item as i64;
        self.execute(
            "INSERT INTO kb_events (item, seq, at, by, kind, event) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&id, &e.seq, &e.at, &e.by, &e.kind, &e.json],
        )?;
        if let Some((version, content)) = &e.version {
            self.execute(
                "INSERT INTO kb_versions (item, version, content, written_at, written_by) \
                 VALUES ($1, $2, $3, $4, $5)",
                &[&id, &i64::from(*version), content, &e.at, &e.by],
            )?;
        }
        Ok(())
    }

    /// Rewrites an item's index row (changed at `generation`) and its served row.
    pub(crate) fn kb_reindex(
        &mut self,
        item: ItemId,
        row: &ItemRow,
        generation: i64,
    ) -> Result<(), StoreError> {
        let served = row.served.map(i64::from);
        self.execute(
            "UPDATE kb_items SET unit = $2, category = $3, area = $4, title = $5, state = $6, \
             version = $7, served = $8, updated_at = $9, changed = $10 WHERE id = $1",
            &[
                &(item as i64),
                &row.unit,
                &row.category,
                &row.area,
                &row.title,
                &row.state,
                &i64::from(row.version),
                &served,
                &row.updated_at,
                &generation,
            ],
        )?;
        self.kb_put_served(item, row.served_row.as_ref())
    }

    pub(crate) fn kb_put_served(
        &mut self,
        item: ItemId,
        served: Option<&ServedRow>,
    ) -> Result<(), StoreError> {
        let id = item as i64;
        self.execute("DELETE FROM kb_served WHERE item = $1", &[&id])?;
        let Some(s) = served else {
            return Ok(());
        };
        self.execute(
            "INSERT INTO kb_served (item, version, unit, category, area, effective, expires, \
             public, content) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &id,
                &i64::from(s.version),
                &s.unit,
                &s.category,
                &s.area,
                &s.effective,
                &s.expires,
                &s.public,
                &s.content,
            ],
        )?;
        Ok(())
    }

    pub(crate) fn kb_list(
        &mut self,
        state: Option<&str>,
        unit: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ItemSummary>, StoreError> {
        let rows = self.query(
            "SELECT id, title, unit, category, area, state, version, served, updated_at \
             FROM kb_items WHERE ($1::text IS NULL OR state = $1) \
             AND ($2::text IS NULL OR unit = $2) \
             ORDER BY updated_at DESC, id DESC LIMIT $3",
            &[&state, &unit, &(limit as i64)],
        )?;
        rows.iter()
            .map(|r| {
                Ok(ItemSummary {
                    id: id_of(r, 0)?,
                    title: get(r, 1)?,
                    unit: get(r, 2)?,
                    category: get(r, 3)?,
                    area: get(r, 4)?,
                    state: get(r, 5)?,
                    version: get::<i64>(r, 6)? as u32,
                    served: get::<Option<i64>>(r, 7)?.map(|v| v as u32),
                    updated_at: get(r, 8)?,
                })
            })
            .collect()
    }

    pub(crate) fn kb_count_by_state(&mut self) -> Result<Vec<(String, u64)>, StoreError> {
        let rows = self.query("SELECT state, count(*) FROM kb_items GROUP BY state", &[])?;
        rows.iter()
            .map(|r| Ok((get(r, 0)?, count(r, 1)?)))
            .collect()
    }

    pub(crate) fn kb_expiring(&mut self, until: &str) -> Result<Vec<ItemId>, StoreError> {
        let rows = self.query(
            "SELECT item FROM kb_served WHERE expires IS NOT NULL AND expires <= $1",
            &[&until],
        )?;
        rows.iter().map(|r| id_of(r, 0)).collect()
    }

    pub(crate) fn kb_latest_versions(
        &mut self,
        unit: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        let rows = self.query(
            "SELECT v.content FROM kb_items i \
             JOIN kb_versions v ON v.item = i.id AND v.version = i.version \
             WHERE $1::text IS NULL OR i.unit = $1 ORDER BY i.id",
            &[&unit],
        )?;
        rows.iter().map(|r| get(r, 0)).collect()
    }

    pub(crate) fn kb_record_citations(
        &mut self,
        ticket: &str,
        cites: &[(ItemId, u32, &'static str)],
        at: &str,
    ) -> Result<usize, StoreError> {
        self.write(|pg| {
            let mut new = 0;
            for (item, version, kind) in cites {
                new += pg.execute(
                    "INSERT INTO kb_citations (ticket, item, version, kind, at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                    &[&ticket, &(*item as i64), &i64::from(*version), kind, &at],
                )? as usize;
            }
            Ok(new)
        })
    }

    pub(crate) fn kb_citation_totals(&mut self) -> Result<(u64, u64), StoreError> {
        let r = self.query_one(
            "SELECT count(*) FILTER (WHERE kind = 'answer'), \
                    count(*) FILTER (WHERE kind = 'reply') FROM kb_citations",
            &[],
        )?;
        Ok((count(&r, 0)?, count(&r, 1)?))
    }

    pub(crate) fn kb_add_shown(&mut self, counts: &[(ItemId, u64)]) -> Result<(), StoreError> {
        let items: Vec<i64> = counts.iter().map(|(i, _)| *i as i64).collect();
        let ns: Vec<i64> = counts.iter().map(|(_, n)| *n as i64).collect();
        self.write(|pg| {
            pg.execute(
                "INSERT INTO kb_shown (item, count) \
                 SELECT * FROM unnest($1::bigint[], $2::bigint[]) \
                 ON CONFLICT (item) DO UPDATE SET count = kb_shown.count + excluded.count",
                &[&items, &ns],
            )
        })
        .map(|_| ())
    }

    /// Counts a gap; keeps a new one while fewer than `keep` are. `Some(new)` when counted.
    pub(crate) fn kb_record_gap(
        &mut self,
        query: &str,
        public: bool,
        at: &str,
        keep: usize,
    ) -> Result<Option<bool>, StoreError> {
        let (staff, public) = (i64::from(!public), i64::from(public));
        self.write(|pg| {
            let counted = pg.execute(
                "UPDATE kb_gaps SET staff = staff + $2, public = public + $3, last_at = $4 \
                 WHERE query = $1",
                &[&query, &staff, &public, &at],
            )?;
            if counted > 0 {
                return Ok(Some(false));
            }
            let held: i64 = get(&pg.query_one("SELECT count(*) FROM kb_gaps", &[])?, 0)?;
            if held.max(0) as usize >= keep {
                return Ok(None);
            }
            // Another engine may have kept the same words meanwhile: then they are counted.
            let row = pg.query_one(
                "INSERT INTO kb_gaps (query, staff, public, first_at, last_at) \
                 VALUES ($1, $2, $3, $4, $4) ON CONFLICT (query) DO UPDATE \
                 SET staff = kb_gaps.staff + $2, public = kb_gaps.public + $3, last_at = $4 \
                 RETURNING (xmax = 0)",
                &[&query, &staff, &public, &at],
            )?;
            Ok(Some(get(&row, 0)?))
        })
    }

    pub(crate) fn kb_gap_count(&mut self) -> Result<u64, StoreError> {
        count(&self.query_one("SELECT count(*) FROM kb_gaps", &[])?, 0)
    }

    pub(crate) fn kb_gaps(&mut self, limit: usize) -> Result<Vec<Gap>, StoreError> {
        let rows = self.query(
            "SELECT query, staff, public, first_at, last_at FROM kb_gaps \
             ORDER BY staff + public DESC, last_at DESC LIMIT $1",
            &[&(limit as i64)],
        )?;
        rows.iter()
            .map(|r| {
                Ok(Gap {
                    query: get(r, 0)?,
                    staff: count(r, 1)?,
                    public: count(r, 2)?,
                    first_at: get(r, 3)?,
                    last_at: get(r, 4)?,
                })
            })
            .collect()
    }

    pub(crate) fn kb_most_used(&mut self, limit: usize) -> Result<Vec<UsedItem>, StoreError> {
        let rows = self.query(
            "SELECT i.id, i.title, i.unit, i.state, i.served, \
                    COALESCE(c.answers, 0), COALESCE(c.replies, 0), COALESCE(s.count, 0) \
             FROM kb_items i \
             LEFT JOIN (SELECT item, count(*) FILTER (WHERE kind = 'answer') AS answers, \
                               count(*) FILTER (WHERE kind = 'reply') AS replies \
                        FROM kb_citations GROUP BY item) c ON c.item = i.id \
             LEFT JOIN kb_shown s ON s.item = i.id \
             WHERE c.item IS NOT NULL OR s.item IS NOT NULL \
             ORDER BY COALESCE(c.answers, 0) + COALESCE(c.replies, 0) DESC, \
                      COALESCE(s.count, 0) DESC, i.id \
             LIMIT $1",
            &[&(limit as i64)],
        )?;
        rows.iter()
            .map(|r| {
                Ok(UsedItem {
                    id: id_of(r, 0)?,
                    title: get(r, 1)?,
                    unit: get(r, 2)?,
                    state: get(r, 3)?,
                    served: get::<Option<i64>>(r, 4)?.map(|v| v as u32),
                    answers: count(r, 5)?,
                    replies: count(r, 6)?,
                    shown: count(r, 7)?,
                })
            })
            .collect()
    }
}
