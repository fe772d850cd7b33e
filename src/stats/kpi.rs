//! The two numbers the standard lives by (rules C2, C3), from timestamped call outcomes.
//!
//! Definitions (also in `docs/KPI.md`):
//! - A call *asked for a person* when the IVR put it in a queue (t₀). It is **resolved** when a
//!   person answers it or the caller gives up while waiting. Calls still waiting are not
//!   counted yet, so a busy minute does not dip the rates before anything happened.
//! - Callers who hang up within the **grace** period (default 5 s) after asking are left out of
//!   both rates: they did not wait for anybody (industry practice; configurable, 0 counts all).
//! - `connection_rate` (接通率) = answered ÷ (answered + abandoned after grace).
//! - `answer_rate_15s` = answered within 15 s of t₀ ÷ the same denominator.
//! - "Last 24 h" is any continuous 24 hours ending now (per-minute buckets in a ring of
//!   1,440); "today" starts at local midnight, China time (+08:00).
//!
//! It reads no clock: every event carries its wall-clock time and every query takes `now`.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use serde::Serialize;
use std::time::Duration;

/// The 15-second target (rule C2).
pub const ANSWER_TARGET: Duration = Duration::from_secs(15);
/// The connection-rate target (rule C3).
pub const CONNECTION_TARGET: f64 = 0.95;
const MINUTES: usize = 24 * 60;

/// One resolved call, as the KPIs see it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// A person answered after `wait` (from t₀).
    Answered { wait: Duration },
    /// The caller hung up after waiting `wait` for a person.
    Abandoned { wait: Duration },
    /// An answered call ended after `talk` with the agent (hold included): handle time.
    Handled { talk: Duration },
    /// Refused with 503 before answering for lack of capacity: nobody answered the citizen,
    /// so it counts against both rates.
    Refused,
    /// A waiting caller was offered "keep your place and be called back" (C8).
    CallbackOffered,
    /// The caller took it and left the line after `wait`: neither answered nor abandoned,
    /// so out of both rates and counted apart (`docs/KPI.md`).
    CallbackKept { wait: Duration },
    /// The callback reached the citizen, `after` the request, with an agent on the line.
    CallbackReached { after: Duration },
    /// Every try of a callback failed: the citizen was not reached.
    CallbackGivenUp,
}

/// One outcome, of a queue, at an instant: what the call engine and the record files feed.
#[derive(Debug, Clone, PartialEq)]
pub struct KpiEvent {
    pub queue: Option<String>,
    /// The service number the citizen dialled (`12315`), for the per-number rates; `None`
    /// for what belongs to no inbound call (a callback's later tries).
    pub number: Option<String>,
    pub outcome: Outcome,
    pub at: DateTime<Utc>,
}

/// Per-minute (and summed) counts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Counts {
    answered: u64,
    answered_15s: u64,
    abandoned: u64,
    abandoned_in_grace: u64,
    refused: u64,
    over_15s: u64,
    wait_sum_ms: u64,
    handled: u64,
    handle_sum_ms: u64,
    wait_max_ms: u64,
    cb_offered: u64,
    cb_kept: u64,
    cb_reached: u64,
    cb_given_up: u64,
    cb_after_sum_ms: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.answered += o.answered;
        self.answered_15s += o.answered_15s;
        self.abandoned += o.abandoned;
        self.abandoned_in_grace += o.abandoned_in_grace;
        self.refused += o.refused;
        self.over_15s += o.over_15s;
        self.wait_sum_ms += o.wait_sum_ms;
        self.handled += o.handled;
        self.handle_sum_ms += o.handle_sum_ms;
        self.wait_max_ms = self.wait_max_ms.max(o.wait_max_ms);
        self.cb_offered += o.cb_offered;
        self.cb_kept += o.cb_kept;
        self.cb_reached += o.cb_reached;
        self.cb_given_up += o.cb_given_up;
        self.cb_after_sum_ms += o.cb_after_sum_ms;
    }
}

