//! `[callback]` of `config/hotline.toml` (issue 15): who calls back the tickets whose review
//! passed (W13) when the ticket does not say (`callback_by`), with which robot script, and
//! how often the engine looks for them.

use std::time::Duration;

use serde::Deserialize;

use super::dialler::Purpose;
use crate::workflow::callback_by::CallbackMaker;

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

/// Who dials one ticket's callback, as [`CallbackSettings::route`] decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallbackRoute {
    pub purpose: Purpose,
    /// The robot was wanted (by the ticket or by `by`) but its script is not loaded: the
    /// citizen is put through to `agent_queue` instead, and the log says so.
    pub robot_missing: bool,
}

impl CallbackSettings {
    /// How one ticket is called back: the ticket's own choice (`review_pass`,
    /// `set_callback_by`) before `by`; a robot callback needs its script loaded, else an agent
    /// makes it. `None`: `by = "off"`, the engine dials nobody, whatever the ticket says.
    pub fn route(
        &self,
        chosen: Option<CallbackMaker>,
        robot_loaded: bool,
    ) -> Option<CallbackRoute> {
        let robot = match (self.by, chosen) {
            (CallbackBy::Off, _) => return None,
            (_, Some(CallbackMaker::Robot)) | (CallbackBy::Robot, None) => true,
            (_, Some(CallbackMaker::Agent)) | (CallbackBy::Agent, None) => false,
        };
        Some(CallbackRoute {
            purpose: if robot && robot_loaded {
                Purpose::RobotCallback
            } else {
                Purpose::AgentCallback
            },
            robot_missing: robot && !robot_loaded,
        })
    }
}

/// `[callback_offer]` of `config/hotline.toml` (issue 15, C8): when a waiting caller is
/// offered "keep your place and be called back" (the forecast: `Acd::forecast_wait`), and
/// when surge mode turns itself on. The tries and the calling window are `[outbound]`'s.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CallbackOfferSettings {
    /// Off: never offered. On, it also needs `[trunk] address` and the menus' callback
    /// prompts (`[queue_audio] callback_*`).
    pub enabled: bool,
    /// Offered when the forecast wait passes this.
    #[serde(with = "humantime_serde")]
    pub offer_above: Duration,
    /// The same in surge mode.
    #[serde(with = "humantime_serde")]
    pub surge_offer_above: Duration,
    /// The handle time (talk and wrap-up) the forecast assumes until a queue has its own.
    #[serde(with = "humantime_serde")]
    pub assumed_handle_time: Duration,
    /// Surge mode turns on by itself when a waiting call's forecast passes this (checked at
    /// each offer); `0s`: only a supervisor turns it on.
    #[serde(with = "humantime_serde")]
    pub surge_above: Duration,
    /// After a callback that did not reach the citizen (busy, no answer), its place is
    /// queued again this much later (the tries are `[outbound] max_attempts`).
    #[serde(with = "humantime_serde")]
    pub retry_gap: Duration,
}

impl Default for CallbackOfferSettings {
    fn default() -> Self {
        CallbackOfferSettings {
            enabled: true,
            offer_above: Duration::from_secs(120),
            surge_offer_above: Duration::from_secs(45),
            assumed_handle_time: Duration::from_secs(240),
            surge_above: Duration::from_secs(600),
            retry_gap: Duration::from_secs(180),
        }
    }
}

impl CallbackOfferSettings {
    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), String> {
        let day = Duration::from_secs(24 * 3600);
        if self.offer_above > day || self.surge_offer_above > day || self.surge_above > day {
            return Err("callback_offer: thresholds must be under 24h".into());
        }
        if self.surge_offer_above > self.offer_above {
            return Err(
                "callback_offer.surge_offer_above must not exceed offer_above (surge mode offers sooner, not later)"
                    .into(),
            );
        }
        if !(Duration::from_secs(10)..=Duration::from_secs(3600))
            .contains(&self.assumed_handle_time)
        {
            return Err("callback_offer.assumed_handle_time must be from 10s to 1h".into());
        }
        Ok(())
    }
}
