//! `[public]`: the citizen's internet channel (issue 13) — whether it is open and how hard
//! one address may push it.

use std::time::Duration;

use serde::Deserialize;

/// The public request routes' settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PublicConfig {
    /// Serve `/api/public/...` and the form posts at all (off: every public route is 404).
    pub enabled: bool,
    /// Submissions one address (IPv4, or IPv6 /64) may make at once, then per minute.
    pub submit_burst: u32,
    pub submit_per_minute: u32,
    /// Status lookups (and ratings, uploads) one address may make at once, then per minute.
    pub lookup_burst: u32,
    pub lookup_per_minute: u32,
    /// After this many submissions from one address within `challenge_window`, each further
    /// one needs an arithmetic question answered (0 = never).
    pub challenge_after: u32,
    #[serde(with = "humantime_serde")]
    pub challenge_window: Duration,
    /// How long a question may be answered.
    #[serde(with = "humantime_serde")]
    pub challenge_ttl: Duration,
    /// Addresses (and open questions) remembered at most; the oldest is forgotten first.
    pub max_addresses: usize,
}

impl Default for PublicConfig {
    fn default() -> Self {
        let l = crate::portal::throttle::Limits::default();
        Self {
            enabled: true,
            submit_burst: l.submit_burst,
            submit_per_minute: l.submit_per_minute,
            lookup_burst: l.lookup_burst,
            lookup_per_minute: l.lookup_per_minute,
            challenge_after: l.challenge_after,
            challenge_window: l.challenge_window,
            challenge_ttl: l.challenge_ttl,
            max_addresses: l.max_addresses,
        }
    }
}

impl PublicConfig {
    /// The throttle's limits.
    pub fn limits(&self) -> crate::portal::throttle::Limits {
        crate::portal::throttle::Limits {
            submit_burst: self.submit_burst,
            submit_per_minute: self.submit_per_minute,
            lookup_burst: self.lookup_burst,
            lookup_per_minute: self.lookup_per_minute,
            challenge_after: self.challenge_after,
            challenge_window: self.challenge_window,
            challenge_ttl: self.challenge_ttl,
            max_addresses: self.max_addresses.max(1),
        }
    }
}
