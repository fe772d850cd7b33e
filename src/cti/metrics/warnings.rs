//! The early warnings' families (issue 17, W19): warnings raised by rule, scans run and
//! failed, the last scan's duration.

use std::sync::atomic::Ordering;

use super::text::{Kind, Writer};

/// The warnings' counters, read once per scrape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WarningValues {
    /// Per rule (`hot_spot`, `high_frequency`, `seasonal_due`, `risk_words`).
    pub raised: Vec<(&'static str, u64)>,
    pub scans: u64,
    pub failures: u64,
    pub last_scan_s: f64,
}

impl WarningValues {
    /// Reads the shared counters.
    pub fn read(h: &crate::shell::warnings::WarningsHub) -> Self {
        Self {
            raised: h.raised(),
            scans: h.scans.load(Ordering::Relaxed),
            failures: h.scan_failures.load(Ordering::Relaxed),
            last_scan_s: h.last_scan_ms.load(Ordering::Relaxed) as f64 / 1000.0,
        }
    }
}

/// Renders the families.
pub fn render(w: &mut Writer, v: &WarningValues) {
    w.family(
        "hotline_warnings_raised_total",
        Kind::Counter,
        "Early warnings raised (W19) since start, by rule: hot_spot, high_frequency, seasonal_due, risk_words (each kept once in the store).",
    );
    for (rule, n) in &v.raised {
        w.count(&[("rule", rule)], *n);
    }
    w.family(
        "hotline_warnings_scans_total",
        Kind::Counter,
        "Runs of the hot-spot, high-frequency and seasonal rules ([warnings] scan_interval).",
    );
    w.count(&[], v.scans);
    w.family(
        "hotline_warnings_scan_failures_total",
        Kind::Counter,
        "Warning scans or risk-word checks that failed (the store could not be read or written); logged.",
    );
    w.count(&[], v.failures);
    w.family(
        "hotline_warnings_last_scan_seconds",
        Kind::Gauge,
        "How long the last warning scan took, reading the requests included.",
    );
    w.sample("", &[], v.last_scan_s);
}
