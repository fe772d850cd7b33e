//! Trends (W19, "对诉求总量、类型、区域分布及趋势变化进行实时分析"): requests counted by
//! type, domain, category, area, channel or handling unit per hour, day or week (China
//! time), each series with its total and the change against the same-length period just
//! before. Fed [`RequestRow`]s by the shell; reads nothing itself.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Timelike};
use serde::{Deserialize, Serialize};

/// China Standard Time: the hotline's days and weeks.
pub fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC"))
}

/// One request as the analyses see it: what the ticket says about where it came from and
/// what it is about, never who the citizen is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRow {
    /// The ticket id.
    pub id: String,
    pub received_at: DateTime<FixedOffset>,
    /// `consultation`, `help`, `suggestion`, `complaint`, `other`, `unclassified`.
    pub request_type: String,
    pub domain: String,
    /// The dispatch catalogue's category, once known.
    pub category: Option<String>,
    pub area: Option<String>,
    pub channel: String,
    /// The lead handling unit, once dispatched.
    pub unit: Option<String>,
    /// The request's words (for similarity and risk words; never shown by a trend).
    pub content: String,
}

/// What a trend counts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Type,
    Domain,
    Category,
    Area,
    Channel,
    Unit,
}

impl Dimension {
    /// The row's value for this dimension; `unknown` when the ticket has none yet.
    pub fn of(self, r: &RequestRow) -> String {
        let v = match self {
            Dimension::Type => Some(r.request_type.as_str()),
            Dimension::Domain => Some(r.domain.as_str()),
            Dimension::Category => r.category.as_deref(),
            Dimension::Area => r.area.as_deref(),
            Dimension::Channel => Some(r.channel.as_str()),
            Dimension::Unit => r.unit.as_deref(),
        };
        v.filter(|s| !s.is_empty()).unwrap_or("unknown").to_string()
    }
}

/// The width of one bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Hour,
    Day,
    /// Monday to Sunday.
    Week,
}

impl Bucket {
    /// The start of the bucket holding `t` (China time).
    pub fn floor(self, t: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
        let t = t.with_timezone(&china());
        let day = t.date_naive();
        let start = match self {
            Bucket::Hour => day.and_hms_opt(t.hour(), 0, 0),
            Bucket::Day => day.and_hms_opt(0, 0, 0),
            Bucket::Week => (day - Duration::days(day.weekday().num_days_from_monday() as i64))
                .and_hms_opt(0, 0, 0),
        };
        start.map(local).unwrap_or(t)
    }

    /// The bucket's length.
    pub fn length(self) -> Duration {
        match self {
            Bucket::Hour => Duration::hours(1),
            Bucket::Day => Duration::days(1),
            Bucket::Week => Duration::weeks(1),
        }
    }
}

/// A trend's question: counts by `by` per `bucket` over `[from, to)` (both rounded out to
/// whole buckets).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrendQuery {
    pub by: Dimension,
    pub bucket: Bucket,
    pub from: DateTime<FixedOffset>,
    pub to: DateTime<FixedOffset>,
    /// The largest series each get their own line; the rest are summed as `other`.
    pub max_series: usize,
}

/// One value's counts.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TrendSeries {
    /// The value (`complaint`, `heating`, `朝阳区`, …; `other` for the rest).
    pub key: String,
    /// Per bucket, in order.
    pub counts: Vec<u64>,
    /// The same buckets one period earlier (the period's length before).
    pub previous: Vec<u64>,
    pub total: u64,
    pub previous_total: u64,
    /// `(total − previous_total) / previous_total`; `null` when the earlier period had none.
    pub change: Option<f64>,
}

/// `GET /api/analytics/trends`: the buckets and one series per value.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Trend {
    pub by: Dimension,
    pub bucket: Bucket,
    pub from: DateTime<FixedOffset>,
    pub to: DateTime<FixedOffset>,
    /// The start of each bucket.
    pub buckets: Vec<DateTime<FixedOffset>>,
    /// Largest total first.
    pub series: Vec<TrendSeries>,
    pub total: u64,
    pub previous_total: u64,
    pub change: Option<f64>,
}

