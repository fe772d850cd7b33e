//! Early warning (W19: "构建多层次预警模型"): four rules over the requests, each warning
//! with its rule, the threshold it crossed and the requests behind it (`docs/WARNINGS.md`).
//!
//! - **hot spot**: the same category in the same area on one China-time day, against that
//!   series' own daily mean over the last `hot_spot_baseline_days`: warned when the day's
//!   count `c` is at least `hot_spot_min_count`, at least `hot_spot_min_ratio` × the mean λ,
//!   and the Poisson upper tail P(X ≥ c | λ) is below `hot_spot_p_value`. Once per series
//!   and day.
//! - **high frequency**: at least `high_frequency_min_requests` requests within
//!   `high_frequency_window` whose contents are alike (the repeat detector's bigram Dice
//!   similarity, W6, at least `high_frequency_similarity` to the cluster's first request).
//!   Once per issue: a cluster like one warned within `high_frequency_cooldown` is the same.
//! - **seasonal pattern due**: for each ISO week starting within `seasonal_lead_days`, the
//!   same week of each earlier year (up to `seasonal_years`) that has data: a category whose
//!   count that week was at least `seasonal_min_count` and `seasonal_ratio` × its mean over
//!   the `seasonal_baseline_weeks` weeks either side, in every such year. Once per category
//!   and week.
//! - **risk words**: a request whose content holds a word of the configured lists (safety,
//!   mass incidents, self-harm, public opinion) is flagged at intake. Once per request.
//!
//! Sans-IO: the shell hands in the rows of the periods [`needed_ranges`] names, when its data
//! begins, and the warnings already kept; this module answers the new ones.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use super::trends::{china_day, day_start, RequestRow};
use crate::workflow::repeat::similarity;

/// Every rule's parameters (`[warnings]` of `hotline.toml`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WarningRules {
    /// How often the hot-spot, high-frequency and seasonal rules run.
    #[serde(with = "humantime_serde")]
    pub scan_interval: Duration,
    /// How often new and changed requests are checked for risk words.
    #[serde(with = "humantime_serde")]
    pub risk_interval: Duration,
    /// Requests registered since the start of the (China) day this long ago are checked when
    /// new or changed (a call's draft is filled in after the call), whenever they were received.
    #[serde(with = "humantime_serde")]
    pub risk_lookback: Duration,
    /// At most this many request ids are kept with one warning.
    pub max_requests: usize,
    pub hot_spot_baseline_days: u32,
    /// A day is judged only when the data reaches back this many days before it.
    pub hot_spot_min_history_days: u32,
    pub hot_spot_p_value: f64,
    pub hot_spot_min_count: u64,
    pub hot_spot_min_ratio: f64,
    /// The daily mean is never taken below this (a series never seen before).
    pub hot_spot_min_expected: f64,
    #[serde(with = "humantime_serde")]
    pub high_frequency_window: Duration,
    pub high_frequency_similarity: f64,
    pub high_frequency_min_requests: usize,
    #[serde(with = "humantime_serde")]
    pub high_frequency_cooldown: Duration,
    pub seasonal_years: u32,
    pub seasonal_lead_days: u32,
    pub seasonal_baseline_weeks: u32,
    pub seasonal_ratio: f64,
    pub seasonal_min_count: u64,
    /// Group → words; a request holding any word is flagged (case-insensitive).
    pub risk_words: BTreeMap<String, Vec<String>>,
}