/// Rates over one period, with the counts behind them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Rates {
    /// Callers who asked for a person and were answered or gave up (short abandons included).
    pub offered: u64,
    /// Answered within 15 s ÷ counted calls; `null` when no call counted yet.
    pub answer_rate_15s: Option<f64>,
    /// Answered ÷ counted calls; `null` when no call counted yet.
    pub connection_rate: Option<f64>,
    pub answered: u64,
    pub answered_within_15s: u64,
    /// Abandoned after the grace period (counted against the rates).
    pub abandoned: u64,
    /// Abandoned within the grace period (left out of the rates).
    pub abandoned_in_grace: u64,
    /// Refused with 503 for lack of capacity (counted against the rates).
    pub refused_no_capacity: u64,
    /// Callers who waited past the 15-second maximum (C2), answered late or given up after
    /// it; `GET /api/calls/recent?over_15s=true` lists them with their cause.
    pub waited_over_15s: u64,
    /// Answered + abandoned after grace + refused for capacity: the denominator of both rates.
    pub counted: u64,
    /// Mean wait of answered calls, seconds.
    pub avg_wait_s: Option<f64>,
    /// Longest wait of an answered call or of an abandon counted in the rates, seconds.
    pub max_wait_s: Option<f64>,
    /// Mean talk time (hold included, wrap-up not) of answered calls that ended, seconds.
    pub avg_handle_s: Option<f64>,
    /// "Call me back" (C8), counted apart from the rates.
    pub callbacks: CallbackCounts,
}

/// "Keep your place and be called back" over a period (`docs/KPI.md`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CallbackCounts {
    /// Waiting callers who were offered it.
    pub offered: u64,
    /// Callers who took it and left the line (their place kept).
    pub kept: u64,
    /// Callbacks that reached the citizen with an agent on the line.
    pub reached: u64,
    /// Callbacks given up after their last try.
    pub given_up: u64,
    /// Mean time from the request to the citizen reached, seconds.
    pub avg_time_to_callback_s: Option<f64>,
}

impl From<Counts> for Rates {
    fn from(c: Counts) -> Rates {
        let counted = c.answered + c.abandoned + c.refused;
        let ratio = |n: u64| (counted > 0).then(|| n as f64 / counted as f64);
        Rates {
            offered: counted + c.abandoned_in_grace,
            max_wait_s: (counted > 0).then(|| c.wait_max_ms as f64 / 1000.0),
            answer_rate_15s: ratio(c.answered_15s),
            connection_rate: ratio(c.answered),
            answered: c.answered,
            answered_within_15s: c.answered_15s,
            abandoned: c.abandoned,
            abandoned_in_grace: c.abandoned_in_grace,
            refused_no_capacity: c.refused,
            waited_over_15s: c.over_15s,
            counted,
            avg_wait_s: (c.answered > 0).then(|| c.wait_sum_ms as f64 / 1000.0 / c.answered as f64),
            avg_handle_s: (c.handled > 0)
                .then(|| c.handle_sum_ms as f64 / 1000.0 / c.handled as f64),
            callbacks: CallbackCounts {
                offered: c.cb_offered,
                kept: c.cb_kept,
                reached: c.cb_reached,
                given_up: c.cb_given_up,
                avg_time_to_callback_s: (c.cb_reached > 0)
                    .then(|| c.cb_after_sum_ms as f64 / 1000.0 / c.cb_reached as f64),
            },
        }
    }
}

/// One 15-minute bar of the wallboard's 24 h chart.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SeriesPoint {
    #[serde(serialize_with = "crate::china_time::serialize")]
    pub start: DateTime<Utc>,
    pub answered: u64,
    pub answered_within_15s: u64,
    pub abandoned: u64,
    /// The rolling 24 h connection rate at the end of this bar.
    pub connection_rate_24h: Option<f64>,
}

