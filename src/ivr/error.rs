//! What the menu loader refuses, each located as `file:line` and worded so the hotline's IT
//! staff can fix it without reading the code.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use humantime_serde::re::humantime;

/// Where in which menu file a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: PathBuf,
    /// 1-based.
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.path.display(), self.line)
    }
}

/// One problem in the menu files, printed as `file:line: what is wrong and how to fix it`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{kind}", location.as_ref().map(|l| format!("{l}: ")).unwrap_or_default())]
pub struct MenuError {
    /// `None` only when there is no file to point at (no menu files at all).
    pub location: Option<Location>,
    pub kind: MenuErrorKind,
}

/// What is wrong; the variants carry what the message needs so tests can match on them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MenuErrorKind {
    #[error("{message}")]
    Syntax { message: String },
    #[error("no menu files were given: put at least one *.toml menu file in the menus folder")]
    NoFiles,
    #[error("menu `{id}` is defined twice (first at {first}): rename or delete one")]
    DuplicateMenu { id: String, first: String },
    #[error("menu id `{id}` may only use letters, digits, `-` and `_`")]
    BadMenuId { id: String },
    #[error("the entry menu `{entry}` is not defined: add [menu.{entry}] or set ivr.entry_menu to one of: {known}")]
    MissingEntry { entry: String, known: String },
    #[error("menu `{id}` cannot be reached from the entry menu `{entry}`: bind a key in `{entry}` to it ({{ menu = \"{id}\" }}) or delete it")]
    Unreachable { id: String, entry: String },
    #[error("key `{key}` in menu `{menu}` opens menu `{target}`, which would be a third level: at most two levels are allowed (rule C4); route the key to a queue instead")]
    TooDeep {
        key: String,
        menu: String,
        target: String,
    },
    #[error(
        "key `{key}` in menu `{menu}` opens `{target}` again, a loop: write \"{fix}\" instead"
    )]
    Cycle {
        key: String,
        menu: String,
        target: String,
        fix: &'static str,
    },
    #[error("key `{key}` in menu `{menu}` is \"back\", but `{menu}` is the entry menu with nothing above it: use \"repeat\" or a queue")]
    BackFromEntry { key: String, menu: String },
    #[error("`{name}` is not a key: bind one of 0-9, * or # (quote * and #: \"*\" = \"back\")")]
    InvalidKeyName { name: String },
    #[error("{what} names menu `{target}`, which is not defined; defined menus: {known}")]
    UnknownMenu {
        what: String,
        target: String,
        known: String,
    },
    #[error("{what} names queue `{queue}`, which is not configured; configured queues: {known}")]
    UnknownQueue {
        what: String,
        queue: String,
        known: String,
    },
    #[error("{what}: {problem}; write {{ queue = \"<name>\" }}, {{ menu = \"<id>\" }}, \"repeat\" or \"back\"")]
    BadAction { what: String, problem: String },
    #[error("menu `{menu}` has no key that goes straight to a person (直转人工, rule C5): bind one, e.g. \"0\" = {{ queue = \"general\" }}")]
    NoPersonKey { menu: String },
    #[error("menu `{menu}` has no `no_input` fallback: add no_input = {{ queue = \"general\" }} (in the menu or in [defaults]) so a caller who presses nothing reaches a person (rule C5)")]
    MissingNoInput { menu: String },
    #[error("no_input of menu `{menu}` must end in a queue (rule C5), not {got}: write no_input = {{ queue = \"general\" }}")]
    NoInputNotQueue { menu: String, got: String },
    #[error("prompt purpose `{purpose}` is not allowed: use one of {allowed} (rule C4: no advertising or promotion in the IVR)")]
    BadPurpose { purpose: String, allowed: String },
    #[error("menu `{menu}` has no prompt with purpose = \"menu\": add the prompt that reads out the keys")]
    MissingMenuPrompt { menu: String },
    #[error("a greeting is only allowed in the entry menu `{entry}`, before its menu prompt: move it there or give it purpose = \"information\"")]
    MisplacedGreeting { entry: String },
    #[error("menu `{menu}` plays {} of audio before its menu prompt, over the limit of {} (rule C4): shorten the greeting or raise ivr.max_greeting", humantime::format_duration(*total), humantime::format_duration(*limit))]
    GreetingTooLong {
        menu: String,
        total: Duration,
        limit: Duration,
    },
    #[error("prompt `{file}` cannot be used: {reason}; put the file under ivr-menus/prompts/ or fix the name")]
    PromptUnavailable { file: String, reason: String },
    #[error("prompt `{file}` must be a file name under prompts/ (no absolute path, no `..`)")]
    BadPromptPath { file: String },
    #[error("{field} = {value:?} is not a duration: write e.g. \"5s\" or \"1500ms\"")]
    BadDuration { field: &'static str, value: String },
    #[error("{field} must be between {} and {}, not {}", humantime::format_duration(*min), humantime::format_duration(*max), humantime::format_duration(*value))]
    DurationOutOfRange {
        field: &'static str,
        value: Duration,
        min: Duration,
        max: Duration,
    },
    #[error("tries must be between 1 and {max}, not {value}")]
    BadTries { value: i64, max: u32 },
    #[error("no [queue_audio] table: add one (in any menu file) naming hold, transfer, position_prefix, position_digits and position_suffix")]
    MissingQueueAudio,
    #[error("[queue_audio] is defined again (first at {first}): keep one")]
    DuplicateQueueAudio { first: String },
    #[error("the callback offer needs all of callback_offer, callback_confirm_prefix, callback_confirm_suffix, callback_enter and callback_accepted; missing: {missing}")]
    IncompleteCallbackAudio { missing: String },
    #[error("position_digits must list exactly 10 files, for the digits 0 to 9, not {count}")]
    BadDigitCount { count: usize },
    #[error("robot `{id}` is defined twice (first at {first}): rename or delete one")]
    DuplicateRobot { id: String, first: String },
    #[error("robot id `{id}` may only use letters, digits, `-` and `_`")]
    BadRobotId { id: String },
    #[error("robot `{robot}` has no step `{step}`: add [robot.{robot}.{step}] (a robot has the steps consent, contacted, solved, rating, reason, thanks, goodbye)")]
    MissingStep { robot: String, step: String },
    #[error("step `{step}` of robot `{robot}` does not bind \"0\" = \"person\": the citizen must reach a person from every step (rule C5 holds for robots too)")]
    RobotNoPerson { robot: String, step: String },
    #[error("key `{key}` in step `{step}` of robot `{robot}`: {problem}; write one of {allowed} in quotes, e.g. \"{key}\" = \"{example}\"")]
    BadAnswer {
        robot: String,
        step: String,
        key: String,
        problem: String,
        allowed: String,
        example: &'static str,
    },
    #[error("step `{step}` of robot `{robot}` binds no key to \"{answer}\": bind one, e.g. \"{example}\" = \"{answer}\"")]
    MissingAnswer {
        robot: String,
        step: String,
        answer: &'static str,
        example: char,
    },
    #[error("step `{step}` of robot `{robot}` has no prompt with purpose = \"{purpose}\": add the prompt it {}", if *purpose == "thanks" { "closes with" } else { "asks its question with" })]
    MissingStepPrompt {
        robot: String,
        step: String,
        purpose: &'static str,
    },
    #[error("step `consent` of robot `{robot}` asks before saying who calls: start it with a prompt of purpose = \"information\" that names the hotline and the request")]
    MissingIdentify { robot: String },
    #[error("robot `{robot}` talks for {} before asking for consent, over the limit of {} (rule C4): shorten the introduction or raise ivr.max_greeting", humantime::format_duration(*total), humantime::format_duration(*limit))]
    IntroTooLong {
        robot: String,
        total: Duration,
        limit: Duration,
    },
    #[error("the notice of number {number} has purpose `{purpose}`: a number's notice is purpose = \"information\" (a short service notice; rule C4: no advertising)")]
    NoticeNotInformation { number: String, purpose: String },
    #[error("number {number} plays {} of audio before its first menu prompt or queue (notice and greeting), over the limit of {} (rule C4): shorten the notice or raise ivr.max_greeting", humantime::format_duration(*total), humantime::format_duration(*limit))]
    NoticeTooLong {
        number: String,
        total: Duration,
        limit: Duration,
    },
    #[error("`{field}` belongs to the `reason` step only, not to step `{step}`: delete it")]
    MisplacedField { field: &'static str, step: String },
}

/// Something `hotline check` should print but that does not stop the engine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MenuWarning {
    #[error("a caller who presses nothing reaches a person only after {}, over the limit of {}: shorten the prompts, the timeout or the tries of the entry menu", humantime::format_duration(*worst), humantime::format_duration(*limit))]
    SlowToPerson { worst: Duration, limit: Duration },
    #[error("a caller of number {number} who presses nothing reaches a person only after {}, over the limit of {}: shorten its notice or the prompts, timeout or tries of its menu", humantime::format_duration(*worst), humantime::format_duration(*limit))]
    SlowToPersonFrom {
        number: String,
        worst: Duration,
        limit: Duration,
    },
}