impl Default for WarningRules {
    fn default() -> Self {
        let words = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Self {
            scan_interval: Duration::from_secs(300),
            risk_interval: Duration::from_secs(2),
            risk_lookback: Duration::from_secs(3600),
            max_requests: 200,
            hot_spot_baseline_days: 28,
            hot_spot_min_history_days: 7,
            hot_spot_p_value: 0.001,
            hot_spot_min_count: 5,
            hot_spot_min_ratio: 2.0,
            hot_spot_min_expected: 0.2,
            high_frequency_window: Duration::from_secs(2 * 3600),
            high_frequency_similarity: 0.6,
            high_frequency_min_requests: 5,
            high_frequency_cooldown: Duration::from_secs(24 * 3600),
            seasonal_years: 3,
            seasonal_lead_days: 14,
            seasonal_baseline_weeks: 4,
            seasonal_ratio: 2.0,
            seasonal_min_count: 10,
            risk_words: BTreeMap::from([
                (
                    "safety".to_string(),
                    words(&[
                        "爆炸",
                        "起火",
                        "燃气泄漏",
                        "煤气泄漏",
                        "坍塌",
                        "触电",
                        "中毒",
                    ]),
                ),
                (
                    "mass_incident".to_string(),
                    words(&["集体上访", "聚集", "围堵", "堵路", "群体性", "集体讨薪"]),
                ),
                (
                    "self_harm".to_string(),
                    words(&["自杀", "轻生", "跳楼", "割腕", "不想活"]),
                ),
                (
                    "public_opinion".to_string(),
                    words(&["媒体曝光", "网上曝光", "上热搜", "记者", "舆论"]),
                ),
            ]),
        }
    }
}

impl WarningRules {
    /// Reports each value out of range to `bad(key, sentence)`.
    pub fn check(&self, bad: &mut impl FnMut(&str, String)) {
        let share = |v: f64| v > 0.0 && v < 1.0;
        if self.scan_interval < Duration::from_secs(1)
            || self.risk_interval < Duration::from_millis(200)
        {
            bad(
                "scan_interval",
                "warnings.scan_interval must be at least 1s and risk_interval at least 200ms"
                    .into(),
            );
        }
        if !share(self.hot_spot_p_value) {
            bad(
                "hot_spot_p_value",
                "warnings.hot_spot_p_value must be between 0 and 1, e.g. 0.001".into(),
            );
        }
        if !share(self.high_frequency_similarity) {
            bad(
                "high_frequency_similarity",
                "warnings.high_frequency_similarity must be between 0 and 1, e.g. 0.6".into(),
            );
        }
        if self.hot_spot_baseline_days < 2
            || self.hot_spot_min_history_days == 0
            || self.hot_spot_min_history_days > self.hot_spot_baseline_days
        {
            bad("hot_spot_baseline_days", "warnings.hot_spot_baseline_days must be at least 2, and hot_spot_min_history_days 1 to hot_spot_baseline_days".into());
        }
        if self.high_frequency_min_requests < 2 || self.max_requests == 0 {
            bad("high_frequency_min_requests", "warnings.high_frequency_min_requests must be at least 2 and max_requests at least 1".into());
        }
        if !(1..=20).contains(&self.seasonal_years)
            || self.seasonal_baseline_weeks == 0
            || self.seasonal_lead_days > 90
        {
            bad("seasonal_years", "warnings.seasonal_years must be 1 to 20, seasonal_baseline_weeks at least 1, seasonal_lead_days at most 90".into());
        }
        if self.hot_spot_min_ratio < 1.0
            || self.seasonal_ratio < 1.0
            || self.hot_spot_min_expected <= 0.0
        {
            bad("hot_spot_min_ratio", "warnings.hot_spot_min_ratio and seasonal_ratio must be at least 1, hot_spot_min_expected above 0".into());
        }
        if self
            .risk_words
            .values()
            .flatten()
            .any(|w| w.trim().is_empty())
        {
            bad(
                "risk_words",
                "warnings.risk_words: an empty word would flag every request; remove it".into(),
            );
        }
    }
}

/// One year's figures behind a seasonal warning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SeasonYear {
    pub year: i32,
    /// Requests of the category in that year's same ISO week.
    pub count: u64,
    /// Its weekly mean over the weeks either side.
    pub baseline: f64,
}

/// What a warning is about, by rule, with the figures and the threshold it crossed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum WarningKind {
    HotSpot {
        category: String,
        area: String,
        day: NaiveDate,
        count: u64,
        /// The series' daily mean λ over the baseline.
        expected: f64,
        /// P(X ≥ count | λ), Poisson.
        p_value: f64,
        threshold_p: f64,
        min_count: u64,
        min_ratio: f64,
    },
    HighFrequency {
        /// The first request's words, shortened.
        sample: String,
        count: u64,
        window_s: u64,
        similarity: f64,
        min_requests: u64,
    },
    SeasonalDue {
        category: String,
        /// The ISO year and week that is coming.
        year: i32,
        week: u32,
        earlier: Vec<SeasonYear>,
        ratio: f64,
        min_count: u64,
    },
    RiskWords {
        groups: Vec<String>,
        words: Vec<String>,
    },
}

