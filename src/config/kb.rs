//! `[kb]`: the knowledge base (issue 16) — the expiry reminder, the sweep, synonyms, the
//! demo set loaded on first start, the public search's throttle and the gaps kept.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// The knowledge base's settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KbConfig {
    /// The owning unit is reminded this many working days before an item expires.
    pub remind_working_days: u32,
    /// How often expired items are withdrawn and reminders sent.
    #[serde(with = "humantime_serde")]
    pub sweep_interval: Duration,
    /// Groups of words that mean the same in a search (`[["医保", "医疗保险"], …]`).
    pub synonyms: Vec<Vec<String>>,
    /// A JSON-lines file of items loaded (approved, by `system`) when the store is empty on
    /// first start; relative to the config folder; unset = start empty.
    pub demo_set: Option<PathBuf>,
    /// Public searches one address may make at once, then per minute (429 rate_limited).
    pub public_search_burst: u32,
    pub public_search_per_minute: u32,
    /// Most hits one search returns (a request may ask for fewer).
    pub max_results: usize,
    /// Most distinct searches that found nothing kept for the knowledge page (gaps to write);
    /// a new one beyond is counted in `/metrics` (`hotline_kb_gaps_not_kept_total`), not kept.
    pub gaps_kept: usize,
}

impl Default for KbConfig {
    fn default() -> Self {
        Self {
            remind_working_days: 10,
            sweep_interval: Duration::from_secs(60),
            synonyms: Vec::new(),
            demo_set: None,
            public_search_burst: 20,
            public_search_per_minute: 30,
            max_results: 20,
            gaps_kept: 2000,
        }
    }
}

impl KbConfig {
    /// What types alone cannot check: (the key to point at, the message).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.sweep_interval < Duration::from_secs(1) {
            out.push((
                "sweep_interval",
                "kb.sweep_interval must be at least 1s, e.g. \"60s\"".to_string(),
            ));
        }
        if !(1..=100).contains(&self.max_results) {
            out.push(("max_results", "kb.max_results must be 1..=100".to_string()));
        }
        if self.public_search_per_minute == 0 || self.public_search_burst == 0 {
            out.push((
                "public_search_per_minute",
                "kb.public_search_burst and kb.public_search_per_minute must be at least 1"
                    .to_string(),
            ));
        }
        if !(1..=1_000_000).contains(&self.gaps_kept) {
            out.push(("gaps_kept", "kb.gaps_kept must be 1..=1000000".to_string()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_pass_and_a_zero_limit_or_a_tiny_interval_is_refused() {
        assert!(KbConfig::default().problems().is_empty());
        let bad = KbConfig {
            sweep_interval: Duration::from_millis(10),
            max_results: 0,
            public_search_per_minute: 0,
            gaps_kept: 0,
            ..KbConfig::default()
        };
        let keys: Vec<_> = bad.problems().into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [
                "sweep_interval",
                "max_results",
                "public_search_per_minute",
                "gaps_kept"
            ]
        );
    }
}