/// What `GET /api/stats` shows.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct KpiSnapshot {
    #[serde(serialize_with = "crate::china_time::serialize")]
    pub at: DateTime<Utc>,
    pub today: Rates,
    pub last_24h: Rates,
    pub targets: Targets,
    /// `connection_rate_below_target` when the 24 h rate is under 95 % over at least
    /// `min_samples` calls.
    pub alarms: Vec<&'static str>,
    pub series: Vec<SeriesPoint>,
    /// The same rates per queue (queues that have resolved a call in the last 24 h).
    pub queues: Vec<QueueRates>,
    /// The same rates per service number dialled (`12345`, integrated numbers such as
    /// `12315`), for the numbers that resolved a call in the last 24 h.
    pub by_number: Vec<NumberRates>,
    /// Set when the snapshot is one number's (`GET /api/stats?number=`): `today`,
    /// `last_24h`, `series` and `alarms` are then that number's only, `queues` is empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

/// One service number's rates (integrated numbers, GB/T 44190 4.2).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct NumberRates {
    pub number: String,
    pub today: Rates,
    pub last_24h: Rates,
}

/// The targets shown beside the figures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Targets {
    pub answer_within_s: u64,
    pub connection_rate: f64,
}

/// One queue's rates, for `/api/stats` and the wallboard.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QueueRates {
    pub queue: String,
    pub today: Rates,
    pub last_24h: Rates,
}

/// 24 h of per-minute counts.
#[derive(Debug, Clone)]
struct Ring {
    /// `slots[m % MINUTES]` holds minute `m` (minutes since the Unix epoch) if its key is `m`.
    slots: Vec<(i64, Counts)>,
}

impl Ring {
    fn new() -> Ring {
        Ring {
            slots: vec![(i64::MIN, Counts::default()); MINUTES],
        }
    }

    fn minute(&mut self, m: i64) -> &mut Counts {
        let slot = &mut self.slots[m.rem_euclid(MINUTES as i64) as usize];
        if slot.0 != m {
            *slot = (m, Counts::default());
        }
        &mut slot.1
    }

    /// Sums the minutes in `[from, to)` (minute indexes) that are still in the ring.
    fn sum(&self, from: i64, to: i64) -> Counts {
        let mut total = Counts::default();
        for (m, c) in &self.slots {
            if *m >= from && *m < to {
                total.add(c);
            }
        }
        total
    }
}

/// The KPI accumulator, overall and per queue. See the module doc for the definitions.
#[derive(Debug, Clone)]
pub struct Kpis {
    grace: Duration,
    min_samples: u64,
    all: Ring,
    queues: std::collections::BTreeMap<String, Ring>,
    /// Per service number dialled. Bounded by the configuration: a call to a number not
    /// answered is refused before it can count.
    numbers: std::collections::BTreeMap<String, Ring>,
    /// The newest minute seen (events older than 24 h before it are ignored).
    newest: i64,
}

fn count(c: &mut Counts, outcome: Outcome, grace: Duration) {
    let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    match outcome {
        Outcome::Answered { wait } => {
            c.answered += 1;
            c.wait_sum_ms += ms(wait);
            c.wait_max_ms = c.wait_max_ms.max(ms(wait));
            if wait <= ANSWER_TARGET {
                c.answered_15s += 1;
            } else {
                c.over_15s += 1;
            }
        }
        Outcome::Abandoned { wait } if wait < grace => c.abandoned_in_grace += 1,
        Outcome::Abandoned { wait } => {
            c.abandoned += 1;
            c.wait_max_ms = c.wait_max_ms.max(ms(wait));
            if wait > ANSWER_TARGET {
                c.over_15s += 1;
            }
        }
        Outcome::Handled { talk } => {
            c.handled += 1;
            c.handle_sum_ms += ms(talk);
        }
        Outcome::Refused => c.refused += 1,
        Outcome::CallbackOffered => c.cb_offered += 1,
        Outcome::CallbackKept { .. } => c.cb_kept += 1,
        Outcome::CallbackReached { after } => {
            c.cb_reached += 1;
            c.cb_after_sum_ms += ms(after);
        }
        Outcome::CallbackGivenUp => c.cb_given_up += 1,
    }
}

/// The rates of any set of outcomes (a day, a range, one queue), counted as the live KPIs
/// count them: `grace` leaves out the short abandons.
pub fn tally(events: &[KpiEvent], grace: Duration) -> Rates {
    let mut c = Counts::default();
    for e in events {
        count(&mut c, e.outcome, grace);
    }
    c.into()
}

fn minute_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(60)
}

fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC"))
}

impl Kpis {
    /// `grace`: abandons shorter than this are left out; `min_samples`: the 24 h alarm needs
    /// at least this many counted calls.
    pub fn new(grace: Duration, min_samples: u64) -> Kpis {
        Kpis {
            grace,
            min_samples,
            all: Ring::new(),
            queues: std::collections::BTreeMap::new(),
            numbers: std::collections::BTreeMap::new(),
            newest: i64::MIN,
        }
    }

    /// Empty figures with the same settings (rebuilt from records after a failover).
    pub fn emptied(&self) -> Kpis {
        Kpis::new(self.grace, self.min_samples)
    }

    /// Records one event.
    pub fn record_event(&mut self, e: &KpiEvent) {
        self.record_of(e.queue.as_deref(), e.number.as_deref(), e.outcome, e.at);
    }

    /// Records a call of `queue` (if known) resolved at `at`.
    pub fn record(&mut self, queue: Option<&str>, outcome: Outcome, at: DateTime<Utc>) {
        self.record_of(queue, None, outcome, at);
    }

    /// Records a call of `queue` to `number` (each if known) resolved at `at`.
    pub fn record_of(
        &mut self,
        queue: Option<&str>,
        number: Option<&str>,
        outcome: Outcome,
        at: DateTime<Utc>,
    ) {
        let m = minute_of(at);
        if self.newest != i64::MIN && m <= self.newest - MINUTES as i64 {
            return; // older than anything the window can show
        }
        self.newest = self.newest.max(m);
        let grace = self.grace;
        count(self.all.minute(m), outcome, grace);
        if let Some(q) = queue {
            let ring = self.queues.entry(q.to_string()).or_insert_with(Ring::new);
            count(ring.minute(m), outcome, grace);
        }
        if let Some(n) = number {
            let ring = self.numbers.entry(n.to_string()).or_insert_with(Ring::new);
            count(ring.minute(m), outcome, grace);
        }
    }

    /// The figures at `now`.
    pub fn snapshot(&self, now: DateTime<Utc>) -> KpiSnapshot {
        self.snapshot_of(&self.all, None, now)
    }

    /// One service number's figures at `now` (all zero for a number with no call).
    pub fn snapshot_number(&self, number: &str, now: DateTime<Utc>) -> KpiSnapshot {
        let empty = Ring::new();
        let ring = self.numbers.get(number).unwrap_or(&empty);
        self.snapshot_of(ring, Some(number), now)
    }

