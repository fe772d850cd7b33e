//! The menu loader: menu files' texts (handed over by the shell, this room reads no files) and
//! a prompt catalog in, a validated `MenuTree` or every problem found out. It refuses what rules
//! C4/C5/C7 forbid: a third level, loops, a level without a way to a person, advertising,
//! long greetings, unknown menus, queues and prompt files.

mod check;
mod numbers;
#[cfg(test)]
mod numbers_tests;
mod robot;
#[cfg(test)]
mod robot_tests;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use toml::Spanned;

use super::error::{Location, MenuError, MenuErrorKind, MenuWarning};
use super::format::{RawDefaults, RawFile, RawMenu, RawQueueAudio, RawRobot};
use super::model::MenuTree;
use super::script::RobotScript;

/// Tells the loader whether a prompt file exists and how long it plays. The shell implements it
/// over `ivr-menus/prompts/`; tests use a fake. `Err` carries why (missing, unreadable,
/// not decodable) for the operator.
pub trait PromptCatalog {
    fn duration(&self, file: &str) -> Result<Duration, String>;
}

/// The queues the ACD has until its configuration supplies them.
pub const DEFAULT_QUEUES: [&str; 6] = [
    "general",
    "enterprise",
    "dialect",
    "foreign",
    "sign",
    "high_frequency",
];

/// Engine-wide limits and names the menu files are checked against (from `[ivr]` and the ACD
/// configuration).
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The level-1 menu every call starts in (`ivr.entry_menu`).
    pub entry_menu: String,
    /// Queue names a key or fallback may route to.
    pub queues: BTreeSet<String>,
    /// Longest audio before any menu's first `menu` prompt (`ivr.max_greeting`, rule C4).
    pub max_greeting: Duration,
    /// Above this worst-case time to a person the loader warns.
    pub max_to_person: Duration,
    /// Integrated numbers' entries (`[numbers.<digits>]` of the configuration).
    pub numbers: Vec<super::numbers::NumberSpec>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            entry_menu: "main".to_string(),
            queues: DEFAULT_QUEUES.iter().map(|q| q.to_string()).collect(),
            max_greeting: Duration::from_secs(10),
            max_to_person: Duration::from_secs(60),
            numbers: Vec::new(),
        }
    }
}

/// A loaded tree, the callback robots' scripts found beside it (by id), and what
/// `hotline check` should warn about.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub tree: MenuTree,
    pub robots: BTreeMap<String, RobotScript>,
    pub warnings: Vec<MenuWarning>,
}

/// Parses and validates menu files given as `(path, text)` pairs; `path` only names the file in
/// messages. Returns every problem found, not just the first (a file whose TOML does not parse
/// contributes one error and the others are still checked).
pub fn load(
    files: &[(PathBuf, String)],
    catalog: &dyn PromptCatalog,
    opts: &LoadOptions,
) -> Result<Loaded, Vec<MenuError>> {
    let mut cx = Cx {
        files,
        catalog,
        opts,
        errors: Vec::new(),
        durations: HashMap::new(),
        unparsed: false,
    };
    if files.is_empty() {
        return Err(vec![MenuError {
            location: None,
            kind: MenuErrorKind::NoFiles,
        }]);
    }
    let mut parsed = cx.parse_all();
    let raw_robots = std::mem::take(&mut parsed.robots);
    let mut tree = check::build(&mut cx, parsed);
    let numbers = numbers::check(&mut cx, tree.as_ref());
    let robots = robot::build_all(&mut cx, raw_robots);
    if let Some(tree) = &mut tree {
        tree.numbers = numbers;
    }
    match tree {
        Some(tree) if cx.errors.is_empty() => {
            let mut warnings = Vec::new();
            let worst = tree.worst_case_to_person();
            if worst > opts.max_to_person {
                warnings.push(MenuWarning::SlowToPerson {
                    worst,
                    limit: opts.max_to_person,
                });
            }
            warnings.extend(numbers::slow(&tree, opts.max_to_person));
            Ok(Loaded {
                tree,
                robots,
                warnings,
            })
        }
        _ => {
            // A `[defaults]` value is checked once per menu that inherits it: say it once.
            let mut seen = Vec::with_capacity(cx.errors.len());
            cx.errors.retain(|e| {
                let new = !seen.contains(e);
                if new {
                    seen.push(e.clone());
                }
                new
            });
            // In file order, then by line, as an editor would walk them.
            cx.errors.sort_by_key(|e| {
                e.location.as_ref().map(|l| {
                    let file = files.iter().position(|(p, _)| *p == l.path);
                    (file, l.line)
                })
            });
            Err(cx.errors)
        }
    }
}

/// One `[menu.<id>]` with the file it came from and its file's `[defaults]`.
struct Found {
    file: usize,
    id: Spanned<String>,
    raw: RawMenu,
}

/// One `[robot.<id>]` with the file it came from.
struct FoundRobot {
    file: usize,
    id: Spanned<String>,
    raw: RawRobot,
}

/// Everything the files said, before the rules are checked.
struct Parsed {
    menus: Vec<Found>,
    defaults: Vec<RawDefaults>,
    queue_audio: Option<(usize, Spanned<RawQueueAudio>)>,
    robots: Vec<FoundRobot>,
}

