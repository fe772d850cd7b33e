//! The tokio shell: every socket, timer, file, SQLite handle and task; start-up and graceful
//! shutdown. It makes no protocol or business decision: it feeds the cores and carries out
//! what they return.

pub mod clock;
pub mod ticket_store;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::config::Config;

/// Command-line values that win over the config file, so tests can run engines on port 0.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub sip_listen: Option<SocketAddr>,
    pub http_listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
}

impl Overrides {
    /// Applies the flags over the file's values.
    pub fn apply(self, config: &mut Config) {
        if let Some(a) = self.sip_listen {
            config.sip.listen = a;
        }
        if let Some(a) = self.http_listen {
            config.http.listen = a;
        }
        if let Some(d) = self.data_dir {
            config.storage.data_dir = d;
        }
    }
}

/// `hotline check`: every problem as `file:line: what is wrong`, or a one-line summary.
pub fn check(path: &Path) -> Result<String, Vec<String>> {
    let config = Config::load(path)
        .map_err(|errs| errs.iter().map(|e| e.to_string()).collect::<Vec<_>>())?;
    Ok(format!(
        "ok: config {} (service numbers {:?})",
        path.display(),
        config.sip.service_numbers
    ))
}

/// `hotline serve`: loads the config, applies the flags and runs until SIGINT/SIGTERM.
pub async fn serve_from_file(path: &Path, overrides: Overrides) -> anyhow::Result<()> {
    let mut config = Config::load(path).map_err(|errs| {
        anyhow::anyhow!(errs
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n"))
    })?;
    overrides.apply(&mut config);
    tracing::info!(sip = %config.sip.listen, http = %config.http.listen, "hotline starting");
    Ok(())
}
