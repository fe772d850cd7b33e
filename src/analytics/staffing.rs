//! Staffing (44190 6.1.1.1: seats from call volume): how many agents each 15-minute interval
//! needs so that the share of callers answered within the answer target (15 s, C2) reaches
//! the service level (95 %, the C3 figure), by **Erlang C**.
//!
//! Why Erlang C and not Erlang A: Erlang C assumes nobody hangs up while waiting, so every
//! caller who would have waited past 15 s is counted as a miss. Callers who give up are a
//! subset of those who wait, so an interval staffed for "95 % answered within 15 s" under
//! Erlang C also connects at least 95 % (C3) whatever the callers' patience: the result errs
//! on the safe side. Erlang A needs the callers' patience distribution, which a new or small
//! hotline has too few abandons to estimate, and with it would staff *fewer* agents than the
//! standard's wording allows. (`docs/KPI.md`, "Staffing".)
//!
//! Forecast: for the day asked, each interval's volume is the mean of the same weekday's same
//! interval over the last `weeks` weeks; the average handle time (talk, hold included, plus
//! wrap-up) is the mean over those weeks. Fed numbers; reads no clock and no file.

use serde::Serialize;

/// Seconds in one staffing interval.
pub const INTERVAL_S: f64 = 900.0;

/// Erlang C: the probability that a caller has to wait at all, with `agents` agents and
/// `traffic` Erlangs offered (arrival rate × handle time). 1 when `agents ≤ traffic` (the
/// queue grows without bound).
pub fn erlang_c(agents: u32, traffic: f64) -> f64 {
    if traffic <= 0.0 {
        return 0.0;
    }
    let n = f64::from(agents);
    if n <= traffic {
        return 1.0;
    }
    // Erlang B by its stable recurrence, then C from B.
    let mut b = 1.0;
    for k in 1..=agents {
        let k = f64::from(k);
        b = traffic * b / (k + traffic * b);
    }
    n * b / (n - traffic * (1.0 - b))
}

/// The share of callers answered within `target_s` seconds.
pub fn service_level(agents: u32, traffic: f64, aht_s: f64, target_s: f64) -> f64 {
    if traffic <= 0.0 {
        return 1.0;
    }
    let n = f64::from(agents);
    if n <= traffic {
        return 0.0;
    }
    1.0 - erlang_c(agents, traffic) * (-(n - traffic) * target_s / aht_s).exp()
}

/// The fewest agents whose service level reaches `level` (none with no calls), at most
/// `max_agents` (then `None`: the volume is beyond what may be staffed).
pub fn agents_needed(
    calls_per_interval: f64,
    aht_s: f64,
    target_s: f64,
    level: f64,
    max_agents: u32,
) -> Option<u32> {
    if calls_per_interval <= 0.0 || aht_s <= 0.0 {
        return Some(0);
    }
    let traffic = calls_per_interval * aht_s / INTERVAL_S;
    let start = traffic.floor() as u32 + 1;
    (start.max(1)..=max_agents).find(|&n| service_level(n, traffic, aht_s, target_s) >= level)
}

/// One interval of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StaffingInterval {
    /// `HH:MM`, China time: the interval's start.
    pub start: String,
    /// Forecast callers (mean of the same interval on the same weekday of the last weeks).
    pub forecast_calls: f64,
    /// Offered traffic, Erlangs.
    pub traffic: f64,
    /// Agents needed (Erlang C); `null` beyond `max_agents`.
    pub agents_needed: Option<u32>,
    /// The service level those agents give.
    pub service_level: Option<f64>,
    /// Agents logged in on average over the interval on the day asked (`null` in the future).
    pub logged_in: Option<f64>,
}

/// What the plan is computed from.
#[derive(Debug, Clone)]
pub struct StaffingInput {
    /// For each of the 96 intervals, the callers on each of the past weeks' same weekday.
    pub history: Vec<Vec<u64>>,
    /// Mean handle time (talk + wrap-up), seconds; `None` when nothing was handled yet.
    pub aht_s: Option<f64>,
    pub target_s: f64,
    pub level: f64,
    pub max_agents: u32,
    /// Agents logged in per interval on the day asked (`None` for intervals not yet begun).
    pub logged_in: Vec<Option<f64>>,
}

/// Each quarter hour's callers on each of the `weeks` past same weekdays of the day that
/// starts at `day_start` (`[interval][week - 1]`), from the instants callers asked for a
/// person. Instants outside those days are ignored.
pub fn history(
    asked_at: impl IntoIterator<Item = chrono::DateTime<chrono::Utc>>,
    day_start: chrono::DateTime<chrono::Utc>,
    weeks: u32,
) -> Vec<Vec<u64>> {
    let mut h = vec![vec![0u64; weeks as usize]; 96];
    for at in asked_at {
        let since = (at - day_start).num_seconds();
        // Whole weeks back, and the second of that day.
        let back = (-since).div_euclid(7 * 86_400) + 1;
        let in_day = since + back * 7 * 86_400;
        if (1..=i64::from(weeks)).contains(&back) && (0..86_400).contains(&in_day) {
            h[(in_day / 900) as usize][(back - 1) as usize] += 1;
        }
    }
    h
}