impl WarningKind {
    /// The rule's wire name (`hot_spot`, …), for metrics and filters.
    pub fn rule(&self) -> &'static str {
        match self {
            WarningKind::HotSpot { .. } => "hot_spot",
            WarningKind::HighFrequency { .. } => "high_frequency",
            WarningKind::SeasonalDue { .. } => "seasonal_due",
            WarningKind::RiskWords { .. } => "risk_words",
        }
    }
}

/// A warning: raised once (its `key`), kept, shown on the wallboard and the analytics page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Warning {
    /// Unique per rule and subject: the same spike is never warned twice.
    pub key: String,
    pub raised_at: DateTime<FixedOffset>,
    #[serde(flatten)]
    pub kind: WarningKind,
    /// The ticket ids behind it (at most `max_requests`).
    pub requests: Vec<String>,
}

/// The rules' names, for metrics.
pub const RULES: [&str; 4] = ["hot_spot", "high_frequency", "seasonal_due", "risk_words"];

fn dur(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// P(X ≥ k) for X ~ Poisson(λ), summed from k upwards in log space (no overflow for large
/// counts).
pub fn poisson_tail(k: u64, lambda: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    let ln_fact: f64 = (2..=k).map(|i| (i as f64).ln()).sum();
    let mut term = (-lambda + k as f64 * lambda.ln() - ln_fact).exp();
    let mut sum = 0.0;
    let mut i = k;
    while term > 0.0 && i < k + 100_000 {
        sum += term;
        i += 1;
        term *= lambda / i as f64;
        if term < sum * 1e-16 {
            break;
        }
    }
    sum.min(1.0)
}

/// The Mondays of the ISO weeks starting within the lead after `today`.
fn coming_weeks(rules: &WarningRules, today: NaiveDate) -> Vec<NaiveDate> {
    let mut monday =
        today + chrono::Duration::days(7 - today.weekday().num_days_from_monday() as i64);
    let last = today + chrono::Duration::days(rules.seasonal_lead_days as i64);
    let mut out = Vec::new();
    while monday <= last {
        out.push(monday);
        monday += chrono::Duration::weeks(1);
    }
    out
}

/// The same ISO week `years_back` years earlier, with its baseline window `[from, to)`.
fn earlier_week(
    rules: &WarningRules,
    monday: NaiveDate,
    years_back: i32,
) -> Option<(i32, NaiveDate, NaiveDate, NaiveDate)> {
    let iso = monday.iso_week();
    let year = iso.year() - years_back;
    let ws = NaiveDate::from_isoywd_opt(year, iso.week(), Weekday::Mon)?;
    let b = chrono::Duration::weeks(rules.seasonal_baseline_weeks as i64);
    Some((year, ws, ws - b, ws + chrono::Duration::weeks(1) + b))
}

/// The periods whose requests a scan at `now` needs: the hot-spot baseline up to now, and
/// the seasonal weeks of earlier years.
pub fn needed_ranges(
    rules: &WarningRules,
    now: DateTime<FixedOffset>,
) -> Vec<(DateTime<FixedOffset>, DateTime<FixedOffset>)> {
    let today = china_day(now);
    let mut out = vec![(
        day_start(today - chrono::Duration::days(rules.hot_spot_baseline_days as i64 + 1)),
        now,
    )];
    for monday in coming_weeks(rules, today) {
        for back in 1..=rules.seasonal_years as i32 {
            if let Some((_, _, from, to)) = earlier_week(rules, monday, back) {
                out.push((day_start(from), day_start(to)));
            }
        }
    }
    out
}

/// What a scan is given.
pub struct ScanInput<'a> {
    pub now: DateTime<FixedOffset>,
    /// When the store's data begins (its first request); `None`: no data at all.
    pub data_since: Option<DateTime<FixedOffset>>,
    /// The requests of [`needed_ranges`] (others are ignored).
    pub rows: &'a [RequestRow],
    /// The keys already raised (kept durably by the shell).
    pub known: &'a dyn Fn(&str) -> bool,
    /// The high-frequency warnings raised lately (for the cool-down).
    pub recent_high_frequency: &'a [Warning],
}

