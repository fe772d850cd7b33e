//! The knowledge base's families (issue 16): searches, empty searches (gaps to write), public
//! searches refused, sweep outcomes, items by state.

use std::sync::atomic::Ordering;

use super::text::{Kind, Writer};

/// The knowledge base's counters, read once per scrape.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KbValues {
    pub staff_searches: u64,
    pub public_searches: u64,
    pub empty_searches: u64,
    pub public_refused: u64,
    pub reminders: u64,
    pub expired: u64,
    pub by_state: Vec<(&'static str, u64)>,
    pub cited_answers: u64,
    pub cited_replies: u64,
    pub top_items: Vec<(u64, u64)>,
    pub gaps_kept: u64,
    pub gaps_not_kept: u64,
    pub near_expiry: u64,
}

impl KbValues {
    /// Reads the shared counters.
    pub fn read(m: &crate::shell::kb_service::KbMetrics) -> Self {
        Self {
            staff_searches: m.staff_searches.load(Ordering::Relaxed),
            public_searches: m.public_searches.load(Ordering::Relaxed),
            empty_searches: m.empty_searches.load(Ordering::Relaxed),
            public_refused: m.public_refused.load(Ordering::Relaxed),
            reminders: m.reminders.load(Ordering::Relaxed),
            expired: m.expired.load(Ordering::Relaxed),
            by_state: m.states(),
            cited_answers: m.cited_answers.load(Ordering::Relaxed),
            cited_replies: m.cited_replies.load(Ordering::Relaxed),
            top_items: m
                .top_items
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            gaps_kept: m.gaps_kept.load(Ordering::Relaxed),
            gaps_not_kept: m.gaps_not_kept.load(Ordering::Relaxed),
            near_expiry: m.near_expiry.load(Ordering::Relaxed),
        }
    }
}

/// Renders the families.
pub fn render(w: &mut Writer, v: &KbValues) {
    w.family(
        "hotline_kb_searches_total",
        Kind::Counter,
        "Knowledge searches, by who asked (staff: GET /api/kb/search; public: GET /api/public/kb/search).",
    );
    w.count(&[("by", "staff")], v.staff_searches);
    w.count(&[("by", "public")], v.public_searches);
    w.family(
        "hotline_kb_empty_searches_total",
        Kind::Counter,
        "Knowledge searches that found nothing (gaps to write), staff and public.",
    );
    w.count(&[], v.empty_searches);
    w.family(
        "hotline_kb_public_refused_total",
        Kind::Counter,
        "Public knowledge searches refused by the per-address throttle (429 rate_limited).",
    );
    w.count(&[], v.public_refused);
    w.family(
        "hotline_kb_sweep_total",
        Kind::Counter,
        "What the knowledge sweep did: items withdrawn on their expiry date, reminders sent to the owning unit ahead of expiry.",
    );
    w.count(&[("outcome", "expired")], v.expired);
    w.count(&[("outcome", "reminded")], v.reminders);
    w.family(
        "hotline_kb_items",
        Kind::Gauge,
        "Knowledge items by the state of their latest version (draft, in_review, sent_back, approved, withdrawn).",
    );
    for (state, n) in &v.by_state {
        w.count(&[("state", state)], *n);
    }
    w.family(
        "hotline_kb_citations_total",
        Kind::Counter,
        "Tickets citing a knowledge item, by where: a W3 direct answer (answer) or a unit's W11 reply (reply); one per ticket, item and version.",
    );
    w.count(&[("kind", "answer")], v.cited_answers);
    w.count(&[("kind", "reply")], v.cited_replies);
    w.family(
        "hotline_kb_item_citations",
        Kind::Gauge,
        "The ten most cited knowledge items (the knowledge page's most used), by item id: tickets citing them.",
    );
    for (item, n) in &v.top_items {
        let id = item.to_string();
        w.count(&[("item", id.as_str())], *n);
    }
    w.family(
        "hotline_kb_gaps",
        Kind::Gauge,
        "Distinct searches that found nothing, kept for the knowledge page (at most [kb] gaps_kept).",
    );
    w.count(&[], v.gaps_kept);
    w.family(
        "hotline_kb_gaps_not_kept_total",
        Kind::Counter,
        "New searches that found nothing and were not kept because [kb] gaps_kept distinct ones already are.",
    );
    w.count(&[], v.gaps_not_kept);
    w.family(
        "hotline_kb_items_near_expiry",
        Kind::Gauge,
        "Served knowledge items expiring within [kb] remind_working_days working days, as of the last sweep.",
    );
    w.count(&[], v.near_expiry);
}
