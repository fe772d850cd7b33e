//! Working days (工作日) and deadlines. The calendar is data: one parsed file per year
//! (`config/calendar/YYYY.toml`: days off and adjusted working weekends). A year without a
//! file is counted on weekends alone and every deadline that touches it carries a warning.
//!
//! Counting convention (see `docs/WORKFLOW.md`): "within N working days of receipt" ends at
//! the end (24:00) of the N-th working day *after* the day of receipt. The day of receipt is
//! never counted, whatever the hour (民法典 第201条: 开始的当日不计入), so a request received
//! at 17:50 and one received at 08:00 on the same day share a deadline.
//! Owns no file access: the shell hands it the text of each file.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate, NaiveTime, TimeZone, Weekday};
use serde::{Deserialize, Serialize};

use super::model::china;

/// A problem in a calendar file, with the line to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("line {line}: {message}")]
    Syntax { line: usize, message: String },
    #[error("{date}: {message}")]
    Invalid { date: String, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YearFile {
    year: i32,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    days_off: Vec<Holiday>,
    #[serde(default)]
    working_weekends: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Holiday {
    name: String,
    from: String,
    to: String,
}

/// One year's official calendar: the public days off and the weekend days that are worked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearCalendar {
    pub year: i32,
    pub days_off: BTreeSet<NaiveDate>,
    pub working_weekends: BTreeSet<NaiveDate>,
}

impl YearCalendar {
    /// Parses and checks a year file: every date in that year, days off inclusive ranges,
    /// working weekends really on a Saturday or Sunday and not also a day off.
    pub fn from_toml_str(text: &str) -> Result<Self, CalendarError> {
        let file: YearFile = toml::from_str(text).map_err(|e| CalendarError::Syntax {
            line: e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                .unwrap_or(1),
            message: e.message().to_string(),
        })?;
        let _ = file.source;
        let parse = |s: &str| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| CalendarError::Invalid {
                date: s.to_string(),
                message: format!("not a YYYY-MM-DD date: {e}"),
            })
        };
        let in_year = |d: NaiveDate, s: &str| {
            if d.year() == file.year {
                Ok(d)
            } else {
                Err(CalendarError::Invalid {
                    date: s.to_string(),
                    message: format!("not in year {}", file.year),
                })
            }
        };
        let mut days_off = BTreeSet::new();
        for h in &file.days_off {
            let from = in_year(parse(&h.from)?, &h.from)?;
            let to = in_year(parse(&h.to)?, &h.to)?;
            if to < from {
                return Err(CalendarError::Invalid {
                    date: h.to.clone(),
                    message: format!("{}: `to` is before `from`", h.name),
                });
            }
            let mut d = from;
            while d <= to {
                days_off.insert(d);
                d = d + Days::new(1);
            }
        }
        let mut working_weekends = BTreeSet::new();
        for s in &file.working_weekends {
            let d = in_year(parse(s)?, s)?;
            if !is_weekend(d) {
                return Err(CalendarError::Invalid {
                    date: s.clone(),
                    message: "an adjusted working day must be a Saturday or Sunday".into(),
                });
            }
            if days_off.contains(&d) {
                return Err(CalendarError::Invalid {
                    date: s.clone(),
                    message: "listed both as a day off and as a working day".into(),
                });
            }
            working_weekends.insert(d);
        }
        Ok(Self {
            year: file.year,
            days_off,
            working_weekends,
        })
    }
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// A computed due time and, when a year without a calendar file was counted, why it may be
/// wrong. The warning is part of the value so it cannot be dropped on the way to the screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Due {
    pub at: DateTime<FixedOffset>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

impl Due {
    /// A due time that needed no calendar (clock hours).
    pub fn exact(at: DateTime<FixedOffset>) -> Self {
        Self { at, warning: None }
    }
}

/// All known years. Missing years fall back to weekends-only counting, loudly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    years: BTreeMap<i32, YearCalendar>,
}

impl WorkCalendar {
    /// A calendar from parsed year files.
    pub fn new(years: impl IntoIterator<Item = YearCalendar>) -> Self {
        Self {
            years: years.into_iter().map(|y| (y.year, y)).collect(),
        }
    }

