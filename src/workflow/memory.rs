//! An in-memory [`TicketStore`] for tests, scenarios and benchmarks of the pure core. Same
//! contract as the SQLite store (versions, conflicts, filters), no durability.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate};

use super::event::Event;
use super::model::TicketId;
use super::repeat::RepeatCandidate;
use super::store::{
    linkages_in, unanswered_internet, EmergencyLinkage, IndexRow, InternetBacklog,
    InternetResponse, ListQuery, Page, Report, StoreError, TicketStore,
};

/// Tickets kept in maps.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    seq: BTreeMap<NaiveDate, u32>,
    events: BTreeMap<TicketId, Vec<Event>>,
    rows: BTreeMap<TicketId, IndexRow>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every index row (for tests).
    pub fn rows(&self) -> impl Iterator<Item = &IndexRow> {
        self.rows.values()
    }
}

/// Whether a row passes a query's filters (shared meaning with the SQL store).
pub fn matches(r: &IndexRow, q: &ListQuery) -> bool {
    q.state.as_ref().is_none_or(|s| &r.state == s)
        && q.unit.as_ref().is_none_or(|u| r.units.contains(u))
        && q.request_type.is_none_or(|t| r.request_type == t)
        && q.domain.as_ref().is_none_or(|d| &r.domain == d)
        && q.channel.is_none_or(|c| r.channel == c)
        && q.call_id
            .as_ref()
            .is_none_or(|c| r.call_id.as_ref() == Some(c))
        && q.external_key
            .as_ref()
            .is_none_or(|k| r.external_key.as_ref() == Some(k))
        && q.phone_key
            .as_ref()
            .is_none_or(|p| r.phone_key.as_ref() == Some(p))
        && q.number
            .as_ref()
            .is_none_or(|n| r.number.as_ref() == Some(n))
        && q.supervised.is_none_or(|s| r.supervised == s)
        && q.overdue_at
            .is_none_or(|at| r.next_due.is_some_and(|d| d < at))
        && q.received_from.is_none_or(|f| r.received_at >= f)
        && q.received_to.is_none_or(|t| r.received_at < t)
}

impl TicketStore for MemoryStore {
    fn next_id(&mut self, date: NaiveDate) -> Result<TicketId, StoreError> {
        let n = self.seq.entry(date).or_insert(0);
        *n += 1;
        Ok(TicketId::new(date, *n))
    }

    fn insert(&mut self, events: &[Event], row: &IndexRow) -> Result<(), StoreError> {
        if self.events.contains_key(&row.id) {
            return Err(StoreError::Duplicate { id: row.id.clone() });
        }
        self.events.insert(row.id.clone(), events.to_vec());
        self.rows.insert(row.id.clone(), row.clone());
        Ok(())
    }

    fn events(&mut self, id: &TicketId) -> Result<Vec<Event>, StoreError> {
        Ok(self.events.get(id).cloned().unwrap_or_default())
    }

    fn append(
        &mut self,
        id: &TicketId,
        expected_version: u64,
        events: &[Event],
        row: &IndexRow,
    ) -> Result<(), StoreError> {
        let log = self
            .events
            .get_mut(id)
            .ok_or_else(|| StoreError::NotFound { id: id.clone() })?;
        let actual = log.len() as u64;
        if actual != expected_version {
            return Err(StoreError::Conflict {
                id: id.clone(),
                expected: expected_version,
                actual,
            });
        }
        log.extend_from_slice(events);
        self.rows.insert(id.clone(), row.clone());
        Ok(())
    }

