//! Reads the dispatch catalogue's partner file, `areas.toml` beside `dispatch.toml` (issue 21),
//! and binds the two: every problem as `file:line: …` for `hotline check`, start and `SIGHUP`.
//! The parsing and the checks are the workflow's ([`crate::workflow::areas`],
//! [`crate::workflow::catalogue`]); this module only reads the files.

use std::path::Path;

use super::workflow_files::LoadError;
use crate::workflow::areas::AreaTree;
use crate::workflow::catalogue::{CatalogueError, DispatchCatalogue};

/// The catalogue of `text` (read from `dispatch`) bound to the area tree of the
/// `areas.toml` beside it; no such file: an empty tree (dispatch by area off).
pub fn load_catalogue(dispatch: &Path, text: &str) -> Result<DispatchCatalogue, LoadError> {
    let at_line = |path: &Path, e: CatalogueError| match e {
        CatalogueError::Syntax { line, message } | CatalogueError::At { line, message } => {
            LoadError::At {
                path: path.to_path_buf(),
                line,
                message,
            }
        }
        e => LoadError::File {
            path: path.to_path_buf(),
            message: e.to_string(),
        },
    };
    let catalogue = DispatchCatalogue::from_toml_str(text).map_err(|e| at_line(dispatch, e))?;
    let path = dispatch.with_file_name("areas.toml");
    let areas = match std::fs::read_to_string(&path) {
        Ok(text) => AreaTree::from_toml_str(&text).map_err(|e| LoadError::At {
            path: path.clone(),
            line: e.line,
            message: e.message,
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => AreaTree::default(),
        Err(e) => {
            return Err(LoadError::File {
                path,
                message: e.to_string(),
            })
        }
    };
    let count = areas.iter().count();
    let catalogue = catalogue
        .with_areas(areas)
        .map_err(|e| at_line(dispatch, e))?;
    tracing::info!(areas = count, "area tree loaded");
    Ok(catalogue)
}
