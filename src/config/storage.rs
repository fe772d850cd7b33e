//! `[storage]`: where the durable things live — SQLite files under `data_dir` on one
//! machine, or a PostgreSQL server two engines share (issue 19).

use std::path::PathBuf;

use serde::Deserialize;

/// Where records, recordings and the ticket database live.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    pub data_dir: PathBuf,
    /// A PostgreSQL server for the durable stores, so that two engines share them (issue
    /// 19); `None` keeps them in SQLite files under `data_dir` (one machine).
    pub url: Option<String>,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            url: None,
        }
    }
}

impl StorageConfig {
    /// What is wrong with `url`, if anything; never repeats a password.
    pub fn url_problem(&self) -> Option<String> {
        let url = self.url.as_deref()?;
        let Some(rest) = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
        else {
            return Some(
                "storage.url must be a PostgreSQL URL (postgres://user@host:port/database)".into(),
            );
        };
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        let host = authority.rsplit('@').next().unwrap_or_default();
        let database = rest.split_once('/').map(|(_, d)| d).unwrap_or_default();
        if host.is_empty() || database.split('?').next().unwrap_or_default().is_empty() {
            return Some(
                "storage.url needs a host and a database (postgres://user@host:port/database)"
                    .into(),
            );
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::StorageConfig;

    fn with(url: &str) -> StorageConfig {
        StorageConfig {
            url: Some(url.into()),
            ..StorageConfig::default()
        }
    }

    #[test]
    fn a_postgres_url_with_host_and_database_passes() {
        assert_eq!(StorageConfig::default().url_problem(), None);
        assert_eq!(
            with("postgres://hotline@127.0.0.1:5432/hotline").url_problem(),
            None
        );
        assert_eq!(
            with("postgresql://db.example/hotline?sslmode=require").url_problem(),
            None
        );
    }

    #[test]
    fn other_schemes_and_urls_without_host_or_database_are_refused_without_the_password() {
        for bad in [
            "sqlite://data/tickets.sqlite",
            "postgres://hotline:s3cret@/hotline",
            "postgres://hotline:s3cret@127.0.0.1:5432/",
            "postgres://hotline:s3cret@127.0.0.1:5432",
        ] {
            let problem = with(bad).url_problem().expect(bad);
            assert!(!problem.contains("s3cret"), "{problem}");
        }
    }
}
