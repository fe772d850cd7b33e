//! `[kpi]` of `hotline.toml`: how the standard's numbers are counted, and the staffing plan's
//! parameters (`docs/KPI.md`).

use std::time::Duration;

use serde::Deserialize;

/// How the standard's two numbers are counted (`docs/KPI.md`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KpiConfig {
    /// Callers who hang up this soon after asking for a person are left out of both rates.
    /// The standard counts every caller, so the default is 0; an operator may choose the
    /// contact-centre practice of a few seconds, and the reports then say so.
    #[serde(with = "humantime_serde")]
    pub grace: Duration,
    /// The 24 h connection-rate alarm needs at least this many counted calls (one lost call
    /// at 03:00 should not page everyone).
    pub alarm_min_calls: u64,
    /// Staffing (`GET /api/stats/staffing`): how many past weeks' same weekday the forecast
    /// of each 15-minute interval averages.
    pub staffing_weeks: u32,
    /// Staffing: the share of callers to answer within 15 s (C2) the plan aims at; 0.95
    /// (C3's figure) by default.
    pub staffing_level: f64,
    /// Staffing: the most agents one interval may be planned for (a runaway forecast says
    /// "beyond" rather than looping).
    pub staffing_max_agents: u32,
}

impl Default for KpiConfig {
    fn default() -> Self {
        Self {
            grace: Duration::ZERO,
            alarm_min_calls: 20,
            staffing_weeks: 4,
            staffing_level: 0.95,
            staffing_max_agents: 2000,
        }
    }
}

impl KpiConfig {
    /// Reports each value out of range to `bad(key, sentence)`.
    pub(super) fn check(&self, bad: &mut impl FnMut(&str, String)) {
        if self.grace > Duration::from_secs(15) {
            bad(
                "grace",
                "kpi.grace must be at most 15s: a longer grace would hide callers who waited past the 15-second target (C2)".into(),
            );
        }
        if !(1..=52).contains(&self.staffing_weeks) {
            bad(
                "staffing_weeks",
                "kpi.staffing_weeks must be 1 to 52".into(),
            );
        }
        if !(self.staffing_level > 0.0 && self.staffing_level < 1.0) {
            bad(
                "staffing_level",
                "kpi.staffing_level must be a share between 0 and 1, e.g. 0.95".into(),
            );
        }
        if !(1..=100_000).contains(&self.staffing_max_agents) {
            bad(
                "staffing_max_agents",
                "kpi.staffing_max_agents must be 1 to 100000".into(),
            );
        }
        if self.alarm_min_calls == 0 {
            bad(
                "alarm_min_calls",
                "kpi.alarm_min_calls must be at least 1".into(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(k: &KpiConfig) -> Vec<String> {
        let mut keys = Vec::new();
        k.check(&mut |key: &str, _| keys.push(key.to_string()));
        keys
    }

    #[test]
    fn staffing_values_out_of_range_are_refused_by_key() {
        assert!(problems(&KpiConfig::default()).is_empty());
        let k = KpiConfig {
            staffing_weeks: 0,
            staffing_level: 1.0,
            staffing_max_agents: 0,
            ..KpiConfig::default()
        };
        assert_eq!(
            problems(&k),
            ["staffing_weeks", "staffing_level", "staffing_max_agents"]
        );
        let k: KpiConfig = toml::from_str("staffing_weeks = 8\nstaffing_level = 0.9\n").unwrap();
        assert_eq!(
            (k.staffing_weeks, k.staffing_level, k.staffing_max_agents),
            (8, 0.9, 2000)
        );
        assert!(
            toml::from_str::<KpiConfig>("staffing = 1\n").is_err(),
            "unknown keys refused"
        );
    }
}