    /// The years that have a file.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.keys().copied()
    }

    /// Whether `d` is a working day, and whether that answer is a weekends-only guess.
    pub fn is_working_day(&self, d: NaiveDate) -> (bool, bool) {
        match self.years.get(&d.year()) {
            Some(y) => (
                y.working_weekends.contains(&d) || (!is_weekend(d) && !y.days_off.contains(&d)),
                false,
            ),
            None => (!is_weekend(d), true),
        }
    }

    fn warning_for(&self, years: &BTreeSet<i32>) -> Option<String> {
        let missing: Vec<String> = years
            .iter()
            .filter(|y| !self.years.contains_key(y))
            .map(|y| y.to_string())
            .collect();
        if missing.is_empty() {
            None
        } else {
            Some(format!(
                "no official calendar for {}: counted weekends only, holidays ignored; add config/calendar/{}.toml",
                missing.join(", "),
                missing[0]
            ))
        }
    }

    /// The end (23:59:59 CST) of the `n`-th working day after the day of `from`.
    /// `n = 0` is the end of the day of `from` itself.
    pub fn add_working_days(&self, from: DateTime<FixedOffset>, n: u32) -> Due {
        let mut d = from.with_timezone(&china()).date_naive();
        let mut years = BTreeSet::from([d.year()]);
        let mut left = n;
        while left > 0 {
            d = d + Days::new(1);
            years.insert(d.year());
            if self.is_working_day(d).0 {
                left -= 1;
            }
        }
        Due {
            at: end_of_day(d),
            warning: self.warning_for(&years),
        }
    }

    /// Working days after the day of `from` up to and including the day of `to` (0 when `to`
    /// is not later): how many working days of a deadline are left, or were spent waiting.
    pub fn working_days_between(
        &self,
        from: DateTime<FixedOffset>,
        to: DateTime<FixedOffset>,
    ) -> u32 {
        let mut d = from.with_timezone(&china()).date_naive();
        let end = to.with_timezone(&china()).date_naive();
        let mut n = 0;
        while d < end {
            d = d + Days::new(1);
            if self.is_working_day(d).0 {
                n += 1;
            }
        }
        n
    }

    /// The instant `before` of working time ahead of `due` (days off are skipped): "half a
    /// working day before the end of Friday" is Friday 12:00. Working days count 24 h each.
    pub fn before_in_working_time(
        &self,
        due: DateTime<FixedOffset>,
        before: Duration,
    ) -> DateTime<FixedOffset> {
        let step = chrono::Duration::from_std(before).unwrap_or(chrono::Duration::zero());
        // Measure from the exclusive end (24:00) so half a day lands on 12:00:00.
        let mut cursor = due.with_timezone(&china()) + chrono::Duration::seconds(1);
        let mut left = step;
        for _ in 0..3660 {
            let day = (cursor - chrono::Duration::seconds(1)).date_naive();
            let start = start_of_day(day);
            if self.is_working_day(day).0 {
                let avail = cursor - start;
                if left <= avail {
                    return cursor - left;
                }
                left -= avail;
            }
            cursor = start;
        }
        cursor
    }
}

/// 00:00:00 CST of a date.
pub fn start_of_day(d: NaiveDate) -> DateTime<FixedOffset> {
    let tz = china();
    tz.from_local_datetime(&d.and_time(NaiveTime::MIN))
        .single()
        .unwrap_or_else(|| tz.from_utc_datetime(&d.and_time(NaiveTime::MIN)))
}

/// 23:59:59 CST of a date: the last second a "within the day" deadline is still met.
pub fn end_of_day(d: NaiveDate) -> DateTime<FixedOffset> {
    start_of_day(d) + chrono::Duration::seconds(86_399)
}

#[cfg(test)]
mod tests {
    use super::*;

    const Y2026: &str = include_str!("../../config/calendar/2026.toml");

    fn cal() -> WorkCalendar {
        WorkCalendar::new([YearCalendar::from_toml_str(Y2026).unwrap()])
    }