/// The new warnings of the hot-spot, high-frequency and seasonal rules at `input.now`.
pub fn scan(rules: &WarningRules, input: &ScanInput<'_>) -> Vec<Warning> {
    let mut out = Vec::new();
    if let Some(since) = input.data_since {
        hot_spots(rules, input, china_day(since), &mut out);
        seasonal(rules, input, china_day(since), &mut out);
    }
    high_frequency(rules, input, &mut out);
    out.retain(|w| !(input.known)(&w.key));
    out
}

fn capped(rules: &WarningRules, mut ids: Vec<String>) -> Vec<String> {
    ids.truncate(rules.max_requests);
    ids
}

fn hot_spots(
    rules: &WarningRules,
    input: &ScanInput<'_>,
    since: NaiveDate,
    out: &mut Vec<Warning>,
) {
    let today = china_day(input.now);
    for day in [today - chrono::Duration::days(1), today] {
        let from = (day - chrono::Duration::days(rules.hot_spot_baseline_days as i64)).max(since);
        let days = (day - from).num_days();
        if days < rules.hot_spot_min_history_days as i64 {
            continue;
        }
        // (category, area) → (the day's ids, the baseline's count)
        let mut series: HashMap<(&str, &str), (Vec<String>, u64)> = HashMap::new();
        for r in input.rows.iter().filter(|r| r.received_at <= input.now) {
            let (Some(c), Some(a)) = (r.category.as_deref(), r.area.as_deref()) else {
                continue;
            };
            let d = china_day(r.received_at);
            if d == day {
                series.entry((c, a)).or_default().0.push(r.id.clone());
            } else if d >= from && d < day {
                series.entry((c, a)).or_default().1 += 1;
            }
        }
        for ((category, area), (ids, base)) in series {
            let count = ids.len() as u64;
            let expected = (base as f64 / days as f64).max(rules.hot_spot_min_expected);
            if count < rules.hot_spot_min_count
                || (count as f64) < rules.hot_spot_min_ratio * expected
            {
                continue;
            }
            let p_value = poisson_tail(count, expected);
            if p_value >= rules.hot_spot_p_value {
                continue;
            }
            out.push(Warning {
                key: format!("hot_spot:{category}|{area}|{day}"),
                raised_at: input.now,
                kind: WarningKind::HotSpot {
                    category: category.to_string(),
                    area: area.to_string(),
                    day,
                    count,
                    expected,
                    p_value,
                    threshold_p: rules.hot_spot_p_value,
                    min_count: rules.hot_spot_min_count,
                    min_ratio: rules.hot_spot_min_ratio,
                },
                requests: capped(rules, ids),
            });
        }
    }
}

fn high_frequency(rules: &WarningRules, input: &ScanInput<'_>, out: &mut Vec<Warning>) {
    let from = input.now - dur(rules.high_frequency_window);
    let mut rows: Vec<&RequestRow> = input
        .rows
        .iter()
        .filter(|r| {
            r.received_at > from
                && r.received_at <= input.now
                && r.content.chars().filter(|c| c.is_alphanumeric()).count() >= 4
        })
        .collect();
    rows.sort_by(|a, b| {
        a.received_at
            .cmp(&b.received_at)
            .then_with(|| a.id.cmp(&b.id))
    });
    let mut clusters: Vec<Vec<&RequestRow>> = Vec::new();
    for r in rows {
        match clusters
            .iter_mut()
            .find(|c| similarity(&c[0].content, &r.content) >= rules.high_frequency_similarity)
        {
            Some(c) => c.push(r),
            None => clusters.push(vec![r]),
        }
    }
    let cool = input.now - dur(rules.high_frequency_cooldown);
    let mut raised: Vec<String> = Vec::new();
    for c in clusters
        .into_iter()
        .filter(|c| c.len() >= rules.high_frequency_min_requests)
    {
        let seed = &c[0].content;
        let same = |sample: &str| similarity(sample, seed) >= rules.high_frequency_similarity;
        let earlier = input.recent_high_frequency.iter().any(|w| {
            w.raised_at >= cool
                && matches!(&w.kind, WarningKind::HighFrequency { sample, .. } if same(sample))
        });
        if earlier || raised.iter().any(|s| same(s)) {
            continue;
        }
        let sample: String = seed.chars().take(60).collect();
        raised.push(sample.clone());
        out.push(Warning {
            key: format!("high_frequency:{}", c[0].id),
            raised_at: input.now,
            kind: WarningKind::HighFrequency {
                sample,
                count: c.len() as u64,
                window_s: rules.high_frequency_window.as_secs(),
                similarity: rules.high_frequency_similarity,
                min_requests: rules.high_frequency_min_requests as u64,
            },
            requests: capped(rules, c.iter().map(|r| r.id.clone()).collect()),
        });
    }
}

