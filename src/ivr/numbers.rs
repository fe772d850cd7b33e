//! Integrated numbers (GB/T 44190 4.2): each answered number may start its callers somewhere
//! else than the entry menu — a level-2 branch, or straight in a queue — after a short notice.
//! The configuration's `[numbers.<digits>]` tables come in as [`NumberSpec`]s (with their
//! lines), the loader checks them with the menus' own rules (known menu and queue, the prompt
//! exists, purpose `information` only, notice plus the menu's greeting within
//! `ivr.max_greeting`), and the tree keeps the validated [`NumberEntry`]s.
//!
//! The menu tree's shape is untouched: a number names a menu of the tree, which is level 1 or
//! level 2 already, so starting there skips a level and never adds one (a branch's `back`
//! returns to the entry menu, as it does for a 12345 caller).

use std::path::PathBuf;

use super::model::{MenuIdx, Prompt};

/// A value from the configuration file, with its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spot {
    pub value: String,
    pub line: usize,
}

/// Where a number's calls go, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberTarget {
    /// The entry menu (`ivr.entry_menu`), as for 12345.
    Entry,
    /// This menu of the tree.
    Menu(Spot),
    /// This ACD queue, without a menu.
    Queue(Spot),
}

/// One `[numbers.<digits>]` table, for the loader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberSpec {
    /// The digits of `[numbers.<digits>]`.
    pub number: String,
    /// What screens call it.
    pub name: Option<String>,
    /// The configuration file (`config/hotline.toml`) and the table's line, for messages.
    pub path: PathBuf,
    pub line: usize,
    pub target: NumberTarget,
    /// The notice prompt's file and purpose.
    pub notice: Option<(Spot, Spot)>,
}

/// Where a validated number's calls go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberRoute {
    /// The navigator starts in this menu.
    Menu(MenuIdx),
    /// The call waits in this queue from the answer.
    Queue(String),
}

/// A validated integrated number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberEntry {
    pub(crate) name: Option<String>,
    pub(crate) route: NumberRoute,
    pub(crate) notice: Option<Prompt>,
}

impl NumberEntry {
    /// What screens call the number (`12315 市场监管`).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    /// Where the number's calls start: a menu of the tree, or a queue.
    pub fn route(&self) -> &NumberRoute {
        &self.route
    }
    /// The short notice played first (purpose `information`).
    pub fn notice(&self) -> Option<&Prompt> {
        self.notice.as_ref()
    }
}
