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
}