/// One earlier year's week of a category: (year, count that week, count in the weeks
/// either side, the week's request ids).
type YearFigures = (i32, u64, u64, Vec<String>);

fn seasonal(rules: &WarningRules, input: &ScanInput<'_>, since: NaiveDate, out: &mut Vec<Warning>) {
    for monday in coming_weeks(rules, china_day(input.now)) {
        let iso = monday.iso_week();
        // category → per year with data: (year, count, baseline total, ids)
        let mut by_cat: BTreeMap<&str, Vec<YearFigures>> = BTreeMap::new();
        let mut years = 0usize;
        for back in 1..=rules.seasonal_years as i32 {
            let Some((year, ws, from, to)) = earlier_week(rules, monday, back) else {
                continue;
            };
            if from < since {
                continue; // no data that year
            }
            years += 1;
            let we = ws + chrono::Duration::weeks(1);
            let mut counts: HashMap<&str, (u64, u64, Vec<String>)> = HashMap::new();
            for r in input.rows {
                let Some(c) = r.category.as_deref() else {
                    continue;
                };
                let d = china_day(r.received_at);
                if d < from || d >= to {
                    continue;
                }
                let e = counts.entry(c).or_default();
                if d >= ws && d < we {
                    e.0 += 1;
                    e.2.push(r.id.clone());
                } else {
                    e.1 += 1;
                }
            }
            for (c, (n, base, ids)) in counts {
                by_cat.entry(c).or_default().push((year, n, base, ids));
            }
        }
        if years == 0 {
            continue;
        }
        let weeks = 2.0 * rules.seasonal_baseline_weeks as f64;
        for (category, per_year) in by_cat {
            let rising = |&(_, n, base, _): &YearFigures| {
                n >= rules.seasonal_min_count
                    && n as f64 >= rules.seasonal_ratio * (base as f64 / weeks).max(1.0)
            };
            if per_year.len() < years || !per_year.iter().all(rising) {
                continue;
            }
            out.push(Warning {
                key: format!("seasonal_due:{category}:{}-W{:02}", iso.year(), iso.week()),
                raised_at: input.now,
                kind: WarningKind::SeasonalDue {
                    category: category.to_string(),
                    year: iso.year(),
                    week: iso.week(),
                    earlier: per_year
                        .iter()
                        .map(|(year, n, base, _)| SeasonYear {
                            year: *year,
                            count: *n,
                            baseline: *base as f64 / weeks,
                        })
                        .collect(),
                    ratio: rules.seasonal_ratio,
                    min_count: rules.seasonal_min_count,
                },
                requests: capped(rules, per_year.into_iter().flat_map(|p| p.3).collect()),
            });
        }
    }
}

/// The risk-words flag for one request, if its content holds a listed word.
pub fn risk_check(
    rules: &WarningRules,
    row: &RequestRow,
    now: DateTime<FixedOffset>,
) -> Option<Warning> {
    let text = row.content.to_lowercase();
    let mut groups = Vec::new();
    let mut words = Vec::new();
    for (group, list) in &rules.risk_words {
        let hits: Vec<&String> = list
            .iter()
            .filter(|w| !w.trim().is_empty() && text.contains(&w.to_lowercase()))
            .collect();
        if !hits.is_empty() {
            groups.push(group.clone());
            words.extend(hits.into_iter().cloned());
        }
    }
    (!words.is_empty()).then(|| Warning {
        key: format!("risk_words:{}", row.id),
        raised_at: now,
        kind: WarningKind::RiskWords { groups, words },
        requests: vec![row.id.clone()],
    })
}
