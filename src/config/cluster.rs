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
    /// The PostgreSQL server both engines share for leadership and for the state that
    /// survives a failover (phones' registrations, agents' states). To be folded into
    /// `[storage] url` once the durable stores live there too.
    pub leadership_url: Option<String>,
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
            leadership_url: None,
            lock_key: 12345,
            retry_every: Duration::from_secs(1),
            store_timeout: Duration::from_secs(2),
        }
    }
}

impl ClusterConfig {
    /// What is wrong, as (key, message) pairs.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if !self.enabled {
            return out;
        }
        if self.node.is_empty() || self.node.len() > 64 {
            out.push(("node", "cluster.node must be 1 to 64 characters".into()));
        }
        match &self.leadership_url {
            None => out.push((
                "enabled",
                "cluster.enabled needs cluster.leadership_url (postgres://user@host:port/database)"
                    .into(),
            )),
            Some(url) => {
                let check = super::StorageConfig {
                    url: Some(url.clone()),
                    ..super::StorageConfig::default()
                };
                if let Some(m) = check.url_problem() {
                    out.push((
                        "leadership_url",
                        m.replace("storage.url", "cluster.leadership_url"),
                    ));
                }
            }
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
    fn off_needs_nothing_and_on_needs_a_postgres_url_and_a_name() {
        assert!(ClusterConfig::default().problems().is_empty());
        let on = ClusterConfig {
            enabled: true,
            ..ClusterConfig::default()
        };
        assert_eq!(on.problems()[0].0, "enabled");
        let good = ClusterConfig {
            leadership_url: Some("postgres://hotline@127.0.0.1:5432/hotline".into()),
            ..on.clone()
        };
        assert!(good.problems().is_empty(), "{:?}", good.problems());
        let bad = ClusterConfig {
            leadership_url: Some("mysql://x/y".into()),
            node: String::new(),
            ..on
        };
        let keys: Vec<_> = bad.problems().into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, vec!["node", "leadership_url"]);
    }
}
