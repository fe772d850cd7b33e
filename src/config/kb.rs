//! `[kb]`: the knowledge base (issue 16) — the expiry reminder, the sweep, synonyms, the
//! demo set loaded on first start and the public search's throttle.

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
        }
    }
}