    fn snapshot_of(&self, ring: &Ring, number: Option<&str>, now: DateTime<Utc>) -> KpiSnapshot {
        let end = minute_of(now) + 1;
        let day_start = {
            let local = now.with_timezone(&china());
            let midnight = local
                .date_naive()
                .and_hms_opt(0, 0, 0)
                .and_then(|d| china().from_local_datetime(&d).single())
                .map(|d| d.with_timezone(&Utc))
                .unwrap_or(now);
            minute_of(midnight)
        };
        let from_today = day_start.max(end - MINUTES as i64);
        let last_24h: Rates = ring.sum(end - MINUTES as i64, end).into();
        let today: Rates = ring.sum(from_today, end).into();
        let queues = match number {
            Some(_) => Vec::new(),
            None => self
                .queues
                .iter()
                .map(|(q, r)| QueueRates {
                    queue: q.clone(),
                    today: r.sum(from_today, end).into(),
                    last_24h: r.sum(end - MINUTES as i64, end).into(),
                })
                .collect(),
        };
        let by_number: Vec<NumberRates> = self
            .numbers
            .iter()
            .filter(|(n, _)| number.is_none_or(|want| want == n.as_str()))
            .map(|(n, r)| NumberRates {
                number: n.clone(),
                today: r.sum(from_today, end).into(),
                last_24h: r.sum(end - MINUTES as i64, end).into(),
            })
            .filter(|n| n.last_24h.offered > 0 || n.today.offered > 0)
            .collect();
        let mut alarms = Vec::new();
        if let Some(rate) = last_24h.connection_rate {
            if rate < CONNECTION_TARGET && last_24h.counted >= self.min_samples {
                alarms.push("connection_rate_below_target");
            }
        }
        // 96 bars of 15 minutes, aligned to the quarter hour, oldest first.
        let last_bar = end - 1 - (end - 1).rem_euclid(15);
        let series = (0..96)
            .rev()
            .map(|k| {
                let start = last_bar - 15 * k;
                let bar: Rates = ring.sum(start, start + 15).into();
                let rolling: Rates = ring.sum(start + 15 - MINUTES as i64, start + 15).into();
                SeriesPoint {
                    start: Utc.timestamp_opt(start * 60, 0).single().unwrap_or(now),
                    answered: bar.answered,
                    answered_within_15s: bar.answered_within_15s,
                    abandoned: bar.abandoned,
                    connection_rate_24h: rolling.connection_rate,
                }
            })
            .collect();
        KpiSnapshot {
            at: now,
            today,
            last_24h,
            targets: Targets {
                answer_within_s: ANSWER_TARGET.as_secs(),
                connection_rate: CONNECTION_TARGET,
            },
            alarms,
            series,
            queues,
            by_number,
            number: number.map(str::to_string),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        // 2026-11-22 in China is 2026-11-21T16:00Z onwards.
        china()
            .with_ymd_and_hms(2026, 11, 22, h, m, s)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn each_number_has_its_own_rates() {
        let mut k = Kpis::new(secs(0), 1);
        let e = |number: &str, outcome| KpiEvent {
            queue: Some("market".into()),
            number: Some(number.into()),
            outcome,
            at: at(10, 0, 0),
        };
        k.record_event(&e("12315", Outcome::Answered { wait: secs(4) }));
        k.record_event(&e("12315", Outcome::Abandoned { wait: secs(30) }));
        k.record_event(&e("12345", Outcome::Answered { wait: secs(20) }));
        let s = k.snapshot(at(10, 5, 0));
        assert_eq!(s.last_24h.counted, 3);
        let numbers: Vec<&str> = s.by_number.iter().map(|n| n.number.as_str()).collect();
        assert_eq!(numbers, ["12315", "12345"]);
        assert_eq!(s.by_number[0].last_24h.connection_rate, Some(0.5));
        assert_eq!(s.by_number[0].today.answer_rate_15s, Some(0.5));
        assert_eq!(s.by_number[1].last_24h.answer_rate_15s, Some(0.0));
        // One number's snapshot: its rates, series and alarm only.
        let one = k.snapshot_number("12315", at(10, 5, 0));
        assert_eq!(one.number.as_deref(), Some("12315"));
        assert_eq!(one.last_24h.counted, 2);
        assert_eq!(one.alarms, ["connection_rate_below_target"]);
        assert!(one.queues.is_empty());
        assert_eq!(one.series.iter().map(|p| p.answered).sum::<u64>(), 1);
        let none = k.snapshot_number("12333", at(10, 5, 0));
        assert_eq!(none.last_24h.counted, 0);
        assert!(none.by_number.is_empty());
    }

    #[test]
    fn ten_calls_counted_by_hand() {
        let mut k = Kpis::new(secs(5), 20);
        // 7 answered within 15 s, 1 answered at 20 s, 1 abandoned after 30 s, 1 abandoned
        // after 3 s (within the grace period: left out).
        for i in 0..7 {
            k.record(
                Some("general"),
                Outcome::Answered { wait: secs(2 + i) },
                at(10, 0, i as u32),
            );
        }
        k.record(
            Some("enterprise"),
            Outcome::Answered { wait: secs(20) },
            at(10, 1, 0),
        );
        k.record(None, Outcome::Abandoned { wait: secs(30) }, at(10, 2, 0));
        k.record(None, Outcome::Abandoned { wait: secs(3) }, at(10, 3, 0));
        // Two of the answered calls ended: 60 s and 90 s of talk.
        k.record(None, Outcome::Handled { talk: secs(60) }, at(10, 4, 0));
        k.record(None, Outcome::Handled { talk: secs(90) }, at(10, 4, 30));
        let s = k.snapshot(at(10, 5, 0));
        for r in [s.today, s.last_24h] {
            assert_eq!(r.counted, 9);
            assert_eq!(r.answered, 8);
            assert_eq!(r.answered_within_15s, 7);
            assert_eq!(r.abandoned, 1);
            assert_eq!(r.abandoned_in_grace, 1);
            assert!((r.connection_rate.unwrap() - 8.0 / 9.0).abs() < 1e-9);
            assert!((r.answer_rate_15s.unwrap() - 7.0 / 9.0).abs() < 1e-9);
            // waits 2..=8 and 20: (35 + 20) / 8
            assert!((r.avg_wait_s.unwrap() - 55.0 / 8.0).abs() < 1e-9);
            assert_eq!(r.avg_handle_s, Some(75.0));
            assert_eq!(r.offered, 10);
            assert_eq!(r.max_wait_s, Some(30.0));
            // The one answered at 20 s and the one who gave up after 30 s broke the maximum.
            assert_eq!(r.waited_over_15s, 2);
        }
        assert!(
            s.alarms.is_empty(),
            "9 calls is below the alarm's minimum sample"
        );
        // Per queue: general 7/7 within 15 s, enterprise 1 answered late.
        let q: Vec<_> = s
            .queues
            .iter()
            .map(|q| (q.queue.as_str(), q.today))
            .collect();
        assert_eq!(q.len(), 2);
        assert_eq!(q[0].0, "enterprise");
        assert_eq!(q[0].1.answer_rate_15s, Some(0.0));
        assert_eq!(q[0].1.max_wait_s, Some(20.0));
        assert_eq!(q[1].0, "general");
        assert_eq!(q[1].1.answered_within_15s, 7);
        assert_eq!(q[1].1.connection_rate, Some(1.0));
        assert_eq!(s.series.len(), 96);
        let bars: u64 = s.series.iter().map(|b| b.answered).sum();
        assert_eq!(bars, 8);
    }

    #[test]
    fn today_starts_at_china_midnight_and_24h_slides() {
        let mut k = Kpis::new(secs(5), 1);
        k.record(
            None,
            Outcome::Answered { wait: secs(3) },
            at(23, 50, 0) - chrono::Duration::days(1),
        );
        k.record(None, Outcome::Abandoned { wait: secs(40) }, at(0, 10, 0));
        let s = k.snapshot(at(0, 20, 0));
        assert_eq!(s.today.counted, 1);
        assert_eq!(s.today.connection_rate, Some(0.0));
        assert_eq!(s.last_24h.counted, 2);
        assert_eq!(s.alarms, vec!["connection_rate_below_target"]);
        // 24 h later the first call has left the window.
        let s = k.snapshot(at(23, 55, 0));
        assert_eq!(s.last_24h.counted, 1);
        // An empty period has no rate rather than a made-up one.
        let s = k.snapshot(at(0, 20, 0) + chrono::Duration::days(2));
        assert_eq!(s.last_24h.connection_rate, None);
    }

    proptest::proptest! {
        #[test]
        fn the_ring_agrees_with_a_naive_count(events in proptest::collection::vec((0i64..3000, 0u64..60, proptest::bool::ANY), 0..200)) {
            let base = at(0, 0, 0);
            let mut k = Kpis::new(secs(5), 1);
            let mut sorted = events.clone();
            sorted.sort_by_key(|e| e.0);
            for (minute, wait, answered) in &sorted {
                let when = base + chrono::Duration::minutes(*minute);
                let outcome = if *answered { Outcome::Answered { wait: secs(*wait) } } else { Outcome::Abandoned { wait: secs(*wait) } };
                k.record(None, outcome, when);
            }
            let now = base + chrono::Duration::minutes(3000);
            let s = k.snapshot(now);
            let in_window: Vec<_> = sorted.iter().filter(|e| e.0 > 3000 - 1440).collect();
            let answered = in_window.iter().filter(|e| e.2).count() as u64;
            let abandoned = in_window.iter().filter(|e| !e.2 && e.1 >= 5).count() as u64;
            proptest::prop_assert_eq!(s.last_24h.answered, answered);
            proptest::prop_assert_eq!(s.last_24h.abandoned, abandoned);
        }
    }
}
