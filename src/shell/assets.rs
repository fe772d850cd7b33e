//! Loads what the engine plays and follows, once, at start: every prompt under
//! `ivr-menus/prompts/` decoded to 8 kHz G.711 frames (shared by every call, never re-read),
//! and the menu files validated against them. `hotline check` and `hotline serve` share it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;
use crate::ivr::load::{load, LoadOptions, PromptCatalog};
use crate::ivr::model::MenuTree;
use crate::media::prompt::Prompt;

/// Every decoded prompt by file name, plus the files that could not be read or decoded.
#[derive(Default)]
pub struct Prompts {
    pub decoded: HashMap<String, Arc<Prompt>>,
    pub broken: HashMap<String, String>,
}

impl Prompts {
    /// Reads and decodes every file in `dir` (WAV, OGG, MP3, FLAC; other files are skipped).
    pub fn load_dir(dir: &Path) -> std::io::Result<Prompts> {
        let mut prompts = Prompts::default();
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                    matches!(
                        e.to_ascii_lowercase().as_str(),
                        "wav" | "ogg" | "mp3" | "flac"
                    )
                })
            })
            .collect();
        entries.sort();
        for path in entries {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            match std::fs::read(&path) {
                Ok(bytes) => match Prompt::decode(&name, &bytes) {
                    Ok(p) => {
                        prompts.decoded.insert(name, p);
                    }
                    Err(e) => {
                        prompts.broken.insert(name, e.to_string());
                    }
                },
                Err(e) => {
                    prompts.broken.insert(name, format!("cannot read: {e}"));
                }
            }
        }
        Ok(prompts)
    }

    /// A decoded prompt by file name.
    pub fn get(&self, name: &str) -> Option<&Arc<Prompt>> {
        self.decoded.get(name)
    }
}

impl PromptCatalog for Prompts {
    fn duration(&self, file: &str) -> Result<Duration, String> {
        if let Some(p) = self.decoded.get(file) {
            return Ok(p.duration());
        }
        Err(self
            .broken
            .get(file)
            .cloned()
            .unwrap_or_else(|| "no such file in the prompts folder".to_string()))
    }
}

/// The validated menus and the prompts they use.
pub struct Assets {
    pub menus: Arc<MenuTree>,
    pub prompts: Arc<Prompts>,
    pub menu_files: usize,
    /// The callback robot's scripts (`[robot.<id>]` in the same files), by id.
    pub robots: Arc<std::collections::BTreeMap<String, crate::ivr::script::RobotScript>>,
    pub warnings: Vec<String>,
}

/// Loads prompts and menus, checking the menus' targets against `queues` (from the ACD
/// configuration); every problem as `file:line: what is wrong`.
pub fn load_assets(config: &Config, queues: &[String]) -> Result<Assets, Vec<String>> {
    let dir = &config.ivr.menus_dir;
    let prompts_dir = dir.join("prompts");
    let prompts = Prompts::load_dir(&prompts_dir).map_err(|e| {
        vec![format!(
            "{}: cannot read the prompts folder: {e}",
            prompts_dir.display()
        )]
    })?;
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect(),
        Err(e) => {
            return Err(vec![format!(
                "{}: cannot read the menus folder: {e}",
                dir.display()
            )])
        }
    };
    paths.sort();
    for path in paths {
        match std::fs::read_to_string(&path) {
            Ok(text) => files.push((path, text)),
            Err(e) => errors.push(format!("{}:1: cannot read: {e}", path.display())),
        }
    }
    let opts = LoadOptions {
        entry_menu: config.ivr.entry_menu.clone(),
        queues: queues.iter().cloned().collect(),
        max_greeting: config.ivr.max_greeting,
        numbers: crate::config::number_specs(&config.numbers, &config.source),
        ..LoadOptions::default()
    };
    let loaded = load(&files, &prompts, &opts);
    match loaded {
        Ok(l) if errors.is_empty() => Ok(Assets {
            menus: Arc::new(l.tree),
            prompts: Arc::new(prompts),
            menu_files: files.len(),
            robots: Arc::new(l.robots),
            warnings: l.warnings.iter().map(|w| w.to_string()).collect(),
        }),
        Ok(_) => Err(errors),
        Err(menu_errors) => {
            errors.extend(menu_errors.iter().map(|e| e.to_string()));
            Err(errors)
        }
    }
}