/// `[analytics]` of `hotline.toml`: how large a trend may get.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrendLimits {
    /// Buckets in one trend (e.g. 2000: 83 days by the hour, 5 years by the day).
    pub max_buckets: usize,
    /// Lines drawn; smaller values are summed as `other`.
    pub max_series: usize,
    /// Requests read for one trend (its period and the one before); more are cut and the
    /// answer says so.
    pub max_rows: usize,
}

impl Default for TrendLimits {
    fn default() -> Self {
        Self {
            max_buckets: 2000,
            max_series: 12,
            max_rows: 500_000,
        }
    }
}

impl TrendLimits {
    /// Reports each value out of range to `bad(key, sentence)`.
    pub fn check(&self, bad: &mut impl FnMut(&str, String)) {
        if !(1..=100_000).contains(&self.max_buckets) {
            bad(
                "max_buckets",
                "analytics.max_buckets must be 1 to 100000".into(),
            );
        }
        if !(1..=100).contains(&self.max_series) {
            bad("max_series", "analytics.max_series must be 1 to 100".into());
        }
        if !(1..=10_000_000).contains(&self.max_rows) {
            bad(
                "max_rows",
                "analytics.max_rows must be 1 to 10000000".into(),
            );
        }
    }
}

/// Why a trend cannot be drawn.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrendError {
    #[error("`from` must be before `to`")]
    EmptyPeriod,
    #[error("{buckets} buckets asked for; at most {max} (use a wider bucket or a shorter period)")]
    TooManyBuckets { buckets: usize, max: usize },
}

fn change(now: u64, before: u64) -> Option<f64> {
    (before > 0).then(|| (now as f64 - before as f64) / before as f64)
}

impl TrendQuery {
    /// The rounded period and the one before it: `(from, to, previous_from)`.
    pub fn period(
        &self,
        max_buckets: usize,
    ) -> Result<(DateTime<FixedOffset>, DateTime<FixedOffset>, usize), TrendError> {
        if self.from >= self.to {
            return Err(TrendError::EmptyPeriod);
        }
        let from = self.bucket.floor(self.from);
        let mut to = self.bucket.floor(self.to);
        if to < self.to {
            to += self.bucket.length();
        }
        let n = ((to - from).num_seconds() / self.bucket.length().num_seconds()).max(1) as usize;
        if n > max_buckets {
            return Err(TrendError::TooManyBuckets {
                buckets: n,
                max: max_buckets,
            });
        }
        Ok((from, to, n))
    }

    /// The trend over `rows` (which must cover the period and the one before it; others are
    /// ignored).
    pub fn run(&self, rows: &[RequestRow], max_buckets: usize) -> Result<Trend, TrendError> {
        let (from, to, n) = self.period(max_buckets)?;
        let span = to - from;
        let prev_from = from - span;
        let len = self.bucket.length().num_seconds();
        let mut by_key: BTreeMap<String, (Vec<u64>, Vec<u64>)> = BTreeMap::new();
        for r in rows {
            let t = r.received_at;
            let (offset, current) = if t >= from && t < to {
                ((t - from).num_seconds(), true)
            } else if t >= prev_from && t < from {
                ((t - prev_from).num_seconds(), false)
            } else {
                continue;
            };
            let i = ((offset / len) as usize).min(n - 1);
            let e = by_key
                .entry(self.by.of(r))
                .or_insert_with(|| (vec![0; n], vec![0; n]));
            if current {
                e.0[i] += 1;
            } else {
                e.1[i] += 1;
            }
        }
        let mut series: Vec<TrendSeries> = by_key
            .into_iter()
            .map(|(key, (counts, previous))| {
                let total = counts.iter().sum();
                let previous_total = previous.iter().sum();
                TrendSeries {
                    key,
                    counts,
                    previous,
                    total,
                    previous_total,
                    change: change(total, previous_total),
                }
            })
            .collect();
        series.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.key.cmp(&b.key)));
        if series.len() > self.max_series.max(1) {
            let rest = series.split_off(self.max_series.max(1) - 1);
            let mut other = TrendSeries {
                key: "other".into(),
                counts: vec![0; n],
                previous: vec![0; n],
                total: 0,
                previous_total: 0,
                change: None,
            };
            for s in rest {
                for i in 0..n {
                    other.counts[i] += s.counts[i];
                    other.previous[i] += s.previous[i];
                }
                other.total += s.total;
                other.previous_total += s.previous_total;
            }
            other.change = change(other.total, other.previous_total);
            series.push(other);
        }
        let total = series.iter().map(|s| s.total).sum();
        let previous_total = series.iter().map(|s| s.previous_total).sum();
        Ok(Trend {
            by: self.by,
            bucket: self.bucket,
            from,
            to,
            buckets: (0..n)
                .map(|i| from + self.bucket.length() * i as i32)
                .collect(),
            series,
            total,
            previous_total,
            change: change(total, previous_total),
        })
    }
}

