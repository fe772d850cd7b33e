//! The operator's rules for calling citizens (issue 15): when the hotline may call (a daily
//! window in China time, never on the dates the configuration marks), how often it tries one
//! ticket and how long it waits between tries, whom it never calls, and how fast it may dial
//! through its trunk. What a SIP answer means for a dialler (answered, busy, no answer,
//! rejected, unreachable) is decided here too, once.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::Deserialize;

use crate::workflow::model::china;

/// `[outbound]` of `config/hotline.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboundRules {
    /// The first minute of the day the hotline may call a citizen, China time (`"08:00"`).
    pub window_start: NaiveTime,
    /// The minute from which it may not (`"21:00"`): a call is started before it or waits
    /// for the next day's start.
    pub window_end: NaiveTime,
    /// Dates with no calls at all (public holidays the hotline keeps quiet, `"2026-10-01"`).
    pub no_call_dates: BTreeSet<NaiveDate>,
    /// Tries per ticket (W13's callback), the first included.
    pub max_attempts: u32,
    /// Between a failed try and the next.
    #[serde(with = "humantime_serde")]
    pub retry_gap: Duration,
    /// How long a citizen's phone may ring before the try counts as not answered.
    #[serde(with = "humantime_serde")]
    pub ring_timeout: Duration,
    /// Outbound calls up at once through the trunk.
    pub max_concurrent: usize,
    /// New outbound calls per second, at most (the trunk's or carrier's limit).
    pub calls_per_second: u32,
    /// Numbers never to call (digits, as dialled; `+86` and a leading 0 are ignored when
    /// comparing). Kept in the config so an operator's edit is reviewed like any other.
    pub do_not_call: BTreeSet<String>,
}

impl Default for OutboundRules {
    fn default() -> Self {
        OutboundRules {
            window_start: NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default(),
            window_end: NaiveTime::from_hms_opt(21, 0, 0).unwrap_or_default(),
            no_call_dates: BTreeSet::new(),
            max_attempts: 3,
            retry_gap: Duration::from_secs(2 * 3600),
            ring_timeout: Duration::from_secs(40),
            max_concurrent: 30,
            calls_per_second: 5,
            do_not_call: BTreeSet::new(),
        }
    }
}

/// Why `[outbound]` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error(
        "outbound.window_start {start} is not before window_end {end}: the window would be empty"
    )]
    EmptyWindow { start: NaiveTime, end: NaiveTime },
    #[error("outbound.max_attempts is 0: a callback needs at least one try")]
    NoAttempts,
    #[error("outbound.{0} is 0: nothing would ever be dialled")]
    Zero(&'static str),
    #[error("outbound.do_not_call: {0:?} is not a phone number (digits, an optional leading +)")]
    BadNumber(String),
}

impl OutboundRules {
    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), RulesError> {
        if self.window_start >= self.window_end {
            return Err(RulesError::EmptyWindow {
                start: self.window_start,
                end: self.window_end,
            });
        }
        if self.max_attempts == 0 {
            return Err(RulesError::NoAttempts);
        }
        if self.max_concurrent == 0 {
            return Err(RulesError::Zero("max_concurrent"));
        }
        if self.calls_per_second == 0 {
            return Err(RulesError::Zero("calls_per_second"));
        }
        if let Some(bad) = self.do_not_call.iter().find(|n| !is_phone_number(n)) {
            return Err(RulesError::BadNumber(bad.clone()));
        }
        Ok(())
    }

    /// The first instant at or after `at` when calling is allowed: `at` itself inside the
    /// window, else the next window's start (skipping marked dates). `None` only if every
    /// day of the next year is marked.
    pub fn next_allowed(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = at.with_timezone(&china());
        let mut day = local.date_naive();
        for _ in 0..=366 {
            if !self.no_call_dates.contains(&day) {
                let start = china()
                    .from_local_datetime(&day.and_time(self.window_start))
                    .single()?
                    .with_timezone(&Utc);
                let end = china()
                    .from_local_datetime(&day.and_time(self.window_end))
                    .single()?
                    .with_timezone(&Utc);
                if at < end {
                    return Some(at.max(start));
                }
            }
            day = day.succ_opt()?;
        }
        None
    }

    /// Whether `number` is on the do-not-call list.
    pub fn is_do_not_call(&self, number: &str) -> bool {
        let n = comparable(number);
        self.do_not_call.iter().any(|d| comparable(d) == n)
    }

    /// The shortest spacing between two dials.
    pub fn dial_spacing(&self) -> Duration {
        Duration::from_secs(1) / self.calls_per_second.max(1)
    }
}

/// Digits, with an optional leading `+`.
pub fn is_phone_number(n: &str) -> bool {
    let digits = n.strip_prefix('+').unwrap_or(n);
    !digits.is_empty() && digits.len() <= 20 && digits.bytes().all(|b| b.is_ascii_digit())
}