/// The day's plan, interval by interval.
pub fn plan(input: &StaffingInput) -> Vec<StaffingInterval> {
    let aht = input.aht_s.unwrap_or(0.0);
    (0..96)
        .map(|i| {
            let weeks = input.history.get(i).map(Vec::as_slice).unwrap_or(&[]);
            let forecast = if weeks.is_empty() {
                0.0
            } else {
                weeks.iter().sum::<u64>() as f64 / weeks.len() as f64
            };
            let traffic = forecast * aht / INTERVAL_S;
            let needed =
                agents_needed(forecast, aht, input.target_s, input.level, input.max_agents);
            StaffingInterval {
                start: format!("{:02}:{:02}", i / 4, (i % 4) * 15),
                forecast_calls: forecast,
                traffic,
                agents_needed: needed,
                service_level: needed.map(|n| service_level(n, traffic, aht, input.target_s)),
                logged_in: input.logged_in.get(i).copied().flatten(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, eps: f64) -> bool {
        (a - b).abs() < eps
    }

    #[test]
    fn erlang_c_matches_published_values() {
        // A = 2 E, N = 3: P(wait) = 4/9 (the textbook closed form).
        assert!(close(erlang_c(3, 2.0), 4.0 / 9.0, 1e-12));
        // A = 10 E (e.g. 100 calls in 30 min at 180 s): the usual table's values.
        assert!(
            close(erlang_c(11, 10.0), 0.6821, 1e-4),
            "{}",
            erlang_c(11, 10.0)
        );
        assert!(
            close(erlang_c(12, 10.0), 0.4494, 1e-4),
            "{}",
            erlang_c(12, 10.0)
        );
        assert!(
            close(erlang_c(13, 10.0), 0.2853, 1e-4),
            "{}",
            erlang_c(13, 10.0)
        );
        assert!(
            close(erlang_c(14, 10.0), 0.1741, 1e-4),
            "{}",
            erlang_c(14, 10.0)
        );
        assert_eq!(erlang_c(10, 10.0), 1.0);
        // Service level at 20 s: 79.6 % with 13 agents, 88.8 % with 14.
        assert!(close(service_level(13, 10.0, 180.0, 20.0), 0.7956, 1e-3));
        assert!(close(service_level(14, 10.0, 180.0, 20.0), 0.8884, 1e-3));
    }

    #[test]
    fn agents_needed_for_the_targets() {
        // 50 calls per 15 min at 180 s = 10 E: 80 % in 20 s needs 14 agents (the classic
        // worked example); 95 % in 15 s needs more.
        assert_eq!(agents_needed(50.0, 180.0, 20.0, 0.80, 500), Some(14));
        let n = agents_needed(50.0, 180.0, 15.0, 0.95, 500).unwrap();
        assert!(service_level(n, 10.0, 180.0, 15.0) >= 0.95);
        assert!(service_level(n - 1, 10.0, 180.0, 15.0) < 0.95);
        assert_eq!(n, 16);
        assert_eq!(agents_needed(0.0, 180.0, 15.0, 0.95, 500), Some(0));
        assert_eq!(agents_needed(5000.0, 180.0, 15.0, 0.95, 100), None);
    }

    #[test]
    fn history_counts_each_quarter_hour_of_each_past_same_weekday() {
        use chrono::TimeZone;
        let day = chrono::Utc
            .with_ymd_and_hms(2026, 11, 30, 16, 0, 0)
            .unwrap(); // Tue 00:00 +08
        let ago = |weeks: i64, secs: i64| {
            day - chrono::Duration::weeks(weeks) + chrono::Duration::seconds(secs)
        };
        let h = history(
            [
                ago(1, 10 * 3600),                // last week 10:00 → interval 40, week 1
                ago(1, 10 * 3600 + 899),          // 10:14:59, same interval
                ago(2, 10 * 3600 + 900),          // two weeks ago 10:15 → interval 41, week 2
                ago(4, 86_399),                   // four weeks ago 23:59:59 → interval 95, week 4
                ago(5, 0),                        // beyond the weeks asked: ignored
                ago(1, 86_400),                   // the day after last week's: not a Tuesday
                day + chrono::Duration::hours(1), // the day itself: not history
            ],
            day,
            4,
        );
        assert_eq!(h[40], [2, 0, 0, 0]);
        assert_eq!(h[41], [0, 1, 0, 0]);
        assert_eq!(h[95], [0, 0, 0, 1]);
        assert_eq!(h.iter().flatten().sum::<u64>(), 4);
    }

    #[test]
    fn the_plan_averages_the_weeks() {
        let mut history = vec![Vec::new(); 96];
        history[40] = vec![40, 60, 50, 50]; // 10:00, four Mondays: mean 50
        let p = plan(&StaffingInput {
            history,
            aht_s: Some(180.0),
            target_s: 15.0,
            level: 0.95,
            max_agents: 500,
            logged_in: vec![Some(12.0); 96],
        });
        assert_eq!(p.len(), 96);
        assert_eq!(p[40].start, "10:00");
        assert!(close(p[40].forecast_calls, 50.0, 1e-9));
        assert!(close(p[40].traffic, 10.0, 1e-9));
        assert_eq!(p[40].agents_needed, Some(16));
        assert_eq!(p[0].agents_needed, Some(0));
        assert_eq!(p[40].logged_in, Some(12.0));
    }
}
