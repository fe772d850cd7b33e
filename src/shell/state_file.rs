//! `state.json` in the data folder: the phones' registrations and the agents' states that
//! survive a restart ([`crate::call::persist`] decides what they are). Written atomically
//! (a temporary file, fsync, rename, fsync of the folder) so a crash leaves the old or the new
//! file, never half of one; owner-only like every file of the data folder.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::call::persist::{SavedState, SAVED_STATE_VERSION};

/// The file's name in the data folder.
pub const FILE_NAME: &str = "state.json";

/// Why the saved state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateFileError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a saved state: {source}")]
    Format {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path}: saved by format version {found}, this engine reads {SAVED_STATE_VERSION}")]
    Version { path: PathBuf, found: u32 },
}

/// The state file of one data folder.
#[derive(Debug, Clone)]
pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    /// `data_dir/state.json`.
    pub fn in_dir(data_dir: &Path) -> Self {
        Self {
            path: data_dir.join(FILE_NAME),
        }
    }

    /// Where it lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved state, or `None` when there is none yet (a first start).
    pub fn read(&self) -> Result<Option<SavedState>, StateFileError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(StateFileError::Io {
                    path: self.path.clone(),
                    source,
                })
            }
        };
        let state: SavedState =
            serde_json::from_str(&text).map_err(|source| StateFileError::Format {
                path: self.path.clone(),
                source,
            })?;
        if state.version != SAVED_STATE_VERSION {
            return Err(StateFileError::Version {
                path: self.path.clone(),
                found: state.version,
            });
        }
        Ok(Some(state))
    }

    /// Replaces the file with `state`, atomically. Blocking: run it off the engine task.
    pub fn write(&self, state: &SavedState) -> Result<(), StateFileError> {
        let io = |source| StateFileError::Io {
            path: self.path.clone(),
            source,
        };
        let bytes = serde_json::to_vec_pretty(state).map_err(|source| StateFileError::Format {
            path: self.path.clone(),
            source,
        })?;
        let tmp = self.path.with_extension("json.tmp");
        let mut f = crate::shell::private_fs::options()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&tmp)
            .map_err(io)?;
        f.write_all(&bytes).map_err(io)?;
        f.sync_all().map_err(io)?;
        drop(f);
        std::fs::rename(&tmp, &self.path).map_err(io)?;
        if let Some(dir) = self.path.parent() {
            // The rename itself must reach the disk too.
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_state_reads_back_and_a_missing_file_is_a_first_start() {
        let tmp = tempfile::tempdir().unwrap();
        let file = StateFile::in_dir(tmp.path());
        assert!(file.read().unwrap().is_none());
        let state = SavedState {
            version: SAVED_STATE_VERSION,
            saved_at: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            registrations: Vec::new(),
            agents: vec![crate::call::persist::SavedAgent {
                id: "1001".into(),
                state: "not_ready".into(),
                reason: Some("meal".into()),
            }],
            callbacks: Vec::new(),
        };
        file.write(&state).unwrap();
        assert_eq!(file.read().unwrap(), Some(state));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::write(file.path(), "{\"version\": 9").unwrap();
        assert!(matches!(file.read(), Err(StateFileError::Format { .. })));
    }
}