/// The China-time calendar day of `t`.
pub fn china_day(t: DateTime<FixedOffset>) -> NaiveDate {
    t.with_timezone(&china()).date_naive()
}

/// Midnight (China time) starting `day`.
pub fn day_start(day: NaiveDate) -> DateTime<FixedOffset> {
    local(day.and_time(chrono::NaiveTime::MIN))
}

/// A China-time wall-clock instant (a fixed offset: never ambiguous).
fn local(t: chrono::NaiveDateTime) -> DateTime<FixedOffset> {
    china().from_utc_datetime(&(t - Duration::hours(8)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(d: u32, h: u32) -> DateTime<FixedOffset> {
        china()
            .with_ymd_and_hms(2026, 12, d, h, 0, 0)
            .single()
            .expect("time")
    }

    fn row(id: u32, t: DateTime<FixedOffset>, kind: &str, area: &str) -> RequestRow {
        RequestRow {
            id: format!("t{id}"),
            received_at: t,
            request_type: kind.into(),
            domain: "public_service".into(),
            category: None,
            area: Some(area.into()),
            channel: "phone".into(),
            unit: None,
            content: String::new(),
        }
    }

    #[test]
    fn counts_per_day_with_the_change_against_the_week_before() {
        // Week of Mon 7 Dec: 3 complaints, 1 help; the week before: 2 complaints.
        let rows = vec![
            row(1, at(7, 9), "complaint", "A"),
            row(2, at(8, 10), "complaint", "A"),
            row(3, at(13, 23), "complaint", "B"),
            row(4, at(9, 1), "help", "A"),
            row(5, at(1, 9), "complaint", "A"),
            row(6, at(6, 23), "complaint", "A"),
            row(7, at(14, 0), "complaint", "A"), // after the period
        ];
        let q = TrendQuery {
            by: Dimension::Type,
            bucket: Bucket::Day,
            from: at(7, 0),
            to: at(14, 0),
            max_series: 10,
        };
        let t = q.run(&rows, 1000).expect("trend");
        assert_eq!(t.buckets.len(), 7);
        assert_eq!(t.series[0].key, "complaint");
        assert_eq!(t.series[0].counts, vec![1, 1, 0, 0, 0, 0, 1]);
        assert_eq!(t.series[0].previous, vec![0, 1, 0, 0, 0, 0, 1]);
        assert_eq!(t.series[0].change, Some(0.5));
        assert_eq!(t.series[1].key, "help");
        assert_eq!(t.series[1].change, None);
        assert_eq!((t.total, t.previous_total), (4, 2));
        // By area, weekly: one bucket, Monday to Sunday.
        let w = TrendQuery {
            by: Dimension::Area,
            bucket: Bucket::Week,
            from: at(9, 12),
            to: at(10, 0),
            max_series: 1,
        }
        .run(&rows, 1000)
        .expect("weekly");
        assert_eq!(w.from, at(7, 0));
        assert_eq!(w.to, at(14, 0));
        assert_eq!(w.series.len(), 1, "one line, the rest as `other`");
        assert_eq!(w.series[0].key, "other");
        assert_eq!(w.series[0].total, 4);
    }

    #[test]
    fn too_many_buckets_and_empty_periods_are_refused() {
        let q = TrendQuery {
            by: Dimension::Channel,
            bucket: Bucket::Hour,
            from: at(1, 0),
            to: at(31, 0),
            max_series: 5,
        };
        assert!(matches!(
            q.run(&[], 100),
            Err(TrendError::TooManyBuckets { buckets: 720, .. })
        ));
        let empty = TrendQuery { to: at(1, 0), ..q };
        assert_eq!(empty.run(&[], 100), Err(TrendError::EmptyPeriod));
    }
}
