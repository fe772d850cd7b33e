//! The numbers of the rules, as configurable defaults (W4, W7–W10, W14, W16, W6). Where the
//! standard says "should" (宜) the value is still enforced, but an operator may change it.

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
        }
    }
}

impl Policy {
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
