//! The workflow's files: the working-day calendar (one TOML per year), the dispatch
//! catalogue and the area tree beside it, read into the [`Workflow`] the ticket store and
//! the reports run on. Loaded at start and on SIGHUP; an error names the file and line.

use std::path::{Path, PathBuf};

use crate::workflow::calendar::{WorkCalendar, YearCalendar};
use crate::workflow::{Policy, Workflow};

/// A problem loading the workflow's files (calendar years, dispatch catalogue).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("{path}:{line}: {message}")]
    At {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// Reads `calendar_dir/*.toml` (one per year), the dispatch catalogue and, beside it,
/// `areas.toml` (the area tree; none: dispatch by area is off) into a [`Workflow`].
/// A missing calendar year is not an error: deadlines in it carry a warning.
pub fn load_workflow(
    calendar_dir: &Path,
    dispatch: &Path,
    policy: Policy,
) -> Result<Workflow, LoadError> {
    let file_err = |path: &Path, message: String| LoadError::File {
        path: path.to_path_buf(),
        message,
    };
    let mut years = Vec::new();
    let entries =
        std::fs::read_dir(calendar_dir).map_err(|e| file_err(calendar_dir, e.to_string()))?;
    for entry in entries.flatten() {
        let p = entry.path();
        if p.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&p).map_err(|e| file_err(&p, e.to_string()))?;
            years
                .push(YearCalendar::from_toml_str(&text).map_err(|e| file_err(&p, e.to_string()))?);
        }
    }
    let text = std::fs::read_to_string(dispatch).map_err(|e| file_err(dispatch, e.to_string()))?;
    let catalogue = super::area_file::load_catalogue(dispatch, &text)?;
    let calendar = WorkCalendar::new(years);
    tracing::info!(years = ?calendar.years().collect::<Vec<_>>(), "workflow calendar loaded");
    Ok(Workflow {
        policy,
        calendar,
        catalogue,
    })
}
