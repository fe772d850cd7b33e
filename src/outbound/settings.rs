//! `[callback]` of `config/hotline.toml` (issue 15): who calls back the tickets whose review
//! passed (W13), with which robot script, and how often the engine looks for them.

use std::time::Duration;

use serde::Deserialize;

/// Who makes W13's callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackBy {
    /// The callback robot calls and asks (回访机器人).
    Robot,
    /// The engine calls the citizen and puts them through to `agent_queue`, where an agent
    /// asks and records the callback on the desk.
    Agent,
    /// The engine calls nobody: callbacks are made by hand (or SMS, web).
    Off,
}

/// See the module doc.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CallbackSettings {
    pub by: CallbackBy,
    /// The `[robot.<id>]` script in `ivr-menus/` the robot follows.
    pub robot: String,
    /// The queue an answered agent callback is put through to.
    pub agent_queue: String,
    /// How often tickets awaiting their callback are looked for.
    #[serde(with = "humantime_serde")]
    pub scan_every: Duration,
}

impl Default for CallbackSettings {
    fn default() -> Self {
        CallbackSettings {
            by: CallbackBy::Robot,
            robot: "callback".into(),
            agent_queue: "general".into(),
            scan_every: Duration::from_secs(60),
        }
    }
}

impl CallbackSettings {
    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), String> {
        if !(Duration::from_secs(1)..=Duration::from_secs(3600)).contains(&self.scan_every) {
            return Err("callback.scan_every must be from 1s to 1h".into());
        }
        Ok(())
    }
}