/// A number as compared: digits only, without China's `+86`/`0086` or a trunk prefix `0`.
fn comparable(n: &str) -> String {
    let digits: String = n.chars().filter(char::is_ascii_digit).collect();
    let digits = if n.trim_start().starts_with('+') {
        digits.strip_prefix("86").unwrap_or(&digits).to_string()
    } else {
        digits
            .strip_prefix("0086")
            .map(str::to_string)
            .unwrap_or(digits)
    };
    digits.trim_start_matches('0').to_string()
}

/// What one try came to, as a dialler tells outcomes apart.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Outcome {
    /// 2xx: the citizen picked up.
    Answered,
    /// 486/600: the line is busy (or they declined).
    Busy,
    /// Rang out (our ring timeout, 408 or 480).
    NoAnswer,
    /// Refused for good (404, 410, 484, 604: no such number; 403/603: refused).
    Rejected { status: u16 },
    /// The trunk failed (5xx, no response at all): worth another try.
    Unreachable { status: Option<u16> },
}

impl Outcome {
    /// The outcome of a final response `status` to our INVITE (`None`: no response before
    /// the transaction timed out).
    pub fn of_status(status: Option<u16>) -> Outcome {
        match status {
            Some(200..=299) => Outcome::Answered,
            Some(486 | 600) => Outcome::Busy,
            Some(408 | 480 | 487) => Outcome::NoAnswer,
            Some(s @ 400..=499) | Some(s @ 600..=699) => Outcome::Rejected { status: s },
            Some(s) => Outcome::Unreachable { status: Some(s) },
            None => Outcome::Unreachable { status: None },
        }
    }

    /// Whether another try may reach the citizen.
    pub fn retryable(self) -> bool {
        match self {
            Outcome::Busy | Outcome::NoAnswer | Outcome::Unreachable { .. } => true,
            Outcome::Rejected { status } => !matches!(status, 403 | 404 | 410 | 484 | 603 | 604),
            Outcome::Answered => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cst(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        china()
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("a time")
            .with_timezone(&Utc)
    }

    #[test]
    fn a_call_due_at_22_00_waits_for_08_00_and_skips_a_marked_day() {
        let mut rules = OutboundRules::default();
        assert_eq!(
            rules.next_allowed(cst(2026, 12, 7, 22, 0)),
            Some(cst(2026, 12, 8, 8, 0))
        );
        assert_eq!(
            rules.next_allowed(cst(2026, 12, 7, 6, 30)),
            Some(cst(2026, 12, 7, 8, 0))
        );
        assert_eq!(
            rules.next_allowed(cst(2026, 12, 7, 20, 59)),
            Some(cst(2026, 12, 7, 20, 59))
        );
        assert_eq!(
            rules.next_allowed(cst(2026, 12, 7, 21, 0)),
            Some(cst(2026, 12, 8, 8, 0))
        );
        rules
            .no_call_dates
            .insert(NaiveDate::from_ymd_opt(2026, 12, 8).expect("date"));
        assert_eq!(
            rules.next_allowed(cst(2026, 12, 7, 22, 0)),
            Some(cst(2026, 12, 9, 8, 0))
        );
    }

    #[test]
    fn sip_answers_map_to_a_dialers_outcomes() {
        assert_eq!(Outcome::of_status(Some(200)), Outcome::Answered);
        assert_eq!(Outcome::of_status(Some(486)), Outcome::Busy);
        assert_eq!(Outcome::of_status(Some(487)), Outcome::NoAnswer);
        assert_eq!(Outcome::of_status(Some(480)), Outcome::NoAnswer);
        assert_eq!(
            Outcome::of_status(Some(404)),
            Outcome::Rejected { status: 404 }
        );
        assert_eq!(
            Outcome::of_status(Some(503)),
            Outcome::Unreachable { status: Some(503) }
        );
        assert_eq!(
            Outcome::of_status(None),
            Outcome::Unreachable { status: None }
        );
        assert!(Outcome::Busy.retryable());
        assert!(!Outcome::Rejected { status: 404 }.retryable());
        assert!(!Outcome::Answered.retryable());
    }

    #[test]
    fn do_not_call_compares_numbers_as_dialled() {
        let rules = OutboundRules {
            do_not_call: ["+8613812345678".to_string(), "02588886666".into()].into(),
            ..OutboundRules::default()
        };
        assert!(rules.is_do_not_call("13812345678"));
        assert!(rules.is_do_not_call("008613812345678"));
        assert!(rules.is_do_not_call("2588886666"));
        assert!(!rules.is_do_not_call("13812345679"));
    }

    #[test]
    fn rules_that_could_never_dial_are_refused() {
        let ok = OutboundRules::default();
        assert_eq!(ok.validate(), Ok(()));
        let empty = OutboundRules {
            window_start: ok.window_end,
            ..ok.clone()
        };
        assert!(matches!(
            empty.validate(),
            Err(RulesError::EmptyWindow { .. })
        ));
        let none = OutboundRules {
            max_attempts: 0,
            ..ok.clone()
        };
        assert_eq!(none.validate(), Err(RulesError::NoAttempts));
        let bad = OutboundRules {
            do_not_call: ["138-1234".to_string()].into(),
            ..ok
        };
        assert!(matches!(bad.validate(), Err(RulesError::BadNumber(_))));
    }
}
