//! `[cluster]`: two engines behind Kamailio, one active and one hot standby, leadership
//! through a PostgreSQL advisory lock (issue 19, docs/DEPLOY.md).

use std::time::Duration;

use serde::Deserialize;

/// This engine's place in a two-engine deployment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// Off: one engine, always active, nothing asked of PostgreSQL.
    pub enabled: bool,
    /// This engine's name in the logs, `/api/health` and the leadership store.
    pub node: String,
    /// The advisory lock's key: the same on both engines of one hotline, different for two
    /// hotlines sharing a server.
    pub lock_key: i64,
    /// How often the standby asks for the lock, and the active engine checks its session.
    #[serde(with = "humantime_serde")]
    pub retry_every: Duration,
    /// An answer slower than this counts as a lost session (the active engine steps down).
    #[serde(with = "humantime_serde")]
    pub store_timeout: Duration,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            node: "hotline-1".into(),
            lock_key: 12345,
            retry_every: Duration::from_secs(1),
            store_timeout: Duration::from_secs(2),
        }
    }
}

impl ClusterConfig {
    /// What is wrong, as (key, message) pairs; `storage_url` is `[storage] url` (checked
    /// there).
    pub fn problems(&self, storage_url: Option<&str>) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if !self.enabled {
            return out;
        }
        if self.node.is_empty() || self.node.len() > 64 {
            out.push(("node", "cluster.node must be 1 to 64 characters".into()));
        }
        if storage_url.is_none() {
            // The lock, the state that survives a failover and every durable thing are in the
            // one PostgreSQL database both engines share.
            out.push((
                "enabled",
                "cluster.enabled needs storage.url (postgres://user@host:port/database): both engines share that database"
                    .into(),
            ));
        }
        if self.retry_every < Duration::from_millis(100)
            || self.retry_every > Duration::from_secs(30)
        {
            out.push((
                "retry_every",
                "cluster.retry_every must be between 100ms and 30s".into(),
            ));
        }
        if self.store_timeout < self.retry_every / 2 || self.store_timeout > Duration::from_secs(60)
        {
            out.push((
                "store_timeout",
                "cluster.store_timeout must be at least half of retry_every and at most 60s".into(),
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::ClusterConfig;

    #[test]
    fn off_needs_nothing_and_on_needs_the_shared_postgres_store_and_a_name() {
        let url = Some("postgres://hotline@127.0.0.1:5432/hotline");
        assert!(ClusterConfig::default().problems(None).is_empty());
        let on = ClusterConfig {
            enabled: true,
            ..ClusterConfig::default()
        };
        assert_eq!(on.problems(None)[0].0, "enabled");
        assert!(on.problems(url).is_empty(), "{:?}", on.problems(url));
        let bad = ClusterConfig {
            node: String::new(),
            retry_every: std::time::Duration::from_millis(10),
            ..on
        };
        let keys: Vec<_> = bad.problems(url).into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, vec!["node", "retry_every"]);
    }
}