/// The loading context: where errors are collected and prompt lengths cached.
struct Cx<'a> {
    files: &'a [(PathBuf, String)],
    catalog: &'a dyn PromptCatalog,
    opts: &'a LoadOptions,
    errors: Vec<MenuError>,
    durations: HashMap<String, Result<Duration, String>>,
    /// Some file did not parse: whatever seems missing may be in it, so say nothing of it.
    unparsed: bool,
}

impl Cx<'_> {
    fn location(&self, file: usize, span: &Range<usize>) -> Location {
        let (path, text) = &self.files[file];
        Location {
            path: path.clone(),
            line: line_of(text, span.start),
        }
    }

    fn error(&mut self, file: usize, span: &Range<usize>, kind: MenuErrorKind) {
        let location = Some(self.location(file, span));
        self.errors.push(MenuError { location, kind });
    }

    fn parse_all(&mut self) -> Parsed {
        let mut parsed = Parsed {
            menus: Vec::new(),
            defaults: Vec::new(),
            queue_audio: None,
            robots: Vec::new(),
        };
        let mut seen: BTreeMap<String, Location> = BTreeMap::new();
        let mut seen_robots: BTreeMap<String, Location> = BTreeMap::new();
        for (file, (_, text)) in self.files.iter().enumerate() {
            let raw: RawFile = match toml::from_str(text) {
                Ok(raw) => raw,
                Err(e) => {
                    self.syntax_error(file, &e);
                    self.unparsed = true;
                    parsed.defaults.push(RawDefaults::default());
                    continue;
                }
            };
            parsed
                .defaults
                .push(raw.defaults.map(Spanned::into_inner).unwrap_or_default());
            if let Some(qa) = raw.queue_audio {
                match &parsed.queue_audio {
                    Some((f, first)) => {
                        let first = self.location(*f, &first.span()).to_string();
                        self.error(
                            file,
                            &qa.span(),
                            MenuErrorKind::DuplicateQueueAudio { first },
                        );
                    }
                    None => parsed.queue_audio = Some((file, qa)),
                }
            }
            for (id, raw) in raw.menu {
                let here = self.location(file, &id.span());
                if let Some(first) = seen.get(id.get_ref()) {
                    let kind = MenuErrorKind::DuplicateMenu {
                        id: id.get_ref().clone(),
                        first: first.to_string(),
                    };
                    self.errors.push(MenuError {
                        location: Some(here),
                        kind,
                    });
                    continue;
                }
                if !valid_id(id.get_ref()) {
                    let kind = MenuErrorKind::BadMenuId {
                        id: id.get_ref().clone(),
                    };
                    self.error(file, &id.span(), kind);
                }
                seen.insert(id.get_ref().clone(), here);
                parsed.menus.push(Found { file, id, raw });
            }
            for (id, raw) in raw.robot {
                let here = self.location(file, &id.span());
                if let Some(first) = seen_robots.get(id.get_ref()) {
                    let kind = MenuErrorKind::DuplicateRobot {
                        id: id.get_ref().clone(),
                        first: first.to_string(),
                    };
                    self.errors.push(MenuError {
                        location: Some(here),
                        kind,
                    });
                    continue;
                }
                if !valid_id(id.get_ref()) {
                    let kind = MenuErrorKind::BadRobotId {
                        id: id.get_ref().clone(),
                    };
                    self.error(file, &id.span(), kind);
                }
                seen_robots.insert(id.get_ref().clone(), here);
                parsed.robots.push(FoundRobot { file, id, raw });
            }
        }
        parsed
    }

    fn syntax_error(&mut self, file: usize, e: &toml::de::Error) {
        let span = e.span().unwrap_or(0..0);
        // One line per problem, as `hotline check` prints them.
        let mut message = e
            .message()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        if message.contains("duplicate key") {
            message.push_str(
                ": a key, menu or field may be set only once; delete or renumber one of the two",
            );
        } else if message.contains("unknown field") {
            message.push_str(": check the spelling (the format is described at the top of the shipped menus.toml)");
        }
        self.error(file, &span, MenuErrorKind::Syntax { message });
    }

    /// The length of a prompt file, asking the catalog once per file.
    fn prompt_duration(&mut self, file: usize, name: &Spanned<String>) -> Option<Duration> {
        let location = self.location(file, &name.span());
        self.prompt_at(location, name.get_ref())
    }

    /// The length of prompt `n`, named at `location` (a menu file or the configuration).
    fn prompt_at(&mut self, location: Location, n: &str) -> Option<Duration> {
        let path = std::path::Path::new(n);
        let plain = !n.is_empty()
            && !path.is_absolute()
            && !n.starts_with('/')
            && !n.starts_with('\\')
            && path
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !plain {
            let kind = MenuErrorKind::BadPromptPath {
                file: n.to_string(),
            };
            self.errors.push(MenuError {
                location: Some(location),
                kind,
            });
            return None;
        }
        let catalog = self.catalog;
        let result = self
            .durations
            .entry(n.to_string())
            .or_insert_with(|| catalog.duration(n))
            .clone();
        match result {
            Ok(d) => Some(d),
            Err(reason) => {
                let kind = MenuErrorKind::PromptUnavailable {
                    file: n.to_string(),
                    reason,
                };
                self.errors.push(MenuError {
                    location: Some(location),
                    kind,
                });
                None
            }
        }
    }
}

/// Ids appear in call records as `id:key`, so they stay plain.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}
