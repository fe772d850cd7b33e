//! The numbers of the rules, as configurable defaults (W4, W6–W10, W13, W14, W16, C12), read
//! from `[policy]` in `config/hotline.toml`. Where the standard says "should" (宜) the value is
//! still enforced, but an operator may change it within the bounds [`Policy::problems`] checks.

use std::time::Duration;

use serde::Deserialize;

use super::model::RequestType;

/// Deadlines and thresholds. `Default` is the standard's values.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// W4: dispatch within 24 clock hours (the hotline works 7×24).
    #[serde(with = "humantime_serde")]
    pub dispatch_within: Duration,
    /// W4: "immediately" for basic livelihood, made measurable.
    #[serde(with = "humantime_serde")]
    pub immediate_dispatch_within: Duration,
    /// W7: sign-off within 1 working day of dispatch.
    pub sign_off_days: u32,
    /// W8: return within 2 working days of dispatch.
    pub return_days: u32,
    /// W10 (from the unit's receipt = dispatch): consultation 2.
    pub consultation_days: u32,
    /// W10: help 10.
    pub help_days: u32,
    /// W10: suggestion 10.
    pub suggestion_days: u32,
    /// W10: complaint or report 15.
    pub complaint_days: u32,
    /// The standard sets no number for "other"; help's 10 is used.
    pub other_days: u32,
    /// W9: at most 2 extension requests.
    pub max_extensions: u32,
    /// Largest single extension, in working days.
    pub max_extension_days: u32,
    /// W14: SMS/web callbacks unanswered after 5 working days → not rated.
    pub rating_days: u32,
    /// W16: remind this much working time before a deadline (default half a working day).
    #[serde(with = "humantime_serde")]
    pub remind_before: Duration,
    /// W6: character-bigram Dice similarity at or above which two requests state the same facts.
    pub repeat_threshold: f64,
    /// W6: how far back a repeat is looked for, in days.
    pub repeat_lookback_days: u32,
    /// W8: the hotline decides on a unit's return within this many working days.
    pub return_decision_days: u32,
    /// W13: the callback is made within this many working days after the review passed.
    pub callback_days: u32,
    /// W10/C12: an urgent request dispatched to a unit is answered within these clock hours.
    #[serde(with = "humantime_serde")]
    pub urgent_feedback_within: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            dispatch_within: Duration::from_secs(24 * 3600),
            immediate_dispatch_within: Duration::from_secs(30 * 60),
            sign_off_days: 1,
            return_days: 2,
            consultation_days: 2,
            help_days: 10,
            suggestion_days: 10,
            complaint_days: 15,
            other_days: 10,
            max_extensions: 2,
            max_extension_days: 15,
            rating_days: 5,
            remind_before: Duration::from_secs(12 * 3600),
            repeat_threshold: 0.6,
            repeat_lookback_days: 180,
            return_decision_days: 1,
            callback_days: 3,
            urgent_feedback_within: Duration::from_secs(24 * 3600),
        }
    }
}

/// The longest working-day number accepted for any deadline (a quarter of a year).
const MAX_DAYS: u32 = 60;

impl Policy {
    /// What is wrong with these numbers, as `(key, message)`; the config loader adds the
    /// file and line. Empty when the policy may be used.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let day = Duration::from_secs(24 * 3600);
        if self.dispatch_within.is_zero() || self.dispatch_within > day {
            out.push((
                "dispatch_within",
                "policy.dispatch_within must be more than 0 and at most 24h (W4)".to_string(),
            ));
        }
        if self.immediate_dispatch_within.is_zero()
            || self.immediate_dispatch_within > self.dispatch_within
        {
            out.push((
                "immediate_dispatch_within",
                "policy.immediate_dispatch_within must be more than 0 and at most dispatch_within (W4: \"immediately\")".to_string(),
            ));
        }
        for (key, value) in [
            ("sign_off_days", self.sign_off_days),
            ("return_days", self.return_days),
            ("consultation_days", self.consultation_days),
            ("help_days", self.help_days),
            ("suggestion_days", self.suggestion_days),
            ("complaint_days", self.complaint_days),
            ("other_days", self.other_days),
            ("max_extension_days", self.max_extension_days),
            ("rating_days", self.rating_days),
            ("return_decision_days", self.return_decision_days),
            ("callback_days", self.callback_days),
        ] {
            if value == 0 || value > MAX_DAYS {
                out.push((
                    key,
                    format!(
                        "policy.{key} = {value}: a number of working days from 1 to {MAX_DAYS}"
                    ),
                ));
            }
        }
        if self.max_extensions > 2 {
            out.push((
                "max_extensions",
                format!(
                    "policy.max_extensions = {}: the standard allows at most 2 (W9)",
                    self.max_extensions
                ),
            ));
        }
        if self.remind_before.is_zero() || self.remind_before > day * 5 {
            out.push((
                "remind_before",
                "policy.remind_before must be more than 0 and at most 5 working days (120h)"
                    .to_string(),
            ));
        }
        if !(self.repeat_threshold > 0.0 && self.repeat_threshold <= 1.0) {
            out.push((
                "repeat_threshold",
                format!(
                    "policy.repeat_threshold = {}: a similarity above 0 and at most 1",
                    self.repeat_threshold
                ),
            ));
        }
        if self.repeat_lookback_days == 0 || self.repeat_lookback_days > 3660 {
            out.push((
                "repeat_lookback_days",
                "policy.repeat_lookback_days must be from 1 to 3660 days".to_string(),
            ));
        }
        if self.urgent_feedback_within.is_zero() || self.urgent_feedback_within > day * 15 {
            out.push((
                "urgent_feedback_within",
                "policy.urgent_feedback_within must be more than 0 and at most 360h".to_string(),
            ));
        }
        out
    }

    /// One line for `hotline check`: the numbers in force.
    pub fn summary(&self) -> String {
        let h = |d: Duration| humantime_serde::re::humantime::format_duration(d).to_string();
        format!(
            "policy: dispatch {} (immediately = {}), sign-off {} wd, return {} wd, return decision {} wd, feedback consultation/help/suggestion/complaint/other {}/{}/{}/{}/{} wd, urgent feedback {}, extensions at most {} of at most {} wd, callback {} wd, rating {} wd, remind {} ahead, repeats {} over {} days",
            h(self.dispatch_within),
            h(self.immediate_dispatch_within),
            self.sign_off_days,
            self.return_days,
            self.return_decision_days,
            self.consultation_days,
            self.help_days,
            self.suggestion_days,
            self.complaint_days,
            self.other_days,
            h(self.urgent_feedback_within),
            self.max_extensions,
            self.max_extension_days,
            self.callback_days,
            self.rating_days,
            h(self.remind_before),
            self.repeat_threshold,
            self.repeat_lookback_days,
        )
    }

    /// W10: working days to reply, by type.
    pub fn feedback_days(&self, t: RequestType) -> u32 {
        match t {
            RequestType::Consultation => self.consultation_days,
            RequestType::Help => self.help_days,
            RequestType::Suggestion => self.suggestion_days,
            RequestType::Complaint => self.complaint_days,
            // A draft is never dispatched; count it like "other" should one slip through.
            RequestType::Other | RequestType::Unclassified => self.other_days,
        }
    }
}
