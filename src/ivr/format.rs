//! The menu files' shape as serde sees it: every leaf is `Spanned` so the loader can point at
//! the exact line. Only syntax and field names are checked here (`deny_unknown_fields`); the
//! rules are checked by `load`, which collects every problem.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// One menu file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    #[serde(default)]
    pub defaults: Option<Spanned<RawDefaults>>,
    #[serde(default)]
    pub queue_audio: Option<Spanned<RawQueueAudio>>,
    #[serde(default)]
    pub menu: BTreeMap<Spanned<String>, RawMenu>,
    #[serde(default)]
    pub robot: BTreeMap<Spanned<String>, RawRobot>,
}

/// `[defaults]`: values the menus of the same file inherit unless they set their own.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDefaults {
    pub timeout: Option<Spanned<String>>,
    pub tries: Option<Spanned<i64>>,
    pub no_input: Option<Spanned<toml::Value>>,
    pub invalid_key_prompt: Option<Spanned<String>>,
    pub no_input_prompt: Option<Spanned<String>>,
}

/// `[menu.<id>]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMenu {
    #[serde(default)]
    pub prompts: Vec<RawPrompt>,
    #[serde(default)]
    pub keys: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    pub timeout: Option<Spanned<String>>,
    pub tries: Option<Spanned<i64>>,
    pub no_input: Option<Spanned<toml::Value>>,
    pub invalid_key_prompt: Option<Spanned<String>>,
    pub no_input_prompt: Option<Spanned<String>>,
}

/// `{ file = "...", purpose = "..." }`; the purpose stays a string so a forbidden one is
/// reported with our message and the rest of the file is still checked.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPrompt {
    pub file: Spanned<String>,
    pub purpose: Spanned<String>,
}

/// `[queue_audio]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawQueueAudio {
    pub hold: Spanned<String>,
    pub transfer: Spanned<String>,
    pub position_prefix: Spanned<String>,
    pub position_digits: Spanned<Vec<Spanned<String>>>,
    pub position_suffix: Spanned<String>,
    /// "Call me back" (issue 15): all five or none.
    pub callback_offer: Option<Spanned<String>>,
    pub callback_confirm_prefix: Option<Spanned<String>>,
    pub callback_confirm_suffix: Option<Spanned<String>>,
    pub callback_enter: Option<Spanned<String>>,
    pub callback_accepted: Option<Spanned<String>>,
    /// Played before the menu while surge mode is on.
    pub surge_notice: Option<Spanned<String>>,
    /// What a callback's agent hears while the citizen's phone rings: the notice, then the
    /// ring-back tone looping (both optional).
    pub callback_agent: Option<Spanned<String>>,
    pub ringback: Option<Spanned<String>>,
}

/// `[robot.<id>]`: a callback robot's script. The steps are optional here so a missing one is
/// reported by the loader with the robot's line and a fix, not as serde's "missing field".
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRobot {
    pub timeout: Option<Spanned<String>>,
    pub tries: Option<Spanned<i64>>,
    pub person_queue: Option<Spanned<String>>,
    pub invalid_key_prompt: Option<Spanned<String>>,
    pub no_input_prompt: Option<Spanned<String>>,
    pub consent: Option<Spanned<RawStep>>,
    pub contacted: Option<Spanned<RawStep>>,
    pub solved: Option<Spanned<RawStep>>,
    pub rating: Option<Spanned<RawStep>>,
    pub reason: Option<Spanned<RawStep>>,
    pub thanks: Option<Spanned<RawStep>>,
    pub goodbye: Option<Spanned<RawStep>>,
}

/// `[robot.<id>.<step>]`; `max` and `silence` belong to the `reason` step only (checked by the
/// loader, which says so).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    #[serde(default)]
    pub prompts: Vec<RawPrompt>,
    #[serde(default)]
    pub keys: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    pub max: Option<Spanned<String>>,
    pub silence: Option<Spanned<String>>,
}
