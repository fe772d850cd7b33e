//! C8 ("surge capacity") measured: when the line is too long, the hotline may ask a waiting
//! caller to hang up and keep their place ("call me back", issue 15). That is a promise; the
//! report checks it was kept. The cohort is the callers who kept a place **in the period**:
//! each must be reached, or tried up to the last attempt (given up), within
//! [`CALLBACK_LIMIT`] of keeping it. One neither reached nor given up after the limit — or
//! resolved only after it — breaks C8 and is listed by its inbound call. Not measurable when
//! no caller kept a place in the period (then nobody was promised anything; C2 and C3 show
//! whether the load was met). Fed facts by the shell; reads nothing. `docs/CONFORMANCE.md`.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::conformance::{Inputs, RuleResult, Status};

/// How long a kept place may wait for its outcome: a day covers the tries and their gaps
/// (`[outbound] max_attempts`, `[callback_offer] retry_gap`) and a night outside the
/// calling window; a citizen still unreached a day later was forgotten.
pub const CALLBACK_LIMIT: Duration = Duration::from_secs(24 * 3600);

/// One step of a "call me back", from the call records.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CallbackStep {
    /// The waiting caller heard the offer.
    Offered,
    /// The caller took it and left the line: the place is kept from `at`.
    Kept,
    /// One try at calling back: `reached` is the time from keeping the place to the citizen's
    /// answer; `last` the last try allowed (unreached, the callback is given up).
    Tried {
        reached: Option<Duration>,
        last: bool,
    },
}

/// A step and the inbound call it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct CallbackFact {
    /// The inbound call whose caller was offered the callback (its public name); a try's
    /// record names it as `outbound.reference`.
    pub origin: String,
    pub step: CallbackStep,
    /// The offer (the caller's t₀), the moment the place was kept, the try's answer or end.
    pub at: DateTime<Utc>,
}

/// How one kept place ended, as far as the records tell.
enum Fate {
    Reached { at: DateTime<Utc>, after: Duration },
    GivenUp { at: DateTime<Utc> },
    Open,
}

/// C8 over the period.
pub(super) fn c8(i: &Inputs<'_>) -> RuleResult {
    let mut r = RuleResult::new(
        "C8",
        "surge capacity",
        "every caller who kept a callback place reached or tried to the last attempt within 24 h",
    );
    let in_period = |at: DateTime<Utc>| at >= i.from && at < i.to;
    let offered = i
        .callbacks
        .iter()
        .filter(|f| f.step == CallbackStep::Offered && in_period(f.at))
        .count() as u64;
    // Kept in the period, by inbound call (the order of the ids: stable links).
    let kept: BTreeMap<&str, DateTime<Utc>> = i
        .callbacks
        .iter()
        .filter(|f| f.step == CallbackStep::Kept && in_period(f.at))
        .map(|f| (f.origin.as_str(), f.at))
        .collect();
    let (mut reached, mut given_up, mut pending, mut never_tried, mut tries) = (0u64, 0, 0, 0, 0);
    let mut waits: Vec<Duration> = Vec::new();
    for (&origin, &kept_at) in &kept {
        let mut fate = Fate::Open;
        let mut tried = 0u64;
        let mut steps: Vec<&CallbackFact> = i
            .callbacks
            .iter()
            .filter(|f| f.origin == origin && f.at >= kept_at)
            .collect();
        steps.sort_by_key(|f| f.at);
        for f in steps {
            if let CallbackStep::Tried { reached, last } = f.step {
                tried += 1;
                if !matches!(fate, Fate::Open) {
                    continue;
                }
                fate = match (reached, last) {
                    (Some(after), _) => Fate::Reached { at: f.at, after },
                    (None, true) => Fate::GivenUp { at: f.at },
                    (None, false) => Fate::Open,
                };
            }
        }
        tries += tried;
        let due = kept_at + chrono::Duration::from_std(CALLBACK_LIMIT).unwrap_or_default();
        let late = match fate {
            Fate::Reached { at, after } => {
                reached += 1;
                waits.push(after);
                at > due
            }
            Fate::GivenUp { at } => {
                given_up += 1;
                at > due
            }
            Fate::Open => {
                if tried == 0 {
                    never_tried += 1;
                }
                if i.now > due {
                    true
                } else {
                    pending += 1;
                    false
                }
            }
        };
        if late {
            r.call(origin);
        }
    }
    let secs = |d: &Duration| d.as_secs_f64();
    r.measured = json!({
        "offered": offered,
        "kept": kept.len(),
        "reached": reached,
        "given_up": given_up,
        "pending": pending,
        "late": r.breaches,
        "never_tried": never_tried,
        "tries": tries,
        "avg_time_to_callback_s": (!waits.is_empty())
            .then(|| waits.iter().map(secs).sum::<f64>() / waits.len() as f64),
        "max_time_to_callback_s": waits.iter().map(secs).reduce(f64::max),
        "limit_s": CALLBACK_LIMIT.as_secs(),
    });
    if kept.is_empty() {
        r.status = Status::NotMeasurable;
        r.reason = Some(if offered == 0 {
            "no waiting caller was offered a callback in the period".into()
        } else {
            "no caller kept a callback place in the period (offers declined)".into()
        });
        return r;
    }
    r.status = if r.breaches == 0 {
        Status::Pass
    } else {
        Status::Fail
    };
    if pending > 0 {
        r.reason = Some(format!(
            "{pending} kept place(s) not yet reached and still within 24 h: judged once reached, given up or 24 h old"
        ));
    }
    r
}

#[cfg(test)]
#[path = "conformance_callbacks_tests.rs"]
mod tests;
