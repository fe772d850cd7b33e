//! Surge mode (C8): a supervisor's switch or the forecast's rule; while on, the offer comes
//! sooner and the notice plays before the menu.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::call::engine::CallEngine;

/// Surge mode (C8): the offer comes sooner and a notice plays before the menu.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Surge {
    #[serde(serialize_with = "crate::china_time::serialize")]
    pub since: DateTime<Utc>,
    /// A supervisor's id, or `forecast` when the rule turned it on.
    pub by: String,
}

/// Surge mode and the callbacks waiting, for the wallboard, the desks and the API.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SurgeView {
    /// `null`: surge mode is off.
    pub surge: Option<Surge>,
    /// Places kept for callers who chose to be called back (queued or between tries).
    pub callbacks_kept: usize,
    /// Whether waiting callers can be offered a callback at all (enabled, a trunk, the
    /// menus' prompts).
    pub callback_offer: bool,
}

impl CallEngine {
    /// Surge mode's rule: a forecast past `surge_above` (or none: nobody at work) turns it on.
    pub(super) fn surge_by_forecast(&mut self, wait: Option<Duration>, now: Instant) {
        let above = self.cfg.call_me_back.surge_above;
        if above.is_zero() || self.surge.is_some() || wait.is_some_and(|w| w <= above) {
            return;
        }
        tracing::warn!(wait_s = ?wait.map(|w| w.as_secs()), "surge mode on: a forecast wait passed callback_offer.surge_above");
        self.surge = Some(Surge {
            since: self.wall(now),
            by: "forecast".into(),
        });
        self.state_dirty = true;
    }

    /// A supervisor turns surge mode on or off (`by`: their id).
    pub fn set_surge(&mut self, on: bool, by: &str, now: Instant) {
        match (on, self.surge.is_some()) {
            (true, false) => {
                tracing::warn!(%by, "surge mode on");
                self.surge = Some(Surge {
                    since: self.wall(now),
                    by: by.to_string(),
                });
            }
            (false, true) => {
                tracing::info!(%by, "surge mode off");
                self.surge = None;
            }
            _ => {}
        }
        self.state_dirty = true;
    }

    /// Surge mode now, for the wallboard and the desks.
    pub fn surge(&self) -> Option<&Surge> {
        self.surge.as_ref()
    }

    /// Surge mode and the callbacks waiting.
    pub fn surge_view(&self) -> SurgeView {
        SurgeView {
            surge: self.surge.clone(),
            callbacks_kept: self.kept.len(),
            callback_offer: self.cfg.call_me_back.enabled
                && self.cfg.trunk.is_some()
                && self.menus.queue_audio().callback().is_some(),
        }
    }

    /// The surge notice goes before the entry menu's greeting while surge mode is on.
    pub(crate) fn with_surge_notice(&self, prompts: Vec<String>) -> Vec<String> {
        let Some(notice) = self.menus.queue_audio().surge_notice() else {
            return prompts;
        };
        let greeting = self
            .menus
            .menu(self.menus.entry())
            .prompts
            .first()
            .filter(|p| p.purpose == crate::ivr::Purpose::Greeting)
            .map(|p| p.file.as_str());
        if self.surge.is_none()
            || greeting.is_none()
            || prompts.first().map(String::as_str) != greeting
        {
            return prompts;
        }
        let mut out = Vec::with_capacity(prompts.len() + 1);
        out.push(notice.as_str().to_string());
        out.extend(prompts);
        out
    }
}