    fn list(&mut self, q: &ListQuery) -> Result<Page, StoreError> {
        let limit = q.limit.clamp(1, 500) as usize;
        let cursor = match &q.after {
            Some(a) => Some(
                self.rows
                    .get(a)
                    .map(|r| (r.received_at, r.id.clone()))
                    .ok_or_else(|| StoreError::NotFound { id: a.clone() })?,
            ),
            None => None,
        };
        let mut rows: Vec<&IndexRow> = self
            .rows
            .values()
            .filter(|r| {
                cursor
                    .as_ref()
                    .is_none_or(|c| (r.received_at, &r.id) < (c.0, &c.1))
            })
            .filter(|r| matches(r, q))
            .collect();
        // Newest received first, then by id: the same order as the SQL store.
        rows.sort_by(|a, b| (b.received_at, &b.id).cmp(&(a.received_at, &a.id)));
        let mut items: Vec<IndexRow> = rows.into_iter().take(limit + 1).cloned().collect();
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|r| r.id.clone())
        } else {
            None
        };
        Ok(Page { items, next })
    }

    fn due_for_sweep(
        &mut self,
        at: DateTime<FixedOffset>,
        limit: u32,
    ) -> Result<Vec<TicketId>, StoreError> {
        let mut due: Vec<(&DateTime<FixedOffset>, &TicketId)> = self
            .rows
            .values()
            .filter_map(|r| r.wake_at.as_ref().filter(|w| **w <= at).map(|w| (w, &r.id)))
            .collect();
        due.sort();
        Ok(due
            .into_iter()
            .take(limit as usize)
            .map(|(_, id)| id.clone())
            .collect())
    }

    fn repeat_candidates(
        &mut self,
        phone_key: &str,
        since: DateTime<FixedOffset>,
    ) -> Result<Vec<RepeatCandidate>, StoreError> {
        Ok(self
            .rows
            .values()
            .filter(|r| r.phone_key.as_deref() == Some(phone_key) && r.received_at >= since)
            .map(|r| RepeatCandidate {
                id: r.id.clone(),
                received_at: r.received_at,
                content: r.content.clone(),
                excluded: r.repeat_excluded,
            })
            .collect())
    }

    fn internet_backlog(
        &mut self,
        now: DateTime<FixedOffset>,
    ) -> Result<InternetBacklog, StoreError> {
        let late = self.rows.values().filter(|r| unanswered_internet(r, now));
        Ok(late.fold(InternetBacklog::default(), |mut acc, r| {
            acc.unanswered += 1;
            acc.oldest_received = Some(
                acc.oldest_received
                    .map_or(r.received_at, |o| o.min(r.received_at)),
            );
            acc
        }))
    }

    fn internet_response(
        &mut self,
        from: DateTime<FixedOffset>,
        to: DateTime<FixedOffset>,
        now: DateTime<FixedOffset>,
    ) -> Result<InternetResponse, StoreError> {
        let rows = self
            .rows
            .values()
            .filter(|r| r.channel.is_internet() && r.received_at >= from && r.received_at < to);
        Ok(rows.fold(InternetResponse::default(), |mut acc, r| {
            acc.count(r.received_at, r.responded_at, now);
            acc
        }))
    }

    fn emergency_linkages(
        &mut self,
        from: DateTime<FixedOffset>,
        to: DateTime<FixedOffset>,
    ) -> Result<Vec<EmergencyLinkage>, StoreError> {
        let mut out: Vec<EmergencyLinkage> = self
            .events
            .iter()
            .flat_map(|(id, log)| linkages_in(id, log).map(|(_, l)| l))
            .filter(|l| l.at >= from && l.at < to)
            .collect();
        out.sort_by_key(|l| l.at);
        Ok(out)
    }

    fn report(
        &mut self,
        from: Option<DateTime<FixedOffset>>,
        to: Option<DateTime<FixedOffset>>,
        now: DateTime<FixedOffset>,
    ) -> Result<Report, StoreError> {
        let q = ListQuery {
            received_from: from,
            received_to: to,
            ..Default::default()
        };
        let rows: Vec<&IndexRow> = self.rows.values().filter(|r| matches(r, &q)).collect();
        let count = |f: &dyn Fn(&IndexRow) -> Option<String>| {
            let mut m: BTreeMap<String, u64> = BTreeMap::new();
            for r in &rows {
                if let Some(k) = f(r) {
                    *m.entry(k).or_default() += 1;
                }
            }
            m.into_iter().collect::<Vec<_>>()
        };
        let name = |v: serde_json::Value| v.as_str().map(str::to_string);
        Ok(Report {
            from,
            to,
            total: rows.len() as u64,
            by_state: count(&|r| Some(r.state.clone())),
            by_type: count(&|r| name(serde_json::json!(r.request_type))),
            by_domain: count(&|r| Some(r.domain.clone())),
            by_channel: count(&|r| name(serde_json::json!(r.channel))),
            by_area: count(&|r| r.area.clone()),
            ratings: count(&|r| r.rating.and_then(|x| name(serde_json::json!(x)))),
            overdue: rows
                .iter()
                .filter(|r| r.next_due.is_some_and(|d| d < now))
                .map(|r| r.id.clone())
                .collect(),
            repeats: rows
                .iter()
                .filter_map(|r| r.repeat_of.clone().map(|e| (r.id.clone(), e)))
                .collect(),
            internet_response: rows.iter().filter(|r| r.channel.is_internet()).fold(
                InternetResponse::default(),
                |mut acc, r| {
                    acc.count(r.received_at, r.responded_at, now);
                    acc
                },
            ),
        })
    }
}