    fn t(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn shipped_2026_file_matches_the_official_notice() {
        let y = YearCalendar::from_toml_str(Y2026).unwrap();
        // Jan 3 + Feb 9 + Apr 3 + May 5 + Jun 3 + Sep 3 + Oct 7 = 33 days off.
        assert_eq!(y.days_off.len(), 33);
        assert_eq!(y.working_weekends.len(), 6);
        let c = cal();
        for d in [
            "2026-01-04",
            "2026-02-14",
            "2026-02-28",
            "2026-05-09",
            "2026-09-20",
            "2026-10-10",
        ] {
            assert_eq!(c.is_working_day(date(d)), (true, false), "{d}");
        }
        for d in [
            "2026-01-02",
            "2026-02-16",
            "2026-02-23",
            "2026-10-05",
            "2026-09-25",
        ] {
            assert_eq!(c.is_working_day(date(d)), (false, false), "{d}");
        }
    }

    #[test]
    fn friday_evening_before_spring_festival_counts_the_adjusted_saturday() {
        // Fri 2026-02-13 17:50: day 1 is Sat Feb 14 (worked), Feb 15–23 are off, day 2 is Tue Feb 24.
        let c = cal();
        let due = c.add_working_days(t("2026-02-13T17:50:00+08:00"), 1);
        assert_eq!(due.at, t("2026-02-14T23:59:59+08:00"));
        assert_eq!(due.warning, None);
        let due = c.add_working_days(t("2026-02-13T17:50:00+08:00"), 2);
        assert_eq!(due.at, t("2026-02-24T23:59:59+08:00"));
        // The hour of receipt does not matter.
        assert_eq!(c.add_working_days(t("2026-02-13T08:00:00+08:00"), 2), due);
        // 10 working days: Feb 14, 24, 25, 26, 27, Sat 28 (worked), Mar 2, 3, 4, 5.
        let due = c.add_working_days(t("2026-02-13T17:50:00+08:00"), 10);
        assert_eq!(due.at, t("2026-03-05T23:59:59+08:00"));
    }

    #[test]
    fn national_day_week_is_skipped_and_october_10_is_worked() {
        let c = cal();
        // Wed Sep 30 17:50: Oct 1–7 off, Thu Oct 8, Fri Oct 9, Sat Oct 10 (worked).
        let r = t("2026-09-30T17:50:00+08:00");
        assert_eq!(c.add_working_days(r, 1).at, t("2026-10-08T23:59:59+08:00"));
        assert_eq!(c.add_working_days(r, 2).at, t("2026-10-09T23:59:59+08:00"));
        assert_eq!(c.add_working_days(r, 3).at, t("2026-10-10T23:59:59+08:00"));
        // 15 working days (complaint): Oct 8,9,10,12..16,19..23,26,27 → Oct 27.
        assert_eq!(c.add_working_days(r, 15).at, t("2026-10-27T23:59:59+08:00"));
        // Received on a holiday: the first working day after it is day 1.
        assert_eq!(
            c.add_working_days(t("2026-10-03T09:00:00+08:00"), 1).at,
            t("2026-10-08T23:59:59+08:00")
        );
    }

    #[test]
    fn mid_autumn_friday_and_sunday_sep_20() {
        let c = cal();
        // Fri Sep 18 17:50: Sat 19 off, Sun Sep 20 worked → day 1.
        assert_eq!(
            c.add_working_days(t("2026-09-18T17:50:00+08:00"), 1).at,
            t("2026-09-20T23:59:59+08:00")
        );
        // Thu Sep 24 17:50 (before Sep 25–27): day 1 is Mon Sep 28.
        assert_eq!(
            c.add_working_days(t("2026-09-24T17:50:00+08:00"), 1).at,
            t("2026-09-28T23:59:59+08:00")
        );
    }

    #[test]
    fn a_year_without_a_file_counts_weekends_and_warns() {
        let c = cal();
        // Thu 2026-12-31: Fri Jan 1 2027 would be a holiday, but 2027 has no file.
        let due = c.add_working_days(t("2026-12-31T10:00:00+08:00"), 1);
        assert_eq!(due.at, t("2027-01-01T23:59:59+08:00"));
        let w = due.warning.unwrap();
        assert!(w.contains("2027") && w.contains("weekends only"), "{w}");
        let due = c.add_working_days(t("2027-03-05T10:00:00+08:00"), 1);
        assert_eq!(due.at, t("2027-03-08T23:59:59+08:00"));
        assert!(due.warning.is_some());
    }

    #[test]
    fn offsets_other_than_china_are_read_in_china_time() {
        let c = cal();
        // 2026-02-13T10:00Z is 18:00 CST on Friday the 13th.
        assert_eq!(
            c.add_working_days(t("2026-02-13T10:00:00Z"), 1).at,
            t("2026-02-14T23:59:59+08:00")
        );
    }

    #[test]
    fn half_a_working_day_before_skips_days_off() {
        let c = cal();
        let half = Duration::from_secs(12 * 3600);
        assert_eq!(
            c.before_in_working_time(t("2026-10-08T23:59:59+08:00"), half),
            t("2026-10-08T12:00:00+08:00")
        );
        // 1.5 working days before the end of Thu Oct 8 → noon of Wed Sep 30 (Oct 1–7 off).
        assert_eq!(
            c.before_in_working_time(t("2026-10-08T23:59:59+08:00"), half * 3),
            t("2026-09-30T12:00:00+08:00")
        );
    }

    #[test]
    fn bad_files_are_refused_with_a_reason() {
        let e = YearCalendar::from_toml_str("year = 2026\nworking_weekends = [\"2026-01-05\"]\n")
            .unwrap_err();
        assert!(e.to_string().contains("Saturday or Sunday"), "{e}");
        let e = YearCalendar::from_toml_str("year = 2026\nbogus = 1\n").unwrap_err();
        assert!(matches!(e, CalendarError::Syntax { line: 2, .. }), "{e:?}");
        let e = YearCalendar::from_toml_str(
            "year = 2026\n[[days_off]]\nname = \"x\"\nfrom = \"2027-01-01\"\nto = \"2027-01-02\"\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("not in year 2026"), "{e}");
    }
}
